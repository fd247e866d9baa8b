"""The graph nodes torch_act records behave like ATen's: named, freed after
backward, saved through saved-tensor hooks, and traceable by compiled autograd."""

import copy

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

from cases import CASES, CASE_IDS, DEFAULT_CASES, DEFAULT_CASE_IDS, INPLACE_CASES
from cases import forward_backward as run
from cases import make_input, make_module, smooth_input


def graph_inputs(case):
    x = make_input("contiguous", torch.float64, requires_grad=True)
    return x, case.tensor_args(x, requires_grad=True)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_node_is_named_after_its_backward_op(case):
    x, tensors = graph_inputs(case)
    node = case.call(case.ours, x, *tensors).grad_fn
    name = node.name()
    # "<forward op>_backward", as ATen's nodes: <name>_pack's where the op
    # keeps a 1-bit mask by default (_spec.Activation.default_bits)
    assert name.startswith("torch_act::") and name.endswith("_backward"), name
    op = name.removeprefix("torch_act::").removesuffix("_backward")
    assert hasattr(torch.ops.torch_act, op), name
    assert op.endswith("_pack") == bool(case.act.default_bits), name
    inputs = [x, *tensors]
    assert len(node.next_functions) == len(inputs)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_saved_tensors_are_freed_by_backward(case):
    x, tensors = graph_inputs(case)
    inputs = [x, *tensors]
    torch.manual_seed(0)  # RReLU's slopes
    out = case.call(case.ours, x, *tensors)
    grad_out = torch.ones_like(out)
    first = torch.autograd.grad(out, inputs, grad_out, retain_graph=True)
    second = torch.autograd.grad(out, inputs, grad_out)  # the graph was retained
    for a, b in zip(first, second):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        torch.autograd.grad(out, inputs, grad_out)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_saved_tensor_hooks_see_every_saved_tensor(case):
    x, tensors = graph_inputs(case)
    inputs = [x, *tensors]

    def grads():
        torch.manual_seed(0)
        out = case.call(case.ours, x, *tensors)
        return torch.autograd.grad(out, inputs, torch.ones_like(out))

    expected = grads()
    packed, unpacked = [], []

    def pack(t):
        packed.append(t)
        return t.clone()  # the node must use what unpack returns

    def unpack(t):
        unpacked.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        actual = grads()
    assert packed and len(unpacked) == len(packed)
    for a, e in zip(actual, expected):
        torch.testing.assert_close(a, e, rtol=0, atol=0)


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=DEFAULT_CASE_IDS)
def test_compiled_autograd_matches_eager(case):
    """torch._dynamo's compiled autograd traces backward through our nodes."""
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), make_module(case, 8), torch.nn.Linear(8, 3))
    x = torch.randn(4, 6) * 3
    expected = run(copy.deepcopy(model), x)
    counters = torch._dynamo.utils.counters["compiled_autograd"]
    counters.clear()
    with torch._dynamo.config.patch(compiled_autograd=True):
        actual = torch.compile(run, backend="aot_eager")(model, x)
    assert counters["captures"] >= 1
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", INPLACE_CASES, ids=[c.id for c in INPLACE_CASES])
def test_inplace_call_records_the_node_and_double_backward(case):
    """inplace=True records the out-of-place call's node (rebased onto the
    modified tensor), or, where the in-place op saves its output instead of its
    input (ELU, SELU, CELU), the node of <name>_result_backward; first and
    second derivatives pass gradcheck."""
    x = smooth_input(case)
    y = x * 1.0
    out = case.ours(y, **case.kwargs, inplace=True)
    name = case.act.op or case.act.name
    from_result = hasattr(torch.ops.torch_act, f"{name}_result_backward")
    # (the out-of-place node, unpacked: in place keeps no default mask)
    out_of_place = case.call(case.ours, x * 1.0).grad_fn.name().replace("_pack_", "_")
    expected = f"torch_act::{name}_result_backward" if from_result else out_of_place
    assert out is y and out.grad_fn.name() == expected

    def inplace(t):
        return case.ours(t * 1.0, **case.kwargs, inplace=True)

    assert gradcheck(inplace, (x,))
    assert gradgradcheck(inplace, (x,))
