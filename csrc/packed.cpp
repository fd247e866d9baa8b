// The packed-backward ops of every activation in PackedActivations
// (packed_codes.h): schemas, kernels for every device, Meta kernels, autograd.
//
//   <name>_pack(Tensor self, int bits, <params>) -> (Tensor result, Tensor codes)
//       the activation's output and the input's codes (uint8, packed_codes.h's
//       layout); autograd saves the codes alone.
//   <name>_backward_packed(Tensor grad_output, Tensor codes, int bits, <params>) -> Tensor
//       the gradient from the codes (contiguous); linear in grad_output, so it
//       is its own derivative, which gives double backward w.r.t. grad_output.
//       The input is not in its graph: its second derivative is that of the
//       code, zero (exact for the piecewise-linear activations; for a fitted
//       code, that of the approximation).
//
// Forward-mode AD of <name>_pack is exact (the unpacked backward op applied to
// the tangent): nothing is saved in forward mode.
#include <string>
#include <tuple>

#include <ATen/ATen.h>
#include <c10/core/DeviceGuard.h>
#include <torch/library.h>

#include "autograd_utils.h"
#include "kernel_table.h"
#include "ops.h"
#include "packed_codes.h"

namespace torch_act {
namespace {

using at::Tensor;
using torch::autograd::variable_list;

template <class Act>
std::string packed_op(const char* suffix) {
  return std::string(Act::name) + suffix;
}

// The coder for `bits`, refusing what the activation cannot pack.
template <class Act>
CoderOf<Act> coder_for(const Act& act, int64_t bits) {
  if constexpr (has_gradient_bit<Act>) {
    TORCH_CHECK(
        bits == 1, "torch_act.", Act::name,
        ": the packed backward is exact with 1 bit per "
        "element; bits (backward_bits) must be 1, got ",
        bits);
    return BitCoder<Act>{act};
  } else {
    TORCH_CHECK(
        bits >= 1 && bits <= kMaxCodeBits, "torch_act.", Act::name,
        ": bits (backward_bits) must be 1, 2, 3 or 4, got ", bits);
    return fitted_coder_for(act, static_cast<int>(bits));
  }
}

template <class Act, class Params = typename Act::Params>
struct PackedKernels;

template <class Act, class... P>
struct PackedKernels<Act, std::tuple<P...>> {
  static std::tuple<Tensor, Tensor> pack_meta(const Tensor& self, int64_t bits, P... params) {
    check_floating(self, packed_op<Act>("_pack"), "input");
    coder_for(Act{params...}, bits);
    const c10::SymInt code_bytes = (self.sym_numel() + (kGroupSize - 1)) / kGroupSize * bits;
    return {
        empty_like_input(self), at::empty_symint({code_bytes}, self.options().dtype(at::kByte))};
  }
  static std::tuple<Tensor, Tensor> pack(const Tensor& self, int64_t bits, P... params) {
    Tensor out, codes;
    std::tie(out, codes) = pack_meta(self, bits, params...);
    if (self.numel() == 0) {
      return {out, codes};
    }
    const c10::DeviceGuard guard(self.device());
    const Act act{params...};
    const auto& loops = packed_loops<Act>(self.device());
    // One pass for output and codes where the packing loop computes the
    // output as the forward op does (float compute; the CPU's SIMD loops
    // have no double path, and double vectors round exp differently).
    if (self.is_contiguous() && out.is_contiguous() && self.scalar_type() != at::kDouble) {
      loops.pack(
          self.const_data_ptr(), out.mutable_data_ptr(), codes.mutable_data_ptr<uint8_t>(),
          self.numel(), self.scalar_type(), act, coder_for(act, bits));
    } else {  // the forward op's loops, then the codes in row-major order
      auto iter = make_iter({out}, self);
      unary_loops<Act>(self.device()).forward(iter, act);
      const Tensor x = self.contiguous();
      loops.pack(
          x.const_data_ptr(), nullptr, codes.mutable_data_ptr<uint8_t>(), x.numel(),
          x.scalar_type(), act, coder_for(act, bits));
    }
    return {out, codes};
  }

  static Tensor backward_meta(
      const Tensor& grad_output, const Tensor& codes, int64_t bits, P... params) {
    const std::string op = packed_op<Act>("_backward_packed");
    check_floating(grad_output, op, "grad_output");
    coder_for(Act{params...}, bits);
    TORCH_CHECK(
        codes.scalar_type() == at::kByte, "torch_act.", op, ": expected codes of dtype uint8, got ",
        codes.scalar_type());
    TORCH_CHECK(
        codes.device() == grad_output.device(), "torch_act.", op,
        ": expected codes on the device of grad_output (", grad_output.device(), "), got ",
        codes.device());
    const c10::SymInt code_bytes = (grad_output.sym_numel() + (kGroupSize - 1)) / kGroupSize * bits;
    TORCH_CHECK(
        codes.dim() == 1 && codes.sym_numel() == code_bytes, "torch_act.", op,
        ": expected codes of shape [", code_bytes, "] (", bits, " bytes per 8 elements of ",
        grad_output.sym_sizes(), "), got ", codes.sym_sizes());
    return at::empty_symint(grad_output.sym_sizes(), grad_output.options());
  }
  static Tensor backward(
      const Tensor& grad_output, const Tensor& codes, int64_t bits, P... params) {
    Tensor grad_input = backward_meta(grad_output, codes, bits, params...);
    if (grad_output.numel() > 0) {
      const c10::DeviceGuard guard(grad_output.device());
      const Tensor grad = grad_output.contiguous();
      const Tensor code_bytes = codes.contiguous();
      packed_loops<Act>(grad.device())
          .backward(
              grad_input.mutable_data_ptr(), grad.const_data_ptr(),
              code_bytes.const_data_ptr<uint8_t>(), grad.numel(), grad.scalar_type(),
              coder_for(Act{params...}, bits));
    }
    return grad_input;
  }
};

template <class Act, class Params = typename Act::Params>
struct PackedAutograd;

template <class Act, class... P>
struct PackedAutograd<Act, std::tuple<P...>> {
  using StoredParams = std::tuple<int64_t, Stored<P>...>;  // bits, then Act's

  static auto& pack_op() {
    static auto op =
        find_op(packed_op<Act>("_pack"))
            .template typed<std::tuple<Tensor, Tensor>(const Tensor&, int64_t, P...)>();
    return op;
  }
  static auto& backward_packed_op() {
    static auto op = find_op(packed_op<Act>("_backward_packed"))
                         .template typed<Tensor(const Tensor&, const Tensor&, int64_t, P...)>();
    return op;
  }
  static auto& unpacked_backward_op() {
    static auto op = find_op(packed_op<Act>("_backward"))
                         .template typed<Tensor(const Tensor&, const Tensor&, P...)>();
    return op;
  }
  static Tensor backward_from_codes(
      const Tensor& grad, const Tensor& codes, const StoredParams& stored) {
    return std::apply(
        [&](int64_t bits, const auto&... p) {
          return backward_packed_op().call(grad, codes, bits, P(p)...);
        },
        stored);
  }

  // The node of a pack call, and of a backward_packed call: each maps a
  // gradient g to backward_packed(g, codes).
  template <bool kOfBackward>
  struct FromCodes {
    static constexpr size_t kSaved = 1;  // the codes
    // An exact mask: the gradient is piecewise constant in x (see GradNode).
    static constexpr bool kZeroSecondDerivative = CoderOf<Act>::kExact && !kOfBackward;
    using Params = StoredParams;
    static std::string name() {
      return backward_node_name(packed_op<Act>(kOfBackward ? "_backward_packed" : "_pack"));
    }
    static variable_list apply(
        const variable_list& grads, const std::array<Tensor, 1>& saved, const Params& params,
        const std::vector<bool>&) {
      return {backward_from_codes(grads[0], saved[0], params)};
    }
  };

  static std::tuple<Tensor, Tensor> pack(const Tensor& self, int64_t bits, P... params) {
    const Tensor& self_t = tangent_of(self);
    Tensor out, codes;
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      std::tie(out, codes) = pack_op().call(self, bits, params...);
    }
    if (needs_graph(self)) {
      // Only the output is differentiable: the codes get no history.
      auto node = make_node<GradNode<FromCodes<false>>>(StoredParams(bits, params...));
      node->set_next_edges(torch::autograd::collect_next_edges(self));
      torch::autograd::set_history(out, node);
      node->save(0, codes, /*is_output=*/false);
    }
    if (self_t.defined()) {
      const Tensor& saved = Act::saved == Saved::Output ? out : primal_of(self);
      set_tangent(out, unpacked_backward_op().call(self_t, saved, params...));
    }
    return {out, codes};
  }

  static Tensor backward_packed(
      const Tensor& grad_output, const Tensor& codes, int64_t bits, P... params) {
    const StoredParams stored(bits, params...);
    const Tensor& grad_t = tangent_of(grad_output);
    Tensor grad_input;
    if (needs_graph(grad_output)) {
      grad_input = compute_with_node<FromCodes<true>>(
          {grad_output}, stored,
          [&] { return backward_packed_op().call(grad_output, codes, bits, params...); },
          [&](GradNode<FromCodes<true>>& node, const Tensor&) { node.save(0, codes, false); });
    } else {
      at::AutoDispatchBelowADInplaceOrView guard;
      grad_input = backward_packed_op().call(grad_output, codes, bits, params...);
    }
    if (grad_t.defined()) {
      set_tangent(grad_input, backward_from_codes(grad_t, codes, stored));
    }
    return grad_input;
  }
};

template <class Act>
void define_packed(torch::Library& m) {
  const std::string params = schema_tail(Act::schema_params);
  m.def(
      torch::schema(
          (packed_op<Act>("_pack(Tensor self, int bits") + params + ") -> (Tensor, Tensor)")
              .c_str()));
  m.def(
      torch::schema((packed_op<Act>("_backward_packed(Tensor grad_output, Tensor codes, int bits") +
                     params + ") -> Tensor")
                        .c_str()));
}

template <class Act>
void register_packed_kernels(torch::Library& m, bool meta) {
  using K = PackedKernels<Act>;
  if (meta) {
    m.impl(packed_op<Act>("_pack").c_str(), TORCH_FN(K::pack_meta));
    m.impl(packed_op<Act>("_backward_packed").c_str(), TORCH_FN(K::backward_meta));
  } else {
    m.impl(packed_op<Act>("_pack").c_str(), TORCH_FN(K::pack));
    m.impl(packed_op<Act>("_backward_packed").c_str(), TORCH_FN(K::backward));
  }
}

template <class F>
void for_each_packed(F&& f) {
  for_each_activation(PackedActivations{}, [&](auto* act) { f(act); });
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(torch_act, m) {
  for_each_packed([&](auto* act) { define_packed<std::remove_pointer_t<decltype(act)>>(m); });
}

TORCH_LIBRARY_IMPL(torch_act, CPU, m) {
  for_each_packed(
      [&](auto* act) { register_packed_kernels<std::remove_pointer_t<decltype(act)>>(m, false); });
}

#if defined(TORCH_ACT_WITH_CUDA)
TORCH_LIBRARY_IMPL(torch_act, CUDA, m) {
  for_each_packed(
      [&](auto* act) { register_packed_kernels<std::remove_pointer_t<decltype(act)>>(m, false); });
}
#endif

TORCH_LIBRARY_IMPL(torch_act, Meta, m) {
  for_each_packed(
      [&](auto* act) { register_packed_kernels<std::remove_pointer_t<decltype(act)>>(m, true); });
}

TORCH_LIBRARY_IMPL(torch_act, Autograd, m) {
  for_each_packed([&](auto* act) {
    using A = PackedAutograd<std::remove_pointer_t<decltype(act)>>;
    m.impl(packed_op<std::remove_pointer_t<decltype(act)>>("_pack").c_str(), TORCH_FN(A::pack));
    m.impl(
        packed_op<std::remove_pointer_t<decltype(act)>>("_backward_packed").c_str(),
        TORCH_FN(A::backward_packed));
  });
}

}  // namespace torch_act
