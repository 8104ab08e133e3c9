"""Space groups of periodic structures through spglib, as groups of (R, t, σ) acting on the cell's atoms.

The group G of a periodic input is the set of space-group operations that map the input cell
onto itself, modulo its lattice: every (R, t) with R r_i + t = r_σ(i) + (a lattice vector).
Pure translations that map the cell onto itself (a supercell's) are elements too, since a
periodic network respects them. On fields the translation part acts only through σ, so the
same fixed-space machinery as for molecules applies: (g·y)_σ(i) = D(R) y_i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SymcheckError
from ..structure import Structure
from .naming import operation_kind
from .pointgroup import HERMANN_MAUGUIN, PointGroup, SymmetryOperation

# Schoenflies names of spglib's Hermann–Mauguin point-group symbols
_HM_TO_SCHOENFLIES = {hm: name for name, hm in HERMANN_MAUGUIN.items()}


@dataclass(frozen=True)
class CrystalOperation(SymmetryOperation):
    """A space-group operation: Cartesian rotation ``matrix`` and ``translation`` (Å), with σ.

    ``rotation_frac`` and ``translation_frac`` are the same in the cell's fractional basis.
    """

    translation: np.ndarray = None
    rotation_frac: np.ndarray = None
    translation_frac: np.ndarray = None

    def label(self) -> str:
        """Kind with axis and the translation in fractions of the cell, e.g. ``C4 (axis 0,0,1) + (0,0,1/2)``."""
        base = super().label()
        if np.allclose(self.translation_frac, 0, atol=1e-6):
            return base
        return f"{base} + ({','.join(_frac(x) for x in self.translation_frac)})"

    def as_dict(self) -> dict:
        """Plain-JSON form, with the translation in Å and in fractions."""
        d = super().as_dict()
        d["translation"] = [round(float(x), 9) for x in self.translation]
        d["translation_frac"] = [round(float(x), 9) for x in self.translation_frac]
        return d


def _frac(x: float) -> str:
    from fractions import Fraction

    f = Fraction(float(x)).limit_denominator(24)
    return str(f) if abs(float(f) - x) < 1e-6 else f"{x:.4g}"


@dataclass(frozen=True)
class SpaceGroup(PointGroup):
    """The symmetry group of a periodic structure's cell (a PointGroup whose operations carry translations).

    Extra parameters
    ----------------
    number : space-group number (1–230).
    international : Hermann–Mauguin symbol, e.g. ``"Pm-3m"``.
    point_group : Schoenflies name of the crystal class, e.g. ``"Oh"``.
    cell : (3, 3) lattice vectors as rows, Å.
    wyckoffs : Wyckoff letter of each atom (of the input structure's group).
    site_symmetry : site-symmetry symbol of each atom.
    """

    number: int = 0
    international: str = ""
    point_group: str = ""
    cell: np.ndarray = None
    wyckoffs: tuple[str, ...] = ()
    site_symmetry: tuple[str, ...] = ()

    @property
    def pretty_name(self) -> str:
        """``Pm-3m (No. 221)``."""
        return f"{self.international} (No. {self.number})"

    @property
    def hermann_mauguin(self) -> str | None:
        """The international symbol of the space group."""
        return self.international

    def as_dict(self) -> dict:
        """Plain-JSON form used by ``symcheck group --json``."""
        d = super().as_dict()
        d.update(
            space_group=self.international,
            space_group_number=self.number,
            point_group=self.point_group,
            crystal_class=self.point_group,
            wyckoffs=list(self.wyckoffs),
            site_symmetry=list(self.site_symmetry),
            cell=np.round(self.cell, 9).tolist(),
        )
        d["point_group_hermann_mauguin"] = HERMANN_MAUGUIN.get(self.point_group)
        return d


def _spglib_call(fn, *args, **kwargs):
    """Call spglib with exceptions for errors (its old None-returning mode is deprecated)."""
    from spglib import error

    old = error.OLD_ERROR_HANDLING
    error.OLD_ERROR_HANDLING = False
    try:
        return fn(*args, **kwargs)
    finally:
        error.OLD_ERROR_HANDLING = old


def _spglib_cell(structure: Structure):
    numbers = np.unique(np.array(structure.species), return_inverse=True)[1] + 1
    frac = np.linalg.solve(structure.cell.T, structure.positions.T).T
    return structure.cell, frac, numbers


def space_group(structure: Structure, tol: float) -> SpaceGroup:
    """The space group of a periodic structure at distance tolerance ``tol`` (Å), via spglib."""
    import spglib

    where = f"{structure.source}: " if structure.source else ""
    cell = structure.cell
    if abs(np.linalg.det(cell)) < 1e-6:
        raise SymcheckError(f"{where}the cell has zero volume")
    lattice, frac, numbers = _spglib_cell(structure)
    _check_overlaps(structure, frac, tol, where)
    try:
        ds = _spglib_call(spglib.get_symmetry_dataset, (lattice, frac, numbers), symprec=tol)
    except spglib.SpglibError as exc:
        raise SymcheckError(f"{where}spglib found no symmetry ({exc})") from None
    ops = []
    for R, t in zip(ds.rotations, ds.translations):
        perm = _permutation(R, t, frac, numbers, cell, tol)
        if perm is not None:
            ops.append(_operation(R, t, perm, cell))
    ops, gens = _closure_and_generators(ops, cell)
    if structure.features is not None:
        ops, gens = _feature_preserving(structure, ops, tol, cell)
    return _build(ops, len(structure), cell, tol, tuple(ds.wyckoffs), tuple(ds.site_symmetry_symbols), gens)


def _check_overlaps(structure: Structure, frac: np.ndarray, tol: float, where: str) -> None:
    d = frac[:, None, :] - frac[None, :, :]
    d -= np.round(d)
    dist = np.linalg.norm(d @ structure.cell, axis=-1)
    dist[np.diag_indices(len(frac))] = np.inf
    if np.min(dist) <= tol:
        i, j = np.unravel_index(np.argmin(dist), dist.shape)
        raise SymcheckError(
            f"{where}atoms {i} and {j} overlap through the periodic images ({dist[i, j]:.3g} Å apart, "
            f"tolerance {tol:g} Å)"
        )


def _permutation(R, t, frac, numbers, cell, tol):
    img = frac @ R.T + t
    d = img[:, None, :] - frac[None, :, :]
    d -= np.round(d)
    dist = np.linalg.norm(d @ cell, axis=-1)
    j = np.argmin(dist, axis=1)
    if np.max(dist[np.arange(len(frac)), j]) > tol or len(set(j.tolist())) != len(j):
        return None
    if np.any(numbers[j] != numbers):
        return None
    return j


def _operation(R_frac, t_frac, perm, cell) -> CrystalOperation:
    A = cell.T  # columns: lattice vectors
    R = A @ R_frac @ np.linalg.inv(A)
    t_frac = np.asarray(t_frac, dtype=float) % 1.0
    t_frac[np.isclose(t_frac, 1.0, atol=1e-8)] = 0.0
    kind, axis = operation_kind(R)
    if kind == "E" and np.linalg.norm(t_frac) > 1e-8:
        kind = "t"
    return CrystalOperation(R, np.array(perm), kind, axis, A @ t_frac, np.array(R_frac, dtype=int), t_frac)


def _closure_and_generators(ops, cell, pool: dict | None = None):
    """The group generated by the operations, and a greedy generating set (cost ~ |G|·|generators|²).

    Elements are identified by (σ, integer rotation), which fixes t modulo the lattice.

    Works on raw (R_frac, t_frac, σ) triples; operations are built once at the end, or taken
    from ``pool`` (key → operation of an enclosing group) when there.
    """

    def key(R, perm):
        return perm.tobytes() + R.astype(np.int64).tobytes()

    n = len(ops[0].permutation)
    raw = {key(np.eye(3, dtype=np.int64), np.arange(n)): (np.eye(3, dtype=np.int64), np.zeros(3), np.arange(n))}
    gens = []
    for op in ops:
        R0, t0, p0 = op.rotation_frac.astype(np.int64), op.translation_frac, op.permutation
        if key(R0, p0) in raw:
            continue
        gens.append((R0, t0, p0, op))
        frontier = list(raw.values())
        while frontier:
            new = []
            for R, t, p in frontier:
                for Rg, tg, pg, _ in gens:
                    Rc, pc = Rg @ R, pg[p]
                    k = key(Rc, pc)
                    if k not in raw:
                        raw[k] = (Rc, (Rg @ t + tg) % 1.0, pc)
                        new.append(raw[k])
            frontier = new
    pool = {} if pool is None else pool
    elements = [pool.get(k) or _operation(R, t, p, cell) for k, (R, t, p) in raw.items()]
    return elements, [g[3] for g in gens]


def _feature_preserving(structure, ops, tol, cell):
    from ..reps import wigner_D

    a = structure.features
    D = wigner_D(structure.feature_irreps, np.stack([op.matrix for op in ops]))
    keep = [op for op, Dk in zip(ops, D) if np.max(np.abs(a @ Dk.T - a[op.permutation]), initial=0.0) <= tol]
    return _closure_and_generators(keep or ops[:1], cell, {_op_key(op): op for op in ops})


def _build(ops, n: int, cell: np.ndarray, tol: float, wyckoffs=(), site_symmetry=(), gens=None) -> SpaceGroup:
    import spglib

    ops = sorted(ops, key=lambda op: (op.kind != "E" or np.linalg.norm(op.translation_frac) > 1e-9, op.kind))
    rot = np.array([op.rotation_frac for op in ops], dtype="intc")
    trans = np.array([op.translation_frac for op in ops], dtype="double")
    try:
        sg = _spglib_call(spglib.get_spacegroup_type_from_symmetry, rot, trans, cell, symprec=tol)
    except spglib.SpglibError as exc:
        raise SymcheckError(f"spglib could not name a group of {len(ops)} operations ({exc})") from None
    from .detect import _orbits

    return SpaceGroup(
        name=sg.international_short,
        order=len(ops),
        operations=tuple(ops),
        generators=tuple(gens or _generators(ops, cell)),
        center=np.zeros(3),
        frame=np.eye(3),
        equivalent_atoms=_orbits([op.permutation for op in ops], n),
        tol=tol,
        number=int(sg.number),
        international=sg.international_short,
        point_group=_HM_TO_SCHOENFLIES.get(sg.pointgroup_international, sg.pointgroup_international),
        cell=np.array(cell),
        wyckoffs=wyckoffs,
        site_symmetry=site_symmetry,
    )


def _generators(ops, cell) -> list[CrystalOperation]:
    return _closure_and_generators(ops, cell)[1] or [ops[0]]


def _op_key(op: CrystalOperation) -> bytes:
    return op.permutation.tobytes() + op.rotation_frac.astype(np.int64).tobytes()


def crystal_subgroup(group: SpaceGroup, ops: list[CrystalOperation]) -> SpaceGroup:
    """The subgroup of a cell's group generated by some of its operations, named by spglib."""
    pool = {_op_key(op): op for op in group.operations}
    closed, gens = _closure_and_generators(list(ops) or [group.operations[0]], group.cell, pool)
    return _build(closed, len(group.operations[0].permutation), group.cell, group.tol, group.wyckoffs,
                  group.site_symmetry, gens)
