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

// exp(x) = 2^n (1 + m) for float vectors, inline (Vectorized<float>::exp is an
// out-of-line SLEEF call; exp_u20 is off by up to 20 ulps): x = n ln 2 + r
// with |r| <= ln(2) / 2 (ln 2 split in two so n ln 2 is exact enough), and
// m = exp(r) - 1 = r + r^2 P(r), P of degree 4 (relative error 1e-8, fitted
// as tools/fit_normal_cdf.py fits its polynomials). Below -104 exp is 0 in
// float, so x is clamped there (a NaN comes through).
struct ReducedExp {
  at::vec::Vectorized<float> n;  // an integer
  at::vec::Vectorized<float> m;
};
inline ReducedExp reduced_exp(const at::vec::Vectorized<float>& x) {
  using V = at::vec::Vectorized<float>;
  const V clamped = at::vec::clamp(x, V(-104.0f), V(89.0f));
  const V n = (clamped * V(1.44269504f)).round();
  V r = at::vec::fnmadd(n, V(0.693145752f), clamped);  // ln 2's high bits...
  r = at::vec::fnmadd(n, V(1.42860677e-06f), r);       // ...and the rest
  V p = at::vec::fmadd(V(0.00139066996f), r, V(0.00836294424f));
  p = at::vec::fmadd(p, r, V(0.0416667499f));
  p = at::vec::fmadd(p, r, V(0.166665792f));
  p = at::vec::fmadd(p, r, V(0.5f));
  return {n, at::vec::fmadd(r * r, p, r)};
}
// v 2^n for an integer n in [-150, 128], underflowing gradually.
inline at::vec::Vectorized<float> times_power_of_two(
    const at::vec::Vectorized<float>& v, const at::vec::Vectorized<float>& n) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_scalef_ps(v, n);  // one instruction, one rounding
#else
  // 2^n as 2^a 2^b, a = floor(n / 2), b = n - a: each a normal float.
  using V = at::vec::Vectorized<float>;
  const __m256i n_int = _mm256_cvtps_epi32(n);
  const __m256i a = _mm256_srai_epi32(n_int, 1);
  const __m256i b = _mm256_sub_epi32(n_int, a);
  const __m256i bias = _mm256_set1_epi32(127);
  const V two_to_a = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(a, bias), 23));
  const V two_to_b = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(b, bias), 23));
  return v * two_to_a * two_to_b;
#endif
}
// exp(x) for float vectors, about 1 ulp.
inline at::vec::Vectorized<float> exp_inline(const at::vec::Vectorized<float>& x) {
  const ReducedExp e = reduced_exp(x);
  return times_power_of_two(e.m + at::vec::Vectorized<float>(1.0f), e.n);
}
// exp(x) and 1 - exp(x) for x <= 0, the second without cancellation near 0:
// 1 - 2^n (1 + m) = (1 - 2^n) - 2^n m, where 1 - 2^n is exact (and 0 for n = 0).
struct ExpAndComplement {
  at::vec::Vectorized<float> exp;
  at::vec::Vectorized<float> one_minus_exp;
};
inline ExpAndComplement exp_and_complement(const at::vec::Vectorized<float>& x) {
  using V = at::vec::Vectorized<float>;
  const ReducedExp e = reduced_exp(x);
  const V power = times_power_of_two(V(1.0f), e.n);
  return {times_power_of_two(e.m + V(1.0f), e.n), at::vec::fnmadd(power, e.m, V(1.0f) - power)};
}

// Every functor's exp(x) on float vectors (sigmoid, SiLU, ELU, Softplus,
// GELU, ...): preferred over the Vectorized template above, which calls SLEEF.
inline at::vec::Vectorized<float> exp(const at::vec::Vectorized<float>& x) { return exp_inline(x); }

// Phi(-|x|) exp(x^2 / 2) for float vectors, every |x|, is T(q) = 1/2 - q U(q):
// q = w / (1 + w), w = 0.6 |x|, T of degree 9 (tools/fit_normal_cdf.py prints
// T; U's coefficients are T's after the first, negated: relative error 7e-9
// up to |x| = 4, 6e-5 beyond, where Phi(-|x|) < 4e-5 and float's 1 + erf is
// all cancellation). One piece for every x, so no second polynomial to blend
// with near 0, where q = w / (1 + w) keeps w's relative precision (1 - t,
// t = 1 / (1 + w), would lose it to t's rounding). This returns q U(q), so
// that the caller's 1/2 enters in its last rounding. |x| past 20 changes
// nothing (exp(-x^2 / 2) is 0 in float) and keeps the reciprocal's argument
// finite; a NaN comes through clamp_max.
inline at::vec::Vectorized<float> normal_tail_drop(const at::vec::Vectorized<float>& abs_x) {
  using V = at::vec::Vectorized<float>;
  const V w = V(0.6f) * at::vec::clamp_max(abs_x, V(20.0f));
  const V q = w * reciprocal_of_at_least_one(w + V(1.0f));
  V u = at::vec::fmadd(V(-0.0562241822f), q, V(0.132767975f));
  u = at::vec::fmadd(u, q, V(-0.10541226f));
  u = at::vec::fmadd(u, q, V(0.079330802f));
  u = at::vec::fmadd(u, q, V(-0.0276850834f));
  u = at::vec::fmadd(u, q, V(-0.0494201146f));
  u = at::vec::fmadd(u, q, V(-0.108816884f));
  u = at::vec::fmadd(u, q, V(-0.0295138527f));
  u = at::vec::fmadd(u, q, V(0.664903283f));
  return q * u;
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
// Phi(x) for float vectors, GELU within 1.9 ulps from -0.5 up and 8 down to
// -3 (tests/test_accuracy.py, which also holds it against torch's), from
// g = exp(-x^2 / 2) and h = 1 - g (which the callers compute as fits them):
// Phi(-|x|) = (1/2 - q U) g, one fnmadd; for x >= 0, Phi = 1/2 + (h / 2 +
// q U g), where the 1/2 enters in the last rounding (near 0, where GELU is
// nearly x / 2, 1 - Phi(-|x|) would round twice and lose an ulp).
inline at::vec::Vectorized<float> normal_cdf_from(
    const at::vec::Vectorized<float>& x, const at::vec::Vectorized<float>& gaussian,
    const at::vec::Vectorized<float>& one_minus_gaussian) {
  using V = at::vec::Vectorized<float>;
  const V drop = normal_tail_drop(x.abs());
  const V lower = at::vec::fnmadd(drop, gaussian, V(0.5f) * gaussian);
  const V upper = V(0.5f) + at::vec::fmadd(drop, gaussian, V(0.5f) * one_minus_gaussian);
#if defined(CPU_CAPABILITY_AVX512)
  // A mask register: Vectorized's compare and blendv would round-trip the
  // mask through a vector register.
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, V(0.0f), _CMP_GE_OQ), lower, upper);
#else
  return V::blendv(upper, lower, x < V(0.0f));
#endif
}
inline at::vec::Vectorized<float> normal_cdf(const at::vec::Vectorized<float>& x) {
  using V = at::vec::Vectorized<float>;
  const ExpAndComplement gaussian = exp_and_complement(V(-0.5f) * x * x);
  return normal_cdf_from(x, gaussian.exp, gaussian.one_minus_exp);
}
// For float vectors both come from one exp: the cdf's tails are built on
// exp(-x^2 / 2), the density's.
inline NormalCdfAndDensity<at::vec::Vectorized<float>> normal_cdf_and_density(
    const at::vec::Vectorized<float>& x) {
  using V = at::vec::Vectorized<float>;
  const ExpAndComplement gaussian = exp_and_complement(V(-0.5f) * x * x);
  return {
      normal_cdf_from(x, gaussian.exp, gaussian.one_minus_exp),
      V(float(kInvSqrt2Pi)) * gaussian.exp};
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
