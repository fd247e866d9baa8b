"""torch_act.functional: drop-in replacements for torch.nn.functional.

Every function has torch.nn.functional's signature (including ``inplace``)
and calls the C++ operator ``torch.ops.torch_act.<name>``. The functions of
the hyper-parameter-only activations and of the gated units are rendered from
``_spec.py`` by ``tools/generate_api.py`` into the GENERATED section below
(plain code, checked by a test to be current); PReLU, Swish (tensor
arguments), RReLU (training mode), ``glu_act`` and ``bias_act`` are written
by hand.

Arguments are refused as torch.nn.functional refuses them, with its exception
types: a type torch's argument parser refuses raises TypeError naming
``torch_act.<name>`` and the argument. The checks run only once the op has
failed, or for a hyper-parameter that is not a plain float or int (a tensor,
say), so a usual call costs what it did without them.
"""

from __future__ import annotations

import functools
import math
import numbers
import sys
from typing import Optional, Union

import torch
from torch import Tensor

from ._spec import ACTIVATIONS, BY_NAME

_ops = torch.ops.torch_act

# The generated section adds the spec-driven functions.
__all__ = ["bias_act", "glu_act", "prelu", "rrelu", "swish"]


# The parameter kinds of torch's argument parser, from our ops' schema types.
_SCHEMA_KINDS = {"Tensor": "Tensor", "float": "Number", "int": "int", "str": "str"}
# What the generated functions' fast path lets through unchecked: the plain
# types on which torch's parser and our ops agree. Anything else (a tensor, a
# NumPy scalar, a bool for an int) is checked first: the op would take a
# one-element tensor that torch refuses, e.g. one that requires grad.
_PLAIN_NUMBERS = frozenset((float, int, bool))


def _type_name(value) -> str:
    cls = type(value)
    if cls.__module__ in ("builtins", "torch") or cls.__module__.startswith("torch."):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _numpy_kind(value) -> str:
    """The dtype kind ('b', 'i', 'u', 'f', 'c') of a NumPy scalar, '' for anything else."""
    numpy = sys.modules.get("numpy")  # a NumPy scalar means NumPy is imported
    if numpy is not None and isinstance(value, numpy.generic):
        return value.dtype.kind
    return ""


def _is_complex(value) -> bool:
    if isinstance(value, torch.Tensor):
        return value.is_complex()
    return isinstance(value, complex) or _numpy_kind(value) == "c"


def _accepts(kind: str, value) -> bool:
    """Whether torch's argument parser takes value for a parameter of this kind."""
    if kind == "Tensor":
        return isinstance(value, torch.Tensor)
    if kind == "str":
        return isinstance(value, (str, bytes))
    if kind == "bool":
        return value is True or value is False or isinstance(value, torch.SymBool)
    if kind == "float or Tensor":  # swish's beta: the op checks a tensor's shape and dtype
        return isinstance(value, (torch.Tensor, *_SCALARS)) and not _is_complex(value)
    if isinstance(value, torch.Tensor):
        # A 0-dim tensor stands for its value, unless it carries a gradient.
        if value.dim() != 0 or value.requires_grad:
            return False
        if kind == "int":
            integral = not value.is_floating_point() and not value.is_complex()
            return integral and value.dtype != torch.bool
        return not value.is_complex()
    if kind == "int":
        return (
            isinstance(value, (int, torch.SymInt)) and not isinstance(value, bool)
        ) or _numpy_kind(value) in ("i", "u")
    # Number
    return isinstance(value, (float, int, torch.SymFloat, torch.SymInt, torch.SymBool)) or (
        _numpy_kind(value) in ("b", "i", "u", "f")
    )


def _check_argument(op: str, position: Optional[int], name: str, kind: str, value) -> None:
    """Raise what torch raises for a value its argument parser refuses, naming
    torch_act's op and the argument; return if torch would take it."""
    if not isinstance(value, torch.Tensor) and hasattr(type(value), "__torch_function__"):
        return  # an fx Proxy or another tracer's stand-in: the tracer records the call
    if _accepts(kind, value):
        return
    if kind == "Number" and _is_complex(value):
        # torch's parser takes complex numbers, and then refuses the value
        raise RuntimeError(f"torch_act.{op}: {name} must be a real number, got {value}") from None
    if isinstance(value, torch.Tensor) and kind in ("Number", "int"):
        kind += " (a 0-dim tensor that does not require grad)"
    where = "" if position is None else f" (position {position})"
    raise TypeError(
        f"torch_act.{op}(): argument '{name}'{where} must be {kind}, not {_type_name(value)}"
    ) from None


def _check_hardtanh_range(min_val, max_val) -> None:
    # torch.nn.functional.hardtanh checks this in Python, with a ValueError.
    if min_val > max_val:
        raise ValueError(
            f"torch_act.hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})"
        ) from None


# Checks of values that torch.nn.functional makes in Python, after the types.
_VALUE_CHECKS = {"hardtanh": _check_hardtanh_range}


def _check_arguments(op: str, arguments, *values) -> None:
    """Every argument's type, then the op's value checks; see _check_argument."""
    for (name, kind, position), value in zip(arguments, values):
        _check_argument(op, position, name, kind, value)
    check = _VALUE_CHECKS.get(op)
    if check is not None:
        check(*values[1:])


def _argument_checker(op: str, arguments):
    """_check_arguments for one op; arguments are (name, kind, position)."""
    return functools.partial(_check_arguments, op, tuple(arguments))


def _argument_checker_for(op: str):
    """The argument checker of a spec-driven function: its parameters' kinds
    from the op's schema, their positions from the spec row."""
    types = {a.name: str(a.type) for a in getattr(_ops, op).default._schema.arguments}
    arguments = [("input", "Tensor", 1)] + [
        (p.name, _SCHEMA_KINDS[types[p.name]], None if p.keyword_only else i + 2)
        for i, p in enumerate(BY_NAME[op].params)
    ]
    return _argument_checker(op, arguments)


def _eager(overload):
    """The C++ callable behind an OpOverload. OpOverload.__call__ only forwards
    to it, through a Python frame that costs a fifth of a small op's time.
    Dynamo traces OpOverloads, not this, so compiled code calls the overload."""
    return overload._op


_is_compiling = torch.compiler.is_compiling
_is_functorch_wrapped = torch._C._functorch.is_functorch_wrapped_tensor


def _packs_by_default(input) -> bool:
    """Whether a call without backward_bits keeps its row's default_bits code
    (_spec.Activation.default_bits): in eager autograd on a plain tensor only.
    Compiled, Inductor decides what is saved, and fuses the unpacked ops with
    their neighbours; under torch.func transforms the packed ops would take
    vmap's slow fallback; tracers (fx) record the plain op."""
    return (
        input.__class__ is Tensor
        and input.requires_grad
        and torch.is_grad_enabled()
        and not _is_compiling()
        and not _is_functorch_wrapped(input)
    )


_prelu = _ops.prelu.default
_prelu_eager = _eager(_prelu)
_check_prelu_arguments = _argument_checker(
    "prelu", [("input", "Tensor", 1), ("weight", "Tensor", 2)]
)
_rrelu_with_noise = _ops.rrelu_with_noise.default
_check_rrelu_arguments = _argument_checker(
    "rrelu",
    [
        ("input", "Tensor", 1),
        ("lower", "Number", 2),
        ("upper", "Number", 3),
        ("training", "bool", 4),
    ],
)
_swish_float, _swish_tensor = _ops.swish.default, _ops.swish.Tensor
_swish_float_eager, _swish_tensor_eager = _eager(_swish_float), _eager(_swish_tensor)
_check_swish_arguments = _argument_checker(
    "swish", [("input", "Tensor", 1), ("beta", "float or Tensor", 2)]
)
# What swish sends to the float overload (complex too, for the op to refuse).
_SCALARS = (float, int, numbers.Number, torch.SymFloat, torch.SymInt, torch.SymBool)


def prelu(input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """PReLU: ``x`` if ``x > 0`` else ``weight * x``, one weight or one per channel (dim 1)."""
    if _is_compiling():
        return _prelu(input, weight)
    try:
        return _prelu_eager(input, weight)
    except RuntimeError:
        _check_prelu_arguments(input, weight)
        raise


def swish(
    input: torch.Tensor,
    beta: Union[float, torch.Tensor] = 1.0,
    *,
    backward_bits: Optional[int] = None,
) -> torch.Tensor:
    """Swish: ``x * sigmoid(beta * x)``. A tensor ``beta`` (one value) receives a gradient.
    ``backward_bits`` (a float beta only) keeps a k-bit code of the input for
    backward instead of the input (SiLU's table at ``beta * x``); 0 or None: the input."""
    if backward_bits:
        if isinstance(beta, torch.Tensor):
            raise TypeError(
                "torch_act.swish: backward_bits needs a float beta (a tensor beta is learnable, "
                "and its gradient needs the input)"
            )
        return _ops.swish_pack.default(input, backward_bits, beta)[0]
    # Anything but a number takes the Tensor overload: a tensor, or the fx
    # Proxy standing for one under symbolic tracing, which the float overload
    # would record as a constant, dropping a learnable beta's gradient.
    if _is_compiling():  # (beta may be a SymFloat, whose __class__ Dynamo cannot trace)
        return (_swish_float if isinstance(beta, _SCALARS) else _swish_tensor)(input, beta)
    scalar = beta.__class__ in _PLAIN_NUMBERS or (
        not isinstance(beta, torch.Tensor) and isinstance(beta, _SCALARS)  # (an ABC check: slow)
    )
    try:
        return (_swish_float_eager if scalar else _swish_tensor_eager)(input, beta)
    except RuntimeError:
        _check_swish_arguments(input, beta)
        raise


_INF = math.inf


def _check_rrelu_bounds(lower, upper) -> None:
    """torch.rrelu's checks of the bounds, in its order."""
    for name, bound in (("lower", lower), ("upper", upper)):
        if not math.isfinite(bound):
            raise RuntimeError(f"torch_act.rrelu: {name} bound must be finite, got {float(bound)}")
    if lower > upper:
        raise RuntimeError(
            f"torch_act.rrelu: the lower bound ({lower}) must be less than or equal to "
            f"the upper bound ({upper})"
        )


def rrelu(
    input: torch.Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> torch.Tensor:
    """RReLU (Xu et al., 2015). Training: each element's negative slope is drawn
    from U(lower, upper) with torch's generator and used again by backward.
    Evaluation: leaky_relu with slope (lower + upper) / 2, as torch."""
    compiling = _is_compiling()
    if not compiling and (
        lower.__class__ not in _PLAIN_NUMBERS
        or upper.__class__ not in _PLAIN_NUMBERS
        or training.__class__ is not bool
    ):
        _check_rrelu_arguments(input, lower, upper, training)
    # torch checks the bounds in both modes (in training uniform_ would, naming
    # itself); the chained comparison is False for NaN too.
    if not -_INF < lower <= upper < _INF:
        _check_rrelu_bounds(lower, upper)
    try:
        if not training:
            slope = (lower + upper) / 2
            if inplace:
                _op_leaky_relu_inplace(input, slope)
                return input
            return (_op_leaky_relu if compiling else _op_leaky_relu_eager)(input, slope)
        noise = torch.empty_like(input).uniform_(lower, upper)
        if inplace:
            # The backward reads the input it saved, so that must not be the
            # tensor overwritten here.
            return input.copy_(_rrelu_with_noise(input.clone(), noise))
        return _rrelu_with_noise(input, noise)
    except (RuntimeError, TypeError):  # TypeError: empty_like's, for a non-tensor input
        _check_rrelu_arguments(input, lower, upper, training)
        raise


# ----------------------------------------------------- gated units, bias + act
# Fused ops exist for the activations of the C++ lists GatedActivations and
# BiasActivations (op_table.h); any other activation composes its unary op.


def _fused(packet: str):
    try:
        return getattr(_ops, packet).default
    except AttributeError:
        return None


# The activations a gated unit or a bias can take: every unary one.
_UNARY_NAMES = tuple(a.name for a in ACTIVATIONS if a.name != "glu")
_GATED_OPS = {name: _fused(f"{name}_glu") for name in _UNARY_NAMES}
_BIAS_OPS = {name: _fused(f"bias_{name}") for name in _UNARY_NAMES}


def _check_activation(op: str, activation) -> None:
    if activation not in _GATED_OPS:
        raise ValueError(
            f"torch_act.{op}: unknown activation {activation!r}; expected one of "
            f"{', '.join(_UNARY_NAMES)}"
        )


def _gate_and_up(op: str, input: torch.Tensor, up: Optional[torch.Tensor], dim: int):
    """(gate, up): the two arguments, or the halves of input along dim, gate first."""
    if up is not None:
        return input, up
    if not isinstance(input, torch.Tensor):
        raise TypeError(
            f"torch_act.{op}(): argument 'input' must be Tensor, not {_type_name(input)}"
        )
    if input.dim() == 0:
        raise RuntimeError(f"torch_act.{op}: a 0-dim input cannot be halved")
    size = input.shape[dim]
    if size % 2 != 0:
        raise RuntimeError(
            f"torch_act.{op}: dimension {dim} of the input (shape {tuple(input.shape)}) "
            f"must have even size, got {size}"
        )
    return input.chunk(2, dim)


def _gated(activation: str, gate, up, params: dict, inplace_grad: bool = False):
    fused = _GATED_OPS[activation]
    if fused is None:
        return globals()[activation](gate, **params) * up
    if inplace_grad and not _is_compiling():
        return _GradIntoInputs.apply(gate, up, activation, tuple(params.items()))
    return fused(gate, up, **params)


def _may_overwrite(gate: torch.Tensor, up: torch.Tensor) -> bool:
    """Whether gate and up can each take their own gradient: both results of
    the graph (never a leaf: a parameter or the caller's data), and no element
    of one is an element of the other or repeated within itself
    (conservatively: the halves of one tensor along its last dim interleave,
    and are refused)."""
    return (
        gate.grad_fn is not None
        and up.grad_fn is not None
        and torch._debug_has_internal_overlap(gate) == 0
        and torch._debug_has_internal_overlap(up) == 0
        and not torch._C._overlaps(gate, up)
    )


class _GradIntoInputs(torch.autograd.Function):
    """A gated unit whose backward writes gate's and up's gradients over gate
    and up (torch_act.<act>_glu_backward_): backward allocates nothing. Where
    that is not safe (a double backward, a leaf or an input that needs no
    gradient, overlapping gate and up) it falls back to the out-of-place
    backward."""

    @staticmethod
    def forward(gate, up, activation, params):
        return _GATED_OPS[activation](gate, up, **dict(params))

    @staticmethod
    def setup_context(ctx, inputs, output):
        gate, up, activation, params = inputs
        ctx.save_for_backward(gate, up)
        ctx.activation, ctx.params = activation, dict(params)

    @staticmethod
    def backward(ctx, grad_output):
        gate, up = ctx.saved_tensors
        packet = getattr(_ops, f"{ctx.activation}_glu_backward")
        if (
            torch.is_grad_enabled()
            or not all(ctx.needs_input_grad[:2])
            or not _may_overwrite(gate, up)
        ):
            grad_gate, grad_up = packet.default(grad_output, gate, up, **ctx.params)
            return grad_gate, grad_up, None, None
        getattr(_ops, f"{ctx.activation}_glu_backward_").default(
            grad_output, gate, up, **ctx.params
        )
        return gate, up, None, None


def glu_act(
    input: torch.Tensor,
    up: Optional[torch.Tensor] = None,
    activation: str = "silu",
    dim: int = -1,
    inplace_grad: bool = False,
    **activation_kwargs,
) -> torch.Tensor:
    """A gated unit ``f(gate) * up`` with any unary activation f (by its
    torch_act.functional name) and its hyper-parameters as keywords.

    Two tensors: ``glu_act(gate, up)``. One tensor: ``glu_act(x, dim=d)``
    splits x into halves along d, the FIRST half the gate, the second ``up``
    (the usual SwiGLU convention; ``F.glu(x)`` is ``a * sigmoid(b)``, the
    SECOND half gating). Backward keeps only gate and up and recomputes f.

    ``inplace_grad=True``: backward writes the gradients of gate and up over
    gate and up themselves (no new buffers; eager mode, fused activations).
    Aliasing rule: gate and up must not be read after backward, which now
    holds their gradients; their version counters are bumped, so anything
    else that saved them raises at its backward instead of reading
    gradients. Not applied (the usual backward runs) under create_graph,
    when gate or up is a leaf or needs no gradient, for overlapping gate and
    up (the halves of one tensor: use two projections), and under
    torch.compile, which plans buffers itself.
    """
    _check_activation("glu_act", activation)
    gate, up = _gate_and_up("glu_act", input, up, dim)
    return _gated(activation, gate, up, activation_kwargs, inplace_grad)


def bias_act(
    input: torch.Tensor, bias: torch.Tensor, activation: str = "gelu", **activation_kwargs
) -> torch.Tensor:
    """``f(input + bias)``, bias broadcast over input's last dim (a Linear's
    bias), in one pass; backward returns the bias gradient too, and keeps only
    input and bias."""
    _check_activation("bias_act", activation)
    fused = _BIAS_OPS[activation]
    if fused is not None:
        return fused(input, bias, **activation_kwargs)
    return globals()[activation](input + bias, **activation_kwargs)


# ----------------------------------------------------- spec-driven functions
# Each follows one pattern. Its ops are bound once, at import: a lookup
# through torch.ops on every call costs more than a small op. Compiled, the
# OpOverload is called (Dynamo traces it), and an in-place call is the
# out-of-place op written back with copy_, which functionalization and
# Inductor fold into the neighbours' kernel (a mutating custom op goes through
# auto_functionalized, whose clones Inductor keeps); the op reads a clone,
# since the input it saves must not be the tensor copy_ overwrites. Eagerly,
# the C++ callable is called directly, and arguments are checked only when a
# hyper-parameter is not a plain number or once the op has refused something:
# a wrong type then gets torch's TypeError naming the argument; otherwise the
# op's own error stands.

# BEGIN GENERATED by tools/generate_api.py from _spec.py: do not edit by hand.
__all__ += [
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "silu",
    "gelu",
    "celu",
    "mish",
    "softplus",
    "softsign",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "relu6",
    "logsigmoid",
    "tanhshrink",
    "softshrink",
    "hardshrink",
    "threshold",
    "glu",
    "quick_gelu",
    "squared_relu",
    "swiglu",
    "geglu",
    "reglu",
    "quick_geglu",
    "squared_reglu",
]


_op_sigmoid = _ops.sigmoid.default
_op_sigmoid_eager = _eager(_op_sigmoid)
_op_sigmoid_pack = _ops.sigmoid_pack.default
_check_sigmoid = _argument_checker_for("sigmoid")


def sigmoid(input: Tensor, *, backward_bits: Optional[int] = None) -> Tensor:
    """sigmoid: torch_act's C++ operator (the signature of torch.nn.functional.sigmoid)."""
    if backward_bits:  # (0: the unpacked op)
        return _op_sigmoid_pack(input, backward_bits)[0]
    if _is_compiling():
        return _op_sigmoid(input)
    try:
        return _op_sigmoid_eager(input)
    except RuntimeError:
        _check_sigmoid(input)
        raise


_op_tanh = _ops.tanh.default
_op_tanh_eager = _eager(_op_tanh)
_op_tanh_pack = _ops.tanh_pack.default
_check_tanh = _argument_checker_for("tanh")


def tanh(input: Tensor, *, backward_bits: Optional[int] = None) -> Tensor:
    """tanh: torch_act's C++ operator (the signature of torch.nn.functional.tanh)."""
    if backward_bits:  # (0: the unpacked op)
        return _op_tanh_pack(input, backward_bits)[0]
    if _is_compiling():
        return _op_tanh(input)
    try:
        return _op_tanh_eager(input)
    except RuntimeError:
        _check_tanh(input)
        raise


_op_relu = _ops.relu.default
_op_relu_eager = _eager(_op_relu)
_op_relu_inplace = _ops.relu_.default
_op_relu_pack = _ops.relu_pack.default
_check_relu = _argument_checker_for("relu")


def relu(input: Tensor, inplace: bool = False, *, backward_bits: Optional[int] = None) -> Tensor:
    """relu: torch_act's C++ operator (the signature of torch.nn.functional.relu)."""
    if backward_bits:  # (0: the unpacked op)
        output = _op_relu_pack(input, backward_bits)[0]
        return input.copy_(output) if inplace else output
    if _is_compiling():
        if inplace:
            return input.copy_(_op_relu(input.clone()))
        return _op_relu(input)
    try:
        if inplace:
            _op_relu_inplace(input)
            return input
        return _op_relu_eager(input)
    except RuntimeError:
        _check_relu(input)
        raise


_op_leaky_relu = _ops.leaky_relu.default
_op_leaky_relu_eager = _eager(_op_leaky_relu)
_op_leaky_relu_inplace = _ops.leaky_relu_.default
_op_leaky_relu_pack = _ops.leaky_relu_pack.default
_op_leaky_relu_pack_eager = _eager(_op_leaky_relu_pack)
_check_leaky_relu = _argument_checker_for("leaky_relu")


def leaky_relu(
    input: Tensor,
    negative_slope: float = 0.01,
    inplace: bool = False,
    *,
    backward_bits: Optional[int] = None,
) -> Tensor:
    """leaky_relu: torch_act's C++ operator (the signature of torch.nn.functional.leaky_relu)."""
    if backward_bits is None and not inplace and _packs_by_default(input):
        return _op_leaky_relu_pack_eager(input, 1, negative_slope)[0]
    if backward_bits:  # (0: the unpacked op)
        output = _op_leaky_relu_pack(input, backward_bits, negative_slope)[0]
        return input.copy_(output) if inplace else output
    if _is_compiling():
        if inplace:
            return input.copy_(_op_leaky_relu(input.clone(), negative_slope))
        return _op_leaky_relu(input, negative_slope)
    if negative_slope.__class__ not in _PLAIN_NUMBERS:
        _check_leaky_relu(input, negative_slope)
    try:
        if inplace:
            _op_leaky_relu_inplace(input, negative_slope)
            return input
        return _op_leaky_relu_eager(input, negative_slope)
    except RuntimeError:
        _check_leaky_relu(input, negative_slope)
        raise


_op_elu = _ops.elu.default
_op_elu_eager = _eager(_op_elu)
_op_elu_inplace = _ops.elu_.default
_op_elu_pack = _ops.elu_pack.default
_check_elu = _argument_checker_for("elu")


def elu(
    input: Tensor, alpha: float = 1.0, inplace: bool = False, *, backward_bits: Optional[int] = None
) -> Tensor:
    """elu: torch_act's C++ operator (the signature of torch.nn.functional.elu)."""
    if backward_bits:  # (0: the unpacked op)
        output = _op_elu_pack(input, backward_bits, alpha)[0]
        return input.copy_(output) if inplace else output
    if _is_compiling():
        if inplace:
            return input.copy_(_op_elu(input.clone(), alpha))
        return _op_elu(input, alpha)
    if alpha.__class__ not in _PLAIN_NUMBERS:
        _check_elu(input, alpha)
    try:
        if inplace:
            _op_elu_inplace(input, alpha)
            return input
        return _op_elu_eager(input, alpha)
    except RuntimeError:
        _check_elu(input, alpha)
        raise


_op_selu = _ops.selu.default
_op_selu_eager = _eager(_op_selu)
_op_selu_inplace = _ops.selu_.default
_op_selu_pack = _ops.selu_pack.default
_check_selu = _argument_checker_for("selu")


def selu(input: Tensor, inplace: bool = False, *, backward_bits: Optional[int] = None) -> Tensor:
    """selu: torch_act's C++ operator (the signature of torch.nn.functional.selu)."""
    if backward_bits:  # (0: the unpacked op)
        output = _op_selu_pack(input, backward_bits)[0]
        return input.copy_(output) if inplace else output
    if _is_compiling():
        if inplace:
            return input.copy_(_op_selu(input.clone()))
        return _op_selu(input)
    try:
        if inplace:
            _op_selu_inplace(input)
            return input
        return _op_selu_eager(input)
    except RuntimeError:
        _check_selu(input)
        raise


_op_silu = _ops.silu.default
_op_silu_eager = _eager(_op_silu)
_op_silu_inplace = _ops.silu_.default
_op_silu_pack = _ops.silu_pack.default
_check_silu = _argument_checker_for("silu")


def silu(input: Tensor, inplace: bool = False, *, backward_bits: Optional[int] = None) -> Tensor:
    """silu: torch_act's C++ operator (the signature of torch.nn.functional.silu)."""
    if backward_bits:  # (0: the unpacked op)
        output = _op_silu_pack(input, backward_bits)[0]
        return input.copy_(output) if inplace else output
    if _is_compiling():
        if inplace:
            return input.copy_(_op_silu(input.clone()))
        return _op_silu(input)
    try:
        if inplace:
            _op_silu_inplace(input)
            return input
        return _op_silu_eager(input)
    except RuntimeError:
        _check_silu(input)
        raise


_op_gelu = _ops.gelu.default
_op_gelu_eager = _eager(_op_gelu)
_op_gelu_pack = _ops.gelu_pack.default
_check_gelu = _argument_checker_for("gelu")


def gelu(
    input: Tensor, *, approximate: str = "none", backward_bits: Optional[int] = None
) -> Tensor:
    """gelu: torch_act's C++ operator (the signature of torch.nn.functional.gelu)."""
    if backward_bits:  # (0: the unpacked op)
        return _op_gelu_pack(input, backward_bits, approximate=approximate)[0]
    if _is_compiling():
        return _op_gelu(input, approximate=approximate)
    try:
        return _op_gelu_eager(input, approximate=approximate)
    except RuntimeError:
        _check_gelu(input, approximate)
        raise


_op_celu = _ops.celu.default
_op_celu_eager = _eager(_op_celu)
_op_celu_inplace = _ops.celu_.default
_op_celu_pack = _ops.celu_pack.default
_check_celu = _argument_checker_for("celu")


def celu(
    input: Tensor, alpha: float = 1.0, inplace: bool = False, *, backward_bits: Optional[int] = None
) -> Tensor:
    """celu: torch_act's C++ operator (the signature of torch.nn.functional.celu)."""
    if backward_bits:  # (0: the unpacked op)
        output = _op_celu_pack(input, backward_bits, alpha)[0]
        return input.copy_(output) if inplace else output
    if _is_compiling():
        if inplace:
            return input.copy_(_op_celu(input.clone(), alpha))
        return _op_celu(input, alpha)
    if alpha.__class__ not in _PLAIN_NUMBERS:
        _check_celu(input, alpha)
    try:
        if inplace:
            _op_celu_inplace(input, alpha)
            return input
        return _op_celu_eager(input, alpha)
    except RuntimeError:
        _check_celu(input, alpha)
        raise


_op_mish = _ops.mish.default
_op_mish_eager = _eager(_op_mish)
_op_mish_inplace = _ops.mish_.default
_op_mish_pack = _ops.mish_pack.default
_check_mish = _argument_checker_for("mish")


def mish(input: Tensor, inplace: bool = False, *, backward_bits: Optional[int] = None) -> Tensor:
    """mish: torch_act's C++ operator (the signature of torch.nn.functional.mish)."""
    if backward_bits:  # (0: the unpacked op)
        output = _op_mish_pack(input, backward_bits)[0]
        return input.copy_(output) if inplace else output
    if _is_compiling():
        if inplace:
            return input.copy_(_op_mish(input.clone()))
        return _op_mish(input)
    try:
        if inplace:
            _op_mish_inplace(input)
            return input
        return _op_mish_eager(input)
    except RuntimeError:
        _check_mish(input)
        raise


_op_softplus = _ops.softplus.default
_op_softplus_eager = _eager(_op_softplus)
_op_softplus_pack = _ops.softplus_pack.default
_check_softplus = _argument_checker_for("softplus")


def softplus(
    input: Tensor,
    beta: float = 1.0,
    threshold: float = 20.0,
    *,
    backward_bits: Optional[int] = None,
) -> Tensor:
    """softplus: torch_act's C++ operator (the signature of torch.nn.functional.softplus)."""
    if backward_bits:  # (0: the unpacked op)
        return _op_softplus_pack(input, backward_bits, beta, threshold)[0]
    if _is_compiling():
        return _op_softplus(input, beta, threshold)
    if beta.__class__ not in _PLAIN_NUMBERS or threshold.__class__ not in _PLAIN_NUMBERS:
        _check_softplus(input, beta, threshold)
    try:
        return _op_softplus_eager(input, beta, threshold)
    except RuntimeError:
        _check_softplus(input, beta, threshold)
        raise


_op_softsign = _ops.softsign.default
_op_softsign_eager = _eager(_op_softsign)
_check_softsign = _argument_checker_for("softsign")


def softsign(input: Tensor) -> Tensor:
    """softsign: torch_act's C++ operator (the signature of torch.nn.functional.softsign)."""
    if _is_compiling():
        return _op_softsign(input)
    try:
        return _op_softsign_eager(input)
    except RuntimeError:
        _check_softsign(input)
        raise


_op_hardsigmoid = _ops.hardsigmoid.default
_op_hardsigmoid_eager = _eager(_op_hardsigmoid)
_op_hardsigmoid_inplace = _ops.hardsigmoid_.default
_op_hardsigmoid_pack = _ops.hardsigmoid_pack.default
_op_hardsigmoid_pack_eager = _eager(_op_hardsigmoid_pack)
_check_hardsigmoid = _argument_checker_for("hardsigmoid")


def hardsigmoid(
    input: Tensor, inplace: bool = False, *, backward_bits: Optional[int] = None
) -> Tensor:
    """hardsigmoid: torch_act's C++ operator (the signature of torch.nn.functional.hardsigmoid)."""
    if backward_bits is None and not inplace and _packs_by_default(input):
        return _op_hardsigmoid_pack_eager(input, 1)[0]
    if backward_bits:  # (0: the unpacked op)
        output = _op_hardsigmoid_pack(input, backward_bits)[0]
        return input.copy_(output) if inplace else output
    if _is_compiling():
        if inplace:
            return input.copy_(_op_hardsigmoid(input.clone()))
        return _op_hardsigmoid(input)
    try:
        if inplace:
            _op_hardsigmoid_inplace(input)
            return input
        return _op_hardsigmoid_eager(input)
    except RuntimeError:
        _check_hardsigmoid(input)
        raise


_op_hardswish = _ops.hardswish.default
_op_hardswish_eager = _eager(_op_hardswish)
_op_hardswish_inplace = _ops.hardswish_.default
_check_hardswish = _argument_checker_for("hardswish")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """hardswish: torch_act's C++ operator (the signature of torch.nn.functional.hardswish)."""
    if _is_compiling():
        if inplace:
            return input.copy_(_op_hardswish(input.clone()))
        return _op_hardswish(input)
    try:
        if inplace:
            _op_hardswish_inplace(input)
            return input
        return _op_hardswish_eager(input)
    except RuntimeError:
        _check_hardswish(input)
        raise


_op_hardtanh = _ops.hardtanh.default
_op_hardtanh_eager = _eager(_op_hardtanh)
_op_hardtanh_inplace = _ops.hardtanh_.default
_op_hardtanh_pack = _ops.hardtanh_pack.default
_op_hardtanh_pack_eager = _eager(_op_hardtanh_pack)
_check_hardtanh = _argument_checker_for("hardtanh")


def hardtanh(
    input: Tensor,
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
    *,
    backward_bits: Optional[int] = None,
) -> Tensor:
    """hardtanh: torch_act's C++ operator (the signature of torch.nn.functional.hardtanh)."""
    if backward_bits is None and not inplace and _packs_by_default(input):
        return _op_hardtanh_pack_eager(input, 1, min_val, max_val)[0]
    if backward_bits:  # (0: the unpacked op)
        output = _op_hardtanh_pack(input, backward_bits, min_val, max_val)[0]
        return input.copy_(output) if inplace else output
    if _is_compiling():
        if inplace:
            return input.copy_(_op_hardtanh(input.clone(), min_val, max_val))
        return _op_hardtanh(input, min_val, max_val)
    if min_val.__class__ not in _PLAIN_NUMBERS or max_val.__class__ not in _PLAIN_NUMBERS:
        _check_hardtanh(input, min_val, max_val)
    try:
        if inplace:
            _op_hardtanh_inplace(input, min_val, max_val)
            return input
        return _op_hardtanh_eager(input, min_val, max_val)
    except RuntimeError:
        _check_hardtanh(input, min_val, max_val)
        raise


_op_relu6 = _ops.relu6.default
_op_relu6_eager = _eager(_op_relu6)
_op_relu6_inplace = _ops.relu6_.default
_op_relu6_pack = _ops.relu6_pack.default
_op_relu6_pack_eager = _eager(_op_relu6_pack)
_check_relu6 = _argument_checker_for("relu6")


def relu6(input: Tensor, inplace: bool = False, *, backward_bits: Optional[int] = None) -> Tensor:
    """relu6: torch_act's C++ operator (the signature of torch.nn.functional.relu6)."""
    if backward_bits is None and not inplace and _packs_by_default(input):
        return _op_relu6_pack_eager(input, 1)[0]
    if backward_bits:  # (0: the unpacked op)
        output = _op_relu6_pack(input, backward_bits)[0]
        return input.copy_(output) if inplace else output
    if _is_compiling():
        if inplace:
            return input.copy_(_op_relu6(input.clone()))
        return _op_relu6(input)
    try:
        if inplace:
            _op_relu6_inplace(input)
            return input
        return _op_relu6_eager(input)
    except RuntimeError:
        _check_relu6(input)
        raise


_op_logsigmoid = _ops.logsigmoid.default
_op_logsigmoid_eager = _eager(_op_logsigmoid)
_check_logsigmoid = _argument_checker_for("logsigmoid")


def logsigmoid(input: Tensor) -> Tensor:
    """logsigmoid: torch_act's C++ operator (the signature of torch.nn.functional.logsigmoid)."""
    if _is_compiling():
        return _op_logsigmoid(input)
    try:
        return _op_logsigmoid_eager(input)
    except RuntimeError:
        _check_logsigmoid(input)
        raise


_op_tanhshrink = _ops.tanhshrink.default
_op_tanhshrink_eager = _eager(_op_tanhshrink)
_check_tanhshrink = _argument_checker_for("tanhshrink")


def tanhshrink(input: Tensor) -> Tensor:
    """tanhshrink: torch_act's C++ operator (the signature of torch.nn.functional.tanhshrink)."""
    if _is_compiling():
        return _op_tanhshrink(input)
    try:
        return _op_tanhshrink_eager(input)
    except RuntimeError:
        _check_tanhshrink(input)
        raise


_op_softshrink = _ops.softshrink.default
_op_softshrink_eager = _eager(_op_softshrink)
_op_softshrink_pack = _ops.softshrink_pack.default
_op_softshrink_pack_eager = _eager(_op_softshrink_pack)
_check_softshrink = _argument_checker_for("softshrink")


def softshrink(input: Tensor, lambd: float = 0.5, *, backward_bits: Optional[int] = None) -> Tensor:
    """softshrink: torch_act's C++ operator (the signature of torch.nn.functional.softshrink)."""
    if backward_bits is None and _packs_by_default(input):
        return _op_softshrink_pack_eager(input, 1, lambd)[0]
    if backward_bits:  # (0: the unpacked op)
        return _op_softshrink_pack(input, backward_bits, lambd)[0]
    if _is_compiling():
        return _op_softshrink(input, lambd)
    if lambd.__class__ not in _PLAIN_NUMBERS:
        _check_softshrink(input, lambd)
    try:
        return _op_softshrink_eager(input, lambd)
    except RuntimeError:
        _check_softshrink(input, lambd)
        raise


_op_hardshrink = _ops.hardshrink.default
_op_hardshrink_eager = _eager(_op_hardshrink)
_op_hardshrink_pack = _ops.hardshrink_pack.default
_op_hardshrink_pack_eager = _eager(_op_hardshrink_pack)
_check_hardshrink = _argument_checker_for("hardshrink")


def hardshrink(input: Tensor, lambd: float = 0.5, *, backward_bits: Optional[int] = None) -> Tensor:
    """hardshrink: torch_act's C++ operator (the signature of torch.nn.functional.hardshrink)."""
    if backward_bits is None and _packs_by_default(input):
        return _op_hardshrink_pack_eager(input, 1, lambd)[0]
    if backward_bits:  # (0: the unpacked op)
        return _op_hardshrink_pack(input, backward_bits, lambd)[0]
    if _is_compiling():
        return _op_hardshrink(input, lambd)
    if lambd.__class__ not in _PLAIN_NUMBERS:
        _check_hardshrink(input, lambd)
    try:
        return _op_hardshrink_eager(input, lambd)
    except RuntimeError:
        _check_hardshrink(input, lambd)
        raise


_op_threshold = _ops.threshold.default
_op_threshold_eager = _eager(_op_threshold)
_op_threshold_inplace = _ops.threshold_.default
_op_threshold_pack = _ops.threshold_pack.default
_op_threshold_pack_eager = _eager(_op_threshold_pack)
_check_threshold = _argument_checker_for("threshold")


def threshold(
    input: Tensor,
    threshold: float,
    value: float,
    inplace: bool = False,
    *,
    backward_bits: Optional[int] = None,
) -> Tensor:
    """threshold: torch_act's C++ operator (the signature of torch.nn.functional.threshold)."""
    if backward_bits is None and not inplace and _packs_by_default(input):
        return _op_threshold_pack_eager(input, 1, threshold, value)[0]
    if backward_bits:  # (0: the unpacked op)
        output = _op_threshold_pack(input, backward_bits, threshold, value)[0]
        return input.copy_(output) if inplace else output
    if _is_compiling():
        if inplace:
            return input.copy_(_op_threshold(input.clone(), threshold, value))
        return _op_threshold(input, threshold, value)
    if threshold.__class__ not in _PLAIN_NUMBERS or value.__class__ not in _PLAIN_NUMBERS:
        _check_threshold(input, threshold, value)
    try:
        if inplace:
            _op_threshold_inplace(input, threshold, value)
            return input
        return _op_threshold_eager(input, threshold, value)
    except RuntimeError:
        _check_threshold(input, threshold, value)
        raise


_op_glu = _ops.glu.default
_op_glu_eager = _eager(_op_glu)
_check_glu = _argument_checker_for("glu")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """glu: torch_act's C++ operator (the signature of torch.nn.functional.glu)."""
    if _is_compiling():
        return _op_glu(input, dim)
    if dim.__class__ is not int:
        _check_glu(input, dim)
    try:
        return _op_glu_eager(input, dim)
    except RuntimeError:
        _check_glu(input, dim)
        raise


_op_quick_gelu = _ops.quick_gelu.default
_op_quick_gelu_eager = _eager(_op_quick_gelu)
_op_quick_gelu_pack = _ops.quick_gelu_pack.default
_check_quick_gelu = _argument_checker_for("quick_gelu")


def quick_gelu(input: Tensor, *, backward_bits: Optional[int] = None) -> Tensor:
    """quick_gelu: torch_act's C++ operator (no torch counterpart)."""
    if backward_bits:  # (0: the unpacked op)
        return _op_quick_gelu_pack(input, backward_bits)[0]
    if _is_compiling():
        return _op_quick_gelu(input)
    try:
        return _op_quick_gelu_eager(input)
    except RuntimeError:
        _check_quick_gelu(input)
        raise


_op_squared_relu = _ops.squared_relu.default
_op_squared_relu_eager = _eager(_op_squared_relu)
_check_squared_relu = _argument_checker_for("squared_relu")


def squared_relu(input: Tensor) -> Tensor:
    """squared_relu: torch_act's C++ operator (no torch counterpart)."""
    if _is_compiling():
        return _op_squared_relu(input)
    try:
        return _op_squared_relu_eager(input)
    except RuntimeError:
        _check_squared_relu(input)
        raise


def swiglu(
    input: Tensor, up: Optional[Tensor] = None, dim: int = -1, inplace_grad: bool = False
) -> Tensor:
    """swiglu: silu(gate) * up, fused (see glu_act for the two-tensor
    and split forms and inplace_grad)."""
    gate, up = _gate_and_up("swiglu", input, up, dim)
    return _gated("silu", gate, up, {}, inplace_grad)


def geglu(
    input: Tensor,
    up: Optional[Tensor] = None,
    dim: int = -1,
    inplace_grad: bool = False,
    *,
    approximate: str = "none",
) -> Tensor:
    """geglu: gelu(gate) * up, fused (see glu_act for the two-tensor
    and split forms and inplace_grad)."""
    gate, up = _gate_and_up("geglu", input, up, dim)
    return _gated("gelu", gate, up, {"approximate": approximate}, inplace_grad)


def reglu(
    input: Tensor, up: Optional[Tensor] = None, dim: int = -1, inplace_grad: bool = False
) -> Tensor:
    """reglu: relu(gate) * up, fused (see glu_act for the two-tensor
    and split forms and inplace_grad)."""
    gate, up = _gate_and_up("reglu", input, up, dim)
    return _gated("relu", gate, up, {}, inplace_grad)


def quick_geglu(
    input: Tensor, up: Optional[Tensor] = None, dim: int = -1, inplace_grad: bool = False
) -> Tensor:
    """quick_geglu: quick_gelu(gate) * up, fused (see glu_act for the two-tensor
    and split forms and inplace_grad)."""
    gate, up = _gate_and_up("quick_geglu", input, up, dim)
    return _gated("quick_gelu", gate, up, {}, inplace_grad)


def squared_reglu(
    input: Tensor, up: Optional[Tensor] = None, dim: int = -1, inplace_grad: bool = False
) -> Tensor:
    """squared_reglu: squared_relu(gate) * up, fused (see glu_act for the two-tensor
    and split forms and inplace_grad)."""
    gate, up = _gate_and_up("squared_reglu", input, up, dim)
    return _gated("squared_relu", gate, up, {}, inplace_grad)


# END GENERATED
