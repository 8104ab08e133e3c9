"""Point groups of finite point sets (molecules): PointGroup, and building one from its matrices."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .group import (
    Group,
    SymmetryOperation,
    close,
    element_keys,
    format_axis,
    greedy_generators,
    orbits,
)
from .naming import classify, element_kind, mirror_label, operation_kind, operation_name, setting_frame

# Hermann–Mauguin symbols of the 32 crystallographic point groups, by Schoenflies name.
HERMANN_MAUGUIN = {
    "C1": "1", "Ci": "-1", "C2": "2", "Cs": "m", "C2h": "2/m", "D2": "222", "C2v": "mm2", "D2h": "mmm",
    "C4": "4", "S4": "-4", "C4h": "4/m", "D4": "422", "C4v": "4mm", "D2d": "-42m", "D4h": "4/mmm",
    "C3": "3", "S6": "-3", "D3": "32", "C3v": "3m", "D3d": "-3m", "C6": "6", "C3h": "-6", "C6h": "6/m",
    "D6": "622", "C6v": "6mm", "D3h": "-6m2", "D6h": "6/mmm", "T": "23", "Th": "m-3", "O": "432",
    "Td": "-43m", "Oh": "m-3m",
}  # fmt: skip


@dataclass(frozen=True, eq=False, kw_only=True)
class PointGroup(Group):
    """A point group of a finite point set (kind ``"point"``, or ``"infinite"`` for lines and single points).

    Parameters (besides :class:`~symcheck.groups.group.Group`'s)
    ----------
    name : ASCII Schoenflies symbol (C1, Ci, Cs, Cn, Cnv, Cnh, Dn, Dnh, Dnd, S2n, T, Td, Th, O, Oh, I,
        Ih, Cinfv, Dinfh, Kh; with features also Cinf, Cinfh, Dinf, K).
    center : (3,) the fixed point (centroid of the points), Å.
    frame : (3, 3) the setting's axes as rows (x, y, z); z is the principal axis; for D groups x is a
        C2' axis, for Cnv x lies in a σv plane. The detector gives the default setting (the file's
        own axes where the group allows them); :meth:`in_setting` gives another.
    ``kind`` defaults to ``"infinite"`` when ``order`` is None, else ``"point"``.
    """

    kind: str = ""
    center: np.ndarray
    frame: np.ndarray

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", "infinite" if self.order is None else "point")
        if self.kind == "space":
            raise ValueError("a space group is a SpaceGroup, not a PointGroup")
        super().__post_init__()
        if self.kind != "point":
            return  # infinite groups keep their generators' names
        # One name per element: the operations of a finite point group are named in the group's
        # setting (its frame) by the same function that names the character table's classes, so
        # that the operations table, the obstruction list and the table agree (σv vs σd, C2' vs C2'').
        ops = self.operations
        frame = np.asarray(self.frame, dtype=float)
        renamed = {}
        for op in ops:
            if op.kind == "C2" or op.kind.startswith("σ"):
                raw = "σ" if op.kind.startswith("σ") else op.kind
                kind = operation_name(element_kind(raw, op.axis, self.name, frame))
                if kind != op.kind:
                    renamed[id(op)] = replace(op, kind=kind)
        if renamed:
            object.__setattr__(self, "operations", tuple(renamed.get(id(op), op) for op in ops))
            object.__setattr__(self, "generators", tuple(renamed.get(id(op), op) for op in self.generators))

    def in_setting(self, setting: str | None) -> PointGroup:
        """The same group in another setting: its frame, and its operations' names, in that setting.

        :param setting: None (this group as it is), ``"atoms"`` (C2' axes / σv planes through atoms)
            or ``"bonds"`` (between atoms); see :data:`symcheck.groups.naming.SETTINGS`.
        :raises SymcheckError: for an unknown setting name.
        """
        super().in_setting(setting)
        if self.kind != "point":
            return self  # infinite groups: no C2'/σv choice is made here
        mats = np.stack([op.matrix for op in self.operations])
        perms = np.stack([op.permutation for op in self.operations])
        frame, _ = setting_frame(self.name, mats, perms, self.frame, setting)
        if np.allclose(frame, self.frame, atol=1e-12):
            return self
        # back to the setting-free kinds; __post_init__ names them again in the new frame
        raw = tuple(replace(op, kind="σ" if op.kind.startswith("σ") else ("C2" if op.kind in ("C2'", "C2''")
                                                                           else op.kind))
                    for op in self.operations)
        index = {id(op): k for k, op in enumerate(self.operations)}
        gens = tuple(raw[index[id(g)]] if id(g) in index else g for g in self.generators)
        return replace(self, frame=frame, operations=raw, generators=gens)

    @property
    def principal_axis(self) -> np.ndarray:
        """Unit vector of the principal axis (the frame's z)."""
        return self.frame[2]

    @property
    def hermann_mauguin(self) -> str | None:
        """International (Hermann–Mauguin) symbol for the 32 crystallographic classes, else None."""
        return HERMANN_MAUGUIN.get(self.name)

    def as_dict(self) -> dict:
        """Plain-JSON form used by ``symcheck group --json``: the group's fields, center, frame and setting."""
        d = super().as_dict()
        d.update(
            center=[float(x) for x in self.center],
            principal_axis=[round(float(x), 6) for x in self.principal_axis],
            frame=np.round(self.frame, 9).tolist(),
            setting=self.setting_description(),
        )
        return d

    def setting_description(self, setting: str | None = None) -> str | None:
        """The setting the operations are named in, in plain words (see
        :func:`symcheck.groups.characters.setting_description`).

        :param setting: None (this group's own setting) or a name from ``SETTINGS``.
        """
        from .characters import setting_description  # characters builds on this module

        return setting_description(self, setting)

    def _same_elements(self, other: Group) -> bool:
        if self.kind == "point":
            # 4 decimals: the same element idealized in two closures differs by ~1e-15, distinct ones by ≫ 1e-4
            return set(self._keys(4).tolist()) == set(other._keys(4).tolist())
        # infinite groups: with continuous rotations about the same axis the name fixes the group
        # (every mirror containing the axis, every C2 perpendicular to it, is in it once one is)
        if self.name != other.name:
            return False
        if self.name in ("Kh", "K"):
            return True
        return abs(abs(float(self.principal_axis @ other.principal_axis)) - 1) <= 1e-6

    def _keys(self, decimals: int) -> np.ndarray:
        ops = self.operations
        return element_keys(np.stack([op.matrix for op in ops]), np.stack([op.permutation for op in ops]),
                            decimals=decimals)

    def _subset_of(self, other: Group) -> bool:
        if not other.infinite:
            return set(self._keys(4).tolist()) <= set(other._keys(4).tolist())
        return all(_in_infinite(op.matrix, other) for op in self.generators)


def _in_infinite(R: np.ndarray, G: PointGroup) -> bool:
    """Whether the matrix R is an element of the infinite point group G (about its principal axis)."""
    det = np.linalg.det(R)
    if G.name in ("Kh", "K"):
        return G.name == "Kh" or det > 0
    u = G.principal_axis
    image = R @ u
    if np.allclose(image, u, atol=1e-6):  # rotations about u (every group) and mirrors containing u
        return det > 0 or G.name in ("Cinfv", "Dinfh")
    if np.allclose(image, -u, atol=1e-6):  # C2 ⟂ u, and improper rotations −Rot(u, α)
        return G.name == "Dinfh" or G.name == ("Dinf" if det > 0 else "Cinfh")
    return False


def build_point_group(mats, perms, table, center, tol) -> PointGroup:
    """A named finite point group from its exact matrices and permutations: kinds, sorted operations, generators.

    Parameters
    ----------
    mats : (n, 3, 3) the elements' exact (idealized) matrices, closed under products.
    perms : (n, N) their permutations.
    table : (n, n) the multiplication table: table[g, h] = index of the element g·h.
    center : (3,) the fixed point, Å.
    tol : the distance tolerance (Å) the group was found with.
    """
    name, frame = classify(mats)
    kinds = [operation_kind(R) for R in mats]
    c2_axes = [u for (kind, u) in kinds if kind == "C2"]
    ops = []
    for R, p, (kind, u) in zip(mats, perms, kinds):
        if kind == "σ":
            kind = mirror_label(u, name, frame, c2_axes)
        ops.append(SymmetryOperation(np.array(R), np.array(p), kind, u))
    order = sorted(range(len(ops)), key=lambda k: _sort_key(ops[k]))
    ops = [ops[k] for k in order]
    rank = np.argsort(order)
    table = rank[np.asarray(table)[np.ix_(order, order)]]  # in the sorted order
    return PointGroup(
        name=name,
        order=len(ops),
        operations=tuple(ops),
        generators=tuple(ops[g] for g in _generators(table)),
        center=np.array(center),
        frame=frame,
        equivalent_atoms=orbits([op.permutation for op in ops], len(perms[0])),
        tol=tol,
        kind="point",
    )


def _sort_key(op: SymmetryOperation):
    """E first, then rotations by order (high first), then i, mirrors, improper rotations."""
    kind = op.kind
    axis = () if op.axis is None else tuple(np.round(op.axis, 6).tolist())
    if kind == "E":
        return (0, 0, 0, "", ())
    if kind.startswith("C"):
        n, _, k = kind[1:].partition("^")
        return (1, -int(n), int(k or 1), "", axis)
    if kind == "i":
        return (2, 0, 0, "", ())
    if kind.startswith("σ"):
        return (3, 0, 0, kind, axis)
    n, _, k = kind[1:].partition("^")
    return (4, -int(n), int(k or 1), "", axis)


def _generators(table: np.ndarray) -> list[int]:
    """A small generating set, greedily from the sorted elements (highest rotations first), by the table."""
    n = len(table)
    have = np.zeros(n, dtype=bool)
    have[np.flatnonzero(np.all(table == np.arange(n), axis=1))] = True  # the identity

    def reached(chosen: list[int]) -> np.ndarray:
        nonlocal have
        if chosen:  # the group so far with the new generator, closed under all generators chosen
            start = np.append(np.flatnonzero(have), chosen[-1])
            found = close(np.array(chosen), lambda a, b: table[a, b], _same, start=start, key_space=n)
            have = np.zeros(n, dtype=bool)
            have[found.keys] = True
        return have

    return greedy_generators(n, reached) or [0]


def _same(x: np.ndarray) -> np.ndarray:
    """Element indices are their own keys."""
    return x


__all__ = ["HERMANN_MAUGUIN", "PointGroup", "SymmetryOperation", "build_point_group", "format_axis"]
