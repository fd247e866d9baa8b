"""Regenerates BENCHMARKS.md: runs the harness (torch_act/benchmark.py) once per
CPU kernel variant, each in a subprocess with ATEN_CPU_CAPABILITY set so native
torch runs the same ISA, and renders the results.

    python benchmarks/report.py              # measure everything, then render
    python benchmarks/report.py --render     # render from benchmarks/results/*.json

The native variant runs the full grid (every size and dtype, 1 thread and all
threads); the others run the 1K, 64K and 16M float32/bfloat16 cells on all
threads. For those, native torch's oneDNN and MKL (its GELU, tanh, ...), which
choose their code from the CPU and not from ATEN_CPU_CAPABILITY, are capped to
the variant's ISA, as on a CPU that has no more.

    python benchmarks/report.py --variants AVX2 DEFAULT   # measure only these
    python benchmarks/report.py --reduced                 # the native one on that grid too
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
from collections import defaultdict

import cuda_summary

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
ORDER = ["AVX512", "AVX2", "DEFAULT"]
CHEAP_OPS = ("relu", "leaky_relu", "sigmoid", "tanh")
# What a CPU with no more than the variant's ISA would give oneDNN and MKL
# (DEFAULT: x86-64's baseline is SSE2; SSE4 is the least either library offers).
NATIVE_LIBRARY_CAPS = {
    "AVX2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "DEFAULT": {"ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
}


def native_variant() -> str:
    out = subprocess.run(
        [sys.executable, "-c", "import torch_act; print(torch_act.cpu_capability())"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return out.stdout.strip()


REDUCED_GRID = [
    "--sizes",
    "1K",
    "64K",
    "16M",
    "--dtypes",
    "float32",
    "bfloat16",
    "--threads",
    "all",
]


def measure(variant: str, native: str, full: bool) -> None:
    env = dict(os.environ, ATEN_CPU_CAPABILITY=variant.lower())
    env.update(NATIVE_LIBRARY_CAPS.get(variant, {}) if variant != native else {})
    args = [
        sys.executable,
        "-m",
        "torch_act",
        "bench",
        "--repeats",
        "5",
        "--json",
        os.path.join(RESULTS, f"{variant}.json"),
    ]
    if not full:
        args += REDUCED_GRID
    print(f"== {variant}: {' '.join(args[3:])}", flush=True)
    subprocess.run(args, env=env, check=True, cwd=ROOT)


def load() -> dict[str, dict]:
    found = {}
    for variant in ORDER:
        path = os.path.join(RESULTS, f"{variant}.json")
        if os.path.exists(path):
            with open(path) as f:
                found[variant] = json.load(f)
    return found


def worst_table(results: dict[str, dict]) -> list[str]:
    """Worst native/ours ratio per op and mode, float32 and bfloat16, at 64K and 16M."""
    columns = [(v, d, s) for v in results for d in ("float32", "bfloat16") for s in ("64K", "16M")]
    worst: dict = defaultdict(dict)
    for variant, data in results.items():
        for r in data["rows"]:
            if r["dtype"] in ("float32", "bfloat16") and r["size"] in ("64K", "16M"):
                key = (r["op"], r["mode"])
                col = (variant, r["dtype"], r["size"])
                worst[key][col] = min(worst[key].get(col, float("inf")), r["ratio"])
    short = {"float32": "f32", "bfloat16": "bf16"}
    header = "| op | mode | " + " | ".join(f"{v} {short[d]} {s}" for v, d, s in columns) + " |"
    lines = [header, "|---|---|" + "---:|" * len(columns)]
    for (op, mode), cells in sorted(
        worst.items(), key=lambda kv: (_op_order(results, kv[0][0]), kv[0][1])
    ):
        values = [cells.get(c) for c in columns]
        text = [("-" if v is None else (f"**{v:.2f}**" if v < 1.0 else f"{v:.2f}")) for v in values]
        lines.append(f"| {op} | {mode} | " + " | ".join(text) + " |")
    return lines


def _op_order(results, op):
    first = next(iter(results.values()))
    names = list(dict.fromkeys(r["op"] for r in first["rows"]))
    return names.index(op) if op in names else len(names)


def bandwidth_table(results: dict[str, dict]) -> list[str]:
    lines = ["| variant | op | dtype | threads | GB/s | of copy_ |", "|---|---|---|---:|---:|---:|"]
    for variant, data in results.items():
        for r in data["rows"]:
            if r["op"] in CHEAP_OPS and r["mode"] == "forward" and r["size"] == "16M":
                lines.append(
                    f"| {variant} | {r['op']} | {r['dtype']} | {r['threads']} | {r['gbps']:.1f} | "
                    f"{100 * r['copy_fraction']:.0f}% |"
                )
    return lines


def overhead_table(results: dict[str, dict]) -> list[str]:
    lines = [
        "| variant | op | dtype | threads | ours (us) | native (us) | ours/native |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for variant, data in results.items():
        for r in data["rows"]:
            if r["size"] == "1K" and r["mode"] == "train" and r["dtype"] == "float32":
                lines.append(
                    f"| {variant} | {r['op']} | {r['dtype']} | {r['threads']} | {r['ours_us']:.1f} | "
                    f"{r['native_us']:.1f} | {r['ours_us'] / r['native_us']:.2f} |"
                )
    return lines


def kept_sections() -> list[str]:
    """The runs of benchmarks/compiled_models.py (bench --models),
    benchmarks/gated.py (bench --gated), benchmarks/packed.py and the
    exp-based ops' harness run (exp_kernels.md names its command), kept as
    markdown, each followed by its hand-written reading (<name>_reading.md)
    where there is one."""
    out = []
    for name in ("compiled_models", "gated", "packed", "exp_kernels"):
        for path in (os.path.join(HERE, f"{name}.md"), os.path.join(HERE, f"{name}_reading.md")):
            if os.path.exists(path):
                with open(path) as f:
                    out += [f.read().strip(), ""]
    return out


def raw_data_section(results: dict[str, dict]) -> list[str]:
    """Where every row of the tables above is: the harness's JSON, one file
    per ISA (and per GPU run), rather than thousands of rows here."""
    out = ["## Raw data", ""]
    for variant, data in results.items():
        out.append(
            f"- `benchmarks/results/{variant}.json`: every op, mode, dtype, size and thread "
            f"count on {variant} ({len(data['rows'])} rows)."
        )
    for path in sorted(glob.glob(os.path.join(RESULTS, "*.json"))):
        name = os.path.basename(path)
        if name[: -len(".json")] not in results:
            out.append(f"- `benchmarks/results/{name}`: the run its section above names.")
    return out + [""]


def cuda_sections() -> list[str]:
    """The GPU runs kept as benchmarks/results/CUDA-<label>.json (written by
    tools/gpu_check.sh), summarized, then benchmarks/cuda_reading.md."""
    out = []
    for path in sorted(glob.glob(os.path.join(RESULTS, "CUDA-*.json"))):
        with open(path) as f:
            data = json.load(f)
        env = data["environment"]
        label = os.path.basename(path)[len("CUDA-") : -len(".json")]
        out += [
            f"## GPU: {label}",
            "",
            f"{env['gpu']} (sm {env['compute_capability']}), torch {env['torch']}, CUDA "
            f"{env['cuda']}; rows in `benchmarks/results/{os.path.basename(path)}`. Each cell: the "
            "worst native/ours ratio and the lowest fraction of a same-size device-to-device "
            "copy's bandwidth over the 16M and 64M cells (CUDA events, medians).",
            "",
            cuda_summary.render(cuda_summary.summarize(data["rows"]), markdown=True),
            "",
        ]
    reading = os.path.join(HERE, "cuda_reading.md")
    if out and os.path.exists(reading):
        with open(reading) as f:
            out += [f.read().strip(), ""]
    return out


def machine_lines(results: dict[str, dict]) -> list[str]:
    """Each variant's machine and software, and what native's libraries were capped to."""
    lines = []
    for variant, data in results.items():
        env = data["environment"]
        line = (
            f"- {variant}: {env['cpu']}, {env['cores']} cores; torch {env['torch']}; torch_act "
            f"{env['torch_act']}; Python {env['python']}"
        )
        caps = env.get("native_library_caps")
        if caps:
            line += "; native's oneDNN and MKL capped: " + ", ".join(
                f"`{k}={v}`" for k, v in caps.items()
            )
        lines.append(line)
    return lines


def render(results: dict[str, dict]) -> str:
    out = [
        "# Benchmarks",
        "",
        "Generated by `python benchmarks/report.py` (harness: `python -m torch_act bench`). "
        "Each variant ran in its own process with `ATEN_CPU_CAPABILITY` set, so native torch's "
        "own kernels ran the same ISA. oneDNN and MKL (native GELU, tanh, ...) choose their code "
        "from the CPU instead, so for the variants below the machine's best they were capped to "
        "that ISA, as on a CPU that has no more:",
        "",
        *machine_lines(results),
        "",
        "Ratios are native time / torch_act time: above 1 we are faster. Medians of 5 "
        "interleaved samples; on this shared 2-core VM run-to-run noise is about ±10%, so "
        "ratios between 0.9 and 1.1 are ties. Modes: `forward` (functional op), `backward` (the "
        "backward op alone, from what forward saved), `train` (module forward + backward via "
        "autograd).",
        "",
        "## Worst ratio per op (float32 and bfloat16, 64K and 16M elements)",
        "",
        *worst_table(results),
        "",
        "## Bandwidth of the cheap ops at 16M elements (forward)",
        "",
        *bandwidth_table(results),
        "",
        "## Small-tensor overhead: module forward+backward at 1K elements",
        "",
        *overhead_table(results),
        "",
        "## Reading",
        "",
        "See the section at the end, written for the run recorded here.",
        "",
        *kept_sections(),
        *cuda_sections(),
        *raw_data_section(results),
    ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--render", action="store_true", help="only render existing results")
    parser.add_argument(
        "--reading",
        default=os.path.join(HERE, "reading.md"),
        help="the markdown of the 'Reading' section (default: benchmarks/reading.md, "
        "written for the CPU run recorded)",
    )
    parser.add_argument(
        "--variants", nargs="+", choices=ORDER, help="measure only these (default: every one)"
    )
    parser.add_argument(
        "--reduced", action="store_true", help="the native variant on the others' grid too"
    )
    args = parser.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    if not args.render:
        native = native_variant()
        for variant in ORDER[ORDER.index(native) :]:
            if args.variants is None or variant in args.variants:
                measure(variant, native, full=(variant == native and not args.reduced))
    results = load()
    if not results:
        raise SystemExit("no results in benchmarks/results; run without --render first")
    text = render(results)
    if args.reading and os.path.exists(args.reading):
        with open(args.reading) as f:
            text = text.replace(
                "See the section at the end, written for the run recorded here.", f.read().strip()
            )
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write(text)
    print("wrote BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
