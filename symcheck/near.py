"""Near symmetry: groups over a ladder of tolerances, the nearest symmetric structure, and warnings.

Symmetry depends on the tolerance. An input 0.001 Å from D4h trains as badly as an exactly
symmetric one, because the network must amplify that tiny asymmetry into the whole target.
The distance of a structure to the nearest structure with a group G is the largest atom
displacement of the orthogonal projection of its (centred) positions onto Fix_G — the same
fixed-space projection that gives the loss floor, applied to positions as a per-point 1o field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .defaults import NEAR_TOL
from .errors import SymcheckError
from .fixed import project, symmetric_positions
from .groups import DEFAULT_TOL, PointGroup, check_tolerance, expected_order, symmetry_group
from .structure import Structure

LADDER_TOLS = (1e-6, 1e-5, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5)  # Å


@dataclass(frozen=True)
class LadderStep:
    """The group found at one tolerance, and how far the structure is from having it exactly.

    Parameters
    ----------
    tol : tolerance, Å.
    group : the point group found at ``tol``.
    distance : largest atom displacement (Å) to the nearest structure with exactly this group.
    """

    tol: float
    group: PointGroup
    distance: float

    def as_dict(self) -> dict:
        """Plain-JSON form: ``{tol, point_group, order, distance}``."""
        return {"tol": self.tol, "point_group": self.group.name, "order": self.group.order,
                "distance": self.distance}


@dataclass(frozen=True)
class NearSymmetry:
    """The input is close to a higher group that the target does not keep.

    Parameters
    ----------
    group : the higher group (found at a larger tolerance).
    distance : largest atom displacement (Å) that would make the input exactly symmetric under it.
    target_size : size of the part of the target that group forbids (Å for displacement tasks:
        the largest displacement it forbids; target units otherwise).
    amplification : target_size / distance, how much the network must amplify the asymmetry.
    """

    group: PointGroup
    distance: float
    target_size: float
    amplification: float

    @property
    def warning(self) -> str:
        """One line in plain words."""
        return (
            f"the input is {self.distance:.3g} Å from {self.group.pretty_name}, which the target breaks by "
            f"{self.target_size:.3g}: the network must amplify a {self.distance:.3g} Å asymmetry "
            f"×{self.amplification:.3g}, which trains like an obstruction"
        )

    def as_dict(self) -> dict:
        """Plain-JSON form: ``{point_group, distance, target_size, amplification}``."""
        return {"point_group": self.group.name, "distance": self.distance, "target_size": self.target_size,
                "amplification": self.amplification}


def symmetry_distance(structure: Structure, group: PointGroup) -> float:
    """Largest atom displacement (Å) to the nearest structure that has exactly ``group``."""
    return float(np.max(np.linalg.norm(symmetric_positions(structure, group) - structure.positions, axis=1)))


def max_displacement(before: Structure, after: Structure) -> float:
    """The largest distance (Å) any atom moved between two structures with the same atoms in the same order.

    Crystals take the minimum image through ``before``'s cell, so an atom that crossed the cell's
    boundary counts by how far it moved, not by the lattice vector it was wrapped by.
    """
    a, b = np.asarray(before.positions, dtype=float), np.asarray(after.positions, dtype=float)
    if a.shape != b.shape:
        where = f"{after.source}: " if after.source else ""
        raise SymcheckError(f"{where}{len(b)} atoms, but the structure it is compared with has {len(a)}")
    d = b - a
    if before.periodic:
        cell = np.asarray(before.cell, dtype=float)
        f = d @ np.linalg.inv(cell)
        f -= np.round(f)
        # the rounded image is the nearest for reasonable cells; check the neighbouring images too
        shifts = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], dtype=float)
        cand = (f[:, None, :] + shifts[None, :, :]) @ cell
        return float(np.max(np.min(np.linalg.norm(cand, axis=-1), axis=1), initial=0.0))
    return float(np.max(np.linalg.norm(d, axis=1), initial=0.0))


def tolerance_ladder(structure: Structure, tols=LADDER_TOLS, reuse: dict | None = None) -> list[LadderStep]:
    """The group at each tolerance (Å), smallest first; each group is a subgroup of the next.

    Tolerances at which two atoms would count as one point end the ladder. ``reuse``: for
    crystals, the dictionary of cell groups already built for this structure (see
    ``groups.crystal.space_group``); spglib often returns the same operations at neighbouring
    tolerances.
    """
    steps = []
    reuse = {} if reuse is None else reuse
    for tol in sorted(tols):
        try:
            g = symmetry_group(structure, tol, reuse=reuse)
        except SymcheckError as exc:
            if "closer than the tolerance" in str(exc) or "overlap through the periodic images" in str(exc):
                break
            raise
        steps.append(LadderStep(float(tol), g, symmetry_distance(structure, g)))
    return steps


@dataclass(frozen=True)
class Symmetrized:
    """The nearest structure with a group, the group, and how far the atoms moved to get there.

    Parameters
    ----------
    structure : the symmetrized structure (same atoms, same order).
    group : the group it has exactly (found at ``tol`` or, for a wanted group, at a larger tolerance).
    max_displacement : the largest distance (Å) an atom moved (minimum image for crystals).
    """

    structure: Structure
    group: PointGroup
    max_displacement: float


def symmetrize(structure: Structure, group: str | None = None, tol: float = DEFAULT_TOL) -> Structure:
    """The nearest structure with the given group (projection of positions and features onto Fix_G).

    The same as ``symmetrized(structure, group, tol).structure``; see :func:`symmetrized` for the
    parameters and for the group and the largest move as well.
    """
    return symmetrized(structure, group, tol).structure


def symmetrized(structure: Structure, group: str | None = None, tol: float = DEFAULT_TOL) -> Symmetrized:
    """The nearest structure with the given group, with that group and the largest atom move (Å).

    Parameters
    ----------
    structure : the input.
    group : name of the wanted group (Schoenflies, or for crystals the international symbol such
        as ``"Pm-3m"``); it must be the group found at ``tol`` or at some larger tolerance on the
        ladder. None: the group found at ``tol``.
    tol : tolerance (Å) of the detection the wanted group must contain.
    """
    tol = check_tolerance(tol)
    where = f"{structure.source}: " if structure.source else ""
    G = symmetry_group(structure, tol)
    if group is not None and group != G.name:
        if not structure.periodic:
            _check_group_name(group, where)
        found = None
        for step in tolerance_ladder(structure, [t for t in LADDER_TOLS if t > tol]):
            if step.group.name == group:
                found = step.group
                break
        if found is None:
            raise SymcheckError(
                f"{where}{group} is not a supergroup of {G.name} (found at tol {tol:g} Å) at any tolerance up to "
                f"{LADDER_TOLS[-1]:g} Å"
            )
        G = found
    positions = symmetric_positions(structure, G)
    features = structure.features
    if features is not None:
        features = project(G, structure.feature_irreps, features, per_point=True)
    result = Structure(positions, structure.species, features, structure.feature_irreps, structure.cell,
                       structure.pbc, structure.source)
    return Symmetrized(result, G, max_displacement(structure, result))


def _check_group_name(name: str, where: str) -> None:
    try:
        expected_order(name)
    except (ValueError, IndexError):
        raise SymcheckError(f"{where}unknown point group name {name!r} (Schoenflies, e.g. D4h, C3v, Ih, Dinfh)") \
            from None


def near_symmetry(task, G: PointGroup, tol: float, near_tol: float = NEAR_TOL,
                  reuse: dict | None = None) -> NearSymmetry | None:
    """A higher group than G within ``near_tol`` Å of the input that the target breaks, or None.

    ``reuse``: the cell groups built when G was found (see :func:`tolerance_ladder`).
    """
    if near_tol <= tol:
        return None
    higher = None
    for step in tolerance_ladder(task.structure, [t for t in LADDER_TOLS if tol < t <= near_tol], reuse):
        if _larger(step.group, G):
            higher = step
    if higher is None:
        return None
    H = higher.group
    if task.displacements is not None and task.per_point:
        d = task.displacements
        forbidden = d - project(H, "1o", d, per_point=True)
        size = float(np.max(np.linalg.norm(forbidden, axis=1)))
    else:
        y = task.target
        size = float(np.max(np.abs(y - project(H, task.irreps, y, task.per_point))))
    if size <= tol:
        return None  # the higher group keeps the target: nearly symmetric, but harmless
    distance = max(higher.distance, 1e-300)
    return NearSymmetry(H, higher.distance, size, size / distance)


def _larger(A: PointGroup, B: PointGroup) -> bool:
    if A.infinite:
        return B.finite or A.name != B.name
    return B.finite and A.order > B.order
