"""torch_act.convert swaps a model's torch.nn activation modules for torch_act's
(and back) without changing outputs, gradients, parameters or state_dict;
get_activation builds modules by name. Both are driven by the spec table."""

import copy
import functools
import inspect
import logging
import math
import pickle
import re
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
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
            nn.Linear(dim, 4 * dim),
            nn.GELU(approximate="tanh"),
            nn.Dropout(0.0),
            nn.Linear(4 * dim, dim),
        )
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        return self.norm(x + self.mlp(x))


class CNN(nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )
        self.body = nn.ModuleList(
            [
                nn.Sequential(
                    nn.Conv2d(channels, channels, 3, padding=1),
                    nn.PReLU(num_parameters=channels, init=0.1),
                ),
                nn.Sequential(nn.Conv2d(channels, channels, 1), nn.LeakyReLU(0.2)),
            ]
        )
        self.acts = nn.ModuleDict(
            {
                "elu": nn.ELU(alpha=0.5),
                "gelu": nn.GELU(),
                "silu": nn.SiLU(),
                "selu": nn.SELU(),
                "tanh": nn.Tanh(),
            }
        )
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
    "act,kwargs",
    TWIN_CONFIGS,
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
    # Every alias adds a name the table's rows do not already give (an alias
    # equal to a row's name would never apply).
    rows = {a.name.lower() for a in torch_act.ACTIVATIONS} | {
        a.module.lower() for a in torch_act.ACTIVATIONS
    }
    for alias, (target, _) in ALIASES.items():
        if alias != "not_a_row_yet":
            assert alias.lower() not in rows and target.lower() in rows, alias


# --- transformers and timm ----------------------------------------------------
# Stand-ins with the real classes' __module__, __qualname__, attributes and
# forward formulas, so these tests need neither library.


def stand_in(module, name, forward, init=None, base=nn.Module):
    """A class that convert sees as `module`.`name`."""

    def __init__(self, *args, **kwargs):
        base.__init__(self)
        if init is not None:
            init(self, *args, **kwargs)

    cls = type(name, (base,), {"__init__": __init__, "forward": forward})
    cls.__module__, cls.__qualname__ = module, name
    return cls


def named(name, fn):
    fn.__name__ = name
    return fn


HF = "transformers.activations"
TIMM = "timm.layers.activations"


def _gelu_erf(x):
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def _gelu_tanh_pow(x):
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))
    return 0.5 * x * (1.0 + torch.tanh(inner))


def _init_act(default, python_name):
    """transformers' pattern: pick the function in __init__, keep it as self.act."""

    def init(self, use_python=False):
        self.act = getattr(self, python_name) if use_python else default

    return init


def _init_inplace(self, inplace=False):
    self.inplace = inplace


def _init_min_max(self, min, max):
    self.min, self.max = min, max


class HFStandIns:
    GELUActivation = stand_in(
        HF, "GELUActivation", lambda self, x: self.act(x), _init_act(F.gelu, "_gelu_python")
    )
    GELUActivation._gelu_python = named("_gelu_python", lambda self, x: _gelu_erf(x))
    GELUTanh = stand_in(
        HF,
        "GELUTanh",
        lambda self, x: self.act(x),
        _init_act(functools.partial(F.gelu, approximate="tanh"), "_gelu_tanh_python"),
    )
    GELUTanh._gelu_tanh_python = named("_gelu_tanh_python", lambda self, x: _gelu_tanh_pow(x))
    NewGELUActivation = stand_in(HF, "NewGELUActivation", lambda self, x: _gelu_tanh_pow(x))
    FastGELUActivation = stand_in(
        HF,
        "FastGELUActivation",
        lambda self, x: 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x))),
    )
    AccurateGELUActivation = stand_in(
        HF,
        "AccurateGELUActivation",
        lambda self, x: (
            0.5 * x * (1 + torch.tanh(self.precomputed_constant * (x + 0.044715 * torch.pow(x, 3))))
        ),
        lambda self: setattr(self, "precomputed_constant", math.sqrt(2 / math.pi)),
    )
    QuickGELUActivation = stand_in(
        HF, "QuickGELUActivation", lambda self, x: x * torch.sigmoid(1.702 * x)
    )
    SiLUActivation = stand_in(HF, "SiLUActivation", lambda self, x: F.silu(x))
    MishActivation = stand_in(
        HF, "MishActivation", lambda self, x: self.act(x), lambda self: setattr(self, "act", F.mish)
    )
    ReLUSquaredActivation = stand_in(
        HF, "ReLUSquaredActivation", lambda self, x: torch.square(F.relu(x))
    )
    ClippedGELUActivation = stand_in(
        HF,
        "ClippedGELUActivation",
        lambda self, x: torch.clip(F.gelu(x), self.min, self.max),
        _init_min_max,
    )
    LaplaceActivation = stand_in(
        HF,
        "LaplaceActivation",
        lambda self, x: 0.5 * (1.0 + torch.erf((x - 0.707107) / (0.282095 * math.sqrt(2.0)))),
    )
    SqrtSoftplusActivation = stand_in(
        HF, "SqrtSoftplusActivation", lambda self, x: F.softplus(x).sqrt()
    )
    LinearActivation = stand_in(HF, "LinearActivation", lambda self, x: x)
    # A class added to transformers after convert's table was written.
    FutureActivation = stand_in(HF, "FutureActivation", lambda self, x: x * 2)


class TimmStandIns:
    Swish = stand_in(
        TIMM,
        "Swish",
        lambda self, x: x.mul_(x.sigmoid()) if self.inplace else x.mul(x.sigmoid()),
        _init_inplace,
    )
    Mish = stand_in(
        TIMM, "Mish", lambda self, x: x.mul(F.softplus(x).tanh()), lambda self, inplace=False: None
    )
    Sigmoid = stand_in(
        TIMM,
        "Sigmoid",
        lambda self, x: x.sigmoid_() if self.inplace else x.sigmoid(),
        _init_inplace,
    )
    Tanh = stand_in(
        TIMM, "Tanh", lambda self, x: x.tanh_() if self.inplace else x.tanh(), _init_inplace
    )
    HardSwish = stand_in(
        TIMM,
        "HardSwish",
        lambda self, x: (
            x.mul_(F.relu6(x + 3.0).div_(6.0))
            if self.inplace
            else x.mul(F.relu6(x + 3.0).div_(6.0))
        ),
        _init_inplace,
    )
    HardSigmoid = stand_in(
        TIMM,
        "HardSigmoid",
        lambda self, x: (
            x.add_(3.0).clamp_(0.0, 6.0).div_(6.0) if self.inplace else F.relu6(x + 3.0) / 6.0
        ),
        _init_inplace,
    )
    HardMish = stand_in(
        TIMM, "HardMish", lambda self, x: 0.5 * x * (x + 2).clamp(min=0, max=2), _init_inplace
    )
    PReLU = stand_in(
        TIMM,
        "PReLU",
        lambda self, x: F.prelu(x, self.weight),
        lambda self, num_parameters=1, init=0.25, inplace=False: nn.PReLU.__init__(
            self, num_parameters=num_parameters, init=init
        ),
        base=nn.PReLU,
    )
    GELU = stand_in(TIMM, "GELU", lambda self, x: F.gelu(x), lambda self, inplace=False: None)
    GELUTanh = stand_in(
        TIMM,
        "GELUTanh",
        lambda self, x: F.gelu(x, approximate="tanh"),
        lambda self, inplace=False: None,
    )
    QuickGELU = stand_in(
        TIMM,
        "QuickGELU",
        lambda self, x: x * torch.sigmoid(1.702 * x),
        lambda self, inplace=False: None,
    )
    SwishMe = stand_in(
        "timm.layers.activations_me", "SwishMe", lambda self, x: x.mul(torch.sigmoid(x))
    )
    HardSwishMe = stand_in(
        "timm.layers.activations_me",
        "HardSwishMe",
        lambda self, x: x * (x + 3).clamp(min=0, max=6).div(6.0),
    )
    OldSwish = stand_in(
        "timm.models.layers.activations",
        "Swish",  # before timm 0.9
        lambda self, x: x.mul(x.sigmoid()),
        _init_inplace,
    )


# (make the module, the torch_act class expected, its configuration)
MAPPED = [
    ("hf-gelu", lambda: HFStandIns.GELUActivation(), TN.GELU, {"approximate": "none"}),
    (
        "hf-gelu-python",
        lambda: HFStandIns.GELUActivation(use_python=True),
        TN.GELU,
        {"approximate": "none"},
    ),
    ("hf-gelu-tanh", lambda: HFStandIns.GELUTanh(), TN.GELU, {"approximate": "tanh"}),
    (
        "hf-gelu-tanh-python",
        lambda: HFStandIns.GELUTanh(use_python=True),
        TN.GELU,
        {"approximate": "tanh"},
    ),
    ("hf-new-gelu", lambda: HFStandIns.NewGELUActivation(), TN.GELU, {"approximate": "tanh"}),
    ("hf-fast-gelu", lambda: HFStandIns.FastGELUActivation(), TN.GELU, {"approximate": "tanh"}),
    (
        "hf-accurate-gelu",
        lambda: HFStandIns.AccurateGELUActivation(),
        TN.GELU,
        {"approximate": "tanh"},
    ),
    ("hf-quick-gelu", lambda: HFStandIns.QuickGELUActivation(), TN.QuickGELU, {}),
    ("hf-silu", lambda: HFStandIns.SiLUActivation(), TN.SiLU, {"inplace": False}),
    ("hf-mish", lambda: HFStandIns.MishActivation(), TN.Mish, {"inplace": False}),
    ("hf-relu2", lambda: HFStandIns.ReLUSquaredActivation(), TN.SquaredReLU, {}),
    ("timm-swish", lambda: TimmStandIns.Swish(), TN.SiLU, {"inplace": False}),
    ("timm-swish-inplace", lambda: TimmStandIns.Swish(inplace=True), TN.SiLU, {"inplace": True}),
    ("timm-mish", lambda: TimmStandIns.Mish(inplace=True), TN.Mish, {"inplace": False}),
    ("timm-sigmoid", lambda: TimmStandIns.Sigmoid(inplace=True), TN.Sigmoid, {}),
    ("timm-tanh", lambda: TimmStandIns.Tanh(), TN.Tanh, {}),
    (
        "timm-hardswish",
        lambda: TimmStandIns.HardSwish(inplace=True),
        TN.Hardswish,
        {"inplace": True},
    ),
    ("timm-hardsigmoid", lambda: TimmStandIns.HardSigmoid(), TN.Hardsigmoid, {"inplace": False}),
    (
        "timm-hardsigmoid-inplace",
        lambda: TimmStandIns.HardSigmoid(inplace=True),
        TN.Hardsigmoid,
        {"inplace": True},
    ),
    (
        "timm-prelu",
        lambda: TimmStandIns.PReLU(num_parameters=8, init=0.1),
        TN.PReLU,
        {"num_parameters": 8, "init": 0.1},
    ),
    ("timm-gelu", lambda: TimmStandIns.GELU(), TN.GELU, {"approximate": "none"}),
    ("timm-gelu-tanh", lambda: TimmStandIns.GELUTanh(), TN.GELU, {"approximate": "tanh"}),
    ("timm-quick-gelu", lambda: TimmStandIns.QuickGELU(), TN.QuickGELU, {}),
    ("timm-swish-me", lambda: TimmStandIns.SwishMe(), TN.SiLU, {"inplace": False}),
    ("timm-hardswish-me", lambda: TimmStandIns.HardSwishMe(), TN.Hardswish, {"inplace": False}),
    ("timm-old-swish", lambda: TimmStandIns.OldSwish(), TN.SiLU, {"inplace": False}),
]


def mlp(act):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), act, nn.Linear(8, 3)).double()


@pytest.mark.parametrize("make,cls,config", [m[1:] for m in MAPPED], ids=[m[0] for m in MAPPED])
def test_transformers_and_timm_classes_map_with_the_same_math(make, cls, config):
    act = make()
    model = mlp(act)
    reference = copy.deepcopy(model)
    x = torch.randn(5, 6, dtype=torch.float64) * 3
    model, report = torch_act.convert(model, report=True)
    assert type(model[1]) is cls
    assert {k: getattr(model[1], k) for k in config} == config
    library = "transformers" if type(act).__module__.startswith("transformers") else "timm"
    assert report.swapped == {f"{library}.{type(act).__qualname__}": 1} and report.left == []
    assert_same(run(model, x), run(reference, x))
    if cls is TN.PReLU:  # the same Parameter, as for torch.nn.PReLU
        assert model[1].weight is act.weight


LEFT = [
    ("clipped", lambda: HFStandIns.ClippedGELUActivation(-10, 10), "clipped"),
    ("laplace", lambda: HFStandIns.LaplaceActivation(), "Laplace"),
    ("sqrt-softplus", lambda: HFStandIns.SqrtSoftplusActivation(), "sqrt(softplus"),
    ("future", lambda: HFStandIns.FutureActivation(), "does not know"),
    ("hard-mish", lambda: TimmStandIns.HardMish(), "hard Mish"),
    ("gelu-act-other", lambda: _with_act(HFStandIns.GELUActivation(), torch.tanh), "its act"),
    (
        "accurate-other",
        lambda: _with_attr(HFStandIns.AccurateGELUActivation(), precomputed_constant=0.8),
        "precomputed_constant",
    ),
    ("relu-subclass", lambda: type("MyReLU", (nn.ReLU,), {})(), "subclass of torch.nn.ReLU"),
    (
        "look-alike",
        lambda: stand_in("mymodels.layers", "GELU", lambda self, x: x)(),
        "named like an activation",
    ),
]


def _with_act(module, fn):
    module.act = fn
    return module


def _with_attr(module, **attrs):
    for k, v in attrs.items():
        setattr(module, k, v)
    return module


@pytest.mark.parametrize("make,reason", [m[1:] for m in LEFT], ids=[m[0] for m in LEFT])
def test_classes_left_are_reported_and_strict_raises(make, reason):
    act = make()
    model = mlp(act)
    converted, report = torch_act.convert(copy.deepcopy(model), report=True)
    assert type(converted[1]) is type(act)
    assert report.swapped == {}
    assert len(report.left) == 1
    path, label, why = report.left[0]
    assert path == "1" and label.endswith(type(act).__qualname__) and reason in why
    with pytest.raises(ValueError, match=r"strict=True.*\b1 \(.*" + re.escape(reason)):
        torch_act.convert(model, strict=True)
    assert model[1] is act  # strict changes nothing


def test_modules_that_are_not_activations_are_neither_swapped_nor_left():
    glu_block = stand_in(
        "mymodels.layers",
        "GLU",
        lambda self, x: self.proj(x),
        lambda self: setattr(self, "proj", nn.Linear(8, 8)),
    )()
    model = nn.Sequential(nn.Linear(6, 8), HFStandIns.LinearActivation(), glu_block, nn.Identity())
    model, report = torch_act.convert(model, report=True)
    assert report.swapped == {} and report.left == []
    assert torch_act.convert(model, strict=True) is model


def test_report_counts_and_paths_of_a_mixed_model():
    shared = HFStandIns.NewGELUActivation()
    model = nn.Sequential(
        nn.Linear(6, 8),
        shared,
        nn.Sequential(nn.Linear(8, 8), shared, nn.ReLU()),
        HFStandIns.ClippedGELUActivation(-10, 10),
        nn.ModuleDict({"act": TimmStandIns.GELUTanh()}),
    )
    model, report = torch_act.convert(model, report=True)
    # The shared module is one module: one swap, one shared replacement.
    assert report.swapped == {
        "transformers.NewGELUActivation": 1,
        "torch.nn.ReLU": 1,
        "timm.GELUTanh": 1,
    }
    assert model[1] is model[2][1] and type(model[1]) is TN.GELU
    assert report.left == [
        (
            "3",
            "transformers.ClippedGELUActivation",
            "GELU clipped to [-10, 10]: torch_act has no clipped GELU",
        )
    ]
    assert str(report).startswith("swapped 3 (") and "left 1 (3 (" in str(report)


def test_report_of_the_cnn_and_of_going_back_to_torch():
    model = make_cnn()
    expected = {}
    for cls in activation_classes(model):
        label = f"torch.nn.{cls.__name__}"
        expected[label] = expected.get(label, 0) + 1
    model, report = torch_act.convert(model, report=True)
    assert report.swapped == expected and report.left == []
    model.add_module("swish", TN.Swish())
    model, back = torch_act.convert(model, to="torch", report=True)
    assert back.swapped == {k.replace("torch.nn", "torch_act.nn"): n for k, n in expected.items()}
    assert back.left == [("swish", "torch_act.nn.Swish", "no torch.nn counterpart")]
    with pytest.raises(ValueError, match="swish .torch_act.nn.Swish.: no torch.nn counterpart"):
        torch_act.convert(model, to="torch", strict=True)


def test_activation_as_model_reports_an_empty_path():
    model, report = torch_act.convert(HFStandIns.QuickGELUActivation(), report=True)
    assert type(model) is TN.QuickGELU and report.swapped == {"transformers.QuickGELUActivation": 1}
    model, report = torch_act.convert(HFStandIns.LaplaceActivation(), report=True)
    assert report.left[0][0] == ""
    with pytest.raises(ValueError, match="<model>"):
        torch_act.convert(model, strict=True)


def test_convert_logs_a_one_line_summary(caplog):
    with caplog.at_level(logging.INFO, logger="torch_act"):
        torch_act.convert(nn.Sequential(nn.ReLU(), HFStandIns.LaplaceActivation()))
    (record,) = [r for r in caplog.records if r.name.startswith("torch_act")]
    assert record.levelno == logging.INFO and "\n" not in record.getMessage()
    assert "swapped 1 (torch.nn.ReLU: 1); left 1 (1 (transformers.LaplaceActivation))" in (
        record.getMessage()
    )


def test_convert_never_imports_transformers_or_timm():
    code = (
        "import sys, torch, torch_act\n"
        "torch_act.convert(torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 2)))\n"
        "assert not {'transformers', 'timm'} & set(sys.modules), sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- real transformers classes and models (tiny, randomly initialised, no downloads) ---


def test_every_transformers_act2fn_entry():
    activations = pytest.importorskip("transformers.activations")
    left = {"gelu_10", "laplace", "sqrtsoftplus", "xielu"}  # no torch_act op: see _convert
    x = torch.randn(5, 6, dtype=torch.float64) * 3
    for key in activations.ACT2CLS:
        model = mlp(activations.ACT2FN[key])
        reference = copy.deepcopy(model)
        model, report = torch_act.convert(model, report=True)
        if key == "linear":  # the identity: nothing to swap
            assert report.swapped == {} and report.left == []
        elif key in left:
            assert report.swapped == {} and len(report.left) == 1, key
        else:
            assert sum(report.swapped.values()) == 1 and report.left == [], key
            assert type(model[1]).__module__ == "torch_act.nn", key
            assert_same(run(model, x), run(reference, x))


# --- tiny transformers models ---


def tiny_transformers_models():
    transformers = pytest.importorskip("transformers")
    tiny = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)
    ids = {"input_ids": torch.randint(0, 50, (2, 7), generator=torch.Generator().manual_seed(0))}
    image = {"pixel_values": torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))}
    whisper = {
        "input_features": torch.randn(1, 8, 16, generator=torch.Generator().manual_seed(0)),
        "decoder_input_ids": torch.tensor([[1, 5, 7]]),
    }
    return {
        "bert": (
            transformers.BertModel,
            transformers.BertConfig(vocab_size=50, max_position_embeddings=16, **tiny),
            ids,
        ),
        "gpt2": (
            transformers.GPT2Model,
            transformers.GPT2Config(
                vocab_size=50,
                n_positions=16,
                n_embd=16,
                n_layer=2,
                n_head=2,
                bos_token_id=0,
                eos_token_id=0,
            ),
            ids,
        ),
        "llama": (
            transformers.LlamaModel,
            transformers.LlamaConfig(
                vocab_size=50, max_position_embeddings=16, num_key_value_heads=2, **tiny
            ),
            ids,
        ),
        "vit": (
            transformers.ViTModel,
            transformers.ViTConfig(image_size=16, patch_size=4, num_channels=3, **tiny),
            image,
        ),
        "whisper": (
            transformers.WhisperModel,
            transformers.WhisperConfig(
                vocab_size=60,
                pad_token_id=0,
                bos_token_id=1,
                eos_token_id=2,
                decoder_start_token_id=1,
                d_model=16,
                encoder_layers=1,
                decoder_layers=1,
                encoder_attention_heads=2,
                decoder_attention_heads=2,
                encoder_ffn_dim=32,
                decoder_ffn_dim=32,
                num_mel_bins=8,
                max_source_positions=8,
                max_target_positions=8,
            ),
            whisper,
        ),
        "convnext": (
            transformers.ConvNextModel,
            transformers.ConvNextConfig(
                num_channels=3, hidden_sizes=[8, 16], depths=[1, 1], num_stages=2, image_size=16
            ),
            image,
        ),
    }


TRANSFORMERS_MODELS = ["bert", "gpt2", "llama", "vit", "whisper", "convnext"]


def build_tiny(name):
    model_cls, config, inputs = tiny_transformers_models()[name]
    torch.manual_seed(0)
    return model_cls(config).eval(), inputs


@pytest.mark.parametrize("name", TRANSFORMERS_MODELS)
def test_tiny_transformers_models_convert_with_outputs_unchanged(name):
    model, inputs = build_tiny(name)
    with torch.no_grad():
        expected = model(**inputs).last_hidden_state
    model, report = torch_act.convert(model, report=True)
    assert sum(report.swapped.values()) > 0 and report.left == [], report
    assert any(label.startswith("transformers.") for label in report.swapped), report
    assert torch_act.convert(model, strict=True) is model  # nothing left to swap
    with torch.no_grad():
        torch.testing.assert_close(model(**inputs).last_hidden_state, expected)
