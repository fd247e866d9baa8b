// The interface between the CUDA kernels (kernels.cu, compiled by nvcc) and
// their host side (dispatch.cpp, compiled with ATen): one elementwise launch
// described in plain types, so the .cu files need no ATen and compile against
// any torch's headers, a CPU-only one included.
#pragma once

#include <cstdint>
#include <limits>
#include <tuple>
#include <type_traits>

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

// How many blocks an elementwise kernel launches. Either way every element
// is covered (the kernels loop over the grid). Which is faster is for a GPU
// run to tell (BENCHMARKS.md, CUDA reading), so it is chosen at run time:
// TORCH_ACT_CUDA_GRID (dispatch.cpp).
enum class GridSize {
  kResident,  // no more blocks than the GPU holds at once, each walking several tiles
  kPerTile,   // a block per tile, as ATen's own loops launch; the hardware spreads them
};

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
  GridSize grid_size;
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

// The launchers of all three methods in one table.
inline LaunchTable merged_launchers() {
  const LaunchTable forward = forward_launchers();
  const LaunchTable backward = backward_launchers();
  const LaunchTable double_backward = double_backward_launchers();
  return LaunchTable::build([&](auto* entry) {
    using Loops = std::remove_pointer_t<decltype(entry)>;
    return Loops{
        forward.get<Loops>().forward, backward.get<Loops>().backward,
        double_backward.get<Loops>().double_backward};
  });
}

// Threads per block of the per-channel kernels, and elements each thread
// keeps in flight.
constexpr int kChannelThreads = 256;
constexpr int kChannelUnroll = 4;

// Runs of a channel at least a warp long are walked by channel; shorter ones
// by rows (rows that fit a block) or by columns (wider rows).
constexpr int64_t kChannelMinInner = 32;

enum class ChannelWalkKind { kChannels, kRows, kColumns };

// A param op over a dense input whose parameter is broadcast per channel (or
// is one value), walked as channel_walk.h lays it out (per_channel.cu):
// forward writes `out`; backward writes the input's gradient to `out` and
// the parameter's gradient summed per block into `block_sums`. The tensors
// share one dense layout; offsets are in elements.
struct PerChannelArgs {
  char* out;                // the output, or the input's gradient
  const char* grad_output;  // backward only
  const char* self;
  const char* param;  // `channels` values, contiguous
  void* block_sums;   // backward only, of the compute type:
                      // [sum_rows()][channels][sum_inner()]
  ChannelLayout layout;
  ChannelWalkKind walk;  // which of the splits below applies
  ChannelSplit split;
  RowSplit rows;
  ColumnSplit columns;
  c10::ScalarType dtype;
  cudaStream_t stream;

  int64_t blocks() const {
    switch (walk) {
      case ChannelWalkKind::kChannels:
        return split.blocks(layout);
      case ChannelWalkKind::kRows:
        return rows.blocks;
      default:
        return columns.blocks();
    }
  }
  // block_sums: a row per chunk of the channels (ChannelWalk), per block
  // (RowWalk) or per chunk of rows (ColumnWalk, a sum per row position).
  int64_t sum_rows() const {
    switch (walk) {
      case ChannelWalkKind::kChannels:
        return split.splits;
      case ChannelWalkKind::kRows:
        return rows.blocks;
      default:
        return columns.chunks;
    }
  }
  int64_t sum_inner() const { return walk == ChannelWalkKind::kColumns ? layout.inner : 1; }
};

// Picks the walk over `layout` on a GPU of `multiprocessors`: fills
// args.layout, walk and its split, and returns true; or returns false where
// the grid would have more blocks than CUDA allows.
inline bool plan_channel_walk(
    PerChannelArgs& args, const ChannelLayout& layout, int multiprocessors) {
  args.layout = layout;
  // Several waves of blocks: a partial last wave then costs little, whatever
  // the kernel's occupancy.
  const int64_t target_blocks = int64_t{multiprocessors} * 32;
  const int64_t row = layout.channels * layout.inner;
  if (row <= kChannelThreads) {
    args.walk = ChannelWalkKind::kRows;
    args.rows = split_rows(layout, target_blocks, kChannelThreads, kChannelUnroll);
  } else if (layout.channels == 1 || layout.inner >= kChannelMinInner) {
    args.walk = ChannelWalkKind::kChannels;
    args.split = split_channels(
        layout, target_blocks, kChannelThreads, int64_t{kChannelThreads} * kChannelUnroll);
  } else {
    args.walk = ChannelWalkKind::kColumns;
    args.columns = split_columns(layout, target_blocks, kChannelThreads, kChannelUnroll);
  }
  return args.blocks() <= std::numeric_limits<int32_t>::max();
}

template <class Act>
struct PerChannelLaunchers {
  void (*forward)(const PerChannelArgs&, const Act&);
  void (*backward)(const PerChannelArgs&, const Act&);
};

// The param activations whose parameter broadcasts over the input (one
// value, or one per channel), and the bias ops (a bias is one value per
// channel of the input seen as a [rows, channels] matrix). RReLU's noise has
// the input's shape, so it never takes the per-channel kernels and gets none
// compiled.
using PerChannelActivations = Concat<TypeList<Prelu, SwishLearnable>, BiasActivations>::type;
using PerChannelTable = TableOf<PerChannelLaunchers, PerChannelActivations>;

// Every param activation's per-channel launchers (per_channel.cu).
PerChannelTable per_channel_launchers();

}  // namespace cuda
}  // namespace torch_act
