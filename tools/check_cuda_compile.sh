#!/usr/bin/env bash
# Compile-only check of the CUDA sources, for machines without a GPU (CI):
# every .cu file for sm_80 and sm_90, and the host binding against the CUDA
# headers, so the CUDA code cannot rot unseen. Runs against whatever torch is
# installed, a CPU-only one included (the .cu files need only header-only c10).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
NVCC=${NVCC:-nvcc}
command -v "$NVCC" >/dev/null || { echo "check_cuda_compile: nvcc not found" >&2; exit 1; }
start=$SECONDS

read -r -a torch_includes < <(python -c \
  'import torch.utils.cpp_extension as c; print(" ".join("-I" + p for p in c.include_paths()))')
cuda_include=$(dirname "$(dirname "$(command -v "$NVCC")")")/include
[ -f "$cuda_include/cuda_runtime_api.h" ] || cuda_include=/usr/local/cuda/include
# The C++ standard torch's BuildExtension passes (C++17 up to torch 2.11,
# C++20 in 2.13), read from its source, since no API reports it.
std=$(python -c 'import inspect, re, torch.utils.cpp_extension as c
m = re.search(r"cpp_flag_prefix \+ .(c\+\+\d+)", inspect.getsource(c))
print(m.group(1) if m else "c++17")')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The flags torch.utils.cpp_extension gives nvcc, plus ours (setup.py).
nvcc_flags=(-std="$std" -O3 --expt-relaxed-constexpr -Xcompiler -fPIC -DTORCH_ACT_WITH_CUDA
  -D__CUDA_NO_HALF_OPERATORS__ -D__CUDA_NO_HALF_CONVERSIONS__ -D__CUDA_NO_BFLOAT16_CONVERSIONS__
  -D__CUDA_NO_HALF2_OPERATORS__
  -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 --threads 2)
for source in csrc/cuda/*.cu; do
  echo "nvcc $source (sm_80, sm_90)"
  "$NVCC" "${nvcc_flags[@]}" "${torch_includes[@]}" -c "$source" -o "$out/$(basename "$source").o"
done

# The host binding: a CPU-only torch ships c10/cuda's headers but not the
# macros file its CMake would generate, hence C10_USING_CUSTOM_GENERATED_MACROS.
python_include=$(python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
# The op files include the CUDA host headers in CUDA builds too.
for source in csrc/cuda/*.cpp $(grep -l TORCH_ACT_WITH_CUDA csrc/*.cpp); do
  echo "g++ -fsyntax-only $source"
  g++ -std="$std" -fsyntax-only -DTORCH_ACT_WITH_CUDA -DC10_USING_CUSTOM_GENERATED_MACROS \
    "${torch_includes[@]}" -I"$python_include" -I"$cuda_include" "$source"
done
echo "CUDA sources compile ($((SECONDS - start)) s)"
