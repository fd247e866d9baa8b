"""The k-bit derivative codes (tools/fit_derivative_codes.py, csrc/derivative_codes.h):
the header is what the fit writes, each table's error is what it claims, no
nearby table does better, and the 3-bit errors beat FewBit's tables."""

import functools
import importlib.util
import pathlib
import shutil
import subprocess

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _fitter():
    path = ROOT / "tools" / "fit_derivative_codes.py"
    spec = importlib.util.spec_from_file_location("fit_derivative_codes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIT = _fitter()
TABLES = FIT.fit_all()
CASES = [(name, bits) for name in TABLES for bits in TABLES[name]]


X = torch.linspace(-12, 12, 120001, dtype=torch.float64)
WEIGHT = torch.exp(-0.5 * X * X)


@functools.lru_cache(maxsize=None)
def slope(name) -> torch.Tensor:
    return FIT.derivative(FIT.FUNCTIONS[name], X)


def codes(bounds) -> torch.Tensor:
    return torch.bucketize(X, torch.tensor(bounds, dtype=torch.float64), right=True)


def relative_error(name, bounds, values) -> float:
    """E[(f' - q)^2] / E[f'^2] for x ~ N(0, 1), by quadrature on a fine grid,
    independently of the fit's cell sums."""
    q = torch.tensor(values, dtype=torch.float64)[codes(bounds)]
    return ((WEIGHT * (slope(name) - q) ** 2).sum() / (WEIGHT * slope(name) ** 2).sum()).item()


def refit_values(name, bounds):
    """The best value per interval (f''s mean under N(0,1)) for these bounds."""
    code = codes(bounds)
    zeros = torch.zeros(len(bounds) + 1, dtype=torch.float64)
    mass = zeros.index_add(0, code, WEIGHT)
    return (zeros.index_add(0, code, WEIGHT * slope(name)) / mass).tolist()


def test_header_is_current():
    assert FIT.render_header(TABLES) == FIT.HEADER.read_text(), (
        "csrc/derivative_codes.h is stale: run python tools/fit_derivative_codes.py --write"
    )


def test_header_compiles():
    compiler = shutil.which("c++") or shutil.which("g++")
    assert compiler, "a C++ compiler is needed for this check"
    subprocess.run(
        [compiler, "-std=c++17", "-fsyntax-only", "-Wall", "-Werror", "-x", "c++", "-"],
        input=f'#include "{FIT.HEADER}"\n',
        text=True,
        check=True,
    )


@pytest.mark.parametrize("name, bits", CASES, ids=[f"{n}-{b}bit" for n, b in CASES])
def test_table_error_is_what_it_claims_and_locally_optimal(name, bits):
    bounds, values, claimed = TABLES[name][bits]
    assert len(bounds) == 2**bits - 1 and len(values) == 2**bits
    assert bounds == sorted(bounds)
    measured = relative_error(name, bounds, values)
    assert measured == pytest.approx(claimed, rel=0.02)
    # Moving any boundary by a few grid steps either way, with the values
    # refitted, does no better (to the grid's resolution).
    for i in range(len(bounds)):
        for shift in (-0.1, 0.1):
            moved = list(bounds)
            moved[i] += shift
            if moved != sorted(moved):
                continue
            assert relative_error(name, moved, refit_values(name, moved)) >= measured * 0.995


@pytest.mark.parametrize("name", list(TABLES))
def test_more_bits_less_error(name):
    errors = [TABLES[name][bits][2] for bits in sorted(TABLES[name])]
    assert all(a > b for a, b in zip(errors, errors[1:]))


@pytest.mark.parametrize("name, bits", sorted(FIT.FEWBIT_ERRORS))
def test_below_fewbits_error(name, bits):
    assert TABLES[name][bits][2] < FIT.FEWBIT_ERRORS[name, bits]
