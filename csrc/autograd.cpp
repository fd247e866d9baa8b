// Autograd for every torch_act op, registered at the Autograd key (and, for
// the in-place ops, ADInplaceOrView, which bumps the version counter as
// ATen's in-place ops do).
//
// Every call that needs a graph records a GradNode (autograd_utils.h), the
// cheap typed node, whether it is a forward or a backward op. Every node and
// every tangent formula calls the registered ops through the dispatcher (never
// a raw kernel), so fake tensors, torch.compile, functorch's transforms and
// any backend see the same ops.
//
// Backward ops are themselves differentiable, which gives double backward:
//   * unary:  grad_input = B(g, s) is linear in g, so dB/dg . gg = B(gg, s), and
//             dB/ds . gg comes from <name>_double_backward. When s is the output,
//             autograd chains that on through the forward.
//   * param:  <name>_double_backward returns all three input gradients at once.
// Forward-mode AD (jvp) reuses the same ops:
//   * unary:  y_t = B(x_t, s); the backward op's tangent is B(g_t, s) + DB(s_t, g, s).
//   * param:  y_t = B(x_t, x, p)[0], plus, when p has a tangent, the d/dg output
//             of DB(x_t, p_t, ., x, p), which is fx x_t + fp p_t; the backward
//             op's tangent is B(g_t, x, p) + DB(x_t, p_t, g, x, p)[1:].
// Third-order derivatives are not provided: the double-backward ops' outputs
// get an Error node and refuse tangents, so differentiating them again raises
// instead of silently treating the third derivative as zero.
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

using at::Tensor;
using torch::autograd::variable_list;

// In place, ELU saves its output, which determines the gradient only for alpha >= 0.
template <class Act, class = void>
struct ChecksOutputGradient : std::false_type {};
template <class Act>
struct ChecksOutputGradient<Act, std::void_t<decltype(&Act::output_determines_gradient)>>
    : std::true_type {};

template <class Act, class Params = typename Act::Params>
struct UnaryAutograd;

template <class Act, class... P>
struct UnaryAutograd<Act, std::tuple<P...>> {
  using StoredParams = std::tuple<Stored<P>...>;

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

  // fn(params...) with the stored hyper-parameters.
  template <class Fn>
  static auto with_params(const StoredParams& stored, Fn&& fn) {
    return std::apply([&](const auto&... s) { return fn(P(s)...); }, stored);
  }

  // In place, ELU's gradient comes from the saved output (EluResult), which
  // determines it only for alpha >= 0; torch refuses that case too.
  static void check_inplace_gradient_supported(P... params) {
    if constexpr (ChecksOutputGradient<InplaceAct>::value) {
      TORCH_CHECK(
          InplaceAct{params...}.output_determines_gradient(), "torch_act.", Act::name,
          "_: in place, the gradient is computed from the saved output, which needs "
          "alpha >= 0 (out of place, any alpha works)");
    }
  }

  // The node of a forward call, out of place or in place: d/d(input).
  struct Gradient {
    static constexpr size_t kSaved = 1;
    using Params = StoredParams;
    static std::string name() { return backward_node_name(Act::name); }
    static variable_list apply(
        const variable_list& grads, const std::array<Tensor, 1>& saved, const Params& params,
        const std::vector<bool>&) {
      return {with_params(
          params, [&](P... p) { return backward_op().call(grads[0], saved[0], p...); })};
    }
  };

  // What an in-place call saves and which node it records: Act's own, or,
  // where the in-place op saves the output instead (ELU, SELU, CELU,
  // Hardtanh, ReLU6), those of Act::InplaceGradient (its node is, e.g.,
  // "torch_act::elu_result_backward").
  using InplaceAct = typename InplaceGradientOf<Act>::type;
  static constexpr bool kOwnInplaceGradient = std::is_same_v<InplaceAct, Act>;
  static constexpr Saved kInplaceSaved = InplaceAct::saved;
  struct OwnNode {
    using type = Gradient;
  };
  template <class Other>
  struct NodeOf {
    using type = typename UnaryAutograd<Other>::Gradient;
  };
  using InplaceGradient =
      typename std::conditional_t<kOwnInplaceGradient, OwnNode, NodeOf<InplaceAct>>::type;
  static auto& inplace_backward_op() {
    if constexpr (kOwnInplaceGradient) {
      return backward_op();
    } else {
      return UnaryAutograd<InplaceAct>::backward_op();
    }
  }

  // The node of a backward call B(grad_output, saved): d/d(grad_output) and d/d(saved).
  struct BackwardGradient {
    static constexpr size_t kSaved = 2;  // grad_output, saved
    using Params = StoredParams;
    static std::string name() { return backward_node_name(std::string(Act::name) + "_backward"); }
    static variable_list apply(
        const variable_list& grads, const std::array<Tensor, 2>& saved, const Params& params,
        const std::vector<bool>& needed) {
      const Tensor& grad_grad_input = grads[0];
      return with_params(params, [&](P... p) -> variable_list {
        return {
            needed[0] ? backward_op().call(grad_grad_input, saved[1], p...) : Tensor(),
            needed[1] ? double_backward_op().call(grad_grad_input, saved[0], saved[1], p...)
                      : Tensor()};
      });
    }
  };

  static Tensor forward_autograd(const Tensor& self, P... params) {
    const Tensor& self_t = tangent_of(self);
    // Set before the node saves the output: a saved output keeps the tangent
    // it has then, which forward-over-reverse differentiation reads.
    auto set_output_tangent = [&](const Tensor& out) {
      if (self_t.defined()) {
        const Tensor& saved = Act::saved == Saved::Output ? out : primal_of(self);
        set_tangent(out, backward_op().call(self_t, saved, params...));
      }
    };
    if (!needs_graph(self)) {
      Tensor out;
      {
        at::AutoDispatchBelowADInplaceOrView guard;
        out = forward_op().call(self, params...);
      }
      set_output_tangent(out);
      return out;
    }
    return compute_with_node<Gradient>(
        {self}, StoredParams(params...), [&] { return forward_op().call(self, params...); },
        [&](GradNode<Gradient>& node, const Tensor& out) {
          set_output_tangent(out);
          const bool saves_output = Act::saved == Saved::Output;
          node.save(0, saves_output ? out : self, saves_output);
        });
  }

  static void forward_inplace_autograd(const Tensor& self, P... params) {
    const bool needs_grad = at::GradMode::is_enabled() && self.requires_grad();
    torch::autograd::check_inplace(self, needs_grad);
    Tensor self_t = tangent_of(self);
    if (needs_grad || self_t.defined()) {
      check_inplace_gradient_supported(params...);
    }
    // A tangent from the input is taken before the op overwrites it.
    Tensor new_self_t;
    if (self_t.defined() && kInplaceSaved == Saved::Input) {
      new_self_t = inplace_backward_op().call(self_t, primal_of(self), params...);
    }
    auto update_tangent = [&] {
      if (!self_t.defined()) {
        return;
      }
      if constexpr (kInplaceSaved == Saved::Output) {
        new_self_t = inplace_backward_op().call(self_t, primal_of(self), params...);
      }
      // As ATen's in-place ops: the tangent is updated in place, then set
      // again so a view's base sees it.
      self_t.copy_(new_self_t);
      self._set_fw_grad(self_t, /*level=*/0, /*is_inplace_op=*/true);
    };
    // Below Autograd only: the ADInplaceOrView kernel bumps the version.
    if (!needs_grad) {
      at::AutoDispatchBelowAutograd guard;
      forward_inplace_op().call(self, params...);
    } else {
      // Backward from the input needs the values this op overwrites: a copy,
      // taken through autograd so that double backward reaches self's history
      // before the op through it (a detached copy silently dropped that term).
      Tensor input;
      if constexpr (kInplaceSaved == Saved::Input) {
        input = self.clone();
      }
      // As ATen's in-place ops: the node's edges are self's history before the
      // op, then self (or, for a view, its base through CopySlices) is rebased
      // onto the node.
      auto node = make_node<GradNode<InplaceGradient>>(StoredParams(params...));
      node->set_next_edges(torch::autograd::collect_next_edges(self));
      {
        at::AutoDispatchBelowAutograd guard;
        forward_inplace_op().call(self, params...);
      }
      torch::autograd::rebase_history(self, node);
      // The tangent first: a saved output keeps the tangent it has when saved.
      update_tangent();
      if constexpr (kInplaceSaved == Saved::Output) {
        node->save(0, self, /*is_output=*/true, /*is_inplace_on_view=*/self.is_view());
      } else {
        node->save(0, input, /*is_output=*/false);
      }
      return;
    }
    update_tangent();
  }

  static void forward_inplace_ad_view(const Tensor& self, P... params) {
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      forward_inplace_op().call(self, params...);
    }
    // Refuses an inference tensor outside inference mode, as torch does.
    torch::autograd::increment_version(self);
  }

  static Tensor backward_autograd(const Tensor& grad_output, const Tensor& saved, P... params) {
    Tensor grad_input;
    if (!needs_graph(grad_output, saved)) {
      at::AutoDispatchBelowADInplaceOrView guard;
      grad_input = backward_op().call(grad_output, saved, params...);
    } else {
      grad_input = compute_with_node<BackwardGradient>(
          {grad_output, saved}, StoredParams(params...),
          [&] { return backward_op().call(grad_output, saved, params...); },
          [&](GradNode<BackwardGradient>& node, const Tensor&) {
            node.save(0, grad_output, /*is_output=*/false);
            node.save(1, saved, /*is_output=*/false);
          });
    }
    if (any_tangent(grad_output, saved)) {
      const Tensor& grad_output_t = tangent_of(grad_output);
      const Tensor& saved_t = tangent_of(saved);
      const Tensor saved_p = primal_of(saved);
      Tensor tangent;
      if (grad_output_t.defined()) {
        tangent = backward_op().call(grad_output_t, saved_p, params...);
      }
      if (saved_t.defined()) {
        tangent = add_tangents(
            tangent,
            double_backward_op().call(saved_t, primal_of(grad_output), saved_p, params...));
      }
      set_tangent(grad_input, tangent);
    }
    return grad_input;
  }

  static Tensor double_backward_autograd(
      const Tensor& grad_grad_input, const Tensor& grad_output, const Tensor& saved, P... params) {
    return third_order_unsupported(Act::name, {grad_grad_input, grad_output, saved}, [&] {
      return double_backward_op().call(grad_grad_input, grad_output, saved, params...);
    });
  }

  static void register_autograd(torch::Library& m) {
    if constexpr (has_forward_ops<Act>) {
      m.impl(Act::name, TORCH_FN(forward_autograd));
    }
    if constexpr (Act::has_inplace) {
      m.impl((std::string(Act::name) + "_").c_str(), TORCH_FN(forward_inplace_autograd));
    }
    m.impl((std::string(Act::name) + "_backward").c_str(), TORCH_FN(backward_autograd));
    m.impl(
        (std::string(Act::name) + "_double_backward").c_str(), TORCH_FN(double_backward_autograd));
  }
  static void register_ad_view(torch::Library& m) {
    if constexpr (Act::has_inplace) {
      m.impl((std::string(Act::name) + "_").c_str(), TORCH_FN(forward_inplace_ad_view));
    }
  }
};

// The param-like ops: PReLU, learnable Swish, and the gated and bias ops,
// whose P... are their activation's hyper-parameters.
template <class Act, class Params = ParamsOf<Act>>
struct ParamAutograd;

template <class Act, class... P>
struct ParamAutograd<Act, std::tuple<P...>> {
  using Pair = std::tuple<Tensor, Tensor>;
  using Triple = std::tuple<Tensor, Tensor, Tensor>;
  using StoredParams = std::tuple<Stored<P>...>;

  static auto& forward_op() {
    static auto op = find_op(std::string(Act::name), Act::overload)
                         .template typed<Tensor(const Tensor&, const Tensor&, P...)>();
    return op;
  }
  static auto& backward_op() {
    static auto op = find_op(std::string(Act::name) + "_backward", Act::overload)
                         .template typed<Pair(const Tensor&, const Tensor&, const Tensor&, P...)>();
    return op;
  }
  static auto& double_backward_op() {
    static auto op =
        find_op(std::string(Act::name) + "_double_backward", Act::overload)
            .template typed<Triple(
                const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, P...)>();
    return op;
  }

  template <class Fn>
  static auto with_params(const StoredParams& stored, Fn&& fn) {
    return std::apply([&](const auto&... s) { return fn(P(s)...); }, stored);
  }

  // The node of a forward call: d/d(input) and d/d(param).
  struct Gradient {
    static constexpr size_t kSaved = 2;  // input, param
    using Params = StoredParams;
    static std::string name() { return backward_node_name(Act::name); }
    static variable_list apply(
        const variable_list& grads, const std::array<Tensor, 2>& saved, const Params& params,
        const std::vector<bool>&) {
      return with_params(params, [&](P... p) {
        return as_variable_list(backward_op().call(grads[0], saved[0], saved[1], p...));
      });
    }
  };

  // The node of a backward call: d/d(grad_output), d/d(input), d/d(param),
  // given the gradients of its two outputs (an unused one counts as zero).
  struct BackwardGradient {
    static constexpr size_t kSaved = 3;  // grad_output, input, param
    using Params = StoredParams;
    static std::string name() { return backward_node_name(std::string(Act::name) + "_backward"); }
    static variable_list apply(
        const variable_list& grads, const std::array<Tensor, 3>& saved, const Params& params,
        const std::vector<bool>&) {
      const auto& [grad_output, self, param] = saved;
      return with_params(params, [&](P... p) {
        return as_variable_list(
            double_backward_op().call(
                tangent_or_zeros(grads[0], self), tangent_or_zeros(grads[1], param), grad_output,
                self, param, p...));
      });
    }
  };

  static Tensor forward_autograd(const Tensor& self, const Tensor& param, P... params) {
    Tensor out;
    if (!needs_graph(self, param)) {
      at::AutoDispatchBelowADInplaceOrView guard;
      out = forward_op().call(self, param, params...);
    } else {
      out = compute_with_node<Gradient>(
          {self, param}, StoredParams(params...),
          [&] { return forward_op().call(self, param, params...); },
          [&](GradNode<Gradient>& node, const Tensor&) {
            node.save(0, self, /*is_output=*/false);
            node.save(1, param, /*is_output=*/false);
          });
    }
    if (any_tangent(self, param)) {
      const Tensor& self_t = tangent_of(self);
      const Tensor& param_t = tangent_of(param);
      const Tensor self_p = primal_of(self);
      const Tensor param_p = primal_of(param);
      Tensor tangent;
      if (!param_t.defined()) {
        tangent = std::get<0>(backward_op().call(self_t, self_p, param_p, params...));
      } else {
        // d/d(grad_output) of the double backward: fx x_t + fp p_t.
        tangent = std::get<0>(double_backward_op().call(
            tangent_or_zeros(self_t, self_p), param_t, at::zeros_like(self_p), self_p, param_p,
            params...));
      }
      set_tangent(out, tangent);
    }
    return out;
  }

  static Pair backward_autograd(
      const Tensor& grad_output, const Tensor& self, const Tensor& param, P... params) {
    Pair grads;
    if (!needs_graph(grad_output, self, param)) {
      at::AutoDispatchBelowADInplaceOrView guard;
      grads = backward_op().call(grad_output, self, param, params...);
    } else {
      grads = compute_with_node<BackwardGradient>(
          {grad_output, self, param}, StoredParams(params...),
          [&] { return backward_op().call(grad_output, self, param, params...); },
          [&](GradNode<BackwardGradient>& node, const Pair&) {
            node.save(0, grad_output, /*is_output=*/false);
            node.save(1, self, /*is_output=*/false);
            node.save(2, param, /*is_output=*/false);
          });
    }
    if (any_tangent(grad_output, self, param)) {
      const Tensor& grad_output_t = tangent_of(grad_output);
      const Tensor& self_t = tangent_of(self);
      const Tensor& param_t = tangent_of(param);
      const Tensor self_p = primal_of(self);
      const Tensor param_p = primal_of(param);
      Tensor grad_self_t, grad_param_t;
      if (grad_output_t.defined()) {
        std::tie(grad_self_t, grad_param_t) =
            backward_op().call(grad_output_t, self_p, param_p, params...);
      }
      if (self_t.defined() || param_t.defined()) {
        auto [unused, d_self, d_param] = double_backward_op().call(
            tangent_or_zeros(self_t, self_p), tangent_or_zeros(param_t, param_p),
            primal_of(grad_output), self_p, param_p, params...);
        grad_self_t = add_tangents(grad_self_t, d_self);
        grad_param_t = add_tangents(grad_param_t, d_param);
      }
      set_tangent(std::get<0>(grads), grad_self_t);
      set_tangent(std::get<1>(grads), grad_param_t);
    }
    return grads;
  }

  static Triple double_backward_autograd(
      const Tensor& grad_grad_input, const Tensor& grad_grad_param, const Tensor& grad_output,
      const Tensor& self, const Tensor& param, P... params) {
    return third_order_unsupported(
        Act::name, {grad_grad_input, grad_grad_param, grad_output, self, param}, [&] {
          return double_backward_op().call(
              grad_grad_input, grad_grad_param, grad_output, self, param, params...);
        });
  }

  // <name>_backward_ overwrites the inputs it was given: not differentiable,
  // it runs inside a backward pass (grad mode off), and bumps both versions so
  // anything else that saved gate or up raises instead of reading gradients.
  static void backward_into_inputs_autograd(
      const Tensor& grad_output, const Tensor& self, const Tensor& param, P... params) {
    TORCH_CHECK(
        !needs_graph(grad_output, self, param) && !any_tangent(grad_output, self, param),
        "torch_act.", Act::name, "_backward_ is not differentiable: it overwrites its inputs ",
        "with their gradients; call it with grad mode off (double backward uses ", Act::name,
        "_backward)");
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      static auto op =
          find_op(std::string(Act::name) + "_backward_")
              .template typed<void(const Tensor&, const Tensor&, const Tensor&, P...)>();
      op.call(grad_output, self, param, params...);
    }
    torch::autograd::increment_version(self);
    torch::autograd::increment_version(param);
  }

  static void register_autograd(torch::Library& m) {
    if constexpr (writes_grad_into_inputs<Act>) {
      m.impl(param_op_name<Act>("_backward_").c_str(), TORCH_FN(backward_into_inputs_autograd));
    }
    m.impl(param_op_name<Act>("").c_str(), TORCH_FN(forward_autograd));
    m.impl(param_op_name<Act>("_backward").c_str(), TORCH_FN(backward_autograd));
    m.impl(param_op_name<Act>("_double_backward").c_str(), TORCH_FN(double_backward_autograd));
  }
};

}  // namespace

TORCH_LIBRARY_IMPL(torch_act, Autograd, m) {
  for_each_activation(UnaryActivations{}, [&](auto* act) {
    UnaryAutograd<std::remove_pointer_t<decltype(act)>>::register_autograd(m);
  });
  for_each_activation(ParamLikeActivations{}, [&](auto* act) {
    ParamAutograd<std::remove_pointer_t<decltype(act)>>::register_autograd(m);
  });
}

TORCH_LIBRARY_IMPL(torch_act, ADInplaceOrView, m) {
  for_each_activation(UnaryActivations{}, [&](auto* act) {
    UnaryAutograd<std::remove_pointer_t<decltype(act)>>::register_ad_view(m);
  });
}

}  // namespace torch_act
