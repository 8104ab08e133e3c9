"""Which irreps of a point group a feature contains, and how O(3) irreps split under the group.

Finite groups: the weight of an irrep Γ in a feature v is ‖P_Γ v‖² / ‖v‖² with the character
projector P_Γ = (d_Γ/|G|) Σ_g χ_Γ(g) ρ(g) (the table from :func:`characters.character_table`).
Infinite groups (C∞v, D∞h, C∞, C∞h, D∞, K, Kh): the |m| parts come from a discrete Fourier
transform over 2L + 2 rotations about the axis (exact for l ≤ L, whose frequencies are |m| ≤ L),
then ±, g/u from the involutions σv (or C2′) and i, which commute with those rotations and with
each other (rows from :func:`linear.linear_character_table`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..compat import renamed_keyword
from ..errors import SymcheckError
from ..fixed import act, images_under, irrep_project, wigner_D
from ..o3 import Irreps
from .characters import CharacterTable, character_table
from .elements import group_matrices
from .linear import SPHERICAL, LinearCharacterTable, axial_label, l_letter, linear_character_table
from .naming import rotation, rotation_axis_angle

if TYPE_CHECKING:  # only the type: a group is read through its name, frame, order and operations
    from .pointgroup import PointGroup


def _feature(pg: PointGroup, vector, irreps: Irreps, per_point: bool) -> np.ndarray:
    """The feature as an array: (d,) global, or (N, d) per point; SymcheckError for a wrong shape."""
    d = irreps.dim
    v = np.asarray(vector, dtype=float)
    if per_point:
        npts = len(pg.operations[0].permutation)
        v = v.reshape(npts, d) if v.size == npts * d else v
        if v.shape != (npts, d):
            raise SymcheckError(f"a per-point {irreps} field on {npts} points has shape ({npts}, {d}), got {v.shape}")
    elif v.shape != (d,):
        raise SymcheckError(f"a global {irreps} feature has shape ({d},), got {v.shape}")
    return v


def irrep_weights(pg: PointGroup, vector, irreps: str | Irreps, per_point: bool = False,
                  table=None, setting: str | None = None) -> dict[str, float]:
    """Fraction of ‖v‖² in each irrep of G: ‖P_χ v‖² / ‖v‖² with P_χ = (d_χ/|G|) Σ_g χ(g) ρ(g).

    The G-orbit of v spans a representation that contains exactly the irreps with nonzero weight.
    The weights sum to 1 (the projectors are orthogonal and add up to the identity). Infinite
    groups (C∞v, D∞h, Kh, …) are handled by :func:`linear_irrep_weights`.

    :param pg: a PointGroup.
    :param vector: a global feature (d,) in e3nn's basis of ``irreps``, or a per-point field (N, d).
    :param irreps: e3nn irreps of the feature, e.g. ``"2e"`` or ``"1o"``.
    :param per_point: the feature is a field on the points (permuted by each operation).
    :param table: a character table of pg (e.g. in another setting); computed when None.
    :param setting: the setting of the table computed when ``table`` is None (see :data:`SETTINGS`).
    """
    if pg.infinite:
        return linear_irrep_weights(pg, vector, irreps, per_point, table=table, setting=setting)
    irreps = Irreps(irreps)
    ct = character_table(pg, setting) if table is None else table
    v = _feature(pg, vector, irreps, per_point)
    total = float(np.sum(v**2))
    parts = irrep_project(images_under(pg.operations, irreps, v, per_point), ct.element_characters(),
                          [r.projector_scale for r in ct.irreps])
    return {r.label: float(np.sum(Pv**2) / total) if total > 0 else 0.0 for r, Pv in zip(ct.irreps, parts)}


def irrep_labels(pg: PointGroup, vector, irreps: str | Irreps, per_point: bool = False, min_weight: float = 1e-8,
                 table=None, setting: str | None = None, *, tol: float | None = None) -> list[str]:
    """The irreps of G that the G-orbit span of a feature contains (labels with nonzero weight).

    E.g. on the tutorial square (D4h), ``x**2 - y**2`` in ``2e`` gives ``["B1g"]`` (``["B2g"]`` with
    ``setting="atoms"``), ``z`` in ``1o`` gives ``["A2u"]``. Infinite groups are labelled too:
    CO2's bend (a per-point 1o field ⟂ the axis) is ``["Πu"]`` of D∞h; a 2e feature of a single
    atom (Kh) is ``["Dg"]``. The setting of the labels is ``character_table(pg, setting).setting``.

    :param pg: a PointGroup (finite, or infinite: C∞v, D∞h, C∞, C∞h, D∞, K, Kh).
    :param vector: a global feature (d,) in e3nn's basis of ``irreps``, or a per-point field (N, d).
    :param irreps: e3nn irreps of the feature.
    :param per_point: the feature is a field on the points.
    :param min_weight: smallest weight (fraction of ‖v‖², dimensionless) that counts.
    :param tol: deprecated name of ``min_weight`` (``tol`` is a distance in Å everywhere else).
    :param table: a character table of pg; computed when None.
    :param setting: the setting when ``table`` is None: None (default), ``"atoms"`` or ``"bonds"``.
    :raises SymcheckError: for an unknown setting or a vector of the wrong shape.
    """
    min_weight = renamed_keyword("irrep_labels", "tol", "min_weight", tol, min_weight, 1e-8)
    w = irrep_weights(pg, vector, irreps, per_point, table, setting)
    return [lab for lab, x in w.items() if x > min_weight]


def _o3_character(l: int, parity: int, R: np.ndarray) -> float:
    """Trace of e3nn's D_{l,p}(R): Σ_m cos(mθ) for the rotation part, times p for improper R."""
    det = np.linalg.det(R)
    _, theta = rotation_axis_angle(R * np.sign(det))
    chi = 1.0 + 2.0 * sum(np.cos(m * theta) for m in range(1, l + 1))
    return chi * (parity if det < 0 else 1.0)


def neumann_by_irrep(pg: PointGroup, lmax: int, table: CharacterTable | None = None) -> dict[str, dict[str, int]]:
    """How many copies of each irrep of G every O(3) irrep ``Lp`` (L ≤ lmax, p = e, o) contains.

    The copies of the identity irrep (A1g, A1, A', Ag …) count the G-invariant components: the
    Neumann table of which global outputs an input of this symmetry can have.

    :param pg: a finite PointGroup.
    :param lmax: largest L.
    :param table: a character table of pg; computed when None.
    :returns: ``{"0e": {"A1g": 1, "A2g": 0, …}, "0o": {…}, "1e": …}`` with every irrep of G listed.
    """
    if lmax < 0:
        raise SymcheckError(f"lmax must be non-negative, got {lmax}")
    ct = character_table(pg) if table is None else table
    mats = group_matrices(pg)
    out = {}
    for l in range(lmax + 1):
        for p, tag in ((1, "e"), (-1, "o")):
            chi = np.array([_o3_character(l, p, R) for R in mats])
            out[f"{l}{tag}"] = ct.decompose(chi)
    return out


# --------------------------------------------------------------------------------------------
# Infinite groups
# --------------------------------------------------------------------------------------------


def _element(pg: PointGroup, kinds: tuple[str, ...]):
    """(matrix, permutation) of the first generator whose kind is one of ``kinds``, or None."""
    for op in pg.generators:
        if op.kind in kinds:
            return np.asarray(op.matrix, dtype=float), np.asarray(op.permutation)
    return None


def _compose(a, b):
    """(R_a R_b, σ_a ∘ σ_b): R_a R_b carries atom i to perm_a[perm_b[i]]."""
    return a[0] @ b[0], a[1][b[1]]


def _spherical_weights(name: str, v: np.ndarray, irreps: Irreps, total: float, weights: dict) -> dict[str, float]:
    """K, Kh: each (l, p) block is one irrep of O(3) (or SO(3)), its weight its share of ‖v‖²."""
    cols = v.reshape(-1, irreps.dim)
    for (_, (l, p)), cut in zip(irreps, irreps.slices()):
        label = l_letter(l) + ({1: "g", -1: "u"}[p] if name == "Kh" else "")
        weights[label] += float(np.sum(cols[:, cut] ** 2)) / total
    return weights


def linear_irrep_weights(pg: PointGroup, vector, irreps: str | Irreps, per_point: bool = False,
                         table: LinearCharacterTable | None = None, setting: str | None = None) -> dict[str, float]:
    """Fraction of ‖v‖² in each irrep of an infinite group (see :func:`irrep_weights`).

    :param pg: an infinite PointGroup: C∞v, D∞h, C∞, C∞h, D∞ (points on a line), K or Kh (a point).
    :param vector: a global feature (d,) in e3nn's basis of ``irreps``, or a per-point field (N, d).
    :param irreps: e3nn irreps of the feature.
    :param per_point: the feature is a field on the points.
    :param table: the group's table (only its row order is used); computed when None.
    :param setting: checked and otherwise ignored (no choice of setting in these groups).
    :returns: ``{label: weight}`` for every row up to the feature's largest l (and the table's rows).
    """
    irreps = Irreps(irreps)
    lmax = max(irreps.ls, default=0)
    ct = linear_character_table(pg, setting, mmax=max(lmax, table.mmax if table is not None else 0))
    v = _feature(pg, vector, irreps, per_point)
    total = float(np.sum(v**2))
    weights = {lab: 0.0 for lab in ct.labels}
    if total == 0:
        return weights
    if pg.name in SPHERICAL:
        return _spherical_weights(pg.name, v, irreps, total, weights)

    def apply(element, w):
        R, perm = element
        return act(irreps, R, perm if per_point else None, w, D=wigner_D(irreps, R))

    npts = len(pg.operations[0].permutation)
    z = np.asarray(pg.frame, dtype=float)[2]
    rot = _element(pg, ("C∞",))
    ident = rot[1] if rot is not None else np.arange(npts)  # rotations about the line move no point
    inversion = _element(pg, ("i",))
    mirror = _element(pg, ("σv", "σ"))
    c2 = _element(pg, ("C2'", "C2"))
    if c2 is None and inversion is not None and mirror is not None:
        c2 = _compose(inversion, mirror)  # i·σ(normal n) is the C2 about n
    flip = mirror if pg.name in ("Cinfv", "Dinfh") else (c2 if pg.name == "Dinf" else None)

    # |m| parts by a discrete Fourier transform over K > 2·lmax rotations about z (exact for l ≤ lmax)
    K = 2 * lmax + 2
    angles = 2 * np.pi * np.arange(K) / K
    turned = [apply((rotation(z, a), ident), v) for a in angles]
    for m in range(lmax + 1):
        c = np.ones(K) if m == 0 else 2 * np.cos(m * angles)
        part = sum(ck * w for ck, w in zip(c, turned)) / K
        pieces = [(0, part)]
        if inversion is not None:
            inv = apply(inversion, part)
            pieces = [(1, (part + inv) / 2), (-1, (part - inv) / 2)]
        for p, w in pieces:
            if m == 0 and flip is not None:
                f = apply(flip, w)
                # D∞h's C2′ is i·σv, so the ± of Σ is read from σv; D∞ reads it from C2′
                for sign, piece in ((1, (w + f) / 2), (-1, (w - f) / 2)):
                    weights[axial_label(0, p, sign)] += float(np.sum(piece**2)) / total
            else:
                weights[axial_label(m, p, 0)] += float(np.sum(w**2)) / total
    return weights


__all__ = [
    "irrep_labels",
    "irrep_weights",
    "linear_irrep_weights",
    "neumann_by_irrep",
]
