#!/usr/bin/env bash
# Compile-only check of the CPU kernels for aarch64, where the DEFAULT build
# is all a user gets: Debian's cross compiler (installed here if missing)
# builds csrc/cpu/kernels.cpp and dispatch.cpp as setup.py would on aarch64,
# against the installed torch's headers. No aarch64 torch runs here, so
# nothing is executed.
#
# It also fails if the DEFAULT kernels still call a float function of the C
# library (expf, tanhf, ...): such a call keeps the compiler from vectorizing
# the loop around it, which is what math::LaneFloat is for.
#
#   bash tools/check_aarch64_compile.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CXX_AARCH64=${CXX_AARCH64:-aarch64-linux-gnu-g++}
if ! command -v "$CXX_AARCH64" >/dev/null; then
  apt-get install -y -q g++-aarch64-linux-gnu >/dev/null ||
    { apt-get update -q >/dev/null && apt-get install -y -q g++-aarch64-linux-gnu >/dev/null; }
fi
read -r -a torch_includes < <(python -c \
  'import torch.utils.cpp_extension as c; print(" ".join("-I" + p for p in c.include_paths()))')
# The DEFAULT variant's flags in setup.py (C++20, as torch 2.13's BuildExtension).
flags=(-std=c++20 -O3 -fPIC -fno-trapping-math --param=max-unswitch-insns=1000
  -DCPU_CAPABILITY=DEFAULT -DCPU_CAPABILITY_DEFAULT)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for compiler in "$CXX_AARCH64" "${CXX:-g++}"; do
  echo "== $compiler: csrc/cpu/kernels.cpp (DEFAULT)"
  "$compiler" "${flags[@]}" "${torch_includes[@]}" -c csrc/cpu/kernels.cpp -o "$out/kernels.o"
  # Float calls into the C library left in the DEFAULT loops: none expected.
  # (The double loops keep exp, tanh, ...: double has no inline math here.)
  float_calls=$(nm -u "$out/kernels.o" | awk '{print $2}' |
    grep -E '^(expf|expm1f|log1pf|tanhf|erfcf|erff|logf)(@.*)?$' || true)
  if [ -n "$float_calls" ]; then
    echo "check_aarch64_compile: the DEFAULT kernels call the C library in float:" $float_calls >&2
    exit 1
  fi
done
echo "== $CXX_AARCH64: csrc/cpu/dispatch.cpp"
"$CXX_AARCH64" -std=c++20 -O3 -fPIC "${torch_includes[@]}" -c csrc/cpu/dispatch.cpp -o "$out/dispatch.o"
echo "aarch64 compile check passed"
