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

    @property
    def torch_module(self) -> Optional[type]:
        return getattr(torch.nn, self.module, None)

    @property
    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


def _swish_reference(input, beta=1.0):
    return input * torch.sigmoid(beta * input)


ACTIVATIONS: tuple[Activation, ...] = (
    Activation("sigmoid", "Sigmoid", reference=torch.sigmoid),
    Activation("tanh", "Tanh", reference=torch.tanh),
    Activation("relu", "ReLU", inplace=True, reference=F.relu, kinks=(0.0,)),
    Activation(
        "leaky_relu", "LeakyReLU", (Param("negative_slope", 0.01),), inplace=True,
        reference=F.leaky_relu, kinks=(0.0,),
        test_configs=({}, {"negative_slope": 0.2}, {"negative_slope": -0.3}),
    ),
    Activation(
        "elu", "ELU", (Param("alpha", 1.0),), inplace=True, reference=F.elu, kinks=(0.0,),
        test_configs=({}, {"alpha": 0.5}, {"alpha": 2.0}),
    ),
    Activation("selu", "SELU", inplace=True, reference=F.selu, kinks=(0.0,)),
    Activation("silu", "SiLU", inplace=True, reference=F.silu),
    Activation(
        "swish", "Swish", (Param("beta", 1.0),), learnable="beta", reference=_swish_reference,
        test_configs=({}, {"beta": 1.702}, {"beta": 0.5}),
    ),
    Activation(
        "gelu", "GELU", (Param("approximate", "none", keyword_only=True),), reference=F.gelu,
        test_configs=({}, {"approximate": "tanh"}),
    ),
    Activation("prelu", "PReLU", learnable="weight", reference=F.prelu, kinks=(0.0,)),
)

BY_NAME = {a.name: a for a in ACTIVATIONS}
