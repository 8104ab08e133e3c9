"""Duplicate frames: structures equal up to rotation (proper or improper), translation and permutation.

Two copies of one structure with different labels cost any model (equivariant or not) loss: the best
it can do is one answer for both. With the frame's group G on top, the best answer is
P_G(mean of the aligned labels), and the pair adds ½‖P_G y₁ − P_G y₂'‖² (units², summed over
entries) to the per-frame floors, whatever alignment is chosen (two alignments differ by an
element of G, which P_G absorbs).

Candidates come from a sort on an invariant fingerprint (formula and the sorted distances of the
atoms from their centroid, kept per frame by the scan); only candidates are read again and aligned
(Kabsch on matched triples of atoms, then an optimal assignment per species). Periodic frames are
not searched (their alignment needs the lattice's choice of cell as well).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import SymcheckError
from .labels import frame_labels
from .sources import kind_of, read_frame, xyz_offsets


@dataclass(frozen=True)
class Alignment:
    """B[perm[i]] ≈ R @ (A[i] − cA) + cB for every atom i: R orthogonal (3×3), perm an index array (N,)."""

    R: np.ndarray
    perm: np.ndarray
    rmsd: float
    max_deviation: float


class TooManyCandidates(Exception):
    """The fingerprints put more pairs within reach than a duplicate search may list (``count``)."""

    def __init__(self, count: int):
        super().__init__(count)
        self.count = count


MAX_CANDIDATE_PAIRS = 2_000_000  # pairs of distinct fingerprints; beyond, the search is skipped and says so


def candidate_pairs(keys: list[tuple[str, int, np.ndarray]], tol: float,
                    max_pairs: int = MAX_CANDIDATE_PAIRS) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of frames whose fingerprints agree within 2·tol (see :func:`candidates`);
    TooManyCandidates when the distinct fingerprints would give more than ``max_pairs``."""
    pairs, skipped = candidates(keys, tol, max_pairs)
    if skipped:
        raise TooManyCandidates(skipped)
    return pairs


def candidates(keys: list[tuple[str, int, np.ndarray]], tol: float,
               max_pairs: int = MAX_CANDIDATE_PAIRS) -> tuple[list[tuple[int, int]], int]:
    """(pairs (i, j), i < j, of frames whose fingerprints agree within 2·tol; pairs not listed).

    keys : (formula, frame index, fingerprint in Å — see ``analysis.fingerprint``) of every finite frame.
    Equal structures (each atom within tol) have centroids within tol, so each sorted radius differs by
    at most 2·tol, and so does each sorted nearest-neighbour distance.
    Frames with bit-for-bit equal fingerprints (copies of one structure) are paired with the first of
    them only, not with each other: n copies give n − 1 pairs, not n²/2. Distinct fingerprints are
    paired by a sweep (``_close_pairs``); when they would give more than ``max_pairs`` pairs (thousands of
    near-identical frames), those are counted (the second number) and not listed; the copies' pairs
    still are.
    """
    by_formula: dict[str, list[tuple[int, np.ndarray]]] = {}
    for f, idx, radii in keys:
        by_formula.setdefault(f, []).append((idx, np.asarray(radii, dtype=float)))
    pairs: list[tuple[int, int]] = []
    close: list[tuple[np.ndarray, np.ndarray]] = []
    total = 0
    reach = 2 * tol + 1e-5
    for items in by_formula.values():
        if len(items) < 2:
            continue
        idx = np.array([i for i, _ in items])
        R = np.stack([r for _, r in items])
        _, first, copy_of = np.unique(R, axis=0, return_index=True, return_inverse=True)
        copy_of = copy_of.reshape(-1)
        leaders = idx[first]  # np.unique keeps the first occurrence: the smallest frame index of each copy
        pairs.extend((int(leaders[c]), int(i)) for i, c in zip(idx, copy_of) if i != leaders[c])
        if len(first) > 1:
            a, b, count = _close_pairs(R[first], reach, max_pairs - total)
            total += count
            if total <= max_pairs:
                close.append((np.minimum(leaders[a], leaders[b]), np.maximum(leaders[a], leaders[b])))
    if total > max_pairs:
        return sorted(set(pairs)), total
    for lo, hi in close:
        pairs.extend(zip(lo.tolist(), hi.tolist()))
    return sorted(set(pairs)), 0


PAIR_BLOCK = 1 << 20  # window pairs checked at once by _close_pairs (memory: a few times this many floats)


def _close_pairs(R: np.ndarray, reach: float, budget: int) -> tuple[np.ndarray, np.ndarray, int]:
    """All pairs (a, b), a < b, of rows of R within ``reach`` in every entry (the max-norm), and their count.

    A sweep along the entry that varies most: rows sorted by it, each row is compared with the rows
    after it within ``reach`` there, in blocks, entry by entry (most varying first, so that most pairs
    are dropped after a few). A k-d tree in the 45 dimensions of a 10-atom fingerprint compares nearly
    all pairs and took 1.3 s for 2,000 MD frames of one molecule. Once more than ``budget`` pairs are
    found, they are only counted, not returned.
    """
    m, d = R.shape
    spread = R.max(axis=0) - R.min(axis=0)
    cols = np.argsort(-spread)
    order = np.argsort(R[:, cols[0]], kind="stable")
    S = R[order][:, cols]
    v = S[:, 0]
    hi = np.searchsorted(v, v + reach, side="right")
    width = hi - np.arange(m) - 1  # rows after i within reach in the first entry
    ends = np.cumsum(width)
    found_a, found_b, count, listed = [], [], 0, True
    start = 0
    while start < m:
        # rows start..stop-1, whose windows hold about PAIR_BLOCK pairs together
        stop = int(np.searchsorted(ends, (ends[start - 1] if start else 0) + PAIR_BLOCK, side="right"))
        stop = max(stop, start + 1)
        w = width[start:stop]
        ii = np.repeat(np.arange(start, stop), w)
        if len(ii):
            offsets = np.arange(len(ii)) - np.repeat(np.cumsum(w) - w, w)
            jj = ii + 1 + offsets
            keep = np.ones(len(ii), dtype=bool)
            for c in range(1, d):
                sel = np.flatnonzero(keep)
                if len(sel) == 0:
                    break
                keep[sel[np.abs(S[ii[sel], c] - S[jj[sel], c]) > reach]] = False
            a, b = order[ii[keep]], order[jj[keep]]
            count += len(a)
            if listed and count <= budget:
                found_a.append(np.minimum(a, b))
                found_b.append(np.maximum(a, b))
            else:
                listed, found_a, found_b = False, [], []
        start = stop
    if not found_a:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), count
    return np.concatenate(found_a), np.concatenate(found_b), count


def _kabsch(P: np.ndarray, Q: np.ndarray, proper: bool) -> np.ndarray:
    """Orthogonal R minimising Σ‖R p − q‖² (P, Q centred, rows); det R = +1 if proper else −1."""
    U, _, Vt = np.linalg.svd(P.T @ Q)
    d = np.sign(np.linalg.det(Vt.T @ U.T)) or 1.0
    want = 1.0 if proper else -1.0
    D = np.diag([1.0, 1.0, d * want])
    return Vt.T @ D @ U.T


def align(A: np.ndarray, sa, B: np.ndarray, sb, tol: float) -> Alignment | None:
    """An alignment of structure A onto B within tol (every atom within tol after it), or None.

    A, B : (N, 3) positions in Å; sa, sb : species. Rotations proper and improper are both tried
    (the models in question are O(3)-equivariant: a mirror image is the same input to them).
    """
    sa, sb = np.asarray(sa), np.asarray(sb)
    if len(A) != len(B) or sorted(sa.tolist()) != sorted(sb.tolist()):
        return None
    A0, B0 = A - A.mean(axis=0), B - B.mean(axis=0)
    if not _invariants_agree(A0, sa, B0, sb, tol):
        return None
    ra = np.linalg.norm(A0, axis=1)
    a1 = np.argsort(-ra)[0]  # the first anchor: farthest from the centroid
    if ra[a1] <= tol:  # a single point (or all at the centroid)
        return _assign(A0, sa, B0, sb, np.eye(3), tol)
    for R in _anchor_rotations(A0, sa, B0, sb, _anchors(A0, ra, a1, tol), tol):
        found = _assign(A0, sa, B0, sb, R, tol)
        if found is not None:
            return found
    return None


def _invariants_agree(A0: np.ndarray, sa: np.ndarray, B0: np.ndarray, sb: np.ndarray, tol: float) -> bool:
    """False when no alignment within tol can exist, decided from invariants per species (cheaper than
    trying anchors): matched atoms' distances from the centroids differ by at most tol and their
    interatomic distances by at most 2·tol, so the sorted lists per species (and per pair of species)
    do too, entry by entry. The fingerprint that made the pair a candidate ignores species."""
    slack = 1e-9 * (1.0 + float(np.abs(A0).max(initial=0.0)))
    kinds = sorted(set(sa.tolist()))
    ra, rb = np.linalg.norm(A0, axis=1), np.linalg.norm(B0, axis=1)
    da = np.linalg.norm(A0[:, None] - A0[None], axis=-1)
    db = np.linalg.norm(B0[:, None] - B0[None], axis=-1)
    for k, s in enumerate(kinds):
        ia, ib = sa == s, sb == s
        if np.max(np.abs(np.sort(ra[ia]) - np.sort(rb[ib]))) > tol + slack:
            return False
        for t in kinds[k:]:
            ja, jb = sa == t, sb == t
            pa, pb = da[np.ix_(ia, ja)], db[np.ix_(ib, jb)]
            if s == t:  # each distance once
                iu = np.triu_indices(len(pa), 1)
                pa, pb = pa[iu], pb[iu]
            if pa.size and np.max(np.abs(np.sort(pa, axis=None) - np.sort(pb, axis=None))) > 2 * tol + slack:
                return False
    return True


def _assign(A0: np.ndarray, sa: np.ndarray, B0: np.ndarray, sb: np.ndarray, R: np.ndarray,
            tol: float) -> Alignment | None:
    """The alignment that starts from rotation R, or None if some atom ends farther than tol.

    A0, B0 : centred positions (N, 3); sa, sb : species arrays; R : a trial rotation of A0 onto B0.
    Atoms are matched per species by an optimal assignment after R, then R is refitted on the matching.
    """
    from scipy.optimize import linear_sum_assignment

    moved = A0 @ R.T
    perm = np.empty(len(A0), dtype=int)
    for s in np.unique(sa):
        ia, ib = np.flatnonzero(sa == s), np.flatnonzero(sb == s)
        cost = np.linalg.norm(moved[ia, None, :] - B0[None, ib, :], axis=2)
        r, c = linear_sum_assignment(cost)
        perm[ia[r]] = ib[c]
    dev = np.linalg.norm(moved - B0[perm], axis=1)
    if dev.max() > 2 * tol + 1e-9:
        return None
    # refit on the full matching, for the best rotation
    R2 = _kabsch(A0, B0[perm], proper=np.linalg.det(R) > 0)
    dev = np.linalg.norm(A0 @ R2.T - B0[perm], axis=1)
    if dev.max() > tol + 1e-9:
        return None
    return Alignment(R2, perm, float(np.sqrt(np.mean(dev ** 2))), float(dev.max()))


def _anchors(A0: np.ndarray, ra: np.ndarray, a1, tol: float) -> list:
    """Up to three anchor atoms of A0 spanning the most volume (well conditioned), a1 first.

    A0 : centred positions; ra : their distances from the centroid; a1 : the first anchor. One anchor
    when the atoms are collinear, two when they are coplanar.
    """
    cross = np.linalg.norm(np.cross(A0[a1], A0), axis=1)
    a2 = int(np.argmax(cross))
    if cross[a2] <= tol * ra[a1]:
        return [a1]
    vol = np.abs(A0 @ np.cross(A0[a1], A0[a2]))
    a3 = int(np.argmax(vol))
    return [a1, a2, a3] if vol[a3] > tol * ra[a1] * ra[a2] else [a1, a2]


def _anchor_rotations(A0: np.ndarray, sa: np.ndarray, B0: np.ndarray, sb: np.ndarray, anchors: list, tol: float):
    """Trial rotations of A0 onto B0, per way of matching the anchors to atoms of B0 (lazily, in order).

    Each anchor may go to an atom of its species at its distance from the centroid (within 2·tol),
    pairs of anchors keeping their distance; collinear A gives R and −R per match of its one anchor,
    otherwise Kabsch's fit (proper, then improper) of the matched anchors.
    """
    ra, rb = np.linalg.norm(A0, axis=1), np.linalg.norm(B0, axis=1)
    slack = 2 * tol + 1e-9

    def matches(i: int) -> np.ndarray:
        return np.flatnonzero((sb == sa[i]) & (np.abs(rb - ra[i]) <= slack))

    dAA = np.linalg.norm(A0[:, None] - A0[None], axis=2)
    dBB = np.linalg.norm(B0[:, None] - B0[None], axis=2)
    for b1 in matches(anchors[0]):
        if len(anchors) == 1:  # collinear: the axis alone fixes the rotation up to symmetry
            R = _rotation_taking(A0[anchors[0]], B0[b1])
            yield from (R, -R)
            continue
        for b2 in matches(anchors[1]):
            if b2 == b1 or abs(dBB[b1, b2] - dAA[anchors[0], anchors[1]]) > 2 * slack:
                continue
            thirds = [None] if len(anchors) == 2 else [
                b3 for b3 in matches(anchors[2]) if b3 not in (b1, b2)
                and abs(dBB[b1, b3] - dAA[anchors[0], anchors[2]]) <= 2 * slack
                and abs(dBB[b2, b3] - dAA[anchors[1], anchors[2]]) <= 2 * slack]
            for b3 in thirds:
                src = A0[anchors] if b3 is not None else np.vstack([A0[anchors], np.zeros(3)])
                dst = B0[[b1, b2, b3]] if b3 is not None else np.vstack([B0[[b1, b2]], np.zeros(3)])
                yield _kabsch(src, dst, True)
                yield _kabsch(src, dst, False)


def _rotation_taking(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A proper rotation taking the direction of u to that of v."""
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    c = float(u @ v)
    w = np.cross(u, v)
    s = np.linalg.norm(w)
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        axis = np.cross(u, [1.0, 0, 0] if abs(u[0]) < 0.9 else [0, 1.0, 0])
        axis /= np.linalg.norm(axis)
        return 2 * np.outer(axis, axis) - np.eye(3)
    K = np.array([[0, -w[2], w[1]], [w[2], 0, -w[0]], [-w[1], w[0], 0]]) / s
    theta = np.arctan2(s, c)
    return np.eye(3) + np.sin(theta) * K + (1 - np.cos(theta)) * K @ K


def aligned_label(y: np.ndarray, irreps: str, per_point: bool, al: Alignment) -> np.ndarray:
    """Frame B's label expressed in frame A's orientation and atom order: y'_i = D(R)ᵀ y_B[perm[i]]."""
    from ..fixed import wigner_D

    D = wigner_D(irreps, al.R)
    if per_point:
        return y[al.perm] @ D  # rows: (Dᵀ v)ᵀ = vᵀ D
    return D.T @ y


@dataclass(frozen=True)
class Conflict:
    """Two equal frames whose label differs after alignment.

    indices : (i, j) frame numbers; conflict : ½‖P_G y_i − P_G y_j'‖² / (2·entries), the floor (units²,
    per entry) the pair adds over its two frames; added : ½‖P_G y_i − P_G y_j'‖² (units², summed).
    """

    indices: tuple[int, int]
    label: str
    conflict: float
    added: float
    entries: int


@lru_cache(maxsize=64)
def _offsets(path: str) -> tuple[int, ...]:
    return tuple(xyz_offsets(path))


def _load(where: dict[int, tuple[str, int]], index: int):
    path, frame = where[index]
    offsets = list(_offsets(path)) if kind_of(path) == "xyz" else None
    return read_frame(path, frame, offsets)


def find_conflicts(pairs, where: dict[int, tuple[str, int]], settings) -> tuple[list[tuple[int, int]], list[Conflict]]:
    """Check candidate pairs: (pairs that are equal structures, conflicts between their labels).

    where : frame index -> (file, frame in file). Clusters of more than two copies are compared with
    their first member; each label's added floor is then Σ over the cluster of ½‖P y_first − P y_j'‖²,
    which for clusters of two is exact and for larger ones an upper bound of the cluster's
    Σ‖P y_j − mean‖² (reported as such in the pair list).
    """

    # union-find: attach each duplicate to the smallest index of its cluster
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    equal = []

    @lru_cache(maxsize=256)  # pairs come sorted by their first frame: a small cache serves them, memory stays bounded
    def atoms_of(i):
        return _load(where, i)

    alignments = {}
    for i, j in pairs:
        if root(i) == root(j):
            continue
        ai, aj = atoms_of(root(i)), atoms_of(j)
        al = align(ai.positions, ai.get_chemical_symbols(), aj.positions, aj.get_chemical_symbols(), settings.tol)
        if al is None:
            continue
        equal.append((i, j))
        alignments[(root(i), j)] = al
        parent[j] = root(i)
    conflicts = []
    items = sorted(alignments.items())
    for start in range(0, len(items), CONFLICT_BLOCK):
        conflicts.extend(_block_conflicts(items[start:start + CONFLICT_BLOCK], atoms_of, where, settings))
    return equal, conflicts


CONFLICT_BLOCK = 256  # aligned pairs whose label differences (and groups) are held at once


def _block_conflicts(items, atoms_of, where, settings) -> list[Conflict]:
    """The conflicts of some aligned pairs ((first, j), alignment): the label differences first, then the groups
    of the first frames whose differences need one, found together (``symcheck.groups.batched`` for the clear
    asymmetric tops, the search for the others), then P_G of each difference."""
    from ..fixed import project
    from ..groups import symmetry_group
    from ..groups.batched import point_groups
    from ..io import from_ase

    pending = []  # (first, j, name, size, scale, difference)
    for (first, j), al in items:
        a_first, a_j = atoms_of(first), atoms_of(j)
        wf, wj = _where(where, first), _where(where, j)
        lf = {v.spec.name: v for v in frame_labels(a_first, settings.labels, wf)}
        lj = {v.spec.name: v for v in frame_labels(a_j, settings.labels, wj)}
        for name in sorted(set(lf) & set(lj)):
            vf, vj = lf[name], lj[name]
            if vf.spec != vj.spec or vf.y.shape != vj.y.shape:
                raise SymcheckError(f"{wj}: label {name!r} has another shape than in {wf}")
            scale = max(float(np.sum(vf.y ** 2)), float(np.sum(vj.y ** 2)))
            # P_G is linear and an orthogonal projection: P_G y_first − P_G y_j' = P_G (y_first − y_j'),
            # no longer than y_first − y_j'. A difference already within label_rtol needs no group.
            diff = vf.y - aligned_label(vj.y, vj.spec.irreps, vj.spec.per_point, al)
            if float(np.sum(diff * diff)) > settings.label_rtol ** 2 * scale:
                pending.append((first, j, vf.spec, scale, diff))
    firsts = sorted({p[0] for p in pending})
    structures = [from_ase(atoms_of(i), source=_where(where, i), features={}) for i in firsts]
    found = point_groups([s.positions for s in structures], [s.species for s in structures], settings.tol)
    groups = {i: g if g is not None else symmetry_group(s, settings.tol)
              for i, s, g in zip(firsts, structures, found, strict=True)}
    out = []
    for first, j, spec, scale, diff in pending:
        diff = project(groups[first], spec.irreps, diff, spec.per_point)
        added = 0.5 * float(np.sum(diff * diff))
        if added * 2 > settings.label_rtol ** 2 * scale:
            out.append(Conflict((first, j), spec.name, added / (2 * diff.size), added, int(diff.size)))
    return out


@dataclass(frozen=True)
class PairBatch:
    """Candidate pairs of whole components of the candidate graph, checked together by one worker.

    Pairs of different components never meet in ``find_conflicts`` (its clusters grow along
    candidate pairs), so components checked apart give the pairs and conflicts of one check of all.
    where : frame index -> (file, frame in file) for the frames of these pairs.
    """

    id: int
    pairs: tuple[tuple[int, int], ...]
    where: dict


def batches(pairs: list[tuple[int, int]], where: dict, size: int) -> list[PairBatch]:
    """Sorted candidate pairs split into batches of whole components, each of about ``size`` pairs or more."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.get(i, i) != i:
            parent[i] = parent.get(parent[i], parent[i])
            i = parent[i]
        return i

    for i, j in pairs:
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    components: dict[int, list[tuple[int, int]]] = {}
    for pair in pairs:
        components.setdefault(root(pair[0]), []).append(pair)
    out: list[PairBatch] = []
    current: list[tuple[int, int]] = []
    for first in sorted(components):
        current.extend(components[first])
        if len(current) >= size:
            out.append(_batch(len(out), current, where))
            current = []
    if current:
        out.append(_batch(len(out), current, where))
    return out


def _batch(k: int, pairs: list[tuple[int, int]], where: dict) -> PairBatch:
    frames = {i for pair in pairs for i in pair}
    return PairBatch(k, tuple(sorted(pairs)), {i: where[i] for i in sorted(frames)})


def check_batch(batch: PairBatch, settings) -> tuple[int, tuple[list[tuple[int, int]], list[Conflict]]]:
    """``find_conflicts`` on one batch (in a worker): (batch id, (equal pairs, conflicts))."""
    from .analysis import one_blas_thread

    with one_blas_thread():
        return batch.id, find_conflicts(list(batch.pairs), batch.where, settings)


def merge(results) -> tuple[list[tuple[int, int]], list[Conflict]]:
    """The results of ``check_batch`` over all batches, in the order one ``find_conflicts`` gives."""
    equal: list[tuple[int, int]] = []
    conflicts: list[Conflict] = []
    for _, (eq, conf) in results:
        equal.extend(eq)
        conflicts.extend(conf)
    return sorted(equal), sorted(conflicts, key=lambda c: (c.indices, c.label))


def _where(where, i) -> str:
    path, frame = where[i]
    return f"{path}: frame {frame}"

