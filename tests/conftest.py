"""Fixtures shared by the test files: the bundled example files, the tutorial's structures and task, crystals.

Builders of whole families of structures stay modules next to the tests: ``shapes.py`` (a structure
with exactly a given point group, and the group-theory oracle) and ``glazer.py`` (perovskite tilt
systems). Both are importable as ``import shapes`` / ``import glazer``: tests/ is not a package, so
pytest puts this folder on ``sys.path``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import symcheck as sc

#: The example files shipped with the repository (examples/ at its root).
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="session")
def examples() -> Path:
    """The folder of the bundled example files (square.xyz, rectangle.xyz, perovskite_*.extxyz, …)."""
    return EXAMPLES


@pytest.fixture(scope="module")
def square() -> sc.Structure:
    """The tutorial's square: four points at the corners, side 1 Å (``sc.example("square")``)."""
    return sc.example("square")


@pytest.fixture(scope="module")
def rectangle() -> sc.Structure:
    """The tutorial's rectangle, the square stretched to 0.5 × 1.5 Å (``sc.example("rectangle")``)."""
    return sc.example("rectangle")


@pytest.fixture(scope="module")
def tutorial_task(square: sc.Structure, rectangle: sc.Structure) -> sc.Task:
    """The tutorial's second task, square → rectangle, its displacements encoded as L ≤ 5 spherical signals."""
    return sc.Task.displacement(square, rectangle, encoding="signal", signal_lmax=5)


@pytest.fixture(scope="session")
def perovskite() -> Callable[[str], sc.Structure]:
    """Reader of the bundled perovskites: ``perovskite("cubic")`` is examples/perovskite_cubic.extxyz
    (also ``"tetragonal"``, ``"cubic_2x2x2"``, ``"tilt_a0a0c-"``, …)."""

    def read(name: str) -> sc.Structure:
        return sc.read(EXAMPLES / f"perovskite_{name}.extxyz")

    return read


@pytest.fixture(autouse=True, scope="session")
def _construction_cache(tmp_path_factory):
    """Tests write the training construction cache to a session folder, not the user's ~/.cache/symcheck."""
    import os

    old = os.environ.get("SYMCHECK_CACHE_DIR")
    os.environ["SYMCHECK_CACHE_DIR"] = str(tmp_path_factory.mktemp("symcheck-cache"))
    yield
    if old is None:
        os.environ.pop("SYMCHECK_CACHE_DIR", None)
    else:
        os.environ["SYMCHECK_CACHE_DIR"] = old


@pytest.fixture
def torch_float64():
    """torch's default dtype float64 for the test (e3nn builds its modules in it), restored after."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)
