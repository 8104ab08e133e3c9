"""Tests for symcheck.plots: every figure writes a real PNG, peaks decode, no interactive backend."""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from e3nn import o3
from e3nn.io import SphericalTensor

from symcheck import plots
from symcheck.polynomials import vector_from_polynomial

LMAX = 5
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _square_and_rectangle() -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's square (side 1 Å) and rectangle (0.5 x 1.5 Å), both centred, (4, 3) each."""
    square = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    square -= square.mean(axis=0)
    rectangle = square * np.array([0.5, 1.5, 0.0])
    return square, rectangle - rectangle.mean(axis=0)


def _encode(displacements: np.ndarray) -> np.ndarray:
    """One ``SphericalTensor(LMAX, 1, -1).with_peaks_at`` signal per displacement, (N, 36)."""
    st = SphericalTensor(LMAX, 1, -1)
    rows = [st.with_peaks_at(torch.tensor(d[None, :], dtype=torch.float64)) for d in displacements]
    return torch.stack(rows).numpy()


def _check_png(path: Path, returned: Path, min_bytes: int = 10_000) -> tuple[int, int]:
    """Assert path is the returned path and a plausible PNG; return its (width, height) in pixels."""
    assert Path(returned) == path
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) >= min_bytes
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert 300 <= width <= 3000 and 300 <= height <= 2000
    return width, height


def _rotation(seed: int) -> np.ndarray:
    """A reproducible random rotation matrix (3, 3)."""
    torch.manual_seed(seed)
    return o3.rand_matrix(dtype=torch.float64).numpy()


_INTERACTIVE = ("matplotlib.pyplot", "tkinter", "PyQt5", "PyQt6", "PySide2", "PySide6", "wx", "gi")


def _interactive_modules(names: set[str]) -> list[str]:
    """The GUI toolkits, pyplot and non-Agg matplotlib backends among module names."""
    backends = {m for m in names if m.startswith("matplotlib.backends.backend_")}
    return sorted((backends - {"matplotlib.backends.backend_agg"}) | {m for m in _INTERACTIVE if m in names})


def test_task_figure(tmp_path: Path) -> None:
    square, rectangle = _square_and_rectangle()
    path = tmp_path / "task.png"
    out = plots.task_figure(
        [
            (rectangle, square, "Task 1: Rectangle to Square", None),
            (square, rectangle, "Task 2: Square to Rectangle", None),
            (square, rectangle, "Task 3: Square to Rectangle with Symmetry Breaking", "$\u2b2e$"),
        ],
        path,
    )
    width, height = _check_png(path, out)
    assert width > 2 * height  # three panels side by side


def test_task_figure_rejects_mismatched_shapes(tmp_path: Path) -> None:
    square, _ = _square_and_rectangle()
    with pytest.raises(ValueError):
        plots.task_figure([(square, square[:3], "bad", None)], tmp_path / "bad.png")


def test_loss_curves(tmp_path: Path) -> None:
    steps = np.arange(200)
    path = tmp_path / "sub" / "loss.png"  # missing folders are created
    out = plots.loss_curves(
        [
            ("Task 1", 1e-2 * np.exp(-steps / 30.0), 0.0),
            ("Task 2", 7.0702e-4 + 1e-2 * np.exp(-steps / 20.0), 7.0702e-4),
            ("Task 3", np.concatenate([[0.0], 1e-2 * np.exp(-steps[1:] / 40.0)]), None),  # a zero is skipped
        ],
        path,
    )
    _check_png(path, out)


@pytest.mark.parametrize("seed", range(4))
def test_peak_directions_decode_with_peaks_at(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(5, 3)) * rng.uniform(0.2, 2.0, size=(5, 1))
    directions, values = plots.peak_directions(_encode(d), LMAX)
    want = d / np.linalg.norm(d, axis=1, keepdims=True)
    angles = np.degrees(np.arccos(np.clip(np.sum(directions * want, axis=1), -1.0, 1.0)))
    assert angles.max() < 2.0
    np.testing.assert_allclose(values, np.linalg.norm(d, axis=1), rtol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(directions, axis=1), 1.0, atol=1e-12)


def test_peak_directions_tutorial_square() -> None:
    square, rectangle = _square_and_rectangle()
    d = rectangle - square
    directions, values = plots.peak_directions(_encode(d), LMAX)
    np.testing.assert_allclose(values[:, None] * directions, d, atol=1e-5)


def test_peak_directions_rotate_with_the_signal() -> None:
    rng = np.random.default_rng(7)
    signals = rng.normal(size=(3, (LMAX + 1) ** 2))
    rot = _rotation(3)
    dmat = SphericalTensor(LMAX, 1, -1).D_from_matrix(torch.from_numpy(rot)).numpy()
    u, f = plots.peak_directions(signals, LMAX)
    ru, rf = plots.peak_directions(signals @ dmat.T, LMAX)
    np.testing.assert_allclose(rf, f, rtol=1e-6)
    angles = np.degrees(np.arccos(np.clip(np.sum(ru * (u @ rot.T), axis=1), -1.0, 1.0)))
    assert angles.max() < 0.5


def test_signal_values_match_e3nn_signal_xyz() -> None:
    rng = np.random.default_rng(1)
    signals = rng.normal(size=(2, (LMAX + 1) ** 2))
    u = rng.normal(size=(7, 3))
    want = SphericalTensor(LMAX, 1, -1).signal_xyz(torch.from_numpy(signals), torch.from_numpy(u)).numpy()
    np.testing.assert_allclose(plots.signal_values(signals, LMAX, u), want, rtol=1e-10, atol=1e-12)


def test_signals_figure(tmp_path: Path) -> None:
    square, rectangle = _square_and_rectangle()
    d = rectangle - square
    path = tmp_path / "signals.png"
    before = set(sys.modules)
    out = plots.signals_figure(square, _encode(d), LMAX, path, title="Task 3", end_positions=rectangle, displacements=d)
    _check_png(path, out)
    assert _interactive_modules(set(sys.modules) - before) == []


def test_signals_figure_rejects_wrong_lmax(tmp_path: Path) -> None:
    square, rectangle = _square_and_rectangle()
    with pytest.raises(ValueError):
        plots.signals_figure(square, _encode(rectangle - square), 4, tmp_path / "bad.png")


def test_equivariance_figure(tmp_path: Path) -> None:
    square, rectangle = _square_and_rectangle()
    signals = _encode(square - rectangle)
    rot = _rotation(0)
    dmat = SphericalTensor(LMAX, 1, -1).D_from_matrix(torch.from_numpy(rot)).numpy()
    path = tmp_path / "equivariance.png"
    before = set(sys.modules)
    out = plots.equivariance_figure(rectangle, signals, rectangle @ rot.T, signals @ dmat.T, LMAX, path)
    width, height = _check_png(path, out)
    assert width > 1.5 * height  # two panels side by side
    assert _interactive_modules(set(sys.modules) - before) == []


def test_feature_figure(tmp_path: Path) -> None:
    v = vector_from_polynomial("x**2 - y**2", 2)
    path = tmp_path / "feature.png"
    before = set(sys.modules)
    _check_png(path, plots.feature_figure(v, 2, path, title="x² − y²"))
    assert _interactive_modules(set(sys.modules) - before) == []
    bare = tmp_path / "bare.png"
    _check_png(bare, plots.feature_figure(v, 2, bare, offset=0.0, amplitude=1.0))
    with pytest.raises(ValueError):
        plots.feature_figure(v, 1, tmp_path / "bad.png")


def test_feature_default_is_the_tutorials_ellipsoid() -> None:
    """1·Y00 − 0.1·(x² − y²) is longest along y, shortest along x, in between along z (cell 20)."""
    v = vector_from_polynomial("x**2 - y**2", 2)
    signal = np.zeros(9)
    signal[0] = 1.0
    signal[4:] = -0.1 * v / np.linalg.norm(v)
    fx, fy, fz = plots.signal_values(signal, 2, np.eye(3))[0]
    assert fy > fz > fx > 0
    assert math.isclose(fz, 1.0 / math.sqrt(4.0 * math.pi), rel_tol=1e-9)


def test_light_import_and_no_interactive_backend_in_a_fresh_process(tmp_path: Path) -> None:
    """import symcheck(.plots) loads no matplotlib; 2D figures load no GUI backend even if one is the default."""
    script = f"""
import sys
import symcheck
assert "matplotlib" not in sys.modules, "import symcheck loaded matplotlib"
import symcheck.plots as plots
assert "matplotlib" not in sys.modules, "import symcheck.plots loaded matplotlib"
import numpy as np
pts = np.array([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]])
plots.task_figure([(pts, pts * 1.2, "t", None)], {str(tmp_path / "a.png")!r})
plots.loss_curves([("a", np.linspace(1, 0.1, 10), 0.05)], {str(tmp_path / "b.png")!r})
assert "torch" not in sys.modules, "2D figures loaded torch"
names = set(sys.modules)
backends = {{m for m in names if m.startswith("matplotlib.backends.backend_")}}
bad = sorted((backends - {{"matplotlib.backends.backend_agg"}}) | {{m for m in {_INTERACTIVE!r} if m in names}})
assert not bad, bad
"""
    env = {**os.environ, "MPLBACKEND": "TkAgg"}  # an interactive default that must not be loaded
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "a.png").read_bytes()[:8] == PNG_SIGNATURE
