"""Spherical signals drawn as the tutorial's 3D lobes: one structure, or a structure and its rotated copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..sphere import check_signals, peak_directions, signal_values, sphere_grid
from .figure import PANEL_INCHES, as_points, coloured_surface, equal_aspect_3d, new_figure, save, wrap

#: Surface grid of the 3D plots: polar and azimuthal samples.
_SURFACE_RES = (30, 60)


def _surface(signal: np.ndarray, lmax: int, relu: bool) -> tuple[np.ndarray, np.ndarray]:
    """Surface points radius(u) * u (P, A, 3) and values f (P, A) of one signal on a polar grid.

    :param signal: ((lmax+1)**2,) signal in e3nn's basis.
    :param lmax: largest degree l.
    :param relu: radius relu(f) if True (outputs), |f| if False (features).
    """
    u = sphere_grid(*_SURFACE_RES)
    f = signal_values(signal[None, :], lmax, u)[0]
    radius = np.maximum(f, 0.0) if relu else np.abs(f)
    return radius[..., None] * u, f


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
    surfaces = [_surface(s, lmax, relu=True) for s in signals]
    fmax = max((float(np.maximum(f, 0).max()) for _, f in surfaces), default=0.0)
    if scale is None:
        scale = _auto_scale(fmax, positions)
    drawn = [positions if end_positions is None else np.concatenate([positions, end_positions])]
    drawn += _draw_lobes(ax, positions, surfaces, fmax, scale)
    handles, values, decoded, arrows = _draw_points_and_arrows(ax, positions, signals, lmax, end_positions,
                                                               displacements, scale)
    everything = np.concatenate(drawn + arrows)
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
    _style_3d_axes(ax, everything, view, min_fraction)
    if scale != 1.0:
        title = f"{title}\n(lobes x{scale:.2g})" if title else f"lobes x{scale:.2g}"
    if title:
        ax.set_title(wrap(title, 44), fontsize=12)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.04), ncol=2, fontsize=8, frameon=False)


def _draw_lobes(ax: Any, positions: np.ndarray, surfaces: list, fmax: float, scale: float) -> list[np.ndarray]:
    """One relu(f) surface per point, coloured by f on viridis; returns the drawn points (for the limits)."""
    import matplotlib
    from matplotlib import colors

    norm = colors.Normalize(0.0, fmax if fmax > 0 else 1.0)
    cmap = matplotlib.colormaps["viridis"]
    drawn = []
    for centre, (xyz, f) in zip(positions, surfaces):
        pts = centre + scale * xyz
        drawn.append(pts.reshape(-1, 3))
        coloured_surface(ax, pts[..., 0], pts[..., 1], pts[..., 2], cmap(norm(np.maximum(f, 0))), alpha=0.5, zorder=1)
    return drawn


def _draw_points_and_arrows(ax: Any, positions: np.ndarray, signals: np.ndarray, lmax: int,
                            end_positions: np.ndarray | None, displacements: np.ndarray | None, scale: float):
    """Start (and end) points, the decoded peaks (red) and the true displacements (black).

    :returns: legend handles, peak values (N,), decoded arrows (N, 3) as drawn (scaled), and the arrow
        tips (for the limits).
    """
    from matplotlib.lines import Line2D

    ax.scatter(*positions.T, s=45, color="C0", depthshade=False, zorder=3)
    handles = [Line2D([], [], ls="none", marker="o", color="C0", label="start")]
    if end_positions is not None:
        ax.scatter(*end_positions.T, s=55, marker="s", color="C1", depthshade=False, zorder=3)
        handles.append(Line2D([], [], ls="none", marker="s", color="C1", label="end"))

    directions, values = peak_directions(signals, lmax)
    decoded = scale * np.maximum(values, 0.0)[:, None] * directions
    ax.quiver(*positions.T, *decoded.T, color="crimson", lw=2.4, arrow_length_ratio=0.2, zorder=4)
    tips = [positions + decoded]
    label = "decoded peak (value)" if scale == 1.0 else f"decoded peak (value) x{scale:.2g}"
    handles.append(Line2D([], [], color="crimson", lw=2.4, label=label))
    if displacements is not None:
        ax.quiver(*positions.T, *displacements.T, color="black", lw=1.0, arrow_length_ratio=0.12, zorder=5)
        tips.append(positions + displacements)
        handles.append(Line2D([], [], color="black", lw=1.0, label="true displacement"))
    return handles, values, decoded, tips


def _style_3d_axes(ax: Any, everything: np.ndarray, view: tuple[float, float], min_fraction: float) -> None:
    """True-shape limits, the camera, and x, y, z axes in Å with few ticks."""
    from matplotlib.ticker import MaxNLocator

    equal_aspect_3d(ax, everything, min_fraction=min_fraction)
    ax.view_init(elev=view[0], azim=view[1])
    for axis, name in ((ax.xaxis, "x"), (ax.yaxis, "y"), (ax.zaxis, "z")):
        axis.set_major_locator(MaxNLocator(4))
        axis.set_label_text(f"{name} (Å)", fontsize=9)
        axis.labelpad = 2
    ax.tick_params(labelsize=7, pad=0)


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
    pos = as_points(positions, "positions")
    sig = check_signals(signals, lmax, len(pos))
    end = None if end_positions is None else as_points(end_positions, "end_positions")
    disp = None if displacements is None else as_points(displacements, "displacements")
    fig = new_figure(PANEL_INCHES + 1.0, PANEL_INCHES + 0.5)
    ax = fig.add_subplot(projection="3d", computed_zorder=False)
    _draw_signals(ax, pos, sig, lmax, end, disp, scale, view, title)
    return save(fig, path)


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
    pos = as_points(positions, "positions")
    rpos = as_points(rotated_positions, "rotated_positions")
    sig = check_signals(signals, lmax, len(pos))
    rsig = check_signals(rotated_signals, lmax, len(rpos))
    end = None if end_positions is None else as_points(end_positions, "end_positions")
    rend = None if rotated_end_positions is None else as_points(rotated_end_positions, "rotated_end_positions")
    if scale is None:
        _, values = peak_directions(sig, lmax)
        scale = _auto_scale(float(np.maximum(values, 0).max(initial=0.0)), pos)
    fig = new_figure(2 * (PANEL_INCHES + 1.0), PANEL_INCHES + 0.5)
    for k, (p, s, e) in enumerate(((pos, sig, end), (rpos, rsig, rend))):
        ax = fig.add_subplot(1, 2, k + 1, projection="3d", computed_zorder=False)
        _draw_signals(ax, p, s, lmax, e, None, scale, (35.0, -60.0), titles[k], min_fraction=1.0)
    return save(fig, path)
