"""Accuracy in float32 ulps over the whole float range, against torch's own.

Inputs: every 2039th float32 bit pattern (all finite values, both signs, from
denormals to 3.4e38). Each result's error is counted in ulps of the exact
value rounded to float32 (from float64: torch's float64 formula, or for GELU
and Tanhshrink one that does not cancel), and the worst error in each binade
of the input (one sign, one power of two) must be no worse than torch's in the
same binade, give or take a quarter, or within 4 ulps. Checked: every unary
activation's forward, and GELU's derivative (both approximations) whose
error is counted in ulps of its larger term (Phi(x) or x phi(x)), since the
terms cancel where the derivative crosses zero.

    python tests/test_accuracy.py     # each op's worst error, ours and torch's
"""

import math

import numpy as np
import pytest
import torch

import torch_act
from torch_act._spec import ACTIVATIONS
from cases import exact_gelu, exact_reference

SAMPLE_STRIDE = 2039
TOLERANCE_RATIO = 1.25  # ours may be this much worse than torch in a binade...
TOLERANCE_ULPS = 4.0  # ...or this many ulps off, whichever is more

UNARY = [a for a in ACTIVATIONS if a.learnable is None and a.name not in ("glu", "rrelu")]


def sample_inputs() -> torch.Tensor:
    bits = np.arange(0, 2**32, SAMPLE_STRIDE, dtype=np.uint64).astype(np.uint32)
    x = torch.from_numpy(bits.view(np.float32).copy())
    return x[torch.isfinite(x)]


def ulp_errors(y: torch.Tensor, exact: torch.Tensor, scale: torch.Tensor = None) -> torch.Tensor:
    """|y - exact| in ulps of float32 at |exact| (or at scale, if larger)."""
    magnitude = exact.abs() if scale is None else torch.maximum(exact.abs(), scale.abs())
    spacing = torch.from_numpy(np.spacing(magnitude.float().numpy()).astype(np.float64))
    errors = (y.double() - exact).abs() / spacing
    errors[torch.isnan(y) & ~torch.isnan(exact)] = math.inf
    errors[torch.isnan(y) & torch.isnan(exact)] = 0.0
    # Past float32's range the exact value rounds to an infinity: right only if y is that.
    rounded = exact.float()
    overflow = torch.isinf(rounded) | torch.isinf(magnitude.float())
    errors[overflow] = torch.where(y[overflow] == rounded[overflow], 0.0, math.inf).double()
    return errors


def worst_by_binade(x: torch.Tensor, errors: torch.Tensor) -> dict:
    """(sign, exponent) -> the largest error of the inputs in that binade."""
    exponent = torch.frexp(x).exponent
    key = exponent * 2 + (x < 0).to(exponent.dtype)
    order = torch.argsort(key)
    keys, counts = torch.unique_consecutive(key[order], return_counts=True)
    worst = {}
    for k, chunk in zip(keys.tolist(), torch.split(errors[order], counts.tolist())):
        worst[(-1 if k % 2 else 1, k // 2)] = chunk.max().item()
    return worst


def regressions(x, ours_errors, torch_errors) -> list[str]:
    ours, native = worst_by_binade(x, ours_errors), worst_by_binade(x, torch_errors)
    return [
        f"{'-' if sign < 0 else '+'}[2^{exp - 1}, 2^{exp}): ours {ours[sign, exp]:.3g} ulps, "
        f"torch {native[sign, exp]:.3g}"
        for sign, exp in sorted(ours)
        if not ours[sign, exp] <= max(TOLERANCE_RATIO * native[sign, exp], TOLERANCE_ULPS)
    ]


X = sample_inputs()
FORWARD_CASES = [(act, config) for act in UNARY for config in act.test_configs]


@pytest.mark.parametrize(
    "act, config",
    FORWARD_CASES,
    ids=[f"{a.name}-{'-'.join(map(str, c.values())) or 'default'}" for a, c in FORWARD_CASES],
)
def test_forward_as_accurate_as_torch(act, config):
    exact = exact_reference(act, X.double(), config)
    ours = getattr(torch_act.functional, act.name)(X, **config)
    native = act.reference(X, **config)
    bad = regressions(X, ulp_errors(ours, exact), ulp_errors(native, exact))
    assert not bad, f"{act.name} {config}: " + "; ".join(bad[:8])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_derivative_as_accurate_as_torch(approximate):
    _, exact, scale = exact_gelu(X.double(), approximate)
    grad = torch.ones_like(X)
    ours = torch.ops.torch_act.gelu_backward(grad, X, approximate=approximate)
    native = torch.ops.aten.gelu_backward(grad, X, approximate=approximate)
    bad = regressions(X, ulp_errors(ours, exact, scale), ulp_errors(native, exact, scale))
    assert not bad, f"gelu' {approximate}: " + "; ".join(bad[:8])


# (lowest x, worst ulps from there up): from -0.5 up nothing cancels. Below,
# the tails lose a little: exp(-x^2 / 2) in the exact GELU's vector variants,
# erfc(x / sqrt 2) in its DEFAULT one and exp(-2u) in the tanh approximation
# (x sigmoid(2u)) magnify the rounding of x^2, x / sqrt 2 or u. Torch's 1 + erf
# loses up to 34 ulps by -3 on an AMD EPYC and 1600 on an Intel Xeon (oneDNN's
# AVX-512 kernel, 4.4 ulps off from -0.5 up), and its 1 + tanh u about 200.
GELU_BOUNDS = {
    "none": ((-0.5, 2.5), (-3.0, 12.0)),
    "tanh": ((-0.5, 2.5), (-1.0, 4.0), (-3.0, 16.0)),
}


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_error_bounds(approximate):
    exact, _, _ = exact_gelu(X.double(), approximate)
    errors = ulp_errors(torch_act.functional.gelu(X, approximate=approximate), exact)
    normal = X.abs() >= 2**-20  # (GELU(x) = x / 2 below, to float precision)
    for lowest, bound in GELU_BOUNDS[approximate]:
        worst = errors[normal & (X >= lowest)].max().item()
        assert worst <= bound, f"gelu {approximate} from {lowest}: {worst:.2f} ulps"


def test_tanhshrink_error_bound():
    """x - tanh x is computed without its cancellation (act_math.h): within
    4 ulps wherever the result is a normal float, where torch's loses every
    digit near 0."""
    (act,) = [a for a in UNARY if a.name == "tanhshrink"]
    exact = exact_reference(act, X.double(), {})
    errors = ulp_errors(torch_act.functional.tanhshrink(X), exact)
    worst = errors[exact.abs() >= torch.finfo(torch.float32).tiny].max().item()
    assert worst <= 4.0, f"tanhshrink: {worst:.2f} ulps"


if __name__ == "__main__":
    for act, config in FORWARD_CASES:
        exact = exact_reference(act, X.double(), config)
        ours = ulp_errors(getattr(torch_act.functional, act.name)(X, **config), exact)
        native = ulp_errors(act.reference(X, **config), exact)
        region = exact.abs() > 1e-30
        print(
            f"{act.name:12} {str(config):34} worst ulps (|result| > 1e-30): "
            f"ours {ours[region].max().item():10.3g}  torch {native[region].max().item():10.3g}"
            f"  binades worse than torch: {len(regressions(X, ours, native))}"
        )
