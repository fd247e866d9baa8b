// The CPU kernel tables: kernels.cpp is compiled once per CPU capability
// (DEFAULT, AVX2, AVX512) and dispatch.cpp picks one at run time from torch's
// own answer (at::get_cpu_capability(), which honours ATEN_CPU_CAPABILITY).
#pragma once

#include "../kernel_table.h"

namespace torch_act {
namespace cpu {

// Filled by kernels.cpp, once per capability it is compiled for.
namespace DEFAULT { KernelTable kernel_table(); }
#if defined(TORCH_ACT_X86_VARIANTS)
namespace AVX2 { KernelTable kernel_table(); }
namespace AVX512 { KernelTable kernel_table(); }
#endif

} // namespace cpu
} // namespace torch_act
