"""CDML labels of space-group irreps at the maximal k-points, by character matching against the Bilbao tables.

The tables are those of the Bilbao Crystallographic Server (REPRES; Elcoro et al., J. Appl. Cryst. 50, 1457
(2017)) as shipped in the PyPI package ``irreptables`` (GPL-3.0; ``irreptables/data/tables/irreps-SG=N-scal.dat``):
the space group's coset representatives {R|t} in the BCS standard setting (ITA axes; origin choice 2 where ITA
has two), then for each maximal k-point (GM, X, M, R, L, W, K, H, ... in the conventional reciprocal basis) the
little co-group and the characters of each small irrep there. Only those data files are read (the package's
Python code needs the ``irrep`` package and is not imported); each is parsed once per process.

How an irrep of F (the parent supercell's group, :mod:`.irreps`) gets its name:

1. F's operations (spglib's standard setting, conventional frame) are put in the table's frame: rotations
   equal, translations equal modulo the lattice (centring included) after an origin shift p, the smallest one
   that works (p = 0 whenever the parent's origin already is the table's: the labels then are those of the
   origin the parent was drawn with, e.g. the B site of a perovskite at 1a).
2. For the table's k-point in the irrep's star, each small irrep D is induced to F:
   χ(f) = Σ_j χ_D(s_j⁻¹ f s_j) over the arms k_j = s_j k, with χ_D({R|t_R + L}) = χ_table(R) exp(2πi k·L)
   (SIGN below: the tables' convention relative to spgrep's, whose irreps F's are induced from).
3. The irrep takes the name of the D whose induced character equals its own; a complex pair (one
   physically irreducible representation) takes both names, e.g. "W1W2"; when the conjugate lies at −k, a
   star the tables do not list (K and KA of P3, CDML's notation), the pair takes the name of its member at the
   listed k alone (e.g. "K2").

Irreps at k-points the tables do not list (lines and planes of symmetry, general points) are named with the same
induction from ISO-IR's small-irrep characters for Pm-3m (:data:`.pm3m_irreps.LINES`, through :func:`label_at`);
for every other group :mod:`.irreps` names them by k-point and dimension ("k=(0,0,1/4)(4-dim)"), with the reason.

Origin. The labels depend on which point is the origin (Pm-3m: R4+ with the B site at 1a is R5− with the A
site there). The parent's own origin is used when it is a standard one (:func:`.parent.parent_group`). For
the 24 groups with two ITA origin choices spglib's standard setting is choice 1 and the tables' choice 2;
the shift between them is the shortest one that maps the operations (ties: components ≤ 0 first, which is
ITA's choice-1 → choice-2 shift for Pnnn, Pban, Pmmn, Fddd, Pn-3, Pn-3m, Fd-3 and Fd-3m; unique, or without
effect on the labels, for Ccce, P4/n, P4/nbm, P4/nmm, P4/ncc, I4_1/a, I4_1/amd, I4_1/acd, Pn-3n, Fd-3c). For
P4_2/n, P4/nnc, P4_2/nbc, P4_2/nnm, P4_2/nmc and P4_2/ncm the shortest shifts differ by a translation of the
normalizer that relabels some irreps, and the one taken has not been checked against ITA: labels there may
name the other origin's irrep. ``ParentGroup.origin`` states the parent's origin in spglib's setting.

ISOTROPY and Bilbao. Both use the CDML irreps with ISOTROPY's names (GM for Γ, ± parity under the inversion at
the origin); for Pm-3m at GM, X, M, R the tables' names equal ISO-IR's for all 40 irreps (tested). They are
known to differ in places: Bilbao's k-vector letters follow its own Brillouin-zone tables (Aroyo et al., Acta
Cryst. A70, 126 (2014)), which rename some points of the centred lattices whose zone shape depends on the axial
ratios (body-centred tetragonal and orthorhombic, face-centred orthorhombic, rhombohedral), while ISOTROPY
keeps CDML's letters; CDML's separate stars KA, HA, ... (−k of K, H where −k is not in k's star) are not in the
tables; and a physically irreducible pair of complex irreps is written here as the two names together
("GM2GM3", "P1P2"). Where the two conventions name a point differently, the name given is Bilbao's.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np

from ..groups.group import affine, rotation_codes

_CENTRINGS = {
    "P": ((0.0, 0.0, 0.0),),
    "A": ((0.0, 0.0, 0.0), (0.0, 0.5, 0.5)),
    "B": ((0.0, 0.0, 0.0), (0.5, 0.0, 0.5)),
    "C": ((0.0, 0.0, 0.0), (0.5, 0.5, 0.0)),
    "I": ((0.0, 0.0, 0.0), (0.5, 0.5, 0.5)),
    "F": ((0.0, 0.0, 0.0), (0.0, 0.5, 0.5), (0.5, 0.0, 0.5), (0.5, 0.5, 0.0)),
    "R": ((0.0, 0.0, 0.0), (2 / 3, 1 / 3, 1 / 3), (1 / 3, 2 / 3, 2 / 3)),  # hexagonal axes, obverse
}


@dataclass(frozen=True)
class TableKPoint:
    """One maximal k-point of a Bilbao table and the characters of its small irreps."""

    name: str  # CDML/Bilbao letter(s): GM, X, M, R, ...
    k: np.ndarray  # (3,) conventional reciprocal basis
    ops: np.ndarray  # (n,) indices into Table.rotations: the little co-group
    labels: tuple[str, ...]
    chars: np.ndarray  # (n_irreps, n) complex, on the representatives {R|t_R} of the little co-group


@dataclass(frozen=True)
class Table:
    """A Bilbao table: coset representatives (conventional, BCS setting) and the small irreps at its k-points."""

    number: int
    symbol: str
    rotations: np.ndarray  # (n, 3, 3) integer
    translations: np.ndarray  # (n, 3)
    centring: np.ndarray  # (c, 3) the conventional cell's centring vectors, (0,0,0) first
    kpoints: tuple[TableKPoint, ...]


def tables_dir() -> Path | None:
    """The folder of irreptables' data files, found without importing the package (None if not installed)."""
    spec = importlib.util.find_spec("irreptables")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "tables"
    return path if path.is_dir() else None


@cache
def table(number: int) -> Table | None:
    """Space group ``number``'s scalar (spinless) table, parsed once; None without irreptables."""
    folder = tables_dir()
    if folder is None or not (folder / f"irreps-SG={number}-scal.dat").is_file():
        return None
    return parse((folder / f"irreps-SG={number}-scal.dat").read_text(), number)


def parse(text: str, number: int) -> Table:
    """A table file's text (format of irreptables' ``irreps-SG=N-scal.dat``) as a :class:`Table`."""
    lines = iter(text.splitlines())
    header: dict[str, str] = {}
    for line in lines:
        key, _, value = line.partition("=")
        header[key.strip().lower()] = value.strip()
        if key.strip().lower() == "symmetries":
            break
    nsym = int(header["nsym"])
    rows = []
    while len(rows) < nsym:
        numbers = next(lines).split()
        if len(numbers) >= 12:
            rows.append([float(x) for x in numbers[:12]])
    ops = np.array(rows)
    kpoints, current = [], None
    for line in lines:
        if line.strip().startswith("kpoint"):
            _, name, coords, ops_text = _kpoint_fields(line)
            current = {"name": name, "k": _snap(np.array(coords.split(), dtype=float)),
                       "ops": np.array(ops_text.split(), dtype=int) - 1, "labels": [], "chars": []}
            kpoints.append(current)
        elif line.split() and current is not None:
            fields = line.split()
            n = len(current["ops"])
            mag = _snap_magnitudes(np.array(fields[2:2 + n], dtype=float))
            phase = _snap(fields[2 + n:2 + 2 * n]) if len(fields) >= 2 + 2 * n else np.zeros(n)
            current["labels"].append(fields[0])
            current["chars"].append(mag * np.exp(1j * np.pi * phase))
    symbol = header["name"]
    return Table(
        number=number, symbol=symbol, rotations=np.rint(ops[:, :9]).astype(int).reshape(-1, 3, 3),
        translations=ops[:, 9:12], centring=np.array(_CENTRINGS[symbol[0]]),
        kpoints=tuple(TableKPoint(kp["name"], kp["k"], kp["ops"], tuple(kp["labels"]), np.array(kp["chars"]))
                      for kp in kpoints),
    )


def _kpoint_fields(line: str) -> list[str]:
    """' kpoint  GM : 0.0 0.0 0.0  : 1 2 3' → ['', 'GM', '0.0 0.0 0.0', '1 2 3']."""
    head, coords, ops = line.split(":")
    return ["", head.split()[1], coords, ops]


# The magnitudes a small irrep's character takes in the tables (all 230 groups): printed to five decimals
# (1.73205, 1.41421, and 1.99999 or 1e-05 for 2 and 0). F's irreps are built from them, so they are put back
# to the exact values: a projector with 1e-6 errors would leave a residual of that size.
_MAGNITUDES = np.array([0.0, 1.0, np.sqrt(2.0), np.sqrt(3.0), 2.0, 3.0, 4.0, 6.0])


def _snap_magnitudes(mag: np.ndarray) -> np.ndarray:
    """The exact value nearest each printed one, sign kept (real characters are printed signed, without a
    phase column): within 1e-4, otherwise left as printed."""
    a = np.abs(mag)
    nearest = _MAGNITUDES[np.argmin(np.abs(a[:, None] - _MAGNITUDES[None]), axis=1)]
    return np.sign(mag) * np.where(np.abs(a - nearest) < 1e-4, nearest, a)


def _snap(x) -> np.ndarray:
    """The tables write 1/3 as 0.333333 (k-points, phases in units of π): back to the nearest fraction with a
    small denominator."""
    return np.array([float(Fraction(float(v)).limit_denominator(24)) for v in x])


# ---------------------------------------------------------------------------------------------
# F's operations in the table's frame


@dataclass(frozen=True)
class TableFrame:
    """F's operations put in a table's setting, and what labelling at its k-points needs."""

    table: Table
    shift: np.ndarray  # p: x_table = x_ours + p (conventional fractions)
    rotations: np.ndarray  # (|F|, 3, 3) integer (unchanged)
    translations: np.ndarray  # (|F|, 3) in the table's frame, unreduced
    table_index: np.ndarray  # (|F|,) index of the table's representative with the same rotation
    first: np.ndarray | None = None  # (|P|,) the first operation of F with each rotation ...
    rot_of: np.ndarray | None = None  # (|F|,) ... f's position among them ...
    lattice: np.ndarray | None = None  # (|F|, 3) ... and L_f: f = {I|L_f}∘first[rot_of[f]] (checked lattice vectors)


def table_frame(number: int, Wc: np.ndarray, wc: np.ndarray) -> TableFrame | None:
    """F's operations (Wc, wc: conventional frame, spglib's standard setting) in the Bilbao table's frame.

    None when there is no table (irreptables not installed), when a rotation of F is not among the table's
    (a different setting), or when no origin shift maps the translations onto the table's modulo the lattice.
    """
    tab = table(number)
    return None if tab is None else frame_of(tab, Wc, wc)


def frame_of(tab: Table, Wc: np.ndarray, wc: np.ndarray, hint: np.ndarray | None = None) -> TableFrame | None:
    """F's operations (Wc, wc) in the frame of any table of coset representatives (Bilbao's or ISO-IR's, see
    :mod:`.isoir`); None when a rotation is missing or no origin shift maps the translations. ``hint``: a shift
    to try before the search (which takes 0.3 s for a group whose origin differs)."""
    codes = rotation_codes(tab.rotations)
    order = np.argsort(codes)
    ours = rotation_codes(Wc)
    pos = np.minimum(np.searchsorted(codes[order], ours), len(order) - 1)
    if np.any(codes[order][pos] != ours):
        return None
    index = order[pos]
    shift = _origin_shift(Wc, wc, tab.translations[index], tab.centring, hint)
    if shift is None:
        return None
    wt = wc + shift - np.einsum("fab,b->fa", Wc, shift)
    _, first, rot_of = np.unique(rotation_codes(Wc), return_index=True, return_inverse=True)
    L_f = wt - wt[first][rot_of]
    if not _in_lattice(L_f, tab.centring).all():
        return None  # two operations with one rotation differ by a non-lattice translation: not a space group here
    return TableFrame(tab, shift, Wc, wt, index, first, rot_of.ravel(), L_f)


def _origin_shift(W: np.ndarray, w: np.ndarray, t: np.ndarray, centring: np.ndarray,
                  hint: np.ndarray | None = None) -> np.ndarray | None:
    """The smallest p (conventional fractions, on a 1/24 grid) with w + (I − W) p ≡ t modulo the lattice for
    every operation; p = 0 first. None if there is none."""
    _, first = np.unique(rotation_codes(W), return_index=True)  # one operation per rotation is enough
    W, d = W[first].astype(float), (w - t)[first]
    if _in_lattice(d, centring).all():  # the parent's origin is the table's (the usual case): no search
        return np.zeros(3)
    if hint is not None and _in_lattice(d + hint[None] - np.einsum("fab,b->fa", W, hint), centring).all():
        return np.asarray(hint, dtype=float)
    grid = np.arange(-12, 12) / 24.0
    p = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), -1).reshape(-1, 3)
    p = p[np.argsort((p**2).sum(1), kind="stable")]  # p = 0 first, then by length (ties: a fixed order)
    ok = np.ones(len(p), dtype=bool)
    for Wi, di in zip(W, d):
        r = di[None] + p - p @ Wi.T  # (n_p, 3)
        ok &= _in_lattice(r, centring)
        if not ok.any():
            return None
    return p[np.argmax(ok)]


def _in_lattice(r: np.ndarray, centring: np.ndarray, atol: float = 1e-5) -> np.ndarray:
    """Which rows of r are lattice vectors (integer plus a centring vector)."""
    x = r[:, None, :] - centring[None]
    return np.all(np.abs(x - np.rint(x)) < atol, axis=-1).any(axis=1)


# ---------------------------------------------------------------------------------------------
# labels by character matching


def star_kpoint(frame: TableFrame, k: np.ndarray) -> TableKPoint | None:
    """The table's k-point in the star of k (conventional reciprocal basis) under F's rotations, if listed."""
    rotations = frame.rotations[np.unique(rotation_codes(frame.rotations), return_index=True)[1]]  # one per rotation
    arms = np.einsum("fba,b->fa", np.linalg.inv(rotations.astype(float)), np.asarray(k, dtype=float))  # W⁻ᵀ k
    for kp in frame.table.kpoints:
        if _k_equal(arms, kp.k, frame.table.centring).any():
            return kp
    return None


def _k_equal(ks: np.ndarray, k: np.ndarray, centring: np.ndarray, atol: float = 1e-6) -> np.ndarray:
    """Which rows of ks equal k modulo the reciprocal lattice of the primitive lattice (G integer, G·c ∈ ℤ)."""
    G = ks - k[None]
    integer = np.all(np.abs(G - np.rint(G)) < atol, axis=1)
    c = np.rint(G) @ centring.T
    return integer & np.all(np.abs(c - np.rint(c)) < atol, axis=1)


# The tables' phase of a lattice translation L in the small irrep at k: exp(+2πi k·L) against our
# (spgrep's) exp(−2πi k·L) for F's characters. Fixed by the data: with the other sign the irreps at
# non-time-reversal-invariant k of I- and F-centred non-symmorphic groups (P of Ia-3d, W of Fd-3m) match
# none of the table's; with this one every irrep of all 230 groups matches (2×2×2 supercells), and
# where both signs match they give the same labels.
SIGN = 1


def induced_characters(frame: TableFrame, kp: TableKPoint) -> np.ndarray:
    """(n_irreps, |F|) characters on F of the irreps induced from the table's small irreps at ``kp``.

    Every f is {I|L_f}∘p_f, p_f the first operation of F with f's rotation and L_f a lattice translation;
    the induced D({I|L}) is exp(2πi k_j·L) on arm j's block, so χ(f) = Σ_j exp(2πi k_j·L_f) c_j(p_f) with c_j
    the trace of arm j's block: the arms are worked out on |P| operations, not |F| (12,288 for Si 4×4×4).
    """
    W, w = frame.rotations.astype(float), frame.translations
    tab = frame.table
    first, rot_of, L_f = frame.first, frame.rot_of, frame.lattice
    A = affine(W[first], w[first])
    # coset representatives: one operation per arm of the star
    arms_k, reps = [], []
    for f in range(len(first)):
        kj = np.linalg.inv(A[f, :3, :3]).T @ kp.k
        if not arms_k or not _k_equal(np.array(arms_k), kj, tab.centring).any():
            arms_k.append(kj)
            reps.append(f)
    in_little = np.full(len(tab.rotations), -1)
    in_little[kp.ops] = np.arange(len(kp.ops))
    codes_tab = rotation_codes(tab.rotations)
    order = np.argsort(codes_tab)
    contributions = np.zeros((len(reps), len(kp.labels), len(first)), dtype=complex)  # c_j(p)
    for a, s in enumerate(reps):
        g = np.linalg.inv(A[s]) @ A @ A[s]
        Rg = np.rint(g[:, :3, :3])
        j = order[np.minimum(np.searchsorted(codes_tab[order], rotation_codes(Rg)), len(order) - 1)]
        col = in_little[j]
        keep = col >= 0
        L = g[keep, :3, 3] - tab.translations[j[keep]]
        if not _in_lattice(L, tab.centring).all():
            raise AssertionError("an operation of F differs from the table's by a non-lattice translation")
        contributions[a][:, keep] = kp.chars[:, col[keep]] * np.exp(SIGN * 2j * np.pi * (L @ kp.k))[None, :]
    phases = np.exp(SIGN * 2j * np.pi * (L_f @ np.array(arms_k).T))  # (|F|, n_arms)
    return np.einsum("jif,fj->if", contributions[:, :, rot_of], phases)


ATOL = 1e-3  # the tables print characters to six digits (√3/2 as 0.866025); distinct irreps differ by O(1)


def label(frame: TableFrame, k: np.ndarray, chars: np.ndarray, pair: bool,
          cache: dict) -> tuple[str, TableKPoint] | None:
    """The Bilbao/CDML name of the irrep of F with characters ``chars`` at k (its star), or None if k's star
    holds no tabulated k-point. ``pair``: chars is a complex irrep's plus its conjugate's (named "W1W2").
    ``cache``: per-parent memo of induced characters (by k-point name)."""
    kp, across = star_kpoint(frame, k), False
    if kp is None and pair:  # the conjugate lives at −k, a star of its own (K and KA of P3): the table lists K
        kp, across = star_kpoint(frame, -np.asarray(k, dtype=float)), True
    if kp is None:
        return None
    return label_at(frame, kp, chars, pair, cache, across), kp


def label_at(frame: TableFrame, kp: TableKPoint, chars: np.ndarray, pair: bool, cache: dict,
             across: bool = False) -> str:
    """The name, among ``kp``'s small irreps induced to F, of the irrep of F with characters ``chars``.

    ``kp`` is a k-point of k's star (``across``: of −k's star, the pair then named by its member there);
    ``cache``: per-parent memo of induced characters, by k-point name and k. Raises if none matches (a
    failure of the tables' frame, never a reason to guess a name).
    """
    key = (kp.name, tuple(np.round(np.asarray(kp.k, dtype=float), 9)))
    if key not in cache:
        cache[key] = induced_characters(frame, kp)
    ind = cache[key]
    for i, chi in enumerate(ind):
        if not pair and np.allclose(chi, chars, atol=ATOL):
            return kp.labels[i]
        if pair and np.abs(chi.imag).max() > ATOL and np.allclose(chi + chi.conj(), chars, atol=ATOL):
            if across:  # named by its member at the tabulated k
                return kp.labels[i]
            j = next(j for j, c in enumerate(ind) if np.allclose(c, chi.conj(), atol=ATOL))
            return "".join(kp.labels[m] for m in sorted((i, j)))
    raise AssertionError(f"no irrep of the table of space group {frame.table.number} at {kp.name} matches F's")
