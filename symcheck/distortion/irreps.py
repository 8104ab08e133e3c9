"""Physically irreducible representations of a parent supercell's space group modulo the supercell's
translations (F): induced from spgrep's small representations at one k of each star, named with ISOTROPY's
labels for Pm-3m (:mod:`.pm3m_irreps`, ISO-IR's matrices), with the Bilbao tables' CDML labels for every other
space group at its maximal k-points (:mod:`.bcs_irreps`), by k-point and dimension elsewhere; and the
order-parameter direction of a component (Pm-3m's labelled irreps only: the tables hold characters, not
matrices).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..groups.group import affine, rotation_codes
from . import bcs_irreps, isoir, pm3m_irreps

if TYPE_CHECKING:  # only the type: a direction is read from the group's operations and images
    from .parent import ParentGroup


@dataclass(frozen=True)
class CrystalIrrep:
    """A physically irreducible representation of F (a complex irrep, or it plus its conjugate)."""

    chars: np.ndarray  # (|F|,) complex characters; the sum over the pair for a complex pair
    dim: int  # real dimension
    k: np.ndarray  # first arm, conventional reciprocal basis
    label: str
    labelled: bool
    k_label: str | None
    iso_label: str | None  # key into pm3m_irreps when labelled
    pair: bool = False  # a complex irrep together with its conjugate
    note: str | None = None  # why an irrep has no CDML label (None when labelled)


def induced_irreps(Wp, wp, Q, C, Wc, wc, number) -> tuple[CrystalIrrep, ...]:
    """All physically irreducible representations of F with their characters, named.

    Wp, wp : F's operations in the primitive frame (fractional, chosen origin).
    Q : supercell fractional → primitive fractional (columns: supercell vectors in the primitive basis).
    C : primitive fractional → conventional fractional.
    Wc, wc : the same operations in the conventional frame (for ISO-IR's matrices).
    number : the space group's number.

    A star whose k-point the tables hold (Bilbao's maximal k-points; for Pm-3m also ISO-IR's lines, planes
    and general point) gets its irreps straight from the tables' small irreps induced to F, already named;
    each is checked irreducible and together complete for the star (Σ dim² = |star|·|P|), else the star
    falls back to spgrep. Only the other stars call spgrep (the cold analysis of a perovskite then never
    imports it).
    """
    cosets = _cosets(Wp, wp)
    remaining = _supercell_kpoints(Q)
    frame = bcs_irreps.table_frame(number, Wc, wc)  # Pm-3m too: its lines are induced in the table's frame
    cache: dict = {}
    named: list[CrystalIrrep] = []
    out: list[CrystalIrrep] = []
    while remaining:  # one star at a time, from its first k
        k0 = remaining[sorted(remaining)[0]]
        tabulated = _tabulated_star(frame, number, cosets, C, k0, len(Wp), cache) if frame is not None else None
        if tabulated is None and frame is not None:  # a pair whose tabulated member is at −k (KA and K of P3)
            tabulated = _tabulated_star(frame, number, cosets, C, np.mod(-k0, 1.0), len(Wp), cache, minus=True)
        if tabulated is not None:
            irreps, stars = tabulated
            for star in stars:
                for key in star:
                    remaining.pop(key, None)
            named.extend(irreps)
            continue
        for key in _star(cosets, k0):
            remaining.pop(key, None)
        k_conv = _conventional_k(C, k0)
        for chi in _induced_characters(cosets, Wp, wp, k0):
            out.append(CrystalIrrep(chi, int(round(chi[0].real)), k_conv, "", False, None, None))  # f = 0 is E
    idx = pm3m_irreps.rotation_indices(Wc) if number == 221 and out else None
    cache["Wc"] = Wc
    irreps = named + [_name_irrep(ir, idx, wc, number, cache, frame) for ir in _pair_conjugates(out)]
    if sum(ir.dim**2 // 2 if ir.pair else ir.dim**2 for ir in irreps) != len(Wp):  # a pair: two irreps of dim/2
        raise AssertionError("the irreps of F are not a complete set")
    return _number_alike(irreps)


def _tabulated_star(frame, number: int, cosets: _Cosets, C: np.ndarray, k0: np.ndarray, order: int, cache: dict,
                    minus: bool = False) -> tuple[list[CrystalIrrep], list[dict]] | None:
    """The irreps of F at k0's star, from the tables (named), and the stars they cover; None if the star is not
    tabulated or the tables' irreps fail the checks (irreducible, complete).

    A complex irrep whose conjugate is not at this star has it at −k's star (CDML's K and KA): the pair is one
    physically irreducible representation, named by its member at the tabulated k, and covers both stars.
    ``minus``: k0 is −k of the star being processed; used only when it leads to such pairs.
    """
    k_conv = _conventional_k(C, k0)
    if number == 221 and pm3m_irreps.cubic_k_label(k_conv) not in pm3m_irreps.ARMS:
        key = ("line", _kkey(k_conv))
        if key not in cache:  # k unrounded (1/3 to 9 digits would put 1e-9 errors into the characters)
            cache[key] = _pm3m_line_kpoint(frame, np.linalg.inv(C).T @ k0)
        kp = cache[key]
    else:
        kp = bcs_irreps.star_kpoint(frame, k_conv)
    if kp is None:
        return None
    key = (kp.name, tuple(np.round(np.asarray(kp.k, dtype=float), 9)))
    if key not in cache:
        cache[key] = bcs_irreps.induced_characters(frame, kp)
    chis = cache[key]
    star = _star(cosets, k0)
    if np.any(np.abs(np.einsum("if,if->i", chis, chis.conj()).real / order - 1) > 1e-6):
        return None  # not irreducible: the table's frame does not fit (never guess a name)
    if abs(sum(round(chi[0].real) ** 2 for chi in chis) - len(star) * len(cosets.rotations)) > 0:
        return None
    complex_ = np.abs(chis.imag).max(axis=1) > bcs_irreps.ATOL
    if minus and not complex_.any():
        return None
    out, stars, used = [], [star], set()
    for i, chi in enumerate(chis):
        if i in used:
            continue
        used.add(i)
        dim = int(round(chi[0].real))
        if not complex_[i]:
            iso = kp.labels[i] if number == 221 and kp.name in pm3m_irreps.ARMS else None
            out.append(CrystalIrrep(chi, dim, kp.k.copy(), kp.labels[i], True, kp.name, iso))
            continue
        j = next((j for j in range(len(chis)) if j not in used and np.allclose(chis[j], chi.conj(),
                                                                               atol=bcs_irreps.ATOL)), None)
        if j is not None:  # both members at this star: "W1W2"
            used.add(j)
            label = "".join(kp.labels[m] for m in sorted((i, j)))
        else:  # the conjugate lives at −k's star: named by its member here, covers that star too
            label = kp.labels[i]
            minus_star = _star(cosets, np.mod(-k0, 1.0))
            if minus_star.keys() != star.keys() and minus_star not in stars:
                stars.append(minus_star)
        out.append(CrystalIrrep(chi + chi.conj(), 2 * dim, kp.k.copy(), label, True, kp.name, None, True))
    if minus and len(stars) == 1:
        return None
    return out, stars


class _Cosets(NamedTuple):
    """F's coset representatives modulo the primitive lattice: one (rotation, translation) per rotation."""

    rotations: np.ndarray  # (|P|, 3, 3) integer, primitive frame
    translations: np.ndarray  # (|P|, 3) in [0, 1)
    codes: np.ndarray  # (|P|,) their rotation codes (see rotation_codes), ascending
    rep: np.ndarray  # (|F|,) each operation's representative: f = {I|L_f}∘rotations[rep[f]] ...
    lattice: np.ndarray  # (|F|, 3) ... with L_f a primitive lattice vector


def _cosets(Wp: np.ndarray, wp: np.ndarray) -> _Cosets:
    """One representative per rotation of F's operations (Wp, wp; primitive frame), checked to be cosets."""
    codes = rotation_codes(Wp)
    rep_codes, reps = np.unique(codes, return_index=True)
    w_rep = wp - np.floor(wp + 1e-6)
    t_f = wp - w_rep[reps][np.searchsorted(rep_codes, codes)]  # lattice translation of f from its representative
    if not np.allclose(t_f, np.rint(t_f), atol=1e-5):
        raise AssertionError("operations with one rotation differ by a non-lattice translation")
    rep = np.searchsorted(rep_codes, codes)
    return _Cosets(Wp[reps], w_rep[reps], rep_codes, rep, wp - w_rep[reps][rep])


def _supercell_kpoints(Q: np.ndarray) -> dict[tuple, np.ndarray]:
    """The k-points of the supercell, k_prim = Q^{-T} h mod 1: the group generated by the rows of Q⁻¹."""
    n_cells = int(round(abs(np.linalg.det(Q))))
    gens = np.linalg.inv(Q)
    ks = {_kkey(np.zeros(3)): np.zeros(3)}
    frontier = list(ks.values())
    while frontier:
        nxt = []
        for k in frontier:
            for g in gens:
                k2 = np.mod(k + g, 1.0)
                if _kkey(k2) not in ks:
                    ks[_kkey(k2)] = k2
                    nxt.append(k2)
        frontier = nxt
    if len(ks) != n_cells:
        raise AssertionError(f"found {len(ks)} k-points for {n_cells} cells")
    return ks


def _star(cosets: _Cosets, k0: np.ndarray) -> dict[tuple, int]:
    """The arms of k0's star: key of each arm -> the coset representative that carries k0 there."""
    arms: dict[tuple, int] = {}
    for j, W in enumerate(cosets.rotations):
        key = _kkey(np.mod(np.linalg.inv(W).T @ k0, 1.0))
        arms.setdefault(key, j)
    return arms


def _induced_characters(cosets: _Cosets, Wp: np.ndarray, wp: np.ndarray, k0: np.ndarray) -> np.ndarray:
    """(n_irreps, |F|) complex characters of the irreps induced from spgrep's small representations at k0:
    χ_ind(f) = Σ_j χ(s_j⁻¹ f s_j) over the arms j whose little group holds s_j⁻¹ f s_j."""
    from spgrep import get_spacegroup_irreps_from_primitive_symmetry  # only for stars the tables do not hold

    try:
        irr, little = get_spacegroup_irreps_from_primitive_symmetry(cosets.rotations, cosets.translations, k0)
    except np.linalg.LinAlgError:  # spgrep 0.8's default (Neto) method fails on some little groups (Fm-3m at X in
        # a non-standard primitive basis); its random method gives the same characters
        irr, little = get_spacegroup_irreps_from_primitive_symmetry(
            cosets.rotations, cosets.translations, k0, method="random")
    in_little = np.zeros(len(cosets.rotations), dtype=bool)
    in_little[little] = True
    pos_of = np.zeros(len(cosets.rotations), dtype=int)
    pos_of[little] = np.arange(len(little))
    tr = np.array([np.trace(m, axis1=1, axis2=2) for m in irr])  # (n_irr, |little|)
    # f = {I|L_f}∘p_f with p_f its coset representative: χ(f) = Σ_j exp(−2πi k_j·L_f) c_j(p_f), the arms worked out
    # on the |P| representatives only (see bcs_irreps.induced_characters)
    rep, L_f = cosets.rep, cosets.lattice
    A_p = affine(cosets.rotations.astype(float), cosets.translations)
    star = list(_star(cosets, k0).values())
    contributions = np.zeros((len(star), len(irr), len(cosets.rotations)), dtype=complex)
    arms = np.zeros((len(star), 3))
    for a, j in enumerate(star):
        A_s = A_p[j]
        arms[a] = np.linalg.inv(cosets.rotations[j].astype(float)).T @ k0
        g = np.linalg.inv(A_s) @ A_p @ A_s
        idx = np.searchsorted(cosets.codes, rotation_codes(g[:, :3, :3]))
        inl = in_little[idx]
        t = g[:, :3, 3] - cosets.translations[idx]
        contributions[a][:, inl] = tr[:, pos_of[idx[inl]]] * np.exp(-2j * np.pi * (t[inl] @ k0))[None, :]
    phases = np.exp(-2j * np.pi * (L_f @ arms.T))  # (|F|, n_arms)
    return np.einsum("jip,pj->ip", contributions[:, :, rep], phases)


def _conventional_k(C: np.ndarray, k0: np.ndarray) -> np.ndarray:
    """k in the conventional reciprocal basis (k_prim · x_prim = k_conv · x_conv), folded.

    A primitive conventional cell folds k into (−½, ½] in its own basis; a centred one must fold in
    the primitive basis (in conventional units the fcc X point is (0,1,0), not (0,0,0)).
    """
    if abs(abs(np.linalg.det(C)) - 1) < 1e-6:
        return _fold(np.linalg.inv(C).T @ k0)
    return np.round(np.linalg.inv(C).T @ _fold(k0), 9) + 0.0


def _pair_conjugates(irreps: list[CrystalIrrep]) -> list[CrystalIrrep]:
    """Complex irreps together with their conjugates: a real field sees them together (ISODISTORT
    names such a pair as one physically irreducible representation)."""
    used, phys = set(), []
    for i, ir in enumerate(irreps):
        if i in used:
            continue
        used.add(i)
        if np.abs(ir.chars.imag).max() > 1e-6:
            j = next(j for j in range(len(irreps))
                     if j not in used and np.allclose(irreps[j].chars, np.conj(ir.chars), atol=1e-6))
            used.add(j)
            phys.append(CrystalIrrep(ir.chars + irreps[j].chars, 2 * ir.dim, ir.k, "", False, None, None, True))
        else:
            phys.append(ir)
    return phys


def _number_alike(named: list[CrystalIrrep]) -> tuple[CrystalIrrep, ...]:
    """Distinct unlabelled irreps can share k-type and dimension (LD1 and LD2 of Pm-3m): number them in
    spgrep's order (an ordinal, not a CDML index) so that no two carry one name."""
    counts: dict[str, int] = {}
    for ir in named:
        counts[ir.label] = counts.get(ir.label, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for ir in named:
        if not ir.labelled and counts[ir.label] > 1:
            seen[ir.label] = seen.get(ir.label, 0) + 1
            ir = CrystalIrrep(ir.chars, ir.dim, ir.k, f"{ir.label}#{seen[ir.label]}", False, ir.k_label, None, ir.pair,
                              ir.note)
        out.append(ir)
    return tuple(out)


def _kkey(k: np.ndarray) -> tuple:
    return tuple(np.round(np.mod(np.asarray(k) + 1e-9, 1.0) - 1e-9, 6) % 1.0)


def _fold(k: np.ndarray) -> np.ndarray:
    k = np.mod(np.asarray(k, dtype=float) + 1e-9, 1.0) - 1e-9
    k = np.where(k > 0.5 + 1e-9, k - 1.0, k)
    return np.round(k, 9) + 0.0


def _name_irrep(ir: CrystalIrrep, idx, wc, number, cache: dict, frame=None) -> CrystalIrrep:
    """ISO-IR label for Pm-3m at GM, X, M, R (by character match on F) and on its lines, planes and general
    point (ISO-IR's small-irrep characters induced to F, :data:`.pm3m_irreps.LINES`); the Bilbao table's CDML
    label for any other space group at its maximal k-points (``frame``: :func:`.bcs_irreps.table_frame`);
    otherwise k-point and dimension, with the reason in ``note``."""
    if number != 221 and frame is not None:
        named = bcs_irreps.label(frame, ir.k, ir.chars, ir.pair, cache)
        if named is not None:
            label, kp = named
            return CrystalIrrep(ir.chars, ir.dim, kp.k.copy(), label, True, kp.name, None, ir.pair)
    k_label = pm3m_irreps.cubic_k_label(ir.k) if number in range(195, 231) and _is_primitive_cubic(number) else None
    if number == 221 and k_label in pm3m_irreps.ARMS:
        t = np.rint(wc)
        if np.allclose(wc, t, atol=1e-6):
            for label in pm3m_irreps.labels():
                if pm3m_irreps.k_type(label) != k_label:
                    continue
                if label not in cache:  # each label's characters once per parent
                    cache[label] = pm3m_irreps.characters(label, idx, t)
                chi = cache[label]
                if np.allclose(chi, ir.chars.real, atol=1e-6) and np.abs(ir.chars.imag).max() < 1e-6:
                    k = np.array(pm3m_irreps.ARMS[k_label][0])
                    return CrystalIrrep(ir.chars, ir.dim, k, label, True, k_label, label, ir.pair)
            raise AssertionError(f"no ISO-IR irrep of Pm-3m at {k_label} matches a computed character")
    if number == 221 and frame is not None:
        named = _pm3m_line(frame, ir, cache)
        if named is not None:
            return named
    reason = _unlabelled_reason(number, frame)
    if number != 221:  # lines, planes, general points: ISO-IR's data where installed
        if "isoir" not in cache:
            cache["isoir"] = isoir.frame(number, cache["Wc"], wc, None if frame is None else frame.shift) \
                if "Wc" in cache else None
        if cache["isoir"] is not None:
            named = isoir.name(cache["isoir"], ir.k, ir.chars, ir.pair, cache)
            if not isinstance(named, str):
                label, kind, kvec = named
                return CrystalIrrep(ir.chars, ir.dim, kvec, label, True, kind, None, ir.pair)
            reason = named
        elif isoir.data_file() is None:
            reason += " (ISO-IR's CIR_data, e.g. from `pip install crystod`, would name it)"
    name = k_label if k_label else "k=(" + ",".join(fraction_text(x) for x in ir.k) + ")"
    return CrystalIrrep(ir.chars, ir.dim, ir.k, f"{name}({ir.dim}-dim)", False, k_label, None, ir.pair, reason)


def _unlabelled_reason(number: int, frame) -> str:
    """Why an irrep keeps the descriptive name "k=(…)(d-dim)" instead of a CDML label."""
    if frame is None and bcs_irreps.tables_dir() is None:
        return "no CDML label: the Bilbao tables (package irreptables) are not installed"
    if frame is None:
        return (f"no CDML label: space group {number}'s operations are not in the Bilbao table's setting "
                "(no origin shift maps them)")
    return (f"no CDML label: k lies on a line, plane or general point of space group {number}, which the Bilbao "
            "tables (maximal k-points) do not list")


def _pm3m_line(frame, ir: CrystalIrrep, cache: dict) -> CrystalIrrep | None:
    """ISO-IR's name of an irrep of Pm-3m at a k on a line, a plane or the general point (None at GM, X, M, R or
    if k is on none of ISO-IR's types, which cannot happen for Pm-3m: the types cover the zone)."""
    key = ("line", _kkey(ir.k))
    if key not in cache:  # the k-point (type, arm, small irreps) once per star: every irrep there shares it
        cache[key] = _pm3m_line_kpoint(frame, np.asarray(ir.k, dtype=float))
    kp = cache[key]
    if kp is None:
        return None
    label = bcs_irreps.label_at(frame, kp, ir.chars, ir.pair, cache)
    return CrystalIrrep(ir.chars, ir.dim, kp.k.copy(), label, True, kp.name, None, ir.pair)


def _pm3m_line_kpoint(frame, k: np.ndarray):
    """The ISO-IR k-vector type of Pm-3m whose first arm (at the smallest parameters, positive first) is in k's
    star, as a :class:`.bcs_irreps.TableKPoint` in the Bilbao table's numbering of rotations; None if none."""
    W = frame.rotations[np.unique(rotation_codes(frame.rotations), return_index=True)[1]].astype(float)
    arms = np.einsum("fba,b->fa", np.linalg.inv(W), k)  # W⁻ᵀ k: the star
    little = int(bcs_irreps._k_equal(arms, k, frame.table.centring).sum())
    arms = arms[np.unique(np.round(arms, 9), axis=0, return_index=True)[1]]
    for kind, (const, dirs, ops, chars) in pm3m_irreps.LINES.items():
        found = [(p, arm) for p, arm in ((pm3m_irreps.line_arm(kind, arm, little), arm) for arm in arms)
                 if p is not None]
        if not found:
            continue
        # the smallest parameters, positive first: (0,1/3,0), not (0,−1/3,0)
        p, arm = min(found, key=lambda t: (round(float(t[0] @ t[0]), 9), tuple(-np.round(t[0], 9))))
        kvec = np.array(const, dtype=float) + p @ np.array(dirs, dtype=float)
        kvec = arm - np.rint(arm - kvec) + 0.0  # that point, as the exact arm of the star (not re-summed)
        tab_codes = rotation_codes(frame.table.rotations)
        index = np.array([int(np.flatnonzero(tab_codes == c)[0])
                          for c in rotation_codes(np.array([pm3m_irreps.line_rotation(c) for c in ops]))])
        return bcs_irreps.TableKPoint(kind, kvec, index, tuple(chars), np.array(list(chars.values()), dtype=complex))
    return None


def _is_primitive_cubic(number: int) -> bool:
    return number in (195, 198, 200, 201, 205, 207, 208, 212, 213, 215, 218, 221, 222, 223, 224)


def fraction_text(x: float) -> str:
    f = Fraction(float(x)).limit_denominator(48)
    return str(f) if abs(float(f) - x) < 1e-6 else f"{x:.6g}"


# ---------------------------------------------------------------------------------------------
# order-parameter directions


def direction(group: ParentGroup, c: np.ndarray, ir: CrystalIrrep, images: np.ndarray | None = None):
    """Order-parameter direction in ISO-IR's basis: the top right singular vector of the
    matrix A whose column q is P_{1q} c (partner q moved into partner 1's space).

    A = (dim/|F|) Σ_f (f·c) D_f[0, :]. With f = t ∘ p, D_f's first row is phase₀(t) D_p[0, :]
    (D(t) is diagonal, the phase of the first arm on its rows), so only |P| images of c are
    needed, each summed over the translations with the first arm's phase. ``images``: all |F|
    images instead (the strain, one 'site').
    """
    if ir.iso_label is None:
        return None, None
    t_conv = np.rint(group.conv_translations)
    if images is not None:
        D = pm3m_irreps.matrices(ir.iso_label, group.conv_index, t_conv)
        A = images.reshape(group.order, -1).T @ D[:, 0, :]
    else:
        P, T = group.point_ops, group.trans_ops
        D_p = pm3m_irreps.matrices(ir.iso_label, group.conv_index[P], t_conv[P])[:, 0, :]
        phase0 = pm3m_irreps.matrices(ir.iso_label, group.conv_index[T], t_conv[T])[:, 0, 0]
        X = group.images(c, None, P)  # (|P|, N, 3)
        Z = np.zeros_like(X)
        inv = np.argsort(group.permutations[T], axis=1)
        for ph, iv in zip(phase0, inv):  # Σ_t phase₀(t) t·x, (t·x)_i = x_{σt⁻¹(i)}
            Z += ph * X[:, iv]
        A = Z.reshape(len(P), -1).T @ D_p
    _, _, Vt = np.linalg.svd(A, full_matrices=False)
    eta = Vt[0]
    big = np.flatnonzero(np.abs(eta) > 1e-6)
    if len(big) and eta[big[0]] < 0:
        eta = -eta
    return eta, direction_label(eta, len(pm3m_irreps.ARMS[pm3m_irreps.k_type(ir.iso_label)]))


def direction_label(eta: np.ndarray, arms: int = 1, rtol: float = 1e-3) -> str:
    """ISOTROPY-style letters: equal magnitudes share a letter, signs kept, zeros as 0; the arms of
    the star separated by ";" as ISOTROPY writes them (M3+ (a;0;0), X5+ (a,0;0,0;0,0))."""
    letters, values, out = "abcdefghijklmnopqrstuvwxyz", [], []
    scale = np.abs(eta).max()
    for x in eta:
        if abs(x) <= rtol * scale:
            out.append("0")
            continue
        j = next((j for j, v in enumerate(values) if abs(abs(x) - v) <= rtol * scale), None)
        if j is None:
            values.append(abs(x))
            j = len(values) - 1
        out.append(("-" if x < 0 else "") + letters[j % 26])
    d = len(out) // arms
    return "(" + ";".join(",".join(out[i * d:(i + 1) * d]) for i in range(arms)) + ")"
