"""test_packed's DDP run: one rank's process (a module apart from the tests,
so the spawned ranks import little)."""

import torch

import torch_act


def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(16, 32),
        torch_act.nn.GELU(backward_bits=3),
        torch.nn.Linear(32, 32),
        torch_act.nn.LeakyReLU(backward_bits=1),
        torch.nn.Linear(32, 4),
    )


def batch(rank: int) -> torch.Tensor:
    return torch.randn(8, 16, generator=torch.Generator().manual_seed(10 + rank))


def worker(rank: int, world_size: int, port: int, results) -> None:
    torch.distributed.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size
    )
    try:
        net = model()
        ddp = torch.nn.parallel.DistributedDataParallel(net)
        ddp(batch(rank)).square().sum().backward()
        results[rank] = [p.grad.clone() for p in net.parameters()]
    finally:
        torch.distributed.destroy_process_group()
