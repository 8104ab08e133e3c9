"""Fixed spaces of group actions on fields: P_G, Fix_G, which elements keep a field, symmetric positions.

A group element g = (R, σ) acts on a per-point field y (N × d, rows in the irreps' basis) as
``(g·y)[σ(i)] = D(R) y[i]`` and on a global quantity (d,) as ``D(R) y``. R is any orthogonal
3 × 3 matrix; improper R act through each irrep's parity (e3nn's convention, symcheck.o3).

This module is the one place where

- a field's change under the elements, max_i |D(R_g) y[i] − y[σ_g(i)]|, is computed (:func:`mismatch`);
- the projection P_G (the Reynolds average; cosets after translations for space groups) and the
  fixed space Fix_G are built (:func:`project`, :func:`fixed_space`, :func:`field_fixed_space`);
- the elements that keep a field are found (:func:`changes`, :func:`stabilizer_pairs`);
- positions are symmetrized (:func:`symmetric_positions`; :func:`affine_average` for crystals);
- irrep components are projected out (:func:`irrep_project`, :func:`images_under`).

Groups are read through their attributes only (the kind: ``finite``, ``infinite``, ``periodic``;
``operations``, ``generators``; periodic groups, stored as point part × translations, also
``cell_group``, ``coset_representatives``, ``point_indices``, ``rep_shifts``,
``translation_indices``), so nothing here imports ``symcheck.groups``: detection uses the same
checks. Building a named subgroup from the kept elements is the groups' job
(``symcheck.groups.stabilizer.stabilizer``).
"""

from __future__ import annotations

import sys
import weakref
from contextlib import contextmanager

import numpy as np

from .o3 import Irreps, irreps_D

CHUNK = 4_000_000  # floats per temporary array in the element-by-element checks


@contextmanager
def one_torch_thread():
    """Run torch single-threaded for the analysis's many tiny tensors, then restore the setting.

    With a thread pool every small kernel pays for waking the threads: analysing C60 took
    1.38 s with 2 threads and 0.30 s with one.
    """
    torch = sys.modules.get("torch")  # the analysis itself no longer runs torch: never import it here
    if torch is None or torch.get_num_threads() == 1:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def wigner_D(irreps: str | Irreps, R: np.ndarray) -> np.ndarray:
    """The matrix of the orthogonal 3×3 ``R`` (or a stack of them, (..., 3, 3)) on ``irreps`` (e3nn basis).

    Improper R act through each irrep's parity: D_{l,p}(R) = p^[det R < 0] · D_l(det R · R).
    numpy only (symcheck.o3), equal to e3nn's ``Irreps(irreps).D_from_matrix`` to 1e-12 (tests/test_o3.py).
    """
    return irreps_D(irreps, R)


def act(irreps: str | Irreps, R: np.ndarray, permutation: np.ndarray | None, y: np.ndarray, D=None) -> np.ndarray:
    """Apply g = (R, σ) to a field: per-point (N, d) when ``permutation`` is given, else global (d,)."""
    D = wigner_D(irreps, R) if D is None else D
    gy = y @ D.T
    if permutation is None:
        return gy
    out = np.empty_like(gy)
    out[permutation] = gy
    return out


def mismatch(Ds: np.ndarray | None, y: np.ndarray, perms: np.ndarray | None = None, *, which=None, rows=None,
             onto: np.ndarray | None = None, chunk: int = CHUNK) -> np.ndarray:
    """How far each element moves a field: max over sites i and components of |D(R_g) y[i] − y[σ_g(i)]|.

    g keeps y exactly when this is zero. Elements sharing a rotation share its D y, so a space
    group passes its distinct rotations once and ``which`` for its elements.

    Parameters
    ----------
    Ds : (U, d, d) Wigner matrices (or one (d, d)); None for the identity (pure translations).
    y : the field, (d,) global or (N, d) per point (the field's units).
    perms : (G, n) images σ_g(i) of the compared sites; None for a global field.
    which : (G,) row of ``Ds`` for each element; default element g uses Ds[g].
    rows : the sites i compared (default every site); ``perms[:, k]`` is then σ_g(rows[k]).
    onto : the field compared with, default ``y`` (t·z = y for a candidate translation t, say).
    chunk : floats per temporary array (elements are compared in chunks of about this size).

    Returns
    -------
    (G,) the largest change of an entry, in the field's units.
    """
    y = np.asarray(y, dtype=float)
    onto = y if onto is None else np.asarray(onto, dtype=float)
    if Ds is not None:
        Ds = np.asarray(Ds, dtype=float)
        Ds = Ds[None] if Ds.ndim == 2 else Ds
    if perms is None:  # global: one D y per rotation
        moved = y[None] if Ds is None else Ds @ y
        change = np.abs(moved - onto).max(axis=-1, initial=0.0)
        if Ds is None:
            return change
        return change if which is None else change[np.asarray(which)]
    perms = np.asarray(perms)
    perms = perms[None] if perms.ndim == 1 else perms
    src = y if rows is None else y[np.asarray(rows)]
    out = np.empty(len(perms))
    step = max(1, chunk // max(src.size, 1))
    shared = None if which is None or Ds is None else np.einsum("uab,nb->una", Ds, src)
    for start in range(0, len(perms), step):
        part = slice(start, start + step)
        if Ds is None:  # broadcast: no copy of the field per element
            gy = src[None]
        elif shared is not None:
            gy = shared[np.asarray(which)[part]]
        else:
            gy = np.einsum("gab,nb->gna", Ds[part], src)
        out[part] = np.abs(gy - onto[perms[part]]).max(axis=(1, 2), initial=0.0)
    return out


def threshold(field: np.ndarray, atol: float | None = None, rtol: float | None = None) -> float:
    """The largest change (field units) that still counts as keeping ``field``: ``atol``, or ``rtol`` · max|field|.

    Relative thresholds make a small field no more symmetric than a large one of the same shape.
    """
    if (atol is None) == (rtol is None):
        raise ValueError("give exactly one of atol (field units) and rtol (relative to max |field|)")
    if atol is not None:
        return float(atol)
    return float(rtol) * float(np.max(np.abs(field), initial=0.0))


def changes(operations, field: np.ndarray, irreps: str | Irreps, per_point: bool) -> np.ndarray:
    """max |g·y − y| (field units) for each of ``operations`` (objects with ``.matrix``, ``.permutation``)."""
    operations = list(operations)
    if not operations:
        return np.zeros(0)
    Ds = wigner_D(irreps, np.stack([op.matrix for op in operations]))
    perms = np.stack([op.permutation for op in operations]) if per_point else None
    return mismatch(Ds, field, perms)


def null_space(A: np.ndarray, rtol: float = 1e-6) -> np.ndarray:
    """Orthonormal basis (columns) of the null space of A.

    Singular values below rtol·max(1, ‖A‖) count as zero. Our matrices are exact to ~1e-13 and
    their nonzero singular values are O(0.1) or more, so the eigenvectors of AᵀA (much faster
    than an SVD here) separate the two cleanly.
    """
    if A.shape[0] == 0:
        return np.eye(A.shape[1])
    w, V = np.linalg.eigh(A.T @ A)
    scale = max(1.0, float(w[-1]))
    return V[:, w <= (rtol**2) * scale].copy()


def representation_matrix(irreps: str | Irreps, R: np.ndarray, permutation: np.ndarray | None,
                          D: np.ndarray | None = None) -> np.ndarray:
    """The full matrix of g on the flattened field (N·d for per-point fields, d for global ones).

    ``D``: R's Wigner matrix on ``irreps`` when the caller has it already.
    """
    D = wigner_D(irreps, R) if D is None else D
    if permutation is None:
        return D
    n = len(permutation)
    P = np.zeros((n, n))
    P[permutation, np.arange(n)] = 1.0
    return np.kron(P, D)


def fixed_space(generators, irreps: str | Irreps, per_point: bool) -> np.ndarray:
    """Orthonormal basis (columns) of Fix_G(V) = ∩_k ker(ρ(g_k) − I) over the group's generators.

    Built on generators, so infinite groups (given by an irrational rotation) are exact.
    ``generators`` are SymmetryOperation-like objects with ``.matrix`` and ``.permutation``.
    """
    generators = list(generators)
    if not generators:  # the trivial group fixes everything (global fields; per-point ones need a generator)
        return np.eye(Irreps(irreps).dim)
    Ds = wigner_D(irreps, np.stack([g.matrix for g in generators]))  # one call for all generators
    rhos = [representation_matrix(irreps, g.matrix, g.permutation if per_point else None, D=D)
            for g, D in zip(generators, Ds)]
    return null_space(np.vstack([rho - np.eye(len(rho)) for rho in rhos]))


def field_fixed_space(group, irreps: str | Irreps, sites: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the group's fixed space for per-point fields on ``sites`` (a union of orbits).

    For finite groups this is built orbit by orbit, without ever forming the (m·d)² matrix of
    the permutation representation: on an orbit O = G·a, an invariant field is fixed by its
    value v at a, which must be invariant under the site stabilizer G_a, and then
    y_{g·a} = D(R_g) v. Infinite groups use the generators (``fixed_space``).
    Rows of the basis run over (site, component) in the order of ``sites``.
    """
    sites = np.asarray(sites)
    d = Irreps(irreps).dim
    if group.periodic:
        return _factored_fixed_space(group, irreps, sites, d)
    if group.infinite:
        local = {int(a): k for k, a in enumerate(sites)}
        gens = [_Restricted(g, sites, local) for g in group.generators]
        return fixed_space(gens, irreps, per_point=True)
    Ds = wigner_D(irreps, np.stack([op.matrix for op in group.operations]))
    return _fixed_from_plan(_orbit_plan(group, sites), Ds, len(sites), d)


# Orbits of a group on a set of sites, which do not depend on the irreps: computed once per (group, sites)
# and reused for every irrep the breaking search asks about.
_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _orbit_plan(group, sites: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per orbit on ``sites``: (mask of the listed elements fixing its first atom a, the orbit's atoms as
    local indices, for each atom b the listed element that takes a to b).

    The listed elements are the operations of a finite group, or the coset representatives r_k of a
    factored space group G = ∪ r_k T_G (r_k·a lies in the T_G-orbit of a iff some t r_k fixes a, and
    every atom of T_G·(r_k·a) is reached by r_k up to a translation, which leaves D(R) unchanged).
    """
    key = np.asarray(sites).tobytes()
    cached = _PLANS.setdefault(group, {})
    if key in cached:
        return cached[key]
    local = np.full(int(np.max(sites)) + 1, -1)
    local[sites] = np.arange(len(sites))
    plan, done = [], np.zeros(len(sites), dtype=bool)
    if group.periodic:
        T = group.cell_group.T
        in_t = np.zeros(len(T), dtype=bool)
        in_t[group.translation_indices] = True
        perms = np.array([op.permutation for op in group.coset_representatives])
    else:
        perms = np.array([op.permutation for op in group.operations])
    for i in range(len(sites)):
        if done[i]:
            continue
        a = int(sites[i])
        images = perms[:, a]
        if group.periodic:
            stab = (T.sublattice[images] == T.sublattice[a]) & in_t[T.add(T.position[images], T.neg(T.position[a]))]
            reached = T.sites[T.sublattice[images][:, None],
                              T.add(T.position[images][:, None], group.translation_indices[None, :])]
            which = np.repeat(np.arange(len(images)), reached.shape[1])
            atoms = reached.reshape(-1)
        else:
            stab, atoms, which = images == a, images, np.arange(len(images))
        atoms, first = np.unique(atoms, return_index=True)  # the first element reaching each atom
        plan.append((stab, local[atoms], which[first]))
        done[local[atoms]] = True
    cached[key] = plan
    return plan


def _fixed_from_plan(plan, Ds: np.ndarray, m: int, d: int) -> np.ndarray:
    """Fix_G's columns, orbit by orbit: v invariant under the site stabilizer, carried to b by D(R) of
    an element taking a to b (Ds: the listed elements' matrices)."""
    columns = []
    for stab, atoms, which in plan:
        P = Ds[stab].mean(axis=0)  # projector onto Fix_{G_a}(V): the site-stabilizer average
        w, V = np.linalg.eigh((P + P.T) / 2)
        site_basis = V[:, w > 0.5]
        if site_basis.shape[1] == 0:
            continue
        block = np.zeros((m, d, site_basis.shape[1]))
        block[atoms] = np.einsum("aij,jc->aic", Ds[which], site_basis)
        columns.append(block.reshape(m * d, -1) / np.sqrt(len(atoms)))
    if not columns:
        return np.zeros((m * d, 0))
    return np.concatenate(columns, axis=1)


def _factored_fixed_space(group, irreps: str | Irreps, sites: np.ndarray, d: int) -> np.ndarray:
    """Fix_G on ``sites`` for a factored space group, orbit by orbit, by cosets (see :func:`_orbit_plan`)."""
    return _fixed_from_plan(_orbit_plan(group, sites), coset_wigner(group, irreps), len(sites), d)


# D(R) of a factored group's coset representatives, per irreps: the breaking search asks for the
# same group's matrices on every orbit and in every stabilizer check
_COSET_D: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def coset_wigner(group, irreps: str | Irreps) -> np.ndarray:
    """(m, d, d) Wigner matrices of a space group's coset representatives on ``irreps`` (read-only, cached)."""
    cached = _COSET_D.setdefault(group, {})
    key = str(irreps)
    if key not in cached:
        Ds = wigner_D(irreps, np.stack([op.matrix for op in group.coset_representatives]))
        Ds.flags.writeable = False  # shared between callers
        cached[key] = Ds
    return cached[key]


class _Restricted:
    """An operation seen on a subset of atoms that it maps onto itself (local indices)."""

    def __init__(self, op, sites, local):
        self.matrix = op.matrix
        self.permutation = np.array([local[int(op.permutation[a])] for a in sites])


def project(group, irreps: str | Irreps, y: np.ndarray, per_point: bool) -> np.ndarray:
    """P_G y: the orthogonal projection of the field y onto the fixed space of the group.

    Finite groups average over their elements (the Reynolds operator, linear in N); space groups
    average over their coset representatives after averaging over their translations; infinite
    groups project onto the fixed space built from their generators.
    """
    y = np.asarray(y, dtype=float)
    if group.periodic:
        ops = group.coset_representatives
        y = group.cell_group.T.average(y, group.translation_indices) if per_point else y
        Ds = coset_wigner(group, irreps)
    elif group.finite:
        ops = group.operations
        Ds = wigner_D(irreps, np.stack([op.matrix for op in ops]))
    else:
        basis = fixed_space(group.generators, irreps, per_point)
        flat = y.reshape(-1)
        return (basis @ (basis.T @ flat)).reshape(y.shape)
    total = np.zeros_like(y)
    for op, D in zip(ops, Ds):
        total += act(irreps, op.matrix, op.permutation if per_point else None, y, D=D)
    return total / len(ops)


def irrep_project(images: np.ndarray, characters: np.ndarray, scales) -> np.ndarray:
    """Components of a field in irreps of a finite group: P_Γ y = (c_Γ/|G|) Σ_g χ_Γ(g) g·y for each Γ.

    Parameters
    ----------
    images : (|G|, ...) the field's images g·y, one per element (see :func:`images_under`).
    characters : (n, |G|) real characters of n irreps (complex pairs combined into real forms).
    scales : (n,) each projector's c_Γ: the irrep's dimension (half of it for a combined pair).

    Returns
    -------
    (n, ...) the components, in the field's units.
    """
    chars = np.atleast_2d(np.asarray(characters, dtype=float))
    weights = np.asarray(scales, dtype=float).reshape(-1, 1) / chars.shape[1] * chars
    flat = np.asarray(images, dtype=float).reshape(chars.shape[1], -1)
    return (weights @ flat).reshape((len(chars),) + np.shape(images)[1:])


def images_under(operations, irreps: str | Irreps, y: np.ndarray, per_point: bool) -> np.ndarray:
    """(len(operations), ...) the field's images g·y under each (R, σ) operation."""
    operations = list(operations)
    y = np.asarray(y, dtype=float)
    Ds = wigner_D(irreps, np.stack([op.matrix for op in operations]))
    return np.stack([act(irreps, op.matrix, op.permutation if per_point else None, y, D=D)
                     for op, D in zip(operations, Ds)])


def stabilizer_pairs(group, field: np.ndarray, irreps: str | Irreps, per_point: bool, atol: float
                     ) -> list[tuple[int, int]]:
    """Generators (point index k, translation index v) of Stab_G(y) for a factored space group.

    Every element changes no entry of y by more than ``atol`` (field units). Global fields: the
    point operations that keep y, with every translation. Per-point fields: the translations T_y
    that keep y (candidates filtered atom by atom), then for each point operation r one
    translation w with t_w·(r·y) = y, if any; its coset is then w + T_y.
    """
    cg = group.cell_group
    field = np.asarray(field, dtype=float)
    reps = group.coset_representatives
    Ds = coset_wigner(group, irreps)
    ks, shifts = group.point_indices.tolist(), group.rep_shifts.tolist()
    translations = [(cg.identity, int(v)) for v in group.translation_indices]
    if not per_point:
        return [(ks[i], shifts[i]) for i in np.flatnonzero(mismatch(Ds, field) <= atol).tolist()] + translations
    y = field.reshape(cg.n, -1)
    allowed = group.translation_indices
    gens = [(cg.identity, int(v)) for v in _translations_mapping(cg.T, y, y, allowed, atol, first_only=False)]
    for i, (op, D) in enumerate(zip(reps, Ds)):
        if ks[i] == cg.identity:
            continue
        z = act(irreps, op.matrix, op.permutation, y, D=D)
        w = _translations_mapping(cg.T, z, y, allowed, atol, first_only=True)
        if len(w):
            gens.append((ks[i], int(cg.T.add(w[0], shifts[i]))))
    return gens


def _translations_mapping(T, z: np.ndarray, y: np.ndarray, allowed: np.ndarray, atol: float,
                          first_only: bool) -> np.ndarray:
    """Translations t_w (w in ``allowed``) with t_w·z = y within ``atol``: y[t_w(i)] ≈ z[i] for every atom i.

    Candidates are filtered atom by atom, the most distinctive atoms (farthest from their
    sublattice's mean) first, so a generic field leaves one candidate after a few atoms. With
    ``first_only`` the remaining candidates are checked on all atoms one at a time and the first
    that passes is returned.
    """
    means = z[T.sites].mean(axis=1)[T.sublattice]
    order = np.argsort(-np.max(np.abs(z - means), axis=1), kind="stable")
    cand = np.asarray(allowed, dtype=np.int64)
    start, step = 0, 1
    prefix = 64 if first_only else len(order)
    while len(cand) and start < min(prefix, len(order)):
        atoms = order[start:start + step]
        img = T.sites[T.sublattice[atoms][:, None], T.add(T.position[atoms][:, None], cand[None, :])]
        cand = cand[mismatch(None, z, img.T, rows=atoms, onto=y) <= atol]
        start += step
        step = max(1, min(step * 4, 1_000_000 // max(len(cand), 1)))
    if not first_only:
        return cand
    for w in cand.tolist():
        if mismatch(None, z, T.perm(w), onto=y)[0] <= atol:
            return np.array([w])
    return np.array([], dtype=np.int64)


def symmetric_positions(structure, group) -> np.ndarray:
    """Positions (Å) projected onto the group's fixed space: the Reynolds average of g·r = R r + t.

    Point groups average R (r − c) about their centre c. Crystals (factored groups) average the
    affine images R r + t, each brought back onto its atom by the lattice vector it is off by:
    first over the translations T (each atom's offset from its ideal translated position, averaged
    over its T-orbit), then over the coset representatives.
    """
    if not group.periodic:
        Y = structure.positions - group.center
        return project(group, "1o", Y, per_point=True) + group.center
    pos, cell = structure.positions, structure.cell
    inv = np.linalg.inv(cell)
    T = group.cell_group.T
    sub = group.translation_indices
    frac = pos @ inv
    if len(sub) == len(T):
        # every translation: atom sites[s, v] sits near a_s + τ_v; its offset from there, minimum image
        off = frac[T.sites] - T.frac[None, :, :] - frac[T.sites[:, :1]]
        off -= np.round(off)
        shift = off.mean(axis=1, keepdims=True) - off
        averaged_frac = frac.copy()
        averaged_frac[T.sites] += shift
    else:
        total_t = np.zeros_like(frac)
        for v in sub.tolist():  # atom t_v(i) sits near r_i + τ_v; its offset from there, minimum image
            off = frac[T.perm(v)] - T.frac[v] - frac
            total_t += off - np.round(off)
        averaged_frac = frac + total_t / len(sub)
    reps = group.coset_representatives
    rotations = np.stack([inv.T @ op.matrix @ cell.T for op in reps])  # x_frac' = W x_frac + w
    translations = np.stack([op.translation @ inv for op in reps])
    perms = np.stack([op.permutation for op in reps])
    return affine_average(averaged_frac, rotations, translations, perms) @ cell


def affine_average(frac: np.ndarray, rotations: np.ndarray, translations: np.ndarray, perms: np.ndarray
                   ) -> np.ndarray:
    """The Reynolds average of fractional positions over affine operations listed one by one.

    Operation f sends atom i to W_f x_i + w_f, which lands on atom σ_f(i) up to a lattice vector;
    that vector is taken off (the copy nearest the atom it lands on), and each atom's images are
    averaged.

    Parameters
    ----------
    frac : (N, 3) fractional positions.
    rotations : (F, 3, 3) the operations' matrices on fractional coordinates (x' = W x + w).
    translations : (F, 3) fractional translations w.
    perms : (F, N) the atom σ_f(i) each image lands on.

    Returns
    -------
    (N, 3) fractional positions, exactly symmetric under the operations.
    """
    images = np.matmul(frac[None], np.swapaxes(rotations, 1, 2)) + translations[:, None, :]
    landed = np.empty_like(images)
    landed[np.arange(len(rotations))[:, None], perms] = images
    landed -= np.rint(landed - frac[None])
    return landed.mean(axis=0)
