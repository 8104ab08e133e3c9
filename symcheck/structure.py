"""Structure: points in space (Å) with species, optional per-point features and an optional cell."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .errors import SymcheckError
from .o3 import Irreps, irreps_D


def irreps_dim(irreps: str) -> int:
    """Deprecated: ``Irreps(irreps).dim`` (symcheck.o3)."""
    warnings.warn("symcheck.structure.irreps_dim is deprecated; use symcheck.o3.Irreps(irreps).dim",
                  DeprecationWarning, stacklevel=2)
    return Irreps(irreps).dim


def parse_irreps(irreps: str) -> list[tuple[int, int, int]]:
    """Deprecated: iterate ``Irreps(irreps)`` (symcheck.o3), whose terms unpack as ``mul, (l, p)``.

    Returns ``(multiplicity, l, parity)`` triples; raises SymcheckError on an unknown string.
    """
    warnings.warn("symcheck.structure.parse_irreps is deprecated; iterate symcheck.o3.Irreps(irreps)",
                  DeprecationWarning, stacklevel=2)
    return [(mul, l, p) for mul, (l, p) in Irreps(irreps)]


@dataclass(frozen=True)
class Structure:
    """A set of points (atoms) with what distinguishes them.

    Parameters
    ----------
    positions : (N, 3) array, Å.
    species : N labels (element symbols or any strings); all ``"X"`` when not given.
    features : (N, d) array of per-point features, transforming as ``feature_irreps`` under O(3).
    feature_irreps : e3nn irreps string of the features, e.g. ``"0e+1o"``; ``"{d}x0e"`` if not given.
    cell : (3, 3) lattice vectors as rows, Å, for periodic structures.
    pbc : three booleans, periodicity along each cell vector.
    source : the file it was read from, for messages (not compared).
    feature_names : one name per ``+``-term of ``feature_irreps`` (e.g. the file's array names
        ``("initial_charges", "momenta")``), for reports; None when unknown (not compared).

    Validation raises SymcheckError on non-finite positions, features or cell, on shapes that
    do not fit, and on periodic boundaries declared with an all-zero cell (that is no crystal;
    it used to pass as a molecule). A flat (zero-volume) periodic cell is refused by ``read``
    and ``from_ase`` and by ``symmetry_group``.
    """

    positions: np.ndarray
    species: tuple[str, ...] | None = None
    features: np.ndarray | None = None
    feature_irreps: str | None = None
    cell: np.ndarray | None = None
    pbc: np.ndarray | None = None
    source: str = field(default="", compare=False)
    feature_names: tuple[str, ...] | None = field(default=None, compare=False)

    def __post_init__(self):
        """Validate and normalise the fields (read-only float arrays, tuples of str); SymcheckError if invalid."""
        where = f"{self.source}: " if self.source else ""
        pos = _checked_positions(self.positions, where)
        object.__setattr__(self, "positions", pos)
        object.__setattr__(self, "species", _checked_species(self.species, len(pos), where))
        feats, irreps, names = _checked_features(self.features, self.feature_irreps, self.feature_names, len(pos),
                                                 where)
        object.__setattr__(self, "features", feats)
        object.__setattr__(self, "feature_irreps", irreps)
        object.__setattr__(self, "feature_names", names)
        cell, pbc = _checked_cell(self.cell, self.pbc, where)
        object.__setattr__(self, "cell", cell)
        object.__setattr__(self, "pbc", pbc)

    def __len__(self) -> int:
        return len(self.positions)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Structure):
            return NotImplemented
        same = lambda a, b: (a is None and b is None) or (  # noqa: E731
            a is not None and b is not None and np.shape(a) == np.shape(b) and np.array_equal(a, b)
        )
        return (
            same(self.positions, other.positions)
            and self.species == other.species
            and same(self.features, other.features)
            and self.feature_irreps == other.feature_irreps
            and same(self.cell, other.cell)
            and same(self.pbc, other.pbc)
        )

    __hash__ = None  # arrays inside: compare, do not hash

    @property
    def periodic(self) -> bool:
        """True when the structure has a cell and is periodic along at least one cell vector."""
        return self.cell is not None and bool(np.any(self.pbc))

    def with_features(self, features: np.ndarray | None, feature_irreps: str | None) -> Structure:
        """A copy with the features replaced (None removes them)."""
        return Structure(self.positions, self.species, features, feature_irreps, self.cell, self.pbc, self.source)

    def transformed(self, rotation: np.ndarray, translation=(0.0, 0.0, 0.0), order=None) -> Structure:
        """A copy rotated by the 3×3 ``rotation`` (positions become R r + t), points reordered by ``order``.

        Features are rotated with their irreps (Wigner matrices from symcheck.o3).
        """
        R = np.asarray(rotation, dtype=float)
        idx = np.arange(len(self)) if order is None else np.asarray(order)
        pos = (self.positions @ R.T + np.asarray(translation, dtype=float))[idx]
        feats = self.features
        if feats is not None:
            feats = (feats @ irreps_D(self.feature_irreps, R).T)[idx]
        cell = None if self.cell is None else self.cell @ R.T
        species = tuple(self.species[i] for i in idx)
        return Structure(pos, species, feats, self.feature_irreps, cell, self.pbc, self.source, self.feature_names)


# Validation of Structure's fields; ``where`` ("path: " or "") starts every message.

def _checked_positions(positions, where: str) -> np.ndarray:
    """Positions as a read-only (N, 3) float array, N ≥ 1, all finite; SymcheckError otherwise."""
    try:
        pos = np.array(positions, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SymcheckError(f"{where}positions are not numbers ({exc})") from None
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise SymcheckError(f"{where}positions must have shape (N, 3), got {pos.shape}")
    if len(pos) == 0:
        raise SymcheckError(f"{where}the structure has no points")
    if not np.all(np.isfinite(pos)):
        bad = int(np.argwhere(~np.isfinite(pos))[0, 0])
        raise SymcheckError(f"{where}position of point {bad} is not finite (NaN or inf)")
    pos.setflags(write=False)
    return pos


def _checked_species(species, n: int, where: str) -> tuple[str, ...]:
    """n species labels as strings (all "X" when species is None); SymcheckError for another count."""
    out = tuple(str(s) for s in species) if species is not None else ("X",) * n
    if len(out) != n:
        raise SymcheckError(f"{where}{len(out)} species for {n} points")
    return out


def _checked_features(features, irreps: str | None, names, n: int, where: str):
    """(features, feature_irreps, feature_names) as Structure keeps them; SymcheckError if they do not fit.

    features : (n, d) or (n,) values, or None; irreps : their e3nn irreps ("{d}x0e" when None); names : one
    per irreps term, or None. Without features: irreps must be None or "", and all three come back None.
    """
    if features is None:
        if irreps not in (None, ""):
            raise SymcheckError(f"{where}feature irreps given without features")
        return None, None, None
    feats = np.array(features, dtype=float)
    if feats.ndim == 1:
        feats = feats[:, None]
    if feats.ndim != 2 or len(feats) != n:
        raise SymcheckError(f"{where}features must have shape (N, d) with N = {n}, got {feats.shape}")
    if not np.all(np.isfinite(feats)):
        raise SymcheckError(f"{where}features contain NaN or inf")
    irreps = irreps if irreps is not None else f"{feats.shape[1]}x0e"
    if Irreps(irreps).dim != feats.shape[1]:
        raise SymcheckError(
            f"{where}feature irreps {irreps!r} have dimension {Irreps(irreps).dim}, "
            f"but the features have {feats.shape[1]} columns"
        )
    feats.setflags(write=False)
    if names is not None:
        names = tuple(str(x) for x in names)
        terms = len(Irreps(irreps))
        if len(names) != terms:
            raise SymcheckError(f"{where}{len(names)} feature names for {terms} irreps terms ({irreps})")
    return feats, str(irreps), names


def _checked_cell(cell, pbc, where: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(cell, pbc) as read-only (3, 3) float and (3,) bool arrays; (None, None) without a cell.

    pbc : all True when None. SymcheckError for a cell that is not 9 finite numbers, pbc not 3 values,
    or periodic boundaries on a zero cell.
    """
    if cell is None:
        return None, None
    try:
        cell = np.array(cell, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SymcheckError(f"{where}cell is not numbers ({exc})") from None
    if cell.size != 9:
        raise SymcheckError(f"{where}cell must be 3×3 (three lattice vectors), got shape {cell.shape}")
    cell = cell.reshape(3, 3)
    if not np.all(np.isfinite(cell)):
        raise SymcheckError(f"{where}cell contains NaN or inf")
    cell.setflags(write=False)
    pbc = np.array(pbc if pbc is not None else [True] * 3, dtype=bool)
    if pbc.size != 3:
        raise SymcheckError(f"{where}pbc must be three booleans, got {pbc.size}")
    pbc = pbc.reshape(3)
    if pbc.any() and not cell.any():
        raise SymcheckError(f"{where}periodic boundaries (pbc) are declared but the cell is zero")
    pbc.setflags(write=False)
    return cell, pbc
