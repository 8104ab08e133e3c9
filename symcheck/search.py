"""The exact breaking search: which elements of G fix a candidate space, and a readable vector fixed by exactly those.

A subspace U of Fix_H(V) holds an element whose stabilizer is exactly H iff no g ∉ H fixes U
pointwise (DESIGN §6). Everything here works on a finite group's elements grouped by rotation
(space groups coset by coset), so a supercell's thousands of elements never become objects.
"""

from __future__ import annotations

import numpy as np

from .fixed import wigner_D
from .groups.crystal import element_pairs
from .groups.group import distinct, operation_keys
from .o3 import fixed_normals


def complement(W: np.ndarray, K: np.ndarray, rtol: float = 1e-6) -> np.ndarray:
    """Orthonormal basis of {w ∈ span(W) : w ⊥ span(K)}, for W with orthonormal columns.

    Works in W's own coordinates (the small matrix Wᵀ K), so a large W is never orthonormalised
    again: its columns are multiplied by an orthogonal matrix. When K removes few directions, that
    matrix is a product of as many Householder reflections, applied one by one (O(n·dim W) each
    instead of O(n·dim W²) for the whole matrix).
    """
    if W.shape[1] == 0 or K.shape[1] == 0:
        return W
    A = W.T @ K
    U, sv, _ = np.linalg.svd(A, full_matrices=False)
    rank = int(np.sum(sv > rtol * max(1.0, float(sv[0]) if len(sv) else 0.0)))
    if rank == 0:
        return W
    if rank > REFLECTIONS:
        U, _, _ = np.linalg.svd(A, full_matrices=True)
        return W @ U[:, rank:]
    # Householder reflections H_k = I − 2 v_k v_kᵀ whose product Q = I − V T Vᵀ has span(U_r) as
    # its first columns; W Q[:, rank:] is then two thin matrix products
    X = U[:, :rank].copy()
    V = np.zeros((W.shape[1], rank))
    T = np.zeros((rank, rank))
    for k in range(rank):
        x = X[k:, k]
        v = x.copy()
        v[0] += np.copysign(np.linalg.norm(x), x[0])
        v /= np.linalg.norm(v)
        X[k:] -= 2.0 * np.outer(v, v @ X[k:])
        V[k:, k] = v
        T[k, k] = 2.0
        T[:k, k] = -2.0 * T[:k, :k] @ (V[:, :k].T @ V[:, k])
    out = (W @ V) @ (T @ V[rank:].T)
    return np.subtract(W[:, rank:], out, out=out)  # in place: W is large, one copy of it is enough


REFLECTIONS = 64  # directions removed one reflection at a time; more: one SVD of W's coordinates


def projections(W: np.ndarray, shape, seed: int = 0, limit: int | None = None):
    """Representatives of W: projections of basis vectors (simple polynomials first), then a generic one.

    ``limit`` bounds the projections tried (large site orbits have thousands); it only affects
    how simple the representative reads, never whether one is found.
    """
    norms = np.linalg.norm(W, axis=1)  # |projection of basis vector m| = |row m of W|
    order = np.argsort(-norms, kind="stable")
    order = order[norms[order] > 1e-6][:limit]
    for start in range(0, len(order), 32):  # 32 projections per matrix product
        cols = W @ W[order[start:start + 32]].T
        for col in cols.T:
            yield (col / np.linalg.norm(col)).reshape(shape)
    v = W @ fixed_normals(seed, W.shape[1])
    yield (v / np.linalg.norm(v)).reshape(shape)


# ---------------------------------------------------------------------------------------------
# The exact search (DESIGN §6). A subspace U of Fix_H(V) holds an element whose stabilizer is
# exactly H iff no g ∉ H fixes U pointwise: the elements fixed by a generic v ∈ U are the ones
# that fix U pointwise (U is not a finite union of proper subspaces Fix_K(U), K ⊋ H). That is
# the test "dim Fix_H(U) > dim Fix_K(U) for every minimal overgroup K = <H, g>", read element
# by element. A representative is then built deterministically: start from the simplest basis
# projection and add further ones until no element outside H fixes it.
# ---------------------------------------------------------------------------------------------


class Elements:
    """A finite group's elements, grouped by rotation, as arrays built once per search.

    Point groups list their elements; space groups are read in their factored form (one coset
    r·T per point operation r), so a supercell's thousands of elements cost one permutation block
    per rotation, built when needed, and never one Python object each.
    """

    def __init__(self, G, H):
        self._wigner: dict[str, np.ndarray] = {}
        self._local: dict[bytes, tuple] = {}
        if G.periodic:
            self._init_space_group(G, H)
            return
        ops = G.operations
        mats = np.stack([op.matrix for op in ops])
        _, first, rotation_of = np.unique(np.round(mats, 6).reshape(len(mats), 9), axis=0,
                                          return_index=True, return_inverse=True)
        self._rotation_of = rotation_of = rotation_of.reshape(-1)
        self.rotations = mats[first]
        self.by_rotation = [np.flatnonzero(rotation_of == u) for u in range(len(first))]
        self._perms = np.array([op.permutation for op in ops])
        self.in_H = np.isin(G.element_keys(), H.element_keys())
        self.size = len(ops)

    def _init_space_group(self, G, H) -> None:
        cg = G.cell_group
        T, m = cg.T, len(G.translation_indices)
        self.rotations = np.stack([cg.reps[k].matrix for k in G.point_indices.tolist()])
        self.by_rotation = [np.arange(u * m, (u + 1) * m) for u in range(len(G.point_indices))]
        self._cosets = [(cg.rep_perm[k], np.asarray(T.add(np.full(m, v0), G.translation_indices)))
                        for k, v0 in zip(G.point_indices.tolist(), G.rep_shifts.tolist())]
        self._T = T
        self._perms = None
        self._blocks: dict[int, np.ndarray] = {}
        in_h = set(element_pairs(H)) if H.periodic and H.cell_group is cg else None
        if in_h is None:  # H built apart from G: compare elements by key
            ops = [cg.element(k, int(v)) for k, (_, vs) in zip(G.point_indices.tolist(), self._cosets) for v in vs]
            self.in_H = np.isin(operation_keys(ops), H.element_keys())
        else:
            self.in_H = np.array([(k, int(v)) in in_h
                                  for k, (_, vs) in zip(G.point_indices.tolist(), self._cosets) for v in vs])
        self.size = len(self.in_H)

    def perm_block(self, u: int, select=None) -> np.ndarray:
        """Permutations (len, N) of the elements with rotation u (``select``: positions among them)."""
        if self._perms is not None:
            members = self.by_rotation[u]
            return self._perms[members if select is None else members[select]]
        rep_perm, vs = self._cosets[u]
        if select is not None:
            return self._T.perms(vs[select])[:, rep_perm]
        if u not in self._blocks:
            block = self._T.perms(vs)[:, rep_perm]
            if self.size * block.shape[1] > CACHED_PERMUTATIONS:
                return block
            self._blocks[u] = block
        return self._blocks[u]

    def perm(self, g: int) -> np.ndarray:
        """The permutation of element g."""
        if self._perms is not None:
            return self._perms[g]
        u, j = divmod(g, len(self.by_rotation[0]))
        return self.perm_block(u, np.array([j]))[0]

    def local_permutations(self, sites: np.ndarray, local: np.ndarray):
        """Every element's permutation of one set of sites, in local indices, rotation by rotation.

        Returns (element indices, rotation numbers, permutations (|G|, len(sites))). Cached per set
        of sites: every irrep searched on the same orbit reads the same permutations.
        """
        key = np.asarray(sites).tobytes()
        if key not in self._local:
            order = np.concatenate(self.by_rotation)
            rot = np.concatenate([np.full(len(m), u) for u, m in enumerate(self.by_rotation)])
            dtype = np.int32 if len(sites) < 2**31 else np.int64
            perms = np.concatenate([local[self.perm_block(u)[:, sites]].astype(dtype)
                                    for u in range(len(self.by_rotation))])
            if self.size * len(sites) > CACHED_PERMUTATIONS:  # too big to keep for the next irrep
                return order, rot, perms
            self._local[key] = (order, rot, perms)
        return self._local[key]

    def rotation_index(self, g: int) -> int:
        """Which distinct rotation element g has."""
        if self._perms is None:  # space groups: elements numbered coset by coset
            return g // len(self.by_rotation[0])
        return int(self._rotation_of[g])

    def wigner(self, irreps: str) -> np.ndarray:
        """D(R) of each distinct rotation on ``irreps``."""
        if irreps not in self._wigner:
            self._wigner[irreps] = wigner_D(irreps, self.rotations)
        return self._wigner[irreps]


class Action:
    """The elements of a finite group G acting on one irrep, globally or on one set of sites.

    Each distinct rotation's Wigner matrix is applied once for all elements that share it.
    """

    CHUNK = 4_000_000  # floats per temporary array

    def __init__(self, elements: Elements, irreps: str, sites=None):
        self.elements = elements
        self.by_rotation = elements.by_rotation
        self.Du = elements.wigner(irreps)
        self.sites = None if sites is None else np.asarray(sites)
        if sites is not None:
            self.local = np.full(len(elements.perm(0)), -1)
            self.local[self.sites] = np.arange(len(self.sites))
        self.in_H = elements.in_H
        self.size = elements.size
        self._all = None

    def D(self, g: int) -> np.ndarray:
        """The Wigner matrix of element g."""
        return self.Du[self.elements.rotation_index(g)]

    def local_perm(self, g: int) -> np.ndarray:
        """Element g's permutation of the sites, in local indices."""
        return self.local[self.elements.perm(g)[self.sites]]

    def _all_local(self):
        """Elements rotation by rotation: their indices, rotation numbers and site permutations."""
        if self._all is None:
            self._all = self.elements.local_permutations(self.sites, self.local)
        return self._all

    def fixers_each(self, vs: list[np.ndarray], rtol: float) -> np.ndarray:
        """Masks (len(vs), |G|) of the elements that leave each vector unchanged.

        A vector v, (d,) global or (m, d) on the sites, is unchanged by g = (R, σ) when
        D(R) v[i] = v[σ(i)] for every site i, to ``rtol`` relative to its largest entry. For
        fields, a few sites where the vectors are largest are checked first: an element that
        fails there fails, and only the survivors are checked on every site.
        """
        V = np.stack(vs, axis=-1)  # (d, C) or (m, d, C)
        C = V.shape[-1]
        scale = np.maximum(np.abs(V).reshape(-1, C).max(axis=0), 1e-300)
        if self.sites is None:
            moved = np.zeros((self.size, C))
            for u, members in enumerate(self.by_rotation):
                moved[members] = np.abs(np.einsum("ab,bc->ac", self.Du[u], V) - V).max(axis=0)[None]
            return (moved <= rtol * scale).T
        out = np.zeros((self.size, C), dtype=bool)
        order, rot, perms = self._all_local()
        for c in range(C):  # each vector probed where it is largest: zeros there would prove nothing
            v = V[..., c]
            probe = np.argsort(-np.abs(v).max(axis=1), kind="stable")[:PROBE_SITES]
            limit = rtol * scale[c]
            gp = np.einsum("uab,mb->uma", self.Du, v[probe])  # D(R) v at the probe sites, per rotation
            # the largest site first, looked up rather than probed: g = (R_u, σ) can keep v only if
            # σ sends that site to one whose value is D(R_u) of its value
            lands = np.abs(v[None, :, :] - gp[:, 0, None, :]).max(axis=2) <= limit  # (rotations, m)
            todo = np.flatnonzero(lands[rot, perms[:, probe[0]]])
            near = np.abs(gp[rot[todo]] - v[perms[todo][:, probe]]).max(axis=(1, 2)) <= limit
            todo = todo[near]
            if not len(todo):
                continue
            used = distinct(rot[todo])  # D(R) v on every site, only for the rotations still in play
            gv = np.zeros((len(self.Du),) + v.shape)
            gv[used] = np.einsum("uab,mb->uma", self.Du[used], v)
            step = max(1, self.CHUNK // max(v.size, 1))
            for start in range(0, len(todo), step):
                idx = todo[start:start + step]
                out[order[idx], c] = np.abs(gv[rot[idx]] - v[perms[idx]]).max(axis=(1, 2)) <= limit
        return out.T

    def fixers(self, v: np.ndarray, rtol: float) -> np.ndarray:
        """Mask of the elements that leave v unchanged."""
        return self.fixers_each([v], rtol)[0]


def pointwise_fixers(action: Action, basis: np.ndarray, shape, rtol: float) -> np.ndarray:
    """Mask of the elements that fix every vector of span(basis) (columns) — exactly.

    A generic combination first rules out every element that moves it (an element that fixes
    the span fixes the combination too); the few left are checked on every basis vector.
    """
    B = basis.reshape(*shape, basis.shape[1])
    c = fixed_normals(7, basis.shape[1])
    maybe = action.fixers(B @ c, rtol)
    if action.sites is None:  # a global feature: whether g keeps it depends on g's rotation only
        for members in action.by_rotation:
            if np.any(maybe[members] & ~action.in_H[members]) and not _Single(action, members[0]).fixes(B, rtol):
                maybe[members] = False
        return maybe
    for g in np.flatnonzero(maybe & ~action.in_H):
        one = _Single(action, g)
        if not one.fixes(B, rtol):
            maybe[g] = False
    return maybe


class _Single:
    """One element of an action, to test a whole basis at once."""

    def __init__(self, action: Action, g: int):
        self.D = action.D(g)
        self.perm = None if action.sites is None else action.local_perm(g)

    def fixes(self, B: np.ndarray, rtol: float) -> bool:
        scale = max(float(np.max(np.abs(B), initial=0.0)), 1e-300)
        if self.perm is None:
            return float(np.max(np.abs(np.einsum("ab,bk->ak", self.D, B) - B), initial=0.0)) <= rtol * scale
        gB = np.einsum("ab,mbk->mak", self.D, B)
        return float(np.max(np.abs(gB - B[self.perm]), initial=0.0)) <= rtol * scale


def representative(action: Action, W: np.ndarray, shape, goal: np.ndarray, rtol: float) -> np.ndarray:
    """A unit vector of span(W) fixed by exactly the elements in ``goal`` (the pointwise fixers of W).

    Simple vectors first (projections of basis directions, which read as short polynomials);
    while an element outside ``goal`` still fixes v, add the simplest direction it moves. Each
    step removes at least that element, so the loop ends; the coefficients come from a fixed
    list, and one that happens to keep an element for a special value is skipped.
    """
    simple = list(projections(W, shape, limit=SIMPLE_CANDIDATES))
    # the first of the least symmetric: every vector of span(W) keeps at least the elements of goal,
    # so the first candidate kept by no more than those is that one, and the rest need no check
    fewest = int(np.sum(goal))
    start = fixed = None
    batch = len(simple) if action.sites is None else 1  # global vectors are checked all at once
    for k in range(0, len(simple), batch):
        masks = action.fixers_each(simple[k:k + batch], rtol)
        for j, mask in enumerate(masks):
            if fixed is None or int(mask.sum()) < int(fixed.sum()):
                start, fixed = k + j, mask
        if int(fixed.sum()) <= fewest:
            break
    v = simple[start]
    # every element outside goal moves some basis vector of W (that is what goal means)
    pool = simple + [W[:, k].reshape(shape) for k in range(W.shape[1])]
    while np.any(fixed & ~goal):
        g = int(np.flatnonzero(fixed & ~goal)[0])
        step = _without(action, v, fixed, g, pool, rtol)
        if step is None:  # impossible when goal is the pointwise fixer of W
            raise AssertionError("breaking search: no direction of W moves an element outside its fixers")
        v, fixed = step
    return v


def _without(action: Action, v: np.ndarray, fixed: np.ndarray, g: int, pool, rtol: float):
    """v plus a multiple of the first direction in ``pool`` that g moves, so that g no longer fixes
    it and nothing new does; (vector, its fixers), or None when no direction serves."""
    one = _Single(action, g)
    for u in pool:
        if one.fixes(u[..., None], rtol):
            continue
        for c in _COEFFICIENTS:
            w = (v + c * u) / np.linalg.norm(v + c * u)
            new = action.fixers(w, rtol)
            if not new[g] and not np.any(new & ~fixed):
                return w, new
    return None


def sparser(action: Action, v: np.ndarray, background: np.ndarray, goal: np.ndarray, rtol: float) -> np.ndarray:
    """v shifted along ``background`` so that it vanishes on as many sites as possible, when the
    shifted field is kept by exactly the elements in ``goal``; else v itself.

    A shift that zeroes v on some site i is the least-squares solution of B_i c = −v_i; the
    sites where v is smallest are tried (they hold the spread-out part a shift can remove).
    """
    m, d = v.shape
    B = background.reshape(m, d, -1)
    small = np.linalg.norm(v, axis=1)

    def zeros(w: np.ndarray) -> np.ndarray:
        return np.linalg.norm(w, axis=-1) <= 1e-9 * np.abs(w).max(axis=(-2, -1), keepdims=False)[..., None]

    nonzero = np.flatnonzero(small > 1e-9 * small.max())
    tries = nonzero[np.argsort(small[nonzero], kind="stable")][:SPARSE_TRIES]
    shifts = np.array([np.linalg.lstsq(B[i], -v[i], rcond=None)[0] for i in tries])
    shifted = v[None] + np.einsum("mdk,ck->cmd", B, shifts)
    counts = zeros(shifted).sum(axis=1)
    best = int(zeros(v[None])[0].sum())
    for c in np.argsort(-counts, kind="stable"):
        if counts[c] <= best:
            break
        w = shifted[c] / np.linalg.norm(shifted[c])
        if np.array_equal(action.fixers(w, rtol), goal):
            return w
    return v


SPARSE_TRIES = 16  # sites whose value a shift is fitted to cancel
_COEFFICIENTS = (0.5, 0.3, 0.7, 0.2, 0.9, 0.37, 0.61, 1.3, 0.11)
SIMPLE_CANDIDATES = 24  # basis projections tried for a readable representative
PROBE_SITES = 12  # sites checked before all of them
CACHED_PERMUTATIONS = 50_000_000  # entries of the permutation blocks kept between calls
