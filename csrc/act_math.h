// Math primitives that one formula can be written against and compiled for
// float/double scalars (host or CUDA device) and, in the AVX2/AVX-512 builds
// of the CPU kernels, for at::vec::Vectorized<T>. (The DEFAULT build uses plain
// scalar loops instead: generic Vectorized compares and blends branch per lane.)
//
// A functor in activations.h calls exp(x), where(mask, a, b), x <= zero, ...;
// overload resolution picks the scalar or the SIMD version here.
#pragma once

#include <cmath>

#if defined(__CUDACC__) || defined(__HIPCC__)
#define TORCH_ACT_HD __host__ __device__
#else
#define TORCH_ACT_HD
#endif

// SIMD builds of csrc/cpu/kernels.cpp; elsewhere the functors see scalars only.
#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
#define TORCH_ACT_SIMD 1
#include <ATen/cpu/vec/vec.h>
#endif

namespace torch_act {
namespace math {

// Scalar overloads are plain (non-template) functions so they never compete
// with the Vectorized templates below.
#define TORCH_ACT_SCALAR_UNARY(fn)                             \
  TORCH_ACT_HD inline float fn(float x) { return ::fn##f(x); } \
  TORCH_ACT_HD inline double fn(double x) { return ::fn(x); }
TORCH_ACT_SCALAR_UNARY(exp)
TORCH_ACT_SCALAR_UNARY(expm1)
TORCH_ACT_SCALAR_UNARY(log1p)
TORCH_ACT_SCALAR_UNARY(tanh)
TORCH_ACT_SCALAR_UNARY(erfc)
#undef TORCH_ACT_SCALAR_UNARY

TORCH_ACT_HD inline float abs(float x) { return ::fabsf(x); }
TORCH_ACT_HD inline double abs(double x) { return ::fabs(x); }

// clamp_below(x, lo) and clamp_to(x, lo, hi): torch's clamp_min and clamp, a
// NaN in x (or, for clamp_to, in a bound) propagated. Named apart from
// at::vec::clamp_min/clamp, which argument-dependent lookup would otherwise
// make ambiguous for vectors.
#define TORCH_ACT_SCALAR_CLAMP(T)                                          \
  TORCH_ACT_HD inline T clamp_below(T x, T lo) { return x < lo ? lo : x; } \
  TORCH_ACT_HD inline T clamp_to(T x, T lo, T hi) {                        \
    const T y = (x < lo || lo != lo) ? lo : x;                             \
    return (y > hi || hi != hi) ? hi : y;                                  \
  }
TORCH_ACT_SCALAR_CLAMP(float)
TORCH_ACT_SCALAR_CLAMP(double)
#undef TORCH_ACT_SCALAR_CLAMP

// where(cond, a, b): cond ? a : b. For scalars cond is a bool; for vectors it
// is the all-ones/all-zeros lane mask that Vectorized comparisons return.
template <class T>
TORCH_ACT_HD inline T where(bool cond, T a, T b) {
  return cond ? a : b;
}

#if defined(TORCH_ACT_SIMD)
// The vector overloads: Vectorized's own methods.
#define TORCH_ACT_VECTOR_UNARY(fn)                                    \
  template <class T>                                                  \
  inline at::vec::Vectorized<T> fn(const at::vec::Vectorized<T>& x) { \
    return x.fn();                                                    \
  }
TORCH_ACT_VECTOR_UNARY(exp)
TORCH_ACT_VECTOR_UNARY(expm1)
TORCH_ACT_VECTOR_UNARY(log1p)
TORCH_ACT_VECTOR_UNARY(tanh)
TORCH_ACT_VECTOR_UNARY(erfc)
TORCH_ACT_VECTOR_UNARY(abs)
#undef TORCH_ACT_VECTOR_UNARY
// One max (and one min) instruction; a NaN in x comes through.
template <class T>
inline at::vec::Vectorized<T> clamp_below(
    const at::vec::Vectorized<T>& x, const at::vec::Vectorized<T>& lo) {
  return at::vec::clamp_min(x, lo);
}
template <class T>
inline at::vec::Vectorized<T> clamp_to(
    const at::vec::Vectorized<T>& x, const at::vec::Vectorized<T>& lo,
    const at::vec::Vectorized<T>& hi) {
  return at::vec::clamp(x, lo, hi);
}

// 1 / d for finite d >= 1 (or NaN): the hardware's reciprocal estimate
// refined by one Newton step (relative error below 2^-22 from the 14- or
// 12-bit estimate), a few cycles in the pipeline instead of a division.
inline at::vec::Vectorized<float> reciprocal_of_at_least_one(const at::vec::Vectorized<float>& d) {
  using V = at::vec::Vectorized<float>;
#if defined(CPU_CAPABILITY_AVX512)
  const V r = _mm512_rcp14_ps(d);
#else
  const V r = _mm256_rcp_ps(d);
#endif
  // r (2 - d r): the Newton step for 1/d.
  return r * at::vec::fnmadd(d, r, V(2.0f));
}

// Phi(-|x|) exp(x^2 / 2) for |x| >= 1.25, float: t S(t) with t = 1 / (1 + |x| / 2),
// S of degree 5 (tools/fit_normal_cdf.py: relative error 6e-8 up to |x| = 4,
// 7e-5 beyond, where Phi(-|x|) < 4e-5 and float's 1 + erf is all
// cancellation). |x| past 20 changes nothing (exp(-x^2 / 2) is 0 in float) and
// keeps the reciprocal's argument finite; a NaN comes through clamp_max.
inline at::vec::Vectorized<float> scaled_normal_tail(const at::vec::Vectorized<float>& abs_x) {
  using V = at::vec::Vectorized<float>;
  const V t = reciprocal_of_at_least_one(
      at::vec::fmadd(V(0.5f), at::vec::clamp_max(abs_x, V(20.0f)), V(1.0f)));
  V s = at::vec::fmadd(V(0.113935851f), t, V(-0.28981778f));
  s = at::vec::fmadd(s, t, V(0.147798955f));
  s = at::vec::fmadd(s, t, V(0.128209725f));
  s = at::vec::fmadd(s, t, V(0.201649874f));
  s = at::vec::fmadd(s, t, V(0.19940488f));
  return s * t;
}

// (Phi(x) - 1/2) / x for |x| < 1.25, float: R(x^2), R of degree 5
// (tools/fit_normal_cdf.py: relative error 7e-8). Near 0, Phi = 1/2 + x R
// keeps x's relative precision, which 1 - erfc(x) loses.
inline at::vec::Vectorized<float> normal_cdf_centre_slope(const at::vec::Vectorized<float>& x) {
  using V = at::vec::Vectorized<float>;
  const V w = x * x;
  V r = at::vec::fmadd(V(-6.80944731e-06f), w, V(0.000111040972f));
  r = at::vec::fmadd(r, w, V(-0.00118383695f));
  r = at::vec::fmadd(r, w, V(0.00997228269f));
  r = at::vec::fmadd(r, w, V(-0.0664902106f));
  return at::vec::fmadd(r, w, V(0.398942262f));
}

#endif

// Phi(x) and phi(x), the standard normal's cdf and density (GELU's
// derivative is Phi(x) + x phi(x)).
template <class T>
struct NormalCdfAndDensity {
  T cdf;
  T density;
};
constexpr double kSqrtHalf = 0.70710678118654752440;    // 1/sqrt(2)
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1/sqrt(2 pi)

template <class T>
TORCH_ACT_HD inline T normal_cdf(T x) {
  // erfc, not 1 + erf: no cancellation in the left tail.
  return T(0.5) * erfc(x * T(-kSqrtHalf));
}
template <class T>
TORCH_ACT_HD inline T normal_density(T x) {
  return T(kInvSqrt2Pi) * exp(T(-0.5) * x * x);
}
template <class T>
TORCH_ACT_HD inline NormalCdfAndDensity<T> normal_cdf_and_density(T x) {
  return {normal_cdf(x), normal_density(x)};
}

#if defined(TORCH_ACT_SIMD)
// Phi(x) for float vectors, GELU within 2.5 ulps from -0.5 up and 8 down to -3
// (tests/test_accuracy.py, which also holds it against torch's): 1/2 + x R(x^2)
// near 0, exp(-x^2 / 2) t S(t) in the tails (1 minus that above 0), both
// computed and one kept per lane. `gaussian` is exp(-x^2 / 2), which the
// callers compute as fits them.
inline at::vec::Vectorized<float> normal_cdf_from(
    const at::vec::Vectorized<float>& x, const at::vec::Vectorized<float>& gaussian) {
  using V = at::vec::Vectorized<float>;
  const V abs_x = x.abs();
  const V lower_tail = scaled_normal_tail(abs_x) * gaussian;
  const V tails = V::blendv(V(1.0f) - lower_tail, lower_tail, x < V(0.0f));
  const V centre = at::vec::fmadd(x, normal_cdf_centre_slope(x), V(0.5f));
  return V::blendv(tails, centre, abs_x < V(1.25f));
}
// With ATen's inline exp_u20 polynomial instead of the out-of-line SLEEF exp
// call that Vectorized<float>::erf makes. exp_u20 does not propagate NaN, but
// t, and with it the result, is NaN for a NaN input.
inline at::vec::Vectorized<float> normal_cdf(const at::vec::Vectorized<float>& x) {
  using V = at::vec::Vectorized<float>;
  return normal_cdf_from(x, (V(-0.5f) * x * x).exp_u20());
}
// For float vectors both come from one exp: the cdf's tails are built on
// exp(-x^2 / 2), the density's. (SLEEF's exp, accurate down to the
// density's denormals, where normal_cdf alone gets by with exp_u20.)
inline NormalCdfAndDensity<at::vec::Vectorized<float>> normal_cdf_and_density(
    const at::vec::Vectorized<float>& x) {
  using V = at::vec::Vectorized<float>;
  const V gaussian = (V(-0.5f) * x * x).exp();
  return {normal_cdf_from(x, gaussian), V(float(kInvSqrt2Pi)) * gaussian};
}
template <class T>
inline at::vec::Vectorized<T> where(
    const at::vec::Vectorized<T>& mask, const at::vec::Vectorized<T>& a,
    const at::vec::Vectorized<T>& b) {
  return at::vec::Vectorized<T>::blendv(b, a, mask);
}
#endif

}  // namespace math
}  // namespace torch_act
