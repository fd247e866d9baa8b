// The host side of the GPU per-channel kernels (per_channel.cu) for the
// param ops whose parameter is one value or one per channel (dim 1) of a
// dense input: the forward without general-strides indexing, and the backward
// in one pass with the parameter's gradient summed per channel on the GPU
// instead of through a per-element buffer.
#pragma once

#include <optional>

#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "launch.h"

namespace torch_act {
namespace cuda {

// Of the device (cuda/dispatch.cpp): the launch sizes grids by it.
int multiprocessor_count(c10::DeviceIndex device);

// The launch for `self` and `param`, with only the pointers left to fill; or
// nothing where the layout does not fit: a non-dense input, or `others`
// with other strides.
inline std::optional<PerChannelArgs> plan_per_channel(
    const at::Tensor& self, const at::Tensor& param, std::initializer_list<at::Tensor> others) {
  const int64_t channels = param.numel();
  if (self.numel() == 0 || !self.is_non_overlapping_and_dense() ||
      (channels != 1 && (self.dim() < 2 || self.size(1) != channels))) {
    return std::nullopt;
  }
  for (const auto& other : others) {
    if (other.strides() != self.strides()) {
      return std::nullopt;
    }
  }
  // In a dense layout, the elements of the dims faster than the channel dim
  // fill exactly its stride, and the slower dims step by channels * stride.
  const int64_t inner = channels == 1 ? self.numel() : self.stride(1);
  PerChannelArgs args{};
  const ChannelLayout layout{self.numel() / (channels * inner), channels, inner};
  if (!plan_channel_walk(args, layout, multiprocessor_count(self.device().index()))) {
    return std::nullopt;
  }
  args.dtype = self.scalar_type();
  args.stream = c10::cuda::getCurrentCUDAStream(self.device().index()).stream();
  return args;
}

template <class Act>
const PerChannelLaunchers<Act>& per_channel_launchers_of() {
  static const PerChannelTable table = per_channel_launchers();
  return table.get<Act>();
}

// Fills `out` = act.forward(self, param) and returns true, or returns false
// (having done nothing) where the layout does not fit.
template <class Act>
bool per_channel_forward(
    const at::Tensor& self, const at::Tensor& param, const at::Tensor& out, const Act& act) {
  const c10::cuda::CUDAGuard device_guard(self.device());
  auto args = plan_per_channel(self, param, {out});
  if (!args) {
    return false;
  }
  const at::Tensor param_values = param.contiguous();
  args->out = static_cast<char*>(out.data_ptr());
  args->self = static_cast<const char*>(self.data_ptr());
  args->param = static_cast<const char*>(param_values.data_ptr());
  per_channel_launchers_of<Act>().forward(*args, act);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return true;
}

// Fills grad_input and grad_param and returns true, or returns false (having
// done nothing) where the layout does not fit.
template <class Act>
bool per_channel_backward(
    const at::Tensor& grad_output, const at::Tensor& self, const at::Tensor& param,
    const at::Tensor& grad_input, const at::Tensor& grad_param, const Act& act) {
  const c10::cuda::CUDAGuard device_guard(self.device());
  auto args = plan_per_channel(self, param, {grad_output, grad_input});
  if (!args) {
    return false;
  }
  const at::Tensor param_values = param.contiguous();
  const at::Tensor block_sums = at::empty(
      {args->sum_rows(), args->layout.channels, args->sum_inner()},
      self.options().dtype(at::toOpMathType(self.scalar_type())));
  args->out = static_cast<char*>(grad_input.data_ptr());
  args->grad_output = static_cast<const char*>(grad_output.data_ptr());
  args->self = static_cast<const char*>(self.data_ptr());
  args->param = static_cast<const char*>(param_values.data_ptr());
  args->block_sums = block_sums.data_ptr();
  per_channel_launchers_of<Act>().backward(*args, act);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  // The dims spelled as IntArrayRef: torch 2.11's headers find `{0, 2}`
  // ambiguous between sum's int and Dimname overloads.
  grad_param.copy_(block_sums.sum(at::IntArrayRef{0, 2}).view(grad_param.sizes()));
  return true;
}

}  // namespace cuda
}  // namespace torch_act
