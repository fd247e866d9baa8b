"""Swap a model's activation modules for torch_act's (and back), and build
torch_act activations by name.

``convert(model)`` walks the module tree and replaces every activation module
whose math torch_act has: torch.nn's classes (a row of ``_spec.ACTIVATIONS``),
transformers' (``transformers.activations``: what its ``ACT2FN`` builds) and
timm's (``timm.layers.activations*``), each by torch_act's module of the same
configuration; ``convert(model, to="torch")`` takes torch_act's modules back to
torch.nn. transformers and timm are recognised by their classes' module and
name, never imported. Activation modules that cannot be swapped are left in
place with a reason (``ConvertReport``); ``strict=True`` makes that an error.
Activations called as functions in a ``forward`` (``F.gelu(x)``) are code, not
modules: ``torch_act.patch()`` routes those. Forward/backward hooks registered
on a replaced activation module are not carried over.

``get_activation("gelu_tanh")`` builds a module from a name, e.g. from a config file.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

import torch.nn.functional as F
from torch import nn

from . import nn as _tnn
from ._spec import ACTIVATIONS, BY_NAME, Activation

__all__ = ["convert", "ConvertReport", "get_activation", "list_activations"]

_log = logging.getLogger(__name__)

# Constructor arguments of modules with a learnable weight, which the spec's
# params do not describe; read from the module being replaced.
_LEARNABLE_INIT_ARGS = {"PReLU": ("num_parameters", "init")}

# Extra names: alias -> (row name or module name, constructor kwargs). An alias
# is offered only while its target is a row of the table.
ALIASES = {
    "gelu_tanh": ("gelu", {"approximate": "tanh"}),
}


@dataclass
class ConvertReport:
    """What one ``convert`` call did. ``swapped``: class -> modules replaced
    (classes named as ``torch.nn.GELU``, ``transformers.NewGELUActivation``,
    ``timm.GELUTanh``, ``torch_act.nn.GELU``); ``left``: (module path, class,
    reason) for each activation module kept (path "" is the model itself)."""

    swapped: dict[str, int] = field(default_factory=dict)
    left: list[tuple[str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line: the counts, and the first few modules left."""
        total = sum(self.swapped.values())
        counts = ", ".join(f"{name}: {n}" for name, n in sorted(self.swapped.items()))
        line = f"swapped {total}" + (f" ({counts})" if counts else "")
        line += f"; left {len(self.left)}"
        if self.left:
            shown = [f"{path or '<model>'} ({cls})" for path, cls, _ in self.left[:3]]
            more = f", +{len(self.left) - 3} more" if len(self.left) > 3 else ""
            line += f" ({', '.join(shown)}{more})"
        return line

    def __str__(self) -> str:
        return self.summary()


def _pairs() -> list[tuple[type, type, Activation]]:
    """(torch.nn class, torch_act.nn class, row) for each row that has both."""
    pairs = []
    for act in ACTIVATIONS:
        ours = getattr(_tnn, act.module, None)
        if act.torch_module is None or ours is None:
            continue
        if act.learnable is not None and act.module not in _LEARNABLE_INIT_ARGS:
            continue  # a learnable module whose arguments we do not know
        pairs.append((act.torch_module, ours, act))
    return pairs


def _init_args(module: nn.Module, act: Activation) -> dict:
    names = list(_LEARNABLE_INIT_ARGS.get(act.module, ()))
    names += [p.name for p in act.params]
    if act.inplace:
        names.append("inplace")
    return {name: getattr(module, name) for name in names}


def _rebuild(module: nn.Module, cls: type, act: Activation) -> nn.Module:
    new = cls(**_init_args(module, act))
    # The same Parameter objects (PReLU's weight), so optimizers holding them
    # keep working and requires_grad is kept.
    for name, param in module.named_parameters(recurse=False):
        setattr(new, name, param)
    return new


# --- transformers and timm ---------------------------------------------------
# Each builder takes the module and returns torch_act's module with the same
# math, or a string saying why it cannot (None: not an activation at all).
# Mapped only where the formula is the same up to float rounding.
_Builder = Callable[[nn.Module], Union[nn.Module, str, None]]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _gelu(**kwargs) -> _Builder:
    return lambda module: _tnn.GELU(**kwargs)


def _make(cls_name: str, *flags: str) -> _Builder:
    """torch_act.nn.<cls_name>, with the named attributes of the module (its
    ``inplace`` flag) where the module has them."""

    def build(module):
        kwargs = {f: getattr(module, f) for f in flags if hasattr(module, f)}
        return getattr(_tnn, cls_name)(**kwargs)

    return build


def _unsupported(formula: str) -> _Builder:
    return lambda module: f"{formula}: torch_act has no such activation"


def _is_own_method(module: nn.Module, fn, name: str) -> bool:
    return getattr(fn, "__self__", None) is module and getattr(fn, "__name__", None) == name


def _by_act(expected: Callable[[object], bool], python_method: str, target: _Builder) -> _Builder:
    """transformers' classes that pick their function in __init__ and keep it
    as ``self.act`` (GELUActivation's use_gelu_python, GELUTanh's
    use_gelu_tanh_python, Mish): torch's function or the class's own Python
    formula of the same math map; anything else put there is left. A version
    without ``act`` computes the formula in forward itself."""

    def build(module):
        if not hasattr(module, "act"):
            return target(module)
        act = module.act
        if expected(act) or _is_own_method(module, act, python_method):
            return target(module)
        return f"its act is {act!r}, not the function convert knows for this class"

    return build


def _is_gelu_tanh_partial(fn) -> bool:
    return (
        isinstance(fn, functools.partial)
        and fn.func is F.gelu
        and not fn.args
        and fn.keywords == {"approximate": "tanh"}
    )


def _accurate_gelu(module):
    # 0.5 x (1 + tanh(c (x + 0.044715 x^3))): GELU's tanh form while c is sqrt(2 / pi).
    constant = getattr(module, "precomputed_constant", _SQRT_2_OVER_PI)
    if abs(constant - _SQRT_2_OVER_PI) < 1e-12:
        return _tnn.GELU(approximate="tanh")
    return f"precomputed_constant is {constant}, not sqrt(2 / pi)"


def _clipped_gelu(module):
    return (
        f"GELU clipped to [{getattr(module, 'min', '?')}, {getattr(module, 'max', '?')}]: "
        "torch_act has no clipped GELU"
    )


_GELU_TANH = _by_act(_is_gelu_tanh_partial, "_gelu_tanh_python", _gelu(approximate="tanh"))
_TRANSFORMERS: dict[str, _Builder] = {
    "GELUActivation": _by_act(lambda fn: fn is F.gelu, "_gelu_python", _gelu()),
    "GELUTanh": _GELU_TANH,
    "PytorchGELUTanh": _GELU_TANH,  # its former name (now an alias)
    "NewGELUActivation": _gelu(approximate="tanh"),
    # x * 0.7978845608 * (1 + 0.044715 x^2) is the tanh form's argument
    # rearranged; the constant is sqrt(2 / pi) to 3.6e-12 (relative).
    "FastGELUActivation": _gelu(approximate="tanh"),
    "AccurateGELUActivation": _accurate_gelu,
    "QuickGELUActivation": _make("QuickGELU"),
    "SiLUActivation": _make("SiLU"),
    "MishActivation": _by_act(lambda fn: fn is F.mish, "_mish_python", _make("Mish")),
    "ReLUSquaredActivation": _make("SquaredReLU"),
    "ClippedGELUActivation": _clipped_gelu,
    "LaplaceActivation": _unsupported("0.5 (1 + erf((x - mu) / (sigma sqrt 2))) (Laplace)"),
    "SqrtSoftplusActivation": _unsupported("sqrt(softplus(x))"),
    "XIELUActivation": _unsupported("xIELU, with learnable alpha_p and alpha_n"),
    "LinearActivation": lambda module: None,  # the identity
}

_HARD_MISH = _unsupported("0.5 x clamp(x + 2, 0, 2) (hard Mish)")
# timm's classes take an `inplace` argument; Swish, HardSwish and HardSigmoid
# honour it (so does torch_act's module), the others ignore it. Sigmoid and
# Tanh honour it too but torch_act has no in-place form: the replacement
# returns the same values without overwriting its input.
_TIMM: dict[str, _Builder] = {
    "Swish": _make("SiLU", "inplace"),
    "SwishMe": _make("SiLU"),
    "SwishJit": _make("SiLU"),
    "Mish": _make("Mish"),
    "MishMe": _make("Mish"),
    "MishJit": _make("Mish"),
    "HardSwish": _make("Hardswish", "inplace"),
    "HardSwishMe": _make("Hardswish"),
    "HardSwishJit": _make("Hardswish"),
    "HardSigmoid": _make("Hardsigmoid", "inplace"),
    "HardSigmoidMe": _make("Hardsigmoid"),
    "HardSigmoidJit": _make("Hardsigmoid"),
    "HardMish": _HARD_MISH,
    "HardMishMe": _HARD_MISH,
    "HardMishJit": _HARD_MISH,
    "Sigmoid": _make("Sigmoid"),
    "Tanh": _make("Tanh"),
    "GELU": _gelu(),
    "GELUTanh": _gelu(approximate="tanh"),
    "QuickGELU": _make("QuickGELU"),
    "PReLU": lambda module: _rebuild(module, _tnn.PReLU, BY_NAME["prelu"]),
}

_TRANSFORMERS_MODULE = "transformers.activations"
# timm.models.layers before timm 0.9; activations_me and activations_jit too.
_TIMM_MODULES = ("timm.layers.activations", "timm.models.layers.activations")


def _unknown(library: str) -> _Builder:
    return lambda module: f"a {library} activation convert does not know"


def _foreign_builder(cls: type) -> Optional[_Builder]:
    """The builder for a transformers or timm activation class; any other class
    of those modules is an activation too, one added after this table."""
    if cls.__module__ == _TRANSFORMERS_MODULE:
        return _TRANSFORMERS.get(cls.__qualname__, _unknown("transformers"))
    if cls.__module__.startswith(_TIMM_MODULES):
        return _TIMM.get(cls.__qualname__, _unknown("timm"))
    return None


def _label(cls: type) -> str:
    """A class's name in reports: where it comes from, then its name."""
    module = cls.__module__
    if module.startswith("torch.nn.") or module == "torch.nn":
        return f"torch.nn.{cls.__qualname__}"
    if module == _tnn.__name__:
        return f"torch_act.nn.{cls.__qualname__}"
    for library in ("transformers", "timm"):
        if module.split(".")[0] == library:
            return f"{library}.{cls.__qualname__}"
    return f"{module}.{cls.__qualname__}"


def _known_names() -> frozenset:
    """Lower-cased class names of every activation convert knows, for spotting
    a look-alike it does not (a model's own `class GELU(nn.Module)`)."""
    names = {a.module for a in ACTIVATIONS} | set(_TRANSFORMERS) | set(_TIMM)
    names.discard("LinearActivation")
    return frozenset(n.lower() for n in names)


def _classifier(to: str) -> Callable[[nn.Module], Union[nn.Module, str, None]]:
    """module -> its replacement, a reason it stays, or None (not an activation)."""
    pairs = _pairs()
    if to == "torch":
        table = {ours: (theirs, act) for theirs, ours, act in pairs}
        ours_only = {
            getattr(_tnn, a.module)
            for a in ACTIVATIONS
            if hasattr(_tnn, a.module) and getattr(_tnn, a.module) not in table
        }

        def classify(module):
            cls = type(module)
            if cls in table:
                return _rebuild(module, *table[cls])
            if cls in ours_only:
                return "no torch.nn counterpart"
            return None

        return classify

    table = {theirs: (ours, act) for theirs, ours, act in pairs}
    torch_classes = tuple(table)
    ours = {getattr(_tnn, a.module) for a in ACTIVATIONS if hasattr(_tnn, a.module)}
    known_names = _known_names()

    def classify(module):
        cls = type(module)
        if cls in table:
            return _rebuild(module, *table[cls])
        builder = _foreign_builder(cls)
        if builder is not None:
            return builder(module)
        if isinstance(module, torch_classes):
            base = next(c for c in cls.__mro__ if c in table)
            return f"a subclass of torch.nn.{base.__name__}, whose forward may differ"
        # Only leaf modules: a container named like one (a GLU block of
        # Linear layers) is walked into instead.
        if cls.__name__.lower() in known_names and cls not in ours and not module._modules:
            return "named like an activation convert knows, but not that class"
        return None

    return classify


def activation_spec(module: nn.Module) -> Optional[tuple[str, dict]]:
    """(torch_act.functional name, hyper-parameters) of an activation module
    convert recognises (torch_act's, torch.nn's, transformers', timm's), else None."""
    ours = module if type(module).__module__ == _tnn.__name__ else _classifier("torch_act")(module)
    if isinstance(ours, _tnn.Swish) and not ours.learnable:
        return "swish", {"beta": ours.beta}
    spec = getattr(ours, "spec", None)
    if not isinstance(ours, nn.Module) or spec is None or spec.handwritten:
        return None
    return spec.name, {p.name: getattr(ours, p.name) for p in spec.params}


def _gated_mlp_builder(module: nn.Module) -> Union[nn.Module, str, None]:
    """A GatedMLP for a Llama-style MLP block, the reason it stays, or None."""
    if not all(
        isinstance(getattr(module, n, None), nn.Linear)
        for n in ("gate_proj", "up_proj", "down_proj")
    ):
        return None
    try:
        return _tnn.GatedMLP.from_module(module)
    except TypeError as error:
        return f"gated MLP not fused: {error}"


def convert(
    model: nn.Module,
    to: str = "torch_act",
    strict: bool = False,
    report: bool = False,
    gated_mlp: bool = False,
) -> Union[nn.Module, tuple[nn.Module, ConvertReport]]:
    """Replace, in place and recursively, each activation module of ``model``
    by torch_act's module of the same math and configuration: torch.nn's,
    transformers' and timm's with ``to="torch_act"``; torch_act's back to
    torch.nn with ``to="torch"``.

    Activation modules that stay (a subclass of a torch.nn activation, whose
    forward may differ; transformers' ClippedGELUActivation; torch_act's Swish
    going to torch) are listed with a reason in the report; ``strict=True``
    raises ValueError naming them, before changing anything. A module shared
    by several parents gets one shared replacement. A one-line summary is
    logged at INFO level (logger "torch_act").

    ``gated_mlp=True`` also replaces each Llama-style MLP block (a module
    with ``gate_proj``, ``up_proj`` and ``down_proj`` Linear layers and an
    activation, as transformers' LlamaMLP) by ``torch_act.nn.GatedMLP``: one
    gate+up projection and the fused gated op. Its state_dict keys differ
    (``gate_up_proj`` holds both projections), so convert after loading weights.

    Returns the model (or its replacement when ``model`` is itself an
    activation module), or ``(model, ConvertReport)`` with ``report=True``.
    """
    if to not in ("torch_act", "torch"):
        raise ValueError(f'convert: to must be "torch_act" or "torch", got {to!r}')
    classify = _classifier(to)
    result = ConvertReport()
    replacements: dict[int, nn.Module] = {}
    edges: list[tuple[nn.Module, str, nn.Module]] = []  # (parent, attribute, child)
    seen: set[int] = set()

    def visit(module: nn.Module, path: str) -> None:
        if id(module) in seen:  # shared: decided on its first path
            return
        seen.add(id(module))
        outcome = _gated_mlp_builder(module) if gated_mlp and to == "torch_act" else None
        if outcome is None:
            outcome = classify(module)
        if isinstance(outcome, nn.Module):
            outcome.training = module.training
            replacements[id(module)] = outcome
            label = _label(type(module))
            result.swapped[label] = result.swapped.get(label, 0) + 1
            return
        if isinstance(outcome, str):
            result.left.append((path, _label(type(module)), outcome))
        # _modules, not named_children(), which skips a repeated child.
        for name, child in module._modules.items():
            if child is not None:
                edges.append((module, name, child))
                visit(child, f"{path}.{name}" if path else name)

    visit(model, "")
    if strict and result.left:
        reasons = "; ".join(f"{path or '<model>'} ({cls}): {why}" for path, cls, why in result.left)
        raise ValueError(
            f"torch_act.convert(strict=True): {len(result.left)} activation module(s) "
            f"cannot be swapped, model left unchanged: {reasons}"
        )
    # Applied only once the whole tree was decided, so strict changes nothing.
    for parent, name, child in edges:
        if id(child) in replacements:
            setattr(parent, name, replacements[id(child)])
    _log.info("torch_act.convert(to=%r): %s", to, result.summary())
    model = replacements.get(id(model), model)
    return (model, result) if report else model


def _lookup() -> dict[str, tuple[Activation, dict]]:
    """Lower-cased accepted name -> (row, default constructor kwargs)."""
    names = {}
    for act in ACTIVATIONS:
        names[act.name.lower()] = (act, {})
        names[act.module.lower()] = (act, {})
    for alias, (target, kwargs) in ALIASES.items():
        if target.lower() in names:
            names.setdefault(alias.lower(), (names[target.lower()][0], kwargs))
    return names


def list_activations() -> list[str]:
    """Names get_activation accepts: each row's functional and module name, and
    the aliases whose target exists. Matching is case-insensitive."""
    lookup = _lookup()
    names = {act.name for act in ACTIVATIONS} | {act.module for act in ACTIVATIONS}
    names |= {alias for alias in ALIASES if alias.lower() in lookup}
    return sorted(names)


def get_activation(name: str, **kwargs) -> nn.Module:
    """torch_act's activation module named ``name`` ("gelu", "LeakyReLU",
    "gelu_tanh", ...), built with ``kwargs``, e.g.
    ``get_activation("leaky_relu", negative_slope=0.2)``."""
    entry = _lookup().get(name.lower()) if isinstance(name, str) else None
    if entry is None:
        raise ValueError(
            f"unknown activation {name!r}; valid names: {', '.join(list_activations())}"
        )
    act, defaults = entry
    cls = getattr(_tnn, act.module, None)
    if cls is None:
        raise ValueError(f"activation {name!r} has no torch_act.nn module {act.module!r}")
    return cls(**{**defaults, **kwargs})
