"""The README's library example runs as printed, and its commented results are what it gives."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_library_example_runs_without_deprecated_names(monkeypatch):
    monkeypatch.chdir(ROOT)
    code = _blocks()[0]
    scope: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the README shows only current names
        exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - our own README
    assert (scope["pg"].name, scope["pg"].order) == ("D4h", 16)
    assert scope["report"].learnable is False
    assert scope["report"].loss_floor == pytest.approx(7.0702e-4, rel=1e-4)
    fix = scope["fix"]
    assert (fix.irreps, fix.scope, fix.polynomial, fix.stabilizer) == ("2e", "global", "x**2 - y**2", "D2h")


def test_documented_signatures_accept_their_keywords():
    """The keyword names the README lists for analyze, Task and train exist, and none is the deprecated
    ``lmax`` (three L's, three names: signal_lmax, feature_lmax, network_lmax)."""
    import inspect

    import symcheck as sc

    text = (ROOT / "README.md").read_text()
    for name, fn in [("sc.analyze(", sc.analyze), ("sc.Task.displacement(", sc.Task.displacement),
                     ("sc.Task.from_files(", sc.Task.from_files), ("sc.train(task_or_analysis", sc.train)]:
        start = text.index(name)
        call = text[start:text.index(")", start)]
        documented = set(re.findall(r"(\w+)=", call))
        params = set(inspect.signature(fn).parameters)
        assert documented <= params, (name, documented - params)
        assert "lmax" not in documented, name
