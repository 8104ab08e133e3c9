"""When a run stops and what it concludes: Adam on the MSE under the adaptive step budget.

* learnable task: **confirmed** when the loss falls below the threshold loss;
* unlearnable task: **confirmed** when the loss has come within :data:`FLOOR_MARGIN` above the
  exact floor and stopped falling (relative decrease over the last :data:`PLATEAU_WINDOW` steps
  below :data:`PLATEAU_RTOL`);
* a loss more than :data:`FLOOR_SLACK` below the floor is a **bug**, never success;
* a loss that becomes NaN/inf or grows :data:`DIVERGE_FACTOR` × has **diverged**.

The budget: at least :data:`MIN_STEPS` steps (unless confirmed earlier), then on while the loss
(its excess over the floor for an unlearnable task) still falls by at least
:data:`PROGRESS_FACTOR` per :data:`PROGRESS_WINDOW` steps, up to :data:`MAX_STEPS` or the cap given.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .fused import DenseStep, supports_dense_step
from .optim import Adam
from .result import BUG, CONFIRMED, DIVERGED, NOT_CONFIRMED

#: Steps over which an unlearnable task's loss must have stopped falling.
PLATEAU_WINDOW = 50
#: Largest relative decrease of the loss over the window that still counts as a plateau.
PLATEAU_RTOL = 1e-3
#: An unlearnable task is confirmed when its loss is at most this fraction above the floor.
FLOOR_MARGIN = 0.02
#: A loss this far (absolute, in loss units) below the floor is reported as a bug.
FLOOR_SLACK = 1e-9
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


@dataclass(frozen=True)
class Goal:
    """What a run is judged against.

    Parameters
    ----------
    floor : the predicted loss floor (loss units).
    learnable : the prediction: the target can be reached exactly.
    threshold : a learnable task is confirmed below threshold × the target's mean square.
    threshold_loss : that loss.
    mean_square : the target's mean square (loss units).
    """

    floor: float
    learnable: bool
    threshold: float
    threshold_loss: float
    mean_square: float


def optimise(net, geo, x: torch.Tensor, target: torch.Tensor, pool: bool, lr: float, cap: int, adaptive: bool,
             progress: Callable[[int, float], None] | None, goal: Goal) -> tuple[list[float], str, str]:
    """Adam on the MSE until the prediction is confirmed, the loss diverges or stalls, or ``cap`` steps.

    Returns ``(losses, verdict, reason)``; ``adaptive`` says the cap is the budget's (not asked for).
    """
    trainer = training_step(net, geo, x, target, pool, lr)
    losses: list[float] = []
    for step in range(1, cap + 1):
        loss = trainer.loss_and_grad()
        losses.append(loss)
        if progress is not None:
            progress(step, loss)
        ended = _judge(losses, step, lr, goal)
        if ended is not None:
            return losses, *ended
        if step >= MIN_STEPS and step % PROGRESS_WINDOW == 0 and stalled(losses, 0.0 if goal.learnable else goal.floor):
            return losses, *unconfirmed(losses, goal.floor, goal.learnable, goal.threshold, goal.threshold_loss,
                                        "stalled", cap)
        if step < cap:  # no update after the last evaluation: the returned output is the one scored
            trainer.update()
    return losses, *unconfirmed(losses, goal.floor, goal.learnable, goal.threshold, goal.threshold_loss,
                                "cap" if adaptive else "steps", cap)


class MseStep:
    """Training steps through ``SeedNet.mse_step`` and :class:`~symcheck.training.optim.Adam` (any geometry or device).

    The general counterpart of :class:`~symcheck.training.fused.DenseStep`, with the same methods.
    """

    def __init__(self, net, geo, x: torch.Tensor, target: torch.Tensor, pool: bool, lr: float):
        self.net, self.geo, self.x, self.target, self.pool = net, geo, x, target, pool
        self.optimizer = Adam(net.parameters(), lr)

    def loss_and_grad(self) -> float:
        """MSE loss at the current parameters; their gradients are left in ``.grad``."""
        self.optimizer.zero_grad()
        return float(self.net.mse_step(self.x, self.geo, self.target, pool=self.pool))

    def update(self) -> None:
        """One Adam step with the gradients of the last :meth:`loss_and_grad`."""
        self.optimizer.step()

    def step(self) -> float:
        """Loss and gradients at the current parameters, then one Adam update; returns that loss."""
        loss = self.loss_and_grad()
        self.update()
        return loss


def training_step(net, geo, x: torch.Tensor, target: torch.Tensor, pool: bool, lr: float) -> DenseStep | MseStep:
    """The fastest available training step for ``net`` on ``geo``: MSE loss, gradients and Adam (same numbers).

    :class:`~symcheck.training.fused.DenseStep` on a dense geometry on the CPU with input features
    that need no gradient, :class:`MseStep` otherwise.
    """
    if supports_dense_step(net, geo) and not x.requires_grad:
        return DenseStep(net, geo, x, target, pool=pool, lr=lr)
    return MseStep(net, geo, x, target, pool, lr)


def _judge(losses: list[float], step: int, lr: float, goal: Goal) -> tuple[str, str] | None:
    """(verdict, reason) once the latest loss ends the run (diverged, below the floor, confirmed), else None."""
    loss, floor = losses[-1], goal.floor
    start = max(losses[0], goal.mean_square)
    if not math.isfinite(loss) or (math.isfinite(start) and loss > DIVERGE_FACTOR * start):
        return DIVERGED, (
            f"the loss diverged: {loss:.3e} at step {step}, from {losses[0]:.3e} at the start "
            f"(learning rate {lr:g} is too large; try a smaller --lr)"
        )
    if loss < floor - FLOOR_SLACK:
        return BUG, (
            f"loss {loss:.4e} at step {step} is below the predicted floor {floor:.4e}: "
            "the analysis or the network is wrong"
        )
    if goal.learnable and loss < goal.threshold_loss:
        return CONFIRMED, (
            f"loss {loss:.3e} fell below {goal.threshold_loss:.3e} ({goal.threshold:g} × the target's mean square) "
            f"after {step} steps, as predicted for a learnable task"
        )
    if not goal.learnable and on_plateau(losses, floor):
        return CONFIRMED, (
            f"loss plateaued at {loss:.4e}, {_above(loss, floor)} the predicted floor {floor:.4e}, "
            f"after {step} steps"
        )
    return None


def stalled(losses: list[float], floor: float) -> bool:
    """The best loss (excess over the floor) of the last window is not PROGRESS_FACTOR below the best before it."""
    recent = min(losses[-PROGRESS_WINDOW:]) - floor
    before = min(losses[:-PROGRESS_WINDOW]) - floor
    return recent > PROGRESS_FACTOR * before


def unconfirmed(losses, floor, learnable, threshold, threshold_loss, why: str, cap: int) -> tuple[str, str]:
    """(verdict, reason) of a run that ended without confirming; an unlearnable run already at its floor confirms.

    ``why`` is ``"stalled"``, ``"cap"`` (the adaptive budget's) or ``"steps"`` (the steps asked for).
    """
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


def on_plateau(losses: list[float], floor: float) -> bool:
    """Within FLOOR_MARGIN above the floor and no longer falling over the last PLATEAU_WINDOW steps."""
    if len(losses) <= PLATEAU_WINDOW:
        return False
    now, before = losses[-1], losses[-1 - PLATEAU_WINDOW]
    close = now <= floor * (1 + FLOOR_MARGIN) + FLOOR_SLACK
    flat = (before - now) <= PLATEAU_RTOL * now
    return close and flat


def _above(loss: float, floor: float) -> str:
    """How far ``loss`` is above ``floor``: in percent, or absolute for a zero floor."""
    if floor <= 0:
        return f"{loss - floor:.2e} above"
    return f"{100 * (loss - floor) / floor:.2f}% above"
