"""Gated units and fused bias + activation against the native composites, and
the memory a Llama gated MLP block keeps for backward.

Speed: forward + backward of ``swiglu(a, b)`` against ``F.silu(a) * b`` (and
GEGLU, bias + GELU likewise), each eager and under ``torch.compile``, timed
interleaved in this process (torch_act/_timing.py, medians over repeats).
Ratios are native time / ours (above 1: ours faster); "ours eager / compiled
native" asks whether the fused op needs the compiler at all.

Memory: torch_act.memory.saved_bytes of one block (d=1024, hidden 2816, 2048
tokens): transformers-style LlamaMLP (three Linear layers, SiLU, a product)
against torch_act.nn.GatedMLP from the same weights.

    python benchmarks/gated.py [--quick] [--device cuda] [--json PATH] [--markdown PATH]
    python -m torch_act bench --gated [...]          # the same

On CUDA the times are CUDA-event times (torch_act/_timing.py) and the peak is
the caching allocator's.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

import torch_act
import torch_act.functional as TF
from torch_act._timing import median_seconds
from torch_act.benchmark import _environment_line, environment
from torch_act.memory import saved_bytes

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
SIZES = {"1M": 1 << 20, "16M": 1 << 24}


def _inputs(shapes, dtype: torch.dtype, device: str) -> tuple:
    gen = torch.Generator().manual_seed(0)
    return tuple(
        torch.randn(shape, generator=gen).to(device, dtype).requires_grad_() for shape in shapes
    )


def _gated_case(native: Callable, ours: Callable) -> Callable:
    """(native, ours, inputs factory) for a two-input gated op: (gate, up)."""

    def make(numel: int, dtype: torch.dtype, device: str):
        return _inputs([(numel // 1024, 1024)] * 2, dtype, device)

    return native, ours, make


def _bias_case(native: Callable, ours: Callable) -> Callable:
    """(native, ours, inputs factory) for a bias op: (x, bias along the last dim)."""

    def make(numel: int, dtype: torch.dtype, device: str):
        return _inputs([(numel // 4096, 4096), (4096,)], dtype, device)

    return native, ours, make


CASES = {
    "swiglu": _gated_case(lambda a, b: F.silu(a) * b, TF.swiglu),
    "geglu": _gated_case(lambda a, b: F.gelu(a) * b, TF.geglu),
    "geglu_tanh": _gated_case(
        lambda a, b: F.gelu(a, approximate="tanh") * b,
        lambda a, b: TF.geglu(a, b, approximate="tanh"),
    ),
    "bias_gelu": _bias_case(
        lambda x, bias: F.gelu(x + bias), lambda x, bias: TF.bias_act(x, bias, "gelu")
    ),
}


def _step(fn: Callable, inputs: tuple) -> Callable[[], None]:
    """forward + backward with a fixed output gradient, into fresh .grad."""
    shape = fn(*inputs).shape
    grad = torch.randn(shape, generator=torch.Generator().manual_seed(1)).to(inputs[0])

    def run():
        out = fn(*inputs)
        torch.autograd.grad(out, inputs, grad)

    return run


def speed_rows(quick: bool, device: str) -> list[dict]:
    repeats = 5 if quick else 11
    rows = []
    for name, (native, ours, make) in CASES.items():
        for size, numel in SIZES.items():
            for dtype_name, dtype in DTYPES.items():
                inputs = make(numel, dtype, device)
                torch._dynamo.reset()
                # Fresh kernels: Inductor's on-disk cache is not keyed on our
                # decompositions, so a cached kernel may predate them.
                torch._inductor.config.force_disable_caches = True
                compiled_native = torch.compile(native, fullgraph=True)
                compiled_ours = torch.compile(ours, fullgraph=True)
                fns = [_step(f, inputs) for f in (native, ours, compiled_native, compiled_ours)]
                t_native, t_ours, t_cnative, t_cours = median_seconds(
                    *fns, repeats=repeats, device=device
                )
                rows.append(
                    {
                        "op": name,
                        "size": size,
                        "dtype": dtype_name,
                        "native_eager_ms": t_native * 1e3,
                        "ours_eager_ms": t_ours * 1e3,
                        "native_compiled_ms": t_cnative * 1e3,
                        "ours_compiled_ms": t_cours * 1e3,
                        "eager_ratio": t_native / t_ours,
                        "compiled_ratio": t_cnative / t_cours,
                        "ours_eager_vs_native_compiled": t_cnative / t_ours,
                    }
                )
                print(
                    f"{name:11s} {size:>4s} {dtype_name:9s} eager {t_native / t_ours:5.2f}x  "
                    f"compiled {t_cnative / t_cours:5.2f}x  ours eager / compiled native "
                    f"{t_cnative / t_ours:5.2f}x",
                    flush=True,
                )
    return rows


class LlamaMLP(nn.Module):
    """transformers' LlamaMLP, written out: down(silu(gate(x)) * up(x))."""

    def __init__(self, d_model: int, d_hidden: int):
        super().__init__()
        self.gate_proj = nn.Linear(d_model, d_hidden, bias=False)
        self.up_proj = nn.Linear(d_model, d_hidden, bias=False)
        self.down_proj = nn.Linear(d_hidden, d_model, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


def memory_rows(device: str, d_model=1024, d_hidden=2816, tokens=2048) -> list[dict]:
    rows = []
    for dtype_name, dtype in DTYPES.items():
        torch.manual_seed(0)
        native = LlamaMLP(d_model, d_hidden).to(device, dtype)
        fused = torch_act.nn.GatedMLP.from_module(native)
        x = torch.randn(tokens, d_model).to(device, dtype).requires_grad_()
        n, f = saved_bytes(native, x), saved_bytes(fused, x)
        rows.append(
            {
                "dtype": dtype_name,
                "shape": f"d={d_model}, hidden={d_hidden}, tokens={tokens}",
                "native_saved_MiB": n.saved_bytes / 2**20,
                "ours_saved_MiB": f.saved_bytes / 2**20,
                "saved_reduction": 1 - f.saved_bytes / n.saved_bytes,
                "native_peak_MiB": n.peak_bytes / 2**20,
                "ours_peak_MiB": f.peak_bytes / 2**20,
                "peak_reduction": 1 - f.peak_bytes / n.peak_bytes,
            }
        )
        print(
            f"Llama MLP {dtype_name}: saved {n.saved_bytes / 2**20:.1f} -> "
            f"{f.saved_bytes / 2**20:.1f} MiB ({rows[-1]['saved_reduction']:.1%} less), peak "
            f"{n.peak_bytes / 2**20:.1f} -> {f.peak_bytes / 2**20:.1f} MiB "
            f"({rows[-1]['peak_reduction']:.1%} less)",
            flush=True,
        )
    return rows


def markdown(result: dict) -> str:
    device = result["environment"].get("device", "cpu").upper()
    lines = [
        f"### Gated units and bias + activation ({device})",
        "",
        f"`python -m torch_act bench --gated` (benchmarks/gated.py). {_environment_line(result['environment'])}",
        "Forward + backward; ratios are native time / ours (above 1: ours faster); "
        "native is the composite (`F.silu(a) * b`, `F.gelu(x + bias)`), eager against "
        "our eager op, compiled against our op compiled (decomposed, fused by Inductor), "
        "and compiled native against our eager op.",
        "",
        "| op | size | dtype | eager | compiled | ours eager / compiled native |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["speed"]:
        lines.append(
            f"| {r['op']} | {r['size']} | {r['dtype']} | {r['eager_ratio']:.2f}x | "
            f"{r['compiled_ratio']:.2f}x | {r['ours_eager_vs_native_compiled']:.2f}x |"
        )
    lines += [
        "",
        "Memory of one Llama gated MLP block (torch_act.memory.saved_bytes: storages kept "
        "for backward, inputs and weights left out; peak of forward + backward):",
        "",
        "| dtype | saved, native | saved, GatedMLP | less | peak, native | peak, GatedMLP | less |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["memory"]:
        lines.append(
            f"| {r['dtype']} | {r['native_saved_MiB']:.1f} MiB | {r['ours_saved_MiB']:.1f} MiB | "
            f"{r['saved_reduction']:.1%} | {r['native_peak_MiB']:.1f} MiB | "
            f"{r['ours_peak_MiB']:.1f} MiB | {r['peak_reduction']:.1%} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--markdown", help="write the markdown table here")
    args = parser.parse_args(argv)
    result = {
        "environment": {**environment(args.device), "device": args.device},
        "memory": memory_rows(args.device),
        "speed": speed_rows(args.quick, args.device),
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    text = markdown(result)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
