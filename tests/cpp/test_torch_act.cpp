// A LibTorch-only test of the torch_act operators.
//
// Everything goes through the dispatcher by schema name, the way any C++ user
// of the library would call it: link against libtorch_act (its static
// initializers register the ops) and look the ops up. Checks:
//   * the forward schemas are the documented ones,
//   * forward values and first-order gradients against the at:: equivalents,
//   * a few <name>_backward ops called directly, and two in-place ops,
//   * a small float64 net's parameter gradients against central differences,
//   * double backward against central differences of the first gradient,
//   * a few invalid calls raise.
// Prints one line per check and finally "N passed, M failed".
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/torch.h>

namespace {

using at::Tensor;
using TensorList = std::vector<Tensor>;

// ------------------------------------------------------------ check harness

int passed = 0;
int failed = 0;

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Runs one check. `body` returns whether it passed and may fill `detail`; an
// exception counts as a failure.
void check(const std::string& name, const std::function<bool(std::string&)>& body) {
  std::string detail;
  bool ok = false;
  try {
    ok = body(detail);
  } catch (const std::exception& e) {
    detail = "threw: " + first_line(e.what());
  }
  ++(ok ? passed : failed);
  std::cout << (ok ? "PASS  " : "FAIL  ") << name;
  if (!detail.empty()) {
    std::cout << "  (" << detail << ")";
  }
  std::cout << std::endl;
}

std::string sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2e", v);
  return buf;
}

// |actual - expected| <= atol + rtol |expected| everywhere (NaN fails).
bool close(
    const Tensor& actual, const Tensor& expected, double rtol, double atol, std::string& detail) {
  if (!actual.defined() || !expected.defined()) {
    detail = "undefined tensor";
    return false;
  }
  if (actual.sizes() != expected.sizes()) {
    std::ostringstream os;
    os << "shape " << actual.sizes() << " != " << expected.sizes();
    detail = os.str();
    return false;
  }
  const Tensor a = actual.detach().to(at::kDouble);
  const Tensor e = expected.detach().to(at::kDouble);
  if (a.numel() == 0) {
    return true;
  }
  const Tensor err = (a - e).abs();
  const double excess = (err - (atol + rtol * e.abs())).max().item<double>();
  detail +=
      (detail.empty() ? "" : ", ") + std::string("max abs err ") + sci(err.max().item<double>());
  return excess <= 0;  // false for NaN
}

bool all_close(
    const TensorList& actual, const TensorList& expected, double rtol, double atol,
    std::string& detail) {
  if (actual.size() != expected.size()) {
    detail = "different number of tensors";
    return false;
  }
  bool ok = true;
  for (size_t i = 0; i < actual.size(); ++i) {
    ok = close(actual[i], expected[i], rtol, atol, detail) && ok;
  }
  return ok;
}

// ------------------------------------------------------ ops via the dispatcher

template <class Signature>
c10::TypedOperatorHandle<Signature> op(const char* name, const char* overload = "") {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, overload).typed<Signature>();
}

using UnarySig = Tensor(const Tensor&);
using FloatSig = Tensor(const Tensor&, double);
using TensorSig = Tensor(const Tensor&, const Tensor&);
using GeluSig = Tensor(const Tensor&, c10::string_view);

Tensor ta_unary(const char* name, const Tensor& x) { return op<UnarySig>(name).call(x); }
Tensor ta_float(const char* name, const Tensor& x, double p) {
  return op<FloatSig>(name).call(x, p);
}
Tensor ta_gelu(const Tensor& x, c10::string_view approximate) {
  static const auto h = op<GeluSig>("torch_act::gelu");
  return h.call(x, approximate);
}
Tensor ta_prelu(const Tensor& x, const Tensor& weight) {
  static const auto h = op<TensorSig>("torch_act::prelu");
  return h.call(x, weight);
}
Tensor ta_swish_t(const Tensor& x, const Tensor& beta) {
  static const auto h = op<TensorSig>("torch_act::swish", "Tensor");
  return h.call(x, beta);
}

// ----------------------------------------------------------------- schemas

void check_schemas() {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"relu", "torch_act::relu(Tensor self) -> Tensor"},
      {"leaky_relu", "torch_act::leaky_relu(Tensor self, float negative_slope=0.01) -> Tensor"},
      {"elu", "torch_act::elu(Tensor self, float alpha=1.) -> Tensor"},
      {"selu", "torch_act::selu(Tensor self) -> Tensor"},
      {"silu", "torch_act::silu(Tensor self) -> Tensor"},
      {"sigmoid", "torch_act::sigmoid(Tensor self) -> Tensor"},
      {"tanh", "torch_act::tanh(Tensor self) -> Tensor"},
      {"swish", "torch_act::swish(Tensor self, float beta=1.) -> Tensor"},
      {"swish.Tensor", "torch_act::swish.Tensor(Tensor self, Tensor beta) -> Tensor"},
      {"gelu", "torch_act::gelu(Tensor self, *, str approximate=\"none\") -> Tensor"},
      {"prelu", "torch_act::prelu(Tensor self, Tensor weight) -> Tensor"},
  };
  for (const auto& [op_name, schema] : expected) {
    check("schema " + op_name, [&](std::string& detail) {
      const auto dot = op_name.find('.');
      const std::string name = "torch_act::" + op_name.substr(0, dot);
      const std::string overload = dot == std::string::npos ? "" : op_name.substr(dot + 1);
      std::ostringstream os;
      os << c10::Dispatcher::singleton().findSchemaOrThrow(name.c_str(), overload.c_str()).schema();
      if (os.str() != schema) {
        detail = "got " + os.str();
        return false;
      }
      return true;
    });
  }
}

// -------------------------------------------- forward and first-order gradients

// One op compared with its at:: reference: f(x, params) for both.
struct Case {
  std::string name;
  std::function<Tensor(const Tensor&, const TensorList&)> ours;
  std::function<Tensor(const Tensor&, const TensorList&)> reference;
  TensorList params;  // tensor arguments after self (prelu weight, swish beta)
};

std::vector<Case> cases(int64_t channels) {
  const Tensor prelu_w = at::rand({channels}, at::kDouble) * 0.5;
  const Tensor prelu_w1 = at::full({1}, 0.3, at::kDouble);
  const Tensor beta = at::full({}, 1.7, at::kDouble);
  auto swish_ref = [](const Tensor& x, const Tensor& b) { return x * at::sigmoid(b * x); };
  using P = const TensorList&;
  return {
      {"relu",
       [](auto& x, P) { return ta_unary("torch_act::relu", x); },
       [](auto& x, P) { return at::relu(x); },
       {}},
      {"leaky_relu(0.2)",
       [](auto& x, P) { return ta_float("torch_act::leaky_relu", x, 0.2); },
       [](auto& x, P) { return at::leaky_relu(x, 0.2); },
       {}},
      {"elu(1.3)",
       [](auto& x, P) { return ta_float("torch_act::elu", x, 1.3); },
       [](auto& x, P) { return at::elu(x, 1.3); },
       {}},
      {"selu",
       [](auto& x, P) { return ta_unary("torch_act::selu", x); },
       [](auto& x, P) { return at::selu(x); },
       {}},
      {"silu",
       [](auto& x, P) { return ta_unary("torch_act::silu", x); },
       [](auto& x, P) { return at::silu(x); },
       {}},
      {"sigmoid",
       [](auto& x, P) { return ta_unary("torch_act::sigmoid", x); },
       [](auto& x, P) { return at::sigmoid(x); },
       {}},
      {"tanh",
       [](auto& x, P) { return ta_unary("torch_act::tanh", x); },
       [](auto& x, P) { return at::tanh(x); },
       {}},
      {"swish(1.7)",
       [](auto& x, P) { return ta_float("torch_act::swish", x, 1.7); },
       [](auto& x, P) { return x * at::sigmoid(1.7 * x); },
       {}},
      {"swish.Tensor",
       [](auto& x, P p) { return ta_swish_t(x, p[0]); },
       [=](auto& x, P p) { return swish_ref(x, p[0]); },
       {beta}},
      {"gelu(none)",
       [](auto& x, P) { return ta_gelu(x, "none"); },
       [](auto& x, P) { return at::gelu(x, "none"); },
       {}},
      {"gelu(tanh)",
       [](auto& x, P) { return ta_gelu(x, "tanh"); },
       [](auto& x, P) { return at::gelu(x, "tanh"); },
       {}},
      {"prelu(per channel)",
       [](auto& x, P p) { return ta_prelu(x, p[0]); },
       [](auto& x, P p) { return at::prelu(x, p[0]); },
       {prelu_w}},
      {"prelu(one weight)",
       [](auto& x, P p) { return ta_prelu(x, p[0]); },
       [](auto& x, P p) { return at::prelu(x, p[0]); },
       {prelu_w1}},
  };
}

TensorList leaves(const TensorList& ts) {
  TensorList out;
  for (const auto& t : ts) {
    out.push_back(t.detach().clone().requires_grad_(true));
  }
  return out;
}

// Gradients of sum(f(x, params) * grad_output) w.r.t. x and params.
TensorList gradients(
    const Case& c, bool ours, const Tensor& x, const TensorList& params,
    const Tensor& grad_output) {
  TensorList inputs = leaves({x});
  const TensorList ps = leaves(params);
  inputs.insert(inputs.end(), ps.begin(), ps.end());
  const Tensor y = (ours ? c.ours : c.reference)(inputs[0], ps);
  return torch::autograd::grad({y}, inputs, {grad_output});
}

void check_against_aten() {
  // 37 elements in the last dim: SIMD main loop plus a scalar tail.
  const Tensor contiguous = at::randn({4, 5, 37}, at::kDouble) * 3;
  // transpose(0, 2) keeps dim 1 (PReLU's channel dim) and is not contiguous.
  const Tensor strided = (at::randn({37, 5, 4}, at::kDouble) * 3).transpose(0, 2);
  for (const auto& [layout, x] : std::vector<std::pair<std::string, Tensor>>{
           {"contiguous", contiguous}, {"strided", strided}}) {
    for (const Case& c : cases(x.size(1))) {
      check("forward " + c.name + " " + layout, [&](std::string& detail) {
        return close(c.ours(x, c.params), c.reference(x, c.params), 1e-12, 1e-12, detail);
      });
      check("grad " + c.name + " " + layout, [&](std::string& detail) {
        const Tensor g = at::randn(x.sizes(), at::kDouble);
        return all_close(
            gradients(c, true, x, c.params, g), gradients(c, false, x, c.params, g), 1e-10, 1e-12,
            detail);
      });
    }
  }
}

// A few backward ops called directly, against ATen's own backward kernels.
void check_backward_ops() {
  const Tensor x = at::randn({3, 4, 19}, at::kDouble) * 3;
  const Tensor g = at::randn_like(x);
  check("gelu_backward(tanh) direct", [&](std::string& detail) {
    const auto h =
        op<Tensor(const Tensor&, const Tensor&, c10::string_view)>("torch_act::gelu_backward");
    return close(h.call(g, x, "tanh"), at::gelu_backward(g, x, "tanh"), 1e-12, 1e-12, detail);
  });
  check("sigmoid_backward direct (from the output)", [&](std::string& detail) {
    const Tensor y = at::sigmoid(x);
    const auto h = op<Tensor(const Tensor&, const Tensor&)>("torch_act::sigmoid_backward");
    return close(h.call(g, y), at::sigmoid_backward(g, y), 1e-12, 1e-12, detail);
  });
  check("prelu_backward direct", [&](std::string& detail) {
    const Tensor w = at::rand({4}, at::kDouble);
    const auto h = op<std::tuple<Tensor, Tensor>(const Tensor&, const Tensor&, const Tensor&)>(
        "torch_act::prelu_backward");
    const auto [gx, gw] = h.call(g, x, w);
    const Tensor xr = x.clone().requires_grad_(true);
    const Tensor wr = w.clone().requires_grad_(true);
    const auto expected = torch::autograd::grad({at::prelu(xr, wr)}, {xr, wr}, {g});
    return all_close({gx, gw}, expected, 1e-12, 1e-12, detail);
  });
}

// In-place variants (schema `<name>_(Tensor(a!) self, ...) -> ()`) under
// autograd, on a non-leaf so the graph goes through the overwritten tensor.
void check_inplace_ops() {
  const Tensor x = at::randn({4, 5, 11}, at::kDouble) * 3;
  const Tensor g = at::randn_like(x);
  const std::vector<std::tuple<std::string, double, std::function<Tensor(const Tensor&)>>> ops = {
      {"leaky_relu_", 0.2, [](const Tensor& t) { return at::leaky_relu(t, 0.2); }},  // saves input
      {"elu_", 1.3, [](const Tensor& t) { return at::elu(t, 1.3); }},  // saves output (elu_result)
  };
  for (const auto& [name, p, reference] : ops) {
    check(name + " in place: value and grad", [&](std::string& detail) {
      const Tensor xr = x.clone().requires_grad_(true);
      Tensor y = xr * 1.0;
      op<void(const Tensor&, double)>(("torch_act::" + name).c_str()).call(y, p);
      const Tensor xe = x.clone().requires_grad_(true);
      const Tensor ye = reference(xe);
      const bool values = close(y, ye, 1e-12, 1e-12, detail);
      const bool grads = close(
          torch::autograd::grad({y}, {xr}, {g})[0], torch::autograd::grad({ye}, {xe}, {g})[0],
          1e-12, 1e-12, detail);
      return values && grads;
    });
  }
}

// ------------------------------------------------- finite-difference helpers

// Central differences of the scalar `f()` w.r.t. every element of `t`, which
// must be a contiguous float64 tensor that `f` reads (perturbed in place).
Tensor central_differences(const Tensor& t, const std::function<double()>& f, double eps) {
  TORCH_CHECK(t.is_contiguous() && t.scalar_type() == at::kDouble);
  Tensor out = at::empty_like(t);
  double* data = t.data_ptr<double>();
  double* grad = out.data_ptr<double>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double saved = data[i];
    data[i] = saved + eps;
    const double plus = f();
    data[i] = saved - eps;
    const double minus = f();
    data[i] = saved;
    grad[i] = (plus - minus) / (2 * eps);
  }
  return out;
}

constexpr double kEps = 1e-6;
constexpr double kTol = 1e-6;

// --------------------------------------------------------- a small network

// x -> linear -> gelu -> linear -> prelu (per channel) -> linear
//   -> swish.Tensor (learnable beta) -> sum
struct Net {
  Tensor w1, b1, w2, b2, w3, b3, prelu_weight, beta;

  std::vector<std::pair<std::string, Tensor>> named_parameters() const {
    return {{"linear1.weight", w1},         {"linear1.bias", b1},   {"linear2.weight", w2},
            {"linear2.bias", b2},           {"linear3.weight", w3}, {"linear3.bias", b3},
            {"prelu.weight", prelu_weight}, {"swish.beta", beta}};
  }

  Tensor loss(const Tensor& x) const {
    Tensor h = at::linear(x, w1, b1);
    h = ta_gelu(h, "none");
    h = at::linear(h, w2, b2);
    h = ta_prelu(h, prelu_weight);
    h = at::linear(h, w3, b3);
    h = ta_swish_t(h, beta);
    return h.sum();
  }
};

Tensor param(at::IntArrayRef sizes, double scale) {
  return (at::randn(sizes, at::kDouble) * scale).requires_grad_(true);
}

void check_network_gradients() {
  const int64_t batch = 8, in = 5, hidden = 6, out = 3;
  const Tensor x = at::randn({batch, in}, at::kDouble);
  Net net{
      param({hidden, in}, 0.6),
      param({hidden}, 0.3),
      param({hidden, hidden}, 0.5),
      param({hidden}, 0.3),
      param({out, hidden}, 0.5),
      param({out}, 0.3),
      (at::rand({hidden}, at::kDouble) * 0.4 + 0.1).requires_grad_(true),
      at::full({1}, 1.3, at::kDouble).requires_grad_(true)};

  check("net loss.backward() runs", [&](std::string& detail) {
    const Tensor loss = net.loss(x);
    loss.backward();
    detail = "loss " + sci(loss.item<double>());
    return std::isfinite(loss.item<double>());
  });
  auto loss_value = [&] {
    at::NoGradGuard no_grad;
    return net.loss(x).item<double>();
  };
  for (const auto& [name, p] : net.named_parameters()) {
    check("net grad " + name + " vs finite differences", [&](std::string& detail) {
      if (!p.grad().defined()) {
        detail = "no gradient";
        return false;
      }
      return close(p.grad(), central_differences(p, loss_value, kEps), kTol, kTol, detail);
    });
  }
}

// --------------------------------------------------------- double backward

// For a scalar loss L(inputs): with first = dL/dinputs (create_graph=true) and
// s = sum_k <first_k, v_k> for fixed random v, checks ds/dinputs (the second
// backward) against central differences of s, where s is re-evaluated from
// first-order gradients only.
void check_double_backward(
    const std::string& name, const std::function<Tensor(const TensorList&)>& loss,
    const TensorList& initial) {
  check("double backward " + name + " vs finite differences", [&](std::string& detail) {
    const TensorList inputs = leaves(initial);
    TensorList v;
    for (const auto& t : inputs) {
      v.push_back(at::randn_like(t));
    }
    auto contract = [&](const TensorList& grads) {
      Tensor s = at::zeros({}, at::kDouble);
      for (size_t k = 0; k < grads.size(); ++k) {
        s = s + (grads[k] * v[k]).sum();
      }
      return s;
    };
    const TensorList first = torch::autograd::grad(
        {loss(inputs)}, inputs, {}, /*retain_graph=*/true, /*create_graph=*/true);
    for (const auto& g : first) {
      TORCH_CHECK(g.requires_grad(), "first-order gradient is not differentiable");
    }
    const TensorList second = torch::autograd::grad({contract(first)}, inputs);

    auto s_value = [&] {
      return contract(torch::autograd::grad({loss(inputs)}, inputs)).item<double>();
    };
    TensorList expected;
    for (const auto& t : inputs) {
      expected.push_back(central_differences(t, s_value, kEps));
    }
    return all_close(second, expected, kTol, kTol, detail);
  });
}

void check_double_backwards() {
  const Tensor x = at::randn({3, 4, 5}, at::kDouble) * 2;
  const Tensor c = at::randn_like(x);  // makes the loss a generic linear functional
  check_double_backward(
      "gelu(none)", [&](const TensorList& in) { return (ta_gelu(in[0], "none") * c).sum(); }, {x});
  check_double_backward(
      "gelu(tanh)", [&](const TensorList& in) { return (ta_gelu(in[0], "tanh") * c).sum(); }, {x});
  // ELU saves its output: the second backward flows back through the forward.
  check_double_backward(
      "elu(1.3)",
      [&](const TensorList& in) { return (ta_float("torch_act::elu", in[0], 1.3) * c).sum(); },
      {x});
  check_double_backward(
      "swish.Tensor (x and beta)",
      [&](const TensorList& in) { return (ta_swish_t(in[0], in[1]) * c).sum(); },
      {x, at::full({}, 0.8, at::kDouble)});
  check_double_backward(
      "prelu (x and weight)",
      [&](const TensorList& in) { return (ta_prelu(in[0], in[1]) * c).sum(); },
      {x, at::rand({4}, at::kDouble)});
}

// ------------------------------------------------------------ invalid calls

void check_raises(const std::string& name, const std::function<void()>& body) {
  check("raises: " + name, [&](std::string& detail) {
    try {
      body();
    } catch (const c10::Error& e) {
      detail = first_line(e.what_without_backtrace());
      return true;
    }
    detail = "no error";
    return false;
  });
}

void check_errors() {
  check_raises("gelu approximate='bad'", [] { ta_gelu(at::randn({3}, at::kDouble), "bad"); });
  check_raises(
      "relu on an integer tensor", [] { ta_unary("torch_act::relu", at::arange(3, at::kLong)); });
  check_raises("prelu with a weight per wrong channel count", [] {
    ta_prelu(at::randn({2, 3}, at::kDouble), at::rand({4}, at::kDouble));
  });
  check_raises("swish.Tensor with two betas", [] {
    ta_swish_t(at::randn({2, 3}, at::kDouble), at::rand({2}, at::kDouble));
  });
  // In place, ELU's gradient comes from the saved output, which needs alpha >= 0
  // (out of place it comes from the input, and any alpha works).
  check_raises("elu_(alpha=-1) with requires_grad", [] {
    Tensor y = at::randn({3}, at::kDouble).requires_grad_(true) * 1.0;
    op<void(const Tensor&, double)>("torch_act::elu_").call(y, -1.0);
  });
}

}  // namespace

int main() {
  torch::manual_seed(0);
  check_schemas();
  check_against_aten();
  check_backward_ops();
  check_inplace_ops();
  check_network_gradients();
  check_double_backwards();
  check_errors();
  std::cout << passed << " passed, " << failed << " failed" << std::endl;
  return failed == 0 ? 0 : 1;
}
