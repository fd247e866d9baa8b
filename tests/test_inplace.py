"""In-place variants (inplace=True where torch.nn offers it)."""

import pytest
import torch

from cases import DEVICES, INPLACE_CASES, LAYOUTS, TOLERANCE, make_input

IDS = [c.id for c in INPLACE_CASES]


@pytest.mark.parametrize("layout", [layout for layout in LAYOUTS if layout != "expanded"])
@pytest.mark.parametrize("case", INPLACE_CASES, ids=IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_inplace_equals_out_of_place(device, case, layout):
    x = make_input(layout, torch.float32, special=True, device=device)
    expected = case.call(case.ours, x)
    target = x.clone()
    version = target._version
    returned = case.ours(target, **case.kwargs, inplace=True)
    assert returned is target
    assert target._version > version
    torch.testing.assert_close(target, expected, equal_nan=True, **TOLERANCE[torch.float32])


@pytest.mark.parametrize("case", INPLACE_CASES, ids=IDS)
def test_inplace_autograd_matches_torch(case):
    """Gradients through our in-place op equal torch's out-of-place ones (torch's
    own in-place LeakyReLU refuses a negative slope; ours keeps a copy of x)."""

    def grad(fn, inplace):
        leaf = make_input("contiguous", torch.float64, seed=4).requires_grad_()
        y = leaf * 1.5  # in-place on a non-leaf
        version = y._version
        out = fn(y, **case.kwargs, inplace=inplace)
        assert (out is y and y._version > version) == inplace
        weights = torch.linspace(-1, 1, out.numel(), dtype=torch.float64).view_as(out)
        (g,) = torch.autograd.grad((out * weights).sum(), leaf)
        return g

    torch.testing.assert_close(
        grad(case.ours, True), grad(case.reference, False), **TOLERANCE[torch.float64]
    )


@pytest.mark.parametrize("case", INPLACE_CASES, ids=IDS)
def test_inplace_on_view_autograd(case):
    """In-place on a view of a non-leaf: gradients flow to the base like torch's."""

    def grad(fn, inplace):
        leaf = make_input("contiguous", torch.float64, seed=5).requires_grad_()
        base = leaf * 1.0
        view = base[:, 1]
        if inplace:
            fn(view, **case.kwargs, inplace=True)
        else:
            base = torch.cat([base[:, :1], fn(view, **case.kwargs).unsqueeze(1), base[:, 2:]], 1)
        (g,) = torch.autograd.grad(base.pow(2).sum(), leaf)
        return g

    torch.testing.assert_close(
        grad(case.ours, True), grad(case.reference, False), **TOLERANCE[torch.float64]
    )


@pytest.mark.parametrize("case", INPLACE_CASES, ids=IDS)
def test_inplace_on_leaf_requiring_grad_raises(case):
    leaf = torch.randn(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        case.ours(leaf, **case.kwargs, inplace=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        case.reference(leaf, **case.kwargs, inplace=True)  # torch agrees


@pytest.mark.parametrize("case", INPLACE_CASES, ids=IDS)
def test_inplace_on_overlapping_memory_raises(case):
    x = torch.randn(1, 3).expand(4, 3)
    with pytest.raises(RuntimeError, match="more than one element"):
        case.ours(x, **case.kwargs, inplace=True)


@pytest.mark.parametrize("case", INPLACE_CASES, ids=IDS)
def test_inplace_under_no_grad_and_inference_mode(case):
    x = make_input("contiguous", torch.float32)
    expected = case.call(case.ours, x)
    with torch.no_grad():
        y = x.clone()
        case.ours(y, **case.kwargs, inplace=True)
    with torch.inference_mode():
        z = x.clone()
        case.ours(z, **case.kwargs, inplace=True)
    torch.testing.assert_close(y, expected)
    torch.testing.assert_close(z, expected)


def test_modified_saved_tensor_is_detected():
    """An in-place change to a tensor our backward saved is caught, as in torch."""
    x = torch.randn(5, requires_grad=True)
    y = x * 2
    import torch_act.functional as TF

    out = TF.sigmoid(y)  # saves its output
    out.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize("case", INPLACE_CASES, ids=IDS)
def test_inplace_on_inference_tensor(case):
    """As torch: an inference tensor is refused outside inference mode (it has
    no version counter) and updated inside it."""
    with torch.inference_mode():
        x = make_input("contiguous", torch.float32)
    with pytest.raises(
        RuntimeError, match="Inplace update to inference tensor outside InferenceMode"
    ):
        case.ours(x, **case.kwargs, inplace=True)
    with pytest.raises(
        RuntimeError, match="Inplace update to inference tensor outside InferenceMode"
    ):
        case.reference(x, **case.kwargs, inplace=True)  # torch refuses it the same way
    with torch.inference_mode():
        expected = case.call(case.ours, x)
        case.ours(x, **case.kwargs, inplace=True)
    torch.testing.assert_close(x, expected)
