// Helpers shared by the autograd kernels (autograd.cpp, glu.cpp).
#pragma once

#include <memory>
#include <tuple>
#include <type_traits>

#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/functions/basic_ops.h>
#include <torch/csrc/autograd/functions/utils.h>

namespace torch_act {

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

// Computes a double-backward op and makes any attempt to differentiate its
// outputs raise.
template <class Compute>
auto third_order_unsupported(const char* name, const torch::autograd::variable_list& inputs, Compute&& compute) {
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

} // namespace torch_act
