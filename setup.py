"""Build torch_act against the torch already installed (use --no-build-isolation)."""
import glob
import os

from setuptools import find_packages, setup
from torch.utils.cpp_extension import BuildExtension, CppExtension

ROOT = os.path.dirname(os.path.abspath(__file__))


def sources():
    found = glob.glob(os.path.join("csrc", "*.cpp")) + glob.glob(os.path.join("csrc", "cpu", "*.cpp"))
    return sorted(found)


setup(
    name="torch_act",
    version="0.1.0",
    description="Activation functions as C++ ATen operators with hand-written gradients",
    license="BSD-3-Clause",
    packages=find_packages(include=["torch_act", "torch_act.*"]),
    python_requires=">=3.9",
    install_requires=["torch>=2.4"],
    ext_modules=[
        CppExtension(
            "torch_act._C",
            sources(),
            extra_compile_args={"cxx": ["-O3", "-fvisibility=hidden", "-Wno-unknown-pragmas", "-Wno-psabi"]},
        )
    ],
    cmdclass={"build_ext": BuildExtension},
)
