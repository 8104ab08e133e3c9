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


# The first STORED_NORMALS draws of np.random.default_rng(seed).normal() for the seeds the analysis uses
# (little-endian float64, base64): generic directions and sample points come from these fixed draws, and
# reading them here spares every cold command the import of numpy.random (about 15 ms). Checked against
# numpy by tests/test_speed_analysis.py; longer draws and other seeds come from numpy.random itself.
STORED_NORMALS = 256
_NORMALS_B64 = {
    0: (
        "QYTbie0XwD/MRb3pz+jAv22waKRXfuQ/8NSE7Lvauj/tQ+YYNCThv+bRzpVfJNc/PBC9Ji/d9D+jvGm8fE7uPyiv2sH/hOa/u8iclSo/9L/7"
        "9CBJ3fHjv+MMi8OtKKU/gyMavKmZAsB+JZ2AXQHMv37iQlFA7/O/9yaM8rtu57/UpH3QkWrhvyjQ1AJDPtS/+MHwmidY2j+TYrZ/Iq7wPwie"
        "3+bSc8C/cAjTzAjd9T8fJgNXRknlv3Lo0Bckf9Y/32FjTDrp7D9tBU6gMBG4P65nEvC+yue/6IpdN8Z+7b8Fp/FCYUvdvxdyBZNaL8w/yO57"
        "ZWUn8L/CFpnmQ8bKv8vbJDF8YcS/WytNZptO4T8U9Xk783nLP6fpzSxtvtY/doLU+Sns5L/kv+n2LZfAv8rymLlTFuk/39B4Dhjl9z9Phz7m"
        "ISX0vyFC0iIIOfg/hykaq7SI9T9bAkDEgADpP6R54E7X7NA/Jr55t08X1L/D7Ap/DVT3P3nVDdM3Xf8/FYjWFX/T/D/tFsY+qgr1P5S4ABZS"
        "39Y/P8oM60VV879qGVNBfz5yv6F9GbnXAeU/SLID6SCd9L9MO5oJrknZP+/yvwPjgts/v0EBZPtF5j8SQF2uJfLyv5HGUt+qLOW/5lBTGo7u"
        "27/+7Io0grfyvzrKP2lz1Ps/ykAZWgC937/hKfqh1g3VP/MNndxzjNC/7O1IqOdV+T935KbXMiD1P33NO7hsROQ/Y1LOycmgAcDAAcitiqOq"
        "P8WVw9zB4OU/g+xqAzoQ8D/Hlp/+5MXjv+b3JmP1Jv0/i1KNOXwg9b+kr2LQPCvlv7Fl4vPt6+0/pfsxtK8dqT8UEyRn5gQAQPYyQZtlIcg/"
        "waysQCBD5L+W1cgeACrYvxxPpaFVdfG/mQ0WwmBx9L/A6Pu3VCzkP3+4uwvpmOI/rPcDT4O29D/orFoLuyXov6bOOomVBvs/SuGTaY9k0r/B"
        "BkO8xjD5P72J9GjDstu/z6nrQRSJ578nje6Q9/jPP5D2LfPUgPA/HOgqOfabxD+/M8/xprzivzJbi82idfW/Sg38daBs9r/AHw9Y+hXgP1Vm"
        "zKq6q+8/NR0e75oHxb8+AaE0mTDxv/tEsRj27+s/d7poXH589L8POIMudNHmv5r6ZdVg3+M/Yxb/A0oAAsBe0m2MR7rYP2yzTD7NnOK/MrPI"
        "FsH5uz9NL2DbLGGzv3ffYW7i3sk/g6S+EKg25j93TMyjkETov7iJIKVXvPY/BICrCik85z8FG+Wj2//qP0uQ8mlIo/I/0iDeNuwz6T+OvwpL"
        "sQLrP/xf7VUaWrM/Pp9M0RDU9r9abxJoKEnBv+JEqyrdn+i/mdRm34zD9r9O/yGTfYrQP/wg95+OMeK/747oNxR68L/PmYnmIbDwv0NowtS+"
        "LdE/E3jrMHv01j/H/e8pySj1P0Ee9zFLf4y/id3XKmCr8D/9GjU+rW/2P3fvAxUUZ/I/OHxUdCTsAsCSs3FCsKjzP9+wH49VvNU/xydf4REf"
        "2z+bkaOkMMLXP1AOa+MXf9g/0R93V0hx1D8scZGGb/jWvwcbdyIZbf6/ZEVq6tXhu78+zITaK7jpv7/5Mm5ZSPE/mYrbgiZ70r9RZoAUpF61"
        "P/WiOtT4L+u/XTUH7gRX4L+TFCJWpZ6Hv/w668QYxPe/x4QSx2w+0z9+NJIbjSe7v7x4i1S1+PK/PJtotpQvA8DnFQVP7GrgPzevxOydC9O/"
        "HA8sNNT14L85OQKeUDrOv6/igBNJEP0/Vi7XOoN/qb8VSr0Vriy2PzFl4OsMy/e/EMN2NYBb+j8vuGvCD1ztP1r9i0sqEvE/winuao9oqD9M"
        "JndsPFXtP6tAUsuXvdc/DWd1sz6f4z+txYURD3vDv7DwbIcLlfe/4pcC+i928D+LGWU8mPX+vwMKFa4+ts6/+Y18+8otyr9OSX0djq/wv+WR"
        "X2m0nuM/dlv8VWekyb+IT8aQpvXbv9WjNCCLouA/kxNKYEWA3r/Hq+sQQzn2P4A2j249ftY/7It3vnhb3r+z22mXtRv/v8fgvp2O7PS/sdtN"
        "rahj8T9XQzeYxuipv39fcZi4HtK/cFhkNMJK+j+Rlbg2u4X0vxXpHm21veK/VeYKYuA+3r+ERxNnRsPiP4S+DiuuO+W/yY7Sdx6h478ODU0i"
        "sa75vyGks4/UVuc/3+SaxOTL6T8IbKrl9Hzev216HcZS6MQ/V9dos62u9L8j01vNLzLev972VkwWDPY/crHw659fwT91SQ3an3sCQG3VZtWu"
        "MOm/4rIGoLCR4j8BPFzAVQbJv2HVcwcuG+I/ZgpOnqiJfb9HGVm9VfXhvz8jhzuEw+u/X2UURT6HCEABzgXG4syzv9Fx/f8eIgDAjonjD1bB"
        "5L/UXKxegLLlPxMWiK8RAOC/5EO6PGPE9T8t6HbF0gnwP/AjZBnVf8O/0d23N8k43r/Jv4I4qhPwvy/18DsgZua/sEgAef6R97+27rgLNUXz"
        "P6fYJquCc/k/4NuLOyQZ9L9fA21oLOjyv69szBbTS/y/vmPj0+TX7r/h+94bx9kIwCBKmkzGRvK/+Sa9XCrA9D/1Okusfx/WvxzsiwnBWOs/"
        "t0R95kRL378Pjrt4sSv8P6Lo6JD5f8k/2TXwvbly2L+f8pNJXWsEQNT5zZolxNS/GPfCfiGK8785tZPbL9jJP9d5F6kv4qO/jlWsVaoP8T99"
        "RZNtBn7tv8W957g9wOk/RZQaKbdJ6z8="
    ),
    7: (
        "WPwfHKMnVD8+MFuapR7TP1gV2IB5i9G/AoGxdLp/7L+SljB+Uxndv/DTXI6Ru++/5XFwbCTLrj8HHpSKhXH1PyWVA8VPgN+/i+VWLe7a47+q"
        "EHB4klnfPzOLGps819Y/ynb6n238uj9x1b/rZMbtv5kIUJMw9J2/6RUgfOw/5j+XWfYc54H1vyJS852TSd2/w7IdiWhr/r8CWTVT8qH0v7Bn"
        "syi/d/2/2M/FV3cXzr8UsjP2dUf0v15qbS9lXNE/5u1Ua2sQxD+r5OVqWu3Hv4rqTupSIgTAfPZH4vg84b8SN6WsHdWovwslOlXRAb0/x5H0"
        "o297+L+P2Ad6gpPev6Z92D0HUO+/+9Vjov7h6b+4CL3VcPnwP5f3nfVS1+m/eWZNVq+moL9hYqr660zsP7YLktDarOK/NAhdvH+YvL8eHqPK"
        "YEe8P+KfgZoAVLA/289jI9SZ879WEGEX7X2zPxOz1qC9vfU/X+ArxxrB+L+KpHkfEIDrPz5EA0X8jb4/L16B6+yG5L8DWOdj2gAAQHPKznpu"
        "ZOg/f/ZPj0kw87+VPZjdfhOzP2rVubY9dOI/J7U5PwMqyL/Pl/ahZtrlP//HqHJHB7G/j9CDjhda5T9+httDMAT3P7HA5nAGn+W/HdEWLHIA"
        "yj84LU7S1Kbdv3awA9BUSsA/RrRxsL/+8r95/G+Ao4nivxqvZhvzHMm/Keyvc6zC7D+ozMpP1FLyPzoSgXorLfW/K8a907Vt6b8y8nPObrPk"
        "P+HsTpHz4P+/S6SdN5Ok3b+h1xTEy+e4vxZ3oLy7HPQ/m/XVxJgP5j9PqqqOEPHUv8010Fi/lte/C2K1kTMD0L9WQlddYGD4P2tBjrrCZNu/"
        "S6Md3n9v07//tTq80ZDWP4Q9+NfP6r6/wY+QDZxAyb9qHJYRONPxv1F3a0ORmIe/Pd5yf6Jj3L+AG1uZdajyP+nXD9wZ5uQ/EccjcRq5mL+B"
        "aIaZYGPlP/XnYDhswNW/w0DLcoLV8D/3XfWH2R12v3WWiHgRq+I/u6r0rH+n9L9G8gaEATDWP079EFLiAvu/HPS4ilpIAMADKgqWjHzTv1/p"
        "bPs0zOy/7V8zmK7/xD8c5VH2QvUBQM2t7+55neq/s2pKilj347/7mmgvrUrKPzcAx56Hjd8/3szwVXmUxr/nlNjQ7FvKv7mdXJeTeuY/GApA"
        "VxWj4D/YwFar74nwvx3B6BU6RbS/wLn1KR4Roj+kX11EK9/wv46U5y00odA/BatbJGF06781FwGkKxvvP3LJieflq8g/9uGyM8rctj+j2NBK"
        "tOniv/D8iaI2Xb6/Stsb0cT2/7/Ci0W4Phryv278zGvEONc/scE/KE4HAcAs2QjBahfrP9hEltsC8Pu/LSUSqjM36D+QnSLLTw7rv94L5LV+"
        "7eg/52X5WALDwD/Tbv474Jb4v/IVM2aD/PM/kw+2hTsR9z8z7y8fl9iwv2WhtB3Yh9G/Df5GT4V2xL82gN6kcjTvv9eXz7XPk/E/rGOB5l5f"
        "4b8RTcI4oTWqv/xTeSOvYum/14MGdMoI5L8K5bntj3H0v/BVc7b0HPQ/CObRPyS5w79UEV501OjuP1x1zB/tSYs/MMA2v4045r8i4PJKaejU"
        "v0CjA6tp7eG//HqjNdxMgD8l5Os0XwTYv2siVdrqMdO/BFH3U6QO9r9RZAGNrtHpv93LXAwFd/o/20f5FL565b+dJ4xykd3wv/RRny/BltU/"
        "CKWa2i+E9j+e76v8rkP3v63OXgvYsMq/Wh4QR8Y55L9Wr53BIi38vxoYpwSFhOc/qL3uva4BmL9ne81AA0qyP7HmUYLvEui/Et+zCC8b3T/G"
        "wtuD7EHhv95Xfv+mSsK/Cb0dq2+78b9ktvoqKHXzvxF6lKZWXvU/7X40pTM64L9Mw9sV5KrSPyGqfNj6TKG/2qepFrk73L/jxGddN0HgvwQ1"
        "gfeiKeQ/8npMgMxR07+akwpmgWLDv4Z6qnU/wZY/kkRvY/rS8j8NypPzvsblP+JIVdWFfNg/9Tnt38YI4r8vXYg7ixz2vx0KbJiMYu4/q1RZ"
        "iiLt7j/z7UCauwLCv+FfPcgcV+E/SfkD3ZQB6T/jeCQjEJnqPzZklTH5e+0/iXlE79Yo3b+H5W1PVD34P7MfDJAL8vO/xq08RjyT6z8peXhL"
        "lZzfP6jxNxKw9Os/9Ei+A2sQ/j9ftI3lScD3P4UzSAWlUvK/G/aufcwE+7+jFCOG9CPqP2KJs6h9PfC/iitIFP9nib/dRmkoDN/qPw5/iXP+"
        "TPq/36qzbj3hAMA57Q7rWpjQPxEBllC/uaY/Lr1rnHl2z7+T6U0c1LqjP6Lh6gZYieu/Bppe6UU3+L8zGCA38lTFv7J5KdM8GO+/B3s1ErNL"
        "+r9E5PoRii7gP1BcLxqkb6+/lqJuRJAE2j9suXDdTajvvzYUuU/RDuW/bKMmFSn4778V68jDXl/sv2B7DmwgA8k/NjdYyCAO6b8gPGxCysnW"
        "P/LHEqOPvtU/8Ed+moczAECQmaMq3Uj2v/DyWj+yaew/nUqy3a7otr84uayAnruMvyHhK2ikMve/BFXev9Bz3b/H/Z6gRcjnP8wPcXZNHbW/"
        "4D8drvq/tD8mL+UiGpvSvxEdhCAeefI/yhbalOf8lb+XVDeIc5oBwHHpV1V1Jea/nyr+3jCA/78jINwk8gIKwFomTHe09uC/oTJ32kJW9T/h"
        "maSvGSCoP8TppUm/wvK/QP0onDYa7r8="
    ),
    12345: (
        "RMfswvzH9r9JButUOzj0P541TQF23Ou/PKwCVkuW0L8yKpXvskmzv+kc2rpTtee/9NedmXri9b/H7IDWusPkP/6t4XyTG9c/iELTVu0+/7+D"
        "+X62fscCQCNqDznt/e4/15gdWOZM6L/z+Ufqzt7sPzM2C5CP4t2/vvteVLISr79YBqt+Nj7pPyAqXAtQG/S/SZDvvGxt4j+9EWLMN2L2P6eV"
        "5gIiKPU/eaR3rkIu079yFksat+TsPyQisbwA8vm/HsGXsos/xL8ccR5BWMTcP4cxk9Zjf/W/3CyIWnrptL9YdjbmiJj7P0K2v5H98QRAhvCa"
        "5STg6D8172rDKYTqP/0SNUIIsO6/vYVLiKdZ87+PX6SCv5j2v8s6dgRaVOE/FdEPNeMP6D8jO46FkBTlv94nDBqnqPO/cX8KlNN70D/m/1/2"
        "mQbUPyXauP1vvsC/2hsO0tlR9D9hYbg7Y8y3vxsM3cBD77C/oubRFz+78b9iDWS5CGfBP3817WmhjfU/qDPg5EROrz8LIAiRdSeyP6vcmfX+"
        "wNs/XXkU00rC0T872Wfa0/fgP7EmLnTRLOE/JJ9h+IXJ4z8fxbxyyHDpv2ixhf+0M9M/GnK5bKqk+b8u+RZmOxPRPy+WJWucL/S/DdXAtc0+"
        "sr8SgAau1FbePzUiG8r2jNq/2AHY0/IDuT/2ERrGJj/6v8RSmQ6qbuu/UWRPh2cG5j/l1CQD9HjyvwoHWIeB0OQ/qV797Lg29r+3CWzvRgnt"
        "vwW04q/chvG/suAx4c1EfT/CoW/weRnhPyIWUYeMDfG/MBQrrn86x79yrqS6g/P5P4QzqE4mUNS/9t5L/Scb6r8h+jTrtb3YP0Xmh0gzoMy/"
        "NKlpSEB05r9nh0K9Pbv8v8gUvTa5L+o/I5fEyuZF4r9owxw6dr1JP0aLujmuBPG/6XFoldLT9D+B0oE8k+7nPy6Y7d9VY+8/uhleLmZEvL8o"
        "55CQYPLdP1m8sJDaf+w/ec6OET9e8D8U2lbmFv7TP1Y5y5D4sa+/ZFQu7LYB17+KJZ065PTnvwakkgU05e6/D+S3zc4K1z/nzxtUf03Pv1u1"
        "gVcH7/+/0e6LZiffw7+/u/KFcwXxP8nRoDRpnNG/U/2Hk0On/b8mU6Fh39S/v/xosOOCHuk/3+VuCxfbyT/vlARZkmXbv/jvhGCXkv0/c1gb"
        "ATVm/j8VLX0RYjK5vx+kH7u+B+o/SmGsyKAe2T9JlaWKlAHpP+8lcaKZQPc/JA8rzvY+6j9k5ZWC23O2P2zmWq2E6eS/E5hRMfr66b9IUAa9"
        "rSaav2pP/IPsh/I/qL3I4rs70z8dsLKfPSqrP6jiPfsid9A/JOMrcuNMoj/b0qKC9oLhPzQSoY+m9/G/MzJwTJ2a/7/TsMKNqDXbv+N2Hzub"
        "YvK/TQoUAJvX+T9r+uxB+EjEv8/XDK8TL9C/E16mZ0ec+L+GwHKTsg3SP2mvQ2+h9OO/9ZHI5vvy8T+XSx1eSOvqP68RHg8k1Oi/NpCdmy1J"
        "2j/tqjEYgscFwIMoX4G2i+W/sBZ1/IXw8z/kPcVYYknpP9PqzPqRccY/xoAQcGf/nb9ZffiUVLb2v9ySVQxswvW/WrbT/L+YzD+bQiWhPzD8"
        "PwiW9n77XQHApwOXOZMc5D99sTR/AD3jP9sIWL6bbO4/9yrjYt7Q678+wp08oO3gvzuEuODnY6c/GnwFK9pw8L8h+GhBK6vzv1qYbvx4ROy/"
        "F6gR9BImsr9KeTl3ffDXP83iydcZL5m/rGTbwFrHsz8ZJxH5neLlvw9QHygaEee/RiNcMBLu8T/hKGsDmhCsvzgGFtoQGbW/iZ9M9pnz7T/a"
        "d+lNDNHzPzcKRtdeXfQ/TAD7WSP62T/e1kc4OsSpv6Bf7bUthNI/rfzfCH3zxj9bsFOSFFz2Pzdk2wblsNI/56ydvNFt5D/EPrq/mI6cv3eE"
        "ghDU7/U/VSQAaCZsAMBYsuG/QlrYP0uBjQ0pLOg/Tn1EjMeL8r+IGyDK1TMBQB3hQ/UNPMO/bXdw9wehxL8oixN5ZUXxv+KFKIpMGOw/xr/L"
        "JFm7zD9zmOpkVe7iv2go2PMt9sw/GuFTBDX15T+JrwGsqHDzPzbecvXVp8s/FKgbp9Xf7r9ME7Yru8/hv9j7IA8ZYwLAMVqzfjdt57+1gZ2l"
        "J5HnP4zNzH5Nzt0/l2mbxcOdu78a/VGdF9rVvy7LZRtAWvk/zJOHaz0Q0j/O11MIARvtP7K5CEDaSNk/0IdaTohr5b+PQ42VyuL4P2Wgct9q"
        "z/O/6r59yIYj87+qDyp9L3fbv1TaVbRfWee/8xBIBMnW4b+2hsTE0DLjvwBJNaUWlO8/CH6bime/qz9wW3DLpoXWP7f+NbdSaPm/2SJatzka"
        "679GnvRYZlrxPzoedrrfQvO/u/TyNUPb8j8don96m33wv0AySaFkJtM/BhsT2WUU678Fcx+g2irJPyPMb0PVyey/lDQWLTls0L8cdy5ywcL6"
        "P3S/Z/pqBNi/rdTUD1tLAEBdi7z73lzdvzmHstjzz/K/mA3X+6M2sz/zvn1L5Szavzzz00fBGvw/08T+iK6M6z9qPzyMf+byP2tC7VykNuQ/"
        "560kIprEA0CkK4Qc7WrpP1fMQMDXAOE/eG9L7W6K6r8eF8haBBntvyiOtgYLlcc/G8AwnHjt7z+tH2pxEN/xP9TsnZ9ANe6/JEbNoUgB4T+5"
        "LdDGj7/IP5Zi5Fpo5PG/OCNL/Alh4D8="
    ),
    20240607: (
        "pM/L0KPktb+7x+m7OXHbvxF7xH3m/AbAxLeeIRf2CUDE0BOZicbCP2HVpHQ2/PQ/jNFlTpB11j+0sx3G5g3nv9UVOLcSIeo/wY21l77wAMDh"
        "zM4X4s7SPw0DzA37C+I/m0IMkgpT77/j0aE5wgXwvx94DszrSeI/wKQNuc/04j/1kxkeQEXyv0lc84kXEPe/tY5wUHO/AEDTPgLK7WvgPw1u"
        "eQ20KJ4/Ji+0lZWw8r9OPyuch2/sv8APYh8C3uG/Z4lKbuDg4b86633GGFrivxDtm3fGdgBAy3oprLqA4j/1b2z29q32v1yvnEr12d0/FLy0"
        "i5g6/7+xI+RQZYfrv+d7vweig9i/w767oLVN7D967JVYmvvzvx+RYyZOYLi/t8sdA57vtj/ZK3T6oQv4vzNcRHCoNNy/IGCJY3Q07D9Y/wT4"
        "xjKDvx63OtgpTei/CqalQI/y0L9nMTwnPM3RP4YKyrr2Huq/k7j0bViD/L8//BLRQQLwPwPdv3Vc6ra/Oo2dPZXI2L+4qtnaZrrWv8Sfsa9+"
        "LfI/maAGaG0VvD8FKo3MyUH0P4OYmcyFjf0/ieobMy7a+L9qACAa+zbSP0kez6qnPt0/tl8T8gziAUCYbJVMpzXdP1qr56A8g/Q/QeGslw85"
        "8r9bTcAblVHRPwyuNBWh9M4/QjmvQM1K5D+r9sqGxjjwv9V7M5ah5ua/H05YyM374r/np+W0jirnvzeZKz/+NdI/sK3P8E3DtT8dsS6SgBfi"
        "P/xZXsBDVvI/LmR3PzlNAMCR42Mh3pDRv6wG1oHe7MY/AtHkIy3C47/8Hn7YjmEBwOC1tu6/HO+/ajCxDWMa9b87/oPpSaLRP0JApcnTNATA"
        "W+kEedDb2T8hdaPRC+vpv/vf07UF5uS/hsQ/vvGX4z+kg8whx862v6uWGEL7kvA/uFgT+IBk+L8gbhF2NULyvwgLfS95QdE/bq68Xi8V2j/2"
        "Sgka4d6xv+je84Bdksq/cz2NTWhc6r+ca3HzM8rmP9NXP2q32+s/9I9kIGNA+r+3qIUumYHovzHFp9qWQ9s/uy9HiMuX7b+eVv+afl3EP+Ym"
        "AGcHQeK/MbaWA2qB+D9/AmyMjtquvw0UX62VAP4/dnsYF8z1yz9QCDXi9FTnPxJcp0mKhMA/BGz1Wo+05T9RoDCOJmLtP1nlapkBM+y/YvzR"
        "22mk5j90AC2l5n+xvx6qCJYWHwPAH0NfFLBBxb9Zb6N2JoD2vwMQNX7Vn8o/ulNXhBPq8r/j9DyvC+nUP4l9ReuxiJy/LYT1UnQY2r9MwXMA"
        "jb/fPx0TRLGnjtm/1N+7M8lr3j8z3NLcpc34v305vz1HP7Y/GsvZZCbb5z8ePiHR2NeWv4UmqQeByt6/fcq9yMJRtj+d1Gw8j8LkP4yOK9Dk"
        "MNI/3vz7smLv67+TNd+FelX3v6qzxSyxXs+/3DVxOS7N9b+OKCWngM/Av9EP9lXCPvw/kLDfoXFP4L/OUeGpxOCvP0qokM8qUru/Lf+65Rvc"
        "0L9qBZxhY0Xov7ExxQhwAAZAqHF8HnDIz78gmgM6QkXkP513JG4iJfO/SWZsX0+d6T9IJGtdSJzaPxoQJkLA5ee/U178TsFB+b8GaVMwCOT9"
        "v3qIBxg5XL0/wjM6/1PGrr/uzt0Ywe/aP/5Z5xEj59Y/44YHNexGwb9itWOhd2zgP8OxgnYI7P2/dQ25Skdf2r9iLnTZIx/2v7UXXcMvmwBA"
        "RtN7naKx4z/Jp6XiELTSvw8SJhYi5uK/uVA588vv7T/nRPOK32Pwv77T/R5rMX2/TMq1TC238D+oHQfhov/UP+jtLS3Uqey/tJwvuG+Yxj8H"
        "09NioXPAP2ENY7jWCfm/rsZQFj+P+j/AmnYHXwz9v3EfY3Sy/ua/YHW/WNlKwz9TFhZmAifpvyREj4mhBK+/bRKsqiky27+2lYoxCgPyP3pm"
        "ZXzuP8s/cAGQIpdi7D+0rGT7fPXiP8gpRfxJufY/S3IGzv8g0b/3aIsE9KXGPyNnZyzFE90/XZRTZrx8yL9eS+rKOznpv271YuQuP8S/X5jo"
        "MoLD8D89iMqlxH3wP11+y+hSp9Q/eSqxA5uwwT8av0k6aJrtvwz5dXtMuOg/GADO30p/0D8qC0o7toQAQKL6lLP5k9I/gW3mvURd4b/bjX1B"
        "/GLTv+PLVYkqZvC/1ngU4PKU4j/XaE2qKXzSv/3kc/EFONC/HEmd5SOl+r+/SSKPWXXdv9Vi+GNvdvI/oQF9rTUL/7/c/I45Sh/nv0W2yIDX"
        "YNE/+zhD0Lta9r/zMlbFuzbov8uVpOLm7fI/tUJTTE/v3j+I2TCgmbXvv9iMzW3kgMa/hg/ytPkU7T8BvhkslxfpvyC1mQqrzum/x3Xz/AZK"
        "87+K5NOyNmOxv81OwGR99OW/MABLSFdj9T+YM7sBluzHv0vBaqSBbMA/5sehD4S08T+AOUjOHtrKP1x/BZ1o1QBAtdopqUxM5783+hYvA/j1"
        "v30YcED37ry/l614xs5V9b+RX3Ay4uPhP/No0XHk6uW/raaeRd1L4D9xntSO4avfP26d3w7uW/u/6YQFDUMG9D+NzHxDXZX6v46xfN/Le+I/"
        "QOHsWhHg0L9FlISWYHH1P52NnEXcGcA/ImeDM8IDsj/LpRmULubRP/MezkWqbvS/O4T3VzdZvD8NrwUQ+FgBwNytM2D73dG/y3GySVfX/7/m"
        "vrEXxYGjP4RvpdD5K+m/LwcWhV/ivz8="
    ),
}


def fixed_normals(seed: int, size) -> np.ndarray:
    """``np.random.default_rng(seed).normal(size=size)``: the same float64 numbers, from the stored draws when
    they hold enough (a draw of n numbers is the first n of the seed's stream, filled in C order).

    Parameters
    ----------
    seed : the generator's seed.
    size : an int or a shape.
    """
    shape = (int(size),) if np.ndim(size) == 0 else tuple(int(k) for k in size)
    n = math.prod(shape)
    if seed in _NORMALS_B64 and n <= STORED_NORMALS:
        return _stored_normals(seed)[:n].reshape(shape).copy()
    return np.random.default_rng(seed).normal(size=shape)


@cache
def _stored_normals(seed: int) -> np.ndarray:
    import base64

    return np.frombuffer(base64.b64decode("".join(_NORMALS_B64[seed])), dtype="<f8").astype(float)


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

