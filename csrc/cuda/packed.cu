// The CUDA loops of the packed ops (packed.cpp): one thread per group of 8
// elements, writing its codes (and, where the op fuses it, its outputs) with
// the loop bodies of packed_codes.h, shared with the CPU, on the current
// stream of the device the op's DeviceGuard selected.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>

#include "../kernel_table.h"

namespace torch_act {
namespace cuda {
namespace {

constexpr int kThreads = 256;

template <class opmath_t, class Act, class Coder, class scalar_t>
__global__ void pack_kernel(
    const scalar_t* x, scalar_t* out, uint8_t* codes, int64_t n, Act act, Coder coder) {
  const int64_t groups = (n + kGroupSize - 1) / kGroupSize;
  for (int64_t group = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; group < groups;
       group += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    pack_group<opmath_t>(act, coder, x, out, n, group, codes);
  }
}

template <class opmath_t, class Coder, class scalar_t>
__global__ void backward_kernel(
    scalar_t* grad_input, const scalar_t* grad_output, const uint8_t* codes, int64_t n,
    Coder coder) {
  const int64_t groups = (n + kGroupSize - 1) / kGroupSize;
  for (int64_t group = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; group < groups;
       group += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    backward_group<opmath_t>(coder, grad_output, codes, n, group, grad_input);
  }
}

// Grid-stride loops: enough blocks to cover the groups, at most 65535.
unsigned blocks_for(int64_t n) {
  const int64_t groups = (n + kGroupSize - 1) / kGroupSize;
  const int64_t blocks = (groups + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 ? blocks : 65535);
}

template <class Act>
PackedLoops<Act> packed_loops_of() {
  using Coder = CoderOf<Act>;
  return {
      [](const void* x, void* out, uint8_t* codes, int64_t n, c10::ScalarType dtype, const Act& act,
         const Coder& coder) {
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "torch_act_pack", [&] {
          pack_kernel<at::opmath_type<scalar_t>>
              <<<blocks_for(n), kThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(
                  static_cast<const scalar_t*>(x), static_cast<scalar_t*>(out), codes, n, act,
                  coder);
          C10_CUDA_KERNEL_LAUNCH_CHECK();
        });
      },
      [](void* grad_input, const void* grad_output, const uint8_t* codes, int64_t n,
         c10::ScalarType dtype, const Coder& coder) {
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "torch_act_unpack", [&] {
          backward_kernel<at::opmath_type<scalar_t>>
              <<<blocks_for(n), kThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(
                  static_cast<scalar_t*>(grad_input), static_cast<const scalar_t*>(grad_output),
                  codes, n, coder);
          C10_CUDA_KERNEL_LAUNCH_CHECK();
        });
      }};
}

template <class... Act>
PackedTable packed_table_for(TypeList<Act...>) {
  return {std::make_tuple(packed_loops_of<Act>()...)};
}

}  // namespace

const PackedTable& packed_kernels() {
  static const PackedTable table = packed_table_for(PackedActivations{});
  return table;
}

}  // namespace cuda
}  // namespace torch_act
