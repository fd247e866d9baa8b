// Picks the kernel table for the CPU capability torch itself uses.
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/TensorIterator.h>
#include <ATen/Version.h>
#include <torch/library.h>

#include "kernels.h"

namespace torch_act {
namespace cpu {

const char* active_capability() {
  // at::get_cpu_capability() says what torch's own kernels run with: the best
  // the CPU supports, or what ATEN_CPU_CAPABILITY asks for.
  static const char* name = [] {
#if defined(TORCH_ACT_X86_VARIANTS)
    const std::string torch_choice = at::get_cpu_capability();
    if (torch_choice == "AVX512") {
      return "AVX512";
    }
    if (torch_choice == "AVX2") {
      return "AVX2";
    }
#endif
    return "DEFAULT";
  }();
  return name;
}

#if defined(TORCH_ACT_X86_VARIANTS)
// (Initialized here, in code built for the baseline ISA, before any kernel runs.)
const bool cpu_supports_avx512_bf16 = __builtin_cpu_supports("avx512bf16");
#endif

void parallel_over(int64_t count, c10::function_ref<void(int64_t)> task) {
  const at::Tensor indices = at::arange(count, at::kLong);
  auto iter = at::TensorIteratorConfig().add_const_input(indices).build();
  iter.for_each(
      [&](char** data, const int64_t* strides, int64_t size, int64_t rows) {
        for (int64_t row = 0; row < rows; ++row) {
          const char* index = data[0] + row * strides[1];
          for (int64_t i = 0; i < size; ++i) {
            task(*reinterpret_cast<const int64_t*>(index + i * strides[0]));
          }
        }
      },
      /*grain_size=*/1);
}

namespace {
const CapabilityTables& active_tables() {
  static const CapabilityTables tables = [] {
    const std::string name = active_capability();
#if defined(TORCH_ACT_X86_VARIANTS)
    if (name == "AVX512") {
      return AVX512::capability_tables();
    }
    if (name == "AVX2") {
      return AVX2::capability_tables();
    }
#endif
    return DEFAULT::capability_tables();
  }();
  return tables;
}
}  // namespace

const KernelTable& kernels() { return active_tables().elementwise; }

const ColumnSumTable& column_sum_kernels() { return active_tables().column_sums; }

const PackedTable& packed_kernels() { return active_tables().packed; }

namespace {
std::string cpu_capability() { return active_capability(); }

// TORCH_ACT_CPU_VARIANTS=0 builds DEFAULT only.
std::vector<std::string> built_capabilities() {
#if defined(TORCH_ACT_X86_VARIANTS)
  return {"DEFAULT", "AVX2", "AVX512"};
#else
  return {"DEFAULT"};
#endif
}
}  // namespace

// torch.ops.torch_act._cpu_capability(): the kernel variant this process uses;
// _cpu_variants(): the variants this build has.
TORCH_LIBRARY_FRAGMENT(torch_act, m) {
  m.def("_cpu_capability() -> str", &cpu_capability);
  m.def("_cpu_variants() -> str[]", &built_capabilities);
}

}  // namespace cpu
}  // namespace torch_act
