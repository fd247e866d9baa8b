"""Side-by-side timing: two callables measured interleaved in one process,
medians over repeats, so machine noise hits both alike."""
from __future__ import annotations

import statistics
import time
from typing import Callable

import torch


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


def _cuda_batch_seconds(fn: Callable[[], object], calls: int) -> float:
    """GPU seconds for `calls` back-to-back calls, between two events on the
    current stream. Launches are asynchronous, so host time would only measure
    queueing; the events measure when the GPU actually ran the batch."""
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(calls):
        fn()
    end.record()
    # elapsed_time needs both events completed; a device-wide sync also raises
    # here, inside the caller's try, any asynchronous error of the batch.
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1e3  # ms -> s


def _cuda_calls_per_sample(fn: Callable[[], object], target_seconds: float) -> int:
    fn()  # warm-up: lazy kernel loading and allocator growth stay out of the samples
    calls = 1
    while _cuda_batch_seconds(fn, calls) < target_seconds and calls < 1 << 20:
        calls *= 2
    return calls


def median_seconds_cuda(
    *fns: Callable[[], object], repeats: int = 15, sample_seconds: float = 0.01
) -> list[float]:
    """median_seconds for work that runs on the GPU: each sample is a batch of
    calls timed with CUDA events, fns sampled round-robin as on the CPU."""
    calls = max(_cuda_calls_per_sample(fn, sample_seconds) for fn in fns)
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, samples):
            out.append(_cuda_batch_seconds(fn, calls) / calls)
    return [statistics.median(s) for s in samples]


def timer_for(device: torch.device) -> Callable[..., list[float]]:
    """The median_seconds variant that times work on device."""
    return median_seconds_cuda if device.type == "cuda" else median_seconds
