"""Symmetry groups of structures: one Group (kind "point", "infinite" or "space"), detected, named and compared.

Detection produces groups (``detect`` for finite point sets, ``infinite`` for lines and single
points, ``crystal`` for periodic cells); everything else consumes them through ``Group``'s
fields and properties (``G.kind``, ``G.infinite``, ``G.periodic``, ``G.same_group(H)``).
"""

from .crystal import CrystalOperation, SpaceGroup, space_group
from .detect import DEFAULT_TOL, check_tolerance, point_group
from .group import Group, same_group
from .naming import expected_order, operation_kind, rotation
from .pointgroup import HERMANN_MAUGUIN, PointGroup, SymmetryOperation


def symmetry_group(structure, tol: float = DEFAULT_TOL, reuse: dict | None = None) -> Group:
    """The symmetry group of any structure: its space group (cell operations) when periodic, else its point group.

    Parameters
    ----------
    structure : a Structure.
    tol : distance tolerance in Å for every decision.
    reuse : for crystals, a dictionary kept across calls on the same structure at several
        tolerances (see :func:`space_group`); ignored for molecules.
    """
    if structure.periodic:
        where = f"{structure.source}: " if structure.source else ""
        return space_group(structure, check_tolerance(tol, where), reuse=reuse)
    return point_group(structure, tol)


__all__ = [
    "CrystalOperation",
    "Group",
    "SpaceGroup",
    "space_group",
    "symmetry_group",
    "DEFAULT_TOL",
    "HERMANN_MAUGUIN",
    "PointGroup",
    "SymmetryOperation",
    "check_tolerance",
    "expected_order",
    "operation_kind",
    "point_group",
    "rotation",
    "same_group",
]
