// The op table: which activations exist and in which family, and the shape of
// the kernel tables every device fills for them.
//
// Adding an activation: write its functor in activations.h and add it to one
// of the lists below. Schemas, CPU, CUDA and Meta kernels, and autograd are
// generated from the functor for every op the list names.
//
// No ATen here: the CUDA sources (csrc/cuda/*.cu) include this file too.
#pragma once

#include <tuple>
#include <type_traits>

#include "activations.h"

namespace torch_act {

template <class... Activations>
struct TypeList {};

// y = f(x; fixed hyper-parameters): ops <name>, <name>_ (if has_inplace),
// <name>_backward, <name>_double_backward.
// The *Result functors are backward-only (the in-place ops' gradients from
// the output; see activations.h).
using UnaryActivations = TypeList<
    Sigmoid, Tanh, Relu, LeakyRelu, Elu, EluResult, Selu, SeluResult, Silu, Swish, Gelu, Celu,
    CeluResult, Mish, Softplus, Softsign, Hardsigmoid, Hardswish, Hardtanh, HardtanhResult, Relu6,
    Relu6Result, LogSigmoid, Tanhshrink, Softshrink, Hardshrink, Threshold, QuickGelu, SquaredRelu>;

// Whether Act has forward ops (<name>, <name>_), or only backward ones.
template <class Act, class = void>
struct HasForwardOps : std::true_type {};
template <class Act>
struct HasForwardOps<Act, std::void_t<decltype(Act::backward_only)>>
    : std::bool_constant<!Act::backward_only> {};
template <class Act>
constexpr bool has_forward_ops = HasForwardOps<Act>::value;

// The functor whose backward an in-place call's node runs: Act's own, or
// Act::InplaceGradient where the in-place op saves something else.
template <class Act, class = void>
struct InplaceGradientOf {
  using type = Act;
};
template <class Act>
struct InplaceGradientOf<Act, std::void_t<typename Act::InplaceGradient>> {
  using type = typename Act::InplaceGradient;
};

// y = f(x, p) with a learnable tensor p broadcast over x: ops <name>,
// <name>_backward, <name>_double_backward (overload Act::overload).
using ParamActivations = TypeList<Prelu, SwishLearnable, RreluWithNoise>;

// f(a, b) over the two halves of the input (glu.cpp): the same kernel shapes
// as the param ops, registered with their own schemas.
using SplitActivations = TypeList<Glu>;

template <class... Lists>
struct Concat;
template <class... A>
struct Concat<TypeList<A...>> {
  using type = TypeList<A...>;
};
template <class... A, class... B, class... Rest>
struct Concat<TypeList<A...>, TypeList<B...>, Rest...> {
  using type = typename Concat<TypeList<A..., B...>, Rest...>::type;
};

// Whether Act is built on a unary activation (Gated, BiasAct: Act::Unary).
template <class Act, class = void>
struct IsBuiltOnUnary : std::false_type {};
template <class Act>
struct IsBuiltOnUnary<Act, std::void_t<typename Act::Unary>> : std::true_type {};
template <class Act>
constexpr bool is_built_on_unary = IsBuiltOnUnary<Act>::value;

// Whether Act's backward can write its gradients into its inputs (a gated
// unit's gate and up: same shape, elementwise; op <name>_backward_).
template <class Act>
struct WritesGradIntoInputs : std::false_type {};
template <class Unary>
struct WritesGradIntoInputs<Gated<Unary>> : std::true_type {};
template <class Act>
constexpr bool writes_grad_into_inputs = WritesGradIntoInputs<Act>::value;

// Gated units f(gate) * up (ops <name>_glu) and fused bias + activation
// f(x + bias) (ops bias_<name>), with the param ops' kernel shapes
// (param_ops.cpp). Each entry is a fused kernel for every device and dtype,
// so the lists hold the activations models use there; torch_act.functional's
// glu_act and bias_act compose the unary op for any other.
using GatedActivations = TypeList<
    Gated<Sigmoid>, Gated<Tanh>, Gated<Relu>, Gated<LeakyRelu>, Gated<Elu>, Gated<Silu>,
    Gated<Gelu>, Gated<Mish>, Gated<Softplus>, Gated<Hardswish>, Gated<QuickGelu>,
    Gated<SquaredRelu>>;
using BiasActivations = TypeList<
    BiasAct<Sigmoid>, BiasAct<Tanh>, BiasAct<Relu>, BiasAct<LeakyRelu>, BiasAct<Silu>,
    BiasAct<Gelu>, BiasAct<Mish>, BiasAct<QuickGelu>, BiasAct<SquaredRelu>>;

// Every two-input functor, in the order of the kernel tables.
using BinaryActivations =
    Concat<ParamActivations, SplitActivations, GatedActivations, BiasActivations>::type;
// The ops built on param_ops.cpp's kernels and autograd.
using ParamLikeActivations = Concat<ParamActivations, GatedActivations, BiasActivations>::type;

template <class Act, class... Listed>
constexpr bool listed_in(TypeList<Listed...>) {
  return (std::is_same_v<Act, Listed> || ...);
}

// One Entry<Act> per activation of a list, looked up by activation: the
// smaller per-device tables (CPU column sums, CUDA per-channel launchers).
template <template <class> class Entry, class List>
struct TableOf;
template <template <class> class Entry, class... Activations>
struct TableOf<Entry, TypeList<Activations...>> {
  std::tuple<Entry<Activations>...> entries;
  template <class Act>
  const Entry<Act>& get() const {
    return std::get<Entry<Act>>(entries);
  }
};

template <class... Activations, class F>
void for_each_activation(TypeList<Activations...>, F&& f) {
  (f(static_cast<Activations*>(nullptr)), ...);
}

// The loops of one activation. `Iter` describes the elements to run over,
// outputs first, then inputs: an at::TensorIteratorBase in the table the ops
// call (kernel_table.h), a flattened launch description in the CUDA
// launchers (cuda/launch.h).
template <class Act, class Iter>
struct UnaryLoops {
  using Activation = Act;
  static constexpr bool kUnary = true;
  template <class Other>
  using WithIter = UnaryLoops<Act, Other>;
  void (*forward)(Iter&, const Act&);          // (y) <- (x)
  void (*backward)(Iter&, const Act&);         // (gx) <- (g, s)
  void (*double_backward)(Iter&, const Act&);  // (gs) <- (gg, g, s)
};

// Two-input functors: a learnable parameter p broadcast over x, or GLU's halves.
template <class Act, class Iter>
struct BinaryLoops {
  using Activation = Act;
  static constexpr bool kUnary = false;
  template <class Other>
  using WithIter = BinaryLoops<Act, Other>;
  void (*forward)(Iter&, const Act&);          // (y) <- (x, p)
  void (*backward)(Iter&, const Act&);         // (gx, gp) <- (g, x, p)
  void (*double_backward)(Iter&, const Act&);  // (gg, gx, gp) <- (ggx, ggp, g, x, p)
};

// Every activation's loops for one device (and, on the CPU, one ISA).
template <class Iter, class Unary = UnaryActivations, class Binary = BinaryActivations>
struct KernelTableFor;

template <class Iter, class... Unary, class... Binary>
struct KernelTableFor<Iter, TypeList<Unary...>, TypeList<Binary...>> {
  std::tuple<UnaryLoops<Unary, Iter>..., BinaryLoops<Binary, Iter>...> loops;

  // The loops of one activation: UnaryLoops<Act, Iter> or BinaryLoops<Act, Iter>.
  template <class Loops>
  const Loops& get() const {
    return std::get<Loops>(loops);
  }

  // Fills every entry with make(&entry), overloaded on the entry's type.
  template <class Make>
  static KernelTableFor build(Make&& make) {
    KernelTableFor table;
    std::apply([&](auto&... entry) { ((entry = make(&entry)), ...); }, table.loops);
    return table;
  }
};

// The functor methods a loop evaluates. Each knows its entry in the loops
// (slot) and its operand counts for unary ([0]) and two-input ([1])
// activations, so the CPU and CUDA tables are filled by the same rule.
template <class Act>
struct Forward {
  Act act;
  template <class... T>
  TORCH_ACT_HD auto operator()(T... v) const {
    return act.forward(v...);
  }
  template <class Loops>
  static constexpr auto slot = &Loops::forward;
  static constexpr int kOut[2] = {1, 1};
  static constexpr int kIn[2] = {1, 2};
};
template <class Act>
struct Backward {
  Act act;
  template <class... T>
  TORCH_ACT_HD auto operator()(T... v) const {
    return act.backward(v...);
  }
  template <class Loops>
  static constexpr auto slot = &Loops::backward;
  static constexpr int kOut[2] = {1, 2};
  static constexpr int kIn[2] = {2, 3};
};
template <class Act>
struct DoubleBackward {
  Act act;
  template <class... T>
  TORCH_ACT_HD auto operator()(T... v) const {
    return act.double_backward(v...);
  }
  template <class Loops>
  static constexpr auto slot = &Loops::double_backward;
  static constexpr int kOut[2] = {1, 3};
  static constexpr int kIn[2] = {3, 5};
};

// Method<Act> as an entry of Loops calls it: the functor and its operand counts.
template <template <class> class Method, class Loops>
struct MethodCall {
  using Op = Method<typename Loops::Activation>;
  static constexpr int kFamily = Loops::kUnary ? 0 : 1;
  static constexpr int kOut = Op::kOut[kFamily];
  static constexpr int kIn = Op::kIn[kFamily];
};

}  // namespace torch_act
