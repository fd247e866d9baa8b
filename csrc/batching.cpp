// vmap batching rules (functorch's FuncTorchBatched key) for every torch_act
// op, so torch.func.vmap, and per-sample gradients (vmap of grad), run each op
// once over the whole batch instead of the fallback's loop of one call per
// batch element.
//
//   * unary ops, GLU and RReLU's ops: every tensor argument has one logical
//     shape (GLU's grad_output has half of dim), so batch dims move to the
//     front, an unbatched tensor is expanded (zero strides) to the batch, and
//     outputs are batched at dim 0. GLU's `dim` moves past the batch dim.
//   * gated ops: gate, up and grad_output share one shape, as above.
//   * bias ops: the batch folds into the last dim (bias_batch_rule).
//   * PReLU and learnable Swish: the batch folds into the channel dim (dim 1),
//     where the op takes one parameter per channel, so a per-sample parameter
//     is one call, and the parameter's gradient comes out per sample (summed
//     within each sample only).
#include <optional>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/WrapDimUtils.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/functorch/BatchedTensorImpl.h>
#include <torch/library.h>

#include "ops.h"

// Exported by libtorch_cpu and declared in ATen/functorch/PlumbingHelper.h,
// which is not included: through the dynamic-layer headers it needs
// nlohmann/json, which torch's wheels do not ship.
namespace at::functorch {
TORCH_API std::tuple<Tensor, std::optional<int64_t>> unwrapTensorAtLevel(
    const Tensor& tensor, int64_t level);
}  // namespace at::functorch

namespace torch_act {
namespace {

namespace ft = at::functorch;
using at::Tensor;

// The vmap level a call is batched at: the innermost (highest) level among
// its arguments. (functorch's own rules read the level of the innermost
// transform from its layer stack, out of reach here, see above. Where that
// transform batches none of the arguments, an outer level's batch is taken
// here first and the result is the same: batched at that outer level.)
std::optional<int64_t> vmap_level(c10::ArrayRef<c10::IValue> args) {
  std::optional<int64_t> level;
  for (const auto& arg : args) {
    if (arg.isTensor()) {
      if (const auto* batched = ft::maybeGetBatchedImpl(arg.toTensor())) {
        level = std::max(level.value_or(batched->level()), batched->level());
      }
    }
  }
  return level;
}

// The batch size of the arguments batched at `level`.
c10::SymInt batch_size(c10::ArrayRef<c10::IValue> args, int64_t level) {
  for (const auto& arg : args) {
    if (arg.isTensor()) {
      if (const auto* batched = ft::maybeGetBatchedImpl(arg.toTensor());
          batched != nullptr && batched->level() == level) {
        return batched->value().sym_size(batched->bdim());
      }
    }
  }
  TORCH_INTERNAL_ASSERT(false, "torch_act: no argument batched at vmap level ", level);
}

// A tensor argument at `level`: its value with the batch dim first, if it has one.
struct Unwrapped {
  Tensor value;
  bool batched;

  int64_t logical_dim() const { return value.dim() - (batched ? 1 : 0); }
  // [batch, ...]: as is if batched, else expanded without a copy.
  Tensor with_batch(const c10::SymInt& batch) const {
    if (batched) {
      return value;
    }
    std::vector<c10::SymInt> sizes{batch};
    sizes.insert(sizes.end(), value.sym_sizes().begin(), value.sym_sizes().end());
    return value.unsqueeze(0).expand_symint(sizes);
  }
};

Unwrapped unwrap(const Tensor& tensor, int64_t level) {
  auto [value, bdim] = ft::unwrapTensorAtLevel(tensor, level);
  if (!bdim.has_value()) {
    return {value, false};
  }
  return {*bdim == 0 ? value : value.movedim(*bdim, 0), true};
}

// A boxed call's arguments, popped from the stack, with the vmap level they
// are batched at and the batch size.
struct BatchedCall {
  int64_t level;
  c10::SymInt batch;
  std::vector<c10::IValue> args;
};

// How every boxed rule starts (with FuncTorchBatched excluded by the caller):
// no argument batched, the op runs as is and nothing is returned; else the
// call's arguments come off the stack for the rule to fold.
std::optional<BatchedCall> pop_batched_call(
    const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const size_t num_args = op.schema().arguments().size();
  const auto level = vmap_level(torch::jit::last(*stack, num_args));
  if (!level.has_value()) {
    op.callBoxed(stack);
    return std::nullopt;
  }
  const c10::SymInt batch = batch_size(torch::jit::last(*stack, num_args), *level);
  return BatchedCall{*level, batch, torch::jit::pop(*stack, num_args)};
}

// Unary ops, GLU and RReLU's ops, boxed: one rule serves every schema.
void same_shape_batch_rule(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const auto& schema = op.schema();
  const size_t num_args = schema.arguments().size();
  c10::impl::ExcludeDispatchKeyGuard guard(c10::DispatchKey::FuncTorchBatched);
  auto call = pop_batched_call(op, stack);
  if (!call.has_value()) {
    return;
  }
  const int64_t level = call->level;
  const c10::SymInt& batch = call->batch;
  auto& args = call->args;
  std::optional<int64_t> logical_dim;  // of the tensors (GLU's `dim` refers to it)
  for (auto& arg : args) {
    if (arg.isTensor()) {
      const Unwrapped u = unwrap(arg.toTensor(), level);
      logical_dim = logical_dim.value_or(u.logical_dim());
      arg = u.with_batch(batch);
    }
  }
  for (size_t i = 0; i < num_args; ++i) {
    if (schema.arguments()[i].name() == "dim") {
      args[i] = at::maybe_wrap_dim(args[i].toInt(), *logical_dim) + 1;
    }
  }
  for (auto& arg : args) {
    torch::jit::push(stack, std::move(arg));
  }
  op.callBoxed(stack);
  // In-place ops return nothing: they wrote into the batched tensor's storage.
  const size_t num_returns = schema.returns().size();
  auto returns = torch::jit::pop(*stack, num_returns);
  for (auto& ret : returns) {
    torch::jit::push(stack, ft::makeBatched(ret.toTensor(), 0, level));
  }
}

// PReLU's and learnable Swish's operands for one call over the batch: the
// batch folds into dim 1, which the op reads as the channel dim.
//   one parameter value:     input [B, ...S] -> [1, B, numel(S)], param [B]
//   one per channel (dim 1): input [B, N, C, ...] -> [N, B*C, ...], param [B*C]
class ChannelFold {
 public:
  ChannelFold(const Unwrapped& input, const Unwrapped& param, c10::SymInt batch)
      : batch_(std::move(batch)) {
    const auto input_sizes = input.value.sym_sizes().slice(input.batched ? 1 : 0);
    const auto param_sizes = param.value.sym_sizes().slice(param.batched ? 1 : 0);
    input_sizes_.assign(input_sizes.begin(), input_sizes.end());
    param_sizes_.assign(param_sizes.begin(), param_sizes.end());
    c10::SymInt param_numel = 1;
    for (const auto& s : param_sizes_) {
      param_numel *= s;
    }
    per_channel_ = param_numel.sym_ne(1).guard_bool(__FILE__, __LINE__);
  }

  // Whether the logical call is one the op accepts in this layout.
  bool folds() const {
    if (!per_channel_) {
      return true;
    }
    c10::SymInt param_numel = 1;
    for (const auto& s : param_sizes_) {
      param_numel *= s;
    }
    return input_sizes_.size() >= 2 && param_sizes_.size() <= 1 &&
           input_sizes_[1].sym_eq(param_numel).guard_bool(__FILE__, __LINE__);
  }
  const std::vector<c10::SymInt>& input_sizes() const { return input_sizes_; }
  const std::vector<c10::SymInt>& param_sizes() const { return param_sizes_; }

  Tensor fold_input(const Tensor& x) const {
    if (!per_channel_) {
      c10::SymInt numel = 1;
      for (const auto& s : input_sizes_) {
        numel *= s;
      }
      return x.reshape_symint({1, batch_, numel});
    }
    std::vector<c10::SymInt> sizes{input_sizes_[0], batch_ * input_sizes_[1]};
    sizes.insert(sizes.end(), input_sizes_.begin() + 2, input_sizes_.end());
    return x.transpose(0, 1).reshape_symint(sizes);
  }
  Tensor fold_param(const Tensor& p) const { return p.reshape(-1); }

  Tensor unfold_input(const Tensor& y, int64_t level) const {
    if (!per_channel_) {
      return ft::makeBatched(y.reshape_symint(batched(input_sizes_)), 0, level);
    }
    std::vector<c10::SymInt> sizes{input_sizes_[0], batch_};
    sizes.insert(sizes.end(), input_sizes_.begin() + 1, input_sizes_.end());
    return ft::makeBatched(y.reshape_symint(sizes), 1, level);
  }
  Tensor unfold_param(const Tensor& grad, int64_t level) const {
    return ft::makeBatched(grad.reshape_symint(batched(param_sizes_)), 0, level);
  }

 private:
  std::vector<c10::SymInt> batched(const std::vector<c10::SymInt>& sizes) const {
    std::vector<c10::SymInt> out{batch_};
    out.insert(out.end(), sizes.begin(), sizes.end());
    return out;
  }

  c10::SymInt batch_;
  std::vector<c10::SymInt> input_sizes_, param_sizes_;
  bool per_channel_ = false;
};

template <class Act>
struct ParamBatchRules {
  using Pair = std::tuple<Tensor, Tensor>;
  using Triple = std::tuple<Tensor, Tensor, Tensor>;

  static c10::OperatorHandle op(const char* suffix) {
    return c10::Dispatcher::singleton().findSchemaOrThrow(
        (std::string("torch_act::") + Act::name + suffix).c_str(), Act::overload);
  }
  // The fold of (input, param), or the op's own error for a logical call it
  // refuses (its Meta kernel runs the same checks on the logical shapes).
  static ChannelFold fold(
      const Unwrapped& input, const Unwrapped& param, const c10::SymInt& batch) {
    ChannelFold fold(input, param, batch);
    if (!fold.folds()) {
      static auto forward = op("").typed<Tensor(const Tensor&, const Tensor&)>();
      forward.call(
          at::empty_symint(fold.input_sizes(), input.value.options().device(at::kMeta)),
          at::empty_symint(fold.param_sizes(), param.value.options().device(at::kMeta)));
      TORCH_INTERNAL_ASSERT(false, "torch_act.", Act::name, ": unexpected operand shapes");
    }
    return fold;
  }

  static Tensor forward(const Tensor& self, const Tensor& param) {
    static auto call = op("").typed<Tensor(const Tensor&, const Tensor&)>();
    c10::impl::ExcludeDispatchKeyGuard guard(c10::DispatchKey::FuncTorchBatched);
    const auto maybe_level = vmap_level({self, param});
    if (!maybe_level.has_value()) {
      return call.call(self, param);
    }
    const int64_t level = *maybe_level;
    const c10::SymInt batch = batch_size({self, param}, level);
    const Unwrapped x = unwrap(self, level), p = unwrap(param, level);
    const ChannelFold f = fold(x, p, batch);
    return f.unfold_input(
        call.call(f.fold_input(x.with_batch(batch)), f.fold_param(p.with_batch(batch))), level);
  }

  static Pair backward(const Tensor& grad_output, const Tensor& self, const Tensor& param) {
    static auto call = op("_backward").typed<Pair(const Tensor&, const Tensor&, const Tensor&)>();
    c10::impl::ExcludeDispatchKeyGuard guard(c10::DispatchKey::FuncTorchBatched);
    const auto maybe_level = vmap_level({grad_output, self, param});
    if (!maybe_level.has_value()) {
      return call.call(grad_output, self, param);
    }
    const int64_t level = *maybe_level;
    const c10::SymInt batch = batch_size({grad_output, self, param}, level);
    const Unwrapped g = unwrap(grad_output, level), x = unwrap(self, level),
                    p = unwrap(param, level);
    const ChannelFold f = fold(x, p, batch);
    auto [grad_self, grad_param] = call.call(
        f.fold_input(g.with_batch(batch)), f.fold_input(x.with_batch(batch)),
        f.fold_param(p.with_batch(batch)));
    return {f.unfold_input(grad_self, level), f.unfold_param(grad_param, level)};
  }

  static Triple double_backward(
      const Tensor& grad_grad_input, const Tensor& grad_grad_param, const Tensor& grad_output,
      const Tensor& self, const Tensor& param) {
    static auto call =
        op("_double_backward")
            .typed<Triple(
                const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&)>();
    c10::impl::ExcludeDispatchKeyGuard guard(c10::DispatchKey::FuncTorchBatched);
    const auto maybe_level =
        vmap_level({grad_grad_input, grad_grad_param, grad_output, self, param});
    if (!maybe_level.has_value()) {
      return call.call(grad_grad_input, grad_grad_param, grad_output, self, param);
    }
    const int64_t level = *maybe_level;
    const c10::SymInt batch =
        batch_size({grad_grad_input, grad_grad_param, grad_output, self, param}, level);
    const Unwrapped ggx = unwrap(grad_grad_input, level), ggp = unwrap(grad_grad_param, level),
                    g = unwrap(grad_output, level), x = unwrap(self, level),
                    p = unwrap(param, level);
    const ChannelFold f = fold(x, p, batch);
    auto [grad_grad_output, grad_self, grad_param] = call.call(
        f.fold_input(ggx.with_batch(batch)), f.fold_param(ggp.with_batch(batch)),
        f.fold_input(g.with_batch(batch)), f.fold_input(x.with_batch(batch)),
        f.fold_param(p.with_batch(batch)));
    return {
        f.unfold_input(grad_grad_output, level), f.unfold_input(grad_self, level),
        f.unfold_param(grad_param, level)};
  }

  static void register_rules(torch::Library& m) {
    auto name = [](const char* suffix) {
      std::string op = std::string(Act::name) + suffix;
      return Act::overload[0] == '\0' ? op : op + "." + Act::overload;
    };
    m.impl(name("").c_str(), TORCH_FN(forward));
    m.impl(name("_backward").c_str(), TORCH_FN(backward));
    m.impl(name("_double_backward").c_str(), TORCH_FN(double_backward));
  }
};

// The bias ops, boxed: the batch folds into the last dim, where the op takes
// one bias per element, so a per-sample bias is one call and its gradient
// comes out per sample (an unbatched bias is expanded to the batch first: its
// per-call gradient still differs per sample). Operands named like the bias
// are [B, C] -> [B*C]; the others [B, ..., C] -> [..., B*C]; the bias's
// gradient is the last of several returns.
void bias_batch_rule(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const auto& schema = op.schema();
  const size_t num_args = schema.arguments().size();
  c10::impl::ExcludeDispatchKeyGuard guard(c10::DispatchKey::FuncTorchBatched);
  auto call = pop_batched_call(op, stack);
  if (!call.has_value()) {
    return;
  }
  const int64_t level = call->level;
  const c10::SymInt& batch = call->batch;
  auto& args = call->args;
  for (size_t i = 0; i < num_args; ++i) {
    if (!args[i].isTensor()) {
      continue;
    }
    const Unwrapped u = unwrap(args[i].toTensor(), level);
    const Tensor value = u.with_batch(batch);
    const std::string& name = schema.arguments()[i].name();
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (is_bias) {
      args[i] = value.reshape(-1);
    } else {
      TORCH_CHECK(
          u.logical_dim() > 0, "torch_act.", schema.name(), ": expected ", name,
          " to have at least one dim (the bias runs along the last)");
      args[i] = value.movedim(0, -2).flatten(-2);
    }
  }
  for (auto& arg : args) {
    torch::jit::push(stack, std::move(arg));
  }
  op.callBoxed(stack);
  const size_t num_returns = schema.returns().size();
  auto returns = torch::jit::pop(*stack, num_returns);
  for (size_t r = 0; r < num_returns; ++r) {
    const Tensor folded = returns[r].toTensor();
    const bool is_bias = num_returns > 1 && r == num_returns - 1;
    const std::vector<c10::SymInt> split{batch, c10::SymInt(-1)};
    const Tensor value = is_bias ? folded.unflatten_symint(0, split)
                                 : folded.unflatten_symint(-1, split).movedim(-2, 0);
    torch::jit::push(stack, ft::makeBatched(value, 0, level));
  }
}

// Whether an activation's parameter broadcasts over its input (PReLU's
// weight, Swish's beta) rather than matching it element for element (RReLU's noise).
template <class Act>
constexpr bool broadcasts_param = !std::is_same_v<Act, RreluWithNoise>;

}  // namespace

TORCH_LIBRARY_IMPL(torch_act, FuncTorchBatched, m) {
  const auto same_shape = torch::CppFunction::makeFromBoxedFunction<&same_shape_batch_rule>;
  for_each_activation(UnaryActivations{}, [&](auto* act) {
    using Act = std::remove_pointer_t<decltype(act)>;
    for (const char* suffix : {"_backward", "_double_backward"}) {
      m.impl((std::string(Act::name) + suffix).c_str(), same_shape());
    }
    if constexpr (has_forward_ops<Act>) {
      m.impl(Act::name, same_shape());
    }
    if constexpr (Act::has_inplace) {
      m.impl((std::string(Act::name) + "_").c_str(), same_shape());
    }
  });
  for_each_activation(ParamActivations{}, [&](auto* act) {
    using Act = std::remove_pointer_t<decltype(act)>;
    if constexpr (broadcasts_param<Act>) {
      ParamBatchRules<Act>::register_rules(m);
    } else {
      for (const char* suffix : {"", "_backward", "_double_backward"}) {
        m.impl((std::string(Act::name) + suffix).c_str(), same_shape());
      }
    }
  });
  for (const char* op : {"glu", "glu_backward", "glu_double_backward"}) {
    m.impl(op, same_shape());
  }
  const auto bias_fold = torch::CppFunction::makeFromBoxedFunction<&bias_batch_rule>;
  for_each_activation(GatedActivations{}, [&](auto* act) {
    using Act = std::remove_pointer_t<decltype(act)>;
    for (const char* suffix : {"", "_backward", "_backward_", "_double_backward"}) {
      m.impl(param_op_name<Act>(suffix).c_str(), same_shape());
    }
  });
  for_each_activation(BiasActivations{}, [&](auto* act) {
    using Act = std::remove_pointer_t<decltype(act)>;
    for (const char* suffix : {"", "_backward", "_double_backward"}) {
      m.impl(param_op_name<Act>(suffix).c_str(), bias_fold());
    }
  });
}

}  // namespace torch_act
