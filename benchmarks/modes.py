"""Symmetry-mode decomposition: symcheck.modes side by side with CrystOD, and timings.

    python benchmarks/modes.py            # comparison with CrystOD (skipped if not installed) + timings
    python benchmarks/modes.py --no-crystod

Cases: Glazer tilt systems of SrTiO3 (Howard & Stokes 1998, Ti at the origin; tests/glazer.py),
Pnma with the A-site shifts Pnma allows, BaTiO3 Pm-3m → P4mm (with c/a = 1.01), Amm2, R3m, and two
displacement waves of the Sr sites at k-points on lines of the zone (Δ in a 3×3×3, Σ in a 4×4×4 supercell),
whose labels (DT5, SM2) come from ISO-IR's line irreps.
Both programs read the same files: the 5-atom cubic parent and the distorted child.

Amplitudes: symcheck sums over the child file's cell (the supercell); CrystOD (like AMPLIMODES)
over the child's primitive cell. For the comparison symcheck's amplitude is divided by
sqrt(cells), cells = atoms in the child file / atoms in the child's primitive cell.

Timings: the 2×2×2 (40 atoms) decomposition, goal ≤ 2 s; a 4×4×4 (320 atoms) with every
atom displaced at random (P1: all 64 k-points, 65 irreps, all nonzero), goal ≤ 15 s. Times are
wall-clock per call in one process after a first warm-up call (imports excluded) and the first
(cold) call separately.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# One BLAS thread unless told otherwise: on a loaded machine (this one: 2 cores, load ~9) OpenBLAS's
# threads fight and a 48×960×64 product takes 0.1 s instead of 1 ms. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from glazer import A, cubic, glazer  # noqa: E402

import symcheck as sc  # noqa: E402
from symcheck.distortion import modes, parent_group, stabilizer_mask  # noqa: E402
from symcheck.distortion.cells import supercell as _supercell  # noqa: E402

TOL = 1e-3


def primitive_cubic(a: float = A, species=("Ti", "Sr", "O", "O", "O")) -> sc.Structure:
    frac = np.array([[0, 0, 0], [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]])
    return sc.Structure(frac * a, list(species), cell=np.eye(3) * a, pbc=[True] * 3)


def pnma_with_a_site() -> sc.Structure:
    """a+b-b- plus the Sr displacements Pnma allows (a random Sr field averaged over the child's group)."""
    group = parent_group(cubic(), TOL)
    child = glazer("a+b-b-")
    u = child.positions - cubic().positions
    H = stabilizer_mask(group, group.images(u), u, 1e-9)
    v = np.zeros_like(u)
    sr = np.array(child.species) == "Sr"
    v[sr] = np.random.default_rng(0).normal(size=(sr.sum(), 3))
    v = group.images(v)[H].mean(axis=0)
    v *= 0.03 / np.linalg.norm(v, axis=1).max()
    return sc.Structure(child.positions + v, child.species, cell=child.cell, pbc=[True] * 3)


def batio3(polar, c_over_a=1.0, ti=0.12, o=-0.05, a=4.0) -> sc.Structure:
    frac = np.array([[0, 0, 0], [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]], dtype=float)
    n = np.array(polar, dtype=float)
    n = n / np.linalg.norm(n) if n.any() else n
    u = np.zeros((5, 3))
    u[0] = ti * n
    for j in range(3):
        u[2 + j] = o * n + 0.3 * o * n[j] * np.eye(3)[j]
    cell = np.diag([a, a, a * c_over_a])
    return sc.Structure(frac @ cell + u, ["Ti", "Ba", "O", "O", "O"], cell=cell, pbc=[True] * 3)


def line_wave(n: int, k, e, species: str = "Sr", amp: float = 0.05) -> sc.Structure:
    """An n×n×n SrTiO3 supercell with one site's displacement wave amp·e·cos(2π k·x) (x in cubic cells): a
    mode at a k on a line of the Brillouin zone (Δ, Σ), named from ISO-IR's line irreps."""
    m = 5 * n**3
    parent = _supercell(primitive_cubic(), sc.Structure(np.zeros((m, 3)), ["Ti"] * m, cell=np.eye(3) * n * A,
                                                        pbc=[True] * 3), TOL)
    x = parent.positions / A
    u = np.zeros_like(x)
    on = np.array(parent.species) == species
    u[on] = amp * np.cos(2 * np.pi * x[on] @ np.asarray(k, dtype=float))[:, None] * np.asarray(e, dtype=float)
    return sc.Structure(parent.positions + u, parent.species, cell=parent.cell, pbc=[True] * 3)


def cases():
    out = [(f"SrTiO3 {s}", primitive_cubic(), glazer(s)) for s in ("a0a0c-", "a0a0c+", "a-a-a-", "a+a+a+", "a0b-b-",
                                                                     "a+b-b-", "a-b-c-")]
    out.append(("SrTiO3 a+b-b- + Sr shifts", primitive_cubic(), pnma_with_a_site()))
    bto = primitive_cubic(4.0, ("Ti", "Ba", "O", "O", "O"))
    out += [("BaTiO3 P4mm c/a=1.01", bto, batio3((0, 0, 1), 1.01)), ("BaTiO3 Amm2", bto, batio3((1, 1, 0))),
            ("BaTiO3 R3m", bto, batio3((1, 1, 1)))]
    out += [("SrTiO3 3×3×3, Sr wave k=(0,0,1/3) ⟂ (Δ)", primitive_cubic(), line_wave(3, (0, 0, 1 / 3), (1, 0, 0))),
            ("SrTiO3 4×4×4, Sr wave k=(1/4,1/4,0) ∥ [1-10] (Σ)", primitive_cubic(),
             line_wave(4, (0.25, 0.25, 0), (1, -1, 0)))]
    return out


def n_cells(child: sc.Structure) -> int:
    import spglib

    lattice, _, _ = spglib.find_primitive((child.cell, child.positions @ np.linalg.inv(child.cell),
                                           [hash(s) % 1000 for s in child.species]), symprec=TOL)
    return int(round(abs(np.linalg.det(child.cell) / np.linalg.det(lattice))))


def crystod_modes(parent_file: Path, child_file: Path):
    from crystod.symmetry_mode import SymmetryModeAnalysis

    t = time.perf_counter()
    analysis = SymmetryModeAnalysis(str(parent_file), str(child_file), TOL)
    out = {}
    for m in analysis.modes:
        label = m.label_info()[0] if m.amplitude > 1e-6 else ""
        out[m.irrep_name] = (m.amplitude, label)
    return out, time.perf_counter() - t


def compare(use_crystod: bool) -> None:
    have = use_crystod
    if have:
        try:
            import crystod  # noqa: F401
        except ImportError:
            print("CrystOD not installed (pip install crystod): comparison skipped")
            have = False
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        modes(primitive_cubic(), glazer("a0a0c-"), tol=TOL)  # warm-up: imports
        for name, parent, child in cases():
            pf, cf = tmp / "parent.cif", tmp / "child.cif"
            for f in (pf, cf):
                f.unlink(missing_ok=True)
            sc.write(pf, parent)
            sc.write(cf, child)
            t = time.perf_counter()
            ours = modes(sc.read(pf), sc.read(cf), tol=TOL)
            t_ours = time.perf_counter() - t
            scale = np.sqrt(n_cells(child))
            mine = {m.irrep: (m.amplitude / scale, m.direction_label or f"({m.direction_parameters} param.)",
                              m.primary) for m in ours.modes}
            theirs, t_theirs = crystod_modes(pf, cf) if have else ({}, float("nan"))
            theirs = {k: v for k, v in theirs.items() if v[0] > 1e-5}
            same = set(mine) == set(theirs) if have else None
            diff = max((abs(mine[k][0] - theirs[k][0]) for k in mine if k in theirs), default=float("nan"))
            rows.append((name, ours.child_space_group, mine, theirs, same, diff, t_ours, t_theirs))
    print("| case | child | symcheck: irrep amplitude (Å, per child primitive cell) direction | CrystOD | same irreps |"
          " max |ΔA| (Å) | symcheck s | CrystOD s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, child, mine, theirs, same, diff, t1, t2 in rows:
        a = ", ".join(f"{k}{'*' if p else ''} {v:.4f} {d}" for k, (v, d, p) in mine.items())
        b = ", ".join(f"{k} {v:.4f} {d}" for k, (v, d) in theirs.items()) if theirs else "–"
        print(f"| {name} | {child} | {a} | {b} | {same} | {diff:.1e} | {t1:.2f} | {t2:.2f} |")
    print("(* primary)")


def timings() -> None:
    t = time.perf_counter()
    modes(cubic(), glazer("a+b-b-"), tol=TOL)
    print(f"40-atom 2×2×2 (a+b-b-), first call in this process (after the comparison's imports): "
          f"{time.perf_counter() - t:.2f} s")
    times, cpu = [], []
    for _ in range(3):
        t, c = time.perf_counter(), time.process_time()
        modes(cubic(), glazer("a+b-b-"), tol=TOL)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    print(f"40-atom 2×2×2 (a+b-b-): best of 3 {min(times):.2f} s wall, {min(cpu):.2f} s CPU (goal ≤ 2 s)")
    prim = primitive_cubic()
    big_parent = _supercell(prim, sc.Structure(np.zeros((320, 3)), ["Ti"] * 320,
                                                                     cell=np.eye(3) * 4 * A, pbc=[True] * 3), TOL)
    rng = np.random.default_rng(1)
    child = sc.Structure(big_parent.positions + rng.normal(scale=0.01, size=(320, 3)), big_parent.species,
                         cell=big_parent.cell, pbc=[True] * 3)
    t, c = time.perf_counter(), time.process_time()
    r = modes(big_parent, child, tol=TOL)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    print(f"320-atom 4×4×4, every atom displaced at random (P1): {dt:.2f} s wall, {dc:.2f} s CPU (goal ≤ 15 s); "
          f"{len(r.modes)} modes, residual {r.residual:.1e} Å, child {r.child_space_group}")
    tiled = _supercell(glazer("a+b-b-"), child, TOL)
    t, c = time.perf_counter(), time.process_time()
    r = modes(big_parent, tiled, tol=TOL)
    print(f"320-atom 4×4×4, a+b-b- repeated 2×2×2: {time.perf_counter() - t:.2f} s wall, "
          f"{time.process_time() - c:.2f} s CPU; "
          + ", ".join(f"{m.irrep} {m.amplitude:.4f}" for m in r.modes))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-crystod", action="store_true", help="Skip the side-by-side comparison with CrystOD.")
    args = ap.parse_args()
    compare(not args.no_crystod)
    timings()
