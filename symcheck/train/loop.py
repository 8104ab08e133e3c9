"""Train the tutorial network on a task and compare the loss with the predicted floor.

``train(task)`` builds the network input (species, the structure's own features and an
optional symmetry-breaking feature), trains :class:`~symcheck.train.model.SeedNet` with Adam on
the MSE loss, stops early when the prediction is confirmed, and returns a :class:`TrainResult`
with the verdict:

* learnable task (``analyze`` says so, or the breaking feature makes it so): **confirmed** when
  the loss falls below ``threshold`` × (mean square of the target);
* unlearnable task: **confirmed** when the loss has come within 2 % above the exact floor and
  stopped falling (its relative decrease over the last :data:`PLATEAU_WINDOW` steps is below
  :data:`PLATEAU_RTOL`); training stops there;
* a loss below the floor (by more than 1e-9) means the analysis or the model is wrong: the
  verdict is **bug: loss below the floor**, never success.
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
from .model import SeedNet, default_hidden
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

CONFIRMED = "confirmed"
NOT_CONFIRMED = "not confirmed"
BUG = "bug: loss below the floor"


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
            "losses": [float(v) for v in self.losses],
        }


def train(
    task,
    breaking=None,
    steps: int = 1000,
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
) -> TrainResult:
    """Train the tutorial network on ``task`` and check the loss against the predicted floor.

    Parameters
    ----------
    task : a :class:`symcheck.Task` (structure, target, irreps, per_point).
    breaking : None, ``"auto"`` (the best suggestion of ``analyze(task)``), or a suggestion
        (anything with ``.irreps``, ``.scope`` and ``.vector`` like :class:`symcheck.Suggestion`),
        fed to every point (global) or to its sites (per point), scaled to size 0.1.
    steps : most optimiser steps (training stops earlier once the prediction is confirmed).
    lr : Adam learning rate.
    seed : seed of the network's initial weights.
    device : ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    threshold : a learnable task is confirmed once the loss falls below threshold × the
        target's mean square.
    progress : called as ``progress(step, loss)`` after every step (step counts from 1).
    lmax : highest l of the hidden features and spherical harmonics; default max(5, the
        highest l of the target and of the input features).
    analysis : ``symcheck.analyze(task)`` if already computed (saves recomputing it).
    dtype : ``"float64"`` (default, as the tutorial) or ``"float32"``.
    graph : convolution graph, see :meth:`SeedNet.geometry` (periodic structures always use a
        periodic radius graph).
    """
    started = time.perf_counter()
    with default_dtype(torch.float64):  # e3nn builds its constants in the default dtype
        return _train(
            task, breaking, steps, lr, seed, device, threshold, progress, lmax, analysis, dtype, graph, started
        )


def _train(task, breaking, steps, lr, seed, device, threshold, progress, lmax, analysis, dtype, graph, started):
    if not isinstance(steps, (int, np.integer)) or steps <= 0:
        raise SymcheckError(f"steps must be a positive integer, got {steps!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise SymcheckError(f"learning rate must be a positive number, got {lr!r}")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold > 0):
        raise SymcheckError(f"threshold must be a positive number, got {threshold!r}")
    torch_device = _resolve_device(device)
    torch_dtype = {"float64": torch.float64, "float32": torch.float32}.get(str(dtype).replace("torch.", ""))
    if torch_dtype is None:
        raise SymcheckError(f"dtype must be float64 or float32, got {dtype!r}")

    from ..predict import analyze

    if analysis is None:
        analysis = analyze(task)
    suggestion = _resolve_breaking(breaking, analysis)
    structure = task.structure
    n = len(structure)

    # Network input: species, the structure's own features, the breaking feature.
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
        # The floor with the feature: analyse the same task with the feature added to the input.
        feats = field if structure.features is None else np.concatenate([structure.features, field], axis=1)
        irreps = "+".join(i for i in (structure.feature_irreps, str(suggestion.irreps)) if i)
        broken = type(task)(structure.with_features(feats, irreps), task.target, task.irreps, task.per_point)
        after = analyze(broken)
        predicted_floor, learnable = float(after.loss_floor), bool(after.learnable)
    features = np.concatenate(blocks, axis=1)
    input_irreps = o3.Irreps("+".join(block_irreps))

    if lmax is None:
        lmax = max([5, *(ir.l for _, ir in input_irreps), *(ir.l for _, ir in o3.Irreps(task.irreps))])
    hidden = default_hidden(lmax, input_irreps, task.irreps)
    layout, columns = tutorial_layout(input_irreps, hidden)
    x_np = np.zeros((n, layout.dim))
    x_np[:, columns] = features

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

    mean_square = float(np.mean(np.asarray(task.target) ** 2))
    threshold_loss = threshold * mean_square if mean_square > 0 else threshold
    opt = Adam(net.parameters(), lr)
    losses: list[float] = []
    verdict, reason = NOT_CONFIRMED, ""
    with _threads(geo, torch_device):
        for step in range(1, steps + 1):
            opt.zero_grad()
            loss = float(net.mse_step(x, geo, target, pool=pool))
            losses.append(loss)
            if progress is not None:
                progress(step, loss)
            if not math.isfinite(loss):
                reason = f"the loss became {loss} at step {step}"
                break
            if loss < predicted_floor - FLOOR_SLACK:
                verdict = BUG
                reason = (
                    f"loss {loss:.4e} at step {step} is below the predicted floor {predicted_floor:.4e}: "
                    "the analysis or the network is wrong"
                )
                break
            if learnable and loss < threshold_loss:
                verdict = CONFIRMED
                reason = (
                    f"loss {loss:.3e} fell below {threshold_loss:.3e} ({threshold:g} × the target's mean square) "
                    f"after {step} steps, as predicted for a learnable task"
                )
                break
            if not learnable and _on_plateau(losses, predicted_floor):
                verdict = CONFIRMED
                reason = (
                    f"loss plateaued at {loss:.4e}, {_above(loss, predicted_floor)} the predicted floor "
                    f"{predicted_floor:.4e}, after {step} steps"
                )
                break
            if step < steps:  # no update after the last evaluation: the returned output is the one scored
                opt.step()

    losses_np = np.array(losses)
    final = float(losses_np[-1])
    if not reason:  # ran out of steps
        if learnable:
            reason = (
                f"loss {final:.3e} is still above {threshold_loss:.3e} ({threshold:g} × the target's mean square) "
                f"after {len(losses)} steps; train longer (more steps) to confirm"
            )
        elif final <= predicted_floor * (1 + FLOOR_MARGIN) + FLOOR_SLACK:
            verdict = CONFIRMED
            reason = (
                f"loss {final:.4e} is {_above(final, predicted_floor)} the predicted floor "
                f"{predicted_floor:.4e} after {len(losses)} steps"
            )
        else:
            reason = (
                f"loss {final:.4e} is {_above(final, predicted_floor)} the predicted floor "
                f"{predicted_floor:.4e} after {len(losses)} steps (confirmation needs within "
                f"{100 * FLOOR_MARGIN:g}%); train longer (more steps)"
            )

    with torch.no_grad():
        out = net(x, geo)
        output = (out.mean(0) if pool else out).detach().cpu().double().numpy()
        with default_dtype(torch.float64):
            eq_err, (rotation, rotated) = _equivariance_error(
                net, x, pos, o3.Irreps(layout), geo.graph, cell, pbc, seed, pool, N_ROTATIONS, x.dtype, x.device
            )
    return TrainResult(
        losses=losses_np,
        final_loss=final,
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
def _threads(geo, device: torch.device):
    """One CPU thread for the small dense problems: their kernels are too short to share out."""
    if device.type != "cpu" or geo.mode != "dense":
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)
