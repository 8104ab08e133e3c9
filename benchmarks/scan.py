"""Benchmark of ``symcheck scan``: frames per second on molecules and crystals, next to plain loops of
other symmetry finders on the same frames, in the same run, and the scaling from 1 to 2 workers.

* molecules: ASE's G2 set (162 molecules, ``ase.collections.g2``), repeated ``--repeat`` times, written
  as one extxyz file; scan with its labels (EMT is not defined for most G2 elements, so each frame carries
  a random "forces" field — the floor is computed all the same). Compared with a loop of pymatgen's
  ``PointGroupAnalyzer`` (tolerance 0.01 Å, like symcheck's) and of libmsym (``pymsym.get_point_group``),
  both on the already parsed molecules (no file reading), so they get the easier task.
* crystals: 64–256-atom EMT cells (Cu, Al, Ni fcc supercells: perfect, with a vacancy, rattled by 0.05 Å),
  forces and stress from EMT; compared with a loop of ``spglib.get_symmetry_dataset`` (symprec 0.01 Å).
* scaling: G2 repeated ``--scaling-repeat`` times with ``workers=1`` and ``workers=2`` (a local process
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


def g2_frames(repeat: int, rattle: float = 0.0):
    """G2 molecules (rattled by ``rattle`` Å, like MD frames, when > 0) with forces that respect each
    molecule's group (a random field projected onto its fixed space), as real labels do: so the scan
    does the same work as on a clean training set (group, projection), not the stabilizer search of
    flagged frames."""
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.collections import g2

    import symcheck as sc
    from symcheck.fixed import project
    from symcheck.groups import symmetry_group

    rng = np.random.default_rng(0)
    frames = []
    for _ in range(repeat):
        for atoms in g2:
            a = atoms.copy()
            if rattle:
                a.rattle(rattle, seed=len(frames))
            G = symmetry_group(sc.from_ase(a, features={}), 0.01)
            f = project(G, "1o", rng.normal(size=(len(a), 3)), True)
            a.calc = SinglePointCalculator(a, forces=f, energy=float(rng.normal()))
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
    """(result, best wall s, its CPU s in this process, its CPU s in worker processes)."""
    import symcheck as sc

    best = None
    for _ in range(repeats):
        c0 = _cpu()
        t = time.perf_counter()
        result = sc.scan(path, workers=workers, chunk_size=32)
        dt = time.perf_counter() - t
        c1 = _cpu()
        if best is None or dt < best[0]:
            best = (dt, c1[0] - c0[0], c1[1] - c0[1])
    return (result, *best)


def cpu_loop(fn, items):
    """CPU seconds of this process for fn over items."""
    t = time.process_time()
    for x in items:
        fn(x)
    return time.process_time() - t


def loop(fn, items):
    t = time.perf_counter()
    for x in items:
        fn(x)
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", action="store_true")
    p.add_argument("--repeat", type=int, default=2, help="copies of G2 in the molecule files")
    p.add_argument("--scaling-repeat", type=int, default=8,
                   help="copies of G2 in the 1 -> 2 worker comparison (long enough to hide the pool's start)")
    args = p.parse_args()

    import ase.io

    import symcheck as sc
    from symcheck.fixed import wigner_D

    wigner_D("1o+2e", np.eye(3))  # warm symcheck.o3 before timing (numpy only: no torch/e3nn)
    out = {"machine": platform.processor() or platform.machine(), "cores": os.cpu_count(),
           "load_average": os.getloadavg()[0], "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        mol_path, cry_path = Path(tmp) / "g2.extxyz", Path(tmp) / "emt.extxyz"
        md_path = Path(tmp) / "g2_rattled.extxyz"
        mols = g2_frames(args.repeat)
        ase.io.write(mol_path, mols)
        rattled = g2_frames(args.repeat, rattle=0.05)
        ase.io.write(md_path, rattled)
        crys = crystal_frames()
        ase.io.write(cry_path, crys)
        sc.scan(mol_path, workers=1, chunk_size=32)  # warm-up (caches of the group code)

        res1, t1, c1, _ = timed_scan(mol_path, workers=1)
        n = len(mols)
        out["molecules"] = {"frames": n, "symcheck_scan_frames_per_s": n / t1,
                            "symcheck_scan_ms_per_frame": 1e3 * t1 / n, "symcheck_scan_cpu_ms_per_frame": 1e3 * c1 / n,
                            "groups": res1.groups}
        scale_path = Path(tmp) / "g2_scaling.extxyz"
        ase.io.write(scale_path, mols * max(1, args.scaling_repeat // args.repeat))
        s1, w1, cpu1, _ = timed_scan(scale_path, workers=1)
        s2, w2, driver2, workers2 = timed_scan(scale_path, workers=2)
        assert s1.as_dict()["groups"] == s2.as_dict()["groups"]
        # on two free cores the driver's own work (planning, summary) runs alone, the workers' side by side
        out["scaling"] = {"frames": s1.frames, "workers_1_s": w1, "workers_2_s": w2, "speedup": w1 / w2,
                          "workers_1_cpu_s": cpu1, "workers_2_driver_cpu_s": driver2,
                          "workers_2_workers_cpu_s": workers2,
                          "speedup_from_cpu": cpu1 / (driver2 + workers2 / 2)}

        resr, tr, cr, _ = timed_scan(md_path, workers=1)
        out["molecules_rattled"] = {"frames": len(rattled), "symcheck_scan_frames_per_s": len(rattled) / tr,
                                    "symcheck_scan_ms_per_frame": 1e3 * tr / len(rattled),
                                    "symcheck_scan_cpu_ms_per_frame": 1e3 * cr / len(rattled), "groups": resr.groups}
        try:
            import pymsym

            pairs = [(a.numbers.tolist(), a.positions.tolist()) for a in rattled]
            dt = loop(lambda x: pymsym.get_point_group(*x), pairs)
            out["molecules_rattled"]["libmsym_frames_per_s"] = len(rattled) / dt
            out["molecules_rattled"]["libmsym_ms_per_frame"] = 1e3 * dt / len(rattled)
            out["molecules_rattled"]["libmsym_cpu_ms_per_frame"] = 1e3 * cpu_loop(
                lambda x: pymsym.get_point_group(*x), pairs) / len(rattled)
        except ImportError:
            out["molecules_rattled"]["libmsym"] = "not installed"
        try:
            from pymatgen.core import Molecule
            from pymatgen.symmetry.analyzer import PointGroupAnalyzer

            pm = [Molecule(a.get_chemical_symbols(), a.positions) for a in mols]

            def pga(m):
                return PointGroupAnalyzer(m, tolerance=0.01).sch_symbol

            dt = loop(pga, pm)
            out["molecules"]["pymatgen_frames_per_s"] = n / dt
            out["molecules"]["pymatgen_ms_per_frame"] = 1e3 * dt / n
        except ImportError:
            out["molecules"]["pymatgen"] = "not installed"
        try:
            import pymsym

            pairs = [(a.numbers.tolist(), a.positions.tolist()) for a in mols]
            dt = loop(lambda x: pymsym.get_point_group(*x), pairs)
            out["molecules"]["libmsym_frames_per_s"] = n / dt
            out["molecules"]["libmsym_ms_per_frame"] = 1e3 * dt / n
            out["molecules"]["libmsym_cpu_ms_per_frame"] = 1e3 * cpu_loop(
                lambda x: pymsym.get_point_group(*x), pairs) / n
        except ImportError:
            out["molecules"]["libmsym"] = "not installed"

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
    print(f"{'':34s} {'frames/s':>10s} {'ms/frame':>10s} {'CPU ms/frame':>13s}")
    titles = {"molecules": f"molecules (G2 x{args.repeat})", "molecules_rattled": "molecules rattled 0.05 Å (MD-like)",
              "crystals": "crystals (EMT, 64-256 atoms)"}
    names = (("symcheck_scan", "symcheck scan (1 worker)"), ("pymatgen", "pymatgen PointGroupAnalyzer"),
             ("libmsym", "libmsym (pymsym)"), ("spglib", "spglib"))
    for key, title in titles.items():
        print(title)
        for k, name in names:
            row = out[key]
            if f"{k}_frames_per_s" in row:
                ms = row[f"{k}_ms_per_frame"]
                cpu = row.get(f"{k}_cpu_ms_per_frame")
                cpu = f"{cpu:13.3f}" if cpu is not None else ""
                print(f"  {name:32s} {row[f'{k}_frames_per_s']:10.1f} {ms:10.3f} {cpu}")
    print(f"scaling 1 -> 2 workers ({sc_['frames']} frames): {sc_['workers_1_s']:.2f} s -> {sc_['workers_2_s']:.2f} s "
          f"({sc_['speedup']:.2f}x wall); CPU {sc_['workers_1_cpu_s']:.2f} s -> "
          f"driver {sc_['workers_2_driver_cpu_s']:.2f} s "
          f"+ workers {sc_['workers_2_workers_cpu_s']:.2f} s ({sc_['speedup_from_cpu']:.2f}x on two free cores)")
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
