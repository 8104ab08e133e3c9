"""A cell's atoms as a periodic point set: the nearest atom to any point through one k-d tree, and the
pure translations T of the cell's group as an exact finite abelian group acting on the atoms."""

from __future__ import annotations

import numpy as np

from ..errors import SymcheckError
from .group import close, distinct, greedy_generators


def index_key(x: np.ndarray) -> np.ndarray:
    """Indices are their own keys (for :func:`close` on index-numbered elements)."""
    return x


class Matcher:
    """Nearest atom of a periodic cell to any point (minimum image).

    Orthogonal cells use a periodic k-d tree on scaled fractional coordinates (exact Cartesian
    distances); other cells a Cartesian tree over the 27 neighbouring images of the wrapped atoms.
    Cells of at most ``small_cell`` atoms compare every point with every atom directly (minimum
    image by rounding when the cell is orthogonal, else the 27 images): the same answer without
    importing scipy, which costs more than such a search.
    """

    def __init__(self, cell: np.ndarray, frac: np.ndarray, small_cell: int = 64):
        self.cell, self.n = np.asarray(cell, dtype=float), len(frac)
        metric = self.cell @ self.cell.T
        lengths = np.sqrt(np.diag(metric))
        self.orthogonal = bool(np.all(np.abs(metric - np.diag(np.diag(metric))) <= 1e-9 * np.max(metric)))
        wrapped = frac % 1.0
        self.images = self.tree = self.wrapped = None
        if self.n <= small_cell and self.orthogonal:  # minimum image by rounding is exact here
            self.wrapped, self.lengths = wrapped, lengths
            return
        if self.n <= small_cell:
            self.images = ((wrapped[None, :, :] + _SHIFTS[:, None, :]).reshape(-1, 3)) @ self.cell
            return
        from scipy.spatial import cKDTree

        if self.orthogonal:
            self.lengths = lengths
            self.tree = cKDTree((wrapped * lengths) % lengths, boxsize=lengths)
        else:
            self.tree = cKDTree(((wrapped[None, :, :] + _SHIFTS[:, None, :]).reshape(-1, 3)) @ self.cell)

    def query(self, points_frac: np.ndarray, k: int = 1):
        """Distances (Å) and indices of the k nearest atoms to each point (fractional coordinates)."""
        if self.images is not None or self.wrapped is not None:
            q = np.asarray(points_frac, dtype=float).reshape(-1, 3) % 1.0
            if self.wrapped is not None:
                d = q[:, None, :] - self.wrapped[None, :, :]
                d2 = np.sum(((d - np.rint(d)) * self.lengths) ** 2, axis=-1)
            else:
                d2 = np.sum((q[:, None, :] @ self.cell - self.images[None, :, :]) ** 2, axis=-1)
            if k == 1:
                j = np.argmin(d2, axis=1)
                dist = np.sqrt(d2[np.arange(len(q)), j])
            else:  # fewer candidates than k: inf and index n, as the k-d tree answers
                d2 = np.pad(d2, ((0, 0), (0, max(0, k - d2.shape[1]))), constant_values=np.inf)
                j = np.argsort(d2, axis=1, kind="stable")[:, :k]
                dist = np.sqrt(np.take_along_axis(d2, j, axis=1))
            j = np.where(np.isinf(dist), self.n, j % self.n)
            shape = np.shape(points_frac)[:-1] + ((k,) if k > 1 else ())
            return dist.reshape(shape), j.reshape(shape)
        if self.orthogonal:
            dist, j = self.tree.query((points_frac % 1.0) * self.lengths % self.lengths, k=k)
        else:
            dist, j = self.tree.query((points_frac % 1.0) @ self.cell, k=k)
            j = j % self.n
        return dist, j


_SHIFTS = np.array([(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)], dtype=float)


def match_atoms(matcher: Matcher, images: np.ndarray, frac: np.ndarray, numbers: np.ndarray, cell, where: str):
    """The permutation σ with images[i] ≈ frac[σ(i)] (same species), nearest first.

    spglib decided that the operation belongs to the group; this only finds which atom goes
    where. When nearest neighbours collide (possible at a large symprec), the species' atoms are
    assigned by minimum total distance instead.
    """
    _, j = matcher.query(images)
    if np.all(numbers[j] == numbers) and len(distinct(j)) == len(j):
        return j
    from scipy.optimize import linear_sum_assignment

    j = np.empty(len(frac), dtype=np.int64)
    for z in distinct(numbers):
        idx = np.flatnonzero(numbers == z)
        d = images[idx][:, None, :] - frac[idx][None, :, :]
        d -= np.round(d)
        rows, cols = linear_sum_assignment(np.linalg.norm(d @ cell, axis=-1))
        j[idx[rows]] = idx[cols]
    return j


class Translations:
    """The pure translations T of a cell's group, with the atoms arranged as T-orbits.

    T is a finite abelian group of fractional translations; each is stored exactly as an integer
    vector z with τ = z / q (per-axis moduli q), so sums and rotations are exact integer
    arithmetic. T acts freely on atoms, so every T-orbit ("sublattice") has |T| atoms:
    ``sites[s, v]`` is the atom t_v·a_s, with a_s = ``sites[s, 0]``; atom i is
    ``sites[sublattice[i], position[i]]``.
    """

    def __init__(self, frac_t: np.ndarray, frac: np.ndarray, matcher: Matcher):
        frac_t = np.asarray(frac_t, dtype=float).reshape(-1, 3) % 1.0
        self.q = np.array([_modulus(frac_t[:, a], len(frac_t)) for a in range(3)], dtype=np.int64)
        z = np.round(frac_t * self.q).astype(np.int64) % self.q
        codes = self._code(z)
        _, first = np.unique(codes, return_index=True)
        z = z[np.sort(first)]
        zero = np.flatnonzero(~np.any(z, axis=1))
        if len(zero) == 0:
            z = np.vstack([np.zeros((1, 3), dtype=np.int64), z])
        else:  # the identity first
            z = np.vstack([z[zero], np.delete(z, zero, axis=0)])
        self.z = z
        self.frac = z / self.q
        self._lookup = None
        self._table = None
        self._neg = None
        codes = self._code(z)
        self._order = np.argsort(codes)
        self._sorted = codes[self._order]
        # a code → index array when the grid is small: a look-up instead of a binary search (the
        # group code asks for thousands of small sums)
        size = int(np.prod(self.q))
        self._dense = None
        if size <= DENSE_GRID:
            self._dense = np.full(size, -1, dtype=np.int64)
            self._dense[codes] = np.arange(len(z))
        n = len(frac)
        if n % len(z):
            raise SymcheckError("internal error: the cell's pure translations do not act freely on its atoms")
        self.sublattice = np.full(n, -1, dtype=np.int64)
        self.position = np.zeros(n, dtype=np.int64)
        rows = []
        for a in range(n):
            if self.sublattice[a] >= 0:
                continue
            _, j = matcher.query(frac[a] + self.frac)
            if np.any(self.sublattice[j] >= 0) or len(distinct(j)) != len(j):
                raise SymcheckError("internal error: the cell's pure translations do not map atoms one to one")
            self.sublattice[j] = len(rows)
            self.position[j] = np.arange(len(j))
            rows.append(j)
        self.sites = np.array(rows, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.z)

    def _code(self, z: np.ndarray) -> np.ndarray:
        return (z[..., 0] * self.q[1] + z[..., 1]) * self.q[2] + z[..., 2]

    def index_of_z(self, z: np.ndarray) -> np.ndarray:
        """Indices of integer vectors (…, 3) (taken modulo q); −1 for vectors not in T."""
        z = np.asarray(z, dtype=np.int64) % self.q
        codes = self._code(z)
        if self._dense is not None:
            return self._dense[codes]
        pos = np.clip(np.searchsorted(self._sorted, codes), 0, len(self._sorted) - 1)
        return np.where(self._sorted[pos] == codes, self._order[pos], -1)

    def index_of_frac(self, t: np.ndarray, snap: bool = False) -> np.ndarray:
        """Indices of fractional translations (…, 3); −1 for those not in T.

        A translation counts as on T's grid within 1e-3 (fractions); with ``snap`` the nearest grid
        point is taken whatever the distance (spglib's translations at a large symprec are only
        approximately consistent, but a product of its operations lies nearest to the right one).
        """
        scaled = np.asarray(t, dtype=float) * self.q
        z = np.round(scaled)
        idx = self.index_of_z(z.astype(np.int64))
        if snap:
            return idx
        off = np.max(np.abs(scaled - z) / self.q, axis=-1) > 1e-3
        return np.where(off, -1, idx)

    def add(self, u, v) -> np.ndarray:
        """Index of t_u + t_v (broadcasting index arrays)."""
        if self._table is not None or len(self) <= SMALL_TABLE:
            return self._addition_table()[u, v]
        return self.index_of_z(self.z[u] + self.z[v])

    def _addition_table(self) -> np.ndarray:
        """(|T|, |T|) index of t_u + t_v, built on first use."""
        if self._table is None:
            n = len(self)
            self._table = self.index_of_z(self.z[:, None, :] + self.z[None, :, :]).reshape(n, n)
        return self._table

    def add_one(self, u: int, v: int) -> int:
        """Index of t_u + t_v for two single indices (a dictionary lookup, for the many scalar products)."""
        if self._lookup is None:
            self._zt = [tuple(r) for r in self.z.tolist()]
            self._lookup = {zt: i for i, zt in enumerate(self._zt)}
            self._qt = tuple(self.q.tolist())
        a, b, q = self._zt[u], self._zt[v], self._qt
        return self._lookup[((a[0] + b[0]) % q[0], (a[1] + b[1]) % q[1], (a[2] + b[2]) % q[2])]

    def neg(self, u) -> np.ndarray:
        """Index of −t_u."""
        if self._neg is None:
            self._neg = self.index_of_z(-self.z)
        return self._neg[u]

    def rotate(self, R_frac: np.ndarray) -> np.ndarray:
        """Index of R t_v for every v (R an integer matrix of the cell's group; a stack (m, 3, 3) gives (m, |T|))."""
        return self.index_of_frac(self.frac @ np.swapaxes(np.asarray(R_frac, dtype=float), -1, -2), snap=True)

    def perm(self, v: int) -> np.ndarray:
        """σ of the translation t_v: atom i goes to atom ``perm[i]``."""
        return self.sites[self.sublattice, self.add(self.position, v)]

    def perms(self, vs) -> np.ndarray:
        """σ of several translations at once: (len(vs), N)."""
        vs = np.asarray(vs, dtype=np.int64).reshape(-1)
        if len(self) <= ADDITION_TABLE:  # |T|² sums once, then every permutation is a look-up
            return self.sites[self.sublattice[None, :], self._addition_table()[vs][:, self.position]]
        return self.sites[self.sublattice[None, :], self.add(self.position[None, :], vs[:, None])]

    def closure(self, gens) -> np.ndarray:
        """Sorted indices of the subgroup of T generated by the given indices (:func:`close` on T's addition)."""
        gens = distinct(np.asarray(gens, dtype=np.int64).reshape(-1))
        if self._table is not None or len(self) <= SMALL_TABLE:  # the same set, read from the addition table
            return table_closure(self._addition_table(), gens, 0)
        return np.sort(close(gens, self.add, index_key, start=np.zeros(1, dtype=np.int64), key_space=len(self)).keys)

    def generators(self, subgroup: np.ndarray) -> list[int]:
        """A small generating set of a subgroup of T (given as sorted indices)."""
        subgroup = np.asarray(subgroup, dtype=np.int64)

        def reached(chosen: list[int]) -> np.ndarray:
            mask = np.zeros(len(self), dtype=bool)
            mask[self.closure(subgroup[chosen])] = True
            return mask[subgroup]

        return subgroup[greedy_generators(len(subgroup), reached)].tolist()

    def average(self, y: np.ndarray, subgroup: np.ndarray) -> np.ndarray:
        """P_T y: each atom's value replaced by the mean over its orbit under the translations ``subgroup``."""
        if len(subgroup) == len(self):  # the whole T: one mean per sublattice
            means = y[self.sites].mean(axis=1)
            return means[self.sublattice]
        total = np.zeros_like(y, dtype=float)
        for v in subgroup.tolist():
            total += y[self.perm(v)]
        return total / len(subgroup)


def table_closure(table: np.ndarray, gens, identity: int) -> np.ndarray:
    """Sorted indices of the subgroup generated by ``gens`` in a finite group given by its multiplication
    table (``table[a, b]`` = a·b): products g·x layer by layer from the identity, as :func:`close` finds them."""
    gens = np.asarray(gens, dtype=np.int64).reshape(-1)
    have = np.zeros(len(table), dtype=bool)
    have[identity] = True
    frontier = np.array([identity], dtype=np.int64)
    while len(frontier) and len(gens):
        products = table[gens[:, None], frontier[None, :]].reshape(-1)
        frontier = np.flatnonzero(np.bincount(products[~have[products]], minlength=len(table)))
        have[frontier] = True
    return np.flatnonzero(have)


ADDITION_TABLE = 2048  # translation groups up to this size keep their addition table (|T|² indices) for perms()
SMALL_TABLE = 256  # up to this size every sum is read from that table (built at the first sum)
DENSE_GRID = 1 << 20  # translation grids (q₀q₁q₂ points) up to this size find indices by a direct look-up


def _modulus(x: np.ndarray, limit: int) -> int:
    """Smallest q ≤ limit with every q·x integral (to 1e-3): the denominator of a translation grid."""
    for q in range(1, max(limit, 1) + 1):
        if np.all(np.abs(q * x - np.round(q * x)) < 1e-3 * q):
            return q
    return max(limit, 1)


