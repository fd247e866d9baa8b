// Math primitives that one formula can be written against and compiled for
// float/double scalars (host or CUDA device) and, in the AVX2/AVX-512 builds
// of the CPU kernels, for at::vec::Vectorized<T>. (The DEFAULT build uses plain
// scalar loops instead: generic Vectorized compares and blends branch per lane.)
//
// A functor in activations.h calls exp(x), where(mask, a, b), x <= zero, ...;
// overload resolution picks the scalar or the SIMD version here.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

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

// clamp_below(x, lo), clamp_above(x, hi) and clamp_to(x, lo, hi): torch's
// clamp_min, clamp_max and clamp, a NaN in x (or, for clamp_to, in a bound)
// propagated. Named apart from
// at::vec::clamp_min/clamp, which argument-dependent lookup would otherwise
// make ambiguous for vectors.
#define TORCH_ACT_SCALAR_CLAMP(T)                                          \
  TORCH_ACT_HD inline T clamp_below(T x, T lo) { return x < lo ? lo : x; } \
  TORCH_ACT_HD inline T clamp_above(T x, T hi) { return x > hi ? hi : x; } \
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
inline at::vec::Vectorized<T> clamp_above(
    const at::vec::Vectorized<T>& x, const at::vec::Vectorized<T>& hi) {
  return at::vec::clamp_max(x, hi);
}
template <class T>
inline at::vec::Vectorized<T> clamp_to(
    const at::vec::Vectorized<T>& x, const at::vec::Vectorized<T>& lo,
    const at::vec::Vectorized<T>& hi) {
  return at::vec::clamp(x, lo, hi);
}

// n / d for finite d >= 1 (or NaN): the hardware's reciprocal estimate r
// (14 or 12 bits), q = n r, and one correction q + r (n - d q), whose
// residual the fma computes exactly: within about an ulp, a few cycles in
// the pipeline instead of a division.
inline at::vec::Vectorized<float> divide_by_at_least_one(
    const at::vec::Vectorized<float>& n, const at::vec::Vectorized<float>& d) {
  using V = at::vec::Vectorized<float>;
#if defined(CPU_CAPABILITY_AVX512)
  const V r = _mm512_rcp14_ps(d);
#else
  const V r = _mm256_rcp_ps(d);
#endif
  const V q = n * r;
  return at::vec::fmadd(r, at::vec::fnmadd(d, q, n), q);
}
inline at::vec::Vectorized<float> round_to_integer(const at::vec::Vectorized<float>& x) {
  return x.round();
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
// |magnitude| with the sign of x, for a magnitude whose sign bit is clear.
inline at::vec::Vectorized<float> with_sign_of(
    const at::vec::Vectorized<float>& magnitude, const at::vec::Vectorized<float>& x) {
#if defined(CPU_CAPABILITY_AVX512)
  // One vpternlogd (0xCA: sign bit ? x : magnitude).
  const __m512i sign = _mm512_set1_epi32(INT32_MIN);
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(
      sign, _mm512_castps_si512(x), _mm512_castps_si512(magnitude), 0xCA));
#else
  return _mm256_or_ps(magnitude, _mm256_and_ps(x, _mm256_set1_ps(-0.0f)));
#endif
}
// x >= 0 ? if_not_negative : if_negative (a NaN x takes if_negative).
inline at::vec::Vectorized<float> where_not_negative(
    const at::vec::Vectorized<float>& x, const at::vec::Vectorized<float>& if_not_negative,
    const at::vec::Vectorized<float>& if_negative) {
#if defined(CPU_CAPABILITY_AVX512)
  // A mask register: Vectorized's compare and blendv would round-trip the
  // mask through a vector register.
  return _mm512_mask_blend_ps(
      _mm512_cmp_ps_mask(x, at::vec::Vectorized<float>(0.0f), _CMP_GE_OQ), if_negative,
      if_not_negative);
#else
  return at::vec::Vectorized<float>::blendv(
      if_negative, if_not_negative, x >= at::vec::Vectorized<float>(0.0f));
#endif
}
template <class T>
inline at::vec::Vectorized<T> where(
    const at::vec::Vectorized<T>& mask, const at::vec::Vectorized<T>& a,
    const at::vec::Vectorized<T>& b) {
  return at::vec::Vectorized<T>::blendv(b, a, mask);
}
#if defined(CPU_CAPABILITY_AVX512)
// A comparison's lanes are all ones or all zeros, so they select bitwise: one
// vpternlogd (0xCA: mask ? a : b), where blendv first compares the mask with
// all ones into a mask register.
inline at::vec::Vectorized<float> where(
    const at::vec::Vectorized<float>& mask, const at::vec::Vectorized<float>& a,
    const at::vec::Vectorized<float>& b) {
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(
      _mm512_castps_si512(mask), _mm512_castps_si512(a), _mm512_castps_si512(b), 0xCA));
}
#endif
#endif  // TORCH_ACT_SIMD

#if defined(CPU_CAPABILITY_DEFAULT)
// The float of the DEFAULT build's CPU loops (csrc/cpu/elementwise.h): a float
// whose exp, expm1, tanh, log1p and Phi are the inline, branch-free ones
// below, not the C library's. A loop that calls no library function is one
// the compiler vectorizes for the baseline ISA (SSE2 on x86-64, NEON on
// aarch64), which is all the DEFAULT build may assume. A type of its own, not
// float overloads: the scalar float math of every other translation unit
// (CUDA's host side, the SIMD builds' scalar tails) stays the C library's
// under the same names. Defined in this one translation unit only.
struct LaneFloat {
  float value;
  LaneFloat() = default;
  template <class S, class = std::enable_if_t<std::is_convertible_v<S, float>>>
  explicit constexpr LaneFloat(S s) : value(static_cast<float>(s)) {}
  explicit constexpr operator float() const { return value; }
};
#define TORCH_ACT_LANE_ARITHMETIC(op) \
  inline LaneFloat operator op(LaneFloat a, LaneFloat b) { return LaneFloat(a.value op b.value); }
TORCH_ACT_LANE_ARITHMETIC(+)
TORCH_ACT_LANE_ARITHMETIC(-)
TORCH_ACT_LANE_ARITHMETIC(*)
TORCH_ACT_LANE_ARITHMETIC(/)
#undef TORCH_ACT_LANE_ARITHMETIC
#define TORCH_ACT_LANE_COMPARISON(op) \
  inline bool operator op(LaneFloat a, LaneFloat b) { return a.value op b.value; }
TORCH_ACT_LANE_COMPARISON(<)
TORCH_ACT_LANE_COMPARISON(<=)
TORCH_ACT_LANE_COMPARISON(>)
TORCH_ACT_LANE_COMPARISON(>=)
TORCH_ACT_LANE_COMPARISON(==)
TORCH_ACT_LANE_COMPARISON(!=)
#undef TORCH_ACT_LANE_COMPARISON
inline LaneFloat operator-(LaneFloat a) { return LaneFloat(-a.value); }

inline LaneFloat abs(LaneFloat x) { return LaneFloat(__builtin_fabsf(x.value)); }
inline LaneFloat clamp_below(LaneFloat x, LaneFloat lo) {
  return LaneFloat(clamp_below(x.value, lo.value));
}
inline LaneFloat clamp_above(LaneFloat x, LaneFloat hi) {
  return LaneFloat(clamp_above(x.value, hi.value));
}
inline LaneFloat clamp_to(LaneFloat x, LaneFloat lo, LaneFloat hi) {
  return LaneFloat(clamp_to(x.value, lo.value, hi.value));
}
// a b + c, fused where the baseline ISA has a fused multiply-add (aarch64;
// not x86-64's SSE2, where std::fma would be a library call).
inline LaneFloat fmadd(LaneFloat a, LaneFloat b, LaneFloat c) {
#if defined(__FP_FAST_FMAF)
  return LaneFloat(__builtin_fmaf(a.value, b.value, c.value));
#else
  return a * b + c;
#endif
}
inline LaneFloat fnmadd(LaneFloat a, LaneFloat b, LaneFloat c) { return fmadd(-a, b, c); }
inline LaneFloat divide_by_at_least_one(LaneFloat n, LaneFloat d) { return n / d; }
// Round to nearest (even) for |x| < 2^22, without SSE4.1's round: adding
// 1.5 * 2^23 leaves no fraction bits, and the rounding is the addition's.
inline LaneFloat round_to_integer(LaneFloat x) {
  constexpr float kShift = 12582912.0f;  // 1.5 * 2^23
  return (x + LaneFloat(kShift)) - LaneFloat(kShift);
}
inline float float_from_bits(int32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
inline int32_t bits_of_float(float f) {
  int32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}
// v 2^n for an integer n in [-150, 128], underflowing gradually: 2^n as
// 2^a 2^b, a = floor(n / 2), b = n - a, each a normal float. (n is NaN only
// where v is: whatever the conversion makes of it multiplies a NaN.)
inline LaneFloat times_power_of_two(LaneFloat v, LaneFloat n) {
  const int32_t n_int = static_cast<int32_t>(n.value);
  const int32_t a = n_int >> 1;
  const int32_t b = n_int - a;
  return v * LaneFloat(float_from_bits((a + 127) << 23)) *
         LaneFloat(float_from_bits((b + 127) << 23));
}
// Selects on the floats, not the structs: GCC does not vectorize a select
// of two struct copies.
inline LaneFloat where(bool cond, LaneFloat a, LaneFloat b) {
  return LaneFloat(cond ? a.value : b.value);
}
inline LaneFloat with_sign_of(LaneFloat magnitude, LaneFloat x) {
  return LaneFloat(__builtin_copysignf(magnitude.value, x.value));
}
inline LaneFloat where_not_negative(LaneFloat x, LaneFloat if_not_negative, LaneFloat if_negative) {
  return where(x >= LaneFloat(0.0f), if_not_negative, if_negative);
}
#endif  // CPU_CAPABILITY_DEFAULT

#if defined(TORCH_ACT_SIMD) || defined(CPU_CAPABILITY_DEFAULT)
// Inline float math, written once for a "lane" type V: Vectorized<float> in
// the AVX2/AVX-512 builds, LaneFloat in the DEFAULT build. V provides V(float),
// + - * /, comparisons, where, abs, clamp_to, fmadd, fnmadd, round_to_integer,
// times_power_of_two, divide_by_at_least_one, with_sign_of and
// where_not_negative
// (above). The polynomials' coefficients come from tools/fit_normal_cdf.py.
namespace lanes {

// exp(x) = 2^n (1 + m): x = n ln 2 + r with |r| <= ln(2) / 2 (ln 2 split in
// two so n ln 2 is exact enough), and m = exp(r) - 1 = r + r^2 P(r), P of
// degree 4 (relative error 1e-8). Below -104 exp is 0 in float, so x is
// clamped there (a NaN comes through).
template <class V>
struct ReducedExp {
  V n;  // an integer
  V m;
};
// x in [-104, 89] or NaN.
template <class V>
inline ReducedExp<V> reduce_exp_argument(const V& x) {
  const V n = round_to_integer(x * V(1.44269504f));
  V r = fnmadd(n, V(0.693145752f), x);   // ln 2's high bits...
  r = fnmadd(n, V(1.42860677e-06f), r);  // ...and the rest
  V p = fmadd(V(0.00139066996f), r, V(0.00836294424f));
  p = fmadd(p, r, V(0.0416667499f));
  p = fmadd(p, r, V(0.166665792f));
  p = fmadd(p, r, V(0.5f));
  return {n, fmadd(r * r, p, r)};
}
template <class V>
inline ReducedExp<V> reduced_exp(const V& x) {
  return reduce_exp_argument(clamp_to(x, V(-104.0f), V(89.0f)));
}
// exp(x), about 1 ulp.
template <class V>
inline V exp(const V& x) {
  const ReducedExp<V> e = reduced_exp(x);
  return times_power_of_two(e.m + V(1.0f), e.n);
}
// exp(x) and 1 - exp(x), the second without cancellation near 0 (and right
// for x below 16, where 2^n is finite): 1 - 2^n (1 + m) = (1 - 2^n) - 2^n m,
// where 1 - 2^n is exact (and 0 for n = 0).
template <class V>
struct ExpAndComplement {
  V exp;
  V one_minus_exp;
};
template <class V>
inline ExpAndComplement<V> exp_and_complement(const V& x) {
  const ReducedExp<V> e = reduced_exp(x);
  const V power = times_power_of_two(V(1.0f), e.n);
  return {times_power_of_two(e.m + V(1.0f), e.n), fnmadd(power, e.m, V(1.0f) - power)};
}
// s exp(x) and s (1 - exp(x)) for x in [-104, 0] (or NaN) and s a power of
// two: the argument needs no clamp, and 2^n <= 1, so s exp(x) = s 2^n +
// s 2^n m is one fma (no 2^n overflows). The scale is exact, and saves the
// callers a product.
template <class V>
inline ExpAndComplement<V> scaled_exp_and_complement_below_zero(const V& x, float scale) {
  const ReducedExp<V> e = reduce_exp_argument(x);
  const V power = times_power_of_two(V(scale), e.n);
  return {fmadd(power, e.m, power), fnmadd(power, e.m, V(scale) - power)};
}
// exp(x) - 1: near 0 from the complement, past 16 (where exp(x) - 1 loses
// nothing) from exp.
template <class V>
inline V expm1(const V& x) {
  const ExpAndComplement<V> e = exp_and_complement(x);
  return where(x < V(16.0f), V(0.0f) - e.one_minus_exp, e.exp - V(1.0f));
}
// S(z) of tanh x = x + x^3 S(x^2), |x| < 1: degree 7, relative error of
// tanh 9e-9 (and of S 3e-8).
template <class V>
inline V tanh_cubic_part(const V& z) {
  V s = fmadd(V(0.000208268233f), z, V(-0.00115822465f));
  s = fmadd(s, z, V(0.0035389706f));
  s = fmadd(s, z, V(-0.00893244427f));
  s = fmadd(s, z, V(0.0219153687f));
  s = fmadd(s, z, V(-0.0539785624f));
  s = fmadd(s, z, V(0.13333413f));
  return fmadd(s, z, V(-0.333333343f));
}
// tanh x, computed on a = |x| and given x's sign last (a zero keeps its
// sign): below a = 1, a + a^3 S(a^2) (its a^3 term underflows harmlessly);
// above, (1 - e) / (1 + e) with e = exp(-2a), 1 - e from the complement (1.5
// ulps there, 2 nearer 0, hence the polynomial). Past a = 52 e is 0, so the
// exp's argument is clamped there.
template <class V>
inline V tanh(const V& x) {
  const V magnitude = abs(x);
  const V z = magnitude * magnitude;
  const V small = fmadd(magnitude * z, tanh_cubic_part(z), magnitude);
  const ExpAndComplement<V> e =
      scaled_exp_and_complement_below_zero(clamp_below(V(-2.0f) * magnitude, V(-104.0f)), 1.0f);
  const V large = e.one_minus_exp / (V(1.0f) + e.exp);
  return with_sign_of(where(magnitude < V(1.0f), small, large), x);
}
// x - tanh x without its cancellation: -x^3 S(x^2) below |x| = 1, and above,
// (|x| - 1) + 2e / (1 + e), a sum of two positive terms (x - tanh x would
// magnify tanh's rounding up to 4 times there), with the sign of x.
template <class V>
inline V x_minus_tanh(const V& x) {
  const V magnitude = abs(x);
  const V z = x * x;
  const V small = V(0.0f) - x * z * tanh_cubic_part(z);
  const V e = exp(V(-2.0f) * magnitude);
  const V tail = (magnitude - V(1.0f)) + V(2.0f) * e / (V(1.0f) + e);
  return where(magnitude < V(1.0f), small, where(x < V(0.0f), V(0.0f) - tail, tail));
}

// Phi and its density are built on g = exp(-x^2 / 2) and h = 1 - g. Beyond
// |x| = kGaussianEnd, -x^2 / 2 < -104 and g is 0 in float, so |x| is clamped
// there once, for the exp and for T below (a NaN comes through the clamp).
constexpr float kGaussianEnd = 14.4f;
// g / 2 and h / 2 for 0 <= a <= kGaussianEnd (or NaN), g = exp(-a^2 / 2):
// halves, because Phi below wants them.
template <class V>
inline ExpAndComplement<V> half_gaussian(const V& a) {
  return scaled_exp_and_complement_below_zero(V(-0.5f) * a * a, 0.5f);
}
// Phi(-a) exp(a^2 / 2), a = |x| up to kGaussianEnd, is T(q) = 1/2 - q U(q):
// q = a / (a + kTailOffset), T of degree 9 (tools/fit_normal_cdf.py prints
// T; the coefficients below are 2U's, T's after the first negated and
// doubled: relative error 6.3e-9 up to |x| = 4, 5.4e-5 beyond, where
// Phi(-|x|) < 4e-5 and float's 1 + erf is all cancellation). One piece for
// every x, so no second polynomial to blend with near 0, where a / (a + c)
// keeps a's relative precision (1 - c / (a + c) would lose it to the
// quotient's rounding). This returns 2 q U(q), so that the caller's 1/2
// enters in its last rounding.
template <class V>
inline V normal_tail_drop(const V& a) {
  constexpr float kTailOffset = 1.66666663f;  // float(5 / 3)
  const V q = divide_by_at_least_one(a, a + V(kTailOffset));
  V u = fmadd(V(-0.111777201f), q, V(0.263457865f));
  u = fmadd(u, q, V(-0.208147451f));
  u = fmadd(u, q, V(0.156805709f));
  u = fmadd(u, q, V(-0.0546227992f));
  u = fmadd(u, q, V(-0.0990159884f));
  u = fmadd(u, q, V(-0.217610821f));
  u = fmadd(u, q, V(-0.0590291247f));
  u = fmadd(u, q, V(1.32980657f));
  return q * u;
}
// Phi(x), GELU within 1.9 ulps from -0.5 up and 7 down to -3
// (tests/test_accuracy.py, which also holds it against torch's), from a =
// |x| clamped and g / 2, h / 2 (half_gaussian): Phi(-|x|) = (1/2 - q U) g,
// one fnmadd; for x >= 0, Phi = 1/2 + (h / 2 + q U g), where the 1/2 enters
// in the last rounding (near 0, where GELU is nearly x / 2, 1 - Phi(-|x|)
// would round twice and lose an ulp).
template <class V>
inline V normal_cdf_from(const V& x, const V& a, const ExpAndComplement<V>& half_gaussian) {
  const V drop = normal_tail_drop(a);
  const V lower = fnmadd(drop, half_gaussian.exp, half_gaussian.exp);
  const V upper = V(0.5f) + fmadd(drop, half_gaussian.exp, half_gaussian.one_minus_exp);
  return where_not_negative(x, upper, lower);
}
template <class V>
inline V normal_cdf(const V& x) {
  const V a = clamp_above(abs(x), V(kGaussianEnd));
  return normal_cdf_from(x, a, half_gaussian(a));
}

}  // namespace lanes
#endif

#if defined(TORCH_ACT_SIMD)
// Every functor's exp(x) on float vectors (sigmoid, SiLU, ELU, Softplus,
// GELU, ...): inline, preferred over the Vectorized template above, which
// calls SLEEF (exp_u20 would be off by up to 20 ulps).
inline at::vec::Vectorized<float> exp(const at::vec::Vectorized<float>& x) { return lanes::exp(x); }
inline at::vec::Vectorized<float> x_minus_tanh(const at::vec::Vectorized<float>& x) {
  return lanes::x_minus_tanh(x);
}
// Inline too: Vectorized<float>::tanh is an out-of-line SLEEF call, and was
// 4x slower than the MKL tanh that native torch runs on Intel CPUs.
inline at::vec::Vectorized<float> tanh(const at::vec::Vectorized<float>& x) {
  return lanes::tanh(x);
}
#endif

#if defined(CPU_CAPABILITY_DEFAULT)
inline LaneFloat exp(LaneFloat x) { return lanes::exp(x); }
inline LaneFloat expm1(LaneFloat x) { return lanes::expm1(x); }
inline LaneFloat tanh(LaneFloat x) { return lanes::tanh(x); }
inline LaneFloat x_minus_tanh(LaneFloat x) { return lanes::x_minus_tanh(x); }
// log(1 + y) as fdlibm's log1p computes it: u = 1 + y = 2^k f with f in
// [sqrt(1/2), sqrt(2)), log f = 2 atanh(s), s = (f - 1) / (f + 1), whose
// series in s^2 <= 0.03 ends after five terms, and c = (y - (u - 1)) / u,
// what u's rounding lost, added back. u = inf or NaN is its own answer; u = 0
// gives -inf and u < 0 NaN.
inline LaneFloat log1p(LaneFloat y) {
  using V = LaneFloat;
  const V u = V(1.0f) + y;
  const V lost = (y - (u - V(1.0f))) / u;
  const int32_t k = (bits_of_float(u.value) - 0x3f3504f3) >> 23;  // floor: u >= 2^-24
  const V f = V(float_from_bits(bits_of_float(u.value) - (k << 23))) - V(1.0f);
  const V s = f / (V(2.0f) + f);
  const V z = s * s;
  V r = fmadd(z, V(2.0f / 11), V(2.0f / 9));
  r = fmadd(r, z, V(2.0f / 7));
  r = fmadd(r, z, V(2.0f / 5));
  r = fmadd(r, z, V(2.0f / 3));
  r = r * z;
  const V half_f_squared = V(0.5f) * f * f;
  const V kf = V(k);
  const V log_u = fmadd(
      kf, V(0.693145752f),
      f - (half_f_squared - (s * (half_f_squared + r) + fmadd(kf, V(1.42860677e-06f), lost))));
  // (Nested selects, not &&: its branch would stop the vectorizer.)
  const V infinity(__builtin_inff());
  const V special =
      where(u == V(0.0f), V(0.0f) - infinity, where(u > V(0.0f), u, V(__builtin_nanf(""))));
  return where(u > V(0.0f), where(u < infinity, log_u, special), special);
}
inline LaneFloat normal_cdf(LaneFloat x) { return lanes::normal_cdf(x); }
#endif

// x - tanh x (Tanhshrink). Near 0 it cancels to nothing but tanh's rounding:
// its series x^3/3 - 2x^5/15 + 17x^7/315 - 62x^9/2835 there instead (the next
// term is 1e-16 of the sum at |x| = 1/128, so double keeps its precision too).
// Float lanes (SIMD and DEFAULT builds) have their own, above.
template <class T>
TORCH_ACT_HD inline T x_minus_tanh(T x) {
  const T x2 = x * x;
  const T series =
      x * x2 * (T(1.0 / 3) + x2 * (T(-2.0 / 15) + x2 * (T(17.0 / 315) + x2 * T(-62.0 / 2835))));
  return where(abs(x) < T(1.0 / 128), series, x - tanh(x));
}

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

#if defined(TORCH_ACT_SIMD) || defined(CPU_CAPABILITY_DEFAULT)
// For float lanes both come from one exp: the cdf's tails are built on
// exp(-x^2 / 2), the density's.
namespace lanes {
template <class V>
inline NormalCdfAndDensity<V> normal_cdf_and_density(const V& x) {
  const V a = clamp_above(abs(x), V(kGaussianEnd));
  const ExpAndComplement<V> gaussian = half_gaussian(a);
  return {normal_cdf_from(x, a, gaussian), V(float(2 * kInvSqrt2Pi)) * gaussian.exp};
}
}  // namespace lanes
#endif
#if defined(TORCH_ACT_SIMD)
inline at::vec::Vectorized<float> normal_cdf(const at::vec::Vectorized<float>& x) {
  return lanes::normal_cdf(x);
}
inline NormalCdfAndDensity<at::vec::Vectorized<float>> normal_cdf_and_density(
    const at::vec::Vectorized<float>& x) {
  return lanes::normal_cdf_and_density(x);
}
#endif
#if defined(CPU_CAPABILITY_DEFAULT)
inline NormalCdfAndDensity<LaneFloat> normal_cdf_and_density(LaneFloat x) {
  return lanes::normal_cdf_and_density(x);
}
#endif

}  // namespace math
}  // namespace torch_act
