"""Symmetry groups of structures: detection of point groups, their operations and names."""

from .detect import DEFAULT_TOL, check_tolerance, point_group, rotation
from .naming import expected_order, operation_kind
from .pointgroup import HERMANN_MAUGUIN, PointGroup, SymmetryOperation

__all__ = [
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
