"""Build torch_act against the torch already installed (use --no-build-isolation).

csrc/cpu/kernels.cpp is compiled once per CPU capability (DEFAULT, and on
x86-64 also AVX2 and AVX-512) with that capability's compiler flags, as
torch builds its own kernels; csrc/cpu/dispatch.cpp picks one at run time.

TORCH_ACT_CPU_VARIANTS=0 skips the AVX2 and AVX-512 copies (a quicker build).

The CUDA kernels (csrc/cuda/) are built when the installed torch has CUDA and
nvcc is found; TORCH_ACT_CUDA=1 or 0 forces the choice. TORCH_CUDA_ARCH_LIST
picks the GPU architectures, as for any torch extension.
"""

import glob
import os
import platform
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

from setuptools import find_packages, setup
import torch
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension

KERNELS = os.path.join("csrc", "cpu", "kernels.cpp")
# TORCH_ACT_CPU_VARIANTS=0 builds the baseline CPU kernels only (a faster
# build, e.g. on a GPU machine where the CPU path is not under test).
X86 = (
    platform.machine().lower() in ("x86_64", "amd64")
    and os.environ.get("TORCH_ACT_CPU_VARIANTS") != "0"
)

# name -> extra flags. Each copy lives in namespace torch_act::cpu::<name>.
# -fno-trapping-math (as torch builds ATen): without it GCC keeps a float
# compare's branch, for the exception flag it might raise, and does not
# vectorize the DEFAULT build's loops around it.
CPU_VARIANTS = {"DEFAULT": ["-DCPU_CAPABILITY_DEFAULT", "-fno-trapping-math"]}
if X86:
    CPU_VARIANTS["AVX2"] = ["-DCPU_CAPABILITY_AVX2", "-mavx2", "-mfma", "-mf16c"]
    # -Wno-maybe-uninitialized: GCC 12 warns thousands of times inside its own
    # AVX-512 intrinsics (the `__Y = __Y` of _mm512_undefined_ps).
    CPU_VARIANTS["AVX512"] = [
        "-DCPU_CAPABILITY_AVX512",
        "-mavx512f",
        "-mavx512bw",
        "-mavx512vl",
        "-mavx512dq",
        "-mfma",
        "-mf16c",
        "-Wno-maybe-uninitialized",
    ]

# GCC unswitches a loop on an invariant branch (GELU's approximate=) only up
# to 50 instructions; beyond, the branch stays in the DEFAULT loop and keeps
# it from being vectorized. Clang has no such parameter.
GCC_DEFAULT_FLAGS = ["--param=max-unswitch-insns=1000"]

CXX_FLAGS = ["-O3", "-fvisibility=hidden", "-Wno-unknown-pragmas", "-Wno-psabi"]
if X86:
    CXX_FLAGS.append("-DTORCH_ACT_X86_VARIANTS")


def build_cuda() -> bool:
    forced = os.environ.get("TORCH_ACT_CUDA")
    if forced is not None:
        return forced == "1"
    return torch.version.cuda is not None and CUDA_HOME is not None


WITH_CUDA = build_cuda()


def sources():
    """Everything but the per-capability kernels, which BuildCpuVariants adds."""
    found = glob.glob(os.path.join("csrc", "*.cpp")) + glob.glob(
        os.path.join("csrc", "cpu", "*.cpp")
    )
    if WITH_CUDA:
        found += glob.glob(os.path.join("csrc", "cuda", "*.cpp")) + glob.glob(
            os.path.join("csrc", "cuda", "*.cu")
        )
    return sorted(s for s in found if os.path.normpath(s) != os.path.normpath(KERNELS))


def extension():
    depends = glob.glob(os.path.join("csrc", "**", "*.h"), recursive=True)
    depends += glob.glob(os.path.join("csrc", "**", "*.cuh"), recursive=True)
    if not WITH_CUDA:
        return CppExtension(
            "torch_act._C", sources(), extra_compile_args={"cxx": CXX_FLAGS}, depends=depends
        )
    return CUDAExtension(
        "torch_act._C",
        sources(),
        define_macros=[("TORCH_ACT_WITH_CUDA", None)],
        extra_compile_args={"cxx": CXX_FLAGS, "nvcc": ["-O3"]},
        depends=depends,
    )


class BuildCpuVariants(BuildExtension):
    """Compiles kernels.cpp once per CPU capability, in parallel, and links the
    objects after the default-flag ones (so the linker keeps the baseline copy
    of any inline function the variants share)."""

    def build_extension(self, ext):
        cxx_flags = ext.extra_compile_args["cxx"]  # BuildExtension's flags (std, ABI) included
        version = subprocess.run(
            [self.compiler.compiler_so[0], "--version"], capture_output=True, text=True
        ).stdout
        gcc = "clang" not in version.lower()

        def compile_variant(item):
            name, flags = item
            if name == "DEFAULT" and gcc:
                flags = flags + GCC_DEFAULT_FLAGS
            return self.compiler.compile(
                [KERNELS],
                output_dir=os.path.join(self.build_temp, f"cpu_{name}"),
                macros=ext.define_macros,
                include_dirs=ext.include_dirs,
                extra_postargs={"cxx": cxx_flags + [f"-DCPU_CAPABILITY={name}"] + flags},
                depends=ext.depends,
            )

        workers = max(
            1, min(len(CPU_VARIANTS), int(os.environ.get("MAX_JOBS", os.cpu_count() or 1)))
        )
        with ThreadPoolExecutor(workers) as pool:
            objects = [
                obj for objs in pool.map(compile_variant, CPU_VARIANTS.items()) for obj in objs
            ]
        ext.extra_objects = list(ext.extra_objects or []) + objects
        super().build_extension(ext)


def version() -> str:
    """torch_act.__version__, read without importing the package (its _C is not built yet)."""
    with open(os.path.join("torch_act", "__init__.py")) as f:
        return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


setup(
    name="torch_act",
    version=version(),
    description="Activation functions as C++ ATen operators with hand-written gradients",
    license="BSD-3-Clause",
    packages=find_packages(include=["torch_act", "torch_act.*"]),
    python_requires=">=3.9",
    # The oldest torch CI runs the suite against (2.13.0; 2.14.1 too). It also
    # compiles the sources against 2.11's headers, the GPU machine's torch,
    # which builds with --no-deps or setup.py build_ext (tools/gpu_check.sh).
    install_requires=["torch>=2.13"],
    extras_require={"test": ["pytest", "numpy"], "models": ["transformers"]},
    ext_modules=[extension()],
    cmdclass={"build_ext": BuildCpuVariants},
)
