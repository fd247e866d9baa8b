// The CPU loops of every activation, for one CPU capability.
//
// setup.py (and CMakeLists.txt) compile this file three times: with
// CPU_CAPABILITY=DEFAULT, =AVX2 (-mavx2 -mfma -mf16c) and =AVX512 (-mavx512*),
// each into a namespace of that name, so the copies coexist in one library.
// No static initializers here: this code may only run after dispatch.cpp has
// checked that the CPU supports it.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <ATen/Dispatch.h>

#include "elementwise.h"
#include "kernels.h"

#if !defined(CPU_CAPABILITY)
#error "kernels.cpp must be compiled with -DCPU_CAPABILITY=<DEFAULT|AVX2|AVX512>"
#endif

namespace torch_act {
namespace cpu {
namespace CPU_CAPABILITY {
namespace {

template <int kOut, int kIn, class Op>
void run(at::TensorIteratorBase& iter, const Op& op) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, iter.common_dtype(), "torch_act", [&] {
    elementwise<scalar_t, kOut, kIn>(iter, op);
  });
}

// One table entry's loop: Method's functor over the iterator.
template <template <class> class Method, class Loops>
void run_method(at::TensorIteratorBase& iter, const typename Loops::Activation& act) {
  using Call = MethodCall<Method, Loops>;
  run<Call::kOut, Call::kIn>(iter, typename Call::Op{act});
}

template <class Act>
void backward_chunk_summing_columns(const ColumnSumChunk& chunk, const Act& act) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, chunk.dtype, "torch_act", [&] {
    backward_summing_columns(
        static_cast<scalar_t*>(chunk.grad_input), static_cast<const scalar_t*>(chunk.grad_output),
        static_cast<const scalar_t*>(chunk.self), static_cast<const scalar_t*>(chunk.param),
        static_cast<at::opmath_type<scalar_t>*>(chunk.column_sums), chunk.rows, chunk.columns,
        Backward<Act>{act});
  });
}

template <class... Act>
TableOf<ColumnSumLoops, TypeList<Act...>> column_sum_table_for(TypeList<Act...>) {
  return {std::make_tuple(ColumnSumLoops<Act>{&backward_chunk_summing_columns<Act>}...)};
}

// The packed ops' loops over groups of 8 elements (packed_codes.h's layout).
constexpr int64_t kGroupsPerTask = 4096;

#if defined(TORCH_ACT_SIMD)
// SIMD steps of the packed loops (float compute only): a lane mask is a
// plane of bit-sliced codes, 8 lanes to a byte.
using FloatVec = at::vec::Vectorized<float>;
constexpr int kLanes = FloatVec::size();

// 1.0 in lane i where bit i of `bits` is set, else 0.0.
inline FloatVec lanes_of(uint32_t bits) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_maskz_mov_ps(static_cast<__mmask16>(bits), _mm512_set1_ps(1.0f));
#else
  const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  const __m256i hit =
      _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits)), lane), lane);
  return _mm256_and_ps(_mm256_castsi256_ps(hit), _mm256_set1_ps(1.0f));
#endif
}

// Bit i set where lane i of `v` is not 0.0 (one compare into a mask register).
inline uint32_t nonzero_bits(const FloatVec& v) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
#else
  return static_cast<uint32_t>(
      _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_UQ)));
#endif
}

// The code planes of one vector of inputs: planes[b] holds bit b of each lane's code.
template <class Act>
void code_planes(const BitCoder<Act>& coder, const FloatVec& x, uint32_t* planes) {
  planes[0] = nonzero_bits(coder.act.gradient_bit(x));
}
inline void code_planes(const FittedCoder& coder, const FloatVec& x, uint32_t* planes) {
  const FloatVec u = x * FloatVec(coder.input_scale);
  const int bounds = (1 << coder.code_bits) - 1;
  // The code counts the bounds at or below u (a NaN: none), as the scalar
  // binary search does.
#if defined(CPU_CAPABILITY_AVX512)
  __m512i code = _mm512_setzero_si512();
  for (int i = 0; i < bounds; ++i) {
    const __mmask16 at_or_above =
        _mm512_cmp_ps_mask(u, _mm512_set1_ps(coder.bounds[i]), _CMP_GE_OQ);
    code = _mm512_mask_add_epi32(code, at_or_above, code, _mm512_set1_epi32(1));
  }
  for (int b = 0; b < coder.code_bits; ++b) {
    planes[b] = _mm512_test_epi32_mask(code, _mm512_set1_epi32(1 << b));
  }
#else
  __m256i code = _mm256_setzero_si256();
  for (int i = 0; i < bounds; ++i) {
    const __m256 at_or_above = _mm256_cmp_ps(u, _mm256_set1_ps(coder.bounds[i]), _CMP_GE_OQ);
    code = _mm256_sub_epi32(code, _mm256_castps_si256(at_or_above));  // all ones: -1
  }
  for (int b = 0; b < coder.code_bits; ++b) {
    planes[b] = static_cast<uint32_t>(
        _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(code, 31 - b))));
  }
#endif
}

// The gradient of one vector from its code planes.
template <class Act>
FloatVec backward_from_planes(
    const BitCoder<Act>& coder, const FloatVec& g, const uint32_t* planes) {
  return coder.act.backward_from_bit(g, lanes_of(planes[0]));
}
inline FloatVec backward_from_planes(
    const FittedCoder& coder, const FloatVec& g, const uint32_t* planes) {
#if defined(CPU_CAPABILITY_AVX512)
  __m512i code = _mm512_setzero_si512();
  for (int b = 0; b < coder.code_bits; ++b) {
    code = _mm512_mask_or_epi32(
        code, static_cast<__mmask16>(planes[b]), code, _mm512_set1_epi32(1 << b));
  }
  return g * FloatVec(_mm512_permutexvar_ps(code, _mm512_loadu_ps(coder.values)));
#else
  __m256i code = _mm256_setzero_si256();
  for (int b = 0; b < coder.code_bits; ++b) {
    const __m256i bit = _mm256_castps_si256(lanes_of(planes[b]) != FloatVec(0.0f));
    code = _mm256_or_si256(code, _mm256_and_si256(bit, _mm256_set1_epi32(1 << b)));
  }
  __m256 value = _mm256_permutevar8x32_ps(_mm256_loadu_ps(coder.values), code);
  if (coder.code_bits == 4) {  // codes 8..15 from the upper eight values
    const __m256 upper = _mm256_permutevar8x32_ps(_mm256_loadu_ps(coder.values + 8), code);
    value = _mm256_blendv_ps(value, upper, _mm256_castsi256_ps(_mm256_slli_epi32(code, 28)));
  }
  return g * FloatVec(value);
#endif
}
#endif  // TORCH_ACT_SIMD

#if !defined(TORCH_ACT_SIMD)
// The DEFAULT build's 1-bit loops go through one byte (0 or 1) per element,
// kBitBlock at a time: the per-element loops then vectorize, and eight bytes
// pack into (or unpack from) a code byte with a multiply and a mask.
// (Little-endian CPUs only: the words below are read and written bytewise.)
constexpr int64_t kBitBlock = 256;
constexpr bool kBytewiseBits = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

// bits[j] = the gradient bit of x[j], and out[j] = f(x[j]) unless out is null.
template <class Act, class scalar_t>
void exact_bits(const Act& act, const scalar_t* x, scalar_t* out, uint8_t* bits, int64_t count) {
  using opmath_t = at::opmath_type<scalar_t>;
  using compute_t = scalar_compute_t<opmath_t>;
  for (int64_t j = 0; j < count; ++j) {
    bits[j] = act.gradient_bit(compute_t(static_cast<opmath_t>(x[j]))) != compute_t(0);
  }
  if (out != nullptr) {
    for (int64_t j = 0; j < count; ++j) {
      out[j] = static_cast<scalar_t>(
          static_cast<opmath_t>(act.forward(compute_t(static_cast<opmath_t>(x[j])))));
    }
  }
}
// Eight bytes of 0 or 1 -> one byte, bit j from byte j: the multiply moves
// byte j's bit to bit 56 + j, and nothing below carries that far.
inline uint8_t byte_of_bits(const uint8_t* bits) {
  uint64_t word;
  std::memcpy(&word, bits, sizeof word);  // byte j at bits 8j (little-endian)
  return static_cast<uint8_t>((word * 0x0102040810204080ull) >> 56);
}
// The inverse: byte j of the result is bit j of `code` (0 or 1).
inline void bits_of_byte(uint8_t code, uint8_t* bits) {
  const uint64_t spread = (code * 0x0101010101010101ull) & 0x8040201008040201ull;
  const uint64_t word = ((spread + 0x7f7f7f7f7f7f7f7full) >> 7) & 0x0101010101010101ull;
  std::memcpy(bits, &word, sizeof word);
}
#endif

// Groups [begin, end) of n elements: codes, and out = f(x) unless out is null,
// in one pass over x.
template <class Act, class Coder, class scalar_t>
void pack_groups(
    const Act& act, const Coder& coder, const scalar_t* x, scalar_t* out, uint8_t* codes, int64_t n,
    int64_t begin, int64_t end) {
  using opmath_t = at::opmath_type<scalar_t>;
  int64_t group = begin;
#if defined(TORCH_ACT_SIMD)
  if constexpr (std::is_same_v<opmath_t, float>) {
    using V = OpmathVec<scalar_t>;
    constexpr int64_t kGroupsPerStep = V::kWidth / kGroupSize;
    // Local copies: a store of code bytes may alias anything whose address
    // escaped, which would reload the hyper-parameters on every step.
    const Act local_act = act;
    const Coder local_coder = coder;
    const int bits = local_coder.bits();
    // (The step lambdas always inlined: a call passes their vectors through
    // memory, which made the bfloat16 pack 1.5-2x slower than the forward.)
    auto outputs = [&](int64_t i, const typename V::Pack& values,
                       int64_t count) C10_ALWAYS_INLINE_ATTRIBUTE {
      typename V::Pack results;
      for (int part = 0; part < V::kParts; ++part) {
        results[part] = local_act.forward(values[part]);
      }
      count == V::kWidth ? V::store(out + i, results) : V::store(out + i, results, count);
    };
    auto full_step = [&](int64_t step_group,
                         const typename V::Pack& values) C10_ALWAYS_INLINE_ATTRIBUTE {
      const int64_t i = step_group * kGroupSize;
      if (out != nullptr) {
        outputs(i, values, V::kWidth);
      }
      if constexpr (Coder::kExact) {  // 1 bit: the step's lane masks are its code bytes
        uint64_t word = 0;
        for (int part = 0; part < V::kParts; ++part) {
          uint32_t plane;
          code_planes(local_coder, values[part], &plane);
          word |= static_cast<uint64_t>(plane) << (part * kLanes);
        }
        std::memcpy(codes + step_group, &word, kGroupsPerStep);  // (x86: little-endian)
      } else {
        for (int part = 0; part < V::kParts; ++part) {
          uint32_t planes[kMaxCodeBits];
          code_planes(local_coder, values[part], planes);
          for (int byte = 0; byte < kLanes / kGroupSize; ++byte) {
            uint8_t* group_codes =
                codes + (step_group + part * (kLanes / kGroupSize) + byte) * bits;
            for (int b = 0; b < bits; ++b) {
              group_codes[b] = static_cast<uint8_t>(planes[b] >> (8 * byte));
            }
          }
        }
      }
    };
    auto full_steps_fit = [&](int64_t steps) {
      const int64_t stop = group + steps * kGroupsPerStep;
      return stop <= end && stop * kGroupSize <= n;
    };
    // Two steps' loads ahead of their stores (a code store may alias x, so the
    // compiler would not hoist them), as elementwise's loop overlaps two vectors.
    for (; full_steps_fit(2); group += 2 * kGroupsPerStep) {
      const auto first = V::load(x + group * kGroupSize);
      const auto second = V::load(x + (group + kGroupsPerStep) * kGroupSize);
      full_step(group, first);
      full_step(group + kGroupsPerStep, second);
    }
    for (; full_steps_fit(1); group += kGroupsPerStep) {
      full_step(group, V::load(x + group * kGroupSize));
    }
    if (group < end) {
      // The last groups as one masked step, so every output comes from the
      // forward op's vector math, bit for bit.
      const int64_t i = group * kGroupSize;
      const int64_t count = std::min(n, end * kGroupSize) - i;
      const auto values = V::load(x + i, count);
      if (out != nullptr) {
        outputs(i, values, count);
      }
      for (int part = 0; part < V::kParts; ++part) {
        uint32_t planes[kMaxCodeBits];
        code_planes(local_coder, values[part], planes);
        const int64_t lanes = std::clamp<int64_t>(count - part * kLanes, 0, kLanes);
        const uint32_t live = (1u << lanes) - 1;  // padding codes are 0 (lanes < 32)
        for (int byte = 0; byte < kLanes / kGroupSize; ++byte) {
          const int64_t index = part * (kLanes / kGroupSize) + byte;
          if (index * kGroupSize < count) {
            uint8_t* group_codes = codes + (group + index) * bits;
            for (int b = 0; b < bits; ++b) {
              group_codes[b] = static_cast<uint8_t>((planes[b] & live) >> (8 * byte));
            }
          }
        }
      }
    }
    return;
  }
#else
  if constexpr (Coder::kExact && kBytewiseBits) {
    for (; group < end; group += kBitBlock / kGroupSize) {
      const int64_t first = group * kGroupSize;
      const int64_t count = std::min(kBitBlock, std::min(n, end * kGroupSize) - first);
      uint8_t bits[kBitBlock] = {};  // the padding past count codes 0
      exact_bits(coder.act, x + first, out == nullptr ? nullptr : out + first, bits, count);
      for (int64_t i = 0; i * kGroupSize < count; ++i) {
        codes[group + i] = byte_of_bits(bits + i * kGroupSize);
      }
    }
    return;
  }
#endif
  const ForwardInScalarCompute<Act> forward{act};
  for (; group < end; ++group) {
    pack_group<opmath_t>(forward, coder, x, out, n, group, codes);
  }
}

template <class Coder, class scalar_t>
void backward_groups(
    const Coder& coder, const scalar_t* grad_output, const uint8_t* codes, scalar_t* grad_input,
    int64_t n, int64_t begin, int64_t end) {
  using opmath_t = at::opmath_type<scalar_t>;
  int64_t group = begin;
#if defined(TORCH_ACT_SIMD)
  if constexpr (std::is_same_v<opmath_t, float>) {
    using V = OpmathVec<scalar_t>;
    constexpr int64_t kGroupsPerStep = V::kWidth / kGroupSize;
    const Coder local_coder = coder;  // (not reloaded after each store: see pack_groups)
    const int bits = local_coder.bits();
    for (; group + kGroupsPerStep <= end && (group + kGroupsPerStep) * kGroupSize <= n;
         group += kGroupsPerStep) {
      const int64_t i = group * kGroupSize;
      const auto grads = V::load(grad_output + i);
      typename V::Pack results;
      if constexpr (Coder::kExact) {  // 1 bit: the step's code bytes are its lane masks
        uint64_t word = 0;
        std::memcpy(&word, codes + group, kGroupsPerStep);  // (x86: little-endian)
        for (int part = 0; part < V::kParts; ++part) {
          const uint32_t plane = static_cast<uint32_t>(word >> (part * kLanes));
          results[part] = backward_from_planes(local_coder, grads[part], &plane);
        }
      } else {
        for (int part = 0; part < V::kParts; ++part) {
          uint32_t planes[kMaxCodeBits] = {};
          for (int byte = 0; byte < kLanes / kGroupSize; ++byte) {
            const uint8_t* group_codes =
                codes + (group + part * (kLanes / kGroupSize) + byte) * bits;
            for (int b = 0; b < bits; ++b) {
              planes[b] |= static_cast<uint32_t>(group_codes[b]) << (8 * byte);
            }
          }
          results[part] = backward_from_planes(local_coder, grads[part], planes);
        }
      }
      V::store(grad_input + i, results);
    }
  }
#else
  if constexpr (Coder::kExact && kBytewiseBits) {
    using compute_t = scalar_compute_t<opmath_t>;
    for (; group < end; group += kBitBlock / kGroupSize) {
      const int64_t first = group * kGroupSize;
      const int64_t count = std::min(kBitBlock, std::min(n, end * kGroupSize) - first);
      uint8_t bits[kBitBlock];
      for (int64_t i = 0; i * kGroupSize < count; ++i) {
        bits_of_byte(codes[group + i], bits + i * kGroupSize);
      }
      for (int64_t j = 0; j < count; ++j) {
        grad_input[first + j] =
            static_cast<scalar_t>(static_cast<opmath_t>(coder.act.backward_from_bit(
                compute_t(static_cast<opmath_t>(grad_output[first + j])), compute_t(bits[j]))));
      }
    }
    return;
  }
#endif
  for (; group < end; ++group) {
    backward_group<opmath_t>(coder, grad_output, codes, n, group, grad_input);
  }
}

// body(begin, end) over [0, groups) in tasks of kGroupsPerTask groups, in
// parallel where there is more than one.
template <class Body>
void over_tasks(int64_t groups, const Body& body) {
  const int64_t tasks = (groups + kGroupsPerTask - 1) / kGroupsPerTask;
  if (tasks <= 1) {
    body(0, groups);
    return;
  }
  parallel_over(tasks, [&](int64_t task) {
    const int64_t begin = task * kGroupsPerTask;
    body(begin, std::min(begin + kGroupsPerTask, groups));
  });
}

template <class Act>
PackedLoops<Act> packed_loops_of() {
  using Coder = CoderOf<Act>;
  return {
      [](const void* x, void* out, uint8_t* codes, int64_t n, c10::ScalarType dtype, const Act& act,
         const Coder& coder) {
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "torch_act_pack", [&] {
          const int64_t groups = (n + kGroupSize - 1) / kGroupSize;
          over_tasks(groups, [&](int64_t begin, int64_t end) {
            pack_groups(
                act, coder, static_cast<const scalar_t*>(x), static_cast<scalar_t*>(out), codes, n,
                begin, end);
          });
        });
      },
      [](void* grad_input, const void* grad_output, const uint8_t* codes, int64_t n,
         c10::ScalarType dtype, const Coder& coder) {
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "torch_act_unpack", [&] {
          const int64_t groups = (n + kGroupSize - 1) / kGroupSize;
          over_tasks(groups, [&](int64_t begin, int64_t end) {
            backward_groups(
                coder, static_cast<const scalar_t*>(grad_output), codes,
                static_cast<scalar_t*>(grad_input), n, begin, end);
          });
        });
      }};
}

template <class... Act>
PackedTable packed_table_for(TypeList<Act...>) {
  return {std::make_tuple(packed_loops_of<Act>()...)};
}

}  // namespace

CapabilityTables capability_tables() {
  return {
      KernelTable::build([](auto* entry) {
        using Loops = std::remove_pointer_t<decltype(entry)>;
        return Loops{
            &run_method<Forward, Loops>, &run_method<Backward, Loops>,
            &run_method<DoubleBackward, Loops>};
      }),
      column_sum_table_for(BiasActivations{}),
      packed_table_for(PackedActivations{}),
  };
}

}  // namespace CPU_CAPABILITY
}  // namespace cpu
}  // namespace torch_act
