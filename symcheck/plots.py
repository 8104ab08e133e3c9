"""Figures for symcheck: the tutorial's task sketch, loss curves and spherical-signal plots.

Every function takes plain numpy arrays (so it works with any trainer), writes one PNG and returns
its path. Figures are drawn on a bare :class:`matplotlib.figure.Figure` with the Agg canvas: pyplot
is never imported, the global matplotlib backend is never switched, and no interactive backend is
loaded. matplotlib, torch and e3nn are imported inside the functions, so ``import symcheck`` and
``import symcheck.plots`` stay light.

Spherical signals use e3nn's conventions, as ``e3nn.io.SphericalTensor(lmax, 1, -1)`` does
(irreps 0e+1o+2e+...): a signal ``s`` of length ``(lmax+1)**2`` is the function on the unit sphere

    f(u) = sum_k s_k Y_k(u),   Y = o3.spherical_harmonics(range(lmax+1), u, normalize=True,
                                                       normalization="integral"),

which is ``SphericalTensor.signal_xyz``. With this normalisation ``with_peaks_at(d)`` has its peak
at direction d with value |d|, so a displacement encoded that way decodes as ``value * direction``
(see :func:`peak_directions`). Surfaces are drawn as ``SphericalTensor.plot`` draws them: the point
``center + radius(u) * u`` with ``radius = relu(f)`` for outputs (the tutorial's default) or
``|f|`` for a feature (the tutorial's ``relu=False``), coloured by f.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "task_figure",
    "loss_curves",
    "signals_figure",
    "equivariance_figure",
    "feature_figure",
    "peak_directions",
    "signal_values",
]

#: Resolution of every figure, dots per inch.
DPI = 120
#: Width and height of one panel, inches.
PANEL_INCHES = 5.0
#: Points of the Fibonacci grid that seeds the peak search (spacing about 3.2 degrees).
_PEAK_GRID = 4000
#: Iterations of the pattern search that refines each peak (the step shrinks by 0.6 each time).
_PEAK_REFINE = 40
#: Surface grid of the 3D plots: polar and azimuthal samples.
_SURFACE_RES = (30, 60)


# ------------------------------------------------------------------------------------ helpers


def _new_figure(width: float, height: float) -> Figure:
    """A bare Agg-backed figure (no pyplot, no global backend switch).

    :param width: figure width, inches.
    :param height: figure height, inches.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | Path) -> Path:
    """Write fig as a PNG to path (parent folders created) and return the path.

    :param fig: the figure.
    :param path: output file; a missing ``.png`` suffix is not added, the format is always PNG.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.15)
    return path


def _as_points(a: Any, name: str) -> np.ndarray:
    """a as a float64 (N, 3) array, or a clear error.

    :param a: array-like of points, Å.
    :param name: argument name for the error message.
    """
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3), got {arr.shape}")
    return arr


def _as_signals(signals: Any, lmax: int, n: int | None = None) -> np.ndarray:
    """signals as a float64 (N, (lmax+1)**2) array, checked against lmax (and N when given).

    :param signals: array-like of spherical signals in e3nn's basis.
    :param lmax: largest degree l of the signals.
    :param n: expected number of signals, or None.
    """
    arr = np.asarray(signals, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    dim = (lmax + 1) ** 2
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"signals must have shape (N, {dim}) for lmax={lmax}, got {np.shape(signals)}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"got {arr.shape[0]} signals for {n} points")
    return arr


def _harmonics(ls: Sequence[int], u: np.ndarray) -> np.ndarray:
    """e3nn's integral-normalised spherical harmonics of degrees ls at directions u (..., 3).

    :param ls: the degrees, in order (their blocks are concatenated as e3nn does).
    :param u: directions; normalised here, lengths are ignored.
    """
    from .o3 import spherical_harmonics

    return spherical_harmonics(list(ls), np.asarray(u, dtype=np.float64), normalize=True, normalization="integral")


def signal_values(signals: Any, lmax: int, directions: Any) -> np.ndarray:
    """Values f_i(u) of spherical signals at unit directions, as ``SphericalTensor.signal_xyz``.

    :param signals: (N, (lmax+1)**2) signals in e3nn's basis of ``SphericalTensor(lmax, 1, -1)``.
    :param lmax: largest degree l of the signals.
    :param directions: (..., 3) directions (normalised here).
    :return: (N, ...) values, in the signals' units.
    """
    s = _as_signals(signals, lmax)
    u = np.asarray(directions, dtype=np.float64)
    y = _harmonics(range(lmax + 1), u.reshape(-1, 3))
    return (s @ y.T).reshape((s.shape[0],) + u.shape[:-1])


def _fibonacci_sphere(n: int) -> np.ndarray:
    """n nearly uniform unit vectors (n, 3) on a Fibonacci spiral.

    :param n: number of points.
    """
    k = np.arange(n) + 0.5
    z = 1.0 - 2.0 * k / n
    rho = np.sqrt(1.0 - z * z)
    phi = k * math.pi * (3.0 - math.sqrt(5.0))
    return np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=-1)


def _tangent_basis(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors (N, 3) orthogonal to each unit vector u (N, 3) and to each other.

    :param u: unit vectors.
    """
    helper = np.where(np.abs(u[:, :1]) < 0.9, np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0]]))
    e1 = np.cross(u, helper)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    return e1, np.cross(u, e1)


def peak_directions(signals: Any, lmax: int) -> tuple[np.ndarray, np.ndarray]:
    """The direction maximising each spherical signal, and the signal's value there.

    A Fibonacci grid of 4000 directions seeds the search and a shrinking 5x5 pattern search on the
    tangent plane refines it to far below a degree. For a displacement encoded with
    ``SphericalTensor(lmax, 1, -1).with_peaks_at(d)`` this returns d/|d| and |d|, so the decoded
    displacement is ``values[:, None] * directions``.

    :param signals: (N, (lmax+1)**2) signals in e3nn's basis (a single signal may be 1-D).
    :param lmax: largest degree l of the signals.
    :return: directions (N, 3), unit vectors in the structure's x, y, z frame; values (N,), the
        maxima, in the signals' units (Å for encoded displacements). A zero signal gives value 0 and
        an arbitrary direction.
    """
    s = _as_signals(signals, lmax)
    ls = range(lmax + 1)
    grid = _fibonacci_sphere(_PEAK_GRID)
    values = s @ _harmonics(ls, grid).T  # (N, G)
    best = np.argmax(values, axis=1)
    u = grid[best].copy()
    f = values[np.arange(len(s)), best]

    offsets = np.linspace(-1.0, 1.0, 5)
    a, b = (m.ravel() for m in np.meshgrid(offsets, offsets))
    step = math.sqrt(4.0 * math.pi / _PEAK_GRID)  # grid spacing, rad
    for _ in range(_PEAK_REFINE):
        e1, e2 = _tangent_basis(u)
        cand = u[:, None, :] + step * (a[None, :, None] * e1[:, None, :] + b[None, :, None] * e2[:, None, :])
        cand /= np.linalg.norm(cand, axis=-1, keepdims=True)  # (N, 25, 3)
        y = _harmonics(ls, cand.reshape(-1, 3)).reshape(len(s), len(a), -1)
        fc = np.einsum("nk,nck->nc", s, y)
        j = np.argmax(fc, axis=1)
        better = fc[np.arange(len(s)), j] > f
        u = np.where(better[:, None], cand[np.arange(len(s)), j], u)
        f = np.where(better, fc[np.arange(len(s)), j], f)
        step *= 0.6
    return u, f


def _surface(signal: np.ndarray, lmax: int, relu: bool) -> tuple[np.ndarray, np.ndarray]:
    """Surface points radius(u) * u (P, A, 3) and values f (P, A) of one signal on a polar grid.

    :param signal: ((lmax+1)**2,) signal in e3nn's basis.
    :param lmax: largest degree l.
    :param relu: radius relu(f) if True (outputs), |f| if False (features).
    """
    n_pol, n_az = _SURFACE_RES
    theta = np.linspace(0.0, math.pi, n_pol)
    phi = np.linspace(0.0, 2.0 * math.pi, n_az)
    th, ph = np.meshgrid(theta, phi, indexing="ij")
    u = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], axis=-1)
    f = signal_values(signal[None, :], lmax, u)[0]
    radius = np.maximum(f, 0.0) if relu else np.abs(f)
    return radius[..., None] * u, f


def _equal_aspect_3d(ax: Any, points: np.ndarray, min_fraction: float = 0.25, zoom: float = 0.95) -> None:
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


def _wrap(title: str, width: int = 34) -> str:
    """title wrapped to lines of at most width characters (keeps panel titles inside 5 inches).

    :param title: the title.
    :param width: characters per line.
    """
    return "\n".join(textwrap.wrap(title, width)) if title else ""


# ------------------------------------------------------------------------------------ 1. tasks


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
    fig = _new_figure(PANEL_INCHES * len(panels), PANEL_INCHES + 0.6)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (start, end, title, marker) in zip(axes, panels):
        start, end = _as_points(start, "start"), _as_points(end, "end")
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
        ax.set_title(_wrap(title), fontsize=13)
        ax.set_aspect("equal")
        ax.margins(0.15)
        ax.set_axis_off()
    return _save(fig, path)


# ------------------------------------------------------------------------------------ 2. losses


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
    fig = _new_figure(1.5 * PANEL_INCHES, PANEL_INCHES)
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
    return _save(fig, path)


# ------------------------------------------------------------------------------------ 3./4. signals


def _auto_scale(radii_max: float, positions: np.ndarray) -> float:
    """Lobe scale: 1 (radius in Å = signal value) unless lobes would reach past 3/4 of the way to a neighbour.

    :param radii_max: largest relu(f) over all signals.
    :param positions: (N, 3) the points the lobes sit on, Å.
    """
    if radii_max <= 1e-12 or len(positions) < 2:
        return 1.0
    dist = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=-1)
    nearest = float(dist[~np.eye(len(positions), dtype=bool)].min())
    if nearest <= 1e-9 or radii_max <= 0.75 * nearest:
        return 1.0
    return 0.75 * nearest / radii_max


def _draw_signals(
    ax: Any,
    positions: np.ndarray,
    signals: np.ndarray,
    lmax: int,
    end_positions: np.ndarray | None,
    displacements: np.ndarray | None,
    scale: float | None,
    view: tuple[float, float],
    title: str,
    min_fraction: float = 0.25,
) -> None:
    """Draw lobes, points, decoded peaks and true displacements on one 3D axes.

    :param ax: a 3D axes.
    :param positions: (N, 3) start points, Å.
    :param signals: (N, (lmax+1)**2) output signals.
    :param lmax: largest degree l.
    :param end_positions: (N, 3) end points, Å, or None.
    :param displacements: (N, 3) true displacements, Å, or None.
    :param scale: Å of lobe radius per unit of signal, or None for :func:`_auto_scale`.
    :param view: (elevation, azimuth), degrees.
    :param title: axes title.
    :param min_fraction: smallest axis span relative to the largest (1: a cube).
    """
    import matplotlib
    from matplotlib import colors
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    surfaces = [_surface(s, lmax, relu=True) for s in signals]
    fmax = max((float(np.maximum(f, 0).max()) for _, f in surfaces), default=0.0)
    structure = positions if end_positions is None else np.concatenate([positions, end_positions])
    if scale is None:
        scale = _auto_scale(fmax, positions)
    norm = colors.Normalize(0.0, fmax if fmax > 0 else 1.0)
    cmap = matplotlib.colormaps["viridis"]
    drawn = [structure]
    for centre, (xyz, f) in zip(positions, surfaces):
        pts = centre + scale * xyz
        drawn.append(pts.reshape(-1, 3))
        ax.plot_surface(
            pts[..., 0],
            pts[..., 1],
            pts[..., 2],
            facecolors=cmap(norm(np.maximum(f, 0))),
            rstride=1,
            cstride=1,
            linewidth=0,
            antialiased=False,
            shade=False,
            alpha=0.5,
            zorder=1,
        )

    ax.scatter(*positions.T, s=45, color="C0", depthshade=False, zorder=3)
    handles = [Line2D([], [], ls="none", marker="o", color="C0", label="start")]
    if end_positions is not None:
        ax.scatter(*end_positions.T, s=55, marker="s", color="C1", depthshade=False, zorder=3)
        handles.append(Line2D([], [], ls="none", marker="s", color="C1", label="end"))

    directions, values = peak_directions(signals, lmax)
    decoded = scale * np.maximum(values, 0.0)[:, None] * directions
    ax.quiver(*positions.T, *decoded.T, color="crimson", lw=2.4, arrow_length_ratio=0.2, zorder=4)
    drawn.append(positions + decoded)
    label = "decoded peak (value)" if scale == 1.0 else f"decoded peak (value) x{scale:.2g}"
    handles.append(Line2D([], [], color="crimson", lw=2.4, label=label))
    if displacements is not None:
        ax.quiver(*positions.T, *displacements.T, color="black", lw=1.0, arrow_length_ratio=0.12, zorder=5)
        drawn.append(positions + displacements)
        handles.append(Line2D([], [], color="black", lw=1.0, label="true displacement"))
    everything = np.concatenate(drawn)
    lift = 0.07 * max(float(np.ptp(everything, axis=0).max()), 1e-9)
    for p, d, v in zip(positions, decoded, values):
        ax.text(
            *(p + d + np.array([0.0, 0.0, lift])),
            f"{v:.2f}",
            color="crimson",
            fontsize=8,
            ha="center",
            va="bottom",
            zorder=6,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.6},
        )

    _equal_aspect_3d(ax, everything, min_fraction=min_fraction)
    ax.view_init(elev=view[0], azim=view[1])
    for axis, name in ((ax.xaxis, "x"), (ax.yaxis, "y"), (ax.zaxis, "z")):
        axis.set_major_locator(MaxNLocator(4))
        axis.set_label_text(f"{name} (Å)", fontsize=9)
        axis.labelpad = 2
    ax.tick_params(labelsize=7, pad=0)
    if scale != 1.0:
        title = f"{title}\n(lobes x{scale:.2g})" if title else f"lobes x{scale:.2g}"
    if title:
        ax.set_title(_wrap(title, 44), fontsize=12)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.04), ncol=2, fontsize=8, frameon=False)


def signals_figure(
    positions: Any,
    signals: Any,
    lmax: int,
    path: str | Path,
    title: str = "",
    end_positions: Any = None,
    displacements: Any = None,
    scale: float | None = None,
    view: tuple[float, float] = (35.0, -60.0),
) -> Path:
    """The network's output signal at each point, drawn as the tutorial's 3D lobes.

    At point i the surface ``positions[i] + scale * relu(f_i(u)) * u`` is coloured by f_i (viridis).
    A red arrow runs from each point to its decoded displacement, ``value * direction`` of the
    signal's peak (:func:`peak_directions`), labelled with the peak value; with scale 1 a lobe that
    encodes a displacement reaches exactly the end point. All three axes share one length scale.

    :param positions: (N, 3) points the signals live on (the start structure), Å.
    :param signals: (N, (lmax+1)**2) signals in e3nn's basis of ``SphericalTensor(lmax, 1, -1)``.
    :param lmax: largest degree l of the signals.
    :param path: output PNG path.
    :param title: figure title.
    :param end_positions: (N, 3) target points (drawn as orange squares), Å, or None.
    :param displacements: (N, 3) true displacements (black dashed arrows), Å, or None.
    :param scale: Å of lobe radius per unit of signal; None: 1 unless the largest lobe would reach
        past 3/4 of the nearest-neighbour distance, then shrunk to that (the factor is shown in the
        title and legend; peak values are always printed unscaled).
    :param view: camera (elevation, azimuth), degrees.
    :return: the path written.
    """
    pos = _as_points(positions, "positions")
    sig = _as_signals(signals, lmax, len(pos))
    end = None if end_positions is None else _as_points(end_positions, "end_positions")
    disp = None if displacements is None else _as_points(displacements, "displacements")
    fig = _new_figure(PANEL_INCHES + 1.0, PANEL_INCHES + 0.5)
    ax = fig.add_subplot(projection="3d", computed_zorder=False)
    _draw_signals(ax, pos, sig, lmax, end, disp, scale, view, title)
    return _save(fig, path)


def equivariance_figure(
    positions: Any,
    signals: Any,
    rotated_positions: Any,
    rotated_signals: Any,
    lmax: int,
    path: str | Path,
    end_positions: Any = None,
    rotated_end_positions: Any = None,
    titles: tuple[str, str] = ("Output on the original structure", "Output on the randomly rotated structure"),
    scale: float | None = None,
) -> Path:
    """Two panels side by side: the output on a structure and on a rotated copy (tutorial cell 10).

    For an equivariant network the right panel is the left one rotated. Both panels share one lobe
    scale so their sizes compare directly; the style is that of :func:`signals_figure`.

    :param positions: (N, 3) original points, Å.
    :param signals: (N, (lmax+1)**2) output on the original points.
    :param rotated_positions: (N, 3) rotated points, Å.
    :param rotated_signals: (N, (lmax+1)**2) output on the rotated points.
    :param lmax: largest degree l of the signals.
    :param path: output PNG path.
    :param end_positions: (N, 3) original target points, Å, or None.
    :param rotated_end_positions: (N, 3) rotated target points, Å, or None.
    :param titles: the two panel titles.
    :param scale: Å of lobe radius per unit of signal, or None (as in :func:`signals_figure`,
        decided on the original panel and used for both).
    :return: the path written.
    """
    pos = _as_points(positions, "positions")
    rpos = _as_points(rotated_positions, "rotated_positions")
    sig = _as_signals(signals, lmax, len(pos))
    rsig = _as_signals(rotated_signals, lmax, len(rpos))
    end = None if end_positions is None else _as_points(end_positions, "end_positions")
    rend = None if rotated_end_positions is None else _as_points(rotated_end_positions, "rotated_end_positions")
    if scale is None:
        _, values = peak_directions(sig, lmax)
        scale = _auto_scale(float(np.maximum(values, 0).max(initial=0.0)), pos)
    fig = _new_figure(2 * (PANEL_INCHES + 1.0), PANEL_INCHES + 0.5)
    for k, (p, s, e) in enumerate(((pos, sig, end), (rpos, rsig, rend))):
        ax = fig.add_subplot(1, 2, k + 1, projection="3d", computed_zorder=False)
        _draw_signals(ax, p, s, lmax, e, None, scale, (35.0, -60.0), titles[k], min_fraction=1.0)
    return _save(fig, path)


# ------------------------------------------------------------------------------------ 5. feature


def feature_figure(
    vector: Any,
    l: int,
    path: str | Path,
    title: str = "",
    offset: float = 1.0,
    amplitude: float = -0.1,
) -> Path:
    """One irrep feature drawn on the sphere as in tutorial cell 20 (``relu=False``), with a section.

    The drawn function is ``f(u) = offset * Y_00(u) + amplitude * (v/|v|) . Y_l(u)`` in e3nn's
    integral normalisation (v normalised to unit length, so ``amplitude`` plays the role of the
    tutorial's ``signal[8] = -0.1`` and ``offset`` that of its ``signal[0] = 1``). Left: the surface
    ``|f(u)| * u`` in 3D; right: its cut by the x-y plane (z = 0), solid where f > 0, dashed where
    f < 0, with the unit-offset circle ``offset * Y_00`` dotted for reference. When f keeps one sign
    the surface is coloured by f on viridis scaled to its range (as the tutorial's plotly surface);
    when f changes sign, on a diverging map centred at 0 (red positive, blue negative). The defaults
    reproduce the tutorial: for ``x**2 - y**2`` an ellipsoid elongated along y and squished along x.
    ``offset=0, amplitude=1`` draws the bare feature (its lobes of either sign).

    :param vector: (2l+1,) the feature in e3nn's basis, e.g.
        ``symcheck.polynomials.vector_from_polynomial("x**2 - y**2", 2)``; only its direction matters.
    :param l: the feature's degree.
    :param path: output PNG path.
    :param title: figure title; the default names the drawn combination.
    :param offset: coefficient of Y_00, the isotropic part (dimensionless; default 1, the tutorial's).
    :param amplitude: coefficient of the normalised feature (dimensionless; default -0.1, the
        tutorial's).
    :return: the path written.
    """
    import matplotlib
    from matplotlib import cm, colors

    v = np.asarray(vector, dtype=np.float64).ravel()
    if v.shape != (2 * l + 1,):
        raise ValueError(f"a degree-{l} feature has {2 * l + 1} components, got {v.shape}")
    norm_v = float(np.linalg.norm(v))
    if norm_v == 0:
        raise ValueError("the feature vector is zero")
    v = v / norm_v

    def f_of(u: np.ndarray) -> np.ndarray:
        """f at unit vectors u (M, 3)."""
        return offset * _harmonics([0], u)[:, 0] + amplitude * (_harmonics([l], u) @ v)

    n_pol, n_az = 48, 96
    theta = np.linspace(0.0, math.pi, n_pol)
    phi = np.linspace(0.0, 2.0 * math.pi, n_az)
    th, ph = np.meshgrid(theta, phi, indexing="ij")
    u = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], axis=-1)
    f = f_of(u.reshape(-1, 3)).reshape(n_pol, n_az)
    xyz = np.abs(f)[..., None] * u

    fig = _new_figure(2 * PANEL_INCHES + 0.8, PANEL_INCHES + 0.3)
    ax = fig.add_subplot(1, 2, 1, projection="3d", computed_zorder=False)
    fmin, fmax = float(f.min()), float(f.max())
    if fmin < 0 < fmax:
        big = max(-fmin, fmax)
        cnorm: colors.Normalize = colors.TwoSlopeNorm(vcenter=0.0, vmin=-big, vmax=big)
        cmap = matplotlib.colormaps["coolwarm"]
    else:
        cnorm = colors.Normalize(fmin, fmax if fmax > fmin else fmin + 1e-12)
        cmap = matplotlib.colormaps["viridis"]
    ax.plot_surface(
        xyz[..., 0],
        xyz[..., 1],
        xyz[..., 2],
        facecolors=cmap(cnorm(f)),
        rstride=1,
        cstride=1,
        linewidth=0,
        antialiased=False,
        shade=False,
        zorder=1,
    )
    reach = 1.3 * max(float(np.abs(xyz).max()), 1e-12)
    for k, name in enumerate("xyz"):
        e = np.zeros(3)
        e[k] = reach
        ax.plot(*np.stack([-e, e]).T, color="0.3", lw=1.0, zorder=0)
        ax.text(*(1.1 * e), name, fontsize=13, ha="center", va="center", zorder=5)
    _equal_aspect_3d(ax, np.array([[-reach] * 3, [reach] * 3]), min_fraction=1.0, zoom=1.35)
    ax.view_init(elev=35, azim=-70)
    ax.set_axis_off()
    ax.set_title("on the sphere: radius |f(u)|", fontsize=11)
    fig.colorbar(
        cm.ScalarMappable(norm=cnorm, cmap=cmap),
        ax=ax,
        orientation="horizontal",
        shrink=0.6,
        pad=0.02,
        aspect=30,
        label="f(u)",
    )

    ax2 = fig.add_subplot(1, 2, 2)
    az = np.linspace(0.0, 2.0 * math.pi, 721)
    ring = np.stack([np.cos(az), np.sin(az), np.zeros_like(az)], axis=-1)
    fr = f_of(ring)
    for sign, style in ((1.0, "-"), (-1.0, "--")):
        r = np.where(sign * fr > 0, np.abs(fr), np.nan)
        ax2.plot(
            r * ring[:, 0],
            r * ring[:, 1],
            style,
            color="C3" if sign > 0 else "C0",
            lw=2,
            label="f > 0" if sign > 0 else "f < 0",
        )
    if offset != 0:
        r0 = abs(offset) / math.sqrt(4.0 * math.pi)
        ax2.plot(r0 * ring[:, 0], r0 * ring[:, 1], ":", color="0.5", lw=1.2, label=f"{offset:g}·Y00 alone")
    lim = 1.15 * max(float(np.abs(fr).max()), abs(offset) / math.sqrt(4.0 * math.pi), 1e-12)
    ax2.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax2.axvline(0, color="0.8", lw=0.8, zorder=0)
    ax2.set_xlim(-lim, lim)
    ax2.set_ylim(-lim, lim)
    ax2.set_aspect("equal")
    ax2.set_xlabel("x")
    ax2.set_ylabel("y")
    ax2.set_title("cut by the x-y plane (z = 0)", fontsize=11)
    handles, labels = ax2.get_legend_handles_labels()
    keep = [i for i, h in enumerate(handles) if np.isfinite(np.asarray(h.get_xdata(), float)).any()]
    ax2.legend([handles[i] for i in keep], [labels[i] for i in keep], loc="upper right", fontsize=8)

    if not title:
        sign = "-" if amplitude < 0 else "+"
        title = f"Feature l={l}: f = {offset:g}·Y00 {sign} {abs(amplitude):g}·v̂·Y{l}"
    fig.suptitle(title, fontsize=13)
    return _save(fig, path)
