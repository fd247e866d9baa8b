"""The Inductor decompositions (torch_act/_decompositions.py) against the C++
kernels, and what torch.compile makes of them.

Every decomposition is held against its C++ op over every region of the input
(the kinks, +-0, large values, inf and NaN) in every dtype, so the Python
formulas cannot drift from the functors. Compiled models fuse our ops (no
torch_act call left in the generated code) and still run our backward: the
backward graph is lowered through <name>_backward's decomposition.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import torch_act
from torch_act._decompositions import DECOMPOSITIONS
from cases import CASES, CASE_IDS, DEFAULT_CASES, DEFAULT_CASE_IDS, FLOAT_DTYPES, TOLERANCE
from cases import fill_values, forward_backward, make_module

ops = torch.ops.torch_act


def op_calls(case, dtype):
    """(op, args, kwargs) for every op of a case, on inputs spanning every
    region (specials included) and gradients of both signs."""
    x = fill_values(2 * 3 * 5 * 7, special=True, seed=1).reshape(2, 3, 5, 7).to(dtype)
    g = (fill_values(x.numel(), seed=2).reshape(x.shape) / 40).to(dtype)
    gg = (fill_values(x.numel(), seed=3).reshape(x.shape) / 40).to(dtype)
    name = case.act.op or case.act.name
    if case.tensor_arg is None and case.act.op is None:
        kw = case.kwargs
        y = getattr(ops, name).default(x, **kw)
        g_out = g[: y.shape[0]] if y.shape != x.shape else g  # GLU(dim=0) halves dim 0
        calls = [
            (getattr(ops, name).default, (x,), kw),
            (getattr(ops, f"{name}_backward").default, (g_out, x), kw),
            (getattr(ops, f"{name}_double_backward").default, (gg, g_out, x), kw),
        ]
        if case.act.inplace:
            calls.append((getattr(ops, f"{name}_").default, (x.clone(),), kw))
        if hasattr(ops, f"{name}_result_backward"):
            calls += [
                (getattr(ops, f"{name}_result_backward").default, (g, y), kw),
                (getattr(ops, f"{name}_result_double_backward").default, (gg, g, y), kw),
            ]
        return calls
    if case.act.op is not None:  # RReLU's noise: one slope per element
        p = (fill_values(x.numel(), seed=4).reshape(x.shape).abs() / 40 + 0.1).to(dtype)
    else:
        (p,) = case.tensor_args(x)
    overload = "Tensor" if case.tensor_arg == "beta" else "default"
    ggp = torch.full_like(p, 0.3)
    return [
        (getattr(getattr(ops, name), overload), (x, p), {}),
        (getattr(getattr(ops, f"{name}_backward"), overload), (g, x, p), {}),
        (getattr(getattr(ops, f"{name}_double_backward"), overload), (gg, ggp, g, x, p), {}),
    ]


def test_every_op_has_a_decomposition():
    """Every op but the packed-backward ones (<name>_pack, <name>_backward_packed),
    which stay extern kernels under torch.compile on purpose: what they are for is
    the bytes the graph keeps, and packing bits would not fuse into neighbours."""
    registered = {
        name
        for name in torch._C._dispatch_get_all_op_names()
        if name.startswith("torch_act::") and not name.startswith("torch_act::_")
    }
    packed = {name for name in registered if name.endswith(("_pack", "_backward_packed"))}
    assert packed
    assert {op.name() for op in DECOMPOSITIONS} == registered - packed


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_decomposition_equals_kernel(case, dtype):
    for op, args, kwargs in op_calls(case, dtype):
        tol = dict(TOLERANCE[dtype])
        if dtype == torch.float32 and "double_backward" in op.name():
            # Second derivatives cancel (1 - tanh^2 near 1): float32's tanh and
            # exp, one ulp apart between ATen and the C++ loops, differ there by
            # a few 1e-6 (Mish at x = 8.8: 0 and 5.7e-6; the truth is 4.3e-6).
            tol["atol"] = 1e-5
        decomposition = DECOMPOSITIONS[op]
        if op._schema.is_mutable:  # in place: compare what each leaves in its input
            ours, theirs = args[0].clone(), args[0].clone()
            op(ours, **kwargs)
            decomposition(theirs, **kwargs)
            expected, actual = (ours,), (theirs,)
        else:
            expected, actual = op(*args, **kwargs), decomposition(*args, **kwargs)
            if isinstance(expected, torch.Tensor):
                expected, actual = (expected,), (actual,)
        for e, a in zip(expected, actual):
            assert a.dtype == e.dtype and a.shape == e.shape, op
            # Both sides compute in float; reduced dtypes may round the last bit apart.
            torch.testing.assert_close(a, e, equal_nan=True, msg=lambda m: f"{op}: {m}", **tol)


FEATURES = 8


def model_for(case, inplace=False):
    torch.manual_seed(0)
    act = make_module(case, FEATURES)
    if inplace:
        act.inplace = True
    return nn.Sequential(
        nn.Linear(6, FEATURES), nn.BatchNorm1d(FEATURES), act, nn.Linear(FEATURES, 4)
    )


def compiled_code(model, x):
    """The outputs and gradients of a compiled training step, and the code
    Inductor generated for it (no cache: each mode compiles afresh)."""
    from torch._inductor.utils import run_and_get_code

    torch._dynamo.reset()
    compiled = torch.compile(copy.deepcopy(model), fullgraph=True)
    with torch._inductor.config.patch(force_disable_caches=True, fallback_random=True):
        result, code = run_and_get_code(forward_backward, compiled, x)
    return result, "\n".join(code)


def torch_act_code(code: str) -> list[str]:
    """The lines of generated code that name torch_act, but for comments (the
    source nodes a kernel was fused from: "Original ATen: [torch_act...]",
    "Topologically Sorted Source Nodes: [aten.t, torch_act.elu_backward]")."""
    return [
        line
        for line in code.splitlines()
        if "torch_act" in line
        and not line.lstrip().startswith(("#", "//"))
        and "Original ATen: [" not in line
    ]


def assert_same(a, b):
    torch.testing.assert_close(a[0], b[0], rtol=1e-4, atol=1e-5)
    for ga, gb in zip(a[1], b[1]):
        torch.testing.assert_close(ga, gb, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=DEFAULT_CASE_IDS)
def test_compiled_model_fuses_our_ops_and_runs_our_backward(case, monkeypatch):
    """No torch_act call is left in the generated code, and the backward graph
    is our <name>_backward, lowered through its decomposition (counted)."""
    import torch._inductor.decomposition as inductor

    name = case.act.op or case.act.name
    packet = getattr(ops, f"{name}_backward")
    backward_op = packet.Tensor if case.tensor_arg == "beta" else packet.default
    calls = []

    def counted(*args, **kwargs):
        calls.append(backward_op)
        return DECOMPOSITIONS[backward_op](*args, **kwargs)

    monkeypatch.setitem(inductor.decompositions, backward_op, counted)
    inductor.fast_random_decomps.cache_clear()
    try:
        model = model_for(case)
        x = torch.randn(4, 6) * 3
        result, code = compiled_code(model, x)
    finally:
        monkeypatch.undo()
        inductor.fast_random_decomps.cache_clear()
    assert not torch_act_code(code)
    assert calls, f"{backward_op} was not lowered through its decomposition"
    torch.manual_seed(0)
    assert_same(result, forward_backward(model, x))


@pytest.mark.parametrize("case", [c for c in DEFAULT_CASES if c.act.inplace], ids=lambda c: c.id)
def test_compiled_inplace_call_fuses_too(case):
    model = model_for(case, inplace=True)
    x = torch.randn(4, 6) * 3
    result, code = compiled_code(model, x)
    assert "torch.ops.torch_act" not in code
    assert_same(result, forward_backward(model, x))


def test_opaque_mode_calls_the_kernels():
    case = next(c for c in DEFAULT_CASES if c.act.name == "gelu")
    model = model_for(case)
    x = torch.randn(4, 6)
    try:
        torch_act.set_compile_mode("opaque")
        assert torch_act.compile_mode() == "opaque"
        result, code = compiled_code(model, x)
    finally:
        torch_act.set_compile_mode("decompose")
    assert "torch.ops.torch_act.gelu.default" in code
    assert "torch.ops.torch_act.gelu_backward.default" in code
    assert_same(result, forward_backward(model, x))
    with pytest.raises(ValueError, match="set_compile_mode"):
        torch_act.set_compile_mode("fast")
