"""Packed backward (ops <name>_pack / <name>_backward_packed, the backward_bits
keyword): exact 1-bit masks give the unpacked gradient bit for bit; fitted
k-bit codes give g * value[code] with the tables of csrc/derivative_codes.h;
the layout is the documented one; the ops pass opcheck, compile, export and
the transforms; bad arguments are refused clearly."""

import functools

import pytest
import torch
from torch.utils.checkpoint import checkpoint

import torch_act
import torch_act.functional as TF
from cases import FLOAT_DTYPES, all_cases
from test_derivative_codes import TABLES  # the fit's tables, as the header holds them
from torch_act._spec import ACTIVATIONS, BY_NAME

ops = torch.ops.torch_act

PACKED = [a for a in ACTIVATIONS if a.packed]
# Every hyper-parameter setting the tests cover, where the packed ops take it
# (ELU's tables are fitted for alpha = 1 only: test_unfitted_settings_are_refused).
CASES = [
    c
    for c in all_cases()
    if c.act.packed and c.tensor_arg is None and not (c.act.name == "elu" and c.kwargs)
]
EXACT = [c for c in CASES if c.act.packed == "exact"]
FITTED = [c for c in CASES if c.act.packed == "fitted"]
FITTED_BY_NAME = {c.act.name: c for c in reversed(FITTED)}  # each op's first (default) setting


def table(case, bits):
    """(bounds, values, input scale) of the case's fitted code, as the C++ picks it."""
    name, kwargs = case.act.name, case.kwargs
    scale = 1.0
    if name == "gelu" and kwargs.get("approximate") == "tanh":
        name = "gelu_tanh"
    elif name == "celu":
        scale = 1.0 / kwargs.get("alpha", 1.0)
    elif name in ("softplus", "swish"):
        scale = kwargs.get("beta", 1.0)
        name = "silu" if name == "swish" else name
    bounds, values, _ = TABLES[name][bits]
    return (
        torch.tensor(bounds, dtype=torch.float32),
        torch.tensor(values, dtype=torch.float32),
        torch.tensor(scale, dtype=torch.float32),
    )


def sample(dtype, special=True, n=1001):
    """Values over every region, an element count that is not a multiple of
    8, and (special) the kinks, signed zeros and non-finite values."""
    x = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 4
    if special:
        points = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 6.0, 2.0, 20.0]
        points += [float("inf"), float("-inf"), float("nan")]
        x = torch.cat([x, torch.tensor(points, dtype=torch.float64)])
    return x.to(dtype)


def same_bits(a, b) -> bool:
    """a and b bit for bit (signed zeros apart), NaN where the other is NaN
    (whatever its payload: vector and scalar conversions differ there)."""
    ints = {2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
    nan = a.isnan()
    return torch.equal(nan, b.isnan()) and torch.equal(
        a.contiguous().view(ints)[~nan], b.contiguous().view(ints)[~nan]
    )


def grad_of(case, x, g, **kwargs):
    x = x.detach().requires_grad_()
    y = case.ours(x, **case.kwargs, **kwargs)
    (gx,) = torch.autograd.grad(y, x, g)
    return y.detach(), gx


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("case", EXACT, ids=lambda c: c.id)
def test_exact_mask_gives_the_unpacked_gradient_bitwise(case, dtype):
    x = sample(dtype)
    g = torch.randn(x.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    g = torch.cat([g[:-3], torch.tensor([float("inf"), float("nan"), -2.0])]).to(dtype)
    y, gx = grad_of(case, x, g)
    y_packed, gx_packed = grad_of(case, x, g, backward_bits=1)
    assert same_bits(y_packed, y)
    assert same_bits(gx_packed, gx)


@pytest.mark.parametrize("bits", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("case", FITTED, ids=lambda c: c.id)
def test_fitted_code_gives_g_times_the_tables_value(case, dtype, bits):
    x = sample(dtype, special=False)  # a NaN input's code is 0 (its output is NaN)
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(1)).to(dtype)
    y, _ = grad_of(case, x, g)
    y_packed, gx_packed = grad_of(case, x, g, backward_bits=bits)
    bounds, values, scale = table(case, bits)
    codes = torch.bucketize(x.float() * scale, bounds, right=True)
    opmath = torch.float64 if dtype == torch.float64 else torch.float32
    expected = (g.to(opmath) * values.to(opmath)[codes]).to(dtype)
    assert same_bits(y_packed, y)
    assert same_bits(gx_packed, expected)


@pytest.mark.parametrize("bits", [2, 3])
def test_swish_packs_on_silus_table_at_beta_x(bits):
    x = sample(torch.float32, special=False)
    beta = 1.7
    _, codes = ops.swish_pack(x, bits, beta)
    _, silu_codes = ops.silu_pack(x * beta, bits)
    assert torch.equal(codes, silu_codes)


@pytest.mark.parametrize("name", ["gelu", "silu", "mish"])
def test_three_bit_gradient_error_is_the_tables(name):
    """The measured E[(g f' - packed)^2] / E[(g f')^2] for x ~ N(0, 1)
    matches the fit's (within sampling error)."""
    x = torch.randn(1 << 20, generator=torch.Generator().manual_seed(2))
    g = torch.ones_like(x)
    case = next(c for c in FITTED if c.act.name == name and not c.kwargs)
    _, exact = grad_of(case, x, g)
    _, packed = grad_of(case, x, g, backward_bits=3)
    error = ((packed - exact).double().square().mean() / exact.double().square().mean()).item()
    claimed = TABLES[name][3][2]
    assert error == pytest.approx(claimed, rel=0.05)


def test_layout_is_the_documented_one():
    # 1 bit: element j of each byte at bit j; 11 elements -> 2 bytes, padding 0.
    x = torch.tensor([1.0, -1, 2, 0, -3, 4, 5, -6, 7, -8, 9])
    _, codes = ops.leaky_relu_pack(x, 1, 0.01)
    assert codes.dtype == torch.uint8 and codes.tolist() == [0b01100101, 0b101]
    # 3 bits: 8 elements in 3 bytes, bit-sliced: byte b holds bit b of each
    # element's code, element j at bit j.
    x = torch.tensor([-5.0, -0.6, -0.3, -0.1, 0.1, 0.3, 0.6, 5.0])
    _, codes = ops.gelu_pack(x, 3)
    planes = codes.tolist()
    assert [sum(((planes[b] >> j) & 1) << b for b in range(3)) for j in range(8)] == list(range(8))
    # The SIMD path (a long row) and the scalar tail write the same layout.
    x = torch.randn(1000)
    _, codes = ops.gelu_pack(x, 3)
    expected = torch.bucketize(x, table(FITTED_BY_NAME["gelu"], 3)[0], right=True)
    planes = codes.view(-1, 3).long()
    decoded = sum(((planes[:, b : b + 1] >> torch.arange(8)) & 1) << b for b in range(3))
    assert torch.equal(decoded.flatten()[:1000], expected)
    # Any strides in: the codes follow the row-major order.
    x = torch.randn(5, 7).t()
    assert torch.equal(ops.gelu_pack(x, 3)[1], ops.gelu_pack(x.contiguous(), 3)[1])


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_inputs_of_many_tasks_pack_as_one_on_any_thread_count(dtype):
    """Inputs spanning several parallel tasks (4096 groups of 8 each), with a
    ragged end: codes as the documented layout says, exact gradients bit for
    bit, on one thread and on two."""
    n = 3 * 4096 * 8 + 13
    x = (torch.randn(n, generator=torch.Generator().manual_seed(3)) * 3).to(dtype)
    g = torch.randn(n, generator=torch.Generator().manual_seed(4)).to(dtype)
    expected = torch.bucketize(x.float(), table(FITTED_BY_NAME["gelu"], 3)[0], right=True)
    threads = torch.get_num_threads()
    try:
        for count in (1, 2):
            torch.set_num_threads(count)
            _, codes = ops.gelu_pack(x, 3)
            planes = codes.view(-1, 3).long()
            decoded = sum(((planes[:, b : b + 1] >> torch.arange(8)) & 1) << b for b in range(3))
            assert torch.equal(decoded.flatten()[:n], expected)
            y, mask = ops.leaky_relu_pack(x, 1, 0.01)
            assert same_bits(y, ops.leaky_relu(x, 0.01))
            assert same_bits(
                ops.leaky_relu_backward_packed(g, mask, 1, 0.01),
                ops.leaky_relu_backward(g, x, 0.01),
            )
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize(
    "shape, layout", [((0,), "contiguous"), ((), "contiguous"), ((3, 5), "t"), ((2, 3, 4, 5), "cl")]
)
@pytest.mark.parametrize("name, bits", [("leaky_relu", 1), ("gelu", 3), ("sigmoid", 2)])
def test_opcheck(name, bits, shape, layout):
    x = torch.randn(shape)
    if layout == "t":
        x = x.t()
    elif layout == "cl":
        x = x.to(memory_format=torch.channels_last)
    x.requires_grad_()
    torch.library.opcheck(getattr(ops, f"{name}_pack").default, (x, bits))
    codes = getattr(ops, f"{name}_pack")(x.detach(), bits)[1]
    g = torch.randn(x.shape).requires_grad_()
    torch.library.opcheck(getattr(ops, f"{name}_backward_packed").default, (g, codes, bits))


FIRST_CASES = list({c.act.name: c for c in reversed(CASES)}.values())


@pytest.mark.parametrize("case", FIRST_CASES, ids=lambda c: c.id)
def test_opcheck_every_packed_op(case):
    name, bits = case.act.name, 1 if case.act.packed == "exact" else 3
    x = torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last).requires_grad_()
    torch.library.opcheck(getattr(ops, f"{name}_pack").default, (x, bits), case.kwargs)
    codes = getattr(ops, f"{name}_pack")(x.detach(), bits, **case.kwargs)[1]
    g = torch.randn(x.shape).requires_grad_()
    torch.library.opcheck(
        getattr(ops, f"{name}_backward_packed").default, (g, codes, bits), case.kwargs
    )


def test_every_packed_op_is_opchecked():
    registered = {
        name for name in torch._C._dispatch_get_all_op_names() if name.startswith("torch_act::")
    }
    packed = {name for name in registered if name.endswith(("_pack", "_backward_packed"))}
    names = {c.act.name for c in FIRST_CASES}
    checked = {f"torch_act::{n}{suffix}" for n in names for suffix in ("_pack", "_backward_packed")}
    assert checked == packed


def test_saved_tensors_are_the_codes_alone():
    x = torch.randn(4096, requires_grad=True)
    saved = saved_by(lambda t: TF.gelu(t, backward_bits=3), x)
    assert [(t.dtype, t.numel()) for t in saved] == [(torch.uint8, 4096 // 8 * 3)]
    saved = saved_by(lambda t: TF.leaky_relu(t, backward_bits=1), x)
    assert [(t.dtype, t.numel()) for t in saved] == [(torch.uint8, 4096 // 8)]


@pytest.mark.parametrize("name, kwargs, bits", [("leaky_relu", {}, 1), ("gelu", {}, 3)])
def test_compile_fullgraph_matches_eager(name, kwargs, bits):
    fn = getattr(TF, name)

    def step(x, w):
        return (fn(x @ w, backward_bits=bits, **kwargs) * 1.5).sum()

    x = torch.randn(64, 32)
    w = torch.randn(32, 48, requires_grad=True)
    eager = torch.autograd.grad(step(x, w), w)[0]
    compiled = torch.compile(step, fullgraph=True, backend="inductor")
    assert torch.allclose(torch.autograd.grad(compiled(x, w), w)[0], eager, rtol=1e-5, atol=1e-5)


def test_export_keeps_the_pack_op():
    class Block(torch.nn.Module):
        def forward(self, x):
            return TF.gelu(x, backward_bits=3)

    program = torch.export.export(Block(), (torch.randn(4, 8),))
    targets = {n.target for n in program.graph.nodes if n.op == "call_function"}
    assert ops.gelu_pack.default in targets


def test_exact_packed_gradcheck_with_forward_ad_and_double_backward():
    # Away from the kinks, where the gradient is defined.
    x = (torch.rand(40, dtype=torch.float64) + 0.1) * torch.tensor([-1.0, 1.0]).repeat(20)
    x.requires_grad_()

    def fn(t):
        return TF.leaky_relu(t, 0.2, backward_bits=1)

    assert torch.autograd.gradcheck(fn, (x,), check_forward_ad=True)
    assert torch.autograd.gradgradcheck(fn, (x,))


def test_forward_ad_of_a_fitted_pack_is_exact():
    x = torch.randn(100, dtype=torch.float64)
    t = torch.randn(100, dtype=torch.float64)
    _, exact = torch.func.jvp(lambda v: TF.gelu(v), (x,), (t,))
    _, packed = torch.func.jvp(lambda v: TF.gelu(v, backward_bits=3), (x,), (t,))
    assert torch.equal(packed, exact)


def test_vmap_of_the_packed_gradient():
    x = torch.randn(3, 20)
    grads = torch.func.vmap(torch.func.grad(lambda v: TF.gelu(v, backward_bits=3).sum()))(x)
    expected = torch.stack(
        [torch.func.grad(lambda v: TF.gelu(v, backward_bits=3).sum())(r) for r in x]
    )
    assert torch.equal(grads, expected)


def test_checkpoint_recomputes_the_codes():
    lin = torch.nn.Linear(16, 16)
    x = torch.randn(8, 16)

    def block(t):
        return TF.silu(lin(t), backward_bits=2).sum()

    plain = torch.autograd.grad(block(x), lin.weight)[0]
    checkpointed = torch.autograd.grad(checkpoint(block, x, use_reentrant=False), lin.weight)[0]
    assert torch.equal(plain, checkpointed)


def test_inplace_with_backward_bits():
    x = torch.randn(100, requires_grad=True)
    y = x * 1.0
    out = TF.relu(y, inplace=True, backward_bits=1)
    assert out is y
    (gx,) = torch.autograd.grad(out.sum(), x)
    assert torch.equal(gx, (x > 0).float())


def test_unfitted_settings_are_refused():
    x = torch.randn(10)
    with pytest.raises(RuntimeError, match="leaky_relu.*exact with 1 bit.*got 3"):
        TF.leaky_relu(x, backward_bits=3)
    with pytest.raises(RuntimeError, match="gelu.*must be 1, 2, 3 or 4, got 5"):
        TF.gelu(x, backward_bits=5)
    with pytest.raises(RuntimeError, match="elu.*fitted for alpha=1"):
        TF.elu(x, alpha=2.0, backward_bits=3)
    with pytest.raises(RuntimeError, match="softplus.*beta > 0"):
        TF.softplus(x, beta=-1.0, backward_bits=3)
    codes = ops.gelu_pack(x, 3)[1]
    with pytest.raises(RuntimeError, match="gelu_backward_packed.*codes of shape \\[9\\]"):
        ops.gelu_backward_packed(torch.randn(17), codes, 3)
    with pytest.raises(RuntimeError, match="codes of dtype uint8"):
        ops.gelu_backward_packed(x, codes.float(), 3)
    with pytest.raises(ValueError, match="backward_bits"):
        torch_act.nn.ReLU(backward_bits=2)


def test_every_packed_row_has_its_ops_and_no_other_row_does():
    for act in ACTIVATIONS:
        assert hasattr(ops, f"{act.name}_pack") == bool(act.packed), act.name
        assert hasattr(ops, f"{act.name}_backward_packed") == bool(act.packed), act.name


@pytest.mark.parametrize("act", [a for a in PACKED if not a.handwritten], ids=lambda a: a.name)
def test_module_passes_backward_bits(act):
    bits = 1 if act.packed == "exact" else 3
    kwargs = BY_NAME[act.name].sample_kwargs
    module = getattr(torch_act.nn, act.module)(**kwargs, backward_bits=bits)
    assert f"backward_bits={bits}" in repr(module)
    assert module.state_dict() == {}
    x = torch.randn(64, requires_grad=True)
    (ours,) = torch.autograd.grad(module(x).sum(), x)
    y = getattr(TF, act.name)(x, **kwargs, backward_bits=bits)
    assert torch.equal(ours, torch.autograd.grad(y.sum(), x)[0])


def test_ddp_averages_the_packed_gradients():
    """Two gloo ranks: DDP's gradients are the mean of each rank's own packed
    backward (the codes are ordinary saved tensors to DDP's hooks)."""
    import socket

    import ddp_packed
    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    results = mp.Manager().dict()
    mp.spawn(ddp_packed.worker, args=(2, port, results), nprocs=2, join=True)
    model = ddp_packed.model()
    per_rank = []
    for rank in range(2):
        model.zero_grad()
        model(ddp_packed.batch(rank)).square().sum().backward()
        per_rank.append([p.grad.clone() for p in model.parameters()])
    for rank in range(2):
        for got, a, b in zip(results[rank], *per_rank):
            assert torch.allclose(got, (a + b) / 2, rtol=1e-5, atol=1e-6)


def saved_by(fn, x):
    """The tensors fn(x) keeps for backward (saved-tensor hooks)."""
    saved = []

    def keep(t):
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda t: t):
        fn(x)
    return saved


@pytest.mark.parametrize("case", EXACT, ids=lambda c: c.id)
def test_exact_ops_default_to_a_mask_where_they_save_their_input(case):
    """The rule of _spec.Activation.default_bits: 1 bit by default exactly
    where the unpacked op keeps its input (not its output, which the next
    layer keeps anyway); the default's gradient is the unpacked one, bit for bit."""
    x = (torch.randn(4096, generator=torch.Generator().manual_seed(5)) * 4).requires_grad_()
    unpacked = saved_by(lambda t: case.ours(t, **case.kwargs, backward_bits=0), x)
    storage = x.untyped_storage().data_ptr()
    saves_input = any(t.untyped_storage().data_ptr() == storage for t in unpacked)
    assert (case.act.default_bits == 1) == saves_input
    default = saved_by(lambda t: case.ours(t, **case.kwargs), x)
    if saves_input:
        assert [(t.dtype, t.numel()) for t in default] == [(torch.uint8, 4096 // 8)]
    else:
        assert [(t.dtype, t.numel()) for t in default] == [(t.dtype, t.numel()) for t in unpacked]
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(6))
    _, expected = grad_of(case, x, g, backward_bits=0)
    _, gx = grad_of(case, x, g)
    assert same_bits(gx, expected)


DEFAULTED = [c for c in FIRST_CASES if c.act.default_bits]


@pytest.mark.parametrize("case", DEFAULTED, ids=lambda c: c.id)
def test_the_default_mask_only_in_eager_autograd(case):
    x = torch.randn(64, requires_grad=True)
    call = functools.partial(case.ours, **case.kwargs)
    assert [(t.dtype, t.numel()) for t in saved_by(call, x)] == [(torch.uint8, 8)]
    with torch.no_grad():
        assert saved_by(call, x) == []
    if case.act.inplace:  # in place: the output is saved, as before
        saved = saved_by(lambda t: case.ours(t * 1.0, **case.kwargs, inplace=True), x)
        assert [t.dtype for t in saved] == [torch.float32]
    # torch.func: the plain op (the packed ops have no batching rule); same gradients
    gx = torch.func.vmap(torch.func.grad(lambda v: call(v).sum()))(x.detach().view(8, 8))
    assert torch.equal(gx, torch.autograd.grad(call(x).sum(), x)[0].view(8, 8))
    # fx records the plain op
    assert "pack" not in torch.fx.symbolic_trace(lambda t: call(t)).code
    # compiled: Inductor gets the unpacked ops, which it can fuse
    graphs = []

    def backend(gm, inputs):
        graphs.append(gm)
        return gm.forward

    torch.compile(call, backend=backend, fullgraph=True)(x)
    assert graphs and "pack" not in graphs[0].code


@pytest.mark.parametrize("case", DEFAULTED, ids=lambda c: c.id)
def test_the_default_mask_keeps_double_backward_as_torch_has_it(case):
    """create_graph=True: the first gradient still hangs on x in the graph
    (with derivative zero), so differentiating it by x gives zeros, as
    torch's unpacked nodes do, and by the weights of a block what they give."""
    lin = torch.nn.Linear(6, 6).double()
    x = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)

    def penalty(bits):
        y = lin(case.ours(lin(x), **case.kwargs, backward_bits=bits)).sum()
        (gx,) = torch.autograd.grad(y, x, create_graph=True)
        return torch.autograd.grad(gx.square().sum(), [x, lin.weight])

    for ours, unpacked in zip(penalty(None), penalty(0)):
        torch.testing.assert_close(ours, unpacked, rtol=1e-12, atol=1e-12)
    x1 = torch.randn(7, dtype=torch.float64, requires_grad=True)
    y1 = case.ours(x1, **case.kwargs)
    assert y1.grad_fn.name().endswith("_pack_backward")
    (g1,) = torch.autograd.grad(y1.sum(), x1, create_graph=True)
    assert torch.equal(torch.autograd.grad(g1.sum(), x1)[0], torch.zeros_like(x1))


def test_modules_default_like_their_functions_and_opt_out_with_zero():
    x = torch.randn(256, requires_grad=True)
    assert [t.dtype for t in saved_by(torch_act.nn.LeakyReLU(), x)] == [torch.uint8]
    opted_out = torch_act.nn.LeakyReLU(backward_bits=0)
    assert [t.dtype for t in saved_by(opted_out, x)] == [torch.float32]
    assert [t.dtype for t in saved_by(torch_act.nn.GELU(), x)] == [torch.float32]
    with pytest.raises(ValueError, match="backward_bits"):
        torch_act.nn.LeakyReLU(backward_bits=-1)
