"""Forward and gradient parity with torch.nn.functional for every op x dtype x layout."""

import pytest
import torch
import torch_act.functional as TF
from torch_act._spec import BY_NAME

from cases import (
    CASES,
    CASE_IDS,
    DEVICES,
    FLOAT_DTYPES,
    LAYOUTS,
    REDUCED,
    TOLERANCE,
    expected_forward,
    make_input,
)

GRAD_TOLERANCE = {
    torch.float64: TOLERANCE[torch.float64],
    torch.float32: dict(rtol=2e-5, atol=1e-5),
}

DTYPE_IDS = [str(d).replace("torch.", "") for d in FLOAT_DTYPES]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_forward(device, case, layout, dtype):
    x = make_input(layout, dtype, special=True, device=device)
    tensors = case.tensor_args(x)
    if raises_like_torch(case, x, *tensors):
        return
    out = case.call(case.ours, x, *tensors)
    expected = expected_forward(case, x, *tensors)

    assert out.dtype == x.dtype and out.shape == expected.shape
    if out.shape == x.shape:
        # The input's layout when it is dense, else contiguous: what empty_like gives.
        assert out.stride() == torch.empty_like(x).stride()
    else:  # GLU: a new shape, contiguous
        assert out.is_contiguous()
    torch.testing.assert_close(out, expected, equal_nan=True, **TOLERANCE[dtype])


def raises_like_torch(case, x, *tensors) -> bool:
    """Where torch rejects the input (GLU on a 0-dim or odd-sized input), ours
    must reject it too; returns whether that was the case."""
    try:
        case.call(case.reference, x, *tensors)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="torch_act"):
            case.call(case.ours, x, *tensors)
        return True
    return False


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_gradient(device, case, layout, dtype):
    """Gradients for the input (and learnable tensor) equal torch's, in the same dtype.
    Inputs include exactly 0 and the kinks, so torch's convention there is checked."""

    def grads(fn, dtype):
        # x is a view of (or op on) a leaf; autograd.grad differentiates w.r.t. x itself.
        x = make_input(layout, dtype, requires_grad=True, device=device)
        tensors = case.tensor_args(x, requires_grad=True)
        out = case.call(fn, x, *tensors)
        grad_out = torch.randn(
            out.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64
        ).to(device, dtype)
        return torch.autograd.grad(out, [x, *tensors], grad_out), grad_out

    x = make_input(layout, dtype, device=device)
    if raises_like_torch(case, x, *case.tensor_args(x)):
        return
    ours, grad_out = grads(case.ours, dtype)
    if dtype in REDUCED:
        # torch's own half-precision gradients round intermediates (Swish is a
        # composite there), so the yardstick is float64, rounded; the absolute
        # tolerance scales with the gradient, since ops that save their output
        # (ELU, SELU, sigmoid) can only be as exact as the rounded output.
        reference, _ = grads(case.reference, torch.float64)
        scale = grad_out.abs().max().item() if grad_out.numel() else 1.0
        tolerance = dict(rtol=TOLERANCE[dtype]["rtol"], atol=4 * torch.finfo(dtype).eps * scale)
        reference = [r.to(dtype) for r in reference]
    else:
        reference, _ = grads(case.reference, dtype)
        tolerance = GRAD_TOLERANCE[dtype]
    assert len(ours) == len(reference)
    for a, b in zip(ours, reference):
        torch.testing.assert_close(a, b, equal_nan=True, **tolerance)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["float32", "bfloat16"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_large_parallel(device, case, dtype):
    """A tensor past the parallel grain size, split across threads (on the GPU:
    many blocks, and a tail past the last whole vector)."""
    x = make_input("large", dtype, special=True, device=device)
    tensors = case.tensor_args(x)
    if raises_like_torch(case, x, *tensors):
        return
    torch.testing.assert_close(
        case.call(case.ours, x, *tensors),
        expected_forward(case, x, *tensors),
        equal_nan=True,
        **TOLERANCE[dtype],
    )


# (shape, channels_last) for the parameter-gradient test. On the CPU a
# per-channel weight runs one row per channel block (rows shorter than a
# vector take the masked path). On the GPU the parameter's gradient is summed
# per channel in the backward pass (csrc/cuda/channel_walk.h): rows of
# channels x inner <= 256 by a block per run of rows, runs of a channel of 32
# or more by a block per chunk of one channel, wider rows of shorter runs by
# a block per span of each row.
PARAM_LAYOUTS = [
    ((64, 1), False),
    ((64, 3), False),
    ((32, 8), False),
    ((16, 17), False),
    ((8, 33), False),
    ((4, 5, 1, 1), False),
    ((4, 3, 7, 7), False),
    ((4, 3, 7, 7), True),
    ((4, 3, 64, 64), False),
    ((2, 300, 40), False),
    ((3, 2, 20001), False),
    ((4, 16, 16, 16), True),
    ((512, 300), False),
    ((2, 260, 3, 5), True),
    ((6, 100, 3), False),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("layout", PARAM_LAYOUTS, ids=str)
@pytest.mark.parametrize("kind", ["prelu-channels", "prelu-single", "swish-beta"])
@pytest.mark.parametrize("device", DEVICES)
def test_param_gradient_layouts(device, kind, layout, dtype):
    """The forward and both gradients of the learnable-parameter ops, against
    float64 autograd of torch's formula on the same (rounded) values, over
    layouts that take every path of the parameter's reduction."""
    shape, channels_last = layout
    gen = torch.Generator().manual_seed(0)
    x = (torch.randn(shape, generator=gen) * 3).to(dtype)
    grad_out = torch.randn(shape, generator=gen).to(dtype)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
        grad_out = grad_out.contiguous(memory_format=torch.channels_last)
    n_param = shape[1] if kind == "prelu-channels" else 1
    param = (torch.rand(n_param, generator=gen) + 0.25).to(dtype)
    op = "swish" if kind == "swish-beta" else "prelu"
    if op == "swish":
        param = param.reshape(())
    reference, ours = BY_NAME[op].reference, getattr(TF, op)

    def grads(fn, x, param, grad_out):
        x = x.detach().requires_grad_()
        param = param.detach().requires_grad_()
        return torch.autograd.grad(fn(x, param), [x, param], grad_out)

    x, param, grad_out = x.to(device), param.to(device), grad_out.to(device)
    out = ours(x, param)
    assert out.stride() == x.stride()
    torch.testing.assert_close(
        out.double(), reference(x.double(), param.double()), **TOLERANCE[dtype]
    )
    got_x, got_param = grads(ours, x, param, grad_out)
    want_x, want_param = grads(reference, x.double(), param.double(), grad_out.double())
    assert got_x.stride() == x.stride()
    tol = GRAD_TOLERANCE.get(dtype) or TOLERANCE[dtype]
    torch.testing.assert_close(got_x.double(), want_x, **tol)
    # The parameter's gradient sums many terms, each rounded to the dtype on
    # some paths: the error grows like eps * the terms' root sum of squares
    # (per parameter), not with the (cancelling) result.
    terms_rss = ((grad_out.double() * x.double()).square().sum().item() / n_param) ** 0.5
    atol = max(tol["atol"], 4 * torch.finfo(dtype).eps * terms_rss)
    torch.testing.assert_close(got_param.double(), want_param, rtol=tol["rtol"], atol=atol)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_reduced_rounding_is_torch_bit_for_bit(dtype):
    # Every float result is rounded to the reduced dtype exactly as torch
    # rounds it, denormal results included. (On CPUs with AVX512-BF16 the
    # kernels round normal values in one instruction, which would flush
    # denormals.) leaky_relu's slope * x is one float product, so any
    # difference is the rounding. NaN need only be NaN: torch's own bit
    # pattern differs between its vector (0xffff) and scalar (0x7fc0) loops.
    gen = torch.Generator().manual_seed(0)
    bits = torch.randint(-(2**15), 2**15, (1 << 16,), generator=gen, dtype=torch.int32)
    x = bits.to(torch.int16).view(dtype)
    tiny = torch.finfo(dtype).smallest_normal
    edges = torch.tensor(
        [
            tiny,
            -tiny,
            2 * tiny,
            1.5 * tiny,
            float("nan"),
            -float("nan"),
            float("inf"),
            -float("inf"),
            0.0,
            -0.0,
            torch.finfo(dtype).max,
            -torch.finfo(dtype).max,
        ],
        dtype=dtype,
    )
    # The edges repeated within whole vectors and alone within normal ones.
    x = torch.cat([x, edges.repeat(64), x[:31], edges[:1], x[:200]])
    for slope in (0.3, 0.7071, 3.0, -1.5):
        ours = TF.leaky_relu(x, slope)
        theirs = torch.nn.functional.leaky_relu(x, slope)
        assert torch.equal(ours.isnan(), theirs.isnan())
        numbers = ~theirs.isnan()
        assert torch.equal(ours[numbers].view(torch.int16), theirs[numbers].view(torch.int16))
        denormal = (theirs.abs() < tiny) & (theirs != 0)
        assert denormal.any()  # the case a one-instruction rounding gets wrong
