"""Names of irreps on lines, planes and the general point of any space group, from ISO-IR's data where installed.

The Bilbao tables (:mod:`.bcs_irreps`) list the maximal k-points only, and symcheck stores ISO-IR's line
irreps for Pm-3m only (:data:`.pm3m_irreps.LINES`). ISO-IR (H. T. Stokes & B. J. Campbell, "ISO-IR: Complex
irreducible representations of the 230 crystallographic space groups", iso.byu.edu) tabulates every k-vector
type, lines (DT, LD, SM, ...), planes and the general point GP, with free parameters α, β, γ. Its data file
``CIR_data.txt`` is not shipped with symcheck; it is read where found:

1. ``$SYMCHECK_ISOIR``: the file (``CIR_data.txt`` or ``.gz``) or its folder; when set, nothing else is
   searched (an empty or missing path turns this module off);
2. the copy bundled inside the CrystOD package (``pip install crystod``), found without importing it.

Without it such irreps keep their descriptive names ("k=(0,0,1/4)(4-dim)") with the reason.

How a name is found (never guessed): the irrep's k is matched to a k-vector type whose first arm is
const + Σ pᵢ dᵢ with the smallest parameters, positive first (so (0,1/3,0), not (0,−1/3,0): ISO-IR's label
at −p can be another irrep's, e.g. DT3 and DT4 of F-43m), and whose generic little co-group has as many
rotations as k's (a k where a line meets a point is that point). The small irreps there, characters
χ({R|t_R + L}) = tr D_R[arm 0] · exp(2πi k·(L + τ_R)) with ISO-IR's coset translations t_R and
IR-translations τ_R, are induced to F in ISO-IR's frame (:func:`.bcs_irreps.frame_of`, origin shift as for
the Bilbao tables) and matched to spgrep's characters; no match, no name. Where −k is not in k's star and
only a negative parameter reaches k, ISOTROPY writes the partner letters (LE for LD, DU for DT, …): a complex
pair spanning the two stars is named as ISOTROPY names it, "LD1LE1", "U1UA1"; a pair within one star as with
the Bilbao tables ("DT3DT4").
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from ..groups.group import rotation_codes
from . import bcs_irreps

_HEADER = re.compile(r'^\s*(\d+)\s+(\d+)\s+"([^"]*)"\s+"([^"]*)"\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$',
                     re.MULTILINE)
_COMPLEX = re.compile(r"\(([^,()]+),([^()]+)\)")


def data_file() -> Path | None:
    """ISO-IR's ``CIR_data.txt[.gz]``: ``$SYMCHECK_ISOIR`` if set, else CrystOD's bundled copy; None if neither."""
    env = os.environ.get("SYMCHECK_ISOIR")
    if env is not None:
        candidates = [Path(env)] if env else []
    else:
        spec = importlib.util.find_spec("crystod")
        candidates = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    for c in candidates:
        for f in ((c / "CIR_data.txt.gz", c / "CIR_data.txt") if c.is_dir() else (c,)):
            if f.is_file():
                return f
    return None


@dataclass(frozen=True)
class KType:
    """One non-special k-vector type of a space group in ISO-IR: its first arm, and its irreps' small characters
    (read from the data when first asked for: the general point's matrices alone are millions of numbers)."""

    name: str  # DT, LD, SM, GP, ...
    const: np.ndarray  # (3,) first arm's constant part (conventional reciprocal basis)
    dirs: np.ndarray  # (n_params, 3) its parameter directions
    labels: tuple[str, ...]
    spans: tuple[tuple[int, int, int, int, int], ...] = field(repr=False)  # (dim, kcount, opcount, start, end)
    block: str = field(repr=False)

    @cached_property
    def small(self) -> tuple[np.ndarray, np.ndarray]:
        """(traces (n_irreps, n_ops) complex: of the first arm's block of D(op); IR-translations τ (n_ops, 3))."""
        traces, tau = [], None
        for dim, kcount, opcount, start, end in self.spans:
            tokens = self.block[start:end].split()
            R, t, tr_, tau_ = _operations(tokens, 16 * kcount, opcount, dim, dim // kcount, special=False)
            traces.append(tr_)
            tau = tau_ if tau is None else tau
        return np.array(traces), tau


@dataclass(frozen=True)
class Tables:
    """ISO-IR's coset representatives of one space group and its non-special k-vector types."""

    table: bcs_irreps.Table  # rotations and translations (ISO-IR's frame), no k-points
    types: tuple[KType, ...]


def _text(path: Path) -> str:
    """The whole file (55 MB decompressed, 0.3 s): read per space group asked for, not kept."""
    with (gzip.open(path, "rt") if path.suffix == ".gz" else open(path)) as f:
        return f.read()


def tables(number: int) -> Tables | None:
    """Space group ``number``'s ISO-IR data (non-special types), indexed once per data file; None without it."""
    path = data_file()
    return None if path is None else _tables(path, number)


def _operations(tokens: list[str], pos: int, opcount: int, dim: int, nb: int, special: bool):
    """Rotations, translations, traces of the first arm's nb×nb block and IR-translations of ``opcount``
    operations starting at token ``pos`` (16 ints, [4 ints τ unless special], dim² complex entries each)."""
    R, t, tr, tau = [], [], [], []
    for _ in range(opcount):
        m = np.array(tokens[pos:pos + 16], dtype=float).reshape(4, 4)
        pos += 16
        R.append(np.rint(m[:3, :3] / m[3, 3]).astype(int))
        t.append(m[:3, 3] / m[3, 3])
        if not special:
            q = np.array(tokens[pos:pos + 4], dtype=float)
            pos += 4
            tau.append(q[:3] / q[3])
        diagonal = (tokens[pos + r * (dim + 1)] for r in range(nb))  # only the trace of arm 0's block
        tr.append(sum(complex(float(a), float(b)) for a, b in (_COMPLEX.fullmatch(x).groups() for x in diagonal)))
        pos += dim * dim
    return np.array(R), np.array(t), tr, np.array(tau)


@cache
def _tables(path: Path, number: int) -> Tables | None:
    text = _text(path)
    # headers are the only lines with quotes: '10697 221 "Pm-3m     " "GM1+" ...' (number right-aligned in 4)
    start = text.find(f'{number:4d} "')
    if start < 0:
        return None
    start = text.rfind("\n", 0, start) + 1
    end = text.find(f'{number + 1:4d} "', start)
    block = text[start: text.rfind("\n", 0, end) + 1] if end >= 0 else text[start:]
    del text
    heads = list(_HEADER.finditer(block))
    rotations = translations = symbol = None
    types: dict[str, dict] = {}
    for h, nxt in zip(heads, heads[1:] + [None]):
        symbol = h.group(3).strip()
        label, dim, kcount, opcount = h.group(4).strip(), int(h.group(5)), int(h.group(7)), int(h.group(9))
        stop = nxt.start() if nxt else len(block)
        head_tokens = block[h.end(): stop].split(maxsplit=16 * kcount)
        kv = np.array(head_tokens[:16 * kcount], dtype=int).reshape(kcount, 4, 4)  # [arm, column, (x, y, z, den)]
        if not np.any(kv[:, 1:, :3]):  # a special point: the Bilbao tables' (and pm3m_irreps') business
            if rotations is None:  # the coset representatives, from the first irrep (GM1, one-dimensional)
                rotations, translations, _, _ = _operations(block[h.end(): stop].split(), 16 * kcount, opcount,
                                                            dim, dim // kcount, special=True)
            continue
        name = re.match(r"[A-Z]+", label).group(0)
        cols = kv[0, 1:]  # (3 params, (x, y, z, den)) of the first arm
        used = [c for c in cols if c[3] != 0 and np.any(c[:3])]
        entry = types.setdefault(name, {"const": kv[0, 0, :3] / kv[0, 0, 3],
                                        "dirs": np.array([c[:3] / c[3] for c in used]), "labels": [], "spans": []})
        entry["labels"].append(label)
        entry["spans"].append((dim, kcount, opcount, h.end(), stop))
    if rotations is None:
        return None
    tab = bcs_irreps.Table(number=number, symbol=symbol, rotations=rotations, translations=translations,
                           centring=np.array(bcs_irreps._CENTRINGS[symbol[0]]), kpoints=())
    return Tables(tab, tuple(KType(n, e["const"], e["dirs"], tuple(e["labels"]), tuple(e["spans"]), block)
                             for n, e in types.items()))


def frame(number: int, Wc: np.ndarray, wc: np.ndarray, hint: np.ndarray | None = None):
    """F's operations in ISO-IR's frame (:func:`.bcs_irreps.frame_of`), with the group's types; None without data.
    ``hint``: an origin shift to try first (the Bilbao table's: both tables use ITA's origin choice 2)."""
    data = tables(number)
    if data is None:
        return None
    fr = bcs_irreps.frame_of(data.table, Wc, wc, hint)
    return None if fr is None else (fr, data.types)


def name(iso, k: np.ndarray, chars: np.ndarray, pair: bool, cache_: dict) -> tuple[str, str, np.ndarray] | str:
    """ISO-IR's (label, k type, first arm) of the irrep of F with characters ``chars`` at k (conventional
    reciprocal basis, unrounded), or the reason it has none. ``iso``: :func:`frame`'s result.

    A complex pair whose conjugate lives at −k's star (−k not in k's star: polar lines, groups without
    inversion) is named as ISOTROPY names it, by its member at the positive parameter and that member's −k
    partner, e.g. "LD1LE1", "U1UA1" (:func:`minus_k_type`)."""
    fr, types = iso
    k = np.asarray(k, dtype=float)
    rotations = fr.rotations[np.unique(rotation_codes(fr.rotations), return_index=True)[1]].astype(float)
    minus_in_star = bool(bcs_irreps._k_equal(np.einsum("fba,b->fa", np.linalg.inv(rotations), k), -k,
                                             fr.table.centring).any())
    across = pair and not minus_in_star

    def cached_match(q):  # once per star: every irrep there shares it
        key = ("isoir-match",) + tuple(np.round(q, 6) + 0.0)  # not folded: k + (0,1,0) is another point of fcc
        if key not in cache_:
            cache_[key] = _match(fr, types, rotations, q)
        return cache_[key]

    match = cached_match(k)
    if across:  # either star of the pair will do: the one ISO-IR reaches with a positive parameter
        other = cached_match(-k)
        if match is None or (other is not None and not _positive(match[1]) and _positive(other[1])):
            match = other
    if match is None:
        return "no CDML label: k matches none of ISO-IR's k-vector types of this group"
    typ, p, arm = match
    if not minus_in_star and not _positive(p):
        return (f"no CDML label: k is −k of ISO-IR's {typ.name} line or plane, which ISOTROPY names with partner "
                "letters; not named")
    tab = fr.table
    Rtab = tab.rotations.astype(float)
    kvec = typ.const + p @ typ.dirs
    kvec = arm - np.rint(arm - kvec) + 0.0
    ops = np.flatnonzero(bcs_irreps._k_equal(np.einsum("fba,b->fa", np.linalg.inv(Rtab), kvec), kvec, tab.centring))
    traces, irtrans = typ.small
    chars_small = traces[:, ops] * np.exp(2j * np.pi * (irtrans[ops] @ kvec))[None]
    kp = bcs_irreps.TableKPoint(typ.name, kvec, ops, typ.labels, chars_small)
    try:
        label = bcs_irreps.label_at(fr, kp, chars, pair, cache_, across=across)
    except (AssertionError, StopIteration):
        return f"no CDML label: none of ISO-IR's irreps at {typ.name} matches this one (setting)"
    if across:
        label += minus_k_type(typ.name, tab.number) + label[len(typ.name):]
    return label, typ.name, kvec


def _positive(p: np.ndarray) -> bool:
    nonzero = np.flatnonzero(np.abs(p) > 1e-6)
    return not len(nonzero) or bool(p[nonzero[0]] > 0)


def _match(fr, types, rotations: np.ndarray, k: np.ndarray):
    """(type, parameters, arm): the k-vector type with as many rotations in its generic little co-group as k has,
    reached from an arm of k's star with the smallest parameters, positive first; None if none."""
    tab = fr.table
    arms = np.einsum("fba,b->fa", np.linalg.inv(rotations), k)
    little = int(bcs_irreps._k_equal(arms, k, tab.centring).sum())
    arms = arms[np.unique(np.round(arms, 9), axis=0, return_index=True)[1]]
    Rtab_inv = np.linalg.inv(tab.rotations.astype(float))
    for typ in sorted(types, key=lambda t: len(t.dirs)):
        generic = typ.const + np.array([0.1234, 0.2345, 0.3456])[:len(typ.dirs)] @ typ.dirs
        if int(bcs_irreps._k_equal(np.einsum("fba,b->fa", Rtab_inv, generic), generic, tab.centring).sum()) != little:
            continue
        found = [(round(float(p @ p), 9), tuple(-np.round(p, 9)), i, p) for i, p in
                 enumerate(_parameters(typ, arm, tab.centring) for arm in arms) if p is not None]
        if found:
            _, _, i, p = min(found, key=lambda t: t[:3])
            return typ, p, arms[i]
    return None


# ISOTROPY's names of the −k partner of a k-vector type whose −k is outside its star (its physically
# irreducible labels, e.g. LD1LE1, DT6DU6, P1PA1): the next letter for LD, DT, SM and GP, the suffix A
# otherwise, C for the types below (as CrystOD documents them from ISOTROPY's data_little.txt).
_MINUS_K_LETTERS = {"LD": "LE", "DT": "DU", "SM": "SN", "GP": "GQ"}
_MINUS_K_C = {143: "PBCDE", 144: "PBCDE", 145: "PBCDE", 156: "D", 157: "PC", 158: "D", 159: "PC", 174: "BE"}


def minus_k_type(kind: str, number: int) -> str:
    """ISOTROPY's name of the −k partner of k-vector type ``kind`` in space group ``number``."""
    if len(kind) == 1 and kind in _MINUS_K_C.get(number, ""):
        return kind + "C"
    return _MINUS_K_LETTERS.get(kind, kind + "A")


def _parameters(typ: KType, arm: np.ndarray, centring: np.ndarray) -> np.ndarray | None:
    """The smallest parameters p (positive first) with const + p·dirs ≡ arm modulo the reciprocal lattice."""
    G = np.stack(np.meshgrid(*[np.arange(-2, 3)] * 3, indexing="ij"), -1).reshape(-1, 3).astype(float)
    c = G @ centring.T
    G = G[np.all(np.abs(c - np.rint(c)) < 1e-9, axis=1)]  # reciprocal lattice vectors of the centred lattice
    rhs = (arm - typ.const)[None] + G
    p = rhs @ np.linalg.pinv(typ.dirs)  # dirs: (n, 3); p·dirs = rhs
    ok = np.all(np.abs(p @ typ.dirs - rhs) < 1e-6, axis=1)  # k arrives rounded to 9 digits (1e-9 noise)
    if not ok.any():
        return None
    return min(p[ok], key=lambda q: (round(float(q @ q), 9), tuple(-np.round(q, 9))))
