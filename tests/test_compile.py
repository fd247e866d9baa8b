"""torch.compile(fullgraph=True), dynamic shapes and torch.export of models that use
each torch_act module: forward and backward equal eager."""

import copy

import pytest
import torch
from torch import nn

from cases import CASES, DEFAULT_CASES, DEFAULT_CASE_IDS, DEVICES, make_module
from cases import forward_backward as run

FEATURES = 8
TOL = dict(rtol=1e-4, atol=1e-5)


def make_model(case, inplace=False):
    torch.manual_seed(0)
    act = make_module(case, FEATURES)
    if inplace:
        act.inplace = True
    return nn.Sequential(nn.Linear(6, FEATURES), act, nn.Linear(FEATURES, 3))


@pytest.fixture(autouse=True)
def same_random_numbers_as_eager():
    """RReLU draws its slopes while training: compiled code must draw the same."""
    with torch._inductor.config.patch(fallback_random=True):
        yield


def assert_same(a, b):
    out_a, grads_a = a
    out_b, grads_b = b
    torch.testing.assert_close(out_a, out_b, **TOL)
    assert len(grads_a) == len(grads_b)
    for ga, gb in zip(grads_a, grads_b):
        torch.testing.assert_close(ga, gb, **TOL)


COMPILE_CASES = [(c, False) for c in CASES] + [(c, True) for c in CASES if c.act.inplace]
COMPILE_IDS = [c.id for c in CASES] + [f"{c.id}-inplace" for c in CASES if c.act.inplace]


@pytest.mark.parametrize("case,inplace", COMPILE_CASES, ids=COMPILE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_compile_fullgraph(device, case, inplace):
    torch._dynamo.reset()
    model = make_model(case, inplace).to(device)
    compiled = torch.compile(copy.deepcopy(model), fullgraph=True)
    x = torch.randn(4, 6, device=device) * 3
    assert_same(run(compiled, x), run(model, x))


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=DEFAULT_CASE_IDS)
def test_compile_dynamic_no_recompile(case):
    torch._dynamo.reset()
    model = make_model(case)
    compiled = torch.compile(copy.deepcopy(model), fullgraph=True, dynamic=True)
    x = _same(4)  # even batches: GLU(dim=0) halves the batch
    assert_same(run(compiled, x), run(model, x))
    with torch._dynamo.config.patch(error_on_recompile=True):
        x = _same(6)
        assert_same(run(compiled, x), run(model, x))


def _same(batch):
    return torch.randn(batch, 6, generator=torch.Generator().manual_seed(batch)) * 3


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=DEFAULT_CASE_IDS)
def test_export(case):
    model = make_model(case).eval()  # inference export: RReLU uses its mean slope
    x = _same(4)
    exported = torch.export.export(model, (x,))
    torch.testing.assert_close(exported.module()(x), model(x), **TOL)
    names = {str(n.target) for n in exported.graph.nodes if n.op == "call_function"}
    assert any(name.startswith("torch_act.") for name in names), names


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=DEFAULT_CASE_IDS)
def test_fx_tracers_record_our_ops(case):
    """The functional wrappers call the C++ op directly in eager mode (not the
    OpOverload): FX's symbolic tracer and make_fx must still record the op."""
    from torch.fx.experimental.proxy_tensor import make_fx

    model = make_model(case).eval()
    x = _same(4)
    symbolic = torch.fx.symbolic_trace(model)
    targets = {str(n.target) for n in symbolic.graph.nodes if n.op == "call_function"}
    assert any(t.startswith("torch_act.") for t in targets), targets
    torch.testing.assert_close(symbolic(x), model(x), **TOL)
    traced = make_fx(model)(x)
    targets = {str(n.target) for n in traced.graph.nodes if n.op == "call_function"}
    assert any(t.startswith("torch_act.") for t in targets), targets
    torch.testing.assert_close(traced(x), model(x), **TOL)


def test_fx_symbolic_trace_keeps_learnable_parameters_learning():
    """Under symbolic tracing a learnable beta is an fx Proxy, not a tensor: it
    must still reach swish's Tensor overload (the float overload would bake it
    in as a constant, leaving beta.grad None)."""
    import torch_act.nn as TN

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(6, FEATURES),
        TN.Swish(1.3, learnable=True),
        nn.Linear(FEATURES, FEATURES),
        TN.PReLU(FEATURES),
        nn.Linear(FEATURES, 3),
    )
    traced = torch.fx.symbolic_trace(copy.deepcopy(model))
    targets = [n.target for n in traced.graph.nodes if n.op == "call_function"]
    assert torch.ops.torch_act.swish.Tensor in targets, targets
    assert torch.ops.torch_act.swish.default not in targets, targets
    assert torch.ops.torch_act.prelu.default in targets, targets
    x = _same(4)
    out, grads = run(traced, x)
    out_eager, grads_eager = run(model, x)
    assert all(g is not None for g in grads), "a parameter got no gradient"
    assert_same((out, grads), (out_eager, grads_eager))
