"""torch_act.functional: drop-in replacements for torch.nn.functional.

Every function has torch.nn.functional's signature (including ``inplace``)
and calls the C++ operator ``torch.ops.torch_act.<name>``. The wrappers of
the hyper-parameter-only activations are generated from ``_spec.ACTIVATIONS``
so each has a real signature; PReLU and Swish take a tensor and are written
out below.
"""
from __future__ import annotations

from typing import Union

import torch

from ._spec import ACTIVATIONS, Activation

_ops = torch.ops.torch_act

__all__ = [a.name for a in ACTIVATIONS]


def _render(act: Activation) -> str:
    """Source of the wrapper for one spec row."""
    positional = [f"{p.name}={p.default!r}" for p in act.params if not p.keyword_only]
    keyword = [f"{p.name}={p.default!r}" for p in act.params if p.keyword_only]
    signature = ["input", *positional]
    if keyword:
        signature += ["*", *keyword]
    if act.inplace:
        signature.append("inplace=False")
    call_args = "".join(f", {p.name}={p.name}" for p in act.params)
    lines = [f"def {act.name}({', '.join(signature)}):"]
    if act.inplace:
        lines += [
            "    if inplace:",
            f"        _inplace_op(input{call_args})",
            "        return input",
        ]
    lines.append(f"    return _op(input{call_args})")
    return "\n".join(lines)


def _generate(act: Activation):
    # The OpOverloads are bound once: looking them up through torch.ops on
    # every call costs more than the op itself on small tensors.
    namespace = {"_op": getattr(_ops, act.name).default}
    if act.inplace:
        namespace["_inplace_op"] = getattr(_ops, f"{act.name}_").default
    exec(compile(_render(act), f"<torch_act.functional.{act.name}>", "exec"), namespace)
    fn = namespace[act.name]
    fn.__module__ = __name__
    fn.__qualname__ = act.name
    fn.__doc__ = (
        f"{act.name}: torch_act's C++ operator with the signature of "
        f"torch.nn.functional.{act.name}."
    )
    return fn


for _act in ACTIVATIONS:
    if _act.learnable is None:
        globals()[_act.name] = _generate(_act)
del _act


_prelu = _ops.prelu.default
_swish_float, _swish_tensor = _ops.swish.default, _ops.swish.Tensor


def prelu(input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """PReLU: ``x`` if ``x > 0`` else ``weight * x``, one weight or one per channel (dim 1)."""
    return _prelu(input, weight)


def swish(input: torch.Tensor, beta: Union[float, torch.Tensor] = 1.0) -> torch.Tensor:
    """Swish: ``x * sigmoid(beta * x)``. A tensor ``beta`` (one value) receives a gradient."""
    if isinstance(beta, torch.Tensor):
        return _swish_tensor(input, beta)
    return _swish_float(input, beta)
