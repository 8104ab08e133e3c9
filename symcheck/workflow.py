"""analyze → train → files for one task: the chain behind ``symcheck train`` and ``symcheck demo``.

:func:`analyze_and_train` analyses a task (or takes an analysis already made), trains the
tutorial network on exactly that prediction and, given a folder, writes the run's figures and
``result.json``. The CLI formats what it returns; the demo runs it once per tutorial task.
Importing this module imports torch (through :mod:`symcheck.training`), not e3nn.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .training import TrainResult, resolve_analysis, train

if TYPE_CHECKING:
    from .predict import Analysis
    from .task import Task


@dataclass(frozen=True)
class TrainRun:
    """One analyze → train run.

    Parameters
    ----------
    task : the task trained on.
    analysis : the prediction the run tested (settings in ``analysis.as_dict()["settings"]``).
    result : the training outcome and its verdict.
    files : what was written, name → path (``"loss curve"``, ``"output signals"``, ``"result"``);
        empty when no folder was given.
    """

    task: Task
    analysis: Analysis
    result: TrainResult
    files: dict[str, Path]

    def as_dict(self) -> dict:
        """Plain-JSON form (``symcheck train --json``): the result, both groups, warnings, settings and files."""
        data = self.result.as_dict()
        report = self.analysis.as_dict()
        data["input"], data["target"] = report["input"], report["target"]
        data["warnings"] = list(self.analysis.warnings)
        data["settings"] = report["settings"]
        data["files"] = {name: str(path) for name, path in self.files.items()}
        return data


def analyze_and_train(
    task_or_analysis,
    breaking=None,
    *,
    out: str | Path | None = None,
    steps: int | None = None,
    lr: float = 1e-3,
    seed: int = 0,
    device: str = "auto",
    threads: int | None = None,
    progress: Callable[[int, float], None] | None = None,
    network_lmax: int | None = None,
    tol: float | None = None,
    so3: bool | None = None,
    feature_lmax: int | None = None,
    near_tol: float | None = None,
    setting: str | None = None,
) -> TrainRun:
    """Analyse a task (unless given its analysis), train on that prediction, and write the run's files.

    Parameters
    ----------
    task_or_analysis : a :class:`symcheck.Task`, or an :class:`symcheck.Analysis` (its task and
        settings are used; giving a setting that differs from it is an error).
    breaking : None, ``"auto"`` or a suggestion, as for :func:`symcheck.train`.
    out : folder for ``loss.png``, ``signals.png`` (signal-encoded tasks) and ``result.json``
        (created if missing; existing files are overwritten); None writes nothing.
    steps, lr, seed, device, threads, progress : as for :func:`symcheck.train` (``steps`` in
        optimiser steps, ``lr`` the Adam learning rate).
    network_lmax : the network's highest L, as for :func:`symcheck.train` (None: its default).
    tol, so3, feature_lmax, near_tol, setting : the analysis settings (``tol`` and ``near_tol``
        in Å), as for :func:`symcheck.train`; ignored when an analysis is given, unless they differ.
    """
    task, analysis = resolve_analysis(task_or_analysis, tol=tol, so3=so3, feature_lmax=feature_lmax,
                                      near_tol=near_tol, setting=setting)
    result = train(analysis, breaking=breaking, steps=steps, lr=lr, seed=seed, device=device, threads=threads,
                   progress=progress, network_lmax=network_lmax)
    files = write_run_files(Path(out), task, result) if out is not None else {}
    return TrainRun(task, analysis, result, files)


def write_run_files(out: Path, task: Task, result: TrainResult) -> dict[str, Path]:
    """Write a run's loss curve, output signals (signal encoding only) and ``result.json`` into ``out``.

    Returns name → path of what was written.
    """
    from . import plots

    out.mkdir(parents=True, exist_ok=True)
    files = {"loss curve": plots.loss_curves([("training", result.losses, result.predicted_floor)],
                                             out / "loss.png")}
    if task.encoding == "signal":
        files["output signals"] = signals_figure(task, result, out / "signals.png",
                                                 f"output after {result.steps} steps ({result.verdict})")
    path = out / "result.json"
    path.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    files["result"] = path
    return files


def signals_figure(task: Task, result: TrainResult, path: Path, title: str) -> Path:
    """Draw the trained network's output signal at every point of a signal-encoded task into ``path``."""
    from . import plots

    return plots.signals_figure(task.structure.positions, result.output, task.lmax, path, title=title,
                                end_positions=task.end.positions, displacements=task.displacements)
