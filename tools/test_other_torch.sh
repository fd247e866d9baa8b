#!/usr/bin/env bash
# Build torch_act against another torch release and run the whole test suite
# with it, in a virtual environment of its own, so the torch of the main
# environment stays as it is. CI runs the suite against 2.13 (the main
# environment) and, through this script, 2.14.1.
#
#   bash tools/test_other_torch.sh 2.14.1 [pytest arguments]
#
# The build is a copy of this working tree (tracked and untracked files, not
# ignored ones), since the build writes the extension into its package
# directory. It builds the baseline CPU kernels only (TORCH_ACT_CPU_VARIANTS=0:
# the per-ISA copies are the same source, tested against 2.13) and no CUDA
# kernels: the torch wheel PyPI serves for Linux is a CUDA build, which runs
# on the CPU here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ $# -ge 1 ] || { echo "usage: $0 TORCH_VERSION [pytest arguments]" >&2; exit 2; }
version=$1
shift
start=$SECONDS

root=${XDG_CACHE_HOME:-$HOME/.cache}/torch_act/torch-$version-env
venv=$root/venv
tree=$root/src
[ -x "$venv/bin/python" ] || python -m venv "$venv"
# Pinned torch (a CUDA build with its NVIDIA libraries: a few GB, cached in
# the venv after the first run); setuptools as new as that torch asks.
"$venv/bin/pip" install -qq "torch==$version" "setuptools>=77"
"$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'

rm -rf "$tree" && mkdir -p "$tree"
git ls-files -z --cached --others --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$tree"
cd "$tree"
TORCH_ACT_CUDA=0 TORCH_ACT_CPU_VARIANTS=0 MAX_JOBS=${MAX_JOBS:-2} \
  "$venv/bin/pip" install -qq --no-build-isolation -e ".[test,models]"
echo "torch $version: installed and built in $((SECONDS - start)) s"
"$venv/bin/python" -m pytest -q tests "$@"
echo "torch $version: finished in $((SECONDS - start)) s"
