"""torch_act.nn modules are drop-ins for torch.nn's: names, signatures, defaults,
reprs, state_dict keys and outputs."""

import copy
import inspect
import pickle

import pytest
import torch
from torch import nn

import torch_act
import torch_act.nn as TN
from cases import CASES, CASE_IDS, make_module

WITH_TORCH_TWIN = [a for a in torch_act.ACTIVATIONS if a.torch_module is not None]


# torch.nn.Hardtanh still accepts these deprecated aliases of min_val/max_val.
DEPRECATED_TORCH_ARGS = {"min_value", "max_value"}


def init_parameters(cls):
    """Named constructor arguments with defaults (torch.nn.Sigmoid's bare
    ``*args, **kwargs`` from nn.Module accept none)."""
    return {
        name: p.default
        for name, p in inspect.signature(cls).parameters.items()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and name not in DEPRECATED_TORCH_ARGS
    }


@pytest.mark.parametrize("act", WITH_TORCH_TWIN, ids=lambda a: a.module)
def test_same_constructor_arguments_and_defaults(act):
    """torch's arguments and defaults, plus torch_act's keyword-only
    backward_bits=None where the activation has a packed backward."""
    ours, theirs = getattr(TN, act.module), act.torch_module
    ours_params = init_parameters(ours)
    if act.packed:
        assert ours_params.pop("backward_bits") is None
        bits = inspect.signature(ours).parameters["backward_bits"]
        assert bits.kind is bits.KEYWORD_ONLY
    assert ours_params == init_parameters(theirs)


TWIN_CASES = [
    (case, inplace)
    for case in CASES
    if case.act.torch_module is not None
    for inplace in ((False, True) if case.act.inplace else (False,))
]


@pytest.mark.parametrize(
    "case,inplace", TWIN_CASES, ids=[c.id + ("-inplace" if i else "") for c, i in TWIN_CASES]
)
def test_repr_and_outputs_match_torch(case, inplace):
    kwargs = dict(case.kwargs, **({"inplace": True} if inplace else {}))
    if case.tensor_arg == "per_channel":
        kwargs = {"num_parameters": 3}
    ours, theirs = getattr(TN, case.act.module)(**kwargs), case.act.torch_module(**kwargs)
    assert repr(ours) == repr(theirs)
    ours.eval(), theirs.eval()  # RReLU is random while training
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(ours(x.clone()), theirs(x.clone()))


def test_prelu_state_dict_from_torch():
    theirs = nn.PReLU(num_parameters=3, init=0.1)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.1, -0.2, 0.3]))
    ours = TN.PReLU(num_parameters=3)
    ours.load_state_dict(theirs.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    x = torch.randn(2, 3, 5)
    torch.testing.assert_close(ours(x), theirs(x))
    assert ours.weight.requires_grad


def test_prelu_device_dtype_and_reset():
    m = TN.PReLU(4, init=0.3, dtype=torch.float64)
    assert m.weight.dtype == torch.float64 and m.weight.shape == (4,)
    with torch.no_grad():
        m.weight.zero_()
    m.reset_parameters()
    assert torch.equal(m.weight, torch.full((4,), 0.3, dtype=torch.float64))


def test_swish_fixed_and_learnable():
    fixed = TN.Swish(beta=1.702)
    assert repr(fixed) == "Swish(beta=1.702)" and list(fixed.state_dict()) == []
    learnable = TN.Swish(beta=1.5, learnable=True)
    assert repr(learnable) == "Swish(beta=1.5, learnable=True)"
    assert list(learnable.state_dict()) == ["beta"]
    x = torch.randn(10, requires_grad=True)
    learnable(x).sum().backward()
    assert learnable.beta.grad is not None and learnable.beta.grad.shape == ()
    torch.testing.assert_close(TN.Swish()(x), nn.SiLU()(x))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_deepcopy_and_pickle(case):
    module = make_module(case, 3).eval()  # RReLU is random while training
    x = torch.randn(2, 3)
    for clone in (copy.deepcopy(module), pickle.loads(pickle.dumps(module))):
        assert type(clone) is type(module)
        assert clone.state_dict().keys() == module.state_dict().keys()
        torch.testing.assert_close(clone(x), module(x))


def test_unknown_module_argument_is_a_type_error():
    with pytest.raises(TypeError):
        TN.LeakyReLU(slope=0.1)
    with pytest.raises(TypeError):
        TN.ReLU(True, True)
