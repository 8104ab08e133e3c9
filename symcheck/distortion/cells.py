"""Crystal cells for the mode decomposition: spglib's view of a cell, repeating and turning cells, matching
the child's atoms onto the parent's, and the strain between the two cells.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import spglib
from spglib import error

from ..errors import SymcheckError
from ..groups.group import element_keys
from ..io import read
from ..structure import Structure


def _numbers(species) -> np.ndarray:
    index = {s: n + 1 for n, s in enumerate(dict.fromkeys(species))}
    return np.array([index[s] for s in species])


def spglib_cell(structure: Structure, frac=None, lattice=None):
    lattice = np.asarray(structure.cell, dtype=float) if lattice is None else lattice
    if frac is None:
        frac = np.asarray(structure.positions) @ np.linalg.inv(np.asarray(structure.cell, dtype=float))
    return (lattice, frac, _numbers(structure.species))


def spglib_call(name: str, *args, **kwargs):
    """spglib.<name>(...) with exceptions for errors (its old None-returning mode is deprecated and
    warns); None where spglib finds nothing."""
    old = error.OLD_ERROR_HANDLING
    error.OLD_ERROR_HANDLING = False
    try:
        return getattr(spglib, name)(*args, **kwargs)
    except error.SpglibError:
        return None
    finally:
        error.OLD_ERROR_HANDLING = old


def dataset(cell, symprec: float, what: str):
    ds = spglib_call("get_symmetry_dataset", cell, symprec=symprec)
    if ds is None:
        raise SymcheckError(f"{what}: spglib finds no space group at tol {symprec} Å")
    return ds


def space_group_of(cell, symprec: float) -> tuple[str, int]:
    ds = spglib_call("get_symmetry_dataset", cell, symprec=symprec)
    if ds is None:
        return "?", 0
    return ds.international, int(ds.number)


def n_operations(s: Structure, tol: float) -> int:
    ds = spglib_call("get_symmetry_dataset", spglib_cell(s), symprec=tol)
    return 0 if ds is None else len(ds.rotations)


def sqrtm(A: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh((A + A.T) / 2)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T


# ---------------------------------------------------------------------------------------------
# the two structures


def name_of(s: Structure, what: str) -> str:
    return str(s.source) if getattr(s, "source", None) else what


def load(x, what: str) -> Structure:
    if isinstance(x, Structure):
        return x
    if isinstance(x, (str, Path)):
        return read(x)
    raise SymcheckError(f"{what}: expected a Structure or a file path, got {type(x).__name__}")


def orient(parent: Structure, child: Structure) -> Structure:
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
        return child  # supercell explains what does not fit
    B = best[1]
    U, _, Vt = np.linalg.svd(np.linalg.solve(B, Lc))  # Lc ≈ B Rᵀ: Rᵀ is the polar factor
    Rt = U @ Vt
    cell = Lc @ Rt.T  # the child's cell turned back: ≈ B
    frac = np.asarray(child.positions) @ np.linalg.inv(Lc)
    return Structure(frac @ cell, child.species, cell=cell, pbc=[True] * 3, source=getattr(child, "source", None))


def supercell(parent: Structure, child: Structure, tol: float) -> Structure:
    """The parent (a primitive or small cell) repeated to the child's cell, when it is a multiple."""
    Lp, Lc = np.asarray(parent.cell, dtype=float), np.asarray(child.cell, dtype=float)
    M = Lc @ np.linalg.inv(Lp)  # rows of the child's cell in the parent's basis (strain aside)
    Mi = np.rint(M)
    n = int(round(abs(np.linalg.det(Mi)))) if np.allclose(M, Mi, atol=0.05) else 0
    if n == 0 or n * len(parent) != len(child):
        raise SymcheckError(
            f"{name_of(child, 'child')}: {len(child)} atoms, the parent {len(parent)}, and the child's cell is "
            "not an integer multiple of the parent's (in the parent's orientation)"
        )
    return repeat(parent, Mi.astype(int))


def repeat(s: Structure, K: np.ndarray, with_index: bool = False):
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


def invariant_cell(parent: Structure, tol: float) -> np.ndarray | None:
    """K (integer, rows in the parent's basis) of the smallest n×n×n conventional supercell holding the
    parent's cell, when the parent's own cell is not invariant under its point group; else None.

    spglib lists only the operations that map the given cell onto itself: for a √2×√2×2 cell of a
    cubic perovskite that is a tetragonal subgroup of Pm-3m, and irreps of a subgroup are not the
    parent's. An n×n×n repetition of the conventional cell is invariant under the whole point group.
    """

    cell = spglib_cell(parent)
    ds = dataset(cell, tol, name_of(parent, "parent"))
    rotations = set(element_keys(ds.rotations, decimals=0).tolist())  # distinct point operations
    prim = spglib_call("find_primitive", cell, symprec=tol)
    full = spglib_call("get_symmetry_dataset", prim, symprec=tol) if prim is not None else None
    if full is None or len(set(element_keys(full.rotations, decimals=0).tolist())) == len(rotations):
        return None
    P_inv = np.linalg.inv(np.asarray(ds.transformation_matrix, dtype=float))  # columns: conventional vectors
    n = next(n for n in range(1, 97) if np.allclose(n * P_inv, np.rint(n * P_inv), atol=1e-6))
    return np.rint(n * P_inv.T).astype(int)  # rows: n × the conventional vectors, in the parent's basis


# ---------------------------------------------------------------------------------------------
# matching the child onto the parent


def match(parent: Structure, child: Structure, Lp: np.ndarray, Lc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    from scipy.optimize import linear_sum_assignment  # ~1 s to import; only atoms out of order need it

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
            f"{name_of(child, 'child')}: an atom moves {np.linalg.norm(d, axis=1).max():.3g} Å from the parent, "
            f"more than half the nearest-neighbour distance ({nn:.3g} Å): not a small distortion of the parent"
        )
    return order, d


def _nearest_distance(frac: np.ndarray, L: np.ndarray) -> float:
    d = frac[:, None, :] - frac[None, :, :]
    d -= np.rint(d)
    r = np.linalg.norm(d @ L, axis=-1)
    r[np.diag_indices(len(frac))] = np.inf
    return float(r.min()) if len(frac) > 1 else float(np.linalg.norm(L, axis=1).min())


def strain(Lp: np.ndarray, Lc: np.ndarray, what: str) -> np.ndarray:
    """Symmetric strain U − I with F = R U the deformation taking the parent's cell to the child's."""
    F = Lc.T @ np.linalg.inv(Lp.T)
    U = sqrtm(F.T @ F)
    eps = U - np.eye(3)
    if np.abs(eps).max() > 0.2:
        raise SymcheckError(
            f"{what}: the child's cell differs from the parent's by more than a strain (|ε| = "
            f"{np.abs(eps).max():.2g}); give both in the same cell setting"
        )
    return eps
