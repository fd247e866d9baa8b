"""torch_act.patch routes torch's activation functions (F.gelu(x), torch.sigmoid(x),
x.relu()) to torch_act's ops, eagerly and under torch.compile, with the same
outputs and gradients; calls torch_act cannot take go to torch untouched."""

import copy
import threading

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import _get_current_function_mode_stack

import torch_act
import torch_act.functional as TF
import torch_act.nn as TN
from torch_act._patch import _ROUTES
from torch_act._spec import BY_NAME

from cases import TOLERANCE

ROUTES = sorted(_ROUTES.items(), key=lambda item: item[1].label)


@pytest.fixture(autouse=True)
def no_mode_left_on():
    yield
    torch_act.unpatch()
    assert _get_current_function_mode_stack() == []


def sample_input(act, shape=(2, 4, 6)):
    """float64 values over [-4, 4], kept away from the kinks."""
    x = torch.rand(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) * 8 - 4
    for kink in act.kinks:
        x = torch.where((x - kink).abs() < 0.05, x + 0.1, x)
    return x


def route_call(func, route, x):
    """A call of torch's `func` with the route's row's first test config (and
    PReLU's weight), as a function of the input and that weight."""
    act = BY_NAME[route.ours.__name__]
    kwargs = {k: v for k, v in act.sample_kwargs.items() if k in route.names}
    if act.name == "prelu":
        return lambda x, weight: func(x, weight)
    return lambda x, weight: func(x, **kwargs)


def forward_backward(call, x, weight):
    """Output and the gradients of the input and weight; an in-place call
    gets a non-leaf copy of the input."""
    x = x.detach().clone().requires_grad_()
    weight = weight.detach().clone().requires_grad_()
    out = call(x * 1, weight)
    out.pow(2).sum().backward()
    return out.detach(), x.grad, weight.grad


@pytest.mark.parametrize("func,route", ROUTES, ids=[r.label for _, r in ROUTES])
def test_every_routed_function_matches_torch(func, route):
    act = BY_NAME[route.ours.__name__]
    x, weight = sample_input(act), torch.tensor([0.25, -0.5, 0.1, 2.0], dtype=torch.float64)
    call = route_call(func, route, x)
    expected = forward_backward(call, x, weight)
    with torch_act.patch() as patch:
        got = forward_backward(call, x, weight)
        grad_fn = call(x.detach().requires_grad_() * 1, weight).grad_fn.name()
    assert grad_fn.startswith("torch_act::"), grad_fn  # torch_act's op ran
    # F.sigmoid and F.tanh reach the mode as Tensor.sigmoid and Tensor.tanh.
    assert sum(patch.routed.values()) == 2 and not patch.passed, patch.routed
    tolerance = TOLERANCE[torch.float64]
    for a, b in zip(got, expected):
        if b is not None:  # (no weight gradient but PReLU's)
            torch.testing.assert_close(a, b, **tolerance)


def test_the_brief_functions_are_all_routed():
    labels = set(torch_act.routed_functions())
    for name in (
        "relu",
        "gelu",
        "silu",
        "mish",
        "leaky_relu",
        "elu",
        "selu",
        "celu",
        "softplus",
        "hardswish",
        "hardsigmoid",
        "hardtanh",
        "relu6",
        "logsigmoid",
        "softsign",
        "tanhshrink",
        "softshrink",
        "hardshrink",
        "threshold",
        "glu",
        "prelu",
        "rrelu",
    ):
        assert f"F.{name}" in labels
    for name in (
        "relu_",
        "elu_",
        "leaky_relu_",
        "hardtanh_",
        "celu_",
        "selu_",
        "threshold_",
        "rrelu_",
    ):
        assert f"F.{name}" in labels or f"torch.{name}" in labels
    for name in ("sigmoid", "tanh", "relu"):
        assert {f"torch.{name}", f"Tensor.{name}"} <= labels
    assert "Tensor.relu_" in labels


def test_gelu_tanh_inplace_and_positional_arguments():
    x = torch.randn(3, 8, dtype=torch.float64)
    with torch_act.patch() as patch:
        tanh = F.gelu(x, approximate="tanh")
        y = x.clone()
        out = F.leaky_relu(y, 0.2, True)
        z = x.clone()
        same = z.relu_()
    assert out is y and same is z
    torch.testing.assert_close(tanh, F.gelu(x, approximate="tanh"))
    torch.testing.assert_close(y, F.leaky_relu(x, 0.2))
    torch.testing.assert_close(z, F.relu(x))
    assert patch.routed == {"F.gelu": 1, "F.leaky_relu": 1, "Tensor.relu_": 1}


class Subclass(torch.Tensor):
    pass


# (label expected in `passed`, call): arguments torch_act does not take.
PASS_THROUGH = [
    ("F.relu", lambda: F.relu(torch.arange(-3, 3))),
    ("torch.tanh", lambda: torch.tanh(torch.randn(4, dtype=torch.complex64))),
    ("torch.sigmoid", lambda: torch.sigmoid(torch.randn(4), out=torch.empty(4))),
    ("F.leaky_relu", lambda: F.leaky_relu(torch.randn(4), torch.tensor(0.2))),
    ("torch.rrelu", lambda: torch.rrelu(torch.randn(4), generator=torch.Generator())),
    ("F.elu_", lambda: F.elu_(torch.randn(4), 1.0, 2.0)),  # torch's extra scale argument
    ("F.relu", lambda: F.relu(torch.randn(4).as_subclass(Subclass))),
    ("torch.tanh", lambda: torch.tanh(torch.randn(4).to_sparse())),
]


@pytest.mark.parametrize(
    "label,call", PASS_THROUGH, ids=[f"{i}-{p[0]}" for i, p in enumerate(PASS_THROUGH)]
)
def test_unsupported_arguments_go_to_torch_untouched(label, call):
    torch.manual_seed(0)
    expected = call()
    torch.manual_seed(0)
    with torch_act.patch() as patch:
        got = call()
    assert type(got) is type(expected)
    torch.testing.assert_close(
        got.to_dense() if got.is_sparse else got,
        expected.to_dense() if expected.is_sparse else expected,
    )
    assert patch.passed == {label: 1} and not patch.routed


# (exception, call): torch's own error, not torch_act's.
TORCH_ERRORS = [
    (RuntimeError, lambda: F.relu(torch.randn(3, requires_grad=True), inplace=True)),
    (RuntimeError, lambda: F.glu(torch.randn(3, 5))),  # odd size
    (ValueError, lambda: F.hardtanh(torch.randn(3), 1.0, -1.0)),
    (RuntimeError, lambda: F.gelu(torch.randn(3), approximate="bad")),
    (TypeError, lambda: F.threshold(torch.randn(3), 0.5)),  # value missing
]


@pytest.mark.parametrize("error,call", TORCH_ERRORS, ids=[str(i) for i in range(len(TORCH_ERRORS))])
def test_calls_torch_refuses_raise_torchs_error(error, call):
    with pytest.raises(error) as native:
        call()
    with torch_act.patch():
        with pytest.raises(error) as patched:
            call()
    assert str(patched.value) == str(native.value)


def test_other_functions_and_torch_act_itself_are_not_counted():
    x = torch.randn(4, 6)
    with torch_act.patch() as patch:
        y = TF.gelu(x) + TN.SiLU()(x) + torch.add(x, 1).sum()
        z = TF.rrelu(x, training=True)  # draws with torch.empty_like(...).uniform_
    assert not patch.routed and not patch.passed
    torch.testing.assert_close(y, TF.gelu(x) + F.silu(x) + (x + 1).sum())
    assert z.shape == x.shape


def test_model_forward_routes_and_matches():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(6, 8), nn.Linear(8, 4)

        def forward(self, x):
            h = F.gelu(self.a(x), approximate="tanh")
            h = F.silu(h) + torch.sigmoid(h) * h.tanh()
            return F.leaky_relu(self.b(h), 0.1, inplace=True).relu()

    torch.manual_seed(0)
    model = Net().double()
    x = torch.randn(5, 6, dtype=torch.float64)
    expected = forward_backward(lambda x, w: model(x), x, torch.zeros(1))
    with torch_act.patch() as patch:
        got = forward_backward(lambda x, w: model(x), x, torch.zeros(1))
    for a, b in zip(got[:2], expected[:2]):
        torch.testing.assert_close(a, b)
    assert patch.routed == {
        "F.gelu": 1,
        "F.silu": 1,
        "torch.sigmoid": 1,
        "Tensor.tanh": 1,
        "F.leaky_relu": 1,
        "Tensor.relu": 1,
    }


def test_nested_patches_and_state_restored():
    x = torch.randn(3)
    with torch_act.patch() as outer:
        F.relu(x)
        with torch_act.patch() as inner:
            F.relu(x)
            assert _get_current_function_mode_stack() == [outer, inner]
        F.relu(x)
        assert _get_current_function_mode_stack() == [outer]
    assert outer.routed == {"F.relu": 2} and inner.routed == {"F.relu": 1}
    assert not outer.active and not inner.active


def test_exception_inside_the_block_restores_state():
    with pytest.raises(ZeroDivisionError):
        with torch_act.patch() as patch:
            with torch_act.patch():
                F.relu(torch.randn(3))
                1 / 0
    assert _get_current_function_mode_stack() == [] and not patch.active
    with torch_act.patch() as again:  # a fresh one works
        F.relu(torch.randn(3))
    assert again.routed == {"F.relu": 1}


def test_global_switch():
    x = torch.randn(3)
    on = torch_act.patch(enable=True)
    assert on.active and torch_act.patch(enable=True) is on  # idempotent
    F.gelu(x)
    with torch_act.patch() as block:  # a block inside the switch
        F.gelu(x)
    assert torch_act.unpatch() is on and not on.active
    F.gelu(x)
    assert on.routed == {"F.gelu": 1} and block.routed == {"F.gelu": 1}
    assert torch_act.unpatch() is None


def test_switch_turned_on_inside_a_block_outlives_it():
    with torch_act.patch() as block:
        on = torch_act.patch(enable=True)
    assert _get_current_function_mode_stack() == [on] and not block.active
    F.relu(torch.randn(3))
    assert on.routed == {"F.relu": 1} and not block.routed
    torch_act.unpatch()


def test_entering_an_active_patch_twice_is_an_error():
    on = torch_act.patch(enable=True)
    with pytest.raises(RuntimeError, match="already on"):
        with on:
            pass
    assert _get_current_function_mode_stack() == [on]


def test_switch_is_per_thread():
    on = torch_act.patch(enable=True)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("y", F.relu(torch.randn(3))))
    thread.start()
    thread.join()
    assert "y" in result and not on.routed  # the other thread ran torch's relu


# --- torch.compile (few tests: compiling is slow) ---


def test_dynamo_graph_calls_torch_acts_ops():
    """One graph over every public form. Dynamo offers modes only what torch
    lists as overridable: the functions below stay torch's in the graph (as
    _patch's docstring says)."""
    torch._dynamo.reset()
    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    public = [(func, r) for func, r in ROUTES if not r.label.startswith("torch._C")]
    not_offered = {
        "F.hardswish",
        "F.hardsigmoid",
        "F.sigmoid",
        "F.tanh",
        "F.relu_",
        "F.elu_",
        "F.leaky_relu_",
        "F.hardtanh_",
        "F.celu_",
        "F.selu_",
        "F.threshold_",
        "F.rrelu_",
    }
    assert not_offered <= {r.label for _, r in public}
    x = sample_input(BY_NAME["relu"], (2, 4, 6)).float()
    weight = torch.full((1,), 0.25)

    def calls(x):
        return [route_call(func, r, x)(x.clone(), weight) for func, r in public]

    with torch_act.patch() as patch:
        outs = torch.compile(calls, backend=backend, fullgraph=True)(x)
    (graph,) = graphs
    targets = [str(n.target) for n in graph.graph.nodes if n.op == "call_function"]
    ours = [t for t in targets if t.startswith("torch_act.")]
    assert len(ours) == len(public) - len(not_offered), targets
    for got, expected in zip(outs, calls(x)):
        torch.testing.assert_close(got, expected)
    # Counted while tracing; the graph's own calls of the functions not
    # offered reach the mode when this backend runs the graph eagerly.
    assert sum(patch.routed.values()) == len(public)


def test_compiled_model_matches_eager_and_is_not_recompiled_per_patch():
    torch._dynamo.reset()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(6, 16), nn.Linear(16, 4)

        def forward(self, x):
            h = F.gelu(self.a(x), approximate="tanh")
            h = F.silu(h) * torch.sigmoid(h) + F.mish(h.relu())
            return F.leaky_relu(self.b(h), 0.1, inplace=True)

    torch.manual_seed(0)
    model = Net()
    compiled = torch.compile(copy.deepcopy(model), fullgraph=True)
    x = torch.randn(8, 6)
    expected = forward_backward(lambda x, w: model(x), x, torch.zeros(1))
    with torch_act.patch() as patch:
        got = forward_backward(lambda x, w: compiled(x), x, torch.zeros(1))
    for a, b in zip(got[:2], expected[:2]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert patch.routed == {
        "F.gelu": 1,
        "F.silu": 1,
        "torch.sigmoid": 1,
        "F.mish": 1,
        "Tensor.relu": 1,
        "F.leaky_relu": 1,
    }
    # Another patch reuses the compiled graph (which counts only when traced).
    with torch._dynamo.config.patch(error_on_recompile=True), torch_act.patch() as again:
        again_got = forward_backward(lambda x, w: compiled(x), x, torch.zeros(1))
    torch.testing.assert_close(again_got[0], got[0])
    assert not again.routed


# --- a real model calling functional activations in forward (Whisper) ---


def test_whisper_functional_gelu_is_routed():
    from test_convert import build_tiny

    model, inputs = build_tiny("whisper")
    with torch.no_grad():
        expected = model(**inputs).last_hidden_state
        with torch_act.patch() as patch:
            got = model(**inputs).last_hidden_state
    assert patch.routed["F.gelu"] > 0, patch.routed
    torch.testing.assert_close(got, expected)
    # With the modules converted too, every GELU of the model is torch_act's.
    torch_act.convert(model)
    with torch.no_grad(), torch_act.patch():
        torch.testing.assert_close(model(**inputs).last_hidden_state, expected)
