"""What only the GPU has: the vectorized path's edges, streams, other devices,
CUDA graphs, and 64-bit indexing. The table-driven suites (parity, gradcheck,
opcheck, compile, in-place) run on CUDA through their `device` parameter."""

import copy
import os
import subprocess
import sys

import pytest
import torch

import torch_act.functional as TF
import torch_act.nn as TN
from cases import (
    DEFAULT_CASES,
    DEFAULT_CASE_IDS,
    HAS_CUDA,
    TOLERANCE,
    expected_forward,
    fill_values,
    forward_backward,
    make_module,
)

pytestmark = pytest.mark.skipif(not HAS_CUDA, reason="needs a GPU and torch_act's CUDA kernels")

# Lengths around every vector width (4 floats, 8 halves, 2 doubles per 16
# bytes) and past one block's worth of vectors, each also from an offset.
LENGTHS = (1, 2, 3, 7, 8, 9, 31, 33, 4095, 4097, 1 << 20 | 5)
DTYPES = (torch.float32, torch.bfloat16, torch.float16, torch.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: str(d).replace("torch.", ""))
@pytest.mark.parametrize("offset", [0, 1, 3])
@pytest.mark.parametrize("length", LENGTHS)
def test_vector_path_edges(length, offset, dtype):
    """Forward and backward against torch on 1-D tensors whose length and
    start (alignment) vary: the vectorized body, its tail, and the fallback."""
    base = fill_values(length + offset, special=True).to("cuda", dtype)
    x = base[offset:]
    for case in DEFAULT_CASES:
        tensors = case.tensor_args(x)
        if case.act.name == "glu" and length % 2:
            continue
        torch.testing.assert_close(
            case.call(case.ours, x, *tensors),
            expected_forward(case, x, *tensors),
            equal_nan=True,
            **TOLERANCE[dtype],
            msg=lambda m: f"{case.id}: {m}",
        )


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=DEFAULT_CASE_IDS)
def test_runs_on_the_current_stream(case):
    """Work is queued on the caller's stream: results read after syncing only
    that stream are complete."""
    x = torch.randn(1 << 22, device="cuda") * 3
    tensors = case.tensor_args(x.view(-1, 64))
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        out = case.call(case.ours, x.view(-1, 64), *tensors)
        copy_back = out.to("cpu", non_blocking=False)
    stream.synchronize()
    expected = expected_forward(case, x.view(-1, 64), *tensors).cpu()
    torch.testing.assert_close(copy_back, expected, equal_nan=True, **TOLERANCE[torch.float32])


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
@pytest.mark.parametrize("case", DEFAULT_CASES, ids=DEFAULT_CASE_IDS)
def test_second_gpu(case):
    """A tensor on cuda:1 is computed there while cuda:0 is current."""
    x = (torch.randn(4, 64, 9) * 3).to("cuda:1").requires_grad_()
    tensors = case.tensor_args(x, requires_grad=True)
    with torch.cuda.device(0):
        out = case.call(case.ours, x, *tensors)
        (grad,) = torch.autograd.grad(out.sum(), x)
    assert out.device == x.device and grad.device == x.device
    expected = case.call(case.reference, x, *tensors)
    (expected_grad,) = torch.autograd.grad(expected.sum(), x)
    torch.testing.assert_close(out, expected, **TOLERANCE[torch.float32])
    torch.testing.assert_close(grad, expected_grad, rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=DEFAULT_CASE_IDS)
def test_compile_reduce_overhead(case):
    """torch.compile(mode="reduce-overhead") captures our kernels in CUDA
    graphs; replays give eager's forward and gradients."""
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(6, 8), make_module(case, 8), torch.nn.Linear(8, 4)
    ).to("cuda")
    if case.act.name == "rrelu":
        model.eval()  # training RReLU draws on the host side of the graph
    compiled = torch.compile(copy.deepcopy(model), mode="reduce-overhead", fullgraph=True)
    for step in range(3):  # warm-up, record, replay
        x = torch.randn(16, 6, device="cuda") * 3
        out_c, grads_c = forward_backward(compiled, x)
        out_e, grads_e = forward_backward(model, x)
        torch.testing.assert_close(out_c, out_e, rtol=1e-4, atol=1e-5)
        for a, b in zip(grads_c, grads_e):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_device_mismatch_is_an_error():
    x = torch.randn(2, 3, device="cuda")
    with pytest.raises(RuntimeError):
        TF.prelu(x, torch.full((3,), 0.25))
    with pytest.raises(RuntimeError):
        torch.ops.torch_act.relu_backward(torch.randn(2, 3), x)


def test_module_on_cuda_matches_torch():
    """nn modules move with .to("cuda"), parameters included."""
    ours, theirs = TN.PReLU(num_parameters=5).cuda(), torch.nn.PReLU(num_parameters=5).cuda()
    x = torch.randn(3, 5, 7, device="cuda")
    out_a, grads_a = forward_backward(ours, x)
    out_b, grads_b = forward_backward(theirs, x)
    torch.testing.assert_close(out_a, out_b)
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(a, b)


# TORCH_ACT_CUDA_GRID is read once per process, so each grid runs in a child:
# GELU forward and backward on a flat (contiguous) and a strided (every other
# element) input, results saved for the parent.
GRID_CHILD = """
import sys, torch, torch_act.functional as TF
x = torch.load(sys.argv[1]).cuda()
results = {}
for name, view in {"flat": x, "strided": x[::2]}.items():
    view = view.detach().requires_grad_()
    out = TF.gelu(view)
    out.backward(torch.ones_like(out))
    results[name] = (out.detach().cpu(), view.grad.cpu())
torch.save(results, sys.argv[2])
"""


def run_with_grid(grid, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TORCH_ACT_CUDA_GRID"}
    if grid is not None:
        env["TORCH_ACT_CUDA_GRID"] = grid
    results = tmp_path / f"{grid}.pt"
    child = subprocess.run(
        [sys.executable, "-c", GRID_CHILD, str(tmp_path / "x.pt"), str(results)],
        env=env,
        capture_output=True,
        text=True,
    )
    return child, results


def test_grid_choice(tmp_path):
    """TORCH_ACT_CUDA_GRID=per_tile (a block per tile of work) gives the
    default grid's results bit for bit, on the flat and the strided kernel;
    any other value is refused with an error that names the variable."""
    torch.save(torch.randn((1 << 22) + 3) * 3, tmp_path / "x.pt")
    outcomes = {}
    for grid in (None, "per_tile"):
        child, results = run_with_grid(grid, tmp_path)
        assert child.returncode == 0, child.stderr
        outcomes[grid] = torch.load(results)
    for name, (out, grad) in outcomes[None].items():
        per_tile_out, per_tile_grad = outcomes["per_tile"][name]
        assert torch.equal(out, per_tile_out) and torch.equal(grad, per_tile_grad), name
    child, _ = run_with_grid("bogus", tmp_path)
    assert child.returncode != 0 and "TORCH_ACT_CUDA_GRID" in child.stderr


@pytest.mark.skipif(
    os.environ.get("TORCH_ACT_TEST_HUGE") != "1",
    reason="set TORCH_ACT_TEST_HUGE=1 (needs ~20 GB of GPU memory)",
)
@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
def test_over_2_pow_31_elements(strided):
    """64-bit indexing: more elements than an int32 counts, checked at the far end."""
    n = (1 << 31) + 129
    if strided:
        x = torch.empty(n, 2, dtype=torch.bfloat16, device="cuda")[:, 0]
    else:
        x = torch.empty(n, dtype=torch.bfloat16, device="cuda")
    pattern = torch.linspace(-4, 4, 4096, dtype=torch.bfloat16, device="cuda")
    x.copy_(pattern.repeat(n // 4096 + 1)[:n])
    out = TF.silu(x)
    tail = slice(n - 4096, n)
    torch.testing.assert_close(out[tail], torch.nn.functional.silu(x[tail]))
    torch.testing.assert_close(out[:4096], torch.nn.functional.silu(x[:4096]))
