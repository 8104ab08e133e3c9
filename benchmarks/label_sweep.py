"""Sweep of the CDML labels over all 230 space groups (issue 12): does every irrep at a tabulated k-point get a name?

For each space group, two general-position orbits (C and N) are generated from spglib's database
operations in a 2×2×2 supercell; the parent group's irreps at every k of the supercell are named as
``parent_group`` names them (against the Bilbao tables, ``symcheck.distortion.bcs_irreps``; k-points on
lines and planes from ISO-IR's data where installed, ``symcheck.distortion.isoir``). Printed
per group: the irreps, how many got a name, how many stayed unnamed although their k-point's star
is tabulated, and whether two irreps got the same name; last, the groups with such a gap or repeat.

Usage::

    python benchmarks/label_sweep.py            # all 230 groups (about a minute; two with ISO-IR's data)
    python benchmarks/label_sweep.py 221 225    # some groups
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import spglib
from ase import Atoms
from ase.geometry import cellpar_to_cell

import symcheck as sc
from symcheck.distortion import bcs_irreps, parent_group


def _hall_numbers() -> dict[int, int]:
    first: dict[int, int] = {}
    for hall in range(1, 531):
        first.setdefault(spglib.get_spacegroup_type(hall).number, hall)
    return first


def _cellpar(n: int) -> tuple:
    if n <= 2:
        return 5.0, 5.5, 6.0, 80, 85, 95
    if n <= 15:
        return 5.0, 5.5, 6.0, 90, 100, 90
    if n <= 74:
        return 5.0, 5.5, 6.0, 90, 90, 90
    if n <= 142:
        return 5.0, 5.0, 6.0, 90, 90, 90
    if n <= 194:
        return 5.0, 5.0, 6.0, 90, 90, 120
    return 5.0, 5.0, 5.0, 90, 90, 90


def structure(n: int, hall: int) -> sc.Structure:
    """Two general orbits of space group n in a 2×2×2 supercell."""
    sym = spglib.get_symmetry_from_database(hall)
    points, species = [], []
    for x, element in ((np.array([0.1234, 0.2718, 0.3821]), "C"), (np.array([0.3147, 0.0611, 0.1729]), "N")):
        for p in np.mod(np.einsum("fab,b->fa", sym["rotations"], x) + sym["translations"], 1.0):
            if not any(np.allclose(np.mod(p - q + 0.5, 1) - 0.5, 0, atol=1e-6) for q in points):
                points.append(p)
                species.append(element)
    atoms = Atoms(species, scaled_positions=points, cell=cellpar_to_cell(_cellpar(n)), pbc=True).repeat((2, 2, 2))
    return sc.Structure(atoms.positions, list(atoms.get_chemical_symbols()), cell=np.array(atoms.cell), pbc=[True] * 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("numbers", nargs="*", type=int, help="space-group numbers (default: all 230)")
    numbers = parser.parse_args().numbers or list(range(1, 231))
    hall = _hall_numbers()
    bad = []
    for n in numbers:
        t = time.perf_counter()
        g = parent_group(structure(n, hall[n]), 1e-3)
        frame = bcs_irreps.table_frame(g.number, g.conv_rotations, g.conv_translations)
        if g.number != n or frame is None:
            print(n, "no table frame" if frame is None else f"detected {g.number}", flush=True)
            bad.append(n)
            continue
        # the names parent_group gave; an unnamed irrep whose star (or, for a complex pair, the star of −k)
        # holds a tabulated k-point would be a gap
        # a line's irreps carry one name at every k of the line (ISO-IR's B1 at (1/2,0,0) and at (1/2,0,1/2)):
        # a name repeats only if it repeats at one k
        named = [(ir.label, tuple(np.round(ir.k, 6))) for ir in g.irreps if ir.labelled]
        gaps = [ir.label for ir in g.irreps if not ir.labelled and (
            bcs_irreps.star_kpoint(frame, ir.k) is not None
            or (ir.pair and bcs_irreps.star_kpoint(frame, -np.asarray(ir.k, dtype=float)) is not None))]
        repeated = len(set(named)) != len(named)
        print(f"{n:3d} {g.space_group:<10} {len(g.irreps):3d} irreps, {len(named):3d} named, "
              f"{len(gaps)} unnamed at a tabulated k{', names repeat' if repeated else ''}  "
              f"({time.perf_counter() - t:.1f} s)", flush=True)
        if gaps or repeated:
            bad.append(n)
    print("groups with an unnamed tabulated irrep or a repeated name:", bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
