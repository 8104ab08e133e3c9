"""Train the tutorial network on a task and compare the loss with the predicted floor.

``train(task)`` builds the network input (species, the structure's own features and an
optional symmetry-breaking feature), trains :class:`~symcheck.training.model.SeedNet` with Adam on
the MSE loss, stops early when the prediction is confirmed, and returns a :class:`TrainResult`
with the verdict:

* learnable task (``analyze`` says so, or the breaking feature makes it so): **confirmed** when
  the loss falls below ``threshold`` × (mean square of the target);
* unlearnable task: **confirmed** when the loss has come within 2 % above the exact floor and
  stopped falling (its relative decrease over the last :data:`PLATEAU_WINDOW` steps is below
  :data:`PLATEAU_RTOL`); training stops there;
* a loss below the floor (by more than 1e-9) means the analysis or the model is wrong: the
  verdict is **bug: loss below the floor**, never success;
* a loss that becomes NaN/inf or grows :data:`DIVERGE_FACTOR` × above where it started is
  **diverged** (the learning rate is too large), never "train longer".

The step budget adapts: training runs at least :data:`MIN_STEPS` steps (unless confirmed
earlier) and goes on while the loss (its excess over the floor for an unlearnable task) still
falls by at least :data:`PROGRESS_FACTOR` per :data:`PROGRESS_WINDOW` steps, up to
:data:`MAX_STEPS` (or the ``steps`` given); the reason says when the cap was hit.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from e3nn import o3

from ..errors import SymcheckError
from ..groups import DEFAULT_TOL
from .model import ALL_PAIRS_MAX_POINTS, SeedNet, default_hidden
from .optim import Adam

#: Steps over which an unlearnable task's loss must have stopped falling.
PLATEAU_WINDOW = 50
#: Largest relative decrease of the loss over the window that still counts as a plateau.
PLATEAU_RTOL = 1e-3
#: An unlearnable task is confirmed when its loss is at most this fraction above the floor.
FLOOR_MARGIN = 0.02
#: A loss this far (absolute) below the floor is reported as a bug.
FLOOR_SLACK = 1e-9
#: Size of a symmetry-breaking feature fed to the network (the tutorial's 0.1).
BREAKING_SCALE = 0.1
#: Random rotations (the last one improper) for the equivariance check after training.
N_ROTATIONS = 4

#: Steps always allowed before the budget may stop a run whose loss no longer falls.
MIN_STEPS = 1000
#: Most steps of an adaptive run (``steps=None``): generous, since stalls stop runs much earlier.
MAX_STEPS = 20000
#: Window (steps) over which progress is measured once MIN_STEPS have run.
PROGRESS_WINDOW = 250
#: A run goes on while the best loss of the last window is below this fraction of the best before it
#: (for an unlearnable task: the excess over the floor); i.e. it still falls by ≥ 10 % per window.
PROGRESS_FACTOR = 0.9
#: A loss this many times above the larger of the initial loss and the target's mean square has diverged.
DIVERGE_FACTOR = 1e4

CONFIRMED = "confirmed"
NOT_CONFIRMED = "not confirmed"
BUG = "bug: loss below the floor"
DIVERGED = "diverged"
#: All verdicts; only CONFIRMED confirms the prediction.
VERDICTS = (CONFIRMED, NOT_CONFIRMED, BUG, DIVERGED)


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train`.

    Parameters
    ----------
    losses : MSE loss (mean over all target entries) at each step, before that step's update.
    final_loss : the last entry of ``losses``.
    predicted_floor : exact minimal MSE of any equivariant model for this input (with the
        breaking feature, if any).
    learnable : the prediction: an equivariant model can reach the target exactly.
    verdict : ``"confirmed"``, ``"not confirmed"`` or ``"bug: loss below the floor"``.
    reason : one line explaining the verdict, with the numbers.
    steps : steps actually run (loss evaluations; training stops early once confirmed).
    seconds : wall time of the whole call, s.
    equivariance_error : max |f(Rx) − D(R) f(x)| of the trained network over a few random
        rotations, one of them improper.
    breaking : description of the symmetry-breaking feature fed to the network, or None.
    output : the trained network's output, shape of the task's target.
    threshold_loss : loss a learnable task had to fall below (threshold × mean square).
    device : where it trained (``"cpu"``, ``"cuda"``).
    rotation : the first random rotation of the equivariance check (3 × 3).
    rotated_output : the trained network's output on the input rotated by ``rotation`` (for
        figures of the equivariance check; it should equal D(R)·output).
    step_cap : the most steps the run was allowed (the adaptive cap, or the ``steps`` given).
    """

    losses: np.ndarray
    final_loss: float
    predicted_floor: float
    learnable: bool
    verdict: str
    reason: str
    steps: int
    seconds: float
    equivariance_error: float
    breaking: str | None
    output: np.ndarray
    threshold_loss: float = 0.0
    device: str = "cpu"
    rotation: np.ndarray | None = None
    rotated_output: np.ndarray | None = None
    step_cap: int | None = None

    @property
    def confirmed(self) -> bool:
        """The run confirmed the prediction (the only verdict that does)."""
        return self.verdict == CONFIRMED

    def as_dict(self) -> dict:
        """Plain-JSON form used by ``symcheck train --json`` (without the arrays of outputs)."""
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "final_loss": self.final_loss,
            "predicted_floor": self.predicted_floor,
            "learnable": self.learnable,
            "steps": self.steps,
            "seconds": self.seconds,
            "equivariance_error": self.equivariance_error,
            "breaking": self.breaking,
            "threshold_loss": self.threshold_loss,
            "device": self.device,
            "step_cap": self.step_cap,
            "losses": [float(v) for v in self.losses],
        }


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
    lmax: int | None = None,
    analysis=None,
    dtype: str = "float64",
    graph: str = "auto",
    tol: float | None = None,
    so3: bool | None = None,
    feature_lmax: int | None = None,
    near_tol: float | None = None,
    setting: str | None = None,
    threads: int | None = None,
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
    steps : most optimiser steps. None (default): adaptive, at least :data:`MIN_STEPS`, then on
        while the loss still falls by ≥ 10 % per :data:`PROGRESS_WINDOW` steps, up to
        :data:`MAX_STEPS`. Training always stops once the prediction is confirmed, and a run
        whose loss has stopped falling stops after :data:`MIN_STEPS` whatever the cap.
    lr : Adam learning rate.
    seed : seed of the network's initial weights.
    device : ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    threshold : a learnable task is confirmed once the loss falls below threshold × the
        target's mean square.
    progress : called as ``progress(step, loss)`` after every step (step counts from 1).
    lmax : the network's highest l (hidden features and spherical harmonics); default
        max(5, the highest l of the target and of the input features).
    analysis : ``symcheck.analyze(task, ...)`` if already computed.
    dtype : ``"float64"`` (default, as the tutorial) or ``"float32"``.
    graph : convolution graph, see :meth:`SeedNet.geometry` (periodic structures always use a
        periodic radius graph).
    tol, so3, feature_lmax, near_tol, setting : the analysis settings (as ``analyze``'s ``tol``,
        ``so3``, ``lmax``, ``near_tol``, ``setting``). With ``so3`` the network gets a constant
        pseudoscalar (0o) input on every point, which makes the O(3) network exactly as
        symmetric as a rotation-only one on this input (G ∩ SO(3)), so the so3 floor applies.
    threads : CPU threads for torch during the run. None: one thread for the small dense
        problems (their kernels are too short to share: the demo runs ~3× faster on one
        thread of a busy 2-core machine), torch's setting for large radius graphs.
    """
    started = time.perf_counter()
    task, analysis = resolve_analysis(task, analysis, tol=tol, so3=so3, feature_lmax=feature_lmax,
                                      near_tol=near_tol, setting=setting)
    if threads is not None and (not isinstance(threads, (int, np.integer)) or isinstance(threads, bool)
                                or threads < 1):
        raise SymcheckError(f"threads must be a positive integer, got {threads!r}")
    with default_dtype(torch.float64):  # e3nn builds its constants in the default dtype
        return _train(task, breaking, steps, lr, seed, device, threshold, progress, lmax, analysis, dtype,
                      graph, threads, started)


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
    from ..near import NEAR_TOL
    from ..predict import Analysis, analyze

    if isinstance(task, Analysis):
        if analysis is not None and analysis is not task:
            raise SymcheckError("give the analysis once: train(report) or train(task, analysis=report)")
        task, analysis = task.task, task

    asked = {"tol": tol, "so3": so3, "feature_lmax": feature_lmax, "near_tol": near_tol, "setting": setting}
    if analysis is None:
        kwargs = {"tol": tol if tol is not None else DEFAULT_TOL, "so3": bool(so3),
                  "lmax": 4 if feature_lmax is None else feature_lmax,
                  "near_tol": NEAR_TOL if near_tol is None else near_tol}
        if setting is not None:
            kwargs["setting"] = setting
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


def _train(task, breaking, steps, lr, seed, device, threshold, progress, lmax, analysis, dtype, graph, threads,
           started):
    if steps is not None and (not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps <= 0):
        raise SymcheckError(f"steps must be a positive integer, got {steps!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise SymcheckError(f"learning rate must be a positive number, got {lr!r}")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold > 0):
        raise SymcheckError(f"threshold must be a positive number, got {threshold!r}")
    torch_device = _resolve_device(device)
    torch_dtype = {"float64": torch.float64, "float32": torch.float32}.get(str(dtype).replace("torch.", ""))
    if torch_dtype is None:
        raise SymcheckError(f"dtype must be float64 or float32, got {dtype!r}")
    cap = MAX_STEPS if steps is None else int(steps)

    suggestion = _resolve_breaking(breaking, analysis)
    structure = task.structure
    n = len(structure)

    # Network input: species, the structure's own features, the breaking feature, and for a
    # rotation-only analysis a constant pseudoscalar (it removes every improper operation).
    blocks, block_irreps = [_species_block(structure.species)], []
    block_irreps.append(f"{blocks[0].shape[1]}x0e")
    if structure.features is not None:
        blocks.append(np.asarray(structure.features, dtype=float))
        block_irreps.append(structure.feature_irreps)
    predicted_floor, learnable, breaking_text = float(analysis.loss_floor), bool(analysis.learnable), None
    if suggestion is not None:
        field = _breaking_field(suggestion, n)
        blocks.append(field)
        block_irreps.append(str(suggestion.irreps))
        breaking_text = getattr(suggestion, "description", None) or f"{suggestion.scope} {suggestion.irreps}"
        after = _analysis_with_feature(task, analysis, field, str(suggestion.irreps))
        predicted_floor, learnable = float(after.loss_floor), bool(after.learnable)
    if getattr(analysis, "so3", False):
        blocks.append(np.full((n, 1), BREAKING_SCALE))
        block_irreps.append("0o")
    features = np.concatenate(blocks, axis=1)
    input_irreps = o3.Irreps("+".join(block_irreps))

    if lmax is None:
        lmax = max([5, *(ir.l for _, ir in input_irreps), *(ir.l for _, ir in o3.Irreps(task.irreps))])
    hidden = default_hidden(lmax, input_irreps, task.irreps)
    layout, columns = tutorial_layout(input_irreps, hidden)
    x_np = np.zeros((n, layout.dim))
    x_np[:, columns] = features

    mean_square = float(np.mean(np.asarray(task.target) ** 2))
    threshold_loss = threshold * mean_square if mean_square > 0 else threshold
    with _threads(threads, n, torch_device):
        torch.manual_seed(seed)
        net = SeedNet(layout, task.irreps, lmax=lmax, hidden=hidden).to(device=torch_device, dtype=torch_dtype)
        x = torch.as_tensor(x_np, dtype=torch_dtype, device=torch_device)
        target = torch.tensor(np.array(task.target), dtype=torch_dtype, device=torch_device)
        pos = torch.tensor(np.array(structure.positions), dtype=torch.float64)
        periodic = bool(getattr(structure, "periodic", False))
        cell = structure.cell if periodic else None
        pbc = structure.pbc if periodic else None
        geo = net.geometry(pos, x, graph="radius" if periodic else graph, cell=cell, pbc=pbc)
        pool = not task.per_point
        losses, verdict, reason = _optimise(net, geo, x, target, pool, lr, cap, steps is None, progress,
                                            predicted_floor, learnable, threshold, threshold_loss, mean_square)
        near = getattr(analysis, "near_symmetry", None)
        if verdict == NOT_CONFIRMED and learnable and near is not None:
            # the analysis warned about exactly this: say that the stall is the near symmetry, not a bug
            reason += (f"; the input is {near.distance:.3g} Å from {near.group.pretty_name}, which the target "
                       "breaks: a near symmetry trains like an obstruction")
        with torch.no_grad():
            out = net(x, geo)
            output = (out.mean(0) if pool else out).detach().cpu().double().numpy()
            with default_dtype(torch.float64):
                eq_err, (rotation, rotated) = _equivariance_error(
                    net, x, pos, o3.Irreps(layout), geo.graph, cell, pbc, seed, pool, N_ROTATIONS, x.dtype,
                    x.device
                )
    losses_np = np.array(losses)
    return TrainResult(
        losses=losses_np,
        final_loss=float(losses_np[-1]),
        predicted_floor=predicted_floor,
        learnable=learnable,
        verdict=verdict,
        reason=reason,
        steps=len(losses),
        seconds=time.perf_counter() - started,
        equivariance_error=eq_err,
        breaking=breaking_text,
        output=output,
        threshold_loss=threshold_loss,
        device=torch_device.type,
        rotation=rotation,
        rotated_output=rotated,
        step_cap=cap,
    )


def _analysis_with_feature(task, analysis, field: np.ndarray, irreps: str):
    """The analysis of the task with a breaking feature added to the input, with the same settings.

    The floor the network is held to must come from the same tolerance, model group (so3) and
    target tolerance as the prediction shown: re-analysing at the defaults gave a wrong floor
    (and a "bug: loss below the floor") for near-symmetric inputs analysed at a small tol.
    """
    from ..predict import analyze

    structure = task.structure
    feats = field if structure.features is None else np.concatenate([structure.features, field], axis=1)
    irreps_all = "+".join(i for i in (structure.feature_irreps, irreps) if i)
    broken = type(task)(structure.with_features(feats, irreps_all), task.target, task.irreps, task.per_point)
    kwargs = {"tol": getattr(analysis, "tol", DEFAULT_TOL), "so3": getattr(analysis, "so3", False), "near_tol": 0.0}
    rtol = getattr(analysis, "target_rtol", None)
    if rtol is not None:
        kwargs["target_rtol"] = rtol
    return analyze(broken, lmax=0, **kwargs)


def _optimise(net, geo, x, target, pool, lr, cap, adaptive, progress, floor, learnable, threshold, threshold_loss,
              mean_square):
    """Adam on the MSE until the prediction is confirmed, the loss diverges or stalls, or ``cap`` steps.

    Returns (losses, verdict, reason).
    """
    opt = Adam(net.parameters(), lr)
    losses: list[float] = []
    for step in range(1, cap + 1):
        opt.zero_grad()
        loss = float(net.mse_step(x, geo, target, pool=pool))
        losses.append(loss)
        if progress is not None:
            progress(step, loss)
        start = max(losses[0], mean_square)
        if not math.isfinite(loss) or (math.isfinite(start) and loss > DIVERGE_FACTOR * start):
            return losses, DIVERGED, (
                f"the loss diverged: {loss:.3e} at step {step}, from {losses[0]:.3e} at the start "
                f"(learning rate {lr:g} is too large; try a smaller --lr)"
            )
        if loss < floor - FLOOR_SLACK:
            return losses, BUG, (
                f"loss {loss:.4e} at step {step} is below the predicted floor {floor:.4e}: "
                "the analysis or the network is wrong"
            )
        if learnable and loss < threshold_loss:
            return losses, CONFIRMED, (
                f"loss {loss:.3e} fell below {threshold_loss:.3e} ({threshold:g} × the target's mean square) "
                f"after {step} steps, as predicted for a learnable task"
            )
        if not learnable and _on_plateau(losses, floor):
            return losses, CONFIRMED, (
                f"loss plateaued at {loss:.4e}, {_above(loss, floor)} the predicted floor {floor:.4e}, "
                f"after {step} steps"
            )
        if step >= MIN_STEPS and step % PROGRESS_WINDOW == 0 and _stalled(losses, 0.0 if learnable else floor):
            return losses, *_unconfirmed(losses, floor, learnable, threshold, threshold_loss, "stalled", cap)
        if step < cap:  # no update after the last evaluation: the returned output is the one scored
            opt.step()
    return losses, *_unconfirmed(losses, floor, learnable, threshold, threshold_loss,
                                 "cap" if adaptive else "steps", cap)


def _stalled(losses: list[float], floor: float) -> bool:
    """The best loss (excess over the floor) of the last window is not PROGRESS_FACTOR below the best before it."""
    recent = min(losses[-PROGRESS_WINDOW:]) - floor
    before = min(losses[:-PROGRESS_WINDOW]) - floor
    return recent > PROGRESS_FACTOR * before


def _unconfirmed(losses, floor, learnable, threshold, threshold_loss, why: str, cap: int) -> tuple[str, str]:
    """(verdict, reason) of a run that ended without confirming; an unlearnable run already at its floor confirms."""
    final, n = losses[-1], len(losses)
    if why == "stalled":
        how = (f"the loss stopped falling (less than {100 * (1 - PROGRESS_FACTOR):g}% over the last "
               f"{PROGRESS_WINDOW} steps) after {n} steps")
    elif why == "cap":
        how = f"the step budget's cap of {cap} steps was reached with the loss still falling (raise --steps)"
    else:
        how = f"the {cap} steps asked for ran out; train longer (more --steps, or none for the adaptive budget)"
    if learnable:
        return NOT_CONFIRMED, (
            f"loss {final:.3e} is still above {threshold_loss:.3e} ({threshold:g} × the target's mean square): {how}"
        )
    if final <= floor * (1 + FLOOR_MARGIN) + FLOOR_SLACK:
        return CONFIRMED, f"loss {final:.4e} is {_above(final, floor)} the predicted floor {floor:.4e} after {n} steps"
    return NOT_CONFIRMED, (
        f"loss {final:.4e} is {_above(final, floor)} the predicted floor {floor:.4e} (confirmation needs within "
        f"{100 * FLOOR_MARGIN:g}%): {how}"
    )


def tutorial_layout(inputs: o3.Irreps, hidden: o3.Irreps) -> tuple[o3.Irreps, np.ndarray]:
    """Place input irreps in the slots of the hidden irreps, as the tutorial feeds its network.

    The tutorial's input is a spherical tensor with the hidden irreps (0e+1o+…+5o), zero except
    where there is an input (the constant scalar, the x²−y² feature in the 2e slot). The zero
    slots matter: e3nn's path normalisation counts them, which keeps the first layer's output
    small at initialisation (a compact ``0e+2e`` input trains much worse). Inputs of a type with
    more copies than the hidden irreps have, or of a type missing there, get extra copies.

    Returns ``(layout, columns)``: the layout irreps and, for every input column, its column in
    the layout.
    """
    inputs, hidden = o3.Irreps(inputs), o3.Irreps(hidden)
    need: dict = {}
    for mul, ir in inputs:
        need[ir] = need.get(ir, 0) + mul
    order = [ir for _, ir in hidden] + [ir for _, ir in inputs]
    seen, entries = set(), []
    for ir in order:
        if ir in seen:
            continue
        seen.add(ir)
        have = sum(mul for mul, h in hidden if h == ir)
        entries.append((max(have, need.get(ir, 0)), ir))
    layout = o3.Irreps(entries)
    # first layout column of every irrep type, then hand out copies in input order
    start, col = {}, 0
    for mul, ir in layout:
        start[ir] = col
        col += mul * ir.dim
    used = dict.fromkeys(start, 0)
    columns = []
    for mul, ir in inputs:
        for _ in range(mul):
            base = start[ir] + used[ir] * ir.dim
            columns.extend(range(base, base + ir.dim))
            used[ir] += 1
    return layout, np.array(columns, dtype=int)


def equivariance_error(
    net: SeedNet,
    x: torch.Tensor,
    pos: torch.Tensor,
    irreps_in,
    graph: str = "auto",
    cell=None,
    pbc=None,
    seed: int = 0,
    pool: bool = False,
    n_rotations: int = N_ROTATIONS,
) -> float:
    """max |f(Rx) − D(R) f(x)| over random rotations R (the last one improper), inputs rotated with their irreps."""
    irreps_in = o3.Irreps(irreps_in)
    dtype, device = x.dtype, x.device
    with default_dtype(torch.float64), torch.no_grad():
        return _equivariance_error(net, x, pos, irreps_in, graph, cell, pbc, seed, pool, n_rotations, dtype, device)[0]


def _equivariance_error(net, x, pos, irreps_in, graph, cell, pbc, seed, pool, n_rotations, dtype, device):
    """(max error, (first rotation, output on the input rotated by it))."""
    gen = np.random.default_rng(seed + 12345)
    pos64 = pos.detach().to(torch.float64).cpu()

    def run(p: torch.Tensor, feats: torch.Tensor, c) -> torch.Tensor:
        geo = net.geometry(p, feats, graph=graph, cell=c, pbc=pbc)
        out = net(feats, geo)
        return out.mean(0) if pool else out

    ref = run(pos64, x, cell).double().cpu()
    worst, first = 0.0, None
    for k in range(n_rotations):
        q, _ = np.linalg.qr(gen.normal(size=(3, 3)))
        q *= np.sign(np.linalg.det(q))
        if k == n_rotations - 1:
            q = -q  # improper: rotation times inversion
        R = torch.as_tensor(q, dtype=torch.float64)
        d_in = irreps_in.D_from_matrix(R).to(device=device, dtype=dtype)
        d_out = net.irreps_out.D_from_matrix(R)
        c = None if cell is None else np.asarray(cell) @ q.T
        out = run(pos64 @ R.T, x @ d_in.T, c).double().cpu()
        worst = max(worst, float((out - ref @ d_out.T).abs().max()))
        if first is None:
            first = (q, out.numpy())
    return worst, first


def _resolve_device(device: str) -> torch.device:
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


def _resolve_breaking(breaking, analysis):
    """None, "auto" or a suggestion -> a suggestion object or None."""
    if breaking is None:
        return None
    if isinstance(breaking, str):
        if breaking != "auto":
            raise SymcheckError(f"breaking must be None, 'auto' or a suggestion, got {breaking!r}")
        if analysis.learnable:
            return None  # nothing to break: the task is learnable as it is
        if not analysis.suggestions:
            raise SymcheckError("no symmetry-breaking feature was found for this task")
        return analysis.suggestions[0]
    for attr in ("irreps", "scope", "vector"):
        if not hasattr(breaking, attr):
            raise SymcheckError(f"breaking feature has no {attr!r} (expected a symcheck Suggestion)")
    return breaking


def _species_block(species) -> np.ndarray:
    """One-hot species as 0e scalars; a single constant channel of 1.0 for one species (as the tutorial)."""
    kinds = sorted(set(species))
    if len(kinds) == 1:
        return np.ones((len(species), 1))
    return np.array([[1.0 if s == k else 0.0 for k in kinds] for s in species])


def _breaking_field(suggestion, n: int) -> np.ndarray:
    """(N, d) input columns of a breaking feature, scaled like the tutorial (size 0.1)."""
    v = np.asarray(suggestion.vector, dtype=float)
    if suggestion.scope == "global":
        if v.ndim != 1:
            raise SymcheckError(f"a global breaking feature must be one vector, got shape {v.shape}")
        norm = np.linalg.norm(v)
        return np.tile(BREAKING_SCALE * v / (norm if norm > 0 else 1.0), (n, 1))
    if v.ndim != 2 or v.shape[0] != n:
        raise SymcheckError(f"a per-point breaking field must have shape (N={n}, d), got {v.shape}")
    largest = np.linalg.norm(v, axis=1).max()
    return BREAKING_SCALE * v / (largest if largest > 0 else 1.0)


def _on_plateau(losses: list[float], floor: float) -> bool:
    """Within FLOOR_MARGIN above the floor and no longer falling over the last PLATEAU_WINDOW steps."""
    if len(losses) <= PLATEAU_WINDOW:
        return False
    now, before = losses[-1], losses[-1 - PLATEAU_WINDOW]
    close = now <= floor * (1 + FLOOR_MARGIN) + FLOOR_SLACK
    flat = (before - now) <= PLATEAU_RTOL * now
    return close and flat


def _above(loss: float, floor: float) -> str:
    if floor <= 0:
        return f"{loss - floor:.2e} above"
    return f"{100 * (loss - floor) / floor:.2f}% above"


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype):
    """Temporarily set torch's default dtype."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


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
