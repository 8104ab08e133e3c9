"""Benchmark of ``symcheck scan``: frames per second on molecules and crystals, next to plain loops of
other symmetry finders on the same frames, in the same run, and the scaling from 1 to 2 workers.

* molecules: ASE's G2 set (162 molecules, ``ase.collections.g2``), repeated ``--repeat`` times, written
  as one extxyz file; scan with its labels (EMT is not defined for most G2 elements, so each frame carries
  a random "forces" field — the floor is computed all the same). Compared with a loop of pymatgen's
  ``PointGroupAnalyzer`` (tolerance 0.01 Å, like symcheck's) and of libmsym (``pymsym.get_point_group``),
  both on the already parsed molecules (no file reading), so they get the easier task.
* crystals: 64–256-atom EMT cells (Cu, Al, Ni fcc supercells: perfect, with a vacancy, rattled by 0.05 Å),
  forces and stress from EMT; compared with a loop of ``spglib.get_symmetry_dataset`` (symprec 0.01 Å).
* scaling: the molecule file with ``workers=1`` and ``workers=2`` (a local process pool).

symcheck's numbers include reading the file and computing every label's floor; the others only find the
group. torch/e3nn are imported and warmed up before timing (a worker process does that once).
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


def timed_scan(path, workers: int, repeats: int = 1):
    import symcheck as sc

    best = None
    for _ in range(repeats):
        t = time.perf_counter()
        result = sc.scan(path, workers=workers, chunk_size=32)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return result, best


def loop(fn, items):
    t = time.perf_counter()
    for x in items:
        fn(x)
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", action="store_true")
    p.add_argument("--repeat", type=int, default=2, help="copies of G2 in the molecule files")
    args = p.parse_args()

    import ase.io

    import symcheck as sc
    from symcheck.fixed import wigner_D

    wigner_D("1o+2e", np.eye(3))  # import torch/e3nn before timing
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

        res1, t1 = timed_scan(mol_path, workers=1)
        res2, t2 = timed_scan(mol_path, workers=2)
        n = len(mols)
        out["molecules"] = {"frames": n, "symcheck_scan_frames_per_s": n / t1,
                            "symcheck_scan_ms_per_frame": 1e3 * t1 / n, "groups": res1.groups}
        out["scaling"] = {"workers_1_s": t1, "workers_2_s": t2, "speedup": t1 / t2}
        assert res1.as_dict()["groups"] == res2.as_dict()["groups"]

        resr, tr = timed_scan(md_path, workers=1)
        out["molecules_rattled"] = {"frames": len(rattled), "symcheck_scan_frames_per_s": len(rattled) / tr,
                                    "symcheck_scan_ms_per_frame": 1e3 * tr / len(rattled), "groups": resr.groups}
        try:
            import pymsym

            pairs = [(a.numbers.tolist(), a.positions.tolist()) for a in rattled]
            dt = loop(lambda x: pymsym.get_point_group(*x), pairs)
            out["molecules_rattled"]["libmsym_frames_per_s"] = len(rattled) / dt
            out["molecules_rattled"]["libmsym_ms_per_frame"] = 1e3 * dt / len(rattled)
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
        except ImportError:
            out["molecules"]["libmsym"] = "not installed"

        resc, tc = timed_scan(cry_path, workers=1)
        m = len(crys)
        out["crystals"] = {"frames": m, "atoms": sorted({len(a) for a in crys}),
                           "symcheck_scan_frames_per_s": m / tc, "symcheck_scan_ms_per_frame": 1e3 * tc / m,
                           "groups": resc.groups}
        try:
            import spglib

            cells = [(a.cell[:], a.get_scaled_positions(), a.numbers) for a in crys]
            dt = loop(lambda c: spglib.get_symmetry_dataset(c, symprec=0.01), cells)
            out["crystals"]["spglib_frames_per_s"] = m / dt
            out["crystals"]["spglib_ms_per_frame"] = 1e3 * dt / m
        except ImportError:
            out["crystals"]["spglib"] = "not installed"

    sc_ = out["scaling"]
    print(f"machine: {out['cores']} cores, load average {out['load_average']:.1f}")
    print(f"{'':34s} {'frames/s':>10s} {'ms/frame':>10s}")
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
                print(f"  {name:32s} {row[f'{k}_frames_per_s']:10.1f} {ms:10.3f}")
    print(f"scaling 1 -> 2 workers: {sc_['workers_1_s']:.2f} s -> {sc_['workers_2_s']:.2f} s ({sc_['speedup']:.2f}x)")
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
