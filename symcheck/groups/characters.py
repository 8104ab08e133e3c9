"""Character tables of finite point groups, computed from the group's elements, with Mulliken labels.

Nothing is typed in: the conjugacy classes come from the multiplication table of the exact
matrices, the complex characters from the class algebra (Burnside's method: the class
multiplication matrices commute and their common eigenvectors are the characters, made
well-conditioned by Dixon's normalisation so that one Hermitian eigenproblem finds them), and the
labels from the characters of a few named operations (the principal rotation, a C2′ or σv, i, σh).

Rows are the irreducible representations **over the reals**: a pair of complex-conjugate
one-dimensional irreps (as in Cn, Cnh, S2n, T, Th) is combined into one two-dimensional row
labelled E, whose character is χ + χ̄, as in the standard (Cotton, Atkins) tables. Every irrep of
a finite subgroup of O(3) whose character is real is realisable over the reals, so there are no
other cases (a quaternionic irrep would be doubled in the same way).

Labels follow the usual conventions: A/B (dimension 1, symmetric/antisymmetric under the
principal rotation Cn, or S2n in S4n and D2nd), E, T, G, H (dimensions 2–5; T/Th/O/Oh/Td/I/Ih use
A/E/T/G/H throughout); g/u under inversion; ′/″ (written ``'`` and ``''``) under σh where there is
σh but no inversion; subscripts 1/2 on A and B for symmetric/antisymmetric under a C2 perpendicular
to the principal axis (C2′), or, where there is none, under σv; numbered E's by χ(Cn) = 2cos(2πk/n);
B1/B2/B3 of D2 and D2h symmetric under C2(z)/C2(y)/C2(x); T1/T2 of O, Oh, Td by χ(C4) or χ(S4) = ±1,
of I, Ih by χ(C5) = (1 ± √5)/2. Subscripts appear only where two labels would otherwise coincide.

Class labels use the kinds of ``naming.operation_kind``, the lowest power naming the class (2C4 for
{C4, C4^3}; an improper Sn^k is σh·Cn^k, so C5h's classes read S5, S5^2, … where Cotton writes S5,
S5^7, …); C2 axes perpendicular to the principal axis are C2' (the class holding the C2 about x)
and C2''; vertical mirrors are σv (the class holding the plane through x) and σd; in O and Oh the
C2 about the cube's axes are C2, the others C2'; D2, D2h and C2v name their elements by axis
(C2(z), σ(xz), σv(xz), σv'(yz)); where an element is not conjugate to its inverse (T, Th) the
second class carries the inverse power (4C3, 4C3^2).

The setting (which C2 axes are C2′, which mirrors σv) decides B1 vs B2 and the like. By default
it follows the structure file's own axes where the group allows it: z is the principal axis, and
x is the file's x axis (else y, else z) when that axis is a C2′ axis (D groups) or lies in a
vertical mirror (Cnv), else the detector's ``pg.frame`` x. So for the tutorial square (corners on
the diagonals, C2 axes along the file's x and y) x² − y² is B1g and xy is B2g, as in the
textbooks' D4h table. Pass ``frame`` to choose another setting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SymcheckError
from .detect import rotation
from .lattice import group_matrices, identity_index, inverse_indices, multiplication_table
from .naming import (
    AXIS_TOL,
    CUBIC,
    SETTINGS,
    _in_plane_class,
    _n_of,
    canonical_axis,
    check_setting,
    cube_frame,
    default_setting_frame,
    element_kind,
    operation_kind,
    perpendicular_kind,
    rotation_axis_angle,
    setting_frame,
    two_classes,
)
from .pointgroup import PointGroup, _fmt_axis

_LETTERS = {1: "A", 2: "E", 3: "T", 4: "G", 5: "H"}
_LETTER_ORDER = {"A": 0, "B": 1, "E": 2, "T": 3, "G": 4, "H": 5}


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
        conj = np.unique(table[table[:, a], inv])  # g a g⁻¹ for every g
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
    rng = np.random.default_rng(20240607)  # fixed: the result does not depend on it, only the gap check
    for _ in range(20):
        N = np.tensordot(rng.normal(size=r), N_all, axes=1)
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
# Setting and labels
# --------------------------------------------------------------------------------------------


def _find(mats: np.ndarray, R: np.ndarray) -> int | None:
    """Index of the element equal to R, or None when R is not in the group."""
    d = np.max(np.abs(mats - R[None]), axis=(1, 2))
    k = int(np.argmin(d))
    return k if d[k] < 1e-6 else None


def _mirror(normal: np.ndarray) -> np.ndarray:
    u = normal / np.linalg.norm(normal)
    return np.eye(3) - 2 * np.outer(u, u)


def _parallel(u, v) -> bool:
    return u is not None and abs(abs(float(np.dot(u, v))) - 1) < AXIS_TOL


def default_frame(pg: PointGroup) -> np.ndarray:
    """The setting used when none is given: the file's own axes where the group allows them.

    z is the principal axis (``pg.frame`` z). For groups whose labels depend on a direction
    perpendicular to it (Dn, Dnh, Dnd: a C2′ axis; Cnv: a vertical mirror), x is the first of the
    file's x, y, z axes that is such a direction, else ``pg.frame`` x. For D2 and D2h, whose three
    C2 axes are all "principal", the file's axes are used when they are the C2 axes. The detector
    already returns groups in this setting (``pg.frame``), so this is ``pg.frame`` for them.

    :param pg: a finite PointGroup.
    """
    return default_setting_frame(pg.name, group_matrices(pg), np.asarray(pg.frame, dtype=float))


def _check_frame(frame) -> np.ndarray:
    F = np.asarray(frame, dtype=float)
    if F.shape != (3, 3) or not np.allclose(F @ F.T, np.eye(3), atol=1e-6):
        raise SymcheckError("frame must be a 3×3 matrix with orthonormal rows (x, y, z)")
    return F


def _kind_power(kind: str) -> int:
    return int(kind.partition("^")[2] or 1)


def _coordinate_axes(mats: np.ndarray) -> list[np.ndarray]:
    """Cubic groups: the three cube axes (the C4 axes if any, else the C2 axes, which are then just three)."""
    axes4, axes2 = [], []
    for R in mats:
        kind, u = operation_kind(R)
        if kind.startswith("C4") or kind.startswith("S4"):
            axes4.append(u)
        elif kind == "C2":
            axes2.append(u)
    axes: list[np.ndarray] = []
    for u in axes4 or axes2:
        if not any(_parallel(u, v) for v in axes):
            axes.append(u)
    return axes


def _cube_frame(mats: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """The cube axes as a frame (T, Td, Th, O, Oh): ``frame`` when its rows are the cube axes (the
    detector's frame is), else :func:`naming.cube_frame`; I, Ih: ``frame``."""
    axes = _coordinate_axes(mats)
    F = np.asarray(frame, dtype=float)
    if len(axes) != 3 or all(any(_parallel(e, u) for u in axes) for e in F):
        return F
    return cube_frame(axes)


_MIRROR_KEYS = {"σh": 0, "σ": 0, "σ(xy)": 0, "σv": 1, "σ(xz)": 1, "σv(xz)": 1, "σv'(yz)": 2, "σ(yz)": 2, "σd": 3}
_C2_KEYS = {"C2'": 1, "C2''": 2, "C2(z)": 0, "C2(y)": 1, "C2(x)": 2}


def _class_kind(name: str, mats: np.ndarray, members: list[int], F: np.ndarray) -> tuple[str, tuple]:
    """The kind label of a class in the setting F (:func:`naming.element_kind`), and a sort key for the
    table's column order (E, rotations by decreasing order, i, S, σh, σv, σd)."""
    kinds = [operation_kind(mats[m]) for m in members]
    kind, axis = min(kinds, key=lambda t: _kind_power(t[0]))  # the lowest power names the class (C4, not C4^3)
    label = element_kind(kind, axis, name, F)
    if label == "E":
        return "E", (0,)
    if label == "i":
        return "i", (2,)
    if label.startswith("σ"):
        return label, (4, _MIRROR_KEYS.get(label, 5))
    if label in _C2_KEYS:
        return label, (1, -2, 1, _C2_KEYS[label])
    n = int(label[1:].partition("^")[0])
    if label.startswith("S"):
        return label, (3, -n, _kind_power(label))
    return label, (1, -n, _kind_power(label), 0)


def _split_inverse_classes(kinds: list[tuple[str, tuple]]) -> list[tuple[str, tuple]]:
    """Name the second of two classes that share a label by the inverse power (T: 4C3, 4C3^2; Th: 4S6, 4S6^5).

    Where an element and its inverse are not conjugate (T, Th) their classes share an axis type
    and a lowest power; the tables write the second class with the inverse power.
    """
    out, seen = [], set()
    for kd, key in kinds:
        if kd in seen and kd[0] in "CS" and "^" not in kd and kd[1:].isdigit():
            n = int(kd[1:])
            kd, key = f"{kd}^{n - 1}", (*key[:2], n - 1, *key[3:])
        seen.add(kd)
        out.append((kd, key))
    return out


def _principal(name: str, mats: np.ndarray, F: np.ndarray) -> tuple[int | None, int]:
    """The element whose character decides A vs B (and numbers the E's), and its order.

    Axial groups: Cn about z with n the highest order; S2n instead when it is there and neither i
    nor σh is (S4, S8, D2d, D4d …). Cubic groups: C4 (O, Oh), S4 (Td), C5 (I, Ih); none for T, Th.
    """
    if name in CUBIC:
        want = {"O": "C4", "Oh": "C4", "Td": "S4", "I": "C5", "Ih": "C5"}.get(name)
        if want is None:
            return None, 1
        for k, R in enumerate(mats):
            if operation_kind(R)[0] == want:
                return k, int(want[1:])
        raise RuntimeError(f"internal error: {name} without {want}")  # pragma: no cover
    z = F[2]
    n = 1
    for R in mats:
        kind, u = operation_kind(R)
        if kind.startswith("C") and _parallel(u, z):
            n = max(n, int(kind[1:].partition("^")[0]))
    if n == 1:
        return None, 1
    s2n = _find(mats, _mirror(z) @ rotation(z, np.pi / n))
    if s2n is not None and _find(mats, -np.eye(3)) is None and _find(mats, _mirror(z)) is None:
        return s2n, 2 * n
    return _find(mats, rotation(z, 2 * np.pi / n)), n


def _resolve_frame(pg: PointGroup, mats: np.ndarray, setting: str | None, frame) -> tuple[np.ndarray, str]:
    """The setting's frame (and a note when a named setting could not apply), checked against the group."""
    name = pg.name
    if name in CUBIC:  # cubic tables do not depend on a setting: the cube axes name the classes
        return _cube_frame(mats, pg.frame), ""
    if frame is not None:
        F = _check_frame(frame)
        # z must be a principal axis: it must carry a rotation of the group's highest order
        top = max([int(k[1:].partition("^")[0]) for k, _ in map(operation_kind, mats) if k.startswith("C")] or [1])
        if top > 1 and _find(mats, rotation(F[2], 2 * np.pi / top)) is None:
            raise SymcheckError(f"frame z {np.round(F[2], 4).tolist()} is not a principal ({top}-fold) axis of {name}")
        if not _is_setting_frame(name, mats, F):
            what = "a C2 axis" if perpendicular_kind(name) == "C2" else "in a mirror"
            raise SymcheckError(f"frame x {np.round(F[0], 4).tolist()} is not {what} of {name}")
        return F, ""
    perms = np.stack([np.asarray(op.permutation) for op in pg.operations])
    base = np.asarray(pg.frame, dtype=float)
    if not _is_setting_frame(name, mats, base):  # a group built by hand: fall back to the default
        base = default_setting_frame(name, mats, base)
    return setting_frame(name, mats, perms, base, setting)


def _is_setting_frame(name: str, mats: np.ndarray, F: np.ndarray) -> bool:
    """x is a C2 axis (D groups) or lies in a mirror (Cnv) — what the labels are defined against."""
    ref = perpendicular_kind(name)
    if ref == "C2":
        return _find(mats, rotation(F[0], np.pi)) is not None
    if ref == "σ":
        return _find(mats, _mirror(F[1])) is not None
    return True


def character_table(pg: PointGroup, setting: str | None = None, frame=None):
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
    if pg.order is None:
        from .linear import linear_character_table

        return linear_character_table(pg, setting)
    mats = group_matrices(pg)
    name = pg.name
    F, note = _resolve_frame(pg, mats, setting, frame)
    table = multiplication_table(mats)
    e = identity_index(mats)
    inv = inverse_indices(table, e)
    n = len(mats)

    raw = _element_classes(table, inv)
    kinds = [_class_kind(name, mats, members, F) for members in raw]
    order = sorted(range(len(raw)), key=lambda c: (kinds[c][1], raw[c][0]))
    raw = [raw[c] for c in order]
    kinds = _split_inverse_classes([kinds[c] for c in order])
    cls = np.empty(n, dtype=np.int64)
    for c, members in enumerate(raw):
        cls[members] = c
    sizes = np.array([len(m) for m in raw], dtype=float)
    classes = tuple(
        ElementClass(label=(f"{len(m)}" if len(m) > 1 else "") + kd, kind=kd, size=len(m), members=tuple(m))
        for m, (kd, _) in zip(raw, kinds)
    )

    chars = _complex_characters(table, cls, sizes, int(cls[e]))
    reps = [members[0] for members in raw]
    square_class = cls[table[reps, reps]]
    inverse_class = cls[inv[reps]]
    rows = _real_rows(chars, sizes, square_class, inverse_class)

    principal = _principal(name, mats, F)
    labels, x_ref = _labels(name, mats, F, rows, cls, principal)
    irreps = [Irrep(lab, int(round(x[0])), tuple(float(v) for v in x), kind) for lab, (x, kind) in zip(labels, rows)]
    irreps.sort(key=_irrep_sort_key)
    named = setting if frame is None else "frame"
    p_kind = operation_kind(mats[principal[0]])[0] if principal[0] is not None else None
    text = describe_setting(pg, F, named, note, mats=mats, principal=p_kind, reference=x_ref)
    return CharacterTable(
        group=name,
        order=n,
        classes=classes,
        irreps=tuple(irreps),
        table=np.array([r.characters for r in irreps]),
        element_class=cls,
        frame=F,
        setting=text,
        setting_name=named,
    )


def setting_description(pg: PointGroup, setting: str | None = None) -> str:
    """The setting of ``pg``'s labels in plain words (what ``CharacterTable.setting`` holds).

    E.g. for the tutorial square (D4h) by default::

        default setting (the file's axes; here "bonds": C2' between atoms): z = (0,0,1), the C4 axis;
        C2' along (1,0,0), (0,1,0), between atoms; C2'' along (1,1,0), (1,-1,0), through atoms 0, 1, 2, 3;
        σv ⟂ (0,1,0), (1,0,0), containing the C2'; σd ⟂ (1,1,0), (1,-1,0), containing the C2''; …

    :param pg: a PointGroup (finite or infinite).
    :param setting: None, ``"atoms"`` or ``"bonds"`` (see :data:`SETTINGS`).
    :raises SymcheckError: for an unknown setting.
    """
    setting = check_setting(setting)
    if pg.order is None:
        return character_table(pg, setting).setting
    # the words only, without the characters: no multiplication table needed
    mats = group_matrices(pg)
    F, note = _resolve_frame(pg, mats, setting, None)
    p_el, _ = _principal(pg.name, mats, F)
    p_kind = operation_kind(mats[p_el])[0] if p_el is not None else None
    reference = _reference(pg.name, mats, F)[1]
    return describe_setting(pg, F, setting, note, mats=mats, principal=p_kind, reference=reference)


def _fmt_dir(u) -> str:
    return f"({_fmt_axis(u)})"


def _atoms_text(atoms: list[int]) -> str:
    if not atoms:
        return "between atoms"
    shown = ", ".join(str(i) for i in atoms[:6]) + (", …" if len(atoms) > 6 else "")
    return f"through atom{'s' if len(atoms) > 1 else ''} {shown}"


_HEADS = {
    None: "default setting (the file's axes",
    "frame": "setting given by a frame (",
    "atoms": "setting \"atoms\" (C2' and σv through atoms",
    "bonds": "setting \"bonds\" (C2' and σv between atoms",
}


def describe_setting(pg: PointGroup, F: np.ndarray, setting: str | None, note: str = "", mats=None,
                     principal: str | None = None, reference: str | None = None) -> str:
    """Plain-words description of the setting F of a finite group (see :func:`setting_description`).

    :param pg: the finite PointGroup.
    :param F: (3, 3) the setting's frame.
    :param setting: the setting's name (None: default; ``"frame"``: an explicit frame).
    :param note: why a named setting could not apply, if so.
    :param mats: the group's matrices, if already stacked.
    :param principal: the kind of the element that decides A vs B (``"C4"``, ``"S4"``), if any.
    :param reference: ``"C2'"`` or ``"σv"``: what subscripts 1/2 on A and B refer to, if anything.
    """
    mats = group_matrices(pg) if mats is None else mats
    name = pg.name
    x, y, z = F
    if name in CUBIC:
        return _cubic_text(name, F, mats)
    if name in ("C1", "Ci"):
        return "no axis: A (g/u by inversion); no choice of setting"
    if name == "Cs":
        return f"σh = the mirror, ⟂ {_fmt_dir(z)}: A' symmetric, A'' antisymmetric under it; no choice of setting"
    if name in ("D2", "D2h"):
        return (f"x, y, z = {_fmt_dir(x)}, {_fmt_dir(y)}, {_fmt_dir(z)}, the three C2 axes (the file's axes when "
                "they are the C2 axes); B1, B2, B3 symmetric under C2(z), C2(y), C2(x)"
                + (f"; {note}" if note else ""))
    perms = [np.asarray(op.permutation) for op in pg.operations]
    npts = len(perms[0])
    on_axis = np.ones(npts, dtype=bool)  # atoms on the principal axis lie on every vertical mirror
    lines: dict[str, list] = {}
    for R, p in zip(mats, perms):
        kind, u = operation_kind(R)
        if kind.startswith("C") and _parallel(u, z):
            on_axis &= p == np.arange(npts)
    for R, p in zip(mats, perms):
        kind, u = operation_kind(R)
        if u is None or abs(np.dot(u, z)) > AXIS_TOL or kind not in ("C2", "σ"):
            continue
        atoms = [int(i) for i in np.flatnonzero((p == np.arange(npts)) & ~on_axis)]
        lines.setdefault(element_kind(kind, u, name, F), []).append((canonical_axis(u), atoms))

    head = _HEADS.get(setting, f"setting {setting!r} (")
    ref_kind = perpendicular_kind(name)
    if setting is None and ref_kind is not None and two_classes(name):
        # which named setting this frame is: is the class of x through atoms or between them
        first = "C2'" if ref_kind == "C2" else ("σv(xz)" if name == "C2v" else "σv")
        other = {"C2'": "C2''", "σv": "σd", "σv(xz)": "σv'(yz)"}[first]
        mine = [a for _, atoms in lines.get(first, []) for a in atoms]
        theirs = [a for _, atoms in lines.get(other, []) for a in atoms]
        named = None
        if mine and (not theirs or min(mine) < min(theirs)):
            named, how = "atoms", "through atoms"
        elif theirs:
            named, how = "bonds", "between atoms" if not mine else f"not through atom {min(theirs)}"
        if _in_plane_class(default_setting_frame(name, mats, F)[0], name, F) != 0:
            head = _HEADS[named] if named else _HEADS["frame"]  # a group put in another setting
            if named == "bonds" and mine:
                head = f"setting \"bonds\" ({first} {how}"
        elif named:
            head += f"; here \"{named}\": {first} {how}"
    elif setting == "bonds" and ref_kind is not None and two_classes(name):
        first = "C2'" if ref_kind == "C2" else ("σv(xz)" if name == "C2v" else "σv")
        other = {"C2'": "C2''", "σv": "σd", "σv(xz)": "σv'(yz)"}[first]
        mine = [a for _, atoms in lines.get(first, []) for a in atoms]
        theirs = [a for _, atoms in lines.get(other, []) for a in atoms]
        if mine and theirs:  # atoms on both classes: "bonds" is the class not through the first of them
            head = f"setting \"bonds\" ({first} not through atom {min(theirs)}"
    parts = [f"z = {_fmt_dir(z)}" + (f", the {principal.partition('^')[0]} axis" if principal else "")]
    for label in ("C2'", "C2''"):
        if label in lines:
            atoms = sorted({a for _, at in lines[label] for a in at})
            axes = ", ".join(_fmt_dir(u) for u, _ in lines[label])
            parts.append(f"{label} along {axes}, {_atoms_text(atoms)}")
    for label in ("σv", "σv(xz)", "σv'(yz)", "σd"):
        if label not in lines:
            continue
        part = f"{label} ⟂ " + ", ".join(_fmt_dir(u) for u, _ in lines[label])
        if "C2'" in lines:
            if name.endswith("d"):
                part += ", between the C2' axes"
            else:
                part += ", containing the C2''" if label == "σd" else ", containing the C2'"
        else:
            atoms = sorted({a for _, at in lines[label] for a in at})
            part += ", " + (_atoms_text(atoms) if atoms else "through no atom off the axis")
        parts.append(part)
    if principal and int(principal[1:].partition("^")[0]) % 2 == 0:  # odd n: no B rows
        parts.append(f"A/B by χ({principal}) = ±1")
    if reference:
        ref = "C2'" if reference == "C2'" else ("σv(xz)" if name == "C2v" else "σv")
        letters = "A, B" if principal and int(principal[1:].partition("^")[0]) % 2 == 0 else "A"
        parts.append(f"subscripts 1/2 on {letters}: symmetric/antisymmetric under {ref}")
    if name[0] in "CS" and not name.endswith("v") and _n_of(name) > (2 if name[0] == "C" else 4):
        parts.append("complex-conjugate pairs combined into real E rows")
    if note:
        parts.append(note)
    return head + "): " + "; ".join(parts)


def _cubic_text(name: str, F: np.ndarray, mats: np.ndarray) -> str:
    ref = {"O": "χ(C4)", "Oh": "χ(C4)", "Td": "χ(S4)", "I": "χ(C5)", "Ih": "χ(C5)"}.get(name)
    if name in ("I", "Ih"):
        body = "icosahedral group: no choice of setting"
    else:
        x, y, z = F
        body = f"cubic group: no choice of setting; cube axes {_fmt_dir(x)}, {_fmt_dir(y)}, {_fmt_dir(z)}"
        if name in ("O", "Oh"):
            body += "; C2 along the cube axes, C2' along the face diagonals"
        mirrors = {element_kind(k, u, name, F) for k, u in map(operation_kind, mats) if k == "σ"}
        if mirrors:
            body += "; " + ", ".join(m for m in ("σh ⟂ a cube axis", "σd ⟂ a face diagonal") if m[:2] in mirrors)
    body += "; labels A, E, T, G, H by dimension"
    if ref:
        body += f"; subscripts 1/2 by the sign of {ref}"
    if name in ("T", "Th"):
        body += "; complex-conjugate pairs combined into real E rows"
    return body


def _labels(name, mats, F, rows, cls, principal) -> tuple[list[str], str | None]:
    """Mulliken labels of the real rows (and which reference, C2′ or σv, the subscripts 1/2 use)."""
    x, y, z = F
    cubic = name in CUBIC

    def chi(row, k):
        return None if k is None else float(row[0][cls[k]])

    i_el = _find(mats, -np.eye(3))
    sh_el = None if cubic or i_el is not None else _find(mats, _mirror(z))
    p_el, p_order = principal
    c2 = {ax: _find(mats, rotation(u, np.pi)) for ax, u in zip("xyz", F)}
    ref_el, x_ref = _reference(name, mats, F)

    base = []
    for row in rows:
        d = int(round(row[0][0]))
        deco = ""
        if i_el is not None:
            deco = "g" if chi(row, i_el) > 0 else "u"
        elif sh_el is not None:
            deco = "'" if chi(row, sh_el) > 0 else "''"
        if cubic or d > 1:
            letter = _LETTERS[d]
        elif name in ("D2", "D2h"):
            letter = "A" if all(chi(row, c2[a]) > 0 for a in "xyz") else "B"
        else:
            letter = "A" if p_el is None or chi(row, p_el) > 0 else "B"
        base.append((letter, deco))

    labels = []
    for row, (letter, deco) in zip(rows, base):
        sub = ""
        if base.count((letter, deco)) > 1:
            if name in ("D2", "D2h"):
                sub = "1" if chi(row, c2["z"]) > 0 else ("2" if chi(row, c2["y"]) > 0 else "3")
            elif cubic:
                sub = "1" if chi(row, p_el) > 0 else "2"
            elif letter == "E":
                c = np.clip(chi(row, p_el) / row[0][0], -1.0, 1.0)
                sub = str(int(round(np.arccos(c) * p_order / (2 * np.pi))))
            elif ref_el is not None:
                sub = "1" if chi(row, ref_el) > 0 else "2"
        labels.append(f"{letter}{sub}{deco}")
    # never two rows with one label (a safety net: the conventions above make them distinct)
    for lab in set(labels):
        same = [k for k, v in enumerate(labels) if v == lab]
        if len(same) > 1:  # pragma: no cover
            for j, k in enumerate(same):
                labels[k] = f"{lab}[{j + 1}]"
    return labels, x_ref


def _reference(name: str, mats: np.ndarray, F: np.ndarray) -> tuple[int | None, str | None]:
    """The element that subscripts 1/2 on A and B refer to: the C2′ about x, else the σv through x
    (normal y); none in cubic groups, D2, D2h. Returns (element index, ``"C2'"`` / ``"σv"`` / None)."""
    if name in CUBIC or name in ("D2", "D2h"):
        return None, None
    c2x = _find(mats, rotation(F[0], np.pi))
    if c2x is not None and not _parallel(F[0], F[2]):
        return c2x, "C2'"
    sv = _find(mats, _mirror(F[1]))
    return sv, ("σv" if sv is not None else None)


def _irrep_sort_key(r: Irrep):
    lab = r.label
    deco = 1 if lab.endswith(("u", "''")) else 0
    digits = "".join(ch for ch in lab[1:] if ch.isdigit())
    return (deco, _LETTER_ORDER.get(lab[0], 9), int(digits) if digits else 0, lab)


# --------------------------------------------------------------------------------------------
# Irreps of features and of e3nn irreps
# --------------------------------------------------------------------------------------------


def irrep_weights(pg: PointGroup, vector, irreps: str, per_point: bool = False,
                  table=None, setting: str | None = None) -> dict[str, float]:
    """Fraction of ‖v‖² in each irrep of G: ‖P_χ v‖² / ‖v‖² with P_χ = (d_χ/|G|) Σ_g χ(g) ρ(g).

    The G-orbit of v spans a representation that contains exactly the irreps with nonzero weight.
    The weights sum to 1 (the projectors are orthogonal and add up to the identity). Infinite
    groups (C∞v, D∞h, Kh, …) are handled by :func:`symcheck.groups.linear.linear_irrep_weights`.

    :param pg: a PointGroup.
    :param vector: a global feature (d,) in e3nn's basis of ``irreps``, or a per-point field (N, d).
    :param irreps: e3nn irreps string of the feature, e.g. ``"2e"`` or ``"1o"``.
    :param per_point: the feature is a field on the points (permuted by each operation).
    :param table: a character table of pg (e.g. in another setting); computed when None.
    :param setting: the setting of the table computed when ``table`` is None (see :data:`SETTINGS`).
    """
    if pg.order is None:
        from .linear import linear_irrep_weights

        return linear_irrep_weights(pg, vector, irreps, per_point, table=table, setting=setting)
    from ..fixed import act, wigner_D
    from ..structure import irreps_dim

    ct = character_table(pg, setting) if table is None else table
    mats = group_matrices(pg)
    d = irreps_dim(irreps)
    v = np.asarray(vector, dtype=float)
    if per_point:
        npts = len(pg.operations[0].permutation)
        v = v.reshape(npts, d) if v.size == npts * d else v
        if v.shape != (npts, d):
            raise SymcheckError(f"a per-point {irreps} field on {npts} points has shape ({npts}, {d}), got {v.shape}")
    elif v.shape != (d,):
        raise SymcheckError(f"a global {irreps} feature has shape ({d},), got {v.shape}")
    Ds = wigner_D(irreps, mats)
    gv = np.stack([act(irreps, op.matrix, op.permutation if per_point else None, v, D=D)
                   for op, D in zip(pg.operations, Ds)]).reshape(len(mats), -1)
    total = float(np.sum(v**2))
    chars = ct.element_characters()
    out = {}
    for r, chi in zip(ct.irreps, chars):
        Pv = r.projector_scale / len(mats) * (chi @ gv)
        out[r.label] = float(np.sum(Pv**2) / total) if total > 0 else 0.0
    return out


def irrep_labels(pg: PointGroup, vector, irreps: str, per_point: bool = False, tol: float = 1e-8,
                 table=None, setting: str | None = None) -> list[str]:
    """The irreps of G that the G-orbit span of a feature contains (labels with nonzero weight).

    E.g. on the tutorial square (D4h), ``x**2 - y**2`` in ``2e`` gives ``["B1g"]`` (``["B2g"]`` with
    ``setting="atoms"``), ``z`` in ``1o`` gives ``["A2u"]``. Infinite groups are labelled too:
    CO2's bend (a per-point 1o field ⟂ the axis) is ``["Πu"]`` of D∞h; a 2e feature of a single
    atom (Kh) is ``["Dg"]``. The setting of the labels is ``character_table(pg, setting).setting``.

    :param pg: a PointGroup (finite, or infinite: C∞v, D∞h, C∞, C∞h, D∞, K, Kh).
    :param vector: a global feature (d,) in e3nn's basis of ``irreps``, or a per-point field (N, d).
    :param irreps: e3nn irreps string of the feature.
    :param per_point: the feature is a field on the points.
    :param tol: smallest weight (fraction of ‖v‖²) that counts.
    :param table: a character table of pg; computed when None.
    :param setting: the setting when ``table`` is None: None (default), ``"atoms"`` or ``"bonds"``.
    :raises SymcheckError: for an unknown setting or a vector of the wrong shape.
    """
    w = irrep_weights(pg, vector, irreps, per_point, table, setting)
    return [lab for lab, x in w.items() if x > tol]


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


__all__ = [
    "SETTINGS",
    "CharacterTable",
    "ElementClass",
    "Irrep",
    "character_table",
    "default_frame",
    "irrep_labels",
    "irrep_weights",
    "neumann_by_irrep",
    "setting_description",
]
