"""Symmetry-mode decomposition of a crystal distortion (AMPLIMODES / ISODISTORT style).

``modes(parent, child)`` splits the distortion parent → child into components that each
transform as one physically irreducible representation of the parent's space group, at the
k-points of the supercell's reciprocal lattice. For each it reports the irrep (ISOTROPY's
label where symcheck has checked one, see :mod:`symcheck.crystal_irreps`), its k-point, its
amplitude in Å, its order-parameter direction, the isotropy subgroup of that component alone
and whether it is a primary order parameter or a secondary (induced) one. A homogeneous strain
between the two cells is split off first and decomposed on its own.

How (see the README, "Crystals: modes and order parameters"): the parent supercell's space
group modulo the supercell's translations is a finite group F (|F| = 48 × 8 = 384 for a 2×2×2
cubic perovskite). Its irreps are induced from spgrep's small representations at one k of
each star, so their characters χ on F are known, and the component of a field u in an irrep Γ
is the projection (dim Γ / |F|) Σ_f χ_Γ(f)* f·u: no basis of modes is ever built, the
components are orthogonal and sum to u (``residual`` checks it). Directions come from ISO-IR's
matrices for the labelled irreps.

Conventions: amplitudes are sqrt of the summed squared displacements of the component over
all atoms of the supercell, in Å, measured in the parent's cell (the strain removed). The
uniform translation (the acoustic part of GM4−) is removed first: it is a change of origin,
not a distortion. Strain amplitudes are Frobenius norms of the symmetric strain U − I
(dimensionless; U from the polar decomposition of the cell deformation).
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

import numpy as np

from . import crystal_irreps
from .errors import SymcheckError
from .structure import Structure

MIN_AMPLITUDE = 1e-5  # Å; components below this are rounding, not modes
MIN_STRAIN = 1e-7  # dimensionless


# ---------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Mode:
    """One irrep's component of the distortion.

    Parameters
    ----------
    irrep : ISOTROPY label (e.g. ``"R4+"``) where checked, else k-point and dimension
        (e.g. ``"DT(6-dim)"``).
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

    def as_dict(self) -> dict:
        return {
            "irrep": self.irrep,
            "labelled": self.labelled,
            "k": [_fraction(x) for x in self.k],
            "k_label": self.k_label,
            "dimension": self.dimension,
            "multiplicity": self.multiplicity,
            "direction": self.direction_label,
            "direction_vector": None if self.direction is None else [round(float(x), 6) + 0.0 for x in self.direction],
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
    """

    irrep: str
    labelled: bool
    dimension: int
    direction: np.ndarray | None
    direction_label: str | None
    amplitude: float
    primary: bool
    tensor: np.ndarray = field(repr=False)

    def as_dict(self) -> dict:
        return {
            "irrep": self.irrep,
            "labelled": self.labelled,
            "dimension": self.dimension,
            "direction": self.direction_label,
            "amplitude": round(float(self.amplitude), 8),
            "primary": self.primary,
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
# the parent's group, its irreps and their characters


@dataclass(frozen=True)
class _Irrep:
    """A physically irreducible representation of F (a complex irrep, or it plus its conjugate)."""

    chars: np.ndarray  # (|F|,) complex characters; the sum over the pair for a complex pair
    dim: int  # real dimension
    k: np.ndarray  # first arm, conventional reciprocal basis
    label: str
    labelled: bool
    k_label: str | None
    iso_label: str | None  # key into crystal_irreps when labelled
    pair: bool = False  # a complex irrep together with its conjugate


@dataclass(frozen=True)
class ParentGroup:
    """The parent supercell's space group modulo the supercell's translations, acting on atoms.

    Built once per parent by :func:`parent_group`; every decomposition on that parent reuses it.
    """

    structure: Structure
    tol: float
    space_group: str
    number: int
    rotations: np.ndarray  # (|F|, 3, 3) Cartesian
    permutations: np.ndarray  # (|F|, N): atom i goes to permutations[f, i]
    point_ops: np.ndarray  # (|P|,) indices in F of one operation per rotation
    trans_ops: np.ndarray  # (|T|,) indices in F of the pure translations (T = primitive lattice / supercell)
    point_of: np.ndarray  # (|F|,) f = t ∘ p with p = point_ops[point_of[f]] ...
    trans_of: np.ndarray  # (|F|,) ... and t = trans_ops[trans_of[f]]
    conv_rotations: np.ndarray  # (|F|, 3, 3) integer, conventional fractional basis
    conv_translations: np.ndarray  # (|F|, 3) conventional fractional basis, chosen origin
    conv_index: np.ndarray | None  # (|F|,) rotations numbered as in crystal_irreps (Pm-3m only)
    irreps: tuple[_Irrep, ...]
    ideal_frac: np.ndarray  # (N, 3) parent positions symmetrized over F (fractional)
    ideal_lattice: np.ndarray  # (3, 3) rows, metric symmetrized over F, orientation kept
    origin: str

    @property
    def order(self) -> int:
        return len(self.rotations)

    def project_all(self, images: np.ndarray) -> np.ndarray:
        """Every irrep's component at once, (n_irreps, N, d): one matrix product over F."""
        X = np.stack([(ir.dim / 2 if ir.pair else ir.dim) / self.order * ir.chars.real for ir in self.irreps])
        return (X @ images.reshape(self.order, -1)).reshape((len(self.irreps),) + images.shape[1:])

    def images(self, field: np.ndarray, D: np.ndarray | None = None, ops: np.ndarray | None = None) -> np.ndarray:
        """Images f·field, (|F|, N, d): (f·v)_{σ_f(i)} = D(f) v_i (D: Cartesian R by default).

        ``ops``: only these elements of F (indices), in that order.
        """
        ops = np.arange(self.order) if ops is None else ops
        D = self.rotations[ops] if D is None else D
        rotated = np.matmul(field[None], np.swapaxes(D, 1, 2))  # matmul: einsum is ~10× slower here
        out = np.empty_like(rotated)
        out[np.arange(len(ops))[:, None], self.permutations[ops]] = rotated
        return out


def _numbers(species) -> np.ndarray:
    index = {s: n + 1 for n, s in enumerate(dict.fromkeys(species))}
    return np.array([index[s] for s in species])


def _spglib_cell(structure: Structure, frac=None, lattice=None):
    lattice = np.asarray(structure.cell, dtype=float) if lattice is None else lattice
    if frac is None:
        frac = np.asarray(structure.positions) @ np.linalg.inv(np.asarray(structure.cell, dtype=float))
    return (lattice, frac, _numbers(structure.species))


def _spglib(name: str, *args, **kwargs):
    """spglib.<name>(...) with exceptions for errors (its old None-returning mode is deprecated and
    warns); None where spglib finds nothing."""
    import spglib
    from spglib import error

    old = error.OLD_ERROR_HANDLING
    error.OLD_ERROR_HANDLING = False
    try:
        return getattr(spglib, name)(*args, **kwargs)
    except error.SpglibError:
        return None
    finally:
        error.OLD_ERROR_HANDLING = old


def _dataset(cell, symprec: float, what: str):

    ds = _spglib("get_symmetry_dataset", cell, symprec=symprec)
    if ds is None:
        raise SymcheckError(f"{what}: spglib finds no space group at tol {symprec} Å")
    return ds


def _space_group(cell, symprec: float) -> tuple[str, int]:

    ds = _spglib("get_symmetry_dataset", cell, symprec=symprec)
    if ds is None:
        return "?", 0
    return ds.international, int(ds.number)


def _permutations(frac: np.ndarray, W: np.ndarray, w: np.ndarray, lattice: np.ndarray, tol: float, what: str):
    """σ_f for every operation: the atom each atom lands on; and F = T·P factored.

    Returns (σ (|F|, N), P: indices in F of one operation per rotation, T: indices of the pure
    translations, and for each f the positions p, t in P and T with f = t ∘ p).

    Only one operation per rotation and the pure translations are matched (periodic k-d tree in
    fractional coordinates); every other f = t·p is composed, σ_f = σ_t ∘ σ_p, and checked.
    """
    from scipy.spatial import cKDTree

    n = len(frac)
    tree = cKDTree(np.mod(frac, 1.0) % 1.0, boxsize=1.0)

    def match(Ws, ws):
        images = np.matmul(frac[None], np.swapaxes(Ws, 1, 2)) + ws[:, None, :]
        _, idx = tree.query(np.mod(images.reshape(-1, 3), 1.0) % 1.0)
        return idx.reshape(len(Ws), n)

    codes = _rotation_codes(W)
    _, first, rot_of = np.unique(codes, return_index=True, return_inverse=True)
    pure = np.flatnonzero(codes == _rotation_codes(np.eye(3, dtype=int)[None])[0])
    sigma_p = match(W[first], w[first])
    sigma_t = match(W[pure], w[pure])
    # f = t ∘ p_rep(f): t = w_f − w_p, a pure translation of the parent modulo the supercell
    t = w - w[first][rot_of]
    t_key = _translation_codes(t)
    pure_key = _translation_codes(w[pure])
    order = np.argsort(pure_key)
    pos = np.searchsorted(pure_key[order], t_key)
    if np.any(pos >= len(order)) or np.any(pure_key[order][np.minimum(pos, len(order) - 1)] != t_key):
        raise SymcheckError(f"{what}: spglib's operations are not a space group on this cell")
    idx = np.take_along_axis(sigma_t[order[pos]], sigma_p[rot_of], axis=1)
    point_of, trans_of = rot_of, order[pos]  # f = t ∘ p: indices into first (p) and pure (t)

    def mismatch(ops, sigma):
        d = np.matmul(frac[None], np.swapaxes(W[ops], 1, 2)) + w[ops][:, None, :] - frac[sigma]
        d -= np.rint(d)
        return np.sqrt(((d @ lattice) ** 2).sum(-1)).max()

    # f = t ∘ p moves an atom by at most p's mismatch plus t's (t is a translation), so checking the
    # factors bounds every element; only when that bound is too loose is every element checked
    bijective = all(len(np.unique(row)) == n for row in np.vstack([sigma_p, sigma_t]))
    if not bijective or (mismatch(first, sigma_p) + mismatch(pure, sigma_t) > 2 * tol
                         and mismatch(np.arange(len(W)), idx) > 2 * tol):
        raise SymcheckError(f"{what}: spglib's operations do not map the atoms onto each other within tol")
    return idx, first, pure, point_of, trans_of


def _rotation_codes(W: np.ndarray) -> np.ndarray:
    """One int64 per integer 3×3 matrix (entries within ±15), for vectorized look-ups."""
    flat = np.rint(W).astype(np.int64).reshape(len(W), 9) + 16
    return flat @ (33 ** np.arange(9, dtype=np.int64))


def _translation_codes(t: np.ndarray, den: int = 10**6) -> np.ndarray:
    """One int64 per translation modulo 1, on a 10⁻⁶ grid (den³ < 2⁶³)."""
    q = np.mod(np.rint(np.asarray(t) * den).astype(np.int64), den)
    return q @ np.array([1, den, den * den], dtype=np.int64)


def _primitive_basis(translations: np.ndarray) -> np.ndarray:
    """Rows: a basis (supercell fractional coordinates) of the lattice generated by the
    supercell's own basis and the parent's pure translations within it."""
    from hsnf import row_style_hermite_normal_form

    n = len(translations)
    gens = np.vstack([np.eye(3), translations])
    M = np.rint(gens * n).astype(int)
    if not np.allclose(M, gens * n, atol=1e-6):
        raise SymcheckError("parent: its pure translations are not commensurate with its cell")
    H, _ = row_style_hermite_normal_form(M)
    return H[:3] / n


def _affine(W: np.ndarray, w: np.ndarray) -> np.ndarray:
    A = np.zeros(W.shape[:-2] + (4, 4))
    A[..., :3, :3] = W
    A[..., :3, 3] = w
    A[..., 3, 3] = 1.0
    return A


def _ops_key(W: np.ndarray, w: np.ndarray) -> tuple:
    ww = np.round(np.mod(w + 1e-9, 1.0) - 1e-9, 6) % 1.0
    return tuple(sorted(zip((x.tobytes() for x in np.rint(W).astype(int)), (tuple(t) for t in np.round(ww, 5)))))


def parent_group(parent: Structure, tol: float = 0.01) -> ParentGroup:
    """The parent's space group on its supercell, its irreps at every k of the supercell, labelled.

    Parameters
    ----------
    parent : the undistorted (super)cell, periodic in 3D.
    tol : Å, spglib's symmetry tolerance for the parent.
    """
    if parent.cell is None or not all(parent.pbc):
        raise SymcheckError(f"{_name(parent, 'parent')}: not a 3D-periodic crystal (needs a cell)")
    if _invariant_cell(parent, tol) is not None:
        raise SymcheckError(
            f"{_name(parent, 'parent')}: its cell is not kept by the parent's point group, so its operations are "
            "only a subgroup's; repeat it to an n×n×n conventional cell (modes() and label_field() do)"
        )
    L = np.asarray(parent.cell, dtype=float)
    frac = np.asarray(parent.positions) @ np.linalg.inv(L)
    cell = _spglib_cell(parent, frac, L)
    ds = _dataset(cell, tol, _name(parent, "parent"))
    W_S = np.asarray(ds.rotations)
    w_S = np.asarray(ds.translations, dtype=float)
    perms, point_ops, trans_ops, point_of, trans_of = _permutations(frac, W_S, w_S, L, tol, _name(parent, "parent"))
    R = np.einsum("ab,fbc,cd->fad", L.T, W_S, np.linalg.inv(L.T))

    # The conventional (standard) frame of spglib: x_std = P x + p. Keep the parent's own origin
    # when it is a standard one too (it then is the origin the user drew, e.g. B at 1a, and labels
    # depend on it); otherwise take spglib's.
    P = np.asarray(ds.transformation_matrix, dtype=float)
    Pinv = np.linalg.inv(P)
    Wc = np.rint(np.einsum("ab,fbc,cd->fad", P, W_S, Pinv)).astype(int)

    def conv_translations(p):
        return np.einsum("ab,fb->fa", P, w_S) + p - np.einsum("fab,b->fa", Wc, p)

    p_spg = np.asarray(ds.origin_shift, dtype=float)
    p = np.zeros(3) if _ops_key(Wc, conv_translations(np.zeros(3))) == _ops_key(Wc, conv_translations(p_spg)) else p_spg
    wc = conv_translations(p)
    origin_frac_S = -Pinv @ p  # the chosen origin in the supercell's fractional coordinates
    origin = _origin_text(parent, frac, origin_frac_S, L, ds, tol)

    # Primitive frame for spgrep: x_prim = Q (x_S − o).
    pure = w_S[np.all(W_S == np.eye(3, dtype=int), axis=(1, 2))]
    B = _primitive_basis(pure)
    Q = np.linalg.inv(B.T)
    Wp = np.rint(np.einsum("ab,fbc,cd->fad", Q, W_S, B.T)).astype(int)
    wp = np.einsum("ab,fb->fa", Q, w_S + np.einsum("fab,b->fa", W_S, origin_frac_S) - origin_frac_S)
    irreps = _irreps(Wp, wp, Q, P @ B.T, Wc, wc, int(ds.number))

    # An exactly symmetric copy of the parent, for naming isotropy subgroups with spglib.
    imgs = np.matmul(frac[None], np.swapaxes(W_S, 1, 2)) + w_S[:, None, :]
    sym = np.empty_like(imgs)
    sym[np.arange(len(W_S))[:, None], perms] = imgs
    sym -= np.rint(sym - frac[None])
    ideal_frac = sym.mean(axis=0)
    G = L @ L.T
    G_sym = np.einsum("fba,bc,fcd->ad", W_S, G, W_S) / len(W_S)
    ideal_lattice = _sqrtm(G_sym) @ np.linalg.inv(_sqrtm(G)) @ L

    return ParentGroup(
        structure=parent, tol=tol, space_group=ds.international, number=int(ds.number), rotations=R,
        permutations=perms, point_ops=point_ops, trans_ops=trans_ops, point_of=point_of, trans_of=trans_of,
        conv_rotations=Wc, conv_translations=wc,
        conv_index=crystal_irreps.rotation_indices(Wc) if int(ds.number) == 221 else None, irreps=irreps,
        ideal_frac=ideal_frac, ideal_lattice=ideal_lattice, origin=origin,
    )


def _sqrtm(A: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh((A + A.T) / 2)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T


def _origin_text(parent: Structure, frac, origin_S, L, ds, tol) -> str:
    d = frac - origin_S
    d -= np.rint(d)
    at = np.where(np.linalg.norm(d @ L, axis=1) < max(tol, 1e-6))[0]
    if len(at) == 0:
        return "no atom at the origin"
    i = int(at[0])
    # Wyckoff multiplicity counts the conventional cell: equivalent atoms over the number of cells
    n_cells = abs(np.linalg.det(ds.transformation_matrix))
    mult = int(round(np.sum(ds.equivalent_atoms == ds.equivalent_atoms[i]) / n_cells))
    return f"{parent.species[i]} at {mult}{ds.wyckoffs[i]} (the origin)"


def _irreps(Wp, wp, Q, C, Wc, wc, number) -> tuple[_Irrep, ...]:
    """All physically irreducible representations of F with their characters.

    Wp, wp : F's operations in the primitive frame (fractional, chosen origin).
    Q : supercell fractional → primitive fractional (columns: supercell vectors in the primitive basis).
    C : primitive fractional → conventional fractional.
    Wc, wc : the same operations in the conventional frame (for ISO-IR's matrices).
    """
    from spgrep import get_spacegroup_irreps_from_primitive_symmetry

    nF = len(Wp)
    t_int = np.floor(wp + 1e-6)
    w_rep = wp - t_int
    # coset representatives of G / T (primitive lattice): one per rotation
    codes = _rotation_codes(Wp)
    rep_codes, reps = np.unique(codes, return_index=True)
    rot_reps, trans_reps = Wp[reps], w_rep[reps]
    rep_of = np.searchsorted(rep_codes, codes)
    # lattice translation of each f relative to its representative (primitive coordinates)
    t_f = wp - trans_reps[rep_of]
    if not np.allclose(t_f, np.rint(t_f), atol=1e-5):
        raise AssertionError("operations with one rotation differ by a non-lattice translation")

    # k-points of the supercell, k_prim = Q^{-T} h mod 1: the group generated by the rows of Q⁻¹
    n_cells = int(round(abs(np.linalg.det(Q))))
    gens = np.linalg.inv(Q)
    ks = {_kkey(np.zeros(3)): np.zeros(3)}
    frontier = list(ks.values())
    while frontier:
        nxt = []
        for k in frontier:
            for g in gens:
                k2 = np.mod(k + g, 1.0)
                if _kkey(k2) not in ks:
                    ks[_kkey(k2)] = k2
                    nxt.append(k2)
        frontier = nxt
    if len(ks) != n_cells:
        raise AssertionError(f"found {len(ks)} k-points for {n_cells} cells")

    remaining = dict(ks)
    inv_T = np.array([np.linalg.inv(W).T for W in rot_reps])
    A_f = _affine(Wp.astype(float), wp)
    out: list[_Irrep] = []
    while remaining:
        k0 = remaining[sorted(remaining)[0]]
        arms, arm_rep = {}, []
        for j, M in enumerate(inv_T):
            kj = np.mod(M @ k0, 1.0)
            if _kkey(kj) not in arms:
                arms[_kkey(kj)] = kj
                arm_rep.append(j)
        for a in arms:
            remaining.pop(a, None)
        irr, little = get_spacegroup_irreps_from_primitive_symmetry(rot_reps, trans_reps, k0)
        in_little = np.zeros(len(reps), dtype=bool)
        in_little[little] = True
        pos_of = np.zeros(len(reps), dtype=int)
        pos_of[little] = np.arange(len(little))
        tr = np.array([np.trace(m, axis1=1, axis2=2) for m in irr])  # (n_irr, |little|)
        chars = np.zeros((len(irr), nF), dtype=complex)
        for j in arm_rep:  # χ_ind(f) = Σ_j χ(s_j⁻¹ f s_j) over arms whose little group holds it
            A_s = _affine(rot_reps[j].astype(float), trans_reps[j])
            g = np.linalg.inv(A_s) @ A_f @ A_s
            idx = np.searchsorted(rep_codes, _rotation_codes(g[:, :3, :3]))
            inl = in_little[idx]
            t = g[:, :3, 3] - trans_reps[idx]
            phase = np.exp(-2j * np.pi * (t[inl] @ k0))
            chars[:, inl] += tr[:, pos_of[idx[inl]]] * phase[None, :]
        # k_prim · x_prim = k_conv · x_conv. A primitive conventional cell folds k into (−½, ½] in
        # its own basis; a centred one must fold in the primitive basis (in conventional units the
        # fcc X point is (0,1,0), not (0,0,0)).
        if abs(abs(np.linalg.det(C)) - 1) < 1e-6:
            k_conv = _fold(np.linalg.inv(C).T @ k0)
        else:
            k_conv = np.round(np.linalg.inv(C).T @ _fold(k0), 9) + 0.0
        for a in range(len(irr)):
            chi = chars[a]
            dim = int(round(chi[0].real))  # f = 0 is the identity in spglib's order
            out.append(_Irrep(chi, dim, k_conv, "", False, None, None))
    # Pair complex irreps with their conjugates: a real field sees them together (ISODISTORT
    # names such a pair as one physically irreducible representation).
    used, phys = set(), []
    for i, ir in enumerate(out):
        if i in used:
            continue
        used.add(i)
        if np.abs(ir.chars.imag).max() > 1e-6:
            j = next(j for j in range(len(out))
                     if j not in used and np.allclose(out[j].chars, np.conj(ir.chars), atol=1e-6))
            used.add(j)
            phys.append(_Irrep(ir.chars + out[j].chars, 2 * ir.dim, ir.k, "", False, None, None, True))
        else:
            phys.append(ir)
    idx = crystal_irreps.rotation_indices(Wc) if number == 221 else None
    cache: dict[str, np.ndarray] = {}
    named = [_name_irrep(ir, idx, wc, number, cache) for ir in phys]
    # Distinct unlabelled irreps can share k-type and dimension (LD1 and LD2 of Pm-3m): number
    # them in spgrep's order (an ordinal, not a CDML index) so that no two carry one name.
    counts: dict[str, int] = {}
    for ir in named:
        counts[ir.label] = counts.get(ir.label, 0) + 1
    seen: dict[str, int] = {}
    out_named = []
    for ir in named:
        if not ir.labelled and counts[ir.label] > 1:
            seen[ir.label] = seen.get(ir.label, 0) + 1
            ir = _Irrep(ir.chars, ir.dim, ir.k, f"{ir.label}#{seen[ir.label]}", False, ir.k_label, None, ir.pair)
        out_named.append(ir)
    return tuple(out_named)


def _kkey(k: np.ndarray) -> tuple:
    return tuple(np.round(np.mod(np.asarray(k) + 1e-9, 1.0) - 1e-9, 6) % 1.0)


def _fold(k: np.ndarray) -> np.ndarray:
    k = np.mod(np.asarray(k, dtype=float) + 1e-9, 1.0) - 1e-9
    k = np.where(k > 0.5 + 1e-9, k - 1.0, k)
    return np.round(k, 9) + 0.0


def _name_irrep(ir: _Irrep, idx, wc, number, cache: dict) -> _Irrep:
    """ISO-IR label for Pm-3m at GM, X, M, R (by character match on F); otherwise k-point and dimension."""
    k_label = crystal_irreps.cubic_k_label(ir.k) if number in range(195, 231) and _is_primitive_cubic(number) else None
    if number == 221 and k_label in crystal_irreps.ARMS:
        t = np.rint(wc)
        if np.allclose(wc, t, atol=1e-6):
            for label in crystal_irreps.labels():
                if crystal_irreps.k_type(label) != k_label:
                    continue
                if label not in cache:  # each label's characters once per parent
                    cache[label] = crystal_irreps.characters(label, idx, t)
                chi = cache[label]
                if np.allclose(chi, ir.chars.real, atol=1e-6) and np.abs(ir.chars.imag).max() < 1e-6:
                    k = np.array(crystal_irreps.ARMS[k_label][0])
                    return _Irrep(ir.chars, ir.dim, k, label, True, k_label, label, ir.pair)
            raise AssertionError(f"no ISO-IR irrep of Pm-3m at {k_label} matches a computed character")
    name = k_label if k_label else "k=(" + ",".join(_fraction(x) for x in ir.k) + ")"
    return _Irrep(ir.chars, ir.dim, ir.k, f"{name}({ir.dim}-dim)", False, k_label, None, ir.pair)


def _is_primitive_cubic(number: int) -> bool:
    return number in (195, 198, 200, 201, 205, 207, 208, 212, 213, 215, 218, 221, 222, 223, 224)


def _fraction(x: float) -> str:
    from fractions import Fraction

    f = Fraction(float(x)).limit_denominator(48)
    return str(f) if abs(float(f) - x) < 1e-6 else f"{x:.6g}"


# ---------------------------------------------------------------------------------------------
# projections, stabilizers, names


def stabilizer_mask(group: ParentGroup, images: np.ndarray, v: np.ndarray, atol: float) -> np.ndarray:
    """Which f leave v fixed: max per-site |f·v − v| ≤ atol."""
    d2 = ((images - v[None]) ** 2).sum(axis=-1).max(axis=-1)
    return d2 <= atol**2


def exact_stabilizer_mask(group: ParentGroup, c: np.ndarray, rtol: float = 1e-5) -> np.ndarray:
    """Which f fix an exactly symmetric field c (a projected component), from |P| + |T| images.

    f = t ∘ p fixes c iff p·c = t⁻¹·c; both have c's norm, so ‖p·c − t⁻¹·c‖² = 2‖c‖² − 2⟨p·c, t⁻¹·c⟩:
    one (|P| × 3N) · (3N × |T|) product instead of |F| images (the 4×4×4 supercell: 48 + 64, not 3072).
    """
    flat = c.reshape(len(c), -1)
    X = group.images(flat, None, group.point_ops).reshape(len(group.point_ops), -1)
    Y = flat[group.permutations[group.trans_ops]].reshape(len(group.trans_ops), -1)  # (t⁻¹·c)_j = c_σt(j)
    norm2 = float(np.sum(flat**2))
    d2 = 2 * norm2 - 2 * (X @ Y.T)
    return d2[group.point_of, group.trans_of] <= (rtol**2) * norm2


def isotropy_subgroup(group: ParentGroup, u: np.ndarray) -> tuple[str, int]:
    """spglib's name and number of the (exactly symmetric) parent displaced along ``u`` (N×3 Å)."""
    scale = 0.1 / max(np.linalg.norm(u, axis=1).max(), 1e-300)  # 0.1 Å at the largest move
    frac = group.ideal_frac + (u * scale) @ np.linalg.inv(np.asarray(group.structure.cell, dtype=float))
    return _space_group(_spglib_cell(group.structure, frac, group.ideal_lattice), 1e-4)


def _direction(group: ParentGroup, c: np.ndarray, ir: _Irrep, images: np.ndarray | None = None):
    """Order-parameter direction in ISO-IR's basis: the top right singular vector of the
    matrix A whose column q is P_{1q} c (partner q moved into partner 1's space).

    A = (dim/|F|) Σ_f (f·c) D_f[0, :]. With f = t ∘ p, D_f's first row is phase₀(t) D_p[0, :]
    (D(t) is diagonal, the phase of the first arm on its rows), so only |P| images of c are
    needed, each summed over the translations with the first arm's phase. ``images``: all |F|
    images instead (the strain, one 'site').
    """
    if ir.iso_label is None:
        return None, None
    t_conv = np.rint(group.conv_translations)
    if images is not None:
        D = crystal_irreps.matrices(ir.iso_label, group.conv_index, t_conv)
        A = images.reshape(group.order, -1).T @ D[:, 0, :]
    else:
        P, T = group.point_ops, group.trans_ops
        D_p = crystal_irreps.matrices(ir.iso_label, group.conv_index[P], t_conv[P])[:, 0, :]
        phase0 = crystal_irreps.matrices(ir.iso_label, group.conv_index[T], t_conv[T])[:, 0, 0]
        X = group.images(c, None, P)  # (|P|, N, 3)
        Z = np.zeros_like(X)
        inv = np.argsort(group.permutations[T], axis=1)
        for ph, iv in zip(phase0, inv):  # Σ_t phase₀(t) t·x, (t·x)_i = x_{σt⁻¹(i)}
            Z += ph * X[:, iv]
        A = Z.reshape(len(P), -1).T @ D_p
    _, _, Vt = np.linalg.svd(A, full_matrices=False)
    eta = Vt[0]
    big = np.flatnonzero(np.abs(eta) > 1e-6)
    if len(big) and eta[big[0]] < 0:
        eta = -eta
    return eta, _direction_label(eta, len(crystal_irreps.ARMS[crystal_irreps.k_type(ir.iso_label)]))


def _direction_label(eta: np.ndarray, arms: int = 1, rtol: float = 1e-3) -> str:
    """ISOTROPY-style letters: equal magnitudes share a letter, signs kept, zeros as 0; the arms of
    the star separated by ";" as ISOTROPY writes them (M3+ (a;0;0), X5+ (a,0;0,0;0,0))."""
    letters, values, out = "abcdefghijklmnopqrstuvwxyz", [], []
    scale = np.abs(eta).max()
    for x in eta:
        if abs(x) <= rtol * scale:
            out.append("0")
            continue
        j = next((j for j, v in enumerate(values) if abs(abs(x) - v) <= rtol * scale), None)
        if j is None:
            values.append(abs(x))
            j = len(values) - 1
        out.append(("-" if x < 0 else "") + letters[j % 26])
    d = len(out) // arms
    return "(" + ";".join(",".join(out[i * d:(i + 1) * d]) for i in range(arms)) + ")"


# ---------------------------------------------------------------------------------------------
# matching the child onto the parent


def _name(s: Structure, what: str) -> str:
    return str(s.source) if getattr(s, "source", None) else what


def _load(x, what: str) -> Structure:
    if isinstance(x, Structure):
        return x
    if isinstance(x, (str, Path)):
        from .io import read

        return read(x)
    raise SymcheckError(f"{what}: expected a Structure or a file path, got {type(x).__name__}")


def _orient(parent: Structure, child: Structure) -> Structure:
    """The child turned into the parent's orientation, when its cell vectors are integer combinations
    of the parent's only up to a rotation (a child in its own standard setting, e.g. Pnma with
    its long axis along b while the parent's axes are cubic).

    Each child vector is matched to a parent lattice vector of the same length (within 5 %) so
    that all dot products agree; the rotation is then the polar factor of the map between them.
    The child's fractional coordinates are kept, so the atoms turn with the cell.
    """
    Lp, Lc = np.asarray(parent.cell, dtype=float), np.asarray(child.cell, dtype=float)
    M = Lc @ np.linalg.inv(Lp)
    if np.allclose(M, np.rint(M), atol=0.05):
        return child
    N = int(np.ceil(np.linalg.norm(Lc, axis=1).max() / np.linalg.norm(Lp, axis=1).min())) + 1
    grid = np.array(np.meshgrid(*[np.arange(-N, N + 1)] * 3, indexing="ij")).reshape(3, -1).T
    vecs = grid @ Lp
    lengths = np.linalg.norm(vecs, axis=1)
    cand = [np.flatnonzero(np.abs(lengths - np.linalg.norm(v)) <= 0.05 * np.linalg.norm(v)) for v in Lc]
    Gc = Lc @ Lc.T
    best = None
    for i in cand[0]:
        for j in cand[1]:
            if abs(vecs[i] @ vecs[j] - Gc[0, 1]) > 0.05 * Gc[0, 0]:
                continue
            for k in cand[2]:
                B = vecs[[i, j, k]]
                if np.linalg.det(B) * np.linalg.det(Lc) <= 0:  # a proper rotation only
                    continue
                err = np.abs(B @ B.T - Gc).max()
                if err <= 0.05 * Gc.max() and (best is None or err < best[0]):
                    best = (err, B)
    if best is None:
        return child  # _supercell explains what does not fit
    B = best[1]
    U, _, Vt = np.linalg.svd(np.linalg.solve(B, Lc))  # Lc ≈ B Rᵀ: Rᵀ is the polar factor
    Rt = U @ Vt
    cell = Lc @ Rt.T  # the child's cell turned back: ≈ B
    frac = np.asarray(child.positions) @ np.linalg.inv(Lc)
    return Structure(frac @ cell, child.species, cell=cell, pbc=[True] * 3, source=getattr(child, "source", None))


def _supercell(parent: Structure, child: Structure, tol: float) -> Structure:
    """The parent (a primitive or small cell) repeated to the child's cell, when it is a multiple."""
    Lp, Lc = np.asarray(parent.cell, dtype=float), np.asarray(child.cell, dtype=float)
    M = Lc @ np.linalg.inv(Lp)  # rows of the child's cell in the parent's basis (strain aside)
    Mi = np.rint(M)
    n = int(round(abs(np.linalg.det(Mi)))) if np.allclose(M, Mi, atol=0.05) else 0
    if n == 0 or n * len(parent) != len(child):
        raise SymcheckError(
            f"{_name(child, 'child')}: {len(child)} atoms, the parent {len(parent)}, and the child's cell is "
            "not an integer multiple of the parent's (in the parent's orientation)"
        )
    return _repeat(parent, Mi.astype(int))


def _repeat(s: Structure, K: np.ndarray, with_index: bool = False):
    """``s`` repeated to the cell K·L (K integer, rows: the new cell vectors in s's basis); with
    ``with_index`` also the atom of ``s`` each new atom copies."""
    L = np.asarray(s.cell, dtype=float)
    big = K @ L
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)]) @ K
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    grid = np.array(np.meshgrid(*[np.arange(a, b + 1) for a, b in zip(lo, hi)], indexing="ij")).reshape(3, -1).T
    fs = np.asarray(s.positions) @ np.linalg.inv(L)
    frac = (fs[None, :, :] + grid[:, None, :]).reshape(-1, 3) @ L @ np.linalg.inv(big)
    frac -= np.floor(frac + 1e-9)  # atoms on the far faces of the new cell belong to its near faces
    keys = np.round(frac, 6) % 1.0
    _, keep = np.unique(keys, axis=0, return_index=True)
    keep = np.sort(keep)
    n = int(round(abs(np.linalg.det(K))))
    if len(keep) != n * len(s):
        raise AssertionError(f"repeated cell has {len(keep)} atoms, expected {n * len(s)}")
    source = np.tile(np.arange(len(s)), len(grid))[keep]
    out = Structure(frac[keep] @ big, [s.species[i] for i in source], cell=big, pbc=[True] * 3,
                    source=getattr(s, "source", None))
    return (out, source) if with_index else out


def _invariant_cell(parent: Structure, tol: float) -> np.ndarray | None:
    """K (integer, rows in the parent's basis) of the smallest n×n×n conventional supercell holding the
    parent's cell, when the parent's own cell is not invariant under its point group; else None.

    spglib lists only the operations that map the given cell onto itself: for a √2×√2×2 cell of a
    cubic perovskite that is a tetragonal subgroup of Pm-3m, and irreps of a subgroup are not the
    parent's. An n×n×n repetition of the conventional cell is invariant under the whole point group.
    """

    cell = _spglib_cell(parent)
    ds = _dataset(cell, tol, _name(parent, "parent"))
    rotations = {W.tobytes() for W in np.asarray(ds.rotations)}
    prim = _spglib("find_primitive", cell, symprec=tol)
    full = _spglib("get_symmetry_dataset", prim, symprec=tol) if prim is not None else None
    if full is None or len({W.tobytes() for W in np.asarray(full.rotations)}) == len(rotations):
        return None
    P_inv = np.linalg.inv(np.asarray(ds.transformation_matrix, dtype=float))  # columns: conventional vectors
    n = next(n for n in range(1, 97) if np.allclose(n * P_inv, np.rint(n * P_inv), atol=1e-6))
    return np.rint(n * P_inv.T).astype(int)  # rows: n × the conventional vectors, in the parent's basis


def _match(parent: Structure, child: Structure, Lp: np.ndarray, Lc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Child atom for each parent atom and the displacements (N×3 Å, parent's metric)."""
    fp = np.asarray(parent.positions) @ np.linalg.inv(Lp)
    fc = np.asarray(child.positions) @ np.linalg.inv(Lc)

    def disp(order):
        d = fc[order] - fp
        return d - np.rint(d)

    nn = _nearest_distance(fp, Lp)
    order = np.arange(len(parent))
    if list(parent.species) == list(child.species):
        d = disp(order) @ Lp
        d -= d.mean(axis=0)
        if np.linalg.norm(d, axis=1).max() < 0.5 * nn:
            return order, d
    # Otherwise pair the atoms of each species by least total squared distance. The child's origin
    # may be anywhere: try as shifts the vectors from one atom of the rarest species in the child
    # to each parent atom of that species, keep the pairing of least cost, then refine the shift
    # by the mean displacement once.
    from scipy.optimize import linear_sum_assignment

    species_p, species_c = np.array(parent.species), np.array(child.species)

    def pair(shift):
        order, cost = np.empty(len(parent), dtype=int), 0.0
        for sp in set(parent.species):
            ip, ic = np.flatnonzero(species_p == sp), np.flatnonzero(species_c == sp)
            d = fc[ic][None, :, :] - shift - fp[ip][:, None, :]
            d -= np.rint(d)
            c2 = np.sum((d @ Lp) ** 2, axis=-1)
            r, c = linear_sum_assignment(c2)
            order[ip[r]] = ic[c]
            cost += float(c2[r, c].sum())
        return order, cost

    rare = min(set(parent.species), key=lambda sp: (np.sum(species_p == sp), sp))
    anchor = fc[np.flatnonzero(species_c == rare)[0]]
    shifts = [np.zeros(3)] + [anchor - fp[i] for i in np.flatnonzero(species_p == rare)]
    order, _ = min((pair(sh) for sh in shifts), key=lambda t: t[1])
    order, _ = pair(disp(order).mean(axis=0))
    d = disp(order) @ Lp
    d -= d.mean(axis=0)
    if np.linalg.norm(d, axis=1).max() >= 0.5 * nn:
        raise SymcheckError(
            f"{_name(child, 'child')}: an atom moves {np.linalg.norm(d, axis=1).max():.3g} Å from the parent, "
            f"more than half the nearest-neighbour distance ({nn:.3g} Å): not a small distortion of the parent"
        )
    return order, d


def _nearest_distance(frac: np.ndarray, L: np.ndarray) -> float:
    d = frac[:, None, :] - frac[None, :, :]
    d -= np.rint(d)
    r = np.linalg.norm(d @ L, axis=-1)
    r[np.diag_indices(len(frac))] = np.inf
    return float(r.min()) if len(frac) > 1 else float(np.linalg.norm(L, axis=1).min())


def _strain(Lp: np.ndarray, Lc: np.ndarray, what: str) -> np.ndarray:
    """Symmetric strain U − I with F = R U the deformation taking the parent's cell to the child's."""
    F = Lc.T @ np.linalg.inv(Lp.T)
    U = _sqrtm(F.T @ F)
    eps = U - np.eye(3)
    if np.abs(eps).max() > 0.2:
        raise SymcheckError(
            f"{what}: the child's cell differs from the parent's by more than a strain (|ε| = "
            f"{np.abs(eps).max():.2g}); give both in the same cell setting"
        )
    return eps


# ---------------------------------------------------------------------------------------------
# the decomposition


def modes(parent, child, tol: float = 0.01, group: ParentGroup | None = None) -> ModeDecomposition:
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
    parent, child = _load(parent, "parent"), _load(child, "child")
    for s, what in ((parent, "parent"), (child, "child")):
        if s.cell is None or not all(s.pbc):
            raise SymcheckError(f"{_name(s, what)}: not a 3D-periodic crystal (needs a cell)")
    child = _orient(parent, child)
    if len(parent) != len(child):
        parent = _supercell(parent, child, tol)
    if sorted(parent.species) != sorted(child.species):
        raise SymcheckError(f"{_name(child, 'child')}: its atoms are not the parent's (species differ)")
    Lp, Lc = np.asarray(parent.cell, dtype=float), np.asarray(child.cell, dtype=float)
    eps = _strain(Lp, Lc, _name(child, "child"))
    order, u = _match(parent, child, Lp, Lc)
    K = _invariant_cell(parent, tol) if group is None else None
    repeats = 1
    if K is not None:  # decompose on a cell the whole point group keeps; amplitudes per the given cell
        repeats = int(round(abs(np.linalg.det(K))))
        matched = Structure(np.asarray(parent.positions) + u, parent.species, cell=Lp, pbc=[True] * 3)
        parent, big_child = _repeat(parent, K), _repeat(matched, K)
        Lp = np.asarray(parent.cell, dtype=float)
        order, u = _match(parent, big_child, Lp, Lp)
    group = parent_group(parent, tol) if group is None else group

    images = group.images(u)
    scale = 1.0 / np.sqrt(repeats)  # amplitudes are per the cell the user gave
    total = float(np.linalg.norm(u)) * scale
    atol = max(tol, 1e-9)
    child_mask = stabilizer_mask(group, images, u, atol)

    comps = []
    parts = group.project_all(images)
    for ir, c in zip(group.irreps, parts):
        a = float(np.linalg.norm(c)) * scale
        if a >= MIN_AMPLITUDE:
            comps.append((ir, c, a))
    residual = float(np.linalg.norm(u - parts.sum(axis=0))) * scale

    # Strain: R ε Rᵀ under f, projected on the Γ irreps.
    strain_parts = []
    if np.abs(eps).max() > MIN_STRAIN:
        s_images = _strain_images(group, eps)
        for ir, c in zip(group.irreps, group.project_all(s_images)):
            a = float(np.linalg.norm(c))
            if a >= MIN_STRAIN:
                strain_parts.append((ir, c, a, stabilizer_mask(group, s_images, c, 1e-12 + 1e-6 * a)))
        child_mask &= stabilizer_mask(group, s_images, eps.reshape(1, 9), 1e-6)

    comps.sort(key=lambda t: -t[2])
    masks = [exact_stabilizer_mask(group, c) for _, c, a in comps]
    primary = _primaries(masks + [m for *_, m in strain_parts], child_mask)

    out = []
    named: dict[bytes, tuple[str, int]] = {}  # components with one stabilizer share its name
    for (ir, c, a), mask, is_primary in zip(comps, masks, primary):
        direction, label = _direction(group, c, ir)
        key = np.packbits(mask).tobytes()
        if key not in named:
            named[key] = isotropy_subgroup(group, c)
        name, number = named[key]
        mult = _multiplicity(group, ir)
        trivial = bool(np.allclose(ir.chars, 1.0, atol=1e-9))
        out.append(Mode(ir.label, ir.labelled, ir.k, ir.k_label, ir.dim, mult, direction, label, a,
                        bool(is_primary), name, number, trivial, c))
    strain_modes = []
    for (ir, c, a, _), is_primary in zip(strain_parts, primary[len(comps):]):
        direction, label = _direction(group, c, ir, _strain_images(group, c.reshape(3, 3)))
        strain_modes.append(StrainMode(ir.label, ir.labelled, ir.dim, direction, label, a, bool(is_primary),
                                       c.reshape(3, 3)))

    child_name, child_number = _space_group(_spglib_cell(child), tol)
    n_child_ops = _n_ops(child, tol)
    if n_child_ops > int(child_mask.sum()):
        raise SymcheckError(
            f"{_name(child, 'child')}: its space group {child_name} ({n_child_ops} operations on this cell) is not a "
            f"subgroup of the parent's {group.space_group} in this setting ({int(child_mask.sum())} of the parent's "
            "operations keep it): the parent is not a supergroup of the child here"
        )
    return ModeDecomposition(
        parent_space_group=group.space_group, parent_number=group.number, child_space_group=child_name,
        child_number=child_number, origin=group.origin, modes=tuple(out), strain=tuple(strain_modes),
        strain_tensor=eps, total_amplitude=total, residual=residual, labels=LABELS, displacements=u,
    )


LABELS = (
    "ISOTROPY (Miller–Love/CDML) labels for Pm-3m (No. 221) at GM, X, M, R, from ISO-IR; "
    "every other irrep is named by its k-point and dimension"
)


def _strain_images(group: ParentGroup, eps: np.ndarray) -> np.ndarray:
    """R ε Rᵀ for every f, as (|F|, 1, 9): a strain is one 'site' carrying a symmetric 2-tensor."""
    return np.matmul(np.matmul(group.rotations, eps), np.swapaxes(group.rotations, 1, 2)).reshape(group.order, 1, 9)


def _n_ops(s: Structure, tol: float) -> int:

    ds = _spglib("get_symmetry_dataset", _spglib_cell(s), symprec=tol)
    return 0 if ds is None else len(ds.rotations)


def _multiplicity(group: ParentGroup, ir: _Irrep) -> int:
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


def label_field(parent: Structure, field: np.ndarray, irreps: str = "1o", tol: float = 0.01,
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
    from .o3 import irreps_D

    field = np.asarray(field, dtype=float).reshape(len(parent), -1)
    if group is None:
        K = _invariant_cell(parent, tol)
        if K is not None:  # a cell the point group does not keep: repeat structure and field
            parent, source = _repeat(parent, K, with_index=True)
            field = field[source]
        group = parent_group(parent, tol)
    D = irreps_D(irreps, group.rotations)  # e3nn's matrices in numpy (symcheck.o3, tested against e3nn)
    images = group.images(field, D)
    total = float(np.sum(field**2))
    out = []
    for ir, c in zip(group.irreps, group.project_all(images)):
        w = float(np.sum(c**2))
        if w > min_fraction * total:
            out.append((w, ir.label, ir.k))
    return [(label, k) for _, label, k in sorted(out, key=lambda t: -t[0])]


class _CallableModule(types.ModuleType):
    """Lets ``symcheck.modes(parent, child)`` work even where ``symcheck.modes`` resolves to this
    module: Python binds a submodule as an attribute of its package on first import (as for
    ``symcheck.train``), so calling the module calls the function."""

    def __call__(self, *args, **kwargs):
        return modes(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
