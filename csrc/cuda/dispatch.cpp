// The host half of the CUDA kernel table: turns an op's TensorIterator into
// the plain launch description of launch.h and calls the activation's
// launcher (forward.cu, backward.cu, double_backward.cu) on the current
// stream of the tensors' device.
#include <cstdlib>
#include <string>
#include <vector>

#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "../kernel_table.h"
#include "per_channel.h"
#include "launch.h"

namespace torch_act {
namespace cuda {

// Read once per process.
int multiprocessor_count(c10::DeviceIndex device) {
  static const std::vector<int> counts = [] {
    std::vector<int> result(c10::cuda::device_count());
    for (size_t d = 0; d < result.size(); ++d) {
      C10_CUDA_CHECK(
          cudaDeviceGetAttribute(&result[d], cudaDevAttrMultiProcessorCount, static_cast<int>(d)));
    }
    return result;
  }();
  return counts.at(device);
}

namespace {

// TORCH_ACT_CUDA_GRID=per_tile launches a block per tile of work instead of
// the default `resident` grid (launch.h, GridSize): for A/B timing on a GPU.
// Read once per process.
GridSize grid_size() {
  static const GridSize size = [] {
    const char* value = std::getenv("TORCH_ACT_CUDA_GRID");
    const std::string choice = value == nullptr ? "resident" : value;
    TORCH_CHECK(
        choice == "resident" || choice == "per_tile",
        "TORCH_ACT_CUDA_GRID: expected 'resident' or 'per_tile', got '", choice, "'");
    return choice == "per_tile" ? GridSize::kPerTile : GridSize::kResident;
  }();
  return size;
}

const LaunchTable& launchers() {
  static const LaunchTable table = merged_launchers();
  return table;
}

template <class Act, class Launcher>
void launch(at::TensorIteratorBase& iter, const Act& act, Launcher launcher) {
  if (iter.numel() == 0) {
    return;
  }
  TORCH_CHECK(
      iter.ndim() <= kMaxDims, "torch_act.", Act::name, ": CUDA kernels take at most ", kMaxDims,
      " dimensions after coalescing, got ", iter.ndim());
  TORCH_INTERNAL_ASSERT(iter.ntensors() <= kMaxOperands);
  // Launch on the tensors' device (say cuda:1) whatever the current device is.
  const c10::cuda::CUDAGuard device_guard(iter.device());
  ElementwiseArgs args{};
  for (int t = 0; t < iter.ntensors(); ++t) {
    args.data[t] = static_cast<char*>(iter.data_ptr(t));
  }
  args.numel = iter.numel();
  args.ndim = iter.ndim();
  for (int d = 0; d < args.ndim; ++d) {
    args.sizes[d] = iter.shape()[d];
    for (int t = 0; t < iter.ntensors(); ++t) {
      args.strides[d][t] = iter.strides(t)[d];
    }
  }
  args.dtype = iter.dtype(0);
  args.multiprocessors = multiprocessor_count(iter.device().index());
  args.grid_size = grid_size();
  args.stream = c10::cuda::getCurrentCUDAStream().stream();
  launcher(args, act);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// One table entry's loop: the matching launcher, on the iterator's tensors.
template <template <class> class Method, class Loops>
void run_method(at::TensorIteratorBase& iter, const typename Loops::Activation& act) {
  using Launchers = typename Loops::template WithIter<const ElementwiseArgs>;
  const auto slot = Method<typename Loops::Activation>::template slot<Launchers>;
  launch(iter, act, launchers().get<Launchers>().*slot);
}

}  // namespace

const KernelTable& kernels() {
  static const KernelTable table = KernelTable::build([](auto* entry) {
    using Loops = std::remove_pointer_t<decltype(entry)>;
    return Loops{
        &run_method<Forward, Loops>, &run_method<Backward, Loops>,
        &run_method<DoubleBackward, Loops>};
  });
  return table;
}

}  // namespace cuda
}  // namespace torch_act
