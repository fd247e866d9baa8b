// The CPU kernel tables: kernels.cpp is compiled once per CPU capability
// (DEFAULT, AVX2, AVX512) and dispatch.cpp picks one at run time from torch's
// own answer (at::get_cpu_capability(), which honours ATEN_CPU_CAPABILITY).
#pragma once

#include <c10/core/ScalarType.h>
#include <c10/util/FunctionRef.h>

#include "../kernel_table.h"

namespace torch_act {
namespace cpu {

// One chunk of rows of a bias op's backward over a dense row-major
// [rows, columns] input, the bias being one value per column: the loop
// writes grad_input and adds the bias's gradient into column_sums (columns
// values of the dtype's opmath type) in the same pass.
struct ColumnSumChunk {
  void* grad_input;
  const void* grad_output;
  const void* self;
  const void* param;
  void* column_sums;
  int64_t rows;
  int64_t columns;
  c10::ScalarType dtype;
};

template <class Act>
struct ColumnSumLoops {
  void (*backward)(const ColumnSumChunk&, const Act&);
};

using ColumnSumTable = TableOf<ColumnSumLoops, BiasActivations>;

// Everything kernels.cpp builds for one capability.
struct CapabilityTables {
  KernelTable elementwise;
  ColumnSumTable column_sums;
  PackedTable packed;
};

// The column-sum loops of the capability in use (as kernels()).
const ColumnSumTable& column_sum_kernels();

// Runs task(i) for i in [0, count) on torch's intra-op threads. (Not
// at::parallel_for: it is inline and this library is built without OpenMP,
// so here it would run serially. A TensorIterator over the indices runs in
// libtorch's compiled parallel loop.)
void parallel_over(int64_t count, c10::function_ref<void(int64_t)> task);

#if defined(TORCH_ACT_X86_VARIANTS)
// Whether the CPU has AVX512-BF16 (set in dispatch.cpp, read by the AVX512 loops).
extern const bool cpu_supports_avx512_bf16;
#endif

// Filled by kernels.cpp, once per capability it is compiled for.
namespace DEFAULT {
CapabilityTables capability_tables();
}
#if defined(TORCH_ACT_X86_VARIANTS)
namespace AVX2 {
CapabilityTables capability_tables();
}
namespace AVX512 {
CapabilityTables capability_tables();
}
#endif

}  // namespace cpu
}  // namespace torch_act
