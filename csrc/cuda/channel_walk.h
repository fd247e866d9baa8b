// How the GPU kernels of a param op with a per-channel parameter (PReLU,
// learnable Swish) split a dense tensor's elements among blocks and threads so
// that each thread stays in one channel: it holds that channel's parameter,
// and in the backward sums that channel's parameter gradient in the same pass
// that writes the input's gradient.
//
// Three walks, by the layout's rows (a row: the channels * inner elements
// of one outer index):
//  - ChannelWalk: a block per chunk of one channel, for long runs of a
//    channel (inner >= 32) or a single parameter value;
//  - RowWalk: a block per run of whole rows, for rows that fit a block;
//  - ColumnWalk: a block per span of positions down a run of rows, for wide
//    rows of short runs (an (N, C) or NHWC input with C over a block).
//
// Plain host/device C++ with no CUDA or ATen: the kernels
// (per_channel.cu) walk with it, and tests/cpp/test_channel_walk.cpp
// replays every block and thread on the CPU to check that each element is
// visited exactly once, by a thread summing the element's own channel.
#pragma once

#include <cstdint>

#include "../act_math.h"  // TORCH_ACT_HD

namespace torch_act {
namespace cuda {

// A dense tensor seen in memory order as [outer][channels][inner]: element
// (n, c, k) sits at n * channels * inner + c * inner + k. Any dense layout
// fits, with `inner` the channel dim's stride (NCHW: H*W; NHWC: 1); a
// parameter with one value is one channel of `numel` elements.
struct ChannelLayout {
  int64_t outer;
  int64_t channels;
  int64_t inner;
  TORCH_ACT_HD int64_t per_channel() const { return outer * inner; }
};

// Block b takes channel b % channels and, of that channel's elements in
// memory order, the chunk [(b / channels) * chunk, ... + chunk): blocks that
// run together read the same rows of neighbouring channels.
struct ChannelSplit {
  int64_t chunk;   // a multiple of the block size, so warps read whole runs
  int64_t splits;  // chunks per channel
  TORCH_ACT_HD int64_t blocks(const ChannelLayout& layout) const {
    return layout.channels * splits;
  }
};

// Enough blocks to fill the GPU (`target_blocks`), but no chunk smaller than
// one step of the block (`block_elements`) so no thread idles.
inline ChannelSplit split_channels(
    const ChannelLayout& layout, int64_t target_blocks, int64_t block_threads,
    int64_t block_elements) {
  const int64_t per_channel = layout.per_channel();
  const int64_t most_splits = (per_channel + block_elements - 1) / block_elements;
  int64_t splits = (target_blocks + layout.channels - 1) / layout.channels;
  splits = splits < 1 ? 1 : (splits > most_splits ? most_splits : splits);
  int64_t chunk = (per_channel + splits - 1) / splits;
  chunk = (chunk + block_threads - 1) / block_threads * block_threads;
  return {chunk, (per_channel + chunk - 1) / chunk};
}

// The elements thread `thread` of `threads` in block `block` visits: every
// threads-th of the block's chunk, as flat offsets. Row and column are
// stepped without dividing, so an element costs a few adds.
class ChannelWalk {
 public:
  TORCH_ACT_HD ChannelWalk(
      const ChannelLayout& layout, const ChannelSplit& split, int64_t block, int thread,
      int threads)
      : channel_(block % layout.channels),
        inner_(layout.inner),
        row_stride_(layout.channels * layout.inner),
        threads_(threads),
        step_rows_(threads / layout.inner),
        step_cols_(threads % layout.inner) {
    const int64_t begin = (block / layout.channels) * split.chunk;
    const int64_t end = begin + split.chunk;
    end_ = end < layout.per_channel() ? end : layout.per_channel();
    index_ = begin + thread;
    row_ = index_ / inner_;
    col_ = index_ % inner_;
  }
  TORCH_ACT_HD int64_t channel() const { return channel_; }
  TORCH_ACT_HD bool done() const { return index_ >= end_; }
  TORCH_ACT_HD int64_t offset() const { return row_ * row_stride_ + channel_ * inner_ + col_; }
  TORCH_ACT_HD void next() {
    index_ += threads_;
    row_ += step_rows_;
    col_ += step_cols_;
    if (col_ >= inner_) {
      col_ -= inner_;
      ++row_;
    }
  }

 private:
  int64_t channel_, inner_, row_stride_, threads_, step_rows_, step_cols_;
  int64_t end_, index_, row_, col_;
};

// Short rows (channels * inner <= the block size, as in an (N, 64) input):
// a block spans whole rows, the first `active_threads` threads each keep one
// position of the row and step down the rows, so a warp reads one contiguous
// run. Block b takes rows [b * rows_per_block, ... + rows_per_block).
struct RowSplit {
  int64_t rows_per_block;
  int64_t blocks;
  int active_threads;  // whole rows' worth of the block's threads
  int row_step;        // rows the active threads span together
};

inline RowSplit split_rows(
    const ChannelLayout& layout, int64_t target_blocks, int block_threads, int unroll) {
  const int64_t row = layout.channels * layout.inner;
  const int row_step = static_cast<int>(block_threads / row);
  // Each thread takes at least `unroll` rows: enough loads in flight.
  const int64_t fewest_rows = int64_t{row_step} * unroll;
  int64_t rows = (layout.outer + target_blocks - 1) / target_blocks;
  rows = rows < fewest_rows ? fewest_rows : rows;
  rows = (rows + row_step - 1) / row_step * row_step;
  return {rows, (layout.outer + rows - 1) / rows, static_cast<int>(row_step * row), row_step};
}

class RowWalk {
 public:
  TORCH_ACT_HD RowWalk(
      const ChannelLayout& layout, const RowSplit& split, int64_t block, int thread)
      : row_length_(layout.channels * layout.inner),
        position_(thread % row_length_),
        channel_(position_ / layout.inner),
        row_step_(split.row_step),
        row_(block * split.rows_per_block + thread / row_length_) {
    const int64_t end = (block + 1) * split.rows_per_block;
    end_row_ = thread >= split.active_threads ? 0 : (end < layout.outer ? end : layout.outer);
  }
  TORCH_ACT_HD int64_t channel() const { return channel_; }
  TORCH_ACT_HD bool done() const { return row_ >= end_row_; }
  TORCH_ACT_HD int64_t offset() const { return row_ * row_length_ + position_; }
  TORCH_ACT_HD void next() { row_ += row_step_; }

  // The threads whose walks cover channel `channel`, for a block's per-channel
  // sum: thread_of(channel, i) for i in [0, threads_per_channel).
  TORCH_ACT_HD static int threads_per_channel(const ChannelLayout& layout, const RowSplit& split) {
    return static_cast<int>(split.active_threads / layout.channels);
  }
  TORCH_ACT_HD static int thread_of(const ChannelLayout& layout, int64_t channel, int i) {
    const int64_t row_step = i / layout.inner;
    const int64_t in_channel = i % layout.inner;
    return static_cast<int>(
        row_step * layout.channels * layout.inner + channel * layout.inner + in_channel);
  }

 private:
  int64_t row_length_, position_, channel_, row_step_, row_, end_row_;
};

// Wide rows of short runs (channels * inner over the block size, inner
// short, as in an (N, 768) input): block b takes the positions
// [(b % column_blocks) * threads, ... + threads) of the row, in the rows of
// chunk b / column_blocks; each thread walks down one position (so one
// channel), and a warp reads a contiguous run of each row.
struct ColumnSplit {
  int64_t column_blocks;  // blocks across a row
  int64_t rows_per_chunk;
  int64_t chunks;  // of rows
  TORCH_ACT_HD int64_t blocks() const { return column_blocks * chunks; }
};

// Enough chunks of rows to reach `target_blocks`, but each thread at least
// `unroll` rows: enough loads in flight.
inline ColumnSplit split_columns(
    const ChannelLayout& layout, int64_t target_blocks, int block_threads, int unroll) {
  const int64_t row = layout.channels * layout.inner;
  const int64_t column_blocks = (row + block_threads - 1) / block_threads;
  const int64_t most_chunks = (layout.outer + unroll - 1) / unroll;
  int64_t chunks = (target_blocks + column_blocks - 1) / column_blocks;
  chunks = chunks < 1 ? 1 : (chunks > most_chunks ? most_chunks : chunks);
  const int64_t rows = (layout.outer + chunks - 1) / chunks;
  return {column_blocks, rows, (layout.outer + rows - 1) / rows};
}

class ColumnWalk {
 public:
  TORCH_ACT_HD ColumnWalk(
      const ChannelLayout& layout, const ColumnSplit& split, int64_t block, int thread, int threads)
      : row_length_(layout.channels * layout.inner),
        position_((block % split.column_blocks) * threads + thread),
        chunk_(block / split.column_blocks),
        row_(chunk_ * split.rows_per_chunk) {
    // Threads past the row's end walk nothing (in channel 0, a valid index).
    active_ = position_ < row_length_;
    position_ = active_ ? position_ : 0;
    channel_ = position_ / layout.inner;
    const int64_t end = row_ + split.rows_per_chunk;
    end_row_ = active_ ? (end < layout.outer ? end : layout.outer) : row_;
  }
  TORCH_ACT_HD int64_t channel() const { return channel_; }
  TORCH_ACT_HD bool done() const { return row_ >= end_row_; }
  TORCH_ACT_HD int64_t offset() const { return row_ * row_length_ + position_; }
  TORCH_ACT_HD void next() { ++row_; }

  // Where the thread's parameter-gradient sum goes: [chunk][position] of a
  // [chunks][row length] buffer, one entry per active thread of the launch.
  TORCH_ACT_HD bool active() const { return active_; }
  TORCH_ACT_HD int64_t sum_index() const { return chunk_ * row_length_ + position_; }

 private:
  int64_t row_length_, position_, chunk_, row_, end_row_, channel_;
  bool active_;
};

}  // namespace cuda
}  // namespace torch_act
