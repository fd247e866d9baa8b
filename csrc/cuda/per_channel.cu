// The GPU kernels of the param ops whose parameter is broadcast per channel
// (PReLU) or is one value (learnable Swish), over a dense input:
//  - forward: each thread holds its channel's parameter, so the input
//    streams through without the general-strides indexing;
//  - backward: one pass writes the input's gradient and sums the parameter's
//    gradient per block (or, for wide rows, per thread) and channel, with no
//    per-element buffer and no atomics; the host (per_channel.h) adds these
//    few sums per channel.
// The math is the functor's (activations.h); which elements a thread visits
// is channel_walk.h.
#include "elementwise.cuh"

namespace torch_act {
namespace cuda {
namespace {

// Runs use(offset, load(offset)) over the thread's elements, kChannelUnroll
// at a time with all loads issued first. (The arrays are indexed by the
// unrolled u only, so they stay in registers.)
template <class Walk, class Load, class Use>
__device__ __forceinline__ void for_each_element(Walk walk, const Load& load, const Use& use) {
  using Loaded = decltype(load(int64_t{0}));
  while (!walk.done()) {
    int64_t offset[kChannelUnroll];
    bool live[kChannelUnroll];
#pragma unroll
    for (int u = 0; u < kChannelUnroll; ++u) {
      live[u] = !walk.done();
      offset[u] = live[u] ? walk.offset() : 0;
      if (live[u]) {
        walk.next();
      }
    }
    Loaded loaded[kChannelUnroll];
#pragma unroll
    for (int u = 0; u < kChannelUnroll; ++u) {
      if (live[u]) {
        loaded[u] = load(offset[u]);
      }
    }
#pragma unroll
    for (int u = 0; u < kChannelUnroll; ++u) {
      if (live[u]) {
        use(offset[u], loaded[u]);
      }
    }
  }
}

template <class scalar_t, class Walk>
__device__ compute_t<scalar_t> param_of(const PerChannelArgs& args, const Walk& walk) {
  return static_cast<compute_t<scalar_t>>(
      reinterpret_cast<const scalar_t*>(args.param)[walk.channel()]);
}

template <class scalar_t, class Op>
__global__ void __launch_bounds__(kChannelThreads) forward_kernel(PerChannelArgs args, Op op) {
  using acc_t = compute_t<scalar_t>;
  auto* out = reinterpret_cast<scalar_t*>(args.out);
  const auto* self = reinterpret_cast<const scalar_t*>(args.self);
  auto run = [&](const auto& walk) {
    const acc_t param = param_of<scalar_t>(args, walk);
    for_each_element(
        walk, [&](int64_t i) { return self[i]; },
        [&](int64_t i, scalar_t x) {
          out[i] = static_cast<scalar_t>(op(static_cast<acc_t>(x), param));
        });
  };
  switch (args.walk) {
    case ChannelWalkKind::kChannels:
      return run(ChannelWalk(args.layout, args.split, blockIdx.x, threadIdx.x, kChannelThreads));
    case ChannelWalkKind::kRows:
      return run(RowWalk(args.layout, args.rows, blockIdx.x, threadIdx.x));
    case ChannelWalkKind::kColumns:
      return run(ColumnWalk(args.layout, args.columns, blockIdx.x, threadIdx.x, kChannelThreads));
  }
}

// Writes the input's gradient over the walk; returns the thread's sum of the
// parameter's gradient.
template <class scalar_t, class Walk, class Op>
__device__ compute_t<scalar_t> backward_walk(
    const PerChannelArgs& args, const Walk& walk, const Op& op) {
  using acc_t = compute_t<scalar_t>;
  struct Pair {
    scalar_t grad_output, self;
  };
  auto* grad_input = reinterpret_cast<scalar_t*>(args.out);
  const auto* grad_output = reinterpret_cast<const scalar_t*>(args.grad_output);
  const auto* self = reinterpret_cast<const scalar_t*>(args.self);
  const acc_t param = param_of<scalar_t>(args, walk);
  acc_t param_grad = 0;
  for_each_element(
      walk, [&](int64_t i) { return Pair{grad_output[i], self[i]}; },
      [&](int64_t i, const Pair& v) {
        const auto grads = op(static_cast<acc_t>(v.grad_output), static_cast<acc_t>(v.self), param);
        grad_input[i] = static_cast<scalar_t>(grads[0]);
        param_grad += grads[1];
      });
  return param_grad;
}

// The sum of `value` over the block, valid in thread 0. Warps reduce by
// shuffles, then the first warp reduces the warps' sums.
template <class T>
__device__ T block_sum(T value) {
  static_assert(kChannelThreads % 32 == 0 && kChannelThreads <= 32 * 32, "whole warps");
  __shared__ T warp_sums[kChannelThreads / 32];
  for (int delta = 16; delta > 0; delta /= 2) {
    value += __shfl_down_sync(0xffffffffu, value, delta);
  }
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  if (lane == 0) {
    warp_sums[warp] = value;
  }
  __syncthreads();
  if (warp == 0) {
    value = lane < kChannelThreads / 32 ? warp_sums[lane] : T(0);
    for (int delta = 16; delta > 0; delta /= 2) {
      value += __shfl_down_sync(0xffffffffu, value, delta);
    }
  }
  return value;
}

// Long rows: each block sums one chunk of one channel.
template <class scalar_t, class Op>
__global__ void __launch_bounds__(kChannelThreads)
    channel_backward_kernel(PerChannelArgs args, Op op) {
  const ChannelWalk walk(args.layout, args.split, blockIdx.x, threadIdx.x, kChannelThreads);
  const auto param_grad = block_sum(backward_walk<scalar_t>(args, walk, op));
  if (threadIdx.x == 0) {
    static_cast<compute_t<scalar_t>*>(args.block_sums)[blockIdx.x] = param_grad;
  }
}

// Short rows: each block sums every channel over a run of rows; thread t
// keeps one position of the row, so a channel's sum gathers several threads.
template <class scalar_t, class Op>
__global__ void __launch_bounds__(kChannelThreads) row_backward_kernel(PerChannelArgs args, Op op) {
  using acc_t = compute_t<scalar_t>;
  __shared__ acc_t thread_sums[kChannelThreads];
  const RowWalk walk(args.layout, args.rows, blockIdx.x, threadIdx.x);
  thread_sums[threadIdx.x] = backward_walk<scalar_t>(args, walk, op);
  __syncthreads();
  const int per_channel = RowWalk::threads_per_channel(args.layout, args.rows);
  for (int64_t channel = threadIdx.x; channel < args.layout.channels; channel += kChannelThreads) {
    acc_t sum = 0;
    for (int i = 0; i < per_channel; ++i) {
      sum += thread_sums[RowWalk::thread_of(args.layout, channel, i)];
    }
    static_cast<acc_t*>(args.block_sums)[blockIdx.x * args.layout.channels + channel] = sum;
  }
}

// Wide rows: each thread walks one position of the row down a chunk of
// rows, so its sum is one channel's already; no block reduction.
template <class scalar_t, class Op>
__global__ void __launch_bounds__(kChannelThreads)
    column_backward_kernel(PerChannelArgs args, Op op) {
  const ColumnWalk walk(args.layout, args.columns, blockIdx.x, threadIdx.x, kChannelThreads);
  const auto param_grad = backward_walk<scalar_t>(args, walk, op);
  if (walk.active()) {
    static_cast<compute_t<scalar_t>*>(args.block_sums)[walk.sum_index()] = param_grad;
  }
}

template <class Act>
void launch_forward(const PerChannelArgs& args, const Act& act) {
  with_scalar_type(args.dtype, [&](auto zero) {
    launch_kernel(
        &forward_kernel<decltype(zero), Forward<Act>>, args.blocks(), kChannelThreads, args.stream,
        args, Forward<Act>{act});
  });
}

template <class Act>
void launch_backward(const PerChannelArgs& args, const Act& act) {
  with_scalar_type(args.dtype, [&](auto zero) {
    using scalar_t = decltype(zero);
    auto* kernel = &channel_backward_kernel<scalar_t, Backward<Act>>;
    if (args.walk == ChannelWalkKind::kRows) {
      kernel = &row_backward_kernel<scalar_t, Backward<Act>>;
    } else if (args.walk == ChannelWalkKind::kColumns) {
      kernel = &column_backward_kernel<scalar_t, Backward<Act>>;
    }
    launch_kernel(kernel, args.blocks(), kChannelThreads, args.stream, args, Backward<Act>{act});
  });
}

template <class... Param>
TableOf<PerChannelLaunchers, TypeList<Param...>> table_for(TypeList<Param...>) {
  return {std::make_tuple(
      PerChannelLaunchers<Param>{&launch_forward<Param>, &launch_backward<Param>}...)};
}

}  // namespace

PerChannelTable per_channel_launchers() { return table_for(PerChannelActivations{}); }

}  // namespace cuda
}  // namespace torch_act
