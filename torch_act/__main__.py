"""python -m torch_act: self-check and speed summary against native torch.

One row per activation: the largest forward and gradient differences from
torch.nn.functional (float32) and from a float64 reference, and the speed of
our op relative to native torch (native time / ours: above 1 means faster),
measured side by side in this process. Exits non-zero if any check fails.

python -m torch_act bench ...: the full benchmark (see torch_act/benchmark.py).
python -m torch_act bench --models ...: whole small models, eager and compiled
(benchmarks/compiled_models.py; needs a source checkout).
python -m torch_act bench --gated: gated units and bias + activation against
the native composites, and a Llama MLP block's memory (benchmarks/gated.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import sys

import torch

import torch_act
from torch_act import functional as TF
from torch_act import benchmark
from torch_act._spec import ACTIVATIONS, Activation
from torch_act._timing import timer_for

# Worst differences accepted for float32 against torch and against float64.
FORWARD_TOL = 1e-5
GRAD_TOL = 1e-4


def _args_for(act: Activation, x: torch.Tensor) -> tuple:
    if act.learnable == "weight":  # PReLU: one weight per channel (dim 1)
        return (torch.linspace(-0.5, 0.75, x.shape[1], dtype=x.dtype, device=x.device),)
    return ()


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest difference, relative where |b| > 1 (PReLU's weight gradient is a
    sum over a million elements)."""
    a, b = a.double().cpu(), b.double().cpu()
    return ((a - b).abs() / b.abs().clamp_min(1.0)).max().item()


def check(act: Activation, numel: int, quick: bool, device: torch.device) -> dict:
    gen = torch.Generator().manual_seed(0)
    x64 = (
        torch.randn(
            numel // benchmark.CHANNELS, benchmark.CHANNELS, generator=gen, dtype=torch.float64
        )
        * 4
    )
    ours_fn, native_fn = getattr(TF, act.name), act.reference

    kwargs = act.sample_kwargs

    def forward_and_grad(fn, x):
        x = x.detach().requires_grad_()
        extra = [t.requires_grad_() for t in _args_for(act, x)]
        y = fn(x, *extra, **kwargs)
        grads = torch.autograd.grad(y, [x, *extra], torch.ones_like(y))
        return y.detach(), grads

    x32 = x64.float().to(device)
    ours_y, ours_g = forward_and_grad(ours_fn, x32)
    native_y, native_g = forward_and_grad(native_fn, x32)
    exact_y, exact_g = forward_and_grad(native_fn, x64)

    row = {
        "fwd_vs_torch": _max_diff(ours_y, native_y),
        "grad_vs_torch": max(_max_diff(a, b) for a, b in zip(ours_g, native_g)),
        "fwd_vs_f64": _max_diff(ours_y, exact_y),
        "grad_vs_f64": max(_max_diff(a, b) for a, b in zip(ours_g, exact_g)),
    }
    row["ok"] = (
        row["fwd_vs_f64"] <= FORWARD_TOL * 10
        and row["grad_vs_f64"] <= GRAD_TOL * 10
        and row["fwd_vs_torch"] <= FORWARD_TOL * 10
        and row["grad_vs_torch"] <= GRAD_TOL * 10
    )

    # Speed: the forward op, and forward + backward through the nn.Module.
    repeats = 5 if quick else 11
    for mode, key in (("forward", "fwd_speed"), ("train", "train_speed")):
        ours_call, native_call, _ = benchmark.callables(act, mode, x32.detach())
        ours_t, native_t = timer_for(device)(ours_call, native_call, repeats=repeats)
        row[key] = native_t / ours_t
    return row


def _source_benchmark(name: str, option: str):
    """benchmarks/<name>.py, loaded by path: benchmarks/ is not a package."""
    path = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / f"{name}.py"
    if not path.is_file():
        sys.exit(f"bench {option} needs a source checkout of torch_act: {path} not found")
    spec = importlib.util.spec_from_file_location(f"torch_act_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        # Their own option sets: each of these benchmarks parses the rest.
        if "--models" in argv[1:]:
            return _source_benchmark("compiled_models", "--models").main(argv[1:])
        if "--gated" in argv[1:]:
            rest = [a for a in argv[1:] if a != "--gated"]
            return _source_benchmark("gated", "--gated").main(rest)
        return benchmark.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m torch_act", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--numel", type=int, default=1 << 20, help="elements per tensor (default 1M)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer timing repeats")
    cuda_ready = torch.cuda.is_available() and torch_act.has_cuda_kernels()
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cuda" if cuda_ready else "cpu",
        help="where to run our ops and torch's (default: cuda when a GPU and our CUDA kernels are there)",
    )
    args = parser.parse_args(argv)
    if args.device == "cuda" and not cuda_ready:
        parser.error("--device cuda needs a GPU and a torch_act built with its CUDA kernels")
    device = torch.device(args.device)

    where = (
        f"GPU {torch.cuda.get_device_name()}"
        if device.type == "cuda"
        else f"CPU capability {torch_act.cpu_capability()} | threads {torch.get_num_threads()}"
    )
    print(
        f"torch_act {torch_act.__version__} | torch {torch.__version__} | {where} | "
        f"CUDA kernels {'built' if torch_act.has_cuda_kernels() else 'not built'}"
    )
    print(
        f"float32 on {device.type}, {args.numel} elements; speed = native time / torch_act time (>1: faster)\n"
    )
    header = (
        f"{'activation':<12} {'fwd err':>9} {'grad err':>9} {'fwd err':>9} {'grad err':>9}"
        f" {'fwd':>7} {'fwd+bwd':>8}  check"
    )
    print(f"{'':<12} {'vs torch.nn.functional':>19} {'vs float64 reference':>20} {'speed':>11}")
    print(header)
    failed = []
    for act in ACTIVATIONS:
        row = check(act, args.numel, args.quick, device)
        print(
            f"{act.name:<12} {row['fwd_vs_torch']:9.1e} {row['grad_vs_torch']:9.1e}"
            f" {row['fwd_vs_f64']:9.1e} {row['grad_vs_f64']:9.1e}"
            f" {row['fwd_speed']:6.2f}x {row['train_speed']:7.2f}x  {'ok' if row['ok'] else 'FAIL'}"
        )
        if not row["ok"]:
            failed.append(act.name)
    print()
    if failed:
        print(f"self-check FAILED for: {', '.join(failed)}")
        return 1
    print(f"self-check passed for all {len(ACTIVATIONS)} activations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
