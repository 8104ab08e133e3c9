"""e3nn's real spherical harmonics and Wigner D matrices in numpy, for a light analysis path.

The analysis (``symcheck analyze``, ``symcheck group``) needs spherical harmonics, Wigner D
matrices and the tutorial's spherical-signal encoding, but trains nothing; importing torch
and e3nn for them costs seconds of every cold start. This module computes the same numbers
with numpy alone. e3nn stays the source of truth (DESIGN.md, "Conventions"): the tests in
``tests/test_o3.py`` check every function here against e3nn to 1e-12 in float64.

Conventions (all e3nn's):

- y is the polar axis; for degree l the 2l+1 components are ordered m = −l … l and equal the
  standard real spherical harmonics (no Condon–Shortley phase) of the vector (x', y', z') =
  (z, x, y), i.e. e3nn's l = 1 components are (x, y, z) and its l = 2 components are
  √15·xz, √15·xy, √5·(y² − (x²+z²)/2), √15·yz, (√15/2)·(z² − x²) (component normalisation).
- Improper rotations act on an irrep (l, p) through its parity:
  D_{l,p}(R) = p^[det R < 0] · D_l(det R · R).

Nothing here imports torch or e3nn.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import cache
from typing import NamedTuple

import numpy as np

from .errors import SymcheckError

#: Highest degree e3nn's ``spherical_harmonics`` implements; we follow it so that every result
#: here has an e3nn reference to be tested against.
LMAX = 12

_NORMALIZATIONS = ("integral", "component", "norm")


class Irrep(NamedTuple):
    """One irreducible representation of O(3): degree ``l`` and parity ``p`` (+1 even, −1 odd)."""

    l: int
    p: int

    @property
    def dim(self) -> int:
        """2l + 1."""
        return 2 * self.l + 1

    def __str__(self) -> str:
        return f"{self.l}{'e' if self.p == 1 else 'o'}"


class MulIr(NamedTuple):
    """``mul`` copies of one irrep, a term of :class:`Irreps` (unpacks as ``mul, (l, p)``)."""

    mul: int
    ir: Irrep

    @property
    def dim(self) -> int:
        """mul · (2l + 1)."""
        return self.mul * self.ir.dim

    def __str__(self) -> str:
        return f"{self.mul}x{self.ir}"


class Irreps(tuple):
    """A direct sum of O(3) irreps, e3nn's ``o3.Irreps`` in numpy (no torch).

    ``Irreps("2x0e+1o")`` iterates as ``(mul, (l, p))`` terms (:class:`MulIr`), has ``.dim``,
    ``.num_irreps``, ``.lmax``, ``.ls``, ``.slices()`` and ``.D_from_matrix(R)``, and
    ``str`` gives e3nn's form (``"2x0e+1x1o"``), which parses back to the same value. Built from
    a string (e3nn's grammar: terms ``"0e"``, ``"3x1o"``, ``"1y"`` with y = parity (−1)^l, joined
    by ``+``; SymcheckError on anything else), another Irreps, or ``(mul, (l, p))`` pairs.
    Strings are parsed once and cached: call sites may pass strings freely.
    """

    def __new__(cls, irreps: str | Irreps | Iterable | None = None) -> Irreps:
        if isinstance(irreps, Irreps):
            return irreps
        if irreps is None or isinstance(irreps, str):
            return _parse(irreps or "")
        terms = []
        for mul, ir in irreps:
            l, p = ir
            terms.append(MulIr(int(mul), Irrep(int(l), int(p))))
        return super().__new__(cls, terms)

    @property
    def dim(self) -> int:
        """Σ mul · (2l + 1): the length of a feature vector."""
        return sum(term.dim for term in self)

    @property
    def num_irreps(self) -> int:
        """Σ mul: the number of irrep copies."""
        return sum(term.mul for term in self)

    @property
    def ls(self) -> list[int]:
        """The degree of every copy, in order (e3nn's ``ls``)."""
        return [term.ir.l for term in self for _ in range(term.mul)]

    @property
    def lmax(self) -> int:
        """The largest degree (ValueError when empty, as in e3nn)."""
        if not self:
            raise ValueError("Cannot get lmax of empty Irreps")
        return max(term.ir.l for term in self)

    def slices(self) -> list[slice]:
        """The columns of each term in a feature vector."""
        out, start = [], 0
        for term in self:
            out.append(slice(start, start + term.dim))
            start += term.dim
        return out

    def D_from_matrix(self, R) -> np.ndarray:
        """The block-diagonal matrix of orthogonal ``R`` (..., 3, 3) on these irreps (see :func:`irreps_D`)."""
        return irreps_D(self, R)

    def __str__(self) -> str:
        return "+".join(str(term) for term in self)

    def __repr__(self) -> str:
        return str(self)

    def __eq__(self, other) -> bool:
        if other is None:
            return False
        try:
            other = Irreps(other)
        except (SymcheckError, TypeError, ValueError):
            return False
        return tuple.__eq__(self, other)

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = tuple.__hash__

    def __add__(self, other) -> Irreps:
        return Irreps(tuple(self) + tuple(Irreps(other)))

    def __radd__(self, other) -> Irreps:
        return Irreps(tuple(Irreps(other)) + tuple(self))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Irreps(tuple.__getitem__(self, index))
        return tuple.__getitem__(self, index)


@cache  # a few distinct strings per run, parsed at every Wigner matrix and shape check
def _parse(text: str) -> Irreps:
    """The Irreps of an e3nn irreps string; SymcheckError naming the string on bad input."""
    irreps = text.strip()
    terms = []
    for term in irreps.split("+") if irreps else ():
        term = term.strip()
        mul = 1
        if "x" in term:
            m, term = term.split("x", 1)
            if not m.strip().isdigit():
                raise SymcheckError(f"unknown irreps string {text!r}: bad multiplicity in {m!r}")
            mul = int(m)
        term = term.strip()
        if len(term) < 2 or not term[:-1].isdigit() or term[-1] not in "eoy":
            raise SymcheckError(f"unknown irreps string {text!r}: cannot read {term!r} (expected e.g. 2x1o)")
        l = int(term[:-1])
        terms.append((mul, (l, {"e": 1, "o": -1, "y": (-1) ** l}[term[-1]])))
    return Irreps(terms)



@cache  # lmax ≤ 12: at most 13 entries
def _legendre_coefficients(lmax: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients of the normalised associated-Legendre recurrences up to degree ``lmax``.

    With Q̄_l^m the polynomial P_l^m(cos θ)/sin^m θ times the component normalisation
    c_m·√((2l+1)(l−m)!/(l+m)!) (c_0 = 1, c_m = √2), homogeneous in (t, r²) where t is the
    polar coordinate:

        Q̄_m^m = diag[m]
        Q̄_l^m = a[l, m]·t·Q̄_{l−1}^m − b[l, m]·r²·Q̄_{l−2}^m      (l > m)

    Working with normalised values keeps every intermediate O(1) (the unnormalised ones reach
    23!! ≈ 3e11 at l = 12), and the r² factor keeps the polynomials homogeneous, so a zero
    vector gives e3nn's zeros for l ≥ 1 rather than P_l(0).
    """
    a = np.zeros((lmax + 1, lmax + 1))
    b = np.zeros((lmax + 1, lmax + 1))
    diag = np.zeros(lmax + 1)
    for m in range(lmax + 1):
        # Q̄_m^m = c_m·√((2m+1)/(2m)!)·(2m−1)!!, built as a running product to stay in range
        value = 1.0
        for k in range(1, m + 1):
            value *= math.sqrt((2 * k - 1) / (2 * k))
        diag[m] = value * math.sqrt(2 * m + 1) * (math.sqrt(2.0) if m else 1.0)
        for l in range(m + 1, lmax + 1):
            a[l, m] = math.sqrt((4 * l * l - 1) / (l * l - m * m))
            b[l, m] = math.sqrt((2 * l + 1) * ((l - 1) ** 2 - m * m) / ((2 * l - 3) * (l * l - m * m)))
    return a, b, diag


def _all_harmonics(lmax: int, vectors: np.ndarray) -> np.ndarray:
    """Component-normalised Y_l for l = 0 … lmax of (already normalised or raw) ``vectors`` (n, 3).

    Returns (n, (lmax+1)²), blocks l = 0, 1, … each ordered m = −l … l as in e3nn.
    """
    x, y, z = vectors[:, 0], vectors[:, 1], vectors[:, 2]
    n = len(vectors)
    out = np.empty((n, (lmax + 1) ** 2))
    r2 = x * x + y * y + z * z
    # e3nn's polar axis is y; the azimuth is measured from z towards x: with (x', y', z') =
    # (z, x, y), cos(mφ)·ρ^m = Re (x' + i y')^m and sin(mφ)·ρ^m = Im (x' + i y')^m.
    t, u, v = y, z, x
    a, b, diag = _legendre_coefficients(lmax)
    cos_m = np.ones(n)
    sin_m = np.zeros(n)
    for m in range(lmax + 1):
        if m:
            cos_m, sin_m = u * cos_m - v * sin_m, u * sin_m + v * cos_m
        q_prev = np.zeros(n)
        q = np.full(n, diag[m])
        for l in range(m, lmax + 1):
            if l > m:
                q, q_prev = a[l, m] * t * q - b[l, m] * r2 * q_prev, q
            centre = l * l + l  # the column of m = 0 in block l
            if m == 0:
                out[:, centre] = q
            else:
                out[:, centre + m] = q * cos_m
                out[:, centre - m] = q * sin_m
    return out


def _as_vectors(vectors) -> tuple[np.ndarray, tuple[int, ...]]:
    """(n, 3) float64 view of ``vectors`` (..., 3) and the leading shape to restore."""
    v = np.asarray(vectors, dtype=np.float64)
    if v.shape[-1:] != (3,):
        raise ValueError(f"vectors must have shape (..., 3), got {v.shape}")
    return v.reshape(-1, 3), v.shape[:-1]


def spherical_harmonics(
    l: int | Sequence[int], vectors, normalize: bool = True, normalization: str = "integral"
) -> np.ndarray:
    """e3nn's real spherical harmonics Y_l of ``vectors``, equal to ``e3nn.o3.spherical_harmonics``.

    Parameters
    ----------
    l : a degree 0 … 12, or a list of degrees (concatenated in that order, as e3nn does).
    vectors : (..., 3) array of Cartesian vectors (any length unit; only directions matter
        when ``normalize``).
    normalize : project the vectors onto the unit sphere first (a zero vector stays zero, so
        its Y_l vanish for l ≥ 1, as in e3nn); False evaluates the homogeneous polynomials.
    normalization : e3nn's output normalisation — ``"integral"`` (its default: ∫ Y_m² = 1 over
        the sphere), ``"component"`` (‖Y_l‖² = 2l+1 on the sphere) or ``"norm"`` (‖Y_l‖ = 1).

    Returns
    -------
    (..., Σ(2l+1)) float64 array in e3nn's basis (y polar, m = −l … l).
    """
    ls = [int(l)] if np.ndim(l) == 0 else [int(k) for k in l]
    if not ls or min(ls) < 0 or max(ls) > LMAX:
        raise ValueError(f"degrees must lie in 0…{LMAX}, got {l!r}")
    if normalization not in _NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {_NORMALIZATIONS}, got {normalization!r}")
    v, lead = _as_vectors(vectors)
    if normalize:
        # torch.nn.functional.normalize: x / max(‖x‖, 1e-12), so a zero vector stays zero
        v = v / np.maximum(np.linalg.norm(v, axis=1), 1e-12)[:, None]
    lmax = max(ls)
    allsh = _all_harmonics(lmax, v)
    if ls == list(range(lmax + 1)):
        sh = allsh
    else:
        sh = np.concatenate([allsh[:, k * k:(k + 1) ** 2] for k in ls], axis=1)
    if normalization == "integral":
        sh /= math.sqrt(4 * math.pi)
    elif normalization == "norm":
        sh /= np.concatenate([np.full(2 * k + 1, math.sqrt(2 * k + 1)) for k in ls])
    return sh.reshape(lead + (sh.shape[1],))


def fixed_normals(seed: int, size) -> np.ndarray:
    """``np.random.default_rng(seed).normal(size=size)``: the analysis's fixed-seed generic draws, in one place.

    Parameters
    ----------
    seed : the generator's seed.
    size : an int or a shape.
    """
    return np.random.default_rng(seed).normal(size=size)


@cache  # lmax ≤ 12: at most 13 entries
def _sampling(lmax: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Fixed unit vectors U and, for each l ≤ lmax, the pseudo-inverse of Y_l(U).

    4·lmax + 8 generic points make every Y_l(U) (l ≤ lmax) of full column rank and well
    conditioned, so D_l = (Y_l(U)⁺ · Y_l(R U))ᵀ is exact to rounding.
    """
    U = fixed_normals(12345, (4 * lmax + 8, 3))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    Y = _all_harmonics(lmax, U)
    return U, tuple(np.linalg.pinv(Y[:, l * l:(l + 1) ** 2]) for l in range(lmax + 1))


def _proper(R) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Stack (K, 3, 3) of det·R (proper rotations), the signs of det R, and the batch shape."""
    R = np.asarray(R, dtype=np.float64)
    if R.shape[-2:] != (3, 3):
        raise ValueError(f"R must have shape (..., 3, 3), got {R.shape}")
    Rs = R.reshape(-1, 3, 3)
    det = np.sign(np.linalg.det(Rs))
    return Rs * det[:, None, None], det, R.shape[:-2]


def _wigner_blocks(ls: Sequence[int], proper: np.ndarray) -> dict[int, np.ndarray]:
    """D_l of the proper rotations ``proper`` (K, 3, 3) for every l in ``ls``: {l: (K, 2l+1, 2l+1)}.

    Y_l(R u) = D_l(R) Y_l(u) on the fixed samples u ∈ U, solved for D_l; one evaluation of all
    degrees up to max(ls) serves every block.
    """
    ls = sorted(set(ls))
    lmax = ls[-1]
    K = len(proper)
    if lmax == 0:
        return {0: np.ones((K, 1, 1))}
    U, pinvs = _sampling(lmax)
    RU = (proper @ U.T).swapaxes(1, 2).reshape(-1, 3)  # R u for every rotation and sample
    Y = _all_harmonics(lmax, RU).reshape(K, len(U), -1)
    out = {}
    for l in ls:
        if l == 0:
            out[0] = np.ones((K, 1, 1))
            continue
        # (Y_l(U)⁺ Y_l(RU))[m', m] = D_l[m, m']; matmul, not einsum: ~10× faster on big stacks
        out[l] = np.swapaxes(pinvs[l] @ Y[:, :, l * l:(l + 1) ** 2], 1, 2)
    return out


def wigner_D(l: int, R) -> np.ndarray:
    """e3nn's Wigner matrix D_l(R) of rotation matrices ``R`` (..., 3, 3) → (..., 2l+1, 2l+1).

    Equal to ``e3nn.o3.Irreps(f"{l}e").D_from_matrix(R)`` and, for proper R, to
    ``e3nn.o3.wigner_D(l, *e3nn.o3.matrix_to_angles(R))``. An improper R gives D_l(det R · R)
    (the even-parity convention of ``"{l}e"``); use :func:`irreps_D` for odd parity.

    Parameters
    ----------
    l : degree, 0 … 12.
    R : orthogonal 3 × 3 matrices (dimensionless), any batch shape.
    """
    l = int(l)
    if not 0 <= l <= LMAX:
        raise ValueError(f"l must lie in 0…{LMAX}, got {l}")
    proper, _, batch = _proper(R)
    return _wigner_blocks([l], proper)[l].reshape(batch + (2 * l + 1, 2 * l + 1))


def irreps_D(irreps: str | Irreps, R) -> np.ndarray:
    """The block-diagonal matrix of orthogonal ``R`` (..., 3, 3) on e3nn irreps.

    Equal to ``e3nn.o3.Irreps(irreps).D_from_matrix(R)`` and to ``symcheck.fixed.wigner_D``:
    each irrep (l, p) contributes p^[det R < 0] · D_l(det R · R).

    Parameters
    ----------
    irreps : :class:`Irreps` or an e3nn irreps string, e.g. ``"2x0e+1o+2e+3o"`` (degrees ≤ 12).
    R : orthogonal 3 × 3 matrices, any batch shape; improper ones allowed.

    Returns
    -------
    (..., d, d) float64 with d the irreps' dimension.
    """
    irreps = Irreps(irreps)
    proper, det, batch = _proper(R)
    dim = irreps.dim
    out = np.zeros((len(proper), dim, dim))
    if irreps:
        if irreps.lmax > LMAX:
            raise ValueError(f"irreps {str(irreps)!r}: degrees must lie in 0…{LMAX}")
        blocks = _wigner_blocks([ir.l for _, ir in irreps], proper)
        for (_, (l, p)), sl in zip(irreps, irreps.slices()):
            block = blocks[l] * np.where(det < 0, float(p), 1.0)[:, None, None]
            for k in range(sl.start, sl.stop, 2 * l + 1):  # the mul copies along the diagonal
                out[:, k:k + 2 * l + 1, k:k + 2 * l + 1] = block
    return out.reshape(batch + (dim, dim))


def signal_with_peaks_at(vectors, lmax: int) -> np.ndarray:
    """The tutorial's spherical-signal encoding, one signal per vector (a row each).

    Row i equals ``e3nn.io.SphericalTensor(lmax, p_val=1, p_arg=-1).with_peaks_at(vectors[i:i+1])``
    (what ``symcheck.task.peak_signal`` builds): the signal of degree ≤ lmax whose value at
    the direction of v_i is ‖v_i‖, i.e. ‖v‖·Y(v)/‖Y(v)‖² with integral-normalised Y, for which
    ‖Y‖² = (lmax+1)²/4π on the sphere. A zero vector gives a zero row.

    Parameters
    ----------
    vectors : (n, 3) array (Å for displacements; the signal's peak value has the same unit).
    lmax : highest degree, 0 … 12; the irreps are 0e+1o+2e+… (parity (−1)^l).

    Returns
    -------
    (n, (lmax+1)²) float64.
    """
    v, lead = _as_vectors(vectors)
    norms = np.linalg.norm(v, axis=1)
    sh = spherical_harmonics(list(range(int(lmax) + 1)), v, normalize=True, normalization="integral")
    # e3nn solves the 1×1 system (Y·Y) s = ‖v‖; ‖Y‖² is computed, not taken from the formula, to
    # follow e3nn's rounding
    weight = np.zeros_like(norms)
    nonzero = norms != 0
    weight[nonzero] = norms[nonzero] / np.einsum("ij,ij->i", sh[nonzero], sh[nonzero])
    out = sh * weight[:, None]
    return out.reshape(lead + (out.shape[-1],))


def with_peaks_at(vectors, lmax: int, values=None) -> np.ndarray:
    """One signal with a peak at every vector: ``SphericalTensor(lmax, 1, -1).with_peaks_at(vectors, values)``.

    Parameters
    ----------
    vectors : (n, 3) peak directions (their lengths are the peak values unless ``values``).
    lmax : highest degree, 0 … 12.
    values : optional (n,) peak values; vectors with value 0 are dropped, as in e3nn.

    Returns
    -------
    ((lmax+1)²,) float64: the least-squares signal s = Σ_b c_b Y(v_b) with
    Σ_b (Y(v_a)·Y(v_b)) c_b = value_a.
    """
    v, _ = _as_vectors(vectors)
    vals = np.linalg.norm(v, axis=1) if values is None else np.broadcast_to(np.asarray(values, float), len(v))
    keep = vals != 0
    v, vals = v[keep], vals[keep]
    if len(v) == 0:
        return np.zeros((int(lmax) + 1) ** 2)
    sh = spherical_harmonics(list(range(int(lmax) + 1)), v, normalize=True, normalization="integral")
    A = sh @ sh.T
    coeffs = np.linalg.lstsq(A, vals, rcond=None)[0]
    return coeffs @ sh

