"""Train the tutorial network on a task and compare the loss with the predicted floor.

``train(task)`` builds the network input (:mod:`symcheck.training.inputs`), trains
:class:`~symcheck.training.network.SeedNet` with Adam on the MSE loss until the step budget's
rules end the run (:mod:`symcheck.training.stopping`: confirmed, not confirmed, diverged, or a
loss below the floor, which is a bug), checks the trained network's equivariance and returns a
:class:`~symcheck.training.result.TrainResult` with the verdict.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable

import numpy as np
import torch

from .. import o3
from ..compat import renamed_keyword
from ..errors import SymcheckError
from .equivariance import N_ROTATIONS, default_dtype, rotated_outputs
from .geometry import ALL_PAIRS_MAX_POINTS
from .inputs import NetworkInput, network_input, resolve_breaking, tutorial_layout
from .network import SeedNet, default_hidden
from .result import NOT_CONFIRMED, TrainResult
from .stopping import MAX_STEPS, Goal, optimise


def train(
    task,
    breaking=None,
    steps: int | None = None,
    lr: float = 1e-3,
    seed: int = 0,
    device: str = "auto",
    threshold: float = 1e-3,
    progress: Callable[[int, float], None] | None = None,
    *,
    network_lmax: int | None = None,
    analysis=None,
    dtype: str = "float64",
    graph: str = "auto",
    tol: float | None = None,
    so3: bool | None = None,
    feature_lmax: int | None = None,
    near_tol: float | None = None,
    setting: str | None = None,
    threads: int | None = None,
    lmax: int | None = None,
) -> TrainResult:
    """Train the tutorial network on ``task`` and check the loss against the predicted floor.

    The prediction is the one ``symcheck.analyze`` makes with the same settings: pass either
    the analysis (``train(report)`` or ``train(task, analysis=report)``; its settings are then
    used for everything, including the floor with a breaking feature) or the analysis settings
    (``tol``, ``so3``, ``feature_lmax``, ``near_tol``, ``setting``; analyze's defaults when
    omitted). Giving both an analysis and a setting that differs from it is an error: the run
    must test the prediction that was shown.

    Parameters
    ----------
    task : a :class:`symcheck.Task` (structure, target, irreps, per_point), or an
        :class:`symcheck.Analysis` (its task and settings are used).
    breaking : None, ``"auto"`` (the best suggestion of the analysis), or a suggestion
        (anything with ``.irreps``, ``.scope`` and ``.vector`` like :class:`symcheck.Suggestion`),
        fed to every point (global) or to its sites (per point), scaled to size 0.1.
    steps : most optimiser steps. None (default): adaptive, at least ``MIN_STEPS`` (1,000), then
        on while the loss still falls by ≥ 10 % per ``PROGRESS_WINDOW`` (250) steps, up to
        ``MAX_STEPS`` (20,000; :mod:`symcheck.training.stopping`). Training always stops once
        the prediction is confirmed, and a run whose loss has stopped falling stops after
        ``MIN_STEPS`` whatever the cap.
    lr : Adam learning rate.
    seed : seed of the network's initial weights.
    device : ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    threshold : a learnable task is confirmed once the loss falls below threshold × the
        target's mean square.
    progress : called as ``progress(step, loss)`` after every step (step counts from 1).
    network_lmax : the network's highest l (hidden features and spherical harmonics); default
        max(5, the highest l of the target and of the input features). ``lmax`` is its
        deprecated old name.
    analysis : ``symcheck.analyze(task, ...)`` if already computed.
    dtype : ``"float64"`` (default, as the tutorial) or ``"float32"``.
    graph : convolution graph, see :meth:`symcheck.training.network.SeedNet.geometry` (periodic
        structures always use a periodic radius graph).
    tol, so3, feature_lmax, near_tol, setting : the analysis settings, as ``analyze``'s (``tol``
        and ``near_tol`` in Å). With ``so3`` the network gets a constant
        pseudoscalar (0o) input on every point, which makes the O(3) network exactly as
        symmetric as a rotation-only one on this input (G ∩ SO(3)), so the so3 floor applies.
    threads : CPU threads for torch during the run. None: one thread for the small dense
        problems (their kernels are too short to share: the demo runs ~3× faster on one
        thread of a busy 2-core machine), torch's setting for large radius graphs.
    """
    started = time.perf_counter()
    network_lmax = renamed_keyword("train", "lmax", "network_lmax", lmax, network_lmax, None)
    torch_device, torch_dtype, cap = _check_options(steps, lr, threshold, device, dtype, threads)
    task, analysis = resolve_analysis(task, analysis, tol=tol, so3=so3, feature_lmax=feature_lmax,
                                      near_tol=near_tol, setting=setting)
    inp = network_input(task, analysis, resolve_breaking(breaking, analysis))
    mean_square = float(np.mean(np.asarray(task.target) ** 2))
    goal = Goal(inp.floor, inp.learnable, threshold, threshold * mean_square if mean_square > 0 else threshold,
                mean_square)
    with default_dtype(torch.float64), _threads(threads, len(task.structure), torch_device):
        # constants are built in the default dtype (as e3nn does)
        torch.manual_seed(seed)
        run = _Run.build(task, inp, network_lmax, graph, torch_device, torch_dtype)
        losses, verdict, reason = optimise(run.net, run.geo, run.x, run.target, run.pool, lr, cap, steps is None,
                                           progress, goal)
        if verdict == NOT_CONFIRMED and goal.learnable:
            reason += _near_symmetry_note(analysis)
        output, eq_err, rotation, rotated = run.check(seed)
    return TrainResult(
        losses=np.array(losses),
        final_loss=float(losses[-1]),
        predicted_floor=goal.floor,
        learnable=goal.learnable,
        verdict=verdict,
        reason=reason,
        steps=len(losses),
        seconds=time.perf_counter() - started,
        equivariance_error=eq_err,
        breaking=inp.breaking,
        output=output,
        threshold_loss=goal.threshold_loss,
        device=torch_device.type,
        rotation=rotation,
        rotated_output=rotated,
        step_cap=cap,
    )


def resolve_analysis(
    task,
    analysis=None,
    *,
    tol: float | None = None,
    so3: bool | None = None,
    feature_lmax: int | None = None,
    near_tol: float | None = None,
    setting: str | None = None,
):
    """``(task, analysis)`` a run tests: the analysis given (checked against the settings) or a fresh one.

    Parameters
    ----------
    task : a :class:`symcheck.Task`, or an :class:`symcheck.Analysis` (then its task and itself).
    analysis : the task's analysis if already made; giving it twice (here and as ``task``) is an
        error unless it is the same object.
    tol, so3, feature_lmax, near_tol, setting : the analysis settings (``tol``, ``near_tol`` in
        Å); analyze's defaults when omitted; with an analysis given, one that differs from it is
        an error (the run would not test the prediction shown).
    """
    from ..predict import Analysis, analyze

    if isinstance(task, Analysis):
        if analysis is not None and analysis is not task:
            raise SymcheckError("give the analysis once: train(report) or train(task, analysis=report)")
        task, analysis = task.task, task

    asked = {"tol": tol, "so3": so3, "feature_lmax": feature_lmax, "near_tol": near_tol, "setting": setting}
    if analysis is None:
        kwargs = {name: value for name, value in asked.items() if value is not None}  # analyze's defaults
        if so3 is not None:
            kwargs["so3"] = bool(so3)
        return task, analyze(task, **kwargs)
    given = getattr(analysis, "task", None)
    if given is not None and given is not task and not _same_task(given, task):
        raise SymcheckError("the analysis given is of a different task")
    for name, value in asked.items():
        have = getattr(analysis, name, None)
        if value is not None and have is not None and value != have:
            raise SymcheckError(
                f"{name}={value!r} differs from the analysis given ({name}={have!r}): the run would not test "
                "the prediction shown; analyse again with the same settings"
            )
    return task, analysis


def _same_task(a, b) -> bool:
    """Same input positions, species, features and target (Task holds arrays, so no == on it)."""
    sa, sb = a.structure, b.structure
    return (a.irreps == b.irreps and a.per_point == b.per_point and sa.species == sb.species
            and np.array_equal(sa.positions, sb.positions) and np.array_equal(a.target, b.target)
            and (sa.features is None) == (sb.features is None)
            and (sa.features is None or np.array_equal(sa.features, sb.features)))


def _check_options(steps, lr, threshold, device, dtype, threads) -> tuple[torch.device, torch.dtype, int]:
    """Validate the run's options; returns ``(device, dtype, step cap)``."""
    if steps is not None and (not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps <= 0):
        raise SymcheckError(f"steps must be a positive integer, got {steps!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise SymcheckError(f"learning rate must be a positive number, got {lr!r}")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold > 0):
        raise SymcheckError(f"threshold must be a positive number, got {threshold!r}")
    if threads is not None and (not isinstance(threads, (int, np.integer)) or isinstance(threads, bool)
                                or threads < 1):
        raise SymcheckError(f"threads must be a positive integer, got {threads!r}")
    torch_dtype = {"float64": torch.float64, "float32": torch.float32}.get(str(dtype).replace("torch.", ""))
    if torch_dtype is None:
        raise SymcheckError(f"dtype must be float64 or float32, got {dtype!r}")
    return _resolve_device(device), torch_dtype, MAX_STEPS if steps is None else int(steps)


class _Run:
    """The network of one run with its input, target and geometry, on the run's device and dtype."""

    def __init__(self, net: SeedNet, x, target, pos, geo, pool: bool, layout, cell, pbc):
        self.net, self.x, self.target, self.pos, self.geo = net, x, target, pos, geo
        self.pool, self.layout, self.cell, self.pbc = pool, layout, cell, pbc

    @classmethod
    def build(cls, task, inp: NetworkInput, network_lmax: int | None, graph: str, device: torch.device,
              dtype: torch.dtype) -> _Run:
        """A freshly initialised network (seed set by the caller) for ``task`` with input ``inp``."""
        if network_lmax is None:  # the tutorial's 5, or the highest l the network reads or writes
            network_lmax = max([5, *(ir.l for _, ir in inp.irreps), *(ir.l for _, ir in o3.Irreps(task.irreps))])
        hidden = default_hidden(network_lmax, inp.irreps, task.irreps)
        layout, columns = tutorial_layout(inp.irreps, hidden)
        structure = task.structure
        x_np = np.zeros((len(structure), layout.dim))
        x_np[:, columns] = inp.features
        net = SeedNet(layout, task.irreps, network_lmax=network_lmax, hidden=hidden).to(device=device, dtype=dtype)
        x = torch.as_tensor(x_np, dtype=dtype, device=device)
        target = torch.tensor(np.array(task.target), dtype=dtype, device=device)
        pos = torch.tensor(np.array(structure.positions), dtype=torch.float64)
        periodic = bool(getattr(structure, "periodic", False))
        cell = structure.cell if periodic else None
        pbc = structure.pbc if periodic else None
        geo = net.geometry(pos, x, graph="radius" if periodic else graph, cell=cell, pbc=pbc)
        return cls(net, x, target, pos, geo, not task.per_point, layout, cell, pbc)

    def check(self, seed: int):
        """``(output, equivariance error, first rotation, output on the rotated input)`` of the trained network."""
        with torch.no_grad():
            out = self.net(self.x, self.geo)
            output = (out.mean(0) if self.pool else out).detach().cpu().double().numpy()
            eq_err, (rotation, rotated) = rotated_outputs(
                self.net, self.x, self.pos, self.layout, self.geo.graph, self.cell, self.pbc, seed, self.pool,
                N_ROTATIONS, geo=self.geo,
            )
        return output, eq_err, rotation, rotated


def _near_symmetry_note(analysis) -> str:
    """For a learnable run that did not confirm: the near symmetry the analysis warned about, if any."""
    near = getattr(analysis, "near_symmetry", None)
    if near is None:
        return ""
    return (f"; the input is {near.distance:.3g} Å from {near.group.pretty_name}, which the target "
            "breaks: a near symmetry trains like an obstruction")


def _resolve_device(device: str) -> torch.device:
    """``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda[:k]"`` as a torch device."""
    name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SymcheckError(f"device {device!r} requested but CUDA is not available (use --device cpu)")
        return torch.device(name)
    if name == "cpu":
        return torch.device("cpu")
    raise SymcheckError(f"unknown device {device!r} (use auto, cpu or cuda)")


@contextlib.contextmanager
def _threads(threads: int | None, n: int, device: torch.device):
    """Set torch's CPU threads for the run, restored afterwards.

    Default: one thread for small inputs on the CPU. Their kernels are too short to share out,
    and a second thread on a busy 2-core machine made the demo ~3× slower (it had one thread
    for the training steps already, but not for building the geometry and the equivariance
    check, which then took most of the time). Inputs large enough for a radius graph
    (more than ALL_PAIRS_MAX_POINTS points) keep torch's setting.
    """
    if threads is None:
        if device.type != "cpu" or n > ALL_PAIRS_MAX_POINTS:
            yield
            return
        threads = 1
    old = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(old)
