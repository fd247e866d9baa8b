#!/usr/bin/env bash
# Configures, builds and runs the C++ tests against the torch installed for
# `python`. Works from any directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

prefix=$(python -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B tests/cpp/build -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DTORCH_ACT_BUILD_TESTS=ON
cmake --build tests/cpp/build -j2
tests/cpp/build/tests/cpp/test_torch_act
tests/cpp/build/tests/cpp/test_channel_walk | grep -v "^PASS"
# A kernel that deadlocks the emulated GPU would otherwise hang CI.
timeout 600 tests/cpp/build/tests/cpp/test_emulated_kernels | grep -v "^PASS"
