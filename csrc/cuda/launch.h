// The interface between the CUDA kernels (kernels.cu, compiled by nvcc) and
// their host side (dispatch.cpp, compiled with ATen): one elementwise launch
// described in plain types, so the .cu files need no ATen and compile against
// any torch's headers, a CPU-only one included.
#pragma once

#include <cstdint>
#include <limits>
#include <tuple>

#include <c10/core/ScalarType.h>
#include <cuda_runtime_api.h>

#include "../op_table.h"
#include "channel_walk.h"

namespace torch_act {
namespace cuda {

// Up to 3 outputs and 5 inputs (the double backward of the two-input ops).
constexpr int kMaxOperands = 8;
// TensorIterator's dims after coalescing; ATen's CUDA kernels take as many.
constexpr int kMaxDims = 25;

// One TensorIterator, flattened: operands outputs first, then inputs, all of
// one dtype; dim 0 is the fastest-moving one; strides are in bytes.
struct ElementwiseArgs {
  char* data[kMaxOperands];
  int64_t numel;
  int ndim;
  int64_t sizes[kMaxDims];
  int64_t strides[kMaxDims][kMaxOperands];
  c10::ScalarType dtype;
  int multiprocessors;  // of the device the launch runs on
  cudaStream_t stream;
};

// Launchers return once the kernel is queued on args.stream; the caller
// checks cudaGetLastError().
using LaunchTable = KernelTableFor<const ElementwiseArgs>;

// One functor method's launchers each (forward.cu, backward.cu,
// double_backward.cu); the other entries are null.
LaunchTable forward_launchers();
LaunchTable backward_launchers();
LaunchTable double_backward_launchers();

// A param op over a dense input whose parameter is broadcast per channel (or
// is one value), walked as channel_walk.h lays it out (per_channel.cu):
// forward writes `out`; backward writes the input's gradient to `out` and,
// per block and channel, the sum of the parameter's gradient. The tensors
// share one dense layout; offsets are in elements.
struct PerChannelArgs {
  char* out;                // the output, or the input's gradient
  const char* grad_output;  // backward only
  const char* self;
  const char* param;        // `channels` values, contiguous
  void* block_sums;         // backward only, of the compute type: [splits][channels]
                            // (ChannelWalk) or [blocks][channels] (RowWalk)
  ChannelLayout layout;
  bool short_rows;          // RowWalk over `rows`, else ChannelWalk over `split`
  ChannelSplit split;
  RowSplit rows;
  c10::ScalarType dtype;
  cudaStream_t stream;
  int64_t blocks() const { return short_rows ? rows.blocks : split.blocks(layout); }
};

// Threads per block of the per-channel kernels, and elements each thread
// keeps in flight.
constexpr int kChannelThreads = 256;
constexpr int kChannelUnroll = 4;

// Long rows need at least a warp's run per row to read coalesced; shorter
// rows of more channels than a block has threads are left to the generic path.
constexpr int64_t kChannelMinInner = 32;

// Picks the walk over `layout` on a GPU of `multiprocessors`: fills
// args.layout, short_rows and split or rows and returns true; or returns
// false where the kernels do not fit (many channels of short rows, or more
// blocks than a grid may hold).
inline bool plan_channel_walk(PerChannelArgs& args, const ChannelLayout& layout, int multiprocessors) {
  args.layout = layout;
  args.short_rows = layout.channels * layout.inner <= kChannelThreads;
  if (!args.short_rows && layout.channels != 1 && layout.inner < kChannelMinInner) {
    return false;
  }
  // Several waves of blocks: a partial last wave then costs little, whatever
  // the kernel's occupancy.
  const int64_t target_blocks = int64_t{multiprocessors} * 32;
  if (args.short_rows) {
    args.rows = split_rows(layout, target_blocks, kChannelThreads, kChannelUnroll);
  } else {
    args.split = split_channels(
        layout, target_blocks, kChannelThreads, int64_t{kChannelThreads} * kChannelUnroll);
  }
  return args.blocks() <= std::numeric_limits<int32_t>::max();
}

template <class Act>
struct PerChannelLaunchers {
  void (*forward)(const PerChannelArgs&, const Act&);
  void (*backward)(const PerChannelArgs&, const Act&);
};

template <class List>
struct PerChannelTableFor;
template <class... Param>
struct PerChannelTableFor<TypeList<Param...>> {
  std::tuple<PerChannelLaunchers<Param>...> launchers;
  template <class Act>
  const PerChannelLaunchers<Act>& get() const {
    return std::get<PerChannelLaunchers<Act>>(launchers);
  }
};
using PerChannelTable = PerChannelTableFor<ParamActivations>;

// Every param activation's per-channel launchers (per_channel.cu).
PerChannelTable per_channel_launchers();

} // namespace cuda
} // namespace torch_act
