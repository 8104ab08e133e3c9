"""Group actions on fields: Wigner D matrices (e3nn), fixed spaces, projectors.

A group element g = (R, σ) acts on a per-point field y (N × d, rows in the irreps' basis) as
``(g·y)[σ(i)] = D(R) y[i]`` and on a global quantity (d,) as ``D(R) y``. R is any orthogonal
3 × 3 matrix; improper R act through each irrep's parity (e3nn's convention).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .structure import parse_irreps


@lru_cache(maxsize=64)
def _irreps(irreps: str):
    from e3nn import o3

    return o3.Irreps(irreps)


def wigner_D(irreps: str, R: np.ndarray) -> np.ndarray:
    """The matrix of the orthogonal 3×3 ``R`` (or a stack of them, (..., 3, 3)) on ``irreps``.

    Pure-scalar irreps skip e3nn: 0e is 1 and 0o is det R.
    """
    R = np.asarray(R, dtype=float)
    parsed = parse_irreps(irreps)
    if all(l == 0 for _, l, _ in parsed):
        det = np.sign(np.linalg.det(R))
        diag = np.concatenate([np.full(mul, 1.0) if p == 1 else np.full(mul, np.nan) for mul, _, p in parsed])
        out = np.zeros(R.shape[:-2] + (len(diag), len(diag)))
        idx = np.arange(len(diag))
        out[..., idx, idx] = np.where(np.isnan(diag), det[..., None], diag)
        return out
    import torch

    # e3nn builds its generators in the default dtype: float32 would cost D about 1e-6 of accuracy
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with torch.no_grad():
            D = _irreps(irreps).D_from_matrix(torch.as_tensor(R, dtype=torch.float64))
    finally:
        torch.set_default_dtype(old)
    return D.numpy()


def act(irreps: str, R: np.ndarray, permutation: np.ndarray | None, y: np.ndarray, D=None) -> np.ndarray:
    """Apply g = (R, σ) to a field: per-point (N, d) when ``permutation`` is given, else global (d,)."""
    D = wigner_D(irreps, R) if D is None else D
    gy = y @ D.T
    if permutation is None:
        return gy
    out = np.empty_like(gy)
    out[permutation] = gy
    return out


def null_space(A: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """Orthonormal basis (columns) of the null space of A; singular values below rtol·max(1, ‖A‖) count as 0."""
    if A.shape[0] == 0:
        return np.eye(A.shape[1])
    _, s, vt = np.linalg.svd(A, full_matrices=True)
    scale = max(1.0, s[0] if len(s) else 0.0)
    rank = int(np.sum(s > rtol * scale))
    return vt[rank:].T.copy()


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
    blocks = []
    for g in generators:
        rho = representation_matrix(irreps, g.matrix, g.permutation if per_point else None)
        blocks.append(rho - np.eye(len(rho)))
    dim = len(blocks[0]) if blocks else None
    if dim is None:
        from .structure import irreps_dim

        return np.eye(irreps_dim(irreps))
    return null_space(np.vstack(blocks))


def project(group, irreps: str, y: np.ndarray, per_point: bool) -> np.ndarray:
    """P_G y: the orthogonal projection of the field y onto the fixed space of the group.

    Finite groups average over their elements (the Reynolds operator, linear in N); infinite
    groups project onto the fixed space built from their generators.
    """
    y = np.asarray(y, dtype=float)
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
