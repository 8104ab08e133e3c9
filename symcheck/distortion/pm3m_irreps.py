"""Labelled irreps of the space group Pm-3m (No. 221) at Γ, X, M and R, in the ISOTROPY convention.

The matrices are those of ISO-IR, the irreducible-representation tables of the ISOTROPY
Software Suite (H. T. Stokes, B. J. Campbell, D. M. Hatch, iso.byu.edu; "ISO-IR: Complex
irreducible representations of the 230 crystallographic space groups", 2013 edition,
``CIR_data.txt``), whose labels follow Miller & Love (1967) / Cracknell, Davies, Miller &
Love (CDML, 1979) with ISOTROPY's names (GM for Γ; ± the parity under the inversion at the
origin). Only the matrices of the three generators C4z, C3[111] and the inversion are stored
(in the standard setting: cubic axes, origin at an m-3m point, 1a); the 48 point operations
are generated from them. ``tests/test_modes.py`` checks every stored matrix against ISO-IR
itself (through the tables bundled with CrystOD) when CrystOD is installed, and the labels
against published assignments (out-of-phase tilts R4+, in-phase tilts M3+, the ferroelectric
mode GM4−, the A-site antipolar mode X5+ of Pnma, with the B site at 1a) always.

Why these four points: they are the k-points of a 2×2×2 supercell of a cubic perovskite, the
setting of the Glazer tilt systems, and the only irreps whose matrices (hence order-parameter
directions) symcheck stores. Other parent groups are named from the Bilbao tables at their
maximal k-points (:mod:`.bcs_irreps`, characters only: no directions); irreps anywhere else
(Pm-3m at Δ, Σ, Λ … in a 4×4×4 supercell, lines and planes of any group) are named by their
k-point and dimension only, e.g. "DT(6-dim)": symcheck never invents a label it has not checked.

The representation of a translation t (conventional basis) is the block diagonal
exp(±2πi k_j·t) on the arms k_j; at Γ, X, M, R these are ±1 so both sign conventions agree.
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np

from ..groups.group import close, element_keys

H = 0.5
S = float(np.sqrt(3.0) / 2.0)

# The generators (integer matrices acting on fractional coordinates of the cubic cell).
GENERATORS = (
    np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]]),  # C4z
    np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]]),  # C3 about [111]
    -np.eye(3, dtype=int),  # inversion at the origin
)

# Arms of each star in ISO-IR's order (fractions of the cubic reciprocal basis); the
# order-parameter direction's components run over the arms, then over the small irrep.
ARMS = {
    "GM": ((0.0, 0.0, 0.0),),
    "R": ((0.5, 0.5, 0.5),),
    "X": ((0.0, 0.5, 0.0), (0.5, 0.0, 0.0), (0.0, 0.0, 0.5)),
    "M": ((0.5, 0.5, 0.0), (0.5, 0.0, 0.5), (0.0, 0.5, 0.5)),
}

# ISO-IR matrices of (C4z, C3[111], inversion) for every irrep at GM, R, X, M of Pm-3m.
_GENERATOR_MATRICES = {
    "GM1+": (
        [[1]],
        [[1]],
        [[1]],
    ),
    "GM2+": (
        [[-1]],
        [[1]],
        [[1]],
    ),
    "GM3+": (
        [[1, 0], [0, -1]],
        [[-H, S], [-S, -H]],
        [[1, 0], [0, 1]],
    ),
    "GM4+": (
        [[0, -1, 0], [1, 0, 0], [0, 0, 1]],
        [[0, 0, 1], [1, 0, 0], [0, 1, 0]],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ),
    "GM5+": (
        [[-1, 0, 0], [0, 0, 1], [0, -1, 0]],
        [[0, 0, 1], [1, 0, 0], [0, 1, 0]],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ),
    "GM1-": (
        [[1]],
        [[1]],
        [[-1]],
    ),
    "GM2-": (
        [[-1]],
        [[1]],
        [[-1]],
    ),
    "GM3-": (
        [[-1, 0], [0, 1]],
        [[-H, S], [-S, -H]],
        [[-1, 0], [0, -1]],
    ),
    "GM4-": (
        [[0, -1, 0], [1, 0, 0], [0, 0, 1]],
        [[0, 0, 1], [1, 0, 0], [0, 1, 0]],
        [[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
    ),
    "GM5-": (
        [[-1, 0, 0], [0, 0, 1], [0, -1, 0]],
        [[0, 0, 1], [1, 0, 0], [0, 1, 0]],
        [[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
    ),
    "R1+": (
        [[1]],
        [[1]],
        [[1]],
    ),
    "R2+": (
        [[-1]],
        [[1]],
        [[1]],
    ),
    "R3+": (
        [[1, 0], [0, -1]],
        [[-H, S], [-S, -H]],
        [[1, 0], [0, 1]],
    ),
    "R4+": (
        [[1, 0, 0], [0, 0, -1], [0, 1, 0]],
        [[0, 0, 1], [1, 0, 0], [0, 1, 0]],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ),
    "R5+": (
        [[-1, 0, 0], [0, 0, 1], [0, -1, 0]],
        [[0, 0, 1], [1, 0, 0], [0, 1, 0]],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ),
    "R1-": (
        [[1]],
        [[1]],
        [[-1]],
    ),
    "R2-": (
        [[-1]],
        [[1]],
        [[-1]],
    ),
    "R3-": (
        [[-1, 0], [0, 1]],
        [[-H, S], [-S, -H]],
        [[-1, 0], [0, -1]],
    ),
    "R4-": (
        [[1, 0, 0], [0, 0, -1], [0, 1, 0]],
        [[0, 0, 1], [1, 0, 0], [0, 1, 0]],
        [[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
    ),
    "R5-": (
        [[-1, 0, 0], [0, 0, 1], [0, -1, 0]],
        [[0, 0, 1], [1, 0, 0], [0, 1, 0]],
        [[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
    ),
    "X1+": (
        [[0, 1, 0], [1, 0, 0], [0, 0, 1]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ),
    "X2+": (
        [[0, -1, 0], [-1, 0, 0], [0, 0, -1]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ),
    "X3+": (
        [[0, 1, 0], [-1, 0, 0], [0, 0, 1]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ),
    "X4+": (
        [[0, -1, 0], [1, 0, 0], [0, 0, -1]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ),
    "X5+": (
        [
            [0, 0, 0, 1, 0, 0],
            [0, 0, -1, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
            [1, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, -1],
            [0, 0, 0, 0, 1, 0],
        ],
        [
            [0, 0, 1, 0, 0, 0],
            [0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1],
            [1, 0, 0, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
        ],
        [
            [1, 0, 0, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
            [0, 0, 1, 0, 0, 0],
            [0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1],
        ],
    ),
    "X1-": (
        [[0, 1, 0], [1, 0, 0], [0, 0, 1]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
    ),
    "X2-": (
        [[0, -1, 0], [-1, 0, 0], [0, 0, -1]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
    ),
    "X3-": (
        [[0, 1, 0], [-1, 0, 0], [0, 0, 1]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
    ),
    "X4-": (
        [[0, -1, 0], [1, 0, 0], [0, 0, -1]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
    ),
    "X5-": (
        [
            [0, 0, 0, 1, 0, 0],
            [0, 0, -1, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
            [1, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, -1],
            [0, 0, 0, 0, 1, 0],
        ],
        [
            [0, 0, 1, 0, 0, 0],
            [0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1],
            [1, 0, 0, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
        ],
        [
            [-1, 0, 0, 0, 0, 0],
            [0, -1, 0, 0, 0, 0],
            [0, 0, -1, 0, 0, 0],
            [0, 0, 0, -1, 0, 0],
            [0, 0, 0, 0, -1, 0],
            [0, 0, 0, 0, 0, -1],
        ],
    ),
    "M1+": (
        [[1, 0, 0], [0, 0, 1], [0, 1, 0]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ),
    "M2+": (
        [[-1, 0, 0], [0, 0, -1], [0, -1, 0]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ),
    "M3+": (
        [[1, 0, 0], [0, 0, 1], [0, -1, 0]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ),
    "M4+": (
        [[-1, 0, 0], [0, 0, -1], [0, 1, 0]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ),
    "M5+": (
        [
            [0, -1, 0, 0, 0, 0],
            [1, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, -1, 0],
            [0, 0, 0, 1, 0, 0],
            [0, 0, 1, 0, 0, 0],
        ],
        [
            [0, 0, 1, 0, 0, 0],
            [0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1],
            [1, 0, 0, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
        ],
        [
            [1, 0, 0, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
            [0, 0, 1, 0, 0, 0],
            [0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1],
        ],
    ),
    "M1-": (
        [[1, 0, 0], [0, 0, 1], [0, 1, 0]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
    ),
    "M2-": (
        [[-1, 0, 0], [0, 0, -1], [0, -1, 0]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
    ),
    "M3-": (
        [[1, 0, 0], [0, 0, 1], [0, -1, 0]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
    ),
    "M4-": (
        [[-1, 0, 0], [0, 0, -1], [0, 1, 0]],
        [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
        [[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
    ),
    "M5-": (
        [
            [0, -1, 0, 0, 0, 0],
            [1, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, -1, 0],
            [0, 0, 0, 1, 0, 0],
            [0, 0, 1, 0, 0, 0],
        ],
        [
            [0, 0, 1, 0, 0, 0],
            [0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1],
            [1, 0, 0, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
        ],
        [
            [-1, 0, 0, 0, 0, 0],
            [0, -1, 0, 0, 0, 0],
            [0, 0, -1, 0, 0, 0],
            [0, 0, 0, -1, 0, 0],
            [0, 0, 0, 0, -1, 0],
            [0, 0, 0, 0, 0, -1],
        ],
    ),
}


def _keys(rotations: np.ndarray) -> list:
    """The element keys of integer rotations (the one key of symcheck.groups.group)."""
    return element_keys(rotations, decimals=0).tolist()


def _product(A: tuple, B: tuple) -> tuple:
    return A[0] @ B[0], A[1] @ B[1]


@lru_cache(maxsize=1)
def point_matrices() -> dict[str, dict[bytes, np.ndarray]]:
    """label → {rotation key → matrix of (R|0)} for the 48 operations of m-3m (ISO-IR basis)."""
    out = {}
    rotations = np.array(GENERATORS, dtype=float)
    for label, gens in _GENERATOR_MATRICES.items():
        mats = np.array([np.array(g, dtype=float) for g in gens])
        # the one closure, on pairs (R, D(R)): D(g·s) = D(g) D(s)
        start = (np.eye(3)[None], np.eye(mats.shape[1])[None])
        R, D = close((rotations, mats), _product, lambda ops: element_keys(ops[0], decimals=0), start=start).elements
        if len(R) != 48:
            raise AssertionError(f"{label}: generated {len(R)} operations, expected 48")
        out[label] = dict(zip(_keys(R), D))
    return out


def labels() -> tuple[str, ...]:
    """All stored labels, in ISO-IR's order (GM1+ … M5−)."""
    return tuple(_GENERATOR_MATRICES)


def k_type(label: str) -> str:
    """The k-point name of a label: "GM", "R", "X" or "M"."""
    return label.rstrip("+-").rstrip("0123456789")


@lru_cache(maxsize=1)
def _stacked() -> tuple[dict[bytes, int], dict[str, np.ndarray]]:
    table = point_matrices()
    keys = list(table["GM1+"])
    index = {k: i for i, k in enumerate(keys)}
    return index, {label: np.stack([m[k] for k in keys]) for label, m in table.items()}


def rotation_indices(rotations: np.ndarray) -> np.ndarray:
    """Index of each (n, 3, 3) integer rotation (cubic fractional basis) among the 48 of m-3m."""
    index, _ = _stacked()
    try:
        return np.array([index[k] for k in _keys(rotations)], dtype=np.int64)
    except KeyError as e:
        raise ValueError("a rotation is not one of m-3m's in the cubic basis") from e


def matrices(label: str, indices: np.ndarray, translations: np.ndarray) -> np.ndarray:
    """ISO-IR matrices of the operations (R|t): (n, dim, dim).

    Parameters
    ----------
    label : e.g. ``"R4+"``.
    indices : (n,) the rotations R as :func:`rotation_indices` numbers them.
    translations : (n, 3) translations in the cubic fractional basis; lattice vectors (integers)
        here, since Pm-3m is symmorphic and the origin is at 1a.
    """
    D = _stacked()[1][label][indices]
    arms = np.array(ARMS[k_type(label)])
    d = D.shape[1] // len(arms)
    phase = np.exp(2j * np.pi * np.asarray(translations, dtype=float) @ arms.T).real  # ±1
    return np.repeat(phase, d, axis=1)[:, :, None] * D


@cache
def _arm_traces(label: str) -> np.ndarray:
    D = _stacked()[1][label]
    n = len(ARMS[k_type(label)])
    d = D.shape[1] // n
    return np.stack([np.trace(D[:, j * d:(j + 1) * d, j * d:(j + 1) * d], axis1=1, axis2=2) for j in range(n)], axis=1)


def characters(label: str, indices: np.ndarray, translations: np.ndarray) -> np.ndarray:
    """Characters of (R|t) (real): the traces of :func:`matrices`, without building them."""
    arms = np.array(ARMS[k_type(label)])
    phase = np.exp(2j * np.pi * np.asarray(translations, dtype=float) @ arms.T).real
    return (phase * _arm_traces(label)[indices]).sum(axis=1)


def cubic_k_label(k: np.ndarray) -> str | None:
    """CDML name of a k-vector of a primitive cubic lattice (GM, X, M, R, DT, LD, SM, T, Z, S).

    ``k`` in fractions of the cubic reciprocal basis. The names do not depend on signs or the
    order of components, so k is folded to 0 ≤ k_i ≤ 1/2 and sorted, v0 ≤ v1 ≤ v2; then the
    special points GM (0,0,0), X (0,0,½), M (0,½,½), R (½,½,½) and the lines with a free
    parameter a: DT (0,0,a), SM (0,a,a), LD (a,a,a), Z (0,a,½), S (a,a,½), T (a,½,½).
    None for a point on a plane or a general point.
    """
    k = np.asarray(k, dtype=float)
    v0, v1, v2 = np.sort(np.round(np.abs(k - np.rint(k)), 9))
    zero, half = (lambda x: x == 0.0), (lambda x: x == 0.5)
    table = (
        ("GM", zero(v2)), ("R", half(v0)), ("M", zero(v0) and half(v1)), ("X", zero(v1) and half(v2)),
        ("DT", zero(v1)), ("SM", zero(v0) and v1 == v2), ("LD", v0 == v1 == v2),
        ("Z", zero(v0) and half(v2)), ("S", v0 == v1 and half(v2)), ("T", half(v1)),
    )
    return next((name for name, hit in table if hit), None)
