"""Symmetry-breaking features: the most symmetric extra inputs that make a task learnable (DESIGN §6).

A feature v (global, appended to every point, or a field on one orbit of points) lowers the
input group G to G' = Stab_G(v). The task becomes learnable iff G' ⊆ H = Stab_G(target); since
every candidate lies in W = Fix_H(V) ⊖ Fix_G(V), G' ⊇ H, and the most symmetric fix has G' = H.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import SymcheckError
from .fixed import field_fixed_space, fixed_space
from .groups.group import operation_keys
from .groups.pointgroup import PointGroup
from .groups.stabilizer import stabilizer
from .o3 import Irreps
from .structure import Structure


@dataclass(frozen=True)
class Suggestion:
    """One symmetry-breaking input.

    Parameters
    ----------
    irreps : e3nn irreps of the feature, e.g. ``"2e"`` (``"1o+2e"`` for a pair).
    scope : ``"global"`` (the same vector on every point) or ``"per-point"`` (a field on ``sites``).
    vector : (d,) for global features, (N, d) for per-point fields, e3nn basis, unit norm.
    polynomial : Cartesian polynomial in the file's x, y, z (e.g. ``x**2 - y**2``); plain words for
        pseudo-tensors and fields.
    stabilizer : name of Stab_G(v), the input group left once v is added.
    stabilizer_order : its order (None if infinite).
    reaches_target : True when the stabilizer is exactly H, so the task becomes learnable.
    candidate_dim : dimension of W = Fix_H ⊖ Fix_G for this irrep and scope.
    sites : atoms that carry a per-point field (None for global features).
    irrep_label : the irrep(s) of G the feature transforms as (Mulliken, e.g. ``"B1g"``), for
        finite point groups.
    group_name : the name of G, for the label.
    irrep_setting : the setting the label is given in, in plain words (which axes are C2′, which
        planes σv; for crystals the origin): labels such as B1u/B2u swap between settings.
    irrep_k : for crystals, the k-point of each label in fractions of the reciprocal basis.
    """

    irreps: str
    scope: str
    vector: np.ndarray
    polynomial: str
    stabilizer: str
    stabilizer_order: int | None
    reaches_target: bool
    candidate_dim: int
    sites: tuple[int, ...] | None = None
    irrep_label: str | None = None
    group_name: str | None = None
    irrep_setting: str | None = None
    irrep_k: tuple[tuple[float, ...], ...] | None = None

    @property
    def L(self) -> int:
        """Highest L of the feature."""
        return Irreps(self.irreps).lmax

    @property
    def even(self) -> bool:
        """True when every irrep of the feature has even parity."""
        return all(ir.p == 1 for _, ir in Irreps(self.irreps))

    @property
    def description(self) -> str:
        """One line: what to add, e.g. ``the global L=2 feature x**2 - y**2 (2e)``."""
        if self.irrep_k is not None and self.irrep_label:  # crystals speak of order parameters
            what = f"a global {self.irreps} feature {self.polynomial}" if self.scope == "global" else \
                f"a per-site {self.irreps} field: {self.polynomial}"
            noun = "order parameters" if " + " in self.irrep_label else "order parameter"
            return f"the {self.irrep_label} {noun} of {self.group_name}: {what}"
        label = f", transforms as {self.irrep_label} of {self.group_name}" if self.irrep_label else ""
        if self.scope == "global":
            return f"the global L={self.L} feature {self.polynomial} ({self.irreps}){label}"
        return f"a per-point {self.irreps} field: {self.polynomial}{label}"

    def rank_key(self) -> tuple:
        """Ranking (DESIGN §6): a fix (stabilizer exactly H) before any that is not, then global before
        per-point, lowest L, single irreps before pairs, smallest W, smallest site orbit, even parity."""
        return (
            not self.reaches_target,
            self.scope != "global",
            self.L,
            "+" in self.irreps,
            self.candidate_dim,
            len(self.sites) if self.sites else 0,
            not self.even,
        )

    def as_dict(self) -> dict:
        """Plain-JSON form."""
        return {
            "irreps": self.irreps,
            "scope": self.scope,
            "polynomial": self.polynomial,
            "stabilizer": self.stabilizer,
            "stabilizer_order": self.stabilizer_order,
            "reaches_target": self.reaches_target,
            "candidate_dim": self.candidate_dim,
            "sites": None if self.sites is None else list(self.sites),
            "irrep_label": self.irrep_label,
            "irrep_setting": self.irrep_setting,
            "k": None if self.irrep_k is None else [list(k) for k in self.irrep_k],
            "vector": np.round(self.vector, 12).tolist(),
            "description": self.description,
        }


def irrep_name(l: int, p: int) -> str:
    """e3nn name of one irrep, e.g. (2, 1) → ``"2e"``."""
    return f"{l}{'e' if p == 1 else 'o'}"


def candidate_space(G: PointGroup, H: PointGroup, irreps: str, per_point: bool, sub=None) -> np.ndarray:
    """Orthonormal basis (columns) of W = Fix_H(V) ⊖ Fix_G(V).

    ``sub`` restricts a per-point field to a set of atoms that both groups map onto itself.
    """
    return _spaces(G, H, irreps, per_point, sub)[0]


def _spaces(G, H, irreps: str, per_point: bool, sub=None) -> tuple[np.ndarray, np.ndarray]:
    """(W, Fix_G(V)): the candidate space and the invariant space it is the complement of."""
    if sub is not None:
        FG, FH = field_fixed_space(G, irreps, sub), field_fixed_space(H, irreps, sub)
    else:
        FG = fixed_space(G.generators, irreps, per_point)
        FH = fixed_space(H.generators, irreps, per_point)
    return _complement(FH, FG), FG


def _complement(W: np.ndarray, K: np.ndarray, rtol: float = 1e-6) -> np.ndarray:
    """Orthonormal basis of {w ∈ span(W) : w ⊥ span(K)}, for W with orthonormal columns.

    Works in W's own coordinates (the small matrix Wᵀ K), so a large W is never orthonormalised
    again: its columns are multiplied by an orthogonal matrix. When K removes few directions, that
    matrix is a product of as many Householder reflections, applied one by one (O(n·dim W) each
    instead of O(n·dim W²) for the whole matrix).
    """
    if W.shape[1] == 0 or K.shape[1] == 0:
        return W
    A = W.T @ K
    U, sv, _ = np.linalg.svd(A, full_matrices=False)
    rank = int(np.sum(sv > rtol * max(1.0, float(sv[0]) if len(sv) else 0.0)))
    if rank == 0:
        return W
    if rank > REFLECTIONS:
        U, _, _ = np.linalg.svd(A, full_matrices=True)
        return W @ U[:, rank:]
    # Householder reflections H_k = I − 2 v_k v_kᵀ whose product Q = I − V T Vᵀ has span(U_r) as
    # its first columns; W Q[:, rank:] is then two thin matrix products
    X = U[:, :rank].copy()
    V = np.zeros((W.shape[1], rank))
    T = np.zeros((rank, rank))
    for k in range(rank):
        x = X[k:, k]
        v = x.copy()
        v[0] += np.copysign(np.linalg.norm(x), x[0])
        v /= np.linalg.norm(v)
        X[k:] -= 2.0 * np.outer(v, v @ X[k:])
        V[k:, k] = v
        T[k, k] = 2.0
        T[:k, k] = -2.0 * T[:k, :k] @ (V[:, :k].T @ V[:, k])
    out = (W @ V) @ (T @ V[rank:].T)
    return np.subtract(W[:, rank:], out, out=out)  # in place: W is large, one copy of it is enough


REFLECTIONS = 64  # directions removed one reflection at a time; more: one SVD of W's coordinates


def _polynomial(v: np.ndarray, l: int, p: int) -> str:
    from .polynomials import describe

    return describe(v, l, p)


def _canonical_sign(v: np.ndarray, l: int, p: int) -> np.ndarray:
    """v or −v, whichever reads better: a breaking direction's sign is free (both break alike),
    so pick the one whose polynomial (at the first site) does not start with a minus sign."""
    first = v if v.ndim == 1 else v[0]
    if np.linalg.norm(first) < 1e-12:
        return v
    return -v if _polynomial(first, l, p).startswith("-") else v


def suggest(
    G: PointGroup,
    H: PointGroup,
    structure: Structure,
    lmax: int = 4,
    target: np.ndarray | None = None,
    target_irreps: str | None = None,
    per_point_target: bool = True,
    tol: float = 1e-6,
    setting: str | None = None,
) -> list[Suggestion]:
    """Ranked symmetry-breaking features that lower G towards H, for every irrep (L ≤ lmax, both parities).

    The search is exact: for every irrep and scope (global, or a field on one orbit of sites) it
    decides whether some feature has stabilizer exactly H, and then builds one.

    Parameters
    ----------
    G, H : the input group and the target's stabilizer in it.
    structure : the input structure (its points carry per-point fields).
    lmax : highest L of the candidate features (``feature_lmax``).
    target, target_irreps, per_point_target : the task's target, whose own field is never suggested.
    tol : relative change of a unit feature below which an operation counts as keeping it.
    setting : which axes and planes the irrep labels name C2′ / σv (see ``groups.characters``).
    """
    if _same_group(G, H):
        return []
    found: list[tuple[Suggestion, np.ndarray | None]] = []
    elements = _Elements(G, H) if G.finite else None
    global_spaces = {}
    for l in range(lmax + 1):
        for p in (1, -1):
            irr = irrep_name(l, p)
            W = candidate_space(G, H, irr, per_point=False)
            global_spaces[irr] = W
            if W.shape[1]:
                found.append(_suggestion(G, H, structure, W, l, p, "global", None, tol, elements))
    found.extend(_per_point(G, H, structure, lmax, global_spaces, target, target_irreps, per_point_target, tol,
                            elements))
    if not any(s.reaches_target for s, _ in found):
        found.extend(_pairs(G, H, structure, [f for f in found if f[0].scope == "global"], tol, elements))
    out = [s for s, _ in found]
    return sorted(_with_irrep_labels(G, out, setting, structure), key=Suggestion.rank_key)


def _with_irrep_labels(G: PointGroup, suggestions: list[Suggestion], setting: str | None = None,
                       structure: Structure | None = None) -> list[Suggestion]:
    """Name the irrep of G each feature transforms as, with the setting the name depends on.

    Point groups, finite and infinite (Σu+, Πu of D∞h; Dg of Kh), in Mulliken's notation;
    crystals by the irreps of the space group at k-points of the supercell (ISOTROPY's R4+, M3+ …,
    see ``symcheck.modes``), with the origin the labels refer to.
    """
    from dataclasses import replace

    if not suggestions:
        return suggestions
    if G.periodic:
        return _with_space_group_labels(G, suggestions, structure) if structure is not None else suggestions
    from .groups.characters import character_table
    from .groups.decomposition import irrep_labels

    table = character_table(G, setting)
    return [
        replace(s, irrep_label="+".join(irrep_labels(G, s.vector, s.irreps, s.scope != "global", table=table)),
                group_name=G.pretty_name, irrep_setting=table.setting)
        for s in suggestions
    ]


def _with_space_group_labels(G, suggestions: list[Suggestion], structure: Structure) -> list[Suggestion]:
    """Crystal suggestions labelled by the space-group irreps (and k) their fields carry."""
    from dataclasses import replace

    from .distortion import label_field, parent_group

    try:
        parent = parent_group(structure, G.tol)
    except SymcheckError:  # a cell the point group does not keep: label_field repeats it itself
        parent = None
    except Exception:  # noqa: BLE001 - labels are extra information; spgrep fails on some groups
        return suggestions
    out = []
    for s in suggestions:
        field = s.vector if s.scope != "global" else np.tile(s.vector, (len(structure), 1))
        try:
            labels = label_field(structure, field, s.irreps, tol=G.tol, group=parent)
        except Exception:  # noqa: BLE001 - an unlabelled suggestion is still right
            out.append(s)
            continue
        if not labels or len(labels) > ORDER_PARAMETERS:  # a local field (a defect's), not an order parameter
            out.append(s)
            continue
        out.append(replace(s, irrep_label=" + ".join(label for label, _ in labels), group_name=G.pretty_name,
                           irrep_k=tuple(tuple(float(x) for x in k) for _, k in labels),
                           irrep_setting=getattr(parent, "origin", None)))
    return out


ORDER_PARAMETERS = 4  # a field carrying more irreps than this is described by its sites, not labelled


def _same_group(A: PointGroup, B: PointGroup) -> bool:
    """The same subgroup of G (not merely the same name: D4h has two D2h subgroups)."""
    from .groups.stabilizer import same_group

    return same_group(A, B)


def _candidates(W: np.ndarray, shape, seed: int = 0, limit: int | None = None):
    """Representatives of W: projections of basis vectors (simple polynomials first), then a generic one.

    ``limit`` bounds the projections tried (large site orbits have thousands); it only affects
    how simple the representative reads, never whether one is found.
    """
    norms = np.linalg.norm(W, axis=1)  # |projection of basis vector m| = |row m of W|
    order = np.argsort(-norms, kind="stable")
    order = order[norms[order] > 1e-6][:limit]
    for start in range(0, len(order), 32):  # 32 projections per matrix product
        cols = W @ W[order[start:start + 32]].T
        for col in cols.T:
            yield (col / np.linalg.norm(col)).reshape(shape)
    rng = np.random.default_rng(seed)
    v = W @ rng.normal(size=W.shape[1])
    yield (v / np.linalg.norm(v)).reshape(shape)


def _suggestion(G, H, structure, W, l, p, scope, sites, tol, elements=None,
                background=None) -> tuple[Suggestion, np.ndarray | None]:
    """The feature of span(W) with the smallest stabilizer, which is exactly H whenever any is.

    ``background``: directions a per-site field may be shifted along (see ``_background``) when
    that zeroes it on more sites and keeps exactly the same elements.
    Returns the suggestion and, for finite G, the mask of the elements of G that keep it.
    """
    irr = irrep_name(l, p)
    n = len(structure)
    shape = (-1,) if scope == "global" else (len(sites), 2 * l + 1)
    if G.finite:
        action = _Action(elements or _Elements(G, H), irr, sites)
        keep = _pointwise_fixers(action, W, shape, tol)
        v = _representative(action, W, shape, keep, tol)
        if background is not None and background.shape[1]:
            v = _sparser(action, v, background, keep, tol)
        v = _canonical_sign(v, l, p)
        exact = bool(np.array_equal(keep, action.in_H))
    else:  # infinite G: the detector's scans decide, on the whole basis at once
        v, keep, exact = _infinite_representative(G, H, structure, W, l, p, shape, sites, tol), None, None
    field = v if scope == "global" else _embed(v, sites, n)
    S = H if exact else stabilizer(G, structure, field, irr, scope != "global", tol)
    exact = _same_group(S, H) if exact is None else exact
    if scope == "global":
        text = _polynomial(field, l, p)
    else:
        text = _field_text(field, sites, l, p, structure, G)
    suggestion = Suggestion(irr, scope, field, text, S.name, S.order, exact, W.shape[1],
                            None if sites is None else tuple(int(s) for s in sites))
    return suggestion, keep


def _infinite_representative(G, H, structure, W, l, p, shape, sites, tol) -> np.ndarray:
    """For an infinite G: a vector of span(W) whose stabilizer is that of the whole span.

    The span's stabilizer comes from the detector run with every basis vector as a feature (an
    exact one-parameter scan); simple vectors are tried first, then fixed generic combinations,
    each checked by the same detector.
    """
    irr = irrep_name(l, p)
    k = W.shape[1]
    per_point = sites is not None
    d = 2 * l + 1

    def as_field(vectors: np.ndarray, copies: int) -> np.ndarray:
        if not per_point:
            return vectors.T.reshape(-1)
        rows = vectors.reshape(len(sites), d, copies).transpose(0, 2, 1).reshape(len(sites), copies * d)
        return _embed(rows, sites, len(structure))

    whole = stabilizer(G, structure, as_field(W, k), f"{k}x{irr}", per_point, tol)
    tries = list(_candidates(W, shape))
    rng = np.random.default_rng(11)
    tries += [(W @ c / np.linalg.norm(W @ c)).reshape(shape) for c in rng.normal(size=(8, k))]
    for v in tries:
        S = stabilizer(G, structure, as_field(v.reshape(-1, 1), 1), irr, per_point, tol)
        if _same_group(S, whole):
            return v
    return tries[-1]


def _field_text(field: np.ndarray, sites, l: int, p: int, structure: Structure, G: PointGroup) -> str:
    """Plain words for a field on one orbit: its value at the first site, which sites, the pattern."""
    size = np.linalg.norm(field[list(sites)], axis=1)
    carrying = [int(a) for a, x in zip(sites, size) if x > 1e-9 * size.max()]
    first = carrying[0] if carrying else int(sites[0])
    species = structure.species[first]
    wyckoffs = getattr(G, "wyckoffs", ())
    where = f"the {len(sites)} {species} sites" + (f" (Wyckoff {wyckoffs[first]})" if wyckoffs else "")
    value = _polynomial(field[first], l, p)
    if len(carrying) == 1:
        return f"{value} on atom {first} only (zero on the other {len(sites) - 1} of {where})"
    if len(carrying) <= FEW_SITES < len(sites):  # name the sites; the pattern is read among them
        atoms = ", ".join(str(a) for a in carrying)
        return (f"{value} at atom {first}; nonzero only on atoms {atoms} of {where}: "
                f"{_pattern(field, carrying, first, structure)}")
    return f"{value} at atom {first}; on {where}, {_pattern(field, sites, first, structure)}"


FEW_SITES = 8  # a field on at most this many sites of an orbit names them


def _pattern(field: np.ndarray, sites, ref: int, structure: Structure) -> str:
    """'the same on every site', 'alternating along x, z', or 'varying from site to site'."""
    v0 = field[ref]
    c = np.array([field[s] @ v0 / (v0 @ v0) for s in sites])
    if field.shape[1] == 1 and not np.allclose(np.abs(c), 1, atol=1e-6):  # scalars of several sizes
        sizes = np.abs(field[list(sites), 0])
        levels = sorted(set(np.round(sizes / sizes.max(), 3).tolist()), reverse=True)
        counts = [int(np.sum(np.isclose(sizes / sizes.max(), x, atol=1e-3))) for x in levels]
        scale = float(np.abs(field[ref, 0]))
        sites_ = lambda k: f"{k} site" + ("s" if k != 1 else "")  # noqa: E731
        parts = [f"±{x * sizes.max() / scale:.3g} on {sites_(k)}" for x, k in zip(levels, counts) if x > 0]
        zero = sum(k for x, k in zip(levels, counts) if x == 0)
        return "with values " + ", ".join(parts) + (f", zero on {sites_(zero)}" if zero else "")
    if not all(np.allclose(field[s], ci * v0, atol=1e-6) for s, ci in zip(sites, c)) or not np.allclose(
        np.abs(c), 1, atol=1e-6
    ):
        return "varying from site to site (rotated copies)"
    if np.all(c > 0):
        return "the same on every site"
    # which axes the sign alternates along: sign = (−1)^(Σ over those axes of the site's index along it)
    pos = structure.positions[list(sites)]
    index = np.stack([np.unique(np.round(pos[:, k], 3), return_inverse=True)[1] for k in range(3)], axis=1)
    for mask in range(1, 8):
        axes = [k for k in range(3) if mask >> k & 1]
        if np.all(np.sign(c) == (-1.0) ** index[:, axes].sum(axis=1)):
            return "alternating along " + ", ".join("xyz"[k] for k in axes)
    return "with signs alternating between sites"


def _smaller(A: PointGroup, B: PointGroup) -> bool:
    if A.infinite:
        return False
    return B.infinite or A.order < B.order


def _embed(v: np.ndarray, sites, n: int) -> np.ndarray:
    out = np.zeros((n, v.shape[1]))
    out[list(sites)] = v
    return out


def _per_point(G, H, structure, lmax, global_spaces, target, target_irreps, per_point_target, tol, elements):
    orbits = sorted(G.equivalent_atoms, key=len)
    out = []
    for orbit in orbits:
        sub = np.array(orbit)
        for l in range(lmax + 1):
            for p in (1, -1):
                irr = irrep_name(l, p)
                FG, FH = field_fixed_space(G, irr, sub), field_fixed_space(H, irr, sub)
                # what a global feature already offers (the same vector on every site) adds nothing new
                Wg = global_spaces[irr]
                tiles = [np.tile(Wg[:, k], len(sub)) for k in range(Wg.shape[1])]
                targets = _target_directions(target, target_irreps, per_point_target, sub, l, p, G)
                # all three kinds lie in Fix_H (see _target_directions): one complement removes them
                known = [FG] + ([np.array(tiles + targets).T] if tiles or targets else [])
                W = _complement(FH, np.concatenate(known, axis=1))
                if W.shape[1]:
                    background = _background(FG, tiles, targets)
                    out.append(_suggestion(G, H, structure, W, l, p, "per-point", sub, tol, elements, background))
    return out


def _background(FG: np.ndarray, tiles: list[np.ndarray], targets: list[np.ndarray]) -> np.ndarray:
    """Directions a per-site field may be shifted along to read more simply (orthonormal columns).

    The G-invariant fields (a shift along them never changes which elements keep a field) and the
    global features tiled over the sites (a shift is kept only if it changes nothing), both with
    the target's own directions taken out: a suggestion never carries the target.
    """
    M = np.concatenate([FG, np.array(tiles).reshape(len(tiles), -1).T], axis=1) if tiles else FG
    if targets and M.shape[1]:
        T = np.array(targets).T
        M = M - T @ np.linalg.lstsq(T, M, rcond=None)[0]
    if not M.shape[1]:
        return M
    U, sv, _ = np.linalg.svd(M, full_matrices=False)
    return U[:, sv > 1e-9 * max(1.0, float(sv[0]))]


def _target_directions(target, target_irreps, per_point_target, sub, l, p, G) -> list[np.ndarray]:
    """The target's own (L, p) components on these sites: the trivial 'breaking' never suggested."""
    if target is None or not per_point_target:
        return []
    from .fixed import project

    dirs = []
    irreps = Irreps(target_irreps)
    for (mul, ir), columns in zip(irreps, irreps.slices()):
        if ir != (l, p):
            continue
        for block in target[:, columns].reshape(len(target), mul, ir.dim).transpose(1, 0, 2):
            moved = block - project(G, irrep_name(l, p), block, per_point=True)
            part = moved[sub].reshape(-1)
            if np.linalg.norm(part) > 1e-12:
                dirs.append(part / np.linalg.norm(part))
    return dirs


def _pairs(G, H, structure, singles, tol, elements=None) -> list[tuple[Suggestion, None]]:
    """Pairs of global features whose common stabilizer is exactly H (when no single one reaches it).

    Each single keeps exactly the elements that fix its whole candidate space, so for finite G
    the pair keeps the intersection, decided without a search.
    """
    out = []
    in_H = None if elements is None else elements.in_H
    for i in range(len(singles)):
        for j in range(i + 1, len(singles)):
            (a, keep_a), (b, keep_b) = singles[i], singles[j]
            irreps = f"{a.irreps}+{b.irreps}"
            v = np.concatenate([a.vector, b.vector]) / np.sqrt(2)
            if in_H is not None:
                if not np.array_equal(keep_a & keep_b, in_H):
                    continue
                S = H
            else:
                S = stabilizer(G, structure, v, irreps, False, tol)
                if not _same_group(S, H):
                    continue
            out.append((Suggestion(irreps, "global", v, f"{a.polynomial} and {b.polynomial}", S.name,
                                   S.order, True, a.candidate_dim + b.candidate_dim), None))
    return out


# ---------------------------------------------------------------------------------------------
# The exact search (DESIGN §6). A subspace U of Fix_H(V) holds an element whose stabilizer is
# exactly H iff no g ∉ H fixes U pointwise: the elements fixed by a generic v ∈ U are the ones
# that fix U pointwise (U is not a finite union of proper subspaces Fix_K(U), K ⊋ H). That is
# the test "dim Fix_H(U) > dim Fix_K(U) for every minimal overgroup K = <H, g>", read element
# by element. A representative is then built deterministically: start from the simplest basis
# projection and add further ones until no element outside H fixes it.
# ---------------------------------------------------------------------------------------------


class _Elements:
    """A finite group's elements, grouped by rotation, as arrays built once per search.

    Point groups list their elements; space groups are read in their factored form (one coset
    r·T per point operation r), so a supercell's thousands of elements cost one permutation block
    per rotation, built when needed, and never one Python object each.
    """

    def __init__(self, G, H):
        self._wigner: dict[str, np.ndarray] = {}
        self._local: dict[bytes, tuple] = {}
        if G.periodic:
            self._init_space_group(G, H)
            return
        ops = G.operations
        mats = np.stack([op.matrix for op in ops])
        _, first, rotation_of = np.unique(np.round(mats, 6).reshape(len(mats), 9), axis=0,
                                          return_index=True, return_inverse=True)
        self._rotation_of = rotation_of = rotation_of.reshape(-1)
        self.rotations = mats[first]
        self.by_rotation = [np.flatnonzero(rotation_of == u) for u in range(len(first))]
        self._perms = np.array([op.permutation for op in ops])
        self.in_H = np.isin(G.element_keys(), H.element_keys())
        self.size = len(ops)

    def _init_space_group(self, G, H) -> None:
        from .groups.crystal import element_pairs

        cg = G.cell_group
        T, m = cg.T, len(G.translation_indices)
        self.rotations = np.stack([cg.reps[k].matrix for k in G.point_indices.tolist()])
        self.by_rotation = [np.arange(u * m, (u + 1) * m) for u in range(len(G.point_indices))]
        self._cosets = [(cg.rep_perm[k], np.asarray(T.add(np.full(m, v0), G.translation_indices)))
                        for k, v0 in zip(G.point_indices.tolist(), G.rep_shifts.tolist())]
        self._T = T
        self._perms = None
        self._blocks: dict[int, np.ndarray] = {}
        in_h = set(element_pairs(H)) if H.periodic and H.cell_group is cg else None
        if in_h is None:  # H built apart from G: compare elements by key
            ops = [cg.element(k, int(v)) for k, (_, vs) in zip(G.point_indices.tolist(), self._cosets) for v in vs]
            self.in_H = np.isin(operation_keys(ops), H.element_keys())
        else:
            self.in_H = np.array([(k, int(v)) in in_h
                                  for k, (_, vs) in zip(G.point_indices.tolist(), self._cosets) for v in vs])
        self.size = len(self.in_H)

    def perm_block(self, u: int, select=None) -> np.ndarray:
        """Permutations (len, N) of the elements with rotation u (``select``: positions among them)."""
        if self._perms is not None:
            members = self.by_rotation[u]
            return self._perms[members if select is None else members[select]]
        rep_perm, vs = self._cosets[u]
        if select is not None:
            return self._T.perms(vs[select])[:, rep_perm]
        if u not in self._blocks:
            block = self._T.perms(vs)[:, rep_perm]
            if self.size * block.shape[1] > CACHED_PERMUTATIONS:
                return block
            self._blocks[u] = block
        return self._blocks[u]

    def perm(self, g: int) -> np.ndarray:
        """The permutation of element g."""
        if self._perms is not None:
            return self._perms[g]
        u, j = divmod(g, len(self.by_rotation[0]))
        return self.perm_block(u, np.array([j]))[0]

    def local_permutations(self, sites: np.ndarray, local: np.ndarray):
        """Every element's permutation of one set of sites, in local indices, rotation by rotation.

        Returns (element indices, rotation numbers, permutations (|G|, len(sites))). Cached per set
        of sites: every irrep searched on the same orbit reads the same permutations.
        """
        key = np.asarray(sites).tobytes()
        if key not in self._local:
            order = np.concatenate(self.by_rotation)
            rot = np.concatenate([np.full(len(m), u) for u, m in enumerate(self.by_rotation)])
            dtype = np.int32 if len(sites) < 2**31 else np.int64
            perms = np.concatenate([local[self.perm_block(u)[:, sites]].astype(dtype)
                                    for u in range(len(self.by_rotation))])
            if self.size * len(sites) > CACHED_PERMUTATIONS:  # too big to keep for the next irrep
                return order, rot, perms
            self._local[key] = (order, rot, perms)
        return self._local[key]

    def rotation_index(self, g: int) -> int:
        """Which distinct rotation element g has."""
        if self._perms is None:  # space groups: elements numbered coset by coset
            return g // len(self.by_rotation[0])
        return int(self._rotation_of[g])

    def wigner(self, irreps: str) -> np.ndarray:
        """D(R) of each distinct rotation on ``irreps``."""
        from .fixed import wigner_D

        if irreps not in self._wigner:
            self._wigner[irreps] = wigner_D(irreps, self.rotations)
        return self._wigner[irreps]


class _Action:
    """The elements of a finite group G acting on one irrep, globally or on one set of sites.

    Each distinct rotation's Wigner matrix is applied once for all elements that share it.
    """

    CHUNK = 4_000_000  # floats per temporary array

    def __init__(self, elements: _Elements, irreps: str, sites=None):
        self.elements = elements
        self.by_rotation = elements.by_rotation
        self.Du = elements.wigner(irreps)
        self.sites = None if sites is None else np.asarray(sites)
        if sites is not None:
            self.local = np.full(len(elements.perm(0)), -1)
            self.local[self.sites] = np.arange(len(self.sites))
        self.in_H = elements.in_H
        self.size = elements.size
        self._all = None

    def D(self, g: int) -> np.ndarray:
        """The Wigner matrix of element g."""
        return self.Du[self.elements.rotation_index(g)]

    def local_perm(self, g: int) -> np.ndarray:
        """Element g's permutation of the sites, in local indices."""
        return self.local[self.elements.perm(g)[self.sites]]

    def _all_local(self):
        """Elements rotation by rotation: their indices, rotation numbers and site permutations."""
        if self._all is None:
            self._all = self.elements.local_permutations(self.sites, self.local)
        return self._all

    def fixers_each(self, vs: list[np.ndarray], tol: float) -> np.ndarray:
        """Masks (len(vs), |G|) of the elements that leave each vector unchanged.

        A vector v, (d,) global or (m, d) on the sites, is unchanged by g = (R, σ) when
        D(R) v[i] = v[σ(i)] for every site i, to ``tol`` relative to its largest entry. For
        fields, a few sites where the vectors are largest are checked first: an element that
        fails there fails, and only the survivors are checked on every site.
        """
        V = np.stack(vs, axis=-1)  # (d, C) or (m, d, C)
        C = V.shape[-1]
        scale = np.maximum(np.abs(V).reshape(-1, C).max(axis=0), 1e-300)
        if self.sites is None:
            moved = np.zeros((self.size, C))
            for u, members in enumerate(self.by_rotation):
                moved[members] = np.abs(np.einsum("ab,bc->ac", self.Du[u], V) - V).max(axis=0)[None]
            return (moved <= tol * scale).T
        out = np.zeros((self.size, C), dtype=bool)
        order, rot, perms = self._all_local()
        for c in range(C):  # each vector probed where it is largest: zeros there would prove nothing
            v = V[..., c]
            probe = np.argsort(-np.abs(v).max(axis=1), kind="stable")[:PROBE_SITES]
            limit = tol * scale[c]
            gp = np.einsum("uab,mb->uma", self.Du, v[probe])  # D(R) v at the probe sites, per rotation
            # the largest site first, looked up rather than probed: g = (R_u, σ) can keep v only if
            # σ sends that site to one whose value is D(R_u) of its value
            lands = np.abs(v[None, :, :] - gp[:, 0, None, :]).max(axis=2) <= limit  # (rotations, m)
            todo = np.flatnonzero(lands[rot, perms[:, probe[0]]])
            near = np.abs(gp[rot[todo]] - v[perms[todo][:, probe]]).max(axis=(1, 2)) <= limit
            todo = todo[near]
            if not len(todo):
                continue
            used = np.unique(rot[todo])  # D(R) v on every site, only for the rotations still in play
            gv = np.zeros((len(self.Du),) + v.shape)
            gv[used] = np.einsum("uab,mb->uma", self.Du[used], v)
            step = max(1, self.CHUNK // max(v.size, 1))
            for start in range(0, len(todo), step):
                idx = todo[start:start + step]
                out[order[idx], c] = np.abs(gv[rot[idx]] - v[perms[idx]]).max(axis=(1, 2)) <= limit
        return out.T

    def fixers(self, v: np.ndarray, tol: float) -> np.ndarray:
        """Mask of the elements that leave v unchanged."""
        return self.fixers_each([v], tol)[0]


def _pointwise_fixers(action: _Action, basis: np.ndarray, shape, tol: float) -> np.ndarray:
    """Mask of the elements that fix every vector of span(basis) (columns) — exactly.

    A generic combination first rules out every element that moves it (an element that fixes
    the span fixes the combination too); the few left are checked on every basis vector.
    """
    B = basis.reshape(*shape, basis.shape[1])
    c = np.random.default_rng(7).normal(size=basis.shape[1])
    maybe = action.fixers(B @ c, tol)
    if action.sites is None:  # a global feature: whether g keeps it depends on g's rotation only
        for members in action.by_rotation:
            if np.any(maybe[members] & ~action.in_H[members]) and not _Single(action, members[0]).fixes(B, tol):
                maybe[members] = False
        return maybe
    for g in np.flatnonzero(maybe & ~action.in_H):
        one = _Single(action, g)
        if not one.fixes(B, tol):
            maybe[g] = False
    return maybe


class _Single:
    """One element of an action, to test a whole basis at once."""

    def __init__(self, action: _Action, g: int):
        self.D = action.D(g)
        self.perm = None if action.sites is None else action.local_perm(g)

    def fixes(self, B: np.ndarray, tol: float) -> bool:
        scale = max(float(np.max(np.abs(B), initial=0.0)), 1e-300)
        if self.perm is None:
            return float(np.max(np.abs(np.einsum("ab,bk->ak", self.D, B) - B), initial=0.0)) <= tol * scale
        gB = np.einsum("ab,mbk->mak", self.D, B)
        return float(np.max(np.abs(gB - B[self.perm]), initial=0.0)) <= tol * scale


def _representative(action: _Action, W: np.ndarray, shape, goal: np.ndarray, tol: float) -> np.ndarray:
    """A unit vector of span(W) fixed by exactly the elements in ``goal`` (the pointwise fixers of W).

    Simple vectors first (projections of basis directions, which read as short polynomials);
    while an element outside ``goal`` still fixes v, add the simplest direction it moves. Each
    step removes at least that element, so the loop ends; the coefficients come from a fixed
    list, and one that happens to keep an element for a special value is skipped.
    """
    simple = list(_candidates(W, shape, limit=SIMPLE_CANDIDATES))
    masks = action.fixers_each(simple, tol)
    start = min(range(len(simple)), key=lambda k: int(masks[k].sum()))  # first of the least symmetric
    v, fixed = simple[start], masks[start]
    # every element outside goal moves some basis vector of W (that is what goal means)
    pool = simple + [W[:, k].reshape(shape) for k in range(W.shape[1])]
    while np.any(fixed & ~goal):
        g = int(np.flatnonzero(fixed & ~goal)[0])
        step = _without(action, v, fixed, g, pool, tol)
        if step is None:  # impossible when goal is the pointwise fixer of W
            raise AssertionError("breaking search: no direction of W moves an element outside its fixers")
        v, fixed = step
    return v


def _without(action: _Action, v: np.ndarray, fixed: np.ndarray, g: int, pool, tol: float):
    """v plus a multiple of the first direction in ``pool`` that g moves, so that g no longer fixes
    it and nothing new does; (vector, its fixers), or None when no direction serves."""
    one = _Single(action, g)
    for u in pool:
        if one.fixes(u[..., None], tol):
            continue
        for c in _COEFFICIENTS:
            w = (v + c * u) / np.linalg.norm(v + c * u)
            new = action.fixers(w, tol)
            if not new[g] and not np.any(new & ~fixed):
                return w, new
    return None


def _sparser(action: _Action, v: np.ndarray, background: np.ndarray, goal: np.ndarray, tol: float) -> np.ndarray:
    """v shifted along ``background`` so that it vanishes on as many sites as possible, when the
    shifted field is kept by exactly the elements in ``goal``; else v itself.

    A shift that zeroes v on some site i is the least-squares solution of B_i c = −v_i; the
    sites where v is smallest are tried (they hold the spread-out part a shift can remove).
    """
    m, d = v.shape
    B = background.reshape(m, d, -1)
    small = np.linalg.norm(v, axis=1)

    def zeros(w: np.ndarray) -> np.ndarray:
        return np.linalg.norm(w, axis=-1) <= 1e-9 * np.abs(w).max(axis=(-2, -1), keepdims=False)[..., None]

    nonzero = np.flatnonzero(small > 1e-9 * small.max())
    tries = nonzero[np.argsort(small[nonzero], kind="stable")][:SPARSE_TRIES]
    shifts = np.array([np.linalg.lstsq(B[i], -v[i], rcond=None)[0] for i in tries])
    shifted = v[None] + np.einsum("mdk,ck->cmd", B, shifts)
    counts = zeros(shifted).sum(axis=1)
    best = int(zeros(v[None])[0].sum())
    for c in np.argsort(-counts, kind="stable"):
        if counts[c] <= best:
            break
        w = shifted[c] / np.linalg.norm(shifted[c])
        if np.array_equal(action.fixers(w, tol), goal):
            return w
    return v


SPARSE_TRIES = 16  # sites whose value a shift is fitted to cancel
_COEFFICIENTS = (0.5, 0.3, 0.7, 0.2, 0.9, 0.37, 0.61, 1.3, 0.11)
SIMPLE_CANDIDATES = 24  # basis projections tried for a readable representative
PROBE_SITES = 12  # sites checked before all of them
CACHED_PERMUTATIONS = 50_000_000  # entries of the permutation blocks kept between calls


def neumann_table(G: PointGroup, lmax: int = 4) -> dict[str, int]:
    """Number of G-invariant components of each irrep (L ≤ lmax, both parities): the global outputs G allows."""
    return {irrep_name(l, p): fixed_space(G.generators, irrep_name(l, p), False).shape[1]
            for l in range(lmax + 1) for p in (1, -1)}


__all__ = ["Suggestion", "suggest", "candidate_space", "neumann_table", "irrep_name", "parse_breaking"]


def parse_breaking(spec: str, analysis) -> Suggestion | None:
    """A breaking feature from a command-line spec.

    Parameters
    ----------
    spec : ``"auto"`` (the best suggestion), ``"N"`` (the N-th suggestion, from 1), or
        ``"IRREP:POLYNOMIAL"`` for a global feature given by its Cartesian polynomial, e.g.
        ``"2e:x**2 - y**2"`` or ``"1o:z"``.
    analysis : ``analyze(task)`` of the task the feature is for.
    """
    text = str(spec).strip()
    if text == "auto":
        return None if analysis.learnable else (analysis.suggestions[0] if analysis.suggestions else None)
    if text.isdigit():
        k = int(text)
        if not 1 <= k <= len(analysis.suggestions):
            raise SymcheckError(f"--break {text}: there are {len(analysis.suggestions)} suggestions (1 to "
                                f"{len(analysis.suggestions)})")
        return analysis.suggestions[k - 1]
    irreps, sep, poly = text.partition(":")
    parsed = Irreps(irreps.strip()) if sep else None
    if not sep or len(parsed) != 1 or parsed[0].mul != 1:
        raise SymcheckError(f"unknown --break spec {text!r} (use auto, a suggestion number, or IRREP:POLYNOMIAL "
                            "such as '2e:x**2 - y**2')")
    from .polynomials import vector_from_polynomial

    _, (l, p) = parsed[0]
    v = vector_from_polynomial(poly, l)
    v = v / np.linalg.norm(v)
    G, H = analysis.input_group, analysis.target_group
    S = stabilizer(G, analysis.task.structure, v, irrep_name(l, p), False, 1e-6)
    W = candidate_space(G, H, irrep_name(l, p), per_point=False)
    return Suggestion(irrep_name(l, p), "global", v, _polynomial(v, l, p), S.name, S.order, _same_group(S, H),
                      W.shape[1])
