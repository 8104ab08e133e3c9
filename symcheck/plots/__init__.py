"""Figures for symcheck: the tutorial's task sketch, loss curves, spherical signals, features, subgroup lattices.

Every function takes plain numpy arrays (so it works with any trainer), writes one PNG and returns
its path. Figures are drawn on a bare :class:`matplotlib.figure.Figure` with the Agg canvas: pyplot
is never imported, the global matplotlib backend is never switched, and no interactive backend is
loaded. matplotlib is imported inside the functions, so ``import symcheck`` and
``import symcheck.plots`` stay light.

Spherical signals use e3nn's conventions, as ``e3nn.io.SphericalTensor(lmax, 1, -1)`` does
(irreps 0e+1o+2e+...): a signal ``s`` of length ``(lmax+1)**2`` is the function on the unit sphere

    f(u) = sum_k s_k Y_k(u),   Y = o3.spherical_harmonics(range(lmax+1), u, normalize=True,
                                                       normalization="integral"),

which is ``SphericalTensor.signal_xyz``. With this normalisation ``with_peaks_at(d)`` has its peak
at direction d with value |d|, so a displacement encoded that way decodes as ``value * direction``
(:func:`symcheck.sphere.peak_directions`; the sphere math lives in :mod:`symcheck.sphere`). Surfaces are
drawn as ``SphericalTensor.plot`` draws them: the point ``center + radius(u) * u`` with
``radius = relu(f)`` for outputs (the tutorial's default) or ``|f|`` for a feature (the tutorial's
``relu=False``), coloured by f.

Modules by figure family: :mod:`.tasks` (task sketch, loss curves), :mod:`.signals` (output
lobes, equivariance), :mod:`.feature` (one irrep feature), :mod:`.lattice` (subgroup lattice),
:mod:`.figure` (the canvas they share).
"""

from ..sphere import peak_directions, signal_values
from .feature import feature_figure
from .figure import DPI, PANEL_INCHES
from .lattice import draw_lattice
from .signals import equivariance_figure, signals_figure
from .tasks import FLOOR_ZERO, loss_curves, task_figure

__all__ = [
    "DPI",
    "FLOOR_ZERO",
    "PANEL_INCHES",
    "draw_lattice",
    "equivariance_figure",
    "feature_figure",
    "loss_curves",
    "peak_directions",
    "signal_values",
    "signals_figure",
    "task_figure",
]
