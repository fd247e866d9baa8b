// GLU: a * sigmoid(b), with a and b the two halves of the input along `dim`.
// The math is Glu in activations.h and runs through the same two-input loops
// as the param ops; this file owns the split: halving checks, output shapes,
// narrowed views, and GLU's autograd.
#include <ATen/ATen.h>
#include <ATen/WrapDimUtils.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include "autograd_utils.h"
#include "kernel_table.h"
#include "ops.h"

namespace torch_act {
namespace {

using at::Tensor;

// The wrapped dim and half its size; errors like torch's for scalars and odd sizes.
std::pair<int64_t, c10::SymInt> split_dim(const Tensor& self, int64_t dim) {
  check_floating(self, "glu", "input");
  TORCH_CHECK(self.dim() > 0, "torch_act.glu: a 0-dim input cannot be halved");
  const int64_t wrapped = at::maybe_wrap_dim(dim, self.dim());
  const c10::SymInt size = self.sym_size(wrapped);
  if (const auto concrete = size.maybe_as_int()) {
    // Plain sizes get a plain check: torch 2.11 crashed (CUDA, 1-D input)
    // building this error through the symbolic path below.
    TORCH_CHECK(
        *concrete % 2 == 0, "torch_act.glu: dimension ", wrapped, " of the input (shape ",
        self.sizes(), ") must have even size, got ", *concrete);
  } else {
    // A symbolic size becomes a runtime assert under torch.compile, not a guess.
    TORCH_SYM_CHECK(
        (size % 2).sym_eq(0), "torch_act.glu: dimension ", wrapped, " of the input (shape ",
        self.sym_sizes(), ") must have even size, got ", size);
  }
  return {wrapped, size / 2};
}

std::vector<c10::SymInt> halved_shape(const Tensor& self, int64_t dim, const c10::SymInt& half) {
  std::vector<c10::SymInt> shape(self.sym_sizes().begin(), self.sym_sizes().end());
  shape[dim] = half;
  return shape;
}

// Outputs are contiguous, in the Meta kernels and the CPU kernels alike.
Tensor glu_meta(const Tensor& self, int64_t dim) {
  auto [d, half] = split_dim(self, dim);
  return at::empty_symint(halved_shape(self, d, half), self.options());
}

Tensor glu_kernel(const Tensor& self, int64_t dim) {
  Tensor out = glu_meta(self, dim);
  auto [d, half] = split_dim(self, dim);
  const int64_t h = half.expect_int();
  auto iter = make_iter({out}, self.narrow(d, 0, h), self.narrow(d, h, h));
  binary_loops<Glu>(iter.device()).forward(iter, Glu{});
  return out;
}

Tensor glu_backward_meta(const Tensor& grad_output, const Tensor& self, int64_t dim) {
  auto [d, half] = split_dim(self, dim);
  TORCH_CHECK(
      grad_output.scalar_type() == self.scalar_type() && grad_output.device() == self.device(),
      "torch_act.glu: expected grad_output with the input's dtype and device");
  const auto expected = halved_shape(self, d, half);
  TORCH_CHECK(
      grad_output.sym_sizes() == c10::SymIntArrayRef(expected), "torch_act.glu: expected ",
      "grad_output to have the output's shape ", c10::SymIntArrayRef(expected), ", but got ",
      grad_output.sym_sizes());
  return at::empty_symint(self.sym_sizes(), self.options());
}

Tensor glu_backward_kernel(const Tensor& grad_output, const Tensor& self, int64_t dim) {
  Tensor grad_input = glu_backward_meta(grad_output, self, dim);
  auto [d, half] = split_dim(self, dim);
  const int64_t h = half.expect_int();
  auto iter = make_iter(
      {grad_input.narrow(d, 0, h), grad_input.narrow(d, h, h)}, grad_output, self.narrow(d, 0, h),
      self.narrow(d, h, h));
  binary_loops<Glu>(iter.device()).backward(iter, Glu{});
  return grad_input;
}

// Gradients of the backward w.r.t. (grad_output, self), given grad_grad_input.
std::tuple<Tensor, Tensor> glu_double_backward_meta(
    const Tensor& grad_grad_input, const Tensor& grad_output, const Tensor& self, int64_t dim) {
  Tensor grad_self = glu_backward_meta(grad_output, self, dim);
  check_like(grad_grad_input, self, "glu", "grad_grad_input", "self");
  return {at::empty_symint(grad_output.sym_sizes(), grad_output.options()), grad_self};
}

std::tuple<Tensor, Tensor> glu_double_backward_kernel(
    const Tensor& grad_grad_input, const Tensor& grad_output, const Tensor& self, int64_t dim) {
  auto [grad_grad_output, grad_self] =
      glu_double_backward_meta(grad_grad_input, grad_output, self, dim);
  auto [d, half] = split_dim(self, dim);
  const int64_t h = half.expect_int();
  auto iter = make_iter(
      {grad_grad_output, grad_self.narrow(d, 0, h), grad_self.narrow(d, h, h)},
      grad_grad_input.narrow(d, 0, h), grad_grad_input.narrow(d, h, h), grad_output,
      self.narrow(d, 0, h), self.narrow(d, h, h));
  binary_loops<Glu>(iter.device()).double_backward(iter, Glu{});
  return {grad_grad_output, grad_self};
}

// ------------------------------------------------------------------- autograd
// As the param ops' (autograd.cpp): typed nodes for forward and backward, and
// tangents from the same ops; the backward's tangent is B(g_t, x) + DB(x_t, g, x)[1].

using torch::autograd::variable_list;

auto& glu_op() {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("torch_act::glu", "")
                       .typed<Tensor(const Tensor&, int64_t)>();
  return op;
}
auto& glu_backward_op() {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("torch_act::glu_backward", "")
                       .typed<Tensor(const Tensor&, const Tensor&, int64_t)>();
  return op;
}
auto& glu_double_backward_op() {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("torch_act::glu_double_backward", "")
                       .typed<std::tuple<Tensor, Tensor>(
                           const Tensor&, const Tensor&, const Tensor&, int64_t)>();
  return op;
}

// The node of a forward call.
struct GluGradient {
  static constexpr size_t kSaved = 1;
  using Params = std::tuple<int64_t>;
  static std::string name() { return backward_node_name("glu"); }
  static variable_list apply(
      const variable_list& grads, const std::array<Tensor, 1>& saved, const Params& params,
      const std::vector<bool>&) {
    return {glu_backward_op().call(grads[0], saved[0], std::get<0>(params))};
  }
};

// The node of a backward call: d/d(grad_output) and d/d(input).
struct GluBackwardGradient {
  static constexpr size_t kSaved = 2;  // grad_output, input
  using Params = std::tuple<int64_t>;
  static std::string name() { return backward_node_name("glu_backward"); }
  static variable_list apply(
      const variable_list& grads, const std::array<Tensor, 2>& saved, const Params& params,
      const std::vector<bool>&) {
    return as_variable_list(
        glu_double_backward_op().call(grads[0], saved[0], saved[1], std::get<0>(params)));
  }
};

Tensor glu_autograd(const Tensor& self, int64_t dim) {
  Tensor out;
  if (!needs_graph(self)) {
    at::AutoDispatchBelowADInplaceOrView guard;
    out = glu_op().call(self, dim);
  } else {
    out = compute_with_node<GluGradient>(
        {self}, {dim}, [&] { return glu_op().call(self, dim); },
        [&](GradNode<GluGradient>& node, const Tensor&) {
          node.save(0, self, /*is_output=*/false);
        });
  }
  if (const Tensor& self_t = tangent_of(self); self_t.defined()) {
    // y_t = s a_t + a s (1 - s) b_t: the backward with g = 1 gives both
    // factors; the backward's own tangent then gives forward-over-forward.
    const Tensor factors =
        glu_backward_op().call(at::ones_like(out), primal_of(self), dim) * self_t;
    const int64_t d = at::maybe_wrap_dim(dim, self.dim());
    const c10::SymInt half = out.sym_size(d);
    set_tangent(out, factors.narrow_symint(d, 0, half) + factors.narrow_symint(d, half, half));
  }
  return out;
}

Tensor glu_backward_autograd(const Tensor& grad_output, const Tensor& self, int64_t dim) {
  Tensor grad_input;
  if (!needs_graph(grad_output, self)) {
    at::AutoDispatchBelowADInplaceOrView guard;
    grad_input = glu_backward_op().call(grad_output, self, dim);
  } else {
    grad_input = compute_with_node<GluBackwardGradient>(
        {grad_output, self}, {dim}, [&] { return glu_backward_op().call(grad_output, self, dim); },
        [&](GradNode<GluBackwardGradient>& node, const Tensor&) {
          node.save(0, grad_output, /*is_output=*/false);
          node.save(1, self, /*is_output=*/false);
        });
  }
  if (any_tangent(grad_output, self)) {
    const Tensor& grad_output_t = tangent_of(grad_output);
    const Tensor& self_t = tangent_of(self);
    const Tensor self_p = primal_of(self);
    Tensor tangent;
    if (grad_output_t.defined()) {
      tangent = glu_backward_op().call(grad_output_t, self_p, dim);
    }
    if (self_t.defined()) {
      tangent = add_tangents(
          tangent,
          std::get<1>(glu_double_backward_op().call(self_t, primal_of(grad_output), self_p, dim)));
    }
    set_tangent(grad_input, tangent);
  }
  return grad_input;
}

std::tuple<Tensor, Tensor> glu_double_backward_autograd(
    const Tensor& grad_grad_input, const Tensor& grad_output, const Tensor& self, int64_t dim) {
  return third_order_unsupported("glu", {grad_grad_input, grad_output, self}, [&] {
    return glu_double_backward_op().call(grad_grad_input, grad_output, self, dim);
  });
}

}  // namespace

void define_split_ops(torch::Library& m) {
  m.def("glu(Tensor self, int dim=-1) -> Tensor");
  m.def("glu_backward(Tensor grad_output, Tensor self, int dim) -> Tensor");
  m.def(
      "glu_double_backward(Tensor grad_grad_input, Tensor grad_output, Tensor self, int dim) "
      "-> (Tensor, Tensor)");
}

namespace {
// Every device's kernels (kernel_table.h picks the loops by device).
void register_glu_kernels(torch::Library& m) {
  m.impl("glu", TORCH_FN(glu_kernel));
  m.impl("glu_backward", TORCH_FN(glu_backward_kernel));
  m.impl("glu_double_backward", TORCH_FN(glu_double_backward_kernel));
}
}  // namespace

TORCH_LIBRARY_IMPL(torch_act, CPU, m) { register_glu_kernels(m); }

#if defined(TORCH_ACT_WITH_CUDA)
TORCH_LIBRARY_IMPL(torch_act, CUDA, m) { register_glu_kernels(m); }
#endif

TORCH_LIBRARY_IMPL(torch_act, Meta, m) {
  m.impl("glu", TORCH_FN(glu_meta));
  m.impl("glu_backward", TORCH_FN(glu_backward_meta));
  m.impl("glu_double_backward", TORCH_FN(glu_double_backward_meta));
}

TORCH_LIBRARY_IMPL(torch_act, Autograd, m) {
  m.impl("glu", TORCH_FN(glu_autograd));
  m.impl("glu_backward", TORCH_FN(glu_backward_autograd));
  m.impl("glu_double_backward", TORCH_FN(glu_double_backward_autograd));
}

}  // namespace torch_act
