"""Side-by-side timing: two callables measured interleaved in one process,
medians over repeats, so machine noise hits both alike."""
from __future__ import annotations

import statistics
import time
from typing import Callable


def _calls_per_sample(fn: Callable[[], object], target_seconds: float) -> int:
    fn()  # warm-up
    calls, elapsed = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= target_seconds or calls >= 1 << 20:
            return calls
        calls *= 2


def median_seconds(
    *fns: Callable[[], object], repeats: int = 15, sample_seconds: float = 0.01
) -> list[float]:
    """Median seconds per call of each fn, sampled round-robin."""
    calls = max(_calls_per_sample(fn, sample_seconds) for fn in fns)
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, samples):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            out.append((time.perf_counter() - start) / calls)
    return [statistics.median(s) for s in samples]
