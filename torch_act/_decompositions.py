"""Inductor decompositions of torch_act's ops into torch pointwise ops.

Under ``torch.compile`` an opaque C++ op stops Inductor from fusing it with its
neighbours (a bias add, batch norm, a residual), which costs more than the op
itself. These decompositions let Inductor generate one fused kernel instead.
They are applied after AOTAutograd has traced torch_act's own C++ autograd:
the forward graph holds ``torch_act.<name>`` and the backward graph
``torch_act.<name>_backward`` (our hand-written gradient, not one Inductor
derives), and only then are both lowered through the formulas below.

The formulas are those of the C++ functors (csrc/activations.h), written with
torch ops; tests/test_decompositions.py holds every one against the C++
kernels over every region and dtype, so the two cannot drift apart. Half and
bfloat16 are computed in float32, as the kernels do.

``set_compile_mode("opaque")`` (or ``TORCH_ACT_COMPILE=opaque`` before import)
keeps the C++ kernels under torch.compile instead.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import os
import sys
from typing import Callable

import torch

from ._spec import SELU_ALPHA, SELU_SCALE

__all__ = ["set_compile_mode", "compile_mode", "DECOMPOSITIONS"]

_ops = torch.ops.torch_act
_REDUCED = (torch.float16, torch.bfloat16)


def _sigmoid(x):
    return 1 / (1 + torch.exp(-x))


def _mask(condition, value, other):
    """torch.where with a Python number on either side."""
    return torch.where(condition, value, other)


# ------------------------------------------------------------- unary formulas
# Each: forward(x, *p), backward(g, s, *p) = g f'(x) from the saved s (input or
# output, as the C++ op), double_backward(gg, g, s, *p) = gg g df'/ds. The
# hyper-parameters carry the schema's names: a graph may pass them by keyword.


class Sigmoid:
    forward = staticmethod(_sigmoid)
    backward = staticmethod(lambda g, y: g * (1 - y) * y)
    double_backward = staticmethod(lambda gg, g, y: gg * g * (1 - 2 * y))


class Tanh:
    forward = staticmethod(torch.tanh)
    backward = staticmethod(lambda g, y: g * (1 - y * y))
    double_backward = staticmethod(lambda gg, g, y: gg * g * (-2 * y))


class Relu:
    forward = staticmethod(lambda x: torch.clamp_min(x, 0))
    backward = staticmethod(lambda g, y: _mask(y <= 0, 0, g))
    double_backward = staticmethod(lambda gg, g, y: torch.zeros_like(y))


class LeakyRelu:
    forward = staticmethod(lambda x, negative_slope=0.01: _mask(x > 0, x, x * negative_slope))
    backward = staticmethod(lambda g, x, negative_slope=0.01: _mask(x > 0, g, g * negative_slope))
    double_backward = staticmethod(lambda gg, g, x, negative_slope=0.01: torch.zeros_like(x))


class Elu:
    forward = staticmethod(lambda x, alpha=1.0: _mask(x <= 0, alpha * torch.expm1(x), x))
    backward = staticmethod(lambda g, x, alpha=1.0: _mask(x <= 0, g * alpha * torch.exp(x), g))
    double_backward = staticmethod(
        lambda gg, g, x, alpha=1.0: _mask(x <= 0, gg * g * alpha * torch.exp(x), 0)
    )


class EluResult:  # the in-place op's gradient, from the output
    backward = staticmethod(lambda g, y, alpha=1.0: _mask(y <= 0, g * (y + alpha), g))
    double_backward = staticmethod(lambda gg, g, y, alpha=1.0: _mask(y <= 0, gg * g, 0))


_SELU_K = SELU_SCALE * SELU_ALPHA


class Selu:
    forward = staticmethod(lambda x: _mask(x <= 0, _SELU_K * torch.expm1(x), SELU_SCALE * x))
    backward = staticmethod(lambda g, x: _mask(x <= 0, g * _SELU_K * torch.exp(x), g * SELU_SCALE))
    double_backward = staticmethod(
        lambda gg, g, x: _mask(x <= 0, gg * g * _SELU_K * torch.exp(x), 0)
    )


class SeluResult:
    backward = staticmethod(lambda g, y: _mask(y <= 0, g * (y + _SELU_K), g * SELU_SCALE))
    double_backward = staticmethod(lambda gg, g, y: _mask(y <= 0, gg * g, 0))


class Celu:
    forward = staticmethod(
        lambda x, alpha=1.0: _mask(x <= 0, alpha * torch.expm1(x * (1.0 / alpha)), x)
    )
    backward = staticmethod(
        lambda g, x, alpha=1.0: _mask(x <= 0, g * torch.exp(x * (1.0 / alpha)), g)
    )
    double_backward = staticmethod(
        lambda gg, g, x, alpha=1.0: _mask(
            x <= 0, gg * g * (1.0 / alpha) * torch.exp(x * (1.0 / alpha)), 0
        )
    )


class CeluResult:
    backward = staticmethod(lambda g, y, alpha=1.0: _mask(y <= 0, g * (y * (1.0 / alpha) + 1), g))
    double_backward = staticmethod(
        lambda gg, g, y, alpha=1.0: _mask(y <= 0, gg * g * (1.0 / alpha), 0)
    )


def _swish_terms(x, b):
    """(s, q, x q) of f = x sigmoid(b x); see SwishMath in activations.h."""
    s = _sigmoid(b * x)
    q = s * (1 - s)
    return s, q, x * q


def _swish_class(beta_of: Callable[..., float]):
    """The formulas of x sigmoid(b x) with b = beta_of(the op's hyper-parameters)."""

    class SwishFormulas:
        @staticmethod
        def forward(x, *p, **kw):
            return x / (1 + torch.exp(-beta_of(*p, **kw) * x))

        @staticmethod
        def backward(g, x, *p, **kw):
            b = beta_of(*p, **kw)
            s, _, xq = _swish_terms(x, b)
            return g * (s + b * xq)

        @staticmethod
        def double_backward(gg, g, x, *p, **kw):
            b = beta_of(*p, **kw)
            s, q, xq = _swish_terms(x, b)
            return gg * g * (b * (2 * q + b * xq * (1 - 2 * s)))

        @staticmethod
        def value_and_slope(g, x, *p, **kw):
            """(f, g f') sharing one sigmoid (SwishMath::value_and_slope)."""
            b = beta_of(*p, **kw)
            s, _, xq = _swish_terms(x, b)
            return x * s, g * (s + b * xq)

    return SwishFormulas


Silu = _swish_class(lambda: 1.0)
Swish = _swish_class(lambda beta=1.0: beta)
QuickGelu = _swish_class(lambda: 1.702)

_SQRT_HALF = 0.70710678118654752440
_INV_SQRT_2PI = 0.39894228040143267794
_TANH_SCALE = 0.79788456080286535588
_TANH_CUBIC = 0.044715


class Gelu:
    @staticmethod
    def forward(x, approximate="none"):
        if approximate == "tanh":
            # tanh's argument written as in backward, so that Inductor computes
            # it once where a kernel needs both (a gated unit's backward).
            x2 = x * x
            t = torch.tanh(_TANH_SCALE * (x + _TANH_CUBIC * x2 * x))
            return 0.5 * x * (1 + t)
        return 0.5 * x * (1 + torch.erf(x * _SQRT_HALF))

    @staticmethod
    def backward(g, x, approximate="none"):
        if approximate == "tanh":
            x2 = x * x
            t = torch.tanh(_TANH_SCALE * (x + _TANH_CUBIC * x2 * x))
            du = _TANH_SCALE * (1 + 3 * _TANH_CUBIC * x2)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        cdf = 0.5 * (1 + torch.erf(x * _SQRT_HALF))
        pdf = _INV_SQRT_2PI * torch.exp(-0.5 * x * x)
        return g * (cdf + x * pdf)

    @staticmethod
    def double_backward(gg, g, x, approximate="none"):
        x2 = x * x
        if approximate == "tanh":
            t = torch.tanh(_TANH_SCALE * (x + _TANH_CUBIC * x2 * x))
            du = _TANH_SCALE * (1 + 3 * _TANH_CUBIC * x2)
            d2u = 6 * _TANH_SCALE * _TANH_CUBIC * x
            return gg * g * (1 - t * t) * (du + 0.5 * x * (d2u - 2 * t * du * du))
        pdf = _INV_SQRT_2PI * torch.exp(-0.5 * x2)
        return gg * g * pdf * (2 - x2)


class Mish:
    @staticmethod
    def forward(x):
        return x * torch.tanh(torch.log1p(torch.exp(x)))

    @staticmethod
    def backward(g, x):
        t = torch.tanh(torch.log1p(torch.exp(x)))
        return g * (t + x * (1 - t * t) * _sigmoid(x))

    @staticmethod
    def double_backward(gg, g, x):
        t = torch.tanh(torch.log1p(torch.exp(x)))
        s = _sigmoid(x)
        sech2 = 1 - t * t
        return gg * g * (2 * sech2 * s + x * sech2 * s * ((1 - s) - 2 * t * s))


class Softplus:
    @staticmethod
    def forward(x, beta=1.0, threshold=20.0):
        bx = x * beta
        return _mask(bx > threshold, x, torch.log1p(torch.exp(bx)) * (1.0 / beta))

    @staticmethod
    def backward(g, x, beta=1.0, threshold=20.0):
        bx = x * beta
        return _mask(bx > threshold, g, g * _sigmoid(bx))

    @staticmethod
    def double_backward(gg, g, x, beta=1.0, threshold=20.0):
        bx = x * beta
        s = _sigmoid(bx)
        return _mask(bx > threshold, 0, gg * g * beta * s * (1 - s))


def _sign(x):
    """-1, 0 or 1, and 0 for NaN (the C++ functor's nested where)."""
    return _mask(x < 0, -1.0, _mask(x > 0, 1.0, 0.0)).to(x.dtype)


class Softsign:
    forward = staticmethod(lambda x: x / (1 + torch.abs(x)))
    backward = staticmethod(lambda g, x: g / ((1 + torch.abs(x)) ** 2))
    double_backward = staticmethod(
        lambda gg, g, x: gg * g * -2 * _sign(x) / ((1 + torch.abs(x)) ** 3)
    )


class Hardsigmoid:
    forward = staticmethod(lambda x: torch.clamp(x + 3, 0, 6) * (1.0 / 6))
    backward = staticmethod(lambda g, x: _mask(x > -3, _mask(x < 3, g * (1.0 / 6), 0), 0))
    double_backward = staticmethod(lambda gg, g, x: torch.zeros_like(x))


class Hardswish:
    forward = staticmethod(lambda x: x * torch.clamp(x + 3, 0, 6) * (1.0 / 6))
    backward = staticmethod(
        lambda g, x: _mask(x <= -3, 0, _mask(x < 3, g * (x * (1.0 / 3) + 0.5), g))
    )
    double_backward = staticmethod(
        lambda gg, g, x: _mask(x <= -3, 0, _mask(x < 3, gg * g * (1.0 / 3), 0))
    )


class Hardtanh:
    forward = staticmethod(lambda x, min_val=-1.0, max_val=1.0: torch.clamp(x, min_val, max_val))
    backward = staticmethod(
        lambda g, x, min_val=-1.0, max_val=1.0: _mask(x <= min_val, 0, _mask(x >= max_val, 0, g))
    )
    double_backward = staticmethod(lambda gg, g, x, min_val=-1.0, max_val=1.0: torch.zeros_like(x))


class Relu6:
    forward = staticmethod(lambda x: Hardtanh.forward(x, 0.0, 6.0))
    backward = staticmethod(lambda g, x: Hardtanh.backward(g, x, 0.0, 6.0))
    double_backward = staticmethod(lambda gg, g, x: torch.zeros_like(x))


class LogSigmoid:
    forward = staticmethod(lambda x: _mask(x < 0, x, 0) - torch.log1p(torch.exp(-torch.abs(x))))
    backward = staticmethod(lambda g, x: g * _sigmoid(-x))

    @staticmethod
    def double_backward(gg, g, x):
        s = _sigmoid(x)
        return gg * g * -(s * (1 - s))


def _tanhshrink(x):
    # The kernel's: x - tanh x, its series near 0 where that cancels.
    x2 = x * x
    series = x * x2 * (1 / 3 + x2 * (-2 / 15 + x2 * (17 / 315 + x2 * (-62 / 2835))))
    return _mask(torch.abs(x) < 1 / 128, series, x - torch.tanh(x))


class Tanhshrink:
    forward = staticmethod(_tanhshrink)
    backward = staticmethod(lambda g, x: g * torch.tanh(x) ** 2)

    @staticmethod
    def double_backward(gg, g, x):
        t = torch.tanh(x)
        return gg * g * 2 * t * (1 - t * t)


def _shrink_backward(g, x, lambd=0.5):
    return _mask(torch.abs(x) <= lambd, 0, g)


class Softshrink:
    forward = staticmethod(
        lambda x, lambd=0.5: _mask(x > lambd, x - lambd, _mask(x < -lambd, x + lambd, x * 0))
    )
    backward = staticmethod(_shrink_backward)
    double_backward = staticmethod(lambda gg, g, x, lambd=0.5: torch.zeros_like(x))


class Hardshrink:
    forward = staticmethod(lambda x, lambd=0.5: _mask(torch.abs(x) <= lambd, 0, x))
    backward = staticmethod(_shrink_backward)
    double_backward = staticmethod(lambda gg, g, x, lambd=0.5: torch.zeros_like(x))


class Threshold:
    forward = staticmethod(lambda x, threshold, value: _mask(x <= threshold, value, x))
    backward = staticmethod(lambda g, x, threshold, value: _mask(x <= threshold, 0, g))
    double_backward = staticmethod(lambda gg, g, x, threshold, value: torch.zeros_like(x))


class SquaredRelu:
    forward = staticmethod(lambda x: _mask(x <= 0, 0, x * x))
    backward = staticmethod(lambda g, x: _mask(x <= 0, 0, 2 * g * x))
    double_backward = staticmethod(lambda gg, g, x: _mask(x <= 0, 0, 2 * gg * g))


def _backward_only(formulas):
    class Result:
        backward = formulas.backward
        double_backward = formulas.double_backward

    return Result


# Op name -> formulas, for every unary op of the C++ op table (op_table.h).
UNARY = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": Relu,
    "leaky_relu": LeakyRelu,
    "elu": Elu,
    "elu_result": EluResult,
    "selu": Selu,
    "selu_result": SeluResult,
    "silu": Silu,
    "swish": Swish,
    "gelu": Gelu,
    "celu": Celu,
    "celu_result": CeluResult,
    "mish": Mish,
    "softplus": Softplus,
    "softsign": Softsign,
    "hardsigmoid": Hardsigmoid,
    "hardswish": Hardswish,
    "hardtanh": Hardtanh,
    "relu6": Relu6,
    "logsigmoid": LogSigmoid,
    # The in-place ops' gradients from the output: the same formulas, read on y.
    "hardtanh_result": _backward_only(Hardtanh),
    "relu6_result": _backward_only(Relu6),
    "tanhshrink": Tanhshrink,
    "softshrink": Softshrink,
    "hardshrink": Hardshrink,
    "threshold": Threshold,
    "quick_gelu": QuickGelu,
    "squared_relu": SquaredRelu,
}


# ------------------------------------------------- two-input formulas
# forward(x, p), backward(g, x, p) -> (gx, gp per element),
# double_backward(ggx, ggp, g, x, p) -> (d/dg, d/dx, d/dp per element).


class Prelu:
    forward = staticmethod(lambda x, a: _mask(x > 0, x, a * x))

    @staticmethod
    def backward(g, x, a):
        positive = x > 0
        return _mask(positive, g, a * g), _mask(positive, 0, g * x)

    @staticmethod
    def double_backward(ggx, gga, g, x, a):
        positive = x > 0
        return (
            _mask(positive, ggx, a * ggx + gga * x),
            _mask(positive, 0, g * gga),
            _mask(positive, 0, g * ggx),
        )


class SwishLearnable:
    forward = staticmethod(lambda x, b: x / (1 + torch.exp(-b * x)))

    @staticmethod
    def _derivatives(x, b):
        s, q, xq = _swish_terms(x, b)
        one_minus_2s = 1 - 2 * s
        qr = 2 * q + b * xq * one_minus_2s
        return (
            s + b * xq,  # fx
            x * xq,  # fb
            b * qr,  # fxx
            2 * xq + b * (x * xq) * one_minus_2s,  # fxb
            x * (x * xq) * one_minus_2s,  # fbb
        )

    @classmethod
    def backward(cls, g, x, b):
        fx, fb, _, _, _ = cls._derivatives(x, b)
        return g * fx, g * fb

    @classmethod
    def double_backward(cls, ggx, ggb, g, x, b):
        fx, fb, fxx, fxb, fbb = cls._derivatives(x, b)
        return ggx * fx + ggb * fb, g * (ggx * fxx + ggb * fxb), g * (ggx * fxb + ggb * fbb)


def _glu_halves(x, dim):
    a, b = x.chunk(2, dim)
    s = _sigmoid(b)
    return a, s, s * (1 - s)


class Glu:
    @staticmethod
    def forward(x, dim=-1):
        a, s, _ = _glu_halves(x, dim)
        return a * s

    @staticmethod
    def backward(g, x, dim=-1):
        a, s, q = _glu_halves(x, dim)
        return torch.cat([g * s, g * a * q], dim)

    @staticmethod
    def double_backward(gg, g, x, dim=-1):
        a, s, q = _glu_halves(x, dim)
        gga, ggb = gg.chunk(2, dim)
        return (
            gga * s + ggb * a * q,
            torch.cat([ggb * g * q, g * q * (gga + a * (1 - 2 * s) * ggb)], dim),
        )


# ------------------------------------ built from a unary activation's formulas


def _at_input(name):
    """Unary op `name`'s value f(x), slope g f'(x) and curvature gg g f''(x) at
    its input x, whichever tensor its backward reads (AtInput in activations.h)."""
    formulas = UNARY[name]
    value = formulas.forward
    saved = getattr(_ops, f"{name}_backward").default._schema.arguments[1].name
    if saved != "result":
        return value, formulas.backward, formulas.double_backward

    def slope(g, x, *p, **kw):
        return formulas.backward(g, value(x, *p, **kw), *p, **kw)

    def curvature(gg, g, x, *p, **kw):
        y = value(x, *p, **kw)
        return formulas.backward(formulas.double_backward(gg, g, y, *p, **kw), y, *p, **kw)

    return value, slope, curvature


def _gated_ops(name):
    """<name>_glu: f(gate) * up (Gated in activations.h)."""
    value, slope, curvature = _at_input(name)

    def forward(gate, up, *p, **kw):
        return value(gate, *p, **kw) * up

    value_and_slope = getattr(UNARY[name], "value_and_slope", None)

    def backward(g, gate, up, *p, **kw):
        if value_and_slope is not None:  # f and f' sharing a sigmoid, as the kernel
            f, grad_gate = value_and_slope(g * up, gate, *p, **kw)
            return grad_gate, g * f
        return slope(g * up, gate, *p, **kw), g * value(gate, *p, **kw)

    def double_backward(gg_gate, gg_up, g, gate, up, *p, **kw):
        f = value(gate, *p, **kw)
        return (
            slope(gg_gate * up, gate, *p, **kw) + gg_up * f,
            curvature(gg_gate, g * up, gate, *p, **kw) + slope(gg_up * g, gate, *p, **kw),
            slope(gg_gate * g, gate, *p, **kw),
        )

    return forward, backward, double_backward


def _into_inputs(backward):
    """<name>_glu_backward_: the gradients written over gate and up."""

    def backward_(g, gate, up, *p, **kw):
        grad_gate, grad_up = backward(g, gate, up, *p, **kw)
        gate.copy_(grad_gate)
        up.copy_(grad_up)

    return backward_


def _bias_ops(name):
    """bias_<name>: f(x + bias), bias along the last dim (BiasAct in activations.h).
    The elementwise part is computed in float for half and bfloat16 and the bias
    gradient summed from its rounded values, as the C++ op does; summing the
    float values instead made Inductor keep a float32 copy of the gradient."""
    value, slope, curvature = _at_input(name)

    @_in_float
    def forward(x, bias, *p, **kw):
        return value(x + bias, *p, **kw)

    @_in_float
    def grad_x(g, x, bias, *p, **kw):
        return slope(g, x + bias, *p, **kw)

    def backward(g, x, bias, *p, **kw):
        gx = grad_x(g, x, bias, *p, **kw)
        return gx, gx.sum_to_size(bias.shape)

    @_in_float
    def second_order(gg_x, gg_bias, g, x, bias, *p, **kw):
        z = x + bias
        s = gg_x + gg_bias
        return slope(s, z, *p, **kw), curvature(s, g, z, *p, **kw)

    def double_backward(gg_x, gg_bias, g, x, bias, *p, **kw):
        d_g, gz = second_order(gg_x, gg_bias, g, x, bias, *p, **kw)
        return d_g, gz, gz.sum_to_size(bias.shape)

    return forward, backward, double_backward


# ----------------------------------------------------- op-level wrappers


def _in_float(fn):
    """fn computed in float32 for half and bfloat16 tensors (as the C++
    kernels do), each tensor result cast back to the inputs' dtype."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        dtype = next(a.dtype for a in args if isinstance(a, torch.Tensor))
        if dtype not in _REDUCED:
            return fn(*args, **kwargs)
        up = [a.float() if isinstance(a, torch.Tensor) else a for a in args]
        out = fn(*up, **kwargs)
        if isinstance(out, tuple):
            return tuple(o.to(dtype) for o in out)
        return out.to(dtype)

    return wrapper


def _channel_view(x, p):
    """A parameter laid over x: one value, or one per channel (dim 1)."""
    shape = [1] * x.dim()
    if x.dim() > 1:
        shape[1] = p.numel()
    return p.reshape(shape)


def _param_ops(formulas, broadcast: bool):
    """forward, backward and double backward of a two-input op whose parameter
    broadcasts over x (PReLU's weight, Swish's beta: its gradient is summed
    back to its shape) or matches x (RReLU's noise)."""
    view = _channel_view if broadcast else (lambda x, p: p)

    def reduce(per_element, x, p):
        if not broadcast:
            return per_element
        return per_element.sum_to_size(view(x, p).shape).reshape(p.shape)

    def forward(x, p):
        return formulas.forward(x, view(x, p))

    def backward(g, x, p):
        gx, gp = formulas.backward(g, x, view(x, p))
        return gx, reduce(gp, x, p)

    def double_backward(ggx, ggp, g, x, p):
        d_g, d_x, d_p = formulas.double_backward(ggx, view(x, ggp), g, x, view(x, p))
        return d_g, d_x, reduce(d_p, x, p)

    return forward, backward, double_backward


def _inplace(forward):
    def inplace(x, *args, **kwargs):
        x.copy_(forward(x, *args, **kwargs))

    return inplace


def _build() -> dict:
    table = {}
    for name, formulas in UNARY.items():
        if hasattr(formulas, "forward"):
            table[getattr(_ops, name).default] = _in_float(formulas.forward)
            if hasattr(_ops, f"{name}_"):
                table[getattr(_ops, f"{name}_").default] = _inplace(_in_float(formulas.forward))
        table[getattr(_ops, f"{name}_backward").default] = _in_float(formulas.backward)
        table[getattr(_ops, f"{name}_double_backward").default] = _in_float(
            formulas.double_backward
        )
    for packet, overload, formulas, broadcast in (
        ("prelu", "default", Prelu, True),
        ("swish", "Tensor", SwishLearnable, True),
        ("rrelu_with_noise", "default", Prelu, False),
    ):
        ops = _param_ops(formulas, broadcast)
        for suffix, fn in zip(("", "_backward", "_double_backward"), ops):
            table[getattr(getattr(_ops, packet + suffix), overload)] = _in_float(fn)
    # The gated and bias ops the C++ op table declares (op_table.h).
    for name in UNARY:
        if hasattr(_ops, f"{name}_glu"):
            ops = [_in_float(fn) for fn in _gated_ops(name)]
            for suffix, fn in zip(("", "_backward", "_double_backward"), ops):
                table[getattr(_ops, f"{name}_glu{suffix}").default] = fn
            table[getattr(_ops, f"{name}_glu_backward_").default] = _into_inputs(ops[1])
        if hasattr(_ops, f"bias_{name}"):
            for suffix, fn in zip(("", "_backward", "_double_backward"), _bias_ops(name)):
                table[getattr(_ops, f"bias_{name}{suffix}").default] = fn
    table[_ops.glu.default] = _in_float(Glu.forward)
    table[_ops.glu_backward.default] = _in_float(Glu.backward)
    table[_ops.glu_double_backward.default] = _in_float(Glu.double_backward)
    return table


# OpOverload -> decomposition, for every torch_act op.
DECOMPOSITIONS = _build()

# -------------------------------------------------------- the compile switch

_MODES = ("decompose", "opaque")
_mode = os.environ.get("TORCH_ACT_COMPILE", "decompose")
if _mode not in _MODES:
    raise ValueError(f"TORCH_ACT_COMPILE must be 'decompose' or 'opaque', got {_mode!r}")


def _apply(module) -> None:
    """Adds or removes our entries in Inductor's decomposition table."""
    table = module.decompositions
    for op, fn in DECOMPOSITIONS.items():
        if _mode == "decompose":
            table[op] = fn
        elif table.get(op) is fn:
            del table[op]
    # Inductor caches a copy of the table merged with its random-op entries.
    cached = getattr(module, "fast_random_decomps", None)
    if hasattr(cached, "cache_clear"):
        cached.cache_clear()


def compile_mode() -> str:
    """'decompose' (Inductor fuses torch_act's ops with their neighbours) or
    'opaque' (compiled code calls the C++ kernels)."""
    return _mode


def set_compile_mode(mode: str) -> None:
    """Whether torch.compile sees through torch_act's ops ('decompose', the
    default) or calls the C++ kernels ('opaque'). Applies to compilations
    after the call (torch._dynamo.reset() drops compiled code)."""
    global _mode
    if mode not in _MODES:
        raise ValueError(f"set_compile_mode: mode must be 'decompose' or 'opaque', got {mode!r}")
    _mode = mode
    module = sys.modules.get(_INDUCTOR_DECOMPOSITIONS)
    if module is not None:
        _apply(module)


# Inductor's table lives in torch._inductor.decomposition, which takes a
# second to import: our entries go in when torch.compile first imports it,
# not when torch_act is imported.
_INDUCTOR_DECOMPOSITIONS = "torch._inductor.decomposition"


class _AfterImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Runs _apply once the module is imported, by whoever imports it."""

    def find_spec(self, name, path, target=None):
        if name != _INDUCTOR_DECOMPOSITIONS:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        self._loader = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _apply(module)


def _install() -> None:
    module = sys.modules.get(_INDUCTOR_DECOMPOSITIONS)
    if module is not None:
        _apply(module)
    else:
        sys.meta_path.insert(0, _AfterImport())


_install()
