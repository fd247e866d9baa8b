"""Packed backward (``backward_bits``): the bytes a transformer MLP block keeps
for backward, and the speed of forward + backward against the unpacked path.

Memory: torch_act.memory.saved_bytes of one block Linear -> activation ->
Linear (d=768, hidden 3072, 2048 tokens), native torch.nn against torch_act's
module with and without backward_bits, from the same weights: the storages
the graph keeps (inputs and weights left out) and the peak of the step.

Speed: forward + backward of the activation alone, ours with backward_bits
against ours without it (and native torch), timed interleaved in this
process (torch_act/_timing.py, medians over repeats). Ratios are unpacked
time / packed time (above 1: packing is faster).

    python benchmarks/packed.py [--quick] [--device cuda] [--json PATH] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import json
import sys

import torch
from torch import nn

import torch_act
import torch_act.functional as TF
from torch_act._spec import BY_NAME
from torch_act._timing import median_seconds
from torch_act.benchmark import _environment_line, environment
from torch_act.memory import saved_bytes

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
SIZES = {"1M": 1 << 20, "16M": 1 << 24}
# The activations timed, with the bits each is timed at.
SPEED_OPS = {
    "relu": 1,
    "leaky_relu": 1,
    "hardtanh": 1,
    "relu6": 1,
    "hardsigmoid": 1,
    "threshold": 1,
    "softshrink": 1,
    "hardshrink": 1,
    "gelu": 3,
    "silu": 3,
}
# Block memory: (label, native module, ours, ours' keyword arguments).
MEMORY_CASES = [
    ("GELU", nn.GELU, torch_act.nn.GELU, {}),
    ("GELU", nn.GELU, torch_act.nn.GELU, {"backward_bits": 1}),
    ("GELU", nn.GELU, torch_act.nn.GELU, {"backward_bits": 2}),
    ("GELU", nn.GELU, torch_act.nn.GELU, {"backward_bits": 3}),
    ("GELU", nn.GELU, torch_act.nn.GELU, {"backward_bits": 4}),
    ("SiLU", nn.SiLU, torch_act.nn.SiLU, {"backward_bits": 3}),
    ("LeakyReLU", nn.LeakyReLU, torch_act.nn.LeakyReLU, {"backward_bits": 0}),
    ("LeakyReLU", nn.LeakyReLU, torch_act.nn.LeakyReLU, {}),  # default: 1 bit
    ("ReLU", nn.ReLU, torch_act.nn.ReLU, {}),
    ("ReLU", nn.ReLU, torch_act.nn.ReLU, {"backward_bits": 1}),
]


def _mlp(act: nn.Module, d_model: int, d_hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(d_model, d_hidden), act, nn.Linear(d_hidden, d_model))


def memory_rows(device: str, d_model=768, d_hidden=3072, tokens=2048) -> list[dict]:
    rows = []
    for dtype_name, dtype in DTYPES.items():
        for label, native_cls, ours_cls, kwargs in MEMORY_CASES:
            torch.manual_seed(0)
            native = _mlp(native_cls(), d_model, d_hidden).to(device, dtype)
            act = ours_cls(**kwargs)
            ours = _mlp(act, d_model, d_hidden).to(device, dtype)
            ours.load_state_dict(native.state_dict())
            x = torch.randn(tokens, d_model).to(device, dtype).requires_grad_()
            n, o = saved_bytes(native, x), saved_bytes(ours, x)
            bits = act.backward_bits  # None: the row's default (_spec.Activation.default_bits)
            if bits is None and act.spec.default_bits:
                bits = f"{act.spec.default_bits} (default)"
            rows.append(
                {
                    "dtype": dtype_name,
                    "activation": label,
                    "backward_bits": bits,
                    "native_saved_MiB": n.saved_bytes / 2**20,
                    "ours_saved_MiB": o.saved_bytes / 2**20,
                    "saved_reduction": 1 - o.saved_bytes / n.saved_bytes,
                    "native_peak_MiB": n.peak_bytes / 2**20,
                    "ours_peak_MiB": o.peak_bytes / 2**20,
                    "peak_reduction": 1 - o.peak_bytes / n.peak_bytes,
                }
            )
            print(
                f"MLP {label:9s} bits={str(bits):4s} {dtype_name:8s}: saved "
                f"{n.saved_bytes / 2**20:.1f} -> {o.saved_bytes / 2**20:.1f} MiB "
                f"({rows[-1]['saved_reduction']:.1%} less)",
                flush=True,
            )
    return rows


def _step(fn, x: torch.Tensor, grad: torch.Tensor):
    def run():
        torch.autograd.grad(fn(x), x, grad)

    return run


def speed_rows(quick: bool, device: str) -> list[dict]:
    repeats = 5 if quick else 21
    rows = []
    for name, bits in SPEED_OPS.items():
        act = BY_NAME[name]
        kwargs = act.sample_kwargs
        ours = getattr(TF, name)
        for size, numel in SIZES.items():
            for dtype_name, dtype in DTYPES.items():
                gen = torch.Generator().manual_seed(0)
                x = (torch.randn(numel, generator=gen) * 3).to(device, dtype).requires_grad_()
                grad = torch.randn(numel, generator=gen).to(device, dtype)
                t_native, t_unpacked, t_packed = median_seconds(
                    _step(lambda t: act.reference(t, **kwargs), x, grad),
                    _step(lambda t: ours(t, **kwargs, backward_bits=0), x, grad),  # unpacked
                    _step(lambda t: ours(t, **kwargs, backward_bits=bits), x, grad),
                    repeats=repeats,
                    device=device,
                )
                rows.append(
                    {
                        "op": name,
                        "backward_bits": bits,
                        "size": size,
                        "dtype": dtype_name,
                        "native_ms": t_native * 1e3,
                        "unpacked_ms": t_unpacked * 1e3,
                        "packed_ms": t_packed * 1e3,
                        "packed_vs_unpacked": t_unpacked / t_packed,
                        "packed_vs_native": t_native / t_packed,
                    }
                )
                print(
                    f"{name:11s} bits={bits} {size:>4s} {dtype_name:9s} unpacked/packed "
                    f"{t_unpacked / t_packed:5.2f}x  native/packed {t_native / t_packed:5.2f}x",
                    flush=True,
                )
    return rows


def markdown(result: dict) -> str:
    device = result["environment"].get("device", "cpu").upper()
    lines = [
        f"### Packed backward ({device})",
        "",
        f"`python benchmarks/packed.py`. {_environment_line(result['environment'])}",
        "Memory of one MLP block Linear -> activation -> Linear (d=768, hidden 3072, 2048 "
        "tokens; torch_act.memory.saved_bytes: storages kept for backward, inputs and "
        "weights left out; peak of forward + backward), native against torch_act's module "
        "(backward_bits -: a module default that saves what torch saves; 0: opted out):",
        "",
        "| dtype | activation | backward_bits | saved, native | saved, ours | less "
        "| peak, native | peak, ours | less |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["memory"]:
        bits = "-" if r["backward_bits"] is None else r["backward_bits"]
        lines.append(
            f"| {r['dtype']} | {r['activation']} | {bits} | {r['native_saved_MiB']:.1f} MiB | "
            f"{r['ours_saved_MiB']:.1f} MiB | {r['saved_reduction']:.1%} | "
            f"{r['native_peak_MiB']:.1f} MiB | {r['ours_peak_MiB']:.1f} MiB | "
            f"{r['peak_reduction']:.1%} |"
        )
    if not result["speed"]:  # (--skip-speed)
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "Forward + backward of the activation alone: unpacked time / packed time, and "
        "native time / packed time (above 1: the packed path is faster):",
        "",
        "| op | bits | size | dtype | unpacked / packed | native / packed |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["speed"]:
        lines.append(
            f"| {r['op']} | {r['backward_bits']} | {r['size']} | {r['dtype']} | "
            f"{r['packed_vs_unpacked']:.2f}x | {r['packed_vs_native']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--skip-speed", action="store_true", help="the memory table only")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--markdown", help="write the markdown table here")
    args = parser.parse_args(argv)
    result = {
        "environment": {**environment(args.device), "device": args.device},
        "memory": memory_rows(args.device),
        "speed": [] if args.skip_speed else speed_rows(args.quick, args.device),
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
