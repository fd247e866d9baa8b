// The CPU kernel table: one set of loops per activation, compiled once per CPU
// capability (kernels.cpp is built for DEFAULT, AVX2 and AVX512) and chosen at
// run time from torch's own answer (at::get_cpu_capability(), which honours
// ATEN_CPU_CAPABILITY).
#pragma once

#include <tuple>

#include <ATen/TensorIterator.h>

#include "../ops.h"

namespace torch_act {
namespace cpu {

// Each loop evaluates one functor method over a prepared TensorIterator
// (outputs first, then inputs; see make_iter below).
template <class Act>
struct UnaryLoops {
  void (*forward)(at::TensorIteratorBase&, const Act&);          // (y) <- (x)
  void (*backward)(at::TensorIteratorBase&, const Act&);         // (gx) <- (g, s)
  void (*double_backward)(at::TensorIteratorBase&, const Act&);  // (gs) <- (gg, g, s)
};

// Two-input functors: a learnable parameter p broadcast over x, or GLU's halves.
template <class Act>
struct BinaryLoops {
  void (*forward)(at::TensorIteratorBase&, const Act&);          // (y) <- (x, p)
  void (*backward)(at::TensorIteratorBase&, const Act&);         // (gx, gp) <- (g, x, p)
  void (*double_backward)(at::TensorIteratorBase&, const Act&);  // (gg, gx, gp) <- (ggx, ggp, g, x, p)
};

template <template <class> class Loops, class List>
struct LoopTuple;
template <template <class> class Loops, class... Acts>
struct LoopTuple<Loops, TypeList<Acts...>> {
  using type = std::tuple<Loops<Acts>...>;
};

struct KernelTable {
  typename LoopTuple<UnaryLoops, UnaryActivations>::type unary;
  typename LoopTuple<BinaryLoops, ParamActivations>::type param;
  typename LoopTuple<BinaryLoops, SplitActivations>::type split;
};

// Filled by kernels.cpp, once per capability it is compiled for.
namespace DEFAULT { KernelTable kernel_table(); }
#if defined(TORCH_ACT_X86_VARIANTS)
namespace AVX2 { KernelTable kernel_table(); }
namespace AVX512 { KernelTable kernel_table(); }
#endif

// The variant in use: "DEFAULT", "AVX2" or "AVX512".
const char* active_capability();
const KernelTable& kernels();

template <class Act>
const UnaryLoops<Act>& unary_loops() {
  return std::get<UnaryLoops<Act>>(kernels().unary);
}
template <class Act>
const BinaryLoops<Act>& param_loops() {
  return std::get<BinaryLoops<Act>>(kernels().param);
}
template <class Act>
const BinaryLoops<Act>& split_loops() {
  return std::get<BinaryLoops<Act>>(kernels().split);
}

// A TensorIterator over preallocated outputs (same shape as the iteration)
// and inputs that broadcast to it, all of one dtype.
template <class... Inputs>
at::TensorIterator make_iter(std::initializer_list<at::Tensor> outputs, const Inputs&... inputs) {
  at::TensorIteratorConfig config;
  config.set_check_mem_overlap(true).resize_outputs(false);
  for (const auto& out : outputs) {
    config.add_output(out);
  }
  (config.add_const_input(inputs), ...);
  return config.build();
}

} // namespace cpu
} // namespace torch_act
