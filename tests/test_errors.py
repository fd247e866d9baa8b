"""Bad input gets a clear error naming the op; nothing crashes. Arguments
torch refuses we refuse too, with torch's exception type; what torch takes we take."""

import math

import pytest
import torch

import torch_act.functional as TF
import torch_act.nn as TN
from cases import CASES, CASE_IDS
from torch_act._spec import ACTIVATIONS

try:
    import numpy as np
except ImportError:  # torch runs without NumPy; its scalars are tested where it is
    np = None

ops = torch.ops.torch_act


def numpy_scalars(*types_and_values) -> list:
    """NumPy scalars, e.g. numpy_scalars(("float32", 0.25)); none without NumPy."""
    return [getattr(np, name)(value) for name, value in types_and_values] if np else []


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
    return (
        f"torch_act.(leaky_relu|{case.act.name})" if case.act.op else f"torch_act.{case.act.name}"
    )


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
    with pytest.raises(
        RuntimeError, match="torch_act.prelu: weight has 4 elements, but the input has 3 channels"
    ):
        TF.prelu(torch.randn(2, 3, 5), torch.rand(4))


def test_prelu_weight_of_wrong_rank_dtype_device():
    with pytest.raises(
        RuntimeError, match="torch_act.prelu: expected weight to be a scalar or 1-D"
    ):
        TF.prelu(torch.randn(2, 3), torch.rand(3, 1))
    with pytest.raises(
        RuntimeError, match="torch_act.prelu: expected weight to have the input's dtype"
    ):
        TF.prelu(torch.randn(2, 3), torch.rand(3, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="torch_act.prelu: a 0-dim input takes a single weight"):
        TF.prelu(torch.tensor(1.0), torch.rand(3))


def test_prelu_weight_errors_under_fake_tensors():
    """The Meta kernel raises the same error, so torch.compile reports it too."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        with pytest.raises(RuntimeError, match="torch_act.prelu: weight has 4 elements"):
            TF.prelu(torch.randn(2, 3, 5), torch.rand(4))


def test_swish_beta_is_one_value_or_one_per_channel():
    with pytest.raises(
        RuntimeError, match="torch_act.swish: beta has 2 elements, but the input has 1 channels"
    ):
        TF.swish(torch.randn(3), torch.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="torch_act.swish: expected beta to be a scalar or 1-D"):
        TF.swish(torch.randn(2, 3), torch.ones(3, 1))
    x, beta = torch.randn(2, 3, 4), torch.tensor([0.5, 1.0, 2.0])
    torch.testing.assert_close(TF.swish(x, beta), x * torch.sigmoid(beta.view(3, 1) * x))


def test_gelu_unknown_approximate():
    with pytest.raises(
        RuntimeError, match="torch_act.gelu: approximate must be 'none' or 'tanh', got 'fast'"
    ):
        TF.gelu(torch.randn(3), approximate="fast")


@pytest.mark.parametrize(
    "call,op,argument",
    [
        (lambda: TF.leaky_relu(torch.randn(3), "slope"), "leaky_relu", "negative_slope"),
        (lambda: TF.elu(torch.randn(3), alpha=[1.0]), "elu", "alpha"),
        (lambda: TF.gelu(torch.randn(3), approximate=1), "gelu", "approximate"),
        (lambda: TF.relu([1.0, 2.0]), "relu", "input"),
        (lambda: TF.prelu(torch.randn(3), 0.25), "prelu", "weight"),
    ],
    ids=["slope_str", "alpha_list", "approximate_int", "list_input", "prelu_float_weight"],
)
def test_wrong_argument_types(call, op, argument):
    with pytest.raises(TypeError, match=rf"torch_act\.{op}\(\): argument '{argument}'"):
        call()


# Each hyper-parameter of the table (and the learnable tensor argument) with
# the parser kind torch gives it: Number (float, int, bool, NumPy, a 0-dim
# tensor that does not require grad), int, str or Tensor.
def _kind(default) -> str:
    if isinstance(default, str):
        return "str"
    if isinstance(default, int):
        return "int"
    return "Number"  # floats, and Threshold's required threshold and value


ARGUMENTS = [(act, p.name, _kind(p.default)) for act in ACTIVATIONS for p in act.params] + [
    (act, act.learnable, "Tensor")
    for act in ACTIVATIONS
    if act.learnable and act.learnable not in {p.name for p in act.params}  # PReLU's weight
]
ARGUMENT_IDS = [f"{act.name}-{name}" for act, name, _ in ARGUMENTS]


def _call(fn, act, name, value):
    """fn(input, ...) with the first test config's arguments and name=value."""
    kwargs = dict(act.sample_kwargs)
    if act.learnable and name != act.learnable:
        kwargs[act.learnable] = torch.tensor(0.25)
    kwargs[name] = value
    return fn(torch.randn(4, 6, generator=torch.Generator().manual_seed(0)), **kwargs)


def _argument_error(act, name) -> str:
    return rf"torch_act\.{act.name}\(\): argument '{name}'"


@pytest.mark.parametrize("act,name,kind", ARGUMENTS, ids=ARGUMENT_IDS)
def test_none_for_an_argument_is_a_type_error_naming_it(act, name, kind):
    """As torch: TypeError, not the op parser's RuntimeError."""
    with pytest.raises(TypeError, match=_argument_error(act, name)):
        _call(getattr(TF, act.name), act, name, None)
    if act.torch_module is not None:
        with pytest.raises(TypeError):
            _call(act.reference, act, name, None)


WRONG_VALUES = {
    # A tensor that requires grad or holds more than a 0-dim value: our ops'
    # parser would take its value (dropping the gradient); torch refuses it.
    "Number": ["slope", [0.5], torch.tensor([0.5]), torch.tensor(0.5, requires_grad=True)],
    "int": [0.0, True, torch.tensor(0.0), torch.tensor([0]), *numpy_scalars(("float32", 0.0))],
    "str": [1, 0.5, torch.tensor(0.5)],
    "Tensor": [0.25, [0.25], "weight"],
}
WRONG = [
    pytest.param(act, name, value, id=f"{act.name}-{name}-{type(value).__name__}{i}")
    for act, name, kind in ARGUMENTS
    for i, value in enumerate(WRONG_VALUES[kind])
    if not (act.name == "swish" and isinstance(value, torch.Tensor))  # beta may be a tensor
]


@pytest.mark.parametrize("act,name,value", WRONG)
def test_argument_of_a_type_torch_refuses_is_a_type_error(act, name, value):
    with pytest.raises(TypeError, match=_argument_error(act, name)):
        _call(getattr(TF, act.name), act, name, value)
    if act.torch_module is not None:
        with pytest.raises(TypeError):
            _call(act.reference, act, name, value)


ACCEPTED_VALUES = {
    "Number": [
        torch.tensor(0.25),
        torch.tensor(0.25).double(),
        *numpy_scalars(("float32", 0.25), ("float64", 0.25)),
    ],
    "int": [torch.tensor(0), *numpy_scalars(("int64", 0), ("int32", 0))],
    "str": ["tanh", *numpy_scalars(("str_", "tanh"))],
}


@pytest.mark.parametrize(
    "act,name,kind",
    [pytest.param(*a, id=i) for a, i in zip(ARGUMENTS, ARGUMENT_IDS) if a[2] in ACCEPTED_VALUES],
)
def test_argument_types_torch_takes_are_taken(act, name, kind):
    """NumPy scalars and 0-dim tensors stand for their value, as in torch."""
    plain = {"Number": 0.25, "int": 0, "str": "tanh"}[kind]
    expected = _call(getattr(TF, act.name), act, name, plain)
    for value in ACCEPTED_VALUES[kind]:
        if act.name == "swish" and isinstance(value, torch.Tensor):
            continue  # a learnable beta: the Tensor overload, tested elsewhere
        torch.manual_seed(0)
        torch.testing.assert_close(_call(getattr(TF, act.name), act, name, value), expected)
        if act.torch_module is not None:
            _call(act.reference, act, name, value)  # torch takes it too


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: a.name)
def test_input_that_is_not_a_tensor_is_a_type_error(act):
    args = {**act.sample_kwargs, **({act.learnable: torch.tensor(0.25)} if act.learnable else {})}
    for value in (None, [1.0, -1.0], 2.0):
        with pytest.raises(TypeError, match=_argument_error(act, "input")):
            getattr(TF, act.name)(value, **args)
        if act.torch_module is not None:
            # (torch's Python-written softsign, tanhshrink and glu raise AttributeError)
            with pytest.raises((TypeError, AttributeError)):
                act.reference(value, **args)


def test_complex_hyper_parameter_is_refused_by_value_as_torch():
    x = torch.randn(3)
    for value in (1j, torch.tensor(1j), *numpy_scalars(("complex128", 1j))):
        with pytest.raises(
            RuntimeError, match="torch_act.leaky_relu: negative_slope must be a real"
        ):
            TF.leaky_relu(x, value)
        with pytest.raises(RuntimeError):
            torch.nn.functional.leaky_relu(x, value)


def test_op_errors_other_than_types_keep_their_exception():
    """The type check runs when the op fails; with right types, the op's error stands."""
    with pytest.raises(RuntimeError, match="torch_act.leaky_relu") as error:
        TF.leaky_relu(torch.ones(3, dtype=torch.int64), 0.2)
    assert type(error.value) is RuntimeError
    with pytest.raises(RuntimeError, match="torch_act.glu"):
        TF.glu(torch.randn(3), 0)


@pytest.mark.parametrize("inplace", [False, True])
def test_hardtanh_min_above_max_is_a_value_error_as_torch(inplace):
    x = torch.randn(5)
    message = r"torch_act.hardtanh: min_val \(1\) cannot be greater than max_val \(-1\)"
    with pytest.raises(ValueError, match=message):
        TF.hardtanh(x.clone(), 1, -1, inplace=inplace)
    with pytest.raises(ValueError):
        torch.nn.functional.hardtanh(x.clone(), 1, -1, inplace=inplace)
    # An empty range is allowed, as in torch.
    torch.testing.assert_close(
        TF.hardtanh(x.clone(), 0.5, 0.5, inplace=inplace),
        torch.nn.functional.hardtanh(x.clone(), 0.5, 0.5, inplace=inplace),
    )


@pytest.mark.parametrize(
    "min_val,max_val", [(1.0, -1.0), (1.0, 1.0), (-1.0, 1.0), (math.nan, 1.0), (-2, 3)]
)
def test_hardtanh_module_checks_its_range_as_torch(min_val, max_val):
    try:
        torch.nn.Hardtanh(min_val, max_val)
    except AssertionError as error:
        message = str(error).replace("(", r"\(").replace(")", r"\)")
        with pytest.raises(AssertionError, match=f"torch_act.nn.Hardtanh: {message}"):
            TN.Hardtanh(min_val, max_val)
    else:
        TN.Hardtanh(min_val, max_val)


MODULE_ARGUMENT_VALUES = [None, "x", math.nan, math.inf, -1.0, 0.0, 1.0, 1e3]


@pytest.mark.parametrize(
    "act", [a for a in ACTIVATIONS if a.torch_module is not None and a.params], ids=lambda a: a.name
)
def test_module_constructors_refuse_what_torch_refuses(act):
    """torch.nn's constructors mostly store their arguments (bad ones fail in
    forward); where one checks (Hardtanh), ours raises the same exception."""
    for p in act.params:
        for value in MODULE_ARGUMENT_VALUES:
            kwargs = {**act.sample_kwargs, p.name: value}
            try:
                act.torch_module(**kwargs)
            except Exception as error:
                with pytest.raises(type(error)):
                    getattr(TN, act.module)(**kwargs)
            else:
                getattr(TN, act.module)(**kwargs)


# (lower, upper) that torch.nn.functional.rrelu refuses in both modes.
BAD_RRELU_BOUNDS = {
    "lower_above_upper": (
        0.5,
        0.1,
        r"the lower bound \(0.5\) must be less than or equal to the upper bound \(0.1\)",
    ),
    "negative_out_of_order": (-0.1, -0.5, r"the lower bound \(-0.1\) must be less than or equal"),
    "lower_nan": (math.nan, 0.3, "lower bound must be finite, got nan"),
    "upper_nan": (0.1, math.nan, "upper bound must be finite, got nan"),
    "lower_inf": (math.inf, 0.3, "lower bound must be finite, got inf"),
    "upper_inf": (0.1, math.inf, "upper bound must be finite, got inf"),
    "lower_minus_inf": (-math.inf, 0.3, "lower bound must be finite, got -inf"),
    "upper_minus_inf": (0.1, -math.inf, "upper bound must be finite, got -inf"),
}


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("training", [False, True], ids=["eval", "training"])
@pytest.mark.parametrize("bounds", BAD_RRELU_BOUNDS.values(), ids=BAD_RRELU_BOUNDS.keys())
def test_rrelu_bad_bounds_raise_in_both_modes(bounds, training, inplace):
    lower, upper, message = bounds
    x = torch.randn(6)
    with pytest.raises(RuntimeError, match=f"torch_act.rrelu: {message}"):
        TF.rrelu(x.clone(), lower, upper, training, inplace)
    if not inplace:
        # (torch's in-place rrelu_ checks less: it takes an infinite upper
        # bound in eval mode; we refuse the same bounds with or without inplace.)
        with pytest.raises(RuntimeError):
            torch.nn.functional.rrelu(x.clone(), lower, upper, training)


@pytest.mark.parametrize("training", [False, True], ids=["eval", "training"])
def test_rrelu_bounds_torch_takes(training):
    x = torch.randn(6)
    for lower, upper in [(0.2, 0.2), (-0.5, -0.1), (0, 1), (torch.tensor(0.1), 0.3)]:
        TF.rrelu(x, lower, upper, training)
        torch.nn.functional.rrelu(x, lower, upper, training)


def test_rrelu_module_takes_any_bounds_and_fails_in_forward_as_torch():
    """torch.nn.RReLU's constructor checks nothing; the call does."""
    for module in (TN.RReLU(0.5, 0.1), torch.nn.RReLU(0.5, 0.1)):
        for training in (True, False):
            with pytest.raises(RuntimeError):
                module.train(training)(torch.randn(4))


def test_rrelu_training_must_be_a_bool_as_torch():
    for value in (None, 1, "yes", torch.tensor(True)):
        with pytest.raises(TypeError, match=r"torch_act\.rrelu\(\): argument 'training'"):
            TF.rrelu(torch.randn(3), training=value)
        with pytest.raises(TypeError):
            torch.nn.functional.rrelu(torch.randn(3), training=value)


def test_elu_negative_alpha_gradient_in_place_is_refused_not_wrong():
    """In place, ELU saves its output, which determines the gradient only for
    alpha >= 0 (torch refuses that case too); out of place it saves the input,
    and any alpha works."""
    x = torch.randn(5, requires_grad=True)
    (ours,) = torch.autograd.grad(TF.elu(x, alpha=-0.5).sum(), x)
    (native,) = torch.autograd.grad(torch.nn.functional.elu(x, alpha=-0.5).sum(), x)
    torch.testing.assert_close(ours, native)
    with pytest.raises(RuntimeError, match=r"torch_act.elu_: in place, .*alpha >= 0"):
        TF.elu(x * 1.0, alpha=-0.5, inplace=True)
    with pytest.raises(RuntimeError):
        torch.nn.functional.elu(x * 1.0, alpha=-0.5, inplace=True).sum().backward()
    with torch.no_grad():  # the forward alone is fine
        torch.testing.assert_close(
            TF.elu(x.clone(), alpha=-0.5, inplace=True), torch.nn.functional.elu(x, alpha=-0.5)
        )


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_third_derivative_raises_instead_of_wrong_answer(case):
    x = (torch.rand(4, 3, dtype=torch.float64) + 0.5).requires_grad_()
    tensors = case.tensor_args(x, requires_grad=True)
    (g1,) = torch.autograd.grad(case.call(case.ours, x, *tensors).sum(), x, create_graph=True)
    (g2,) = torch.autograd.grad(g1.pow(2).sum(), x, create_graph=True)
    if case.act.default_bits:  # from the 1-bit mask: every derivative past the first is 0
        assert torch.equal(torch.autograd.grad(g2.sum() + x.sum(), x)[0], torch.ones_like(x))
        return
    with pytest.raises(RuntimeError, match=op_name_pattern(case) + ": third-order gradients"):
        torch.autograd.grad(g2.sum() + x.sum(), x)
