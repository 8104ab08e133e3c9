"""Near symmetry: the tolerance ladder, symmetrize, and the near-symmetry warning of analyze."""

import json

import numpy as np
import pytest
from symcheck_cli.main import app
from typer.testing import CliRunner

import symcheck as sc
from symcheck import SymcheckError
from symcheck.near import LADDER_TOLS, tolerance_ladder


def near_square(stretch=1.001):
    sq = sc.example("square")
    return sc.Structure(sq.positions * [stretch, 1.0, 1.0], sq.species)


def test_ladder_is_a_chain_with_distances():
    steps = tolerance_ladder(near_square())
    assert [s.tol for s in steps] == sorted(LADDER_TOLS)
    names = [s.group.name for s in steps]
    assert names[:3] == ["D2h"] * 3 and names[3:] == ["D4h"] * (len(names) - 3)
    # each group is a subgroup of the next: its matrices all appear in the next one
    for a, b in zip(steps, steps[1:]):
        for op in a.group.operations:
            assert any(np.allclose(op.matrix, q.matrix, atol=1e-6) for q in b.group.operations)
    # distance to the nearest D4h square: the corners move by 0.0005/√2·√2 … exactly half the stretch
    d = steps[-1].distance
    assert d == pytest.approx(np.hypot(0.00025, 0.00025), rel=1e-9)
    assert steps[0].distance < 1e-12


def test_symmetrize_reaches_the_group_and_is_nearest():
    s = sc.symmetrize(near_square(), "D4h", tol=1e-4)
    assert sc.point_group(s, tol=1e-9).name == "D4h"
    assert np.allclose(np.abs(s.positions[:, :2]), 0.50025)
    with pytest.raises(SymcheckError, match="not a supergroup"):
        sc.symmetrize(near_square(), "Oh", tol=1e-4)
    with pytest.raises(SymcheckError, match="unknown point group name"):
        sc.symmetrize(near_square(), "Q5", tol=1e-4)


def test_near_symmetry_warning_numbers():
    task = sc.Task.displacement(near_square(), sc.example("rectangle"))
    r = sc.analyze(task, tol=1e-4)
    assert r.input_group.name == "D2h" and r.learnable  # exactly, the asymmetric square is learnable …
    near = r.near_symmetry  # … but it is 0.00035 Å from D4h, which the target breaks
    assert near is not None and near.group.name == "D4h"
    assert near.distance == pytest.approx(np.hypot(0.00025, 0.00025), rel=1e-9)
    assert near.target_size == pytest.approx(np.hypot(0.25, 0.25), rel=2e-3)  # ~0.354 Å corner moves
    assert near.amplification == pytest.approx(near.target_size / near.distance)
    assert len(r.warnings) == 1 and "D4h" in r.warnings[0]
    d = r.as_dict()
    assert d["near_symmetry"]["point_group"] == "D4h" and d["warnings"]


def test_no_warning_when_the_higher_group_keeps_the_target():
    # rectangle → square is learnable and D4h-compatible: nothing to warn about
    r = sc.analyze(sc.Task.displacement(sc.example("rectangle"), sc.example("square")))
    assert r.near_symmetry is None and r.warnings == ()


def test_cli_ladder_lattice_characters_symmetrize(tmp_path, examples):
    runner = CliRunner()
    square = examples / "square.xyz"
    r = runner.invoke(app, ["group", str(square), "--ladder", "--lattice", str(tmp_path / "l.png"), "--json"])
    data = json.loads(r.stdout)
    assert (data["subgroups"], data["subgroup_classes"]) == (35, 27)
    assert {"tol", "point_group", "distance"} <= set(data["ladder"][0])
    assert (tmp_path / "l.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = runner.invoke(app, ["analyze", "--json", "--lattice", str(tmp_path / "a.png")])
    data = json.loads(r.stdout)
    assert data["suggestions"][0]["irrep_label"] == "B1g"
    assert data["lattice"]["path"][0] == "D4h" and data["lattice"]["path"][-1].startswith("D2h")
    assert data["near_symmetry"] is None
    out = tmp_path / "sym.xyz"
    src = tmp_path / "near.xyz"
    sc.write(src, near_square())
    r = runner.invoke(app, ["symmetrize", str(src), "--group", "D4h", "--tol", "1e-4", "--out", str(out)])
    assert r.exit_code == 0 and sc.point_group(sc.read(out), tol=1e-6).name == "D4h"
    r = runner.invoke(app, ["symmetrize", str(src), "--group", "Oh", "--out", str(out)])
    assert r.exit_code == 2 and "not a supergroup" in r.stderr
    r = runner.invoke(app, ["group", str(square), "--characters"])
    assert "B1g" in r.stdout and "A2u" in r.stdout
