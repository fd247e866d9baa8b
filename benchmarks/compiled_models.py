"""Compiled-model benchmark: whole training steps of small models built from
torch.nn layers (no weights, no downloads), native against swapped
(``torch_act.convert(copy.deepcopy(model))``), eager and under
``torch.compile(fullgraph=True)``.

Models (seeded, float32 unless --dtype bfloat16):
  gpt2_mlp      Linear -> GELU -> Linear, dropout(0), residual, LayerNorm (BERT/GPT-2 MLP)
  mobilenetv2   Conv-BN-ReLU6(inplace) inverted residuals, 32x32 images, batch 8
  llama_swiglu  RMSNorm by hand, down(SiLU(gate(x)) * up(x)), residual
  convnext      depthwise 7x7 conv, LayerNorm, Linear, GELU, Linear, residual
  resnet_basic  ResNet basic blocks with ReLU(inplace=True)

A step is zero_grad + forward + loss + backward (no optimizer). Native and
ours run interleaved in this process, medians over repeats (torch_act/_timing.py),
after a warm-up step that compiles; compile time is that first step's time.
Ratios are native time / ours (above 1: ours faster). The first step's losses
of native and ours must agree (allclose), or the run exits 1.

    python benchmarks/compiled_models.py [--quick] [--models gpt2_mlp convnext ...]
    python -m torch_act bench --models [...]         # the same
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Callable, Optional
from unittest import mock

import torch
from torch import nn

import torch_act
from torch_act._timing import median_seconds
from torch_act.benchmark import _environment_line, environment

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
# Same-loss check on the first step; compiled graphs may fuse and reorder
# reductions differently for native and ours.
LOSS_RTOL = {torch.float32: 1e-4, torch.bfloat16: 2e-2}
# A step takes milliseconds: longer samples than the op benchmark's 10 ms
# keep a preempted sample from skewing the median.
SAMPLE_SECONDS = 0.05
SEED = 0


# ----------------------------------------------------------------- models


class GPT2MLPBlock(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc_in = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc_out = nn.Linear(hidden, dim)
        self.dropout = nn.Dropout(0.0)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        return self.norm(x + self.dropout(self.fc_out(self.act(self.fc_in(x)))))


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        layers = []
        if expand != 1:
            layers += [*conv_bn(cin, hidden, 1), nn.ReLU6(inplace=True)]
        layers += [*conv_bn(hidden, hidden, 3, stride, groups=hidden), nn.ReLU6(inplace=True)]
        layers += conv_bn(hidden, cout, 1)  # linear bottleneck: no activation
        self.layers = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.layers(x)
        return x + y if self.residual else y


def mobilenetv2(classes: int = 10) -> nn.Module:
    # (expansion, channels, blocks, first stride): MobileNetV2's first rows, cut
    # short for 32x32 and to keep Inductor's compile (a C++ kernel per fusion) brief.
    config = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2)]
    layers = [*conv_bn(3, 32, 3), nn.ReLU6(inplace=True)]
    cin = 32
    for expand, cout, blocks, stride in config:
        for i in range(blocks):
            layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand))
            cin = cout
    layers += [
        *conv_bn(cin, 128, 1),
        nn.ReLU6(inplace=True),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(128, classes),
    ]
    return nn.Sequential(*layers)


class RMSNorm(nn.Module):
    """By hand, as Llama implementations write it (no torch.nn.RMSNorm)."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class SwiGLUBlock(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.norm = RMSNorm(dim)
        self.gate = nn.Linear(dim, hidden, bias=False)
        self.up = nn.Linear(dim, hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)
        self.act = nn.SiLU()

    def forward(self, x):
        h = self.norm(x)
        return x + self.down(self.act(self.gate(h)) * self.up(h))


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.fc_in = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.fc_out = nn.Linear(4 * dim, dim)

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)  # channels last for LayerNorm and Linear
        y = self.fc_out(self.act(self.fc_in(self.norm(y))))
        return x + y.permute(0, 3, 1, 2)


def convnext(dim: int = 64, blocks: int = 2, classes: int = 10) -> nn.Module:
    stem = nn.Conv2d(3, dim, 2, stride=2)  # patchify 32x32 -> 16x16
    return nn.Sequential(
        stem,
        *[ConvNeXtBlock(dim) for _ in range(blocks)],
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(dim, classes),
    )


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1, self.bn1 = conv_bn(cin, cout, 3, stride)
        self.conv2, self.bn2 = conv_bn(cout, cout, 3)
        # One module called twice, as torchvision does: convert must swap it once.
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = (
            nn.Sequential(*conv_bn(cin, cout, 1, stride))
            if stride != 1 or cin != cout
            else nn.Identity()
        )

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + self.shortcut(x))


def resnet_basic(classes: int = 10) -> nn.Module:
    layers = [*conv_bn(3, 32, 3), nn.ReLU(inplace=True)]
    for cin, cout, stride in [(32, 32, 1), (32, 32, 1), (32, 64, 2), (64, 64, 1)]:
        layers.append(BasicBlock(cin, cout, stride))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes)]
    return nn.Sequential(*layers)


# name -> (build the model, the input's shape)
TOKENS = (8, 64)  # batch 8, sequence 64
IMAGES = (8, 3, 32, 32)
MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "gpt2_mlp": (
        lambda: nn.Sequential(*[GPT2MLPBlock(128, 512) for _ in range(2)]),
        (*TOKENS, 128),
    ),
    "mobilenetv2": (mobilenetv2, IMAGES),
    "llama_swiglu": (
        lambda: nn.Sequential(*[SwiGLUBlock(128, 352) for _ in range(2)]),
        (*TOKENS, 128),
    ),
    "convnext": (convnext, IMAGES),
    "resnet_basic": (resnet_basic, IMAGES),
}


# ----------------------------------------------------------------- measuring


@dataclass
class Row:
    model: str
    compile_mode: str
    dtype: str
    eager_native_ms: float
    eager_ours_ms: float
    eager_ratio: float  # native / ours
    compiled_native_ms: float
    compiled_ours_ms: float
    compiled_ratio: float
    compile_native_s: float
    compile_ours_s: float
    kernels_native: int  # kernels Inductor generated, forward and backward
    kernels_ours: int
    torch_act_calls: int  # calls to torch.ops.torch_act.* left in ours' generated code
    graphs_ours: int  # graphs Dynamo compiled for ours (fullgraph: 1)
    eager_loss_diff: float
    compiled_loss_diff: float
    loss_match: bool


def train_step(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    model.zero_grad(set_to_none=True)
    # Any scalar will do; float so bfloat16 models sum in float32.
    loss = model(x).float().square().mean()
    loss.backward()
    return loss.detach()


@contextmanager
def captured_inductor_code(codes: list[str]):
    """Collect the code Inductor writes. Not run_and_get_code: it resets Dynamo
    first, which would throw away the other model's compiled graphs."""
    from torch._inductor.graph import GraphLowering

    with mock.patch.object(GraphLowering, "save_output_code", codes.append):
        yield


KERNEL_DEFINITION = re.compile(r"^\w+ = async_compile\.\w+\(", re.MULTILINE)
# A call statement, "buf3 = torch.ops.torch_act.gelu.default(...)" or an in-place
# "torch.ops.torch_act.relu_.default(buf3)"; not the asserts and comments naming the op.
TORCH_ACT_CALL = re.compile(r"^\s*(?:\w+ = )?torch\.ops\.torch_act\.[\w.]+\(", re.MULTILINE)


def compile_and_first_step(model: nn.Module, x: torch.Tensor):
    """(compiled model, first loss, compile seconds, kernels, torch_act calls, graphs)."""
    codes: list[str] = []
    graphs_before = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    compiled = torch.compile(model, fullgraph=True)
    start = time.perf_counter()
    with cold_compiles(), captured_inductor_code(codes):
        loss = train_step(compiled, x)  # compiles forward, then backward
    seconds = time.perf_counter() - start
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"] - graphs_before
    kernels = sum(len(KERNEL_DEFINITION.findall(c)) for c in codes)
    torch_act_calls = sum(len(TORCH_ACT_CALL.findall(c)) for c in codes)
    return compiled, loss, seconds, kernels, torch_act_calls, graphs


def loss_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs() / b.abs().clamp_min(1e-12)).item()


def build(name: str, dtype: torch.dtype) -> tuple[nn.Module, nn.Module, torch.Tensor]:
    make, shape = MODELS[name]
    torch.manual_seed(SEED)
    native = make().to(dtype).train()
    ours = torch_act.convert(copy.deepcopy(native))
    x = torch.randn(shape, generator=torch.Generator().manual_seed(SEED)).to(dtype)
    return native, ours, x


@contextmanager
def cold_compiles():
    """Each compile starts from an empty Inductor cache directory and no FX
    graph / AOTAutograd cache: compile times do not depend on earlier runs or
    on the other model having built the same C++ kernels, a graph compiled
    under one torch_act compile mode is never reused under the other, and the
    code is generated (a cache hit writes none for captured_inductor_code)."""
    import torch._functorch.config as functorch_config
    import torch._inductor.config as inductor_config
    from torch._inductor.runtime.cache_dir_utils import temporary_cache_dir

    with (
        tempfile.TemporaryDirectory(prefix="torch_act_bench_") as directory,
        temporary_cache_dir(directory),
        inductor_config.patch(fx_graph_cache=False, fx_graph_remote_cache=False),
        functorch_config.patch(enable_autograd_cache=False),
    ):
        yield


def warm_up_inductor() -> None:
    """One tiny compiled training step, so that importing Inductor and starting
    its compile workers is not charged to the first model's compile time."""
    x = torch.randn(64, requires_grad=True)
    with cold_compiles():
        torch.compile(lambda t: t.sin().sum(), fullgraph=True)(x).backward()
    torch._dynamo.reset()


def compile_modes(requested: Optional[str], log: Callable[[str], None]) -> list[Optional[str]]:
    """The torch_act compile modes to run; None: the library's current behaviour."""
    if requested is None:
        return [None]
    if not hasattr(torch_act, "set_compile_mode"):
        log(
            f"note: --compile-mode {requested} ignored: this torch_act has no "
            "set_compile_mode yet; measuring its current behaviour"
        )
        return [None]
    return ["decompose", "opaque"] if requested == "both" else [requested]


def current_mode_name() -> str:
    get_mode = getattr(torch_act, "compile_mode", None)  # absent before the switch existed
    return get_mode() if callable(get_mode) else "current"


def run(
    names: list[str],
    dtype: torch.dtype,
    repeats: int,
    modes: list[Optional[str]],
    log: Callable[[str], None] = print,
) -> list[Row]:
    rows = []
    initial_mode = current_mode_name()
    warm_up_inductor()
    try:
        rows = _run(names, dtype, repeats, modes, log)
    finally:
        if initial_mode != "current":
            torch_act.set_compile_mode(initial_mode)
        torch._dynamo.reset()
    return rows


def _run(names, dtype, repeats, modes, log) -> list[Row]:
    rows = []
    for name in names:
        native, ours, x = build(name, dtype)
        # Eager does not depend on the compile mode: measured once per model.
        eager_native_loss, eager_ours_loss = train_step(native, x), train_step(ours, x)
        eager_native_s, eager_ours_s = median_seconds(
            lambda: train_step(native, x),
            lambda: train_step(ours, x),
            repeats=repeats,
            sample_seconds=SAMPLE_SECONDS,
        )
        for mode in modes:
            if mode is not None:
                torch_act.set_compile_mode(mode)
            torch._dynamo.reset()  # nothing compiled under another mode or model is reused
            compiled_native, native_loss, native_compile_s, native_kernels, _, _ = (
                compile_and_first_step(native, x)
            )
            compiled_ours, ours_loss, ours_compile_s, ours_kernels, ours_calls, ours_graphs = (
                compile_and_first_step(ours, x)
            )
            compiled_native_s, compiled_ours_s = median_seconds(
                lambda: train_step(compiled_native, x),
                lambda: train_step(compiled_ours, x),
                repeats=repeats,
                sample_seconds=SAMPLE_SECONDS,
            )
            eager_diff = loss_diff(eager_ours_loss, eager_native_loss)
            compiled_diff = loss_diff(ours_loss, native_loss)
            row = Row(
                name,
                mode or current_mode_name(),
                str(dtype).replace("torch.", ""),
                eager_native_s * 1e3,
                eager_ours_s * 1e3,
                eager_native_s / eager_ours_s,
                compiled_native_s * 1e3,
                compiled_ours_s * 1e3,
                compiled_native_s / compiled_ours_s,
                native_compile_s,
                ours_compile_s,
                native_kernels,
                ours_kernels,
                ours_calls,
                ours_graphs,
                eager_diff,
                compiled_diff,
                max(eager_diff, compiled_diff) <= LOSS_RTOL[dtype],
            )
            rows.append(row)
            log(format_row(row))
    return rows


# ----------------------------------------------------------------- output

HEADER = (
    "| model | compile mode | eager native (ms) | eager ours (ms) | eager native/ours "
    "| compiled native (ms) | compiled ours (ms) | compiled native/ours "
    "| compile s native / ours | kernels native / ours | torch_act calls | same loss |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


def format_row(r: Row) -> str:
    same = "yes" if r.loss_match else f"NO ({max(r.eager_loss_diff, r.compiled_loss_diff):.1e})"
    return (
        f"| {r.model} | {r.compile_mode} | {r.eager_native_ms:.2f} | {r.eager_ours_ms:.2f} "
        f"| {r.eager_ratio:.2f} | {r.compiled_native_ms:.2f} | {r.compiled_ours_ms:.2f} "
        f"| {r.compiled_ratio:.2f} | {r.compile_native_s:.1f} / {r.compile_ours_s:.1f} "
        f"| {r.kernels_native} / {r.kernels_ours} | {r.torch_act_calls} | {same} |"
    )


def preamble(env: dict, dtype_name: str, repeats: int) -> str:
    return (
        f"{_environment_line(env)}; {env['threads']} threads\n\n"
        f"training step (zero_grad, forward, loss, backward), {dtype_name}, "
        f"median of {repeats}; native/ours > 1: ours faster\n"
    )


def markdown(rows: list[Row], env: dict, dtype_name: str, repeats: int) -> str:
    lines = [preamble(env, dtype_name, repeats), HEADER, *map(format_row, rows)]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m torch_act bench --models", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--models",
        nargs="*",
        choices=list(MODELS),
        metavar="MODEL",
        help=f"models to run (default: all): {', '.join(MODELS)}",
    )
    parser.add_argument("--dtype", default="float32", choices=list(DTYPES))
    parser.add_argument(
        "--compile-mode",
        choices=("decompose", "opaque", "both"),
        help="torch_act.set_compile_mode before compiling "
        "(default: leave torch_act's current mode)",
    )
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--quick", action="store_true", help="5 repeats")
    parser.add_argument("--json", help="write rows and environment as JSON here")
    parser.add_argument("--markdown", help="write the markdown table here")
    args = parser.parse_args(argv)
    names = args.models or list(MODELS)
    repeats = min(args.repeats, 5) if args.quick else args.repeats

    modes = compile_modes(args.compile_mode, print)
    env = dict(environment("cpu"), threads=torch.get_num_threads(), dtype=args.dtype)
    print(preamble(env, args.dtype, repeats))
    print(HEADER, flush=True)
    start = time.perf_counter()
    rows = run(names, DTYPES[args.dtype], repeats, modes, log=lambda line: print(line, flush=True))
    env["wall_seconds"] = round(time.perf_counter() - start, 1)
    print(f"\n{len(rows)} rows in {env['wall_seconds']} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "rows": [asdict(r) for r in rows]}, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(rows, env, args.dtype, repeats))
    mismatched = [r.model for r in rows if not r.loss_match]
    if mismatched:
        print(f"native and torch_act losses differ for: {', '.join(mismatched)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
