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


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    keyword_only: bool = False  # e.g. gelu's approximate


@dataclass(frozen=True)
class Activation:
    name: str  # torch.ops.torch_act.<name>, torch_act.functional.<name>
    module: str  # torch_act.nn.<module>, and torch.nn.<module> where torch has it
    params: tuple[Param, ...] = ()
    inplace: bool = False  # torch.nn offers inplace=True; op <name>_ exists
    # Learnable tensor argument (PReLU's weight, Swish's beta): hand-written
    # functional and module, same tests.
    learnable: Optional[str] = None
    # Native torch equivalent, called with the same arguments as ours.
    reference: Optional[Callable[..., torch.Tensor]] = None
    # Hyper-parameter settings the tests and benchmarks cover (besides defaults).
    test_configs: tuple[dict, ...] = field(default_factory=lambda: ({},))
    # Points where the function is not differentiable (gradcheck avoids them).
    kinks: tuple[float, ...] = ()
    # Native torch's backward kernel alone, as (grad, input, output, *tensor
    # args, **kwargs) -> grads, for the benchmark; None where torch has none.
    native_backward: Optional[Callable[..., Any]] = None

    @property
    def torch_module(self) -> Optional[type]:
        return getattr(torch.nn, self.module, None)

    @property
    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


def _swish_reference(input, beta=1.0):
    return input * torch.sigmoid(beta * input)


_aten = torch.ops.aten


def _prelu_native_backward(grad, input, output, weight):
    shape = [1] * input.dim()
    if input.dim() > 1:
        shape[1] = weight.numel()
    return _aten._prelu_kernel_backward(grad, input, weight.reshape(shape))


ACTIVATIONS: tuple[Activation, ...] = (
    Activation(
        "sigmoid", "Sigmoid", reference=torch.sigmoid,
        native_backward=lambda g, x, y: _aten.sigmoid_backward(g, y),
    ),
    Activation(
        "tanh", "Tanh", reference=torch.tanh,
        native_backward=lambda g, x, y: _aten.tanh_backward(g, y),
    ),
    Activation(
        "relu", "ReLU", inplace=True, reference=F.relu, kinks=(0.0,),
        native_backward=lambda g, x, y: _aten.threshold_backward(g, y, 0),
    ),
    Activation(
        "leaky_relu", "LeakyReLU", (Param("negative_slope", 0.01),), inplace=True,
        reference=F.leaky_relu, kinks=(0.0,),
        test_configs=({}, {"negative_slope": 0.2}, {"negative_slope": -0.3}),
        native_backward=lambda g, x, y, negative_slope=0.01: _aten.leaky_relu_backward(
            g, x, negative_slope, False),
    ),
    Activation(
        "elu", "ELU", (Param("alpha", 1.0),), inplace=True, reference=F.elu, kinks=(0.0,),
        test_configs=({}, {"alpha": 0.5}, {"alpha": 2.0}),
        native_backward=lambda g, x, y, alpha=1.0: _aten.elu_backward(g, alpha, 1, 1, True, y),
    ),
    Activation(
        "selu", "SELU", inplace=True, reference=F.selu, kinks=(0.0,),
        native_backward=lambda g, x, y: _aten.elu_backward(g, SELU_ALPHA, SELU_SCALE, 1, True, y),
    ),
    Activation(
        "silu", "SiLU", inplace=True, reference=F.silu,
        native_backward=lambda g, x, y: _aten.silu_backward(g, x),
    ),
    Activation(
        "swish", "Swish", (Param("beta", 1.0),), learnable="beta", reference=_swish_reference,
        test_configs=({}, {"beta": 1.702}, {"beta": 0.5}),
    ),
    Activation(
        "gelu", "GELU", (Param("approximate", "none", keyword_only=True),), reference=F.gelu,
        test_configs=({}, {"approximate": "tanh"}),
        native_backward=lambda g, x, y, approximate="none": _aten.gelu_backward(
            g, x, approximate=approximate),
    ),
    Activation(
        "prelu", "PReLU", learnable="weight", reference=F.prelu, kinks=(0.0,),
        native_backward=_prelu_native_backward,
    ),
)

BY_NAME = {a.name: a for a in ACTIVATIONS}
