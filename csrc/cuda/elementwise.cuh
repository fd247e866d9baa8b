// The CUDA loops every torch_act kernel runs through: the GPU counterpart of
// cpu/elementwise.h, evaluating the same functor methods.
//
// launch_elementwise<kOut, kIn>(args, op) evaluates `op` on every element of
// a flattened TensorIterator (launch.h) holding kOut outputs and kIn inputs.
// `op` receives kIn values of the compute type (float for half/bfloat16,
// else the dtype) and returns one value or Values<., kOut>.
//
// Two kernels:
//  - flat: every operand is contiguous (or, for an input, one broadcast
//    value) and 16-byte aligned: 128-bit loads and stores, 16 elements in
//    flight per thread, each block walking whole tiles (grid-stride, the grid
//    sized to what the GPU holds resident, or a block per tile: GridSize),
//    64-bit indices;
//  - strided: anything else (any strides, broadcasts, misaligned views):
//    per-element offsets from the sizes and byte strides, with 32-bit index
//    arithmetic (division by multiply-high) whenever the element count allows.
//
// launchers_for<Method>() gives every activation's launcher of one functor
// method; forward.cu, backward.cu and double_backward.cu each compile one,
// so the three build in parallel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include "launch.h"

namespace torch_act {
namespace cuda {

template <class T> struct ComputeType {
  using type = T;
};
template <> struct ComputeType<c10::Half> {
  using type = float;
};
template <> struct ComputeType<c10::BFloat16> {
  using type = float;
};
template <class T> using compute_t = typename ComputeType<T>::type;

constexpr int kThreads = 256;
constexpr int kBlocksPerMultiprocessor = 2048 / kThreads;  // a full SM's threads

// Queues kernel<<<blocks, threads, 0, stream>>>(args...): the kernels' one
// launch, which the C++ tests' stand-in runtime (tests/cpp/emulated_cuda)
// runs on CPU threads instead.
template <class... Params, class... Args>
void launch_kernel(
    void (*kernel)(Params...), int64_t blocks, int threads, cudaStream_t stream,
    const Args&... args) {
#if defined(TORCH_ACT_EMULATED_CUDA)
  (void)stream;
  emulated_cuda::launch(blocks, threads, [&] { kernel(args...); });
#else
  kernel<<<static_cast<unsigned>(blocks), threads, 0, stream>>>(args...);
#endif
}

template <int kOut, class R>
__device__ __forceinline__ auto output_of(const R& result, int o) {
  if constexpr (kOut == 1) {
    (void)o;
    return result;
  } else {
    return result[o];
  }
}

template <class Op, class V, size_t... I>
__device__ __forceinline__ auto apply(const Op& op, const V* in, std::index_sequence<I...>) {
  return op(in[I]...);
}

// ------------------------------------------------------------------- flat

template <class scalar_t>
struct alignas(16) Vector16 {
  static constexpr int kSize = 16 / sizeof(scalar_t);
  scalar_t v[kSize];
};

// 16 elements per thread per step (4 vectors of float, 2 of half, 4 of
// double): enough loads in flight to cover memory latency, few enough
// registers to keep the SM full.
template <class scalar_t>
constexpr int kVectorsPerThread = Vector16<scalar_t>::kSize >= 8 ? 2 : 4;

template <int kTensors>
struct FlatOperands {
  char* data[kTensors];
  bool broadcast[kTensors];  // an input that is one value for every element
};

template <class scalar_t, int kOut, int kIn, class Op>
__global__ void __launch_bounds__(kThreads)
    flat_kernel(FlatOperands<kOut + kIn> operands, int64_t n, Op op) {
  using acc_t = compute_t<scalar_t>;
  using Vec = Vector16<scalar_t>;
  constexpr int kVec = Vec::kSize;
  constexpr int kUnroll = kVectorsPerThread<scalar_t>;
  constexpr int64_t kTile = int64_t{kThreads} * kUnroll;  // vectors per block step
  const int64_t vectors = n / kVec;

  acc_t broadcast_value[kIn];
#pragma unroll
  for (int k = 0; k < kIn; ++k) {
    broadcast_value[k] =
        operands.broadcast[kOut + k]
            ? static_cast<acc_t>(*reinterpret_cast<const scalar_t*>(operands.data[kOut + k]))
            : acc_t(0);
  }
  auto compute_element = [&](const scalar_t(&loaded)[kIn], scalar_t(&stored)[kOut]) {
    acc_t in[kIn];
#pragma unroll
    for (int k = 0; k < kIn; ++k) {
      in[k] = operands.broadcast[kOut + k] ? broadcast_value[k] : static_cast<acc_t>(loaded[k]);
    }
    const auto result = apply(op, in, std::make_index_sequence<kIn>{});
#pragma unroll
    for (int o = 0; o < kOut; ++o) {
      stored[o] = static_cast<scalar_t>(output_of<kOut>(result, o));
    }
  };

  // Each block takes whole tiles of contiguous memory; within a tile, thread
  // t handles vectors t, t + kThreads, ...: coalesced, all loads issued first.
  for (int64_t tile = blockIdx.x; tile * kTile < vectors; tile += gridDim.x) {
    const int64_t first = tile * kTile + threadIdx.x;
    Vec in[kUnroll][kIn];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t v = first + u * kThreads;
#pragma unroll
      for (int k = 0; k < kIn; ++k) {
        if (v < vectors && !operands.broadcast[kOut + k]) {
          in[u][k] = reinterpret_cast<const Vec*>(operands.data[kOut + k])[v];
        }
      }
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t v = first + u * kThreads;
      if (v >= vectors) {
        break;
      }
      Vec out[kOut];
#pragma unroll
      for (int e = 0; e < kVec; ++e) {
        scalar_t loaded[kIn];
        scalar_t stored[kOut];
#pragma unroll
        for (int k = 0; k < kIn; ++k) {
          loaded[k] = in[u][k].v[e];
        }
        compute_element(loaded, stored);
#pragma unroll
        for (int o = 0; o < kOut; ++o) {
          out[o].v[e] = stored[o];
        }
      }
#pragma unroll
      for (int o = 0; o < kOut; ++o) {
        reinterpret_cast<Vec*>(operands.data[o])[v] = out[o];
      }
    }
  }

  // The last n % kVec elements, one per thread.
  const int64_t i = vectors * kVec + static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) {
    scalar_t loaded[kIn];
    scalar_t stored[kOut];
#pragma unroll
    for (int k = 0; k < kIn; ++k) {
      loaded[k] = reinterpret_cast<const scalar_t*>(
          operands.data[kOut + k])[operands.broadcast[kOut + k] ? 0 : i];
    }
    compute_element(loaded, stored);
#pragma unroll
    for (int o = 0; o < kOut; ++o) {
      reinterpret_cast<scalar_t*>(operands.data[o])[i] = stored[o];
    }
  }
}

// Fills `operands` and returns true when the flat kernel can run `args`.
template <class scalar_t, int kOut, int kIn>
bool as_flat(const ElementwiseArgs& args, FlatOperands<kOut + kIn>& operands) {
  if (args.ndim > 1) {
    return false;
  }
  constexpr int64_t kSize = sizeof(scalar_t);
  for (int t = 0; t < kOut + kIn; ++t) {
    // A 0-dim iteration (one element) has no strides: every operand is "contiguous".
    const int64_t stride = args.ndim == 0 ? kSize : args.strides[0][t];
    const bool broadcast = t >= kOut && stride == 0;
    const bool aligned = reinterpret_cast<uintptr_t>(args.data[t]) % 16 == 0;
    if (!broadcast && (stride != kSize || !aligned)) {
      return false;
    }
    operands.data[t] = args.data[t];
    operands.broadcast[t] = broadcast;
  }
  return true;
}

// ---------------------------------------------------------------- strided

// n / d and n % d. For 32-bit indices (n < 2^31) the quotient is one
// multiply-high and a shift (Granlund & Montgomery): the strided kernel does
// a division per dimension per element, and hardware integer division would
// make it compute-bound.
template <class index_t>
struct Divider {
  index_t divisor;
  Divider() = default;
  explicit Divider(index_t d) : divisor(d) {}
  __device__ index_t quotient(index_t n) const { return n / divisor; }
};

template <>
struct Divider<uint32_t> {
  uint32_t divisor, magic, shift;
  Divider() = default;
  explicit Divider(uint32_t d) : divisor(d), shift(0) {
    while ((uint64_t{1} << shift) < d) {
      ++shift;
    }
    // 2^shift >= d > 2^(shift-1), so magic fits in 32 bits for d < 2^31.
    magic = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift) - d)) / d + 1);
  }
  __device__ uint32_t quotient(uint32_t n) const { return (__umulhi(n, magic) + n) >> shift; }
};

template <int kTensors, class index_t>
struct StridedOperands {
  char* data[kTensors];
  int ndim;
  Divider<index_t> sizes[kMaxDims];
  int64_t strides[kMaxDims][kTensors];
};

template <class scalar_t, int kOut, int kIn, class index_t, class Op>
__global__ void __launch_bounds__(kThreads)
    strided_kernel(StridedOperands<kOut + kIn, index_t> operands, index_t n, Op op) {
  using acc_t = compute_t<scalar_t>;
  constexpr int kTensors = kOut + kIn;
  const index_t stride = static_cast<index_t>(gridDim.x) * blockDim.x;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    int64_t offset[kTensors] = {};
    index_t rest = i;
    for (int d = 0; d < operands.ndim; ++d) {
      const index_t next = operands.sizes[d].quotient(rest);
      const index_t coordinate = rest - next * operands.sizes[d].divisor;
      rest = next;
#pragma unroll
      for (int t = 0; t < kTensors; ++t) {
        offset[t] += static_cast<int64_t>(coordinate) * operands.strides[d][t];
      }
    }
    acc_t in[kIn];
#pragma unroll
    for (int k = 0; k < kIn; ++k) {
      in[k] = static_cast<acc_t>(
          *reinterpret_cast<const scalar_t*>(operands.data[kOut + k] + offset[kOut + k]));
    }
    const auto result = apply(op, in, std::make_index_sequence<kIn>{});
#pragma unroll
    for (int o = 0; o < kOut; ++o) {
      *reinterpret_cast<scalar_t*>(operands.data[o] + offset[o]) =
          static_cast<scalar_t>(output_of<kOut>(result, o));
    }
  }
}

// Blocks of `kernel` the whole GPU holds at once: a grid-stride grid of this
// size runs in one wave, with no partial last wave. Read once per kernel.
template <auto kernel>
int64_t resident_blocks(int multiprocessors) {
  static const int per_multiprocessor = [] {
    int blocks = 0;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, kThreads, 0) !=
        cudaSuccess) {
      (void)cudaGetLastError();  // not fatal: fall back to a full SM's worth
      blocks = kBlocksPerMultiprocessor;
    }
    return blocks > 0 ? blocks : 1;
  }();
  return static_cast<int64_t>(per_multiprocessor) * multiprocessors;
}

// The grid for `tiles` tiles of work: capped at the blocks the GPU holds at
// once under GridSize::kResident, and always at what a launch may hold.
inline int64_t grid_blocks(int64_t tiles, int64_t resident, GridSize size) {
  const int64_t blocks = size == GridSize::kResident ? std::min(tiles, resident) : tiles;
  return std::clamp<int64_t>(blocks, 1, std::numeric_limits<int32_t>::max());
}

template <class scalar_t, int kOut, int kIn, class index_t, class Op>
void launch_strided(const ElementwiseArgs& args, const Op& op) {
  StridedOperands<kOut + kIn, index_t> operands;
  operands.ndim = args.ndim;
  for (int t = 0; t < kOut + kIn; ++t) {
    operands.data[t] = args.data[t];
  }
  for (int d = 0; d < args.ndim; ++d) {
    operands.sizes[d] = Divider<index_t>(static_cast<index_t>(args.sizes[d]));
    for (int t = 0; t < kOut + kIn; ++t) {
      operands.strides[d][t] = args.strides[d][t];
    }
  }
  const int64_t blocks = grid_blocks(
      (args.numel + kThreads - 1) / kThreads,
      resident_blocks<strided_kernel<scalar_t, kOut, kIn, index_t, Op>>(args.multiprocessors),
      args.grid_size);
  launch_kernel(
      &strided_kernel<scalar_t, kOut, kIn, index_t, Op>, blocks, kThreads, args.stream, operands,
      static_cast<index_t>(args.numel), op);
}

// ----------------------------------------------------------------- launch

template <class scalar_t, int kOut, int kIn, class Op>
void launch_typed(const ElementwiseArgs& args, const Op& op) {
  FlatOperands<kOut + kIn> flat;
  if (as_flat<scalar_t, kOut, kIn>(args, flat)) {
    constexpr int64_t kPerBlock =
        int64_t{kThreads} * kVectorsPerThread<scalar_t> * Vector16<scalar_t>::kSize;
    const int64_t blocks = grid_blocks(
        (args.numel + kPerBlock - 1) / kPerBlock,
        resident_blocks<flat_kernel<scalar_t, kOut, kIn, Op>>(args.multiprocessors),
        args.grid_size);
    launch_kernel(
        &flat_kernel<scalar_t, kOut, kIn, Op>, blocks, kThreads, args.stream, flat, args.numel, op);
  } else if (args.numel <= std::numeric_limits<int32_t>::max()) {
    launch_strided<scalar_t, kOut, kIn, uint32_t>(args, op);
  } else {
    launch_strided<scalar_t, kOut, kIn, int64_t>(args, op);
  }
}

// Calls launch(scalar_t{}) with the element type of `dtype`: the kernels'
// one map from the ops' four dtypes to C++ types.
template <class Launch>
void with_scalar_type(c10::ScalarType dtype, const Launch& launch) {
  switch (dtype) {
    case c10::ScalarType::Float:
      return launch(float{});
    case c10::ScalarType::Double:
      return launch(double{});
    case c10::ScalarType::Half:
      return launch(c10::Half{});
    case c10::ScalarType::BFloat16:
      return launch(c10::BFloat16{});
    default:
      return;  // unreachable: every op checks the dtype before launching
  }
}

template <int kOut, int kIn, class Op>
void launch_elementwise(const ElementwiseArgs& args, const Op& op) {
  with_scalar_type(
      args.dtype, [&](auto zero) { launch_typed<decltype(zero), kOut, kIn>(args, op); });
}

template <template <class> class Method, class Loops>
void launch_method(const ElementwiseArgs& args, const typename Loops::Activation& act) {
  using Call = MethodCall<Method, Loops>;
  launch_elementwise<Call::kOut, Call::kIn>(args, typename Call::Op{act});
}

// Every activation's launcher of one functor method; the table's other
// entries are left null (dispatch.cpp merges the three tables).
template <template <class> class Method>
LaunchTable launchers_for() {
  return LaunchTable::build([](auto* entry) {
    using Loops = std::remove_pointer_t<decltype(entry)>;
    Loops launchers{};
    launchers.*(Method<typename Loops::Activation>::template slot<Loops>) =
        &launch_method<Method, Loops>;
    return launchers;
  });
}

}  // namespace cuda
}  // namespace torch_act
