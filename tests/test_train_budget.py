"""Honest verdicts: the adaptive step budget, divergence, threads, and training the prediction that was shown.

SF6 (Oh → D3d, a trigonal stretch of the octahedron) and water (C2v → Cs, one O–H bond stretched)
with the suggested breaking feature are the tasks that a fixed budget of 1,000 steps left
"not confirmed". They are built here from ASE's water and an ideal SF6 octahedron.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
from symcheck_cli.main import app
from typer.testing import CliRunner

import symcheck as sc
from symcheck.training import BUG, CONFIRMED, DIVERGED, NOT_CONFIRMED, stopping

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def sf6(stretch: float = 0.0) -> sc.Structure:
    """SF6: S at the origin, F at ±1.56 Å along the axes; ``stretch`` along (1,1,1) gives D3d."""
    pos = np.vstack([[0.0, 0.0, 0.0], 1.56 * np.vstack([np.eye(3), -np.eye(3)])])
    u = np.ones(3) / np.sqrt(3)
    return sc.Structure(pos + stretch * np.outer(pos @ u, u), ["S"] + ["F"] * 6)


def water(stretch: float = 0.0) -> sc.Structure:
    """ASE's H2O (C2v); ``stretch`` lengthens the first O–H bond by that fraction (Cs: the molecular plane)."""
    from ase.build import molecule

    atoms = molecule("H2O")
    pos = atoms.get_positions()
    pos[1] += stretch * (pos[1] - pos[0])
    return sc.Structure(pos, list(atoms.get_chemical_symbols()))


def _confirm_with_auto_break(start, end, groups):
    report = sc.analyze(sc.Task.displacement(start, end))
    assert (report.input_group.name, report.target_group.name) == groups
    assert report.suggestions[0].reaches_target
    result = sc.train(report, breaking="auto")
    assert result.verdict == CONFIRMED, result.reason
    assert result.predicted_floor < 1e-20 and result.step_cap == stopping.MAX_STEPS
    return result


def test_sf6_trigonal_confirms_with_the_default_budget():
    """Slow but bounded (about 1,260 steps): past the old fixed budget of 1,000, which said "not confirmed"."""
    result = _confirm_with_auto_break(sf6(), sf6(0.15), ("Oh", "D3d"))
    assert result.steps > 1000


def test_water_cs_confirms_with_the_default_budget():
    """About 900 steps with the suggested axial vector normal to the plane it keeps."""
    _confirm_with_auto_break(water(), water(0.1), ("C2v", "Cs"))


def test_diverged_run_says_so():
    task = sc.Task.displacement(sc.example("square"), sc.example("rectangle"))
    result = sc.train(task, breaking="auto", lr=1e6, steps=200)
    assert result.verdict == DIVERGED
    assert "diverged" in result.reason and "--lr" in result.reason
    assert "train longer" not in result.reason and "above the floor" not in result.reason
    assert result.steps < 200


def test_stalled_and_capped_reasons():
    flat = [1.0] * 600
    assert stopping.stalled(flat, 0.0)
    falling = list(np.geomspace(1.0, 1e-3, 600))
    assert not stopping.stalled(falling, 0.0)
    # an unlearnable run is judged by its excess over the floor
    assert not stopping.stalled([0.5 + v for v in falling], 0.5)
    verdict, reason = stopping.unconfirmed(falling, 0.0, True, 1e-3, 1e-9, "cap", 600)
    assert verdict == NOT_CONFIRMED and "cap of 600 steps" in reason and "still falling" in reason
    verdict, reason = stopping.unconfirmed(flat, 0.0, True, 1e-3, 1e-9, "stalled", 20000)
    assert verdict == NOT_CONFIRMED and "stopped falling" in reason
    verdict, _ = stopping.unconfirmed([0.5] * 10, 0.5, False, 1e-3, 1e-9, "stalled", 20000)
    assert verdict == CONFIRMED  # an unlearnable run sitting on its floor confirms


def test_threads_are_set_for_the_run_and_restored():
    task = sc.Task.displacement(sc.example("square"), sc.example("rectangle"))
    before = torch.get_num_threads()
    seen = []
    sc.train(task, steps=3, threads=1, progress=lambda step, loss: seen.append(torch.get_num_threads()))
    assert seen == [1, 1, 1] and torch.get_num_threads() == before
    with pytest.raises(sc.SymcheckError, match="threads"):
        sc.train(task, steps=3, threads=0)


def test_train_uses_the_analysis_settings_for_the_broken_floor():
    """near_square at tol 1e-4 is D2h: with a 0e feature the floor stays 0 (at the default tol it was D4h's)."""
    from symcheck.breaking import parse_breaking

    task = sc.Task.displacement(sc.read(EXAMPLES / "near_square.xyz"), sc.example("rectangle"))
    report = sc.analyze(task, tol=1e-4)
    assert report.learnable and report.tol == 1e-4
    result = sc.train(report, breaking=parse_breaking("0e:1", report), steps=60)
    assert result.predicted_floor < 1e-20 and result.learnable
    assert result.verdict != BUG
    same = sc.train(task, tol=1e-4, breaking=parse_breaking("0e:1", report), steps=60)
    assert same.predicted_floor == result.predicted_floor
    with pytest.raises(sc.SymcheckError, match="tol"):
        sc.train(task, analysis=report, tol=0.01, steps=5)


def test_so3_training_holds_the_rotation_only_floor():
    task = sc.Task.displacement(sc.example("square"), sc.example("rectangle"))
    report = sc.analyze(task, so3=True)
    assert report.input_group.name == "D4" and not report.learnable
    result = sc.train(report, steps=40)
    assert result.predicted_floor == pytest.approx(report.loss_floor)
    assert result.verdict != BUG and result.final_loss >= report.loss_floor - 1e-9
    assert result.equivariance_error < 1e-9


def test_cli_train_check_exit_codes(tmp_path):
    runner = CliRunner()
    failed = runner.invoke(app, ["train", "--auto-break", "--steps", "5", "--check", "--json"])
    assert failed.exit_code == 1, failed.stderr
    assert '"verdict": "not confirmed"' in failed.stdout
    diverged = runner.invoke(app, ["train", "--auto-break", "--lr", "1e6", "--steps", "50", "--check"])
    assert diverged.exit_code == 1 and "DIVERGED" in diverged.stdout
    ok = runner.invoke(app, ["train", "--auto-break", "--check", "--json", "--threads", "1"])
    assert ok.exit_code == 0, ok.stdout
    assert '"verdict": "confirmed"' in ok.stdout and '"settings"' in ok.stdout


def test_cli_train_honours_tol_and_warns(tmp_path):
    """train --tol 1e-4 on near_square → rectangle with a 0e break: the right floor, never "bug"."""
    result = CliRunner().invoke(app, ["train", str(EXAMPLES / "near_square.xyz"), str(EXAMPLES / "rectangle.xyz"),
                                      "--tol", "1e-4", "--break", "0e:1", "--steps", "60", "--json"])
    assert result.exit_code == 0, result.stderr
    import json

    data = json.loads(result.stdout)
    assert data["predicted_floor"] < 1e-20 and data["verdict"] != BUG
    assert data["settings"]["tol"] == 1e-4
    assert any("D4h" in w for w in data["warnings"])
