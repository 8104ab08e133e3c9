"""symcheck.o3 (numpy) against e3nn, the source of truth: every function to 1e-12 in float64.

Seeded and CPU-only; e3nn is imported here (as the reference), never by symcheck.o3 itself.
"""

from __future__ import annotations

import subprocess
import sys
from functools import cache

import numpy as np
import pytest
import torch
from e3nn import o3 as e3o3
from e3nn.io import SphericalTensor

from symcheck import SymcheckError, fixed, o3
from symcheck.task import peak_signal, signal_irreps

TOL = 1e-12
LS = range(9)  # l = 0 … 8, as the issue asks


@pytest.fixture(autouse=True)
def _float64_one_thread():
    """Compare in float64 (e3nn builds its matrices in torch's default dtype), with one torch thread.

    e3nn's Wigner matrices are matrix exponentials of tiny matrices: on a loaded 2-core machine
    waking torch's thread pool made them ~100× slower (0.85 s vs 0.01 s for l = 8).
    """
    old_dtype, old_threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(old_dtype)
    torch.set_num_threads(old_threads)


def _rotations(n: int, seed: int, improper: bool) -> np.ndarray:
    """n random orthogonal matrices (QR of Gaussians); every other one improper when asked."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]  # Haar measure
    q *= np.sign(np.linalg.det(q))[:, None, None]  # proper
    if improper:
        q[::2] *= -1
    return q


def _vectors(n: int, seed: int) -> np.ndarray:
    """Random vectors of mixed lengths, with the special ones: zero, the axes, a tiny one."""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, 3)) * rng.uniform(0.01, 10.0, size=(n, 1))
    special = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, -2, 0], [1e-9, 0, 0]], float)
    return np.vstack([special, v])


@pytest.mark.parametrize("normalization", ["integral", "component", "norm"])
@pytest.mark.parametrize("l", LS)
def test_spherical_harmonics_equal_e3nn(l, normalization):
    x = _vectors(200, seed=l)
    ours = o3.spherical_harmonics(l, x, normalize=True, normalization=normalization)
    ref = e3o3.spherical_harmonics(l, torch.as_tensor(x), normalize=True, normalization=normalization).numpy()
    assert ours.shape == ref.shape == (len(x), 2 * l + 1)
    assert np.abs(ours - ref).max() <= TOL


def test_spherical_harmonics_defaults_lists_shapes_and_up_to_12():
    x = _vectors(50, seed=1).reshape(2, -1, 3)  # a batch shape, as e3nn allows
    xt = torch.as_tensor(x)
    for l in (9, 10, 11, 12):  # beyond the l ≤ 8: e3nn's own maximum
        assert np.abs(o3.spherical_harmonics(l, x) - e3o3.spherical_harmonics(l, xt, True).numpy()).max() <= TOL
    ls = [3, 0, 2]
    assert np.abs(o3.spherical_harmonics(ls, x) - e3o3.spherical_harmonics(ls, xt, True).numpy()).max() <= TOL
    # normalize=False: e3nn's homogeneous polynomials, relative to their size
    raw = o3.spherical_harmonics(4, x, normalize=False, normalization="component")
    ref = e3o3.spherical_harmonics(4, xt, normalize=False, normalization="component").numpy()
    assert np.abs(raw - ref).max() <= TOL * np.abs(ref).max()
    with pytest.raises(ValueError):
        o3.spherical_harmonics(13, x)


def test_spherical_harmonics_conventions():
    """y is the polar axis; l = 2 carries x² − y² in components 6 and 8 (DESIGN.md)."""
    y_axis = o3.spherical_harmonics(2, [0.0, 1.0, 0.0], normalization="component")
    assert np.allclose(y_axis, [0, 0, np.sqrt(5), 0, 0])
    v = o3.spherical_harmonics(2, [1.0, 0, 0], False) - o3.spherical_harmonics(2, [0.0, 1, 0], False)
    assert np.flatnonzero(np.abs(v) > 1e-12).tolist() == [2, 4]  # m = 0 and m = 2: indices 6, 8 of 0e+1o+2e


#: Fixed rotations, half of them improper; e3nn's D for them is computed once per l (its
#: generator-based construction costs ~0.1–1 s a call, which would dominate these tests).
ROTATIONS = _rotations(16, seed=11, improper=True)


@cache
def _e3nn_D(l: int) -> np.ndarray:
    """e3nn's D_l of det·R for ROTATIONS, via its Euler angles: (16, 2l+1, 2l+1)."""
    Rt = torch.as_tensor(ROTATIONS)
    proper = Rt * torch.det(Rt).sign()[:, None, None]
    return e3o3.wigner_D(l, *e3o3.matrix_to_angles(proper)).numpy()


def _e3nn_irreps_D(irreps: str) -> np.ndarray:
    """e3nn's Irreps(irreps).D_from_matrix(ROTATIONS), from the cached blocks (its own definition)."""
    det = np.sign(np.linalg.det(ROTATIONS))
    blocks = [np.where(det < 0, p, 1.0)[:, None, None] * _e3nn_D(l)
              for mul, (l, p) in e3o3.Irreps(irreps) for _ in range(mul)]
    dim = sum(b.shape[-1] for b in blocks)
    out = np.zeros((len(ROTATIONS), dim, dim))
    k = 0
    for b in blocks:
        out[:, k:k + b.shape[-1], k:k + b.shape[-1]] = b
        k += b.shape[-1]
    return out


@pytest.mark.parametrize("l", LS)
def test_wigner_D_equals_e3nn(l):
    assert np.abs(o3.wigner_D(l, ROTATIONS) - _e3nn_D(l)).max() <= TOL


def test_D_from_matrix_directly():
    """e3nn's Irreps.D_from_matrix itself (improper R included), once, for a mixed string."""
    irreps = "2x0e+1o+2e+3o"
    ref = e3o3.Irreps(irreps).D_from_matrix(torch.as_tensor(ROTATIONS)).numpy()
    assert np.abs(o3.irreps_D(irreps, ROTATIONS) - ref).max() <= TOL
    assert np.abs(_e3nn_irreps_D(irreps) - ref).max() <= TOL
    ref3 = e3o3.Irreps("3e").D_from_matrix(torch.as_tensor(ROTATIONS)).numpy()
    assert np.abs(o3.wigner_D(3, ROTATIONS) - ref3).max() <= TOL


@pytest.mark.parametrize("l", LS)
def test_wigner_D_is_a_representation(l):
    """D(R1 R2) = D(R1) D(R2), D(R)ᵀ D(R) = 1 and Y(R x) = D(R) Y(x), to rounding."""
    R1, R2 = _rotations(10, seed=7, improper=False), _rotations(10, seed=8, improper=False)
    D1, D2 = o3.wigner_D(l, R1), o3.wigner_D(l, R2)
    assert np.abs(o3.wigner_D(l, R1 @ R2) - D1 @ D2).max() <= TOL
    assert np.abs(D1 @ np.swapaxes(D1, 1, 2) - np.eye(2 * l + 1)).max() <= TOL
    x = _vectors(5, seed=9)[1:]
    lhs = o3.spherical_harmonics(l, np.einsum("kij,sj->ksi", R1, x))
    rhs = np.einsum("kmn,sn->ksm", D1, o3.spherical_harmonics(l, x))
    assert np.abs(lhs - rhs).max() <= TOL
    assert np.abs(o3.wigner_D(l, np.eye(3)) - np.eye(2 * l + 1)).max() <= TOL


@pytest.mark.parametrize("irreps", ["2x0e+1o+2e+3o", "0e", "1o", "3x1e+0o", "4e+2x5o+6e+7o+8e", signal_irreps(5)])
def test_irreps_D_equals_e3nn_and_reps(irreps):
    R = ROTATIONS.reshape(4, 4, 3, 3)  # a batch shape
    ours = o3.irreps_D(irreps, R)
    assert ours.shape[:2] == (4, 4)
    assert np.abs(ours.reshape(16, *ours.shape[2:]) - _e3nn_irreps_D(irreps)).max() <= TOL
    assert np.abs(ours - fixed.wigner_D(irreps, R)).max() <= TOL
    # a homomorphism on O(3), parity included
    A, B = ROTATIONS[0], ROTATIONS[1]
    assert np.abs(o3.irreps_D(irreps, A @ B) - o3.irreps_D(irreps, A) @ o3.irreps_D(irreps, B)).max() <= TOL
    # inversion: ±1 per irrep's parity
    inv = o3.irreps_D(irreps, -np.eye(3))
    parities = np.concatenate([[ir.p] * mul * ir.dim for mul, ir in e3o3.Irreps(irreps)])
    assert np.allclose(inv, np.diag(parities), atol=TOL)


@pytest.mark.parametrize("text", ["0e", "1o", "2x0e+1o", " 3x1e + 0o ", "1y+2y", "0e+1o+2e+3o+4e+5o", "10x2e+12o", ""])
def test_irreps_object_matches_e3nn(text):
    """o3.Irreps has e3nn's terms, dim, slices, lmax, ls and string, and its string reads back."""
    ours, ref = o3.Irreps(text), e3o3.Irreps(text)
    assert [(mul, (l, p)) for mul, (l, p) in ours] == [(mul, (ir.l, ir.p)) for mul, ir in ref]
    assert [(t.mul, t.ir.l, t.ir.p, t.dim, t.ir.dim) for t in ours] == [(t.mul, t.ir.l, t.ir.p, t.dim, t.ir.dim)
                                                                        for t in ref]
    assert (ours.dim, ours.num_irreps, ours.ls, ours.slices()) == (ref.dim, ref.num_irreps, ref.ls, ref.slices())
    assert str(ours) == str(ref)
    assert o3.Irreps(str(ours)) == ours and o3.Irreps(ours) is ours and ours == text
    if ref:
        assert ours.lmax == ref.lmax
        R = ROTATIONS[:3]
        assert np.abs(ours.D_from_matrix(R) - ref.D_from_matrix(torch.as_tensor(R)).numpy()).max() <= TOL
    else:
        with pytest.raises(ValueError):
            _ = ours.lmax


def test_irreps_object_operations_and_errors():
    a = o3.Irreps("2x0e+1o")
    assert a + "2e" == o3.Irreps("2x0e+1o+2e") and "2e" + a == o3.Irreps("2e+2x0e+1o")
    assert a[1:] == o3.Irreps("1o") and a[0] == (2, (0, 1)) and a != "1o" and a != None  # noqa: E711
    assert o3.Irreps([(1, (2, -1)), (3, o3.Irrep(0, 1))]) == "2o+3x0e"
    assert {a: 1}[o3.Irreps("2x0e+1x1o")] == 1
    with pytest.raises(SymcheckError, match=r"unknown irreps string '1z': cannot read '1z' \(expected e.g. 2x1o\)"):
        o3.Irreps("1z")
    with pytest.raises(SymcheckError, match=r"unknown irreps string 'ax1o': bad multiplicity in 'a'"):
        o3.Irreps("ax1o")


def test_irreps_D_single_matrix_and_empty():
    R = _rotations(1, seed=3, improper=True)[0]
    assert o3.irreps_D("1o+2e", R).shape == (8, 8)
    assert o3.irreps_D("", np.eye(3)).shape == (0, 0)


@pytest.mark.parametrize("lmax", range(1, 9))
def test_signal_with_peaks_at_equals_e3nn(lmax):
    d = _vectors(20, seed=20 + lmax)
    ours = o3.signal_with_peaks_at(d, lmax)
    # e3nn itself, row by row (Task.displacement's peak_signal may come to use this module)
    st = SphericalTensor(lmax, 1, -1)
    ref = np.stack([st.with_peaks_at(torch.as_tensor(d[i:i + 1])).numpy() if d[i].any() else np.zeros(st.dim)
                    for i in range(len(d))])
    assert np.abs(ours - ref).max() <= TOL
    assert np.abs(ours - peak_signal(d, lmax)).max() <= TOL  # what Task.displacement uses
    assert not ours[0].any()  # a zero displacement: a zero signal
    # the peak: the signal's value in the direction of d is ‖d‖
    for i in (1, 7):
        value = ours[i] @ o3.spherical_harmonics(list(range(lmax + 1)), d[i])
        assert abs(value - np.linalg.norm(d[i])) <= TOL * max(1.0, np.linalg.norm(d[i]))


def test_with_peaks_at_several_peaks_equals_e3nn():
    rng = np.random.default_rng(5)
    v = rng.normal(size=(4, 3))
    for lmax in (3, 5, 8):
        ref = SphericalTensor(lmax, 1, -1).with_peaks_at(torch.as_tensor(v)).numpy()
        assert np.abs(o3.with_peaks_at(v, lmax) - ref).max() <= TOL
    vals = np.array([1.5, -2.0, 0.0, 0.5])
    ref = SphericalTensor(5, 1, -1).with_peaks_at(torch.as_tensor(v), torch.as_tensor(vals)).numpy()
    assert np.abs(o3.with_peaks_at(v, 5, vals) - ref).max() <= TOL


def test_import_does_not_load_torch_or_e3nn():
    code = "import symcheck.o3, sys; assert 'torch' not in sys.modules and 'e3nn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
