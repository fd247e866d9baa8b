"""Function transforms, forward-mode AD, vmap batching rules, autocast and
huge finite inputs, for every case, against native torch.

Every check compares torch_act with native torch (``case.reference``, run
through the same transform) or with a float64 reference:

  a. gradcheck / gradgradcheck with forward AD and batched gradients;
  b. torch.func jvp, jacfwd, grad, vjp, jacrev and hessians;
  c. torch.autograd.forward_ad tangents, in place and under no_grad too;
  d. per-sample gradients, vmap(grad(loss));
  e. vmap of the forward, backward and double-backward ops (and the in-place
     ops) with varied in_dims and nested, against a loop over the batch, with
     the vmap fallback made an error (so every op needs a batching rule);
  f. autocast: a conv net with our activation module against torch.nn's;
  g. huge and tiny finite inputs: finite wherever torch is, and equal to it.

RReLU is tested in eval mode through the table's cases (its training mode
draws random slopes); its training path is exercised through
``torch.ops.torch_act.rrelu_with_noise`` with fixed noise (the pseudo-case
``rrelu_with_noise``), against x if x > 0 else noise * x, what torch computes
with those slopes.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import itertools
import warnings

import pytest
import torch
import torch.autograd.forward_ad as fwAD
from torch import func, nn
from torch.autograd import gradcheck, gradgradcheck
from torch.utils._pytree import tree_flatten

from cases import CASES, INPLACE_CASES, Case, make_module, requires_cuda, smooth_input

ops = torch.ops.torch_act
F64 = torch.float64
# float64 agreement with torch. torch computes a few float64 results with
# float32 constants (Hardsigmoid's 1.0f / 6), hence the relative 1e-7.
TOL64 = dict(rtol=1e-7, atol=1e-10)


# --------------------------------------------------------------------- cases


def _noise_like(x: torch.Tensor) -> torch.Tensor:
    """Fixed RReLU slopes in [0.1, 0.3] for an input of x's shape (built from
    the shape alone, so it works on a per-sample tensor under vmap)."""
    n = x.numel()
    frac = (torch.arange(n, dtype=F64) * 0.6180339887498949) % 1.0
    return (0.1 + 0.2 * frac).reshape(x.shape).to(x.device, x.dtype)


class NoiseCase(Case):
    """RReLU's training path: rrelu_with_noise with fixed noise (not learnable)."""

    def __init__(self):
        super().__init__(act=next(c.act for c in CASES if c.act.name == "rrelu"), kwargs={})

    @property
    def id(self) -> str:
        return "rrelu_with_noise"

    @property
    def ours(self):
        return lambda x: ops.rrelu_with_noise(x, _noise_like(x))

    @property
    def reference(self):
        # What torch's rrelu computes in training once its slopes are drawn.
        return lambda x: torch.where(x > 0, x, x * _noise_like(x))


NOISE_CASE = NoiseCase()
ALL_CASES = [*CASES, NOISE_CASE]
ALL_IDS = [c.id for c in ALL_CASES]
INPLACE_IDS = [c.id for c in INPLACE_CASES]

# Where torch itself lacks what a transform needs (hardsigmoid_backward has
# no reverse- or forward-mode derivative, glu_jvp no forward-mode derivative,
# rrelu no batching rule), the same function from native ops that have it all
# stands in as the reference.
_COMPOSITE = {
    "hardsigmoid": lambda x: (x + 3).clamp(0, 6) / 6,
    "glu": lambda x, dim=-1: x.chunk(2, dim)[0] * torch.sigmoid(x.chunk(2, dim)[1]),
    "rrelu": lambda x, lower=1.0 / 8, upper=1.0 / 3: torch.nn.functional.leaky_relu(
        x, (lower + upper) / 2
    ),
}
_UNSUPPORTED_BY_TORCH = ("not implemented", "does not support", "do not yet support")


def ours_fn(case: Case):
    return lambda x, *t: case.call(case.ours, x, *t)


def reference_fn(case: Case, composite: bool = False):
    if composite:
        return lambda x, *t: _COMPOSITE[case.act.name](x, *t, **case.kwargs)
    return lambda x, *t: case.call(case.reference, x, *t)


def native(case: Case, compute):
    """compute(reference_fn) with torch's reference, or, where torch lacks the
    derivative it needs, with the composite stand-in."""
    try:
        return compute(reference_fn(case))
    except RuntimeError as error:  # NotImplementedError included
        unsupported = any(m in str(error) for m in _UNSUPPORTED_BY_TORCH)
        if not unsupported or case.act.name not in _COMPOSITE or case is NOISE_CASE:
            raise
        return compute(reference_fn(case, composite=True))


def learnables(case: Case, x: torch.Tensor, requires_grad: bool = False) -> tuple:
    """The learnable tensor argument (PReLU's weight, Swish's beta), or ()."""
    return case.tensor_args(x, requires_grad=requires_grad)


def randn_like(t: torch.Tensor, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(t.shape, generator=gen, dtype=F64).to(t.device, t.dtype)


def primals(case: Case) -> tuple:
    x = smooth_input(case).detach()
    return (x, *learnables(case, x))


@contextlib.contextmanager
def vmap_without_fallback():
    """vmap must run batching rules. The fallback (a loop over the batch)
    warns with a UserWarning ("performance drop ... batching rule"), made an
    error here; for torch_act's ops that warning only reaches the C++ log, so
    the fallback is switched off as well (then it raises, naming the op)."""
    enabled = torch._C._functorch._is_vmap_fallback_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch._C._functorch._set_vmap_fallback_enabled(False)
        try:
            yield
        finally:
            torch._C._functorch._set_vmap_fallback_enabled(enabled)


def assert_tree_close(actual, expected, **tol):
    a, _ = tree_flatten(actual)
    e, _ = tree_flatten(expected)
    assert len(a) == len(e), f"{len(a)} results, torch gives {len(e)}"
    for i, (x, y) in enumerate(zip(a, e)):
        assert x is not None, f"result {i} is None, torch gives a tensor"
        torch.testing.assert_close(x, y, msg=lambda m: f"result {i}: {m}", **tol)


# ------------------------------------------------------------- a. gradcheck


@pytest.mark.parametrize("case", ALL_CASES, ids=ALL_IDS)
def test_gradcheck_forward_and_batched(case):
    x = smooth_input(case)
    t = learnables(case, x, requires_grad=True)
    assert gradcheck(
        ours_fn(case),
        (x, *t),
        check_forward_ad=True,
        check_backward_ad=True,
        check_batched_grad=True,
        check_batched_forward_grad=True,
    )


@pytest.mark.parametrize("case", ALL_CASES, ids=ALL_IDS)
def test_gradgradcheck_forward_over_reverse(case):
    """Second order by forward-over-reverse (forward AD of the backward ops)
    as well as reverse-over-reverse."""
    x = smooth_input(case)
    t = learnables(case, x, requires_grad=True)
    assert gradgradcheck(
        ours_fn(case),
        (x, *t),
        check_fwd_over_rev=True,
        check_rev_over_rev=True,
        check_batched_grad=True,
    )


# ------------------------------------------------------------ b. torch.func

TRANSFORMS = [
    "jvp",
    "jacfwd",
    "grad",
    "vjp",
    "jacrev",
    "hessian",
    "hessian_revrev",
    "hessian_fwdfwd",
]


def apply_transform(name, f, args):
    """The transform applied to f (w.r.t. every argument: input and learnable tensor)."""
    argnums = tuple(range(len(args)))
    out_like = f(*(a.detach() for a in args))
    weights = randn_like(out_like, seed=11)

    def scalar(*a):  # a weighted sum, so each output's derivative is scaled differently
        return (f(*a) * weights).sum()

    if name == "jvp":
        return func.jvp(f, args, tuple(randn_like(a, 20 + i) for i, a in enumerate(args)))
    if name == "jacfwd":
        return func.jacfwd(f, argnums)(*args)
    if name == "grad":
        return func.grad(scalar, argnums)(*args)
    if name == "vjp":
        out, vjp_fn = func.vjp(f, *args)
        return out, vjp_fn(randn_like(out_like, 30))
    if name == "jacrev":
        return func.jacrev(f, argnums)(*args)
    if name == "hessian":  # jacfwd(jacrev)
        return func.hessian(scalar, argnums)(*args)
    if name == "hessian_revrev":
        return func.jacrev(func.jacrev(scalar, argnums), argnums)(*args)
    if name == "hessian_fwdfwd":
        return func.jacfwd(func.jacfwd(scalar, argnums), argnums)(*args)
    raise ValueError(name)


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("case", ALL_CASES, ids=ALL_IDS)
def test_func_transform(case, transform):
    args = primals(case)
    if transform == "hessian_fwdfwd" and case.tensor_arg:
        # Not supported: forward over forward through the learnable parameter
        # needs the double backward's tangent. A clear error, not a wrong answer.
        with pytest.raises(RuntimeError, match="forward over forward mode through a learnable"):
            apply_transform(transform, ours_fn(case), args)
        return
    expected = native(case, lambda fn: apply_transform(transform, fn, args))
    assert_tree_close(apply_transform(transform, ours_fn(case), args), expected, **TOL64)


# ------------------------------------------------------- c. forward-mode AD


def dual_forward(fn, args, tangents):
    """(primal, tangent) of fn at args along tangents with forward_ad."""
    with fwAD.dual_level():
        duals = [fwAD.make_dual(a, t) for a, t in zip(args, tangents)]
        primal, tangent = fwAD.unpack_dual(fn(*duals))
        return primal.detach(), tangent


def check_tangent(actual, expected):
    primal, tangent = actual
    assert tangent is not None, "the output has no tangent (no forward-mode derivative)"
    torch.testing.assert_close(primal, expected[0], **TOL64)
    torch.testing.assert_close(tangent, expected[1], **TOL64)


@pytest.mark.parametrize("grad_mode", ["enable_grad", "no_grad"])
@pytest.mark.parametrize("case", ALL_CASES, ids=ALL_IDS)
def test_forward_ad(case, grad_mode):
    args = primals(case)
    tangents = [randn_like(a, 40 + i) for i, a in enumerate(args)]
    mode = torch.no_grad() if grad_mode == "no_grad" else contextlib.nullcontext()
    with mode:
        actual = dual_forward(ours_fn(case), args, tangents)
    expected = native(case, lambda fn: dual_forward(fn, args, tangents))
    check_tangent(actual, expected)


@pytest.mark.parametrize("variant", ["plain", "requires_grad", "no_grad", "view"])
@pytest.mark.parametrize("case", INPLACE_CASES, ids=INPLACE_IDS)
def test_forward_ad_inplace(case, variant):
    """inplace=True on a dual non-leaf clone (or a view of one): its tangent is
    native torch's out-of-place tangent."""
    x = smooth_input(case).detach()
    tx = randn_like(x, 50)
    expected = dual_forward(reference_fn(case), (x,), (tx,))
    if variant == "view":  # only row 0 goes through the op
        expected_view = dual_forward(reference_fn(case), (x[0],), (tx[0],))
        expected = (
            torch.cat([expected_view[0][None], x[1:]]),
            torch.cat([expected_view[1][None], tx[1:]]),
        )
    leaf = x.clone().requires_grad_(variant == "requires_grad")
    mode = torch.no_grad() if variant == "no_grad" else contextlib.nullcontext()
    with fwAD.dual_level(), mode:
        y = fwAD.make_dual(leaf, tx).clone()
        target = y[0] if variant == "view" else y
        returned = case.ours(target, **case.kwargs, inplace=True)
        assert returned is target
        primal, tangent = fwAD.unpack_dual(y)
        check_tangent((primal.detach(), tangent), expected)


# ---------------------------------------------------- d. per-sample gradients

BATCH = 3


def batch_of(case: Case, x: torch.Tensor, size: int = BATCH) -> torch.Tensor:
    """size different inputs of x's shape (x scaled and shifted, kinks avoided)."""
    base = torch.stack([x.detach() * (1 - 0.1 * i) + 0.05 * i for i in range(size)])
    for kink in case.act.kinks:
        near = (base - kink).abs() < 0.05
        base = torch.where(near, base + 0.1 * torch.sign(base - kink + 1e-12), base)
    return base


def per_sample_loss(fn):
    return lambda x, *t: fn(x, *t).square().sum()


PER_SAMPLE = [pytest.param(c, "shared", id=f"{c.id}-shared") for c in ALL_CASES] + [
    pytest.param(c, "per_sample", id=f"{c.id}-per_sample") for c in ALL_CASES if c.tensor_arg
]


@pytest.mark.parametrize("case, param", PER_SAMPLE)
def test_per_sample_grads(case, param):
    """vmap(grad(loss)) over a batch, w.r.t. the input and the learnable tensor
    (one shared by the batch, or one per sample), against torch's gradient of
    each sample's loss."""
    x, *t = primals(case)
    xb = batch_of(case, x)
    if param == "per_sample":
        t = [torch.stack([p * (1 + 0.2 * i) for i in range(BATCH)]) for p in t]
        in_dims = (0,) * (1 + len(t))
    else:
        in_dims = (0,) + (None,) * len(t)
    argnums = tuple(range(1 + len(t)))

    def expected_for(fn):
        grads = []
        for i in range(BATCH):
            sample = [a[i] if d == 0 else a for a, d in zip([xb, *t], in_dims)]
            sample = [a.detach().clone().requires_grad_() for a in sample]
            grads.append(torch.autograd.grad(per_sample_loss(fn)(*sample), sample))
        return tuple(torch.stack(g) for g in zip(*grads))

    expected = native(case, expected_for)
    with vmap_without_fallback():
        actual = func.vmap(func.grad(per_sample_loss(ours_fn(case)), argnums), in_dims)(xb, *t)
    assert_tree_close(actual, expected, **TOL64)


# --------------------------------------------- e. vmap of the registered ops


def op_call(case: Case):
    """(op name, overload, keyword hyper-parameters, learnable/noise tensor kind)
    of the registered ops behind a case."""
    act = case.act
    if case is NOISE_CASE:
        return "rrelu_with_noise", "default", {}, "noise"
    if act.name == "rrelu":  # eval mode: leaky_relu with the mean slope
        lower = case.kwargs.get("lower", act.params[0].default)
        upper = case.kwargs.get("upper", act.params[1].default)
        return "leaky_relu", "default", {"negative_slope": (lower + upper) / 2}, None
    if case.tensor_arg is not None:
        return act.name, "Tensor" if case.tensor_arg == "beta" else "default", {}, case.tensor_arg
    kwargs = {p.name: case.kwargs.get(p.name, p.default) for p in act.params}
    return act.name, "default", kwargs, None


SAMPLE_SHAPE = (2, 3, 4)


def op_args(case: Case, kind: str):
    """The op for `kind` and makers of its tensor arguments: each maker gives
    a tensor of shape (*lead, *per-sample shape) from a seed."""
    name, overload, kwargs, tensor = op_call(case)
    suffix = {"forward": "", "backward": "_backward", "double_backward": "_double_backward"}[kind]
    op = functools.partial(getattr(getattr(ops, name + suffix), overload), **kwargs)
    forward = functools.partial(getattr(getattr(ops, name), overload), **kwargs)
    x_sample = torch.zeros(SAMPLE_SHAPE, dtype=F64)
    out_shape = tuple(forward(x_sample, *_param_sample(tensor, x_sample)).shape)

    def values(lead, seed, shape=SAMPLE_SHAPE):
        gen = torch.Generator().manual_seed(seed)
        v = torch.rand((*lead, *shape), generator=gen, dtype=F64) * 8 - 4
        for kink in case.act.kinks:
            v = torch.where((v - kink).abs() < 0.05, v + 0.1, v)
        return v

    def normal(shape):
        return lambda lead, seed: torch.randn(
            (*lead, *shape), generator=torch.Generator().manual_seed(seed), dtype=F64
        )

    x = values
    if tensor is not None:
        p_shape = tuple(_param_sample(tensor, x_sample)[0].shape)

        def p(lead, seed):  # in the parameter's range: slopes, beta or noise
            gen = torch.Generator().manual_seed(seed)
            u = torch.rand((*lead, *p_shape), generator=gen, dtype=F64)
            return {
                "single": -0.5 + 1.25 * u,
                "per_channel": -0.5 + 1.25 * u,
                "beta": 0.5 + 1.5 * u,
                "noise": 0.1 + 0.2 * u,
            }[tensor]

        makers = {
            "forward": [x, p],
            "backward": [normal(out_shape), x, p],
            "double_backward": [normal(SAMPLE_SHAPE), normal(p_shape), normal(out_shape), x, p],
        }[kind]
        return op, makers
    if name == "glu":
        makers = {
            "forward": [x],
            "backward": [normal(out_shape), x],
            "double_backward": [normal(SAMPLE_SHAPE), normal(out_shape), x],
        }[kind]
        return op, makers
    saved_name = getattr(ops, name + "_backward").default._schema.arguments[1].name
    if saved_name == "result":  # backward from the output: pass an output
        saved = lambda lead, seed: forward(values(lead, seed))  # noqa: E731 (elementwise)
    else:
        saved = x
    makers = {
        "forward": [x],
        "backward": [normal(SAMPLE_SHAPE), saved],
        "double_backward": [normal(SAMPLE_SHAPE), normal(SAMPLE_SHAPE), saved],
    }[kind]
    return op, makers


def _param_sample(tensor, x):
    if tensor is None:
        return ()
    if tensor == "noise":
        return (_noise_like(x),)
    if tensor == "beta":
        return (torch.tensor(1.3, dtype=x.dtype),)
    return (torch.full((x.shape[1] if tensor == "per_channel" else 1,), 0.25, dtype=x.dtype),)


def _place(t, dims):
    """t of shape (*one dim per batched level, *sample): the tensor vmap with
    in_dims `dims` (outermost level first) takes, and the in_dims clamped to
    the dimensions there are."""
    if not dims:
        return t, ()
    parts = [_place(t[i], dims[1:]) for i in range(t.shape[0])]
    d = min(dims[0], parts[0][0].dim())
    return torch.stack([p[0] for p in parts], d), (d, *parts[0][1])


def vmap_matches_loop(fn, makers, levels, sizes, expected_fn=None, mutates=False):
    """vmap (nested: one level per entry of `levels`, outermost first, each a
    tuple of in_dims per argument, None = not batched at that level) of fn
    against a Python loop over every index of the batch. expected_fn (default
    fn) computes the loop's per-sample results."""
    full = [m(sizes, seed=100 + k) for k, m in enumerate(makers)]
    batched, in_dims = [], []
    for k, t in enumerate(full):
        kept = [lvl for lvl in range(len(levels)) if levels[lvl][k] is not None]
        index = tuple(slice(None) if lvl in kept else 0 for lvl in range(len(levels)))
        placed, dims = _place(t[index], [levels[lvl][k] for lvl in kept])
        batched.append(placed)
        clamped = iter(dims)
        in_dims.append([next(clamped) if lvl in kept else None for lvl in range(len(levels))])
    mapped = fn
    for lvl in reversed(range(len(levels))):
        mapped = func.vmap(mapped, in_dims=tuple(d[lvl] for d in in_dims))
    originals = [b.clone() for b in batched]
    with vmap_without_fallback():
        actual = mapped(*batched)

    expected_fn = expected_fn or fn
    results = {}
    for idx in itertools.product(*(range(s) for s in sizes)):
        sample = []
        for k, t in enumerate(full):
            i = tuple(idx[lvl] if levels[lvl][k] is not None else 0 for lvl in range(len(levels)))
            sample.append(t[i].clone())
        results[idx] = expected_fn(*sample)

    def stack(prefix, level):
        if level == len(sizes):
            return results[prefix]
        parts = [stack(prefix + (i,), level + 1) for i in range(sizes[level])]
        if isinstance(parts[0], tuple):
            return tuple(torch.stack(p) for p in zip(*parts))
        return torch.stack(parts)

    expected = stack((), 0)
    assert_tree_close(actual, expected, **TOL64)
    if mutates:  # the batched input itself holds the results, in its layout
        full_expected = expected
        placed, _ = _place(full_expected, [lvl[0] for lvl in levels])
        torch.testing.assert_close(batched[0], placed, **TOL64)
    else:  # inputs untouched
        for b, o in zip(batched, originals):
            torch.testing.assert_close(b, o, rtol=0, atol=0)


def in_dims_variants(n):
    """(label, levels, sizes): all at 0, all at 1, one argument unbatched,
    nested two deep (and nested with one argument batched at the outer level only)."""
    out = [
        ("all0", [(0,) * n], (BATCH,)),
        ("all1", [(1,) * n], (BATCH,)),
        ("last", [(-1,) * n], (BATCH,)),
    ]  # -1: the batch dim appended last
    if n > 1:
        for k in range(n):
            dims = tuple(None if j == k else (1 if j % 2 else 0) for j in range(n))
            out.append((f"arg{k}_unbatched", [dims], (BATCH,)))
    out.append(("nested", [(1,) * n, (0,) * n], (2, BATCH)))
    if n > 1:
        out.append(("nested_arg0_outer_only", [(0,) * n, (None,) + (2,) * (n - 1)], (2, BATCH)))
    return out


def run_variants(fn, makers, expected_fn=None, mutates=False):
    failures = []
    n = len(makers)
    for label, levels, sizes in in_dims_variants(n):
        try:
            vmap_matches_loop(fn, makers, levels, sizes, expected_fn, mutates)
        except Exception as error:  # report every variant that fails, not only the first
            failures.append(
                f"{label} (in_dims per level {levels}): {type(error).__name__}: "
                f"{str(error).splitlines()[0] if str(error) else ''}"
            )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("kind", ["forward", "backward", "double_backward"])
@pytest.mark.parametrize("case", ALL_CASES, ids=ALL_IDS)
def test_vmap_ops(case, kind):
    """vmap of torch.ops.torch_act.<op>[_backward|_double_backward] equals a
    loop over the batch (of torch's reference for the forward, of the op for
    the backward ops), with batching rules (no fallback)."""
    op, makers = op_args(case, kind)
    expected_fn = None
    if kind == "forward":
        expected_fn = native_forward(case)
    run_variants(op, makers, expected_fn)


def native_forward(case):
    """torch's forward with the op's arguments (x[, tensor])."""
    if case is NOISE_CASE:
        return lambda x, noise: torch.where(x > 0, x, x * noise)
    return lambda x, *t: case.call(case.reference, x, *t)


@pytest.mark.parametrize("how", ["on_clone", "on_input"])
@pytest.mark.parametrize("case", INPLACE_CASES, ids=INPLACE_IDS)
def test_vmap_inplace(case, how):
    """inplace=True under vmap: on a clone made inside the function, or on the
    batched input itself (which must then hold the results)."""
    _, makers = op_args(case, "forward")
    reference = native_forward(case)
    if how == "on_clone":
        fn = lambda x: case.ours(x.clone(), **case.kwargs, inplace=True)  # noqa: E731
        run_variants(fn, makers, reference)
    else:
        fn = lambda x: case.ours(x, **case.kwargs, inplace=True)  # noqa: E731
        run_variants(fn, makers, reference, mutates=True)


# ------------------------------------------------------------ f. autocast


class _NativeActivation(nn.Module):
    """torch's formula for an activation torch.nn lacks (Swish, QuickGELU,
    SquaredReLU), with learnable Swish's beta a Parameter as ours has."""

    def __init__(self, case: Case):
        super().__init__()
        self.case = case
        if case.tensor_arg == "beta":
            self.beta = nn.Parameter(torch.tensor(1.3))

    def forward(self, x):
        if self.case.tensor_arg == "beta":
            return x * torch.sigmoid(self.beta * x)
        return self.case.call(self.case.reference, x)


def native_module(case: Case, channels: int) -> nn.Module:
    if case.tensor_arg == "per_channel":
        return nn.PReLU(channels)
    if case.tensor_arg == "single":
        return nn.PReLU()
    cls = case.act.torch_module
    return cls(**case.kwargs) if cls is not None else _NativeActivation(case)


def autocast_run(model, x, device, dtype):
    captured = {}
    model[1].register_forward_hook(lambda m, i, o: captured.setdefault("act", o))
    with torch.autocast(device, dtype=dtype):
        out = model(x)
    out.float().square().sum().backward()
    return out, captured["act"], {n: p.grad for n, p in model.named_parameters()}


def check_autocast(case: Case, device: str, dtype: torch.dtype):
    torch.manual_seed(0)
    channels = 8
    reference = (
        nn.Sequential(
            nn.Conv2d(3, channels, 3),
            native_module(case, channels),
            nn.Conv2d(channels, channels, 3),
        )
        .to(device)
        .eval()
    )  # eval: RReLU's fixed slope
    ours = copy.deepcopy(reference)
    ours[1] = make_module(case, channels).to(device)
    ours.load_state_dict(reference.state_dict())  # same parameters, same keys
    ours.eval()
    x = torch.randn(2, 3, 10, 10, generator=torch.Generator().manual_seed(1)).to(device)

    out, act, grads = autocast_run(ours, x, device, dtype)
    want_out, want_act, want_grads = autocast_run(reference, x, device, dtype)
    assert act.dtype == want_act.dtype, f"activation output {act.dtype}, torch's {want_act.dtype}"
    assert out.dtype == want_out.dtype

    def close(a, b):  # a few ulps of the reduced dtype, relative to the tensor's scale
        scale = b.abs().max().item() if b.numel() else 1.0
        torch.testing.assert_close(a.float(), b.float(), rtol=2e-2, atol=2e-2 * scale)

    close(act, want_act)
    close(out, want_out)
    assert grads.keys() == want_grads.keys()
    for name, p in ours.named_parameters():
        assert grads[name] is not None, f"{name} got no gradient"
        assert grads[name].dtype == p.dtype == torch.float32, f"{name}: {grads[name].dtype}"
        close(grads[name], want_grads[name])


# Every case: torch.nn's module, or torch's formula where torch.nn has none.
AUTOCAST_CASES = CASES
AUTOCAST_IDS = [c.id for c in AUTOCAST_CASES]


@pytest.mark.parametrize("case", AUTOCAST_CASES, ids=AUTOCAST_IDS)
def test_autocast_cpu(case):
    check_autocast(case, "cpu", torch.bfloat16)


@requires_cuda
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
@pytest.mark.parametrize("case", AUTOCAST_CASES, ids=AUTOCAST_IDS)
def test_autocast_cuda(case, dtype):
    check_autocast(case, "cuda", dtype)


# ------------------------------------------------------- g. extreme values

EDGE = [1e19, -1e19, 3e38, -3e38, 1e-40, -1e-40, 1e-45, -1e-45, 0.5, -1.0]
EDGE_VALUES = {
    torch.float32: torch.tensor(EDGE, dtype=torch.float32),
    torch.float64: torch.tensor(EDGE + [1e300, -1e300, 1e-310, -1e-310], dtype=F64),
}


def edge_derivatives(fn, case, dtype):
    """Forward, first derivatives (input, learnable tensor) and every second
    derivative (w.r.t. input, learnable tensor and grad_output) at EDGE_VALUES."""
    x = EDGE_VALUES[dtype].reshape(2, -1).clone().requires_grad_()
    t = learnables(case, x, requires_grad=True)
    out = fn(x, *t)
    v = torch.ones_like(out).requires_grad_()
    firsts = torch.autograd.grad(out, [x, *t], v, create_graph=True)
    seconds = torch.autograd.grad(
        firsts, [x, *t, v], [torch.ones_like(g) for g in firsts], materialize_grads=True
    )
    names = ["forward", "grad_input"] + ["grad_param"] * len(t)
    names += ["gradgrad_input"] + ["gradgrad_param"] * len(t) + ["gradgrad_grad_output"]
    return dict(zip(names, [out, *firsts, *seconds]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", ALL_CASES, ids=ALL_IDS)
def test_huge_and_tiny_inputs(case, dtype):
    """Finite (and equal to torch's) wherever torch's result is finite.
    Relative tolerance 1e-5; the absolute tolerance, a few ulps of 1, admits
    torch's own cancellation where a derivative is tiny (its softsign gradient
    at x = 1e19 is 1e-19 - 1e-19 = 0, the exact value 1e-38)."""
    ours = edge_derivatives(ours_fn(case), case, dtype)
    theirs = native(case, lambda fn: edge_derivatives(fn, case, dtype))
    tol = dict(rtol=1e-5, atol=4 * torch.finfo(dtype).eps)
    x = EDGE_VALUES[dtype].reshape(2, -1)
    failures = []
    for name, want in theirs.items():
        got, want = ours[name].detach(), want.detach()
        finite = torch.isfinite(want)
        try:
            torch.testing.assert_close(got[finite], want[finite], **tol)
        except AssertionError:
            if got.shape == x.shape:  # elementwise: the values where they differ
                bad = finite & ~torch.isclose(got, want, rtol=tol["rtol"], atol=tol["atol"])
                failures.append(
                    f"{name} at x = {x[bad].tolist()}: ours {got[bad].tolist()}, "
                    f"torch {want[bad].tolist()}"
                )
            else:  # a parameter's gradient, summed over x
                failures.append(f"{name}: ours {got.tolist()}, torch {want.tolist()}")
    if failures:
        raise AssertionError("\n".join(failures))
