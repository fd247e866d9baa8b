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

// One table entry's loop: Method's functor over the iterator.
template <template <class> class Method, class Loops>
void run_method(at::TensorIteratorBase& iter, const typename Loops::Activation& act) {
  using Call = MethodCall<Method, Loops>;
  run<Call::kOut, Call::kIn>(iter, typename Call::Op{act});
}

template <class Act>
void backward_chunk_summing_columns(const ColumnSumChunk& chunk, const Act& act) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, chunk.dtype, "torch_act", [&] {
    backward_summing_columns(
        static_cast<scalar_t*>(chunk.grad_input), static_cast<const scalar_t*>(chunk.grad_output),
        static_cast<const scalar_t*>(chunk.self), static_cast<const scalar_t*>(chunk.param),
        static_cast<at::opmath_type<scalar_t>*>(chunk.column_sums), chunk.rows, chunk.columns,
        Backward<Act>{act});
  });
}

template <class... Act>
TableOf<ColumnSumLoops, TypeList<Act...>> column_sum_table_for(TypeList<Act...>) {
  return {std::make_tuple(ColumnSumLoops<Act>{&backward_chunk_summing_columns<Act>}...)};
}

}  // namespace

CapabilityTables capability_tables() {
  return {
      KernelTable::build([](auto* entry) {
        using Loops = std::remove_pointer_t<decltype(entry)>;
        return Loops{
            &run_method<Forward, Loops>, &run_method<Backward, Loops>,
            &run_method<DoubleBackward, Loops>};
      }),
      column_sum_table_for(BiasActivations{}),
  };
}

}  // namespace CPU_CAPABILITY
}  // namespace cpu
}  // namespace torch_act
