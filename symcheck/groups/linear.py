"""Labels for the infinite point groups: linear molecules (C∞v, D∞h; C∞, C∞h, D∞ with features) and a point (Kh, K).

A finite character table cannot list these groups' elements, but their irreps are classical:

* axial groups: the angular momentum |m| about the axis names the irrep, Σ, Π, Δ, Φ, Γ for
  |m| = 0, 1, 2, 3, 4 (then Η, Ι, Κ, … in Greek alphabetical order, as in Herzberg's term
  symbols); Σ carries + or − (symmetric or antisymmetric under σv in C∞v and D∞h, under C2′ in
  D∞); g/u under inversion (D∞h, C∞h). So the CO2 bend is Πu, its asymmetric stretch Σu+, its
  symmetric stretch Σg+ (D∞h); a dipole along the axis of CO is Σ+ (C∞v);
* the full rotation group of a point: l names the irrep with the spectroscopic letters S, P, D, F,
  G, H, I, K, L, … (J skipped) for l = 0, 1, 2, …; in Kh = O(3) g/u give the parity (e3nn's ``e``
  is g, ``o`` is u), so a polar vector (1o) is Pu, an axial vector (1e) Pg, a quadrupole (2e) Dg;
  in K = SO(3) there is no parity.

A feature's weights in these irreps: :func:`symcheck.groups.decomposition.linear_irrep_weights`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import SymcheckError
from .group import format_axis
from .naming import check_setting

if TYPE_CHECKING:  # only the type: a group is read through its name, frame and order
    from .pointgroup import PointGroup

AXIAL = ("Cinfv", "Dinfh", "Cinf", "Cinfh", "Dinf")
SPHERICAL = ("K", "Kh")
_GREEK = "ΣΠΔΦΓΗΙΚΛΜΝΞΟ"  # |m| = 0, 1, 2, …
_SPECTROSCOPIC = "SPDFGHIKLMNOQRTUVWXYZ"  # l = 0, 1, 2, … (no J)
DEFAULT_ROWS = 4  # rows shown: |m| or l up to this (more on request)


def m_letter(m: int) -> str:
    """Σ, Π, Δ, Φ, Γ, … for |m| = 0, 1, 2, 3, 4, … (angular momentum about a linear molecule's axis)."""
    return _GREEK[m] if m < len(_GREEK) else f"[m={m}]"


def l_letter(l: int) -> str:
    """S, P, D, F, G, H, I, K, … for l = 0, 1, 2, … (the irreps of the rotation group)."""
    return _SPECTROSCOPIC[l] if l < len(_SPECTROSCOPIC) else f"[l={l}]"


@dataclass(frozen=True)
class LinearIrrep:
    """One row of an infinite group's table.

    Parameters
    ----------
    label : ``"Σg+"``, ``"Πu"``, ``"Dg"`` …
    dim : dimension (1 for Σ, 2 for Π, Δ …; 2l + 1 for the rotation group's irreps).
    characters : the characters on the table's classes, as text (``"2cos(2φ)"``).
    m : |m| (axial groups) or l (K, Kh).
    parity : +1 (g), −1 (u) or 0 (no inversion in the group).
    sign : +1 (Σ+), −1 (Σ−) or 0.
    """

    label: str
    dim: int
    characters: tuple[str, ...]
    m: int
    parity: int
    sign: int


@dataclass(frozen=True, eq=False)
class LinearCharacterTable:
    """The character table of an infinite point group, rows up to |m| (or l) = ``mmax``.

    It answers the same questions as :class:`symcheck.groups.characters.CharacterTable` where they
    make sense (``labels``, ``setting``, ``text()``, ``as_dict()``;
    :func:`symcheck.groups.decomposition.linear_irrep_weights` labels features), and says ``order`` None.

    Parameters
    ----------
    group : Schoenflies name (``"Dinfh"``; ``pretty`` gives ``"D∞h"``).
    classes : class labels, e.g. ``("E", "2C∞^φ", "∞σv", "i", "2S∞^φ", "∞C2'")``.
    irreps : rows, Σ+ first, g before u.
    frame : (3, 3) rows x, y, z; z the axis (K, Kh: the file's axes).
    setting : the conventions in plain words.
    setting_name : the setting asked for (it changes nothing here: no C2′/σv choice exists).
    mmax : the largest |m| or l listed.
    """

    group: str
    classes: tuple[str, ...]
    irreps: tuple[LinearIrrep, ...]
    frame: np.ndarray
    setting: str
    setting_name: str | None
    mmax: int

    order = None

    @property
    def pretty(self) -> str:
        """The group's name with ∞."""
        return self.group.replace("inf", "∞")

    @property
    def labels(self) -> tuple[str, ...]:
        """Labels of the rows, in order."""
        return tuple(r.label for r in self.irreps)

    def as_dict(self) -> dict:
        """Plain-JSON form: classes, irreps (label, dim, characters as text), setting."""
        return {
            "point_group": self.group,
            "order": None,
            "classes": [{"label": c, "size": None} for c in self.classes],
            "irreps": [{"label": r.label, "dim": r.dim, "reality": "real", "characters": list(r.characters)}
                       for r in self.irreps],
            "frame": np.round(self.frame, 9).tolist(),
            "setting": self.setting,
            "setting_name": self.setting_name,
            "rows_up_to": self.mmax,
        }

    def text(self, digits: int = 3) -> str:
        """The table as aligned text (characters as functions of the angle φ), with the setting below it.

        :param digits: unused (characters are exact formulas); kept for the finite tables' signature.
        """
        head = [self.pretty] + list(self.classes)
        rows = [[r.label] + list(r.characters) for r in self.irreps]
        widths = [max(len(row[k]) for row in [head, *rows]) for k in range(len(head))]
        lines = ["  ".join(s.rjust(w) if k else s.ljust(w) for k, (s, w) in enumerate(zip(row, widths)))
                 for row in [head, *rows]]
        more = "…" + " " * (widths[0] - 1)
        return "\n".join([*lines, more, f"setting: {self.setting}"])

    def __str__(self) -> str:
        return self.text()


def _cos(m: int, coeff: int = 2) -> str:
    """Text of coeff·cos(mφ), e.g. ``"2cos(2φ)"``, ``"-2cos(φ)"``."""
    sign = "-" if coeff < 0 else ""
    arg = "φ" if m == 1 else f"{m}φ"
    return f"{sign}{abs(coeff) if abs(coeff) != 1 else ''}cos({arg})"


def _rotation_character(l: int) -> str:
    """Text of χ_l(φ) = 1 + 2cos(φ) + … + 2cos(lφ) = sin((l + ½)φ) / sin(φ/2)."""
    if l == 0:
        return "1"
    if l <= 2:
        return "1+" + "+".join(_cos(k) for k in range(1, l + 1))
    return f"sin({2 * l + 1}φ/2)/sin(φ/2)"


def _classes(name: str) -> tuple[str, ...]:
    return {
        "Cinf": ("E", "C∞^φ"),
        "Cinfv": ("E", "2C∞^φ", "∞σv"),
        "Dinf": ("E", "2C∞^φ", "∞C2'"),
        "Cinfh": ("E", "C∞^φ", "σh", "i", "S∞^φ"),
        "Dinfh": ("E", "2C∞^φ", "∞σv", "i", "2S∞^φ", "∞C2'"),
        "K": ("E", "C^φ"),
        "Kh": ("E", "C^φ", "i", "S^φ"),
    }[name]


def _axial_rows(name: str, mmax: int) -> list[LinearIrrep]:
    """Rows of an axial group: Σ± (where σv or C2′ is there), Π, Δ, …; g before u (where i is there)."""
    parities = (1, -1) if name in ("Dinfh", "Cinfh") else (0,)
    signed = name in ("Cinfv", "Dinfh", "Dinf")
    rows = []
    for p in parities:
        for m in range(mmax + 1):
            for sign in ((1, -1) if (m == 0 and signed) else (0,)):
                rows.append(_axial_row(name, m, p, sign))
    return rows


def axial_label(m: int, parity: int, sign: int) -> str:
    """The label of |m| with parity (+1 g, −1 u, 0 none) and sign (+1 Σ+, −1 Σ−, 0 none), e.g. ``"Σu+"``."""
    return m_letter(m) + {1: "g", -1: "u", 0: ""}[parity] + {1: "+", -1: "-", 0: ""}[sign]


def _axial_row(name: str, m: int, p: int, sign: int) -> LinearIrrep:
    d = 1 if m == 0 else 2
    rot = str(d) if m == 0 else _cos(m)
    # S∞^φ = i·C∞^(φ+π): χ = p·(−1)^m χ(C∞^φ); σh = S∞^0; C2′ = i·σv
    s_rot = str(p * d) if m == 0 else _cos(m, 2 * p * (-1) ** m)
    chars = {
        "E": str(d), "C∞^φ": rot, "2C∞^φ": rot,
        "∞σv": str(sign) if m == 0 else "0",
        "∞C2'": str(sign * (p if p else 1)) if m == 0 else "0",
        "i": str(p * d), "S∞^φ": s_rot, "2S∞^φ": s_rot, "σh": str(p * (-1) ** m * d),
    }
    return LinearIrrep(axial_label(m, p, sign), d, tuple(chars[c] for c in _classes(name)), m, p, sign)


def _spherical_rows(name: str, lmax: int) -> list[LinearIrrep]:
    rows = []
    for p in ((1, -1) if name == "Kh" else (0,)):
        for l in range(lmax + 1):
            chars = {"E": str(2 * l + 1), "C^φ": _rotation_character(l), "i": str(p * (2 * l + 1)),
                     "S^φ": f"{'-' if p * (-1) ** l < 0 else ''}χ{l}(φ+π)"}
            label = l_letter(l) + {1: "g", -1: "u", 0: ""}[p]
            rows.append(LinearIrrep(label, 2 * l + 1, tuple(chars[c] for c in _classes(name)), l, p, 0))
    return rows


def _setting_text(pg: PointGroup, note: str) -> str:
    name = pg.name
    z = np.asarray(pg.frame, dtype=float)[2]
    if name in SPHERICAL:
        text = ("rotation group of a point: no axis and no choice of setting; irreps by l = 0, 1, 2, … named "
                "S, P, D, F, G, H, I, K, …")
        if name == "Kh":
            text += " with g/u for parity (e3nn's e is g, o is u: 1o is Pu, 1e Pg, 2e Dg)"
        else:
            text += " (K = SO(3): no parity)"
    else:
        text = (f"z = ({format_axis(z)}), the molecular axis; no choice of setting; Σ, Π, Δ, Φ, Γ, … for "
                "|m| = 0, 1, 2, 3, 4, … (angular momentum about z)")
        if name in ("Cinfv", "Dinfh"):
            text += "; Σ+/Σ- symmetric/antisymmetric under σv (every plane containing z)"
        elif name == "Dinf":
            text += "; Σ+/Σ- symmetric/antisymmetric under C2' (every axis ⟂ z through the center)"
        if name in ("Dinfh", "Cinfh"):
            text += "; g/u under inversion"
    return text + (f"; {note}" if note else "")


def linear_character_table(pg: PointGroup, setting: str | None = None,
                           mmax: int = DEFAULT_ROWS) -> LinearCharacterTable:
    """The character table of an infinite point group (rows up to |m| or l = ``mmax``).

    :param pg: an infinite PointGroup (``pg.order`` is None): C∞v, D∞h, C∞, C∞h, D∞, K or Kh.
    :param setting: accepted for a uniform API (see :data:`symcheck.groups.naming.SETTINGS`); these
        groups have no C2′/σv choice, so it changes nothing and the setting text says so.
    :param mmax: the largest |m| (axial groups) or l (K, Kh) listed.
    :raises SymcheckError: for a finite group or an unknown group name.
    """
    setting = check_setting(setting)
    name = pg.name
    if pg.finite:
        raise SymcheckError(f"{name} is finite: use symcheck.groups.characters.character_table")
    if name not in AXIAL + SPHERICAL:
        raise SymcheckError(f"no irrep labels for the infinite group {pg.pretty_name}")
    rows = _spherical_rows(name, mmax) if name in SPHERICAL else _axial_rows(name, mmax)
    note = f"setting {setting!r} changes nothing here" if setting else ""
    return LinearCharacterTable(name, _classes(name), tuple(rows), np.asarray(pg.frame, dtype=float),
                                _setting_text(pg, note), setting, mmax)


__all__ = [
    "AXIAL",
    "SPHERICAL",
    "LinearCharacterTable",
    "LinearIrrep",
    "axial_label",
    "l_letter",
    "linear_character_table",
    "m_letter",
]
