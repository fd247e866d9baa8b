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
using UnaryActivations = TypeList<
    Sigmoid, Tanh, Relu, LeakyRelu, Elu, Selu, Silu, Swish, Gelu, Celu, Mish, Softplus,
    Softsign, Hardsigmoid, Hardswish, Hardtanh, Relu6, LogSigmoid, Tanhshrink, Softshrink,
    Hardshrink, Threshold, QuickGelu, SquaredRelu>;

// y = f(x, p) with a learnable tensor p broadcast over x: ops <name>,
// <name>_backward, <name>_double_backward (overload Act::overload).
using ParamActivations = TypeList<Prelu, SwishLearnable, RreluWithNoise>;

// f(a, b) over the two halves of the input (glu.cpp): the same kernel shapes
// as the param ops, registered with their own schemas.
using SplitActivations = TypeList<Glu>;

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
  void (*forward)(Iter&, const Act&);          // (y) <- (x)
  void (*backward)(Iter&, const Act&);         // (gx) <- (g, s)
  void (*double_backward)(Iter&, const Act&);  // (gs) <- (gg, g, s)
};

// Two-input functors: a learnable parameter p broadcast over x, or GLU's halves.
template <class Act, class Iter>
struct BinaryLoops {
  using Activation = Act;
  static constexpr bool kUnary = false;
  void (*forward)(Iter&, const Act&);          // (y) <- (x, p)
  void (*backward)(Iter&, const Act&);         // (gx, gp) <- (g, x, p)
  void (*double_backward)(Iter&, const Act&);  // (gg, gx, gp) <- (ggx, ggp, g, x, p)
};

template <template <class, class> class Loops, class Iter, class List>
struct LoopTuple;
template <template <class, class> class Loops, class Iter, class... Acts>
struct LoopTuple<Loops, Iter, TypeList<Acts...>> {
  using type = std::tuple<Loops<Acts, Iter>...>;
};

// Every activation's loops for one device (and, on the CPU, one ISA).
template <class Iter>
struct KernelTableFor {
  typename LoopTuple<UnaryLoops, Iter, UnaryActivations>::type unary;
  typename LoopTuple<BinaryLoops, Iter, ParamActivations>::type param;
  typename LoopTuple<BinaryLoops, Iter, SplitActivations>::type split;

  // The loops of one activation, from whichever family holds them.
  template <class Loops>
  const Loops& get() const {
    if constexpr (holds<Loops>(static_cast<decltype(unary)*>(nullptr))) {
      return std::get<Loops>(unary);
    } else if constexpr (holds<Loops>(static_cast<decltype(param)*>(nullptr))) {
      return std::get<Loops>(param);
    } else {
      return std::get<Loops>(split);
    }
  }

  // Fills every entry with make(Loops<Act, Iter>*), a tag-dispatched factory.
  template <class Make>
  static KernelTableFor build(Make&& make) {
    KernelTableFor table;
    fill(table.unary, make);
    fill(table.param, make);
    fill(table.split, make);
    return table;
  }

 private:
  template <class Loops, class... Entries>
  static constexpr bool holds(const std::tuple<Entries...>*) {
    return (std::is_same_v<Loops, Entries> || ...);
  }
  template <class... Loops, class Make>
  static void fill(std::tuple<Loops...>& entries, Make& make) {
    ((std::get<Loops>(entries) = make(static_cast<Loops*>(nullptr))), ...);
  }
};

} // namespace torch_act
