"""One meaning per name: tol (Å), feature_lmax / signal_lmax, near_tol and target_rtol, in the API and on the
command line, with the old lmax spelling still working (and warning) for one release."""

import inspect
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from symcheck_cli.main import app
from typer.testing import CliRunner

import symcheck as sc

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SQUARE, RECTANGLE = str(EXAMPLES / "square.xyz"), str(EXAMPLES / "rectangle.xyz")
TETRAGONAL = str(EXAMPLES / "perovskite_tetragonal.extxyz")


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _tutorial():
    return sc.Task.displacement(sc.example("square"), sc.example("rectangle"))


# ------------------------------------------------------------------ the API


def test_tol_has_one_default_everywhere():
    """Every public function with a ``tol`` takes the same default distance (Å), space_group included."""
    from symcheck.groups import point_group, space_group, symmetry_group

    for fn in (sc.analyze, sc.symmetrize, sc.symmetrized, sc.modes, sc.scan, point_group, space_group,
               symmetry_group):
        assert inspect.signature(fn).parameters["tol"].default == sc.DEFAULT_TOL == 0.01, fn.__name__


def test_space_group_without_tol_uses_the_default():
    crystal = sc.read(TETRAGONAL)
    from symcheck.groups import space_group

    assert space_group(crystal).name == space_group(crystal, sc.DEFAULT_TOL).name


def test_feature_tolerance_is_not_the_distance_tolerance():
    """Features are compared in their own units (FEATURE_ATOL), whatever distance tolerance (Å) is asked for:
    one atom's scalar feature 0.05 off keeps it apart at tol = 0.3 Å as at 0.01 Å."""
    from symcheck.groups import point_group

    square = sc.example("square")
    marked = sc.Structure(square.positions, square.species, np.array([[1.0], [1.0], [1.0], [1.05]]), "0e")
    assert {sc.symmetry_group(marked, tol=t).name for t in (0.01, 0.1, 0.3)} == {"C2v"}
    assert point_group(marked, tol=0.1, feature_tol=0.1).name == "D4h"  # a looser feature tolerance, asked for


def test_analyze_feature_lmax_and_the_deprecated_lmax():
    task = _tutorial()
    new = sc.analyze(task, feature_lmax=2)
    assert new.feature_lmax == 2 and new.as_dict()["settings"]["feature_lmax"] == 2
    assert max(s.L for s in new.suggestions) <= 2
    with pytest.warns(DeprecationWarning, match="feature_lmax"):
        old = sc.analyze(task, lmax=2)
    assert old.feature_lmax == 2
    assert [s.polynomial for s in old.suggestions] == [s.polynomial for s in new.suggestions]
    with pytest.raises(sc.SymcheckError, match="not both"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            sc.analyze(task, feature_lmax=2, lmax=3)


def test_task_signal_lmax_and_the_deprecated_lmax():
    square, rectangle = sc.example("square"), sc.example("rectangle")
    new = sc.Task.displacement(square, rectangle, signal_lmax=3)
    assert new.lmax == 3
    with pytest.warns(DeprecationWarning, match="signal_lmax"):
        old = sc.Task.displacement(square, rectangle, lmax=3)
    np.testing.assert_array_equal(old.target, new.target)
    with pytest.warns(DeprecationWarning, match="signal_lmax"):
        files = sc.Task.from_files(SQUARE, RECTANGLE, lmax=2)
    assert files.lmax == 2
    with pytest.raises(sc.SymcheckError, match="signal_lmax"):
        sc.Task.displacement(square, rectangle, signal_lmax=0)


def test_analysis_defaults_are_the_library_constants():
    report = sc.analyze(_tutorial())
    settings = report.as_dict()["settings"]
    assert settings["feature_lmax"] == sc.FEATURE_LMAX
    assert settings["near_tol"] == sc.NEAR_TOL
    assert settings["target_rtol"] == sc.TARGET_RTOL
    assert settings["tol"] == sc.DEFAULT_TOL


def test_obstructions_carry_their_kind():
    report = sc.analyze(_tutorial())
    counts = report.obstruction_counts()
    assert sum(counts.values()) == len(report.obstructions) == 8  # D4h minus D2h
    assert "C4" in counts and all("^" not in kind for kind in counts)
    assert report.worst_obstruction.change == max(o.change for o in report.obstructions)
    assert sc.analyze(sc.Task.displacement(sc.example("rectangle"), sc.example("square"))).worst_obstruction is None


def test_symmetrized_reports_its_group_and_largest_move():
    square = sc.example("square")
    pos = square.positions.copy()
    pos[0] += [0.003, 0.004, 0.0]
    off = sc.Structure(pos, square.species)
    result = sc.symmetrized(off, group="D4h", tol=0.01)
    assert result.group.name == "D4h"
    assert result.max_displacement == pytest.approx(np.linalg.norm(result.structure.positions - pos, axis=1).max())
    np.testing.assert_array_equal(sc.symmetrize(off, group="D4h", tol=0.01).positions, result.structure.positions)


def test_operations_by_kind():
    rows = sc.operations_by_kind(sc.symmetry_group(sc.example("square")))
    by_kind = {row.kind: row for row in rows}
    assert sum(row.count for row in rows) == 16
    assert by_kind["C4"].count == 2 and by_kind["C4"].axes == ("0,0,1",) and by_kind["C4"].translated is None
    crystal = sc.operations_by_kind(sc.symmetry_group(sc.read(TETRAGONAL), tol=1e-3))
    assert all(row.translated is not None for row in crystal)


# ------------------------------------------------------------------ the command line


def test_feature_lmax_flag_and_the_hidden_lmax():
    new = run("analyze", "--feature-lmax", "2", "--json")
    assert new.exit_code == 0, new.stderr
    assert json.loads(new.stdout)["settings"]["feature_lmax"] == 2
    old = run("analyze", "--lmax", "2", "--json")
    assert old.exit_code == 0, old.stderr
    assert json.loads(old.stdout)["settings"]["feature_lmax"] == 2
    assert "deprecated" in old.stderr and "--feature-lmax" in old.stderr
    assert "--lmax " not in run("analyze", "--help").stdout  # hidden
    both = run("analyze", "--lmax", "2", "--feature-lmax", "3")
    assert both.exit_code == 2 and "not both" in both.stderr


@pytest.mark.parametrize("command", ["analyze", "train"])
@pytest.mark.parametrize(("flag", "value"), [("--feature-lmax", "13"), ("--feature-lmax", "-1"),
                                             ("--target-rtol", "0"), ("--target-rtol", "nan")])
def test_new_flags_out_of_range(command, flag, value):
    r = run(command, flag, value)
    assert r.exit_code == 2 and flag in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_near_tol_and_target_rtol_reach_the_analysis():
    r = run("analyze", "--near-tol", "0", "--target-rtol", "0.01", "--json")
    assert r.exit_code == 0, r.stderr
    settings = json.loads(r.stdout)["settings"]
    assert settings["near_tol"] == 0 and settings["target_rtol"] == 0.01


def test_every_command_takes_the_same_tol():
    for command in ("group", "symmetrize", "analyze", "train", "scan", "modes"):
        text = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).stdout
        line = next(line for line in text.splitlines() if "--tol" in line)
        assert "Å" in line and "[default: 0.01]" in line, (command, line)


def test_network_lmax_flag():
    assert run("train", "--network-lmax", "0").exit_code == 2
    r = run("train", "--network-lmax", "2", "--steps", "2", "--json", "--threads", "1")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["steps"] == 2


def test_the_cli_uses_only_the_public_api():
    """cli/ reaches the library through ``import symcheck`` alone (its lazy table says where each name lives):
    no submodule import, so no science and no private name can creep into the command line."""
    import ast

    found = []
    for path in sorted((Path(__file__).resolve().parents[1] / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "symcheck" and n != "symcheck"]
    assert not found, found
