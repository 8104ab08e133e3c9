"""Character tables of finite point groups, computed from the group's elements.

Nothing is typed in: the conjugacy classes come from the multiplication table of the exact
matrices, the complex characters from the class algebra (Burnside's method: the class
multiplication matrices commute and their common eigenvectors are the characters, made
well-conditioned by Dixon's normalisation so that one Hermitian eigenproblem finds them), and the
labels from the characters of a few named operations (:mod:`symcheck.groups.mulliken`) in a
stated setting (:mod:`symcheck.groups.setting`).

Rows are the irreducible representations **over the reals**: a pair of complex-conjugate
one-dimensional irreps (as in Cn, Cnh, S2n, T, Th) is combined into one two-dimensional row
labelled E, whose character is χ + χ̄, as in the standard (Cotton, Atkins) tables. Every irrep of
a finite subgroup of O(3) whose character is real is realisable over the reals, so there are no
other cases (a quaternionic irrep would be doubled in the same way).

Which irreps a feature contains, and the Neumann table of O(3) irreps:
:mod:`symcheck.groups.decomposition`. Infinite groups: :mod:`symcheck.groups.linear`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import SymcheckError
from ..o3 import fixed_normals
from .elements import group_matrices, identity_index, inverse_indices, multiplication_table
from .group import distinct
from .linear import LinearCharacterTable, linear_character_table
from .mulliken import class_kind, irrep_sort_key, principal_element, row_labels, split_inverse_classes
from .naming import check_setting, operation_kind
from .setting import SETTINGS, default_frame, describe_setting, resolve_frame, setting_description

if TYPE_CHECKING:  # only the type: a group is read through its name, frame, order and operations
    from .pointgroup import PointGroup


@dataclass(frozen=True)
class ElementClass:
    """A conjugacy class of elements.

    Parameters
    ----------
    label : count and kind as printed in tables, e.g. ``"2C4"``, ``"σh"``, ``"2C2''"``, ``"σv(xz)"``.
    kind : the kind without the count (``"C4"``, ``"C2''"``).
    size : number of elements.
    members : indices into the group's ``operations``.
    """

    label: str
    kind: str
    size: int
    members: tuple[int, ...]

@dataclass(frozen=True)
class Irrep:
    """One real irreducible representation (one row of the table).

    Parameters
    ----------
    label : Mulliken label (``"A1g"``, ``"E'"``, ``"T2u"``, ``"B3g"``).
    dim : dimension over the reals (2 for a combined complex pair).
    characters : χ on each class, in the table's class order.
    reality : ``"real"`` (an irrep over ℝ), ``"complex"`` (χ + χ̄ of a complex-conjugate pair),
        or ``"quaternionic"`` (2χ; does not occur for point groups).
    """

    label: str
    dim: int
    characters: tuple[float, ...]
    reality: str

    @property
    def projector_scale(self) -> float:
        """c with P = (c/|G|) Σ_g χ(g) ρ(g) the projector onto this row's isotypic component."""
        return {"real": self.dim, "complex": self.dim / 2, "quaternionic": self.dim / 4}[self.reality]

    @property
    def norm(self) -> int:
        """⟨χ, χ⟩ = (1/|G|) Σ_g χ(g)²: 1 for real irreps, 2 for combined pairs, 4 for quaternionic ones."""
        return {"real": 1, "complex": 2, "quaternionic": 4}[self.reality]

@dataclass(frozen=True, eq=False)
class CharacterTable:
    """The real character table of a finite point group.

    Parameters
    ----------
    group : Schoenflies name.
    order : |G|.
    classes : conjugacy classes of elements, E first.
    irreps : real irreducible representations (rows), standard order (A, B, E, T, G, H; g before u,
        ′ before ″).
    table : (n_irreps, n_classes) characters.
    element_class : (order,) class index of each element of the group's ``operations``.
    frame : (3, 3) the setting's axes as rows (x, y, z), in the input's Cartesian frame.
    setting : the setting in plain words: which axes are C2′/C2″ and which planes σv/σd (with the
        atoms they pass through), what A/B and the subscripts 1/2 refer to; what JSON consumers show
        as ``irrep_setting`` (see :func:`setting_description`).
    setting_name : None (default setting), ``"atoms"``, ``"bonds"``, or ``"frame"`` (given explicitly).
    """

    group: str
    order: int
    classes: tuple[ElementClass, ...]
    irreps: tuple[Irrep, ...]
    table: np.ndarray
    element_class: np.ndarray
    frame: np.ndarray
    setting: str
    setting_name: str | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        """Mulliken labels of the rows, in order."""
        return tuple(r.label for r in self.irreps)

    def index(self, label: str) -> int:
        """Row index of an irrep label."""
        try:
            return self.labels.index(label)
        except ValueError:
            known = ", ".join(self.labels)
            raise SymcheckError(f"{self.group} has no irrep {label!r}; its irreps are {known}") from None

    def irrep(self, label: str) -> Irrep:
        """The row with this label."""
        return self.irreps[self.index(label)]

    def element_characters(self) -> np.ndarray:
        """(n_irreps, order) characters of every element of the group (in ``operations`` order)."""
        return self.table[:, self.element_class]

    def decompose(self, characters, per_class: bool = False) -> dict[str, int]:
        """Multiplicity of each irrep in a real representation, from its character.

        :param characters: χ_ρ(g) for every element (order,), in ``operations`` order, or per class
            (n_classes,) in the table's class order when ``per_class``.
        :param per_class: the characters are given per class.
        :raises SymcheckError: when the multiplicities are not integers (not a representation).
        """
        chi = np.asarray(characters, dtype=float).reshape(-1)
        want = len(self.classes) if per_class else self.order
        if len(chi) != want:
            raise SymcheckError(f"need {want} characters ({'one per class' if per_class else 'one per element'}), "
                                f"got {len(chi)}")
        if per_class:
            chi = chi[self.element_class]
        norms = np.array([r.norm for r in self.irreps])
        m = self.element_characters() @ chi / self.order / norms
        if np.max(np.abs(m - np.round(m)), initial=0.0) > 1e-6:
            raise SymcheckError(f"not a representation of {self.group}: multiplicities {np.round(m, 4).tolist()}")
        return {r.label: int(round(x)) for r, x in zip(self.irreps, m)}

    def as_dict(self) -> dict:
        """Plain-JSON form: classes (label, size), irreps (label, dim, reality, characters), setting."""
        return {
            "point_group": self.group,
            "order": self.order,
            "classes": [{"label": c.label, "size": c.size} for c in self.classes],
            "irreps": [{"label": r.label, "dim": r.dim, "reality": r.reality,
                        "characters": [round(x, 12) + 0.0 for x in r.characters]} for r in self.irreps],
            "frame": np.round(self.frame, 9).tolist(),
            "setting": self.setting,
            "setting_name": self.setting_name,
        }

    def text(self, digits: int = 3) -> str:
        """The table as aligned text, with the setting below it."""
        head = [self.group] + [c.label for c in self.classes]
        rows = [[r.label] + [_fmt(x, digits) for x in r.characters] for r in self.irreps]
        widths = [max(len(row[k]) for row in [head, *rows]) for k in range(len(head))]
        lines = ["  ".join(s.rjust(w) if k else s.ljust(w) for k, (s, w) in enumerate(zip(row, widths)))
                 for row in [head, *rows]]
        return "\n".join([*lines, f"setting: {self.setting}"])

    def __str__(self) -> str:
        return self.text()

def _fmt(x: float, digits: int) -> str:
    if abs(x - round(x)) < 1e-9:
        return str(int(round(x)))
    return f"{x:.{digits}f}"

# --------------------------------------------------------------------------------------------
# Characters from the class algebra
# --------------------------------------------------------------------------------------------


def _element_classes(table: np.ndarray, inv: np.ndarray) -> list[list[int]]:
    """Conjugacy classes of elements (lists of indices), in order of their first element."""
    n = len(table)
    seen = np.zeros(n, dtype=bool)
    out = []
    for a in range(n):
        if seen[a]:
            continue
        conj = distinct(table[table[:, a], inv])  # g a g⁻¹ for every g
        seen[conj] = True
        out.append(conj.tolist())
    return out

def _complex_characters(table: np.ndarray, cls: np.ndarray, sizes: np.ndarray, e_class: int) -> np.ndarray:
    """(r, r) complex characters χ_i(C_j) by Burnside's method with Dixon's normalisation.

    The class sums satisfy C_j C_k = Σ_l c_jkl C_l; for each irrep, ω_k = |C_k| χ(C_k)/χ(E) is a
    common eigenvector of the matrices M_j[k, l] = c_jkl. Scaled by |C_k|^(-1/2) the eigenvectors
    are orthonormal (row orthogonality), so N_j = D^(-1/2) M_j D^(1/2) are commuting normal
    matrices; a random combination split into Hermitian parts A + t·B has distinct eigenvalues
    and orthonormal eigenvectors u with χ(C_k) = u_k √(|G|/|C_k|) up to a phase.
    """
    n, r = len(table), len(sizes)
    counts = np.zeros((r, r, r))
    np.add.at(counts, (np.broadcast_to(cls[:, None], (n, n)), np.broadcast_to(cls[None, :], (n, n)), cls[table]), 1)
    c = counts / sizes[None, None, :]  # c[j, k, l]
    scale = np.sqrt(sizes[None, :] / sizes[:, None])  # N_j[k, l] = M_j[k, l] √(|C_l| / |C_k|)
    N_all = c * scale[None]
    for k in range(20):  # fixed draws (seed 20240607): the result does not depend on them, only the gap check
        N = np.tensordot(fixed_normals(20240607, (k + 1) * r)[k * r:], N_all, axes=1)
        A = (N + N.T) / 2
        B = (N - N.T) / 2j
        H = A + (np.sqrt(2) - 0.3) * B
        w, U = np.linalg.eigh(H)
        gap = np.min(np.diff(w)) if r > 1 else 1.0
        if gap > 1e-6 * max(1.0, float(np.max(np.abs(w)))):
            break
    else:  # pragma: no cover - would need 20 unlucky draws
        raise RuntimeError("internal error: could not separate the irreducible characters")
    chars = (U * np.sqrt(n / sizes)[:, None]).T  # row i: χ_i up to a phase
    phase = chars[:, e_class] / np.abs(chars[:, e_class])
    chars = chars / phase[:, None]
    return chars

def _real_rows(chars: np.ndarray, sizes: np.ndarray, square_class: np.ndarray, inverse_class: np.ndarray):
    """Combine complex characters into real rows: (characters, reality) pairs."""
    order = float(np.sum(sizes))
    fs = (chars[:, square_class] @ sizes) / order  # Frobenius–Schur indicators ν = (1/|G|) Σ χ(g²)
    used = np.zeros(len(chars), dtype=bool)
    rows = []
    for i in range(len(chars)):
        if used[i]:
            continue
        used[i] = True
        nu = int(round(fs[i].real))
        if nu == 1:
            rows.append((chars[i].real, "real"))
        elif nu == 0:
            conj = chars[i][inverse_class]  # χ̄(g) = χ(g⁻¹)
            k = int(np.argmin(np.where(used, np.inf, np.linalg.norm(chars - conj[None], axis=1))))
            used[k] = True
            rows.append((2 * chars[i].real, "complex"))
        else:  # pragma: no cover - no finite subgroup of O(3) has quaternionic irreps
            rows.append((2 * chars[i].real, "quaternionic"))
    out = []
    for x, kind in rows:
        x = np.where(np.abs(x - np.round(x)) < 1e-9, np.round(x), x) + 0.0
        out.append((x, kind))
    return out

# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


def character_table(pg: PointGroup, setting: str | None = None, frame=None) -> CharacterTable | LinearCharacterTable:
    """The real character table of a point group, with Mulliken labels in a stated setting.

    Complex-conjugate pairs of one-dimensional irreps (Cn, Cnh, S2n with n ≥ 3; T, Th) are combined
    into one two-dimensional real row labelled E (character χ + χ̄), as in standard tables. Infinite
    groups (C∞v, D∞h, C∞, C∞h, D∞, K, Kh) get a :class:`symcheck.groups.linear.LinearCharacterTable`
    (rows Σ+, Σ−, Π, Δ, … or S, P, D, … with g/u), which labels features the same way.

    :param pg: a PointGroup (for finite groups ``pg.operations`` are its exact elements).
    :param setting: which perpendicular C2 axes are C2′ and which mirrors σv: None (the group's own
        setting, ``pg.frame``; for detected groups the default: the file's axes where the group
        allows), ``"atoms"`` (C2′ / σv through atoms) or ``"bonds"`` (between atoms, through bond
        midpoints); see :data:`SETTINGS`. The table's ``setting`` says in words what it is.
    :param frame: optional (3, 3) rows x, y, z fixing the setting explicitly (overrides ``setting``):
        z a principal axis, x a C2 axis (D groups) or in a mirror (Cnv).
    :raises SymcheckError: for an unknown setting or an invalid frame.
    """
    setting = check_setting(setting)
    if pg.infinite:
        return linear_character_table(pg, setting)
    mats = group_matrices(pg)
    name = pg.name
    F, note = resolve_frame(pg, mats, setting, frame)
    table = multiplication_table(mats)
    e = identity_index(mats)
    inv = inverse_indices(table, e)
    classes, cls = _classes(name, mats, F, table, inv)

    sizes = np.array([c.size for c in classes], dtype=float)
    chars = _complex_characters(table, cls, sizes, int(cls[e]))
    reps = [c.members[0] for c in classes]
    rows = _real_rows(chars, sizes, cls[table[reps, reps]], cls[inv[reps]])

    principal = principal_element(name, mats, F)
    labels, x_ref = row_labels(name, mats, F, rows, cls, principal)
    irreps = [Irrep(lab, int(round(x[0])), tuple(float(v) for v in x), kind) for lab, (x, kind) in zip(labels, rows)]
    irreps.sort(key=lambda r: irrep_sort_key(r.label))
    named = setting if frame is None else "frame"
    p_kind = operation_kind(mats[principal[0]])[0] if principal[0] is not None else None
    text = describe_setting(pg, F, named, note, mats=mats, principal=p_kind, reference=x_ref)
    return CharacterTable(group=name, order=len(mats), classes=classes, irreps=tuple(irreps),
                          table=np.array([r.characters for r in irreps]), element_class=cls, frame=F,
                          setting=text, setting_name=named)


def _classes(name: str, mats: np.ndarray, F: np.ndarray, table: np.ndarray,
             inv: np.ndarray) -> tuple[tuple[ElementClass, ...], np.ndarray]:
    """The conjugacy classes in column order (E, rotations by decreasing order, i, S, σh, σv, σd), named in
    the setting F, and the (order,) class index of each element."""
    raw = _element_classes(table, inv)
    kinds = [class_kind(name, mats, members, F) for members in raw]
    order = sorted(range(len(raw)), key=lambda c: (kinds[c][1], raw[c][0]))
    raw = [raw[c] for c in order]
    kinds = split_inverse_classes([kinds[c] for c in order])
    cls = np.empty(len(mats), dtype=np.int64)
    for c, members in enumerate(raw):
        cls[members] = c
    classes = tuple(
        ElementClass(label=(f"{len(m)}" if len(m) > 1 else "") + kd, kind=kd, size=len(m), members=tuple(m))
        for m, (kd, _) in zip(raw, kinds)
    )
    return classes, cls


__all__ = [
    "SETTINGS",
    "CharacterTable",
    "ElementClass",
    "Irrep",
    "character_table",
    "default_frame",
    "setting_description",
]
