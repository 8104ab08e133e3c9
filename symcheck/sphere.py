"""Functions on the sphere: the tutorial's spherical signals evaluated, and their peaks found (numpy only).

A signal s of length (lmax+1)² in the basis of ``SphericalTensor(lmax, 1, -1)`` (irreps
0e+1o+2e+…) is the function f(u) = Σ_k s_k Y_k(u) with integral-normalised harmonics
(:func:`symcheck.o3.spherical_harmonics`), which is ``SphericalTensor.signal_xyz``;
``with_peaks_at(d)`` has its peak at direction d with value |d|, so a displacement encoded that
way decodes as ``value * direction`` (:func:`peak_directions`). The figures (:mod:`symcheck.plots`)
draw what this module computes.
"""

from __future__ import annotations

import math

import numpy as np

from .o3 import spherical_harmonics

#: Points of the Fibonacci grid that seeds the peak search (spacing about 3.2 degrees).
_PEAK_GRID = 4000
#: Iterations of the pattern search that refines each peak (the step shrinks by 0.6 each time).
_PEAK_REFINE = 40


def check_signals(signals, lmax: int, n: int | None = None) -> np.ndarray:
    """signals as a float64 (N, (lmax+1)**2) array, checked against lmax (and N when given).

    :param signals: array-like of spherical signals in e3nn's basis (a single signal may be 1-D).
    :param lmax: largest degree l of the signals.
    :param n: expected number of signals, or None.
    :raises ValueError: for a wrong shape.
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


def _signal_harmonics(lmax: int, u: np.ndarray) -> np.ndarray:
    """Integral-normalised harmonics of degrees 0 … lmax at directions u (M, 3), normalised here."""
    return spherical_harmonics(list(range(lmax + 1)), u, normalize=True, normalization="integral")


def signal_values(signals, lmax: int, directions) -> np.ndarray:
    """Values f_i(u) of spherical signals at unit directions, as ``SphericalTensor.signal_xyz``.

    :param signals: (N, (lmax+1)**2) signals in e3nn's basis of ``SphericalTensor(lmax, 1, -1)``.
    :param lmax: largest degree l of the signals.
    :param directions: (..., 3) directions (normalised here).
    :return: (N, ...) values, in the signals' units.
    """
    s = check_signals(signals, lmax)
    u = np.asarray(directions, dtype=np.float64)
    y = _signal_harmonics(lmax, u.reshape(-1, 3))
    return (s @ y.T).reshape((s.shape[0],) + u.shape[:-1])


def fibonacci_sphere(n: int) -> np.ndarray:
    """n nearly uniform unit vectors (n, 3) on a Fibonacci spiral.

    :param n: number of points.
    """
    k = np.arange(n) + 0.5
    z = 1.0 - 2.0 * k / n
    rho = np.sqrt(1.0 - z * z)
    phi = k * math.pi * (3.0 - math.sqrt(5.0))
    return np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=-1)


def sphere_grid(n_polar: int, n_azimuth: int) -> np.ndarray:
    """Unit vectors (n_polar, n_azimuth, 3) on a polar grid, θ ∈ [0, π] from +z, φ ∈ [0, 2π] from +x.

    :param n_polar: samples of the polar angle, poles included.
    :param n_azimuth: samples of the azimuth, 0 and 2π both included (a closed surface).
    """
    theta = np.linspace(0.0, math.pi, n_polar)
    phi = np.linspace(0.0, 2.0 * math.pi, n_azimuth)
    th, ph = np.meshgrid(theta, phi, indexing="ij")
    return np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], axis=-1)


def _tangent_basis(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors (N, 3) orthogonal to each unit vector u (N, 3) and to each other."""
    helper = np.where(np.abs(u[:, :1]) < 0.9, np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0]]))
    e1 = np.cross(u, helper)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    return e1, np.cross(u, e1)


def peak_directions(signals, lmax: int) -> tuple[np.ndarray, np.ndarray]:
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
    s = check_signals(signals, lmax)
    grid = fibonacci_sphere(_PEAK_GRID)
    values = s @ _signal_harmonics(lmax, grid).T  # (N, G)
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
        y = _signal_harmonics(lmax, cand.reshape(-1, 3)).reshape(len(s), len(a), -1)
        fc = np.einsum("nk,nck->nc", s, y)
        j = np.argmax(fc, axis=1)
        better = fc[np.arange(len(s)), j] > f
        u = np.where(better[:, None], cand[np.arange(len(s)), j], u)
        f = np.where(better, fc[np.arange(len(s)), j], f)
        step *= 0.6
    return u, f


__all__ = ["check_signals", "fibonacci_sphere", "peak_directions", "signal_values", "sphere_grid"]
