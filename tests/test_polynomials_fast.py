"""Polynomial names without sympy (issue 14): the same strings as sympy prints, sympy left unimported."""

import subprocess
import sys

import numpy as np
import pytest
import sympy

from symcheck import polynomials
from symcheck.polynomials import _exponents, _sh_matrix, polynomial, polynomial_string, vector_from_polynomial


def _harmonic_features(l, count, seed):
    """Features whose polynomials are harmonic projections of random small-integer polynomials."""
    rng = np.random.default_rng(seed)
    m = _sh_matrix(l)
    n_mon = len(_exponents(l))
    for _ in range(count):
        p = rng.integers(-3, 4, size=n_mon) * (rng.random(n_mon) < 0.5)
        v, *_ = np.linalg.lstsq(m.T, p.astype(float), rcond=None)
        if np.abs(v).max() > 1e-9:
            yield v


@pytest.mark.parametrize("l", [0, 1, 2, 3, 4])
def test_exact_names_are_sympys_strings(l):
    checked = 0
    for v in _harmonic_features(l, 100, seed=l):
        c, exact, _ = polynomials._coefficients(v, l)
        if exact is None:
            continue
        assert polynomial_string(v, l) == str(sympy.expand(polynomial(v, l)))
        assert polynomial_string(-v, l) == str(sympy.expand(polynomial(-v, l)))
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("text,l", [("x**2 - y**2", 2), ("x*y", 2), ("-x**2 - y**2 + 2*z**2", 2),
                                    ("x + sqrt(3)*y", 1), ("-z", 1), ("2*sqrt(3)*x*y*z", 3),
                                    ("x**3 - 3*x*y**2", 3), ("sqrt(2)*x*z + sqrt(2)*y*z", 2), ("1", 0)])
def test_round_trip_of_exact_names(text, l):
    v = vector_from_polynomial(text, l)
    assert polynomial_string(v, l) == str(sympy.expand(polynomial(v, l)))
    ratio = sympy.simplify(sympy.sympify(polynomial_string(v, l)) / sympy.sympify(text))
    assert ratio.is_number and ratio > 0  # the same polynomial up to a positive factor


def test_float_names_still_come_from_sympy():
    v = np.array([0.3, 1.1, -0.7, 0.2, 0.9])
    assert polynomial_string(v, 2) == str(sympy.expand(polynomial(v, 2)))
    assert "." in polynomial_string(v, 2)


def test_names_do_not_import_sympy():
    code = ("import sys, numpy as np; from symcheck.polynomials import describe; "
            "print(describe(np.array([0, 0, 0, 0, 1.0]), 2, 1), describe(np.array([0, 1.0, 0]), 1, 1), "
            "'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[-1] == "False", out
