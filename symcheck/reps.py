"""Group actions on fields: Wigner D matrices (symcheck.o3, e3nn's basis), fixed spaces, projectors.

A group element g = (R, σ) acts on a per-point field y (N × d, rows in the irreps' basis) as
``(g·y)[σ(i)] = D(R) y[i]`` and on a global quantity (d,) as ``D(R) y``. R is any orthogonal
3 × 3 matrix; improper R act through each irrep's parity (e3nn's convention).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import numpy as np

from .o3 import irreps_D
from .structure import parse_irreps


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


def wigner_D(irreps: str, R: np.ndarray) -> np.ndarray:
    """The matrix of the orthogonal 3×3 ``R`` (or a stack of them, (..., 3, 3)) on ``irreps`` (e3nn basis).

    Improper R act through each irrep's parity: D_{l,p}(R) = p^[det R < 0] · D_l(det R · R).
    numpy only (symcheck.o3), equal to e3nn's ``Irreps(irreps).D_from_matrix`` to 1e-12 (tests/test_o3.py).
    """
    return irreps_D(irreps, R)


def act(irreps: str, R: np.ndarray, permutation: np.ndarray | None, y: np.ndarray, D=None) -> np.ndarray:
    """Apply g = (R, σ) to a field: per-point (N, d) when ``permutation`` is given, else global (d,)."""
    D = wigner_D(irreps, R) if D is None else D
    gy = y @ D.T
    if permutation is None:
        return gy
    out = np.empty_like(gy)
    out[permutation] = gy
    return out


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


def representation_matrix(irreps: str, R: np.ndarray, permutation: np.ndarray | None) -> np.ndarray:
    """The full matrix of g on the flattened field (N·d for per-point fields, d for global ones)."""
    D = wigner_D(irreps, R)
    if permutation is None:
        return D
    n = len(permutation)
    P = np.zeros((n, n))
    P[permutation, np.arange(n)] = 1.0
    return np.kron(P, D)


def fixed_space(generators, irreps: str, per_point: bool) -> np.ndarray:
    """Orthonormal basis (columns) of Fix_G(V) = ∩_k ker(ρ(g_k) − I) over the group's generators.

    Built on generators, so infinite groups (given by an irrational rotation) are exact.
    ``generators`` are SymmetryOperation-like objects with ``.matrix`` and ``.permutation``.
    """
    rhos = [representation_matrix(irreps, g.matrix, g.permutation if per_point else None) for g in generators]
    if not rhos:  # the trivial group fixes everything (global fields; per-point ones need a generator)
        return np.eye(sum(mul * (2 * l + 1) for mul, l, _ in parse_irreps(irreps)))
    return null_space(np.vstack([rho - np.eye(len(rho)) for rho in rhos]))


def field_fixed_space(group, irreps: str, sites: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the group's fixed space for per-point fields on ``sites`` (a union of orbits).

    For finite groups this is built orbit by orbit, without ever forming the (m·d)² matrix of
    the permutation representation: on an orbit O = G·a, an invariant field is fixed by its
    value v at a, which must be invariant under the site stabilizer G_a, and then
    y_{g·a} = D(R_g) v. Infinite groups use the generators (``fixed_space``).
    Rows of the basis run over (site, component) in the order of ``sites``.
    """
    sites = np.asarray(sites)
    d = sum(mul * (2 * l + 1) for mul, l, _ in parse_irreps(irreps))
    if getattr(group, "cell_group", None) is not None:  # a space group: by cosets, never element by element
        from .groups.crystal import factored_fixed_space

        return factored_fixed_space(group, irreps, sites, d)
    local = {int(a): k for k, a in enumerate(sites)}
    if group.order is None:
        gens = [_Restricted(g, sites, local) for g in group.generators]
        return fixed_space(gens, irreps, per_point=True)
    ops = group.operations
    perms = np.array([op.permutation for op in ops])
    Ds = wigner_D(irreps, np.stack([op.matrix for op in ops]))
    columns = []
    done = set()
    for a in sites.tolist():
        if a in done:
            continue
        images = perms[:, a]
        orbit = sorted(set(images.tolist()))
        done.update(orbit)
        stab = images == a
        P = Ds[stab].mean(axis=0)  # projector onto Fix_{G_a}(V): the site-stabilizer average
        w, V = np.linalg.eigh((P + P.T) / 2)
        site_basis = V[:, w > 0.5]
        if site_basis.shape[1] == 0:
            continue
        # one coset representative per orbit atom: the first g with g·a = b
        first = {}
        for k, b in enumerate(images.tolist()):
            first.setdefault(b, k)
        block = np.zeros((len(sites), d, site_basis.shape[1]))
        for b, k in first.items():
            block[local[b]] = Ds[k] @ site_basis
        columns.append(block.reshape(len(sites) * d, -1) / np.sqrt(len(orbit)))
    if not columns:
        return np.zeros((len(sites) * d, 0))
    return np.concatenate(columns, axis=1)


class _Restricted:
    """An operation seen on a subset of atoms that it maps onto itself (local indices)."""

    def __init__(self, op, sites, local):
        self.matrix = op.matrix
        self.permutation = np.array([local[int(op.permutation[a])] for a in sites])


def project(group, irreps: str, y: np.ndarray, per_point: bool) -> np.ndarray:
    """P_G y: the orthogonal projection of the field y onto the fixed space of the group.

    Finite groups average over their elements (the Reynolds operator, linear in N); space groups
    average over their coset representatives after averaging over their translations; infinite
    groups project onto the fixed space built from their generators.
    """
    y = np.asarray(y, dtype=float)
    if getattr(group, "cell_group", None) is not None:
        from .groups.crystal import factored_project

        return factored_project(group, irreps, y, per_point)
    if group.order is not None:
        Rs = np.stack([op.matrix for op in group.operations])
        Ds = wigner_D(irreps, Rs)
        total = np.zeros_like(y)
        for op, D in zip(group.operations, Ds):
            total += act(irreps, op.matrix, op.permutation if per_point else None, y, D=D)
        return total / len(group.operations)
    basis = fixed_space(group.generators, irreps, per_point)
    flat = y.reshape(-1)
    return (basis @ (basis.T @ flat)).reshape(y.shape)
