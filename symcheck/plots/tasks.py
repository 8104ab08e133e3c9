"""The tutorial's task sketch (start shape, end shape, arrows) and training-loss curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .figure import PANEL_INCHES, as_points, new_figure, save, wrap


def _plane_axes(points: np.ndarray) -> tuple[int, int]:
    """The two Cartesian axes to draw a structure on: x, y unless another pair spreads it more.

    :param points: (M, 3) all positions of a panel, Å.
    """
    spread = points.max(axis=0) - points.min(axis=0)
    if spread[2] <= 1e-6 * max(float(spread.max()), 1e-12):
        return 0, 1
    i, j = sorted(np.argsort(spread)[-2:])
    return int(i), int(j)


def task_figure(panels: Sequence[tuple[Any, Any, str, str | None]], path: str | Path) -> Path:
    """The tutorial's task sketch: start shape, end shape and black arrows, one panel per task.

    Each shape is a closed polygon through the points in the given order (the tutorial's ``'o-'``);
    the start shape is blue, the end shape orange, and an arrow runs from each start point to its end
    point. Points are drawn on the x-y plane (the tutorial's choice), or on the two Cartesian axes
    with the largest spread when the structure is not flat in z.

    :param panels: ``(start (N, 3), end (N, 3), title, marker)`` per panel, positions in Å; marker is
        a matplotlib marker for the start points (e.g. ``"$\\u2B2E$"``, the tutorial's mark of a
        symmetry-breaking input) or None for plain circles.
    :param path: output PNG path.
    :return: the path written.
    """
    if not panels:
        raise ValueError("task_figure needs at least one panel")
    fig = new_figure(PANEL_INCHES * len(panels), PANEL_INCHES + 0.6)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (start, end, title, marker) in zip(axes, panels):
        start, end = as_points(start, "start"), as_points(end, "end")
        if start.shape != end.shape:
            raise ValueError(f"start {start.shape} and end {end.shape} differ in shape")
        i, j = _plane_axes(np.concatenate([start, end]))
        size = max(float(np.ptp(np.concatenate([start, end])[:, [i, j]], axis=0).max()), 1e-6)
        for pts, colour, mk, ms, label in (
            (start, "C0", marker or "o", 20 if marker else 15, "start"),
            (end, "C1", "o", 15, "end"),
        ):
            closed = np.concatenate([pts, pts[:1]])
            ax.plot(closed[:, i], closed[:, j], "-", color=colour, lw=2, zorder=2)
            ax.plot(pts[:, i], pts[:, j], ls="none", marker=mk, ms=ms, color=colour, label=label, zorder=3)
        for p, q in zip(start, end):
            d = q - p
            if np.hypot(d[i], d[j]) > 1e-9:
                ax.arrow(
                    p[i],
                    p[j],
                    d[i],
                    d[j],
                    length_includes_head=True,
                    head_width=0.05 * size,
                    head_length=0.06 * size,
                    facecolor="black",
                    edgecolor="black",
                    zorder=100,
                )
        ax.set_title(wrap(title), fontsize=13)
        ax.set_aspect("equal")
        ax.margins(0.15)
        ax.set_axis_off()
    return save(fig, path)


#: A floor this small relative to the curve's largest loss is rounding error around an exact 0.
FLOOR_ZERO = 1e-20


def loss_curves(
    curves: Sequence[tuple[str, Any, float | None]],
    path: str | Path,
    title: str = "Training loss",
) -> Path:
    """Semilog-y loss against step, with each predicted loss floor as a dashed line.

    A floor is drawn in its curve's colour and labelled ``predicted floor 7.07e-04``; a floor of 0
    (a learnable task) cannot appear on a log axis and is added to the curve's label instead.

    :param curves: ``(label, losses (steps,), floor or None)`` per run; losses are MSE values
        (dimensionless, or the target's units squared), non-positive values are not drawn.
    :param path: output PNG path.
    :param title: figure title.
    :return: the path written.
    """
    fig = new_figure(1.5 * PANEL_INCHES, PANEL_INCHES)
    ax = fig.add_subplot()
    for k, (label, losses, floor) in enumerate(curves):
        colour = f"C{k % 10}"
        y = np.asarray(losses, dtype=np.float64).ravel()
        steps = np.arange(len(y))
        y = np.where(y > 0, y, np.nan)
        name = label
        if floor is not None and floor <= FLOOR_ZERO * max(float(np.nanmax(y)), 1e-300):
            floor = 0.0  # a learnable task's floor is zero up to rounding (1e-34): do not draw it
        if floor == 0.0:
            name = f"{label} (predicted floor 0)"
        ax.semilogy(steps, y, color=colour, lw=1.8, label=name)
        if floor is not None and floor > 0:
            ax.axhline(floor, color=colour, ls="--", lw=1.4, label=f"predicted floor {floor:.2e}")
    ax.set_xlabel("step")
    ax.set_ylabel("MSE loss")
    if title:
        ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)
    if curves:
        ax.legend(loc="upper right", fontsize=9, framealpha=0.9)
    return save(fig, path)
