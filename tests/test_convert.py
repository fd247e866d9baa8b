"""torch_act.convert swaps a model's torch.nn activation modules for torch_act's
(and back) without changing outputs, gradients, parameters or state_dict;
get_activation builds modules by name. Both are driven by the spec table."""
import copy
import inspect
import pickle

import pytest
import torch
from torch import nn

import torch_act
import torch_act.nn as TN
from torch_act._convert import ALIASES

from cases import forward_backward as run

TWINS = [a for a in torch_act.ACTIVATIONS if a.torch_module is not None]
TORCH_CLASSES = {a.torch_module for a in TWINS}
OUR_CLASSES = {getattr(TN, a.module) for a in TWINS}


class Block(nn.Module):
    """A transformer-style MLP block."""

    def __init__(self, dim=8):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(dim, 4 * dim), nn.GELU(approximate="tanh"), nn.Dropout(0.0),
            nn.Linear(4 * dim, dim),
        )
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        return self.norm(x + self.mlp(x))


class CNN(nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
        )
        self.body = nn.ModuleList([
            nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1),
                          nn.PReLU(num_parameters=channels, init=0.1)),
            nn.Sequential(nn.Conv2d(channels, channels, 1), nn.LeakyReLU(0.2)),
        ])
        self.acts = nn.ModuleDict({
            "elu": nn.ELU(alpha=0.5), "gelu": nn.GELU(), "silu": nn.SiLU(),
            "selu": nn.SELU(), "tanh": nn.Tanh(),
        })
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 8))
        self.gate = nn.Sigmoid()
        self.block = Block(8)

    def forward(self, x):
        x = self.stem(x)
        for layer in self.body:
            x = layer(x)
        for act in self.acts.values():
            x = act(x) + x
        x = self.head(x)
        return self.block(x * self.gate(x))


def make_cnn():
    torch.manual_seed(0)
    return CNN().double()


def cnn_input():
    return torch.randn(2, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))


def assert_same(a, b, **tol):
    torch.testing.assert_close(a[0], b[0], **tol)
    assert len(a[1]) == len(b[1])
    for ga, gb in zip(a[1], b[1]):
        torch.testing.assert_close(ga, gb, **tol)


def activation_classes(model):
    return [type(m) for m in model.modules() if type(m) in TORCH_CLASSES | OUR_CLASSES]


def assert_state_dicts_equal(a, b):
    assert list(a) == list(b)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


@pytest.mark.parametrize("make", [make_cnn, lambda: Block().double()], ids=["cnn", "block"])
def test_convert_keeps_outputs_and_gradients(make):
    model = make()
    x = cnn_input() if isinstance(model, CNN) else torch.randn(3, 5, 8, dtype=torch.float64)
    reference = copy.deepcopy(model)
    count = len(activation_classes(model))
    assert count > 0 and all(cls in TORCH_CLASSES for cls in activation_classes(model))

    assert torch_act.convert(model) is model
    assert len(activation_classes(model)) == count
    assert all(cls in OUR_CLASSES for cls in activation_classes(model))
    assert [n for n, _ in model.named_modules()] == [n for n, _ in reference.named_modules()]
    assert_same(run(model, x), run(reference, x))
    assert_same(run(model, x), run(reference, x))  # again, after BatchNorm's stats moved


def test_converted_configuration_and_state_dict():
    model = make_cnn()
    before = copy.deepcopy(model)
    prelu = model.body[0][1]
    weight = prelu.weight
    torch_act.convert(model)

    assert type(model.stem[2]) is TN.ReLU and model.stem[2].inplace is True
    assert model.body[1][1].negative_slope == 0.2 and model.acts["elu"].alpha == 0.5
    assert model.block.mlp[1].approximate == "tanh"
    new_prelu = model.body[0][1]
    assert type(new_prelu) is TN.PReLU and new_prelu is not prelu
    assert new_prelu.weight is weight and weight.requires_grad
    assert new_prelu.num_parameters == 4 and new_prelu.init == 0.1

    assert_state_dicts_equal(model.state_dict(), before.state_dict())
    with torch.no_grad():
        for p in before.parameters():
            p.add_(0.5)
    model.load_state_dict(before.state_dict())
    assert_state_dicts_equal(model.state_dict(), before.state_dict())
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(2)
    before.load_state_dict(model.state_dict())
    assert_state_dicts_equal(model.state_dict(), before.state_dict())


def test_optimizer_keeps_training_the_prelu_weight():
    model = nn.Sequential(nn.Linear(4, 3), nn.PReLU(3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    torch_act.convert(model)
    weight = model[1].weight.detach().clone()
    model(torch.randn(5, 4)).sum().backward()
    optimizer.step()
    assert not torch.equal(model[1].weight, weight)


def test_prelu_requires_grad_false_and_training_flag_kept():
    model = nn.Sequential(nn.PReLU(2), nn.ReLU()).eval()
    model[0].weight.requires_grad_(False)
    model[1].train()
    torch_act.convert(model)
    assert type(model[0]) is TN.PReLU and model[0].weight.requires_grad is False
    assert model[0].training is False and model[1].training is True
    assert model.training is False


def test_deepcopy_and_pickle_of_converted_model():
    model = torch_act.convert(make_cnn()).eval()
    x = cnn_input()
    expected = model(x)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert activation_classes(clone) == activation_classes(model)
        torch.testing.assert_close(clone(x), expected, rtol=0, atol=0)


def test_compiled_converted_model_matches_eager():
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(6, 8), nn.PReLU(8), Block(8), nn.LeakyReLU(0.2), nn.SiLU(), nn.Linear(8, 3)
    )
    torch_act.convert(model)
    compiled = torch.compile(copy.deepcopy(model), fullgraph=True)
    x = torch.randn(4, 6)
    assert_same(run(compiled, x), run(model, x), rtol=1e-4, atol=1e-5)


def test_round_trip_to_torch():
    model = make_cnn()
    text, x = repr(model), cnn_input()
    reference = copy.deepcopy(model)
    weight = model.body[0][1].weight
    torch_act.convert(torch_act.convert(model), to="torch")
    assert repr(model) == text
    assert [type(m) for m in model.modules()] == [type(m) for m in reference.modules()]
    assert model.body[0][1].weight is weight
    assert_same(run(model, x), run(reference, x))


def test_modules_without_a_counterpart_are_kept():
    class MyReLU(nn.ReLU):  # a subclass is not torch's ReLU
        pass

    swish, mine = TN.Swish(beta=1.5, learnable=True), MyReLU()
    model = nn.Sequential(swish, mine, nn.Identity())
    assert torch_act.convert(model, to="torch") is model and model[0] is swish
    torch_act.convert(model)
    assert model[0] is swish and model[1] is mine and type(model[2]) is nn.Identity


def test_activation_as_model_and_shared_modules():
    assert type(torch_act.convert(nn.GELU(approximate="tanh"))) is TN.GELU
    assert type(torch_act.convert(TN.ELU(alpha=2.0), to="torch")) is nn.ELU
    shared = nn.Tanh()
    model = nn.Sequential(shared, nn.Linear(2, 2), shared)
    torch_act.convert(model)
    assert type(model[0]) is TN.Tanh and model[0] is model[2]


def test_unknown_target_is_a_value_error():
    with pytest.raises(ValueError, match="torch_act"):
        torch_act.convert(nn.ReLU(), to="jax")


def twin_configs():
    """(row, kwargs) for every row with a torch.nn counterpart: its test
    configurations, and in-place where torch.nn offers it."""
    out = []
    for act in TWINS:
        if act.learnable == "weight":
            out.append((act, {"num_parameters": 4, "init": 0.1}))
            continue
        for cfg in act.test_configs:
            out.append((act, dict(cfg)))
        if act.inplace:
            out.append((act, dict(act.test_configs[-1], inplace=True)))
    return out


TWIN_CONFIGS = twin_configs()


@pytest.mark.parametrize(
    "act,kwargs", TWIN_CONFIGS,
    ids=["-".join([a.module] + [f"{k}={v}" for k, v in kw.items()]) for a, kw in TWIN_CONFIGS],
)
def test_every_torch_twin_converts_with_its_configuration(act, kwargs):
    theirs = act.torch_module(**kwargs)
    ours = torch_act.convert(copy.deepcopy(theirs))
    assert type(ours) is getattr(TN, act.module)
    assert repr(ours) == repr(theirs)  # same class name, same arguments
    back = torch_act.convert(copy.deepcopy(ours), to="torch")
    assert type(back) is act.torch_module and repr(back) == repr(theirs)
    # Eval mode: RReLU's training-mode slopes are random.
    theirs.eval()
    ours = torch_act.convert(copy.deepcopy(theirs))
    assert ours.training is False
    x = torch.randn(2, 4, 6)  # even sizes for GLU's halving, 4 channels for PReLU
    torch.testing.assert_close(ours(x.clone()), theirs(x.clone()))


def required_kwargs(name):
    """Arguments without a default (Threshold's), from the named row's first test config."""
    target = ALIASES.get(name, (name, {}))[0].lower()
    act = next(a for a in torch_act.ACTIVATIONS if target in (a.name.lower(), a.module.lower()))
    params = inspect.signature(getattr(TN, act.module)).parameters.values()
    required = {p.name for p in params if p.default is p.empty}
    return {k: v for k, v in act.test_configs[0].items() if k in required}


@pytest.mark.parametrize("name", torch_act.list_activations())
def test_get_activation_builds_every_listed_name(name):
    module = torch_act.get_activation(name, **required_kwargs(name))
    assert isinstance(module, nn.Module)
    x = torch.randn(2, 4, 6)
    assert module(x).shape[0] == 2


def test_get_activation_names_and_kwargs():
    assert torch_act.get_activation("gelu_tanh").approximate == "tanh"
    assert torch_act.get_activation("GELU").approximate == "none"
    assert type(torch_act.get_activation("leakyrelu")) is TN.LeakyReLU
    assert torch_act.get_activation("LeakyReLU", negative_slope=0.2).negative_slope == 0.2
    swish = torch_act.get_activation("swish", beta=1.702, learnable=True)
    assert type(swish) is TN.Swish and isinstance(swish.beta, nn.Parameter)
    assert torch_act.get_activation("prelu", num_parameters=4).weight.shape == (4,)
    names = torch_act.list_activations()
    assert names == sorted(names) and "gelu_tanh" in names
    for act in torch_act.ACTIVATIONS:
        assert act.name in names and act.module in names


def test_unknown_activation_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown activation 'gleu'.*gelu_tanh.*leaky_relu"):
        torch_act.get_activation("gleu")


def test_aliases_follow_the_table(monkeypatch):
    monkeypatch.setitem(ALIASES, "not_a_row_yet", ("NotARowYet", {}))
    assert "not_a_row_yet" not in torch_act.list_activations()
    with pytest.raises(ValueError, match="unknown activation"):
        torch_act.get_activation("not_a_row_yet")
    rows = {a.name.lower() for a in torch_act.ACTIVATIONS} | {
        a.module.lower() for a in torch_act.ACTIVATIONS}
    for alias in ("quick_gelu", "squared_relu"):
        target = ALIASES[alias][0].lower()
        assert (alias in torch_act.list_activations()) == (target in rows)
