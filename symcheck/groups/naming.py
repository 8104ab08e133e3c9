"""Naming: the kind of each operation (C4, σh, S6^5 …), the Schoenflies name of a finite group, its frame."""

from __future__ import annotations

from math import atan2, gcd, sqrt

import numpy as np

from ..errors import SymcheckError
from .elements import find_element

AXIS_TOL = 1e-5  # angle-scale tolerance for comparing axes of already idealized (exact) operations


def rotation_axis_angle(R: np.ndarray) -> tuple[np.ndarray, float]:
    """Axis (unit) and angle in [0, π] of a proper rotation R (angle 0: axis arbitrary, returns z)."""
    w = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    norm_w = sqrt(float(w @ w))
    # atan2 keeps full precision near 0 and π, where arccos of the trace loses half the digits
    angle = atan2(norm_w, float(R[0, 0] + R[1, 1] + R[2, 2]) - 1)
    if angle < 1e-9:
        return np.array([0.0, 0.0, 1.0]), 0.0
    if angle < np.pi - 1e-4:
        return w / norm_w, angle
    # angle π: R = 2 u u^T − I
    B = (R + np.eye(3)) / 2
    k = int(np.argmax(np.diag(B)))
    u = B[:, k] / np.sqrt(max(B[k, k], 1e-300))
    if np.dot(u, w) < 0:  # just below π the antisymmetric part still orients the axis
        u = -u
    return u / np.linalg.norm(u), angle


def rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix about a unit axis by an angle in radians (right-handed)."""
    u = np.asarray(axis, dtype=float)
    u = u / np.linalg.norm(u)
    K = np.array([[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * (K @ K)


def canonical_axis(u: np.ndarray) -> np.ndarray:
    """The axis direction with its first clearly nonzero component positive (axes are lines)."""
    for x in u:
        if abs(x) > 1e-6:
            return u if x > 0 else -u
    return u


def _fraction(angle: float, max_order: int = 1000) -> tuple[int, int]:
    """(k, n) with angle ≈ 2πk/n, n ≤ max_order, in lowest terms."""
    from fractions import Fraction

    f = Fraction(angle / (2 * np.pi)).limit_denominator(max_order)
    k, n = f.numerator % f.denominator, f.denominator
    g = gcd(k, n) or 1
    return k // g, n // g


def det3(R: np.ndarray) -> float:
    """Determinant of a 3×3 matrix (written out: np.linalg.det costs more than the arithmetic)."""
    (a, b, c), (d, e, f), (g, h, i) = R.tolist()
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)


def operation_kind(R: np.ndarray) -> tuple[str, np.ndarray | None]:
    """Kind ("E", "C4", "C4^3", "i", "σ", "S6^5") and canonical axis of an orthogonal matrix."""
    if det3(R) > 0:
        u, angle = rotation_axis_angle(R)
        if angle < 1e-6:
            return "E", None
        cu = canonical_axis(u)
        signed = angle if np.dot(cu, u) > 0 else 2 * np.pi - angle
        k, n = _fraction(signed)
        return (f"C{n}" if k == 1 else f"C{n}^{k}"), cu
    u, phi = rotation_axis_angle(-R)  # R = −Rot(u, φ) = S(φ − π) about u
    if phi < 1e-6:
        return "i", None
    cu = canonical_axis(u)
    signed = phi if np.dot(cu, u) > 0 else 2 * np.pi - phi
    theta = (signed - np.pi) % (2 * np.pi)
    if theta < 1e-6 or theta > 2 * np.pi - 1e-6:
        return "σ", cu
    k, n = _fraction(theta)
    return (f"S{n}" if k == 1 else f"S{n}^{k}"), cu


def _axes_with_orders(mats: list[np.ndarray]) -> list[tuple[np.ndarray, int]]:
    """Distinct proper-rotation axes and the order of the cyclic group about each."""
    axes: list[list] = []
    for R in mats:
        if det3(R) < 0:
            continue
        u, angle = rotation_axis_angle(R)
        if angle < 1e-9:
            continue
        for entry in axes:
            if abs(abs(np.dot(entry[0], u)) - 1) < AXIS_TOL:
                entry[1] += 1
                break
        else:
            axes.append([canonical_axis(u), 1])
    return [(u, count + 1) for u, count in axes]


def classify(mats: list[np.ndarray]) -> tuple[str, np.ndarray]:
    """Schoenflies name and default-setting frame (rows x, y, z; z principal) of a finite group of matrices.

    The frame is the group's default setting (:func:`default_setting_frame`): for D groups x is a
    C2′ axis and for Cnv x lies in a σv, the file's own x (else y, else z) where it qualifies, so
    that the operations' names (:func:`element_kind`) and the character table agree by default.
    """
    order = len(mats)
    axes = _axes_with_orders(mats)
    improper = [R for R in mats if det3(R) < 0]
    has_inversion = any(np.max(np.abs(R + np.eye(3))) <= 1.1e-5 for R in improper)
    mirrors = [axis for kind, axis in map(operation_kind, improper) if kind == "σ"]
    high = [(u, n) for u, n in axes if n >= 3]

    if len(high) > 1:
        top = max(n for _, n in high)
        base = {5: "I", 4: "O"}.get(top, "T")
        z = next(u for u, n in axes if n == (top if base != "T" else 2))
        name = base if not improper else (base + "h" if has_inversion else "Td")
        if base == "I":
            x = _perpendicular_axis([u for u, n in axes if n == 2], z)
            return _check(name, order), _frame(z, x)  # a C5 axis and a C2 ⟂ it
        return _check(name, order), cube_frame([u for u, n in axes if n == (4 if base == "O" else 2)])



    if not axes:
        name = "Cs" if mirrors else ("Ci" if has_inversion else "C1")
        z = mirrors[0] if mirrors else np.array([0.0, 0.0, 1.0])
        return _check(name, order), _frame(z, None)

    n = max(k for _, k in axes)
    # several axes of the top order (D2, D2h, D2d…): prefer the one nearest the input's z, then y
    z = max((u for u, k in axes if k == n), key=lambda u: (round(abs(u[2]), 9), round(abs(u[1]), 9)))
    c2_perp = [u for u, k in axes if k == 2 and abs(np.dot(u, z)) < AXIS_TOL]
    sigma_h = any(abs(abs(np.dot(m, z)) - 1) < AXIS_TOL for m in mirrors)
    sigma_v = [m for m in mirrors if abs(np.dot(m, z)) < AXIS_TOL]
    if c2_perp:
        name = f"D{n}" + ("" if not improper else ("h" if sigma_h else "d"))
        x = c2_perp[0]
    else:
        if not improper:
            name = f"C{n}"
        elif sigma_h:
            name = f"C{n}h"
        elif sigma_v:
            name = f"C{n}v"
        else:
            name = f"S{2 * n}"
        x = np.cross(sigma_v[0], z) if sigma_v else None
    # the default setting: the file's own axes where the group allows them (C2′ or σv along x)
    return _check(name, order), default_setting_frame(name, mats, _frame(z, x))


def cube_frame(axes: list[np.ndarray]) -> np.ndarray:
    """The three cube axes of a cubic group as a right-handed frame, nearest the file's axes.

    x is the cube axis nearest the file's x, z the one (of the other two) nearest the file's z,
    each pointing along the positive file axis, so an aligned cube prints as the file's axes.

    :param axes: the three mutually perpendicular cube axes (C4 axes of O, Oh; C2 axes of T, Td, Th).
    """
    x = max(axes, key=lambda u: abs(u[0]))
    z = max((u for u in axes if u is not x), key=lambda u: abs(u[2]))
    x = x / np.linalg.norm(x) * (1.0 if x[0] >= 0 else -1.0)
    z = z / np.linalg.norm(z) * (1.0 if z[2] >= 0 else -1.0)
    return np.array([x, np.cross(z, x), z])


def _perpendicular_axis(candidates, z):
    for u in candidates:
        if abs(np.dot(u, z)) < AXIS_TOL:
            return u
    return None


def _frame(z: np.ndarray, x: np.ndarray | None) -> np.ndarray:
    z = canonical_axis(z / np.linalg.norm(z))
    if x is None or np.linalg.norm(np.cross(z, x)) < 1e-6:
        trial = np.eye(3)[int(np.argmin(np.abs(z)))]
        x = trial - np.dot(trial, z) * z
    x = x - np.dot(x, z) * z
    x = canonical_axis(x / np.linalg.norm(x))
    return np.array([x, np.cross(z, x), z])


def expected_order(name: str) -> int | None:
    """Order of a finite group from its Schoenflies name (None for infinite groups)."""
    fixed = {"C1": 1, "Ci": 2, "Cs": 2, "T": 12, "Td": 24, "Th": 24, "O": 24, "Oh": 48, "I": 60, "Ih": 120}
    if name in fixed:
        return fixed[name]
    if "inf" in name or name in ("K", "Kh"):
        return None
    family, digits, suffix = name[0], "".join(c for c in name[1:] if c.isdigit()), name[1:].lstrip("0123456789")
    n = int(digits)
    if family == "C":
        return n * (2 if suffix in ("v", "h") else 1)
    if family == "S":
        return n
    if family == "D":
        return 2 * n * (2 if suffix in ("h", "d") else 1)
    raise ValueError(f"unknown point group name {name!r}")


def _check(name: str, order: int) -> str:
    if expected_order(name) != order:
        raise RuntimeError(f"internal error: classified a group of order {order} as {name}")
    return name


def mirror_label(normal: np.ndarray, name: str, frame: np.ndarray, c2_axes: list[np.ndarray] | None = None) -> str:
    """σh, σv, σd, σ(xy) … for a mirror of the named group in the setting ``frame`` (see :func:`element_kind`).

    :param normal: the mirror's unit normal.
    :param name: the group's Schoenflies name.
    :param frame: (3, 3) the group's frame (rows x, y, z), as returned by :func:`classify`.
    :param c2_axes: unused (kept for callers written before :func:`element_kind`).
    """
    return operation_name(element_kind("σ", normal, name, frame))


# --------------------------------------------------------------------------------------------
# Settings and element names: the one convention shared by the operations table, the
# obstruction list, the character table and the subgroup lattice
# --------------------------------------------------------------------------------------------

SETTINGS: tuple[str, ...] = ("atoms", "bonds")
"""Valid values of ``setting`` besides None (the default: the file's own axes where the group allows).

``"atoms"``: the C2′ axes (D groups) or σv planes (Cnv) are the ones through atoms;
``"bonds"``: they are the ones between atoms (through bond midpoints), the other class.
"""

CUBIC = ("T", "Td", "Th", "O", "Oh", "I", "Ih")


def check_setting(setting: str | None) -> str | None:
    """The setting name, lower-cased, after checking it is one of :data:`SETTINGS` (or None).

    :param setting: None, ``"atoms"`` or ``"bonds"`` (case-insensitive).
    :raises SymcheckError: for any other value, naming the valid ones.
    """
    if setting is None:
        return None
    key = str(setting).strip().lower()
    if key in ("", "default", "none"):
        return None
    if key not in SETTINGS:
        valid = ", ".join(repr(s) for s in SETTINGS)
        raise SymcheckError(f"unknown setting {setting!r}; valid settings are {valid} (or none for the default)")
    return key


def _n_of(name: str) -> int:
    digits = "".join(c for c in name if c.isdigit())
    return int(digits) if digits else 1


def perpendicular_kind(name: str) -> str | None:
    """What fixes the setting of an axial group: ``"C2"`` (C2 axes ⟂ z: Dn, Dnh, Dnd), ``"σ"`` (vertical
    mirrors: Cnv), or None (no choice to make: Cn, Cnh, S2n, C1, Ci, Cs, the cubic groups, D2, D2h)."""
    if name in CUBIC or name in ("D2", "D2h") or "inf" in name or name in ("K", "Kh"):
        return None
    if name.startswith("D"):
        return "C2"
    if name.startswith("C") and name.endswith("v"):
        return "σ"
    return None


def two_classes(name: str) -> bool:
    """True when the perpendicular C2 axes (or vertical mirrors) fall into two classes whose names
    (C2′/C2″, σv/σd, or σv(xz)/σv′(yz) in C2v) depend on the setting: Dn, Dnh with n even ≥ 4; Cnv with n even."""
    n = _n_of(name)
    if name.startswith("C") and name.endswith("v"):
        return n % 2 == 0
    return name.startswith("D") and not name.endswith("d") and n % 2 == 0 and n >= 4


def _in_plane_class(direction: np.ndarray, name: str, frame: np.ndarray) -> int:
    """0 or 1: the class of a direction ⟂ z (a C2 axis or the line a vertical mirror contains).

    For even n the 2n such lines at angles jπ/n from the frame's x fall into two classes, j even
    (the class of x) and j odd; for odd n (and in Dnd) there is one class.
    """
    if not two_classes(name):
        return 0
    n = _n_of(name)
    x, y = frame[0], frame[1]
    j = int(round(np.arctan2(np.dot(direction, y), np.dot(direction, x)) / (np.pi / n)))
    return j % 2


def element_kind(kind: str, axis: np.ndarray | None, name: str, frame: np.ndarray) -> str:
    """The name of one element of the group ``name`` in the setting ``frame``: the one convention.

    The operations table (``SymmetryOperation.kind``), the obstruction list (``op.label()``), the
    character table's classes and the subgroup lattice's tags all come from this function, so
    one element has one name everywhere. The textbook rules (Cotton; Atkins):

    * rotations and S about the principal axis z keep ``operation_kind``'s name (C4, C4^3, S8^3);
    * a C2 ⟂ z is C2′ (Dn, Dnh, Dnd). For even n ≥ 4 they come in two classes: C2′ holds the C2
      about the frame's x (axes at angles jπ/n from x with j even), C2″ the others (j odd);
    * a mirror ⟂ z is σh; a mirror containing z is σv in Cnv and Dnh, σd in Dnd. For even n the
      σv contain the C2′ axes (Dnh) or the frame's x (Cnv) and σd the others (they contain the C2″);
    * cubic groups: C2 about a cube axis is C2, the other C2 (O, Oh) are C2′; a mirror normal to a
      cube axis is σh, the others σd; Ih's mirrors are σ;
    * D2, D2h: C2(z), C2(y), C2(x), σ(xy), σ(xz), σ(yz) by the frame's axes; C2v: σv(xz) (normal
      y) and σv'(yz) (normal x); Cs: σh.

    :param kind: the element's ``operation_kind`` (``"C2"``, ``"σ"``, ``"C4^3"`` …).
    :param axis: its axis (a mirror's normal), or None for E and i.
    :param name: the group's Schoenflies name.
    :param frame: (3, 3) the setting's axes as rows x, y, z (z principal; for D groups x a C2′ axis,
        for Cnv x in a σv plane; for cubic groups the cube axes).
    :returns: the table's name; :func:`operation_name` gives the form stored on operations.
    """
    if kind in ("E", "i") or axis is None:
        return kind
    x, y, z = frame
    if kind == "σ":
        if name == "Ih" or name.startswith("I"):
            return "σ"
        if name in CUBIC:
            return "σh" if any(_is_parallel(axis, e) for e in frame) else "σd"
        if name == "D2h":
            return "σ(xy)" if _is_parallel(axis, z) else ("σ(xz)" if _is_parallel(axis, y) else "σ(yz)")
        if name == "C2v":
            return "σv(xz)" if _is_parallel(axis, y) else "σv'(yz)"
        if _is_parallel(axis, z) or name == "Cs":
            return "σh"
        if name.startswith("D") and name.endswith("d"):
            return "σd"
        # a vertical mirror contains z and the in-plane line z × normal
        return "σd" if _in_plane_class(np.cross(z, axis), name, frame) else "σv"
    if kind == "C2":
        if name in CUBIC:
            if name in ("O", "Oh") and not any(_is_parallel(axis, e) for e in frame):
                return "C2'"
            return "C2"
        if name in ("D2", "D2h"):
            return "C2(z)" if _is_parallel(axis, z) else ("C2(y)" if _is_parallel(axis, y) else "C2(x)")
        if name.startswith("D") and abs(np.dot(axis, z)) < AXIS_TOL:
            return "C2''" if _in_plane_class(axis, name, frame) else "C2'"
    return kind


def operation_name(table_kind: str) -> str:
    """The kind stored on a SymmetryOperation for a table kind: the same name, except that D2 and
    D2h rotations drop the axis letter (``"C2(z)"`` → ``"C2"``), which ``op.label()`` prints as the
    axis itself (``"C2 (axis 0,0,1)"``); mirrors keep theirs (``"σ(xy)"``, ``"σv'(yz)"``)."""
    return "C2" if table_kind.startswith("C2(") else table_kind


def _is_parallel(u, v) -> bool:
    return u is not None and abs(abs(float(np.dot(u, v))) - 1) < AXIS_TOL


def _half_turn(u: np.ndarray) -> np.ndarray:
    u = u / np.linalg.norm(u)
    return 2 * np.outer(u, u) - np.eye(3)


def _reflection(normal: np.ndarray) -> np.ndarray:
    u = normal / np.linalg.norm(normal)
    return np.eye(3) - 2 * np.outer(u, u)


def default_setting_frame(name: str, mats, frame: np.ndarray) -> np.ndarray:
    """The default setting: the file's own axes where the group allows them.

    z is the principal axis (``frame``'s z). Where the labels depend on a direction ⟂ z (Dn, Dnh,
    Dnd: a C2′ axis; Cnv: a line in a σv), x is the first of the file's x, y, z axes that is such
    a direction, else ``frame``'s x. D2 and D2h use the file's axes when those are the three C2
    axes. Other groups keep ``frame``.

    :param name: Schoenflies name.
    :param mats: (n, 3, 3) the group's exact matrices.
    :param frame: (3, 3) a standard frame of the group (rows x, y, z; z principal).
    """
    mats = np.asarray(mats, dtype=float)
    F = np.asarray(frame, dtype=float)
    eye = np.eye(3)
    if name in ("D2", "D2h"):
        if all(find_element(mats, _half_turn(e)) is not None for e in eye):
            return eye.copy()
        return F.copy()
    ref = perpendicular_kind(name)
    if ref is None:
        return F.copy()
    z = F[2]
    for e in eye:
        if abs(np.dot(e, z)) > AXIS_TOL:
            continue
        M = _half_turn(e) if ref == "C2" else _reflection(np.cross(z, e))
        k = find_element(mats, M)
        if k is not None:
            # the element's own axis (exact to ~1e-13), not the file axis it matches within 1e-6
            u = rotation_axis_angle(mats[k])[0] if ref == "C2" else np.cross(z, rotation_axis_angle(-mats[k])[0])
            x = u - np.dot(u, z) * z
            x = x / np.linalg.norm(x) * (1.0 if np.dot(x, e) > 0 else -1.0)
            return np.array([x, np.cross(z, x), z])
    return F.copy()


def setting_frame(name: str, mats, perms, frame: np.ndarray, setting: str | None) -> tuple[np.ndarray, str]:
    """The frame of a named setting, and a note on how it was chosen.

    ``"atoms"``: x lies on a C2 axis ⟂ z (D groups) or in a vertical mirror (Cnv) that passes through
    an atom off the principal axis (an atom the element fixes and the principal rotation moves);
    where atoms lie on both classes, the class through the lowest-numbered such atom. ``"bonds"``:
    x in the other class (between atoms). Within the chosen class x is a file axis when one is in
    it, else the line through the lowest-numbered atom, else any line of the class. Where no atom
    lies on either class, or the group has one class only (or none: Cn, Cnh, S2n, D2, D2h, cubic),
    the frame is kept and the note says so.

    :param name: Schoenflies name.
    :param mats: (n, 3, 3) the group's exact matrices.
    :param perms: (n, N) the permutations of the atoms (atom i goes to ``perms[k][i]``).
    :param frame: (3, 3) the group's current (default) frame.
    :param setting: None, ``"atoms"`` or ``"bonds"``.
    :returns: (frame, note); the note is "" when the setting applied as asked.
    """
    setting = check_setting(setting)
    F = np.asarray(frame, dtype=float)
    if setting is None:
        return F.copy(), ""
    ref = perpendicular_kind(name)
    if ref is None:
        return F.copy(), f"{name} has no C2' or σv choice to make: the setting does not change its labels"
    mats = np.asarray(mats, dtype=float)
    perms = np.asarray(perms)
    z = F[2]
    n = _n_of(name)
    principal = find_element(mats, rotation(z, 2 * np.pi / max(n, 2)))
    moved = perms[principal] != np.arange(perms.shape[1]) if principal is not None else np.ones(perms.shape[1], bool)
    lines = []  # (direction ⟂ z, class in the current frame, off-axis atoms the element fixes)
    for R, p in zip(mats, perms):
        kind, u = operation_kind(R)
        if u is None or (ref == "C2" and kind != "C2") or (ref == "σ" and kind != "σ"):
            continue
        if abs(np.dot(u, z)) > AXIS_TOL:
            continue
        d = u if ref == "C2" else canonical_axis(np.cross(z, u))
        atoms = np.flatnonzero((p == np.arange(len(p))) & moved)
        lines.append((d, _in_plane_class(d, name, F), atoms))
    first_atom = {}
    for _, c, atoms in lines:
        if len(atoms):
            first_atom[c] = min(first_atom.get(c, len(moved)), int(atoms.min()))
    if not first_atom:
        where = "a C2 axis ⟂ the principal axis" if ref == "C2" else "a mirror through the principal axis"
        return F.copy(), f"no atom off the principal axis lies on {where}: setting {setting!r} keeps the default"
    through_atoms = min(first_atom, key=lambda c: first_atom[c])
    want = through_atoms if setting == "atoms" else 1 - through_atoms
    if not two_classes(name):
        want = 0  # one class: "atoms" and "bonds" name the same elements
    chosen = [(d, atoms) for d, c, atoms in lines if c == want]
    x = None
    for e in np.eye(3):
        match = [d for d, _ in chosen if _is_parallel(d, e)]
        if match:  # the element's own axis (exact), pointing along the file axis it matches
            x = match[0] * (1.0 if np.dot(match[0], e) > 0 else -1.0)
            break
    if x is None:
        with_atoms = [(int(a.min()), k) for k, (_, a) in enumerate(chosen) if len(a)]
        x = chosen[min(with_atoms)[1]][0] if with_atoms else chosen[0][0]
    x = canonical_axis(x - np.dot(x, z) * z)
    x = x / np.linalg.norm(x)
    note = ""
    if not two_classes(name):
        what = "C2' axes" if ref == "C2" else "σv planes"
        note = f"{name} has one class of {what}: the setting does not change its labels"
    return np.array([x, np.cross(z, x), z]), note


def kind_family(kind: str) -> str:
    """The kind without its power, e.g. ``"C4"`` for ``"C4^3"`` and ``"S6"`` for ``"S6^5"``: the rows of the
    operations table and the obstruction counts of ``symcheck analyze`` (the kinds :func:`operation_kind` names)."""
    return kind.split("^")[0]
