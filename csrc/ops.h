// What every torch_act op file shares: the op table (op_table.h), the kernel
// table of each device, schema and argument-check helpers.
#pragma once

#include <string>

#include <ATen/core/Tensor.h>
#include <torch/library.h>

#include "kernel_table.h"
#include "op_table.h"

namespace torch_act {

// ", <params>" or "" for splicing a functor's schema_params into a schema.
inline std::string schema_tail(const char* schema_params) {
  return schema_params[0] == '\0' ? std::string() : std::string(", ") + schema_params;
}

inline const char* saved_arg_name(Saved saved) {
  return saved == Saved::Output ? "result" : "self";
}

// at::empty_like(t) (preserve_format: t's strides when t is dense and
// non-overlapping, else a suggested contiguous layout), allocated directly on
// the CPU: the dispatcher round trip costs as much as a small kernel.
at::Tensor empty_like_input(const at::Tensor& t);

// The dtypes every kernel supports; anything else is a clear error.
void check_floating(const at::Tensor& t, const char* op, const char* arg);
// Same dtype, device and shape as `reference` (backward inputs).
void check_like(
    const at::Tensor& t, const at::Tensor& reference, const char* op,
    const char* arg, const char* reference_arg);

// Schemas of the learnable-parameter ops (param_ops.cpp) and of GLU (glu.cpp),
// called from the one TORCH_LIBRARY block in ops.cpp.
void define_param_ops(torch::Library& m);
void define_split_ops(torch::Library& m);

} // namespace torch_act
