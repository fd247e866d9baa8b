// The CPU loops of every activation, for one CPU capability.
//
// setup.py (and CMakeLists.txt) compile this file three times: with
// CPU_CAPABILITY=DEFAULT, =AVX2 (-mavx2 -mfma -mf16c) and =AVX512 (-mavx512*),
// each into a namespace of that name, so the copies coexist in one library.
// No static initializers here: this code may only run after dispatch.cpp has
// checked that the CPU supports it.
#include <ATen/Dispatch.h>

#include "elementwise.h"
#include "kernels.h"

#if !defined(CPU_CAPABILITY)
#error "kernels.cpp must be compiled with -DCPU_CAPABILITY=<DEFAULT|AVX2|AVX512>"
#endif

namespace torch_act {
namespace cpu {
namespace CPU_CAPABILITY {
namespace {

template <int kOut, int kIn, class Op>
void run(at::TensorIteratorBase& iter, const Op& op) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, iter.common_dtype(), "torch_act", [&] {
    elementwise<scalar_t, kOut, kIn>(iter, op);
  });
}

template <class Act>
UnaryLoops<Act, at::TensorIteratorBase> make_loops(UnaryLoops<Act, at::TensorIteratorBase>*) {
  return {
      [](at::TensorIteratorBase& iter, const Act& act) {
        run<1, 1>(iter, [&](auto x) { return act.forward(x); });
      },
      [](at::TensorIteratorBase& iter, const Act& act) {
        run<1, 2>(iter, [&](auto g, auto s) { return act.backward(g, s); });
      },
      [](at::TensorIteratorBase& iter, const Act& act) {
        run<1, 3>(iter, [&](auto gg, auto g, auto s) { return act.double_backward(gg, g, s); });
      },
  };
}

template <class Act>
BinaryLoops<Act, at::TensorIteratorBase> make_loops(BinaryLoops<Act, at::TensorIteratorBase>*) {
  return {
      [](at::TensorIteratorBase& iter, const Act& act) {
        run<1, 2>(iter, [&](auto x, auto p) { return act.forward(x, p); });
      },
      [](at::TensorIteratorBase& iter, const Act& act) {
        run<2, 3>(iter, [&](auto g, auto x, auto p) { return act.backward(g, x, p); });
      },
      [](at::TensorIteratorBase& iter, const Act& act) {
        run<3, 5>(iter, [&](auto ggx, auto ggp, auto g, auto x, auto p) {
          return act.double_backward(ggx, ggp, g, x, p);
        });
      },
  };
}

} // namespace

KernelTable kernel_table() {
  return KernelTable::build([](auto* loops) { return make_loops(loops); });
}

} // namespace CPU_CAPABILITY
} // namespace cpu
} // namespace torch_act
