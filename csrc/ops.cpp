// Schemas and the CPU, CUDA and Meta kernels of the unary activations.
//
// Everything here is generated from the functors in activations.h through the
// UnaryActivations list in op_table.h; no activation is named in this file.
#include <tuple>

#include <ATen/ATen.h>
#include <ATen/EmptyTensor.h>
#include <torch/library.h>

#include "kernel_table.h"
#include "ops.h"

namespace torch_act {

at::Tensor empty_like_input(const at::Tensor& t) {
  if (t.device().is_cpu() && !t.is_meta() &&
      t.unsafeGetTensorImpl()->is_non_overlapping_and_dense()) {
    return at::detail::empty_strided_cpu(t.sizes(), t.strides(), t.scalar_type());
  }
  return at::empty_like(t);
}

void check_floating(const at::Tensor& t, std::string_view op, const char* arg) {
  const auto dtype = t.scalar_type();
  TORCH_CHECK(
      dtype == at::kFloat || dtype == at::kDouble || dtype == at::kHalf || dtype == at::kBFloat16,
      "torch_act.", op, ": expected ", arg,
      " to be a floating-point tensor (float32, float64, float16 or bfloat16), but got ", dtype);
}

void check_like(
    const at::Tensor& t, const at::Tensor& reference, std::string_view op, const char* arg,
    const char* reference_arg) {
  TORCH_CHECK(
      t.scalar_type() == reference.scalar_type(), "torch_act.", op, ": expected ", arg,
      " to have the dtype of ", reference_arg, " (", reference.scalar_type(), "), but got ",
      t.scalar_type());
  TORCH_CHECK(
      t.device() == reference.device(), "torch_act.", op, ": expected ", arg, " on the device of ",
      reference_arg, " (", reference.device(), "), but got ", t.device());
  TORCH_CHECK(
      t.sym_sizes() == reference.sym_sizes(), "torch_act.", op, ": expected ", arg,
      " to have the shape of ", reference_arg, " ", reference.sym_sizes(), ", but got ",
      t.sym_sizes());
}

namespace {

// Kernels for one unary activation. The Meta kernels run the same checks and
// allocate the same outputs as the CPU kernels, minus the computation: the
// output takes the input's layout when that is dense and non-overlapping
// (empty_like's preserve_format), else a contiguous one.
template <class Act, class Params = typename Act::Params>
struct UnaryKernels;

template <class Act, class... P>
struct UnaryKernels<Act, std::tuple<P...>> {
  static at::Tensor forward_meta(const at::Tensor& self, P... params) {
    check_floating(self, Act::name, "input");
    [[maybe_unused]] Act act{params...};  // validates the hyper-parameters
    return empty_like_input(self);
  }
  static at::Tensor forward(const at::Tensor& self, P... params) {
    at::Tensor out = forward_meta(self, params...);
    auto iter = make_iter({out}, self);
    unary_loops<Act>(iter.device()).forward(iter, Act{params...});
    return out;
  }

  static void forward_inplace_meta(const at::Tensor& self, P... params) {
    check_floating(self, Act::name, "input");
    [[maybe_unused]] Act act{params...};
  }
  static void forward_inplace(const at::Tensor& self, P... params) {
    forward_inplace_meta(self, params...);
    auto iter = make_iter({self}, self);
    unary_loops<Act>(iter.device()).forward(iter, Act{params...});
  }

  static at::Tensor backward_meta(
      const at::Tensor& grad_output, const at::Tensor& saved, P... params) {
    check_floating(saved, Act::name, saved_arg_name(Act::saved));
    check_like(grad_output, saved, Act::name, "grad_output", saved_arg_name(Act::saved));
    [[maybe_unused]] Act act{params...};
    return empty_like_input(saved);
  }
  static at::Tensor backward(const at::Tensor& grad_output, const at::Tensor& saved, P... params) {
    at::Tensor grad_input = backward_meta(grad_output, saved, params...);
    auto iter = make_iter({grad_input}, grad_output, saved);
    unary_loops<Act>(iter.device()).backward(iter, Act{params...});
    return grad_input;
  }

  static at::Tensor double_backward_meta(
      const at::Tensor& grad_grad_input, const at::Tensor& grad_output, const at::Tensor& saved,
      P... params) {
    at::Tensor out = backward_meta(grad_output, saved, params...);
    check_like(grad_grad_input, saved, Act::name, "grad_grad_input", saved_arg_name(Act::saved));
    return out;
  }
  static at::Tensor double_backward(
      const at::Tensor& grad_grad_input, const at::Tensor& grad_output, const at::Tensor& saved,
      P... params) {
    at::Tensor grad_saved = double_backward_meta(grad_grad_input, grad_output, saved, params...);
    auto iter = make_iter({grad_saved}, grad_grad_input, grad_output, saved);
    unary_loops<Act>(iter.device()).double_backward(iter, Act{params...});
    return grad_saved;
  }
};

std::string op_name(const char* name, const char* suffix) { return std::string(name) + suffix; }

template <class Act>
void define_unary(torch::Library& m) {
  const std::string params = schema_tail(Act::schema_params);
  const std::string saved = saved_arg_name(Act::saved);
  auto def = [&](const std::string& schema) { m.def(torch::schema(schema.c_str())); };
  if constexpr (has_forward_ops<Act>) {
    def(op_name(Act::name, "(Tensor self") + params + ") -> Tensor");
  }
  if constexpr (Act::has_inplace) {
    def(op_name(Act::name, "_(Tensor(a!) self") + params + ") -> ()");
  }
  def(op_name(Act::name, "_backward(Tensor grad_output, Tensor ") + saved + params + ") -> Tensor");
  def(op_name(Act::name, "_double_backward(Tensor grad_grad_input, Tensor grad_output, Tensor ") +
      saved + params + ") -> Tensor");
}

template <class Act>
void register_unary_kernels(torch::Library& m) {
  using K = UnaryKernels<Act>;
  if constexpr (has_forward_ops<Act>) {
    m.impl(Act::name, TORCH_FN(K::forward));
  }
  if constexpr (Act::has_inplace) {
    m.impl(op_name(Act::name, "_").c_str(), TORCH_FN(K::forward_inplace));
  }
  m.impl(op_name(Act::name, "_backward").c_str(), TORCH_FN(K::backward));
  m.impl(op_name(Act::name, "_double_backward").c_str(), TORCH_FN(K::double_backward));
}

template <class Act>
void register_unary_meta(torch::Library& m) {
  using K = UnaryKernels<Act>;
  if constexpr (has_forward_ops<Act>) {
    m.impl(Act::name, TORCH_FN(K::forward_meta));
  }
  if constexpr (Act::has_inplace) {
    m.impl(op_name(Act::name, "_").c_str(), TORCH_FN(K::forward_inplace_meta));
  }
  m.impl(op_name(Act::name, "_backward").c_str(), TORCH_FN(K::backward_meta));
  m.impl(op_name(Act::name, "_double_backward").c_str(), TORCH_FN(K::double_backward_meta));
}

}  // namespace

TORCH_LIBRARY(torch_act, m) {
  for_each_activation(UnaryActivations{}, [&](auto* act) {
    define_unary<std::remove_pointer_t<decltype(act)>>(m);
  });
  define_param_ops(m);
  define_split_ops(m);
  // torch.ops.torch_act._has_cuda_kernels(): whether this build compiled them.
  m.def("_has_cuda_kernels() -> bool", [] {
#if defined(TORCH_ACT_WITH_CUDA)
    return true;
#else
    return false;
#endif
  });
}

namespace {
// One set of kernels serves every device: each runs the loops of the kernel
// table for its tensors' device (kernel_table.h).
void register_kernels(torch::Library& m) {
  for_each_activation(UnaryActivations{}, [&](auto* act) {
    register_unary_kernels<std::remove_pointer_t<decltype(act)>>(m);
  });
}
}  // namespace

TORCH_LIBRARY_IMPL(torch_act, CPU, m) { register_kernels(m); }

#if defined(TORCH_ACT_WITH_CUDA)
TORCH_LIBRARY_IMPL(torch_act, CUDA, m) { register_kernels(m); }
#endif

TORCH_LIBRARY_IMPL(torch_act, Meta, m) {
  for_each_activation(UnaryActivations{}, [&](auto* act) {
    register_unary_meta<std::remove_pointer_t<decltype(act)>>(m);
  });
}

}  // namespace torch_act
