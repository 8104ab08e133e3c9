"""The one Group: elements (R, t, σ), their identity, closure, generators, orbits, and equality by elements.

Detection produces groups (``detect`` for finite point sets, ``infinite`` for lines and single
points, ``crystal`` for periodic cells); everything else consumes them. What sort of group it is
lives in the data, ``Group.kind``:

* ``"point"``: a finite point group (:class:`~symcheck.groups.pointgroup.PointGroup`), every element listed;
* ``"infinite"``: a continuous point group (C∞v, D∞h, Kh, …; a PointGroup), its generators listed;
* ``"space"``: the group of a periodic cell (:class:`~symcheck.groups.crystal.SpaceGroup`), stored as
  point part × translations.

Consumers ask ``G.infinite``, ``G.periodic`` or ``G.kind``, never the class. One element key
(:func:`element_keys`), one closure (:func:`close`) and one greedy choice of generators
(:func:`greedy_generators`) serve every kind: the caller gives the multiplication (matrices and
permutations, indices into a multiplication table, or the factored index arithmetic of space groups).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from ..errors import SymcheckError
from .naming import check_setting

KINDS = ("point", "infinite", "space")
KEY_DECIMALS = 6  # exact (idealized) elements differ by ~1e-15, distinct ones by ≫ 1e-6
CLOSURE_LIMIT = 2_000_000  # more elements than this: the operations do not close into a finite group

def element_keys(rotations, permutations=None, translations=None, decimals: int = KEY_DECIMALS) -> np.ndarray:
    """The identity of group elements as fixed-width byte strings (equal keys: the same element).

    Parameters
    ----------
    rotations : (n, …) the elements' rotation parts, rounded to ``decimals`` (−0.0 folded to 0.0):
        3×3 matrices (Cartesian, or integer in the cell's basis), or any array that identifies
        them (the determinant alone, where the permutation tells the rest).
    permutations : (n, m) ints: σ of each element (or its restriction to atoms that every element
        maps onto themselves); None when the rotation identifies the element.
    translations : (n, 3) translations in fractions of the lattice, taken modulo the lattice;
        None for point groups.
    decimals : rounding of rotations and translations.

    Returns an (n,) array of byte strings (dtype ``S``), usable as dictionary keys after ``tolist()``.
    """
    R = rotations if isinstance(rotations, np.ndarray) and rotations.dtype == float else np.asarray(rotations, float)
    n = len(R)
    if n == 0:
        return np.zeros(0, dtype="S8")
    flat = R.round(decimals).reshape(n, -1)
    flat += 0.0  # −0.0 → 0.0
    if translations is not None or permutations is not None:
        parts = [flat]
        if translations is not None:
            # round first, so that 0.9999999 becomes 1.0 and then 0.0 modulo the lattice
            t = np.asarray(translations, dtype=float).reshape(n, -1).round(decimals) % 1.0
            parts.append(t + 0.0)
        if permutations is not None:
            parts.append(np.asarray(permutations, dtype=np.int64).reshape(n, -1).view(np.float64))
        flat = np.concatenate(parts, axis=1)
    return np.ascontiguousarray(flat).view(f"S{flat.shape[1] * 8}").reshape(n)


class Closure(NamedTuple):
    """What :func:`close` finds.

    elements : the batch of every element (same layout as the generators), the start first.
    keys : (n,) their keys.
    parent_generator, parent_element : (n,) ints: element i = generators[parent_generator[i]] ·
        elements[parent_element[i]], each parent found before its child (a spanning tree of the
        Cayley graph); −1 for the starting elements.
    table : (g, n) ints: table[a, x] = index of generators[a] · elements[x].
    repeated : the products whose key was already known (only with ``repeats=True``), a batch.
    repeated_as : (r,) index of the element with the same key as each repeated product.
    """

    elements: object
    keys: np.ndarray
    parent_generator: np.ndarray
    parent_element: np.ndarray
    table: np.ndarray
    repeated: object = None
    repeated_as: np.ndarray | None = None


def _take(batch, idx):
    if isinstance(batch, tuple):
        return tuple([a[idx] for a in batch])
    return batch[idx]


def _concat(batches: list):
    if len(batches) == 1:
        return batches[0]
    if isinstance(batches[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*batches))
    return np.concatenate(batches)


def _size(batch) -> int:
    return len(batch[0]) if isinstance(batch, tuple) else len(batch)


class _Index:
    """Key → element index: an array for integer keys below ``key_space``, else a dictionary."""

    def __init__(self, key_space: int | None):
        self.map: dict = {}
        self.pos = None if key_space is None else np.full(key_space, -1, dtype=np.int64)
        self.n = 0

    def add(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index every key, giving those not yet known (first occurrences) new indices.

        Returns the positions of the new keys among ``keys`` and the index of every key.
        """
        if self.pos is not None:
            where = self.pos[keys]
            fresh = np.flatnonzero(where < 0)
            if len(fresh) == 0:
                return fresh, where
            if len(fresh) > 1:  # one position per new key: whichever write to pos survives
                k = keys[fresh]
                self.pos[k] = fresh
                fresh = fresh[self.pos[k] == fresh]
            self.pos[keys[fresh]] = np.arange(self.n, self.n + len(fresh))
            self.n += len(fresh)
            return fresh, self.pos[keys]
        # byte keys: one pass in Python (cheaper than sorting for the batches closures make)
        index, fresh, where = self.map, [], []
        n = self.n
        for i, k in enumerate(keys.tolist()):
            j = index.get(k)
            if j is None:
                index[k] = j = n
                n += 1
                fresh.append(i)
            where.append(j)
        self.n = n
        return np.array(fresh, dtype=np.int64), np.array(where, dtype=np.int64)


def close(generators, multiply: Callable, key: Callable, start=None, key_space: int | None = None,
          limit: int = CLOSURE_LIMIT, repeats: bool = False) -> Closure:
    """The group generated by ``generators``: every element, found layer by layer (breadth first).

    Each layer multiplies every generator with every element found in the layer before
    (g·x, generators on the left); products with a new key are the next layer. In a finite group
    the products of generators contain every inverse, so this is the generated group.

    Parameters
    ----------
    generators : a batch of elements: an array with one element per row (e.g. indices), or a
        tuple of such arrays (e.g. matrices and permutations).
    multiply : (A, B) → the batch of products A[i]·B[i] (two batches of equal length).
    key : batch → (n,) array of identities: :func:`element_keys`, or the integers themselves.
    start : the elements to grow from (default: the generators); the result holds them first.
    key_space : when keys are integers in [0, key_space): membership by an array, not a dictionary.
    limit : raise SymcheckError beyond this many elements.
    repeats : also return the products whose key was already known (for Schreier generators).
    """
    index = _Index(key_space)
    gkeys = key(generators)
    if start is None:
        fresh, _ = index.add(gkeys)
        gens = frontier = _take(generators, fresh)
        keys = [gkeys[fresh]]
    else:
        gens = generators if len(gkeys) <= 1 else _take(generators, _Index(key_space).add(gkeys)[0])
        skeys = key(start)
        fresh, _ = index.add(skeys)
        frontier = _take(start, fresh)
        keys = [skeys[fresh]]
    n_gens = _size(gens)
    none = np.full(index.n, -1, dtype=np.int64)
    batches, left, right, table_cols = [frontier], [none], [none], []
    rep_batches, rep_as = [], []
    lo, hi = 0, index.n
    while hi > lo and n_gens:
        width = hi - lo
        if n_gens == 1:
            gi, xi = np.zeros(width, dtype=np.int64), np.arange(width)
            prod = multiply(_take(gens, gi), frontier)
        else:
            gi, xi = np.divmod(np.arange(n_gens * width), width)
            prod = multiply(_take(gens, gi), _take(frontier, xi))
        pkeys = key(prod)
        fresh, where = index.add(pkeys)
        table_cols.append(where.reshape(n_gens, width))
        if repeats:
            old = np.ones(len(where), dtype=bool)
            old[fresh] = False
            rep_batches.append(_take(prod, np.flatnonzero(old)))
            rep_as.append(where[old])
        if len(fresh):
            frontier = _take(prod, fresh)
            batches.append(frontier)
            keys.append(pkeys[fresh])
            left.append(gi[fresh])
            right.append(xi[fresh] + lo)
        if index.n > limit:
            raise SymcheckError(f"the operations do not close into a group of at most {limit} elements")
        lo, hi = hi, index.n
    table = np.concatenate(table_cols, axis=1) if table_cols else np.zeros((n_gens, index.n), dtype=np.int64)
    if len(batches) == 1:
        out = Closure(frontier, keys[0], none, none, table)
    else:
        out = Closure(_concat(batches), np.concatenate(keys), np.concatenate(left), np.concatenate(right), table)
    if repeats:
        rep = _concat(rep_batches) if rep_batches else _take(gens, np.zeros(0, dtype=np.int64))
        out = out._replace(repeated=rep, repeated_as=np.concatenate(rep_as) if rep_as else np.zeros(0, np.int64))
    return out


def greedy_generators(n: int, reached: Callable[[list[int]], np.ndarray]) -> list[int]:
    """A small generating set: each candidate in turn that the group of the ones chosen before lacks.

    Parameters
    ----------
    n : number of candidates (the group's elements, in the order they are preferred).
    reached : chosen indices → boolean mask (n,) of the candidates in the group they generate
        (for no index: the trivial group).
    """
    gens: list[int] = []
    have = np.asarray(reached(gens), dtype=bool)
    for i in range(n):
        if have[i]:
            continue
        gens.append(i)
        have = np.asarray(reached(gens), dtype=bool)
        if have.all():
            break
    return gens


def polar(M: np.ndarray, det: np.ndarray) -> np.ndarray:
    """Nearest orthogonal matrices with the given determinants (±1) to a stack of 3×3 matrices."""
    U, _, Vt = np.linalg.svd(M)
    D = np.ones(M.shape[:-1])
    D[..., 2] = det * np.sign(np.linalg.det(U @ Vt))
    return (U * D[..., None, :]) @ Vt


def idealize(R: np.ndarray, table: np.ndarray, iterations: int = 6) -> list[np.ndarray]:
    """Nearest exact representation of a group given its multiplication table (table[g, h] = gh).

    R_g ← polar(mean_h R_gh R_hᵀ), repeated: closure then holds to machine precision.
    """
    dets = np.sign(np.linalg.det(R))
    for _ in range(iterations):
        M = np.einsum("ghij,hkj->gik", R[table], R) / len(R)
        new = polar(M, dets)
        if np.max(np.abs(new - R)) < 1e-15:
            R = new
            break
        R = new
    return list(R)


def distinct(x, axis: int | None = None) -> np.ndarray:
    """``np.unique(x, axis=axis)``: the sorted distinct values (rows with ``axis=0``).

    Asked for with ``return_index``, np.unique skips its masked-array check, whose first call
    imports numpy.ma (about a sixth of numpy's own import time) into every cold command.
    """
    return np.unique(x, axis=axis, return_index=True)[0]


def rotation_codes(W: np.ndarray) -> np.ndarray:
    """One int64 per integer 3×3 matrix (entries within ±15): the element key of integer rotations,
    as numbers, for vectorised look-ups (sorting, searchsorted)."""
    flat = np.rint(W).astype(np.int64).reshape(len(W), 9) + 16
    return flat @ (33 ** np.arange(9, dtype=np.int64))


def affine(W: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(…, 4, 4) homogeneous matrices of the operations x → W x + w, so that products compose them."""
    A = np.zeros(W.shape[:-2] + (4, 4))
    A[..., :3, :3] = W
    A[..., :3, 3] = w
    A[..., 3, 3] = 1.0
    return A


def multiply_operations(A: tuple, B: tuple) -> tuple:
    """Products of point operations given as (matrices (n, 3, 3), permutations (n, m)): (R_a R_b, σ_a ∘ σ_b)."""
    return A[0] @ B[0], np.take_along_axis(A[1], B[1], axis=1)


def orbits(perms, n: int) -> tuple[tuple[int, ...], ...]:
    """Orbits of n atoms under the group generated by permutations (each a sorted tuple of indices)."""
    lab = np.arange(n)
    P = np.array(perms, dtype=np.int64).reshape(-1, n)
    while True:
        new = lab.copy()
        for p in P:  # an atom and its image share the smaller label
            np.minimum.at(new, p, new)
            new = np.minimum(new, new[p])
        if np.array_equal(new, lab):
            break
        lab = new
    groups: dict[int, list[int]] = {}
    for i, l in enumerate(lab.tolist()):
        groups.setdefault(l, []).append(i)
    return tuple(tuple(g) for g in groups.values())


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
        return f"{self.kind} ({'normal' if self.kind.startswith('σ') else 'axis'} {format_axis(self.axis)})"

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
    return _format_axis(tuple(float(x) for x in np.asarray(axis, dtype=float).reshape(-1)))


@lru_cache(maxsize=4096)  # a report labels hundreds of operations along a few dozen axes
def _format_axis(axis: tuple[float, ...]) -> str:
    a = np.asarray(axis, dtype=float)
    a = a / np.max(np.abs(a))  # integer-looking axes print as 0,0,1 and 1,1,1
    return ",".join(f"{x:.3g}" if abs(x - round(x)) > 1e-6 else str(int(round(x))) for x in a)



def operation_keys(ops: Sequence[SymmetryOperation], decimals: int = KEY_DECIMALS) -> np.ndarray:
    """:func:`element_keys` of operations: rotation and permutation.

    Crystal operations are keyed by their integer rotation in the cell's basis and their
    permutation, which fixes the translation modulo the lattice (pure translations act freely on
    the atoms); spglib's translations at a large symprec agree between cells only approximately.
    """
    ops = list(ops)
    if not ops:
        return np.zeros(0, dtype="S8")
    crystal = getattr(ops[0], "rotation_frac", None) is not None
    rotations = np.stack([op.rotation_frac if crystal else op.matrix for op in ops])
    return element_keys(rotations, np.stack([op.permutation for op in ops]), decimals=decimals)


@dataclass(frozen=True, eq=False)
class Group:
    """A symmetry group of a structure: the fields every kind has.

    Parameters
    ----------
    name : the group's name (Schoenflies for point groups, e.g. ``"D4h"``, ``"Cinfv"``;
        Hermann–Mauguin for space groups, e.g. ``"Pm-3m"``).
    order : number of elements; None for infinite groups.
    operations : every element for finite groups; the generators for infinite ones.
    generators : a generating set.
    equivalent_atoms : orbits of atoms under the group, each a sorted tuple of indices.
    tol : the distance tolerance (Å) the group was found with.
    kind : ``"point"``, ``"infinite"`` or ``"space"`` (see the module's docstring).

    Groups compare with :meth:`same_group` (equal elements), never by name; ``==`` is identity.
    """

    name: str
    order: int | None
    operations: Sequence[SymmetryOperation]
    generators: tuple[SymmetryOperation, ...]
    equivalent_atoms: tuple[tuple[int, ...], ...]
    tol: float
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown group kind {self.kind!r} (one of {', '.join(KINDS)})")
        if (self.kind == "infinite") != (self.order is None):
            raise ValueError(f"a group of kind {self.kind!r} has order {self.order!r}")

    @property
    def infinite(self) -> bool:
        """True for continuous groups (linear molecules, single atoms): generators only, no order."""
        return self.kind == "infinite"

    @property
    def finite(self) -> bool:
        """True when the group has a finite order (point groups of non-collinear sets, space groups of cells)."""
        return self.kind != "infinite"

    @property
    def periodic(self) -> bool:
        """True for the space group of a periodic cell (elements carry translations)."""
        return self.kind == "space"

    @property
    def pretty_name(self) -> str:
        """The name for display (∞ for inf: C∞v, D∞h)."""
        return self.name.replace("inf", "∞")

    @property
    def hermann_mauguin(self) -> str | None:
        """International (Hermann–Mauguin) symbol, where the group has one."""
        return None

    def in_setting(self, setting: str | None) -> Group:
        """The same group in another setting (see :data:`symcheck.groups.naming.SETTINGS`).

        Only finite point groups choose C2'/σv axes; other groups are returned unchanged.

        :param setting: None, ``"atoms"`` or ``"bonds"``.
        :raises SymcheckError: for an unknown setting name.
        """
        check_setting(setting)
        return self

    def setting_description(self, setting: str | None = None) -> str | None:
        """The setting the operations are named in, in plain words; None where no choice is made."""
        return None

    def element_keys(self) -> np.ndarray:
        """:func:`element_keys` of every element (finite groups)."""
        if self.infinite:
            raise ValueError(f"{self.pretty_name} is infinite: its elements are not listed")
        return operation_keys(self.operations)

    def same_group(self, other: Group) -> bool:
        """True when both groups have the same elements (not merely the same name: D4h has two D2h subgroups)."""
        if self.kind != other.kind or self.order != other.order:
            return False
        return self._same_elements(other)

    def _same_elements(self, other: Group) -> bool:
        return set(self.element_keys().tolist()) == set(other.element_keys().tolist())

    def is_subgroup_of(self, other: Group) -> bool:
        """True when every element of this group is an element of ``other`` (H ⊆ G)."""
        if self.infinite and not other.infinite:
            return False
        if self.periodic != other.periodic:
            return False
        if not self.infinite and not other.infinite and other.order % self.order:
            return False  # Lagrange
        return self._subset_of(other)

    def _subset_of(self, other: Group) -> bool:
        return set(self.element_keys().tolist()) <= set(other.element_keys().tolist())

    def _listed_operations(self):
        """The operations ``as_dict`` lists: all of them (space groups list fewer when huge)."""
        return self.operations

    def as_dict(self) -> dict:
        """Plain-JSON form used by ``symcheck group --json`` (the fields every kind has)."""
        return {
            "point_group": self.name,
            "kind": self.kind,
            "order": self.order,
            "hermann_mauguin": self.hermann_mauguin,
            "tol": self.tol,
            "operations": [op.as_dict() for op in self._listed_operations()],
            "generators": [op.as_dict() for op in self.generators],
            "equivalent_atoms": [list(o) for o in self.equivalent_atoms],
        }


def same_group(A: Group, B: Group) -> bool:
    """A = B as sets of elements (see :meth:`Group.same_group`)."""
    return A.same_group(B)


__all__ = [
    "CLOSURE_LIMIT",
    "KEY_DECIMALS",
    "KINDS",
    "Closure",
    "Group",
    "SymmetryOperation",
    "close",
    "element_keys",
    "format_axis",
    "greedy_generators",
    "idealize",
    "multiply_operations",
    "operation_keys",
    "orbits",
    "polar",
    "same_group",
]
