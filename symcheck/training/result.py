"""The outcome of a training run: :class:`TrainResult` and the four verdicts it can carry."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONFIRMED = "confirmed"
NOT_CONFIRMED = "not confirmed"
BUG = "bug: loss below the floor"
DIVERGED = "diverged"
#: All verdicts; only CONFIRMED confirms the prediction.
VERDICTS = (CONFIRMED, NOT_CONFIRMED, BUG, DIVERGED)


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`symcheck.train`.

    Parameters
    ----------
    losses : MSE loss (mean over all target entries) at each step, before that step's update.
    final_loss : the last entry of ``losses``.
    predicted_floor : exact minimal MSE of any equivariant model for this input (with the
        breaking feature, if any).
    learnable : the prediction: an equivariant model can reach the target exactly.
    verdict : one of :data:`VERDICTS`.
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
