// The one CPU loop every torch_act kernel runs through.
//
// elementwise<scalar_t, kOut, kIn>(iter, op) evaluates `op` on each element of
// a TensorIterator that holds kOut outputs followed by kIn inputs, all of
// dtype scalar_t. `op` is a generic callable: it receives kIn values of the
// compute type (float for half/bfloat16, else scalar_t), either as scalars or
// as at::vec::Vectorized, and returns one value or Values<., kOut>.
//
// TensorIterator gives us dimension coalescing, any strides and parallel_for.
// Inside each chunk, when every output is contiguous and every input is
// contiguous or a broadcast scalar (stride 0), the AVX2/AVX-512 builds run a
// Vectorized loop and the DEFAULT build a plain indexed loop the compiler can
// auto-vectorize; otherwise a strided scalar loop.
#pragma once

#include <array>
#include <utility>

#include <ATen/OpMathType.h>
#include <ATen/TensorIterator.h>

#include "../activations.h"
#include "kernels.h"

#if defined(TORCH_ACT_SIMD)
#include <ATen/cpu/vec/functional.h>
#endif

#if !defined(CPU_CAPABILITY)
#error "elementwise.h belongs to the per-capability builds of kernels.cpp"
#endif

namespace torch_act {
namespace cpu {
// Everything here is compiled once per capability with different vector types
// behind the same names: the namespace keeps the copies apart (one definition
// rule), as ATen's own per-capability kernels do.
namespace CPU_CAPABILITY {

// The type the scalar loops hand the functors: opmath_t itself, except that
// the DEFAULT build computes float as math::LaneFloat, whose inline math lets
// the compiler vectorize its loops (act_math.h).
template <class opmath_t>
struct ScalarCompute {
  using type = opmath_t;
};
#if defined(CPU_CAPABILITY_DEFAULT)
template <>
struct ScalarCompute<float> {
  using type = math::LaneFloat;
};
#endif
template <class opmath_t>
using scalar_compute_t = typename ScalarCompute<opmath_t>::type;

// Act's forward on the scalar loops' compute type, for loops (the packed
// ops') that call act.forward on opmath_t and must match elementwise's bits.
template <class Act>
struct ForwardInScalarCompute {
  const Act& act;
  template <class T>
  T forward(T x) const {
    return static_cast<T>(act.forward(scalar_compute_t<T>(x)));
  }
};

template <int kOut, class R>
inline const auto& output_of(const R& result, int o) {
  if constexpr (kOut == 1) {
    (void)o;
    return result;
  } else {
    return result[o];
  }
}

// One row of a chunk whose outputs are contiguous and whose inputs are
// contiguous or broadcast (stride 0). Plain locals: vector stores may alias
// anything reachable through a pointer, so row data read through
// TensorIterator's arrays would be reloaded on every step.
template <class scalar_t, int kOut, int kIn>
struct ContiguousRow {
  std::array<scalar_t*, kOut> out;
  std::array<const scalar_t*, kIn> in;
  std::array<bool, kIn> broadcast;
};

#if defined(TORCH_ACT_SIMD)

#if defined(CPU_CAPABILITY_AVX512)
// Whether the CPU has AVX512-BF16's conversions (Cooper Lake, Zen 4 and later):
// a plain global set by dispatch.cpp when the library loads. (A function-local
// static was not inlined: its call in a loop spilled every live vector register.)
inline bool cpu_has_avx512_bf16() { return cpu_supports_avx512_bf16; }
#endif

// Loads scalar_t into one or two Vectorized<opmath_t> and stores them back.
// (Always inlined: a call would pass the vectors through memory, once per step.)
template <class scalar_t>
struct OpmathVec {
  using opmath_t = at::opmath_type<scalar_t>;
  using Vec = at::vec::Vectorized<opmath_t>;
  using Stored = at::vec::Vectorized<scalar_t>;
  static constexpr int64_t kWidth = Stored::size();  // elements per step
  static constexpr int kParts = static_cast<int>(kWidth / Vec::size());
  using Pack = std::array<Vec, kParts>;

  C10_ALWAYS_INLINE static Pack load(const scalar_t* p) {
    if constexpr (kParts == 1) {
      return {Vec::loadu(p)};
    } else {
      auto [lo, hi] = at::vec::convert_to_float<scalar_t>(Stored::loadu(p));
      return {lo, hi};
    }
  }
  // The first `count` elements (a masked load: the other lanes read as zero).
  C10_ALWAYS_INLINE static Pack load(const scalar_t* p, int64_t count) {
    if constexpr (kParts == 1) {
      return {Vec::loadu(p, count)};
    } else {
      auto [lo, hi] = at::vec::convert_to_float<scalar_t>(Stored::loadu(p, count));
      return {lo, hi};
    }
  }
  static Pack broadcast(scalar_t value) {
    Pack pack;
    pack.fill(Vec(static_cast<opmath_t>(value)));
    return pack;
  }
  C10_ALWAYS_INLINE static void store(scalar_t* p, const Pack& pack) {
    if constexpr (kParts == 1) {
      pack[0].store(p);
    } else {
      narrow(pack).store(p);
    }
  }
  // The first `count` elements only.
  C10_ALWAYS_INLINE static void store(scalar_t* p, const Pack& pack, int64_t count) {
    if constexpr (kParts == 1) {
      pack[0].store(p, count);
    } else {
      narrow(pack).store(p, count);
    }
  }
  // Two float vectors rounded to one of scalar_t, bit for bit as ATen's
  // convert_from_float rounds them.
  C10_ALWAYS_INLINE static Stored narrow(const Pack& pack) {
#if defined(CPU_CAPABILITY_AVX512)
    if constexpr (std::is_same_v<scalar_t, c10::BFloat16>) {
      // One instruction where the CPU has AVX512-BF16, instead of ATen's integer
      // rounding sequence. It flushes denormals to zero and keeps a NaN's sign, where
      // ATen keeps denormals and writes every NaN as 0xffff: vectors holding
      // either take ATen's path. (Inline assembly: the rest of this build
      // must not assume the instruction set.)
      constexpr int kDenormalOrNan = 0x01 | 0x20 | 0x80;  // quiet NaN, denormal, signaling NaN
      if (cpu_has_avx512_bf16() && (_mm512_fpclass_ps_mask(pack[0], kDenormalOrNan) |
                                    _mm512_fpclass_ps_mask(pack[1], kDenormalOrNan)) == 0) {
        __m512i rounded;
        // Operands in AT&T order: the low half of the result from pack[0].
        asm("vcvtne2ps2bf16 %2, %1, %0"
            : "=v"(rounded)
            : "v"(__m512(pack[1])), "v"(__m512(pack[0])));
        return Stored(rounded);
      }
    }
#endif
    return at::vec::convert_from_float<scalar_t>(pack[0], pack[1]);
  }
};

template <class scalar_t, int kOut, int kIn, class Op, size_t... I>
C10_ALWAYS_INLINE void contiguous_run(
    const ContiguousRow<scalar_t, kOut, kIn>& row, int64_t n, const Op& shared_op,
    std::index_sequence<I...>) {
  using V = OpmathVec<scalar_t>;
  // A copy the output stores cannot alias: its parameters (GELU's
  // approximate flag, a slope) stay in registers instead of being reloaded
  // for every vector.
  const Op op = shared_op;
  constexpr int kParts = V::kParts;
  const auto& out = row.out;
  const auto& in = row.in;
  const auto& broadcast = row.broadcast;
  const std::array<typename V::Pack, kIn> invariant = {
      V::broadcast(broadcast[I] ? *in[I] : scalar_t(0))...};
  auto load_inputs = [&](int64_t i) {
    return std::array<typename V::Pack, kIn>{(broadcast[I] ? invariant[I] : V::load(in[I] + i))...};
  };
  // flatten: the functor and its math inline into the loop (GCC otherwise
  // calls a long functor like GELU's out of line, once per vector, and the
  // two vectors of an iteration no longer overlap).
  auto compute = [&](const std::array<typename V::Pack, kIn>& values) __attribute__((flatten)) {
    std::array<typename V::Pack, kOut> results;
    for (int part = 0; part < kParts; ++part) {
      auto result = op(values[I][part]...);
      for (int o = 0; o < kOut; ++o) {
        results[o][part] = output_of<kOut>(result, o);
      }
    }
    return results;
  };
  auto store_outputs = [&](int64_t i, const std::array<typename V::Pack, kOut>& results) {
    for (int o = 0; o < kOut; ++o) {
      V::store(out[o] + i, results[o]);
    }
  };
  int64_t i = 0;
  // Two independent vectors per iteration, so the latency of one's math
  // overlaps the other's.
  for (; i + 2 * V::kWidth <= n; i += 2 * V::kWidth) {
    auto first = load_inputs(i);
    auto second = load_inputs(i + V::kWidth);
    store_outputs(i, compute(first));
    store_outputs(i + V::kWidth, compute(second));
  }
  for (; i + V::kWidth <= n; i += V::kWidth) {
    store_outputs(i, compute(load_inputs(i)));
  }
  if (i < n) {
    // The tail as one masked partial vector, so short rows (NCHW with a small
    // H*W, PReLU on (N, 8)) run vector code too. Lanes past the tail compute
    // on zeros and are not stored.
    const int64_t count = n - i;
    const std::array<typename V::Pack, kIn> values = {
        (broadcast[I] ? invariant[I] : V::load(in[I] + i, count))...};
    const auto results = compute(values);
    for (int o = 0; o < kOut; ++o) {
      V::store(out[o] + i, results[o], count);
    }
  }
}

#else  // DEFAULT: scalar code on contiguous pointers, left to the auto-vectorizer.

template <class scalar_t, int kOut, int kIn, class Op, size_t... I>
C10_ALWAYS_INLINE void contiguous_run(
    const ContiguousRow<scalar_t, kOut, kIn>& row, int64_t n, const Op& op,
    std::index_sequence<I...>) {
  using opmath_t = at::opmath_type<scalar_t>;
  using compute_t = scalar_compute_t<opmath_t>;
  const int64_t step[kIn > 0 ? kIn : 1] = {(row.broadcast[I] ? 0 : 1)...};
  for (int64_t i = 0; i < n; ++i) {
    auto result = op(compute_t(static_cast<opmath_t>(row.in[I][i * step[I]]))...);
    for (int o = 0; o < kOut; ++o) {
      row.out[o][i] = static_cast<scalar_t>(static_cast<opmath_t>(output_of<kOut>(result, o)));
    }
  }
}

#endif  // TORCH_ACT_SIMD

template <class scalar_t, int kOut, int kIn, class Op, size_t... I>
inline void strided_run(
    char* const* ptrs, const int64_t* strides, int64_t n, const Op& op, std::index_sequence<I...>) {
  using opmath_t = at::opmath_type<scalar_t>;
  using compute_t = scalar_compute_t<opmath_t>;
  for (int64_t i = 0; i < n; ++i) {
    auto result = op(compute_t(
        static_cast<opmath_t>(
            *reinterpret_cast<const scalar_t*>(ptrs[kOut + I] + i * strides[kOut + I])))...);
    for (int o = 0; o < kOut; ++o) {
      *reinterpret_cast<scalar_t*>(ptrs[o] + i * strides[o]) =
          static_cast<scalar_t>(static_cast<opmath_t>(output_of<kOut>(result, o)));
    }
  }
}

template <class scalar_t, int kOut, int kIn, class Op>
void elementwise(at::TensorIteratorBase& iter, const Op& op) {
  constexpr int kTensors = kOut + kIn;
  TORCH_INTERNAL_ASSERT(iter.ntensors() == kTensors && iter.noutputs() == kOut);
  constexpr int64_t kSize = sizeof(scalar_t);
  iter.for_each([&](char** data, const int64_t* strides, int64_t n, int64_t rows) {
    bool contiguous = true;
    for (int t = 0; t < kTensors; ++t) {
      const bool input = t >= kOut;
      contiguous = contiguous && (strides[t] == kSize || (input && strides[t] == 0));
    }
    if (!contiguous) {
      std::array<char*, kTensors> ptrs;
      for (int64_t row = 0; row < rows; ++row) {
        for (int t = 0; t < kTensors; ++t) {
          ptrs[t] = data[t] + row * strides[kTensors + t];
        }
        strided_run<scalar_t, kOut, kIn>(
            ptrs.data(), strides, n, op, std::make_index_sequence<kIn>{});
      }
      return;
    }
    // Short rows (PReLU on (N, C), one row per C weights) make the per-row
    // cost count: everything invariant is set up once per chunk.
    std::array<char*, kTensors> base;
    std::array<int64_t, kTensors> row_stride;
    for (int t = 0; t < kTensors; ++t) {
      base[t] = data[t];
      row_stride[t] = strides[kTensors + t];
    }
    ContiguousRow<scalar_t, kOut, kIn> current;
    for (int k = 0; k < kIn; ++k) {
      current.broadcast[k] = strides[kOut + k] == 0;
    }
    for (int64_t row = 0; row < rows; ++row) {
      for (int o = 0; o < kOut; ++o) {
        current.out[o] = reinterpret_cast<scalar_t*>(base[o] + row * row_stride[o]);
      }
      for (int k = 0; k < kIn; ++k) {
        current.in[k] =
            reinterpret_cast<const scalar_t*>(base[kOut + k] + row * row_stride[kOut + k]);
      }
      contiguous_run(current, n, op, std::make_index_sequence<kIn>{});
    }
  });
}

// A two-input backward over a dense row-major [rows, columns] input whose
// parameter is one value per column (a bias along the last dim): writes the
// input's gradient and adds the parameter's gradient into `column_sums`
// (columns values of opmath_t) in the same pass, row by row, so the gradient
// is never read back to be reduced.
template <class scalar_t, class Op>
void backward_summing_columns(
    scalar_t* grad_input, const scalar_t* grad_output, const scalar_t* self, const scalar_t* param,
    at::opmath_type<scalar_t>* column_sums, int64_t rows, int64_t columns, const Op& op) {
  using opmath_t = at::opmath_type<scalar_t>;
#if defined(TORCH_ACT_SIMD)
  using V = OpmathVec<scalar_t>;
  using Vec = typename V::Vec;
  constexpr int kParts = V::kParts;
  auto step = [&](int64_t row_offset, int64_t j, int64_t count) {
    const bool full = count == V::kWidth;
    const auto g =
        full ? V::load(grad_output + row_offset + j) : V::load(grad_output + row_offset + j, count);
    const auto x = full ? V::load(self + row_offset + j) : V::load(self + row_offset + j, count);
    const auto p = full ? V::load(param + j) : V::load(param + j, count);
    typename V::Pack grad;
    for (int part = 0; part < kParts; ++part) {
      const auto grads = op(g[part], x[part], p[part]);
      grad[part] = grads[0];
      // Lanes past the tail computed on zeros; they are not stored.
      const int64_t offset = j + part * Vec::size();
      const int64_t lanes = std::min<int64_t>(Vec::size(), count - part * Vec::size());
      if (lanes <= 0) {
        continue;
      }
      opmath_t* sums = column_sums + offset;
      if (lanes == Vec::size()) {
        (Vec::loadu(sums) + grads[1]).store(sums);
      } else {
        (Vec::loadu(sums, lanes) + grads[1]).store(sums, lanes);
      }
    }
    if (full) {
      V::store(grad_input + row_offset + j, grad);
    } else {
      V::store(grad_input + row_offset + j, grad, count);
    }
  };
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t row_offset = row * columns;
    int64_t j = 0;
    for (; j + V::kWidth <= columns; j += V::kWidth) {
      step(row_offset, j, V::kWidth);
    }
    if (j < columns) {
      step(row_offset, j, columns - j);
    }
  }
#else
  using compute_t = scalar_compute_t<opmath_t>;
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t row_offset = row * columns;
    for (int64_t j = 0; j < columns; ++j) {
      const auto grads =
          op(compute_t(static_cast<opmath_t>(grad_output[row_offset + j])),
             compute_t(static_cast<opmath_t>(self[row_offset + j])),
             compute_t(static_cast<opmath_t>(param[j])));
      grad_input[row_offset + j] = static_cast<scalar_t>(static_cast<opmath_t>(grads[0]));
      column_sums[j] += static_cast<opmath_t>(grads[1]);
    }
  }
#endif
}

}  // namespace CPU_CAPABILITY
}  // namespace cpu
}  // namespace torch_act
