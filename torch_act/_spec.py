"""The one Python table of torch_act's activations.

Each row names an op registered from C++ (csrc/ops.h), its torch.nn
counterpart, its hyper-parameters with torch's defaults, whether torch.nn
offers ``inplace=True``, and how tests sample it. ``functional.py``, ``nn.py``,
the tests and the benchmarks are generated from these rows; adding an
activation means one functor in C++ and one row here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class _Required:
    """Marks a parameter without a default (Threshold's threshold and value)."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Param:
    name: str
    default: Any = REQUIRED
    keyword_only: bool = False  # e.g. gelu's approximate

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Activation:
    name: str  # torch.ops.torch_act.<name>, torch_act.functional.<name>
    module: str  # torch_act.nn.<module>, and torch.nn.<module> where torch has it
    params: tuple[Param, ...] = ()
    inplace: bool = False  # torch.nn offers inplace=True; op <name>_ exists
    # Learnable tensor argument (PReLU's weight, Swish's beta), same tests.
    learnable: Optional[str] = None
    # Functional and module are written out in functional.py / nn.py rather
    # than generated (tensor arguments, RReLU's training mode).
    handwritten: bool = False
    # The registered ops' name when it is not `name` (RReLU in training runs
    # torch.ops.torch_act.rrelu_with_noise; in eval, leaky_relu).
    op: Optional[str] = None
    # Native torch equivalent, called with the same arguments as ours.
    reference: Optional[Callable[..., torch.Tensor]] = None
    # Hyper-parameter settings the tests and benchmarks cover (besides defaults).
    test_configs: tuple[dict, ...] = field(default_factory=lambda: ({},))
    # Points where the function is not differentiable (gradcheck avoids them).
    kinks: tuple[float, ...] = ()
    # Packed backward (ops <name>_pack, <name>_backward_packed; the
    # backward_bits keyword): "exact" where 1 bit per element gives the exact
    # gradient (piecewise-linear), "fitted" where a k-bit code (k = 1..4)
    # approximates f' (tools/fit_derivative_codes.py).
    packed: Optional[str] = None
    # The backward_bits a call without one uses in eager autograd on a plain
    # tensor: 1 for the "exact" ops that save their input, where the mask is
    # 1/32 (float32) of what they kept; None for ReLU, which saves its output,
    # a tensor the next layer keeps anyway (benchmarks/packed.md measures both).
    default_bits: Optional[int] = None
    # Native torch's backward kernel alone, as (grad, input, output, *tensor
    # args, **kwargs) -> grads, for the benchmark; None where torch has none.
    native_backward: Optional[Callable[..., Any]] = None

    @property
    def torch_module(self) -> Optional[type]:
        return getattr(torch.nn, self.module, None)

    @property
    def sample_kwargs(self) -> dict:
        """Arguments for a call when none are given: the first test config
        (which must supply any required parameter)."""
        return dict(self.test_configs[0])


def _swish_reference(input, beta=1.0):
    return input * torch.sigmoid(beta * input)


_aten = torch.ops.aten


def _quick_gelu_reference(input):
    return input * torch.sigmoid(1.702 * input)


def _squared_relu_reference(input):
    return torch.relu(input).square()


def _prelu_native_backward(grad, input, output, weight):
    shape = [1] * input.dim()
    if input.dim() > 1:
        shape[1] = weight.numel()
    return _aten._prelu_kernel_backward(grad, input, weight.reshape(shape))


ACTIVATIONS: tuple[Activation, ...] = (
    Activation(
        "sigmoid",
        "Sigmoid",
        reference=torch.sigmoid,
        native_backward=lambda g, x, y: _aten.sigmoid_backward(g, y),
        packed="fitted",
    ),
    Activation(
        "tanh",
        "Tanh",
        reference=torch.tanh,
        native_backward=lambda g, x, y: _aten.tanh_backward(g, y),
        packed="fitted",
    ),
    Activation(
        "relu",
        "ReLU",
        inplace=True,
        reference=F.relu,
        kinks=(0.0,),
        native_backward=lambda g, x, y: _aten.threshold_backward(g, y, 0),
        packed="exact",
    ),
    Activation(
        "leaky_relu",
        "LeakyReLU",
        (Param("negative_slope", 0.01),),
        inplace=True,
        reference=F.leaky_relu,
        kinks=(0.0,),
        test_configs=({}, {"negative_slope": 0.2}, {"negative_slope": -0.3}),
        native_backward=lambda g, x, y, negative_slope=0.01: _aten.leaky_relu_backward(
            g, x, negative_slope, False
        ),
        packed="exact",
        default_bits=1,
    ),
    Activation(
        "elu",
        "ELU",
        (Param("alpha", 1.0),),
        inplace=True,
        reference=F.elu,
        kinks=(0.0,),
        test_configs=({}, {"alpha": 0.5}, {"alpha": 2.0}),
        # What torch's autograd runs for out-of-place elu: from the input (self).
        native_backward=lambda g, x, y, alpha=1.0: _aten.elu_backward(g, alpha, 1, 1, False, x),
        packed="fitted",
    ),
    Activation(
        "selu",
        "SELU",
        inplace=True,
        reference=F.selu,
        kinks=(0.0,),
        native_backward=lambda g, x, y: _aten.elu_backward(g, SELU_ALPHA, SELU_SCALE, 1, False, x),
        packed="fitted",
    ),
    Activation(
        "silu",
        "SiLU",
        inplace=True,
        reference=F.silu,
        native_backward=lambda g, x, y: _aten.silu_backward(g, x),
        packed="fitted",
    ),
    Activation(
        "swish",
        "Swish",
        (Param("beta", 1.0),),
        learnable="beta",
        handwritten=True,
        reference=_swish_reference,
        test_configs=({}, {"beta": 1.702}, {"beta": 0.5}),
        packed="fitted",
    ),
    Activation(
        "gelu",
        "GELU",
        (Param("approximate", "none", keyword_only=True),),
        reference=F.gelu,
        test_configs=({}, {"approximate": "tanh"}),
        native_backward=lambda g, x, y, approximate="none": _aten.gelu_backward(
            g, x, approximate=approximate
        ),
        packed="fitted",
    ),
    Activation(
        "celu",
        "CELU",
        (Param("alpha", 1.0),),
        inplace=True,
        reference=F.celu,
        kinks=(0.0,),
        test_configs=({}, {"alpha": 0.5}, {"alpha": 2.0}),
        packed="fitted",
    ),
    Activation("mish", "Mish", inplace=True, reference=F.mish, packed="fitted"),
    Activation(
        "softplus",
        "Softplus",
        (Param("beta", 1.0), Param("threshold", 20.0)),
        reference=F.softplus,
        kinks=(5.0, 20.0),
        test_configs=({}, {"beta": 2.0, "threshold": 10.0}),
        native_backward=lambda g, x, y, beta=1.0, threshold=20.0: _aten.softplus_backward(
            g, x, beta, threshold
        ),
        packed="fitted",
    ),
    Activation("softsign", "Softsign", reference=F.softsign, kinks=(0.0,)),
    Activation(
        "hardsigmoid",
        "Hardsigmoid",
        inplace=True,
        reference=F.hardsigmoid,
        kinks=(-3.0, 3.0),
        native_backward=lambda g, x, y: _aten.hardsigmoid_backward(g, x),
        packed="exact",
        default_bits=1,
    ),
    Activation(
        "hardswish",
        "Hardswish",
        inplace=True,
        reference=F.hardswish,
        kinks=(-3.0, 3.0),
        native_backward=lambda g, x, y: _aten.hardswish_backward(g, x),
    ),
    Activation(
        "hardtanh",
        "Hardtanh",
        (Param("min_val", -1.0), Param("max_val", 1.0)),
        inplace=True,
        reference=F.hardtanh,
        kinks=(-1.0, 1.0, -2.0, 0.5),
        test_configs=({}, {"min_val": -2.0, "max_val": 0.5}),
        native_backward=lambda g, x, y, min_val=-1.0, max_val=1.0: _aten.hardtanh_backward(
            g, x, min_val, max_val
        ),
        packed="exact",
        default_bits=1,
    ),
    Activation(
        "relu6",
        "ReLU6",
        inplace=True,
        reference=F.relu6,
        kinks=(0.0, 6.0),
        native_backward=lambda g, x, y: _aten.hardtanh_backward(g, x, 0.0, 6.0),
        packed="exact",
        default_bits=1,
    ),
    Activation(
        # (torch's log_sigmoid_backward needs the buffer its CPU forward returns:
        # no backward-alone counterpart to benchmark against.)
        "logsigmoid",
        "LogSigmoid",
        reference=F.logsigmoid,
    ),
    Activation("tanhshrink", "Tanhshrink", reference=F.tanhshrink),
    Activation(
        "softshrink",
        "Softshrink",
        (Param("lambd", 0.5),),
        reference=F.softshrink,
        kinks=(0.5, -0.5, 1.0, -1.0),
        test_configs=({}, {"lambd": 1.0}),
        native_backward=lambda g, x, y, lambd=0.5: _aten.softshrink_backward(g, x, lambd),
        packed="exact",
        default_bits=1,
    ),
    Activation(
        "hardshrink",
        "Hardshrink",
        (Param("lambd", 0.5),),
        reference=F.hardshrink,
        kinks=(0.5, -0.5, 1.0, -1.0),
        test_configs=({}, {"lambd": 1.0}),
        native_backward=lambda g, x, y, lambd=0.5: _aten.hardshrink_backward(g, x, lambd),
        packed="exact",
        default_bits=1,
    ),
    Activation(
        "threshold",
        "Threshold",
        (Param("threshold"), Param("value")),
        inplace=True,
        reference=F.threshold,
        kinks=(0.5, -1.0),
        test_configs=({"threshold": 0.5, "value": 20.0}, {"threshold": -1.0, "value": -2.0}),
        native_backward=lambda g, x, y, threshold, value: _aten.threshold_backward(g, x, threshold),
        packed="exact",
        default_bits=1,
    ),
    Activation(
        "rrelu",
        "RReLU",
        (Param("lower", 1.0 / 8), Param("upper", 1.0 / 3)),
        inplace=True,
        handwritten=True,
        op="rrelu_with_noise",
        reference=F.rrelu,
        kinks=(0.0,),
        test_configs=({}, {"lower": 0.1, "upper": 0.3}),
    ),
    Activation(
        # dim 0 in the tests: the sample shapes have an even first dimension.
        "glu",
        "GLU",
        (Param("dim", -1),),
        reference=F.glu,
        test_configs=({"dim": 0},),
        native_backward=lambda g, x, y, dim=-1: _aten.glu_backward(g, x, dim),
    ),
    Activation("quick_gelu", "QuickGELU", reference=_quick_gelu_reference, packed="fitted"),
    Activation("squared_relu", "SquaredReLU", reference=_squared_relu_reference, kinks=(0.0,)),
    Activation(
        "prelu",
        "PReLU",
        learnable="weight",
        handwritten=True,
        reference=F.prelu,
        kinks=(0.0,),
        native_backward=_prelu_native_backward,
    ),
)

BY_NAME = {a.name: a for a in ACTIVATIONS}

for _act in ACTIVATIONS:
    _missing = [p.name for p in _act.params if p.required and p.name not in _act.sample_kwargs]
    assert not _missing, f"{_act.name}: test_configs[0] must give required {_missing}"


@dataclass(frozen=True)
class GatedUnit:
    """A gated unit ``f(gate) * up`` (Shazeer 2020): functional ``<name>``,
    module ``torch_act.nn.<module>``. ``activation`` is f, a row of
    ACTIVATIONS; ``params`` the hyper-parameters of f the unit exposes."""

    name: str
    module: str
    activation: str
    params: tuple[Param, ...] = ()
    test_configs: tuple[dict, ...] = field(default_factory=lambda: ({},))


GATED_UNITS: tuple[GatedUnit, ...] = (
    GatedUnit("swiglu", "SwiGLU", "silu"),
    GatedUnit(
        "geglu",
        "GEGLU",
        "gelu",
        (Param("approximate", "none", keyword_only=True),),
        test_configs=({}, {"approximate": "tanh"}),
    ),
    GatedUnit("reglu", "ReGLU", "relu"),
    GatedUnit("quick_geglu", "QuickGEGLU", "quick_gelu"),
    GatedUnit("squared_reglu", "SquaredReGLU", "squared_relu"),
)

GATED_BY_NAME = {g.name: g for g in GATED_UNITS}
