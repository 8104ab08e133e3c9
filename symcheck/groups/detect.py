"""Point-group detection for finite point sets, with one distance tolerance for every decision.

The method:

1. Every symmetry operation fixes the centroid and maps each *class* onto itself, where a class
   is a single-linkage cluster of atoms with the same species and distances from the centroid
   within ``tol`` of each other.
2. An orthogonal map is fixed by the images of two atoms a, b that are not collinear with the
   centroid (and by its determinant). Taking a and b from small classes, every candidate is
   (a → a', b → b', det ±1) with a', b' in those classes at the right mutual distance.
3. Candidates are matched class by class (nearest neighbours, bijective), refined by orthogonal
   Procrustes on the matched atoms, and kept when every atom lands within ``tol`` of its image.
   The survivors, closed under composition, are made an exact group by averaging
   (R_g ← polar(mean_h R_gh R_hᵀ)), so that closure holds to machine precision.
4. Features must match: D(R) a_i = a_σ(i) within ``tol`` (e3nn Wigner matrices).

Collinear sets and single points have infinite groups; with non-scalar features those are
reduced by scanning the one-parameter families of operations about the axis (see ``infinite``).
"""

from __future__ import annotations

import numpy as np

from ..defaults import DEFAULT_TOL, FEATURE_ATOL
from ..errors import SymcheckError
from ..fixed import mismatch, wigner_D
from ..structure import Structure
from .group import close, distinct, element_keys, greedy_generators, idealize, polar
from .infinite import linear_group, single_point_group
from .naming import rotation, rotation_axis_angle
from .pointgroup import PointGroup, build_point_group


def check_tolerance(tol, where: str = "") -> float:
    """Validate a distance tolerance (Å): a finite positive number."""
    try:
        t = float(tol)
    except (TypeError, ValueError):
        raise SymcheckError(f"{where}tolerance must be a number of Å, got {tol!r}") from None
    if not np.isfinite(t) or t <= 0:
        raise SymcheckError(f"{where}tolerance must be a positive distance in Å, got {tol!r}")
    return t


def point_group(structure: Structure, tol: float = DEFAULT_TOL, feature_tol: float | None = None, *,
                fast_min_atoms: int | None = None) -> PointGroup:
    """The point group of a structure: every (R, σ) that maps points onto points.

    Parameters
    ----------
    structure : the points; species and features must match under each operation.
    tol : distance tolerance in Å, used for every decision: an operation belongs to the group
        when it moves every point to within ``tol`` of a point of the same species.
    feature_tol : how far (in the features' own units, not Å) an operation may change the features;
        default :data:`symcheck.defaults.FEATURE_ATOL`.
    fast_min_atoms : from this many atoms on, the atoms left after the first
        ``FAST_PREFIX_ATOMS`` are matched by the group's generators only (the same group, faster);
        default ``FAST_MIN_ATOMS`` (2000).
    """
    where = f"{structure.source}: " if structure.source else ""
    tol = check_tolerance(tol, where)
    ftol = FEATURE_ATOL if feature_tol is None else float(feature_tol)
    if structure.periodic:
        raise SymcheckError(
            f"{where}the structure is periodic (it has a cell): point_group describes finite point sets; "
            "use symmetry_group (or space_group) for its space group"
        )
    X = structure.positions
    center = X.mean(axis=0)
    Y = X - center
    _check_separation(Y, tol, where)
    labels = _labels(structure)

    if len(Y) == 1 or np.max(np.linalg.norm(Y, axis=1)) <= tol:
        return single_point_group(structure, center, tol, ftol)
    axis = _line_axis(Y)
    perp = Y - np.outer(Y @ axis, axis)
    along = np.sort(Y @ axis)
    # collinear within tol: the rotations about the line (a half turn moves a point at distance h
    # from it by 2h) move no point by more than tol; and still distinct points once put on the line
    if 2 * np.max(np.linalg.norm(perp, axis=1)) <= tol:
        if np.all(np.diff(along) > tol):
            return linear_group(structure, Y, labels, axis, center, tol, ftol)
        raise SymcheckError(
            f"{where}at tolerance {tol:g} Å the points lie within tol of a line but two of them would merge on it; "
            "use a smaller tolerance"
        )

    mats, perms, table, key_atoms = _finite_operations(Y, labels, tol, fast_min_atoms)
    if structure.features is not None:
        mats, perms, table = _keep_feature_preserving(structure, mats, perms, ftol, key_atoms)
    return build_point_group(mats, perms, table, center, tol)


def _check_separation(Y: np.ndarray, tol: float, where: str) -> None:
    if len(Y) < 2:
        return
    if len(Y) <= 64:  # small sets: all pairs is cheaper than building a tree
        d = np.linalg.norm(Y[:, None] - Y[None], axis=-1)
        d[np.diag_indices(len(Y))] = np.inf
        pairs = np.argwhere(d <= tol)
    else:
        from scipy.spatial import cKDTree

        pairs = cKDTree(Y).query_pairs(tol, output_type="ndarray")
    if len(pairs):
        i, j = (int(k) for k in pairs[0])
        d = float(np.linalg.norm(Y[i] - Y[j]))
        raise SymcheckError(
            f"{where}points {i} and {j} are {d:.3g} Å apart, closer than the tolerance {tol:g} Å "
            "(coincident points)"
        )


def _labels(structure: Structure) -> np.ndarray:
    """Integer label per point: its species. (Features are checked exactly later.)"""
    _, inv = np.unique(np.array(structure.species, dtype=object).astype(str), return_inverse=True)
    return inv.astype(np.int64)


def _line_axis(Y: np.ndarray) -> np.ndarray:
    _, _, vt = np.linalg.svd(Y, full_matrices=False)
    return vt[0]


def _classes(Y: np.ndarray, labels: np.ndarray, tol: float) -> np.ndarray:
    """Class id per atom: same label, radii chained within tol (invariant under every operation)."""
    r = np.linalg.norm(Y, axis=1)
    order = np.lexsort((r, labels))
    new = np.ones(len(Y), dtype=bool)
    new[1:] = (labels[order][1:] != labels[order][:-1]) | (np.diff(r[order]) > tol)
    cls = np.empty(len(Y), dtype=np.int64)
    cls[order] = np.cumsum(new) - 1
    return cls


def _frames(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Orthonormal frames (…, 3, 3), columns (â, b̂⊥, â × b̂⊥), from stacked vectors a, b."""
    e1 = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b_perp = b - np.sum(b * e1, axis=-1, keepdims=True) * e1
    e2 = b_perp / np.linalg.norm(b_perp, axis=-1, keepdims=True)
    e3 = np.cross(e1, e2)
    return np.stack([e1, e2, e3], axis=-1)


def _finite_operations(Y: np.ndarray, labels: np.ndarray, tol: float, fast_min_atoms: int | None = None):
    """All (R, σ) mapping the centred points onto themselves within tol (a finite group); see point_group.

    Y : (N, 3) centred positions, Å; labels : (N,) integer species; tol : distance tolerance, Å;
    fast_min_atoms : from this many atoms on, finish by generators (``FAST_MIN_ATOMS`` when None).
    Returns (rotations, permutations, multiplication table, key atoms), the key atoms being those of
    the two reference atoms' classes.
    """
    fast_min_atoms = FAST_MIN_ATOMS if fast_min_atoms is None else fast_min_atoms
    r = np.linalg.norm(Y, axis=1)
    cls = _classes(Y, labels, tol)
    sizes = np.bincount(cls)
    a, b = _reference_atoms(Y, r, cls, sizes, tol)
    A = np.flatnonzero(cls == cls[a])
    B = np.flatnonzero(cls == cls[b])
    cand = _pair_candidates(Y, A, B, a, b, tol)
    key_atoms = distinct(np.concatenate([A, B]))  # np.union1d(A, B)
    done = np.zeros(len(Y), dtype=bool)
    by_generators = len(Y) >= fast_min_atoms
    # classes in order: those of a and b first (they fix R best), then small ones (cheap pruning)
    order = sorted(range(len(sizes)), key=lambda c: (c not in (cls[a], cls[b]), sizes[c]))
    for step, c in enumerate(order):
        if by_generators and done.sum() >= FAST_PREFIX_ATOMS and step >= 3:
            # large sets: the group is known from the atoms matched so far; check only its
            # generators on the rest and compose the other permutations
            found = _finish_by_generators(Y, labels, tol, cand, done, key_atoms)
            if found is not None:
                return found
            by_generators = False  # no second attempt: match class by class to the end
        idx = np.flatnonzero(cls == c)
        refit = step == 1 or step == len(order) - 1 or step % 8 == 7
        if not cand.match(Y, idx, _match_radius(Y[idx], r[idx[0]], tol), refit):
            break
        done[idx] = True
    live = cand.verified(Y, tol)
    _, first = np.unique(element_keys(cand.det[live], cand.perm[live], decimals=0), return_index=True)
    keep = live[np.sort(first)]
    closed = valid_closure(list(cand.R[keep]), list(cand.perm[keep]), key_atoms,
                           lambda M, P: _displacement(Y, M, P), tol)
    return (*closed, key_atoms)


def _reference_atoms(Y: np.ndarray, r: np.ndarray, cls: np.ndarray, sizes: np.ndarray, tol: float) -> tuple:
    """The two atoms (a, b) whose images fix each candidate operation.

    a : in a smallest class among the atoms at least half as far out as the farthest (ties: farthest
    out); b : in a smallest class among the atoms at least half as far from the line through a as
    the farthest (ties: farthest from the line). The frame of (a, b) fixes each candidate to an angle
    of about tol / (distance): an atom barely off the centre or the line would let candidates miss
    operations that hold within tol. r : |Y| per atom; cls, sizes : class per atom and atoms per
    class.
    """
    off = np.flatnonzero(r >= max(tol, 0.5 * r.max()))
    a = off[np.lexsort((-r[off], sizes[cls[off]]))[0]]
    ua = Y[a] / r[a]
    h = np.linalg.norm(Y - np.outer(Y @ ua, ua), axis=1)
    # Not collinear by the caller's test (about the best line); the line through a may still pass within
    # tol/2 of every point (a rattled linear molecule): then b is the atom farthest from it.
    if h.max() <= 1e-9 * r[a]:
        raise SymcheckError("the points are collinear with the centre but not within tol of a line")
    cand_b = np.flatnonzero(h >= min(max(tol / 2, 0.5 * h.max()), h.max()))
    b = cand_b[np.lexsort((-h[cand_b], sizes[cls[cand_b]]))[0]]
    return a, b


def _pair_candidates(Y: np.ndarray, A: np.ndarray, B: np.ndarray, a, b, tol: float) -> _Candidates:
    """The candidates: each orthogonal map taking atoms (a, b) to a pair (a′, b′) as far apart.

    A, B : the atoms of a's and b's classes, where a′ and b′ are taken (distance within 2·tol).
    Proper maps first, then improper. A b′ collinear with a′ gives NaN, rejected by matching.
    """
    dab = np.linalg.norm(Y[a] - Y[b])
    pa, pb = np.repeat(A, len(B)), np.tile(B, len(A))
    ok = (pa != pb) & (np.abs(np.linalg.norm(Y[pa] - Y[pb], axis=1) - dab) <= 2 * tol + 1e-12)
    pa, pb = pa[ok], pb[ok]
    F0 = _frames(Y[a], Y[b])
    with np.errstate(invalid="ignore", divide="ignore"):  # b′ collinear with a′: NaN, rejected later
        F1 = _frames(Y[pa], Y[pb])
    flip = np.diag([1.0, 1.0, -1.0])
    R = np.concatenate([F1 @ F0.T, (F1 @ flip) @ F0.T])  # proper, then improper
    det = np.concatenate([np.ones(len(pa)), -np.ones(len(pa))])
    return _Candidates(R, det, len(Y))


def _match_radius(P: np.ndarray, r0: float, tol: float) -> float:
    """How far an image may land from its nearest atom of a class, during matching.

    P : the class's positions (rows); r0 : its first atom's distance from the centre. 0.45 of the
    class's smallest spacing (of r0 for a single atom), at least tol.
    """
    if len(P) > 1:
        d_c = np.min(_pair_distances(P)) if len(P) <= 512 else tol
        return max(tol, 0.45 * d_c)
    return max(tol, 0.45 * max(r0, tol))


class _Candidates:
    """Candidate operations, matched class by class (see :func:`_finite_operations`).

    R : (K, 3, 3) rotations, refitted as atoms are matched; det : (K,) ±1; perm : (K, N) image of
    each matched atom (−1 before it is matched); H : (K, 3, 3) Procrustes cross-covariance of the
    matched atoms; alive : (K,) still possible.
    """

    __slots__ = ("R", "det", "perm", "H", "alive")

    def __init__(self, R: np.ndarray, det: np.ndarray, n: int):
        self.R, self.det = R, det
        self.perm = np.full((len(R), n), -1, dtype=np.int64)
        self.H = np.zeros((len(R), 3, 3))
        self.alive = np.ones(len(R), dtype=bool)

    def refit(self, live: np.ndarray) -> None:
        """R ← the orthogonal matrix (of its det) nearest H, for the candidates ``live``."""
        self.R[live] = polar(self.H[live], self.det[live])

    def match(self, Y: np.ndarray, idx: np.ndarray, loose: float, refit: bool) -> bool:
        """Match one class; False when no candidate was alive.

        idx : the class's atoms (of Y); a candidate survives when each one's image lies within ``loose``
        of a distinct atom of the class. refit : refit R on the survivors afterwards.
        """
        live = np.flatnonzero(self.alive)
        if len(live) == 0:
            return False
        P = Y[idx]
        img = P @ self.R[live].transpose(0, 2, 1)  # (K, m, 3)
        j, dist = _nearest(img, P)
        good = np.all(dist <= loose, axis=1)
        # bijective within the class
        srt = np.sort(j, axis=1)
        good &= np.all(srt[:, 1:] != srt[:, :-1], axis=1) if len(idx) > 1 else True
        self.alive[live[~good]] = False
        live = live[good]
        self.perm[live[:, None], idx[None, :]] = idx[j[good]]
        self.H[live] += np.einsum("kmi,mj->kij", Y[idx[j[good]]], P)
        if refit and len(live):
            self.refit(live)
        return True

    def verified(self, Y: np.ndarray, tol: float) -> np.ndarray:
        """Refit every candidate alive; those that move every atom to within tol of its image."""
        live = np.flatnonzero(self.alive)
        self.refit(live)
        err = np.max(np.linalg.norm(Y @ self.R[live].transpose(0, 2, 1) - Y[self.perm[live]], axis=-1), axis=1)
        return live[err <= tol]


def _finish_by_generators(Y: np.ndarray, labels: np.ndarray, tol: float, cand: _Candidates, done: np.ndarray,
                          key_atoms: np.ndarray):
    """:func:`_finite_operations`'s result by the generators of the candidates alive; None if one fails.

    cand : the candidates, matched on the atoms ``done`` so far; the generators of their group are
    matched on the rest (see :func:`_extend_by_generators`).
    """
    live = np.flatnonzero(cand.alive)
    cand.refit(live)
    found = _extend_by_generators(Y, labels, tol, cand.R[live], cand.det[live], cand.perm[live], done, key_atoms)
    if found is None:
        return None
    return (*valid_closure(*found, key_atoms, lambda M, P: _displacement(Y, M, P), tol), key_atoms)


FAST_MIN_ATOMS = 2000  # from this size on, the rest of the atoms are matched by generators only
FAST_PREFIX_ATOMS = 300  # atoms matched class by class before that


def _extend_by_generators(Y, labels, tol, R, det, perm, done, key_atoms):
    """Full permutations of a group found on part of the atoms, by matching only its generators.

    The candidates (R, σ restricted to the atoms already matched) are made an exact group; each
    generator is matched on the remaining atoms with one k-d tree, and every other element's
    permutation is composed from the generators'. None if a generator does not match (then the
    caller goes on class by class). The caller still checks every element on every atom.
    """
    from scipy.spatial import cKDTree

    _, first = np.unique(element_keys(det, perm[:, done], decimals=0), return_index=True)
    first = np.sort(first)
    mats, perms, _ = close_group(R[first], perm[first], key_atoms)
    mats = np.array(mats)
    keys = element_keys(mats)
    identity = np.eye(3)[None]

    def reached(chosen: list[int]) -> np.ndarray:
        return np.isin(keys, close(mats[chosen], np.matmul, element_keys, start=identity).keys)

    gens = greedy_generators(len(mats), reached)
    rest = np.flatnonzero(~done)
    tree = cKDTree(Y[rest])
    nearest, _ = tree.query(Y[rest], k=2)
    loose = max(tol, 0.45 * float(np.min(nearest[:, 1])))
    full = []
    for g in gens:
        dist, j = tree.query(Y[rest] @ mats[g].T)
        if np.max(dist) > loose or np.any(labels[rest[j]] != labels[rest]) or len(np.unique(j)) != len(rest):
            return None
        p = np.array(perms[g])
        p[rest] = rest[j]
        full.append(p)
    # every element as a word in the generators (the closure's spanning tree): σ_{g·x} = σ_g ∘ σ_x
    words = close(mats[gens], np.matmul, element_keys, start=identity)
    if len(words.keys) != len(mats):
        return None
    composed = [np.arange(len(Y))]
    for g, x in zip(words.parent_generator[1:].tolist(), words.parent_element[1:].tolist()):  # parents first
        composed.append(full[g][composed[x]])
    position = dict(zip(words.keys.tolist(), range(len(mats))))
    return mats, [composed[position[k]] for k in keys.tolist()]


def _displacement(Y: np.ndarray, mats, perms) -> np.ndarray:
    """max_i |R (r_i − c) − (r_σ(i) − c)| for each operation."""
    M, P = np.array(mats), np.array(perms)
    return np.max(np.linalg.norm(Y @ M.transpose(0, 2, 1) - Y[P], axis=-1), axis=1)


def valid_closure(mats, perms, key_atoms, error, tol):
    """The group generated by operations that pass, shrunk until every element passes at tol.

    Averaging a closed set into an exact group can push an element that passed just inside
    the tolerance to just outside it (noisy input, tol near the noise). Then the worst
    element (and everything it generates) is dropped from the generating set and the group
    is built again, so that every reported operation keeps its promise.
    """
    mats, perms = list(mats), list(perms)
    while True:
        group_m, group_p, table = close_group(mats, perms, key_atoms)
        err = error(group_m, group_p)
        if np.all(err <= tol) or len(mats) <= 1:
            return group_m, group_p, table
        worst = int(np.argmax(err))
        bad = element_keys(np.sign(np.linalg.det(group_m[worst]))[None], group_p[worst][None], decimals=0)[0]
        keys = element_keys(np.sign(np.linalg.det(np.array(mats))), np.array(perms), decimals=0)
        keep = np.flatnonzero(keys != bad).tolist()
        if len(keep) == len(mats):  # the worst element is only a product: drop the worst generator
            gen_err = error(mats, perms)
            gen_err[0 if len(mats) == 1 else int(np.argmin(gen_err))] = -1  # never the identity
            keep = [k for k in range(len(mats)) if k != int(np.argmax(gen_err))]
        mats, perms = [mats[k] for k in keep], [perms[k] for k in keep]


def _pair_distances(P: np.ndarray) -> np.ndarray:
    d = np.linalg.norm(P[:, None, :] - P[None, :, :], axis=-1)
    return d[np.triu_indices(len(P), 1)]


def _nearest(img: np.ndarray, P: np.ndarray):
    """Index of and distance to the nearest point of P for each image point (K, m, 3)."""
    K, m, _ = img.shape
    if m <= 512:
        # |x − p|² = |x|² + |p|² − 2 x·p: one matrix product instead of a (K, m, m, 3) difference
        d2 = np.sum(img**2, axis=-1)[..., None] + np.sum(P**2, axis=-1) - 2 * img @ P.T
        j = np.argmin(d2, axis=-1)
        d2j = np.take_along_axis(d2, j[..., None], axis=-1)[..., 0]
        return j, np.sqrt(np.maximum(d2j, 0.0))
    from scipy.spatial import cKDTree

    dist, j = cKDTree(P).query(img.reshape(-1, 3))
    return j.reshape(K, m), dist.reshape(K, m)


def close_group(mats: list[np.ndarray], perms: list[np.ndarray], key_atoms: np.ndarray):
    """Close a set of operations under composition and make it an exact group.

    Elements are identified by their determinant and their permutation of ``key_atoms``, a set
    of atoms that every operation maps onto itself and that is not collinear with the centre
    (so the identification is faithful while the matrices are still approximate). Products are
    σ_gh = σ_g ∘ σ_h; matrices are then averaged into an exact representation:
    R_g ← polar(mean_h R_gh R_hᵀ). Returns the matrices, the full permutations and the
    multiplication table (table[g, h] = index of gh).
    """
    mats = np.array(mats, dtype=float).reshape(-1, 3, 3)
    perms = np.array(perms, dtype=np.int64).reshape(len(mats), -1)
    local = np.full(perms.shape[1], -1, dtype=np.int64)
    local[key_atoms] = np.arange(len(key_atoms))
    # elements as (R, σ on the key atoms locally indexed, det R)
    ops = (mats, local[perms[:, key_atoms]], np.where(np.linalg.det(mats) > 0, 1.0, -1.0))
    found = close(ops, _multiply, _key)
    n0 = len(found.table)  # the distinct starting operations (the closure's generators)
    full = list(perms if n0 == len(perms) else perms[_first_of_keys(ops)])
    if len(found.keys) > n0:  # products were missing: full permutations from the words that made them
        for g, x in zip(found.parent_generator[n0:].tolist(), found.parent_element[n0:].tolist()):
            full.append(full[g][full[x]])
        found = close(found.elements, _multiply, _key)  # closed now: one layer, the whole table
    return idealize(found.elements[0], found.table), full, found.table


def _multiply(A: tuple, B: tuple) -> tuple:
    return A[0] @ B[0], np.take_along_axis(A[1], B[1], axis=1), A[2] * B[2]


def _key(ops: tuple) -> np.ndarray:
    return element_keys(ops[2], ops[1], decimals=0)


def _first_of_keys(ops: tuple) -> np.ndarray:
    """Positions of the first operation with each key, in order (the closure's deduplication)."""
    _, first = np.unique(_key(ops), return_index=True)
    return np.sort(first)


def _keep_feature_preserving(structure: Structure, mats, perms, tol, key_atoms):
    a = structure.features

    def change(M, P):
        return mismatch(wigner_D(structure.feature_irreps, np.array(M)), a, np.array(P))

    err = change(mats, perms)
    keep = [k for k in range(len(mats)) if err[k] <= tol]
    return valid_closure([mats[k] for k in keep], [perms[k] for k in keep], key_atoms, change, tol)


__all__ = ["point_group", "rotation", "rotation_axis_angle", "DEFAULT_TOL", "check_tolerance"]
