"""GatedMLP against transformers' LlamaMLP (outputs, gradients, training),
convert(gated_mlp=True), and torch_act.memory's measurements of both."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import torch_act
from torch_act.memory import saved_bytes

transformers = pytest.importorskip("transformers")
from transformers import LlamaConfig  # noqa: E402
from transformers.models.llama.modeling_llama import LlamaMLP  # noqa: E402


def llama_mlp(d_model=32, d_hidden=88, act="silu", dtype=torch.float32, seed=0):
    torch.manual_seed(seed)
    config = LlamaConfig(
        hidden_size=d_model,
        intermediate_size=d_hidden,
        hidden_act=act,
        num_attention_heads=4,
        num_key_value_heads=4,
    )
    return LlamaMLP(config).to(dtype)


def grads_of(module, x, g):
    x = x.detach().requires_grad_()
    out = module(x)
    out.backward(g)
    return out.detach(), x.grad, [p.grad for p in module.parameters()]


@pytest.mark.parametrize(
    "act,dtype,tol",
    [
        ("silu", torch.float32, dict(rtol=1e-5, atol=1e-5)),
        ("gelu_pytorch_tanh", torch.float32, dict(rtol=1e-5, atol=1e-5)),
        ("relu", torch.float64, dict(rtol=1e-10, atol=1e-12)),
        ("silu", torch.bfloat16, dict(rtol=3e-2, atol=3e-2)),
    ],
)
def test_from_module_matches_llama_mlp(act, dtype, tol):
    native = llama_mlp(act=act, dtype=dtype)
    fused = torch_act.nn.GatedMLP.from_module(native)
    x = torch.randn(3, 7, 32).to(dtype)
    g = torch.randn(3, 7, 32).to(dtype)
    out_n, gx_n, (g_gate, g_up, g_down) = grads_of(native, x, g)
    out_f, gx_f, (g_gate_up, g_down_f) = grads_of(fused, x, g)
    torch.testing.assert_close(out_f, out_n, **tol)
    torch.testing.assert_close(gx_f, gx_n, **tol)
    torch.testing.assert_close(g_gate_up, torch.cat([g_gate, g_up]), **tol)
    torch.testing.assert_close(g_down_f, g_down, **tol)


def test_from_module_refuses_what_it_cannot_fuse():
    class NotGated(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate_proj = nn.Linear(4, 8)
            self.up_proj = nn.Linear(4, 8, bias=False)
            self.down_proj = nn.Linear(8, 4)
            self.act_fn = nn.SiLU()

    with pytest.raises(TypeError, match="all have a bias or none"):
        torch_act.nn.GatedMLP.from_module(NotGated())
    with pytest.raises(TypeError, match="no gate_proj"):
        torch_act.nn.GatedMLP.from_module(nn.Linear(2, 2))
    block = NotGated()
    block.up_proj = nn.Linear(4, 8)
    block.act_fn = nn.Identity()
    with pytest.raises(TypeError, match="no activation torch_act recognises"):
        torch_act.nn.GatedMLP.from_module(block)
    assert torch_act.nn.GatedMLP.from_module(block, activation="relu").activation == "relu"


def test_convert_fuses_llama_mlps():
    from transformers import LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=32,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    ids = torch.randint(0, 64, (2, 9))
    expected = model(ids).logits
    converted, report = torch_act.convert(copy.deepcopy(model), report=True, gated_mlp=True)
    fused = [m for m in converted.modules() if isinstance(m, torch_act.nn.GatedMLP)]
    assert (
        len(fused) == 2
        and report.swapped.get("transformers LlamaMLP", 0)
        + sum(n for label, n in report.swapped.items() if "LlamaMLP" in label)
        >= 2
    )
    torch.testing.assert_close(converted(ids).logits, expected, rtol=1e-4, atol=1e-4)
    # Off by default: the state_dict keys stay those of the checkpoint.
    plain = torch_act.convert(copy.deepcopy(model))
    assert not any(isinstance(m, torch_act.nn.GatedMLP) for m in plain.modules())


def test_training_converges_to_the_same_loss():
    """200 Adam steps of a two-block regression model, native and fused from
    the same initial weights: the loss curves agree to float32 rounding."""
    torch.manual_seed(0)
    d, hidden = 16, 48
    teacher = nn.Sequential(nn.Linear(d, d), nn.Tanh(), nn.Linear(d, d))
    inputs = torch.randn(512, d)
    with torch.no_grad():
        targets = teacher(inputs)

    class Net(nn.Module):
        def __init__(self, blocks):
            super().__init__()
            self.blocks = nn.ModuleList(blocks)

        def forward(self, x):
            for block in self.blocks:
                x = x + block(x)
            return x

    native = Net([llama_mlp(d, hidden, seed=s) for s in (1, 2)])
    fused = Net([torch_act.nn.GatedMLP.from_module(b) for b in native.blocks])

    def train(model):
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        losses = []
        for step in range(200):
            batch = slice((step * 64) % 512, (step * 64) % 512 + 64)
            loss = torch.nn.functional.mse_loss(model(inputs[batch]), targets[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    native_losses, fused_losses = train(native), train(fused)
    assert fused_losses[-1] < 0.2 * fused_losses[0]  # it learns
    for a, b in zip(native_losses, fused_losses):
        assert abs(a - b) <= 1e-3 * abs(a) + 1e-6


def test_memory_report_counts_what_backward_keeps():
    native = llama_mlp(64, 176)
    fused = torch_act.nn.GatedMLP.from_module(native)
    x = torch.randn(128, 64, requires_grad=True)
    n, f = saved_bytes(native, x), saved_bytes(fused, x)
    h = 128 * 176 * 4  # one float32 hidden activation
    # Native: gate (silu's input), silu(gate) and up (the product's), the
    # product (down_proj's input). Fused: gate+up (one storage), the product.
    assert n.saved_bytes == 4 * h
    assert f.saved_bytes == 3 * h
    assert f.peak_bytes < n.peak_bytes
    # The inputs and parameters are left out, views of one storage count once.
    lin = nn.Linear(64, 64)
    assert saved_bytes(lin, x).saved_bytes == 0
    assert saved_bytes(lambda t: (t * 2).chunk(2)[0].sin(), x).saved_bytes == x.numel() * 4
