"""The setting of a point group's irrep labels: which frame names the axes, and that frame in plain words.

The setting (which C2 axes are C2′, which mirrors σv) decides B1 vs B2 and the like. By default
it follows the structure file's own axes where the group allows it: z is the principal axis, and
x is the file's x axis (else y, else z) when that axis is a C2′ axis (D groups) or lies in a
vertical mirror (Cnv), else the detector's ``pg.frame`` x. So for the tutorial square (corners on
the diagonals, C2 axes along the file's x and y) x² − y² is B1g and xy is B2g, as in the
textbooks' D4h table. ``frame`` (rows x, y, z) chooses another setting; ``"atoms"`` and
``"bonds"`` put C2′ and σv through atoms or between them (:data:`SETTINGS`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import SymcheckError
from .elements import find_element, group_matrices
from .group import format_axis
from .linear import linear_character_table
from .mulliken import kind_order, principal_element, reference_element
from .naming import (
    AXIS_TOL,
    CUBIC,
    SETTINGS,
    _in_plane_class,
    _is_parallel,
    _n_of,
    _reflection,
    canonical_axis,
    check_setting,
    cube_frame,
    default_setting_frame,
    element_kind,
    operation_kind,
    perpendicular_kind,
    rotation,
    setting_frame,
    two_classes,
)

if TYPE_CHECKING:  # only the type: a group is read through its name, frame and operations
    from .pointgroup import PointGroup


# --------------------------------------------------------------------------------------------
# The frame
# --------------------------------------------------------------------------------------------


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
        if not any(_is_parallel(u, v) for v in axes):
            axes.append(u)
    return axes


def _cube_frame(mats: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """The cube axes as a frame (T, Td, Th, O, Oh): ``frame`` when its rows are the cube axes (the
    detector's frame is), else :func:`naming.cube_frame`; I, Ih: ``frame``."""
    axes = _coordinate_axes(mats)
    F = np.asarray(frame, dtype=float)
    if len(axes) != 3 or all(any(_is_parallel(e, u) for u in axes) for e in F):
        return F
    return cube_frame(axes)


def resolve_frame(pg: PointGroup, mats: np.ndarray, setting: str | None, frame) -> tuple[np.ndarray, str]:
    """The setting's frame (and a note when a named setting could not apply), checked against the group.

    :param pg: a finite PointGroup.
    :param mats: (order, 3, 3) its elements.
    :param setting: None, ``"atoms"`` or ``"bonds"`` (checked by :func:`naming.check_setting`).
    :param frame: an explicit (3, 3) frame (rows x, y, z), or None.
    :raises SymcheckError: when ``frame`` is not orthonormal or does not fit the group.
    """
    name = pg.name
    if name in CUBIC:  # cubic tables do not depend on a setting: the cube axes name the classes
        return _cube_frame(mats, pg.frame), ""
    if frame is not None:
        F = _check_frame(frame)
        # z must be a principal axis: it must carry a rotation of the group's highest order
        top = max([kind_order(k) for k, _ in map(operation_kind, mats) if k.startswith("C")] or [1])
        if top > 1 and find_element(mats, rotation(F[2], 2 * np.pi / top)) is None:
            raise SymcheckError(f"frame z {np.round(F[2], 4).tolist()} is not a principal ({top}-fold) axis of {name}")
        if not is_setting_frame(name, mats, F):
            what = "a C2 axis" if perpendicular_kind(name) == "C2" else "in a mirror"
            raise SymcheckError(f"frame x {np.round(F[0], 4).tolist()} is not {what} of {name}")
        return F, ""
    perms = np.stack([np.asarray(op.permutation) for op in pg.operations])
    base = np.asarray(pg.frame, dtype=float)
    if not is_setting_frame(name, mats, base):  # a group built by hand: fall back to the default
        base = default_setting_frame(name, mats, base)
    return setting_frame(name, mats, perms, base, setting)


def is_setting_frame(name: str, mats: np.ndarray, F: np.ndarray) -> bool:
    """x is a C2 axis (D groups) or lies in a mirror (Cnv) — what the labels are defined against.

    :param name: the group's Schoenflies name.
    :param mats: (order, 3, 3) its elements.
    :param F: (3, 3) a frame, rows x, y, z.
    """
    ref = perpendicular_kind(name)
    if ref == "C2":
        return find_element(mats, rotation(F[0], np.pi)) is not None
    if ref == "σ":
        return find_element(mats, _reflection(F[1])) is not None
    return True


# --------------------------------------------------------------------------------------------
# The frame in words
# --------------------------------------------------------------------------------------------


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
    if pg.infinite:
        return linear_character_table(pg, setting).setting
    # the words only, without the characters: no multiplication table needed
    mats = group_matrices(pg)
    F, note = resolve_frame(pg, mats, setting, None)
    p_el, _ = principal_element(pg.name, mats, F)
    p_kind = operation_kind(mats[p_el])[0] if p_el is not None else None
    reference = reference_element(pg.name, mats, F)[1]
    return describe_setting(pg, F, setting, note, mats=mats, principal=p_kind, reference=reference)


def _fmt_dir(u) -> str:
    return f"({format_axis(u)})"


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
    fixed = _fixed_setting_text(pg.name, F, mats, note)
    if fixed is not None:
        return fixed
    lines = _perpendicular_elements(pg, mats, F)
    head = _head(pg.name, mats, F, setting, lines)
    parts = [f"z = {_fmt_dir(F[2])}" + (f", the {principal.partition('^')[0]} axis" if principal else "")]
    parts += _axis_parts(lines) + _mirror_parts(pg.name, lines) + _rule_parts(pg.name, principal, reference)
    if note:
        parts.append(note)
    return head + "): " + "; ".join(parts)


def _fixed_setting_text(name: str, F: np.ndarray, mats: np.ndarray, note: str) -> str | None:
    """The words for groups whose labels leave no choice (cubic, C1, Ci, Cs) or use the axes (D2, D2h)."""
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
    return None


def _perpendicular_elements(pg: PointGroup, mats: np.ndarray, F: np.ndarray) -> dict[str, list]:
    """C2 axes ⟂ z and mirrors containing z by their label in the setting F: [(axis, atoms on it), …],
    the atoms off the principal axis (those on it lie on every vertical mirror)."""
    z = F[2]
    perms = [np.asarray(op.permutation) for op in pg.operations]
    npts = len(perms[0])
    on_axis = np.ones(npts, dtype=bool)
    for R, p in zip(mats, perms):
        kind, u = operation_kind(R)
        if kind.startswith("C") and _is_parallel(u, z):
            on_axis &= p == np.arange(npts)
    lines: dict[str, list] = {}
    for R, p in zip(mats, perms):
        kind, u = operation_kind(R)
        if u is None or abs(np.dot(u, z)) > AXIS_TOL or kind not in ("C2", "σ"):
            continue
        atoms = [int(i) for i in np.flatnonzero((p == np.arange(npts)) & ~on_axis)]
        lines.setdefault(element_kind(kind, u, pg.name, F), []).append((canonical_axis(u), atoms))
    return lines


def _head(name: str, mats: np.ndarray, F: np.ndarray, setting: str | None, lines: dict[str, list]) -> str:
    """The opening words: which setting, and for the default one whether it is "atoms" or "bonds" here."""
    head = _HEADS.get(setting, f"setting {setting!r} (")
    ref_kind = perpendicular_kind(name)
    if setting not in (None, "bonds") or ref_kind is None or not two_classes(name):
        return head
    first = "C2'" if ref_kind == "C2" else ("σv(xz)" if name == "C2v" else "σv")
    other = {"C2'": "C2''", "σv": "σd", "σv(xz)": "σv'(yz)"}[first]
    mine = [a for _, atoms in lines.get(first, []) for a in atoms]
    theirs = [a for _, atoms in lines.get(other, []) for a in atoms]
    if setting == "bonds":  # atoms on both classes: "bonds" is the class not through the first of them
        return f"setting \"bonds\" ({first} not through atom {min(theirs)}" if mine and theirs else head
    # the default setting: which named setting this frame is (is the class of x through atoms or between them)
    named, how = None, ""
    if mine and (not theirs or min(mine) < min(theirs)):
        named, how = "atoms", "through atoms"
    elif theirs:
        named, how = "bonds", "between atoms" if not mine else f"not through atom {min(theirs)}"
    if _in_plane_class(default_setting_frame(name, mats, F)[0], name, F) != 0:  # a group put in another setting
        if named == "bonds" and mine:
            return f"setting \"bonds\" ({first} {how}"
        return _HEADS[named] if named else _HEADS["frame"]
    return head + (f"; here \"{named}\": {first} {how}" if named else "")


def _axis_parts(lines: dict[str, list]) -> list[str]:
    """``C2' along (1,0,0), (0,1,0), between atoms`` for the C2′ and C2″ axes."""
    parts = []
    for label in ("C2'", "C2''"):
        if label in lines:
            atoms = sorted({a for _, at in lines[label] for a in at})
            axes = ", ".join(_fmt_dir(u) for u, _ in lines[label])
            parts.append(f"{label} along {axes}, {_atoms_text(atoms)}")
    return parts


def _mirror_parts(name: str, lines: dict[str, list]) -> list[str]:
    """``σv ⟂ (0,1,0), (1,0,0), containing the C2'`` for each class of vertical mirrors."""
    parts = []
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
    return parts


def _rule_parts(name: str, principal: str | None, reference: str | None) -> list[str]:
    """What A/B, the subscripts 1/2 and the E rows of complex pairs refer to."""
    parts = []
    even = bool(principal) and kind_order(principal) % 2 == 0  # odd n: no B rows
    if even:
        parts.append(f"A/B by χ({principal}) = ±1")
    if reference:
        ref = "C2'" if reference == "C2'" else ("σv(xz)" if name == "C2v" else "σv")
        parts.append(f"subscripts 1/2 on {'A, B' if even else 'A'}: symmetric/antisymmetric under {ref}")
    if name[0] in "CS" and not name.endswith("v") and _n_of(name) > (2 if name[0] == "C" else 4):
        parts.append("complex-conjugate pairs combined into real E rows")
    return parts


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


__all__ = [
    "SETTINGS",
    "default_frame",
    "describe_setting",
    "is_setting_frame",
    "resolve_frame",
    "setting_description",
]
