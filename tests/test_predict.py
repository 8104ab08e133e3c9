"""Tests of the predictor: ``symcheck.analyze`` against the contract (DESIGN.md, "The mathematics").

What is checked, and against what:

* the tutorial's tasks (``shared/seed/000_0778ea52175e53ca.txt``): Task 1 learnable, Task 2 stuck
  at the floor 7.0702e-4 with the fix x² − y²; the floor is recomputed here independently of
  symcheck's groups and representations (D4h matrices from ``tests/shapes.py``, Wigner D matrices
  straight from e3nn, permutations by matching positions);
* invariance: rotating (proper or improper), translating and relabelling the task changes no
  group, no floor, and rotates the suggested feature with it;
* the floor is a hard bound: P_G y is G-invariant, its MSE to y is the floor, no G-equivariant
  output does better;
* infinite groups (linear molecules, a single atom), pseudo-tensor fixes (a vortex on the square),
  the rotation-only model (``so3=True``), Neumann tables, property-based checks on decorated orbits
  of random point groups, and bad input.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapes  # tests/ is on sys.path (see conftest.py)
import sympy
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy.stats import ortho_group

import symcheck as sc
from symcheck import SymcheckError
from symcheck.fixed import act, wigner_D

X, Y, Z = sympy.symbols("x y z")
TOL = 0.01
TUTORIAL_FLOOR = 7.0702e-4  # the tutorial's plateau "0.0007", DESIGN §4


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """e3nn's Wigner D matrices are tiny: with several torch threads on a busy 2-core machine each
    call costs ~20 ms instead of ~1 ms (analyze: 3 s instead of 0.2 s). One thread, restored after."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# --------------------------------------------------------------------------------------------
# Helpers, independent of symcheck's groups and representations
# --------------------------------------------------------------------------------------------


def e3nn_D(irreps: str, R: np.ndarray) -> np.ndarray:
    """Wigner D of an orthogonal R straight from e3nn, in float64."""
    import torch
    from e3nn import o3

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return o3.Irreps(irreps).D_from_matrix(torch.as_tensor(R, dtype=torch.float64)).numpy()
    finally:
        torch.set_default_dtype(old)


def permutation_of(M: np.ndarray, positions: np.ndarray, center=None, tol: float = 1e-6) -> np.ndarray:
    """σ with M (r_i − c) + c = r_σ(i); fails if M is not a symmetry of the points."""
    c = positions.mean(0) if center is None else np.asarray(center)
    img = (positions - c) @ M.T + c
    d = np.linalg.norm(img[:, None] - positions[None], axis=-1)
    perm = d.argmin(1)
    assert np.all(d[np.arange(len(perm)), perm] < tol), "not a symmetry of the points"
    assert len(set(perm.tolist())) == len(perm)
    return perm


def reynolds(mats, positions, y: np.ndarray, irreps: str, center=None) -> np.ndarray:
    """(1/|K|) Σ_g g·y with (g·y)[σ(i)] = D(R) y[i], over the finite group of matrices ``mats``."""
    total = np.zeros_like(y, dtype=float)
    for M in mats:
        perm = permutation_of(M, positions, center)
        moved = np.empty_like(total)
        moved[perm] = y @ e3nn_D(irreps, M).T
        total += moved
    return total / len(mats)


def random_orthogonal(seed: int, improper: bool) -> np.ndarray:
    R = ortho_group.rvs(3, random_state=seed)
    if (np.linalg.det(R) < 0) != improper:
        R = -R
    return R


def as_poly(text: str) -> sympy.Expr:
    return sympy.expand(sympy.sympify(text, locals={"x": X, "y": Y, "z": Z}))


def proportional(p: sympy.Expr, q: sympy.Expr, rtol: float = 2e-3, seed: int = 0) -> bool:
    """p = c·q for some c ≠ 0 (numerically, at random points; coefficients may be rounded)."""
    pts = np.random.default_rng(seed).normal(size=(40, 3))
    fp = sympy.lambdify((X, Y, Z), p, "numpy")
    fq = sympy.lambdify((X, Y, Z), q, "numpy")
    a = np.broadcast_to(np.asarray(fp(*pts.T), dtype=float), (40,))
    b = np.broadcast_to(np.asarray(fq(*pts.T), dtype=float), (40,))
    if np.linalg.norm(a) == 0 or np.linalg.norm(b) == 0:
        return False
    c = (a @ b) / (b @ b)
    return bool(np.linalg.norm(a - c * b) <= rtol * np.linalg.norm(a))


def same_up_to_sign(u: np.ndarray, v: np.ndarray, atol: float = 1e-8) -> bool:
    return min(np.abs(u - v).max(), np.abs(u + v).max()) < atol


# --------------------------------------------------------------------------------------------
# 1. The tutorial
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report2(tutorial_task):
    return sc.analyze(tutorial_task, tol=TOL)


def test_task1_rectangle_to_square_is_learnable(square, rectangle):
    task = sc.Task.displacement(rectangle, square, encoding="signal", signal_lmax=5)
    r = sc.analyze(task, tol=TOL)
    assert r.learnable
    assert r.loss_floor < 1e-12
    assert r.input_group.name == "D2h" and r.input_group.order == 8
    assert r.target_group.name == "D2h"
    assert r.suggestions == ()
    assert r.fix is None
    assert r.verdict.startswith("LEARNABLE")
    # learnable: the best equivariant output is the target itself
    np.testing.assert_allclose(r.best_output, task.target, atol=1e-12)


def test_task2_square_to_rectangle_floor(report2, tutorial_task):
    r = report2
    assert not r.learnable
    assert abs(r.loss_floor - TUTORIAL_FLOOR) < 5e-8, r.loss_floor
    assert r.input_group.name == "D4h" and r.input_group.order == 16
    assert r.target_group.name == "D2h" and r.target_group.order == 8
    assert r.end_group is not None and r.end_group.name == "D2h"
    assert r.mean_square == pytest.approx(tutorial_task.mean_square, rel=1e-15)
    assert r.loss_floor < r.mean_square
    assert r.verdict.startswith("NOT LEARNABLE")
    assert r.obstructions, "the four-fold operations move the target"


def test_task2_floor_independent_oracle(tutorial_task, report2):
    """P_G y recomputed with D4h's exact matrices, e3nn's D matrices and matched permutations."""
    pos = tutorial_task.structure.positions
    best = reynolds(shapes.group_matrices("D4h"), pos, tutorial_task.target, tutorial_task.irreps)
    floor = float(np.mean((tutorial_task.target - best) ** 2))
    assert abs(floor - TUTORIAL_FLOOR) < 5e-8
    assert report2.loss_floor == pytest.approx(floor, rel=1e-10)
    np.testing.assert_allclose(report2.best_output, best, atol=1e-12)


def test_task2_first_suggestion_is_x2_minus_y2(report2):
    s = report2.suggestions[0]
    assert s.irreps == "2e"
    assert s.scope == "global"
    assert s.stabilizer == "D2h" and s.stabilizer_order == 8
    assert s.reaches_target
    assert s.candidate_dim == 1
    assert s.sites is None
    ratio = sympy.simplify(as_poly(s.polynomial) / (X**2 - Y**2))
    assert ratio.is_number and ratio != 0, s.polynomial
    # the vector is e3nn's x² − y², up to a factor of either sign
    v = sc.polynomials.vector_from_polynomial("x**2 - y**2", 2)
    assert s.vector.shape == (5,)
    assert same_up_to_sign(s.vector / np.linalg.norm(s.vector), v / np.linalg.norm(v))
    assert report2.fix is not None and "x**2 - y**2" in report2.fix


def test_task2_fix_is_invariant_exactly_under_target_group(report2, tutorial_task):
    """v = x² − y² is kept by every element of H = D2h and moved by every element of G outside it."""
    v = report2.suggestions[0].vector
    pos = tutorial_task.structure.positions
    kept = 0
    for op in report2.input_group.operations:
        moved = act("2e", op.matrix, None, v)
        y = tutorial_task.target
        target_kept = np.allclose(act(tutorial_task.irreps, op.matrix, op.permutation, y), y, atol=1e-9)
        assert np.allclose(moved, v, atol=1e-9) == target_kept
        kept += target_kept
        # operations really are symmetries of the square
        np.testing.assert_array_equal(op.permutation, permutation_of(op.matrix, pos))
    assert kept == 8


def test_task2_as_dict_json(report2):
    d = report2.as_dict()
    d = json.loads(json.dumps(d))  # plain JSON
    assert d["input"]["point_group"] == "D4h" and d["input"]["order"] == 16
    assert d["target"]["point_group"] == "D2h" and d["target"]["order"] == 8
    assert d["learnable"] is False
    assert abs(d["loss_floor"] - TUTORIAL_FLOOR) < 5e-8
    first = d["suggestions"][0]
    for key in ("irreps", "scope", "polynomial", "stabilizer", "vector"):
        assert key in first
    assert first["irreps"] == "2e" and first["scope"] == "global" and first["stabilizer"] == "D2h"
    assert len(first["vector"]) == 5
    assert len(d["suggestions"]) == len(report2.suggestions)


def test_task2_vector_encoding_floor_is_mean_square(square, rectangle):
    """Vector encoding: P_G y = 0, so the floor is the whole mean square.

    Fix_D4h of a per-point 1o field on the square: a corner's site group {E, σh, σd, C2'} (σd the
    diagonal mirror through it, C2' the diagonal axis) fixes only vectors along the corner's radius
    (σh kills z, σd kills the tangential part), and the orbit carries one corner's vector to all,
    so Fix_G(V) is the 1-dimensional breathing mode r_i. The target d_i = (−x_i/2, y_i/2, 0)
    (x scaled by 0.5, y by 1.5) has ⟨d, r⟩ = Σ_i (y_i² − x_i²)/2 = 0 on the square (x_i² = y_i² =
    1/4), so P_G y = 0 and ‖y − P_G y‖² = ‖y‖²: floor = mean square = 0.5/12.
    """
    task = sc.Task.displacement(square, rectangle, encoding="vector")
    r = sc.analyze(task, tol=TOL)
    assert not r.learnable
    np.testing.assert_allclose(r.best_output, 0.0, atol=1e-12)
    assert r.loss_floor == pytest.approx(r.mean_square, rel=1e-12)
    assert r.loss_floor == pytest.approx(0.5 / 12, rel=1e-12)
    assert r.target_group.name == "D2h"
    assert r.suggestions[0].irreps == "2e" and r.suggestions[0].scope == "global"
    assert r.floor_fraction == pytest.approx(1.0)


def test_task2_ranking(report2):
    """DESIGN §6: global before per-point, lowest L first, W smallest, even before odd."""
    sugg = report2.suggestions
    assert all(s.reaches_target for s in sugg)
    scopes = [s.scope for s in sugg]
    assert scopes == sorted(scopes, key=lambda x: x != "global")
    globals_ = [s for s in sugg if s.scope == "global"]
    assert [s.irreps for s in globals_] == ["2e", "3e", "4e"]  # W is 1-dim for each (see neumann)
    for a, b in zip(sugg, sugg[1:]):
        if a.scope == b.scope:
            assert (a.L, a.candidate_dim) <= (b.L, b.candidate_dim) or a.L < b.L


def test_fix_reaches_target_when_any_suggestion_does(square):
    """Vortex plus a rectangle distortion on the square keeps C2h (C4h ∩ D2h). Up to L = 1 no global
    feature reaches it (the axial z vector keeps C4h) but a per-point vector field does: the reported
    fix must be one that makes the task learnable.

    Note for the lead: the literal key order of DESIGN §6 (scope first, then "stabilizer exactly H")
    would put the global 1e (stabilizer C4h, not a fix) first; the code ranks fixes first."""
    P = square.positions
    y = np.stack([-P[:, 1], P[:, 0], 0 * P[:, 0]], 1) + 0.5 * np.stack([-P[:, 0], P[:, 1], 0 * P[:, 0]], 1)
    r = sc.analyze(sc.Task(square, y, "1o"), tol=TOL, feature_lmax=1)
    assert (r.input_group.name, r.target_group.name) == ("D4h", "C2h")
    assert r.suggestions[0].reaches_target
    assert r.suggestions[0].stabilizer == "C2h"
    assert any(s.scope == "global" and s.irreps == "1e" and s.stabilizer == "C4h" for s in r.suggestions)
    assert not r.fix.startswith("no single feature")


# --------------------------------------------------------------------------------------------
# 2. Invariance under rotation, translation and relabelling
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed, improper", [(1, False), (2, True), (3, False), (4, True)])
def test_task2_invariant_under_rigid_motion(square, rectangle, report2, seed, improper):
    rng = np.random.default_rng(seed)
    R = random_orthogonal(seed, improper)
    t = rng.uniform(-5, 5, 3)
    order = rng.permutation(len(square))
    task = sc.Task.displacement(square.transformed(R, t, order), rectangle.transformed(R, t, order),
                                encoding="signal", signal_lmax=5)
    r = sc.analyze(task, tol=TOL)
    assert (r.input_group.name, r.input_group.order) == ("D4h", 16)
    assert (r.target_group.name, r.target_group.order) == ("D2h", 8)
    assert r.learnable is False
    assert r.loss_floor == pytest.approx(report2.loss_floor, rel=1e-9)

    s0, s = report2.suggestions[0], r.suggestions[0]
    assert (s.irreps, s.scope, s.stabilizer, s.candidate_dim) == ("2e", "global", "D2h", 1)
    # W is one-dimensional: the rotated task's feature is ±D(R) v of the original
    assert same_up_to_sign(s.vector, wigner_D("2e", R) @ s0.vector)
    assert same_up_to_sign(s.vector, e3nn_D("2e", R) @ s0.vector)
    # equivalently its polynomial is ±p(Rᵀ x)
    Rt = R.T
    rotated = as_poly(s0.polynomial).subs(
        {X: Rt[0] @ (X, Y, Z), Y: Rt[1] @ (X, Y, Z), Z: Rt[2] @ (X, Y, Z)}, simultaneous=True
    )
    assert proportional(as_poly(s.polynomial), sympy.expand(rotated))
    # and P_G y moves with the task: row k of the new field is D(R) times row order[k] of the old
    D = wigner_D(task.irreps, R)
    np.testing.assert_allclose(r.best_output, (report2.best_output @ D.T)[order], atol=1e-10)


def test_floor_is_scale_invariant_verdict(square):
    """Learnability is a property of the direction of y, not its size: c·y has the same stabilizer.

    Library bug if this fails: the target's stabilizer is decided with the *distance* tolerance
    applied to the target's entries (max |g·y − y| ≤ tol), so a small target (a 1 % square →
    rectangle distortion, 0.005 Å) is called LEARNABLE although its floor is 58 % of its mean
    square — the verdict contradicts DESIGN §3/§4 (learnable ⟺ y ∈ Fix_G(V) ⟺ floor 0).
    """
    for eps in (0.3, 0.01):
        end = sc.Structure(square.positions * np.array([1 - eps, 1 + eps, 0.0]))
        r = sc.analyze(sc.Task.displacement(square, end, encoding="signal", signal_lmax=5), tol=TOL)
        assert r.floor_fraction == pytest.approx(7 / 12, rel=1e-9)  # same direction, same fraction
        assert not r.learnable, f"eps={eps}: {r.verdict}"
        assert r.target_group.name == "D2h"


def test_learnable_agrees_with_floor_for_small_targets(square):
    """The same bug through the general API: a tiny vector field, clearly not D4h-invariant."""
    P = square.positions
    y = np.stack([-P[:, 0], P[:, 1], 0 * P[:, 0]], axis=1)  # x shrinks, y grows: keeps D2h
    for scale in (1.0, 1e-3):
        r = sc.analyze(sc.Task(square, scale * y, "1o"), tol=TOL)
        assert r.loss_floor == pytest.approx(r.mean_square, rel=1e-12)
        assert r.learnable == (r.loss_floor < 1e-12 * r.mean_square), f"scale {scale}: {r.verdict}"


# --------------------------------------------------------------------------------------------
# 3. The floor is a hard bound
# --------------------------------------------------------------------------------------------


def test_best_output_is_invariant_and_optimal(tutorial_task, report2):
    G = report2.input_group
    y, best = tutorial_task.target, report2.best_output
    for op in G.operations:
        np.testing.assert_allclose(act(tutorial_task.irreps, op.matrix, op.permutation, best), best, atol=1e-12)
    assert float(np.mean((y - best) ** 2)) == pytest.approx(report2.loss_floor, rel=1e-12)
    # y − P_G y is orthogonal to everything invariant, P_G y included
    assert abs(np.sum((y - best) * best)) < 1e-12

    Ds = wigner_D(tutorial_task.irreps, np.stack([op.matrix for op in G.operations]))

    def g_act(k, field):
        return act(tutorial_task.irreps, G.operations[k].matrix, G.operations[k].permutation, field, D=Ds[k])

    rng = np.random.default_rng(0)
    for _ in range(20):
        z = rng.normal(scale=rng.uniform(0.01, 1.0), size=y.shape)
        equivariant = sum(g_act(k, z) for k in range(G.order)) / G.order
        for k in range(G.order):  # the symmetrized field really is an allowed output
            np.testing.assert_allclose(g_act(k, equivariant), equivariant, atol=1e-12)
        for candidate in (equivariant, best + 1e-3 * equivariant):
            assert float(np.mean((y - candidate) ** 2)) >= report2.loss_floor - 1e-15


def test_learnable_best_output_is_target(rectangle, square):
    task = sc.Task.displacement(rectangle, square, encoding="vector")
    r = sc.analyze(task, tol=TOL)
    assert r.learnable
    np.testing.assert_allclose(r.best_output, task.target, atol=1e-12)
    assert r.loss_floor < 1e-12 * r.mean_square


# --------------------------------------------------------------------------------------------
# 4. Infinite groups
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def co2():
    return sc.Structure([[0.0, 0.0, -1.16], [0.0, 0.0, 0.0], [0.0, 0.0, 1.16]], ["O", "C", "O"])


def test_linear_bend_not_learnable(co2):
    """Bend: O's move +x, C moves −2x. Kept: E, C2 about x (swaps the O's, keeps x), the xz mirror
    (keeps x), σh (z → −z, swaps the O's, keeps x): C2v with its axis along x. The D∞h-invariant
    fields are axial (C∞ kills x, y; σh makes the O's opposite, the C zero), so P_G y = 0."""
    d = 0.1
    y = np.array([[d, 0, 0], [-2 * d, 0, 0], [d, 0, 0]])
    r = sc.analyze(sc.Task(co2, y, "1o"), tol=TOL, feature_lmax=2)
    assert r.input_group.name == "Dinfh" and r.input_group.order is None
    assert r.target_group.name == "C2v" and r.target_group.order == 4
    assert not r.learnable
    np.testing.assert_allclose(r.best_output, 0.0, atol=1e-12)
    assert r.loss_floor == pytest.approx(r.mean_square, rel=1e-12)
    assert r.loss_floor > 0
    s = r.suggestions[0]
    assert (s.irreps, s.scope, s.stabilizer, s.reaches_target) == ("1o", "global", "C2v", True)
    assert same_up_to_sign(s.vector, np.array([1.0, 0.0, 0.0]))


def test_linear_bend_signal_encoding(co2):
    end = sc.Structure(co2.positions + np.array([[0.1, 0, 0], [-0.2, 0, 0], [0.1, 0, 0]]), co2.species)
    r = sc.analyze(sc.Task.displacement(co2, end, encoding="signal", signal_lmax=5), tol=TOL, feature_lmax=1)
    assert r.target_group.name == "C2v"
    assert not r.learnable
    assert 0 < r.loss_floor < r.mean_square  # the 0e (and other axial) parts are invariant


@pytest.mark.parametrize("encoding", ["vector", "signal"])
def test_linear_symmetric_stretch_learnable(co2, encoding):
    d = 0.1
    end = sc.Structure(co2.positions + np.array([[0, 0, -d], [0, 0, 0], [0, 0, d]]), co2.species)
    task = sc.Task.displacement(co2, end, encoding=encoding)
    r = sc.analyze(task, tol=TOL)
    assert r.learnable
    assert r.target_group.name == "Dinfh"
    assert r.loss_floor < 1e-12 * r.mean_square
    np.testing.assert_allclose(r.best_output, task.target, atol=1e-12)
    # invariant under a rotation by an arbitrary angle about the axis (C∞)
    R = shapes.rot((0, 0, 1), 0.7317)
    moved = act(task.irreps, R, np.arange(3), r.best_output)
    np.testing.assert_allclose(moved, r.best_output, atol=1e-12)


def test_single_atom_displacement():
    """G = Kh = O(3); a displacement d keeps the rotations about d and the mirrors containing it
    (C∞v); no O(3)-invariant vector exists, so P_G y = 0; the fix is the polar vector along d.
    (feature_lmax=1: the suggestion search up to L=1 is enough here and keeps the test fast.)"""
    atom = sc.Structure([[0.3, -0.2, 0.1]], ["Ar"])
    d = np.array([[0.1, 0.2, 0.3]])
    r = sc.analyze(sc.Task(atom, d, "1o"), tol=TOL, feature_lmax=1)
    assert r.input_group.name == "Kh" and r.input_group.order is None
    assert r.target_group.name == "Cinfv" and r.target_group.order is None
    assert not r.learnable
    np.testing.assert_allclose(r.best_output, 0.0, atol=1e-12)
    assert r.loss_floor == pytest.approx(r.mean_square, rel=1e-12)
    s = r.suggestions[0]
    assert (s.irreps, s.scope, s.stabilizer, s.stabilizer_order, s.reaches_target) == (
        "1o", "global", "Cinfv", None, True)
    u = d[0] / np.linalg.norm(d[0])
    assert same_up_to_sign(s.vector / np.linalg.norm(s.vector), u)
    assert proportional(as_poly(s.polynomial), X + 2 * Y + 3 * Z)


def test_single_atom_signal_keeps_only_scalar():
    """O(3)-invariants of 0e+1o+2e: the 0e component only, so floor = (|y|² − y₀²)/dim."""
    atom = sc.Structure([[0.0, 0.0, 0.0]], ["Ar"])
    end = sc.Structure([[0.1, 0.2, 0.3]], ["Ar"])
    task = sc.Task.displacement(atom, end, encoding="signal", signal_lmax=2)
    r = sc.analyze(task, tol=TOL, feature_lmax=1)
    y = task.target[0]
    assert r.target_group.name == "Cinfv"
    assert r.loss_floor == pytest.approx((y @ y - y[0] ** 2) / y.size, rel=1e-10)
    np.testing.assert_allclose(r.best_output[0, 1:], 0.0, atol=1e-12)
    assert r.best_output[0, 0] == pytest.approx(y[0], rel=1e-12)


@pytest.mark.parametrize("irreps", ["1o", "0e+1o+2e"])
def test_single_atom_zero_target_is_learnable(irreps):
    """An atom that does not move: y = 0 is kept by all of O(3), so H = G = Kh, learnable, floor 0.

    Library bug if this fails: the stabilizer of a single point whose non-scalar features are all
    zero comes out C1 (groups/infinite.py, single_point_group: _candidate_axes skips zero vectors,
    finds no axis, and the empty operation list becomes C1), so the verdict is NOT LEARNABLE with
    floor 0 and "no single feature reaches C1".
    """
    atom = sc.Structure([[0.0, 0.0, 0.0]], ["Ar"])
    dim = {"1o": 3, "0e+1o+2e": 9}[irreps]
    r = sc.analyze(sc.Task(atom, np.zeros((1, dim)), irreps), tol=TOL, feature_lmax=1)
    assert r.input_group.name == "Kh"
    assert r.target_group.name == "Kh", r.verdict
    assert r.learnable
    assert r.loss_floor == 0.0


def test_single_atom_zero_displacement_is_learnable():
    """The same through Task.displacement: start = end gives a zero target (vector or signal)."""
    atom = sc.Structure([[0.5, 0.5, 0.5]], ["Ar"])
    for encoding in ("vector", "signal"):
        task = sc.Task.displacement(atom, atom, encoding=encoding, signal_lmax=2)
        r = sc.analyze(task, tol=TOL, feature_lmax=1)
        assert r.learnable, f"{encoding}: {r.verdict}"


def test_single_atom_signal_lmax4_is_fast():
    """Performance: a single atom with a spherical-signal target (L ≤ 4) must analyse in seconds.

    Library bug if this fails: single_point_group's _candidate_axes collects the extrema of every
    l-component, then all pairwise cross products and bisectors, and deduplicates them with a
    quadratic pure-Python loop (_unique_lines), then scans every line. Measured on a 2-core
    machine: L ≤ 2: 0.7 s, L ≤ 3: 6-17 s, L ≤ 4: 32 s, the tutorial's L ≤ 5: 370 s (the target's
    stabilizer alone).
    The test gives up after 5 s (SIGALRM) so that a slow library costs CI 5 s, not minutes.
    """
    import signal

    atom = sc.Structure([[0.0, 0.0, 0.0]], ["Ar"])
    end = sc.Structure([[0.1, 0.2, 0.3]], ["Ar"])
    task = sc.Task.displacement(atom, end, encoding="signal", signal_lmax=4)

    def give_up(signum, frame):
        raise TimeoutError("analyze of a single atom with an L<=4 signal target took more than 5 s")

    import threading

    if threading.current_thread() is not threading.main_thread():  # signals need the main thread
        r = sc.analyze(task, tol=TOL, feature_lmax=1)
    else:
        old = signal.signal(signal.SIGALRM, give_up)
        signal.alarm(5)
        try:
            r = sc.analyze(task, tol=TOL, feature_lmax=1)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
    assert r.target_group.name == "Cinfv"


# --------------------------------------------------------------------------------------------
# 5. Parity: a fix that must be a pseudo-tensor
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vortex_task(square):
    """A vortex (−y, x, 0) at each corner plus a breathing part (x, y, 0)/2.

    Kept by D4h's elements: C4 (rotates positions and vectors alike), σh (in-plane vectors), i
    (r → −r, v → −v, and the vortex at −r is −v): C4h. Broken: σv (x → −x sends the vortex
    (−y, x) to (y, x), but the field at (−x, y) is (−y, −x)) and the C2' axes. The breathing part is
    D4h-invariant, so P_G y is exactly it.
    """
    P = square.positions
    vortex = np.stack([-P[:, 1], P[:, 0], 0 * P[:, 0]], axis=1)
    breathing = 0.5 * P
    return sc.Task(square, vortex + breathing, "1o"), vortex, breathing


def test_vortex_needs_axial_vector(vortex_task):
    task, vortex, breathing = vortex_task
    r = sc.analyze(task, tol=TOL)
    assert (r.input_group.name, r.target_group.name, r.target_group.order) == ("D4h", "C4h", 8)
    assert not r.learnable
    np.testing.assert_allclose(r.best_output, breathing, atol=1e-12)
    assert r.loss_floor == pytest.approx(np.mean(vortex**2), rel=1e-12)
    s = r.suggestions[0]
    # 0o (a pseudoscalar) keeps D4, 1o along z keeps C4v: the first fix is the axial vector 1e ∥ z,
    # kept by rotations about z and by σh = i·C2z (i acts as +1 on 1e), flipped by C2' and σv
    assert (s.irreps, s.scope, s.stabilizer, s.stabilizer_order, s.reaches_target) == (
        "1e", "global", "C4h", 8, True)
    assert same_up_to_sign(s.vector, np.array([0.0, 0.0, 1.0]))
    assert "axial" in s.polynomial
    # no polar vector does it
    assert not any(t.irreps == "1o" and t.scope == "global" and t.reaches_target for t in r.suggestions)


def test_vortex_rotation_only_model(vortex_task):
    """so3=True: G ∩ SO(3) = D4; the vortex keeps C4 (D4 ∩ C4h). Parity is ignored, so the axial
    and the polar vector along z both fix it (each is flipped by the C2' axes only); equal L and
    equal W, so the even one ranks first (DESIGN §6.6)."""
    task, vortex, _ = vortex_task
    r = sc.analyze(task, tol=TOL, so3=True)
    assert r.so3
    assert (r.input_group.name, r.input_group.order) == ("D4", 8)
    assert (r.target_group.name, r.target_group.order) == ("C4", 4)
    assert r.loss_floor == pytest.approx(np.mean(vortex**2), rel=1e-12)
    first, second = r.suggestions[:2]
    assert (first.irreps, first.scope, first.stabilizer, first.reaches_target) == ("1e", "global", "C4", True)
    assert (second.irreps, second.scope, second.stabilizer, second.reaches_target) == ("1o", "global", "C4", True)
    for s in (first, second):
        assert same_up_to_sign(s.vector, np.array([0.0, 0.0, 1.0]))
    for op in r.input_group.operations:
        assert op.proper


def test_so3_changes_tutorial_groups_not_floor(tutorial_task, report2):
    """Task 2 with a rotation-only model: G = D4, H = D2, the same floor.

    The target is inversion-invariant: i sends corner r to −r, whose displacement is −d (the
    rectangle is centrosymmetric), and on the signal's irreps (parity (−1)^l) i maps the peak at d
    to the peak at −d. So P_D4h = P_D4 P_{E,i} gives P_D4h y = P_D4 y. Parity ignored, 2e and 2o both
    reach D2 with equal L and W; the even one ranks first (DESIGN §6.6)."""
    r = sc.analyze(tutorial_task, tol=TOL, so3=True)
    assert (r.input_group.name, r.target_group.name) == ("D4", "D2")
    assert abs(r.loss_floor - TUTORIAL_FLOOR) < 5e-8
    assert (r.suggestions[0].irreps, r.suggestions[0].stabilizer) == ("2e", "D2")


# --------------------------------------------------------------------------------------------
# 6. Property-based: decorated orbits of random point groups with random per-point 1o targets
# --------------------------------------------------------------------------------------------

GROUPS = [f"C{n}" for n in range(2, 7)] + [f"D{n}" for n in range(2, 7)] + [f"D{n}h" for n in range(2, 7)]


def _cyclic(mats: np.ndarray, k: int) -> np.ndarray:
    """The cyclic subgroup generated by mats[k]."""
    g = mats[k]
    out, power = [np.eye(3)], g.copy()
    while not np.allclose(power, np.eye(3), atol=1e-9):
        out.append(power)
        power = g @ power
    return np.array(out)


@settings(derandomize=True, max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(GROUPS),
    seed=st.integers(0, 10_000),
    mode=st.sampled_from(["random", "symmetric", "cyclic"]),
    scale=st.floats(0.2, 2.0),
)
def test_property_floor_and_invariance(name, seed, mode, scale):
    rng = np.random.default_rng(seed)
    pos, species = shapes.decorated_orbit(name, seed=seed, n_points=2)
    s = sc.Structure(pos, species)
    K = shapes.group_matrices(name)
    y = rng.normal(scale=scale, size=(len(pos), 3))
    if mode == "symmetric":
        sub = K
    elif mode == "cyclic":
        sub = _cyclic(K, int(rng.integers(len(K))))
    else:
        sub = np.eye(3)[None]
    y = reynolds(sub, pos, y, "1o", center=np.zeros(3))  # exactly sub-invariant, generic otherwise
    task = sc.Task(s, y, "1o")
    r = sc.analyze(task, tol=TOL, feature_lmax=1)
    event(f"mode={mode}, learnable={r.learnable}")

    assert r.input_group.name == name and r.input_group.order == len(K)
    assert r.target_group.order == len(sub)  # the target's symmetry is exactly what we put in
    assert r.loss_floor >= 0
    assert r.loss_floor <= r.mean_square * (1 + 1e-12)
    assert r.learnable == (len(sub) == len(K))
    assert r.learnable == (r.loss_floor < 1e-12 * r.mean_square)
    assert float(np.mean((y - r.best_output) ** 2)) == pytest.approx(r.loss_floor, rel=1e-9, abs=1e-30)
    oracle = reynolds(K, pos, y, "1o", center=np.zeros(3))
    np.testing.assert_allclose(r.best_output, oracle, atol=1e-10)

    # rotate (proper or improper), translate, relabel: nothing changes
    R = random_orthogonal(seed, improper=bool(seed % 2))
    order = rng.permutation(len(pos))
    moved = s.transformed(R, rng.uniform(-3, 3, 3), order)
    r2 = sc.analyze(sc.Task(moved, (y @ R.T)[order], "1o"), tol=TOL, feature_lmax=1)
    assert (r2.input_group.name, r2.input_group.order) == (r.input_group.name, r.input_group.order)
    assert (r2.target_group.name, r2.target_group.order) == (r.target_group.name, r.target_group.order)
    assert r2.learnable == r.learnable
    assert r2.loss_floor == pytest.approx(r.loss_floor, rel=1e-9, abs=1e-12 * r.mean_square)
    if r.suggestions and r.suggestions[0].scope == "global" and r.suggestions[0].candidate_dim == 1:
        a, b = r.suggestions[0], r2.suggestions[0]
        assert (a.irreps, a.stabilizer) == (b.irreps, b.stabilizer)
        assert same_up_to_sign(b.vector, wigner_D(a.irreps, R) @ a.vector, atol=1e-7)


# --------------------------------------------------------------------------------------------
# 7. Neumann tables
# --------------------------------------------------------------------------------------------


def test_neumann_d4h(report2):
    """D4h: 0e 1; 1o 0 (σh flips z); 1e 0 (C2' flips the axial z); 2e 1 (z²); 3e: D4 has no l=3
    invariant (characters 7, −1, −1, −1, −1: (7 − 2 − 1 − 2 − 2)/8 = 0); 4e 2 (Y40 and
    x⁴ − 6x²y² + y⁴: (9 + 2 + 1 + 2 + 2)/8 = 2); odd parity 0 (inversion)."""
    assert report2.neumann == {"0e": 1, "0o": 0, "1e": 0, "1o": 0, "2e": 1, "2o": 0,
                               "3e": 0, "3o": 0, "4e": 2, "4o": 0}


def test_neumann_cinfv():
    """C∞v (CO): Y_l0 along the axis is invariant under rotations about it and, for a true tensor
    (parity (−1)^l), under the vertical mirrors; a pseudo-tensor picks up −1 at the mirrors."""
    co = sc.Structure([[0.0, 0.0, 0.0], [0.0, 0.0, 1.13]], ["C", "O"])
    r = sc.analyze(sc.Task(co, np.zeros((2, 3)), "1o"), tol=TOL)
    assert r.input_group.name == "Cinfv"
    assert r.learnable
    expected = {"0e": 1, "0o": 0, "1e": 0, "1o": 1, "2e": 1, "2o": 0, "3e": 0, "3o": 1, "4e": 1, "4o": 0}
    assert r.neumann == expected


def test_neumann_dinfh_and_kh(co2):
    r = sc.analyze(sc.Task(co2, np.zeros((3, 3)), "1o"), tol=TOL)
    assert r.neumann == {"0e": 1, "0o": 0, "1e": 0, "1o": 0, "2e": 1, "2o": 0, "3e": 0, "3o": 0, "4e": 1, "4o": 0}
    atom = sc.Structure([[0.0, 0.0, 0.0]])
    r = sc.analyze(sc.Task(atom, np.zeros(1), "0e", per_point=False), tol=TOL, feature_lmax=3)
    assert r.input_group.name == "Kh"
    assert r.neumann == {"0e": 1, "0o": 0, "1e": 0, "1o": 0, "2e": 0, "2o": 0, "3e": 0, "3o": 0}


# --------------------------------------------------------------------------------------------
# 8. Bad input
# --------------------------------------------------------------------------------------------


def test_bad_atom_counts(square):
    three = sc.Structure(square.positions[:3])
    with pytest.raises(SymcheckError, match="atom counts"):
        sc.Task.displacement(square, three)


def test_bad_species_order(square):
    a = sc.Structure(square.positions, ["H", "H", "O", "O"])
    b = sc.Structure(square.positions * 1.1, ["H", "O", "H", "O"])
    with pytest.raises(SymcheckError, match="species"):
        sc.Task.displacement(a, b)
    # match=True pairs like species instead
    t = sc.Task.displacement(a, b, match=True, encoding="vector")
    assert t.end.species == a.species


def test_bad_target_values_and_irreps(square):
    y = np.zeros((4, 3))
    y[1, 2] = np.nan
    with pytest.raises(SymcheckError):
        sc.Task(square, y, "1o")
    with pytest.raises(SymcheckError):
        sc.Task(square, np.zeros((4, 3)), "2e")  # 2e has dimension 5
    with pytest.raises(SymcheckError):
        sc.Task(square, np.zeros(3), "1o", per_point=True)
    with pytest.raises(SymcheckError):
        sc.Task(square, np.zeros((4, 3)), "2x")
    with pytest.raises(SymcheckError):
        sc.Task(square, np.zeros((4, 3)), "1q")


@pytest.mark.parametrize("tol", [0.0, -0.01, float("nan"), "abc"])
def test_bad_tolerance(tutorial_task, tol):
    with pytest.raises(SymcheckError):
        sc.analyze(tutorial_task, tol=tol)


def test_match_recovers_shuffled_tutorial(square, rectangle, report2):
    order = np.array([2, 0, 3, 1])
    shuffled = sc.Structure(rectangle.positions[order], [rectangle.species[i] for i in order])
    task = sc.Task.displacement(square, shuffled, encoding="signal", signal_lmax=5, match=True)
    np.testing.assert_allclose(task.end.positions, rectangle.positions)
    r = sc.analyze(task, tol=TOL)
    assert r.loss_floor == pytest.approx(report2.loss_floor, rel=1e-12)
    assert (r.input_group.name, r.target_group.name) == ("D4h", "D2h")
    # without match the shuffled end is a different (still valid) task
    other = sc.analyze(sc.Task.displacement(square, shuffled, encoding="signal", signal_lmax=5), tol=TOL)
    assert other.loss_floor != pytest.approx(report2.loss_floor, rel=1e-6)


def test_nothing_moves_warning(square):
    report = sc.analyze(sc.Task.displacement(square, square))
    assert report.learnable
    assert any("nothing moves" in w for w in report.warnings)


def test_match_hint_when_atoms_are_out_of_order(square, rectangle):
    """End structure D2h, but the shuffled target keeps less: the atoms are not paired; --match fixes it."""
    perm = [1, 2, 3, 0]
    shuffled = sc.Structure(rectangle.positions[perm], [rectangle.species[i] for i in perm])
    report = sc.analyze(sc.Task.displacement(square, shuffled))
    assert report.end_group.name == "D2h" and report.target_group.order < 8
    assert any("--match" in w for w in report.warnings)
    paired = sc.analyze(sc.Task.displacement(square, shuffled, match=True))
    assert paired.target_group.name == "D2h" and not any("--match" in w for w in paired.warnings)


def test_no_match_hint_when_the_end_is_more_symmetric_than_the_input(square, rectangle):
    """Rectangle → square: the end (D4h) is larger than H = D2h, but G and E share only what H has."""
    report = sc.analyze(sc.Task.displacement(rectangle, square))
    assert report.end_group.name == "D4h" and report.learnable
    assert report.warnings == ()


def test_analysis_records_its_settings(tutorial_task, report2):
    report = sc.analyze(tutorial_task, tol=0.02, feature_lmax=3, near_tol=0.05)
    assert (report.tol, report.feature_lmax, report.near_tol, report.setting) == (0.02, 3, 0.05, None)
    assert report.as_dict()["settings"]["feature_lmax"] == 3


def test_setting_reaches_the_suggestions(tutorial_task):
    report = sc.analyze(tutorial_task, setting="bonds")
    assert report.setting == "bonds" and report.suggestions
    with pytest.raises(SymcheckError, match="setting"):
        sc.analyze(tutorial_task, setting="sideways")


def test_a_structure_written_by_two_programs_is_no_distortion(tmp_path):
    """ASE's CIF and POSCAR of one Cu 4×4×4 cell differ by ~1e-15 Å: that target was judged against its
    own (rounding-level) size and came out NOT LEARNABLE (R3m) with a per-site fix; rounding is no
    distortion, and it says so."""
    import ase.io
    from ase.build import bulk

    cu = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((4, 4, 4))
    ase.io.write(tmp_path / "cu.cif", cu)
    ase.io.write(tmp_path / "POSCAR", cu, format="vasp")
    task = sc.Task.from_files(tmp_path / "cu.cif", tmp_path / "POSCAR")
    assert 0 < np.abs(task.displacements).max() <= 1e-9
    a = sc.analyze(task)
    assert a.learnable and a.target_group.name == "Fm-3m" and a.suggestions == ()
    assert any("rounding" in w for w in a.warnings)
    moved = cu.copy()
    moved.positions[5] += [0.0, 0.0, 1e-4]  # a real (if small) displacement still breaks the group
    ase.io.write(tmp_path / "moved.cif", moved)
    assert not sc.analyze(sc.Task.from_files(tmp_path / "cu.cif", tmp_path / "moved.cif")).learnable
