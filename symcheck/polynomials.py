"""Cartesian polynomial names for features in e3nn's irrep bases.

A feature v of irrep (l, p) has 2l+1 components in e3nn's basis. The function on the sphere
it represents is the harmonic homogeneous polynomial

    p_v(x, y, z) = sum_m v_m Y_lm(x, y, z),

where Y_lm are e3nn's ``spherical_harmonics(l, xyz, normalize=False, normalization="component")``.
This module converts v to that polynomial (rescaled to small integers where possible, always by a
*positive* factor: v and -v are different features), back again, and into the plain-words
names used in reports.

e3nn conventions verified by ``tests/test_polynomials.py`` (e3nn 0.6.0):

- l = 1: ``Y_1 = sqrt(3) * (x, y, z)``, so the components are in the order x, y, z.
- l = 2: y is the polar axis; component 2 is ``(sqrt(5)/2) (2y^2 - x^2 - z^2)`` and
  component 4 is ``(sqrt(15)/2) (z^2 - x^2)``. Hence x^2 - y^2 is a combination of
  components 2 and 4 (indices 6 and 8 of ``0e+1o+2e``), never a single one.
- ``Irrep(l, p).D_from_matrix(R)`` satisfies ``Y_l(R u) = D(R) Y_l(u)`` when p = (-1)^l. So the
  feature ``D(R) v`` has the polynomial ``p_v(R^T x)``: the polynomial rotated by R. For a
  pseudo-tensor (p = -(-1)^l) an improper R adds a factor -1.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import SymcheckError

if TYPE_CHECKING:
    import sympy

__all__ = ["polynomial", "polynomial_string", "vector_from_polynomial", "describe", "SYMBOLS"]  # noqa: F822 (lazy)

# sympy (0.2-1 s to import) is loaded only for sympy results, parsing typed polynomials and
# printing float coefficients; names such as ``x**2 - y**2`` in reports are printed here directly.


def __getattr__(name: str):
    """``SYMBOLS``: the Cartesian symbols x, y, z of the structure file's frame (sympy), made on first use."""
    if name == "SYMBOLS":
        return _symbols()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _symbols() -> tuple[sympy.Symbol, sympy.Symbol, sympy.Symbol]:
    import sympy

    return sympy.symbols("x y z")

# Relative tolerance for "this float is really that exact number". Features come out of SVDs and
# projectors in float64, so their noise is ~1e-13; 1e-9 leaves room and still rejects chance fits.
_RTOL = 1e-9
# Largest denominator tried when rationalising coefficient ratios (after dividing by one reference
# coefficient; every coefficient is tried as the reference, so this rarely limits anything).
_MAX_DENOMINATOR = 60
# Largest integer coefficient of an "exact" form: beyond this, floats say more than digits do.
_MAX_INTEGER = 10_000
# Square roots allowed as coefficient factors: hexagonal and cubic settings give directions such as
# x + sqrt(3)*y; sqrt(6) covers a mix of sqrt(2) and sqrt(3) coefficients.
_RADICALS = (2, 3, 6)
# A float polynomial (rounded coefficients) is accepted as harmonic within this relative residual.
_FLOAT_RTOL = 1e-3


@cache
def _exponents(l: int) -> tuple[tuple[int, int, int], ...]:
    """Exponents (a, b, c) of the monomials x^a y^b z^c of degree l, x^l first.

    :param l: the degree.
    """
    return tuple((a, b, l - a - b) for a in range(l, -1, -1) for b in range(l - a, -1, -1))


@cache
def _monomials(l: int) -> tuple[sympy.Expr, ...]:
    """The sympy monomials of degree l, in the order of :func:`_exponents`.

    :param l: the degree.
    """
    x, y, z = _symbols()
    return tuple(x**a * y**b * z**c for a, b, c in _exponents(l))


def _monomial_values(l: int, xyz: np.ndarray) -> np.ndarray:
    """Values of the degree-l monomials at points xyz (n, 3) -> (n, n_monomials).

    :param l: the degree.
    :param xyz: the points.
    """
    e = np.array(_exponents(l), dtype=float)  # (n_mon, 3)
    return np.prod(xyz[:, None, :] ** e[None, :, :], axis=-1)


@cache
def _sh_matrix(l: int) -> np.ndarray:
    """Monomial coefficients of e3nn's Y_lm: a read-only (2l+1, n_monomials) array.

    Fitted by least squares on random points. e3nn's normalize=False harmonics are homogeneous
    polynomials of degree l, so the fit is exact up to float64 rounding; we check that.

    :param l: the degree.
    """
    from .o3 import fixed_normals, spherical_harmonics

    n_mon = len(_exponents(l))
    # Fixed seed: the basis must not depend on the global RNG state. Gaussian points in R^3
    # (not only the sphere) keep the monomial matrix well conditioned.
    xyz = fixed_normals(12345, (max(4 * n_mon, 64), 3))
    sh = spherical_harmonics(l, xyz, normalize=False, normalization="component")
    a = _monomial_values(l, xyz)
    coef, *_ = np.linalg.lstsq(a, sh, rcond=None)  # (n_mon, 2l+1)
    if np.abs(a @ coef - sh).max() > 1e-9 * np.abs(sh).max():
        raise RuntimeError(f"e3nn's spherical harmonics of l={l} are not homogeneous polynomials")
    coef[np.abs(coef) < 1e-12 * np.abs(coef).max()] = 0.0  # exact zeros, not 1e-17 noise
    out = np.ascontiguousarray(coef.T)
    out.flags.writeable = False
    return out


def _as_vector(v: Any, l: int) -> np.ndarray:
    """Feature v (array, tensor or sequence) as a float64 vector of length 2l+1.

    :param v: the feature.
    :param l: its degree.
    """
    if not isinstance(l, (int, np.integer)) or l < 0:
        raise SymcheckError(f"l must be a non-negative integer, got {l!r}")
    if hasattr(v, "detach"):  # torch tensor
        v = v.detach().cpu().numpy()
    arr = np.asarray(v, dtype=float).reshape(-1)
    if arr.shape[0] != 2 * l + 1:
        raise SymcheckError(f"a feature of l={l} has {2 * l + 1} components, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise SymcheckError("the feature has non-finite components")
    return arr


@lru_cache(maxsize=4096)  # coefficient ratios repeat (1, 2, 1/2 …) from vector to vector
def _rationalize(r: float, atol: float) -> Fraction | None:
    """The fraction with a small denominator within atol of r, or None.

    :param r: the number.
    :param atol: the absolute tolerance.
    """
    q = Fraction(r).limit_denominator(_MAX_DENOMINATOR)
    return q if abs(float(q) - r) <= atol else None


def _exact_coefficients(c: np.ndarray) -> list[tuple[int, int]] | None:
    """Small-integer coefficients n*sqrt(k) (as (n, k), k = 1 without a root) equal to s * c for some s > 0, or None.

    :param c: float coefficients, not all zero.
    """
    norm = float(np.linalg.norm(c))
    unit = c / norm
    nonzero = [i for i in range(len(c)) if abs(unit[i]) > _RTOL]
    big = float(np.abs(unit).max())
    # A tiny reference coefficient (noise) would make every ratio huge and trivially "rational".
    refs = [i for i in nonzero if abs(unit[i]) >= 1e-3 * big]
    # Try the plain rationals first, then one radical: the first success is the simplest form.
    for k in (1, *_RADICALS):
        best: tuple[int, list[tuple[int, int]]] | None = None
        for ref in refs:
            ratios = unit / abs(unit[ref])
            atol = 1e-7 * float(np.abs(ratios).max())  # loose here; the final check is strict
            parts: list[tuple[Fraction, int]] = []
            for i in nonzero:
                q = _rationalize(float(ratios[i]), atol)
                if q is not None:
                    parts.append((q, 1))
                    continue
                q = _rationalize(float(ratios[i]) / math.sqrt(k), atol) if k > 1 else None
                if q is None:
                    break
                parts.append((q, k))
            else:
                lcm = math.lcm(*(q.denominator for q, _ in parts))
                ints = [int(q * lcm) for q, _ in parts]
                g = math.gcd(*ints)
                ints = [n // g for n in ints]
                if max(abs(n) for n in ints) > _MAX_INTEGER:
                    continue
                vals = np.zeros_like(c)
                for i, n, (_, s) in zip(nonzero, ints, parts, strict=True):
                    vals[i] = n * math.sqrt(s)
                if np.linalg.norm(vals / np.linalg.norm(vals) - unit) > _RTOL:
                    continue
                exact = [(0, 1)] * len(c)
                for i, n, (_, s) in zip(nonzero, ints, parts, strict=True):
                    exact[i] = (n, s)
                size = max(abs(n) for n in ints)
                if best is None or size < best[0]:
                    best = (size, exact)
        if best is not None:
            return best[1]
    return None


def polynomial(v: Any, l: int, digits: int = 4) -> sympy.Expr:
    """The harmonic polynomial of feature v: a positive multiple of sum_m v_m Y_lm(x, y, z).

    The factor makes the coefficients the smallest integers (possibly times one sqrt(2), sqrt(3)
    or sqrt(6)) when such a form exists, e.g. ``x**2 - y**2``; otherwise the coefficients are
    floats scaled so the largest magnitude is 1, rounded to ``digits`` significant digits.
    The zero vector gives 0.

    :param v: the feature, 2l+1 components in e3nn's basis (array, tensor or sequence).
    :param l: its degree.
    :param digits: significant digits of float coefficients when no exact form exists.
    """
    import sympy

    c, exact, scale = _coefficients(v, l)
    if scale == 0.0:
        return sympy.Integer(0)
    if exact is not None:
        coeffs = [sympy.Integer(n) * (sympy.sqrt(k) if k > 1 else 1) for n, k in exact]
    else:
        coeffs = [sympy.Float(float(a) / scale, digits) if a != 0 else sympy.Integer(0) for a in c]
    return sympy.Add(*(a * m for a, m in zip(coeffs, _monomials(l), strict=True)))


def _coefficients(v: Any, l: int) -> tuple[np.ndarray, list[tuple[int, int]] | None, float]:
    """Monomial coefficients of feature v's polynomial: (floats, exact form or None, largest magnitude).

    :param v: the feature, 2l+1 components in e3nn's basis.
    :param l: its degree.
    """
    vec = _as_vector(v, l)
    c = vec @ _sh_matrix(l)
    scale = float(np.abs(c).max())
    if scale == 0.0:
        return c, None, scale
    c = np.where(np.abs(c) > _RTOL * scale, c, 0.0)
    return c, _exact_coefficients(c), scale


def polynomial_string(v: Any, l: int, digits: int = 4) -> str:
    """:func:`polynomial` as a string such as ``x**2 - y**2`` (parseable by ``sympy.sympify``).

    Exact forms are printed here as sympy prints them (terms in lexicographic order of x, y, z);
    sympy is imported only for float coefficients.

    :param v: the feature, 2l+1 components in e3nn's basis.
    :param l: its degree.
    :param digits: significant digits of float coefficients when no exact form exists.
    """
    c, exact, scale = _coefficients(v, l)
    if scale == 0.0:
        return "0"
    if exact is not None:
        return _exact_string(exact, l)
    text = _float_string(c / scale, l, digits)
    if text is not None:
        return text
    import sympy

    return str(sympy.expand(polynomial(v, l, digits)))


def _binary_round(x: float, digits: int) -> float:
    """x rounded as ``sympy.Float(x, digits)`` stores it: to the binary precision of ``digits`` decimal digits."""
    bits = max(1, int(round((digits + 1) * 3.3219280948873626)))  # mpmath's dps_to_prec
    mantissa, exponent = math.frexp(x)
    return math.ldexp(round(mantissa * 2**bits), exponent - bits)


def _float_string(c: np.ndarray, l: int, digits: int) -> str | None:
    """sympy's ``str`` of the polynomial with float coefficients c (largest magnitude 1), written here;
    None in the one case left to sympy (a coefficient that rounds to zero)."""
    out = ""
    for a, exps in zip(c, _exponents(l), strict=True):
        if a == 0:
            continue
        value = _decimal_round(_binary_round(abs(float(a)), digits), digits)
        if value == 0.0:
            return None
        out = _add_term(out, a < 0, [_float_text(value, digits)], exps)
    return out


def _decimal_round(x: float, digits: int) -> float:
    """x to ``digits`` significant decimal digits, halves rounded up (as mpmath prints a binary float)."""
    if x == 0.0:
        return 0.0
    exact = Decimal(x)
    return float(exact.quantize(Decimal(1).scaleb(exact.adjusted() - digits + 1), rounding=ROUND_HALF_UP))


def _float_text(value: float, digits: int) -> str:
    """A positive coefficient as sympy prints a Float of ``digits`` digits: fixed notation down to
    1e-4, below that mpmath's exponent form (``1.294e-5``, no leading zeros in the exponent)."""
    if value >= 1e-4:
        return repr(value)
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0")
    return f"{mantissa}0e{int(exponent)}" if mantissa.endswith(".") else f"{mantissa}e{int(exponent)}"


def _exact_string(exact: list[tuple[int, int]], l: int) -> str:
    """sympy's ``str`` of sum n*sqrt(k)*monomial over the monomials of degree l.

    :param exact: (n, k) per monomial, in the order of :func:`_exponents`.
    :param l: the degree.
    """
    out = ""
    for (n, k), exps in zip(exact, _exponents(l), strict=True):
        if n == 0:
            continue
        factors = [] if abs(n) == 1 and (k > 1 or l > 0) else [str(abs(n))]
        if k > 1:
            factors.append(f"sqrt({k})")
        out = _add_term(out, n < 0, factors, exps)
    return out


def _add_term(out: str, negative: bool, factors: list[str], exps: tuple[int, int, int]) -> str:
    """``out`` with one more term (its coefficient factors times x^a y^b z^c), signed as sympy prints."""
    term = "*".join(factors + [s if e == 1 else f"{s}**{e}" for s, e in zip("xyz", exps, strict=True) if e])
    if not out:
        return f"-{term}" if negative else term
    return out + (f" - {term}" if negative else f" + {term}")


# What a polynomial typed by a user may contain: numbers (1, 2.5, 1e-3), x, y, z, sqrt, the
# arithmetic operators and parentheses. Checked before sympy sees the text, because sympify
# evaluates Python: anything else could run code, and sympy's own parse errors are multi-line.
_TOKEN = re.compile(r"\s*(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[xyz]|sqrt|\*\*|[-+*/^()])")


def _parse(text: str) -> sympy.Expr:
    """A polynomial typed as text -> sympy expression; SymcheckError with one line when it is not one."""
    pos, stripped = 0, text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None or m.end() == pos:
            raise SymcheckError(
                f"cannot read polynomial {text!r}: unexpected {stripped[pos:].strip()[:12]!r} (use x, y, z, numbers, "
                "sqrt(...), + - * / ** and parentheses)"
            )
        pos = m.end()
    if not stripped.strip():
        raise SymcheckError("cannot read polynomial '': it is empty")
    if stripped.count("(") != stripped.count(")"):
        raise SymcheckError(f"cannot read polynomial {text!r}: unbalanced parentheses")
    import sympy

    try:
        return sympy.sympify(stripped.replace("^", "**"), locals=dict(zip("xyz", _symbols(), strict=True)))
    except Exception:  # sympy raises many kinds (SyntaxError, TokenError, TypeError …); all mean "not readable"
        raise SymcheckError(f"cannot read polynomial {text!r}: not a valid expression") from None


def vector_from_polynomial(expr: sympy.Expr | str, l: int) -> np.ndarray:
    """The e3nn-basis vector v (2l+1,) with sum_m v_m Y_lm equal to the given polynomial.

    Exact input must be harmonic to float precision; input with float coefficients (e.g. the
    rounded output of :func:`polynomial`) is projected onto the harmonics if it is within 0.1%.

    :param expr: a homogeneous harmonic polynomial of degree l in x, y, z (sympy or string).
    :param l: its degree.
    :raises SymcheckError: (a ValueError) when it is not such a polynomial.
    """
    import sympy

    if not isinstance(l, (int, np.integer)) or l < 0:
        raise SymcheckError(f"l must be a non-negative integer, got {l!r}")
    SYMBOLS = _symbols()  # noqa: N806  (the module-level name, made lazily)
    if isinstance(expr, str):
        expr = _parse(expr)
    expr = sympy.sympify(expr)
    if expr.has(sympy.zoo, sympy.oo, sympy.nan, -sympy.oo):
        raise SymcheckError(f"polynomial {expr} is not finite")
    extra = expr.free_symbols - set(SYMBOLS)
    if extra:
        raise SymcheckError(f"polynomial {expr} has symbols other than x, y, z: {sorted(map(str, extra))}")
    try:
        poly = sympy.Poly(sympy.expand(expr), *SYMBOLS)
    except sympy.PolynomialError as exc:
        raise SymcheckError(f"{expr} is not a polynomial in x, y, z") from exc
    index = {e: i for i, e in enumerate(_exponents(l))}
    c = np.zeros(len(index))
    has_float = False
    for monom, coeff in poly.terms():
        if coeff == 0:
            continue
        if sum(monom) != l:
            raise SymcheckError(f"{expr} is not homogeneous of degree {l}")
        if not coeff.is_real:
            raise SymcheckError(f"{expr} has a non-real coefficient {coeff}")
        has_float |= bool(coeff.atoms(sympy.Float))
        c[index[tuple(monom)]] = float(coeff)
    norm = float(np.linalg.norm(c))
    if norm == 0.0:
        return np.zeros(2 * l + 1)
    m = _sh_matrix(l)  # (2l+1, n_mon): c = v @ m
    v, *_ = np.linalg.lstsq(m.T, c, rcond=None)
    resid = float(np.linalg.norm(v @ m - c)) / norm
    if resid > (_FLOAT_RTOL if has_float else _RTOL):
        raise SymcheckError(f"{expr} is not harmonic (its Laplacian is not zero)")
    v[np.abs(v) < 1e-12 * np.abs(v).max()] = 0.0  # exact zeros rather than 1e-17 noise
    return v


def _fmt(a: float) -> str:
    """A direction component rounded to 3 decimals, without a trailing zero or '-0'.

    :param a: the number.
    """
    s = f"{round(a, 3):g}"
    return "0" if s in ("-0", "0") else s


def describe(v: Any, l: int, p: int) -> str:
    """The name of feature v of irrep (l, p) used in reports.

    True tensors (p = (-1)^l) are named by their polynomial (``x**2 - y**2``; l=0: ``scalar``).
    Pseudo-tensors are named in words: ``pseudoscalar``, ``axial vector along z``,
    ``pseudotensor of rank 2 with the shape of x*y (changes sign under inversion)``.

    :param v: the feature, 2l+1 components in e3nn's basis.
    :param l: its degree.
    :param p: its parity, 1 (even) or -1 (odd).
    """
    if p not in (1, -1):
        raise SymcheckError(f"parity must be 1 or -1, got {p!r}")
    vec = _as_vector(v, l)
    return _describe(vec.tobytes(), int(l), int(p))


@lru_cache(maxsize=1024)  # a report names the same vector more than once (its sign, then its text)
def _describe(data: bytes, l: int, p: int) -> str:
    """:func:`describe` of the float64 vector with these bytes."""
    vec = np.frombuffer(data, dtype=float)
    if not np.any(vec):
        return "zero"
    if p == (-1) ** l:
        return "scalar" if l == 0 else polynomial_string(vec, l)
    if l == 0:
        return "pseudoscalar"
    if l == 1:
        # Y_1 = sqrt(3) (x, y, z): the polynomial's coefficients are the direction.
        d = vec / np.linalg.norm(vec)
        for i, name in enumerate("xyz"):
            if abs(abs(d[i]) - 1.0) < 1e-6:
                return f"axial vector along {'-' if d[i] < 0 else ''}{name}"
        return f"axial vector along ({', '.join(_fmt(a) for a in d)})"
    shape = polynomial_string(vec, l)
    # A pseudo-tensor transforms like its polynomial under rotations, but with the other sign
    # under inversion: odd (p = -1) pseudo-tensors change sign, even ones do not.
    inversion = "changes sign under inversion" if p == -1 else "unchanged under inversion"
    if l == 2:
        return f"pseudotensor of rank 2 with the shape of {shape} ({inversion})"
    return f"pseudotensor (l={l}) with the shape of {shape} ({inversion})"
