"""Naming: the kind of each operation (C4, σh, S6^5 …), the Schoenflies name of a finite group, its frame."""

from __future__ import annotations

from math import gcd

import numpy as np

AXIS_TOL = 1e-5  # angle-scale tolerance for comparing axes of already idealized (exact) operations


def rotation_axis_angle(R: np.ndarray) -> tuple[np.ndarray, float]:
    """Axis (unit) and angle in [0, π] of a proper rotation R (angle 0: axis arbitrary, returns z)."""
    w = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    # atan2 keeps full precision near 0 and π, where arccos of the trace loses half the digits
    angle = float(np.arctan2(np.linalg.norm(w), np.trace(R) - 1))
    if angle < 1e-9:
        return np.array([0.0, 0.0, 1.0]), 0.0
    if angle < np.pi - 1e-4:
        return w / np.linalg.norm(w), angle
    # angle π: R = 2 u u^T − I
    B = (R + np.eye(3)) / 2
    k = int(np.argmax(np.diag(B)))
    u = B[:, k] / np.sqrt(max(B[k, k], 1e-300))
    if np.dot(u, w) < 0:  # just below π the antisymmetric part still orients the axis
        u = -u
    return u / np.linalg.norm(u), angle


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


def operation_kind(R: np.ndarray) -> tuple[str, np.ndarray | None]:
    """Kind ("E", "C4", "C4^3", "i", "σ", "S6^5") and canonical axis of an orthogonal matrix."""
    if np.linalg.det(R) > 0:
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
        if np.linalg.det(R) < 0:
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
    """Schoenflies name and standard frame (rows x, y, z; z principal) of a finite group of matrices."""
    order = len(mats)
    axes = _axes_with_orders(mats)
    improper = [R for R in mats if np.linalg.det(R) < 0]
    has_inversion = any(np.allclose(R, -np.eye(3), atol=1e-6) for R in improper)
    mirrors = [axis for kind, axis in map(operation_kind, improper) if kind == "σ"]
    high = [(u, n) for u, n in axes if n >= 3]

    if len(high) > 1:
        top = max(n for _, n in high)
        base = {5: "I", 4: "O"}.get(top, "T")
        z = next(u for u, n in axes if n == (top if base != "T" else 2))
        name = base if not improper else (base + "h" if has_inversion else "Td")
        x = _perpendicular_axis([u for u, n in axes if n == (4 if base == "O" else 2)], z)
        return _check(name, order), _frame(z, x)

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
    return _check(name, order), _frame(z, x)


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


def mirror_label(normal: np.ndarray, name: str, frame: np.ndarray, c2_axes: list[np.ndarray]) -> str:
    """σh, σv or σd for a mirror of the named group (plain σ where no convention applies)."""
    z = frame[2]
    if name.startswith(("I", "Cs")) or name in ("T", "O"):
        return "σ"
    if name.startswith(("T", "O")):
        # cubic: the frame's axes are the cube's axes; σh is normal to one of them, σd otherwise
        return "σh" if any(abs(abs(np.dot(normal, e)) - 1) < AXIS_TOL for e in frame) else "σd"
    if abs(abs(np.dot(normal, z)) - 1) < AXIS_TOL:
        return "σh"
    if name.startswith("D") and name.endswith("d"):
        return "σd"
    if name.startswith("D") and name.endswith("h"):
        n = _n_of(name)
        if n % 2 == 1 or n == 2:  # D2h: the two vertical mirrors are both called σv
            return "σv"
        # even n: the C2' axes at angles jπ/n from frame x come in two classes (j even, j odd);
        # σv contains the class of x, σd the other
        x, y = frame[0], frame[1]
        for u in c2_axes:
            if abs(np.dot(u, z)) < AXIS_TOL and abs(np.dot(normal, u)) < AXIS_TOL:
                j = int(round(np.arctan2(np.dot(u, y), np.dot(u, x)) / (np.pi / n)))
                return "σv" if j % 2 == 0 else "σd"
    return "σv"


def _n_of(name: str) -> int:
    digits = "".join(c for c in name if c.isdigit())
    return int(digits) if digits else 1

