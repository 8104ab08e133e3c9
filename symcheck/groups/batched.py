"""Point groups of many asymmetric-top molecules at once (the bulk of MD frames and of QM9), with numpy.

A finite structure whose second-moment tensor M = Σ yᵢ yᵢᵀ (y centred on the centroid) has three
well separated eigenvalues λ₁ < λ₂ < λ₃ can only have operations that (nearly) commute with M: every
operation (R, σ) that moves each atom by at most ``tol`` satisfies R M Rᵀ = M + E with a small E,
so R maps each principal axis v_k close to ±v_k (v_j · R v_k = v_jᵀ E R v_k / (λ_k − λ_j)). The group
is then a subgroup of the D2h whose eight elements are diag(±1, ±1, ±1) in the principal frame, and
the eight candidates are tested for a whole batch of frames at once.

The answer is the detector's (``symcheck.groups.detect.point_group``), decided only where it is
clear, with the detector's own tolerance semantics: a candidate D passes when, for the one atom
mapping σ within reach of R_D (each image's nearest atom of its species, the second nearest out of
reach), the orthogonal Procrustes fit R = polar(Σ y_σ(i) yᵢᵀ) of det D moves no atom by more than
``tol`` — the detector's refit and test. It fails when some atom has no atom of its species within
reach (tol + δ·rᵢ, δ bounding ‖R − R_D‖ for any operation near D), or when the mapping within reach
is not a permutation. A refit that lands within δ of another candidate's R_D (the same σ) is that
candidate's element, as the detector, which identifies elements by (det, σ), counts it. The passing
set, made an exact group as the detector makes it (``idealize``), must keep every element within
``tol``; and the frame's reference atoms must let the detector's own search find every element
(``_well_conditioned``), so that the answer is its answer. Every other case — near-degenerate moments (symmetric and
spherical tops, linear molecules, single atoms), ambiguous mappings, an error within 1e-9 Å of
``tol``, a passing set that is not a group — returns None, and the caller runs the detector: a
near-degenerate frame never gets an answer from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .group import polar

# The eight candidates diag(s) in the principal frame; the identity first.
SIGNS = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1],
                  [-1, -1, -1], [-1, 1, 1], [1, -1, 1], [1, 1, -1]], dtype=float)
_DETS = np.prod(SIGNS, axis=1)
# products of candidates: SIGNS[a] * SIGNS[b] = SIGNS[_PRODUCT[a, b]]
_PRODUCT = np.array([[int(np.flatnonzero(np.all(SIGNS == SIGNS[a] * SIGNS[b], axis=1))[0]) for b in range(8)]
                     for a in range(8)])

MAX_DEVIATION = 0.5  # bound on ‖R − R_D‖_F beyond which a frame counts as degenerate (left to the detector)
MAX_ATOMS = 96  # larger structures go to the detector one by one (the batch holds (frames, 8, N, N) distances)
BATCH_FLOATS = 4_000_000  # floats per distance array: frames of one size are processed in batches of this
BOUNDARY = 1e-9  # Å: an error this close to tol is left to the detector (rounding could decide it)


@dataclass(frozen=True)
class Operation:
    """One element (R, σ): ``matrix`` (3, 3) exact orthogonal, ``permutation`` (N,) with R yᵢ ≈ y_σ(i)."""

    matrix: np.ndarray
    permutation: np.ndarray


@dataclass(frozen=True, eq=False)
class BatchedGroup:
    """The point group of one frame found here: a subgroup of the principal-frame D2h.

    name : Schoenflies symbol (C1, Ci, C2, Cs, C2h, C2v, D2, D2h). order : number of elements.
    operations : the elements (identity first), as the detector's idealized matrices and permutations.
    signs : (order, 3) each element's diagonal in the principal frame.
    table : (order, order) multiplication table (table[g, h] = index of g·h).
    center : (3,) the centroid, Å. tol : the tolerance it was found with, Å.
    Offers what ``symcheck.fixed.project`` reads of a Group (``periodic``, ``finite``, ``operations``);
    :meth:`point_group` makes the full PointGroup (names of operations, generators, orbits).
    """

    name: str
    order: int
    operations: tuple
    signs: np.ndarray
    table: np.ndarray
    center: np.ndarray
    tol: float
    periodic: bool = False
    finite: bool = True
    infinite: bool = False
    kind: str = "point"

    def point_group(self):
        """The PointGroup the detector would build from these elements (``build_point_group``), without a search."""
        from .pointgroup import build_point_group

        return build_point_group(np.stack([op.matrix for op in self.operations]),
                                 np.stack([op.permutation for op in self.operations]), self.table, self.center,
                                 self.tol)


def _name(members: np.ndarray) -> str:
    """Schoenflies name of a subgroup of the principal-frame D2h given by its candidate indices."""
    s = SIGNS[members]
    det = np.prod(s, axis=1)
    n = len(members)
    if n == 1:
        return "C1"
    if n == 8:
        return "D2h"
    proper = int(np.sum(det > 0)) - 1  # C2 axes
    inversion = bool(np.any(np.all(s == -1, axis=1)))
    if n == 2:
        return "C2" if proper else ("Ci" if inversion else "Cs")
    if proper == 3:
        return "D2"
    return "C2h" if inversion else "C2v"


def _closed(mask: int) -> bool:
    members = [k for k in range(8) if mask >> k & 1]
    return all(_PRODUCT[a, b] in members for a in members for b in members)


_CLOSED = np.array([bool(m & 1) and _closed(m) for m in range(256)])


def point_groups(positions: list[np.ndarray], species: list, tol: float) -> list[BatchedGroup | None]:
    """The point group of each finite structure that is a clear asymmetric top, None for the others.

    Parameters
    ----------
    positions : per frame an (N, 3) array of positions, Å (N may differ between frames).
    species : per frame N labels (element symbols or integers): operations map atoms onto atoms of
        their species.
    tol : distance tolerance in Å, with the meaning of ``point_group``'s: an operation belongs to the
        group when it moves every atom to within ``tol`` of an atom of its species.

    Returns one entry per frame: a :class:`BatchedGroup` equal to what ``point_group`` finds (same
    elements, same idealized matrices to rounding), or None where the frame needs the full detector.
    """
    out: list[BatchedGroup | None] = [None] * len(positions)
    by_size: dict[int, list[int]] = {}
    for k, p in enumerate(positions):
        n = len(p)
        if 3 <= n <= MAX_ATOMS:
            by_size.setdefault(n, []).append(k)
    for n, frames in by_size.items():
        step = max(1, BATCH_FLOATS // (8 * n * n))
        for start in range(0, len(frames), step):
            idx = frames[start:start + step]
            X = np.stack([np.asarray(positions[k], dtype=float) for k in idx])
            # one code per species name for the whole batch, in sorted order (as the detector's np.unique)
            names = np.array([[str(x) for x in species[k]] for k in idx])
            labels = np.unique(names, return_inverse=True)[1].reshape(len(idx), n).astype(np.int64)
            for k, g in zip(idx, _batch(X, labels, tol), strict=True):
                out[k] = g
    return out


def _batch(X: np.ndarray, labels: np.ndarray, tol: float) -> list[BatchedGroup | None]:
    """:func:`point_groups` for F frames of N atoms each: X (F, N, 3) Å, labels (F, N) species codes."""
    F, N, _ = X.shape
    centers = X.mean(axis=1)
    Y = X - centers[:, None]
    r = np.linalg.norm(Y, axis=-1)  # (F, N)
    sq = np.sum(Y * Y, axis=-1)
    same = labels[:, :, None] == labels[:, None, :]  # (F, N, N)

    # the detector refuses atoms within tol of each other (an error it reports): leave those to it
    d2 = sq[:, :, None] + sq[:, None, :] - 2 * Y @ Y.transpose(0, 2, 1)
    d2[:, np.arange(N), np.arange(N)] = np.inf
    ok = np.sqrt(np.maximum(d2.min(axis=(1, 2)), 0.0)) > tol + BOUNDARY

    # principal frame and how far an operation within tol can be from a diagonal one in it:
    # ‖E‖₂ ≤ 2 √(Σ|eᵢ|²) √λ_max + Σ|eᵢ|² with |eᵢ| ≤ tol (Cauchy–Schwarz), and (M + E) R v_k = λ_k R v_k
    # gives v_j · R v_k = v_jᵀ E R v_k / (λ_k − λ_j) exactly, so column k of R − R_D (principal frame)
    # has squared length ≤ s_k² + s_k⁴ with s_k² = Σ_{j≠k} (‖E‖ / (λ_k − λ_j))²
    M = Y.transpose(0, 2, 1) @ Y
    w, V = np.linalg.eigh(M)
    cross = np.minimum(2 * np.sqrt(N) * tol * np.sqrt(np.maximum(w[:, 2], 0)), np.sum(2 * tol * r, axis=1))
    eps = cross + N * tol * tol
    diff = w[:, :, None] - w[:, None, :]  # (F, 3, 3)
    diff[:, np.arange(3), np.arange(3)] = np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.sum((eps[:, None, None] / diff) ** 2, axis=2)  # (F, 3)
    delta = np.sqrt(np.sum(s2 + s2 * s2, axis=1))
    ok &= np.isfinite(delta) & (delta <= MAX_DEVIATION) & (np.max(s2, axis=1) < 0.25)
    ok &= r.max(axis=1) > tol  # a single point within tol: an infinite group, the detector's
    ok &= _well_conditioned(Y, r, labels, d2, tol)
    if not np.any(ok):
        return [None] * F

    # the eight candidates R_D = V diag(s) Vᵀ and the images of every atom under them
    RD = (V[:, None] * SIGNS[None, :, None, :]) @ V[:, None].transpose(0, 1, 3, 2)  # (F, 8, 3, 3) V diag(s) Vᵀ
    Z = Y[:, None] @ RD.transpose(0, 1, 3, 2)  # (F, 8, N, 3) images R_D yᵢ
    dz = (np.sum(Z * Z, axis=-1)[..., None] + sq[:, None, None, :]
          - 2 * Z @ Y[:, None].transpose(0, 1, 3, 2))  # (F, 8, N, N) squared distances image -> atom
    dz = np.where(same[:, None], dz, np.inf)
    part = np.partition(dz, 1, axis=-1)  # N ≥ 3
    d1, dsecond = np.sqrt(np.maximum(part[..., 0], 0)), np.sqrt(np.maximum(part[..., 1], 0))
    j = np.argmin(dz, axis=-1)  # (F, 8, N)
    reach = tol + np.where(np.isfinite(delta), delta, 0.0)[:, None, None] * r[:, None, :] + BOUNDARY  # (F, 1, N)
    no_partner = np.any(d1 > reach, axis=-1)  # (F, 8): no operation near D
    unique = np.all(dsecond > reach, axis=-1)
    srt = np.sort(j, axis=-1)
    bijective = np.all(srt[..., 1:] != srt[..., :-1], axis=-1)
    candidate = unique & bijective & ~no_partner
    decided = no_partner | (unique & ~bijective) | candidate

    # the detector's refit and test on each candidate: R = polar(Σ y_σ(i) yᵢᵀ, det), max |R yᵢ − y_σ(i)| ≤ tol
    Ys = np.take_along_axis(Y[:, None], j[..., None], axis=2)  # (F, 8, N, 3) y_σ(i)
    R = RD.copy()
    err = np.full((F, 8), np.inf)
    fs, ss = np.nonzero(candidate & ok[:, None])  # only candidates are refitted (most D fail at once)
    if len(fs):
        H = np.einsum("kni,knj->kij", Ys[fs, ss], Y[fs])
        with np.errstate(invalid="ignore"):
            R[fs, ss] = polar(H, _DETS[ss])
        err[fs, ss] = np.max(np.linalg.norm(Y[fs] @ R[fs, ss].transpose(0, 2, 1) - Ys[fs, ss], axis=-1), axis=-1)
    valid = candidate & (err <= tol)
    decided &= ~(candidate & (np.abs(err - tol) <= BOUNDARY))
    # The refit may land on another candidate's element (the same σ: a planar frame's C2 about its normal
    # and the in-plane C2 it is taken from, say); the detector identifies elements by (det, σ) and keeps
    # one. A valid R lies within δ of exactly one diag(s) (distinct ones are ≥ 2 apart): it is that one's.
    dev = np.linalg.norm(R - RD, axis=(-2, -1))  # (F, 8) Frobenius distance from the candidate's own R_D
    own = dev <= delta[:, None] + BOUNDARY
    passed = valid & own
    decided &= ~(valid & (np.abs(dev - delta[:, None]) <= 2 * BOUNDARY))
    # the candidate whose element a valid refit is must pass itself, or the frame goes to the detector
    home = np.einsum("fik,fsij,fjk->fsk", V, R, V)  # R in the principal frame: its diagonal's signs
    home_index = (home < 0).astype(np.int64) @ np.array([4, 2, 1])
    sign_index = np.array([(s < 0).astype(int) @ np.array([4, 2, 1]) for s in SIGNS])
    which = np.argsort(sign_index)[home_index]  # (F, 8) the candidate nearest each refit
    decided &= ~(valid & ~own & ~np.take_along_axis(passed, which, axis=1))
    ok &= np.all(decided, axis=1) & passed[:, 0]
    masks = passed.astype(np.int64) @ (1 << np.arange(8))
    ok &= _CLOSED[masks]

    out: list[BatchedGroup | None] = [None] * F
    for mask in np.unique(masks[ok]):
        rows = np.flatnonzero(ok & (masks == mask))
        members = np.flatnonzero([mask >> k & 1 for k in range(8)])
        perms = j[rows][:, members]  # (f, n, N)
        # the permutations must compose as the matrices do (the detector identifies elements by them)
        table = np.searchsorted(members, _PRODUCT[np.ix_(members, members)])  # (n, n) local indices
        composed = np.take_along_axis(perms[:, :, None, :].repeat(len(members), 2),
                                      perms[:, None, :, :].repeat(len(members), 1), axis=-1)
        good = np.all(composed == perms[:, table], axis=(1, 2, 3))
        if len(members) == 1:  # C1: the identity (its refit is I to rounding, and idealizing keeps it)
            mats = np.broadcast_to(np.eye(3), (len(rows), 1, 3, 3)).copy()
        else:
            mats = _idealize(R[rows][:, members], table, _DETS[members])
        ideal_err = np.max(np.linalg.norm(Y[rows][:, None] @ mats.transpose(0, 1, 3, 2)
                                          - np.take_along_axis(Y[rows][:, None], perms[..., None], axis=2),
                                          axis=-1), axis=(1, 2))
        good &= ideal_err <= tol - BOUNDARY
        name = _name(members)
        for k in np.flatnonzero(good):
            ops = tuple(Operation(mats[k, g], perms[k, g]) for g in range(len(members)))
            out[rows[k]] = BatchedGroup(name=name, order=len(members), operations=ops, signs=SIGNS[members],
                                        table=table, center=centers[rows[k]], tol=tol)
    return out


def _well_conditioned(Y: np.ndarray, r: np.ndarray, labels: np.ndarray, d2: np.ndarray, tol: float) -> np.ndarray:
    """(F,) whether the detector's search surely finds every operation of the frame.

    The detector builds each candidate from the images of two reference atoms a, b (``_reference_atoms``)
    and matches class by class within a radius ℓ (``_match_radius``). For an operation R that moves no
    atom by more than tol, the candidate from a, b differs from it by an angle of at most
    φ ≈ 2 (tol / r_a + (tol + 2 r_b tol / r_a) / h_b) (h_b: b's distance from the line through a); a
    refit on matched atoms S ∋ a, b moves each of them by at most √|S| tol, so it differs from R by at
    most φ (√N + 1) / 2. Every atom's image then lands within tol + φ′ rᵢ of its partner; where that is
    within ℓ for every atom (ℓ ≤ 0.45 of the class's spacing: the partner is the nearest), the matching
    cannot miss. Where b lies almost on the line through a (a planar molecule's two central atoms, say)
    the detector can miss a mirror; such frames go to it, so that the answer stays its answer.
    Y (F, N, 3) centred positions, r (F, N) their norms, labels (F, N) species codes, d2 (F, N, N)
    squared distances with inf on the diagonal; tol in Å.
    """
    F, N = r.shape
    # the detector's classes: species, radii chained within tol (``detect._classes``)
    order = np.lexsort((r, labels), axis=-1)
    rs, ls = np.take_along_axis(r, order, 1), np.take_along_axis(labels, order, 1)
    new = np.ones((F, N), dtype=bool)
    new[:, 1:] = (ls[:, 1:] != ls[:, :-1]) | (np.diff(rs, axis=1) > tol)
    cls = np.empty((F, N), dtype=np.int64)
    np.put_along_axis(cls, order, np.cumsum(new, axis=1) - 1, 1)
    same_class = cls[:, :, None] == cls[:, None, :]
    size = same_class.sum(axis=-1)  # (F, N) atoms in each atom's class
    big = N + 1
    off = r > tol
    a = np.lexsort((-r, np.where(off, size, big)), axis=-1)[:, 0]
    rows = np.arange(F)
    ua = Y[rows, a] / r[rows, a][:, None]
    along = np.einsum("fni,fi->fn", Y, ua)
    h = np.linalg.norm(Y - along[..., None] * ua[:, None, :], axis=-1)
    off_line = h > tol / 2
    b = np.lexsort((-h, np.where(off_line, size, big)), axis=-1)[:, 0]
    ra, rb, hb = r[rows, a], r[rows, b], h[rows, b]
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = 2 * (tol / ra + (tol + 2 * rb * tol / ra) / hb) * max(1.0, (np.sqrt(N) + 1) / 2)
        spacing = np.sqrt(np.min(np.where(same_class, d2, np.inf), axis=-1))  # inf for a class of one
        loose = np.where(size > 1, np.maximum(tol, 0.45 * spacing), np.maximum(tol, 0.45 * np.maximum(r, tol)))
        fine = np.all(tol + phi[:, None] * r <= loose, axis=1)
    return fine & np.any(off_line, axis=1) & np.isfinite(phi)


def _idealize(R: np.ndarray, table: np.ndarray, dets: np.ndarray, iterations: int = 6) -> np.ndarray:
    """``symcheck.groups.group.idealize`` on a stack of frames with one multiplication table.

    R : (F, n, 3, 3) the elements' refitted matrices; table : (n, n) local indices of products;
    dets : (n,) their determinants. Each frame stops when its matrices change by < 1e-15, as there.
    """
    n = R.shape[1]
    live = np.ones(len(R), dtype=bool)
    for _ in range(iterations):
        if not np.any(live):
            break
        cur = R[live]
        M = np.einsum("fghij,fhkj->fgik", cur[:, table], cur) / n
        new = polar(M, np.broadcast_to(dets, M.shape[:2]))
        done = np.max(np.abs(new - cur), axis=(1, 2, 3)) < 1e-15
        R[live] = new
        live[np.flatnonzero(live)[done]] = False
    return R


__all__ = ["BatchedGroup", "Operation", "point_groups", "SIGNS"]
