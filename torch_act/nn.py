"""torch_act.nn: modules with torch.nn's names, arguments, defaults, reprs and
state_dict keys, so swapping one in is a one-line change.

Modules for the hyper-parameter-only activations are generated from
``_spec.ACTIVATIONS``; PReLU and Swish own parameters and are written out.
"""
from __future__ import annotations

import inspect
from typing import Optional

import torch
from torch import nn

from . import functional
from ._spec import ACTIVATIONS, BY_NAME, Activation

__all__ = [a.module for a in ACTIVATIONS]


class _Activation(nn.Module):
    """Base of the generated modules: stores the hyper-parameters as attributes
    (as torch.nn does); the generated forward passes them to the functional."""

    spec: Activation
    __signature__: inspect.Signature

    def __init__(self, *args, **kwargs):
        super().__init__()
        bound = self.__signature__.bind(*args, **kwargs)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            setattr(self, name, value)
        self._check_arguments()

    def _check_arguments(self) -> None:
        """The checks torch.nn's constructor makes (most make none)."""

    def extra_repr(self) -> str:
        twin = self.spec.torch_module
        if twin is not None:  # same attribute names: torch's own format, exactly
            return twin.extra_repr(self)
        # Otherwise torch.nn's usual style: numbers with str(), strings with repr().
        parts = []
        for p in self.spec.params:
            value = getattr(self, p.name)
            parts.append(f"{p.name}={value!r}" if isinstance(value, str) else f"{p.name}={value}")
        if self.spec.inplace and self.inplace:
            parts.append("inplace=True")
        return ", ".join(parts)


def _module_signature(act: Activation) -> inspect.Signature:
    params = [
        inspect.Parameter(
            p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=inspect.Parameter.empty if p.required else p.default,
        )
        for p in act.params
    ]
    if act.inplace:
        params.append(
            inspect.Parameter("inplace", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False)
        )
    return inspect.Signature(params)


def _forward(act: Activation):
    """forward(self, input) calling the functional with the module's attributes,
    written out (like torch.nn's) so a call costs no more than torch's."""
    names = [p.name for p in act.params] + (["inplace"] if act.inplace else [])
    args = "".join(f", {n}=self.{n}" for n in names)
    source = f"def forward(self, input):\n    return _functional(input{args})\n"
    namespace = {"_functional": getattr(functional, act.name)}
    exec(compile(source, f"<torch_act.nn.{act.module}.forward>", "exec"), namespace)
    return namespace["forward"]


def _check_hardtanh_range(self) -> None:
    # As torch.nn.Hardtanh, which (unlike the functional) refuses max_val == min_val.
    if self.max_val <= self.min_val:
        raise AssertionError(
            f"torch_act.nn.Hardtanh: max_val ({self.max_val}) must be greater than "
            f"min_val ({self.min_val})"
        )


_CONSTRUCTOR_CHECKS = {"Hardtanh": _check_hardtanh_range}


def _generate(act: Activation) -> type:
    cls = type(
        act.module,
        (_Activation,),
        {
            "spec": act,
            "__signature__": _module_signature(act),
            "forward": _forward(act),
            "_check_arguments": _CONSTRUCTOR_CHECKS.get(act.module, _Activation._check_arguments),
            "__module__": __name__,
            "__doc__": f"torch_act's {act.module}, a drop-in for torch.nn.{act.module}.",
        },
    )
    cls.forward.__qualname__ = f"{act.module}.forward"
    return cls


for _act in ACTIVATIONS:
    if not _act.handwritten:
        globals()[_act.module] = _generate(_act)
del _act


class RReLU(_Activation):
    """torch_act's RReLU, a drop-in for torch.nn.RReLU: random slopes while
    training, their mean in eval mode."""

    spec = BY_NAME["rrelu"]
    __signature__ = _module_signature(spec)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return functional.rrelu(input, self.lower, self.upper, self.training, self.inplace)


class PReLU(nn.Module):
    """PReLU with torch.nn.PReLU's arguments and state_dict (``weight``).

    Its weight should not be weight-decayed (He et al., 2015)."""

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None
    ) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = nn.Parameter(torch.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.constant_(self.weight, self.init)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return functional.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Swish(nn.Module):
    """Swish ``x * sigmoid(beta * x)`` (Ramachandran et al., 2017).

    With ``learnable=True``, ``beta`` is a 0-dim Parameter trained with the
    model; otherwise it is a fixed float. ``beta=1`` is SiLU."""

    def __init__(
        self, beta: float = 1.0, learnable: bool = False, device=None, dtype=None
    ) -> None:
        super().__init__()
        self.learnable = learnable
        if learnable:
            self.beta = nn.Parameter(torch.full((), float(beta), device=device, dtype=dtype))
        else:
            self.beta = float(beta)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return functional.swish(input, self.beta)

    def extra_repr(self) -> str:
        if self.learnable:
            return f"beta={self.beta.item()}, learnable=True"
        return f"beta={self.beta}"
