"""The decomposition of a crystal distortion into symmetry modes, and the irreps a breaking field carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce

import numpy as np

from ..defaults import DEFAULT_TOL
from ..errors import SymcheckError
from ..o3 import irreps_D
from ..structure import Structure
from .cells import (
    invariant_cell,
    load,
    match,
    n_operations,
    name_of,
    orient,
    repeat,
    space_group_of,
    spglib_cell,
    strain,
    supercell,
)
from .irreps import CrystalIrrep, direction, fraction_text
from .parent import ParentGroup, exact_stabilizer_mask, isotropy_subgroup, parent_group, stabilizer_mask

MIN_AMPLITUDE = 1e-5  # Å; components below this are rounding, not modes


MIN_STRAIN = 1e-7  # dimensionless


# ---------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Mode:
    """One irrep's component of the distortion.

    Parameters
    ----------
    irrep : ISOTROPY label (e.g. ``"R4+"``, ``"DT5"``) where checked, else k-point and dimension
        (e.g. ``"k=(0,0,1/4)(4-dim)"``).
    labelled : whether ``irrep`` is a checked CDML/ISOTROPY label.
    k : (3,) the first arm of the star, fractions of the parent's conventional reciprocal basis.
    k_label : CDML name of the k-point type (GM, X, M, R, DT, …) or None.
    dimension : dimension of the (physically) irreducible representation.
    multiplicity : how many independent copies of the irrep the displacements of this
        structure span (the number of mode amplitudes AMPLIMODES would list for it).
    direction : order-parameter direction (unit vector) in ISO-IR's basis of the irrep, or
        None where the irrep has no checked basis.
    direction_label : the same as ISOTROPY writes it, e.g. ``"(a,0,0)"``, ``"(a,a,0)"``.
    amplitude : Å, sqrt of the summed squared displacements of this component over the supercell.
    primary : part of the smallest set of largest modes whose isotropy subgroups intersect to
        the child's group; otherwise secondary (allowed by the child's symmetry, induced).
    isotropy_subgroup, isotropy_subgroup_number : spglib's name and number of the parent
        displaced along this component alone.
    learnable : the totally symmetric irrep (GM1+ for Pm-3m): an equivariant network on the
        parent can produce this component; any other mode needs a symmetry-breaking input.
    displacements : (N, 3) Å, the component itself, on the atoms of the cell the decomposition ran
        on (the parent's, or an n×n×n conventional supercell when the given cell is not invariant
        under the parent's point group, e.g. a √2×√2×2 perovskite cell).
    note : why ``irrep`` is not a CDML label (None when it is); ``label_note`` in the JSON.
    direction_parameters : how many free parameters an order parameter with this component's isotropy
        subgroup has (the dimension of the irrep's subspace that subgroup fixes: 1 for ``(a,0,0)`` and
        ``(a,a,a)``, 2 for ``(a,b,0)``). Basis-free, so given for every irrep of every group, also where
        ``direction`` is None; ISO-IR's basis (hence ``direction``) is stored for Pm-3m's GM, X, M, R only.
    """

    irrep: str
    labelled: bool
    k: np.ndarray
    k_label: str | None
    dimension: int
    multiplicity: int
    direction: np.ndarray | None
    direction_label: str | None
    amplitude: float
    primary: bool
    isotropy_subgroup: str
    isotropy_subgroup_number: int
    learnable: bool
    displacements: np.ndarray = field(repr=False)
    note: str | None = None
    direction_parameters: int | None = None

    def as_dict(self) -> dict:
        return {
            "irrep": self.irrep,
            "labelled": self.labelled,
            "label_note": self.note,
            "k": [fraction_text(x) for x in self.k],
            "k_label": self.k_label,
            "dimension": self.dimension,
            "multiplicity": self.multiplicity,
            "direction": self.direction_label,
            "direction_vector": None if self.direction is None else [round(float(x), 6) + 0.0 for x in self.direction],
            "direction_parameters": self.direction_parameters,
            "amplitude": round(float(self.amplitude), 6),
            "primary": self.primary,
            "isotropy_subgroup": self.isotropy_subgroup,
            "isotropy_subgroup_number": self.isotropy_subgroup_number,
            "learnable": self.learnable,
        }


@dataclass(frozen=True)
class StrainMode:
    """One irrep's component of the homogeneous strain (always at Γ).

    Parameters
    ----------
    irrep : e.g. ``"GM3+"`` (labelled as for :class:`Mode`).
    amplitude : Frobenius norm of the component of the strain tensor (dimensionless).
    direction, direction_label : as for :class:`Mode`.
    primary : needed, with the primary displacement modes, to reach the child's group (a pure
        strain transition); secondary otherwise.
    tensor : (3, 3) the component, Cartesian axes of the parent's cell.
    learnable : the totally symmetric component (a change of volume in a cubic parent): a network on the
        parent keeps the cell's symmetry, so every other strain component needs symmetry breaking.
    """

    irrep: str
    labelled: bool
    dimension: int
    direction: np.ndarray | None
    direction_label: str | None
    amplitude: float
    primary: bool
    tensor: np.ndarray = field(repr=False)
    learnable: bool = False

    def as_dict(self) -> dict:
        return {
            "irrep": self.irrep,
            "labelled": self.labelled,
            "dimension": self.dimension,
            "direction": self.direction_label,
            "amplitude": round(float(self.amplitude), 8),
            "primary": self.primary,
            "learnable": self.learnable,
        }


@dataclass(frozen=True)
class ModeDecomposition:
    """The distortion parent → child as symmetry modes of the parent's space group.

    Parameters
    ----------
    parent_space_group, parent_number : spglib's name and number of the parent.
    child_space_group, child_number : the same for the child.
    origin : which atom sits at the origin of the labels' setting (labels depend on it).
    modes : the irrep components with amplitude ≥ ``MIN_AMPLITUDE``, largest first.
    strain : the strain components (empty when the cells agree).
    strain_tensor : (3, 3) symmetric strain U − I of the child's cell against the parent's.
    total_amplitude : Å, sqrt of the summed squared displacements over the child's cell as given
        (strain and translation removed).
    residual : Å, the norm of what the listed modes do not explain (~1e-12 when complete).
    labels : which labels are checked, in words.
    """

    parent_space_group: str
    parent_number: int
    child_space_group: str
    child_number: int
    origin: str
    modes: tuple[Mode, ...]
    strain: tuple[StrainMode, ...]
    strain_tensor: np.ndarray
    total_amplitude: float
    residual: float
    labels: str
    displacements: np.ndarray = field(repr=False)

    @property
    def primary(self) -> tuple[Mode, ...]:
        return tuple(m for m in self.modes if m.primary)

    def mode(self, irrep: str) -> Mode | None:
        """The mode labelled ``irrep``, or None."""
        return next((m for m in self.modes if m.irrep == irrep), None)

    def as_dict(self) -> dict:
        return {
            "parent": {"space_group": self.parent_space_group, "number": self.parent_number},
            "child": {"space_group": self.child_space_group, "number": self.child_number},
            "origin": self.origin,
            "amplitude_convention": (
                "sqrt of the summed squared displacements (Å) of the component over the supercell, "
                "in the parent's cell; uniform translation removed"
            ),
            "modes": [m.as_dict() for m in self.modes],
            "strain": [s.as_dict() for s in self.strain],
            "strain_tensor": (np.round(self.strain_tensor, 8) + 0.0).tolist(),
            "total_amplitude": round(float(self.total_amplitude), 6),
            "residual": float(f"{self.residual:.3g}"),
            "labels": self.labels,
        }


# ---------------------------------------------------------------------------------------------
# the decomposition


def modes(parent, child, tol: float = DEFAULT_TOL, group: ParentGroup | None = None) -> ModeDecomposition:
    """Decompose the distortion parent → child into symmetry modes of the parent's space group.

    Parameters
    ----------
    parent : the undistorted structure (Structure or file): the same supercell as the child, or a
        smaller cell of which the child's cell is an integer multiple (it is then repeated).
    child : the distorted structure, same atoms (any order; matched by species and position).
    tol : Å, the symmetry tolerance for both structures (spglib's symprec).
    group : a :func:`parent_group` of this parent to reuse (saves its set-up on repeated calls).

    Returns
    -------
    ModeDecomposition; ``as_dict()`` is the JSON of ``symcheck modes --json``.
    """
    parent, child = load(parent, "parent"), load(child, "child")
    parent, child, eps, u, repeats = _displacements(parent, child, tol, group is None)
    group = parent_group(parent, tol) if group is None else group

    images = group.images(u)
    scale = 1.0 / np.sqrt(repeats)  # amplitudes are per the cell the user gave
    child_mask = stabilizer_mask(group, images, u, max(tol, 1e-9))
    parts = group.project_all(images)
    comps = [(ir, c, float(np.linalg.norm(c)) * scale) for ir, c in zip(group.irreps, parts)]
    comps = sorted((t for t in comps if t[2] >= MIN_AMPLITUDE), key=lambda t: -t[2])
    strain_parts = _strain_components(group, eps)
    if strain_parts is not None:
        child_mask &= stabilizer_mask(group, _strain_images(group, eps), eps.reshape(1, 9), 1e-6)
    strain_parts = strain_parts or []
    masks = [exact_stabilizer_mask(group, c) for _, c, _ in comps]
    primary = _primaries(masks + [m for *_, m in strain_parts], child_mask)
    out = _displacement_modes(group, comps, masks, primary)
    strain_modes = []
    for (ir, c, a, _), is_primary in zip(strain_parts, primary[len(comps):]):
        direction_, label = direction(group, c, ir, _strain_images(group, c.reshape(3, 3)))
        strain_modes.append(StrainMode(ir.label, ir.labelled, ir.dim, direction_, label, a, bool(is_primary),
                                       c.reshape(3, 3), bool(np.allclose(ir.chars, 1.0, atol=1e-9))))

    child_name, child_number = space_group_of(spglib_cell(child), tol)
    n_child_ops = n_operations(child, tol)
    if n_child_ops > int(child_mask.sum()):
        raise SymcheckError(
            f"{name_of(child, 'child')}: its space group {child_name} ({n_child_ops} operations on this cell) is not a "
            f"subgroup of the parent's {group.space_group} in this setting ({int(child_mask.sum())} of the parent's "
            "operations keep it): the parent is not a supergroup of the child here"
        )
    return ModeDecomposition(
        parent_space_group=group.space_group, parent_number=group.number, child_space_group=child_name,
        child_number=child_number, origin=group.origin, modes=tuple(out), strain=tuple(strain_modes),
        strain_tensor=eps, total_amplitude=float(np.linalg.norm(u)) * scale,
        residual=float(np.linalg.norm(u - parts.sum(axis=0))) * scale, labels=LABELS, displacements=u,
    )


def _displacements(parent: Structure, child: Structure, tol: float, repeat_if_needed: bool):
    """The child matched onto the parent: (parent, child, strain (3, 3), displacements (N, 3) Å, repeats).

    The child is turned into the parent's orientation, the parent repeated to the child's cell, the
    strain split off and the atoms paired. When ``repeat_if_needed`` and the parent's cell is not kept by
    its point group, both are repeated to an n×n×n conventional cell (``repeats`` copies), on which
    the decomposition runs.
    """
    for s, what in ((parent, "parent"), (child, "child")):
        if s.cell is None or not all(s.pbc):
            raise SymcheckError(f"{name_of(s, what)}: not a 3D-periodic crystal (needs a cell)")
    child = orient(parent, child)
    if len(parent) != len(child):
        parent = supercell(parent, child, tol)
    if sorted(parent.species) != sorted(child.species):
        raise SymcheckError(f"{name_of(child, 'child')}: its atoms are not the parent's (species differ)")
    Lp, Lc = np.asarray(parent.cell, dtype=float), np.asarray(child.cell, dtype=float)
    eps = strain(Lp, Lc, name_of(child, "child"))
    _, u = match(parent, child, Lp, Lc)
    K = invariant_cell(parent, tol) if repeat_if_needed else None
    if K is None:
        return parent, child, eps, u, 1
    # decompose on a cell the whole point group keeps; amplitudes stay per the given cell
    matched = Structure(np.asarray(parent.positions) + u, parent.species, cell=Lp, pbc=[True] * 3)
    parent, big_child = repeat(parent, K), repeat(matched, K)
    Lp = np.asarray(parent.cell, dtype=float)
    _, u = match(parent, big_child, Lp, Lp)
    return parent, child, eps, u, int(round(abs(np.linalg.det(K))))


def _strain_components(group: ParentGroup, eps: np.ndarray) -> list | None:
    """The strain R ε Rᵀ projected on the Γ irreps: [(irrep, component, amplitude, stabilizer mask)];
    None when the cells agree (no strain)."""
    if np.abs(eps).max() <= MIN_STRAIN:
        return None
    s_images = _strain_images(group, eps)
    out = []
    for ir, c in zip(group.irreps, group.project_all(s_images)):
        a = float(np.linalg.norm(c))
        if a >= MIN_STRAIN:
            # the component's own stabilizer: f·c = c (not f·ε = c, which no f satisfies when ε has two parts)
            out.append((ir, c, a, stabilizer_mask(group, _strain_images(group, c.reshape(3, 3)), c,
                                                  1e-12 + 1e-6 * a)))
    return out


def _displacement_modes(group: ParentGroup, comps: list, masks: list, primary: list) -> list[Mode]:
    """One Mode per component (irrep, displacements, amplitude), largest first, with its isotropy subgroup."""
    out = []
    named: dict[bytes, tuple[str, int]] = {}  # components with one stabilizer share its name
    for (ir, c, a), mask, is_primary in zip(comps, masks, primary):
        direction_, label = direction(group, c, ir)
        key = np.packbits(mask).tobytes()
        if key not in named:
            named[key] = isotropy_subgroup(group, c)
        name, number = named[key]
        trivial = bool(np.allclose(ir.chars, 1.0, atol=1e-9))
        out.append(Mode(ir.label, ir.labelled, ir.k, ir.k_label, ir.dim, _multiplicity(group, ir), direction_, label,
                        a, bool(is_primary), name, number, trivial, c, ir.note, _fixed_dimension(ir, mask)))
    return out


def _fixed_dimension(ir, mask: np.ndarray) -> int:
    """Dimension of the subspace of ``ir`` fixed by the subgroup H (``mask`` over F): (1/|H|) Σ_{h∈H} χ(h), the
    multiplicity of H's trivial irrep in ``ir`` restricted to H. For a complex pair χ is the pair's (real)
    character, so this counts real parameters."""
    return int(round(float(np.sum(ir.chars[mask].real)) / max(int(mask.sum()), 1)))


LABELS = (
    "ISOTROPY (Miller–Love/CDML) labels for Pm-3m (No. 221) at every k-point (GM, X, M, R, lines, planes), from "
    "ISO-IR; CDML labels of the Bilbao tables (irreptables) for every other space group at its maximal k-points, and "
    "ISO-IR's on its lines and planes where ISO-IR's data is installed (CrystOD's copy, or $SYMCHECK_ISOIR); every "
    "other irrep is named by its k-point and dimension, with the reason"
)


def _strain_images(group: ParentGroup, eps: np.ndarray) -> np.ndarray:
    """R ε Rᵀ for every f, as (|F|, 1, 9): a strain is one 'site' carrying a symmetric 2-tensor."""
    return np.matmul(np.matmul(group.rotations, eps), np.swapaxes(group.rotations, 1, 2)).reshape(group.order, 1, 9)


def _multiplicity(group: ParentGroup, ir: CrystalIrrep) -> int:
    """Copies of ``ir`` in the displacement representation: ⟨χ_disp, χ_ir⟩ / ⟨χ_ir, χ_ir⟩."""
    fixed = group.permutations == np.arange(group.permutations.shape[1])[None]
    chi_disp = fixed.sum(axis=1) * np.trace(group.rotations, axis1=1, axis2=2)
    return int(round((np.vdot(ir.chars, chi_disp).real) / np.vdot(ir.chars, ir.chars).real))


def _primaries(masks: list[np.ndarray], child_mask: np.ndarray) -> list[bool]:
    """Primary order parameters: in the given order (displacement modes, largest first, then
    strain components), add a mode while it lowers the intersection of isotropy subgroups, stop
    at the child's group, then drop any whose removal keeps the child's group (smallest first).

    Group theory alone does not single out the primaries (in Pnma, R4+ with X5+ also gives
    Pnma); the amplitudes do: primaries are the largest modes that need each other. Strain comes
    last, so it is primary only in a transition the displacements alone do not explain.
    """
    chosen: list[int] = []
    current = np.ones_like(child_mask)
    for i, m in enumerate(masks):
        if np.array_equal(current, child_mask):
            break
        if (current & m).sum() < current.sum():
            chosen.append(i)
            current = current & m
    for i in sorted(chosen, reverse=True):
        rest = [j for j in chosen if j != i]
        if rest and np.array_equal(reduce(np.logical_and, [masks[j] for j in rest]), current):
            chosen = rest
    return [i in chosen for i in range(len(masks))]


# ---------------------------------------------------------------------------------------------
# labelling a breaking field (for analyze)


def label_field(parent: Structure, field: np.ndarray, irreps: str = "1o", tol: float = DEFAULT_TOL,
                group: ParentGroup | None = None, min_fraction: float = 1e-6) -> list[tuple[str, np.ndarray]]:
    """The irreps of the parent's space group that a per-site field carries.

    Parameters
    ----------
    parent : the undistorted crystal (the analysis' input structure, a supercell; a cell its point
        group does not keep is repeated to an n×n×n conventional cell, the field with it).
    field : (N, d) per-site values in e3nn's basis, transforming as ``irreps`` (e.g. ``"0o"`` a
        pseudoscalar, ``"1e"`` an axial vector); zero on sites that do not carry it.
    irreps : e3nn irreps string of one site's value.
    tol : Å, symmetry tolerance of the parent.
    group : a :func:`parent_group` of this parent to reuse.
    min_fraction : components with less than this fraction of the field's squared norm are dropped.

    Returns
    -------
    [(label, k)], largest component first: label as in :class:`Mode` (e.g. ``"R4+"``), k in
    fractions of the parent's conventional reciprocal basis.
    """
    field = np.asarray(field, dtype=float).reshape(len(parent), -1)
    if group is None:
        K = invariant_cell(parent, tol)
        if K is not None:  # a cell the point group does not keep: repeat structure and field
            parent, source = repeat(parent, K, with_index=True)
            field = field[source]
        group = parent_group(parent, tol)
    # e3nn's matrices in numpy (symcheck.o3, tested against e3nn), one per rotation
    D = irreps_D(irreps, group.rotations[group.point_ops])
    total = float(np.sum(field**2))
    out = []
    for ir, w in zip(group.irreps, group.component_norms(field, D)):
        if w > min_fraction * total:
            out.append((float(w), ir.label, ir.k))
    return [(label, k) for _, label, k in sorted(out, key=lambda t: -t[0])]
