"""Test cases generated from torch_act's spec table (torch_act/_spec.py).

A Case is one activation with one setting of its arguments; it knows how to
call torch_act's functional and the native torch reference the same way.
Inputs are built per layout and filled with values spanning the regions that
matter (large negative, around 0 and the kinks, large positive).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Optional

import pytest
import torch

import torch_act
import torch_act.functional as TF
from torch_act._spec import ACTIVATIONS, Activation

# Every device test runs on the CPU and, where a GPU and our CUDA kernels are
# there, on CUDA too; without them the CUDA half is reported as skipped.
HAS_CUDA = torch.cuda.is_available() and torch_act.has_cuda_kernels()
requires_cuda = pytest.mark.skipif(not HAS_CUDA, reason="needs a GPU and torch_act's CUDA kernels")
DEVICES = [pytest.param("cpu"), pytest.param("cuda", marks=requires_cuda)]

FLOAT_DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)
REDUCED = (torch.bfloat16, torch.float16)

# Forward/gradient tolerances against torch (same dtype) or, for reduced
# precision, against a float64 reference rounded to the dtype.
TOLERANCE = {
    # torch computes a few float64 results with float32 constants (Hardsigmoid's
    # gradient uses 1.0f / 6), so float64 parity allows about 1e-7.
    torch.float64: dict(rtol=1e-7, atol=1e-9),
    torch.float32: dict(rtol=2e-5, atol=1e-6),
    torch.bfloat16: dict(rtol=1.6e-2, atol=1e-3),
    torch.float16: dict(rtol=2e-3, atol=1e-4),
}


@dataclasses.dataclass
class Case:
    act: Activation
    kwargs: dict
    # Learnable tensor argument: "per_channel"/"single" weight (PReLU) or a beta tensor (Swish).
    tensor_arg: Optional[str] = None

    @property
    def id(self) -> str:
        parts = [self.act.name] + [f"{k}={v}" for k, v in self.kwargs.items()]
        if self.tensor_arg:
            parts.append(self.tensor_arg)
        return "-".join(parts)

    @property
    def ours(self) -> Callable:
        return getattr(TF, self.act.name)

    @property
    def reference(self) -> Callable:
        return self.act.reference

    def tensor_args(self, x: torch.Tensor, requires_grad: bool = False) -> tuple:
        """The learnable tensor argument for input x, or ()."""
        if self.tensor_arg is None:
            return ()
        if self.tensor_arg == "beta":
            value = torch.tensor(1.3, dtype=x.dtype, device=x.device)
        else:
            channels = x.shape[1] if (self.tensor_arg == "per_channel" and x.dim() > 1) else 1
            # Spans negative, zero and positive slopes.
            value = torch.linspace(-0.5, 0.75, channels, dtype=torch.float64).to(x.device, x.dtype)
        return (value.requires_grad_(requires_grad),)

    def call(self, fn: Callable, x: torch.Tensor, *tensors) -> torch.Tensor:
        return fn(x, *tensors, **self.kwargs)


def all_cases() -> list[Case]:
    cases = []
    for act in ACTIVATIONS:
        if act.learnable == "weight":
            cases += [Case(act, {}, "single"), Case(act, {}, "per_channel")]
            continue
        cases += [Case(act, dict(cfg)) for cfg in act.test_configs]
        if act.learnable == "beta":
            cases.append(Case(act, {}, "beta"))
    return cases


CASES = all_cases()
CASE_IDS = [c.id for c in CASES]
INPLACE_CASES = [c for c in CASES if c.act.inplace]

# Values spanning the interesting regions; kinks and +-0 included exactly.
# Rounded through bfloat16 so every dtype under test holds exactly these values.
_REGION_VALUES = (
    torch.cat(
        [
            torch.arange(-56, 57, dtype=torch.float64) * (12.0 / 56),  # exact 0
            torch.tensor([0.0, -0.0, 1e-3, -1e-3, 0.5, -0.5, 3.0, -3.0, 40.0, -40.0, 1e3, -1e3]),
        ]
    )
    .to(torch.bfloat16)
    .double()
)
SPECIAL_VALUES = torch.tensor([float("inf"), float("-inf"), float("nan")], dtype=torch.float64)


def fill_values(numel: int, special: bool = False, seed: int = 0) -> torch.Tensor:
    pool = torch.cat([_REGION_VALUES, SPECIAL_VALUES]) if special else _REGION_VALUES
    gen = torch.Generator().manual_seed(seed)
    index = torch.randint(0, pool.numel(), (numel,), generator=gen)
    # Every pool value appears at least once when there is room.
    head = min(numel, pool.numel())
    index[:head] = torch.randperm(pool.numel(), generator=gen)[:head]
    return pool[index]


LAYOUTS = (
    "contiguous",
    "transposed",
    "channels_last",
    "sliced",
    "expanded",
    "misaligned",
    "empty",
    "scalar",
)


def make_input(
    layout: str,
    dtype: torch.dtype,
    special: bool = False,
    seed: int = 0,
    requires_grad: bool = False,
    device: str = "cpu",
) -> torch.Tensor:
    """An input of the given layout holding the same values for every dtype.
    With requires_grad, the result is a view of (or op on) a leaf, so the
    layout reaches the op while gradients still flow."""

    def filled(*shape):
        numel = 1
        for s in shape:
            numel *= s
        base = fill_values(numel, special, seed).reshape(shape).to(device, dtype)
        return base.requires_grad_(requires_grad)

    if layout == "contiguous":
        return filled(2, 3, 5, 7)
    if layout == "transposed":
        return filled(7, 5, 3, 2).permute(3, 2, 1, 0)
    if layout == "channels_last":
        return filled(2, 3, 5, 7).contiguous(memory_format=torch.channels_last)
    if layout == "sliced":
        return filled(2, 3, 5, 14)[..., ::2]
    if layout == "expanded":
        return filled(1, 3, 1, 7).expand(2, 3, 5, 7)
    if layout == "misaligned":  # contiguous, but one element past an aligned start
        return filled(2 * 3 * 5 * 7 + 1)[1:].view(2, 3, 5, 7)
    if layout == "empty":
        return filled(0, 3)
    if layout == "scalar":
        return filled(1).reshape(())
    if layout == "large":  # past the parallel grain size; not a multiple of any vector width
        return filled(70001)
    raise ValueError(layout)


def expected_forward(case: Case, x: torch.Tensor, *tensors) -> torch.Tensor:
    """torch's answer in x's dtype; for reduced precision (and where torch's
    own answer is NaN but its float64 answer is not) the float64 answer rounded."""
    ref64 = case.call(case.reference, x.double(), *(t.double() for t in tensors))
    if x.dtype in REDUCED:
        return ref64.to(x.dtype)
    same = case.call(case.reference, x, *tensors)
    fix = same.isnan() & ~ref64.isnan()
    return torch.where(fix, ref64.to(x.dtype), same)


def make_module(case: Case, channels: int):
    """torch_act's module for a case, for a model whose activations have `channels` features."""
    import torch_act.nn as TN

    cls = getattr(TN, case.act.module)
    if case.tensor_arg == "per_channel":
        return cls(num_parameters=channels)
    if case.tensor_arg == "single":
        return cls()
    if case.tensor_arg == "beta":
        return cls(beta=1.3, learnable=True)
    return cls(**case.kwargs)


# One case per activation (its first config; PReLU per channel; Swish with
# learnable beta too), for the slower tests.
DEFAULT_CASES = [
    c
    for i, c in enumerate(CASES)
    if (c.act is not CASES[i - 1].act or i == 0)
    and c.tensor_arg != "single"
    or c.tensor_arg in ("beta", "per_channel")
]
DEFAULT_CASE_IDS = [c.id for c in DEFAULT_CASES]


def forward_backward(model, x):
    """A model's output and the gradients of its input and of every parameter
    (for comparing two models, e.g. eager vs compiled, before vs after convert).
    Reseeds first, so models that draw random numbers (RReLU) draw the same."""
    torch.manual_seed(0)
    x = x.detach().clone().requires_grad_()
    out = model(x)
    out.pow(2).sum().backward()
    grads = [x.grad] + [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=True)
    return out.detach(), grads


def smooth_input(case, device="cpu", shape=(2, 3, 4)):
    """float64 values spread over [-4, 4], kept 0.05 away from the kinks, where
    the finite differences of gradcheck would straddle two branches."""
    x = torch.rand(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) * 8 - 4
    for kink in case.act.kinks:
        near = (x - kink).abs() < 0.05
        x = torch.where(near, x + 0.1 * torch.sign(x - kink + 1e-12), x)
    return x.to(device).requires_grad_()


# ------------------------------------------- float64 references without cancellation


def exact_gelu(x: torch.Tensor, approximate: str):
    """(GELU, its derivative, the derivative's larger term), in float64
    without the cancellation of 1 + erf (or 1 + tanh) that torch's float64
    formula has in the left tail."""
    if approximate == "none":
        cdf = 0.5 * torch.special.erfc(-x / math.sqrt(2))
        density_term = x * torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    else:
        k = math.sqrt(2 / math.pi)
        u = k * (x + 0.044715 * x**3)
        cdf = torch.sigmoid(2 * u)  # (1 + tanh u) / 2
        density_term = x * cdf * (1 - cdf) * 2 * k * (1 + 3 * 0.044715 * x * x)
    return x * cdf, cdf + density_term, torch.maximum(cdf.abs(), density_term.abs())


def exact_tanhshrink(x: torch.Tensor) -> torch.Tensor:
    """x - tanh x, from its series where float64's subtraction cancels."""
    x2 = x * x
    series = x * x2 * (1 / 3 + x2 * (-2 / 15 + x2 * (17 / 315 + x2 * (-62 / 2835))))
    return torch.where(x.abs() < 1e-3, series, x - torch.tanh(x))


def exact_reference(act, x64: torch.Tensor, kwargs: dict) -> torch.Tensor:
    """act in float64, exact to well below float32's ulp."""
    if act.name == "gelu":
        return exact_gelu(x64, kwargs.get("approximate", "none"))[0]
    if act.name == "tanhshrink":
        return exact_tanhshrink(x64)
    return act.reference(x64, **kwargs)
