"""The Python spec table (torch_act/_spec.py) and the C++ op schemas say the
same: parameter names, order, defaults, keyword-only markers, and which ops
have an in-place variant. Each is written once on its side; this test fails
when the two drift apart."""

import pytest
import torch

import torch_act  # noqa: F401
from torch_act._spec import ACTIVATIONS

ops = torch.ops.torch_act

# Rows whose functional differs from the op on purpose: RReLU runs
# rrelu_with_noise (training) or leaky_relu (eval); PReLU and learnable Swish
# take tensors.
SCHEMA_ROWS = [a for a in ACTIVATIONS if a.op is None and a.learnable is None]


def schema_params(name):
    """(name, default or None, keyword-only) of the op's arguments after self."""
    args = getattr(ops, name).default._schema.arguments[1:]
    return [
        (a.name, a.default_value if a.has_default_value() else None, a.kwarg_only) for a in args
    ]


@pytest.mark.parametrize("act", SCHEMA_ROWS, ids=lambda a: a.name)
def test_spec_params_match_the_schema(act):
    expected = [(p.name, None if p.required else p.default, p.keyword_only) for p in act.params]
    actual = schema_params(act.name)
    assert [(n, k) for n, _, k in actual] == [(n, k) for n, _, k in expected]
    for (name, ours, _), (_, theirs, _) in zip(actual, expected):
        assert ours == pytest.approx(theirs) if isinstance(theirs, float) else ours == theirs, name


@pytest.mark.parametrize("act", SCHEMA_ROWS, ids=lambda a: a.name)
def test_inplace_flag_matches_the_registered_ops(act):
    assert hasattr(ops, f"{act.name}_") == act.inplace
