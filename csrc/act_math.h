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
#define TORCH_ACT_SCALAR_UNARY(fn)                              \
  TORCH_ACT_HD inline float fn(float x) { return ::fn##f(x); }  \
  TORCH_ACT_HD inline double fn(double x) { return ::fn(x); }
TORCH_ACT_SCALAR_UNARY(exp)
TORCH_ACT_SCALAR_UNARY(expm1)
TORCH_ACT_SCALAR_UNARY(log1p)
TORCH_ACT_SCALAR_UNARY(tanh)
TORCH_ACT_SCALAR_UNARY(erf)
#undef TORCH_ACT_SCALAR_UNARY

TORCH_ACT_HD inline float abs(float x) { return ::fabsf(x); }
TORCH_ACT_HD inline double abs(double x) { return ::fabs(x); }

// clamp_below(x, lo) and clamp_to(x, lo, hi): torch's clamp_min and clamp, a
// NaN in x (or, for clamp_to, in a bound) propagated. Named apart from
// at::vec::clamp_min/clamp, which argument-dependent lookup would otherwise
// make ambiguous for vectors.
#define TORCH_ACT_SCALAR_CLAMP(T)                                                     \
  TORCH_ACT_HD inline T clamp_below(T x, T lo) { return x < lo ? lo : x; }              \
  TORCH_ACT_HD inline T clamp_to(T x, T lo, T hi) {                                     \
    const T y = (x < lo || lo != lo) ? lo : x;                                            \
    return (y > hi || hi != hi) ? hi : y;                                                 \
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
#define TORCH_ACT_VECTOR_UNARY(fn)                                                       \
  template <class T>                                                                     \
  inline at::vec::Vectorized<T> fn(const at::vec::Vectorized<T>& x) { return x.fn(); }
TORCH_ACT_VECTOR_UNARY(exp)
TORCH_ACT_VECTOR_UNARY(expm1)
TORCH_ACT_VECTOR_UNARY(log1p)
TORCH_ACT_VECTOR_UNARY(tanh)
TORCH_ACT_VECTOR_UNARY(erf)
TORCH_ACT_VECTOR_UNARY(abs)
#undef TORCH_ACT_VECTOR_UNARY
// One max (and one min) instruction; a NaN in x comes through.
template <class T>
inline at::vec::Vectorized<T> clamp_below(const at::vec::Vectorized<T>& x, const at::vec::Vectorized<T>& lo) {
  return at::vec::clamp_min(x, lo);
}
template <class T>
inline at::vec::Vectorized<T> clamp_to(
    const at::vec::Vectorized<T>& x, const at::vec::Vectorized<T>& lo, const at::vec::Vectorized<T>& hi) {
  return at::vec::clamp(x, lo, hi);
}

// float: Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7, below float32's own
// rounding near 1) with ATen's inline exp_u20 polynomial, instead of the
// out-of-line SLEEF exp call that Vectorized<float>::erf makes. exp_u20 does
// not propagate NaN, but t, and with it the result, is NaN for a NaN input.
inline at::vec::Vectorized<float> erf(const at::vec::Vectorized<float>& x) {
  using V = at::vec::Vectorized<float>;
  const V a = x.abs();
  const V t = V(1.0f) / at::vec::fmadd(V(0.3275911f), a, V(1.0f));
  V poly = at::vec::fmadd(V(1.061405429f), t, V(-1.453152027f));
  poly = at::vec::fmadd(poly, t, V(1.421413741f));
  poly = at::vec::fmadd(poly, t, V(-0.284496736f));
  poly = at::vec::fmadd(poly, t, V(0.254829592f));
  const V y = V(1.0f) - poly * t * (V(0.0f) - a * a).exp_u20();
  return V::blendv(y, V(0.0f) - y, x < V(0.0f));
}
template <class T>
inline at::vec::Vectorized<T> where(
    const at::vec::Vectorized<T>& mask,
    const at::vec::Vectorized<T>& a,
    const at::vec::Vectorized<T>& b) {
  return at::vec::Vectorized<T>::blendv(b, a, mask);
}
#endif

} // namespace math
} // namespace torch_act
