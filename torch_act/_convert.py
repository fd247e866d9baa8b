"""Swap a model's activation modules between torch.nn and torch_act, and build
torch_act activations by name.

``convert(model)`` walks the module tree and replaces every torch.nn activation
module that has a torch_act counterpart (a row of ``_spec.ACTIVATIONS``) with
torch_act's module of the same configuration; ``convert(model, to="torch")``
goes back. Only modules can be swapped: an activation called as a function
inside some ``forward`` (``F.relu(x)``, ``torch.sigmoid(x)``) is code, not part
of the module tree, and stays torch's. Forward/backward hooks registered on a
replaced activation module are not carried over.

``get_activation("gelu_tanh")`` builds a module from a name, e.g. from a config file.
"""
from __future__ import annotations

from torch import nn

from . import nn as _tnn
from ._spec import ACTIVATIONS, Activation

__all__ = ["convert", "get_activation", "list_activations"]

# Constructor arguments of modules with a learnable weight, which the spec's
# params do not describe; read from the module being replaced.
_LEARNABLE_INIT_ARGS = {"PReLU": ("num_parameters", "init")}

# Extra names: alias -> (row name or module name, constructor kwargs). An alias
# is offered only while its target is a row of the table.
ALIASES = {
    "gelu_tanh": ("gelu", {"approximate": "tanh"}),
    "quick_gelu": ("QuickGELU", {}),
    "squared_relu": ("SquaredReLU", {}),
}


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
    new.training = module.training
    return new


def convert(model: nn.Module, to: str = "torch_act") -> nn.Module:
    """Replace, in place and recursively, each activation module of ``model``
    by its counterpart: torch.nn -> torch_act with ``to="torch_act"``, back with
    ``to="torch"``. Classes are matched exactly (a subclass of nn.ReLU is left
    alone); modules without a counterpart (torch_act's Swish) are kept. A
    module shared by several parents gets one shared replacement. Returns the
    model, or its replacement when ``model`` is itself an activation module.
    """
    if to == "torch_act":
        table = {theirs: (ours, act) for theirs, ours, act in _pairs()}
    elif to == "torch":
        table = {ours: (theirs, act) for theirs, ours, act in _pairs()}
    else:
        raise ValueError(f'convert: to must be "torch_act" or "torch", got {to!r}')
    done: dict[int, nn.Module] = {}

    def swap(module: nn.Module) -> nn.Module:
        if id(module) in done:
            return done[id(module)]
        target = table.get(type(module))
        if target is not None:
            new = _rebuild(module, *target)
        else:
            new = module
            # _modules, not named_children(), which skips a repeated child.
            for name, child in list(module._modules.items()):
                if child is None:
                    continue
                replacement = swap(child)
                if replacement is not child:
                    setattr(module, name, replacement)
        done[id(module)] = new
        return new

    return swap(model)


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
