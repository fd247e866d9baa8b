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
from ._spec import ACTIVATIONS, BY_NAME, GATED_UNITS, Activation, GatedUnit

__all__ = [a.module for a in ACTIVATIONS] + [g.module for g in GATED_UNITS] + [
    "GLUAct", "GatedMLP",
]


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


# ------------------------------------------------------------- gated units


class GLUAct(nn.Module):
    """``f(gate) * up`` for any unary activation f (torch_act.functional.glu_act).

    ``forward(x)`` splits x into halves along ``dim``, the first half the gate;
    ``forward(gate, up)`` takes them apart. Hyper-parameters of f go in as
    keywords: ``GLUAct("gelu", approximate="tanh")``."""

    def __init__(self, activation: str = "silu", dim: int = -1, **activation_kwargs) -> None:
        super().__init__()
        functional._check_activation("GLUAct", activation)
        self.activation = activation
        self.dim = dim
        self.activation_kwargs = activation_kwargs

    def forward(self, input: torch.Tensor, up: Optional[torch.Tensor] = None) -> torch.Tensor:
        return functional.glu_act(input, up, self.activation, self.dim, **self.activation_kwargs)

    def extra_repr(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.activation_kwargs.items())
        return f"activation={self.activation!r}, dim={self.dim}{extra}"


def _gated_module(unit: GatedUnit) -> type:
    params = [p.name for p in unit.params]
    fn = getattr(functional, unit.name)

    def __init__(self, dim: int = -1, **kwargs) -> None:
        nn.Module.__init__(self)
        unknown = set(kwargs) - set(params)
        if unknown:
            raise TypeError(f"torch_act.nn.{unit.module}() got an unexpected argument {unknown.pop()!r}")
        self.dim = dim
        for p in unit.params:
            setattr(self, p.name, kwargs.get(p.name, p.default))

    def forward(self, input: torch.Tensor, up: Optional[torch.Tensor] = None) -> torch.Tensor:
        return fn(input, up, self.dim, **{name: getattr(self, name) for name in params})

    def extra_repr(self) -> str:
        return ", ".join([f"dim={self.dim}"] + [f"{n}={getattr(self, n)!r}" for n in params])

    return type(
        unit.module,
        (nn.Module,),
        {
            "__init__": __init__,
            "forward": forward,
            "extra_repr": extra_repr,
            "__module__": __name__,
            "__doc__": (
                f"{unit.activation}(gate) * up (torch_act.functional.{unit.name}): "
                "forward(x) halves x along dim, gate first; forward(gate, up) takes both."
            ),
        },
    )


for _unit in GATED_UNITS:
    globals()[_unit.module] = _gated_module(_unit)
del _unit


class GatedMLP(nn.Module):
    """The gated MLP of Llama-style transformers, ``down(f(gate(x)) * up(x))``,
    with gate and up as one fused projection and the gated op fused too.

    ``gate_up_proj`` holds ``[gate; up]`` (2 * d_hidden outputs, the gate
    rows first), ``down_proj`` maps back to d_model. ``from_module`` builds
    one from a module with ``gate_proj``, ``up_proj``, ``down_proj`` and an
    activation (transformers' LlamaMLP, MistralMLP, Qwen2MLP, ...)."""

    def __init__(
        self,
        d_model: int,
        d_hidden: int,
        activation: str = "silu",
        bias: bool = False,
        device=None,
        dtype=None,
        **activation_kwargs,
    ) -> None:
        super().__init__()
        functional._check_activation("GatedMLP", activation)
        self.d_model, self.d_hidden = d_model, d_hidden
        self.activation = activation
        self.activation_kwargs = activation_kwargs
        factory = {"device": device, "dtype": dtype}
        self.gate_up_proj = nn.Linear(d_model, 2 * d_hidden, bias=bias, **factory)
        self.down_proj = nn.Linear(d_hidden, d_model, bias=bias, **factory)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = functional.glu_act(
            self.gate_up_proj(x), None, self.activation, -1, **self.activation_kwargs
        )
        return self.down_proj(hidden)

    def extra_repr(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.activation_kwargs.items())
        return (
            f"d_model={self.d_model}, d_hidden={self.d_hidden}, "
            f"activation={self.activation!r}{extra}"
        )

    @classmethod
    def from_module(cls, mlp: nn.Module, activation: Optional[str] = None) -> "GatedMLP":
        """A GatedMLP computing what ``mlp`` computes, with its weights copied.

        ``mlp`` needs ``gate_proj``, ``up_proj`` and ``down_proj`` (nn.Linear)
        and, unless ``activation`` names it, an activation module in
        ``act_fn`` (or ``activation_fn``/``act``) that torch_act.convert
        recognises (torch.nn's, transformers', timm's)."""
        try:
            gate, up, down = mlp.gate_proj, mlp.up_proj, mlp.down_proj
        except AttributeError as error:
            raise TypeError(
                f"GatedMLP.from_module: {type(mlp).__name__} has no gate_proj/up_proj/down_proj"
            ) from error
        for name, layer in (("gate_proj", gate), ("up_proj", up), ("down_proj", down)):
            if not isinstance(layer, nn.Linear):
                raise TypeError(f"GatedMLP.from_module: {name} is {type(layer).__name__}, not nn.Linear")
        if (gate.bias is None) != (up.bias is None) or (gate.bias is None) != (down.bias is None):
            raise TypeError("GatedMLP.from_module: gate_proj, up_proj and down_proj must all have a bias or none")
        if gate.weight.shape != up.weight.shape:
            raise TypeError("GatedMLP.from_module: gate_proj and up_proj have different shapes")
        kwargs: dict = {}
        if activation is None:
            activation, kwargs = _activation_of(mlp)
        weight = gate.weight
        fused = cls(
            gate.in_features, gate.out_features, activation, bias=gate.bias is not None,
            device=weight.device, dtype=weight.dtype, **kwargs,
        )
        with torch.no_grad():
            fused.gate_up_proj.weight.copy_(torch.cat([gate.weight, up.weight]))
            fused.down_proj.weight.copy_(down.weight)
            if gate.bias is not None:
                fused.gate_up_proj.bias.copy_(torch.cat([gate.bias, up.bias]))
                fused.down_proj.bias.copy_(down.bias)
        fused.train(mlp.training)
        return fused


def _activation_of(mlp: nn.Module) -> tuple[str, dict]:
    """The torch_act name and hyper-parameters of mlp's activation module."""
    from ._convert import activation_spec

    for attribute in ("act_fn", "activation_fn", "act"):
        module = getattr(mlp, attribute, None)
        if isinstance(module, nn.Module):
            found = activation_spec(module)
            if found is None:
                break
            return found
    raise TypeError(
        f"GatedMLP.from_module: no activation torch_act recognises in {type(mlp).__name__} "
        "(looked for act_fn, activation_fn, act); pass activation='...'"
    )
