"""torch_act.functional: drop-in replacements for torch.nn.functional.

Every function has torch.nn.functional's signature (including ``inplace``)
and calls the C++ operator ``torch.ops.torch_act.<name>``. The wrappers of
the hyper-parameter-only activations are generated from ``_spec.ACTIVATIONS``
so each has a real signature; PReLU and Swish (tensor arguments) and RReLU
(training mode) are written out below.
"""
from __future__ import annotations

from typing import Union

import torch

from ._spec import ACTIVATIONS, Activation

_ops = torch.ops.torch_act

__all__ = [a.name for a in ACTIVATIONS]


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
    lines = [f"def {act.name}({', '.join(signature)}):"]
    if act.inplace:
        lines += [
            "    if inplace:",
            f"        _inplace_op(input{call_args})",
            "        return input",
        ]
    lines += [
        "    if _is_compiling():",
        f"        return _op(input{call_args})",
        f"    return _op_eager(input{call_args})",
    ]
    return "\n".join(lines)


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
    namespace = {"_op": overload, "_op_eager": _eager(overload), "_is_compiling": _is_compiling}
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
_rrelu_with_noise = _ops.rrelu_with_noise.default
_swish_float, _swish_tensor = _ops.swish.default, _ops.swish.Tensor
_swish_float_eager, _swish_tensor_eager = _eager(_swish_float), _eager(_swish_tensor)


def prelu(input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """PReLU: ``x`` if ``x > 0`` else ``weight * x``, one weight or one per channel (dim 1)."""
    if _is_compiling():
        return _prelu(input, weight)
    return _prelu_eager(input, weight)


def swish(input: torch.Tensor, beta: Union[float, torch.Tensor] = 1.0) -> torch.Tensor:
    """Swish: ``x * sigmoid(beta * x)``. A tensor ``beta`` (one value) receives a gradient."""
    compiling = _is_compiling()
    if isinstance(beta, torch.Tensor):
        return (_swish_tensor if compiling else _swish_tensor_eager)(input, beta)
    return (_swish_float if compiling else _swish_float_eager)(input, beta)


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
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace=inplace)  # noqa: F821 (generated)
    noise = torch.empty_like(input).uniform_(lower, upper)
    if inplace:
        # The backward reads the input it saved, so that must not be the
        # tensor overwritten here.
        return input.copy_(_rrelu_with_noise(input.clone(), noise))
    return _rrelu_with_noise(input, noise)
