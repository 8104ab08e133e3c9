"""Space groups of periodic structures through spglib, as groups of (R, t, σ) acting on the cell's atoms.

The group G of a periodic input is the set of space-group operations that map the input cell
onto itself, modulo its lattice: every (R, t) with R r_i + t = r_σ(i) + (a lattice vector).
Pure translations that map the cell onto itself (a supercell's) are elements too, since a
periodic network respects them. On fields the translation part acts only through σ, so the
same fixed-space machinery as for molecules applies: (g·y)_σ(i) = D(R) y_i.

A supercell's group is large (Si diamond 4×4×4: 12,288 operations) but simple: its pure
translations T form a normal subgroup, and G is the union of m ≤ 48 cosets r_k T, one per
point operation. Every group here is kept in that factored form, as elements (k, v) = t_v ∘ r_k
(``r_k`` a coset representative, ``t_v`` a translation of T), so that naming, fixed spaces,
projections and stabilizers cost O(m·N) or O(|T|·N), never O(|G|·N):

* P_G = (1/m) Σ_k r_k· ∘ P_T, where P_T averages a field over each T-orbit of atoms;
* subgroups are named by spglib from their operations modulo their own translation lattice
  (at most 48 operations).

The distance tolerance of a crystal is spglib's ``symprec``: the group is the one spglib finds,
with spglib's own operations (never rebuilt from generators, which drifts).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from ..defaults import DEFAULT_TOL, FEATURE_ATOL
from ..errors import SymcheckError
from ..fixed import stabilizer_pairs
from ..structure import Structure
from .group import Group, SymmetryOperation, close, distinct, element_keys, greedy_generators, orbits, rotation_codes
from .naming import classify, operation_kind
from .pointgroup import HERMANN_MAUGUIN
from .translations import Matcher, Translations, index_key, match_atoms, table_closure

# Schoenflies names of spglib's Hermann–Mauguin point-group symbols
_HM_TO_SCHOENFLIES = {hm: name for name, hm in HERMANN_MAUGUIN.items()}
_POINT_ORDER = {
    "C1": 1, "Ci": 2, "C2": 2, "Cs": 2, "C2h": 4, "D2": 4, "C2v": 4, "D2h": 8, "C4": 4, "S4": 4, "C4h": 8,
    "D4": 8, "C4v": 8, "D2d": 8, "D4h": 16, "C3": 3, "S6": 6, "D3": 6, "C3v": 6, "D3d": 12, "C6": 6, "C3h": 6,
    "C6h": 12, "D6": 12, "C6v": 12, "D3h": 12, "D6h": 24, "T": 12, "Th": 24, "O": 24, "Td": 24, "Oh": 48,
}  # fmt: skip
LISTED_ELEMENTS = 2000  # groups up to this order list every element in as_dict(); larger ones their cosets


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
        t = np.asarray(self.translation_frac, dtype=float)
        if np.all(np.abs(t) <= 1e-6):  # np.allclose(t, 0, atol=1e-6), without its overhead (reports label hundreds)
            return base
        return f"{base} + ({','.join(_frac(float(x)) for x in t)})"

    def as_dict(self) -> dict:
        """Plain-JSON form, with the translation in Å and in fractions."""
        d = super().as_dict()
        d["translation"] = [round(float(x), 9) for x in self.translation]
        d["translation_frac"] = [round(float(x), 9) for x in self.translation_frac]
        return d


class _LazyElement(CrystalOperation):
    """An element t_v ∘ r_k of a factored group whose permutation σ_t ∘ σ_r is composed on first use.

    Listing a 192,000-element group must not hold 192,000 permutations of 4,000 atoms.
    """

    def __init__(self, cell_group: _CellGroup, k: int, v: int):
        op = cell_group.reps[k]
        t_frac = (cell_group.rep_frac[k] + cell_group.T.frac[v]) % 1.0
        t_frac[t_frac > 1.0 - 1e-8] = 0.0
        kind = "t" if op.kind == "E" and v != 0 else op.kind
        object.__setattr__(self, "_source", (cell_group, k, v))
        object.__setattr__(self, "_perm", None)
        super().__init__(op.matrix, None, kind, op.axis, cell_group.cell.T @ t_frac, op.rotation_frac, t_frac)

    @property
    def permutation(self) -> np.ndarray:  # noqa: D102 (documented on SymmetryOperation)
        if self._perm is None:
            cg, k, v = self._source
            object.__setattr__(self, "_perm", cg.element_perm(k, v))
        return self._perm

    @permutation.setter
    def permutation(self, value) -> None:
        object.__setattr__(self, "_perm", value)


@lru_cache(maxsize=4096)  # translations take few distinct values
def _frac(x: float) -> str:
    from fractions import Fraction

    f = Fraction(float(x)).limit_denominator(24)
    return str(f) if abs(float(f) - x) < 1e-6 else f"{x:.4g}"


def _sort_key(op: CrystalOperation):
    return (op.kind != "E", op.kind, tuple(np.round(op.translation_frac, 9)))


class _Elements(Sequence):
    """Every element of a factored space group, built on first use (a read-only sequence).

    ``len()`` costs nothing. Groups of up to LISTED_ELEMENTS elements are built once and kept,
    sorted as before (E first, then by kind); larger ones are generated coset by coset on each
    pass and their permutations composed only when read.
    """

    def __init__(self, group: SpaceGroup):
        self._group = group
        self._cache: tuple | None = None

    def __len__(self) -> int:
        return self._group.order

    def _generate(self):
        g = self._group
        cg = g.cell_group
        for k, v0 in zip(g.point_indices.tolist(), g.rep_shifts.tolist()):
            for v in cg.T.add(np.full(len(g.translation_indices), v0), g.translation_indices).tolist():
                yield _LazyElement(cg, k, v)

    def _all(self) -> tuple:
        if self._cache is None:
            self._cache = tuple(sorted(self._generate(), key=_sort_key))
        return self._cache

    def __iter__(self):
        if self._group.order <= LISTED_ELEMENTS:
            return iter(self._all())
        return self._generate()

    def __getitem__(self, index):
        if self._group.order > LISTED_ELEMENTS and isinstance(index, int) and index in (0, -len(self)):
            return next(self._generate())  # the identity comes first
        return self._all()[index]

    def __repr__(self) -> str:
        return f"<{self._group.order} operations of {self._group.name}>"


@dataclass(frozen=True, eq=False, kw_only=True)
class SpaceGroup(Group):
    """The symmetry group of a periodic structure's cell (kind ``"space"``: its operations carry translations).

    A space group has no fixed point and no principal axis (no ``center`` or ``frame`` as point
    groups have): its translations act on fields through the permutations.

    Kept factored: the coset representatives of its point operations and its pure translations.
    ``operations`` is a read-only sequence of every element, built only when iterated or indexed
    (``len`` is free); code that must scale to large supercells uses ``coset_representatives``
    and ``translations`` instead.

    Extra parameters
    ----------------
    number : space-group number (1–230) of the cell's group.
    international : Hermann–Mauguin symbol of the cell's group, e.g. ``"Pm-3m"``.
    point_group : Schoenflies name of its crystal class, e.g. ``"Oh"``.
    cell : (3, 3) lattice vectors as rows, Å.
    wyckoffs : Wyckoff letter of each atom (of the crystal's group, as spglib gives it).
    site_symmetry : site-symmetry symbol of each atom (the same).
    crystal_space_group, crystal_space_group_number : the crystal's space group as spglib names
        it. It differs from the cell's group when the cell's lattice is lower than the crystal
        (e.g. a 2×1×1 supercell of a cubic crystal): the cell then keeps only a subgroup.
    cell_group : the shared data of the cell's full group (atoms, representatives, translations).
    point_indices : indices of the group's point operations among the cell group's.
    rep_shifts : for each, the index in ``cell_group.T`` of the translation added to the cell
        group's representative (the coset representative is t_shift ∘ r_k).
    translation_indices : indices in ``cell_group.T`` of the group's pure translations.
    """

    kind: str = "space"
    number: int = 0
    international: str = ""
    point_group: str = ""
    cell: np.ndarray = None
    wyckoffs: tuple[str, ...] = ()
    site_symmetry: tuple[str, ...] = ()
    crystal_space_group: str = ""
    crystal_space_group_number: int = 0
    cell_group: _CellGroup = None
    point_indices: np.ndarray = None
    rep_shifts: np.ndarray = None
    translation_indices: np.ndarray = None

    def __post_init__(self) -> None:
        if self.kind != "space":
            raise ValueError(f"a SpaceGroup has kind 'space', not {self.kind!r}")
        super().__post_init__()

    @property
    def pretty_name(self) -> str:
        """``Pm-3m (No. 221)``."""
        return f"{self.international} (No. {self.number})"

    @property
    def hermann_mauguin(self) -> str | None:
        """The international symbol of the space group."""
        return self.international

    @property
    def cell_keeps_subgroup(self) -> bool:
        """True when the cell's lattice is lower than the crystal's, so its group is a proper subgroup."""
        return self.crystal_space_group_number != 0 and (
            self.crystal_space_group_number != self.number or self.crystal_space_group != self.international)

    @cached_property  # read by every projection, fixed space and stabilizer: built once per group
    def coset_representatives(self) -> tuple[CrystalOperation, ...]:
        """One element per point operation (≤ 48): G is the union of r·T over these r."""
        cg = self.cell_group
        return tuple(cg.element(k, v) for k, v in zip(self.point_indices.tolist(), self.rep_shifts.tolist()))

    @property
    def translations(self) -> np.ndarray:
        """(|T|, 3) the group's pure translations in fractions of the cell (the first is 0)."""
        return self.cell_group.T.frac[self.translation_indices]

    def _listed_operations(self):
        return self.operations if self.order <= LISTED_ELEMENTS else self.coset_representatives

    def _same_elements(self, other: Group) -> bool:
        return same_factored(self, other)

    def _subset_of(self, other: Group) -> bool:
        if self.cell_group is not other.cell_group:
            return super()._subset_of(other)
        return all(contains(other, pair) for pair in generator_pairs(self))

    def as_dict(self) -> dict:
        """Plain-JSON form used by ``symcheck group --json``.

        ``operations`` lists every element when the group has at most LISTED_ELEMENTS of them, else
        only the coset representatives (``operations_listed`` says which); ``translations`` are
        the pure translations in fractions of the cell.
        """
        listed = self.order <= LISTED_ELEMENTS
        d = super().as_dict()
        d.update(
            operations_listed="all" if listed else "coset representatives",
            coset_representatives=len(self.point_indices),
            translations=np.round(self.translations, 9).tolist(),
            space_group=self.international,
            space_group_number=self.number,
            point_group=self.point_group,
            crystal_class=self.point_group,
            crystal_space_group=self.crystal_space_group,
            crystal_space_group_number=self.crystal_space_group_number,
            cell_keeps_subgroup=self.cell_keeps_subgroup,
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


class _CellGroup:
    """A cell's full space group in factored form: m point operations r_k with σ_k, and T.

    Elements are (k, v) = t_v ∘ r_k: x ↦ R_k x + t_k + τ_v (fractions of the cell). Products use
    ``mult[a, b]`` (point part), ``rot_T[a][v]`` (R_a τ_v) and ``cocycle[a, b]`` (r_a r_b = t_c r_ab).
    """

    def __init__(self, structure: Structure, frac, numbers, rotations, translations, tol: float, where: str,
                 matcher: Matcher | None = None):
        self.cell = np.array(structure.cell, dtype=float)
        self.n = len(frac)
        self.tol = tol
        matcher = Matcher(self.cell, frac) if matcher is None else matcher
        rotations = np.asarray(rotations, dtype=np.int64)
        translations = np.asarray(translations, dtype=float)
        pure = np.all(rotations == np.eye(3, dtype=np.int64), axis=(1, 2))
        self.T = Translations(translations[pure], frac, matcher)
        # one representative per rotation: spglib's own operation (its translation, never rebuilt)
        # first occurrence of each rotation (a supercell's dataset repeats each one |T| times)
        codes = rotation_codes(rotations)
        _, first = np.unique(codes, return_index=True)
        order = sorted(first.tolist(), key=lambda i: (not pure[i], i))
        self.rot_frac = rotations[order]
        self.rep_frac = translations[order] % 1.0
        self.rep_frac[pure[order]] = 0.0
        self.index = dict(zip(_rotation_keys(self.rot_frac), range(len(self.rot_frac))))
        m = len(self.rot_frac)
        products = np.einsum("aij,bjk->abik", self.rot_frac, self.rot_frac)
        self.mult = np.array([self.index[k] for k in _rotation_keys(products.reshape(-1, 3, 3))]).reshape(m, m)
        self.rot_T = self.T.rotate(self.rot_frac)  # (m, |T|): R_k τ_v for every k and v at once
        if np.any(self.rot_T < 0):
            raise SymcheckError(f"{where}spglib's operations do not preserve the cell's translations")
        shift = (self.rot_frac[:, None] @ self.rep_frac[None, :, :, None])[..., 0] + self.rep_frac[:, None, :]
        self.cocycle = self.T.index_of_frac(shift - self.rep_frac[self.mult], snap=True)
        if np.any(self.cocycle < 0):
            raise SymcheckError(f"{where}spglib's operations do not close into a group at symprec {tol:g}")
        self.identity = 0
        assert m and np.array_equal(self.rot_frac[0], np.eye(3, dtype=np.int64))
        self.rep_perm = self._permutations(matcher, frac, numbers, where)
        self.reps = [_operation(R, t, p, self.cell) for R, t, p in zip(self.rot_frac, self.rep_frac, self.rep_perm)]

    def with_tol(self, tol: float) -> _CellGroup:
        """The same cell group (the same operations and arrays) read at another tolerance."""
        other = copy.copy(self)
        other.tol = tol
        return other

    def _permutations(self, matcher: Matcher, frac, numbers, where: str) -> list[np.ndarray]:
        """σ_k of every representative: matched by the k-d tree for a few generators, composed for the rest.

        r_g r_x = t_c r_y (c = cocycle) gives σ_y = σ_{t_−c} ∘ σ_g ∘ σ_x: one tree query per
        generator instead of one per operation.
        """
        perms: dict[int, np.ndarray] = {0: np.arange(self.n)}
        gens: list[int] = []
        for k in range(len(self.rot_frac)):
            if k in perms:
                continue
            img = frac @ self.rot_frac[k].T + self.rep_frac[k]
            gens.append(k)
            perms[k] = match_atoms(matcher, img, frac, numbers, self.cell, where)
            known = np.array(list(perms), dtype=np.int64)
            found = close(np.array(gens), self._point_product, index_key, start=known, key_space=len(self.rot_frac))
            for i in range(len(known), len(found.keys)):  # each new y = g·x, its parents first
                y, g, x = int(found.keys[i]), gens[found.parent_generator[i]], int(found.keys[found.parent_element[i]])
                neg = int(self.T.neg(int(self.cocycle[g, x])))
                p = perms[g][perms[x]]
                perms[y] = p if neg == 0 else self.T.perm(neg)[p]
        return [perms[k] for k in range(len(self.rot_frac))]

    def _point_product(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Indices of the point parts of products (the multiplication table of the point group)."""
        return self.mult[a, b]

    def multiply_pairs(self, A: tuple, B: tuple) -> tuple:
        """(k, v) of the products of elements given as index arrays A = (k_a, v_a), B = (k_b, v_b)."""
        (ka, va), (kb, vb) = A, B
        T = self.T
        return self.mult[ka, kb], T.add(T.add(va, self.rot_T[ka, vb]), self.cocycle[ka, kb])

    def element_perm(self, k: int, v: int) -> np.ndarray:
        """σ of the element t_v ∘ r_k."""
        p = self.rep_perm[k]
        return p if v == 0 else self.T.perm(v)[p]

    def element(self, k: int, v: int) -> CrystalOperation:
        """The element t_v ∘ r_k as an operation (permutation included)."""
        if v == 0:
            return self.reps[k]
        t = (self.rep_frac[k] + self.T.frac[v]) % 1.0
        return _operation(self.rot_frac[k], t, self.element_perm(k, v), self.cell)

    def multiply(self, a, b):
        """(k, v) of the product of elements a = (k_a, v_a) and b = (k_b, v_b)."""
        (ka, va), (kb, vb) = a, b
        T = self.T
        return int(self.mult[ka, kb]), T.add_one(T.add_one(va, int(self.rot_T[ka][vb])), int(self.cocycle[ka, kb]))

    def locate(self, op: CrystalOperation) -> tuple[int, int]:
        """(k, v) of an element given as an operation."""
        k = self.index.get(_rotation_keys(op.rotation_frac[None])[0])
        v = -1 if k is None else int(self.T.index_of_frac(np.asarray(op.translation_frac) - self.rep_frac[k]))
        if v < 0:
            raise SymcheckError("internal error: an operation is not an element of the cell's group")
        return k, v

    def closure(self, gens: list[tuple[int, int]], allowed: np.ndarray | None = None):
        """The subgroup generated by elements (k, v): its point indices, their shifts, and its translations.

        Schreier: with one transversal element h_k per point operation reached, the pure
        translations g·h_k·h_{gk}⁻¹ over generators g generate the subgroup's translations.
        With ``allowed`` (a boolean mask over T), None as soon as a translation outside it appears.
        """
        T = self.T
        schreier, first = [], {}
        for k, v in gens:
            if k == self.identity:
                schreier.append(v)
            elif k in first:  # the same point part again: the two differ by a translation
                schreier.append(T.add_one(v, int(T.neg(first[k]))))
            else:
                first[k] = v
        point_gens = (np.array(list(first), dtype=np.int64), np.array(list(first.values()), dtype=np.int64))
        identity = (np.array([self.identity]), np.zeros(1, dtype=np.int64))
        found = close(point_gens, self.multiply_pairs, _point_part, start=identity, key_space=len(self.rot_frac),
                      repeats=True)
        ks, shifts = found.elements
        # products g·h_k whose point part was reached before: g·h_k·h_{gk}⁻¹ are translations
        schreier.extend(T.add(found.repeated[1], T.neg(shifts[found.repeated_as])).tolist())
        if allowed is not None and not np.all(allowed[np.asarray(schreier, dtype=np.int64)]):
            return None
        order = np.argsort(ks)
        ks, shifts = ks[order], shifts[order]
        t_sub = self.T.closure(schreier)
        # T_H must be closed under conjugation by the point part (it is, for a group; spglib noise aside)
        conj = distinct(self.rot_T[ks][:, t_sub])
        if len(conj) != len(t_sub):
            t_sub = self.T.closure(conj)
        return ks, _canonical_shifts(self, ks, shifts, t_sub), t_sub


def _rotation_keys(rotations: np.ndarray) -> list:
    """The element keys of integer rotations (the cell's basis), as dictionary keys."""
    return element_keys(rotations, decimals=0).tolist()


def _point_part(elements: tuple) -> np.ndarray:
    """Key of elements (k, v) in a closure of the point part: k."""
    return elements[0]


def _canonical_shifts(cg: _CellGroup, ks, shifts, t_sub) -> np.ndarray:
    """Each coset's shift reduced to the smallest index in its class modulo the subgroup's translations."""
    if len(t_sub) == 1:
        return shifts
    coset = cg.T.add(shifts[:, None], t_sub[None, :])
    return np.min(coset, axis=1)


def space_group(structure: Structure, tol: float = DEFAULT_TOL, reuse: dict | None = None) -> SpaceGroup:
    """The space group of a periodic structure at distance tolerance ``tol`` (Å), via spglib.

    ``tol`` is spglib's ``symprec``: the group is the one spglib finds at that number, with
    spglib's own operations. When the cell's lattice is lower than the crystal's, the cell keeps
    only a subgroup: that subgroup is the group (its elements act on the cell), and the crystal's
    own group is in ``crystal_space_group``.

    ``reuse``: a dictionary the caller keeps while it asks for a structure's group at several
    tolerances (a tolerance ladder). When spglib returns exactly the operations it returned for
    the same atoms at an earlier tolerance, the cell group built then is reused with this ``tol``
    (the same arrays, so the same group), instead of being built again.
    """
    import spglib

    where = f"{structure.source}: " if structure.source else ""
    cell = structure.cell
    if abs(np.linalg.det(cell)) < 1e-6:
        raise SymcheckError(f"{where}the cell has zero volume")
    lattice, frac, numbers = _spglib_cell(structure)
    matcher = Matcher(np.array(cell, dtype=float), frac)
    _check_overlaps(structure, frac, tol, where, matcher)
    try:
        ds = _spglib_call(spglib.get_symmetry_dataset, (lattice, frac, numbers), symprec=tol)
    except spglib.SpglibError as exc:
        raise SymcheckError(f"{where}spglib found no symmetry ({exc})") from None
    # the structure is part of the key: a cell group holds the permutations of these very atoms
    key = None if reuse is None else (lattice.tobytes(), frac.tobytes(), numbers.tobytes(), _dataset_key(ds))
    earlier = None if reuse is None else reuse.get(key)
    if earlier is None:
        cg = _CellGroup(structure, frac, numbers, ds.rotations, ds.translations, tol, where, matcher)
    else:
        cg = earlier[0].with_tol(tol)
    crystal_pg = _HM_TO_SCHOENFLIES.get(ds.pointgroup, ds.pointgroup)
    ks = np.arange(len(cg.rot_frac))
    shifts = np.zeros(len(ks), dtype=np.int64)
    full = np.arange(len(cg.T))
    gens = _generators(cg, ks, shifts, full) if earlier is None else earlier[1]
    if reuse is not None and earlier is None:
        reuse[key] = (cg, gens)
    G = _make(cg, ks, shifts, full, wyckoffs=tuple(ds.wyckoffs),
              site_symmetry=tuple(ds.site_symmetry_symbols),
              name=None if len(ks) < _POINT_ORDER.get(crystal_pg, len(ks)) else
              (ds.international, int(ds.number), crystal_pg),
              crystal=(ds.international, int(ds.number)), gens=gens)
    if structure.features is not None:
        G = feature_stabilizer(G, structure.features, structure.feature_irreps, FEATURE_ATOL)
    return G


def _dataset_key(ds) -> tuple:
    """Everything of a spglib dataset that :func:`space_group` reads, as a comparable key."""
    return (np.asarray(ds.rotations).tobytes(), np.asarray(ds.translations, dtype=float).tobytes(), ds.pointgroup,
            tuple(ds.wyckoffs), tuple(ds.site_symmetry_symbols), ds.international, int(ds.number))


def _make(cg: _CellGroup, ks, shifts, t_sub, wyckoffs=(), site_symmetry=(), name=None, crystal=("", 0),
          gens=None) -> SpaceGroup:
    """A SpaceGroup from its factored data, named by spglib unless ``name`` = (symbol, number, class) is given."""
    if name is None:
        name = _name(cg, ks, shifts, t_sub)
    if gens is None:
        gens = _generators(cg, ks, shifts, t_sub)
    gen_ops = tuple(cg.element(k, v) for k, v in gens) or (cg.reps[0],)
    G = SpaceGroup(
        name=name[0],
        order=len(ks) * len(t_sub),
        operations=(),
        generators=gen_ops,
        equivalent_atoms=orbits([op.permutation for op in gen_ops], cg.n),
        tol=cg.tol,
        number=name[1],
        international=name[0],
        point_group=name[2],
        cell=cg.cell,
        wyckoffs=wyckoffs,
        site_symmetry=site_symmetry,
        crystal_space_group=crystal[0],
        crystal_space_group_number=crystal[1],
        cell_group=cg,
        point_indices=np.asarray(ks, dtype=np.int64),
        rep_shifts=np.asarray(shifts, dtype=np.int64),
        translation_indices=np.asarray(t_sub, dtype=np.int64),
    )
    object.__setattr__(G, "operations", _Elements(G))
    return G


def _generators(cg: _CellGroup, ks, shifts, t_sub) -> list[tuple[int, int]]:
    """A small generating set: point generators (greedy over the point part), then translations (greedy over T)."""
    def point_reached(chosen: list[int]) -> np.ndarray:
        # the point group they generate, from the multiplication table (the set close() would find)
        return np.isin(ks, table_closure(cg.mult, ks[chosen], cg.identity))

    gens = [(int(ks[i]), int(shifts[i])) for i in greedy_generators(len(ks), point_reached)]

    def translations_reached(chosen: list[int]) -> np.ndarray:
        return np.isin(t_sub, cg.closure(gens + [(cg.identity, int(t_sub[i])) for i in chosen])[2])

    return gens + [(cg.identity, int(t_sub[i])) for i in greedy_generators(len(t_sub), translations_reached)]


def _lattice_basis(vectors: np.ndarray) -> np.ndarray:
    """A basis (rows) of the integer lattice spanned by integer vectors (rows), by gcd row reduction."""
    rows = [[int(x) for x in r] for r in np.asarray(vectors, dtype=np.int64) if np.any(r)]
    basis = []
    for col in range(3):
        while True:
            live = [r for r in rows if r[col] != 0]
            if len(live) <= 1:
                break
            pivot = min(live, key=lambda r: abs(r[col]))
            rows = [r if r is pivot or r[col] == 0 else [a - (r[col] // pivot[col]) * b for a, b in zip(r, pivot)]
                    for r in rows]
            rows = [r for r in rows if any(r)]
        live = [r for r in rows if r[col] != 0]
        if live:
            basis.append(live[0])
            rows = [r for r in rows if r is not live[0]]
    return np.array(basis, dtype=np.int64)


def _name(cg: _CellGroup, ks, shifts, t_sub) -> tuple[str, int, str]:
    """(symbol, number, crystal class) of a subgroup, by spglib from ≤ 48 operations.

    The operations are written in a basis of the subgroup's own translation lattice (the cell's
    lattice plus its pure translations), where each point operation is one operation.
    """
    import spglib

    q = cg.T.q
    vectors = distinct(np.vstack([np.diag(q), cg.T.z[t_sub]]), axis=0)
    B = (_lattice_basis(vectors) / q).T  # columns: the subgroup's lattice basis in cell fractions
    Binv = np.linalg.inv(B)
    rot = np.array([np.round(Binv @ cg.rot_frac[k] @ B) for k in ks.tolist()], dtype="intc")
    trans = np.array([(Binv @ ((cg.rep_frac[k] + cg.T.frac[v]) % 1.0)) % 1.0
                      for k, v in zip(ks.tolist(), shifts.tolist())], dtype="double")
    lattice = B.T @ cg.cell
    for symprec in (cg.tol, 10 * cg.tol, 1e-3, 1e-2):
        try:
            sg = _spglib_call(spglib.get_spacegroup_type_from_symmetry, rot, trans, lattice, symprec=symprec)
        except spglib.SpglibError:
            continue
        pg = _HM_TO_SCHOENFLIES.get(sg.pointgroup_international, sg.pointgroup_international)
        return sg.international_short, int(sg.number), pg
    # spglib names every space group; this is reached only for operations it cannot read at all
    pg = classify([cg.reps[k].matrix for k in ks.tolist()])[0]
    return f"subgroup of order {len(ks) * len(t_sub)} (class {pg})", 0, pg


def _check_overlaps(structure: Structure, frac: np.ndarray, tol: float, where: str, matcher=None) -> None:
    """Two atoms within tol of each other (minimum image) are an error."""
    if len(frac) < 2:
        return
    matcher = Matcher(np.array(structure.cell, dtype=float), frac) if matcher is None else matcher
    dist, j = matcher.query(frac, k=2)
    i = np.arange(len(frac))
    # the nearest is normally the atom itself; whichever of the two is another atom is its neighbour
    other = np.where(j[:, 0] == i, dist[:, 1], dist[:, 0])
    partner = np.where(j[:, 0] == i, j[:, 1], j[:, 0])
    a = int(np.argmin(other))
    if other[a] <= tol:
        b = int(partner[a])
        raise SymcheckError(
            f"{where}atoms {min(a, b)} and {max(a, b)} overlap through the periodic images ({other[a]:.3g} Å apart, "
            f"tolerance {tol:g} Å)"
        )


_KIND_CACHE: dict[bytes, tuple] = {}  # (cell, integer rotation) → (Cartesian R, kind, axis): the ladder repeats them


def _operation(R_frac, t_frac, perm, cell) -> CrystalOperation:
    A = cell.T  # columns: lattice vectors
    key = np.asarray(cell, dtype=float).tobytes() + np.asarray(R_frac, dtype=np.int64).tobytes()
    if key not in _KIND_CACHE:
        if len(_KIND_CACHE) > 4096:
            _KIND_CACHE.clear()
        R = A @ R_frac @ np.linalg.inv(A)
        _KIND_CACHE[key] = (R, *operation_kind(R))
    R, kind, axis = _KIND_CACHE[key]
    t_frac = np.asarray(t_frac, dtype=float) % 1.0
    t_frac[t_frac > 1.0 - 1e-8] = 0.0
    if kind == "E" and np.linalg.norm(t_frac) > 1e-8:
        kind = "t"
    return CrystalOperation(R.copy(), np.array(perm), kind, None if axis is None else axis.copy(), A @ t_frac,
                            np.array(R_frac, dtype=int), t_frac)


def crystal_subgroup(group: SpaceGroup, ops: list[CrystalOperation]) -> SpaceGroup:
    """The subgroup of a cell's group generated by some of its operations, named by spglib."""
    cg = group.cell_group
    gens = [cg.locate(op) for op in ops]
    return _from_generators(group, gens)


def _from_generators(group: SpaceGroup, gens: list[tuple[int, int]]) -> SpaceGroup:
    cg = group.cell_group
    ks, shifts, t_sub = cg.closure(gens)
    return _make(cg, ks, shifts, t_sub, group.wyckoffs, group.site_symmetry,
                 crystal=(group.crystal_space_group, group.crystal_space_group_number))


def factored_stabilizer(group: SpaceGroup, field: np.ndarray, irreps: str, per_point: bool, atol: float) -> SpaceGroup:
    """Stab_G(y) of a factored group: every element that changes no entry of y by more than ``atol`` (field units).

    The elements are found by symcheck.fixed (``stabilizer_pairs``: cosets and translations, never
    element by element); this names the subgroup they generate.
    """
    return _from_generators(group, stabilizer_pairs(group, field, irreps, per_point, atol))


def feature_stabilizer(group: SpaceGroup, features: np.ndarray, irreps: str, atol: float) -> SpaceGroup:
    """The subgroup whose operations map every atom's features onto its image's (within ``atol``, feature units)."""
    return factored_stabilizer(group, features, irreps, per_point=True, atol=atol)


def same_factored(A: SpaceGroup, B: SpaceGroup) -> bool:
    """Equal as sets of elements (two subgroups of the same cell's group)."""
    if A.cell_group is not B.cell_group:
        return A.order == B.order and set(A.element_keys().tolist()) == set(B.element_keys().tolist())
    if A.order != B.order or not np.array_equal(A.point_indices, B.point_indices):
        return False
    if not np.array_equal(A.translation_indices, B.translation_indices):
        return False
    return np.array_equal(A.rep_shifts, B.rep_shifts)


def contains(G: SpaceGroup, element: tuple[int, int]) -> bool:
    """Whether the element (k, v) of the cell's group lies in G."""
    k, v = element
    pos = np.flatnonzero(G.point_indices == k)
    if not len(pos):
        return False
    cg = G.cell_group
    rel = int(cg.T.add(v, cg.T.neg(int(G.rep_shifts[pos[0]]))))
    return bool(np.isin(rel, G.translation_indices))


def element_pairs(G: SpaceGroup) -> list[tuple[int, int]]:
    """Every element of G as (k, v) (no permutations built)."""
    cg = G.cell_group
    out = []
    for k, v0 in zip(G.point_indices.tolist(), G.rep_shifts.tolist()):
        out.extend((k, int(v)) for v in cg.T.add(np.full(len(G.translation_indices), v0), G.translation_indices))
    return out


def generator_pairs(G: SpaceGroup) -> list[tuple[int, int]]:
    """G's generators as (k, v)."""
    return [G.cell_group.locate(op) for op in G.generators]
