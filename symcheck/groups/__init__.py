"""Symmetry groups of structures: detection of point groups, their operations and names."""

from .crystal import CrystalOperation, SpaceGroup, space_group
from .detect import DEFAULT_TOL, check_tolerance, point_group, rotation
from .naming import expected_order, operation_kind
from .pointgroup import HERMANN_MAUGUIN, PointGroup, SymmetryOperation


def symmetry_group(structure, tol: float = DEFAULT_TOL) -> PointGroup:
    """The symmetry group of any structure: its space group (cell operations) when periodic, else its point group.

    Parameters
    ----------
    structure : a Structure.
    tol : distance tolerance in Å for every decision.
    """
    if structure.periodic:
        where = f"{structure.source}: " if structure.source else ""
        return space_group(structure, check_tolerance(tol, where))
    return point_group(structure, tol)


__all__ = [
    "CrystalOperation",
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
]
