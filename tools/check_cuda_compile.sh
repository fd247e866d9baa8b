#!/usr/bin/env bash
# Compile-only check of the CUDA sources, for machines without a GPU (CI):
# every .cu file with nvcc, and the host binding against the CUDA headers, so
# the CUDA code cannot rot unseen. The .cu files need only header-only c10, so
# a CPU-only torch's headers do.
#
#   bash tools/check_cuda_compile.sh                  # the installed torch; sm_80, sm_90
#   bash tools/check_cuda_compile.sh --torch 2.11.0 --arch 90
#
# --torch checks against another torch's headers, unpacked from its wheel into
# ~/.cache/torch_act (the wheel is downloaded once, not installed): the GPU
# machine runs torch 2.11, whose headers and C++ standard differ from CI's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
NVCC=${NVCC:-nvcc}
command -v "$NVCC" >/dev/null || { echo "check_cuda_compile: nvcc not found" >&2; exit 1; }
start=$SECONDS

torch_version="" archs=(80 90)
while [ $# -gt 0 ]; do
  case $1 in
    --torch) torch_version=$2; shift 2 ;;
    --arch) read -r -a archs <<<"$2"; shift 2 ;;
    *) echo "check_cuda_compile: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ -n "$torch_version" ]; then
  torch_root=${XDG_CACHE_HOME:-$HOME/.cache}/torch_act/torch-$torch_version
  if [ ! -f "$torch_root/torch/utils/cpp_extension.py" ]; then
    download=$(mktemp -d)
    python -m pip download -q --no-deps --only-binary=:all: "torch==$torch_version" -d "$download"
    python - "$download"/torch-*.whl "$download/root" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    wheel.extractall(sys.argv[2], [
        name for name in wheel.namelist()
        if name.startswith("torch/include/") or name == "torch/utils/cpp_extension.py"
    ])
PY
    rm -rf "$torch_root" && mkdir -p "$(dirname "$torch_root")"
    mv "$download/root" "$torch_root" && rm -rf "$download"
  fi
  torch_includes=(-I"$torch_root/torch/include" -I"$torch_root/torch/include/torch/csrc/api/include")
  cpp_extension=$torch_root/torch/utils/cpp_extension.py
else
  read -r -a torch_includes < <(python -c \
    'import torch.utils.cpp_extension as c; print(" ".join("-I" + p for p in c.include_paths()))')
  cpp_extension=$(python -c 'import torch.utils.cpp_extension as c; print(c.__file__)')
fi
echo "torch headers: ${torch_version:-installed torch}"
cuda_include=$(dirname "$(dirname "$(command -v "$NVCC")")")/include
[ -f "$cuda_include/cuda_runtime_api.h" ] || cuda_include=/usr/local/cuda/include
# The C++ standard torch's BuildExtension passes (C++17 up to torch 2.11,
# C++20 in 2.13), read from its source, since no API reports it.
std=$(python - "$cpp_extension" <<'PY'
import re, sys
m = re.search(r"cpp_flag_prefix \+ .(c\+\+\d+)", open(sys.argv[1]).read())
print(m.group(1) if m else "c++17")
PY
)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The flags torch.utils.cpp_extension gives nvcc, plus ours (setup.py).
nvcc_flags=(-std="$std" -O3 --expt-relaxed-constexpr -Xcompiler -fPIC -DTORCH_ACT_WITH_CUDA
  -D__CUDA_NO_HALF_OPERATORS__ -D__CUDA_NO_HALF_CONVERSIONS__ -D__CUDA_NO_BFLOAT16_CONVERSIONS__
  -D__CUDA_NO_HALF2_OPERATORS__ --threads 2
  # (a CPU-only torch ships c10/cuda's headers without the macros file its
  # CMake would generate; packed.cu includes the stream and launch-check headers)
  -DC10_USING_CUSTOM_GENERATED_MACROS)
for arch in "${archs[@]}"; do
  nvcc_flags+=(-gencode "arch=compute_$arch,code=sm_$arch")
done
for source in csrc/cuda/*.cu; do
  echo "nvcc -std=$std $source (sm ${archs[*]})"
  "$NVCC" "${nvcc_flags[@]}" "${torch_includes[@]}" -c "$source" -o "$out/$(basename "$source").o"
done

# The host binding: a CPU-only torch ships c10/cuda's headers but not the
# macros file its CMake would generate, hence C10_USING_CUSTOM_GENERATED_MACROS.
python_include=$(python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
# The op files include the CUDA host headers in CUDA builds too.
for source in csrc/cuda/*.cpp $(grep -l TORCH_ACT_WITH_CUDA csrc/*.cpp); do
  echo "g++ -std=$std -fsyntax-only $source"
  g++ -std="$std" -fsyntax-only -DTORCH_ACT_WITH_CUDA -DC10_USING_CUSTOM_GENERATED_MACROS \
    "${torch_includes[@]}" -I"$python_include" -I"$cuda_include" "$source"
done
echo "CUDA sources compile against ${torch_version:-the installed torch} ($((SECONDS - start)) s)"
