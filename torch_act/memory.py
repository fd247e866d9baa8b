"""torch_act.memory: the bytes a forward keeps for backward, and the peak of a
training step, measured rather than estimated.

``saved_bytes(fn_or_module, *inputs)`` runs one forward and backward and
reports

* ``saved_bytes``: the bytes of the distinct storages the autograd graph keeps
  for backward (saved-tensor hooks see every tensor saved, by torch's ops and
  torch_act's alike; views of one storage count once), leaving out the
  inputs' and the parameters' storages, which exist whether or not anything
  is saved: what an activation checkpoint would free;
* ``peak_bytes``: the highest memory allocated during forward + backward,
  above what was allocated before the step (CUDA: the caching allocator's
  peak; CPU: the profiler's allocation events, summed in order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union

import torch
from torch import nn

__all__ = ["MemoryReport", "saved_bytes"]


@dataclass
class MemoryReport:
    saved_bytes: int  # distinct storages kept for backward (inputs and parameters left out)
    saved_tensors: int  # tensors the graph saved, before deduplication
    peak_bytes: int  # peak allocation of forward + backward above the starting point
    device: str
    saved_by_dtype: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return (
            f"saved for backward: {self.saved_bytes / 2**20:.2f} MiB "
            f"({self.saved_tensors} tensors); peak of the step: "
            f"{self.peak_bytes / 2**20:.2f} MiB ({self.device})"
        )


def _storage_key(t: torch.Tensor) -> tuple:
    storage = t.untyped_storage()
    return (str(t.device), storage.data_ptr(), storage.nbytes())


def _tensors(values) -> list[torch.Tensor]:
    if isinstance(values, torch.Tensor):
        return [values]
    if isinstance(values, (list, tuple)):
        return [t for v in values for t in _tensors(v)]
    if isinstance(values, dict):
        return [t for v in values.values() for t in _tensors(v)]
    return []


def _loss(output) -> torch.Tensor:
    """A scalar whose gradient w.r.t. every output element is a fixed random
    value (a sum would give ones, which some backward formulas special-case)."""
    total = 0
    for t in _tensors(output):
        if t.requires_grad:
            weight = torch.randn(t.shape, generator=torch.Generator().manual_seed(0))
            total = total + (t * weight.to(t.device, t.dtype)).sum()
    if not isinstance(total, torch.Tensor):
        raise ValueError("torch_act.memory.saved_bytes: no output requires grad")
    return total


def _cpu_peak(step: Callable[[], None]) -> int:
    """Peak of the CPU allocations made during step: the profiler's raw
    allocation (+) and free (-) records, summed in time order."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    records = [
        e
        for e in prof.profiler.kineto_results.events()
        if e.name() == "[memory]" and str(e.device_type()) == "DeviceType.CPU"
    ]
    records.sort(key=lambda e: e.start_ns())
    current = peak = 0
    for e in records:
        current += e.nbytes()
        peak = max(peak, current)
    return peak


def _cuda_peak(step: Callable[[], None], device: torch.device) -> int:
    torch.cuda.synchronize(device)
    start = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    step()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - start


def saved_bytes(fn_or_module: Union[Callable, nn.Module], *inputs, **kwargs) -> MemoryReport:
    """Measure what ``fn_or_module(*inputs, **kwargs)`` keeps for backward and
    the peak memory of its forward + backward (see the module docstring).
    Gradients accumulate into the inputs and parameters that require them."""
    excluded = {_storage_key(t) for t in _tensors(inputs) + _tensors(kwargs)}
    if isinstance(fn_or_module, nn.Module):
        excluded |= {_storage_key(p) for p in fn_or_module.parameters()}
        excluded |= {_storage_key(b) for b in fn_or_module.buffers()}
    device = next((t.device for t in _tensors(inputs)), torch.device("cpu"))

    saved: dict[tuple, int] = {}
    counts = {"tensors": 0}
    by_dtype: dict[str, int] = {}

    def pack(t: torch.Tensor):
        counts["tensors"] += 1
        key = _storage_key(t)
        if key not in excluded and key not in saved:
            saved[key] = key[2]
            by_dtype[str(t.dtype)] = by_dtype.get(str(t.dtype), 0) + key[2]
        return t

    def step() -> None:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            output = fn_or_module(*inputs, **kwargs)
        _loss(output).backward()

    if device.type == "cuda":
        peak = _cuda_peak(step, device)
    else:
        peak = _cpu_peak(step)
    return MemoryReport(
        saved_bytes=sum(saved.values()),
        saved_tensors=counts["tensors"],
        peak_bytes=peak,
        device=str(device),
        saved_by_dtype=by_dtype,
    )
