"""The canvas every figure is drawn on: a bare Agg figure (no pyplot, no global backend), PNG output, shared helpers.

matplotlib is imported inside the functions, so importing the figures stays light.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

#: Resolution of every figure, dots per inch.
DPI = 120


#: Width and height of one panel, inches.
PANEL_INCHES = 5.0

#: ``plot_surface`` style of the sphere surfaces (features and signals): every grid sample, flat faces.
SURFACE_STYLE = {"rstride": 1, "cstride": 1, "linewidth": 0, "antialiased": False, "shade": False}


def coloured_surface(ax: Any, x: np.ndarray, y: np.ndarray, z: np.ndarray, facecolors: np.ndarray, **kwargs: Any):
    """``ax.plot_surface(x, y, z, facecolors=facecolors, **SURFACE_STYLE, **kwargs)``, the same pixels, ~10× faster.

    Given ``facecolors``, matplotlib builds the faces in a Python loop and converts each face's
    colour on its own (150,000 calls per demo: half of ``symcheck demo``'s time). Without them it
    builds all faces in one vectorised call; the colours of face (r, c) = facecolors[r, c] are then
    set as one array, which is what the slow path produces.

    :param ax: a 3D axes.
    :param x, y, z: (R, C) surface grid, Å.
    :param facecolors: (R, C, 4) RGBA per grid sample (the last row and column are not used).
    :param kwargs: further ``plot_surface`` keywords (alpha, zorder).
    """
    faces = np.asarray(facecolors)[:-1, :-1].reshape(-1, np.shape(facecolors)[-1])
    poly = ax.plot_surface(x, y, z, color="k", **SURFACE_STYLE, **kwargs)
    poly.set_facecolor(faces)
    poly.set_edgecolor(faces)
    return poly


def new_figure(width: float, height: float) -> Figure:
    """A bare Agg-backed figure (no pyplot, no global backend switch).

    :param width: figure width, inches.
    :param height: figure height, inches.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path: str | Path) -> Path:
    """Write fig as a PNG to path (parent folders created) and return the path.

    :param fig: the figure.
    :param path: output file; a missing ``.png`` suffix is not added, the format is always PNG.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.15)
    return path


def as_points(a: Any, name: str) -> np.ndarray:
    """a as a float64 (N, 3) array, or a clear error.

    :param a: array-like of points, Å.
    :param name: argument name for the error message.
    """
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3), got {arr.shape}")
    return arr


def wrap(title: str, width: int = 34) -> str:
    """title wrapped to lines of at most width characters (keeps panel titles inside 5 inches).

    :param title: the title.
    :param width: characters per line.
    """
    return "\n".join(textwrap.wrap(title, width)) if title else ""


def equal_aspect_3d(ax: Any, points: np.ndarray, min_fraction: float = 0.25, zoom: float = 0.95) -> None:
    """Limits from the data with one length scale on all three axes (a true-shape 3D plot).

    :param ax: a 3D axes.
    :param points: (M, 3) everything drawn, Å.
    :param min_fraction: smallest axis span as a fraction of the largest (keeps flat data visible;
        1 gives a cube).
    :param zoom: matplotlib's box zoom (1 fills the axes).
    """
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = hi - lo
    biggest = max(float(span.max()), 1e-9)
    span = np.maximum(span, min_fraction * biggest) * 1.08
    mid = 0.5 * (lo + hi)
    ax.set_xlim(mid[0] - span[0] / 2, mid[0] + span[0] / 2)
    ax.set_ylim(mid[1] - span[1] / 2, mid[1] + span[1] / 2)
    ax.set_zlim(mid[2] - span[2] / 2, mid[2] + span[2] / 2)
    ax.set_box_aspect(tuple(span / span.max()), zoom=zoom)
