// csrc/cuda's kernels, run on CPU threads by a stand-in CUDA runtime
// (emulated_cuda/cuda_runtime_api.h), against the same functors evaluated
// element by element here: the per-channel kernels of PReLU and learnable
// Swish (per_channel.cu: all three walks, the warp-shuffle and shared-memory
// block sums), the flat and strided elementwise loops (elementwise.cuh:
// 128-bit vectors, tails, broadcasts, 32- and 64-bit indexing), and every
// activation's every method through the merged launch table that the
// extension dispatches from (forward.cu, backward.cu, double_backward.cu,
// compiled into this test as C++). Only the math library differs from a
// GPU's, and the reference uses the same one, so outputs must match exactly;
// parameter gradients, summed in another order, to a tolerance. Outputs
// start as NaN, so an element never written fails.
//
// Prints one line per case and finally "N passed, M failed".
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "cuda/per_channel.cu"

namespace {

using namespace torch_act;
using namespace torch_act::cuda;

int passed = 0;
int failed = 0;

void report(const std::string& name, const std::string& error) {
  ++(error.empty() ? passed : failed);
  std::printf(
      "%s  %s%s%s\n", error.empty() ? "PASS" : "FAIL", name.c_str(), error.empty() ? "" : ": ",
      error.c_str());
}

template <class T>
const char* type_name() {
  if constexpr (std::is_same_v<T, float>) return "float";
  if constexpr (std::is_same_v<T, double>) return "double";
  if constexpr (std::is_same_v<T, c10::Half>) return "half";
  return "bfloat16";
}

template <class T>
double as_double(T value) {
  return static_cast<double>(static_cast<compute_t<T>>(value));
}

// Equal, NaN included.
template <class T>
bool same(T a, T b) {
  const double x = as_double(a), y = as_double(b);
  return x == y || (std::isnan(x) && std::isnan(y));
}

// Values in [-4, 4], every 7th exactly 0 (the kink of PReLU).
template <class T>
std::vector<T> random_values(int64_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> uniform(-4.0f, 4.0f);
  std::vector<T> values(n);
  for (int64_t i = 0; i < n; ++i) {
    values[i] = static_cast<T>(i % 7 == 3 ? 0.0f : uniform(gen));
  }
  return values;
}

template <class T>
T not_written() {
  return static_cast<T>(std::nanf(""));
}

template <class T>
std::string at_element(const char* what, int64_t i, T got, double expected) {
  return std::string(what) + " element " + std::to_string(i) + ": got " +
         std::to_string(as_double(got)) + ", expected " + std::to_string(expected);
}

// ---------------------------------------------------------------- per channel

std::set<ChannelWalkKind> walks_run;

// Runs the forward and backward kernels over `layout` and compares them with
// the functor's forward and backward at every element.
template <class scalar_t, class Act>
std::string check_per_channel(const ChannelLayout& layout, int multiprocessors, const Act& act) {
  using acc_t = compute_t<scalar_t>;
  PerChannelArgs args{};
  if (!plan_channel_walk(args, layout, multiprocessors)) {
    return "plan_channel_walk refused the layout";
  }
  walks_run.insert(args.walk);
  const int64_t channels = layout.channels;
  const int64_t numel = layout.outer * channels * layout.inner;
  const auto self = random_values<scalar_t>(numel, 1);
  const auto grad_output = random_values<scalar_t>(numel, 2);
  std::vector<scalar_t> param(channels);
  for (int64_t c = 0; c < channels; ++c) {  // positive and negative slopes, Swish's beta > 0
    param[c] = static_cast<scalar_t>(0.05f + 0.37f * static_cast<float>(c % 5));
  }
  const auto channel_of = [&](int64_t i) { return (i / layout.inner) % channels; };
  const auto launchers = per_channel_launchers().get<Act>();
  args.self = reinterpret_cast<const char*>(self.data());
  args.param = reinterpret_cast<const char*>(param.data());
  args.dtype = c10::CppTypeToScalarType<scalar_t>::value;

  std::vector<scalar_t> out(numel, not_written<scalar_t>());
  args.out = reinterpret_cast<char*>(out.data());
  launchers.forward(args, act);
  for (int64_t i = 0; i < numel; ++i) {
    const auto expected = static_cast<scalar_t>(
        Forward<Act>{act}(static_cast<acc_t>(self[i]), static_cast<acc_t>(param[channel_of(i)])));
    if (!same(out[i], expected)) {
      return at_element("forward", i, out[i], as_double(expected));
    }
  }

  const int64_t sum_rows = args.sum_rows(), sum_inner = args.sum_inner();
  std::vector<acc_t> block_sums(sum_rows * channels * sum_inner, not_written<acc_t>());
  std::fill(out.begin(), out.end(), not_written<scalar_t>());
  args.grad_output = reinterpret_cast<const char*>(grad_output.data());
  args.block_sums = block_sums.data();
  launchers.backward(args, act);
  std::vector<double> expected_sum(channels, 0.0), magnitude(channels, 0.0);
  for (int64_t i = 0; i < numel; ++i) {
    const int64_t c = channel_of(i);
    const auto grads = Backward<Act>{act}(
        static_cast<acc_t>(grad_output[i]), static_cast<acc_t>(self[i]),
        static_cast<acc_t>(param[c]));
    const auto expected = static_cast<scalar_t>(grads[0]);
    if (!same(out[i], expected)) {
      return at_element("input gradient", i, out[i], as_double(expected));
    }
    expected_sum[c] += grads[1];
    magnitude[c] += std::abs(static_cast<double>(grads[1]));
  }
  // A term lost or counted twice moves a double sum by far more than rounding.
  const double tolerance = std::is_same_v<acc_t, double> ? 1e-13 : 1e-5;
  for (int64_t c = 0; c < channels; ++c) {
    double sum = 0;
    for (int64_t r = 0; r < sum_rows; ++r) {
      for (int64_t k = 0; k < sum_inner; ++k) {
        sum += block_sums[(r * channels + c) * sum_inner + k];
      }
    }
    if (!(std::abs(sum - expected_sum[c]) <= tolerance * magnitude[c] + 1e-30)) {
      return "parameter gradient of channel " + std::to_string(c) + ": got " + std::to_string(sum) +
             ", expected " + std::to_string(expected_sum[c]);
    }
  }
  return "";
}

// (outer, channels, inner) and the GPU's multiprocessors (a grid of 32 per
// multiprocessor is the target): per-channel PReLU on (N, C), NCHW (inner =
// H*W) and NHWC (inner 1) inputs, one value over a whole tensor; every walk:
// rows that fit a block (RowWalk), long runs of a channel (ChannelWalk),
// wider rows of short runs (ColumnWalk); odd sizes, one or several chunks.
struct PerChannelCase {
  ChannelLayout layout;
  int multiprocessors;
};
const std::vector<PerChannelCase> kPerChannelCases = {
    {{1, 1, 1}, 1},     {{1, 1, 255}, 1},   {{1, 1, 70001}, 1}, {{64, 3, 1}, 1},
    {{32, 8, 1}, 1},    {{16, 17, 1}, 1},   {{8, 33, 1}, 1},    {{4, 5, 1}, 1},
    {{4, 3, 49}, 1},    {{196, 3, 1}, 1},   {{4, 3, 4096}, 1},  {{2, 40, 40}, 1},
    {{3, 2, 20001}, 2}, {{1024, 16, 1}, 1}, {{4096, 64, 1}, 1}, {{33, 17, 129}, 1},
    {{1, 16, 4096}, 1}, {{50, 5, 50}, 1},   {{9000, 1, 1}, 3},  {{512, 300, 1}, 1},
    {{7, 100, 3}, 1},   {{3, 1000, 1}, 1},  {{40, 64, 31}, 2},  {{1, 257, 1}, 1},
};

// Half and bfloat16 load and store differently but share float's math: a
// few layouts suffice.
template <class scalar_t>
void check_per_channel_cases() {
  constexpr bool kReduced = !std::is_same_v<scalar_t, float> && !std::is_same_v<scalar_t, double>;
  for (size_t i = 0; i < kPerChannelCases.size(); i += kReduced ? 4 : 1) {
    const auto& [layout, multiprocessors] = kPerChannelCases[i];
    const std::string where =
        std::string(type_name<scalar_t>()) + " outer=" + std::to_string(layout.outer) +
        " channels=" + std::to_string(layout.channels) + " inner=" + std::to_string(layout.inner) +
        " multiprocessors=" + std::to_string(multiprocessors);
    report("prelu " + where, check_per_channel<scalar_t>(layout, multiprocessors, Prelu{}));
    report(
        "swish " + where, check_per_channel<scalar_t>(layout, multiprocessors, SwishLearnable{}));
  }
}

// ---------------------------------------------------------------- elementwise

// One flattened iteration (launch.h) over kOut outputs and kIn inputs of
// `sizes` (dim 0 fastest), element strides per operand; inputs filled with
// random values, outputs with NaN.
template <class scalar_t, int kOut, int kIn>
struct Iteration {
  std::vector<int64_t> sizes;
  std::vector<std::vector<int64_t>> strides;  // [operand][dim], in elements
  std::vector<std::vector<scalar_t>> storage;
  std::vector<int64_t> first;  // of each operand within its storage
  ElementwiseArgs args{};

  Iteration(
      std::vector<int64_t> sizes_, std::vector<std::vector<int64_t>> strides_,
      std::vector<int64_t> first_)
      : sizes(std::move(sizes_)), strides(std::move(strides_)), first(std::move(first_)) {
    int64_t numel = 1;
    for (const int64_t s : sizes) numel *= s;
    args.numel = numel;
    args.ndim = static_cast<int>(sizes.size());
    args.dtype = c10::CppTypeToScalarType<scalar_t>::value;
    args.multiprocessors = 2;
    for (int t = 0; t < kOut + kIn; ++t) {
      int64_t extent = 1;
      for (int d = 0; d < args.ndim; ++d) extent += (sizes[d] - 1) * strides[t][d];
      storage.push_back(
          t < kOut ? std::vector<scalar_t>(first[t] + extent, not_written<scalar_t>())
                   : random_values<scalar_t>(first[t] + extent, 10 + t));
      args.data[t] = reinterpret_cast<char*>(storage[t].data() + first[t]);
    }
    for (int d = 0; d < args.ndim; ++d) {
      args.sizes[d] = sizes[d];
      for (int t = 0; t < kOut + kIn; ++t) args.strides[d][t] = strides[t][d] * sizeof(scalar_t);
    }
  }

  int64_t offset(int t, int64_t index) const {
    int64_t result = first[t];
    for (int d = 0; d < args.ndim; ++d) {
      result += (index % sizes[d]) * strides[t][d];
      index /= sizes[d];
    }
    return result;
  }

  // Runs launch(args), then compares every output element with `op`
  // evaluated here.
  template <class Launch, class Op>
  std::string run_and_check(const Launch& launch, const Op& op) {
    launch(args);
    return check(op);
  }

  template <class Op>
  std::string check(const Op& op) const {
    using acc_t = compute_t<scalar_t>;
    for (int64_t i = 0; i < args.numel; ++i) {
      acc_t in[kIn];
      for (int k = 0; k < kIn; ++k)
        in[k] = static_cast<acc_t>(storage[kOut + k][offset(kOut + k, i)]);
      const auto result = apply(op, in, std::make_index_sequence<kIn>{});
      for (int o = 0; o < kOut; ++o) {
        const auto expected = static_cast<scalar_t>(output_of<kOut>(result, o));
        const scalar_t got = storage[o][offset(o, i)];
        if (!same(got, expected)) {
          return at_element(("output " + std::to_string(o)).c_str(), i, got, as_double(expected));
        }
      }
    }
    return "";
  }
};

// Contiguous 1-D operands, each `first` elements into its storage (0: the
// flat kernel's aligned vectors; otherwise the strided kernel), inputs
// listed in `broadcast` one value for every element.
template <class scalar_t, int kOut, int kIn>
Iteration<scalar_t, kOut, kIn> contiguous_1d(
    int64_t n, int64_t first, std::vector<int> broadcast = {}) {
  std::vector<std::vector<int64_t>> strides(kOut + kIn, std::vector<int64_t>{1});
  for (const int t : broadcast) strides[kOut + t] = {0};
  return {{n}, strides, std::vector<int64_t>(kOut + kIn, first)};
}

// A 2-D iteration (the strided kernel): the first output contiguous, the
// other operands transposed views.
template <class scalar_t, int kOut, int kIn>
Iteration<scalar_t, kOut, kIn> transposed_2d(int64_t rows, int64_t cols) {
  std::vector<std::vector<int64_t>> strides(kOut + kIn, std::vector<int64_t>{cols, 1});
  strides[0] = {1, rows};
  return {{rows, cols}, strides, std::vector<int64_t>(kOut + kIn, 0)};
}

// A 0-dim iteration: one element, no strides.
template <class scalar_t, int kOut, int kIn>
Iteration<scalar_t, kOut, kIn> zero_dim() {
  return {{}, std::vector<std::vector<int64_t>>(kOut + kIn), std::vector<int64_t>(kOut + kIn, 0)};
}

// Every path of the loops for one functor method with kOut outputs and kIn inputs.
template <class scalar_t, int kOut, int kIn, class Op>
void check_elementwise(const std::string& name, const Op& op) {
  const std::string where = name + " " + type_name<scalar_t>();
  const auto elementwise = [&](const ElementwiseArgs& args) {
    launch_elementwise<kOut, kIn>(args, op);
  };
  // Lengths around every vector width and past one block's tile of vectors.
  for (const int64_t n : {1, 2, 3, 7, 8, 9, 31, 33, 4097, 70001}) {
    for (const int64_t first : {0, 1}) {
      report(
          where + " 1-D n=" + std::to_string(n) + (first ? " misaligned" : " aligned"),
          contiguous_1d<scalar_t, kOut, kIn>(n, first).run_and_check(elementwise, op));
    }
  }
  if constexpr (kIn > 1) {
    report(
        where + " broadcast last input",
        contiguous_1d<scalar_t, kOut, kIn>(4097, 0, {kIn - 1}).run_and_check(elementwise, op));
  }
  // A block per tile (GridSize::kPerTile): more blocks than the emulated GPU
  // holds at once (2), the flat kernel's and the strided kernel's.
  const auto per_tile = [&](const std::string& what, Iteration<scalar_t, kOut, kIn>&& iteration) {
    iteration.args.grid_size = GridSize::kPerTile;
    report(where + " " + what + ", a block per tile", iteration.run_and_check(elementwise, op));
  };
  per_tile("1-D n=70001", contiguous_1d<scalar_t, kOut, kIn>(70001, 0));
  per_tile("transposed", transposed_2d<scalar_t, kOut, kIn>(37, 61));
  report(
      where + " transposed, 32-bit index", transposed_2d<scalar_t, kOut, kIn>(37, 61).run_and_check(
                                               [&](const ElementwiseArgs& args) {
                                                 launch_strided<scalar_t, kOut, kIn, uint32_t>(
                                                     args, op);
                                               },
                                               op));
  report(
      where + " transposed, 64-bit index", transposed_2d<scalar_t, kOut, kIn>(37, 61).run_and_check(
                                               [&](const ElementwiseArgs& args) {
                                                 launch_strided<scalar_t, kOut, kIn, int64_t>(
                                                     args, op);
                                               },
                                               op));
  report(where + " 0-dim", zero_dim<scalar_t, kOut, kIn>().run_and_check(elementwise, op));
}

template <class scalar_t>
void check_elementwise_methods() {
  check_elementwise<scalar_t, 1, 1>("gelu forward", Forward<Gelu>{Gelu("none")});
  check_elementwise<scalar_t, 1, 2>("gelu backward", Backward<Gelu>{Gelu("tanh")});
  check_elementwise<scalar_t, 2, 3>("prelu backward", Backward<Prelu>{});
  check_elementwise<scalar_t, 3, 5>("swish double backward", DoubleBackward<SwishLearnable>{});
}

// ----------------------------------------------------------- launch table

// An activation with sample hyper-parameters: the k-th number 0.5 + k (so
// Hardtanh's min is below its max), GELU's approximation "tanh".
template <class P>
P sample_value(size_t k) {
  if constexpr (std::is_same_v<P, std::string_view>) {
    return "tanh";
  } else {
    return static_cast<P>(0.5 + static_cast<double>(k));
  }
}
template <class Act>
Act sample_activation() {
  if constexpr (requires { typename Act::Params; }) {
    using Params = typename Act::Params;
    return [&]<size_t... K>(std::index_sequence<K...>) {
      return Act(sample_value<std::tuple_element_t<K, Params>>(K)...);
    }(std::make_index_sequence<std::tuple_size_v<Params>>{});
  } else {
    return Act{};
  }
}

// Every activation's every method, looked up in the merged launch table as
// the extension's dispatch does, on a flat and a strided iteration.
template <class scalar_t>
void check_launch_table() {
  static const LaunchTable table = merged_launchers();
  const auto check_entry = [&]<class Loops>(const Loops*) {
    using Act = typename Loops::Activation;
    const Act act = sample_activation<Act>();
    const auto check_method = [&]<template <class> class Method>(const char* method) {
      using Call = MethodCall<Method, Loops>;
      const auto launcher = table.get<Loops>().*(Method<Act>::template slot<Loops>);
      const std::string where = std::string(Act::name) + " " + method + " " + type_name<scalar_t>();
      if (launcher == nullptr) {
        report(where, "no launcher in the table");
        return;
      }
      const typename Call::Op op{act};
      const auto launch = [&](const ElementwiseArgs& args) { launcher(args, act); };
      report(
          where + " flat",
          contiguous_1d<scalar_t, Call::kOut, Call::kIn>(4097, 0).run_and_check(launch, op));
      report(
          where + " strided",
          transposed_2d<scalar_t, Call::kOut, Call::kIn>(31, 29).run_and_check(launch, op));
    };
    check_method.template operator()<Forward>("forward");
    check_method.template operator()<Backward>("backward");
    check_method.template operator()<DoubleBackward>("double_backward");
  };
  std::apply([&](auto&... entry) { (check_entry(&entry), ...); }, table.loops);
}

}  // namespace

// The grid of either GridSize: whole tiles or the resident cap, at least one
// block, never more than a launch may hold.
void check_grid_sizes() {
  const auto expect = [](const char* what, int64_t got, int64_t expected) {
    report(
        std::string("grid_blocks: ") + what,
        got == expected ? ""
                        : "got " + std::to_string(got) + ", expected " + std::to_string(expected));
  };
  constexpr int64_t kMaxGrid = std::numeric_limits<int32_t>::max();
  expect("resident caps", grid_blocks(18, 2, GridSize::kResident), 2);
  expect("resident, fewer tiles", grid_blocks(1, 2, GridSize::kResident), 1);
  expect("a block per tile", grid_blocks(18, 2, GridSize::kPerTile), 18);
  expect("at least one block", grid_blocks(0, 2, GridSize::kPerTile), 1);
  expect("at most a launch's", grid_blocks(kMaxGrid + 5, 2, GridSize::kPerTile), kMaxGrid);
}

int main() {
  check_grid_sizes();

  check_per_channel_cases<float>();
  check_per_channel_cases<double>();
  check_per_channel_cases<c10::Half>();
  check_per_channel_cases<c10::BFloat16>();
  report("the cases take all three walks", walks_run.size() == 3 ? "" : "a walk never ran");

  check_elementwise_methods<float>();
  check_elementwise_methods<double>();
  check_elementwise_methods<c10::Half>();
  check_elementwise_methods<c10::BFloat16>();

  check_launch_table<float>();
  check_launch_table<double>();
  check_launch_table<c10::Half>();
  check_launch_table<c10::BFloat16>();

  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
