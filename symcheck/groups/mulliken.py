"""Mulliken labels: the names of a character table's rows (A1g, E', T2u, B3g) and columns (2C4, σv, C2'').

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

Every function here takes the group's matrices and the setting's frame F (rows x, y, z, see
:mod:`symcheck.groups.setting`); the labels depend on the setting only through F.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .elements import find_element
from .naming import CUBIC, _is_parallel, _reflection, element_kind, operation_kind, rotation

LETTERS = {1: "A", 2: "E", 3: "T", 4: "G", 5: "H"}  # by dimension
_LETTER_ORDER = {"A": 0, "B": 1, "E": 2, "T": 3, "G": 4, "H": 5}
_MIRROR_KEYS = {"σh": 0, "σ": 0, "σ(xy)": 0, "σv": 1, "σ(xz)": 1, "σv(xz)": 1, "σv'(yz)": 2, "σ(yz)": 2, "σd": 3}
_C2_KEYS = {"C2'": 1, "C2''": 2, "C2(z)": 0, "C2(y)": 1, "C2(x)": 2}


def kind_power(kind: str) -> int:
    """The power k of an operation kind ``"C4^3"`` (1 when none is written)."""
    return int(kind.partition("^")[2] or 1)


def kind_order(kind: str) -> int:
    """The n of an operation kind ``"C4^3"``, ``"S6"``, ``"C2'"`` (1 for E, i and mirrors)."""
    digits = kind[1:].partition("^")[0].rstrip("'")
    return int(digits) if kind[:1] in "CS" and digits.isdigit() else 1


# --------------------------------------------------------------------------------------------
# Columns: classes of elements
# --------------------------------------------------------------------------------------------


def class_kind(name: str, mats: np.ndarray, members: list[int], F: np.ndarray) -> tuple[str, tuple]:
    """The kind label of a class in the setting F (:func:`naming.element_kind`), and a sort key for the
    table's column order (E, rotations by decreasing order, i, S, σh, σv, σd).

    :param name: the group's Schoenflies name.
    :param mats: (order, 3, 3) the group's elements.
    :param members: element indices of the class.
    :param F: (3, 3) the setting's frame.
    """
    kinds = [operation_kind(mats[m]) for m in members]
    kind, axis = min(kinds, key=lambda t: kind_power(t[0]))  # the lowest power names the class (C4, not C4^3)
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
        return label, (3, -n, kind_power(label))
    return label, (1, -n, kind_power(label), 0)


def split_inverse_classes(kinds: list[tuple[str, tuple]]) -> list[tuple[str, tuple]]:
    """Name the second of two classes that share a label by the inverse power (T: 4C3, 4C3^2; Th: 4S6, 4S6^5).

    Where an element and its inverse are not conjugate (T, Th) their classes share an axis type
    and a lowest power; the tables write the second class with the inverse power.

    :param kinds: (label, sort key) of each class, in column order.
    """
    out, seen = [], set()
    for kd, key in kinds:
        if kd in seen and kd[0] in "CS" and "^" not in kd and kd[1:].isdigit():
            n = int(kd[1:])
            kd, key = f"{kd}^{n - 1}", (*key[:2], n - 1, *key[3:])
        seen.add(kd)
        out.append((kd, key))
    return out


# --------------------------------------------------------------------------------------------
# The elements whose characters name the rows
# --------------------------------------------------------------------------------------------


def principal_element(name: str, mats: np.ndarray, F: np.ndarray) -> tuple[int | None, int]:
    """The element whose character decides A vs B (and numbers the E's), and its order.

    Axial groups: Cn about z with n the highest order; S2n instead when it is there and neither i
    nor σh is (S4, S8, D2d, D4d …). Cubic groups: C4 (O, Oh), S4 (Td), C5 (I, Ih); none for T, Th.

    :param name: the group's Schoenflies name.
    :param mats: (order, 3, 3) the group's elements.
    :param F: (3, 3) the setting's frame (z the principal axis).
    :returns: (element index or None, its order n).
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
        if kind.startswith("C") and _is_parallel(u, z):
            n = max(n, kind_order(kind))
    if n == 1:
        return None, 1
    s2n = find_element(mats, _reflection(z) @ rotation(z, np.pi / n))
    if s2n is not None and find_element(mats, -np.eye(3)) is None and find_element(mats, _reflection(z)) is None:
        return s2n, 2 * n
    return find_element(mats, rotation(z, 2 * np.pi / n)), n


def reference_element(name: str, mats: np.ndarray, F: np.ndarray) -> tuple[int | None, str | None]:
    """The element that subscripts 1/2 on A and B refer to: the C2′ about x, else the σv through x
    (normal y); none in cubic groups, D2, D2h.

    :param name: the group's Schoenflies name.
    :param mats: (order, 3, 3) the group's elements.
    :param F: (3, 3) the setting's frame.
    :returns: (element index, ``"C2'"`` / ``"σv"`` / None).
    """
    if name in CUBIC or name in ("D2", "D2h"):
        return None, None
    c2x = find_element(mats, rotation(F[0], np.pi))
    if c2x is not None and not _is_parallel(F[0], F[2]):
        return c2x, "C2'"
    sv = find_element(mats, _reflection(F[1]))
    return sv, ("σv" if sv is not None else None)


def _named_elements(name: str, mats: np.ndarray, F: np.ndarray, principal: int | None,
                    reference: int | None) -> dict[str, int]:
    """Indices of the elements the labels read: i, σh (only without i), the principal element, the
    reference (C2′ or σv) and the C2 about each axis of F; absent ones are left out."""
    i_el = find_element(mats, -np.eye(3))
    sigma_h = None if name in CUBIC or i_el is not None else find_element(mats, _reflection(F[2]))
    named = {"i": i_el, "σh": sigma_h, "principal": principal, "reference": reference}
    named.update({f"C2{ax}": find_element(mats, rotation(u, np.pi)) for ax, u in zip("xyz", F)})
    return {key: k for key, k in named.items() if k is not None}


def _decoration(chi: dict[str, float]) -> str:
    """g/u under inversion, else ′/″ under σh, else nothing."""
    if "i" in chi:
        return "g" if chi["i"] > 0 else "u"
    if "σh" in chi:
        return "'" if chi["σh"] > 0 else "''"
    return ""


def _letter(name: str, dim: int, chi: dict[str, float]) -> str:
    """A/B for one-dimensional rows (D2, D2h: A only when symmetric under all three C2), else E, T, G, H."""
    if name in CUBIC or dim > 1:
        return LETTERS[dim]
    if name in ("D2", "D2h"):
        return "A" if all(chi[f"C2{a}"] > 0 for a in "xyz") else "B"
    return "A" if chi.get("principal", 1.0) > 0 else "B"


def _subscript(name: str, letter: str, dim: float, chi: dict[str, float], p_order: int) -> str:
    """The subscript of a row whose letter and decoration another row shares."""
    if name in ("D2", "D2h"):
        return "1" if chi["C2z"] > 0 else ("2" if chi["C2y"] > 0 else "3")
    if name in CUBIC:
        return "1" if chi["principal"] > 0 else "2"
    if letter == "E":  # χ(Cn) = 2cos(2πk/n) numbers the E's
        c = np.clip(chi["principal"] / dim, -1.0, 1.0)
        return str(int(round(np.arccos(c) * p_order / (2 * np.pi))))
    if "reference" in chi:
        return "1" if chi["reference"] > 0 else "2"
    return ""


def row_labels(name: str, mats: np.ndarray, F: np.ndarray, rows: Sequence[tuple[np.ndarray, str]],
               cls: np.ndarray, principal: tuple[int | None, int]) -> tuple[list[str], str | None]:
    """Mulliken labels of the real rows (and which reference, C2′ or σv, the subscripts 1/2 use).

    :param name: the group's Schoenflies name.
    :param mats: (order, 3, 3) the group's elements.
    :param F: (3, 3) the setting's frame.
    :param rows: (characters per class, reality) of each row; the identity's class first.
    :param cls: (order,) class index of each element.
    :param principal: :func:`principal_element` of the group in this setting.
    """
    p_el, p_order = principal
    ref_el, x_ref = reference_element(name, mats, F)
    named = _named_elements(name, mats, F, p_el, ref_el)
    chis = [{key: float(row[0][cls[k]]) for key, k in named.items()} for row in rows]
    base = [(_letter(name, int(round(row[0][0])), chi), _decoration(chi)) for row, chi in zip(rows, chis)]
    labels = []
    for row, chi, (letter, deco) in zip(rows, chis, base):
        sub = _subscript(name, letter, row[0][0], chi, p_order) if base.count((letter, deco)) > 1 else ""
        labels.append(f"{letter}{sub}{deco}")
    # never two rows with one label (a safety net: the conventions above make them distinct)
    for lab in set(labels):
        same = [k for k, v in enumerate(labels) if v == lab]
        if len(same) > 1:  # pragma: no cover
            for j, k in enumerate(same):
                labels[k] = f"{lab}[{j + 1}]"
    return labels, x_ref


def irrep_sort_key(label: str) -> tuple:
    """Standard row order: g before u (′ before ″), then A, B, E, T, G, H, then the subscript."""
    deco = 1 if label.endswith(("u", "''")) else 0
    digits = "".join(ch for ch in label[1:] if ch.isdigit())
    return (deco, _LETTER_ORDER.get(label[0], 9), int(digits) if digits else 0, label)


__all__ = [
    "LETTERS",
    "class_kind",
    "irrep_sort_key",
    "kind_order",
    "kind_power",
    "principal_element",
    "reference_element",
    "row_labels",
    "split_inverse_classes",
]
