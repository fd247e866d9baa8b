"""Side-by-side timing: two callables measured interleaved in one process,
medians over repeats, so machine noise hits both alike."""

from __future__ import annotations

import functools
import statistics
import time
from typing import Callable

import torch

BatchTimer = Callable[[Callable[[], object], int], float]


def _host_batch_seconds(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return time.perf_counter() - start


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


def _calls_per_sample(fn: Callable[[], object], target_seconds: float, batch: BatchTimer) -> int:
    fn()  # warm-up: lazy loading and allocator growth stay out of the samples
    calls = 1
    while batch(fn, calls) < target_seconds and calls < 1 << 20:
        calls *= 2
    return calls


def median_seconds(
    *fns: Callable[[], object],
    repeats: int = 15,
    sample_seconds: float = 0.01,
    device: str | torch.device = "cpu",
) -> list[float]:
    """Median seconds per call of each fn, sampled round-robin. On a CUDA
    device each sample is a batch of calls timed with CUDA events."""
    batch = _cuda_batch_seconds if torch.device(device).type == "cuda" else _host_batch_seconds
    calls = max(_calls_per_sample(fn, sample_seconds, batch) for fn in fns)
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, samples):
            out.append(batch(fn, calls) / calls)
    return [statistics.median(s) for s in samples]


def timer_for(device: str | torch.device) -> Callable[..., list[float]]:
    """median_seconds for work on `device`."""
    return functools.partial(median_seconds, device=device)
