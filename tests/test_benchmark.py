"""The benchmark harness (python -m torch_act bench) runs and reports sane rows.
Its timings are not checked here: performance claims come from the harness
itself, on a quiet machine."""

import json

import pytest

from torch_act import benchmark


@pytest.mark.parametrize("channels", [benchmark.CHANNELS, 768])
def test_rows_for_each_mode(channels):
    rows = benchmark.run(
        ["prelu", "gelu"],
        [("1K", "float32")],
        list(benchmark.MODES),
        threads=[1],
        repeats=2,
        log=None,
        channels=channels,
    )
    # PReLU has all three modes; GELU has a native backward too.
    assert {(r.op, r.mode) for r in rows} == {
        (op, mode) for op in ("prelu", "gelu") for mode in benchmark.MODES
    }
    for r in rows:
        assert r.ours_us > 0 and r.native_us > 0 and r.gbps > 0
        assert r.ratio == pytest.approx(r.native_us / r.ours_us)


def test_command_line_writes_json_and_markdown(tmp_path):
    out_json, out_md = tmp_path / "bench.json", tmp_path / "bench.md"
    assert (
        benchmark.main(
            [
                "--ops",
                "prelu",
                "--sizes",
                "1K",
                "--dtypes",
                "float32",
                "--modes",
                "forward",
                "--threads",
                "1",
                "--repeats",
                "2",
                "--channels",
                "768",
                "--json",
                str(out_json),
                "--markdown",
                str(out_md),
            ]
        )
        == 0
    )
    result = json.loads(out_json.read_text())
    assert result["environment"]["input_shape"] == "(numel / 768, 768)"
    assert [(r["op"], r["mode"], r["size"]) for r in result["rows"]] == [("prelu", "forward", "1K")]
    text = out_md.read_text()
    assert "inputs (numel / 768, 768)" in text.splitlines()[0]
    assert benchmark.HEADER in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--channels", "0"], "must be positive"),
        (["--sizes", "1K", "--channels", "2048"], "larger than the smallest size"),
    ],
)
def test_rejects_channels_that_leave_no_input(args, message, capsys):
    with pytest.raises(SystemExit):
        benchmark.main(args)
    assert message in capsys.readouterr().err


def test_cuda_environment_line_names_a_non_default_grid():
    """A CUDA table says when its kernels ran with TORCH_ACT_CUDA_GRID set, so
    an A/B pair of tables cannot be mistaken for each other."""
    env = {
        "torch": "2.11.0",
        "torch_act": "0.1.0",
        "device": "cuda",
        "gpu": "GPU",
        "compute_capability": "9.0",
        "cuda": "13.0",
    }
    assert "TORCH_ACT_CUDA_GRID" not in benchmark.markdown([], env)
    first_line = benchmark.markdown([], {**env, "cuda_grid": "per_tile"}).splitlines()[0]
    assert first_line.endswith("; TORCH_ACT_CUDA_GRID=per_tile")
