// torch.autocast for the ops whose native counterparts have an autocast
// policy, so a model computes in the same dtypes before and after
// torch_act.convert:
//   prelu         lower precision on CPU and CUDA (torch's prelu is on both
//                 lower-precision lists), input and weight alike;
//   swish.Tensor  beta cast to the input's dtype, the dtype the native
//                 composite x * sigmoid(beta * x) computes in;
//   softplus      float32 on CUDA (torch's softplus is on CUDA's fp32 list).
//   gated and bias ops  their two tensors promoted to a common dtype, as the
//                 composites f(gate) * up and f(x + bias) promote (an autocast
//                 bfloat16 projection with a float32 bias, say).
// Every other op runs in its input's dtype, as its native counterpart does:
// the Autocast keys fall through. Casts are differentiable, so a float32
// parameter still gets a float32 gradient.
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

#include "ops.h"

namespace torch_act {
namespace {

using at::Tensor;

template <class Signature>
auto typed_op(const char* name, const char* overload = "") {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, overload).typed<Signature>();
}

template <c10::DeviceType kDevice>
struct AutocastKernels {
  static c10::impl::ExcludeDispatchKeyGuard exclude_autocast() {
    return c10::impl::ExcludeDispatchKeyGuard(
        at::autocast::get_autocast_dispatch_key_from_device_type(kDevice));
  }

  static Tensor prelu(const Tensor& self, const Tensor& weight) {
    static auto op = typed_op<Tensor(const Tensor&, const Tensor&)>("torch_act::prelu");
    auto guard = exclude_autocast();
    const auto dtype = at::autocast::get_lower_precision_fp_from_device_type(kDevice);
    return op.call(
        at::autocast::cached_cast(dtype, self, kDevice),
        at::autocast::cached_cast(dtype, weight, kDevice));
  }

  static Tensor swish(const Tensor& self, const Tensor& beta) {
    static auto op = typed_op<Tensor(const Tensor&, const Tensor&)>("torch_act::swish", "Tensor");
    auto guard = exclude_autocast();
    const bool cast = beta.is_floating_point() && beta.scalar_type() != self.scalar_type();
    return op.call(self, cast ? beta.to(self.scalar_type()) : beta);
  }

  static Tensor softplus_fp32(const Tensor& self, double beta, double threshold) {
    static auto op = typed_op<Tensor(const Tensor&, double, double)>("torch_act::softplus");
    auto guard = exclude_autocast();
    return op.call(at::autocast::cached_cast(at::kFloat, self, kDevice), beta, threshold);
  }
};

// Boxed: every gated and bias forward op, whatever its hyper-parameters.
template <c10::DeviceType kDevice>
void promote_tensors(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  c10::impl::ExcludeDispatchKeyGuard guard(
      at::autocast::get_autocast_dispatch_key_from_device_type(kDevice));
  const size_t num_args = op.schema().arguments().size();
  auto args = torch::jit::last(*stack, num_args);
  std::optional<at::ScalarType> common;
  for (const auto& arg : args) {
    if (arg.isTensor() && arg.toTensor().is_floating_point()) {
      const auto dtype = arg.toTensor().scalar_type();
      common = common ? at::promoteTypes(*common, dtype) : dtype;
    }
  }
  for (size_t i = 0; i < num_args; ++i) {
    auto& arg = (*stack)[stack->size() - num_args + i];
    if (arg.isTensor() && arg.toTensor().is_floating_point()) {
      arg = arg.toTensor().to(*common);
    }
  }
  op.callBoxed(stack);
}

template <c10::DeviceType kDevice>
void register_promotions(torch::Library& m) {
  auto promote = [&](auto* act) {
    using Act = std::remove_pointer_t<decltype(act)>;
    m.impl(
        param_op_name<Act>("").c_str(),
        torch::CppFunction::makeFromBoxedFunction<&promote_tensors<kDevice>>());
  };
  for_each_activation(GatedActivations{}, promote);
  for_each_activation(BiasActivations{}, promote);
}

}  // namespace

TORCH_LIBRARY_IMPL(torch_act, AutocastCPU, m) {
  register_promotions<c10::DeviceType::CPU>(m);
  using K = AutocastKernels<c10::DeviceType::CPU>;
  m.impl("prelu", TORCH_FN(K::prelu));
  m.impl("swish.Tensor", TORCH_FN(K::swish));
}

TORCH_LIBRARY_IMPL(torch_act, AutocastCUDA, m) {
  register_promotions<c10::DeviceType::CUDA>(m);
  using K = AutocastKernels<c10::DeviceType::CUDA>;
  m.impl("prelu", TORCH_FN(K::prelu));
  m.impl("swish.Tensor", TORCH_FN(K::swish));
  m.impl("softplus", TORCH_FN(K::softplus_fp32));
}

}  // namespace torch_act
