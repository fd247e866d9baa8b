#!/usr/bin/env bash
# Experiment, not a check: the CUDA loops' grid (csrc/cuda/launch.h,
# GridSize), the default resident grid against a block per tile, on the cheap
# ops where the last H200 run trailed native. Each run times native torch
# beside ours in its own process. Run after tools/gpu_check.sh has built the
# extension with CUDA; the TORCH_ACT_CUDA_GRID switch goes once this decides.
#
#   bash tools/cuda_grid_ab.sh          # about 2 minutes on an H200
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$PWD/gpu_results}
mkdir -p "$OUT"
status=0
for grid in resident per_tile; do
  TORCH_ACT_CUDA_GRID=$grid timeout 120 "$PYTHON" -m torch_act bench --device cuda \
    --ops relu sigmoid silu gelu --sizes 16M 64M --modes forward backward --repeats 5 \
    --json "$OUT/cuda_bench_grid_$grid.json" >"$OUT/bench_grid_$grid.txt" 2>&1 || status=$?
  echo "TORCH_ACT_CUDA_GRID=$grid"
  [ -f "$OUT/cuda_bench_grid_$grid.json" ] &&
    "$PYTHON" benchmarks/cuda_summary.py "$OUT/cuda_bench_grid_$grid.json"
done
exit $status
