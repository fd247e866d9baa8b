#!/usr/bin/env bash
# On a GPU machine that has torch (with CUDA) and nvcc but no internet: build
# torch_act with its CUDA kernels, run the self-check, the CUDA half of the
# test suite and the CUDA benchmark, and print a short table last.
# Everything is also written under $OUT (default: ./gpu_results).
#
#   bash tools/gpu_check.sh            # about 8-10 minutes on an H200
#
# (The CUDA grid A/B experiment is tools/cuda_grid_ab.sh, run apart.)
#
# Environment: PYTHON (default python3), TORCH_CUDA_ARCH_LIST (default: the
# GPU's own), TEST_WORKERS (default 8), TEST_FILTER (pytest -k, default
# "cuda": every CUDA test), SELF_CHECK=0 to skip the self-check, BENCH_ARGS
# (default "--repeats 5": the full CUDA grid; "--repeats 3 --sizes 16M" runs
# a third of it, for a shorter run). The build skips the AVX2/AVX-512 copies
# of the CPU kernels unless TORCH_ACT_CPU_VARIANTS=1: only CUDA is checked.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$PWD/gpu_results}
mkdir -p "$OUT"
start=$SECONDS
step() { echo "== $* ($((SECONDS - start)) s)"; }

step "GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee -a "$OUT/gpu.txt"

step "build (TORCH_ACT_CUDA=1)"
if [ -z "${TORCH_CUDA_ARCH_LIST:-}" ]; then
  TORCH_CUDA_ARCH_LIST=$("$PYTHON" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())')
fi
export TORCH_CUDA_ARCH_LIST
if ! TORCH_ACT_CUDA=1 TORCH_ACT_CPU_VARIANTS=${TORCH_ACT_CPU_VARIANTS:-0} \
    MAX_JOBS=${MAX_JOBS:-$(nproc)} "$PYTHON" setup.py build_ext --inplace \
    >"$OUT/build.log" 2>&1; then
  grep -E "error|Error" "$OUT/build.log" | head -40
  echo "BUILD FAILED (log: $OUT/build.log)"
  exit 1
fi
"$PYTHON" -c 'import torch_act; assert torch_act.has_cuda_kernels(), "built without CUDA kernels"' || exit 1

step "self-check on cuda"
selfcheck=0
if [ "${SELF_CHECK:-1}" != 0 ]; then
  "$PYTHON" -m torch_act --device cuda --quick 2>&1 | tee "$OUT/selfcheck.txt"
  selfcheck=${PIPESTATUS[0]}
fi

step "tests: the CUDA half of the suite"
workers=()
if "$PYTHON" -c 'import xdist' 2>/dev/null; then
  workers=(-n "${TEST_WORKERS:-8}")
fi
timeout 300 "$PYTHON" -m pytest -q -p no:cacheprovider "${workers[@]}" -k "${TEST_FILTER:-cuda}" tests \
  2>&1 | tee "$OUT/tests.txt" | tail -25
tests=${PIPESTATUS[0]}

# Runs "$PYTHON" -X faulthandler "$@" into the log $1, under gdb where it
# exists, so that a crash leaves the Python and the C++ stack. (gdb needs the
# interpreter itself, not a launcher script such as pyenv's shim.)
run_with_stacks() {
  local log=$1
  shift
  if command -v gdb >/dev/null; then
    local binary
    binary=$("$PYTHON" -c 'import sys; print(sys.executable)')
    timeout 120 gdb -q -batch -ex run -ex bt --args "$binary" -X faulthandler "$@" >"$log" 2>&1
  else
    timeout 120 "$PYTHON" -X faulthandler "$@" >"$log" 2>&1
  fi
}

# A test that kills its xdist worker leaves only "worker crashed"; rerun up to
# three such tests alone, into $OUT/crash-*.txt.
grep -oE "crashed while running '?[^ ']+" "$OUT/tests.txt" | awk '{print $NF}' | tr -d "'" |
  sort -u | head -3 | while read -r test_id; do
    log="$OUT/crash-$(echo "$test_id" | tr -c 'A-Za-z0-9_.-' '_').txt"
    step "rerun alone: $test_id"
    run_with_stacks "$log" -m pytest -q -p no:cacheprovider -p no:xdist "$test_id"
    tail -30 "$log"
  done

step "benchmark on cuda"
# shellcheck disable=SC2086  # BENCH_ARGS is a list of words
timeout 300 "$PYTHON" -m torch_act bench --device cuda ${BENCH_ARGS:---repeats 5} \
  --json "$OUT/cuda_bench.json" --markdown "$OUT/cuda_bench.md" >"$OUT/bench.txt" 2>&1
bench=$?
# PReLU's wide rows (a weight per each of 768 channels) take another kernel
# (ColumnWalk) than the grid's (N, 64) inputs (RowWalk).
timeout 120 "$PYTHON" -m torch_act bench --device cuda --ops prelu --channels 768 \
  --sizes 16M 64M --repeats 5 --markdown "$OUT/cuda_bench_prelu768.md" >"$OUT/bench_prelu768.txt" 2>&1 ||
  bench=$?

# Gated units, bias + activation and a Llama MLP block's memory (issue 15's
# targets on the GPU): the composites against our ops, eager and compiled.
timeout 300 "$PYTHON" -m torch_act bench --gated --device cuda --quick \
  --json "$OUT/cuda_gated.json" --markdown "$OUT/cuda_gated.md" >"$OUT/bench_gated.txt" 2>&1 ||
  bench=$?

step "summary"
echo "self-check exit $selfcheck, tests exit $tests, benchmark exit $bench"
grep -E "passed|failed" "$OUT/tests.txt" | tail -1
[ -f "$OUT/cuda_bench.json" ] && "$PYTHON" benchmarks/cuda_summary.py "$OUT/cuda_bench.json"
[ -f "$OUT/cuda_bench_prelu768.md" ] && grep "^| prelu" "$OUT/cuda_bench_prelu768.md"
[ -f "$OUT/cuda_gated.md" ] && grep -E "^\| (swiglu|geglu|bias|float|bfloat)" "$OUT/cuda_gated.md"
[ "$selfcheck" = 0 ] && [ "$tests" = 0 ] && [ "$bench" = 0 ]
