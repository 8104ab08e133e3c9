#!/usr/bin/env python3
"""Write the perovskite examples: cubic KZnF3 (Pm-3m) and three of its symmetry lowerings.

    python examples/make_perovskites.py      # writes examples/perovskite_*.extxyz

- perovskite_cubic.extxyz            Pm-3m, 5 atoms (K at the corner, Zn at the body centre, F on the faces)
- perovskite_tetragonal.extxyz       P4mm: Zn moved 0.1 Å along z (a ferroelectric distortion)
- perovskite_cubic_2x2x2.extxyz      the cubic cell repeated 2×2×2 (40 atoms; still Pm-3m, now with translations)
- perovskite_tilt_a0a0c-.extxyz      ZnF6 octahedra turned about z, out of phase along z: a⁰a⁰c⁻ (I4/mcm, No. 140)
- perovskite_tilt_a-b+a-.extxyz      turns about x, y, z with signs a⁻b⁺a⁻ (Pnma, No. 62)

Tilts are applied to first order: a fluorine shared by two octahedra moves by θ·(axis × r)
of either one, the two octahedra turning in opposite senses (Glazer's notation, −: neighbours along
that axis turn oppositely, +: in phase).
"""

from pathlib import Path

import numpy as np
from ase import Atoms

A = 4.055  # Å, cubic KZnF3
THETA = 0.08  # rad, tilt angle
HERE = Path(__file__).resolve().parent


def cubic() -> Atoms:
    frac = [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    return Atoms("KZnF3", scaled_positions=frac, cell=np.eye(3) * A, pbc=True)


def tetragonal() -> Atoms:
    atoms = cubic()
    atoms.positions[1, 2] += 0.1  # Zn along +z
    return atoms


def tilted(pattern: dict[int, str]) -> Atoms:
    """2×2×2 supercell with octahedral tilts; pattern maps axis (0,1,2) to '+' or '-'."""
    atoms = cubic().repeat(2)
    pos = atoms.positions.copy()
    zn = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == "Zn"]
    centres = pos[zn]
    for i, s in enumerate(atoms.get_chemical_symbols()):
        if s != "F":
            continue
        # the octahedron this F belongs to: the nearest Zn (any of the two gives the same move)
        d = pos[i] - centres
        d -= np.round(d / (2 * A)) * 2 * A
        k = int(np.argmin(np.linalg.norm(d, axis=1)))
        r = d[k]
        cell_index = np.floor(centres[k] / A).astype(int)
        move = np.zeros(3)
        for axis, sign in pattern.items():
            others = [j for j in range(3) if j != axis]
            # neighbours perpendicular to the axis always turn oppositely (corner sharing);
            # along the axis: '-' opposite, '+' the same
            parity = sum(cell_index[j] for j in others) + (cell_index[axis] if sign == "-" else 0)
            e = np.eye(3)[axis]
            move += THETA * (-1) ** parity * np.cross(e, r)
        pos[i] = pos[i] + move
    atoms.positions = pos
    return atoms


def main() -> None:
    out = {
        "perovskite_cubic": cubic(),
        "perovskite_tetragonal": tetragonal(),
        "perovskite_cubic_2x2x2": cubic().repeat(2),
        "perovskite_tilt_a0a0c-": tilted({2: "-"}),
        "perovskite_tilt_a-b+a-": tilted({0: "-", 1: "+", 2: "-"}),
    }
    for name, atoms in out.items():
        path = HERE / f"{name}.extxyz"
        atoms.write(path)
        print(f"wrote {path.name}: {len(atoms)} atoms")


if __name__ == "__main__":
    main()
