"""One irrep feature drawn on the sphere, as in the tutorial's cell 20, with its cut by the x-y plane."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..o3 import spherical_harmonics
from ..sphere import sphere_grid
from .figure import PANEL_INCHES, coloured_surface, equal_aspect_3d, new_figure, save


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
    v = np.asarray(vector, dtype=np.float64).ravel()
    if v.shape != (2 * l + 1,):
        raise ValueError(f"a degree-{l} feature has {2 * l + 1} components, got {v.shape}")
    norm_v = float(np.linalg.norm(v))
    if norm_v == 0:
        raise ValueError("the feature vector is zero")
    v = v / norm_v

    def f_of(u: np.ndarray) -> np.ndarray:
        """f at unit vectors u (M, 3)."""
        y0 = spherical_harmonics([0], u, normalize=True, normalization="integral")[:, 0]
        return offset * y0 + amplitude * (spherical_harmonics([l], u, normalize=True, normalization="integral") @ v)

    fig = new_figure(2 * PANEL_INCHES + 0.8, PANEL_INCHES + 0.3)
    _draw_surface(fig, f_of)
    _draw_section(fig, f_of, offset)
    if not title:
        sign = "-" if amplitude < 0 else "+"
        title = f"Feature l={l}: f = {offset:g}·Y00 {sign} {abs(amplitude):g}·v̂·Y{l}"
    fig.suptitle(title, fontsize=13)
    return save(fig, path)


def _draw_surface(fig: Any, f_of) -> None:
    """Left panel: the surface |f(u)| u in 3D, coloured by f (diverging about 0 when f changes sign)."""
    import matplotlib
    from matplotlib import cm, colors

    u = sphere_grid(48, 96)
    f = f_of(u.reshape(-1, 3)).reshape(u.shape[:2])
    xyz = np.abs(f)[..., None] * u
    ax = fig.add_subplot(1, 2, 1, projection="3d", computed_zorder=False)
    fmin, fmax = float(f.min()), float(f.max())
    if fmin < 0 < fmax:
        big = max(-fmin, fmax)
        cnorm: colors.Normalize = colors.TwoSlopeNorm(vcenter=0.0, vmin=-big, vmax=big)
        cmap = matplotlib.colormaps["coolwarm"]
    else:
        cnorm = colors.Normalize(fmin, fmax if fmax > fmin else fmin + 1e-12)
        cmap = matplotlib.colormaps["viridis"]
    coloured_surface(ax, xyz[..., 0], xyz[..., 1], xyz[..., 2], cmap(cnorm(f)), zorder=1)
    reach = 1.3 * max(float(np.abs(xyz).max()), 1e-12)
    for k, name in enumerate("xyz"):
        e = np.zeros(3)
        e[k] = reach
        ax.plot(*np.stack([-e, e]).T, color="0.3", lw=1.0, zorder=0)
        ax.text(*(1.1 * e), name, fontsize=13, ha="center", va="center", zorder=5)
    equal_aspect_3d(ax, np.array([[-reach] * 3, [reach] * 3]), min_fraction=1.0, zoom=1.35)
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


def _draw_section(fig: Any, f_of, offset: float) -> None:
    """Right panel: the cut by the x-y plane, solid where f > 0, dashed where f < 0, offset·Y00 dotted."""
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
