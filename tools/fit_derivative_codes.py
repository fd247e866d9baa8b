"""Fit the k-bit derivative codes of the smooth activations.

With k bits, the forward keeps for each element only the index of the
interval its input falls in, among 2^k intervals of the real line; the
backward multiplies the incoming gradient by that interval's value. For each
activation f and k = 1..4 the boundaries and values minimise the expected
squared error of f' for x ~ N(0, 1): dynamic programming over candidate
boundaries on a grid (step 1/64 on [-8, 8]), each interval's value the mean
of f' over it (the best constant for a squared error).

The error is FewBit's measure (Novikov et al., ICML 2022), the relative mean
squared error E[(f' - q)^2] / E[f'^2] under N(0, 1); their shipped 3-bit
tables score 0.0074 for GELU and 0.0073 for SiLU.

    python tools/fit_derivative_codes.py           # the table of errors
    python tools/fit_derivative_codes.py --write   # and csrc/derivative_codes.h

f' comes from torch's float64 autograd of each activation's reference in
torch_act._spec (hyper-parameters at torch's defaults). tests/test_derivative_codes.py
checks the header is what this script writes and that the errors stay below
FewBit's.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import pathlib
import sys

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEADER = ROOT / "csrc" / "derivative_codes.h"

GRID_STEP = 1 / 64
GRID_LIMIT = 8.0  # candidate boundaries in [-8, 8]; beyond, f' is flat for all of these
SAMPLES_PER_CELL = 16
MAX_BITS = 4


def _load_spec():
    """torch_act/_spec.py alone (it needs only torch), so the fit runs without
    the built extension."""
    spec = importlib.util.spec_from_file_location("torch_act_spec", ROOT / "torch_act" / "_spec.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


# The smooth activations that take k-bit codes (Swish with a fixed beta uses
# SiLU's table, its boundaries divided by beta): table name -> (spec row,
# hyper-parameters). f' comes from the row's reference, torch's own function.
CODED = {
    "gelu": ("gelu", {}),
    "gelu_tanh": ("gelu", {"approximate": "tanh"}),
    "silu": ("silu", {}),
    "mish": ("mish", {}),
    "elu": ("elu", {}),
    "selu": ("selu", {}),
    "celu": ("celu", {}),
    "softplus": ("softplus", {}),
    "quick_gelu": ("quick_gelu", {}),
    "tanh": ("tanh", {}),
    "sigmoid": ("sigmoid", {}),
}
_BY_NAME = _load_spec().BY_NAME
FUNCTIONS = {
    name: functools.partial(_BY_NAME[row].reference, **kwargs)
    for name, (row, kwargs) in CODED.items()
}

# FewBit's reported errors (relative MSE of f') for their shipped tables.
FEWBIT_ERRORS = {("gelu", 3): 0.0074, ("silu", 3): 0.0073}


def derivative(fn, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_()
    (grad,) = torch.autograd.grad(fn(x).sum(), x)
    return grad


def cell_moments(fn):
    """Grid boundaries, and per cell between them (two unbounded cells at the
    ends) its N(0,1) probability and the mean of f' and f'^2 in it."""
    boundaries = torch.arange(
        -GRID_LIMIT, GRID_LIMIT + GRID_STEP / 2, GRID_STEP, dtype=torch.float64
    )
    edges = torch.cat(
        [torch.tensor([-GRID_LIMIT - 10]), boundaries, torch.tensor([GRID_LIMIT + 10])]
    )
    # Midpoint rule inside each cell, weighted by the density.
    offsets = (torch.arange(SAMPLES_PER_CELL, dtype=torch.float64) + 0.5) / SAMPLES_PER_CELL
    points = edges[:-1, None] + (edges[1:] - edges[:-1])[:, None] * offsets
    density = torch.exp(-0.5 * points * points)
    slope = derivative(fn, points.flatten()).reshape(points.shape)
    mass = density.sum(1)
    probability = torch.diff(torch.special.ndtr(edges))
    mean = (density * slope).sum(1) / mass
    mean_square = (density * slope * slope).sum(1) / mass
    return boundaries.numpy(), probability.numpy(), mean.numpy(), mean_square.numpy()


def fit(fn) -> dict[int, tuple[list[float], list[float], float]]:
    """bits -> (boundaries, values, relative error), for bits 1..MAX_BITS."""
    boundaries, probability, mean, mean_square = cell_moments(fn)
    s0 = np.concatenate([[0.0], np.cumsum(probability)])
    s1 = np.concatenate([[0.0], np.cumsum(probability * mean)])
    s2 = np.concatenate([[0.0], np.cumsum(probability * mean_square)])
    cells = len(probability)

    def cost(start, stop):
        """Squared error of f' against its mean over cells [start, stop)."""
        p, m1, m2 = s0[stop] - s0[start], s1[stop] - s1[start], s2[stop] - s2[start]
        return m2 - m1 * m1 / np.maximum(p, 1e-300)

    ends = np.arange(cells + 1)
    best = [cost(np.zeros_like(ends), ends)]  # best[n][j]: cells [0, j) in n + 1 intervals
    choice = [np.zeros_like(ends)]
    for _ in range(1, 2**MAX_BITS):
        previous = best[-1]
        current = np.full(cells + 1, np.inf)
        argmin = np.zeros(cells + 1, dtype=np.int64)
        for stop in range(1, cells + 1):
            starts = np.arange(1, stop)
            if len(starts) == 0:
                continue
            total = previous[starts] + cost(starts, stop)
            # The first start within rounding of the minimum: a symmetric f'
            # (sigmoid, tanh) has mirror-image fits of equal error, and which one
            # np.argmin picks would otherwise depend on the last bits of torch's
            # sums (threads, CPU capability).
            i = int(np.flatnonzero(total <= total.min() * (1 + 1e-9))[0])
            current[stop], argmin[stop] = total[i], starts[i]
        best.append(current)
        choice.append(argmin)

    total_square = s2[cells]
    result = {}
    for bits in range(1, MAX_BITS + 1):
        intervals = 2**bits
        cuts, stop = [], cells
        for n in range(intervals - 1, 0, -1):
            stop = int(choice[n][stop])
            cuts.append(stop)
        cuts.reverse()
        spans = zip([0, *cuts], [*cuts, cells])
        values = [(s1[b] - s1[a]) / (s0[b] - s0[a]) for a, b in spans]
        # cut c: between cell c - 1 and cell c, i.e. at grid boundary c - 1
        result[bits] = (
            [float(boundaries[c - 1]) for c in cuts],
            [float(v) for v in values],
            float(best[intervals - 1][cells] / total_square),
        )
    return result


def fit_all() -> dict[str, dict[int, tuple[list[float], list[float], float]]]:
    return {name: fit(fn) for name, fn in FUNCTIONS.items()}


def _float_literal(value: float) -> str:
    """The float32 nearest value, in digits that give back exactly that float
    (rounding value to 9 digits first could land on the neighbouring float)."""
    text = f"{torch.tensor(value, dtype=torch.float32).item():.9g}"
    return text + ("f" if any(c in text for c in ".e") else ".0f")


def _array(name: str, values) -> list[str]:
    """A constexpr float array, at most 6 values a line."""
    literals = [_float_literal(v) for v in values]
    rows = [", ".join(literals[i : i + 6]) for i in range(0, len(literals), 6)]
    head = f"  static constexpr float {name}[{len(values)}] = {{"
    if len(rows) == 1 and len(head) + len(rows[0]) + 2 <= 100:
        return [f"{head}{rows[0]}}};"]
    return [head, *(f"      {row}," for row in rows), "  };"]


def render_header(tables) -> str:
    lines = [
        "// Generated by tools/fit_derivative_codes.py: do not edit by hand.",
        "//",
        "// k-bit derivative codes: an input x in [kBounds[i - 1], kBounds[i]) has code i",
        "// (kBounds[-1] = -inf, kBounds[2^k - 1] = +inf); backward multiplies the incoming",
        "// gradient by kValues[code]. Fitted for x ~ N(0, 1), minimising E[(f' - value)^2];",
        "// kRelativeError is E[(f' - value)^2] / E[f'^2].",
        "#pragma once",
        "",
        "namespace torch_act {",
        "namespace derivative_codes {",
        "",
        "// (The script lays the tables out.)",
        "// clang-format off",
    ]
    for name, tables_by_bits in tables.items():
        struct = "".join(part.capitalize() for part in name.split("_"))
        for bits, (bounds, values, error) in tables_by_bits.items():
            lines += [
                f"struct {struct}{bits} {{",
                f"  static constexpr int kBits = {bits};",
                *_array("kBounds", bounds),
                *_array("kValues", values),
                f"  static constexpr double kRelativeError = {error:.6g};",
                "};",
            ]
        lines.append("")
    lines += [
        "// clang-format on",
        "",
        "}  // namespace derivative_codes",
        "}  // namespace torch_act",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {HEADER.relative_to(ROOT)}")
    args = parser.parse_args()
    tables = fit_all()
    print("| activation | " + " | ".join(f"{b} bit" for b in range(1, MAX_BITS + 1)) + " |")
    print("|---" * (MAX_BITS + 1) + "|")
    for name, tables_by_bits in tables.items():
        cells = []
        for bits, (_, _, error) in tables_by_bits.items():
            fewbit = FEWBIT_ERRORS.get((name, bits))
            cells.append(f"{error:.4f}" + (f" (FewBit {fewbit})" if fewbit else ""))
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.write:
        HEADER.write_text(render_header(tables))
        print(f"wrote {HEADER.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
