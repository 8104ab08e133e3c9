"""Data objects of a detected symmetry group: SymmetryOperation and PointGroup."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .naming import check_setting, element_kind, operation_name, setting_frame

# Hermann–Mauguin symbols of the 32 crystallographic point groups, by Schoenflies name.
HERMANN_MAUGUIN = {
    "C1": "1", "Ci": "-1", "C2": "2", "Cs": "m", "C2h": "2/m", "D2": "222", "C2v": "mm2", "D2h": "mmm",
    "C4": "4", "S4": "-4", "C4h": "4/m", "D4": "422", "C4v": "4mm", "D2d": "-42m", "D4h": "4/mmm",
    "C3": "3", "S6": "-3", "D3": "32", "C3v": "3m", "D3d": "-3m", "C6": "6", "C3h": "-6", "C6h": "6/m",
    "D6": "622", "C6v": "6mm", "D3h": "-6m2", "D6h": "6/mmm", "T": "23", "Th": "m-3", "O": "432",
    "Td": "-43m", "Oh": "m-3m",
}  # fmt: skip


@dataclass(frozen=True)
class SymmetryOperation:
    """One element g = (R, σ) of a symmetry group.

    Parameters
    ----------
    matrix : (3, 3) orthogonal matrix acting on positions relative to the group's center,
        in the input's Cartesian frame: R (r_i − c) + c = r_σ(i).
    permutation : (N,) ints; atom i is carried onto atom ``permutation[i]``.
    kind : "E", "Cn", "Cn^k", "i", "Sn", "Sn^k"; C2' and C2'' for the two classes of C2 axes ⟂ the
        principal axis; σh, σv, σd (σ(xy) … in D2h, σv(xz)/σv'(yz) in C2v, σ in Ih) for mirrors, named
        in the group's setting by :func:`symcheck.groups.naming.element_kind`, the same names as the
        character table's classes; or "C∞"-style names for the generators of infinite groups.
    axis : unit rotation axis (for mirrors: the plane's normal); None for E and i.
    """

    matrix: np.ndarray
    permutation: np.ndarray
    kind: str
    axis: np.ndarray | None = None

    @property
    def proper(self) -> bool:
        """True for rotations (det R = +1)."""
        return bool(np.linalg.det(self.matrix) > 0)

    def label(self) -> str:
        """The kind with its axis, e.g. ``"C4 (axis 0,0,1)"``, as printed by ``symcheck group``."""
        if self.axis is None:
            return self.kind
        return f"{self.kind} ({'normal' if self.kind.startswith('σ') else 'axis'} {_fmt_axis(self.axis)})"

    def as_dict(self) -> dict:
        """Plain-JSON form: matrix, permutation, kind, axis."""
        return {
            "kind": self.kind,
            "axis": None if self.axis is None else [round(float(x), 6) for x in self.axis],
            "matrix": np.round(self.matrix, 12).tolist(),
            "permutation": [int(i) for i in self.permutation],
        }


def format_axis(axis: np.ndarray) -> str:
    """An axis or mirror normal as printed: scaled so that its largest entry is ±1, integers without decimals
    (``0,0,1``, ``1,1,1``, ``1,0.414,0``)."""
    a = np.asarray(axis, dtype=float)
    a = a / np.max(np.abs(a))  # integer-looking axes print as 0,0,1 and 1,1,1
    return ",".join(f"{x:.3g}" if abs(x - round(x)) > 1e-6 else str(int(round(x))) for x in a)


_fmt_axis = format_axis  # the name groups/linear.py and groups/characters.py import


@dataclass(frozen=True)
class PointGroup:
    """A point group of a structure, found by :func:`symcheck.point_group`.

    Parameters
    ----------
    name : ASCII Schoenflies symbol (C1, Ci, Cs, Cn, Cnv, Cnh, Dn, Dnh, Dnd, S2n, T, Td, Th, O, Oh, I,
        Ih, Cinfv, Dinfh, Kh; with features also Cinf, Cinfh, Dinf, K).
    order : number of elements; None for infinite groups.
    operations : every element for finite groups; the generators for infinite ones.
    generators : a generating set.
    center : (3,) the fixed point (centroid of the points), Å.
    frame : (3, 3) the setting's axes as rows (x, y, z); z is the principal axis; for D groups x is a
        C2' axis, for Cnv x lies in a σv plane. The detector gives the default setting (the file's
        own axes where the group allows them); :meth:`in_setting` gives another.
    equivalent_atoms : orbits of atoms under the group, each a sorted tuple of indices.
    tol : the distance tolerance (Å) the group was found with.
    """

    name: str
    order: int | None
    operations: tuple[SymmetryOperation, ...]
    generators: tuple[SymmetryOperation, ...]
    center: np.ndarray
    frame: np.ndarray
    equivalent_atoms: tuple[tuple[int, ...], ...]
    tol: float

    def __post_init__(self) -> None:
        # One name per element: the operations of a finite point group are named in the group's
        # setting (its frame) by the same function that names the character table's classes, so
        # that the operations table, the obstruction list and the table agree (σv vs σd, C2' vs C2'').
        if type(self) is not PointGroup or self.order is None:
            return  # infinite groups keep their generators' names; crystals (subclasses) their own
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
        check_setting(setting)
        if self.order is None or type(self) is not PointGroup:
            return self  # infinite groups and crystals: no C2'/σv choice is made here
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
    def infinite(self) -> bool:
        """True for continuous groups (linear molecules, single atoms)."""
        return self.order is None

    @property
    def principal_axis(self) -> np.ndarray:
        """Unit vector of the principal axis (the frame's z)."""
        return self.frame[2]

    @property
    def hermann_mauguin(self) -> str | None:
        """International (Hermann–Mauguin) symbol for the 32 crystallographic classes, else None."""
        return HERMANN_MAUGUIN.get(self.name)

    @property
    def pretty_name(self) -> str:
        """The name with ∞ (C∞v, D∞h) for display."""
        return self.name.replace("inf", "∞")

    def as_dict(self) -> dict:
        """Plain-JSON form used by ``symcheck group --json``."""
        return {
            "point_group": self.name,
            "order": self.order,
            "hermann_mauguin": self.hermann_mauguin,
            "tol": self.tol,
            "center": [float(x) for x in self.center],
            "principal_axis": [round(float(x), 6) for x in self.principal_axis],
            "frame": np.round(self.frame, 9).tolist(),
            "operations": [op.as_dict() for op in self._listed_operations()],
            "generators": [op.as_dict() for op in self.generators],
            "equivalent_atoms": [list(o) for o in self.equivalent_atoms],
            "setting": self.setting_description(),
        }

    def _listed_operations(self):
        """The operations ``as_dict`` lists: all of them (space groups list fewer when huge)."""
        return self.operations

    def setting_description(self, setting: str | None = None) -> str | None:
        """The setting the operations are named in, in plain words (see
        :func:`symcheck.groups.characters.setting_description`); None for crystals.

        :param setting: None (this group's own setting) or a name from ``SETTINGS``.
        """
        if type(self) is not PointGroup:
            return None
        from .characters import setting_description  # characters builds on this module

        return setting_description(self, setting)
