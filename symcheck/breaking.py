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
from .groups.pointgroup import PointGroup
from .groups.stabilizer import same_group, stabilizer
from .o3 import Irreps
from .search import Action, Elements, complement, pointwise_fixers, projections, representative, sparser
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
    if sub is not None:
        FG, FH = field_fixed_space(G, irreps, sub), field_fixed_space(H, irreps, sub)
    else:
        FG = fixed_space(G.generators, irreps, per_point)
        FH = fixed_space(H.generators, irreps, per_point)
    return complement(FH, FG)


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
    feature_lmax: int = 4,
    target: np.ndarray | None = None,
    target_irreps: str | None = None,
    per_point_target: bool = True,
    rtol: float = 1e-6,
    setting: str | None = None,
) -> list[Suggestion]:
    """Ranked symmetry-breaking features that lower G towards H, for every irrep (L ≤ feature_lmax, both parities).

    The search is exact: for every irrep and scope (global, or a field on one orbit of sites) it
    decides whether some feature has stabilizer exactly H, and then builds one.

    Parameters
    ----------
    G, H : the input group and the target's stabilizer in it.
    structure : the input structure (its points carry per-point fields).
    feature_lmax : highest L of the candidate features.
    target, target_irreps, per_point_target : the task's target, whose own field is never suggested.
    rtol : change of a feature, relative to its size, below which an operation counts as keeping it
        (features are unit vectors, so it is also the absolute change passed to ``stabilizer``).
    setting : which axes and planes the irrep labels name C2′ / σv (see ``groups.characters``).
    """
    if same_group(G, H):
        return []
    found: list[tuple[Suggestion, np.ndarray | None]] = []
    elements = Elements(G, H) if G.finite else None
    global_spaces = {}
    for l in range(feature_lmax + 1):
        for p in (1, -1):
            irr = irrep_name(l, p)
            W = candidate_space(G, H, irr, per_point=False)
            global_spaces[irr] = W
            if W.shape[1]:
                found.append(_suggestion(G, H, structure, W, l, p, "global", None, rtol, elements))
    found.extend(_per_point(G, H, structure, feature_lmax, global_spaces, target, target_irreps, per_point_target, rtol,
                            elements))
    if not any(s.reaches_target for s, _ in found):
        found.extend(_pairs(G, H, structure, [f for f in found if f[0].scope == "global"], rtol, elements))
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


def _suggestion(G, H, structure, W, l, p, scope, sites, rtol, elements=None,
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
        action = Action(elements or Elements(G, H), irr, sites)
        keep = pointwise_fixers(action, W, shape, rtol)
        v = representative(action, W, shape, keep, rtol)
        if background is not None and background.shape[1]:
            v = sparser(action, v, background, keep, rtol)
        v = _canonical_sign(v, l, p)
        exact = bool(np.array_equal(keep, action.in_H))
    else:  # infinite G: the detector's scans decide, on the whole basis at once
        v, keep, exact = _infinite_representative(G, H, structure, W, l, p, shape, sites, rtol), None, None
    field = v if scope == "global" else _embed(v, sites, n)
    S = H if exact else stabilizer(G, structure, field, irr, scope != "global", atol=rtol)  # unit features
    exact = same_group(S, H) if exact is None else exact
    if scope == "global":
        text = _polynomial(field, l, p)
    else:
        text = _field_text(field, sites, l, p, structure, G)
    suggestion = Suggestion(irr, scope, field, text, S.name, S.order, exact, W.shape[1],
                            None if sites is None else tuple(int(s) for s in sites))
    return suggestion, keep


def _infinite_representative(G, H, structure, W, l, p, shape, sites, rtol) -> np.ndarray:
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

    whole = stabilizer(G, structure, as_field(W, k), f"{k}x{irr}", per_point, atol=rtol)
    tries = list(projections(W, shape))
    rng = np.random.default_rng(11)
    tries += [(W @ c / np.linalg.norm(W @ c)).reshape(shape) for c in rng.normal(size=(8, k))]
    for v in tries:
        S = stabilizer(G, structure, as_field(v.reshape(-1, 1), 1), irr, per_point, atol=rtol)
        if same_group(S, whole):
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


def _embed(v: np.ndarray, sites, n: int) -> np.ndarray:
    out = np.zeros((n, v.shape[1]))
    out[list(sites)] = v
    return out


def _per_point(G, H, structure, feature_lmax, global_spaces, target, target_irreps, per_point_target, rtol, elements):
    orbits = sorted(G.equivalent_atoms, key=len)
    out = []
    for orbit in orbits:
        sub = np.array(orbit)
        for l in range(feature_lmax + 1):
            for p in (1, -1):
                irr = irrep_name(l, p)
                FG, FH = field_fixed_space(G, irr, sub), field_fixed_space(H, irr, sub)
                # what a global feature already offers (the same vector on every site) adds nothing new
                Wg = global_spaces[irr]
                tiles = [np.tile(Wg[:, k], len(sub)) for k in range(Wg.shape[1])]
                targets = _target_directions(target, target_irreps, per_point_target, sub, l, p, G)
                # all three kinds lie in Fix_H (see _target_directions): one complement removes them
                known = [FG] + ([np.array(tiles + targets).T] if tiles or targets else [])
                W = complement(FH, np.concatenate(known, axis=1))
                if W.shape[1]:
                    background = _background(FG, tiles, targets)
                    out.append(_suggestion(G, H, structure, W, l, p, "per-point", sub, rtol, elements, background))
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


def _pairs(G, H, structure, singles, rtol, elements=None) -> list[tuple[Suggestion, None]]:
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
                S = stabilizer(G, structure, v, irreps, False, atol=rtol)
                if not same_group(S, H):
                    continue
            out.append((Suggestion(irreps, "global", v, f"{a.polynomial} and {b.polynomial}", S.name,
                                   S.order, True, a.candidate_dim + b.candidate_dim), None))
    return out


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
    return Suggestion(irrep_name(l, p), "global", v, _polynomial(v, l, p), S.name, S.order, same_group(S, H),
                      W.shape[1])
