"""Every CPU kernel variant the machine can run passes the same numerical tests,
and the library needs no symbol that torch does not export."""

import ctypes
import os
import shutil
import subprocess
import sys

import pytest
import torch

import torch_act

ORDER = ["DEFAULT", "AVX2", "AVX512"]
HERE = os.path.dirname(os.path.abspath(__file__))


BUILT = list(torch.ops.torch_act._cpu_variants())  # x86-64 builds have all three


def runnable_variants():
    """Variants up to the best one torch picked for this CPU."""
    best = torch_act.cpu_capability()
    if os.environ.get("ATEN_CPU_CAPABILITY"):
        return [best]
    return ORDER[: ORDER.index(best) + 1]


def test_variant_follows_torch():
    """The best built variant up to torch's own choice (TORCH_ACT_CPU_VARIANTS=0
    builds DEFAULT only)."""
    assert BUILT[0] == "DEFAULT" and set(BUILT) <= set(ORDER)
    assert torch_act.cpu_capability() in BUILT
    torch_choice = torch.backends.cpu.get_cpu_capability()
    if torch_choice in ORDER:
        expected = [v for v in ORDER[: ORDER.index(torch_choice) + 1] if v in BUILT][-1]
        assert torch_act.cpu_capability() == expected


@pytest.mark.parametrize("variant", [v for v in ORDER if v in runnable_variants()])
def test_variant_passes_numerical_tests(variant, tmp_path):
    """Runs the parity, gradcheck, in-place and accuracy tests in a subprocess
    forced to one variant. (Inductor tests are left out: torch's own Inductor
    codegen fails under ATEN_CPU_CAPABILITY=default, and its cache does not
    key on the capability, so each run gets its own cache directory.)"""
    if variant == torch_act.cpu_capability() and not os.environ.get("TORCH_ACT_TEST_ALL_VARIANTS"):
        # This process already runs the whole suite with this variant.
        assert torch_act.cpu_capability() == variant
        return
    env = dict(
        os.environ,
        ATEN_CPU_CAPABILITY=variant.lower(),
        TORCHINDUCTOR_CACHE_DIR=str(tmp_path / "inductor"),
    )
    probe = subprocess.run(
        [sys.executable, "-c", "import torch_act; print(torch_act.cpu_capability())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == variant
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            os.path.join(HERE, "test_parity.py"),
            os.path.join(HERE, "test_gradcheck.py"),
            os.path.join(HERE, "test_inplace.py"),
            os.path.join(HERE, "test_accuracy.py"),
            os.path.join(HERE, "test_packed.py"),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_every_sleef_symbol_we_need_is_exported_by_torch():
    """Vectorized math calls SLEEF; each Sleef_* symbol the library imports must be
    defined by libtorch_cpu (lazy binding would otherwise fail only at first call)."""
    nm = shutil.which("nm")
    assert nm, "binutils' nm is needed for this check"
    library = torch_act._C.__file__
    undefined = subprocess.run(
        [nm, "-D", "--undefined-only", library], capture_output=True, text=True, check=True
    ).stdout.split()
    needed = sorted({s.split("@")[0] for s in undefined if s.startswith("Sleef_")})
    torch_cpu = ctypes.CDLL(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))
    missing = [name for name in needed if not hasattr(torch_cpu, name)]
    assert not missing, missing
