"""torch_act.nn: modules with torch.nn's names, arguments, defaults, reprs and
state_dict keys, so swapping one in is a one-line change.

The modules of the hyper-parameter-only activations and of the gated units
are rendered from ``_spec.py`` by ``tools/generate_api.py`` into the GENERATED
section below (plain code, checked by a test to be current); RReLU, PReLU,
Swish, GLUAct and GatedMLP are written by hand.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from . import functional
from ._spec import BY_NAME, Activation

# The generated section adds the spec-driven modules.
__all__ = ["GLUAct", "GatedMLP", "PReLU", "RReLU", "Swish"]


def _check_hardtanh_range(module: nn.Module) -> None:
    # As torch.nn.Hardtanh, which (unlike the functional) refuses max_val == min_val.
    if module.max_val <= module.min_val:
        raise AssertionError(
            f"torch_act.nn.Hardtanh: max_val ({module.max_val}) must be greater than "
            f"min_val ({module.min_val})"
        )


# The checks torch.nn's constructors make (most make none), by module name.
_CONSTRUCTOR_CHECKS = {"Hardtanh": _check_hardtanh_range}


class _Activation(nn.Module):
    """Base of the spec-driven modules: the hyper-parameters are attributes
    (as in torch.nn), ``spec`` the module's row of ``_spec.ACTIVATIONS``."""

    spec: Activation

    def _check_arguments(self) -> None:
        check = _CONSTRUCTOR_CHECKS.get(self.spec.module)
        if check is not None:
            check(self)
        bits = getattr(self, "backward_bits", None)
        if bits is not None:
            allowed = (0, 1) if self.spec.packed == "exact" else (0, 1, 2, 3, 4)
            if bits not in allowed:
                raise ValueError(
                    f"{self.spec.module}: backward_bits must be one of {allowed} or None, got {bits!r}"
                )

    def extra_repr(self) -> str:
        twin = self.spec.torch_module
        parts = []
        if twin is not None:  # same attribute names: torch's own format, exactly
            parts.append(twin.extra_repr(self))
        else:  # torch.nn's usual style: numbers with str(), strings with repr()
            for p in self.spec.params:
                value = getattr(self, p.name)
                parts.append(
                    f"{p.name}={value!r}" if isinstance(value, str) else f"{p.name}={value}"
                )
            if self.spec.inplace and self.inplace:
                parts.append("inplace=True")
        if getattr(self, "backward_bits", None) is not None:
            parts.append(f"backward_bits={self.backward_bits}")
        return ", ".join(p for p in parts if p)


class RReLU(_Activation):
    """torch_act's RReLU, a drop-in for torch.nn.RReLU: random slopes while
    training, their mean in eval mode."""

    spec = BY_NAME["rrelu"]

    def __init__(
        self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False
    ) -> None:
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

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
        self,
        beta: float = 1.0,
        learnable: bool = False,
        device=None,
        dtype=None,
        *,
        backward_bits: Optional[int] = None,
    ) -> None:
        super().__init__()
        self.learnable = learnable
        if learnable and backward_bits:
            raise ValueError("Swish: backward_bits needs a fixed beta (learnable=False)")
        if backward_bits not in (None, 0, 1, 2, 3, 4):
            raise ValueError(
                f"Swish: backward_bits must be one of (0, 1, 2, 3, 4) or None, got {backward_bits!r}"
            )
        self.backward_bits = backward_bits
        if learnable:
            self.beta = nn.Parameter(torch.full((), float(beta), device=device, dtype=dtype))
        else:
            self.beta = float(beta)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return functional.swish(input, self.beta, backward_bits=self.backward_bits)

    def extra_repr(self) -> str:
        if self.learnable:
            return f"beta={self.beta.item()}, learnable=True"
        bits = "" if self.backward_bits is None else f", backward_bits={self.backward_bits}"
        return f"beta={self.beta}{bits}"


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
    def from_module(cls, mlp: nn.Module, activation: Optional[str] = None) -> GatedMLP:
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
                raise TypeError(
                    f"GatedMLP.from_module: {name} is {type(layer).__name__}, not nn.Linear"
                )
        if (gate.bias is None) != (up.bias is None) or (gate.bias is None) != (down.bias is None):
            raise TypeError(
                "GatedMLP.from_module: gate_proj, up_proj and down_proj must all have a bias or none"
            )
        if gate.weight.shape != up.weight.shape:
            raise TypeError("GatedMLP.from_module: gate_proj and up_proj have different shapes")
        kwargs: dict = {}
        if activation is None:
            activation, kwargs = _activation_of(mlp)
        weight = gate.weight
        fused = cls(
            gate.in_features,
            gate.out_features,
            activation,
            bias=gate.bias is not None,
            device=weight.device,
            dtype=weight.dtype,
            **kwargs,
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


# BEGIN GENERATED by tools/generate_api.py from _spec.py: do not edit by hand.
__all__ += [
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "SELU",
    "SiLU",
    "GELU",
    "CELU",
    "Mish",
    "Softplus",
    "Softsign",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "ReLU6",
    "LogSigmoid",
    "Tanhshrink",
    "Softshrink",
    "Hardshrink",
    "Threshold",
    "GLU",
    "QuickGELU",
    "SquaredReLU",
    "SwiGLU",
    "GEGLU",
    "ReGLU",
    "QuickGEGLU",
    "SquaredReGLU",
]


class Sigmoid(_Activation):
    """torch_act's Sigmoid, a drop-in for torch.nn.Sigmoid."""

    spec = BY_NAME["sigmoid"]

    def __init__(self, *, backward_bits: Optional[int] = None) -> None:
        super().__init__()
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.sigmoid(input, backward_bits=self.backward_bits)


class Tanh(_Activation):
    """torch_act's Tanh, a drop-in for torch.nn.Tanh."""

    spec = BY_NAME["tanh"]

    def __init__(self, *, backward_bits: Optional[int] = None) -> None:
        super().__init__()
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.tanh(input, backward_bits=self.backward_bits)


class ReLU(_Activation):
    """torch_act's ReLU, a drop-in for torch.nn.ReLU."""

    spec = BY_NAME["relu"]

    def __init__(self, inplace: bool = False, *, backward_bits: Optional[int] = None) -> None:
        super().__init__()
        self.inplace = inplace
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.relu(input, self.inplace, backward_bits=self.backward_bits)


class LeakyReLU(_Activation):
    """torch_act's LeakyReLU, a drop-in for torch.nn.LeakyReLU."""

    spec = BY_NAME["leaky_relu"]

    def __init__(
        self,
        negative_slope: float = 0.01,
        inplace: bool = False,
        *,
        backward_bits: Optional[int] = None,
    ) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.leaky_relu(
            input, self.negative_slope, self.inplace, backward_bits=self.backward_bits
        )


class ELU(_Activation):
    """torch_act's ELU, a drop-in for torch.nn.ELU."""

    spec = BY_NAME["elu"]

    def __init__(
        self, alpha: float = 1.0, inplace: bool = False, *, backward_bits: Optional[int] = None
    ) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.elu(input, self.alpha, self.inplace, backward_bits=self.backward_bits)


class SELU(_Activation):
    """torch_act's SELU, a drop-in for torch.nn.SELU."""

    spec = BY_NAME["selu"]

    def __init__(self, inplace: bool = False, *, backward_bits: Optional[int] = None) -> None:
        super().__init__()
        self.inplace = inplace
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.selu(input, self.inplace, backward_bits=self.backward_bits)


class SiLU(_Activation):
    """torch_act's SiLU, a drop-in for torch.nn.SiLU."""

    spec = BY_NAME["silu"]

    def __init__(self, inplace: bool = False, *, backward_bits: Optional[int] = None) -> None:
        super().__init__()
        self.inplace = inplace
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.silu(input, self.inplace, backward_bits=self.backward_bits)


class GELU(_Activation):
    """torch_act's GELU, a drop-in for torch.nn.GELU."""

    spec = BY_NAME["gelu"]

    def __init__(self, *, approximate: str = "none", backward_bits: Optional[int] = None) -> None:
        super().__init__()
        self.approximate = approximate
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.gelu(
            input, approximate=self.approximate, backward_bits=self.backward_bits
        )


class CELU(_Activation):
    """torch_act's CELU, a drop-in for torch.nn.CELU."""

    spec = BY_NAME["celu"]

    def __init__(
        self, alpha: float = 1.0, inplace: bool = False, *, backward_bits: Optional[int] = None
    ) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.celu(input, self.alpha, self.inplace, backward_bits=self.backward_bits)


class Mish(_Activation):
    """torch_act's Mish, a drop-in for torch.nn.Mish."""

    spec = BY_NAME["mish"]

    def __init__(self, inplace: bool = False, *, backward_bits: Optional[int] = None) -> None:
        super().__init__()
        self.inplace = inplace
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.mish(input, self.inplace, backward_bits=self.backward_bits)


class Softplus(_Activation):
    """torch_act's Softplus, a drop-in for torch.nn.Softplus."""

    spec = BY_NAME["softplus"]

    def __init__(
        self, beta: float = 1.0, threshold: float = 20.0, *, backward_bits: Optional[int] = None
    ) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.softplus(
            input, self.beta, self.threshold, backward_bits=self.backward_bits
        )


class Softsign(_Activation):
    """torch_act's Softsign, a drop-in for torch.nn.Softsign."""

    spec = BY_NAME["softsign"]

    def forward(self, input: Tensor) -> Tensor:
        return functional.softsign(input)


class Hardsigmoid(_Activation):
    """torch_act's Hardsigmoid, a drop-in for torch.nn.Hardsigmoid."""

    spec = BY_NAME["hardsigmoid"]

    def __init__(self, inplace: bool = False, *, backward_bits: Optional[int] = None) -> None:
        super().__init__()
        self.inplace = inplace
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.hardsigmoid(input, self.inplace, backward_bits=self.backward_bits)


class Hardswish(_Activation):
    """torch_act's Hardswish, a drop-in for torch.nn.Hardswish."""

    spec = BY_NAME["hardswish"]

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.hardswish(input, self.inplace)


class Hardtanh(_Activation):
    """torch_act's Hardtanh, a drop-in for torch.nn.Hardtanh."""

    spec = BY_NAME["hardtanh"]

    def __init__(
        self,
        min_val: float = -1.0,
        max_val: float = 1.0,
        inplace: bool = False,
        *,
        backward_bits: Optional[int] = None,
    ) -> None:
        super().__init__()
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.hardtanh(
            input, self.min_val, self.max_val, self.inplace, backward_bits=self.backward_bits
        )


class ReLU6(_Activation):
    """torch_act's ReLU6, a drop-in for torch.nn.ReLU6."""

    spec = BY_NAME["relu6"]

    def __init__(self, inplace: bool = False, *, backward_bits: Optional[int] = None) -> None:
        super().__init__()
        self.inplace = inplace
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.relu6(input, self.inplace, backward_bits=self.backward_bits)


class LogSigmoid(_Activation):
    """torch_act's LogSigmoid, a drop-in for torch.nn.LogSigmoid."""

    spec = BY_NAME["logsigmoid"]

    def forward(self, input: Tensor) -> Tensor:
        return functional.logsigmoid(input)


class Tanhshrink(_Activation):
    """torch_act's Tanhshrink, a drop-in for torch.nn.Tanhshrink."""

    spec = BY_NAME["tanhshrink"]

    def forward(self, input: Tensor) -> Tensor:
        return functional.tanhshrink(input)


class Softshrink(_Activation):
    """torch_act's Softshrink, a drop-in for torch.nn.Softshrink."""

    spec = BY_NAME["softshrink"]

    def __init__(self, lambd: float = 0.5, *, backward_bits: Optional[int] = None) -> None:
        super().__init__()
        self.lambd = lambd
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.softshrink(input, self.lambd, backward_bits=self.backward_bits)


class Hardshrink(_Activation):
    """torch_act's Hardshrink, a drop-in for torch.nn.Hardshrink."""

    spec = BY_NAME["hardshrink"]

    def __init__(self, lambd: float = 0.5, *, backward_bits: Optional[int] = None) -> None:
        super().__init__()
        self.lambd = lambd
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.hardshrink(input, self.lambd, backward_bits=self.backward_bits)


class Threshold(_Activation):
    """torch_act's Threshold, a drop-in for torch.nn.Threshold."""

    spec = BY_NAME["threshold"]

    def __init__(
        self,
        threshold: float,
        value: float,
        inplace: bool = False,
        *,
        backward_bits: Optional[int] = None,
    ) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.threshold(
            input, self.threshold, self.value, self.inplace, backward_bits=self.backward_bits
        )


class GLU(_Activation):
    """torch_act's GLU, a drop-in for torch.nn.GLU."""

    spec = BY_NAME["glu"]

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.glu(input, self.dim)


class QuickGELU(_Activation):
    """torch_act's QuickGELU, a drop-in for torch.nn.QuickGELU."""

    spec = BY_NAME["quick_gelu"]

    def __init__(self, *, backward_bits: Optional[int] = None) -> None:
        super().__init__()
        self.backward_bits = backward_bits
        self._check_arguments()

    def forward(self, input: Tensor) -> Tensor:
        return functional.quick_gelu(input, backward_bits=self.backward_bits)


class SquaredReLU(_Activation):
    """torch_act's SquaredReLU, a drop-in for torch.nn.SquaredReLU."""

    spec = BY_NAME["squared_relu"]

    def forward(self, input: Tensor) -> Tensor:
        return functional.squared_relu(input)


class SwiGLU(nn.Module):
    """silu(gate) * up (torch_act.functional.swiglu): forward(x) halves x
    along dim, gate first; forward(gate, up) takes both."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor, up: Optional[Tensor] = None) -> Tensor:
        return functional.swiglu(input, up, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GEGLU(nn.Module):
    """gelu(gate) * up (torch_act.functional.geglu): forward(x) halves x
    along dim, gate first; forward(gate, up) takes both."""

    def __init__(self, dim: int = -1, *, approximate: str = "none") -> None:
        super().__init__()
        self.dim = dim
        self.approximate = approximate

    def forward(self, input: Tensor, up: Optional[Tensor] = None) -> Tensor:
        return functional.geglu(input, up, self.dim, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, approximate={self.approximate!r}"


class ReGLU(nn.Module):
    """relu(gate) * up (torch_act.functional.reglu): forward(x) halves x
    along dim, gate first; forward(gate, up) takes both."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor, up: Optional[Tensor] = None) -> Tensor:
        return functional.reglu(input, up, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class QuickGEGLU(nn.Module):
    """quick_gelu(gate) * up (torch_act.functional.quick_geglu): forward(x) halves x
    along dim, gate first; forward(gate, up) takes both."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor, up: Optional[Tensor] = None) -> Tensor:
        return functional.quick_geglu(input, up, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class SquaredReGLU(nn.Module):
    """squared_relu(gate) * up (torch_act.functional.squared_reglu): forward(x) halves x
    along dim, gate first; forward(gate, up) takes both."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor, up: Optional[Tensor] = None) -> Tensor:
        return functional.squared_reglu(input, up, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# END GENERATED
