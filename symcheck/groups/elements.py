"""The elements of a finite point group as exact matrices: matching them and their multiplication table.

Products of a finite group's exact matrices agree with another element to ~1e-13, so two
matrices are the same element when every entry agrees within ``MATCH_TOL`` (1e-6), and the
group law becomes a table on element indices. The character tables and the subgroup lattice
both work on these indices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import SymcheckError

if TYPE_CHECKING:  # only the type: a group is read through ``order`` and ``operations``
    from .pointgroup import PointGroup

MATCH_TOL = 1e-6  # max |ΔR| entry for two exact matrices to be the same element


def group_matrices(group: PointGroup) -> np.ndarray:
    """The (order, 3, 3) matrices of a finite group's elements, in the order of ``group.operations``.

    :param group: a finite PointGroup.
    :raises SymcheckError: for infinite groups (linear molecules, single atoms).
    """
    if group.infinite:
        raise SymcheckError(f"{group.pretty_name} is infinite: subgroup lattices and character tables "
                            "are defined here for finite point groups only")
    return np.stack([np.asarray(op.matrix, dtype=float) for op in group.operations])


def match_elements(mats: np.ndarray, query: np.ndarray, atol: float = MATCH_TOL) -> np.ndarray:
    """Index into ``mats`` of each query matrix (nearest element, which must be within ``atol``).

    :param mats: (n, 3, 3) the group's elements.
    :param query: (k, 3, 3) matrices to identify.
    :param atol: largest allowed entrywise difference (dimensionless matrix entries).
    :raises SymcheckError: when a query matrix is not an element of the group.
    """
    M = np.asarray(mats, dtype=float).reshape(len(mats), 9)
    Q = np.asarray(query, dtype=float).reshape(-1, 9)
    # squared distances by one matrix product: |q|² + |m|² − 2 q·m
    d2 = np.sum(Q**2, axis=1)[:, None] + np.sum(M**2, axis=1)[None, :] - 2 * Q @ M.T
    idx = np.argmin(d2, axis=1)
    err = np.max(np.abs(Q - M[idx]), axis=1) if len(Q) else np.zeros(0)
    if np.any(err > atol):
        k = int(np.argmax(err))
        raise SymcheckError(f"matrix {np.round(Q[k].reshape(3, 3), 6).tolist()} is not an element of the group "
                            f"(nearest differs by {err[k]:.2g})")
    return idx


def find_element(mats: np.ndarray, R: np.ndarray) -> int | None:
    """Index of the element equal to R (within ``MATCH_TOL``), or None when R is not in the group.

    :param mats: (n, 3, 3) the group's elements.
    :param R: (3, 3) the matrix to look for.
    """
    d = np.max(np.abs(np.asarray(mats) - np.asarray(R)[None]), axis=(1, 2))
    k = int(np.argmin(d))
    return k if d[k] < MATCH_TOL else None


def multiplication_table(mats: np.ndarray) -> np.ndarray:
    """table[a, b] = index of mats[a] @ mats[b]: the group law on element indices.

    :param mats: (n, 3, 3) the elements of a finite group (closed under products).
    """
    mats = np.asarray(mats, dtype=float)
    prod = np.einsum("aij,bjk->abik", mats, mats).reshape(-1, 3, 3)
    return match_elements(mats, prod).reshape(len(mats), len(mats))


def identity_index(mats: np.ndarray) -> int:
    """Index of the identity among the elements (n, 3, 3)."""
    return int(match_elements(mats, np.eye(3)[None])[0])


def inverse_indices(table: np.ndarray, e: int) -> np.ndarray:
    """inv[a] = index of the inverse of element a, from the multiplication table and the identity's index."""
    return np.argmax(table == e, axis=1)


__all__ = [
    "MATCH_TOL",
    "find_element",
    "group_matrices",
    "identity_index",
    "inverse_indices",
    "match_elements",
    "multiplication_table",
]
