"""Tests of ``symcheck.Task``: construction, validation, the displacement encodings.

The signal encoding is checked against e3nn directly: row i must equal
``SphericalTensor(lmax, p_val=1, p_arg=-1).with_peaks_at(d_i)`` (DESIGN, Conventions: the modern
form of the tutorial's ``SphericalTensor.from_geometry(d, L)``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from e3nn import o3
from e3nn.io import SphericalTensor

import symcheck as sc
from symcheck import SymcheckError


def e3nn_peaks(d: np.ndarray, lmax: int) -> np.ndarray:
    """The e3nn reference signal (one row) for one displacement, in float64."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        st = SphericalTensor(lmax, 1, -1)
        return st.with_peaks_at(torch.as_tensor(np.asarray(d, dtype=float)[None])).numpy()
    finally:
        torch.set_default_dtype(old)


# --------------------------------------------------------------------------------------------
# General construction
# --------------------------------------------------------------------------------------------


def test_per_point_task(square):
    y = np.arange(12.0).reshape(4, 3)
    t = sc.Task(square, y, "1o")
    assert t.per_point and t.irreps == "1o"
    np.testing.assert_array_equal(t.target, y)
    assert t.target.dtype == np.float64
    assert t.end is None and t.encoding is None and t.displacements is None
    assert t.mean_square == pytest.approx(np.mean(y**2))
    assert t.lmax == 1


def test_target_is_copied_and_read_only(square):
    y = np.ones((4, 3))
    t = sc.Task(square, y, "1o")
    y[0, 0] = 99.0  # the caller's array is not shared
    assert t.target[0, 0] == 1.0
    with pytest.raises(ValueError):
        t.target[0, 0] = 5.0


def test_task_is_frozen(square):
    t = sc.Task(square, np.zeros((4, 3)), "1o")
    with pytest.raises(AttributeError):
        t.irreps = "2e"


def test_global_task(square):
    t = sc.Task(square, [1.0, 0.0, 0.0, 0.0, 0.0], "2e", per_point=False)
    assert t.target.shape == (5,)
    assert not t.per_point
    assert t.lmax == 2
    assert t.mean_square == pytest.approx(0.2)
    with pytest.raises(SymcheckError):
        sc.Task(square, np.zeros((4, 5)), "2e", per_point=False)  # a field where a global is declared


def test_per_point_scalar_column_is_reshaped(square):
    t = sc.Task(square, [1.0, 2.0, 3.0, 4.0], "0e")
    assert t.target.shape == (4, 1)
    assert t.lmax == 0


@pytest.mark.parametrize("irreps, lmax", [("0e", 0), ("1o", 1), ("0e+2e", 2), ("2x1o+3e", 3),
                                          ("0e+1o+2e+3o+4e+5o", 5), ("1y", 1)])
def test_lmax_property(square, irreps, lmax):
    from symcheck.o3 import Irreps

    t = sc.Task(square, np.zeros((4, Irreps(irreps).dim)), irreps)
    assert t.lmax == lmax
    assert Irreps(irreps).dim == o3.Irreps(irreps.replace("1y", "1o")).dim


def test_mean_square(square):
    rng = np.random.default_rng(0)
    y = rng.normal(size=(4, 9))
    t = sc.Task(square, y, "0e+1o+2e")
    assert t.mean_square == pytest.approx(float(np.mean(y**2)), rel=1e-15)
    # torch's MSELoss of the zero prediction, the tutorial's loss
    mse0 = torch.nn.functional.mse_loss(torch.zeros(4, 9, dtype=torch.float64), torch.as_tensor(y))
    assert t.mean_square == pytest.approx(float(mse0), rel=1e-12)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_target(square, bad):
    y = np.zeros((4, 3))
    y[2, 1] = bad
    with pytest.raises(SymcheckError, match="NaN or inf"):
        sc.Task(square, y, "1o")


@pytest.mark.parametrize("shape, irreps", [((4, 3), "2e"), ((4, 5), "1o"), ((3, 3), "1o"), ((4, 3, 1), "1o"),
                                           ((12,), "1o"), ((4, 4), "0e+1o+2e")])
def test_shape_mismatch(square, shape, irreps):
    with pytest.raises(SymcheckError, match="does not match"):
        sc.Task(square, np.zeros(shape), irreps)


@pytest.mark.parametrize("irreps", ["2x", "1q", "x1o", "1", "o", "1o+", "-1o", "1.5e", "abc"])
def test_unknown_irreps(square, irreps):
    with pytest.raises(SymcheckError):
        sc.Task(square, np.zeros((4, 3)), irreps)


def test_non_numeric_target(square):
    with pytest.raises(SymcheckError):
        sc.Task(square, [["a", "b", "c"]] * 4, "1o")


def test_displacement_validation(square, rectangle):
    with pytest.raises(SymcheckError, match="atom counts"):
        sc.Task.displacement(square, sc.Structure(rectangle.positions[:3]))
    with pytest.raises(SymcheckError, match="encoding"):
        sc.Task.displacement(square, rectangle, encoding="peaks")
    for lmax in (0, -1, 2.0, "5"):
        with pytest.raises(SymcheckError, match="lmax"):
            sc.Task.displacement(square, rectangle, signal_lmax=lmax)


def test_species_order_and_match(square):
    a = sc.Structure(square.positions, ["H", "H", "O", "O"])
    b = sc.Structure(square.positions * 1.2, ["O", "H", "H", "O"])
    with pytest.raises(SymcheckError, match="species differ at point 0"):
        sc.Task.displacement(a, b)
    c = sc.Structure(square.positions, ["H", "O", "O", "O"])
    with pytest.raises(SymcheckError, match="different species"):
        sc.Task.displacement(a, c, match=True)


def test_match_pairs_like_species_by_distance(square):
    """match=True: within each species, the assignment with the least total squared displacement."""
    a = sc.Structure(square.positions, ["H", "O", "H", "O"])
    moved = square.positions * 1.1
    order = [3, 2, 1, 0]  # reversed: corner 0 (H) now listed last
    b = sc.Structure(moved[order], [a.species[i] for i in order])
    t = sc.Task.displacement(a, b, encoding="vector", match=True)
    np.testing.assert_allclose(t.end.positions, moved)
    assert t.end.species == a.species
    np.testing.assert_allclose(t.target, moved - square.positions)


# --------------------------------------------------------------------------------------------
# Displacement encodings
# --------------------------------------------------------------------------------------------


def test_vector_encoding(square, rectangle):
    t = sc.Task.displacement(square, rectangle, encoding="vector")
    assert t.irreps == "1o" and t.encoding == "vector" and t.per_point
    np.testing.assert_allclose(t.target, rectangle.positions - square.positions)
    np.testing.assert_allclose(t.displacements, rectangle.positions - square.positions)
    assert t.end == rectangle
    assert t.lmax == 1
    assert t.mean_square == pytest.approx(0.5 / 12)  # |d| = 0.25·√2 at every corner


@pytest.mark.parametrize("lmax", [1, 2, 5])
def test_signal_encoding_matches_e3nn(square, rectangle, lmax):
    t = sc.Task.displacement(square, rectangle, encoding="signal", signal_lmax=lmax)
    assert t.encoding == "signal"
    assert t.irreps == "+".join(f"{l}{'e' if l % 2 == 0 else 'o'}" for l in range(lmax + 1))
    assert o3.Irreps(t.irreps) == SphericalTensor(lmax, 1, -1)
    assert t.lmax == lmax
    assert t.target.shape == (4, (lmax + 1) ** 2)
    d = rectangle.positions - square.positions
    for i in range(4):
        np.testing.assert_allclose(t.target[i], e3nn_peaks(d[i], lmax), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t.displacements, d)


def test_signal_peaks_at_displacement():
    """The encoded signal is largest in the direction of the displacement (the tutorial's reading)."""
    rng = np.random.default_rng(1)
    start = sc.Structure(rng.normal(size=(5, 3)))
    d = rng.normal(size=(5, 3))
    t = sc.Task.displacement(start, sc.Structure(start.positions + d), encoding="signal", signal_lmax=5)
    grid = rng.normal(size=(4000, 3))
    grid /= np.linalg.norm(grid, axis=1, keepdims=True)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        Y = o3.spherical_harmonics(o3.Irreps(t.irreps), torch.as_tensor(grid), normalize=True).numpy()
    finally:
        torch.set_default_dtype(old)
    for i in range(5):
        values = Y @ t.target[i]
        u = d[i] / np.linalg.norm(d[i])
        assert grid[np.argmax(values)] @ u > 0.95


def test_zero_displacement_gives_zero_signal_row():
    start = sc.Structure([[0.0, 0.0, -1.16], [0.0, 0.0, 0.0], [0.0, 0.0, 1.16]], ["O", "C", "O"])
    end = sc.Structure([[0.0, 0.0, -1.3], [0.0, 0.0, 0.0], [0.0, 0.0, 1.3]], ["O", "C", "O"])
    t = sc.Task.displacement(start, end, encoding="signal", signal_lmax=4)
    np.testing.assert_array_equal(t.target[1], 0.0)  # the carbon does not move
    assert np.all(np.isfinite(t.target))
    assert np.linalg.norm(t.target[0]) > 0 and np.linalg.norm(t.target[2]) > 0
    still = sc.Task.displacement(start, start, encoding="signal", signal_lmax=3)
    np.testing.assert_array_equal(still.target, 0.0)
    assert still.mean_square == 0.0


def test_signal_encoding_restores_torch_dtype(square, rectangle):
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        t = sc.Task.displacement(square, rectangle, encoding="signal", signal_lmax=3)
        assert torch.get_default_dtype() == torch.float32
    finally:
        torch.set_default_dtype(before)
    # computed in float64 regardless of the caller's default dtype
    d = rectangle.positions - square.positions
    np.testing.assert_allclose(t.target[0], e3nn_peaks(d[0], 3), rtol=1e-12, atol=1e-14)


def test_signal_is_equivariant(square, rectangle):
    """Rotating start and end rotates each signal row by D(R) (parity (−1)^l: improper R too)."""
    from scipy.stats import ortho_group

    from symcheck.fixed import wigner_D

    R = ortho_group.rvs(3, random_state=7)
    if np.linalg.det(R) > 0:
        R = -R  # improper
    t = sc.Task.displacement(square, rectangle, encoding="signal", signal_lmax=4)
    tr = sc.Task.displacement(square.transformed(R), rectangle.transformed(R), encoding="signal", signal_lmax=4)
    np.testing.assert_allclose(tr.target, t.target @ wigner_D(t.irreps, R).T, atol=1e-10)


def test_tutorial_mean_square(square, rectangle):
    """Task 2's signal: mean square 7.0702e-4 / (7/12), the floor being 7/12 of it (test_predict)."""
    t = sc.Task.displacement(square, rectangle, encoding="signal", signal_lmax=5)
    assert t.mean_square == pytest.approx(7.0702e-4 * 12 / 7, rel=1e-4)


def test_from_files_notes_the_frame(tmp_path, square, rectangle):
    import ase.io
    from ase import Atoms

    path = tmp_path / "frames.xyz"
    ase.io.write(path, [Atoms(square.species, positions=square.positions * s) for s in (1.0, 2.0)])
    end = tmp_path / "end.xyz"
    ase.io.write(end, Atoms(rectangle.species, positions=rectangle.positions))
    task = sc.Task.from_files(path, end)
    assert len(task.notes) == 1 and "2 frames" in task.notes[0] and "frame 1" in task.notes[0]
    assert np.allclose(task.structure.positions, square.positions * 2.0)
    first = sc.Task.from_files(path, end, frame=0)
    assert np.allclose(first.structure.positions, square.positions) and "frame 0" in first.notes[0]
    assert sc.Task.from_files(end, end).notes == ()
    with pytest.raises(SymcheckError, match="one frame each"):
        sc.Task.from_files(end, end, frame=0)
    with pytest.raises(SymcheckError, match="frame 5"):
        sc.Task.from_files(path, end, frame=5)


def test_from_files_parses_a_cif_once(tmp_path, monkeypatch):
    """A CIF goes through ASE's parser once per file (it was parsed a second time to count its frames)."""
    import ase.io
    from ase.build import bulk

    start, end = tmp_path / "start.cif", tmp_path / "end.cif"
    si = bulk("Si", "diamond", a=5.43, cubic=True)
    ase.io.write(start, si)
    moved = si.copy()
    moved.positions[0, 2] += 0.1
    ase.io.write(end, moved)
    calls = []
    real = ase.io.read
    monkeypatch.setattr(ase.io, "read", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    task = sc.Task.from_files(start, end, encoding="vector")
    assert sorted(map(str, calls)) == sorted([str(start), str(end)])
    assert task.notes == () and np.allclose(task.displacements[0], [0, 0, 0.1], atol=1e-6)
