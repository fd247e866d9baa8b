"""A short table from a CUDA benchmark JSON (python -m torch_act bench
--device cuda --json F): per op, the worst native/ours ratio and the lowest
fraction of the device-to-device copy bandwidth over the 16M and 64M cells,
forward and backward op, float32 and bfloat16.

    python benchmarks/cuda_summary.py results.json [--markdown]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

LARGE = ("16M", "64M")
COLUMNS = [(mode, dtype) for dtype in ("float32", "bfloat16") for mode in ("forward", "backward")]


def summarize(rows: list[dict]) -> dict:
    """{op: {(mode, dtype): (worst ratio, lowest copy fraction)}} over the large sizes."""
    table: dict = defaultdict(dict)
    for r in rows:
        key = (r["mode"], r["dtype"])
        if r["size"] not in LARGE or key not in COLUMNS:
            continue
        ratio, fraction = table[r["op"]].get(key, (float("inf"), float("inf")))
        table[r["op"]][key] = (min(ratio, r["ratio"]), min(fraction, r["copy_fraction"]))
    return table


def render(table: dict, markdown: bool) -> str:
    heads = [f"{dtype} {mode[:3]}" for mode, dtype in COLUMNS]
    lines = []
    if markdown:
        lines.append("| op | " + " | ".join(heads) + " |")
        lines.append("|---" * (len(heads) + 1) + "|")
    else:
        lines.append(f"{'op':<13}" + "".join(f"{h:>16}" for h in heads))
    for op, cells in table.items():
        texts = [f"{cells[c][0]:.2f}x {cells[c][1]:.0%}" if c in cells else "-" for c in COLUMNS]
        if markdown:
            lines.append(f"| {op} | " + " | ".join(texts) + " |")
        else:
            lines.append(f"{op:<13}" + "".join(f"{t:>16}" for t in texts))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("json")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    with open(args.json) as f:
        data = json.load(f)
    print("worst native/ours ratio and lowest fraction of copy bandwidth, 16M and 64M elements")
    print(render(summarize(data["rows"]), args.markdown))


if __name__ == "__main__":
    main()
