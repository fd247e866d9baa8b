"""Fit the polynomials of the float-vector normal cdf in csrc/act_math.h
(GELU's Phi) and print them as C++ constants.

Two pieces, each a relative minimax fit (Lawson's iteratively reweighted
least squares) in float64, its coefficients then rounded to float:
- centre, |x| < 1.25:  Phi(x) = 1/2 + x R(x^2), R of degree 5;
- tails, |x| >= 1.25:  Phi(-|x|) = exp(-x^2/2) t S(t), t = 1 / (1 + |x| / 2),
  S of degree 5, fitted over [1.25, 4] (beyond 4 Phi(-|x|) < 4e-5: the
  relative error there stays below 1e-4, where torch's 1 + erf is all
  cancellation).

    python tools/fit_normal_cdf.py     # needs numpy and scipy

It prints the maximum relative error of each piece with float coefficients;
tests/test_accuracy.py holds the kernels against torch in ulps.
"""

import numpy as np
from scipy import special

SPLIT = 1.25  # |x| where the centre polynomial hands over to the tails
TAIL_SCALE = 0.5  # t = 1 / (1 + TAIL_SCALE |x|)
DEGREE = 5


def relative_minimax(basis: np.ndarray, target: np.ndarray, iterations: int = 300):
    """Coefficients c minimising max |basis @ c / target - 1| (Lawson)."""
    scaled = basis / target[:, None]
    ones = np.ones_like(target)
    weights = np.full_like(target, 1.0 / len(target))
    for _ in range(iterations):
        root = np.sqrt(weights)
        coefficients, *_ = np.linalg.lstsq(scaled * root[:, None], ones * root, rcond=None)
        error = np.abs(scaled @ coefficients - ones)
        weights = weights * error
        weights /= weights.sum()
    return coefficients


def centre():
    x = np.linspace(1e-4, SPLIT, 8000)
    target = special.erf(x / np.sqrt(2)) / (2 * x)  # (Phi(x) - 1/2) / x
    basis = np.vander(x * x, DEGREE + 1, increasing=True)
    coefficients = relative_minimax(basis, target).astype(np.float32).astype(np.float64)
    return coefficients, np.abs(basis @ coefficients / target - 1).max()


def tails():
    def parts(x):
        target = 0.5 * special.erfcx(x / np.sqrt(2))  # Phi(-x) exp(x^2 / 2)
        t = 1 / (1 + TAIL_SCALE * x)
        return target, np.vander(t, DEGREE + 2, increasing=True)[:, 1:]  # t S(t)

    target, basis = parts(np.linspace(SPLIT, 4.0, 8000))
    coefficients = relative_minimax(basis, target).astype(np.float32).astype(np.float64)
    far_target, far_basis = parts(np.linspace(4.0, 14.0, 4000))
    return (
        coefficients,
        np.abs(basis @ coefficients / target - 1).max(),
        np.abs(far_basis @ coefficients / far_target - 1).max(),
    )


def main() -> None:
    r, r_error = centre()
    s, s_error, far_error = tails()
    print(f"// centre, |x| < {SPLIT}: relative error {r_error:.2e}")
    print("// R, x^0 first:", ", ".join(f"{c:.9g}f" for c in r))
    print(f"// tails to 4: relative error {s_error:.2e}; 4 to 14: {far_error:.2e}")
    print("// S, t^0 first:", ", ".join(f"{c:.9g}f" for c in s))


if __name__ == "__main__":
    main()
