"""The tutorial end to end: Task 1, Task 2 and Task 3 (auto-break) — analyze, train, verdict, figures."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .io import example
from .task import Task


@dataclass(frozen=True)
class DemoRow:
    """One task of the demo.

    Parameters
    ----------
    task : its name, e.g. ``"2: square → rectangle"``.
    input_group, target_group : G and H.
    predicted_floor : the exact floor with the input the network gets (breaking feature included).
    final_loss : the loss when training stopped.
    below_1e4_step : first step at which the loss was below 1e-4 (None if never).
    verdict : ``confirmed`` / ``not confirmed`` / ``bug: loss below the floor``.
    steps, seconds : training steps run and wall time of analyze + train (s).
    breaking : the symmetry-breaking feature fed to the network, if any.
    """

    task: str
    input_group: str
    target_group: str
    predicted_floor: float
    final_loss: float
    below_1e4_step: int | None
    verdict: str
    steps: int
    seconds: float
    breaking: str | None

    def as_dict(self) -> dict:
        """Plain-JSON form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class DemoResult:
    """The demo's table rows, the figures it wrote (name → path) and its total time (s)."""

    rows: tuple[DemoRow, ...]
    figures: dict
    seconds: float

    def as_dict(self) -> dict:
        """Plain-JSON form used by ``symcheck demo --json``."""
        return {"rows": [r.as_dict() for r in self.rows], "figures": {k: str(v) for k, v in self.figures.items()},
                "seconds": self.seconds}


def run_demo(
    out: str | Path | None = "symcheck-demo",
    steps: int | None = None,
    seed: int = 0,
    progress: Callable[[str, int, float], None] | None = None,
    threads: int | None = None,
) -> DemoResult:
    """Reproduce the tutorial: analyze and train its three tasks, and draw its figures into ``out``.

    Parameters
    ----------
    out : folder for the PNG figures (created); None draws nothing.
    steps : most training steps per task; None: the adaptive budget of :func:`symcheck.train`
        (each run stops once its prediction is confirmed).
    seed : seed of the networks' initial weights.
    progress : called as ``progress(task_name, step, loss)`` during training.
    threads : CPU threads for torch (None: train's default, one thread for these small tasks).
    """
    from .workflow import analyze_and_train

    started = time.perf_counter()
    square, rectangle = example("square"), example("rectangle")
    specs = [
        ("1: rectangle → square", rectangle, square, None),
        ("2: square → rectangle", square, rectangle, None),
        ("3: square → rectangle, auto-break", square, rectangle, "auto"),
    ]
    rows, runs = [], []
    for name, start, end, breaking in specs:
        t0 = time.perf_counter()
        callback = (lambda step, loss, _n=name: progress(_n, step, loss)) if progress else None
        # the library's analyze → train chain: the run tests exactly the prediction in the table
        run = analyze_and_train(Task.displacement(start, end), breaking, steps=steps, seed=seed, progress=callback,
                                threads=threads)
        rows.append(_row(name, run, breaking, time.perf_counter() - t0))
        runs.append(run)
    figures = _figures(Path(out), runs) if out is not None else {}
    return DemoResult(tuple(rows), figures, time.perf_counter() - started)


def _row(name: str, run, breaking, seconds: float) -> DemoRow:
    """The table row of one task's run."""
    report, result = run.analysis, run.result
    below = np.flatnonzero(result.losses < 1e-4)
    return DemoRow(
        task=name,
        input_group=report.input_group.name if breaking is None else _broken_group(report),
        target_group=report.target_group.name,
        predicted_floor=result.predicted_floor,
        final_loss=result.final_loss,
        below_1e4_step=int(below[0]) + 1 if len(below) else None,
        verdict=result.verdict,
        steps=result.steps,
        seconds=seconds,
        breaking=result.breaking,
    )


def _broken_group(report) -> str:
    """The input group once the best breaking feature is added (its stabilizer)."""
    return report.suggestions[0].stabilizer if report.suggestions else report.input_group.name


def _figures(out: Path, runs) -> dict:
    """Draw the tutorial's figures of the three runs (:class:`~symcheck.workflow.TrainRun`) into ``out``."""
    from . import plots
    from .workflow import signals_figure

    out.mkdir(parents=True, exist_ok=True)
    titles = ["Task 1: Rectangle to Square", "Task 2: Square to Rectangle",
              "Task 3: Square to Rectangle with Symmetry Breaking"]
    panels = [(run.task.structure.positions, run.task.end.positions, title, marker)
              for run, title, marker in zip(runs, titles, [None, None, "$\u2B2E$"], strict=True)]
    figs = {"tasks": plots.task_figure(panels, out / "tasks.png")}
    figs["losses"] = plots.loss_curves(
        [(f"Task {k}", run.result.losses, run.result.predicted_floor) for k, run in enumerate(runs, 1)],
        out / "losses.png", title="Training loss and the predicted floors",
    )
    for k, run in enumerate(runs, 1):
        figs[f"signals_task{k}"] = signals_figure(
            run.task, run.result, out / f"signals_task{k}.png",
            f"Task {k}: output after {run.result.steps} steps ({run.result.verdict})",
        )
    task, result = runs[0].task, runs[0].result
    R, lmax = result.rotation, task.lmax
    figs["equivariance"] = plots.equivariance_figure(
        task.structure.positions, result.output, task.structure.positions @ R.T, result.rotated_output, lmax,
        out / "equivariance.png", end_positions=task.end.positions, rotated_end_positions=task.end.positions @ R.T,
    )
    best = runs[2].analysis.suggestions[0]
    figs["feature"] = plots.feature_figure(
        best.vector, best.L, out / "feature.png", title=f"Breaking feature {best.polynomial} ({best.irreps})"
    )
    return figs
