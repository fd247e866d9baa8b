// What every torch_act op file shares: the op table (op_table.h), the kernel
// table of each device, schema and argument-check helpers.
#pragma once

#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

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

// What the param-like ops (param_ops.cpp: PReLU, learnable Swish, the gated
// and bias ops) share beyond the Act::name / param_name every one has:
// hyper-parameters (those of a gated or bias op's activation), the first
// tensor's name, and "<name><suffix>[.<overload>]".
template <class Act, class = void>
struct ParamsOfImpl {
  using type = std::tuple<>;
};
template <class Act>
struct ParamsOfImpl<Act, std::void_t<typename Act::Params>> {
  using type = typename Act::Params;
};
template <class Act>
using ParamsOf = typename ParamsOfImpl<Act>::type;

// The first tensor's schema name and how messages call it, and the schema's
// hyper-parameters: an op built on a unary activation says its own; PReLU
// and Swish's learnable beta take "self" ("input") and none.
template <class Act, bool = is_built_on_unary<Act>>
struct ParamOpNames {
  static constexpr const char* input_name = "self";
  static constexpr const char* input_label = "input";
  static constexpr const char* schema_params = "";
};
template <class Act>
struct ParamOpNames<Act, true> {
  static constexpr const char* input_name = Act::input_name;
  static constexpr const char* input_label = Act::input_label;
  static constexpr const char* schema_params = Act::schema_params;
};
template <class Act>
std::string param_op_name(const char* suffix) {
  const std::string op = std::string(Act::name) + suffix;
  return Act::overload[0] == '\0' ? op : op + "." + Act::overload;
}

// The dtypes every kernel supports; anything else is a clear error.
void check_floating(const at::Tensor& t, std::string_view op, const char* arg);
// Same dtype, device and shape as `reference` (backward inputs).
void check_like(
    const at::Tensor& t, const at::Tensor& reference, std::string_view op, const char* arg,
    const char* reference_arg);

// Schemas of the learnable-parameter ops (param_ops.cpp) and of GLU (glu.cpp),
// called from the one TORCH_LIBRARY block in ops.cpp.
void define_param_ops(torch::Library& m);
void define_split_ops(torch::Library& m);

}  // namespace torch_act
