"""Bad input gets a clear error naming the op; nothing crashes."""
import pytest
import torch

import torch_act.functional as TF
from cases import CASES, CASE_IDS

ops = torch.ops.torch_act

BAD_DTYPES = [torch.int64, torch.int32, torch.uint8, torch.bool, torch.complex64]


@pytest.mark.parametrize("dtype", BAD_DTYPES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bad_dtype(case, dtype):
    x = torch.ones(3, 4, dtype=dtype)
    tensors = case.tensor_args(torch.ones(3, 4))
    with pytest.raises(RuntimeError, match=op_name_pattern(case)):
        case.call(case.ours, x, *tensors)


def op_name_pattern(case) -> str:
    # RReLU in eval mode runs leaky_relu, whose name the error carries.
    return f"torch_act.(leaky_relu|{case.act.name})" if case.act.op else f"torch_act.{case.act.name}"


@pytest.mark.parametrize("case", [c for c in CASES if c.act.inplace], ids=lambda c: c.id)
def test_bad_dtype_inplace(case):
    with pytest.raises(RuntimeError, match=op_name_pattern(case)):
        case.ours(torch.ones(3, dtype=torch.int64), **case.kwargs, inplace=True)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.tensor_arg is None and c.act.op is None], ids=lambda c: c.id
)
def test_backward_op_checks_its_inputs(case):
    backward = getattr(ops, f"{case.act.name}_backward").default
    x = torch.randn(4, 6)
    with pytest.raises(RuntimeError, match=f"torch_act.{case.act.name}.*shape"):
        backward(torch.randn(6, 4), x, **case.kwargs)
    with pytest.raises(RuntimeError, match=f"torch_act.{case.act.name}.*dtype"):
        backward(torch.randn(4, 6, dtype=torch.float64), x, **case.kwargs)


def test_prelu_weight_of_wrong_size():
    with pytest.raises(RuntimeError, match="torch_act.prelu: weight has 4 elements, but the input has 3 channels"):
        TF.prelu(torch.randn(2, 3, 5), torch.rand(4))


def test_prelu_weight_of_wrong_rank_dtype_device():
    with pytest.raises(RuntimeError, match="torch_act.prelu: expected weight to be a scalar or 1-D"):
        TF.prelu(torch.randn(2, 3), torch.rand(3, 1))
    with pytest.raises(RuntimeError, match="torch_act.prelu: expected weight to have the input's dtype"):
        TF.prelu(torch.randn(2, 3), torch.rand(3, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="torch_act.prelu: a 0-dim input takes a single weight"):
        TF.prelu(torch.tensor(1.0), torch.rand(3))


def test_prelu_weight_errors_under_fake_tensors():
    """The Meta kernel raises the same error, so torch.compile reports it too."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        with pytest.raises(RuntimeError, match="torch_act.prelu: weight has 4 elements"):
            TF.prelu(torch.randn(2, 3, 5), torch.rand(4))


def test_swish_beta_must_be_one_value():
    with pytest.raises(RuntimeError, match="torch_act.swish: expected beta to hold a single value"):
        TF.swish(torch.randn(3), torch.tensor([1.0, 2.0]))


def test_gelu_unknown_approximate():
    with pytest.raises(RuntimeError, match="torch_act.gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        TF.gelu(torch.randn(3), approximate="fast")


@pytest.mark.parametrize(
    "call",
    [
        lambda: TF.leaky_relu(torch.randn(3), "slope"),
        lambda: TF.elu(torch.randn(3), alpha=[1.0]),
        lambda: TF.gelu(torch.randn(3), approximate=1),
        lambda: TF.relu([1.0, 2.0]),
        lambda: TF.prelu(torch.randn(3), 0.25),
    ],
    ids=["slope_str", "alpha_list", "approximate_int", "list_input", "prelu_float_weight"],
)
def test_wrong_argument_types(call):
    with pytest.raises((TypeError, RuntimeError)):
        call()


def test_elu_negative_alpha_gradient_is_refused_not_wrong():
    """ELU saves its output, which determines the gradient only for alpha >= 0."""
    x = torch.randn(5, requires_grad=True)
    with pytest.raises(RuntimeError, match="torch_act.elu: .*alpha >= 0"):
        TF.elu(x, alpha=-0.5)
    with torch.no_grad():  # forward alone is fine
        torch.testing.assert_close(TF.elu(x, alpha=-0.5), torch.nn.functional.elu(x, alpha=-0.5))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_third_derivative_raises_instead_of_wrong_answer(case):
    x = (torch.rand(4, 3, dtype=torch.float64) + 0.5).requires_grad_()
    tensors = case.tensor_args(x, requires_grad=True)
    (g1,) = torch.autograd.grad(case.call(case.ours, x, *tensors).sum(), x, create_graph=True)
    (g2,) = torch.autograd.grad(g1.pow(2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match=op_name_pattern(case) + ": third-order gradients"):
        torch.autograd.grad(g2.sum() + x.sum(), x)
