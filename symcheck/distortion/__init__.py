"""Symmetry-mode decomposition of a crystal distortion (AMPLIMODES / ISODISTORT style).

``modes(parent, child)`` splits the distortion parent → child into components that each
transform as one physically irreducible representation of the parent's space group, at the
k-points of the supercell's reciprocal lattice. For each it reports the irrep (ISOTROPY's
label where symcheck has checked one: :mod:`.pm3m_irreps`, :mod:`.bcs_irreps`, :mod:`.isoir`), its k-point,
its amplitude in Å,
its order-parameter direction, the isotropy subgroup of that component alone and whether it is a
primary order parameter or a secondary (induced) one. A homogeneous strain between the two cells
is split off first and decomposed on its own.

How (see the README, "Crystals: modes and order parameters"): the parent supercell's space
group modulo the supercell's translations is a finite group F (|F| = 48 × 8 = 384 for a 2×2×2
cubic perovskite). Its irreps are induced from spgrep's small representations at one k of
each star, so their characters χ on F are known, and the component of a field u in an irrep Γ
is the projection (dim Γ / |F|) Σ_f χ_Γ(f)* f·u: no basis of modes is ever built, the
components are orthogonal and sum to u (``residual`` checks it). At a star the tables hold, the
irreps come from the tables' small irreps induced to F directly (no spgrep). Directions come from
ISO-IR's matrices for Pm-3m at GM, X, M, R; for every irrep, the number of free parameters of the
order parameter (``direction_parameters``) comes from the characters.

Conventions: amplitudes are sqrt of the summed squared displacements of the component over
all atoms of the supercell, in Å, measured in the parent's cell (the strain removed). The
uniform translation (the acoustic part of GM4−) is removed first: it is a change of origin,
not a distortion. Strain amplitudes are Frobenius norms of the symmetric strain U − I
(dimensionless; U from the polar decomposition of the cell deformation).

Modules: :mod:`.cells` (spglib's view of a cell, repeating, orienting and matching cells, strain),
:mod:`.parent` (the group F acting on atoms, stabilizers), :mod:`.irreps` (F's irreps, their names
and order-parameter directions), :mod:`.pm3m_irreps` (ISO-IR's matrices for Pm-3m and its line characters),
:mod:`.bcs_irreps` (the Bilbao tables), :mod:`.isoir` (ISO-IR's data for lines and planes, where installed),
:mod:`.decompose` (the decomposition and the labels of a breaking field). ``symcheck.modes`` is the
function :func:`modes` (no module carries that name).
"""

from .decompose import (
    LABELS,
    MIN_AMPLITUDE,
    MIN_STRAIN,
    Mode,
    ModeDecomposition,
    StrainMode,
    label_field,
    modes,
)
from .parent import ParentGroup, exact_stabilizer_mask, isotropy_subgroup, parent_group, stabilizer_mask

__all__ = [
    "LABELS",
    "MIN_AMPLITUDE",
    "MIN_STRAIN",
    "Mode",
    "ModeDecomposition",
    "ParentGroup",
    "StrainMode",
    "exact_stabilizer_mask",
    "isotropy_subgroup",
    "label_field",
    "modes",
    "parent_group",
    "stabilizer_mask",
]
