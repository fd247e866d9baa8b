// The kernel tables the ops run through, one per device: the CPU's (one per
// ISA, chosen at run time; cpu/dispatch.cpp) and, in CUDA builds, the GPU's
// (cuda/dispatch.cpp). An op builds a TensorIterator and calls the loop of the
// table for its tensors' device; nothing in the ops names a device.
#pragma once

#include <initializer_list>
#include <tuple>

#include <ATen/TensorIterator.h>
#include <ATen/core/Tensor.h>

#include "op_table.h"
#include "packed_codes.h"

namespace torch_act {

using KernelTable = KernelTableFor<at::TensorIteratorBase>;

namespace cpu {
// The variant in use: "DEFAULT", "AVX2" or "AVX512".
const char* active_capability();
const KernelTable& kernels();
const PackedTable& packed_kernels();
}  // namespace cpu

#if defined(TORCH_ACT_WITH_CUDA)
namespace cuda {
const KernelTable& kernels();
const PackedTable& packed_kernels();
}  // namespace cuda
#endif

// The table for tensors on `device`.
inline const KernelTable& kernels_for(const c10::Device& device) {
#if defined(TORCH_ACT_WITH_CUDA)
  if (device.is_cuda()) {
    return cuda::kernels();
  }
#endif
  TORCH_CHECK(device.is_cpu(), "torch_act: no kernels for device ", device);
  return cpu::kernels();
}

template <class Act>
const UnaryLoops<Act, at::TensorIteratorBase>& unary_loops(const c10::Device& device) {
  return kernels_for(device).get<UnaryLoops<Act, at::TensorIteratorBase>>();
}
// The two-input activations: learnable-parameter ops and GLU.
template <class Act>
const BinaryLoops<Act, at::TensorIteratorBase>& binary_loops(const c10::Device& device) {
  return kernels_for(device).get<BinaryLoops<Act, at::TensorIteratorBase>>();
}

// The packed ops' loops (packed_codes.h) for tensors on `device`.
template <class Act>
const PackedLoops<Act>& packed_loops(const c10::Device& device) {
#if defined(TORCH_ACT_WITH_CUDA)
  if (device.is_cuda()) {
    return cuda::packed_kernels().get<Act>();
  }
#endif
  TORCH_CHECK(device.is_cpu(), "torch_act: no kernels for device ", device);
  return cpu::packed_kernels().get<Act>();
}

// A TensorIterator over preallocated outputs (same shape as the iteration)
// and inputs that broadcast to it, all of one dtype and on one device.
template <class... Inputs>
at::TensorIterator make_iter(std::initializer_list<at::Tensor> outputs, const Inputs&... inputs) {
  at::TensorIteratorConfig config;
  config.set_check_mem_overlap(true).resize_outputs(false);
  for (const auto& out : outputs) {
    config.add_output(out);
  }
  (config.add_const_input(inputs), ...);
  return config.build();
}

}  // namespace torch_act
