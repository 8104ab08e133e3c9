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
maximal k-points (:mod:`.bcs_irreps`, characters only: no directions).

Lines, planes and the general point of Pm-3m (``LINES``): ISO-IR's irreps DT1–DT5 (Δ, (0,a,0)),
LD1–LD3 (Λ, (a,a,a)), SM1–SM4 (Σ, (a,a,0)), S1–S4 ((a,½,a)), T1–T5 ((½,½,a)), Z1–Z4 ((a,½,0)), the
planes A (a,b,0), B (a,½,b), C (a,a,b) and GP1, stored as the characters of the small irrep at
ISO-IR's first arm on that arm's little co-group (Pm-3m is symmorphic and ISO-IR's coset
representatives have t = 0, so a small irrep there is a point-group irrep times exp(2πi k·t), the
same for every value of the parameter). With these every irrep of every Pm-3m supercell is named;
``tests/test_labels.py`` checks the stored characters against ISO-IR's ``CIR_data`` (when CrystOD,
which bundles it, is installed) and the names against compatibility relations always. Irreps at
lines and planes of other groups are named by their k-point and dimension only, e.g.
"k=(0,0,1/4)(4-dim)", with the reason: symcheck never invents a label it has not checked.

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


# ---------------------------------------------------------------------------------------------
# lines, planes and the general point (ISO-IR, CIR_data.txt, space group 221)

# type: (first arm's constant part, its parameter directions (rows), the rotations of its little
# co-group as 9 signs row by row ('+' 1, '-' −1, '0' 0; cubic fractional basis), and for each irrep its
# characters on those rotations). The arm is const + Σ_i p_i · direction_i.
LINES = {
    "DT": (
        (0, 0, 0), ((0, 1, 0),),
        ("+000+000+", "-000+000-", "00+0+0-00", "00-0+0+00", "-000+000+", "+000+000-", "00-0+0-00", "00+0+0+00"),
        {"DT1": (1, 1, 1, 1, 1, 1, 1, 1), "DT2": (1, 1, -1, -1, 1, 1, -1, -1), "DT3": (1, 1, -1, -1, -1, -1, 1, 1),
         "DT4": (1, 1, 1, 1, -1, -1, -1, -1), "DT5": (2, -2, 0, 0, 0, 0, 0, 0)},
    ),
    "LD": (
        (0, 0, 0), ((1, 1, 1),),
        ("+000+000+", "00++000+0", "0+000++00", "0+0+0000+", "00+0+0+00", "+0000+0+0"),
        {"LD1": (1, 1, 1, 1, 1, 1), "LD2": (1, 1, 1, -1, -1, -1), "LD3": (2, -1, -1, 0, 0, 0)},
    ),
    "SM": (
        (0, 0, 0), ((1, 1, 0),),
        ("+000+000+", "0+0+0000-", "+000+000-", "0+0+0000+"),
        {"SM1": (1, 1, 1, 1), "SM2": (1, -1, 1, -1), "SM3": (1, -1, -1, 1), "SM4": (1, 1, -1, -1)},
    ),
    "S": (
        (0, 0.5, 0), ((1, 0, 1),),
        ("+000+000+", "00+0-0+00", "+000-000+", "00+0+0+00"),
        {"S1": (1, 1, 1, 1), "S2": (1, -1, 1, -1), "S3": (1, -1, -1, 1), "S4": (1, 1, -1, -1)},
    ),
    "T": (
        (0.5, 0.5, 0), ((0, 0, 1),),
        ("+000+000+", "-000-000+", "0-0+0000+", "0+0-0000+", "-000+000+", "+000-000+", "0-0-0000+", "0+0+0000+"),
        {"T1": (1, 1, 1, 1, 1, 1, 1, 1), "T2": (1, 1, -1, -1, 1, 1, -1, -1), "T3": (1, 1, -1, -1, -1, -1, 1, 1),
         "T4": (1, 1, 1, 1, -1, -1, -1, -1), "T5": (2, -2, 0, 0, 0, 0, 0, 0)},
    ),
    "Z": (
        (0, 0.5, 0), ((1, 0, 0),),
        ("+000+000+", "+000-000-", "+000-000+", "+000+000-"),
        {"Z1": (1, 1, 1, 1), "Z2": (1, 1, -1, -1), "Z3": (1, -1, 1, -1), "Z4": (1, -1, -1, 1)},
    ),
    "C": ((0, 0, 0), ((1, 1, 0), (0, 0, 1)), ("+000+000+", "0+0+0000+"), {"C1": (1, 1), "C2": (1, -1)}),
    "A": ((0, 0, 0), ((1, 0, 0), (0, 1, 0)), ("+000+000+", "+000+000-"), {"A1": (1, 1), "A2": (1, -1)}),
    "B": ((0, 0.5, 0), ((1, 0, 0), (0, 0, 1)), ("+000+000+", "+000-000+"), {"B1": (1, 1), "B2": (1, -1)}),
    "GP": ((0, 0, 0), ((1, 0, 0), (0, 1, 0), (0, 0, 1)), ("+000+000+",), {"GP1": (1,)}),
}


def line_rotation(code: str) -> np.ndarray:
    """'+000+000-' → the integer matrix diag(1, 1, −1) (rows in order)."""
    return np.array([{"+": 1, "-": -1, "0": 0}[c] for c in code]).reshape(3, 3)


def line_arm(kind: str, k: np.ndarray, little_order: int) -> np.ndarray | None:
    """The parameters p with k ≡ const + Σ p_i d_i (mod the reciprocal lattice) of ISO-IR's first arm of
    ``kind``, if k lies there at a point whose little co-group has ``little_order`` rotations (the type's
    generic order: a k where a line meets a point of higher symmetry is that point, not the line).

    Solved over the reciprocal lattice vectors G in {−1, 0, 1}³ (k folded to (−½, ½]); the smallest |p|,
    positive first (for Pm-3m the characters do not depend on p, so the choice only fixes the k shown).
    """
    const, dirs, ops, _ = LINES[kind]
    if len(ops) != little_order:
        return None
    A = np.array(dirs, dtype=float).T  # (3, n_params)
    rhs = (np.asarray(k, dtype=float) - np.array(const, dtype=float))[None] + _G_BOX  # (27, 3)
    p = rhs @ np.linalg.pinv(A).T
    ok = np.all(np.abs(p @ A.T - rhs) < 1e-9, axis=1)
    if not ok.any():
        return None
    return min(p[ok], key=lambda q: (round(float(q @ q), 9), tuple(-np.round(q, 9))))


_G_BOX = np.stack(np.meshgrid(*[np.arange(-1, 2)] * 3, indexing="ij"), -1).reshape(-1, 3).astype(float)
