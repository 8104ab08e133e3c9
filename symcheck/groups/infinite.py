"""Groups of collinear point sets and single points (C∞v, D∞h, Kh) and their subgroups.

Without features the group is known from the geometry. Non-scalar features can lower it to
any closed subgroup; the elements that keep an axis fixed form four one-parameter families

    rotations Rot(u, α), improper rotations −Rot(u, α), C2 about n(φ) ⟂ u, mirrors with normal n(φ),

and on each family the feature mismatch is a trigonometric polynomial of degree ≤ 2·L_max in the
parameter. Sampling it at more than 4·L_max + 1 points therefore tells "zero everywhere" (a
continuous symmetry) from isolated zeros, which are then refined. Continuous rotations become
the generator Rot(u, 2π(√2 − 1)), an irrational turn, so fixed spaces built on generators are exact.
"""

from __future__ import annotations

import numpy as np

from ..errors import SymcheckError
from ..fixed import mismatch, wigner_D
from ..o3 import Irreps
from ..structure import Structure
from .group import SymmetryOperation, close, element_keys, idealize, multiply_operations, orbits
from .naming import canonical_axis, rotation
from .pointgroup import PointGroup, build_point_group

IRRATIONAL_TURN = 2 * np.pi * (np.sqrt(2) - 1)


def _perp_basis(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    trial = np.eye(3)[int(np.argmin(np.abs(u)))]
    n1 = trial - np.dot(trial, u) * u
    n1 = canonical_axis(n1 / np.linalg.norm(n1))
    return n1, np.cross(u, n1)


def _nontrivial_features(structure: Structure, ftol: float = 0.0) -> bool:
    """True when some feature block that operations can change (l > 0, or a pseudoscalar) is nonzero."""
    if structure.features is None:
        return False
    irreps = Irreps(structure.feature_irreps)
    for (_, ir), columns in zip(irreps, irreps.slices()):
        if ir != (0, 1) and np.max(np.abs(structure.features[:, columns]), initial=0.0) > ftol:
            return True
    return False


class _Families:
    """The one-parameter families of operations about an axis u, and the feature mismatch on them."""

    def __init__(self, structure: Structure, u: np.ndarray, perm_inv: np.ndarray | None, tol: float):
        self.s, self.u, self.tol = structure, u, tol
        self.n1, self.n2 = _perp_basis(u)
        self.ident = np.arange(len(structure))
        self.perm_inv = perm_inv
        irreps = Irreps(structure.feature_irreps)
        lmax = irreps.lmax if irreps else 0
        self.samples = 8 * lmax + 16

    def matrices(self, family: str, t: np.ndarray) -> np.ndarray:
        t = np.atleast_1d(t)
        if family in ("rot", "improper"):
            R = np.stack([rotation(self.u, x) for x in t])
            return R if family == "rot" else -R
        n = np.cos(t)[:, None] * self.n1 + np.sin(t)[:, None] * self.n2
        nn = n[:, :, None] * n[:, None, :]
        return (2 * nn - np.eye(3)) if family == "c2perp" else (np.eye(3) - 2 * nn)

    def perm(self, family: str) -> np.ndarray:
        return self.ident if family in ("rot", "mirror") else self.perm_inv

    def period(self, family: str) -> float:
        return 2 * np.pi if family in ("rot", "improper") else np.pi

    def mismatch(self, family: str, t) -> np.ndarray:
        """Largest feature change |D(R) a_i − a_σ(i)| for each parameter value."""
        a = self.s.features
        if a is None:
            return np.zeros(np.size(t))
        D = wigner_D(self.s.feature_irreps, self.matrices(family, t))
        return mismatch(D, a, np.broadcast_to(self.perm(family), (len(D), len(a))))

    def all_or_none(self, family: str):
        """For a family known to be all-or-nothing: "all", or an empty array."""
        t = np.arange(self.samples) * self.period(family) / self.samples
        return "all" if np.all(self.mismatch(family, t) <= self.tol) else np.array([])

    def zeros(self, family: str):
        """Parameters where the family preserves the features: "all", or a sorted array.

        Rotations of a finite stabilizer about a fixed axis have angles 2πk/n with n ≤ 2·L_max + 2,
        so those are tested exactly; mirror and C2' directions can lie at any angle and are found
        as refined minima of the sampled mismatch.
        """
        period = self.period(family)
        t = np.arange(self.samples) * period / self.samples
        e = self.mismatch(family, t)
        if np.all(e <= self.tol):
            return "all"
        if family in ("rot", "improper"):
            nmax = max(2, (self.samples - 16) // 4 + 2)
            angles = np.unique(np.round([2 * np.pi * k / n for n in range(1, nmax + 1) for k in range(n)], 12))
            return angles[self.mismatch(family, angles) <= self.tol]
        from scipy.optimize import minimize_scalar

        step = period / self.samples
        found: list[float] = []
        for k in np.flatnonzero((e <= np.roll(e, 1)) & (e <= np.roll(e, -1))):
            res = minimize_scalar(
                lambda x: float(self.mismatch(family, x)[0]),
                bounds=(t[k] - step, t[k] + step),
                method="bounded",
                options={"xatol": 1e-12},
            )
            if res.fun <= self.tol:
                x = res.x % period
                if not any(min(abs(x - y), period - abs(x - y)) < 1e-6 for y in found):
                    found.append(x)
        return np.sort(np.array(found))


def _inversion_perm(Y: np.ndarray, labels: np.ndarray, tol: float) -> np.ndarray | None:
    d = np.linalg.norm(-Y[:, None, :] - Y[None, :, :], axis=-1)
    j = np.argmin(d, axis=1)
    if np.max(d[np.arange(len(Y)), j]) > tol or len(set(j.tolist())) != len(Y) or np.any(labels[j] != labels):
        return None
    return j


def linear_group(structure: Structure, Y, labels, axis, center, tol, ftol) -> PointGroup:
    """Group of collinear points: C∞v or D∞h from the geometry, lowered by non-scalar features."""
    u = canonical_axis(axis / np.linalg.norm(axis))
    perm_inv = _inversion_perm(Y, labels, tol)
    if perm_inv is not None and structure.features is not None:
        a = structure.features  # scalar features must also agree under inversion
        scalar_cols = _scalar_columns(structure.feature_irreps)
        if np.max(np.abs(a[:, scalar_cols] - a[perm_inv][:, scalar_cols]), initial=0.0) > ftol:
            perm_inv = None
    return _axial_group(structure, u, perm_inv, center, tol, ftol)


def _scalar_columns(irreps: str) -> np.ndarray:
    return _columns(irreps, lambda ir: ir == (0, 1))


def _columns(irreps: str, keep) -> np.ndarray:
    """The feature columns of the irreps terms for which ``keep(Irrep)`` holds."""
    irreps = Irreps(irreps)
    every = np.arange(irreps.dim)
    return np.concatenate([every[sl] for (_, ir), sl in zip(irreps, irreps.slices()) if keep(ir)] + [every[:0]])


def _axial_group(structure: Structure, u, perm_inv, center, tol, ftol) -> PointGroup:
    fam = _Families(structure, u, perm_inv, ftol)
    names = ["rot", "mirror"] + (["improper", "c2perp"] if perm_inv is not None else [])
    if not _nontrivial_features(structure, ftol):
        zeros = dict.fromkeys(names, "all")
    else:
        zeros = {"rot": fam.zeros("rot")}
        for f in names[1:]:
            # with continuous rotations every family is all-or-nothing: samples decide
            zeros[f] = fam.zeros(f) if not isinstance(zeros["rot"], str) else fam.all_or_none(f)
    if isinstance(zeros["rot"], str):
        return _continuous(structure, fam, zeros, center, tol)
    return build_point_group(*close_by_matrix(*_finite_axial(fam, names, zeros)), center, tol)


def _finite_axial(fam: _Families, names: list[str], zeros: dict) -> tuple[list, list]:
    """Generators (matrices, permutations) of the finite group of passing operations about the axis.

    The operations that pass one by one need not form a group: a field that nearly keeps the
    axis lets small turns pass and larger ones fail, and their closure is then dense (no finite
    group) or bigger than what passes (C60v for a rank-2 tensor). Rotations: the largest C_n whose
    every element passes. Each other family then adds its best-passing element if the closure
    stays finite and every element of it passes; otherwise that family is left out.
    """
    rot = np.asarray(zeros["rot"], dtype=float)
    best = 1
    for n in range(2, len(rot) + 1):
        gap = np.abs(np.angle(np.exp(1j * (2 * np.pi * np.arange(n)[:, None] / n - rot[None, :]))))
        if np.all(gap.min(axis=1) < 1e-9):
            best = n
    mats = [fam.matrices("rot", 2 * np.pi / best)[0]]
    perms = [fam.perm("rot")]
    for f in names[1:]:
        z = zeros[f]
        cands = np.arange(fam.samples) * fam.period(f) / fam.samples if isinstance(z, str) else np.atleast_1d(z)
        if len(cands) == 0:
            continue
        t = cands[int(np.argmin(fam.mismatch(f, cands)))]
        trial = (np.array([*mats, fam.matrices(f, t)[0]]), np.array([*perms, fam.perm(f)], dtype=np.int64))
        try:
            found = close(trial, multiply_operations, lambda ops: element_keys(ops[0]), limit=8 * best)
        except SymcheckError:
            continue
        D = wigner_D(fam.s.feature_irreps, found.elements[0])
        if np.all(mismatch(D, fam.s.features, found.elements[1]) <= fam.tol):
            mats, perms = [*mats, trial[0][-1]], [*perms, trial[1][-1]]
    return mats, perms


def _continuous(structure, fam: _Families, zeros, center, tol) -> PointGroup:
    def nonempty(f):
        z = zeros.get(f)
        return z is not None and (isinstance(z, str) or len(z) > 0)

    def first(f):
        z = zeros[f]
        return 0.0 if isinstance(z, str) else float(z[0])

    mirror, improper, c2 = nonempty("mirror"), nonempty("improper"), nonempty("c2perp")
    name = {
        (True, True): "Dinfh",
        (True, False): "Cinfv",
        (False, True): "Cinfh",
    }.get((mirror, improper), "Dinf" if c2 else "Cinf")
    gens = [SymmetryOperation(rotation(fam.u, IRRATIONAL_TURN), fam.ident, "C∞", fam.u)]
    frame_x = fam.n1
    if mirror:
        n = fam.matrices("mirror", first("mirror"))[0]
        normal = fam.n1 * np.cos(first("mirror")) + fam.n2 * np.sin(first("mirror"))
        gens.append(SymmetryOperation(n, fam.ident, "σv", canonical_axis(normal)))
        frame_x = np.cross(normal, fam.u)
    if improper:
        # with continuous rotations, inversion is among the improper elements
        gens.append(SymmetryOperation(-np.eye(3), fam.perm_inv, "i", None))
    if c2 and not (mirror and improper):
        phi = first("c2perp")
        n = fam.n1 * np.cos(phi) + fam.n2 * np.sin(phi)
        gens.append(SymmetryOperation(fam.matrices("c2perp", phi)[0], fam.perm_inv, "C2'", canonical_axis(n)))
        frame_x = n
    frame_x = frame_x - np.dot(frame_x, fam.u) * fam.u
    frame_x = canonical_axis(frame_x / np.linalg.norm(frame_x))
    frame = np.array([frame_x, np.cross(fam.u, frame_x), fam.u])
    return PointGroup(name=name, order=None, operations=tuple(gens), generators=tuple(gens), center=np.array(center),
                      frame=frame, equivalent_atoms=orbits([g.permutation for g in gens], len(structure)), tol=tol,
                      kind="infinite")


def close_by_matrix(mats, perms):
    """Close operations under composition, identifying elements by their (rounded) matrices; idealized.

    The matrices are exact up to the scans' refinement, so they identify the elements. Returns the
    matrices, the permutations and the multiplication table (table[g, h] = index of gh).
    """
    found = close((np.array(mats, dtype=float), np.array(perms, dtype=np.int64)), multiply_operations,
                  lambda ops: element_keys(ops[0]), limit=20000)
    if len(found.keys) > len(found.table):  # not closed under the starting elements: the whole table
        found = close(found.elements, multiply_operations, lambda ops: element_keys(ops[0]))
    return idealize(found.elements[0], found.table), list(found.elements[1]), found.table


def _candidate_axes(structure: Structure, ftol: float) -> list[np.ndarray]:
    """Lines among which every rotation axis of the features' stabilizer lies (for a single point).

    The stabilizer of all features lies inside the stabilizer of each block, so the candidates
    of one block suffice; the lowest nonzero L gives the fewest. An L=1 block gives its direction,
    L=2 the eigenvectors of its quadratic form; higher L the extrema of its spherical function.
    Axes of operations that flip a block's sign lie between those: cross products and
    bisectors of pairs of them are added.
    """
    a = structure.features[0]
    blocks = []
    irreps = Irreps(structure.feature_irreps)
    for (mul, ir), columns in zip(irreps, irreps.slices()):
        for v in a[columns].reshape(mul, ir.dim):
            if ir.l > 0 and np.max(np.abs(v)) > ftol:
                blocks.append((ir.l, v))
    l, v = min(blocks, key=lambda b: b[0])
    if l == 1:
        base = [v / np.linalg.norm(v)]
    else:
        from ..o3 import spherical_harmonics

        grid = _fibonacci(1500)
        f = spherical_harmonics(l, grid, normalize=True) @ v
        base = [_refine(l, v, u, sign) for u, sign in _extrema(grid, f)]
        if l == 2:
            # f(u) = uᵀ Q u: the eigenvectors of Q are its axes
            M = np.stack([grid[:, i] * grid[:, j] for i in range(3) for j in range(3)], axis=1)
            Q = np.linalg.lstsq(M, f, rcond=None)[0].reshape(3, 3)
            base.extend(np.linalg.eigh((Q + Q.T) / 2)[1].T)
    base = _unique_lines(base)
    extra = []
    for i in range(len(base)):
        for j in range(i + 1, len(base)):
            extra.append(np.cross(base[i], base[j]))
            extra.extend([base[i] + base[j], base[i] - base[j]])
    if len(base) == 1:  # one direction: any perpendicular axis is as good as another for C2'
        extra.append(np.cross(base[0], np.eye(3)[int(np.argmin(np.abs(base[0])))]))
    return _unique_lines(base + [e for e in extra if np.linalg.norm(e) > 1e-6])


def _fibonacci(n: int) -> np.ndarray:
    k = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * k / n)
    theta = np.pi * (1 + 5**0.5) * k
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=1)


def _refine(l: int, v: np.ndarray, u0: np.ndarray, sign: int) -> np.ndarray:
    """The local maximum of sign·(v · Y_l(u)) on the sphere near u0, to full precision."""
    from scipy.optimize import minimize

    from ..o3 import spherical_harmonics

    t1 = np.cross(u0, np.eye(3)[int(np.argmin(np.abs(u0)))])
    t1 /= np.linalg.norm(t1)
    t2 = np.cross(u0, t1)

    def point(ab):
        p = u0 + ab[0] * t1 + ab[1] * t2
        return p / np.linalg.norm(p)

    def value(ab):
        Y = spherical_harmonics(l, point(ab), normalize=True)
        return -sign * float(Y @ v)

    res = minimize(value, np.zeros(2), method="BFGS", options={"gtol": 1e-12})
    return point(res.x)


def _extrema(grid: np.ndarray, f: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Grid points that are local maxima (sign 1) or minima (sign −1) of a sampled function."""
    from scipy.spatial import cKDTree

    _, nb = cKDTree(grid).query(grid, k=9)
    out = []
    for sign in (1, -1):
        g = sign * f
        is_max = np.all(g[:, None] >= g[nb[:, 1:]], axis=1)
        out.extend((grid[i], sign) for i in np.flatnonzero(is_max))
    return out


def _unique_lines(axes) -> list[np.ndarray]:
    """Distinct lines (u and −u are one), each with a canonical direction."""
    if not len(axes):
        return []
    U = np.array(axes, dtype=float)
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    keep: list[int] = []
    for i in range(len(U)):
        if not keep or np.max(np.abs(U[keep] @ U[i])) < 1 - 1e-6:
            keep.append(i)
    return [canonical_axis(U[i]) for i in keep]


def single_point_group(structure: Structure, center, tol, ftol) -> PointGroup:
    """Group of one point: Kh (O(3)), lowered by the point's features (compared within ftol)."""
    n = len(structure)
    ident = np.arange(n)
    if not _nontrivial_features(structure, ftol):
        return _full(structure, "Kh", center, tol)
    a = structure.features
    if np.max(np.abs(a[:, _columns(structure.feature_irreps, lambda ir: ir.l > 0)]), initial=0.0) <= ftol:
        # only (pseudo)scalars: a nonzero pseudoscalar is flipped by every improper operation
        return _full(structure, "K", center, tol)
    mats, perms = [], []
    for u in _candidate_axes(structure, ftol):
        fam = _Families(structure, u, ident, ftol)
        rz = fam.zeros("rot")
        if isinstance(rz, str):
            return _axial_group(structure, u, ident, center, tol, ftol)
        for f in ("rot", "improper"):
            for t in fam.zeros(f):
                mats.append(fam.matrices(f, t)[0])
                perms.append(ident)
    if not mats:
        mats, perms = [np.eye(3)], [ident]
    return build_point_group(*close_by_matrix(mats, perms), center, tol)


def _full(structure, name: str, center, tol) -> PointGroup:
    ident = np.arange(len(structure))
    x, z = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
    gens = [
        SymmetryOperation(rotation(z, IRRATIONAL_TURN), ident, "C∞", z),
        SymmetryOperation(rotation(x, IRRATIONAL_TURN), ident, "C∞", x),
    ]
    if name == "Kh":
        gens.append(SymmetryOperation(-np.eye(3), ident, "i", None))
    return PointGroup(name=name, order=None, operations=tuple(gens), generators=tuple(gens), center=np.array(center),
                      frame=np.eye(3), equivalent_atoms=tuple((i,) for i in range(len(structure))), tol=tol,
                      kind="infinite")
