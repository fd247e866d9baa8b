#!/usr/bin/env bash
# Format the tree, or with --check (as .ci/run does) fail where it is not
# formatted: ruff for Python (config in pyproject.toml), clang-format for C++
# and CUDA (.clang-format). The versions are pinned: another version formats
# differently. (The generated Python sections have their own check,
# tests/test_generated_api.py, which needs the built extension.)
#
#   pip install ruff==0.17.5 clang-format==23.1.3
#   bash tools/format.sh           # format
#   bash tools/format.sh --check   # lint and check, change nothing
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t cpp_files < <(git ls-files 'csrc/*' 'tests/cpp/*' | grep -E '\.(h|cpp|cu|cuh)$')
if [ "${1:-}" = "--check" ]; then
  ruff check .
  ruff format --check .
  clang-format --dry-run --Werror "${cpp_files[@]}"
else
  ruff check --fix .
  ruff format .
  clang-format -i "${cpp_files[@]}"
fi
