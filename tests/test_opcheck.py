"""torch.library.opcheck on every registered op: schema, autograd registration,
fake tensors (Meta kernels: same sizes, strides and dtype as the real kernel)
and AOT dispatch, on contiguous and permuted samples."""

import pytest
import torch
from torch.library import opcheck

import torch_act  # noqa: F401
from cases import CASES, CASE_IDS, DEVICES
from test_gated import GATED_AND_BIAS, _op_args

ops = torch.ops.torch_act


def sample(permuted: bool, requires_grad: bool, seed: int = 0, device: str = "cpu") -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if permuted:
        x = torch.randn(4, 5, 3, 2, generator=g).permute(3, 2, 0, 1)  # dense, not contiguous
    else:
        x = torch.randn(2, 3, 4, 5, generator=g)
    return x.to(device).requires_grad_(requires_grad)


def op_samples(case, permuted, requires_grad, device="cpu"):
    """(op, args, kwargs) for the forward, backward and double-backward ops of a case.
    Double-backward ops have no autograd kernel (no third derivatives), so they
    are checked without requires_grad."""
    name = case.act.op or case.act.name
    x = sample(permuted, requires_grad, 0, device)
    if case.tensor_arg is None and case.act.op is None:
        kw = case.kwargs
        y = getattr(ops, name).default(x.detach(), **kw)  # GLU's output is smaller
        g = torch.randn_like(y).requires_grad_(requires_grad)
        gg = torch.randn_like(x)
        out = [
            (getattr(ops, name).default, (x,), kw),
            (getattr(ops, f"{name}_backward").default, (g, x), kw),
            (getattr(ops, f"{name}_double_backward").default, (gg, g.detach(), x.detach()), kw),
        ]
        if case.act.inplace:
            out.append((getattr(ops, f"{name}_").default, (x.detach().clone(),), kw))
        if hasattr(ops, f"{name}_result_backward"):  # the in-place op's gradient, from y
            y_saved = y.requires_grad_(requires_grad)
            out += [
                (getattr(ops, f"{name}_result_backward").default, (g, y_saved), kw),
                (
                    getattr(ops, f"{name}_result_double_backward").default,
                    (gg, g.detach(), y.detach()),
                    kw,
                ),
            ]
        return out
    g = sample(permuted, requires_grad, 1, device)
    gg = sample(permuted, False, 2, device)

    def tensor_overload(op_name):  # swish.Tensor beside swish(float); prelu.default
        packet = getattr(ops, op_name)
        return packet.Tensor if "Tensor" in packet.overloads() else packet.default

    if case.act.op is not None:  # RReLU's noise: one slope per element
        p = (torch.rand_like(x) * 0.2 + 0.1).requires_grad_(requires_grad)
    else:
        (p,) = case.tensor_args(x, requires_grad=requires_grad)
    ggp = torch.rand_like(p)
    return [
        (tensor_overload(name), (x, p), {}),
        (tensor_overload(f"{name}_backward"), (g, x, p), {}),
        (
            tensor_overload(f"{name}_double_backward"),
            (gg, ggp, g.detach(), x.detach(), p.detach()),
            {},
        ),
    ]


@pytest.mark.parametrize("requires_grad", [False, True], ids=["no_grad", "grad"])
@pytest.mark.parametrize("permuted", [False, True], ids=["contiguous", "permuted"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("device", DEVICES)
def test_opcheck(device, case, permuted, requires_grad):
    for op, args, kwargs in op_samples(case, permuted, requires_grad, device):
        opcheck(op, args, kwargs)


def test_every_registered_op_is_checked():
    """Every activation op in the torch_act namespace is covered by the samples
    above (underscore ops such as _cpu_capability are helpers, not activations)."""
    covered = {op.name() for case in CASES for op, _, _ in op_samples(case, False, False)}
    covered |= {
        op.name() for kind, (name, kw) in GATED_AND_BIAS for op, _ in _op_args(kind, name, kw)[0]
    }
    registered = {
        name
        for name in torch._C._dispatch_get_all_op_names()
        if name.startswith("torch_act::") and not name.startswith("torch_act::_")
    }
    # (the packed-backward ops: tests/test_packed.py checks each of them)
    packed = {name for name in registered if name.endswith(("_pack", "_backward_packed"))}
    assert covered == registered - packed
