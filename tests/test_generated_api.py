"""The spec-driven functions and modules are plain, current code.

functional.py and nn.py hold them in a GENERATED section that
tools/generate_api.py renders from _spec.py and the op schemas; a row added
or changed without rerunning the script fails here.
"""

import importlib.util
import pathlib
import re

import pytest

import torch_act

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "generate_api", ROOT / "tools" / "generate_api.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()


@pytest.mark.parametrize("path", sorted(GENERATOR.TARGETS), ids=lambda p: p.name)
def test_generated_sections_are_current(path):
    render = GENERATOR.TARGETS[path]
    assert GENERATOR.updated(path, render()) == path.read_text(), (
        f"{path.name} is stale: run python tools/generate_api.py"
    )


def test_every_spec_row_has_its_function_and_module():
    for act in torch_act.ACTIVATIONS:
        assert act.name in torch_act.functional.__all__
        assert act.module in torch_act.nn.__all__
        assert getattr(torch_act.functional, act.name).__module__ == "torch_act.functional"
        assert getattr(torch_act.nn, act.module).__module__ == "torch_act.nn"


def test_no_code_is_generated_at_import():
    for path in (ROOT / "torch_act").glob("*.py"):
        source = path.read_text()
        assert not re.search(r"\bexec\(|\beval\(|\bcompile\(", source), path.name
