// Picks the kernel table for the CPU capability torch itself uses.
#include <string>
#include <vector>

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

namespace {
// The value `Table` of the capability in use.
template <class Table>
Table for_active_capability(Table (*on_default)(), Table (*on_avx2)(), Table (*on_avx512)()) {
  const std::string name = active_capability();
  if (name == "AVX512" && on_avx512 != nullptr) {
    return on_avx512();
  }
  if (name == "AVX2" && on_avx2 != nullptr) {
    return on_avx2();
  }
  return on_default();
}
#if defined(TORCH_ACT_X86_VARIANTS)
#define TORCH_ACT_VARIANTS_OF(function) &DEFAULT::function, &AVX2::function, &AVX512::function
#else
#define TORCH_ACT_VARIANTS_OF(function) &DEFAULT::function, nullptr, nullptr
#endif
} // namespace

const KernelTable& kernels() {
  static const KernelTable table = for_active_capability(TORCH_ACT_VARIANTS_OF(kernel_table));
  return table;
}

const ColumnSumTable& column_sum_kernels() {
  static const ColumnSumTable table =
      for_active_capability(TORCH_ACT_VARIANTS_OF(column_sum_table));
  return table;
}

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
} // namespace

// torch.ops.torch_act._cpu_capability(): the kernel variant this process uses;
// _cpu_variants(): the variants this build has.
TORCH_LIBRARY_FRAGMENT(torch_act, m) {
  m.def("_cpu_capability() -> str", &cpu_capability);
  m.def("_cpu_variants() -> str[]", &built_capabilities);
}

} // namespace cpu
} // namespace torch_act
