// Helpers shared by the autograd kernels (autograd.cpp, glu.cpp).
#pragma once

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/functions/basic_ops.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/dynamo/compiled_autograd.h>

namespace torch_act {

inline c10::OperatorHandle find_op(const std::string& name, const char* overload = "") {
  return c10::Dispatcher::singleton().findSchemaOrThrow(("torch_act::" + name).c_str(), overload);
}

// Hyper-parameters as a node stores them (a string_view's text is copied).
template <class P>
using Stored = std::conditional_t<std::is_same_v<P, std::string_view>, std::string, P>;

// Forward-mode AD. Level 0 is the only one: torch.autograd.forward_ad and
// functorch's jvp (on its own wrapper tensors) both use it, as ATen's
// generated autograd kernels do.
inline at::Tensor tangent_of(const at::Tensor& t) {
  return t.defined() ? t._fw_grad(/*level=*/0) : at::Tensor();
}
template <class... Tensors>
bool any_tangent(const Tensors&... tensors) {
  return (tangent_of(tensors).defined() || ...);
}
// t without its tangent (a view that keeps t's backward history): what a
// tangent formula evaluates at, so it does not propagate tangents itself.
inline at::Tensor primal_of(const at::Tensor& t) {
  return tangent_of(t).defined() ? t._fw_primal(/*level=*/0) : t;
}
inline void set_tangent(const at::Tensor& out, const at::Tensor& tangent) {
  if (tangent.defined()) {
    out._set_fw_grad(tangent, /*level=*/0, /*is_inplace_op=*/false);
  }
}
// The sum of two optional tangents.
inline at::Tensor add_tangents(const at::Tensor& a, const at::Tensor& b) {
  if (!a.defined()) {
    return b;
  }
  return b.defined() ? a + b : a;
}
// A tangent that is undefined (zero) where a formula needs a tensor.
inline at::Tensor tangent_or_zeros(const at::Tensor& tangent, const at::Tensor& like) {
  return tangent.defined() ? tangent : at::zeros_like(like);
}

// Whether a call must record a graph node. Without one (inference, no_grad, and
// the first-order backward pass, which runs with grad mode off) the op is
// called directly below autograd: no node, no saved tensors.
template <class... Tensors>
bool needs_graph(const Tensors&... tensors) {
  return at::GradMode::is_enabled() && (tensors.requires_grad() || ...);
}

inline torch::autograd::variable_list as_variable_list(const at::Tensor& t) { return {t}; }
template <class... T>
torch::autograd::variable_list as_variable_list(const std::tuple<T...>& t) {
  return std::apply([](const auto&... x) { return torch::autograd::variable_list{x...}; }, t);
}

// A new graph node held the way this torch's Edge holds nodes: a
// c10::intrusive_ptr since torch 2.13, a std::shared_ptr before.
template <class NodeType, class... Args>
auto make_node(Args&&... args) {
  using EdgeFunction = decltype(torch::autograd::Edge::function);
  if constexpr (std::is_same_v<EdgeFunction, std::shared_ptr<torch::autograd::Node>>) {
    return std::make_shared<NodeType>(std::forward<Args>(args)...);
  } else {
    return c10::make_intrusive<NodeType>(std::forward<Args>(args)...);
  }
}

// "torch_act::<op>_backward": what grad_fn.name() shows for op's node.
inline std::string backward_node_name(const std::string& op) {
  return "torch_act::" + op + "_backward";
}

// The graph node of an activation call, laid out as ATen's generated
// nodes are: saved tensors and hyper-parameters are typed members.
// torch::autograd::Function would box the hyper-parameters into a string-keyed
// IValue map and validate its inputs and outputs on every call, which costs
// more than the kernels themselves on small tensors.
//
// `Gradient` says what the node computes:
//   static std::string name();              // the node's name, as grad_fn shows it
//   static constexpr size_t kSaved;         // how many tensors it saves
//   using Params = std::tuple<...>;         // stored hyper-parameters
//   static variable_list apply(const variable_list& grads,
//       const std::array<at::Tensor, kSaved>& saved, const Params& params,
//       const std::vector<bool>& needed);
// grads holds one gradient per output of the forward (at least one defined);
// apply returns one gradient per tensor input of the forward, in order, and
// may leave those not `needed` undefined. It calls the ops through the
// dispatcher, so create_graph=True (and functorch's transforms) record the
// backward in turn.
// Optionally, `static constexpr bool kZeroSecondDerivative = true;`: the
// results depend on the inputs only through what was saved, with derivative
// zero (a piecewise-linear activation's gradient from its 1-bit mask); see
// keep_inputs_in_graph.
// (A trait, not a requires-expression: torch 2.11 builds extensions as C++17.)
template <class Gradient, class = void>
struct ZeroSecondDerivative : std::false_type {};
template <class Gradient>
struct ZeroSecondDerivative<Gradient, std::void_t<decltype(Gradient::kZeroSecondDerivative)>>
    : std::bool_constant<Gradient::kZeroSecondDerivative> {};
template <class Gradient>
constexpr bool kZeroSecondDerivative = ZeroSecondDerivative<Gradient>::value;

template <class Gradient>
struct GradNode : torch::autograd::Node {
  using Params = typename Gradient::Params;
  static constexpr size_t kSaved = Gradient::kSaved;
  using SavedTensors = std::array<at::Tensor, kSaved>;

  explicit GradNode(Params params) : params_(std::move(params)) {}

  std::string name() const override { return Gradient::name(); }

  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    SavedTensors saved;
    for (size_t i = 0; i < kSaved; ++i) {
      // getptr(): an output saved by its own node is restored with this node
      // as its grad_fn, which double backward needs.
      saved[i] = saved_[i].unpack(getptr());
    }
    std::vector<bool> needed(num_outputs());
    for (size_t i = 0; i < needed.size(); ++i) {
      needed[i] = should_compute_output(i);
    }
    auto grads_in = compute(grads, saved, params_, needed);
    if constexpr (kZeroSecondDerivative<Gradient>) {
      keep_inputs_in_graph(grads_in);
    }
    return grads_in;
  }

  void release_variables() override {
    for (auto& saved : saved_) {
      saved.reset_data();
    }
  }

  // Compiled autograd (torch._dynamo) keys its cache on what compiled_args
  // collects, and records apply_with_saved as one traceable call of
  // apply_functional on packed values, so the compiled backward graph holds
  // our backward ops themselves.
  void compiled_args(torch::dynamo::autograd::CompiledNodeArgs& args) const override {
    args.collect(Gradient::name());
    for (size_t i = 0; i < kSaved; ++i) {
      args.collect(saved_[i], saved_is_output_[i]);
    }
    std::apply([&](const auto&... param) { (args.collect(param), ...); }, params_);
  }

  torch::autograd::variable_list apply_with_saved(
      const torch::autograd::variable_list& inputs,
      torch::dynamo::autograd::SwapSavedVariables& swap) override {
    namespace ca = torch::dynamo::autograd;
    for (auto& saved : saved_) {
      swap.before(saved);
    }
    std::vector<c10::IValue> packed;
    std::vector<at::TypePtr> schema;
    auto pack = [&](const auto& value) {
      using T = std::decay_t<decltype(value)>;
      packed.push_back(ca::IValuePacker<T>::pack(value));
      schema.push_back(ca::IValuePacker<T>::packed_type());
    };
    for (const auto& saved : saved_) {
      pack(saved.unpack(getptr()));
    }
    std::apply([&](const auto&... param) { (pack(param), ...); }, params_);
    std::vector<bool> needed(num_outputs());
    for (size_t i = 0; i < needed.size(); ++i) {
      needed[i] = task_should_compute_output(i);
    }
    pack(needed);

    const auto& compiler = ca::getPyCompilerInterface();
    const std::string fn = compiler->bind_function(
        swap.get_py_compiler(), Gradient::name(), &apply_functional, schema,
        /*is_custom_function=*/true, /*is_traceable=*/true);
    const auto output_metadata =
        ca::IValuePacker<std::vector<std::optional<torch::autograd::InputMetadata>>>::pack(
            ca::get_input_metadata(next_edges()));
    auto result = compiler->call_function(
        swap.get_py_compiler(), "apply_functional", fn, inputs, packed, output_metadata);
    for (auto& saved : saved_) {
      swap.after(saved);
    }
    return result;
  }

  void save(size_t i, const at::Tensor& tensor, bool is_output, bool is_inplace_on_view = false) {
    saved_[i] = torch::autograd::SavedVariable(tensor, is_output, is_inplace_on_view);
    saved_is_output_[i] = is_output;
  }

 private:
  // The gradients of the forward's inputs, undefined where not `needed`.
  static torch::autograd::variable_list compute(
      const torch::autograd::variable_list& grads, const SavedTensors& saved, const Params& params,
      const std::vector<bool>& needed) {
    if (std::none_of(grads.begin(), grads.end(), [](const auto& g) { return g.defined(); })) {
      return torch::autograd::variable_list(needed.size());
    }
    auto grads_in = Gradient::apply(grads, saved, params, needed);
    for (size_t i = 0; i < grads_in.size(); ++i) {
      if (!needed[i]) {
        grads_in[i] = at::Tensor();
      }
    }
    return grads_in;
  }

  // apply_with_saved's packing, undone.
  static torch::autograd::variable_list apply_functional(
      const torch::autograd::variable_list& grads, const std::vector<c10::IValue>& packed) {
    namespace ca = torch::dynamo::autograd;
    SavedTensors saved;
    for (size_t i = 0; i < kSaved; ++i) {
      saved[i] = packed[i].toTensor();
    }
    const auto params =
        unpack_params(packed, std::make_index_sequence<std::tuple_size_v<Params>>{});
    return compute(
        grads, saved, params, ca::IValuePacker<std::vector<bool>>::unpack(packed.back()));
  }
  template <size_t... I>
  static Params unpack_params(const std::vector<c10::IValue>& packed, std::index_sequence<I...>) {
    namespace ca = torch::dynamo::autograd;
    return Params{ca::IValuePacker<std::tuple_element_t<I, Params>>::unpack(packed[kSaved + I])...};
  }

  // Under create_graph=True the results must still hang on the inputs in the
  // new graph, as ATen's double-backward nodes do, so that differentiating
  // them by an input gives zeros rather than a "not used in the graph" error:
  // each becomes itself minus 0 times a tensor on that input's edge, which
  // stands for the input without keeping it alive. (Minus: g - (+0) is g bit
  // for bit, a -0 included.)
  void keep_inputs_in_graph(torch::autograd::variable_list& grads_in) const {
    if (!at::GradMode::is_enabled()) {
      return;
    }
    for (size_t i = 0; i < grads_in.size(); ++i) {
      const auto& edge = next_edge(i);
      if (!grads_in[i].defined() || !edge.is_valid()) {
        continue;
      }
      at::Tensor input_stand_in = at::zeros_like(grads_in[i]);
      torch::autograd::impl::set_gradient_edge(input_stand_in, edge);
      grads_in[i] = grads_in[i] - input_stand_in * 0;
    }
  }

  std::array<torch::autograd::SavedVariable, kSaved> saved_;
  std::array<bool, kSaved> saved_is_output_{};
  Params params_;
};

// Runs `compute` below autograd and records a GradNode<Gradient> as the
// creator of its output(s); for calls that need a graph (needs_graph).
// `save(node, outputs)` stores the node's tensors once the outputs exist.
template <class Gradient, class Compute, class Save>
auto compute_with_node(
    const torch::autograd::variable_list& inputs, typename Gradient::Params params,
    Compute&& compute, Save&& save) {
  auto node = make_node<GradNode<Gradient>>(std::move(params));
  node->set_next_edges(torch::autograd::collect_next_edges(inputs));
  auto outputs = [&] {
    at::AutoDispatchBelowADInplaceOrView guard;
    return compute();
  }();
  torch::autograd::set_history(as_variable_list(outputs), node);
  save(*node, outputs);
  return outputs;
}

// Computes a double-backward op and makes any attempt to differentiate its
// outputs raise, in reverse mode (an Error node) and in forward mode.
template <class Compute>
auto third_order_unsupported(
    const std::string& name, const torch::autograd::variable_list& inputs, Compute&& compute) {
  for (const auto& input : inputs) {
    TORCH_CHECK(
        !tangent_of(input).defined(), "torch_act.", name,
        ": forward-mode AD of the double backward is not implemented (a third-order "
        "derivative, or forward over forward mode through a learnable parameter)");
  }
  auto outputs = [&] {
    at::AutoDispatchBelowADInplaceOrView guard;
    return compute();
  }();
  if (at::GradMode::is_enabled() && torch::autograd::any_variable_requires_grad(inputs)) {
    auto node = make_node<torch::autograd::Error>(
        std::string("torch_act.") + name + ": third-order gradients are not implemented",
        torch::autograd::collect_next_edges(inputs));
    torch::autograd::set_history(as_variable_list(outputs), node);
  }
  return outputs;
}

}  // namespace torch_act
