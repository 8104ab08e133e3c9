"""symcheck.fixed: the one mismatch check, thresholds, irrep projectors, and the stabilizer's thresholds."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import symcheck as sc
from symcheck.fixed import act, images_under, irrep_project, mismatch, project, threshold, wigner_D
from symcheck.groups.stabilizer import stabilizer

IRREPS = "0e+1o+2e+1e"


def _rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.diag(r))


def _brute(irreps, Rs, perms, y):
    """max |g·y − y| from the definition of the action (act), element by element."""
    return np.array([np.max(np.abs(act(irreps, R, p, y) - y), initial=0.0) for R, p in zip(Rs, perms)])


def test_mismatch_is_the_change_under_the_action():
    rng = np.random.default_rng(0)
    n, d = 7, 12
    Rs = np.stack([_rotation(rng) * (-1) ** k for k in range(9)])
    perms = np.stack([rng.permutation(n) for _ in Rs])
    y = rng.normal(size=(n, d))
    Ds = wigner_D(IRREPS, Rs)
    assert np.allclose(mismatch(Ds, y, perms), _brute(IRREPS, Rs, perms, y), atol=1e-12)
    g = rng.normal(size=d)
    assert np.allclose(mismatch(Ds, g), _brute(IRREPS, Rs, [None] * len(Rs), g), atol=1e-12)
    # elements sharing rotations: the distinct Ds once, ``which`` per element
    which = np.array([0, 1, 1, 2, 0, 2])
    assert np.allclose(mismatch(Ds[:3], y, perms[:6], which=which), _brute(IRREPS, Rs[which], perms[:6], y))
    assert np.allclose(mismatch(Ds[:3], g, which=which), _brute(IRREPS, Rs[which], [None] * 6, g))


def test_mismatch_on_some_rows_and_onto_another_field():
    rng = np.random.default_rng(1)
    n, d = 6, 3
    z, y = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    perms = np.stack([rng.permutation(n) for _ in range(4)])
    rows = np.array([4, 1])
    # pure translations (Ds None): y[σ(i)] against z[i], on the given rows only
    want = [np.max(np.abs(y[p[rows]] - z[rows])) for p in perms]
    assert np.allclose(mismatch(None, z, perms[:, rows], rows=rows, onto=y), want)
    y_same = z[np.argsort(perms[2])]  # y[σ(i)] = z[i] for σ = perms[2]
    assert mismatch(None, z, perms, onto=y_same)[2] == 0.0


def test_mismatch_chunks_give_the_same_result():
    rng = np.random.default_rng(2)
    Rs = np.stack([_rotation(rng) for _ in range(11)])
    perms = np.stack([rng.permutation(5) for _ in Rs])
    y = rng.normal(size=(5, 3))
    whole = mismatch(wigner_D("1o", Rs), y, perms)
    assert np.array_equal(mismatch(wigner_D("1o", Rs), y, perms, chunk=7), whole)  # 1 element per chunk


def test_threshold_is_absolute_or_relative_never_both():
    y = np.array([0.5, -2.0])
    assert threshold(y, atol=1e-3) == 1e-3
    assert threshold(y, rtol=1e-3) == pytest.approx(2e-3)
    for bad in ({}, {"atol": 1.0, "rtol": 1.0}):
        with pytest.raises(ValueError, match="exactly one"):
            threshold(y, **bad)


def test_irrep_projectors_of_c2_split_a_field():
    """C2 = {E, C2z}: A and B components add up to the field, are idempotent, and A is P_G."""
    c2 = np.diag([-1.0, -1.0, 1.0])
    ops = [SimpleNamespace(matrix=np.eye(3), permutation=np.arange(2)),
           SimpleNamespace(matrix=c2, permutation=np.array([1, 0]))]
    y = np.random.default_rng(3).normal(size=(2, 3))
    images = images_under(ops, "1o", y, per_point=True)
    chars = np.array([[1.0, 1.0], [1.0, -1.0]])
    parts = irrep_project(images, chars, [1, 1])
    assert parts.shape == (2, 2, 3)
    assert np.allclose(parts.sum(axis=0), y, atol=1e-12)
    again = irrep_project(images_under(ops, "1o", parts[1], per_point=True), chars, [1, 1])
    assert np.allclose(again[1], parts[1]) and np.allclose(again[0], 0)
    assert np.allclose(parts[0], np.mean(images, axis=0))


def test_stabilizer_thresholds_atol_rtol_and_the_deprecated_tol():
    pos = np.array([[1.0, 0, 0], [0, 1.0, 0], [-1.0, 0, 0], [0, -1.0, 0]])
    square = sc.Structure(pos, ["C"] * 4)
    G = sc.symmetry_group(square)
    y = 1e-6 * np.array([[1.0, 0, 0], [0, 1.0, 0], [-1.0, 0, 0], [0, -1.0, 1e-9]])  # radial, tiny z tilt
    by_rtol = stabilizer(G, square, y, "1o", True, rtol=1e-6)
    by_atol = stabilizer(G, square, y, "1o", True, 1e-12)
    assert by_rtol.name == by_atol.name == "D4h"  # relative: the tilt is 1e-9 of the field, below 1e-6
    assert stabilizer(G, square, y, "1o", True, rtol=1e-12).order < by_rtol.order  # the tilt counts now
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = stabilizer(G, square, y, "1o", True, tol=1e-12)
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    assert old.name == by_atol.name
    assert np.allclose(project(by_rtol, "1o", y, True), y, atol=1e-14)


def test_reps_is_a_deprecated_alias_of_fixed():
    import importlib
    import sys

    import symcheck.fixed as fixed

    sys.modules.pop("symcheck.reps", None)
    with pytest.warns(DeprecationWarning, match="symcheck.fixed"):
        reps = importlib.import_module("symcheck.reps")
    assert reps.project is fixed.project and reps.wigner_D is fixed.wigner_D and reps.act is fixed.act


def test_structure_irreps_helpers_are_deprecated_spellings_of_irreps():
    from symcheck.o3 import Irreps
    from symcheck.structure import irreps_dim, parse_irreps

    with pytest.warns(DeprecationWarning, match="Irreps"):
        assert parse_irreps("2x0e+1y") == [(mul, l, p) for mul, (l, p) in Irreps("2x0e+1o")] == [(2, 0, 1), (1, 1, -1)]
    with pytest.warns(DeprecationWarning, match="Irreps"):
        assert irreps_dim("2x0e+1y") == 5
    with pytest.warns(DeprecationWarning), pytest.raises(sc.SymcheckError, match="unknown irreps string"):
        parse_irreps("1z")
