// The op table and what every torch_act op file shares.
//
// Adding an activation: write its functor in activations.h and add it to one
// of the two lists below. Schemas, CPU and Meta kernels, and autograd are
// generated from the functor for every op the list names.
#pragma once

#include <string>

#include <ATen/core/Tensor.h>
#include <torch/library.h>

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
