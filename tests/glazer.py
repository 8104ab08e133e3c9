"""The 15 Glazer tilt systems of Howard & Stokes (1998, Acta Cryst. B54, 782) as 2×2×2 SrTiO3 supercells.

Ti sits at the origin of each primitive cube, Sr at the body centre, O at the face centres
between Ti. Each TiO6 octahedron turns rigidly by a small angle about x, y and z; the sign of
its rotation about an axis alternates along the two other axes for an in-phase (+) tilt and
along all three for an out-of-phase (−) tilt, so that neighbouring octahedra share their
corner O. The O moves to first order in the angles (ω × r), which is exactly the M3+ / R4+
displacement pattern whose isotropy subgroups Howard & Stokes tabulate.
"""

from __future__ import annotations

import numpy as np

import symcheck as sc

A = 3.905  # Å, cubic SrTiO3

# system → (Howard–Stokes space-group number, Hermann–Mauguin symbol)
SYSTEMS = {
    "a0a0a0": (221, "Pm-3m"),
    "a0a0c+": (127, "P4/mbm"),
    "a0a0c-": (140, "I4/mcm"),
    "a0b+b+": (139, "I4/mmm"),
    "a0b-b-": (74, "Imma"),
    "a0b+c-": (63, "Cmcm"),
    "a0b-c-": (12, "C2/m"),
    "a+a+a+": (204, "Im-3"),
    "a+b+c+": (71, "Immm"),
    "a+a+c-": (137, "P4_2/nmc"),
    "a+b-b-": (62, "Pnma"),
    "a+b-c-": (11, "P2_1/m"),
    "a-a-a-": (167, "R-3c"),
    "a-b-b-": (15, "C2/c"),
    "a-b-c-": (2, "P-1"),
}
TILTED = [s for s in SYSTEMS if s != "a0a0a0"]  # every system but the untilted cube

ANGLES = {"a": 0.06, "b": 0.04, "c": 0.025}  # rad; equal letters tilt by equal angles


def _tilts(system: str) -> list[tuple[float, str]]:
    """(angle, phase) about x, y, z from a Glazer symbol such as ``a+b-b-``."""
    out = []
    for k in range(3):
        letter, sign = system[2 * k], system[2 * k + 1]
        out.append((0.0 if sign == "0" else ANGLES[letter], sign))
    return out


def glazer(system: str, a: float = A) -> sc.Structure:
    """The 40-atom 2×2×2 supercell of SrTiO3 in Glazer tilt system ``system`` (e.g. ``"a-b-b-"``)."""
    tilts = _tilts(system)
    positions, species = [], []
    ijk = np.array([(i, j, k) for i in range(2) for j in range(2) for k in range(2)])
    for n in ijk:
        omega = np.zeros(3)
        for axis, (angle, phase) in enumerate(tilts):
            others = [m for m in range(3) if m != axis]
            if phase == "+":
                omega[axis] = angle * (-1) ** int(n[others].sum())
            elif phase == "-":
                omega[axis] = angle * (-1) ** int(n.sum())
        ti = n * a
        positions.append(ti)
        species.append("Ti")
        positions.append(ti + a / 2)
        species.append("Sr")
        for axis in range(3):  # the O on the +axis face belongs to this octahedron and the next
            r = np.zeros(3)
            r[axis] = a / 2
            positions.append(ti + r + np.cross(omega, r))
            species.append("O")
    return sc.Structure(np.array(positions), species, cell=np.eye(3) * 2 * a, pbc=[True] * 3)


def cubic(a: float = A) -> sc.Structure:
    """The untilted 2×2×2 supercell, atoms in the same order as :func:`glazer`."""
    return glazer("a0a0a0", a)
