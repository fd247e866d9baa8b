"""Gated units f(gate) * up and fused bias + activation f(x + bias).

Every fused op (the C++ lists GatedActivations and BiasActivations) against
the native composite and a float64 reference in every dtype, gradcheck and
gradgradcheck (with forward AD and batched gradients), opcheck, its Inductor
decomposition, vmap, autocast and torch.compile; the split form and the
composite fallback of the functional API; the modules.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.testing._internal.optests import opcheck

import torch_act
import torch_act.functional as TF
from torch_act._decompositions import DECOMPOSITIONS
from torch_act._spec import BY_NAME, GATED_UNITS
from cases import DEVICES, FLOAT_DTYPES, REDUCED, TOLERANCE, exact_reference, fill_values

ops = torch.ops.torch_act


# (activation, hyper-parameters) per fused op, discovered from the registered ops.
def _configs(kind: str) -> list[tuple[str, dict]]:
    table = TF._GATED_OPS if kind == "glu" else TF._BIAS_OPS
    configs = []
    for name, op in table.items():
        if op is not None:
            configs += [(name, dict(kw)) for kw in BY_NAME[name].test_configs]
    return configs


GATED = _configs("glu")
BIAS = _configs("bias")
GATED_AND_BIAS = [("glu", c) for c in GATED] + [("bias", c) for c in BIAS]


def config_id(config) -> str:
    name, kw = config
    return "-".join([name] + [f"{k}={v}" for k, v in kw.items()])


def reference(name: str):
    return BY_NAME[name].reference


def away_from_kinks(x: torch.Tensor, name: str) -> torch.Tensor:
    """x with every element at least 0.05 from the activation's kinks."""
    for kink in BY_NAME[name].kinks:
        near = (x - kink).abs() < 0.05
        x = torch.where(near, x + 0.1, x)
    return x


def test_fused_lists_cover_the_models_activations():
    # The activations transformer MLPs gate with, and those after a Linear.
    assert {"silu", "gelu", "relu", "quick_gelu", "squared_relu"} <= {n for n, _ in GATED}
    assert {"silu", "gelu", "relu", "tanh"} <= {n for n, _ in BIAS}


# ----------------------------------------------------------------- parity


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("config", GATED, ids=config_id)
def test_gated_matches_composite(config, dtype):
    name, kw = config
    # Moderate values: with huge ones a rounding of f' in float32 is scaled by
    # g * up beyond any fixed tolerance (the extremes are tested below).
    gen = torch.Generator().manual_seed(0)
    gate = (3 * torch.randn(4, 33, generator=gen)).to(dtype).requires_grad_()
    up = torch.randn(4, 33, generator=gen).to(dtype).requires_grad_()
    g = torch.randn(4, 33, generator=gen).to(dtype) / 10
    ours = TF.glu_act(gate, up, name, **kw)
    ours_grads = torch.autograd.grad(ours, (gate, up), g)
    # float64 composite, rounded to the dtype: the reference for reduced dtypes.
    gate64, up64 = (t.detach().double().requires_grad_() for t in (gate, up))
    ref = reference(name)(gate64, **kw) * up64
    ref_grads = torch.autograd.grad(ref, (gate64, up64), g.double())
    tol = TOLERANCE[dtype] if dtype != torch.float32 else dict(rtol=5e-5, atol=1e-5)
    torch.testing.assert_close(ours, ref.to(dtype), **tol)
    for a, b in zip(ours_grads, ref_grads):
        torch.testing.assert_close(a, b.to(dtype), **tol)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("config", BIAS, ids=config_id)
def test_bias_act_matches_composite(config, dtype):
    name, kw = config
    gen = torch.Generator().manual_seed(0)
    x = (3 * torch.randn(2, 3, 17, generator=gen)).to(dtype).requires_grad_()
    bias = torch.randn(17, generator=gen).to(dtype).requires_grad_()
    g = torch.randn(2, 3, 17, generator=gen).to(dtype) / 10
    ours = TF.bias_act(x, bias, name, **kw)
    ours_grads = torch.autograd.grad(ours, (x, bias), g)
    x64, b64 = (t.detach().double().requires_grad_() for t in (x, bias))
    ref = reference(name)(x64 + b64, **kw)
    ref_grads = torch.autograd.grad(ref, (x64, b64), g.double())
    tol = TOLERANCE[dtype] if dtype != torch.float32 else dict(rtol=5e-5, atol=1e-5)
    torch.testing.assert_close(ours, ref.to(dtype), **tol)
    torch.testing.assert_close(ours_grads[0], ref_grads[0].to(dtype), **tol)
    # The bias gradient sums 6 rows: reduced dtypes round each term.
    bias_tol = tol if dtype not in REDUCED else dict(rtol=5e-2, atol=2e-2)
    torch.testing.assert_close(ours_grads[1], ref_grads[1].to(dtype), **bias_tol)


# Rows x columns: one chunk of rows, several chunks with a short last one,
# one column, and rows whose tail is not a whole vector.
@pytest.mark.parametrize("shape", [(6, 40), (3000, 1), (1100, 129), (2, 5, 300)], ids=str)
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("device", DEVICES)
def test_bias_gradient_sums_every_row(device, shape, layout, dtype):
    # The contiguous layout sums the bias gradient in the backward's own pass
    # (CPU: chunks of rows; CUDA: the per-channel kernels), the strided one
    # through the general loops: both equal the float64 sum within the
    # dtype's rounding of one value.
    gen = torch.Generator().manual_seed(1)
    x = torch.randn((2 * shape[0],) + shape[1:], generator=gen, dtype=torch.float64)
    x = (x[::2] if layout == "strided" else x[: shape[0]]).to(device)
    assert x.is_contiguous() == (layout == "contiguous")
    x = x.to(dtype).requires_grad_()
    bias = torch.randn(shape[-1], generator=gen).to(device, dtype).requires_grad_()
    g = torch.randn(shape, generator=gen).to(device, dtype)
    grad_x, grad_bias = torch.autograd.grad(TF.bias_act(x, bias, "gelu"), (x, bias), g)
    x64, b64 = (t.detach().double().requires_grad_() for t in (x, bias))
    ref_x, ref_bias = torch.autograd.grad(F.gelu(x64 + b64), (x64, b64), g.double())
    tol = {
        torch.float64: dict(rtol=1e-12, atol=1e-12),
        torch.float32: dict(rtol=1e-5, atol=1e-4),
        torch.bfloat16: dict(rtol=8e-3, atol=1e-2),
    }[dtype]
    torch.testing.assert_close(grad_x, ref_x.to(dtype), **tol)
    if dtype == torch.bfloat16 and layout == "strided":
        # The general loops sum the gradient rounded to bfloat16, as torch's
        # composite does: each of rows terms is off by up to half an ulp.
        tol = dict(rtol=5e-2, atol=0.05 * shape[0] ** 0.5)
    torch.testing.assert_close(grad_bias, ref_bias.to(dtype), **tol)


@pytest.mark.parametrize("config", GATED, ids=config_id)
def test_gated_nonfinite_like_composite(config):
    # inf, -inf, NaN and huge values: finite where the composite is, NaN where
    # it is. The composite computed exactly: torch's tanh GELU rounds to -0
    # far left, where f is tiny but not 0, and -0 * inf would be NaN, not -inf.
    name, kw = config
    gate = fill_values(7 * 11, special=True, seed=4).reshape(7, 11)
    up = fill_values(7 * 11, special=True, seed=5).reshape(7, 11)
    exact = exact_reference(BY_NAME[name], gate.double(), kw) * up.double()
    torch.testing.assert_close(
        TF.glu_act(gate, up, name, **kw),
        exact.to(gate.dtype),
        equal_nan=True,
        rtol=1e-5,
        atol=1e-5,
    )


# ------------------------------------------------------------ autograd


@pytest.mark.parametrize("config", GATED, ids=config_id)
def test_gated_gradcheck(config):
    name, kw = config
    gate = away_from_kinks(torch.randn(3, 5, dtype=torch.float64), name).requires_grad_()
    up = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    fn = lambda a, b: TF.glu_act(a, b, name, **kw)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (gate, up), check_forward_ad=True, check_batched_grad=True)
    assert torch.autograd.gradgradcheck(fn, (gate, up), check_fwd_over_rev=True)


@pytest.mark.parametrize("config", BIAS, ids=config_id)
def test_bias_act_gradcheck(config):
    name, kw = config
    x = away_from_kinks(torch.randn(2, 3, 4, dtype=torch.float64), name).requires_grad_()
    bias = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    fn = lambda a, b: TF.bias_act(a, b, name, **kw)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, bias), check_forward_ad=True, check_batched_grad=True)
    assert torch.autograd.gradgradcheck(fn, (x, bias), check_fwd_over_rev=True)


def test_backward_saves_only_the_inputs():
    gate = torch.randn(8, 16, requires_grad=True)
    up = torch.randn(8, 16, requires_grad=True)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        TF.swiglu(gate, up)
    # Exactly gate and up, in that order: nothing recomputable is kept.
    assert len(saved) == 2 and saved[0] is gate and saved[1] is up


def test_third_order_raises():
    gate = torch.randn(4, dtype=torch.float64, requires_grad=True)
    up = torch.randn(4, dtype=torch.float64, requires_grad=True)
    (g1,) = torch.autograd.grad(TF.swiglu(gate, up).sum(), gate, create_graph=True)
    (g2,) = torch.autograd.grad(g1.sum(), gate, create_graph=True)
    with pytest.raises(RuntimeError, match="third-order"):
        torch.autograd.grad(g2.sum(), gate)


# -------------------------------------------------------------- opcheck


def _op_args(kind: str, name: str, kw: dict, device: str = "cpu"):
    torch.manual_seed(0)
    if kind == "glu":
        packet = f"{name}_glu"
        a, b = torch.randn(3, 8, device=device), torch.randn(3, 8, device=device)
    else:
        packet = f"bias_{name}"
        a, b = torch.randn(2, 3, 8, device=device), torch.randn(8, device=device)
    g = torch.randn_like(a)
    gg_a, gg_b = torch.randn_like(a), torch.randn_like(b)
    calls = [
        (getattr(ops, packet).default, (a, b)),
        (getattr(ops, f"{packet}_backward").default, (g, a, b)),
        (getattr(ops, f"{packet}_double_backward").default, (gg_a, gg_b, g, a, b)),
    ]
    if kind == "glu":  # the backward into gate's and up's storage
        calls.append((getattr(ops, f"{packet}_backward_").default, (g, a.clone(), b.clone())))
    return calls, kw


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "kind,config", GATED_AND_BIAS, ids=[f"{k}-{config_id(c)}" for k, c in GATED_AND_BIAS]
)
def test_opcheck(kind, config, device):
    name, kw = config
    calls, kw = _op_args(kind, name, kw, device)
    for op, args in calls:
        # Gradients of forward and backward; the double backward's (third
        # order) and the in-place backward's raise by design, tested apart.
        grad = "double_backward" not in op.name() and not op._schema.is_mutable
        args = tuple(a.detach().requires_grad_(grad and i < 2) for i, a in enumerate(args))
        opcheck(op, args, kw)


# ------------------------------------------------------- decompositions


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize(
    "kind,config", GATED_AND_BIAS, ids=[f"{k}-{config_id(c)}" for k, c in GATED_AND_BIAS]
)
def test_decomposition_equals_kernel(kind, config, dtype):
    name, kw = config
    x = fill_values(2 * 3 * 4 * 8, special=True, seed=1).reshape(2, 3, 4, 8).to(dtype)
    other = fill_values(x.numel(), seed=2).reshape(x.shape).to(dtype)
    if kind == "bias":
        other = other[0, 0, 0] / 4
    g = (fill_values(x.numel(), seed=3).reshape(x.shape) / 40).to(dtype)
    gg_x = (fill_values(x.numel(), seed=4).reshape(x.shape) / 40).to(dtype)
    gg_other = torch.full_like(other, 0.3)
    packet = f"{name}_glu" if kind == "glu" else f"bias_{name}"
    tol = dict(TOLERANCE[dtype])
    if dtype == torch.float32:
        # One ulp of f'(gate) between ATen's and the kernels' tanh or exp,
        # times g * up (up to 100 here).
        tol["atol"] = 1e-4
    for suffix, args in (
        ("", (x, other)),
        ("_backward", (g, x, other)),
        ("_double_backward", (gg_x, gg_other, g, x, other)),
    ):
        op = getattr(ops, packet + suffix).default
        expected, actual = op(*args, **kw), DECOMPOSITIONS[op](*args, **kw)
        if suffix == "_backward" and kind == "glu":  # and the in-place backward
            ours, theirs = (x.clone(), other.clone()), (x.clone(), other.clone())
            getattr(ops, packet + "_backward_").default(g, *ours, **kw)
            DECOMPOSITIONS[getattr(ops, packet + "_backward_").default](g, *theirs, **kw)
            for a, e, b in zip(ours, theirs, expected):
                torch.testing.assert_close(a, b, equal_nan=True, **tol)
                torch.testing.assert_close(e, b, equal_nan=True, **tol)
        if isinstance(expected, torch.Tensor):
            expected, actual = (expected,), (actual,)
        for e, a in zip(expected, actual):
            # Summed bias gradients in reduced dtypes: the sum order differs.
            t = tol if e.shape == x.shape or dtype not in REDUCED else dict(rtol=5e-2, atol=5e-2)
            torch.testing.assert_close(a, e, equal_nan=True, msg=lambda m: f"{op}: {m}", **t)


# --------------------------------------------------------- inplace_grad


def test_inplace_grad_writes_gradients_into_gate_and_up():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 16, generator=gen, requires_grad=True)
    wg, wu = torch.randn(16, 32, generator=gen), torch.randn(16, 32, generator=gen)
    g = torch.randn(6, 32, generator=gen)

    def run(inplace_grad):
        gate, up = x @ wg, x @ wu
        out = TF.swiglu(gate, up, inplace_grad=inplace_grad)
        (grad_x,) = torch.autograd.grad(out, x, g)
        return out, grad_x, gate, up

    out, grad_x, gate, up = run(False)
    out_i, grad_x_i, gate_i, up_i = run(True)
    assert torch.equal(out_i, out) and torch.equal(grad_x_i, grad_x)
    # gate and up now hold their gradients, and their versions moved on.
    grad_gate, grad_up = ops.silu_glu_backward(g, gate, up)
    assert torch.equal(gate_i, grad_gate) and torch.equal(up_i, grad_up)
    assert gate_i._version > 0 and up_i._version > 0


def test_inplace_grad_never_gives_a_silent_wrong_answer():
    x = torch.randn(4, 8, requires_grad=True)
    # Another op saved gate (sin saves its input) and runs its backward after
    # ours: it raises instead of reading gradients.
    gate, up = x * 2, x * 3
    earlier = gate.sin()
    out = TF.swiglu(gate, up, inplace_grad=True) + earlier
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    # Run before ours, it read gate intact: the right answer.
    gate, up = x * 2, x * 3
    out = TF.swiglu(gate, up, inplace_grad=True) + gate.sin()
    (grad,) = torch.autograd.grad(out.sum(), x)
    gate, up = x * 2, x * 3
    (expected,) = torch.autograd.grad((TF.swiglu(gate, up) + gate.sin()).sum(), x)
    torch.testing.assert_close(grad, expected)
    # A second backward through the same graph raises too.
    gate, up = x * 2, x * 3
    out = TF.swiglu(gate, up, inplace_grad=True).sum()
    out.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()
    # Halves of one tensor, and double backward: the usual backward runs.
    x64 = torch.randn(4, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: TF.swiglu(t * 1, inplace_grad=True), (x64,))
    assert torch.autograd.gradgradcheck(
        lambda a, b: TF.swiglu(a * 1, b * 1, inplace_grad=True),
        (x64, x64.detach().clone().requires_grad_()),
    )
    # Leaves (parameters, the caller's data) are never overwritten.
    leaf_gate, leaf_up = (
        torch.randn(3, 4, requires_grad=True),
        torch.randn(3, 4, requires_grad=True),
    )
    kept = leaf_gate.detach().clone(), leaf_up.detach().clone()
    TF.swiglu(leaf_gate, leaf_up, inplace_grad=True).sum().backward()
    assert torch.equal(leaf_gate.detach(), kept[0]) and torch.equal(leaf_up.detach(), kept[1])
    torch.testing.assert_close(leaf_up.grad, F.silu(kept[0]))
    # An input that needs no gradient is not overwritten either.
    data = torch.randn(3, 4)
    copy = data.clone()
    TF.swiglu(x[:3, :4] * 1, data, inplace_grad=True).sum().backward()
    assert torch.equal(data, copy)
    # The op itself refuses to be differentiated and overlapping operands.
    a = torch.randn(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable"):
        ops.silu_glu_backward_(torch.randn(3, 4), a * 1, a * 1)
    base = torch.randn(3, 4)
    with pytest.raises(RuntimeError, match="share memory"):
        ops.silu_glu_backward_(torch.randn(3, 4), base, base)


# ------------------------------------------------------ functional API


def test_split_form_is_gate_first():
    x = torch.randn(3, 10)
    gate, up = x[:, :5], x[:, 5:]
    torch.testing.assert_close(TF.swiglu(x), F.silu(gate) * up)
    torch.testing.assert_close(TF.glu_act(x, activation="gelu"), F.gelu(gate) * up)
    # dim: halves along dim 0; F.glu gates with the second half instead.
    y = torch.randn(6, 4)
    torch.testing.assert_close(
        TF.glu_act(y, activation="sigmoid", dim=0), torch.sigmoid(y[:3]) * y[3:]
    )
    torch.testing.assert_close(F.glu(y, 0), TF.glu_act(y.roll(3, 0), activation="sigmoid", dim=0))


def test_split_form_gradient_reaches_the_whole_input():
    x = torch.randn(4, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: TF.geglu(t, approximate="tanh"), (x,))


@pytest.mark.parametrize("unit", GATED_UNITS, ids=lambda u: u.name)
def test_named_units(unit):
    gate, up = torch.randn(5, 6), torch.randn(5, 6)
    for kw in unit.test_configs:
        expected = reference(unit.activation)(gate, **kw) * up
        torch.testing.assert_close(getattr(TF, unit.name)(gate, up, **kw), expected)
        module = getattr(torch_act.nn, unit.module)(**kw)
        torch.testing.assert_close(module(torch.cat([gate, up], -1)), expected)
        torch.testing.assert_close(module(gate, up), expected)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(RuntimeError, match="even size"):
        TF.swiglu(torch.randn(3, 5))
    with pytest.raises(RuntimeError, match="0-dim"):
        TF.swiglu(torch.tensor(1.0))
    with pytest.raises(RuntimeError, match="shape of gate"):
        TF.swiglu(torch.randn(3, 4), torch.randn(4))
    with pytest.raises(RuntimeError, match="the gate's dtype"):
        TF.swiglu(torch.randn(3, 4), torch.randn(3, 4, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="floating-point"):
        TF.swiglu(torch.ones(3, 4, dtype=torch.int64), torch.ones(3, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="unknown activation"):
        TF.glu_act(torch.randn(2, 4), activation="nope")
    with pytest.raises(TypeError, match="unexpected keyword"):
        TF.swiglu(torch.randn(2, 4), approximate="tanh")
    with pytest.raises(RuntimeError, match="approximate"):
        TF.geglu(torch.randn(2, 4), approximate="fast")
    with pytest.raises(RuntimeError, match="one value per element of the input's last dim"):
        TF.bias_act(torch.randn(2, 4), torch.randn(3))
    with pytest.raises(RuntimeError, match="1-D bias"):
        TF.bias_act(torch.randn(2, 4), torch.randn(2, 4))


@pytest.mark.parametrize(
    "activation,kw", [("hardtanh", {"min_val": -0.5}), ("celu", {}), ("prelu", None)]
)
def test_activations_without_a_fused_op_compose(activation, kw):
    gate = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    up = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    if kw is None:
        kw = {"weight": torch.tensor([0.2], dtype=torch.float64)}
    expected = getattr(F, activation)(gate, **kw) * up
    torch.testing.assert_close(TF.glu_act(gate, up, activation, **kw), expected)
    x = gate[:, :4]
    bias = up[0, :4]
    torch.testing.assert_close(
        TF.bias_act(x, bias, activation, **kw), getattr(F, activation)(x + bias, **kw)
    )


@pytest.mark.parametrize("layout", ["transposed", "sliced", "channels_last"])
def test_any_strides(layout):
    base = torch.randn(2, 8, 6, 6)
    if layout == "transposed":
        gate, up = base.transpose(1, 3), torch.randn(2, 8, 6, 6).transpose(1, 3)
    elif layout == "sliced":
        gate, up = base[..., ::2], base[..., 1::2]
    else:
        gate = base.contiguous(memory_format=torch.channels_last)
        up = torch.randn(2, 8, 6, 6).contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(TF.swiglu(gate, up), F.silu(gate) * up)
    bias = torch.randn(gate.shape[-1])
    torch.testing.assert_close(TF.bias_act(gate, bias, "gelu"), F.gelu(gate + bias))


def test_empty_inputs():
    e = torch.empty(0, 4, requires_grad=True)
    out = TF.swiglu(e, e.detach().clone().requires_grad_())
    assert out.shape == (0, 4)
    out.sum().backward()
    bias = torch.randn(4, requires_grad=True)
    TF.bias_act(e, bias, "silu").sum().backward()
    assert torch.equal(bias.grad, torch.zeros(4))


# ------------------------------------------------------------ transforms


def test_vmap_gated_and_bias():
    from torch.func import grad, vmap

    gate, up = torch.randn(5, 3, 4), torch.randn(5, 3, 4)
    torch.testing.assert_close(vmap(TF.swiglu)(gate, up), TF.swiglu(gate, up))
    x, bias = torch.randn(5, 3, 4), torch.randn(5, 4)
    expected = torch.stack([TF.bias_act(x[i], bias[i], "gelu") for i in range(5)])
    torch.testing.assert_close(vmap(lambda a, b: TF.bias_act(a, b, "gelu"))(x, bias), expected)
    # An unbatched bias: its per-sample gradient still differs per sample.
    shared = torch.randn(4)
    per_sample = vmap(grad(lambda b, a: TF.bias_act(a, b, "silu").sum()), in_dims=(None, 0))(
        shared, x
    )
    loop = torch.stack(
        [torch.func.grad(lambda b: TF.bias_act(x[i], b, "silu").sum())(shared) for i in range(5)]
    )
    torch.testing.assert_close(per_sample, loop)


def test_autocast_promotes_like_the_composite():
    x = torch.randn(4, 8, dtype=torch.bfloat16)
    bias = torch.randn(8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = TF.bias_act(x, bias, "gelu")
        theirs = F.gelu(x + bias)
        gated = TF.swiglu(x, bias.expand(4, 8))
    assert ours.dtype == theirs.dtype == torch.float32
    assert gated.dtype == (F.silu(x) * bias).dtype
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("mode", ["decompose", "opaque"])
@pytest.mark.parametrize("dynamic", [False, True])
def test_compile_fullgraph(mode, dynamic):
    previous = torch_act.compile_mode()
    torch_act.set_compile_mode(mode)
    try:
        torch._dynamo.reset()

        def step(x, w, bias):
            h = TF.swiglu(x @ w)
            return TF.bias_act(h, bias, "gelu", approximate="tanh").sum()

        from torch._inductor.utils import run_and_get_code

        x = torch.randn(6, 8, requires_grad=True)
        w = torch.randn(8, 10, requires_grad=True)
        bias = torch.randn(5, requires_grad=True)
        compiled = torch.compile(step, fullgraph=True, dynamic=dynamic)

        def forward_backward():
            out = compiled(x, w, bias)
            return out, torch.autograd.grad(out, (x, w, bias))

        with torch._inductor.config.patch(force_disable_caches=True):
            (out, grads), code = run_and_get_code(forward_backward)
        # Decomposed, Inductor fuses our ops into its kernels: no call is left.
        calls_left = "torch.ops.torch_act" in "\n".join(code)
        assert calls_left == (mode == "opaque")
        eager = step(x, w, bias)
        eager_grads = torch.autograd.grad(eager, (x, w, bias))
        torch.testing.assert_close(out, eager, rtol=1e-5, atol=1e-5)
        for a, b in zip(grads, eager_grads):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    finally:
        torch_act.set_compile_mode(previous)


def test_export():
    class Block(torch.nn.Module):
        def forward(self, x, bias):
            return TF.bias_act(TF.geglu(x), bias, "silu")

    x, bias = torch.randn(3, 8), torch.randn(4)
    exported = torch.export.export(Block(), (x, bias))
    targets = {str(n.target) for n in exported.graph.nodes if n.op == "call_function"}
    assert "torch_act.gelu_glu.default" in targets and "torch_act.bias_silu.default" in targets
    torch.testing.assert_close(exported.module()(x, bias), Block()(x, bias))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize(
    "kind,config", GATED_AND_BIAS, ids=[f"{k}-{config_id(c)}" for k, c in GATED_AND_BIAS]
)
@pytest.mark.parametrize("device", [d for d in DEVICES if d.values[0] != "cpu"])
def test_cuda_matches_cpu(device, kind, config, dtype):
    name, kw = config
    calls, kw = _op_args(kind, name, kw)
    for op, args in calls:
        cpu_args = [a.to(dtype) for a in args]
        dev_args = [a.to(device) for a in cpu_args]
        expected, actual = op(*cpu_args, **kw), op(*dev_args, **kw)
        if op._schema.is_mutable:
            expected, actual = cpu_args[1:], dev_args[1:]
        elif isinstance(expected, torch.Tensor):
            expected, actual = (expected,), (actual,)
        for e, a in zip(expected, actual):
            torch.testing.assert_close(a.cpu(), e, **TOLERANCE[dtype])
