"""Tests for symcheck.polynomials: e3nn-basis features <-> Cartesian harmonic polynomials."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
import torch
from e3nn import o3

from symcheck.errors import SymcheckError
from symcheck.polynomials import (
    SYMBOLS,
    describe,
    polynomial,
    polynomial_string,
    vector_from_polynomial,
)

X, Y, Z = SYMBOLS
LS = range(6)


def _sh(l: int, xyz: np.ndarray) -> np.ndarray:
    """e3nn's normalize=False component-normalised harmonics of degree l at points xyz (n, 3)."""
    return o3.spherical_harmonics(
        l, torch.from_numpy(xyz), normalize=False, normalization="component"
    ).numpy()


def _evaluate(expr: sympy.Expr, xyz: np.ndarray) -> np.ndarray:
    """Values of a polynomial in x, y, z at points xyz (n, 3)."""
    f = sympy.lambdify(SYMBOLS, expr, "numpy")
    return np.broadcast_to(np.asarray(f(xyz[:, 0], xyz[:, 1], xyz[:, 2]), dtype=float), len(xyz))


def _wigner(l: int, p: int, r: np.ndarray) -> np.ndarray:
    """e3nn's ``Irrep(l, p).D_from_matrix(r)`` computed accurately in float64.

    e3nn 0.6 builds its so(3) generators in torch's *default* dtype, so with the usual float32
    default D_from_matrix is only ~1e-6 accurate even for a float64 R. A float64 default fixes it.
    """
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return o3.Irrep(l, p).D_from_matrix(torch.from_numpy(r)).numpy()
    finally:
        torch.set_default_dtype(old)


def _random_orthogonal(rng: np.random.Generator, proper: bool) -> np.ndarray:
    """A random rotation (proper) or rotoinversion (improper) matrix."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if (np.linalg.det(q) > 0) != proper:
        q = -q
    return q


def _assert_positive_multiple(a: np.ndarray, b: np.ndarray, tol: float) -> None:
    """a = s * b for some s > 0, to relative tolerance tol."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    assert na > 0 and nb > 0
    np.testing.assert_allclose(a / na, b / nb, atol=tol)


# e3nn 0.6 basis facts the rest of symcheck relies on (DESIGN "Conventions"): the exact vectors
# whose polynomials are these. l=1 is ordered (x, y, z) with Y_1 = sqrt(3) (x, y, z); in l=2, y is
# the polar axis and x^2 - y^2 needs components 2 and 4.
KNOWN = [
    ("x", 1, [1 / math.sqrt(3), 0, 0]),
    ("y", 1, [0, 1 / math.sqrt(3), 0]),
    ("z", 1, [0, 0, 1 / math.sqrt(3)]),
    ("x**2 - y**2", 2, [0, 0, -1 / math.sqrt(5), 0, -1 / math.sqrt(15)]),
    ("-x**2 - y**2 + 2*z**2", 2, [0, 0, -1 / math.sqrt(5), 0, math.sqrt(3 / 5)]),
    ("x*y", 2, [0, 1 / math.sqrt(15), 0, 0, 0]),
    ("x*y*z", 3, [0, 1 / math.sqrt(105), 0, 0, 0, 0, 0]),
]


def test_l1_components_are_x_y_z():
    xyz = np.random.default_rng(0).normal(size=(10, 3))
    np.testing.assert_allclose(_sh(1, xyz), math.sqrt(3) * xyz, atol=1e-12)


def test_l2_polar_axis_is_y():
    # Component 2 is the m=0 harmonic: (sqrt(5)/2)(2y^2 - x^2 - z^2).
    xyz = np.random.default_rng(1).normal(size=(10, 3))
    x, y, z = xyz.T
    np.testing.assert_allclose(_sh(2, xyz)[:, 2], math.sqrt(5) / 2 * (2 * y**2 - x**2 - z**2), atol=1e-12)


@pytest.mark.parametrize("text, l, expected", KNOWN)
def test_known_polynomials(text, l, expected):
    v = vector_from_polynomial(text, l)
    np.testing.assert_allclose(v, expected, atol=1e-12)
    # The polynomial of the vector, at any scale > 0, is the same normalised string.
    assert polynomial_string(v, l) == text
    assert polynomial_string(7.3 * v, l) == text
    assert polynomial(v, l) == sympy.sympify(text)
    # Cross-check against e3nn directly: p(u) = v . Y(u) at random points.
    u = np.random.default_rng(2).normal(size=(20, 3))
    np.testing.assert_allclose(_evaluate(sympy.sympify(text), u), _sh(l, u) @ v, atol=1e-10)


def test_x2_minus_y2_is_not_one_component():
    v = vector_from_polynomial("x**2 - y**2", 2)
    assert np.count_nonzero(v) == 2 and v[2] != 0 and v[4] != 0


@pytest.mark.parametrize("l", LS)
def test_random_round_trip(l):
    rng = np.random.default_rng(10 + l)
    for _ in range(3):
        v = rng.normal(size=2 * l + 1)
        # With enough digits the round trip is exact up to the positive factor ...
        _assert_positive_multiple(vector_from_polynomial(polynomial(v, l, digits=15), l), v, 1e-9)
        # ... and the default 4-digit string still parses and comes back within rounding.
        text = polynomial_string(v, l)
        _assert_positive_multiple(vector_from_polynomial(text, l), v, 1e-3)


@pytest.mark.parametrize("l", LS)
def test_polynomial_is_positive_multiple_of_e3nn_sum(l):
    rng = np.random.default_rng(20 + l)
    v = rng.normal(size=2 * l + 1)
    u = rng.normal(size=(40, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    _assert_positive_multiple(_evaluate(polynomial(v, l, digits=15), u), _sh(l, u) @ v, 1e-9)


@pytest.mark.parametrize("l", LS)
def test_polynomial_is_harmonic_and_homogeneous(l):
    v = np.random.default_rng(30 + l).normal(size=2 * l + 1)
    p = sympy.Poly(polynomial(v, l, digits=15), *SYMBOLS)
    assert all(sum(m) == l for m in p.monoms())
    lap = sum(sympy.diff(p.as_expr(), s, 2) for s in SYMBOLS)
    coeffs = [abs(float(c)) for c in sympy.Poly(lap, *SYMBOLS).coeffs()] if lap != 0 else [0.0]
    assert max(coeffs) < 1e-9


def test_integer_combinations_come_back_exact():
    rng = np.random.default_rng(40)
    for text, l in [
        ("3*x**2 - 2*x*y - 3*y**2", 2),
        ("x*y*z + 2*x**3 - 6*x*y**2", 3),
        ("x**4 - 6*x**2*y**2 + y**4", 4),
        ("4*x*z**3 - 3*x**3*z - 3*x*y**2*z", 4),
    ]:
        v = vector_from_polynomial(text, l) * rng.uniform(0.1, 10)
        assert sympy.expand(polynomial(v, l) - sympy.sympify(text)) == 0


def test_high_degree_exact_form():
    # The z-axis harmonic of l=5, in lowest integers.
    text = "15*x**4*z + 30*x**2*y**2*z - 40*x**2*z**3 + 15*y**4*z - 40*y**2*z**3 + 8*z**5"
    v = vector_from_polynomial(text, 5)
    assert polynomial_string(0.01 * v, 5) == text


def test_noise_decides_exact_or_float():
    v = vector_from_polynomial("x**2 - y**2", 2)
    noise = np.random.default_rng(45).normal(size=5)
    # Float64 round-off is still the exact form ...
    assert polynomial_string(v + 1e-13 * noise, 2) == "x**2 - y**2"
    # ... but visible noise gives short floats, never huge "exact" integers.
    text = polynomial_string(v + 1e-6 * noise, 2)
    assert "." in text and "1.0*x**2" in text and "- 1.0*y**2" in text


def test_radical_coefficients():
    v = vector_from_polynomial("x + sqrt(3)*y", 1)
    assert polynomial_string(v, 1) == "x + sqrt(3)*y"
    assert describe(v, 1, 1) == "axial vector along (0.5, 0.866, 0)"


@pytest.mark.parametrize("l", LS)
def test_sign_is_kept(l):
    rng = np.random.default_rng(50 + l)
    for v in (rng.normal(size=2 * l + 1), np.eye(2 * l + 1)[l]):
        assert sympy.expand(polynomial(-v, l) + polynomial(v, l)) == 0
    assert polynomial_string(vector_from_polynomial("x**2 - y**2", 2), 2) == "x**2 - y**2"
    assert polynomial_string(-vector_from_polynomial("x**2 - y**2", 2), 2) == "-x**2 + y**2"


@pytest.mark.parametrize("l", LS)
@pytest.mark.parametrize("proper", [True, False])
def test_d_from_matrix_acts_on_harmonics(l, proper):
    # Convention: for p = (-1)^l, Y(R u) = D(R) Y(u), also for improper R (D(-I) = p I = (-1)^l I).
    rng = np.random.default_rng(60 + l)
    r = _random_orthogonal(rng, proper)
    u = rng.normal(size=(15, 3))
    d = _wigner(l, (-1) ** l, r)
    np.testing.assert_allclose(_sh(l, u @ r.T), _sh(l, u) @ d.T, atol=1e-10)


@pytest.mark.parametrize("l", LS)
@pytest.mark.parametrize("p", [1, -1])
@pytest.mark.parametrize("proper", [True, False])
def test_rotating_the_polynomial(l, p, proper):
    # The feature D(R) v has the polynomial p_v(R^T x) (the rotated function); a pseudo-tensor
    # (p != (-1)^l) under an improper R takes an extra factor -1.
    rng = np.random.default_rng(70 + l)
    r = _random_orthogonal(rng, proper)
    v = rng.normal(size=2 * l + 1)
    d = _wigner(l, p, r)
    x_new = sympy.Matrix(r.T) * sympy.Matrix(SYMBOLS)  # R^T x
    rotated = polynomial(v, l, digits=15).subs(dict(zip(SYMBOLS, x_new, strict=True)), simultaneous=True)
    sign = -1 if (p != (-1) ** l and not proper) else 1
    _assert_positive_multiple(vector_from_polynomial(sympy.expand(rotated), l), sign * (d @ v), 1e-8)


def test_rotation_of_named_feature():
    # A 90 degree rotation about z turns x^2 - y^2 into -(x^2 - y^2) and keeps x*y up to sign.
    r = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    d = _wigner(2, 1, r)
    v = vector_from_polynomial("x**2 - y**2", 2)
    assert polynomial_string(d @ v, 2) == "-x**2 + y**2"
    assert polynomial_string(d @ vector_from_polynomial("x*y", 2), 2) == "-x*y"


def test_describe_true_tensors():
    assert describe([2.0], 0, 1) == "scalar"
    assert describe([-2.0], 0, 1) == "scalar"
    assert describe([0, 0, 5.0], 1, -1) == "z"
    assert describe(vector_from_polynomial("x**2 - y**2", 2), 2, 1) == "x**2 - y**2"
    assert describe(vector_from_polynomial("x*y*z", 3), 3, -1) == "x*y*z"


def test_describe_pseudo_tensors():
    assert describe([1.0], 0, -1) == "pseudoscalar"
    assert describe([0, 0, 2.0], 1, 1) == "axial vector along z"
    assert describe([0, -1.0, 0], 1, 1) == "axial vector along -y"
    assert describe([0.6, 0.8, 0], 1, 1) == "axial vector along (0.6, 0.8, 0)"
    v = vector_from_polynomial("x*y", 2)
    assert describe(v, 2, -1) == "pseudotensor of rank 2 with the shape of x*y (changes sign under inversion)"
    v = vector_from_polynomial("x*y*z", 3)
    assert describe(v, 3, 1) == "pseudotensor (l=3) with the shape of x*y*z (unchanged under inversion)"
    v = vector_from_polynomial("x**4 - 6*x**2*y**2 + y**4", 4)
    assert describe(v, 4, -1) == (
        "pseudotensor (l=4) with the shape of x**4 - 6*x**2*y**2 + y**4 (changes sign under inversion)"
    )
    assert describe(np.zeros(3), 1, 1) == "zero"


def test_zero_vector():
    assert polynomial(np.zeros(5), 2) == 0
    np.testing.assert_array_equal(vector_from_polynomial("0", 2), np.zeros(5))


def test_accepts_torch_and_sympy_input():
    assert polynomial_string(torch.tensor([0.0, 0.0, 1.0]), 1) == "z"
    np.testing.assert_allclose(vector_from_polynomial(X * Y, 2), vector_from_polynomial("x*y", 2))


@pytest.mark.parametrize(
    "text, l",
    [
        ("x**2", 2),  # not harmonic
        ("x**2 - y**2 + x", 2),  # not homogeneous
        ("x*y", 3),  # wrong degree
        ("1/x", 1),  # not a polynomial
        ("w*x", 2),  # foreign symbol
        ("x +", 1),  # not parseable
    ],
)
def test_vector_from_polynomial_rejects(text, l):
    with pytest.raises(ValueError):
        vector_from_polynomial(text, l)


def test_bad_arguments():
    with pytest.raises(ValueError):
        polynomial([1.0, 2.0], 1)
    with pytest.raises(ValueError):
        polynomial([np.nan, 0, 0], 1)
    with pytest.raises(ValueError):
        describe([1.0, 0, 0], 1, 0)
    with pytest.raises(ValueError):
        polynomial([1.0], -1)


@pytest.mark.parametrize("text", ["foo(", "x**", "(x", "exp(x)", "x.y", "__import__('os')", "lambda: 1", "", "1/0"])
def test_unreadable_polynomial_is_one_line(text):
    """A typed polynomial that is not one gives a one-line SymcheckError (sympy's errors are multi-line)."""
    with pytest.raises(SymcheckError) as info:
        vector_from_polynomial(text, 2)
    assert "\n" not in str(info.value)
    assert "Error" not in str(info.value)


def test_caret_means_power():
    assert np.allclose(vector_from_polynomial("x^2 - y^2", 2), vector_from_polynomial("x**2 - y**2", 2))


@pytest.mark.parametrize("l", range(1, 7))
def test_float_polynomials_print_as_sympy_does(l):
    """Float coefficients are printed without sympy, character for character as sympy prints them:
    its binary rounding, halves rounded up, exponent form below 1e-4 (1.294e-5)."""
    from symcheck.polynomials import _coefficients, _float_string, polynomial

    rng = np.random.default_rng(100 + l)
    compared = 0
    for t in range(200):
        v = rng.normal(size=2 * l + 1)
        v[rng.integers(0, 2 * l + 1)] *= 10.0 ** rng.uniform(-9, 0)  # one small coefficient
        v[rng.random(2 * l + 1) < (0.4 if t % 3 == 0 else 0.0)] = 0.0
        if t % 5 == 0:
            v = np.round(v * 8) / 8  # binary-exact halves: the rounding rule decides
        c, exact, scale = _coefficients(v, l)
        if exact is not None or scale == 0.0:
            continue
        text = _float_string(c / scale, l, 4)
        assert text == str(sympy.expand(polynomial(v, l, 4)))
        compared += 1
    assert compared > 50
