// Autograd for every torch_act op, registered at the Autograd key.
//
// A forward call, out of place or in place, records a GradNode
// (autograd_utils.h), the cheap typed node; backward ops (double backward),
// rarer, use torch::autograd::Function. Every node calls the registered ops through the
// dispatcher (never a raw kernel), so fake tensors, torch.compile and any
// backend see the same ops.
// Backward ops are themselves differentiable, which gives double backward:
//   * unary:  grad_input = B(g, s) is linear in g, so dB/dg . gg = B(gg, s), and
//             dB/ds . gg comes from <name>_double_backward. When s is the output,
//             autograd chains that on through the forward.
//   * param:  <name>_double_backward returns all three input gradients at once.
// Third-order gradients are not provided: the double-backward ops' outputs get
// an Error node, so differentiating them again raises instead of silently
// treating the third derivative as zero.
#include <array>
#include <string>
#include <tuple>
#include <type_traits>

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/VariableTypeUtils.h>
#include <torch/library.h>

#include "autograd_utils.h"
#include "ops.h"

namespace torch_act {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::Function;
using torch::autograd::variable_list;
using at::Tensor;

c10::OperatorHandle find_op(const std::string& name, const char* overload = "") {
  return c10::Dispatcher::singleton().findSchemaOrThrow(("torch_act::" + name).c_str(), overload);
}

// Hyper-parameters travel through ctx->saved_data as IValues.
inline c10::IValue to_ivalue(double v) { return v; }
inline c10::IValue to_ivalue(std::string_view v) { return std::string(v); }
template <class P>
using Stored = std::conditional_t<std::is_same_v<P, std::string_view>, std::string, P>;

template <class... P>
void save_params(AutogradContext* ctx, const P&... params) {
  int i = 0;
  ((ctx->saved_data["param" + std::to_string(i++)] = to_ivalue(params)), ...);
}

template <class... P, size_t... I>
std::tuple<Stored<P>...> load_params(AutogradContext* ctx, std::index_sequence<I...>) {
  return {ctx->saved_data["param" + std::to_string(I)].template to<Stored<P>>()...};
}

// ELU saves its output, which determines the gradient only for alpha >= 0.
template <class Act, class = void>
struct ChecksOutputGradient : std::false_type {};
template <class Act>
struct ChecksOutputGradient<Act, std::void_t<decltype(&Act::output_determines_gradient)>>
    : std::true_type {};

template <class Act, class Params = typename Act::Params>
struct UnaryAutograd;

template <class Act, class... P>
struct UnaryAutograd<Act, std::tuple<P...>> {
  static auto& forward_op() {
    static auto op = find_op(Act::name).template typed<Tensor(const Tensor&, P...)>();
    return op;
  }
  static auto& forward_inplace_op() {
    static auto op =
        find_op(std::string(Act::name) + "_").template typed<void(const Tensor&, P...)>();
    return op;
  }
  static auto& backward_op() {
    static auto op = find_op(std::string(Act::name) + "_backward")
                         .template typed<Tensor(const Tensor&, const Tensor&, P...)>();
    return op;
  }
  static auto& double_backward_op() {
    static auto op =
        find_op(std::string(Act::name) + "_double_backward")
            .template typed<Tensor(const Tensor&, const Tensor&, const Tensor&, P...)>();
    return op;
  }

  static void check_gradient_supported(P... params) {
    if constexpr (ChecksOutputGradient<Act>::value) {
      TORCH_CHECK(
          Act{params...}.output_determines_gradient(), "torch_act.", Act::name,
          ": the gradient is computed from the saved output, which needs alpha >= 0");
    }
  }

  template <class Fn>
  static variable_list with_params(AutogradContext* ctx, Fn&& fn) {
    auto stored = load_params<P...>(ctx, std::index_sequence_for<P...>{});
    return std::apply([&](const auto&... s) { return fn(P(s)...); }, stored);
  }

  // The gradient of the first-order backward B(grad_output, saved).
  struct Backward : Function<Backward> {
    static Tensor forward(
        AutogradContext* ctx, const Tensor& grad_output, const Tensor& saved, P... params) {
      at::AutoDispatchBelowADInplaceOrView guard;
      ctx->save_for_backward({grad_output, saved});
      save_params(ctx, params...);
      return backward_op().call(grad_output, saved, params...);
    }
    static variable_list backward(AutogradContext* ctx, variable_list grads) {
      auto vars = ctx->get_saved_variables();
      const Tensor& grad_grad_input = grads[0];
      return with_params(ctx, [&](P... params) -> variable_list {
        return {
            backward_op().call(grad_grad_input, vars[1], params...),
            double_backward_op().call(grad_grad_input, vars[0], vars[1], params...),
            (static_cast<void>(params), Tensor())...};
      });
    }
  };

  // The graph node a call records (GradNode), out of place or in place.
  struct Gradient {
    static constexpr size_t kSaved = 1;
    using Params = std::tuple<Stored<P>...>;
    static std::string name() { return backward_node_name(Act::name); }
    static variable_list apply(
        const Tensor& grad_output, const std::array<Tensor, 1>& saved, const Params& params) {
      return {std::apply(
          [&](const auto&... p) { return backward_autograd(grad_output, saved[0], P(p)...); },
          params)};
    }
  };

  static Tensor forward_autograd(const Tensor& self, P... params) {
    if (!needs_graph(self)) {
      at::AutoDispatchBelowADInplaceOrView guard;
      return forward_op().call(self, params...);
    }
    check_gradient_supported(params...);
    return compute_with_node<Gradient>(
        {self}, typename Gradient::Params(params...),
        [&] { return forward_op().call(self, params...); },
        [&](GradNode<Gradient>& node, const Tensor& out) {
          const bool saves_output = Act::saved == Saved::Output;
          node.save(0, saves_output ? out : self, saves_output);
        });
  }

  static void forward_inplace_autograd(const Tensor& self, P... params) {
    const bool needs_grad = at::GradMode::is_enabled() && self.requires_grad();
    torch::autograd::check_inplace(self, needs_grad);
    if (!needs_grad) {
      {
        at::AutoDispatchBelowADInplaceOrView guard;
        forward_inplace_op().call(self, params...);
      }
      torch::autograd::increment_version(self);
      return;
    }
    check_gradient_supported(params...);
    // Backward from the input needs the values this op overwrites: a copy,
    // taken through autograd so that double backward reaches self's history
    // before the op through it (a detached copy silently dropped that term).
    Tensor input;
    if constexpr (Act::saved == Saved::Input) {
      input = self.clone();
    }
    // As ATen's in-place ops: the node's edges are self's history before the
    // op, then self (or, for a view, its base through CopySlices) is rebased
    // onto the node.
    auto node = make_node<GradNode<Gradient>>(typename Gradient::Params(params...));
    node->set_next_edges(torch::autograd::collect_next_edges(self));
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      forward_inplace_op().call(self, params...);
    }
    torch::autograd::increment_version(self);
    torch::autograd::rebase_history(self, node);
    if constexpr (Act::saved == Saved::Output) {
      node->save(0, self, /*is_output=*/true, /*is_inplace_on_view=*/self.is_view());
    } else {
      node->save(0, input, /*is_output=*/false);
    }
  }

  static Tensor backward_autograd(const Tensor& grad_output, const Tensor& saved, P... params) {
    if (!needs_graph(grad_output, saved)) {
      at::AutoDispatchBelowADInplaceOrView guard;
      return backward_op().call(grad_output, saved, params...);
    }
    return Backward::apply(grad_output, saved, params...);
  }

  static Tensor double_backward_autograd(
      const Tensor& grad_grad_input, const Tensor& grad_output, const Tensor& saved,
      P... params) {
    return third_order_unsupported(
        Act::name, {grad_grad_input, grad_output, saved},
        [&] { return double_backward_op().call(grad_grad_input, grad_output, saved, params...); });
  }

  static void register_kernels(torch::Library& m) {
    m.impl(Act::name, TORCH_FN(forward_autograd));
    if constexpr (Act::has_inplace) {
      m.impl((std::string(Act::name) + "_").c_str(), TORCH_FN(forward_inplace_autograd));
    }
    m.impl((std::string(Act::name) + "_backward").c_str(), TORCH_FN(backward_autograd));
    m.impl(
        (std::string(Act::name) + "_double_backward").c_str(), TORCH_FN(double_backward_autograd));
  }
};

template <class Act>
struct ParamAutograd {
  using Pair = std::tuple<Tensor, Tensor>;
  using Triple = std::tuple<Tensor, Tensor, Tensor>;

  static auto& forward_op() {
    static auto op = find_op(Act::name, Act::overload)
                         .template typed<Tensor(const Tensor&, const Tensor&)>();
    return op;
  }
  static auto& backward_op() {
    static auto op = find_op(std::string(Act::name) + "_backward", Act::overload)
                         .template typed<Pair(const Tensor&, const Tensor&, const Tensor&)>();
    return op;
  }
  static auto& double_backward_op() {
    static auto op =
        find_op(std::string(Act::name) + "_double_backward", Act::overload)
            .template typed<Triple(
                const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&)>();
    return op;
  }

  struct Backward : Function<Backward> {
    static variable_list forward(
        AutogradContext* ctx, const Tensor& grad_output, const Tensor& self,
        const Tensor& param) {
      at::AutoDispatchBelowADInplaceOrView guard;
      ctx->save_for_backward({grad_output, self, param});
      auto [grad_self, grad_param] = backward_op().call(grad_output, self, param);
      return {grad_self, grad_param};
    }
    static variable_list backward(AutogradContext* ctx, variable_list grads) {
      auto vars = ctx->get_saved_variables();
      auto [g_grad_output, g_self, g_param] =
          double_backward_op().call(grads[0], grads[1], vars[0], vars[1], vars[2]);
      return {g_grad_output, g_self, g_param};
    }
  };

  // The graph node a forward call records (GradNode).
  struct Gradient {
    static constexpr size_t kSaved = 2;
    using Params = std::tuple<>;
    static std::string name() { return backward_node_name(Act::name); }
    static variable_list apply(
        const Tensor& grad_output, const std::array<Tensor, 2>& saved, const Params&) {
      return as_variable_list(backward_autograd(grad_output, saved[0], saved[1]));
    }
  };

  static Tensor forward_autograd(const Tensor& self, const Tensor& param) {
    if (!needs_graph(self, param)) {
      at::AutoDispatchBelowADInplaceOrView guard;
      return forward_op().call(self, param);
    }
    return compute_with_node<Gradient>(
        {self, param}, {}, [&] { return forward_op().call(self, param); },
        [&](GradNode<Gradient>& node, const Tensor&) {
          node.save(0, self, /*is_output=*/false);
          node.save(1, param, /*is_output=*/false);
        });
  }
  static Pair backward_autograd(
      const Tensor& grad_output, const Tensor& self, const Tensor& param) {
    if (!needs_graph(grad_output, self, param)) {
      at::AutoDispatchBelowADInplaceOrView guard;
      return backward_op().call(grad_output, self, param);
    }
    auto grads = Backward::apply(grad_output, self, param);
    return {grads[0], grads[1]};
  }

  static Triple double_backward_autograd(
      const Tensor& grad_grad_input, const Tensor& grad_grad_param, const Tensor& grad_output,
      const Tensor& self, const Tensor& param) {
    return third_order_unsupported(
        Act::name, {grad_grad_input, grad_grad_param, grad_output, self, param}, [&] {
          return double_backward_op().call(grad_grad_input, grad_grad_param, grad_output, self, param);
        });
  }

  static void register_kernels(torch::Library& m) {
    auto name = [](const char* suffix) {
      std::string op = std::string(Act::name) + suffix;
      return Act::overload[0] == '\0' ? op : op + "." + Act::overload;
    };
    m.impl(name("").c_str(), TORCH_FN(forward_autograd));
    m.impl(name("_backward").c_str(), TORCH_FN(backward_autograd));
    m.impl(name("_double_backward").c_str(), TORCH_FN(double_backward_autograd));
  }
};

} // namespace

TORCH_LIBRARY_IMPL(torch_act, Autograd, m) {
  for_each_activation(UnaryActivations{}, [&](auto* act) {
    UnaryAutograd<std::remove_pointer_t<decltype(act)>>::register_kernels(m);
  });
  for_each_activation(ParamActivations{}, [&](auto* act) {
    ParamAutograd<std::remove_pointer_t<decltype(act)>>::register_kernels(m);
  });
}

} // namespace torch_act
