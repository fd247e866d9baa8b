"""Fit the polynomials of the inline float math in csrc/act_math.h (GELU's
Phi, exp, and the DEFAULT build's tanh), and print them as C++ constants.

Each is a relative minimax fit (Lawson's iteratively reweighted least
squares) in float64, its coefficients rounded to float one at a time, the
ones not yet rounded refitted after each (rounding them all at once loses
up to 4x in accuracy at these degrees):
- Phi(-|x|) = exp(-x^2/2) T(q), q = |x| / (|x| + TAIL_OFFSET), T of
  degree 9, fitted over [0, 4] (beyond 4 Phi(-|x|) < 4e-5: the relative error
  there stays near 1e-4, where torch's 1 + erf is all cancellation). A
  polynomial in q, not in t = 1 - q: the kernel computes q as one refined
  quotient, within an ulp of q, while near x = 0 t's rounding alone would
  cost GELU 2 ulps;
- exp(r) = 1 + r + r^2 P(r) for |r| <= ln(2) / 2, P of degree 4;
- tanh(x) = x + x^3 S(x^2) for |x| < TANH_SMALL, S of degree 7 (beyond it
  the kernel's (1 - e) / (1 + e), e = exp(-2|x|), is within 1.5 ulps).

    python tools/fit_normal_cdf.py     # needs numpy and scipy

It prints the maximum relative error of each with float coefficients;
tests/test_accuracy.py holds the kernels against torch in ulps.
"""

import numpy as np
from scipy import special

TAIL_OFFSET = float(np.float32(5 / 3))  # q = |x| / (|x| + TAIL_OFFSET), as the kernel rounds it
TAIL_DEGREE = 9
EXP_DEGREE = 4
TANH_SMALL = 1.0
TANH_DEGREE = 7


def relative_minimax(basis: np.ndarray, target: np.ndarray, rest=None, iterations: int = 600):
    """Coefficients c minimising max |(basis @ c - rest) / target| (Lawson);
    rest defaults to target, which makes it max |basis @ c / target - 1|."""
    rest = target if rest is None else rest
    scaled = basis / target[:, None]
    scaled_rest = rest / target
    weights = np.full_like(target, 1.0 / len(target))
    for _ in range(iterations):
        root = np.sqrt(weights)
        coefficients, *_ = np.linalg.lstsq(scaled * root[:, None], scaled_rest * root, rcond=None)
        error = np.abs(scaled @ coefficients - scaled_rest)
        weights = weights * error
        weights /= weights.sum()
    return coefficients


def float_coefficients(basis: np.ndarray, target: np.ndarray) -> np.ndarray:
    """relative_minimax's fit with float coefficients, rounded first to last."""
    fixed = np.zeros(basis.shape[1])
    for i in range(basis.shape[1]):
        rest = target - basis[:, :i] @ fixed[:i]
        fixed[i] = np.float32(relative_minimax(basis[:, i:], target, rest)[0])
    return fixed


def tail():
    def parts(x):
        target = 0.5 * special.erfcx(x / np.sqrt(2))  # Phi(-x) exp(x^2 / 2)
        return target, np.vander(x / (x + TAIL_OFFSET), TAIL_DEGREE + 1, increasing=True)

    target, basis = parts(np.linspace(0.0, 4.0, 16000))
    coefficients = float_coefficients(basis, target)
    far_target, far_basis = parts(np.linspace(4.0, 14.4, 4000))
    return (
        coefficients,
        np.abs(basis @ coefficients / target - 1).max(),
        np.abs(far_basis @ coefficients / far_target - 1).max(),
    )


def exp_polynomial():
    half_ln2 = np.log(2) / 2
    r = np.linspace(-half_ln2, half_ln2, 20001)
    r = r[np.abs(r) > 1e-6]  # (exp(r) - 1 - r) / r^2 is 1/2 + O(r) there
    target = (np.exp(r) - 1 - r) / (r * r)
    basis = np.vander(r, EXP_DEGREE + 1, increasing=True)
    coefficients = float_coefficients(basis, target)
    approximation = 1 + r + r * r * (basis @ coefficients)
    return coefficients, np.abs(approximation / np.exp(r) - 1).max()


def tanh_polynomial():
    x = np.linspace(1e-3, TANH_SMALL, 20001)
    target = (np.tanh(x) - x) / x**3
    basis = np.vander(x * x, TANH_DEGREE + 1, increasing=True)
    coefficients = float_coefficients(basis, target)
    approximation = x + x**3 * (basis @ coefficients)
    return coefficients, np.abs(approximation / np.tanh(x) - 1).max()


def main() -> None:
    s, s_error, far_error = tail()
    p, p_error = exp_polynomial()
    print(
        f"// Phi(-|x|) exp(x^2/2) = T(q) to |x| = 4: relative error {s_error:.2e}; 4 to 14.4: {far_error:.2e}"
    )
    print("// T, q^0 first:", ", ".join(f"{c:.9g}f" for c in s))
    print("// 2U = -2 T[1:] (the kernel's), q^0 first:", ", ".join(f"{-2 * c:.9g}f" for c in s[1:]))
    print(f"// exp(r) = 1 + r + r^2 P(r): relative error {p_error:.2e}")
    print("// P, r^0 first:", ", ".join(f"{c:.9g}f" for c in p))
    t, t_error = tanh_polynomial()
    print(f"// tanh(x) = x + x^3 S(x^2), |x| < {TANH_SMALL}: relative error {t_error:.2e}")
    print("// S, x^0 first:", ", ".join(f"{c:.9g}f" for c in t))


if __name__ == "__main__":
    main()
