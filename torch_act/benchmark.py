"""Side-by-side benchmark of torch_act against native torch.

For every activation in the spec table and each mode:
  forward   the functional op
  backward  the backward op alone, from what forward saved
  train     forward + backward through autograd via the nn.Module
both implementations run interleaved in this process (warm-up, repeats,
medians; see _timing.py). Each row reports both medians, the ratio
native/ours (above 1: we are faster), the bandwidth we reach (bytes read and
written, counted once) and that as a fraction of a same-size ``copy_`` timed
in the same run: the memory-bandwidth ceiling.

With ``--device cuda`` the tensors and modules live on the GPU, each sample
is a batch of calls timed with CUDA events, and thread counts do not apply
(rows report 0 threads). At 1M elements the tensors fit in the GPU's L2 cache
and a call costs little more than its launch, the copy's as much as ours.

    python -m torch_act bench --help
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import torch

import torch_act
from torch_act import functional as TF
from torch_act import nn as TN
from torch_act._spec import ACTIVATIONS, Activation
from torch_act._timing import timer_for

SIZES = {"1K": 1 << 10, "64K": 1 << 16, "1M": 1 << 20, "16M": 1 << 24, "64M": 1 << 26}
DEVICES = ("cpu", "cuda")
# Default grid per device: on the GPU, launch overhead dominates below ~1M elements.
DEFAULT_SIZES = {"cpu": ["1K", "64K", "1M", "16M"], "cuda": ["1M", "16M", "64M"]}
DEFAULT_DTYPES = ["float32", "bfloat16"]
QUICK_CELL = {"cpu": ("64K", "float32"), "cuda": ("16M", "float32")}
DTYPES = {
    "float32": torch.float32,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
    "float16": torch.float16,
}
MODES = ("forward", "backward", "train")
CHANNELS = 64  # inputs are (numel / 64, 64) by default: PReLU gets one weight per channel


@dataclass
class Row:
    op: str
    mode: str
    dtype: str
    size: str
    threads: int
    ours_us: float
    native_us: float
    ratio: float  # native / ours
    gbps: float
    copy_fraction: float
    device: str = "cpu"


def default_grid(quick: bool = False, device: str = "cpu") -> list[tuple[str, str]]:
    """(size, dtype) pairs: float32 and bfloat16 at every default size of the
    device; on cpu also float64 and float16 at 1M."""
    if quick:
        return [QUICK_CELL[device]]
    grid = [(size, dtype) for size in DEFAULT_SIZES[device] for dtype in DEFAULT_DTYPES]
    if device == "cpu":
        grid += [("1M", "float64"), ("1M", "float16")]
    return grid


def _kwargs(act: Activation) -> dict:
    return act.sample_kwargs


def _tensor_args(act: Activation, x: torch.Tensor) -> tuple:
    if act.learnable == "weight":
        return (torch.full((x.shape[1],), 0.25, dtype=x.dtype, device=x.device),)
    return ()


def _ours_backward_op(act: Activation):
    packet = getattr(torch.ops.torch_act, f"{act.name}_backward")
    return packet.default


def _saves_output(act: Activation) -> bool:
    schema = _ours_backward_op(act)._schema
    return schema.arguments[1].name == "result"


class _Native(torch.nn.Module):
    """A module around a native reference (for activations torch.nn lacks)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _modules(act: Activation, channels: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    kwargs = _kwargs(act)
    ours = getattr(TN, act.module)(**kwargs)
    if act.torch_module is not None:
        native = act.torch_module(**kwargs)
    else:
        native = _Native(lambda x: act.reference(x, **kwargs))
    if act.learnable == "weight":
        ours, native = TN.PReLU(channels), torch.nn.PReLU(channels)
    return ours, native


def callables(act: Activation, mode: str, x: torch.Tensor):
    """(ours, native, bytes moved per call) for one mode, or None if native has no such op."""
    elem = x.element_size()
    targs = _tensor_args(act, x)
    kw = _kwargs(act)
    y = act.reference(x, *targs, **kw)
    n_in, n_out = x.numel(), y.numel()  # differ for GLU
    if mode == "forward":
        ours_fn, native_fn = getattr(TF, act.name), act.reference
        return (
            (lambda: ours_fn(x, *targs, **kw)),
            (lambda: native_fn(x, *targs, **kw)),
            (n_in + n_out) * elem,
        )
    if mode == "backward":
        if act.native_backward is None or act.op is not None:
            return None
        g = torch.randn_like(y)
        op = _ours_backward_op(act)
        saved = y if _saves_output(act) else x
        return (
            (lambda: op(g, saved, *targs, **kw)),
            (lambda: act.native_backward(g, x, y, *targs, **kw)),
            (n_out + n_in + n_in) * elem,
        )
    if mode == "train":
        ours_m, native_m = _modules(act, x.shape[1])
        ours_m, native_m = ours_m.to(x.device, x.dtype), native_m.to(x.device, x.dtype)
        xg = x.detach().requires_grad_()
        g = torch.randn_like(y)

        def step(module):
            return lambda: torch.autograd.grad(module(xg), xg, g)

        return step(ours_m), step(native_m), (2 * n_in + 3 * n_out) * elem
    raise ValueError(mode)


def copy_seconds(x: torch.Tensor, repeats: int) -> float:
    dst = torch.empty_like(x)
    (seconds,) = timer_for(x.device)(lambda: dst.copy_(x), repeats=repeats)
    return seconds


def run(
    ops: list[str],
    grid: list[tuple[str, str]],
    modes: list[str],
    threads: list[int],
    repeats: int,
    log: Optional[Callable[[str], None]] = print,
    device: str = "cpu",
    channels: int = CHANNELS,
) -> list[Row]:
    rows = []
    acts = [a for a in ACTIVATIONS if a.name in ops]
    dev = torch.device(device)
    timer = timer_for(dev)
    if dev.type != "cpu":
        threads = [0]  # one host thread launches the kernels: thread counts do not apply
    initial_threads = torch.get_num_threads()
    try:
        for nthreads in threads:
            if nthreads:  # 0 (cuda): leave torch's setting alone
                torch.set_num_threads(nthreads)
            for size, dtype_name in grid:
                numel, dtype = SIZES[size], DTYPES[dtype_name]
                gen = torch.Generator(dev).manual_seed(0)
                x = (torch.randn(numel // channels, channels, generator=gen, device=dev) * 3).to(
                    dtype
                )
                copy_s = copy_seconds(x, repeats)
                copy_gbps = 2 * x.numel() * x.element_size() / copy_s / 1e9
                for act in acts:
                    for mode in modes:
                        fns = callables(act, mode, x)
                        if fns is None:
                            continue
                        ours_fn, native_fn, nbytes = fns
                        try:
                            ours_s, native_s = timer(ours_fn, native_fn, repeats=repeats)
                        except (RuntimeError, NotImplementedError) as error:
                            # e.g. native RReLU has no float16 CPU kernel, or ours no CUDA kernel
                            if log:
                                log(
                                    f"<!-- {act.name} {mode} {dtype_name} {size}: not measured: "
                                    f"{str(error).splitlines()[0]} -->"
                                )
                            continue
                        gbps = nbytes / ours_s / 1e9
                        row = Row(
                            act.name,
                            mode,
                            dtype_name,
                            size,
                            nthreads,
                            ours_s * 1e6,
                            native_s * 1e6,
                            native_s / ours_s,
                            gbps,
                            gbps / copy_gbps,
                            dev.type,
                        )
                        rows.append(row)
                        if log:
                            log(format_row(row))
    finally:
        torch.set_num_threads(initial_threads)
    return rows


def _cpu_name() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return cpu


NATIVE_LIBRARY_ISA_VARIABLES = ("ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")


def environment(device: str = "cpu", channels: int = CHANNELS) -> dict:
    env = {"torch": torch.__version__, "torch_act": torch_act.__version__}
    if device == "cuda":
        env.update(
            gpu=torch.cuda.get_device_name(),
            compute_capability="%d.%d" % torch.cuda.get_device_capability(),
            cuda=torch.version.cuda,
        )
        # The CUDA loops' grid choice (csrc/cuda/launch.h, GridSize), when not the default.
        grid = os.environ.get("TORCH_ACT_CUDA_GRID", "resident")
        if grid != "resident":
            env.update(cuda_grid=grid)
    else:
        env.update(
            cpu=_cpu_name(),
            cores=os.cpu_count(),
            torch_act_isa=torch_act.cpu_capability(),
            torch_isa=torch.backends.cpu.get_cpu_capability(),
        )
        # oneDNN and MKL (native GELU, tanh, ...) choose their code from the
        # CPU, not from ATEN_CPU_CAPABILITY; these cap them (benchmarks/report.py).
        caps = {k: os.environ[k] for k in NATIVE_LIBRARY_ISA_VARIABLES if k in os.environ}
        if caps:
            env.update(native_library_caps=caps)
    env.update(python=platform.python_version(), device=device)
    if channels != CHANNELS:
        env.update(input_shape=f"(numel / {channels}, {channels})")
    return env


HEADER = (
    "| op | mode | dtype | size | threads | ours (us) | native (us) | native/ours | GB/s | of copy |\n"
    "|---|---|---|---|---:|---:|---:|---:|---:|---:|"
)


def format_row(r: Row) -> str:
    return (
        f"| {r.op} | {r.mode} | {r.dtype} | {r.size} | {r.threads or '-'} | {r.ours_us:.1f} | "
        f"{r.native_us:.1f} | {r.ratio:.2f} | {r.gbps:.1f} | {100 * r.copy_fraction:.0f}% |"
    )


def _environment_line(env: dict) -> str:
    versions = f"torch {env['torch']}, torch_act {env['torch_act']}"
    if env.get("device") == "cuda":
        line = f"{versions}, {env['gpu']} (sm {env['compute_capability']}, CUDA {env['cuda']})"
        if "cuda_grid" in env:
            line += f"; TORCH_ACT_CUDA_GRID={env['cuda_grid']}"
    else:
        line = (
            f"{versions}, {env['cpu']} ({env['cores']} cores), "
            f"kernel variant {env['torch_act_isa']} (torch: {env['torch_isa']})"
        )
    if "native_library_caps" in env:
        line += "; native's libraries capped: " + ", ".join(
            f"{k}={v}" for k, v in env["native_library_caps"].items()
        )
    if "input_shape" in env:
        line += f"; inputs {env['input_shape']}"
    return line


def markdown(rows: list[Row], env: dict) -> str:
    lines = [
        _environment_line(env),
        "",
        HEADER,
    ]
    lines += [format_row(r) for r in rows]
    return "\n".join(lines) + "\n"


def plot(rows: list[Row], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:  # optional dependency
        raise SystemExit(f"--plot needs matplotlib ({e}); pip install matplotlib") from e
    series = sorted({(r.mode, r.dtype, r.threads) for r in rows})
    ops = sorted({r.op for r in rows})
    sizes = [s for s in SIZES if any(r.size == s for r in rows)]
    fig, axes = plt.subplots(len(series), 1, figsize=(12, 2.6 * len(series)), squeeze=False)
    for ax, (mode, dtype, threads) in zip(axes[:, 0], series):
        width = 0.8 / max(1, len(sizes))
        for k, size in enumerate(sizes):
            values = []
            for op in ops:
                match = [
                    r.ratio
                    for r in rows
                    if (r.op, r.mode, r.dtype, r.threads, r.size)
                    == (op, mode, dtype, threads, size)
                ]
                values.append(match[0] if match else 0.0)
            ax.bar([i + k * width for i in range(len(ops))], values, width, label=size)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(ops))], ops)
        ax.set_ylabel("native / ours")
        ax.set_title(f"{mode}, {dtype}, " + (f"{threads} thread(s)" if threads else "GPU"))
        ax.legend(fontsize=7, ncol=len(sizes))
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m torch_act bench", description=__doc__.split("\n")[0]
    )
    names = [a.name for a in ACTIVATIONS]
    parser.add_argument("--ops", nargs="+", default=names, choices=names)
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), help="default: the full grid")
    parser.add_argument("--dtypes", nargs="+", choices=list(DTYPES), help="default: the full grid")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument(
        "--device", default="cpu", choices=DEVICES, help="where to run (%(default)s)"
    )
    parser.add_argument(
        "--threads",
        default="1,all",
        help="comma-separated thread counts; 'all' = torch's default (%(default)s); "
        "ignored on cuda",
    )
    parser.add_argument(
        "--channels",
        type=int,
        default=CHANNELS,
        help="inputs are (numel / CHANNELS, CHANNELS); PReLU has a weight "
        "per channel (%(default)s)",
    )
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument(
        "--quick", action="store_true", help="64K float32 (cuda: 16M), all threads, 5 repeats"
    )
    parser.add_argument("--json", help="write rows and environment as JSON here")
    parser.add_argument("--markdown", help="write the markdown table here")
    parser.add_argument("--plot", help="write a PNG of the ratios here (needs matplotlib)")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        parser.error(
            f"--device cuda: no CUDA device available (torch {torch.__version__}, {build})"
        )

    all_threads = torch.get_num_threads()
    threads = [all_threads if t == "all" else int(t) for t in args.threads.split(",")]
    grid = default_grid(args.quick, args.device)
    if args.sizes or args.dtypes:
        grid = [
            (s, d)
            for s in (args.sizes or DEFAULT_SIZES[args.device])
            for d in (args.dtypes or DEFAULT_DTYPES)
        ]
    if args.channels < 1:
        parser.error("--channels must be positive")
    if any(SIZES[size] < args.channels for size, _ in grid):
        parser.error("--channels is larger than the smallest size: a tensor would be empty")
    repeats = args.repeats
    if args.quick:
        threads, repeats = [all_threads], min(repeats, 5)

    env = environment(args.device, args.channels)
    print(markdown([], env), end="")
    sys.stdout.flush()
    rows = run(
        args.ops,
        grid,
        args.modes,
        sorted(set(threads)),
        repeats,
        log=lambda line: print(line, flush=True),
        device=args.device,
        channels=args.channels,
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "rows": [asdict(r) for r in rows]}, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(rows, env))
    if args.plot:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
