"""torch_act.functional: drop-in replacements for torch.nn.functional.

Every function has torch.nn.functional's signature (including ``inplace``)
and calls the C++ operator ``torch.ops.torch_act.<name>``. The wrappers of
the hyper-parameter-only activations are generated from ``_spec.ACTIVATIONS``
so each has a real signature; PReLU and Swish (tensor arguments) and RReLU
(training mode) are written out below.

Arguments are refused as torch.nn.functional refuses them, with its exception
types: a type torch's argument parser refuses raises TypeError naming
``torch_act.<name>`` and the argument. The checks run only once the op has
failed, or for a hyper-parameter that is not a plain float or int (a tensor,
say), so a usual call costs what it did without them.
"""
from __future__ import annotations

import functools
import inspect
import math
import numbers
import sys
from typing import Optional, Union

import torch

from ._spec import ACTIVATIONS, GATED_UNITS, Activation, GatedUnit

_ops = torch.ops.torch_act

__all__ = [a.name for a in ACTIVATIONS] + [g.name for g in GATED_UNITS] + ["glu_act", "bias_act"]


def _render(act: Activation) -> str:
    """Source of the wrapper for one spec row."""
    def declare(p):
        return p.name if p.required else f"{p.name}={p.default!r}"

    positional = [declare(p) for p in act.params if not p.keyword_only]
    keyword = [declare(p) for p in act.params if p.keyword_only]
    signature = ["input", *positional]
    if keyword:
        signature += ["*", *keyword]
    if act.inplace:
        signature.append("inplace=False")
    # Positional where the schema allows: torch.ops parses those faster.
    call_args = "".join(
        f", {p.name}={p.name}" if p.keyword_only else f", {p.name}" for p in act.params
    )
    values = "".join(f", {p.name}" for p in act.params)

    def call(op, indent):
        if not act.inplace:
            return [f"{indent}return {op}(input{call_args})"]
        return [
            f"{indent}if inplace:",
            f"{indent}    _inplace_op(input{call_args})",
            f"{indent}    return input",
            f"{indent}return {op}(input{call_args})",
        ]

    lines = [f"def {act.name}({', '.join(signature)}):"]
    lines += ["    if _is_compiling():"]
    if act.inplace:
        # Compiled, an in-place call is the out-of-place op written back with
        # copy_, which functionalization and Inductor fold into the neighbours'
        # kernel; a mutating custom op goes through auto_functionalized, whose
        # clones Inductor keeps (3 more kernels in a ResNet block's forward).
        # The op reads a clone: the input it saves must not be the tensor
        # that copy_ overwrites.
        lines += [
            "        if inplace:",
            f"            return input.copy_(_op(input.clone(){call_args}))",
        ]
    lines += [f"        return _op(input{call_args})"]
    # A Python float or int is what torch takes; anything else (a tensor, a
    # NumPy scalar, a bool for an int) is checked here: the op would take a
    # one-element tensor that torch refuses, e.g. one that requires grad.
    guards = [
        f"{p.name}.__class__ {_GUARDS[kind]}"
        for p, kind in zip(act.params, _kinds(act)[1:])
        if kind in _GUARDS
    ]
    if guards:
        lines += [f"    if {' or '.join(guards)}:", f"        _check_arguments(input{values})"]
    lines += [
        "    try:",
        *call("_op_eager", "        "),
        "    except RuntimeError:",
        "        # Only once the op refused something: a wrong type gets torch's",
        "        # TypeError naming the argument; otherwise the op's error stands.",
        f"        _check_arguments(input{values})",
        "        raise",
    ]
    return "\n".join(lines)


# The parameter kinds of torch's argument parser, from our ops' schema types.
_SCHEMA_KINDS = {"Tensor": "Tensor", "float": "Number", "int": "int", "str": "str"}
# The fast path's guard, per kind: true for anything but the plain types, on
# which torch's parser and our ops' agree.
_PLAIN_NUMBERS = frozenset((float, int, bool))
_GUARDS = {"Number": "not in _PLAIN_NUMBERS", "int": "is not int"}


def _kinds(act: Activation) -> list[str]:
    """The parser kind of the input and each hyper-parameter of a generated wrapper."""
    schema = {a.name: str(a.type) for a in getattr(_ops, act.name).default._schema.arguments}
    return ["Tensor"] + [_SCHEMA_KINDS[schema[p.name]] for p in act.params]


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


def _generated_arguments(act: Activation):
    positions = [None if p.keyword_only else i + 2 for i, p in enumerate(act.params)]
    names = ["input"] + [p.name for p in act.params]
    return list(zip(names, _kinds(act), [1] + positions))


def _eager(overload):
    """The C++ callable behind an OpOverload. OpOverload.__call__ only forwards
    to it, through a Python frame that costs a fifth of a small op's time.
    Dynamo traces OpOverloads, not this, so compiled code calls the overload."""
    return overload._op


_is_compiling = torch.compiler.is_compiling


def _generate(act: Activation):
    # The OpOverloads are bound once: looking them up through torch.ops on
    # every call costs more than the op itself on small tensors.
    overload = getattr(_ops, act.name).default
    namespace = {
        "_op": overload,
        "_op_eager": _eager(overload),
        "_is_compiling": _is_compiling,
        "_check_arguments": _argument_checker(act.name, _generated_arguments(act)),
        "_PLAIN_NUMBERS": _PLAIN_NUMBERS,
    }
    if act.inplace:
        namespace["_inplace_op"] = getattr(_ops, f"{act.name}_").default
    exec(compile(_render(act), f"<torch_act.functional.{act.name}>", "exec"), namespace)
    fn = namespace[act.name]
    fn.__module__ = __name__
    fn.__qualname__ = act.name
    twin = (
        f"the signature of torch.nn.functional.{act.name}"
        if act.torch_module is not None
        else "no torch counterpart"
    )
    fn.__doc__ = f"{act.name}: torch_act's C++ operator ({twin})."
    return fn


for _act in ACTIVATIONS:
    if not _act.handwritten:
        globals()[_act.name] = _generate(_act)
del _act


_prelu = _ops.prelu.default
_prelu_eager = _eager(_prelu)
_check_prelu_arguments = _argument_checker(
    "prelu", [("input", "Tensor", 1), ("weight", "Tensor", 2)]
)
_rrelu_with_noise = _ops.rrelu_with_noise.default
_leaky_relu, _leaky_relu_ = _ops.leaky_relu.default, _ops.leaky_relu_.default
_leaky_relu_eager = _eager(_leaky_relu)
_check_rrelu_arguments = _argument_checker(
    "rrelu",
    [
        ("input", "Tensor", 1), ("lower", "Number", 2), ("upper", "Number", 3),
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


def swish(input: torch.Tensor, beta: Union[float, torch.Tensor] = 1.0) -> torch.Tensor:
    """Swish: ``x * sigmoid(beta * x)``. A tensor ``beta`` (one value) receives a gradient."""
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
                _leaky_relu_(input, slope)
                return input
            return (_leaky_relu if compiling else _leaky_relu_eager)(input, slope)
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
        raise TypeError(f"torch_act.{op}(): argument 'input' must be Tensor, not {_type_name(input)}")
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
        if torch.is_grad_enabled() or not all(ctx.needs_input_grad[:2]) or not _may_overwrite(gate, up):
            grad_gate, grad_up = packet.default(grad_output, gate, up, **ctx.params)
            return grad_gate, grad_up, None, None
        getattr(_ops, f"{ctx.activation}_glu_backward_").default(grad_output, gate, up, **ctx.params)
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


def _gated_unit(unit: GatedUnit):
    defaults = {p.name: p.default for p in unit.params}

    def gated(input, up=None, dim=-1, inplace_grad=False, **params):
        for name in params:
            if name not in defaults:
                raise TypeError(f"torch_act.{unit.name}() got an unexpected keyword argument {name!r}")
        gate, up = _gate_and_up(unit.name, input, up, dim)
        return _gated(unit.activation, gate, up, {**defaults, **params}, inplace_grad)

    P = inspect.Parameter
    gated.__signature__ = inspect.Signature(
        [
            P("input", P.POSITIONAL_OR_KEYWORD),
            P("up", P.POSITIONAL_OR_KEYWORD, default=None),
            P("dim", P.POSITIONAL_OR_KEYWORD, default=-1),
            P("inplace_grad", P.POSITIONAL_OR_KEYWORD, default=False),
            *(P(p.name, P.KEYWORD_ONLY, default=p.default) for p in unit.params),
        ]
    )
    gated.__name__ = gated.__qualname__ = unit.name
    gated.__module__ = __name__
    gated.__doc__ = (
        f"{unit.name}: {unit.activation}(gate) * up, fused (see glu_act for the "
        "two-tensor and split forms and inplace_grad)."
    )
    return gated


for _unit in GATED_UNITS:
    globals()[_unit.name] = _gated_unit(_unit)
del _unit


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
