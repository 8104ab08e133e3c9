"""Benchmark of ``symcheck scan``: frames per second on molecules and crystals, next to plain loops of
other symmetry finders on the same frames, in the same run, and the scaling from 1 to 2 workers.

* molecules, three cases, each compared with a loop of pymatgen's ``PointGroupAnalyzer`` (tolerance
  0.01 Å, like symcheck's) and of libmsym (``pymsym.get_point_group``) on the already parsed molecules (no
  file reading), so they get the easier task:
  - "G2 as given": ASE's G2 set (162 molecules, ``ase.collections.g2``) repeated ``--repeat`` times, each
    copy a duplicate of the first with other forces (so the duplicate search and its conflicts run too);
    half of G2 are symmetric or spherical tops, linear molecules or atoms, which go through the full search;
  - "G2 rattled 0.01–0.05 Å (MD-like)": the same molecules, each frame rattled by its own amplitude;
  - "one molecule, MD-like": ``--md-frames`` frames of ethanol rattled by 0.01–0.05 Å (a trajectory's frames,
    one size, all asymmetric tops: the batched path's home ground).
  Each frame carries a "forces" field (random, projected onto the frame's group: EMT is not defined for most
  G2 elements) and an energy; the floor is computed all the same. The goal compares CPU time per frame
  (one core each): molecules/s per core at least libmsym's.
* crystals: 64–256-atom EMT cells (Cu, Al, Ni fcc supercells: perfect, with a vacancy, rattled by 0.05 Å),
  forces and stress from EMT; compared with a loop of ``spglib.get_symmetry_dataset`` (symprec 0.01 Å).
* scaling: rattled G2 repeated ``--scaling-repeat`` times with ``workers=1`` and ``workers=2`` (a local process
  pool): wall times, and CPU times of the driver and of the workers, whose ratio
  ``cpu(1 worker) / (driver cpu + workers' cpu / 2)`` is the speedup two free cores would give
  (the wall ratio says little on a machine that other jobs keep busy).

symcheck's numbers include reading the file and computing every label's floor; the others only find the
group. The Wigner-D code is warmed up before timing (scan imports neither torch nor e3nn; a worker
process warms up once).
Optional comparisons are skipped cleanly when the package is missing.

Usage::

    python benchmarks/scan.py            # table
    python benchmarks/scan.py --json     # table, then one JSON line
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def g2_frames(repeat: int, rattle: tuple[float, float] | float = 0.0):
    """G2 molecules — rattled like MD frames when ``rattle`` is given (each frame by its own amplitude drawn
    uniformly from the (low, high) range, Å) — with forces that respect each molecule's group (a random
    field projected onto its fixed space), as real labels do: so the scan does the same work as on a clean
    training set (group, projection), not the stabilizer search of flagged frames."""
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.collections import g2

    import symcheck as sc
    from symcheck.errors import SymcheckError
    from symcheck.fixed import project
    from symcheck.groups import symmetry_group

    low, high = rattle if isinstance(rattle, tuple) else (rattle, rattle)
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(repeat):
        for atoms in g2:
            a = atoms.copy()
            if high:
                a.rattle(rng.uniform(low, high), seed=len(frames))
            f = rng.normal(size=(len(a), 3))
            try:
                f = project(symmetry_group(sc.from_ase(a, features={}), 0.01), "1o", f, True)
            except SymcheckError:  # a frame the search refuses (the scan records it as group "error")
                pass
            a.calc = SinglePointCalculator(a, forces=f, energy=float(rng.normal()))
            frames.append(a)
    return frames


def md_frames(count: int, name: str = "CH3CH2OH"):
    """``count`` frames of one molecule rattled by 0.01–0.05 Å (an MD trajectory's frames), random forces."""
    from ase.build import molecule
    from ase.calculators.singlepoint import SinglePointCalculator

    rng = np.random.default_rng(1)
    base = molecule(name)
    frames = []
    for k in range(count):
        a = base.copy()
        a.rattle(rng.uniform(0.01, 0.05), seed=k)
        a.calc = SinglePointCalculator(a, forces=rng.normal(size=(len(a), 3)), energy=float(rng.normal()))
        frames.append(a)
    return frames


def crystal_frames():
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from ase.calculators.singlepoint import SinglePointCalculator

    frames = []
    for el, a0 in (("Cu", 3.61), ("Al", 4.05), ("Ni", 3.52)):
        for rep in ((2, 2, 4), (3, 3, 3), (4, 4, 4)):  # 64, 108, 256 atoms
            base = bulk(el, "fcc", a=a0, cubic=True).repeat(rep)
            variants = [base.copy()]
            vac = base.copy()
            del vac[0]
            variants.append(vac)
            rat = base.copy()
            rat.rattle(0.05, seed=len(frames))
            variants.append(rat)
            for v in variants:
                v.calc = EMT()
                res = {"energy": v.get_potential_energy(), "forces": v.get_forces(), "stress": v.get_stress()}
                out = v.copy()
                out.calc = SinglePointCalculator(out, **res)
                frames.append(out)
    return frames


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished children (pool workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def timed_scan(path, workers: int, repeats: int = 1):
    """(result, best wall s, its CPU s in this process, its CPU s in worker processes); the default chunk size."""
    import symcheck as sc

    best = None
    for _ in range(repeats):
        c0 = _cpu()
        t = time.perf_counter()
        result = sc.scan(path, workers=workers)
        dt = time.perf_counter() - t
        c1 = _cpu()
        if best is None or dt < best[0]:
            best = (dt, c1[0] - c0[0], c1[1] - c0[1])
    return (result, *best)


def loop(fn, items, repeats: int = 1, clock=time.perf_counter):
    """Best seconds (wall by default; ``clock=time.process_time`` for this process's CPU) for fn over
    items, of ``repeats`` runs."""
    best = None
    for _ in range(repeats):
        t = clock()
        for x in items:
            fn(x)
        dt = clock() - t
        best = dt if best is None else min(best, dt)
    return best


def cpu_loop(fn, items, repeats: int = 1):
    """Best CPU seconds of this process for fn over items, of ``repeats`` runs."""
    return loop(fn, items, repeats, clock=time.process_time)


def molecule_case(path, frames, repeats: int) -> dict:
    """symcheck scan (1 worker: one core) on the file, and plain loops of pymatgen and libmsym on the parsed frames."""
    res, t, c, _ = timed_scan(path, workers=1, repeats=repeats)
    n = len(frames)
    row = {"frames": n, "symcheck_scan_frames_per_s": n / t, "symcheck_scan_ms_per_frame": 1e3 * t / n,
           "symcheck_scan_cpu_ms_per_frame": 1e3 * c / n, "groups": res.groups}
    try:
        import pymsym

        pairs = [(a.numbers.tolist(), a.positions.tolist()) for a in frames]
        dt = loop(lambda x: pymsym.get_point_group(*x), pairs, repeats)
        row["libmsym_frames_per_s"] = n / dt
        row["libmsym_ms_per_frame"] = 1e3 * dt / n
        row["libmsym_cpu_ms_per_frame"] = 1e3 * cpu_loop(lambda x: pymsym.get_point_group(*x), pairs, repeats) / n
    except ImportError:
        row["libmsym"] = "not installed"
    try:
        from pymatgen.core import Molecule
        from pymatgen.symmetry.analyzer import PointGroupAnalyzer

        pm = [Molecule(a.get_chemical_symbols(), a.positions) for a in frames]

        def pga(m):
            return PointGroupAnalyzer(m, tolerance=0.01).sch_symbol

        dt = loop(pga, pm)
        row["pymatgen_frames_per_s"] = n / dt
        row["pymatgen_ms_per_frame"] = 1e3 * dt / n
        row["pymatgen_cpu_ms_per_frame"] = 1e3 * cpu_loop(pga, pm) / n
    except ImportError:
        row["pymatgen"] = "not installed"
    if "libmsym_cpu_ms_per_frame" in row:
        # the goal: molecules per second per core at least libmsym's (CPU time per frame, one core each)
        row["meets_libmsym_per_core"] = row["symcheck_scan_cpu_ms_per_frame"] <= row["libmsym_cpu_ms_per_frame"]
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", action="store_true")
    p.add_argument("--repeat", type=int, default=2, help="copies of G2 in the molecule files")
    p.add_argument("--md-frames", type=int, default=2000, help="frames of the one-molecule MD-like file")
    p.add_argument("--scaling-repeat", type=int, default=24,
                   help="copies of G2 in the 1 -> 2 worker comparison (long enough to hide the pool's start)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per case (the best is kept)")
    args = p.parse_args()

    import ase.io

    import symcheck as sc
    from symcheck.fixed import wigner_D

    wigner_D("1o+2e", np.eye(3))  # warm symcheck.o3 before timing (numpy only: no torch/e3nn)
    out = {"machine": platform.processor() or platform.machine(), "cores": os.cpu_count(),
           "load_average": os.getloadavg()[0], "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        mol_path, cry_path = Path(tmp) / "g2.extxyz", Path(tmp) / "emt.extxyz"
        md_path, traj_path = Path(tmp) / "g2_rattled.extxyz", Path(tmp) / "md.extxyz"
        mols = g2_frames(args.repeat)
        ase.io.write(mol_path, mols)
        rattled = g2_frames(args.repeat, rattle=(0.01, 0.05))
        ase.io.write(md_path, rattled)
        traj = md_frames(args.md_frames)
        ase.io.write(traj_path, traj)
        crys = crystal_frames()
        ase.io.write(cry_path, crys)
        sc.scan(mol_path, workers=1)  # warm-up (caches of the group code)

        out["molecules"] = molecule_case(mol_path, mols, args.repeats)
        out["molecules_rattled"] = molecule_case(md_path, rattled, args.repeats)
        out["md_one_molecule"] = molecule_case(traj_path, traj, args.repeats)

        scale_path = Path(tmp) / "g2_scaling.extxyz"
        ase.io.write(scale_path, g2_frames(args.scaling_repeat, rattle=(0.01, 0.05)))
        s1, w1, cpu1, _ = timed_scan(scale_path, workers=1)
        s2, w2, driver2, workers2 = timed_scan(scale_path, workers=2)
        assert s1.as_dict()["groups"] == s2.as_dict()["groups"]
        # on two free cores the driver's own work (planning, summary) runs alone, the workers' side by side
        out["scaling"] = {"frames": s1.frames, "workers_1_s": w1, "workers_2_s": w2, "speedup": w1 / w2,
                          "workers_1_cpu_s": cpu1, "workers_2_driver_cpu_s": driver2,
                          "workers_2_workers_cpu_s": workers2,
                          "speedup_from_cpu": cpu1 / (driver2 + workers2 / 2)}

        resc, tc, cc, _ = timed_scan(cry_path, workers=1)
        m = len(crys)
        out["crystals"] = {"frames": m, "atoms": sorted({len(a) for a in crys}),
                           "symcheck_scan_frames_per_s": m / tc, "symcheck_scan_ms_per_frame": 1e3 * tc / m,
                           "symcheck_scan_cpu_ms_per_frame": 1e3 * cc / m, "groups": resc.groups}
        try:
            import spglib

            cells = [(a.cell[:], a.get_scaled_positions(), a.numbers) for a in crys]
            dt = loop(lambda c: spglib.get_symmetry_dataset(c, symprec=0.01), cells)
            out["crystals"]["spglib_frames_per_s"] = m / dt
            out["crystals"]["spglib_ms_per_frame"] = 1e3 * dt / m
            out["crystals"]["spglib_cpu_ms_per_frame"] = 1e3 * cpu_loop(
                lambda c: spglib.get_symmetry_dataset(c, symprec=0.01), cells) / m
        except ImportError:
            out["crystals"]["spglib"] = "not installed"

    sc_ = out["scaling"]
    out["load_average_after"] = os.getloadavg()[0]
    print(f"machine: {out['cores']} cores, load average {out['load_average']:.1f} before, "
          f"{out['load_average_after']:.1f} after")
    print(f"{'':40s} {'frames/s':>10s} {'ms/frame':>10s} {'CPU ms/frame':>13s}")
    titles = {"molecules": f"G2 as given (x{args.repeat}; each copy a duplicate with other forces)",
              "molecules_rattled": f"G2 rattled 0.01-0.05 Å, MD-like (x{args.repeat})",
              "md_one_molecule": f"one molecule (ethanol), {args.md_frames} frames rattled 0.01-0.05 Å",
              "crystals": "crystals (EMT, 64-256 atoms)"}
    names = (("symcheck_scan", "symcheck scan (1 worker)"), ("pymatgen", "pymatgen PointGroupAnalyzer"),
             ("libmsym", "libmsym (pymsym)"), ("spglib", "spglib"))
    for key, title in titles.items():
        row = out[key]
        verdict = ""
        if "meets_libmsym_per_core" in row:
            ratio = row["symcheck_scan_cpu_ms_per_frame"] / row["libmsym_cpu_ms_per_frame"]
            verdict = (f"  [goal per core >= libmsym: {'met' if row['meets_libmsym_per_core'] else 'NOT met'}, "
                       f"{ratio:.1f}x libmsym's CPU time]")
        print(title + verdict)
        for k, name in names:
            if f"{k}_frames_per_s" in row:
                ms = row[f"{k}_ms_per_frame"]
                cpu = row.get(f"{k}_cpu_ms_per_frame")
                cpu = f"{cpu:13.3f}" if cpu is not None else ""
                print(f"  {name:38s} {row[f'{k}_frames_per_s']:10.1f} {ms:10.3f} {cpu}")
    print(f"scaling 1 -> 2 workers ({sc_['frames']} rattled G2 frames): {sc_['workers_1_s']:.2f} s -> "
          f"{sc_['workers_2_s']:.2f} s ({sc_['speedup']:.2f}x wall); CPU {sc_['workers_1_cpu_s']:.2f} s -> "
          f"driver {sc_['workers_2_driver_cpu_s']:.2f} s "
          f"+ workers {sc_['workers_2_workers_cpu_s']:.2f} s ({sc_['speedup_from_cpu']:.2f}x on two free cores)")
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
