// Packed backward: what an activation keeps for backward instead of its
// input, and how the gradient is read back from it (ops <name>_pack and
// <name>_backward_packed, packed.cpp).
//
// Each element gets a code of `bits` bits:
//   * piecewise-linear activations: 1 bit, Act::gradient_bit(x), and the
//     gradient Act::backward_from_bit(g, bit): bitwise the unpacked gradient;
//   * smooth activations: a k-bit code (k = 1..4) of the input from the table
//     fitted by tools/fit_derivative_codes.py (derivative_codes.h), and the
//     gradient g * value[code]: an approximation of g f'(x), opted into.
//
// Layout, for the input's elements in row-major (contiguous) order whatever
// its strides: each group of 8 elements takes `bits` bytes, bit-sliced: byte b
// of a group holds bit b of the 8 codes, element j of the group at bit j
// (so a SIMD compare's lane mask is a byte of codes as it stands). The codes
// tensor is uint8 of ceil(numel / 8) * bits bytes; the last group's missing
// elements have code 0. With 1 bit, byte i holds elements 8i..8i+7, bit j
// for element 8i+j.
//
// No ATen here (c10 only): the CUDA sources include this file too.
#pragma once

#include <cstdint>
#include <type_traits>

#include <c10/core/ScalarType.h>
#include <c10/util/Exception.h>

#include "derivative_codes.h"
#include "op_table.h"

namespace torch_act {

constexpr int kGroupSize = 8;  // elements per group of `bits` bytes
constexpr int kMaxCodeBits = 4;

// Whether Act's gradient depends on its input through one bit.
template <class Act, class = void>
struct HasGradientBit : std::false_type {};
template <class Act>
struct HasGradientBit<Act, std::void_t<decltype(&Act::template gradient_bit<float>)>>
    : std::true_type {};
template <class Act>
constexpr bool has_gradient_bit = HasGradientBit<Act>::value;

// The exact 1-bit code of a piecewise-linear activation.
template <class Act>
struct BitCoder {
  Act act;
  static constexpr bool kExact = true;
  TORCH_ACT_HD int bits() const { return 1; }
  template <class T> TORCH_ACT_HD unsigned code(T x) const {
    return act.gradient_bit(x) != T(0) ? 1u : 0u;
  }
  template <class T> TORCH_ACT_HD T backward(T g, unsigned code) const {
    return act.backward_from_bit(g, T(code));
  }
};

// A fitted k-bit code: x * input_scale in [bounds[i - 1], bounds[i]) has code
// i, and the gradient is g * values[code]. input_scale carries a table to a
// rescaled activation (Swish's beta on SiLU's table, CELU's 1/alpha on ELU's).
// A NaN input compares below every bound: code 0 (its output is NaN).
struct FittedCoder {
  static constexpr bool kExact = false;
  int code_bits;
  float input_scale;
  float bounds[(1 << kMaxCodeBits) - 1];
  float values[1 << kMaxCodeBits];

  TORCH_ACT_HD int bits() const { return code_bits; }
  template <class T> TORCH_ACT_HD unsigned code(T x) const {
    const float u = static_cast<float>(x) * input_scale;
    // Binary search over the 2^k - 1 sorted bounds: k comparisons.
    unsigned code = 0;
    for (unsigned step = 1u << (code_bits - 1); step != 0; step >>= 1) {
      if (u >= bounds[code + step - 1]) {
        code += step;
      }
    }
    return code;
  }
  template <class T> TORCH_ACT_HD T backward(T g, unsigned code) const {
    return g * T(values[code]);
  }
};

template <class Table>
FittedCoder fitted_coder(float input_scale = 1.0f) {
  FittedCoder coder{};
  coder.code_bits = Table::kBits;
  coder.input_scale = input_scale;
  for (int i = 0; i < (1 << Table::kBits) - 1; ++i) {
    coder.bounds[i] = Table::kBounds[i];
  }
  for (int i = 0; i < (1 << Table::kBits); ++i) {
    coder.values[i] = Table::kValues[i];
  }
  return coder;
}

// The fitted coder of k bits among an activation's four tables.
template <class Bits1, class Bits2, class Bits3, class Bits4>
FittedCoder fitted_coder_of_bits(int bits, float input_scale = 1.0f) {
  switch (bits) {
    case 1:
      return fitted_coder<Bits1>(input_scale);
    case 2:
      return fitted_coder<Bits2>(input_scale);
    case 3:
      return fitted_coder<Bits3>(input_scale);
    default:
      return fitted_coder<Bits4>(input_scale);
  }
}

// Each smooth activation's tables (fitted at torch's default
// hyper-parameters), carried to other settings where rescaling the input does
// it exactly, and refused where nothing does.
#define TORCH_ACT_TABLES(Name)                                                     \
  derivative_codes::Name##1, derivative_codes::Name##2, derivative_codes::Name##3, \
      derivative_codes::Name##4
inline FittedCoder fitted_coder_for(const Sigmoid&, int bits) {
  return fitted_coder_of_bits<TORCH_ACT_TABLES(Sigmoid)>(bits);
}
inline FittedCoder fitted_coder_for(const Tanh&, int bits) {
  return fitted_coder_of_bits<TORCH_ACT_TABLES(Tanh)>(bits);
}
inline FittedCoder fitted_coder_for(const Elu& act, int bits) {
  // alpha scales only the negative side's slope: no rescaling of x gives it.
  TORCH_CHECK(
      act.alpha == 1.0, "torch_act.elu: packed backward codes are fitted for alpha=1.0, got ",
      act.alpha);
  return fitted_coder_of_bits<TORCH_ACT_TABLES(Elu)>(bits);
}
inline FittedCoder fitted_coder_for(const Selu&, int bits) {
  return fitted_coder_of_bits<TORCH_ACT_TABLES(Selu)>(bits);
}
inline FittedCoder fitted_coder_for(const Celu& act, int bits) {
  // CELU's f'(x) is ELU's (alpha = 1) at x / alpha.
  TORCH_CHECK(
      act.alpha > 0, "torch_act.celu: packed backward codes need alpha > 0, got ", act.alpha);
  return fitted_coder_of_bits<TORCH_ACT_TABLES(Celu)>(bits, static_cast<float>(1.0 / act.alpha));
}
inline FittedCoder fitted_coder_for(const Silu&, int bits) {
  return fitted_coder_of_bits<TORCH_ACT_TABLES(Silu)>(bits);
}
inline FittedCoder fitted_coder_for(const Swish& act, int bits) {
  // f'(x) = SiLU'(beta x), for any beta.
  TORCH_CHECK(
      act.beta == act.beta && act.beta - act.beta == 0,
      "torch_act.swish: packed backward codes "
      "need a finite beta, got ",
      act.beta);
  return fitted_coder_of_bits<TORCH_ACT_TABLES(Silu)>(bits, static_cast<float>(act.beta));
}
inline FittedCoder fitted_coder_for(const Gelu& act, int bits) {
  return act.use_tanh ? fitted_coder_of_bits<TORCH_ACT_TABLES(GeluTanh)>(bits)
                      : fitted_coder_of_bits<TORCH_ACT_TABLES(Gelu)>(bits);
}
inline FittedCoder fitted_coder_for(const Mish&, int bits) {
  return fitted_coder_of_bits<TORCH_ACT_TABLES(Mish)>(bits);
}
inline FittedCoder fitted_coder_for(const Softplus& act, int bits) {
  // f'(x) = sigmoid(beta x), 1 once beta x > threshold: the table's at beta x
  // for beta > 0; its fit saw beta x in [-8, 8] only, where a threshold of
  // at least 8 changes nothing.
  TORCH_CHECK(
      act.beta > 0 && act.threshold >= 8,
      "torch_act.softplus: packed backward codes need "
      "beta > 0 and threshold >= 8, got beta=",
      act.beta, ", threshold=", act.threshold);
  return fitted_coder_of_bits<TORCH_ACT_TABLES(Softplus)>(bits, static_cast<float>(act.beta));
}
inline FittedCoder fitted_coder_for(const QuickGelu&, int bits) {
  return fitted_coder_of_bits<TORCH_ACT_TABLES(QuickGelu)>(bits);
}
#undef TORCH_ACT_TABLES

// Which coder an activation's packed ops use: BitCoder<Act> where the code
// is exact, else FittedCoder (fitted_coder_for).
template <class Act>
using CoderOf = std::conditional_t<has_gradient_bit<Act>, BitCoder<Act>, FittedCoder>;

// The activations with packed ops: every piecewise-linear one (exact), and
// the smooth ones a table was fitted for.
using PackedActivations = TypeList<
    Relu, LeakyRelu, Hardtanh, Relu6, Softshrink, Hardshrink, Threshold, Hardsigmoid, Sigmoid, Tanh,
    Elu, Selu, Celu, Silu, Swish, Gelu, Mish, Softplus, QuickGelu>;

// The loops' bodies, one group of 8 elements at a time, shared by every
// device (and by the CPU's SIMD loops for their tails); opmath_t is the
// compute type (float for half and bfloat16). pack_group also writes the
// activation's output where `out` is given (the fused forward).
template <class opmath_t, class Act, class Coder, class scalar_t>
TORCH_ACT_HD void pack_group(
    const Act& act, const Coder& coder, const scalar_t* x, scalar_t* out, int64_t n, int64_t group,
    uint8_t* codes) {
  const int bits = coder.bits();
  const int64_t first = group * kGroupSize;
  const int count = n - first < kGroupSize ? static_cast<int>(n - first) : kGroupSize;
  uint8_t planes[kMaxCodeBits] = {};
  for (int j = 0; j < count; ++j) {
    const opmath_t value = static_cast<opmath_t>(x[first + j]);
    if (out != nullptr) {
      out[first + j] = static_cast<scalar_t>(act.forward(value));
    }
    const unsigned code = coder.code(value);
    for (int b = 0; b < bits; ++b) {
      planes[b] |= static_cast<uint8_t>(((code >> b) & 1u) << j);
    }
  }
  for (int b = 0; b < bits; ++b) {
    codes[group * bits + b] = planes[b];
  }
}

template <class opmath_t, class Coder, class scalar_t>
TORCH_ACT_HD void backward_group(
    const Coder& coder, const scalar_t* grad_output, const uint8_t* codes, int64_t n, int64_t group,
    scalar_t* grad_input) {
  const int bits = coder.bits();
  const int64_t first = group * kGroupSize;
  const int count = n - first < kGroupSize ? static_cast<int>(n - first) : kGroupSize;
  for (int j = 0; j < count; ++j) {
    unsigned code = 0;
    for (int b = 0; b < bits; ++b) {
      code |= ((codes[group * bits + b] >> j) & 1u) << b;
    }
    grad_input[first + j] =
        static_cast<scalar_t>(coder.backward(static_cast<opmath_t>(grad_output[first + j]), code));
  }
}

// One packed activation's loops over contiguous data, for one device.
template <class Act>
struct PackedLoops {
  // codes <- the codes of x's n elements, and out <- f(x) unless out is null
  void (*pack)(
      const void* x, void* out, uint8_t* codes, int64_t n, c10::ScalarType dtype, const Act&,
      const CoderOf<Act>&);
  // grad_input <- the gradient from grad_output's n elements and their codes
  void (*backward)(
      void* grad_input, const void* grad_output, const uint8_t* codes, int64_t n,
      c10::ScalarType dtype, const CoderOf<Act>&);
};
using PackedTable = TableOf<PackedLoops, PackedActivations>;

}  // namespace torch_act
