// The GPU channel backward's partitions (csrc/cuda/channel_walk.h), replayed
// on the CPU: for many layouts and GPU sizes, every block and every thread of
// the launch walks as the kernels would, and each element of the tensor must
// be visited exactly once, by a thread summing the element's own channel.
// Neighbouring lanes must also read neighbouring elements (coalescing).
//
// Prints one line per layout and finally "N passed, M failed".
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cuda/channel_walk.h"

namespace {

using torch_act::cuda::ChannelLayout;
using torch_act::cuda::ChannelSplit;
using torch_act::cuda::ChannelWalk;
using torch_act::cuda::ColumnSplit;
using torch_act::cuda::ColumnWalk;
using torch_act::cuda::RowSplit;
using torch_act::cuda::RowWalk;

constexpr int kThreads = 256;
constexpr int64_t kBlockElements = kThreads * 4;

// Walks `walk` to its end, counting each element it visits in `visits`;
// returns what went wrong where an offset leaves the tensor, steps back, or
// leaves the walk's channel.
template <class Walk>
std::string record_visits(Walk walk, const ChannelLayout& layout, std::vector<int>& visits) {
  const auto numel = static_cast<int64_t>(visits.size());
  for (int64_t prev = -1; !walk.done(); walk.next()) {
    const int64_t offset = walk.offset();
    if (offset < 0 || offset >= numel || offset <= prev) {
      return "offset " + std::to_string(offset) + " out of range or order";
    }
    if ((offset / layout.inner) % layout.channels != walk.channel()) {
      return "offset " + std::to_string(offset) + " is not in channel " +
             std::to_string(walk.channel());
    }
    ++visits[offset];
    prev = offset;
  }
  return "";
}

// Every element visited exactly once.
std::string check_visited_once(const std::vector<int>& visits) {
  for (size_t i = 0; i < visits.size(); ++i) {
    if (visits[i] != 1) {
      return "element " + std::to_string(i) + " visited " + std::to_string(visits[i]) + " times";
    }
  }
  return "";
}

// Returns an empty string when the walk is right, else what went wrong.
std::string check_walk(const ChannelLayout& layout, int64_t target_blocks) {
  const ChannelSplit split =
      torch_act::cuda::split_channels(layout, target_blocks, kThreads, kBlockElements);
  if (split.chunk % kThreads != 0 || split.splits < 1 ||
      (split.splits - 1) * split.chunk >= layout.per_channel()) {
    return "bad split: chunk " + std::to_string(split.chunk) + ", splits " +
           std::to_string(split.splits);
  }
  const int64_t numel = layout.outer * layout.channels * layout.inner;
  std::vector<int> visits(numel, 0);
  for (int64_t block = 0; block < split.blocks(layout); ++block) {
    for (int thread = 0; thread < kThreads; ++thread) {
      ChannelWalk walk(layout, split, block, thread, kThreads);
      if (walk.channel() != block % layout.channels) {
        return "block " + std::to_string(block) + " walks the wrong channel";
      }
      if (auto error = record_visits(walk, layout, visits); !error.empty()) {
        return error;
      }
    }
  }
  if (auto error = check_visited_once(visits); !error.empty()) {
    return error;
  }
  // Lanes 0 and 1 of block 0 read neighbours when a row holds them both.
  if (layout.inner >= 2) {
    ChannelWalk lane0(layout, split, 0, 0, kThreads);
    ChannelWalk lane1(layout, split, 0, 1, kThreads);
    if (!lane1.done() && lane1.offset() != lane0.offset() + 1) {
      return "neighbouring lanes do not read neighbouring elements";
    }
  }
  return "";
}

// The same for RowWalk, plus: the threads a block sums for each channel
// (thread_of) are exactly the active threads walking that channel.
std::string check_row_walk(const ChannelLayout& layout, int64_t target_blocks) {
  const int64_t row = layout.channels * layout.inner;
  const RowSplit split = torch_act::cuda::split_rows(layout, target_blocks, kThreads, 4);
  if (split.active_threads % row != 0 || split.active_threads > kThreads ||
      split.active_threads + row <= kThreads || split.rows_per_block % split.row_step != 0) {
    return "bad split: " + std::to_string(split.active_threads) + " active threads";
  }
  const int64_t numel = layout.outer * row;
  std::vector<int> visits(numel, 0);
  for (int64_t block = 0; block < split.blocks; ++block) {
    for (int thread = 0; thread < kThreads; ++thread) {
      const RowWalk walk(layout, split, block, thread);
      if (auto error = record_visits(walk, layout, visits); !error.empty()) {
        return error;
      }
    }
  }
  if (auto error = check_visited_once(visits); !error.empty()) {
    return error;
  }
  std::vector<int> summed(kThreads, 0);
  for (int64_t channel = 0; channel < layout.channels; ++channel) {
    for (int i = 0; i < RowWalk::threads_per_channel(layout, split); ++i) {
      const int thread = RowWalk::thread_of(layout, channel, i);
      if (thread < 0 || thread >= split.active_threads ||
          RowWalk(layout, split, 0, thread).channel() != channel) {
        return "thread " + std::to_string(thread) + " summed into channel " +
               std::to_string(channel);
      }
      ++summed[thread];
    }
  }
  for (int thread = 0; thread < split.active_threads; ++thread) {
    if (summed[thread] != 1) {
      return "thread " + std::to_string(thread) + " summed " + std::to_string(summed[thread]) +
             " times";
    }
  }
  // All active lanes of a block read one contiguous run.
  if (split.active_threads >= 2 &&
      RowWalk(layout, split, 0, 1).offset() != RowWalk(layout, split, 0, 0).offset() + 1) {
    return "neighbouring lanes do not read neighbouring elements";
  }
  return "";
}

// The same for ColumnWalk, plus: the active threads' sum entries fill the
// [chunks][row length] buffer exactly once, each in the thread's channel.
std::string check_column_walk(const ChannelLayout& layout, int64_t target_blocks) {
  const int64_t row = layout.channels * layout.inner;
  const ColumnSplit split = torch_act::cuda::split_columns(layout, target_blocks, kThreads, 4);
  if (split.column_blocks * kThreads < row || split.chunks < 1 ||
      (split.chunks - 1) * split.rows_per_chunk >= layout.outer) {
    return "bad split: " + std::to_string(split.chunks) + " chunks";
  }
  const int64_t numel = layout.outer * row;
  std::vector<int> visits(numel, 0);
  std::vector<int> sums(split.chunks * row, 0);
  for (int64_t block = 0; block < split.blocks(); ++block) {
    for (int thread = 0; thread < kThreads; ++thread) {
      ColumnWalk walk(layout, split, block, thread, kThreads);
      if (!walk.active()) {
        if (!walk.done()) {
          return "an inactive thread walks";
        }
        continue;
      }
      const int64_t sum_index = walk.sum_index();
      if (sum_index < 0 || sum_index >= split.chunks * row ||
          (sum_index % row) / layout.inner != walk.channel()) {
        return "sum entry " + std::to_string(sum_index) + " out of range or channel";
      }
      ++sums[sum_index];
      if (auto error = record_visits(walk, layout, visits); !error.empty()) {
        return error;
      }
    }
  }
  if (auto error = check_visited_once(visits); !error.empty()) {
    return error;
  }
  for (int64_t i = 0; i < split.chunks * row; ++i) {
    if (sums[i] != 1) {
      return "sum entry " + std::to_string(i) + " written " + std::to_string(sums[i]) + " times";
    }
  }
  if (ColumnWalk(layout, split, 0, 1, kThreads).offset() !=
      ColumnWalk(layout, split, 0, 0, kThreads).offset() + 1) {
    return "neighbouring lanes do not read neighbouring elements";
  }
  return "";
}

}  // namespace

int main() {
  // (outer, channels, inner): NCHW-like, NHWC-like (inner 1), one value over
  // everything, rows shorter and longer than a block, odd sizes.
  const std::vector<ChannelLayout> layouts = {
      {1, 1, 1},     {1, 1, 255},   {1, 1, 256},    {1, 1, 70001},  {8192, 8, 1},  {64, 3, 1},
      {4, 3, 49},    {2, 64, 1000}, {3, 5, 257},    {7, 1, 300},    {1000, 2, 7},  {5, 300, 1},
      {1, 16, 4096}, {33, 17, 129}, {2, 3, 100000}, {600, 1000, 1}, {1, 2, 65536}, {256, 1, 256},
      {4096, 64, 1}, {100, 129, 1}, {50, 5, 50},    {10, 256, 1},
  };
  const std::vector<int64_t> target_blocks = {1, 7, 132 * 8, 144 * 8};
  int passed = 0;
  int failed = 0;
  for (const auto& layout : layouts) {
    for (const int64_t target : target_blocks) {
      // Every walk that the kernels may take for the layout (launch.h).
      const bool short_rows = layout.channels * layout.inner <= kThreads;
      for (const char* walk : {"ChannelWalk", "RowWalk", "ColumnWalk"}) {
        const std::string name = walk;
        if ((name == "RowWalk" && !short_rows) || (name == "ColumnWalk" && short_rows)) {
          continue;
        }
        const std::string error = name == "RowWalk"      ? check_row_walk(layout, target)
                                  : name == "ColumnWalk" ? check_column_walk(layout, target)
                                                         : check_walk(layout, target);
        ++(error.empty() ? passed : failed);
        std::printf(
            "%s  %s outer=%lld channels=%lld inner=%lld target_blocks=%lld%s%s\n",
            error.empty() ? "PASS" : "FAIL", walk, static_cast<long long>(layout.outer),
            static_cast<long long>(layout.channels), static_cast<long long>(layout.inner),
            static_cast<long long>(target), error.empty() ? "" : "  ", error.c_str());
      }
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
