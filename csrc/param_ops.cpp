// Activations with a learnable parameter tensor: PReLU's weight and Swish's
// beta. The math is in activations.h; what differs from the unary ops is the
// shape bookkeeping: the parameter is broadcast over the input for the
// elementwise pass, and its gradient is reduced back to the parameter's shape.
#include <ATen/ATen.h>
#include <ATen/MemoryOverlap.h>
#include <ATen/OpMathType.h>
#include <torch/library.h>

#include "cpu/kernels.h"
#include "kernel_table.h"
#include "ops.h"
#if defined(TORCH_ACT_WITH_CUDA)
#include "cuda/per_channel.h"
#endif

namespace torch_act {
namespace {

// How a parameter is laid over the input. check() uses symbolic sizes so the
// Meta kernels work under dynamic shapes; view() gives the broadcastable view.
template <class Act>
struct ParamShape;

// torch.nn.functional.prelu's rules, for PReLU's weight and Swish's beta: one
// value, or one per channel (dim 1). (Swish takes one value from Python; one
// per channel is what vmap's batching rule folds a batch of betas into.)
template <class Act>
struct ChannelParamShape {
  static void check(const at::Tensor& self, const at::Tensor& param) {
    TORCH_CHECK(
        param.dim() <= 1, "torch_act.", Act::name, ": expected ", Act::param_name,
        " to be a scalar or 1-D tensor, but got ", param.dim(), "-D");
    if (param.sym_numel() != 1) {
      TORCH_CHECK(
          self.dim() > 0, "torch_act.", Act::name, ": a 0-dim input takes a single ",
          Act::param_name);
      const c10::SymInt channels = self.dim() > 1 ? self.sym_size(1) : c10::SymInt(1);
      TORCH_CHECK(
          param.sym_numel() == channels, "torch_act.", Act::name, ": ", Act::param_name, " has ",
          param.sym_numel(), " elements, but the input has ", channels,
          " channels (dim 1); give one ", Act::param_name, " or one per channel");
    }
  }
  static at::Tensor view(const at::Tensor& self, const at::Tensor& param) {
    std::vector<int64_t> shape(self.dim(), 1);
    if (self.dim() > 1) {
      shape[1] = param.numel();
    }
    return param.reshape(shape);
  }
};
template <>
struct ParamShape<Prelu> : ChannelParamShape<Prelu> {};
template <>
struct ParamShape<SwishLearnable> : ChannelParamShape<SwishLearnable> {};

// RReLU's noise: one slope per element.
template <>
struct ParamShape<RreluWithNoise> {
  static void check(const at::Tensor& self, const at::Tensor& noise) {
    TORCH_CHECK(
        noise.sym_sizes() == self.sym_sizes(), "torch_act.rrelu_with_noise: expected noise of ",
        "the input's shape ", self.sym_sizes(), ", but got ", noise.sym_sizes());
  }
  static at::Tensor view(const at::Tensor&, const at::Tensor& noise) { return noise; }
};

// A gated unit's up: the gate's shape exactly (a broadcast up would make the
// gate's gradient a reduction; give both halves of one projection instead).
template <class Act>
struct SameShapeParam {
  static void check(const at::Tensor& gate, const at::Tensor& up) {
    TORCH_CHECK(
        up.sym_sizes() == gate.sym_sizes(), "torch_act.", Act::name, ": expected ", Act::param_name,
        " to have the shape of ", Act::input_name, " ", gate.sym_sizes(), ", but got ",
        up.sym_sizes());
  }
  static at::Tensor view(const at::Tensor&, const at::Tensor& up) { return up; }
};
template <class Unary>
struct ParamShape<Gated<Unary>> : SameShapeParam<Gated<Unary>> {};

// A bias: one value per element of the input's last dim, as a Linear layer's.
template <class Unary>
struct ParamShape<BiasAct<Unary>> {
  using Act = BiasAct<Unary>;
  static void check(const at::Tensor& self, const at::Tensor& bias) {
    TORCH_CHECK(
        bias.dim() == 1, "torch_act.", Act::name, ": expected a 1-D bias, but got ", bias.dim(),
        "-D");
    TORCH_CHECK(
        self.dim() > 0 && bias.sym_size(0) == self.sym_size(-1), "torch_act.", Act::name,
        ": expected a bias with one value per element of the input's last dim (input shape ",
        self.sym_sizes(), "), but got ", bias.sym_sizes());
  }
  static at::Tensor view(const at::Tensor&, const at::Tensor& bias) { return bias; }
};

template <class Act>
void check_param_inputs(const at::Tensor& self, const at::Tensor& param) {
  const char* input = ParamOpNames<Act>::input_label;
  check_floating(self, Act::name, input);
  check_floating(param, Act::name, Act::param_name);
  TORCH_CHECK(
      param.scalar_type() == self.scalar_type(), "torch_act.", Act::name, ": expected ",
      Act::param_name, " to have the ", input, "'s dtype (", self.scalar_type(), "), but got ",
      param.scalar_type());
  TORCH_CHECK(
      param.device() == self.device(), "torch_act.", Act::name, ": expected ", Act::param_name,
      " on the ", input, "'s device (", self.device(), "), but got ", param.device());
  ParamShape<Act>::check(self, param);
}

// Whether Act's per-element parameter gradient is its input gradient (a
// bias: d/dbias = d/dx elementwise, summed afterwards).
template <class Act>
struct ParamGradIsInputGrad : std::false_type {};
template <class Unary>
struct ParamGradIsInputGrad<BiasAct<Unary>> : std::true_type {};

// Where the loops write the parameter's per-element gradient: straight into
// the parameter's gradient when the parameter is not broadcast (RReLU's
// noise), into the input's gradient where the two are equal (a bias: the
// loop stores the same value twice, no buffer), else a buffer that
// reduce_to_param sums.
template <class Act>
at::Tensor param_grad_per_element(
    const at::Tensor& self, const at::Tensor& view, const at::Tensor& grad_param,
    const at::Tensor& grad_input) {
  const bool broadcast = view.sizes() != self.sizes() || grad_param.sizes() != self.sizes();
  if (!broadcast) {
    return grad_param;
  }
  return ParamGradIsInputGrad<Act>::value ? grad_input : empty_like_input(self);
}

// Sums a per-element parameter gradient over the broadcast dims into `out`.
void reduce_to_param(const at::Tensor& per_element, const at::Tensor& view, at::Tensor& out) {
  if (per_element.is_same(out)) {
    return;
  }
  out.copy_(per_element.sum_to_size(view.sizes()).view(out.sizes()));
}

// A bias op's backward over a contiguous input seen as a [rows, columns]
// matrix (the bias is one value per column), with the bias's gradient summed
// per column in the pass that writes the input's gradient: no per-element
// buffer and no second pass over memory. Returns false (having done nothing)
// for other layouts, which take the general loops.
template <class Act>
bool backward_summing_columns(
    const at::Tensor& grad_output, const at::Tensor& self, const at::Tensor& bias,
    const at::Tensor& grad_input, const at::Tensor& grad_bias, const Act& act) {
  if (self.numel() == 0 || !self.is_contiguous() || !grad_output.is_contiguous() ||
      !grad_input.is_contiguous()) {
    return false;
  }
  const int64_t columns = bias.numel();
  const int64_t rows = self.numel() / columns;
#if defined(TORCH_ACT_WITH_CUDA)
  if (self.is_cuda()) {
    // A per-channel parameter of a 2-D input is a per-column one.
    const auto matrix = [&](const at::Tensor& t) { return t.view({rows, columns}); };
    return cuda::per_channel_backward(
        matrix(grad_output), matrix(self), bias, matrix(grad_input), grad_bias, act);
  }
#endif
  if (!self.is_cpu()) {
    return false;
  }
  // Chunks of rows, each summing into its own row of partial sums: the
  // result does not depend on the thread count, each partial sum adds at
  // most kMaxRowsPerChunk values (a float32 running sum stays accurate),
  // and the partial rows are few next to the input (1/32 of it or less
  // for rows of up to 4K columns).
  constexpr int64_t kChunkElements = int64_t{1} << 17;
  constexpr int64_t kMaxRowsPerChunk = 1024;
  const int64_t rows_per_chunk =
      std::clamp<int64_t>((kChunkElements + columns - 1) / columns, 1, kMaxRowsPerChunk);
  const int64_t chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
  const at::Tensor bias_values = bias.contiguous();
  const at::Tensor partial_sums =
      at::zeros({chunks, columns}, self.options().dtype(at::toOpMathType(self.scalar_type())));
  const auto& loops = cpu::column_sum_kernels().get<Act>();
  const int64_t element_size = self.element_size();
  const int64_t sum_size = partial_sums.element_size();
  cpu::parallel_over(chunks, [&](int64_t chunk) {
    const int64_t first_row = chunk * rows_per_chunk;
    const int64_t offset = first_row * columns * element_size;
    loops.backward(
        cpu::ColumnSumChunk{
            static_cast<char*>(grad_input.data_ptr()) + offset,
            static_cast<const char*>(grad_output.const_data_ptr()) + offset,
            static_cast<const char*>(self.const_data_ptr()) + offset, bias_values.const_data_ptr(),
            static_cast<char*>(partial_sums.data_ptr()) + chunk * columns * sum_size,
            std::min(rows_per_chunk, rows - first_row), columns, self.scalar_type()},
        act);
  });
  grad_bias.copy_(chunks == 1 ? partial_sums[0] : partial_sums.sum(0));
  return true;
}

// Kernels of one param-like op; P... are the hyper-parameters of a gated or
// bias op's activation (none for PReLU and Swish's learnable beta).
template <class Act, class Params = ParamsOf<Act>>
struct ParamKernels;

template <class Act, class... P>
struct ParamKernels<Act, std::tuple<P...>> {
  static at::Tensor forward_meta(const at::Tensor& self, const at::Tensor& param, P... params) {
    check_param_inputs<Act>(self, param);
    [[maybe_unused]] Act act{params...};  // validates the hyper-parameters
    return empty_like_input(self);
  }
  static at::Tensor forward(const at::Tensor& self, const at::Tensor& param, P... params) {
    at::Tensor out = forward_meta(self, param, params...);
    const at::Tensor view = ParamShape<Act>::view(self, param);
#if defined(TORCH_ACT_WITH_CUDA)
    // A per-channel parameter would send the general loops down their
    // strided path; one value broadcasts within their flat path already.
    // (A bias op's input is per-channel only as a matrix; see above.)
    if constexpr (
        listed_in<Act>(cuda::PerChannelActivations{}) && !listed_in<Act>(BiasActivations{})) {
      if (self.is_cuda() && param.numel() > 1 && view.sizes() != self.sizes() &&
          cuda::per_channel_forward(self, param, out, Act{params...})) {
        return out;
      }
    }
#endif
    auto iter = make_iter({out}, self, view);
    binary_loops<Act>(iter.device()).forward(iter, Act{params...});
    return out;
  }

  static std::tuple<at::Tensor, at::Tensor> backward_meta(
      const at::Tensor& grad_output, const at::Tensor& self, const at::Tensor& param, P... params) {
    check_param_inputs<Act>(self, param);
    check_like(grad_output, self, Act::name, "grad_output", ParamOpNames<Act>::input_name);
    [[maybe_unused]] Act act{params...};
    return {empty_like_input(self), empty_like_input(param)};
  }
  static std::tuple<at::Tensor, at::Tensor> backward(
      const at::Tensor& grad_output, const at::Tensor& self, const at::Tensor& param, P... params) {
    auto [grad_input, grad_param] = backward_meta(grad_output, self, param, params...);
    const at::Tensor view = ParamShape<Act>::view(self, param);
    if constexpr (listed_in<Act>(BiasActivations{})) {
      if (backward_summing_columns(
              grad_output, self, param, grad_input, grad_param, Act{params...})) {
        return {grad_input, grad_param};
      }
    }
#if defined(TORCH_ACT_WITH_CUDA)
    // On the GPU a broadcast parameter's gradient is summed per channel in
    // the same pass, not through a per-element buffer.
    if constexpr (
        listed_in<Act>(cuda::PerChannelActivations{}) && !listed_in<Act>(BiasActivations{})) {
      if (self.is_cuda() && view.sizes() != self.sizes() &&
          cuda::per_channel_backward(
              grad_output, self, param, grad_input, grad_param, Act{params...})) {
        return {grad_input, grad_param};
      }
    }
#endif
    at::Tensor grad_param_per_element =
        param_grad_per_element<Act>(self, view, grad_param, grad_input);
    auto iter = make_iter({grad_input, grad_param_per_element}, grad_output, self, view);
    binary_loops<Act>(iter.device()).backward(iter, Act{params...});
    reduce_to_param(grad_param_per_element, view, grad_param);
    return {grad_input, grad_param};
  }

  // A gated op's backward written into its inputs' storage (<name>_glu_backward_):
  // each element's gradients replace the gate and up they were computed from,
  // read first in the same loop, so no buffer is allocated. The caller owns
  // the aliasing: gate and up must not be read again (functional.glu_act's
  // inplace_grad documents it and bumps their versions).
  static void backward_into_inputs_meta(
      const at::Tensor& grad_output, const at::Tensor& self, const at::Tensor& param, P... params) {
    backward_meta(grad_output, self, param, params...);
  }
  static void backward_into_inputs(
      const at::Tensor& grad_output, const at::Tensor& self, const at::Tensor& param, P... params) {
    backward_into_inputs_meta(grad_output, self, param, params...);
    // (Not in the Meta kernel: overlap needs concrete sizes and strides.)
    TORCH_CHECK(
        at::has_internal_overlap(self) != at::MemOverlap::Yes &&
            at::has_internal_overlap(param) != at::MemOverlap::Yes,
        "torch_act.", Act::name, "_backward_: ", Act::input_name, " and ", Act::param_name,
        " must not have overlapping elements (an expanded tensor) to take their gradients");
    TORCH_CHECK(
        at::get_overlap_status(self, param) == at::MemOverlapStatus::No, "torch_act.", Act::name,
        "_backward_: ", Act::input_name, " and ", Act::param_name,
        " must not share memory to take their gradients");
    auto iter = make_iter({self, param}, grad_output, self, param);
    binary_loops<Act>(iter.device()).backward(iter, Act{params...});
  }

  // Returns the gradients w.r.t. (grad_output, self, param) of the backward,
  // given the gradients flowing into its two outputs.
  static std::tuple<at::Tensor, at::Tensor, at::Tensor> double_backward_meta(
      const at::Tensor& grad_grad_input, const at::Tensor& grad_grad_param,
      const at::Tensor& grad_output, const at::Tensor& self, const at::Tensor& param, P... params) {
    backward_meta(grad_output, self, param, params...);  // the same checks
    check_like(grad_grad_input, self, Act::name, "grad_grad_input", ParamOpNames<Act>::input_name);
    check_like(grad_grad_param, param, Act::name, "grad_grad_param", Act::param_name);
    return {empty_like_input(grad_output), empty_like_input(self), empty_like_input(param)};
  }
  static std::tuple<at::Tensor, at::Tensor, at::Tensor> double_backward(
      const at::Tensor& grad_grad_input, const at::Tensor& grad_grad_param,
      const at::Tensor& grad_output, const at::Tensor& self, const at::Tensor& param, P... params) {
    auto [grad_grad_output, grad_self, grad_param] =
        double_backward_meta(grad_grad_input, grad_grad_param, grad_output, self, param, params...);
    const at::Tensor view = ParamShape<Act>::view(self, param);
    at::Tensor grad_param_per_element =
        param_grad_per_element<Act>(self, view, grad_param, grad_self);
    auto iter = make_iter(
        {grad_grad_output, grad_self, grad_param_per_element}, grad_grad_input,
        ParamShape<Act>::view(self, grad_grad_param), grad_output, self, view);
    binary_loops<Act>(iter.device()).double_backward(iter, Act{params...});
    reduce_to_param(grad_param_per_element, view, grad_param);
    return {grad_grad_output, grad_self, grad_param};
  }
};

template <class Act>
void define_param(torch::Library& m) {
  const std::string x = ParamOpNames<Act>::input_name;
  const std::string p = Act::param_name;
  const std::string params = schema_tail(ParamOpNames<Act>::schema_params);
  auto def = [&](const char* suffix, const std::string& args, const char* returns) {
    m.def(
        torch::schema(
            (param_op_name<Act>(suffix) + "(" + args + params + ") -> " + returns).c_str()));
  };
  def("", "Tensor " + x + ", Tensor " + p, "Tensor");
  def("_backward", "Tensor grad_output, Tensor " + x + ", Tensor " + p, "(Tensor, Tensor)");
  if constexpr (writes_grad_into_inputs<Act>) {
    def("_backward_", "Tensor grad_output, Tensor(a!) " + x + ", Tensor(b!) " + p, "()");
  }
  def("_double_backward",
      "Tensor grad_grad_" + x + ", Tensor grad_grad_" + p + ", Tensor grad_output, Tensor " + x +
          ", Tensor " + p,
      "(Tensor, Tensor, Tensor)");
}

}  // namespace

void define_param_ops(torch::Library& m) {
  for_each_activation(ParamLikeActivations{}, [&](auto* act) {
    define_param<std::remove_pointer_t<decltype(act)>>(m);
  });
}

namespace {
// Every device's kernels (kernel_table.h picks the loops by device).
template <bool kMeta>
void register_param_kernels(torch::Library& m) {
  for_each_activation(ParamLikeActivations{}, [&](auto* act) {
    using Act = std::remove_pointer_t<decltype(act)>;
    using K = ParamKernels<Act>;
    if constexpr (writes_grad_into_inputs<Act> && kMeta) {
      m.impl(param_op_name<Act>("_backward_").c_str(), TORCH_FN(K::backward_into_inputs_meta));
    } else if constexpr (writes_grad_into_inputs<Act>) {
      m.impl(param_op_name<Act>("_backward_").c_str(), TORCH_FN(K::backward_into_inputs));
    }
    if constexpr (kMeta) {
      m.impl(param_op_name<Act>("").c_str(), TORCH_FN(K::forward_meta));
      m.impl(param_op_name<Act>("_backward").c_str(), TORCH_FN(K::backward_meta));
      m.impl(param_op_name<Act>("_double_backward").c_str(), TORCH_FN(K::double_backward_meta));
    } else {
      m.impl(param_op_name<Act>("").c_str(), TORCH_FN(K::forward));
      m.impl(param_op_name<Act>("_backward").c_str(), TORCH_FN(K::backward));
      m.impl(param_op_name<Act>("_double_backward").c_str(), TORCH_FN(K::double_backward));
    }
  });
}
}  // namespace

TORCH_LIBRARY_IMPL(torch_act, CPU, m) { register_param_kernels</*kMeta=*/false>(m); }

#if defined(TORCH_ACT_WITH_CUDA)
TORCH_LIBRARY_IMPL(torch_act, CUDA, m) { register_param_kernels</*kMeta=*/false>(m); }
#endif

TORCH_LIBRARY_IMPL(torch_act, Meta, m) { register_param_kernels</*kMeta=*/true>(m); }

}  // namespace torch_act
