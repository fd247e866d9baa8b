"""RReLU in training mode: random slopes, tested by their statistics and by the
gradient agreeing with the slopes drawn. (Eval mode is in the table-driven
parity tests: it equals torch's.)"""

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

import torch_act.functional as TF
import torch_act.nn as TN

ops = torch.ops.torch_act


def test_slopes_are_uniform_in_range():
    torch.manual_seed(0)
    x = -torch.ones(200_000)
    slopes = -TF.rrelu(x, 0.1, 0.3, training=True)
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean().item() - 0.2) < 2e-3
    assert abs(slopes.std().item() - 0.2 / 12**0.5) < 2e-3  # U(a, b): (b - a) / sqrt(12)
    assert torch.unique(slopes).numel() > 1000  # one slope per element


def test_positive_inputs_pass_through_and_draws_follow_the_seed():
    x = torch.randn(1000)
    torch.manual_seed(3)
    first = TF.rrelu(x, training=True)
    torch.manual_seed(3)
    second = TF.rrelu(x, training=True)
    assert torch.equal(first, second)
    assert torch.equal(first[x > 0], x[x > 0])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_gradient_uses_the_slopes_drawn(dtype):
    x = torch.randn(4096, dtype=torch.float64).to(dtype).requires_grad_()
    out = TF.rrelu(x, training=True)
    (grad,) = torch.autograd.grad(out.sum(), x)
    slopes = torch.where(x > 0, torch.ones_like(x), out / x).detach()
    torch.testing.assert_close(grad, slopes)


def test_gradcheck_with_fixed_noise():
    x = torch.randn(3, 5, dtype=torch.float64)
    x = torch.where(x.abs() < 0.05, x + 0.1, x).requires_grad_()
    noise = torch.rand(3, 5, dtype=torch.float64) * 0.2 + 0.1
    assert gradcheck(lambda t: ops.rrelu_with_noise(t, noise), (x,))
    assert gradgradcheck(lambda t: ops.rrelu_with_noise(t, noise), (x,))


def test_noise_of_wrong_shape_is_an_error():
    with pytest.raises(RuntimeError, match="torch_act.rrelu_with_noise: expected noise"):
        ops.rrelu_with_noise(torch.randn(3, 4), torch.rand(4))


def test_module_modes_and_inplace():
    m = TN.RReLU(0.1, 0.3)
    x = -torch.ones(100)
    assert len(torch.unique(m(x))) > 1  # training: random slopes
    m.eval()
    torch.testing.assert_close(m(x), torch.full((100,), -0.2))
    target = -torch.ones(100)
    m_inplace = TN.RReLU(0.1, 0.3, inplace=True)
    out = m_inplace(target)
    assert out is target and target.min() >= -0.3 and target.max() <= -0.1


def test_inplace_training_gradient():
    leaf = torch.randn(64, dtype=torch.float64, requires_grad=True)
    y = leaf * 1.0
    out = TF.rrelu(y, training=True, inplace=True)
    assert out is y
    (grad,) = torch.autograd.grad(out.sum(), leaf)
    torch.testing.assert_close(grad, torch.where(leaf > 0, 1.0, out / leaf).detach())
