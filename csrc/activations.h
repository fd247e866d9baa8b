// The math of every activation, written once.
//
// Each functor is the only place its activation's formula lives. Its member
// templates are instantiated with T = float/double (scalar CPU loop tails and
// CUDA device code) and T = at::vec::Vectorized<float|double> (the CPU SIMD
// main loop). Half and bfloat16 are loaded, computed in float, stored back.
//
// Unary activations (y = f(x; fixed hyper-parameters)) provide:
//   name, schema_params     op name and the schema text after `Tensor self`
//   Params                  C++ types of those schema arguments, in order
//   saved                   which tensor backward reads: the input or the output
//   has_inplace             whether torch.nn offers inplace=True for it
//   forward(x)              f(x)
//   backward(g, s)          g * f'(x), written in terms of the saved element s
//   double_backward(gg,g,s) gg * g * d f'(x) / d s  (the backward's derivative
//                           w.r.t. the saved tensor; its derivative w.r.t. g is
//                           the backward itself, since it is linear in g)
//   InplaceGradient         (optional) the functor whose backward the in-place
//                           op's node runs, when the in-place op saves the
//                           output but the out-of-place op saves the input
//   backward_only           (optional) true for such a functor: it has no
//                           forward ops, only <name>_backward and _double_backward
//   gradient_bit(s)         (piecewise-linear ones) T(1) or T(0): the one bit of s
//   backward_from_bit(g, b) the backward depends on, and the backward given it;
//                           backward(g, s) is backward_from_bit(g, gradient_bit(s)),
//                           so a 1-bit packed backward (packed_codes.h) is exact
//
// Activations with a learnable parameter tensor p broadcast against x (PReLU's
// weight, Swish's beta) provide forward(x, p), backward(g, x, p) -> {gx, gp}
// and double_backward(ggx, ggp, g, x, p) -> {g_g, g_x, g_p}; gp and g_p are per
// element and reduced to p's shape by the op (see param_ops.cpp).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <c10/util/Exception.h>

#include "act_math.h"

namespace torch_act {

enum class Saved { Input, Output };

// Several outputs of one elementwise evaluation (an aggregate that also works
// in CUDA device code, where std::array is not guaranteed to).
template <class T, int N>
struct Values {
  T v[N];
  TORCH_ACT_HD T& operator[](int i) { return v[i]; }
  TORCH_ACT_HD const T& operator[](int i) const { return v[i]; }
};

using math::abs;
using math::clamp_below;
using math::clamp_to;
using math::erfc;
using math::exp;
using math::expm1;
using math::log1p;
using math::tanh;
using math::where;

template <class T>
TORCH_ACT_HD inline T sigmoid_of(T x) {
  return T(1) / (T(1) + exp(T(0) - x));
}

// ---------------------------------------------------------------- sigmoid, tanh

struct Sigmoid {
  static constexpr const char* name = "sigmoid";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Output;
  static constexpr bool has_inplace = false;

  template <class T> TORCH_ACT_HD T forward(T x) const { return sigmoid_of(x); }
  template <class T> TORCH_ACT_HD T backward(T g, T y) const { return g * (T(1) - y) * y; }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T y) const {
    return gg * g * (T(1) - T(2) * y);
  }
};

struct Tanh {
  static constexpr const char* name = "tanh";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Output;
  static constexpr bool has_inplace = false;

  template <class T> TORCH_ACT_HD T forward(T x) const { return tanh(x); }
  template <class T> TORCH_ACT_HD T backward(T g, T y) const { return g * (T(1) - y * y); }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T y) const {
    return gg * g * (T(-2) * y);
  }
};

// ------------------------------------------------------------ ReLU, LeakyReLU
// Kinks follow torch: the x <= 0 branch is taken at exactly 0, and a NaN input
// falls through the comparison to the branch that propagates it.

struct Relu {
  static constexpr const char* name = "relu";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Output;  // y > 0 exactly where x > 0
  static constexpr bool has_inplace = true;

  template <class T> TORCH_ACT_HD T forward(T x) const { return clamp_below(x, T(0)); }
  // x <= 0 exactly where y <= 0 (and a NaN is NaN in both), so the bit can be
  // taken from either.
  template <class T> TORCH_ACT_HD T gradient_bit(T y) const { return where(y <= T(0), T(0), T(1)); }
  template <class T> TORCH_ACT_HD T backward_from_bit(T g, T bit) const {
    return where(bit != T(0), g, T(0));
  }
  template <class T> TORCH_ACT_HD T backward(T g, T y) const {
    return backward_from_bit(g, gradient_bit(y));
  }
  template <class T> TORCH_ACT_HD T double_backward(T, T, T) const { return T(0); }
};

struct LeakyRelu {
  static constexpr const char* name = "leaky_relu";
  static constexpr const char* schema_params = "float negative_slope=0.01";
  using Params = std::tuple<double>;
  // The input, because a negative slope makes the output's sign ambiguous.
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = true;

  double negative_slope;
  explicit LeakyRelu(double negative_slope) : negative_slope(negative_slope) {}

  template <class T> TORCH_ACT_HD T forward(T x) const {
    return where(x > T(0), x, x * T(negative_slope));
  }
  template <class T> TORCH_ACT_HD T gradient_bit(T x) const { return where(x > T(0), T(1), T(0)); }
  template <class T> TORCH_ACT_HD T backward_from_bit(T g, T bit) const {
    return where(bit != T(0), g, g * T(negative_slope));
  }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return backward_from_bit(g, gradient_bit(x));
  }
  template <class T> TORCH_ACT_HD T double_backward(T, T, T) const { return T(0); }
};

// ----------------------------------------------------------------- ELU, SELU
// Out of place both save the input, as torch does: from the output, f'(x) for
// x <= 0 would be y + alpha*scale, which loses every digit once y rounds to
// -alpha*scale (x below about -17 in float32, -6 in bfloat16, and from -4 on
// most of them). In place the input is overwritten, so elu_ and selu_ save the
// output (the op's result, as torch does) and their node runs EluResult's and
// SeluResult's backward ops, below.
struct EluResult;
struct SeluResult;

// The base of such a backward-only functor: Base's parameters and forward,
// the output saved, no ops but <name>_backward and <name>_double_backward.
template <class Base>
struct ResultGradient : Base {
  static constexpr Saved saved = Saved::Output;
  static constexpr bool has_inplace = false;
  static constexpr bool backward_only = true;
  using Base::Base;
};

struct Elu {
  static constexpr const char* name = "elu";
  static constexpr const char* schema_params = "float alpha=1.0";
  using Params = std::tuple<double>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = true;
  using InplaceGradient = EluResult;

  double alpha;
  explicit Elu(double alpha) : alpha(alpha) {}

  template <class T> TORCH_ACT_HD T forward(T x) const {
    return where(x <= T(0), T(alpha) * expm1(x), x);
  }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return where(x <= T(0), g * T(alpha) * exp(x), g);
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    return where(x <= T(0), gg * g * T(alpha) * exp(x), T(0));
  }
};

// elu_result_backward: ELU's gradient from its output, for elu_. For x <= 0,
// f'(x) = y + alpha. That needs alpha >= 0 (y must keep x's sign); autograd.cpp checks.
struct EluResult : ResultGradient<Elu> {
  static constexpr const char* name = "elu_result";
  using ResultGradient::ResultGradient;
  bool output_determines_gradient() const { return alpha >= 0; }

  template <class T> TORCH_ACT_HD T backward(T g, T y) const {
    return where(y <= T(0), g * (y + T(alpha)), g);
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T y) const {
    return where(y <= T(0), gg * g, T(0));
  }
};

struct Selu {
  // Klambauer et al. 2017: the fixed point (mean 0, variance 1) constants.
  static constexpr double kAlpha = 1.6732632423543772848170429916717;
  static constexpr double kScale = 1.0507009873554804934193349852946;
  static constexpr const char* name = "selu";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = true;
  using InplaceGradient = SeluResult;

  template <class T> TORCH_ACT_HD T forward(T x) const {
    return where(x <= T(0), T(kScale * kAlpha) * expm1(x), T(kScale) * x);
  }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return where(x <= T(0), g * T(kScale * kAlpha) * exp(x), g * T(kScale));
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    return where(x <= T(0), gg * g * T(kScale * kAlpha) * exp(x), T(0));
  }
};

// selu_result_backward: SELU's gradient from its output, for selu_.
struct SeluResult : ResultGradient<Selu> {
  static constexpr const char* name = "selu_result";

  template <class T> TORCH_ACT_HD T backward(T g, T y) const {
    return where(y <= T(0), g * (y + T(kScale * kAlpha)), g * T(kScale));
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T y) const {
    return where(y <= T(0), gg * g, T(0));
  }
};

// ------------------------------------------------------------ SiLU and Swish
// f(x; b) = x * sigmoid(b x). With s = sigmoid(b x), q = s(1-s), r = 2 + b x (1-2s):
//   df/dx = s + b x q          df/db = x^2 q
//   d2f/dx2 = b q r            d2f/dxdb = x q r          d2f/db2 = x^3 q (1-2s)
// SiLU is b = 1; Swish has b fixed (a float) or learnable (a tensor).
// Every product starts with x q: q underflows to 0 long before x, so a huge
// finite x gives x q = 0 where b x or x^2 would first overflow to inf (and
// inf * 0 = NaN, where torch's composite x * sigmoid(b x) is finite).
struct SwishMath {
  template <class T> TORCH_ACT_HD static T forward(T x, T b) {
    return x / (T(1) + exp(T(0) - b * x));
  }
  template <class T> TORCH_ACT_HD static T dfdx(T x, T b) {
    T s = sigmoid_of(b * x);
    return s + b * (x * (s * (T(1) - s)));
  }
  template <class T> TORCH_ACT_HD static T d2fdx2(T x, T b) {
    T s = sigmoid_of(b * x);
    T q = s * (T(1) - s);
    return b * (T(2) * q + b * (x * q) * (T(1) - T(2) * s));
  }
  // f and g f' at once, sharing one sigmoid (a gated unit's backward needs both).
  template <class T> TORCH_ACT_HD static Values<T, 2> value_and_slope(T g, T x, T b) {
    T s = sigmoid_of(b * x);
    return {{x * s, g * (s + b * (x * (s * (T(1) - s))))}};
  }
  // All five derivatives at once, sharing one sigmoid.
  template <class T>
  TORCH_ACT_HD static void all_derivatives(T x, T b, T& fx, T& fb, T& fxx, T& fxb, T& fbb) {
    T s = sigmoid_of(b * x);
    T q = s * (T(1) - s);
    T xq = x * q;
    T one_minus_2s = T(1) - T(2) * s;
    T qr = T(2) * q + b * xq * one_minus_2s;  // q r
    fx = s + b * xq;
    fb = x * xq;
    fxx = b * qr;
    fxb = T(2) * xq + b * (x * xq) * one_minus_2s;  // x q r
    fbb = x * (x * xq) * one_minus_2s;
  }
};

struct Silu {
  static constexpr const char* name = "silu";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = true;

  template <class T> TORCH_ACT_HD T forward(T x) const { return SwishMath::forward(x, T(1)); }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return g * SwishMath::dfdx(x, T(1));
  }
  template <class T> TORCH_ACT_HD Values<T, 2> value_and_slope(T g, T x) const {
    return SwishMath::value_and_slope(g, x, T(1));
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    return gg * g * SwishMath::d2fdx2(x, T(1));
  }
};

struct Swish {
  static constexpr const char* name = "swish";
  static constexpr const char* schema_params = "float beta=1.0";
  using Params = std::tuple<double>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = false;

  double beta;
  explicit Swish(double beta) : beta(beta) {}

  template <class T> TORCH_ACT_HD T forward(T x) const { return SwishMath::forward(x, T(beta)); }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return g * SwishMath::dfdx(x, T(beta));
  }
  template <class T> TORCH_ACT_HD Values<T, 2> value_and_slope(T g, T x) const {
    return SwishMath::value_and_slope(g, x, T(beta));
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    return gg * g * SwishMath::d2fdx2(x, T(beta));
  }
};

// ---------------------------------------------------------------------- GELU
// approximate='none':  f = x Phi(x),  f' = Phi(x) + x phi(x),  f'' = phi(x) (2 - x^2)
// approximate='tanh':  u = k (x + c x^3), t = tanh(u), f = x (1 + t) / 2,
//   f' = (1 + t)/2 + x (1 - t^2) u' / 2,  f'' = (1 - t^2) (u' + x (u'' - 2 t u'^2) / 2)
//   with u' = k (1 + 3 c x^2), u'' = 6 k c x   (Hendrycks & Gimpel 2016)
struct Gelu {
  static constexpr double kTanhScale = 0.79788456080286535588;  // sqrt(2/pi)
  static constexpr double kTanhCubic = 0.044715;
  static constexpr const char* name = "gelu";
  static constexpr const char* schema_params = "*, str approximate='none'";
  using Params = std::tuple<std::string_view>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = false;

  bool use_tanh;
  explicit Gelu(std::string_view approximate) : use_tanh(approximate == "tanh") {
    TORCH_CHECK(
        approximate == "none" || approximate == "tanh",
        "torch_act.gelu: approximate must be 'none' or 'tanh', got '", approximate, "'");
  }

  // The tanh approximation as (1 + tanh u) / 2 = sigmoid(2 u): one exp and
  // no cancellation where tanh u nears -1 (torch's form loses the left tail).
  // With s = sigmoid(2 u): f = x s, f' = s + 2 x s (1 - s) u'.
  template <class T> TORCH_ACT_HD static T tanh_argument(T x) {
    return T(kTanhScale) * (x + T(kTanhCubic) * x * x * x);
  }
  template <class T> TORCH_ACT_HD static T tanh_argument_slope(T x) {
    return T(kTanhScale) * (T(1) + T(3 * kTanhCubic) * x * x);
  }
  // {s, 1 - s}, s = sigmoid(2 u). 1 - s is e s (= e / (1 + e), e = exp(-2 u))
  // where s nears 1, so f' keeps its precision there; for s <= 1/2 (e >= 1,
  // inf in the far left tail) 1 - s itself is exact enough.
  template <class T> TORCH_ACT_HD static Values<T, 2> tanh_sigmoid(T x) {
    T e = exp(T(-2) * tanh_argument(x));
    T s = T(1) / (T(1) + e);
    return {{s, where(e <= T(1), e * s, T(1) - s)}};
  }

  template <class T> TORCH_ACT_HD T forward(T x) const {
    if (use_tanh) return x / (T(1) + exp(T(-2) * tanh_argument(x)));
    return x * math::normal_cdf(x);
  }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const { return value_and_slope(g, x)[1]; }
  // f and g f' at once, sharing the sigmoid or erf (a gated unit's backward
  // needs both).
  template <class T> TORCH_ACT_HD Values<T, 2> value_and_slope(T g, T x) const {
    if (use_tanh) {
      const auto s = tanh_sigmoid(x);
      return {{x * s[0], g * (s[0] + T(2) * x * (s[0] * s[1]) * tanh_argument_slope(x))}};
    }
    const auto normal = math::normal_cdf_and_density(x);
    return {{x * normal.cdf, g * (normal.cdf + x * normal.density)}};
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    T x2 = x * x;
    if (use_tanh) {
      // 1 - tanh(u)^2 = 4 s (1 - s), tanh u = s - (1 - s).
      const auto s = tanh_sigmoid(x);
      T t = s[0] - s[1];
      T du = tanh_argument_slope(x);
      T d2u = T(6 * kTanhScale * kTanhCubic) * x;
      return gg * g * (T(4) * s[0] * s[1]) * (du + T(0.5) * x * (d2u - T(2) * t * du * du));
    }
    return gg * g * math::normal_density(x) * (T(2) - x2);
  }
};

// --------------------------------------------------------------------- CELU
// f = x if x > 0 else alpha (exp(x/alpha) - 1), f'(x) = exp(x/alpha) for x <= 0.
// Saved like ELU: the input out of place, the output in place (CeluResult).
struct CeluResult;

struct Celu {
  static constexpr const char* name = "celu";
  static constexpr const char* schema_params = "float alpha=1.0";
  using Params = std::tuple<double>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = true;
  using InplaceGradient = CeluResult;

  double alpha;
  explicit Celu(double alpha) : alpha(alpha) {
    TORCH_CHECK(alpha != 0, "torch_act.celu: alpha must not be 0 (it divides x)");
  }

  template <class T> TORCH_ACT_HD T forward(T x) const {
    return where(x <= T(0), T(alpha) * expm1(x * T(1.0 / alpha)), x);
  }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return where(x <= T(0), g * exp(x * T(1.0 / alpha)), g);
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    return where(x <= T(0), gg * g * T(1.0 / alpha) * exp(x * T(1.0 / alpha)), T(0));
  }
};

// celu_result_backward: CELU's gradient from its output, for celu_. For x <= 0
// the output keeps the sign of alpha (exp(x/alpha) - 1) <= 0 for either sign
// of alpha, so the output decides the branch, and f'(x) = y/alpha + 1.
struct CeluResult : ResultGradient<Celu> {
  static constexpr const char* name = "celu_result";
  using ResultGradient::ResultGradient;

  template <class T> TORCH_ACT_HD T backward(T g, T y) const {
    return where(y <= T(0), g * (y * T(1.0 / alpha) + T(1)), g);
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T y) const {
    return where(y <= T(0), gg * g * T(1.0 / alpha), T(0));
  }
};

// --------------------------------------------------------------------- Mish
// f = x t, t = tanh(softplus(x)). With s = sigmoid(x) and A = (1 - t^2) s:
//   f' = t + x A,   f'' = 2A + x (1 - t^2) s ((1 - s) - 2 t s)   (Misra 2019)
struct Mish {
  static constexpr const char* name = "mish";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = true;

  template <class T> TORCH_ACT_HD static T tanh_softplus(T x) { return tanh(log1p(exp(x))); }

  template <class T> TORCH_ACT_HD T forward(T x) const { return x * tanh_softplus(x); }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    T t = tanh_softplus(x);
    return g * (t + x * (T(1) - t * t) * sigmoid_of(x));
  }
  template <class T> TORCH_ACT_HD Values<T, 2> value_and_slope(T g, T x) const {
    T t = tanh_softplus(x);
    return {{x * t, g * (t + x * (T(1) - t * t) * sigmoid_of(x))}};
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    T t = tanh_softplus(x);
    T s = sigmoid_of(x);
    T sech2 = T(1) - t * t;
    return gg * g * (T(2) * sech2 * s + x * sech2 * s * ((T(1) - s) - T(2) * t * s));
  }
};

// ----------------------------------------------------------------- Softplus
// f = log(1 + exp(beta x)) / beta, and x itself once beta x > threshold.
// f' = sigmoid(beta x) (1 past the threshold), f'' = beta s (1 - s).
struct Softplus {
  static constexpr const char* name = "softplus";
  static constexpr const char* schema_params = "float beta=1.0, float threshold=20.0";
  using Params = std::tuple<double, double>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = false;

  double beta, threshold;
  // beta = 0 is accepted, as torch does (the output is inf).
  Softplus(double beta, double threshold) : beta(beta), threshold(threshold) {}

  template <class T> TORCH_ACT_HD T forward(T x) const {
    T bx = x * T(beta);
    return where(bx > T(threshold), x, log1p(exp(bx)) * T(1.0 / beta));
  }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    T bx = x * T(beta);
    return where(bx > T(threshold), g, g * sigmoid_of(bx));
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    T bx = x * T(beta);
    T s = sigmoid_of(bx);
    return where(bx > T(threshold), T(0), gg * g * T(beta) * s * (T(1) - s));
  }
};

// ----------------------------------------------------------------- Softsign
// f = x / (1 + |x|),  f' = 1 / (1 + |x|)^2,  f'' = -2 sign(x) / (1 + |x|)^3
struct Softsign {
  static constexpr const char* name = "softsign";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = false;

  template <class T> TORCH_ACT_HD T forward(T x) const { return x / (T(1) + abs(x)); }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    T d = T(1) + abs(x);
    return g / (d * d);
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    T d = T(1) + abs(x);
    T sign = where(x < T(0), T(-1), where(x > T(0), T(1), T(0)));
    return gg * g * T(-2) * sign / (d * d * d);
  }
};

// ------------------------------------------------------ Hardsigmoid, Hardswish
// Both follow torch's forms, clamp(x + 3, 0, 6) / 6 and x clamp(x + 3, 0, 6) / 6,
// so non-finite inputs give what torch gives; gradients follow torch at +-3.
template <class T>
TORCH_ACT_HD inline T clamp_0_6(T v) {
  return clamp_to(v, T(0), T(6));
}

struct Hardsigmoid {
  static constexpr const char* name = "hardsigmoid";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = true;

  template <class T> TORCH_ACT_HD T forward(T x) const { return clamp_0_6(x + T(3)) * T(1.0 / 6); }
  template <class T> TORCH_ACT_HD T gradient_bit(T x) const {
    return where(x > T(-3), where(x < T(3), T(1), T(0)), T(0));
  }
  template <class T> TORCH_ACT_HD T backward_from_bit(T g, T bit) const {
    return where(bit != T(0), g * T(1.0 / 6), T(0));
  }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return backward_from_bit(g, gradient_bit(x));
  }
  template <class T> TORCH_ACT_HD T double_backward(T, T, T) const { return T(0); }
};

struct Hardswish {
  static constexpr const char* name = "hardswish";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = true;

  template <class T> TORCH_ACT_HD T forward(T x) const {
    return x * clamp_0_6(x + T(3)) * T(1.0 / 6);
  }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return where(x <= T(-3), T(0), where(x < T(3), g * (x * T(1.0 / 3) + T(0.5)), g));
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    return where(x <= T(-3), T(0), where(x < T(3), gg * g * T(1.0 / 3), T(0)));
  }
};

// ------------------------------------------------------------ Hardtanh, ReLU6
// clamp(x, min_val, max_val); the gradient is 1 strictly inside, 0 on and past
// the bounds (torch's convention). The output decides that as well as the
// input does (y is clamped exactly onto a bound, and NaN stays NaN), so the
// in-place ops save their output, as torch does, instead of a copy of x:
// their node runs hardtanh_result_backward / relu6_result_backward, the same
// formula read on y.
struct HardtanhResult;
struct Relu6Result;

struct Hardtanh {
  static constexpr const char* name = "hardtanh";
  static constexpr const char* schema_params = "float min_val=-1.0, float max_val=1.0";
  using Params = std::tuple<double, double>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = true;
  using InplaceGradient = HardtanhResult;

  double min_val, max_val;
  // As torch: min_val > max_val is refused, a NaN bound is accepted (and
  // makes every output NaN, as clamp does).
  Hardtanh(double min_val, double max_val) : min_val(min_val), max_val(max_val) {
    TORCH_CHECK(
        !(min_val > max_val), "torch_act.hardtanh: min_val (", min_val,
        ") must not exceed max_val (", max_val, ")");
  }

  template <class T> TORCH_ACT_HD T forward(T x) const {
    return clamp_to(x, T(min_val), T(max_val));
  }
  // torch's form: 0 on and past either bound, so a NaN input or bound passes g.
  template <class T> TORCH_ACT_HD T gradient_bit(T x) const {
    return where(x <= T(min_val), T(0), where(x >= T(max_val), T(0), T(1)));
  }
  template <class T> TORCH_ACT_HD T backward_from_bit(T g, T bit) const {
    return where(bit != T(0), g, T(0));
  }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return backward_from_bit(g, gradient_bit(x));
  }
  template <class T> TORCH_ACT_HD T double_backward(T, T, T) const { return T(0); }
};

struct HardtanhResult : ResultGradient<Hardtanh> {
  static constexpr const char* name = "hardtanh_result";
  using ResultGradient::ResultGradient;
};

struct Relu6 : Hardtanh {
  static constexpr const char* name = "relu6";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  using InplaceGradient = Relu6Result;
  Relu6() : Hardtanh(0.0, 6.0) {}
};

struct Relu6Result : ResultGradient<Relu6> {
  static constexpr const char* name = "relu6_result";
};

// --------------------------------------------------------------- LogSigmoid
// f = min(x, 0) - log1p(exp(-|x|)) (stable for both signs), f' = sigmoid(-x),
// f'' = -s (1 - s).
struct LogSigmoid {
  static constexpr const char* name = "logsigmoid";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = false;

  template <class T> TORCH_ACT_HD T forward(T x) const {
    return where(x < T(0), x, T(0)) - log1p(exp(T(0) - abs(x)));
  }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const { return g * sigmoid_of(T(0) - x); }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    T s = sigmoid_of(x);
    return gg * g * (T(0) - s * (T(1) - s));
  }
};

// --------------------------------------------------------------- Tanhshrink
// f = x - tanh x,  f' = tanh^2 x,  f'' = 2 tanh x (1 - tanh^2 x)
struct Tanhshrink {
  static constexpr const char* name = "tanhshrink";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = false;

  // (x - tanh x cancels near 0: act_math.h computes it without.)
  template <class T> TORCH_ACT_HD T forward(T x) const { return math::x_minus_tanh(x); }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    T t = tanh(x);
    return g * t * t;
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    T t = tanh(x);
    return gg * g * T(2) * t * (T(1) - t * t);
  }
};

// ---------------------------------------------------- Softshrink, Hardshrink
// Zero on [-lambd, lambd], gradient 0 there (bounds included, as torch) and 1
// outside; they differ only in the forward.
struct ShrinkBand {
  static constexpr const char* schema_params = "float lambd=0.5";
  using Params = std::tuple<double>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = false;

  double lambd;
  explicit ShrinkBand(double lambd) : lambd(lambd) {}

  template <class T> TORCH_ACT_HD T gradient_bit(T x) const {
    return where(abs(x) <= T(lambd), T(0), T(1));
  }
  template <class T> TORCH_ACT_HD T backward_from_bit(T g, T bit) const {
    return where(bit != T(0), g, T(0));
  }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return backward_from_bit(g, gradient_bit(x));
  }
  template <class T> TORCH_ACT_HD T double_backward(T, T, T) const { return T(0); }
};

// torch refuses a negative (or NaN) lambd for softshrink only; hardshrink
// with lambd < 0 is the identity.
struct Softshrink : ShrinkBand {
  static constexpr const char* name = "softshrink";
  explicit Softshrink(double lambd) : ShrinkBand(lambd) {
    TORCH_CHECK(lambd >= 0, "torch_act.softshrink: lambd must be >= 0, got ", lambd);
  }

  template <class T> TORCH_ACT_HD T forward(T x) const {
    // x * 0 inside the band keeps a NaN input NaN.
    return where(x > T(lambd), x - T(lambd), where(x < T(-lambd), x + T(lambd), x * T(0)));
  }
};

struct Hardshrink : ShrinkBand {
  static constexpr const char* name = "hardshrink";
  explicit Hardshrink(double lambd) : ShrinkBand(lambd) {}

  template <class T> TORCH_ACT_HD T forward(T x) const {
    return where(abs(x) <= T(lambd), T(0), x);
  }
};

// ---------------------------------------------------------------- Threshold
// f = x if x > threshold else value; gradient 1 above the threshold, else 0.
struct Threshold {
  static constexpr const char* name = "threshold";
  static constexpr const char* schema_params = "float threshold, float value";
  using Params = std::tuple<double, double>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = true;

  double threshold, value;
  Threshold(double threshold, double value) : threshold(threshold), value(value) {}

  template <class T> TORCH_ACT_HD T forward(T x) const {
    return where(x <= T(threshold), T(value), x);
  }
  template <class T> TORCH_ACT_HD T gradient_bit(T x) const {
    return where(x <= T(threshold), T(0), T(1));
  }
  template <class T> TORCH_ACT_HD T backward_from_bit(T g, T bit) const {
    return where(bit != T(0), g, T(0));
  }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return backward_from_bit(g, gradient_bit(x));
  }
  template <class T> TORCH_ACT_HD T double_backward(T, T, T) const { return T(0); }
};

// ------------------------------------------------- beyond torch.nn: QuickGELU
// x sigmoid(1.702 x): the sigmoid approximation of GELU used by CLIP-style models.
struct QuickGelu {
  static constexpr double kBeta = 1.702;
  static constexpr const char* name = "quick_gelu";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = false;

  template <class T> TORCH_ACT_HD T forward(T x) const { return SwishMath::forward(x, T(kBeta)); }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return g * SwishMath::dfdx(x, T(kBeta));
  }
  template <class T> TORCH_ACT_HD Values<T, 2> value_and_slope(T g, T x) const {
    return SwishMath::value_and_slope(g, x, T(kBeta));
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    return gg * g * SwishMath::d2fdx2(x, T(kBeta));
  }
};

// ----------------------------------------------- beyond torch.nn: SquaredReLU
// relu(x)^2 (So et al. 2021, Primer): f' = 2 relu(x), f'' = 2 for x > 0.
struct SquaredRelu {
  static constexpr const char* name = "squared_relu";
  static constexpr const char* schema_params = "";
  using Params = std::tuple<>;
  static constexpr Saved saved = Saved::Input;
  static constexpr bool has_inplace = false;

  template <class T> TORCH_ACT_HD T forward(T x) const { return where(x <= T(0), T(0), x * x); }
  template <class T> TORCH_ACT_HD T backward(T g, T x) const {
    return where(x <= T(0), T(0), T(2) * g * x);
  }
  template <class T> TORCH_ACT_HD T double_backward(T gg, T g, T x) const {
    return where(x <= T(0), T(0), T(2) * gg * g);
  }
};

// ------------------------------------------- activations with a learnable tensor

// PReLU (He et al. 2015): f = x if x > 0 else a x, a per channel (dim 1).
struct Prelu {
  static constexpr const char* name = "prelu";
  static constexpr const char* overload = "";
  static constexpr const char* param_name = "weight";

  template <class T> TORCH_ACT_HD T forward(T x, T a) const { return where(x > T(0), x, a * x); }
  template <class T> TORCH_ACT_HD Values<T, 2> backward(T g, T x, T a) const {
    return {{where(x > T(0), g, a * g), where(x > T(0), T(0), g * x)}};
  }
  template <class T>
  TORCH_ACT_HD Values<T, 3> double_backward(T ggx, T gga, T g, T x, T a) const {
    return {
        {where(x > T(0), ggx, a * ggx + gga * x),  // d/dg
         where(x > T(0), T(0), g * gga),           // d/dx (f'' is 0 but df/da = x)
         where(x > T(0), T(0), g * ggx)}};         // d/da
  }
};

// RReLU in training (Xu et al. 2015): PReLU's math with one slope per element,
// drawn from U(lower, upper) by the caller (torch's generator, in Python).
struct RreluWithNoise : Prelu {
  static constexpr const char* name = "rrelu_with_noise";
  static constexpr const char* overload = "";
  static constexpr const char* param_name = "noise";
};

// Swish with a learnable beta (Ramachandran et al. 2017): beta holds one value.
struct SwishLearnable {
  static constexpr const char* name = "swish";
  static constexpr const char* overload = "Tensor";
  static constexpr const char* param_name = "beta";

  template <class T> TORCH_ACT_HD T forward(T x, T b) const { return SwishMath::forward(x, b); }
  template <class T> TORCH_ACT_HD Values<T, 2> backward(T g, T x, T b) const {
    T fx, fb, fxx, fxb, fbb;
    SwishMath::all_derivatives(x, b, fx, fb, fxx, fxb, fbb);
    return {{g * fx, g * fb}};
  }
  template <class T>
  TORCH_ACT_HD Values<T, 3> double_backward(T ggx, T ggb, T g, T x, T b) const {
    T fx, fb, fxx, fxb, fbb;
    SwishMath::all_derivatives(x, b, fx, fb, fxx, fxb, fbb);
    return {{ggx * fx + ggb * fb, g * (ggx * fxx + ggb * fxb), g * (ggx * fxb + ggb * fbb)}};
  }
};

// GLU (Dauphin et al. 2017): a * sigmoid(b), a and b the two halves of the
// input along `dim` (glu.cpp does the split). With s = sigmoid(b):
//   d/da = s,  d/db = a s (1 - s),  d2/dadb = s (1 - s),  d2/db2 = a s (1 - s)(1 - 2s)
struct Glu {
  static constexpr const char* name = "glu";

  template <class T> TORCH_ACT_HD T forward(T a, T b) const { return a * sigmoid_of(b); }
  template <class T> TORCH_ACT_HD Values<T, 2> backward(T g, T a, T b) const {
    T s = sigmoid_of(b);
    return {{g * s, g * a * s * (T(1) - s)}};
  }
  template <class T>
  TORCH_ACT_HD Values<T, 3> double_backward(T gga, T ggb, T g, T a, T b) const {
    T s = sigmoid_of(b);
    T q = s * (T(1) - s);
    return {
        {gga * s + ggb * a * q,                          // d/dg
         ggb * g * q,                                    // d/da
         g * q * (gga + a * (T(1) - T(2) * s) * ggb)}};  // d/db
  }
};

// ---------------------------------------------- built from a unary activation

// Op names joined at compile time ("silu" -> "silu_glu"): constant like every
// other functor's name, so no static-initialization order to mind.
constexpr size_t text_length(const char* text) {
  size_t n = 0;
  while (text[n] != '\0') {
    ++n;
  }
  return n;
}
template <size_t N>
struct JoinedName {
  char text[N + 1];
};
template <size_t N>
constexpr JoinedName<N> join_name(const char* prefix, const char* stem, const char* suffix) {
  JoinedName<N> joined{};
  size_t i = 0;
  for (const char* part : {prefix, stem, suffix}) {
    for (size_t k = 0; part[k] != '\0'; ++k) {
      joined.text[i++] = part[k];
    }
  }
  joined.text[i] = '\0';
  return joined;
}
template <class Act, class T, class = void>
struct HasValueAndSlope : std::false_type {};
template <class Act, class T>
struct HasValueAndSlope<
    Act, T, std::void_t<decltype(std::declval<const Act&>().value_and_slope(T(), T()))>>
    : std::true_type {};

// A unary functor's value f(x), slope g f'(x) and curvature gg g f''(x) at its
// input x, whichever tensor its backward reads (from the output: y = f(x)
// first, and d/dx = d/dy f'(x) for the curvature).
template <class Act>
struct AtInput {
  template <class T> TORCH_ACT_HD static T value(const Act& act, T x) { return act.forward(x); }
  template <class T> TORCH_ACT_HD static T slope(const Act& act, T g, T x) {
    if constexpr (Act::saved == Saved::Input) {
      return act.backward(g, x);
    } else {
      return act.backward(g, act.forward(x));
    }
  }
  // {f(x), g f'(x)}: in one evaluation where the functor shares their terms
  // (value_and_slope: GELU's erf or tanh, SiLU's sigmoid), else two.
  template <class T> TORCH_ACT_HD static Values<T, 2> value_and_slope(const Act& act, T g, T x) {
    if constexpr (HasValueAndSlope<Act, T>::value) {
      return act.value_and_slope(g, x);
    } else {
      return {{value(act, x), slope(act, g, x)}};
    }
  }
  template <class T> TORCH_ACT_HD static T curvature(const Act& act, T gg, T g, T x) {
    if constexpr (Act::saved == Saved::Input) {
      return act.double_backward(gg, g, x);
    } else {
      T y = act.forward(x);
      return act.backward(act.double_backward(gg, g, y), y);
    }
  }
};

// What an op built on unary activation Act keeps of it: its functor, its
// hyper-parameters (the same schema arguments), its name in Act::Unary.
template <class Act>
struct BuiltOnUnary {
  static constexpr const char* overload = "";
  static constexpr const char* schema_params = Act::schema_params;
  using Params = typename Act::Params;
  using Unary = Act;

  Act act;
  template <class... P>
  explicit BuiltOnUnary(P... params) : act(params...) {}
};

// The gated unit of any unary activation f (Dauphin et al. 2017; Shazeer 2020:
// SwiGLU is f = SiLU, GEGLU f = GELU, ReGLU f = ReLU): y = f(gate) * up.
//   d/dgate = g up f'(gate),  d/dup = g f(gate)
// and, given gg_gate and gg_up flowing into those,
//   d/dg = gg_gate up f'(gate) + gg_up f(gate)
//   d/dgate = gg_gate g up f''(gate) + gg_up g f'(gate),  d/dup = gg_gate g f'(gate)
// Backward reads only the two inputs; f(gate) is recomputed, not saved.
// Ops <act>_glu, <act>_glu_backward, <act>_glu_double_backward (param_ops.cpp).
template <class Act>
struct Gated : BuiltOnUnary<Act> {
  static constexpr auto kName = join_name<text_length(Act::name) + 4>("", Act::name, "_glu");
  static constexpr const char* name = kName.text;
  static constexpr const char* input_name = "gate";
  static constexpr const char* input_label = "gate";
  static constexpr const char* param_name = "up";
  using BuiltOnUnary<Act>::BuiltOnUnary;
  using BuiltOnUnary<Act>::act;

  template <class T> TORCH_ACT_HD T forward(T gate, T up) const {
    return AtInput<Act>::value(act, gate) * up;
  }
  template <class T> TORCH_ACT_HD Values<T, 2> backward(T g, T gate, T up) const {
    auto f = AtInput<Act>::value_and_slope(act, g * up, gate);
    return {{f[1], g * f[0]}};
  }
  template <class T>
  TORCH_ACT_HD Values<T, 3> double_backward(T gg_gate, T gg_up, T g, T gate, T up) const {
    using F = AtInput<Act>;
    T f = F::value(act, gate);
    return {
        {F::slope(act, gg_gate * up, gate) + gg_up * f,
         F::curvature(act, gg_gate, g * up, gate) + F::slope(act, gg_up * g, gate),
         F::slope(act, gg_gate * g, gate)}};
  }
};

// Fused bias + activation: y = f(x + bias), bias broadcast over x's last dim
// (a Linear layer's bias, added where the activation reads x anyway).
//   d/dx = g f'(x + bias), d/dbias = the same, summed by the op over the
//   leading dims; double backward: with s = gg_x + gg_bias, d/dg = s f',
//   d/dx = d/dbias = s g f''.
// Ops bias_<act>, bias_<act>_backward, bias_<act>_double_backward.
template <class Act>
struct BiasAct : BuiltOnUnary<Act> {
  static constexpr auto kName = join_name<text_length(Act::name) + 5>("bias_", Act::name, "");
  static constexpr const char* name = kName.text;
  static constexpr const char* input_name = "self";
  static constexpr const char* input_label = "input";
  static constexpr const char* param_name = "bias";
  using BuiltOnUnary<Act>::BuiltOnUnary;
  using BuiltOnUnary<Act>::act;

  template <class T> TORCH_ACT_HD T forward(T x, T bias) const {
    return AtInput<Act>::value(act, x + bias);
  }
  template <class T> TORCH_ACT_HD Values<T, 2> backward(T g, T x, T bias) const {
    T gx = AtInput<Act>::slope(act, g, x + bias);
    return {{gx, gx}};
  }
  template <class T>
  TORCH_ACT_HD Values<T, 3> double_backward(T gg_x, T gg_bias, T g, T x, T bias) const {
    T z = x + bias;
    T s = gg_x + gg_bias;
    T gz = AtInput<Act>::curvature(act, s, g, z);
    return {{AtInput<Act>::slope(act, s, z), gz, gz}};
  }
};

}  // namespace torch_act
