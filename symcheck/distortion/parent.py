"""The parent's space group on its supercell, acting on atoms: the finite group F the modes are irreps of.

F is the parent supercell's space group modulo the supercell's translations, factored as F = T·P
(pure translations T, one operation per rotation P) so that large supercells are checked and
projected through their factors. Built once per parent by :func:`parent_group`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..defaults import DEFAULT_TOL
from ..errors import SymcheckError
from ..fixed import affine_average, irrep_project
from ..groups.group import distinct, element_keys, rotation_codes
from ..groups.translations import Matcher
from ..structure import Structure
from . import pm3m_irreps
from .cells import dataset, invariant_cell, name_of, space_group_of, spglib_cell, sqrtm
from .irreps import CrystalIrrep, induced_irreps


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
    irreps: tuple[CrystalIrrep, ...]
    ideal_frac: np.ndarray  # (N, 3) parent positions symmetrized over F (fractional)
    ideal_lattice: np.ndarray  # (3, 3) rows, metric symmetrized over F, orientation kept
    origin: str

    @property
    def order(self) -> int:
        return len(self.rotations)

    @cached_property
    def conv_index(self) -> np.ndarray | None:
        """(|F|,) the rotations numbered as in :mod:`.pm3m_irreps` (Pm-3m only, for ISO-IR's matrices): built
        when a direction is asked for, not for labels (the 48 matrices of 40 irreps cost 0.07 s)."""
        return pm3m_irreps.rotation_indices(self.conv_rotations) if self.number == 221 else None

    def project_all(self, images: np.ndarray) -> np.ndarray:
        """Every irrep's component at once, (n_irreps, N, d): one matrix product over F."""
        chars = np.stack([ir.chars.real for ir in self.irreps])
        return irrep_project(images, chars, [ir.dim / 2 if ir.pair else ir.dim for ir in self.irreps])

    def component_norms(self, field: np.ndarray, D_point: np.ndarray) -> np.ndarray:
        """Squared norm of the field's component in every irrep, (n_irreps,), without its images.

        P_Γ is an orthogonal projector, so |P_Γ y|² = ⟨y, P_Γ y⟩ = (c_Γ/|F|) Σ_f χ_Γ(f) ⟨y, f·y⟩:
        only the |F| overlaps ⟨y, f·y⟩ are needed, summed over the sites where y is nonzero.
        ``D_point``: the field's matrices for the rotations of ``point_ops``, in that order.
        """
        field = np.asarray(field, dtype=float).reshape(len(self.permutations[0]), -1)
        if np.all(field == field[0]):  # the same value v on every site: ⟨y, f·y⟩ = N v·D(R_f) v
            overlaps = (len(field) * np.einsum("a,pab,b->p", field[0], D_point, field[0]))[self.point_of]
        elif len(self.trans_ops) * field.size <= 20_000_000 and len(self.point_ops) * field.size < field[
                np.abs(field).max(axis=1) > 0].size * self.order:
            # f = t ∘ p: ⟨y, t·(p·y)⟩ for all t and p at once, one product of (|T|, N·d) and (N·d, |P|)
            z = np.empty((len(self.point_ops),) + field.shape)  # p·y: D(R_p) y_i lands on σ_p(i)
            z[np.arange(len(self.point_ops))[:, None], self.permutations[self.point_ops]] = np.einsum(
                "pab,nb->pna", D_point, field)
            moved = field[self.permutations[self.trans_ops]]  # (t⁻¹·y)_j = y_σt(j)
            table = moved.reshape(len(self.trans_ops), -1) @ z.reshape(len(self.point_ops), -1).T
            overlaps = table[self.trans_of, self.point_of]
        else:
            sites = np.flatnonzero(np.abs(field).max(axis=1) > 0)
            rotated = np.einsum("pab,sb->psa", D_point, field[sites])  # D(R_p) y_i for each rotation p
            landing = self.permutations[:, sites]  # σ_f(i) for the sites that carry the field
            overlaps = np.empty(self.order)
            step = max(1, 4_000_000 // max(field[sites].size, 1))
            for start in range(0, self.order, step):
                f = np.arange(start, min(start + step, self.order))
                overlaps[f] = np.einsum("csd,csd->c", field[landing[f]], rotated[self.point_of[f]])
        chars = np.stack([ir.chars.real for ir in self.irreps])
        scales = np.array([ir.dim / 2 if ir.pair else ir.dim for ir in self.irreps], dtype=float)
        return scales / self.order * (chars @ overlaps)

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


def _permutations(frac: np.ndarray, W: np.ndarray, w: np.ndarray, lattice: np.ndarray, tol: float, what: str):
    """σ_f for every operation: the atom each atom lands on; and F = T·P factored.

    Returns (σ (|F|, N), P: indices in F of one operation per rotation, T: indices of the pure
    translations, and for each f the positions p, t in P and T with f = t ∘ p).

    Only one operation per rotation and the pure translations are matched (the nearest atom, as for
    the cell's group); every other f = t·p is composed, σ_f = σ_t ∘ σ_p, and checked.
    """
    n = len(frac)
    matcher = Matcher(lattice, frac)

    def match(Ws, ws):
        images = np.matmul(frac[None], np.swapaxes(Ws, 1, 2)) + ws[:, None, :]
        _, idx = matcher.query(images.reshape(-1, 3))
        return idx.reshape(len(Ws), n)

    codes = rotation_codes(W)
    _, first, rot_of = np.unique(codes, return_index=True, return_inverse=True)
    pure = np.flatnonzero(codes == rotation_codes(np.eye(3, dtype=int)[None])[0])
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
    bijective = all(len(distinct(row)) == n for row in np.vstack([sigma_p, sigma_t]))
    if not bijective or (mismatch(first, sigma_p) + mismatch(pure, sigma_t) > 2 * tol
                         and mismatch(np.arange(len(W)), idx) > 2 * tol):
        raise SymcheckError(f"{what}: spglib's operations do not map the atoms onto each other within tol")
    return idx, first, pure, point_of, trans_of


def _translation_codes(t: np.ndarray, den: int = 10**6) -> np.ndarray:
    """One int64 per translation modulo 1, on a 10⁻⁶ grid (den³ < 2⁶³)."""
    q = np.mod(np.rint(np.asarray(t) * den).astype(np.int64), den)
    return q @ np.array([1, den, den * den], dtype=np.int64)


def _primitive_basis(translations: np.ndarray) -> np.ndarray:
    """Rows: a basis (supercell fractional coordinates) of the lattice generated by the
    supercell's own basis and the parent's pure translations within it."""
    n = len(translations)
    gens = np.vstack([np.eye(3), translations])
    M = np.rint(gens * n).astype(int)
    if not np.allclose(M, gens * n, atol=1e-6):
        raise SymcheckError("parent: its pure translations are not commensurate with its cell")
    from hsnf import row_style_hermite_normal_form  # only for a parent's lattice

    H, _ = row_style_hermite_normal_form(M)
    return H[:3] / n


def _ops_key(W: np.ndarray, w: np.ndarray) -> frozenset:
    """The set of operations (W, w) as a set of element keys (translations modulo the lattice, to 1e-5)."""
    return frozenset(element_keys(W, translations=w, decimals=5).tolist())


def parent_group(parent: Structure, tol: float = DEFAULT_TOL) -> ParentGroup:
    """The parent's space group on its supercell, its irreps at every k of the supercell, labelled.

    Parameters
    ----------
    parent : the undistorted (super)cell, periodic in 3D.
    tol : Å, spglib's symmetry tolerance for the parent.
    """
    if parent.cell is None or not all(parent.pbc):
        raise SymcheckError(f"{name_of(parent, 'parent')}: not a 3D-periodic crystal (needs a cell)")
    if invariant_cell(parent, tol) is not None:
        raise SymcheckError(
            f"{name_of(parent, 'parent')}: its cell is not kept by the parent's point group, so its operations are "
            "only a subgroup's; repeat it to an n×n×n conventional cell (modes() and label_field() do)"
        )
    L = np.asarray(parent.cell, dtype=float)
    frac = np.asarray(parent.positions) @ np.linalg.inv(L)
    cell = spglib_cell(parent, frac, L)
    ds = dataset(cell, tol, name_of(parent, "parent"))
    W_S = np.asarray(ds.rotations)
    w_S = np.asarray(ds.translations, dtype=float)
    perms, point_ops, trans_ops, point_of, trans_of = _permutations(frac, W_S, w_S, L, tol, name_of(parent, "parent"))
    R = np.einsum("ab,fbc,cd->fad", L.T, W_S, np.linalg.inv(L.T))

    Wc, wc, origin_frac_S = _conventional_operations(ds, W_S, w_S)
    origin = _origin_text(parent, frac, origin_frac_S, L, ds, tol)

    # Primitive frame for spgrep: x_prim = Q (x_S − o).
    pure = w_S[np.all(W_S == np.eye(3, dtype=int), axis=(1, 2))]
    B = _primitive_basis(pure)
    Q = np.linalg.inv(B.T)
    Wp = np.rint(np.einsum("ab,fbc,cd->fad", Q, W_S, B.T)).astype(int)
    wp = np.einsum("ab,fb->fa", Q, w_S + np.einsum("fab,b->fa", W_S, origin_frac_S) - origin_frac_S)
    P = np.asarray(ds.transformation_matrix, dtype=float)
    irreps = induced_irreps(Wp, wp, Q, P @ B.T, Wc, wc, int(ds.number))
    ideal_frac, ideal_lattice = _symmetrized(frac, L, W_S, w_S, perms, point_ops, trans_ops)
    return ParentGroup(
        structure=parent, tol=tol, space_group=ds.international, number=int(ds.number), rotations=R,
        permutations=perms, point_ops=point_ops, trans_ops=trans_ops, point_of=point_of, trans_of=trans_of,
        conv_rotations=Wc, conv_translations=wc,
        irreps=irreps,
        ideal_frac=ideal_frac, ideal_lattice=ideal_lattice, origin=origin,
    )


def _conventional_operations(ds, W_S: np.ndarray, w_S: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The operations in spglib's conventional (standard) frame x_std = P x + p, and the origin chosen.

    The parent's own origin is kept when it is a standard one too (it then is the origin the user
    drew, e.g. B at 1a, and labels depend on it); otherwise spglib's.

    :returns: rotations (|F|, 3, 3) integer and translations (|F|, 3) in the conventional frame, and
        the chosen origin in the supercell's fractional coordinates.
    """
    P = np.asarray(ds.transformation_matrix, dtype=float)
    Pinv = np.linalg.inv(P)
    Wc = np.rint(np.einsum("ab,fbc,cd->fad", P, W_S, Pinv)).astype(int)

    def conv_translations(p):
        return np.einsum("ab,fb->fa", P, w_S) + p - np.einsum("fab,b->fa", Wc, p)

    p_spg = np.asarray(ds.origin_shift, dtype=float)
    p = np.zeros(3) if _ops_key(Wc, conv_translations(np.zeros(3))) == _ops_key(Wc, conv_translations(p_spg)) else p_spg
    return Wc, conv_translations(p), -Pinv @ p


def _symmetrized(frac: np.ndarray, L: np.ndarray, W_S: np.ndarray, w_S: np.ndarray, perms: np.ndarray,
                 point_ops: np.ndarray, trans_ops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An exactly symmetric copy of the parent (fractional positions, lattice rows with the metric
    averaged over F and the orientation kept), for naming isotropy subgroups with spglib.

    F = T·P (every f = t ∘ p once), so the average over F is the average over the pure
    translations T of the average over one operation p per rotation: |T| + |P| images, not |T|·|P|.
    """
    G = L @ L.T
    Wp = W_S[point_ops]
    G_sym = np.einsum("fba,bc,fcd->ad", Wp, G, Wp) / len(Wp)
    by_rotation = affine_average(frac, Wp, w_S[point_ops], perms[point_ops])
    averaged = affine_average(by_rotation, W_S[trans_ops], w_S[trans_ops], perms[trans_ops])
    return averaged, sqrtm(G_sym) @ np.linalg.inv(sqrtm(G)) @ L


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


# ---------------------------------------------------------------------------------------------
# stabilizers and isotropy subgroups


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
    return space_group_of(spglib_cell(group.structure, frac, group.ideal_lattice), 1e-4)
