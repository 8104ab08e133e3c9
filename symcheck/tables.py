"""The rows of the tables symcheck prints, as plain data: the CLI (or any other front end) only lays them out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .groups.group import Group, format_axis
from .groups.naming import kind_family


@dataclass(frozen=True)
class OperationKind:
    """The operations of one kind (C4 with C4^3, σv, …) in a group.

    Parameters
    ----------
    kind : the kind without its power, e.g. ``"C4"``.
    count : how many operations of this kind.
    translated : for space groups, how many of them carry a translation that is not a lattice
        vector (screw axes, glide planes); None for point groups.
    axes : their distinct axes (mirror normals), formatted as :func:`format_axis` does, sorted.
    """

    kind: str
    count: int
    translated: int | None
    axes: tuple[str, ...]


def operations_by_kind(group: Group) -> list[OperationKind]:
    """The group's operations counted by kind, in the order the kinds first occur (finite groups).

    :param group: a finite point group or a space group (infinite groups list generators only,
        so their table would count those).
    """
    by_kind: dict[str, list] = {}
    for op in group.operations:
        by_kind.setdefault(kind_family(op.kind), []).append(op)
    rows = []
    for kind, ops in by_kind.items():
        axes = tuple(sorted({format_axis(op.axis) for op in ops if op.axis is not None}))
        # a fractional translation of 1e-9 is spglib's rounding, not a screw or glide part
        translated = sum(bool(np.any(np.abs(op.translation_frac) > 1e-9)) for op in ops) if group.periodic else None
        rows.append(OperationKind(kind, len(ops), translated, axes))
    return rows
