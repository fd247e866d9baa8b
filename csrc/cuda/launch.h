// The interface between the CUDA kernels (kernels.cu, compiled by nvcc) and
// their host side (dispatch.cpp, compiled with ATen): one elementwise launch
// described in plain types, so the .cu files need no ATen and compile against
// any torch's headers, a CPU-only one included.
#pragma once

#include <cstdint>

#include <c10/core/ScalarType.h>
#include <cuda_runtime_api.h>

#include "../op_table.h"

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

} // namespace cuda
} // namespace torch_act
