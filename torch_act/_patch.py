"""Route torch's activation functions to torch_act's ops: the activations a
model calls as functions in its forward (``F.gelu(x)``, ``torch.sigmoid(x)``,
``x.relu()``), which ``convert`` cannot reach because they are code, not modules.

``torch_act.patch()`` is a ``torch.overrides.TorchFunctionMode``: while it is
on, each call of a routed function whose arguments torch_act supports runs
``torch_act.functional.<name>`` instead; any other call (an integer or complex
tensor, ``out=``, a tensor subclass, an argument torch_act refuses) runs
torch's function untouched. Eagerly and under ``torch.compile`` alike: Dynamo
traces the mode, so the compiled graph calls torch_act's ops. Dynamo offers a
mode only what torch lists as overridable, though: compiled, F.hardswish,
F.hardsigmoid, F.sigmoid, F.tanh and the in-place builtins called directly
(torch.relu_, F.elu_, F.hardtanh_, ...) stay torch's; ``F.relu(x,
inplace=True)`` and ``x.relu_()`` are routed.

    with torch_act.patch() as routing:   # for a block
        model(x)
    routing.routed                       # Counter: "F.gelu" -> calls routed
                                         # (compiled: counted when traced)

    torch_act.patch(enable=True)         # on until torch_act.unpatch()

Modes are per thread, as torch's are: the switch holds for the calling thread.
"""

from __future__ import annotations

import collections
import inspect
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
from torch import nn
from torch.nn import functional as F
from torch.overrides import (
    TorchFunctionMode,
    _get_current_function_mode_stack,
    _pop_mode,
    _push_mode,
)

from . import functional as _functional

__all__ = ["Patch", "patch", "routed_functions", "unpatch"]

# What torch_act's ops take; anything else stays with torch.
_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
_DEVICES = ("cpu", "meta", "cuda") if torch.ops.torch_act._has_cuda_kernels() else ("cpu", "meta")
# Plain tensors only: a subclass (a wrapper with its own __torch_function__,
# a FakeTensor) keeps torch's function, which it knows how to handle.
_TENSOR_TYPES = (torch.Tensor, nn.Parameter)


def _is_tensor(value) -> bool:
    return (
        type(value) in _TENSOR_TYPES
        and value.dtype in _DTYPES
        and value.layout == torch.strided
        and value.device.type in _DEVICES
    )


def _is_number(value) -> bool:
    # Plain numbers only: a 0-dim tensor or a SymFloat is torch's business.
    return value.__class__ is float or value.__class__ is int


def _is_approximate(value) -> bool:
    return value.__class__ is str and value in ("none", "tanh")


# How each parameter of torch_act's functionals is checked, by name;
# hyper-parameters not named here are numbers.
_CHECKS: dict[str, Callable[[Any], bool]] = {
    "input": _is_tensor,
    "weight": _is_tensor,  # prelu's
    "approximate": _is_approximate,
    "inplace": lambda value: value.__class__ is bool,
    "training": lambda value: value.__class__ is bool,
    "dim": lambda value: value.__class__ is int,
}


@dataclass(frozen=True)
class _Route:
    """One torch callable routed to one torch_act functional."""

    label: str  # "F.gelu", "torch.sigmoid", "Tensor.relu_"
    ours: Callable
    # (*args, **kwargs) of torch's call -> kwargs for `ours`, or None where
    # an argument is not one torch_act takes.
    bind: Callable
    names: frozenset  # the keyword names torch's signature takes
    positional: int  # how many may come positionally

    def match(self, args: tuple, kwargs: dict) -> Optional[dict]:
        if len(args) > self.positional or any(k not in self.names for k in kwargs):
            return None  # out=, generator=, or an argument torch_act lacks
        try:
            return self.bind(*args, **kwargs)
        except TypeError:  # a required argument missing: torch's error
            return None


def _binder(params: list[inspect.Parameter], extra: dict) -> Callable:
    """bind(*args, **kwargs) as a call of a function with these parameters:
    their values, each checked, as kwargs (plus ``extra``, e.g. inplace=True
    for relu_), or None where one is not a value torch_act takes. TypeError
    for a call that function would refuse (a missing or repeated argument).
    _Route.match has checked the count of positional arguments and the
    keywords' names."""
    names = [p.name for p in params]  # keyword-only ones last: never positional
    defaults = {p.name: p.default for p in params if p.default is not p.empty}
    checks = [(p.name, _CHECKS.get(p.name, _is_number)) for p in params]

    def bind(*args, **kwargs):
        bound = dict(zip(names, args))
        for name, value in kwargs.items():
            if name in bound:
                raise TypeError(f"got multiple values for argument {name!r}")
            bound[name] = value
        for name in names:
            if name not in bound:
                if name not in defaults:
                    raise TypeError(f"missing a required argument: {name!r}")
                bound[name] = defaults[name]
        for name, check in checks:
            if not check(bound[name]):
                return None
        bound.update(extra)
        return bound

    return bind


def _route(label: str, ours_name: str, inplace: Optional[bool] = None) -> _Route:
    """torch's callable `label` taking the arguments of torch_act.functional.
    <ours_name> (torch's own signature): minus ``inplace`` when inplace is
    given (the in-place form relu_ passes True, torch.selu False)."""
    ours = getattr(_functional, ours_name)
    # (backward_bits is torch_act's own keyword: torch's callables never pass it)
    params = [p for p in inspect.signature(ours).parameters.values() if p.name != "backward_bits"]
    extra = {}
    if inplace is not None:
        params = [p for p in params if p.name != "inplace"]
        extra = {"inplace": True} if inplace else {}
    return _Route(
        label=label,
        ours=ours,
        bind=_binder(params, extra),
        names=frozenset(p.name for p in params),
        positional=sum(p.kind is p.POSITIONAL_OR_KEYWORD for p in params),
    )


def _routes() -> dict[Callable, _Route]:
    """torch callable -> route, for every activation torch_act has."""
    table: dict[Callable, _Route] = {}

    def add(fn, route):
        table.setdefault(fn, route)  # an alias (F.gelu is torch._C._nn.gelu) keeps its first name

    # Where torch offers the mode each call: torch.nn.functional's functions
    # (F.sigmoid and F.tanh only under Dynamo; eagerly they call the Tensor
    # methods below); torch's builtins, which those functions call and which
    # Dynamo, tracing into a functional, may offer instead (F.elu ->
    # torch._C._nn.elu); the Tensor methods. In-place forms where torch_act
    # has them (F.relu_, torch._C._nn.elu_, Tensor.relu_).
    namespaces = (("F", F), ("torch", torch), ("torch._C._nn", torch._C._nn))
    for prefix, namespace in namespaces:
        for act_name in _functional.__all__:
            fn = getattr(namespace, act_name, None)
            if fn is None:
                continue  # (swish, quick_gelu, squared_relu: torch has none)
            has_inplace = "inplace" in inspect.signature(getattr(_functional, act_name)).parameters
            # F's functions take inplace as torch_act's do; the builtins do not.
            add(fn, _route(f"{prefix}.{act_name}", act_name, None if prefix == "F" else False))
            in_place = getattr(namespace, f"{act_name}_", None)
            if has_inplace and in_place is not None:
                add(in_place, _route(f"{prefix}.{act_name}_", act_name, inplace=True))
    for name in ("sigmoid", "tanh", "relu"):
        add(getattr(torch.Tensor, name), _route(f"Tensor.{name}", name, inplace=False))
    add(torch.Tensor.relu_, _route("Tensor.relu_", "relu", inplace=True))
    return table


_ROUTES = _routes()


def routed_functions() -> list[str]:
    """The labels of every torch callable patch() routes."""
    return sorted(route.label for route in _ROUTES.values())


_thread = threading.local()  # modes are per thread; so is this bookkeeping


def _active() -> list:
    """This thread's patches that are on, innermost last."""
    if not hasattr(_thread, "active"):
        _thread.active = []
    return _thread.active


@torch.compiler.assume_constant_result
def _count_traced(routed: bool, label: str) -> None:
    """Counts a call routed while Dynamo traces: Dynamo runs this once, when
    tracing, instead of compiling it into the graph. (Counting into the mode's
    Counter from traced code would make Dynamo guard on the Counter's contents
    and recompile as it changed.) The innermost patch is the one tracing."""
    patches = _active()
    if patches:
        counter = patches[-1].routed if routed else patches[-1].passed
        counter[label] += 1


def _remove_mode(mode: TorchFunctionMode) -> None:
    """Take mode off this thread's torch function mode stack, wherever it is,
    keeping the modes above it (entered after it and still on) in order."""
    stack = _get_current_function_mode_stack()
    if not any(m is mode for m in stack):
        return
    above = []
    while True:
        top = _pop_mode()
        if top is mode:
            break
        above.append(top)
    for other in reversed(above):
        _push_mode(other)


class Patch(TorchFunctionMode):
    """The mode ``torch_act.patch()`` returns. ``routed`` counts the calls
    routed to torch_act, ``passed`` the calls of a routed function left to
    torch (arguments torch_act does not take), both by label ("F.gelu",
    "torch.sigmoid", "Tensor.relu_"). Under torch.compile a call is counted
    once, when Dynamo traces it; the compiled graph then calls torch_act's op
    on every run without counting."""

    def __init__(self) -> None:
        super().__init__()
        self.routed: collections.Counter = collections.Counter()
        self.passed: collections.Counter = collections.Counter()

    @property
    def active(self) -> bool:
        return any(p is self for p in _active())

    def __enter__(self) -> Patch:
        if self.active:
            raise RuntimeError("torch_act.patch: this patch is already on")
        _push_mode(self)
        _active().append(self)
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        # Wherever it is on the stack: an exception, or a patch(enable=True)
        # switched on inside the block and still on, must not leave it there.
        _remove_mode(self)
        patches = _active()
        for i in range(len(patches) - 1, -1, -1):
            if patches[i] is self:
                del patches[i]
                break

    def __torch_function__(self, func, types, args=(), kwargs=None):
        # torch runs this with the mode off, so torch_act's functionals and
        # the pass-through calls below do not come back here.
        if kwargs is None:
            kwargs = {}
        route = _ROUTES.get(func)
        if route is None:
            return func(*args, **kwargs)
        bound = route.match(args, kwargs)
        if bound is not None:
            try:
                out = route.ours(**bound)
            except (RuntimeError, TypeError, ValueError):
                # Refused by torch_act (an in-place op on a leaf, GLU over an
                # odd size): torch's own answer, or its own error.
                bound = None
        if bound is None:
            self._count(False, route.label)
            return func(*args, **kwargs)
        self._count(True, route.label)
        return out

    def _count(self, routed: bool, label: str) -> None:
        if torch.compiler.is_compiling():
            _count_traced(routed, label)
        else:
            (self.routed if routed else self.passed)[label] += 1


def patch(enable: bool = False) -> Patch:
    """Route torch's activation functions to torch_act's ops.

    ``with torch_act.patch() as p:`` routes them inside the block (``p.routed``
    counts what was routed); ``torch_act.patch(enable=True)`` switches routing
    on for this thread until ``torch_act.unpatch()`` and returns the Patch
    (the one already on, if any). Routed: every activation of
    ``torch.nn.functional`` torch_act has (``F.gelu`` with ``approximate``
    too, in-place forms such as ``F.relu_``), ``torch.sigmoid``/``tanh``/
    ``relu``/``relu_``/``selu``/``celu``/``threshold``/``rrelu`` and
    ``Tensor.sigmoid``/``tanh``/``relu``/``relu_``; ``routed_functions()``
    lists them. Calls with arguments torch_act does not take run torch's
    function untouched. RReLU in training draws its slopes with torch_act's
    op: same distribution and seed dependence, not torch's exact values.
    """
    if not enable:
        return Patch()
    current = getattr(_thread, "global_patch", None)
    if current is not None and current.active:
        return current
    _thread.global_patch = Patch().__enter__()
    return _thread.global_patch


def unpatch() -> Optional[Patch]:
    """Switch off the routing ``patch(enable=True)`` switched on in this thread;
    returns that Patch (its counts), or None when none was on. Patches entered
    with ``with`` stay on until their block ends."""
    current = getattr(_thread, "global_patch", None)
    _thread.global_patch = None
    if current is None or not current.active:
        return None
    current.__exit__(None, None, None)
    return current
