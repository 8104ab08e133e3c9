"""Synthetic point sets with a known point group, for testing the point-group detector.

This is a helper module for the tests, not a test itself. It knows, independently of
``symcheck.groups``:

* the exact 3×3 matrices of every finite point group, built from generators in a standard frame
  (principal axis z; for the cubic groups the coordinate axes are the C2/C4 axes and [111] is a C3
  axis; the icosahedral groups contain that T as a subgroup): :func:`group_matrices`;
* a "decorated orbit" for each group: the union of the orbits of a few generic points, whose full
  symmetry group is exactly that group (checked by :func:`symmetry_matrices` in the tests):
  :func:`decorated_orbit`;
* random rigid motions and relabelings from a seeded ``numpy.random.Generator``: :func:`random_rotation`,
  :func:`random_transform`, :func:`add_noise`;
* a slow, independent brute-force symmetry finder and group classifier, used as an oracle on small
  point sets: :func:`symmetry_matrices`, :func:`classify`;
* special structures that other tools get wrong: :func:`zigzag_chain`, :func:`near_spherical_c3v`.

Group names are the ASCII Schoenflies names of symcheck (``C1 Ci Cs Cn Cnv Cnh Dn Dnh Dnd S2n T Td
Th O Oh I Ih``), canonical forms only (``S2`` is ``Ci``, ``C1h`` is ``Cs``, ``S3`` is ``C3h``...).
"""

from __future__ import annotations

import re

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

PHI = (1.0 + 5.0**0.5) / 2.0

POLYHEDRAL = ("T", "Td", "Th", "O", "Oh", "I", "Ih")

_NAME = re.compile(r"^(?:(C|D)(\d+)(v|h|d)?|S(\d+))$")


# --------------------------------------------------------------------------------------------
# Names and orders
# --------------------------------------------------------------------------------------------


def parse_group(name: str) -> tuple[str, int]:
    """Split a canonical finite group name into ``(family, n)``.

    ``family`` is one of ``"C1" "Ci" "Cs" "Cn" "Cnv" "Cnh" "Dn" "Dnh" "Dnd" "S2n"`` or a polyhedral
    name (``n`` is then 0); for ``S2n`` the returned ``n`` is the order of the improper axis (8 for S8).
    Raises ValueError for names that are not canonical (aliases such as S2, C1v, D1 are refused).
    """
    if name in ("C1", "Ci", "Cs") or name in POLYHEDRAL:
        return name, (1 if name == "C1" else 0)
    m = _NAME.match(name)
    if not m:
        raise ValueError(f"not a finite point-group name: {name!r}")
    if m.group(4) is not None:
        n = int(m.group(4))
        if n < 4 or n % 2:
            raise ValueError(f"{name!r} is not canonical (S2 = Ci, S_odd = C_nh)")
        return "S2n", n
    letter, n, suffix = m.group(1), int(m.group(2)), m.group(3) or ""
    if n < 2:
        raise ValueError(f"{name!r} is not canonical (C1v = C1h = Cs, D1 = C2, ...)")
    return f"{letter}n{suffix}", n


def group_order(name: str) -> int:
    """Order of a finite point group from its name, by the textbook formula."""
    family, n = parse_group(name)
    fixed = {"C1": 1, "Ci": 2, "Cs": 2, "T": 12, "Td": 24, "Th": 24, "O": 24, "Oh": 48, "I": 60, "Ih": 120}
    if family in fixed:
        return fixed[family]
    if family == "S2n":
        return n
    if family == "Cn":
        return n
    if family in ("Cnv", "Cnh", "Dn"):
        return 2 * n
    return 4 * n  # Dnh, Dnd


def all_group_names(nmax: int = 12) -> list[str]:
    """Every canonical finite point-group name with axis orders up to ``nmax`` (and the polyhedral ones)."""
    names = ["C1", "Ci", "Cs"]
    for n in range(2, nmax + 1):
        names += [f"C{n}", f"C{n}v", f"C{n}h", f"D{n}", f"D{n}h", f"D{n}d"]
    names += [f"S{n}" for n in range(4, nmax + 1, 2)]
    return names + list(POLYHEDRAL)


# --------------------------------------------------------------------------------------------
# Matrices
# --------------------------------------------------------------------------------------------


def rot(axis, angle: float) -> np.ndarray:
    """Proper rotation by ``angle`` (radians) about ``axis`` (right-hand rule)."""
    axis = np.asarray(axis, float)
    return Rotation.from_rotvec(axis / np.linalg.norm(axis) * angle).as_matrix()


def mirror(normal) -> np.ndarray:
    """Reflection through the plane through the origin with the given normal."""
    v = np.asarray(normal, float)
    v = v / np.linalg.norm(v)
    return np.eye(3) - 2.0 * np.outer(v, v)


def generators(name: str) -> list[np.ndarray]:
    """Generators of the named group in the standard frame (principal axis z, a C2' along x)."""
    family, n = parse_group(name)
    z = (0.0, 0.0, 1.0)
    sigma_h = mirror(z)
    if family == "C1":
        return [np.eye(3)]
    if family == "Ci":
        return [-np.eye(3)]
    if family == "Cs":
        return [sigma_h]
    if family == "S2n":
        return [sigma_h @ rot(z, 2 * np.pi / n)]
    cn = rot(z, 2 * np.pi / n) if family[0] in "CD" and family not in POLYHEDRAL else None
    c2x = rot((1, 0, 0), np.pi)
    sigma_v = mirror((0, 1, 0))  # the xz plane
    phi = np.pi / (2 * n) if n else 0.0
    sigma_d = mirror((-np.sin(phi), np.cos(phi), 0))  # plane through z bisecting x and the next C2'
    if family == "Cn":
        return [cn]
    if family == "Cnv":
        return [cn, sigma_v]
    if family == "Cnh":
        return [cn, sigma_h]
    if family == "Dn":
        return [cn, c2x]
    if family == "Dnh":
        return [cn, c2x, sigma_h]
    if family == "Dnd":
        return [cn, c2x, sigma_d]
    t = [rot(z, np.pi), rot((1, 1, 1), 2 * np.pi / 3)]
    if family == "T":
        return t
    if family == "Td":
        return t + [mirror((1, -1, 0))]
    if family == "Th":
        return t + [-np.eye(3)]
    if family == "O":
        return t + [rot(z, np.pi / 2)]
    if family == "Oh":
        return t + [rot(z, np.pi / 2), -np.eye(3)]
    c5 = rot((0.0, 1.0, PHI), 2 * np.pi / 5)  # vertex axis of the icosahedron (0, ±1, ±φ)
    if family == "I":
        return t + [c5]
    return t + [c5, -np.eye(3)]  # Ih


def close_group(gens, max_order: int = 1000) -> np.ndarray:
    """All products of the given orthogonal matrices (the generated finite group), shape (order, 3, 3)."""
    key = lambda m: tuple(np.round(m, 6).ravel() + 0.0)  # noqa: E731  (+0.0 turns -0.0 into 0.0)
    elems = {key(np.eye(3)): np.eye(3)}
    frontier = [np.eye(3)]
    while frontier:
        new = []
        for a in frontier:
            for g in gens:
                b = g @ a
                k = key(b)
                if k not in elems:
                    elems[k] = b
                    new.append(b)
        frontier = new
        if len(elems) > max_order:
            raise ValueError("the generators do not generate a finite group of small order")
    return np.array(list(elems.values()))


def group_matrices(name: str) -> np.ndarray:
    """The exact matrices of the named finite point group in the standard frame, shape (order, 3, 3)."""
    return close_group(generators(name))


# --------------------------------------------------------------------------------------------
# Random motions
# --------------------------------------------------------------------------------------------


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random proper rotation matrix."""
    return Rotation.random(random_state=rng).as_matrix()


def random_transform(positions, species, rng: np.random.Generator, shift: float = 5.0):
    """Rotate, translate and reorder a point set at random.

    Returns ``(new_positions, new_species, R, t, order)`` with
    ``new_positions[k] = R @ positions[order[k]] + t``.
    """
    positions = np.asarray(positions, float)
    R = random_rotation(rng)
    t = rng.uniform(-shift, shift, 3)
    order = rng.permutation(len(positions))
    new = positions[order] @ R.T + t
    return new, [species[i] for i in order], R, t, order


def add_noise(positions, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """Move every point by a random vector of length at most ``amplitude`` (uniform direction)."""
    positions = np.asarray(positions, float)
    d = rng.normal(size=positions.shape)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return positions + d * amplitude * rng.uniform(0.0, 1.0, (len(positions), 1))


# --------------------------------------------------------------------------------------------
# Decorated orbits
# --------------------------------------------------------------------------------------------


def orbit(mats: np.ndarray, point, tol: float = 1e-6) -> np.ndarray:
    """The distinct images of ``point`` under the matrices."""
    imgs = np.einsum("gij,j->gi", mats, np.asarray(point, float))
    out = []
    for p in imgs:
        if all(np.linalg.norm(p - q) > tol for q in out):
            out.append(p)
    return np.array(out)


def decorated_orbit(
    name: str,
    seed: int = 0,
    n_points: int | None = None,
    radius: float | None = None,
    min_dist: float = 0.5,
    margin: float = 0.1,
):
    """A point set whose full symmetry group is exactly the named group (in the standard frame).

    The union of the orbits of ``n_points`` generic points (3 by default, 4 for C1; species ``"X"``,
    ``"Y"``, ... one per orbit, so that orbits cannot be exchanged), at radii near ``radius``. One
    orbit alone is not enough: for a group with a unique principal axis the orbit of a generic point
    is a ring, which has more symmetry than the group; two orbits of Cs have a C2 along the line
    through their midpoints; two orbits of Ci are coplanar. The other orbits sit at other heights
    and radii with generic twists, which removes the extra mirrors and axes. The default radius grows
    with the group order (1.5 Å × sqrt(order / 6), at least 1.5 Å); points are redrawn until all are
    at least ``min_dist`` apart, so that small noise cannot merge them, and until the brute-force
    oracle finds exactly the group even at tolerance ``margin`` (random twists can come close to
    an extra mirror: not near any higher symmetry). Returns ``(positions, species)``, centred on the
    origin for non-polar groups (polar groups C1, Cs, Cn, Cnv have their centroid on the axis or plane).
    """
    mats = group_matrices(name)
    if n_points is None:
        n_points = 4 if name == "C1" else 3
    if radius is None:
        radius = 1.5 * max(1.0, (len(mats) / 6) ** 0.5)
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        pts, species = [], []
        for k in range(n_points):
            r = radius * rng.uniform(0.6, 1.0) * (1.0 + 0.35 * k)
            v = rng.normal(size=3)
            p = v / np.linalg.norm(v) * r
            o = orbit(mats, p)
            if len(o) != len(mats):  # not generic: on a symmetry element
                break
            pts.append(o)
            species += [chr(ord("X") + k)] * len(o)
        else:
            pos = np.concatenate(pts)
            d = np.linalg.norm(pos[:, None] - pos[None], axis=-1) + np.eye(len(pos)) * 1e9
            if d.min() >= min_dist and (margin <= 0 or classify(symmetry_matrices(pos, species, margin)[0]) == name):
                return pos, species
    raise RuntimeError(f"could not place a decorated orbit for {name}")


# --------------------------------------------------------------------------------------------
# Oracle: brute-force symmetry finder and classifier (independent of symcheck)
# --------------------------------------------------------------------------------------------


def _frame(a, b):
    e1 = a / np.linalg.norm(a)
    e2 = b - e1 * (e1 @ b)
    e2 /= np.linalg.norm(e2)
    return np.array([e1, e2, np.cross(e1, e2)])


def _procrustes(Y, Z, det: float):
    """Orthogonal R with det(R) = det minimising sum |R y_i - z_i|^2."""
    u, _, vt = np.linalg.svd(Z.T @ Y)
    d = np.sign(np.linalg.det(u @ vt)) * det
    return u @ np.diag([1.0, 1.0, d]) @ vt


def symmetry_matrices(positions, species, tol: float = 0.01):
    """All orthogonal R (about the centroid) that map the point set onto itself within ``tol``.

    A slow brute-force oracle: every map of a reference pair of non-collinear points onto a pair of
    like points fixes a candidate; each candidate is refined by least squares on the induced
    permutation and kept if every point lands within ``tol`` of a like point, one-to-one. Returns
    ``(matrices, permutations)``, or ``None`` for collinear sets (infinite groups).
    """
    X = np.asarray(positions, float)
    Y = X - X.mean(axis=0)
    spec = np.asarray([str(s) for s in species])
    norms = np.linalg.norm(Y, axis=1)
    if len(Y) == 1 or np.linalg.matrix_rank(Y, tol=tol) < 2:
        return None
    far = norms > 2 * tol
    cands = np.flatnonzero(far)
    a = cands[np.argmax(norms[cands])]
    cross = np.linalg.norm(np.cross(Y[a], Y), axis=1) / np.maximum(norms, 1e-12)
    b = int(np.argmax(np.where(far, cross, -1.0)))
    fa, dab = _frame(Y[a], Y[b]), Y[a] @ Y[b]
    trees = {s: (np.flatnonzero(spec == s), cKDTree(Y[spec == s])) for s in set(spec)}
    mats, perms = [], []
    seen = set()
    slack = 2 * tol
    for a2 in np.flatnonzero((spec == spec[a]) & (np.abs(norms - norms[a]) <= slack)):
        ok = (spec == spec[b]) & (np.abs(norms - norms[b]) <= slack)
        ok &= np.abs(Y @ Y[a2] - dab) <= slack * (norms[a] + norms[b])
        for b2 in np.flatnonzero(ok):
            if b2 == a2 or np.linalg.norm(np.cross(Y[a2], Y[b2])) < 1e-9:
                continue
            fb = _frame(Y[a2], Y[b2])
            for det in (1.0, -1.0):
                R = fb.T @ np.diag([1.0, 1.0, det]) @ fa
                for _ in range(2):
                    Z = Y @ R.T
                    perm = np.empty(len(Y), int)
                    for _s, (idx, tree) in trees.items():
                        sel = spec == _s
                        _, j = tree.query(Z[sel])
                        perm[sel] = idx[j]
                    if len(set(perm.tolist())) != len(Y):
                        break
                    R = _procrustes(Y, Y[perm], det)
                else:
                    if np.max(np.linalg.norm(Y @ R.T - Y[perm], axis=1)) <= tol:
                        k = (*perm.tolist(), det)  # planar sets: E and the plane share a perm
                        if k not in seen:
                            seen.add(k)
                            mats.append(R)
                            perms.append(perm)
    return np.array(mats), np.array(perms)


def rotation_order(R: np.ndarray) -> int:
    """Order n of the (proper part of the) operation: R = C_n^k or R = -C_n^k, as an integer, 0 if none."""
    P = R * np.sign(np.linalg.det(R))
    c = np.clip((np.trace(P) - 1) / 2, -1, 1)
    theta = np.arccos(c)
    if theta < 1e-6:
        return 1
    for n in range(2, 200):
        if abs(np.round(theta * n / (2 * np.pi)) - theta * n / (2 * np.pi)) < 1e-4:
            return n
    return 0


def classify(mats: np.ndarray) -> str:
    """Canonical Schoenflies name of the finite group formed by the given orthogonal matrices."""
    mats = np.asarray(mats)
    order = len(mats)
    dets = np.linalg.det(mats)
    proper = mats[dets > 0]
    improper = mats[dets < 0]
    has_i = any(np.allclose(m, -np.eye(3), atol=1e-4) for m in improper)
    n_mirror = sum(abs(np.trace(m) - 1) < 1e-4 for m in improper)
    orders = [rotation_order(m) for m in proper]
    n_c3 = sum(o == 3 for o in orders)
    np_ = len(proper)
    if n_c3 > 2:
        base = {12: "T", 24: "O", 60: "I"}[np_]
        if order == np_:
            return base
        if base == "T":
            return "Th" if has_i else "Td"
        return base + "h"
    n = max(orders)
    if np_ == 4 and n == 2:
        n = 2  # D2
    if np_ == n:  # cyclic proper part
        if order == np_:
            return f"C{n}"
        if n == 1:
            return "Ci" if has_i else "Cs"
        if n_mirror == n:
            return f"C{n}v"
        if n_mirror == 1:
            return "Cs" if n == 1 else f"C{n}h"
        return f"S{2 * n}" if 2 * n != 2 else "Ci"
    if order == np_:
        return f"D{n}"
    return f"D{n}h" if n_mirror == n + 1 else f"D{n}d"


# --------------------------------------------------------------------------------------------
# Special structures
# --------------------------------------------------------------------------------------------


def zigzag_chain(n_atoms: int, bond: float = 1.40, angle_deg: float = 120.0):
    """A planar all-trans zigzag chain of carbon atoms (polyacetylene backbone) in the xy plane.

    Atom k sits at ``(k a, (-1)^k b / 2, 0)``. Its group, worked out by hand: the molecular plane
    is a mirror; for even ``n_atoms`` the point reflection in the plane through the midpoint,
    (x, y) -> (-x, -y), maps atom k to atom n-1-k (parities differ, so y flips), giving the C2
    axis normal to the plane: C2h. For odd ``n_atoms`` atom k and atom n-1-k have the same parity,
    so the plane x = centre through the middle atom is a mirror and (x, y) -> (-x, -y) is not:
    two perpendicular mirrors, C2v. Returns ``(positions, species, expected_group)``.
    """
    half = np.radians(angle_deg) / 2
    a = bond * np.sin(half)
    b = bond * np.cos(half)
    k = np.arange(n_atoms)
    pos = np.stack([k * a, (-1.0) ** k * b / 2, np.zeros(n_atoms)], axis=1)
    return pos, ["C"] * n_atoms, ("C2h" if n_atoms % 2 == 0 else "C2v")


def second_moments(positions) -> np.ndarray:
    """Eigenvalues of the (unweighted) second-moment tensor about the centroid, ascending."""
    Y = np.asarray(positions, float)
    Y = Y - Y.mean(axis=0)
    return np.linalg.eigvalsh(Y.T @ Y)


def near_spherical_c3v(rel_split: float = 0.0):
    """An exact C3v point set (all one species) whose inertia tensor is (nearly) isotropic.

    One atom on the C3 axis and two staggered triangles of different radii at different heights
    (twisted by 60°, so the three vertical mirrors survive). The apex height is solved so that the
    second moment along the axis equals the one across it, then the axial coordinates are scaled
    by ``1 + rel_split / 2`` so that the moments differ by about ``rel_split`` (relative).
    Returns ``(positions, species)``.
    """
    from scipy.optimize import brentq

    r1, h1, r2, h2 = 1.2, 0.0, 1.9, 0.9
    ang1 = 2 * np.pi * np.arange(3) / 3
    ang2 = ang1 + np.pi / 3

    def build(h0):
        ring1 = np.stack([r1 * np.cos(ang1), r1 * np.sin(ang1), np.full(3, h1)], axis=1)
        ring2 = np.stack([r2 * np.cos(ang2), r2 * np.sin(ang2), np.full(3, h2)], axis=1)
        return np.concatenate([[[0.0, 0.0, h0]], ring1, ring2])

    def split(h0):
        Y = build(h0)
        Y = Y - Y.mean(axis=0)
        return np.sum(Y[:, 2] ** 2) - np.sum(Y[:, 0] ** 2)

    h0 = brentq(split, 1.0, 20.0, xtol=1e-15)
    pos = build(h0)
    c = pos.mean(axis=0)
    pos[:, 2] = c[2] + (pos[:, 2] - c[2]) * (1.0 + rel_split / 2)
    return pos, ["C"] * len(pos)


def truncated_icosahedron(bond: float = 1.44):
    """Exact C60 cage (all 60 edges of length ``bond``), Ih, centred on the origin.

    The orbit under Ih of the point one third of the way along an icosahedron edge, from the vertex
    (0, 1, φ) towards (0, -1, φ). ``ase.build.molecule("C60")`` is only Ih to about 0.01 Å (its
    radii spread over 0.008 Å), so the tests use this one where they need an exact cage.
    Returns ``(positions, species)``.
    """
    pts = orbit(group_matrices("Ih"), (0.0, 1.0 / 3.0, PHI))
    return pts * (bond / (2.0 / 3.0)), ["C"] * len(pts)
