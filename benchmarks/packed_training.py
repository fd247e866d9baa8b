"""Does a k-bit GELU backward train like the exact one? Loss curves of one
small model trained with exact GELU and with backward_bits=1 and 3.

A student MLP (64 -> 256 -> 256 -> 10, GELU) learns a fixed random teacher's
classes from fresh samples each step (AdamW, 400 steps, batch 256). The runs
share the initial weights and the data, so the curves differ only by the
backward. No downloads; the plot needs matplotlib (pip install matplotlib).

    python benchmarks/packed_training.py [--steps 400] [--json PATH] [--plot PATH]
"""

from __future__ import annotations

import argparse
import json
import sys

import torch
from torch import nn

import torch_act

D_IN, D_HIDDEN, CLASSES, BATCH = 64, 256, 10, 256
RUNS = {"exact": None, "3-bit": 3, "1-bit": 1}


def _student(bits) -> nn.Module:
    def act():
        return torch_act.nn.GELU(backward_bits=bits)

    return nn.Sequential(
        nn.Linear(D_IN, D_HIDDEN), act(), nn.Linear(D_HIDDEN, D_HIDDEN), act(),
        nn.Linear(D_HIDDEN, CLASSES),
    )  # fmt: skip


def train(bits, steps: int) -> list[float]:
    torch.manual_seed(0)
    teacher = nn.Sequential(nn.Linear(D_IN, 128), nn.Tanh(), nn.Linear(128, CLASSES))
    student = _student(bits)
    opt = torch.optim.AdamW(student.parameters(), lr=1e-3)
    data = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(steps):
        x = torch.randn(BATCH, D_IN, generator=data)
        with torch.no_grad():
            y = teacher(x).argmax(dim=1)
        loss = nn.functional.cross_entropy(student(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _smooth(values: list[float], window: int = 20) -> list[float]:
    out = []
    for i in range(len(values)):
        chunk = values[max(0, i - window + 1) : i + 1]
        out.append(sum(chunk) / len(chunk))
    return out


def plot(curves: dict, path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("the plot needs matplotlib: pip install matplotlib") from None
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, losses in curves.items():
        ax.plot(_smooth(losses), label=f"GELU, {label} backward")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (moving average of 20 steps)")
    ax.set_title("MLP 64-256-256-10 on a random teacher's classes (CPU, float32)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--json", help="write the loss curves here")
    parser.add_argument("--plot", help="write the PNG here")
    args = parser.parse_args(argv)
    curves = {label: train(bits, args.steps) for label, bits in RUNS.items()}
    tail = max(1, args.steps // 8)
    for label, losses in curves.items():
        print(f"{label:6s} mean loss over the last {tail} steps: {sum(losses[-tail:]) / tail:.4f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(curves, f)
    if args.plot:
        plot(curves, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
