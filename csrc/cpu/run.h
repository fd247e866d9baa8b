// Builds the TensorIterator for an elementwise op and runs it on the CPU.
#pragma once

#include <array>

#include <ATen/Dispatch.h>
#include <ATen/TensorIterator.h>

#include "elementwise.h"

namespace torch_act {
namespace cpu {

// Writes op(inputs...) into `outputs` (already allocated with the iteration
// shape); inputs must broadcast to it and share its dtype.
template <int kOut, class Op, class... Inputs>
void run_elementwise(
    const char* /*name*/, const std::array<at::Tensor, kOut>& outputs, const Op& op,
    const Inputs&... inputs) {
  at::TensorIteratorConfig config;
  config.set_check_mem_overlap(true).resize_outputs(false);
  for (const auto& out : outputs) {
    config.add_output(out);
  }
  (config.add_const_input(inputs), ...);
  auto iter = config.build();
  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kHalf, at::kBFloat16, iter.common_dtype(), "torch_act", [&] {
        elementwise<scalar_t, kOut, sizeof...(Inputs)>(iter, op);
      });
}

} // namespace cpu
} // namespace torch_act
