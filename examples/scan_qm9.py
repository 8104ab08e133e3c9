"""A point-group census of QM9 with ``symcheck scan``, from the data the ``qm9pack`` package ships.

QM9 (130,831 small organic molecules, B3LYP/6-31G(2df,p) geometries) comes with per-atom Mulliken
charges (0e), the polarizability tensor (0e+2e, bohr³) and energies (0e). This script writes the
molecules to one extended-XYZ file with those labels and scans it: how many molecules have each
point group, and whether the charges and polarizabilities respect each molecule's symmetry (a
label that breaks it is a floor no equivariant model can go below, or a sign of loose geometries).

Not run in CI (QM9 is 230 MB of CSV). Usage::

    pip install qm9pack
    python examples/scan_qm9.py --out qm9-scan                # all molecules, all cores
    python examples/scan_qm9.py --limit 2000 --out qm9-2000   # the first 2,000

qm9pack's own loader (``qm9pack.get_data``) imports ``pkg_resources``, which recent setuptools no
longer ship; the script reads the package's CSV files directly, without importing it.
"""

from __future__ import annotations

import argparse
import ast
import csv
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np


def qm9_folder() -> Path:
    spec = importlib.util.find_spec("qm9pack")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("qm9pack is not installed: pip install qm9pack")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def rows(folder: Path):
    """QM9 molecules one by one (streaming: the CSVs are never loaded whole)."""
    csv.field_size_limit(1 << 24)
    for part in ("qm9_part1.csv", "qm9_part2.csv", "qm9_part3.csv"):
        with open(folder / part, newline="") as f:
            yield from csv.DictReader(f)


def polarizabilities(folder: Path) -> dict[str, np.ndarray]:
    """XYZ_file -> the 3×3 polarizability tensor (bohr³)."""
    out = {}
    with open(folder / "qm9_polarizability.csv", newline="") as f:
        for r in csv.DictReader(f):
            xx, xy, yy, xz, yz, zz = (float(r[k]) for k in ("A_xx", "A_xy", "A_yy", "A_xz", "A_yz", "A_zz"))
            out[r["XYZ_file"]] = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    return out


def write_extxyz(path: Path, limit: int | None) -> int:
    """QM9 as one extxyz file: Mulliken charges per atom, polarizability (3×3) and U0 (eV) per molecule."""
    import ase.io
    from ase import Atoms
    from ase.units import Hartree

    folder = qm9_folder()
    alpha = polarizabilities(folder)
    n = 0
    with open(path, "w") as f:
        for r in rows(folder):
            if limit is not None and n >= limit:
                break
            symbols = ast.literal_eval(r["Elements"])
            atoms = Atoms(symbols, positions=np.array(ast.literal_eval(r["XYZ_Ang"]), dtype=float))
            atoms.arrays["charges"] = np.array(ast.literal_eval(r["Mulliken_pop"]), dtype=float)
            atoms.info["energy"] = float(r["InternalEnergy_0K_au"]) * Hartree
            atoms.info["qm9_index"] = int(r["Index"])
            if r["XYZ_file"] in alpha:
                atoms.info["polarizability"] = alpha[r["XYZ_file"]]
            ase.io.write(f, atoms, format="extxyz")
            n += 1
    return n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--limit", type=int, default=None, help="only the first N molecules")
    p.add_argument("--out", type=Path, default=Path("qm9-scan"))
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--tol", type=float, default=0.01)
    args = p.parse_args()

    import symcheck as sc

    args.out.mkdir(parents=True, exist_ok=True)
    data = args.out / "qm9.extxyz"
    if not data.exists():
        print(f"writing {data} …", flush=True)
        n = write_extxyz(data, args.limit)
        print(f"{n} molecules", flush=True)
    result = sc.scan(data, labels=["charges", "polarizability", "energy"], tol=args.tol, workers=args.workers,
                     out=args.out / "scan", progress=lambda d, t: print(f"\r{d}/{t}", end="", flush=True))
    print()
    print(f"{result.frames} molecules in {result.seconds:.0f} s")
    print("point groups:", ", ".join(f"{g} {c}" for g, c in result.groups.items()))
    for name, s in result.labels.items():
        frac = "—" if s.floor_fraction is None else f"{s.floor_fraction:.2e}"
        flagged = sum(f.label == name for f in result.flagged)
        print(f"{name:15s} {s.irreps:6s} floor {s.floor:.3e} (of variance {frac}), {flagged} molecules flagged")
    print(f"duplicates: {result.duplicate_pairs} pairs, {len(result.duplicates)} with different labels")
    print(json.dumps({"frames": result.frames, "groups": result.groups}))


if __name__ == "__main__":
    main()
