"""gradcheck and gradgradcheck in float64 for every case, learnable tensors included."""

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

from cases import CASES, CASE_IDS, DEVICES, TOLERANCE, smooth_input


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck], ids=["gradcheck", "gradgradcheck"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_finite_differences(device, case, check):
    """First (gradcheck) and second (gradgradcheck) derivatives against finite differences."""
    x = smooth_input(case, device)
    tensors = case.tensor_args(x, requires_grad=True)
    assert check(lambda x, *t: case.call(case.ours, x, *t), (x, *tensors))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_double_backward_matches_torch(device, case):
    """The second derivative itself (not only its consistency) equals torch's."""

    def second(fn):
        x = smooth_input(case, device)
        tensors = case.tensor_args(x, requires_grad=True)
        (gx,) = torch.autograd.grad(case.call(fn, x, *tensors).sum(), x, create_graph=True)
        return torch.autograd.grad(gx.pow(2).sum(), [x, *tensors])

    try:
        theirs = second(case.reference)
    except RuntimeError as error:  # torch lacks some (hardsigmoid_backward's derivative)
        assert "not implemented" in str(error)
        x = smooth_input(case, device)
        assert gradgradcheck(lambda x: case.call(case.ours, x), (x,))
        return
    for ours, reference in zip(second(case.ours), theirs):
        torch.testing.assert_close(ours, reference, **TOLERANCE[torch.float64])
