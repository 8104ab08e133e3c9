"""Labels of Pm-3m's irreps on lines, planes and the general point (issue 12: "labels at any k-point").

What is checked, and against what:

* the stored small-irrep characters (``pm3m_irreps.LINES``) equal ISO-IR's (``CIR_data.txt``, bundled with
  CrystOD; skipped when it is not installed), and the irreps of F they induce equal ISO-IR's own full
  representations, evaluated on every operation of the 3×3×3 and 4×4×4 supercells;
* every irrep of F in those supercells gets a label, none twice, and they are a complete set;
* physically fixed assignments: along a line the longitudinal wave of one site carries the totally
  symmetric small irrep (DT1, LD1, SM1: the little co-group fixes k, hence the longitudinal vector), the
  transverse ones the others — DT5 (Δ, C4v's E), LD3 (Λ, C3v's E), and on Σ (a,a,0) the in-plane
  transverse SM2 and the out-of-plane SM3: the polar vector GM4− is DT1 ⊕ DT5, LD1 ⊕ LD3, SM1 ⊕ SM2 ⊕ SM3
  (the compatibility relations of GM4− in ISO-IR's / Bilbao's CDML numbering);
* an irrep with no checked label says why (``note``, ``label_note`` in the JSON), and never looks like one.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from glazer import A  # tests/ is on sys.path (see conftest.py)

import symcheck as sc
from symcheck.distortion import modes, parent_group
from symcheck.distortion import pm3m_irreps as P
from symcheck.distortion.cells import supercell

TOL = 1e-3


def primitive_cubic() -> sc.Structure:
    frac = np.array([[0, 0, 0], [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]])
    return sc.Structure(frac * A, ["Ti", "Sr", "O", "O", "O"], cell=np.eye(3) * A, pbc=[True] * 3)


@cache
def cubic_supercell(n: int) -> sc.Structure:
    m = 5 * n**3
    return supercell(primitive_cubic(), sc.Structure(np.zeros((m, 3)), ["Ti"] * m, cell=np.eye(3) * n * A,
                                                     pbc=[True] * 3), TOL)


@cache
def group(n: int):
    return parent_group(cubic_supercell(n), TOL)


@pytest.mark.parametrize("n", [3, 4])
def test_every_irrep_of_an_nxnxn_supercell_is_labelled(n):
    g = group(n)
    labels = [ir.label for ir in g.irreps]
    assert all(ir.labelled and ir.note is None for ir in g.irreps), [ir.label for ir in g.irreps if not ir.labelled]
    assert len(set(labels)) == len(labels)
    assert sum(ir.dim**2 for ir in g.irreps) == g.order == 48 * n**3
    expected = {3: {"DT", "SM", "LD"}, 4: {"DT", "SM", "LD", "S", "T", "Z", "X", "M", "R"}}[n] | {"GM"}
    assert {ir.k_label for ir in g.irreps} == expected
    dt = {ir.label: ir for ir in g.irreps if ir.k_label == "DT"}
    assert sorted(dt) == ["DT1", "DT2", "DT3", "DT4", "DT5"]
    assert np.allclose(dt["DT1"].k, [0, 1 / n, 0])  # ISO-IR's first arm (0,a,0), a > 0
    assert dt["DT5"].dim == 12 and dt["DT1"].dim == 6  # 6 arms × (1 or 2)


def test_stored_line_characters_are_iso_ir():
    isoir = pytest.importorskip("crystod.isoir")
    seen = set()
    generic = np.array([0.1234, 0.2345, 0.3456])
    for ir in isoir.load_isoir_irreps(221, "cir"):
        if ir.special:
            continue
        const, dirs, ops, chars = P.LINES[ir.ktype]
        _, index, Amat, _ = ir._arm_parametrization(0)
        assert np.allclose(ir.arm_k(0, np.zeros(3)), const) and np.allclose(Amat.T, dirs)
        little = [i for i in range(ir.opcount) if ir.in_little_group(ir.rotations[i], 0, generic)]
        assert [P.line_rotation(c).tolist() for c in ops] == [ir.rotations[i].tolist() for i in little]
        nb = ir.small_dim
        traces = [np.trace(ir.matrices[i][:nb, :nb]) for i in little]
        assert np.allclose(traces, chars[ir.label]) and np.allclose(ir.irtrans[little], 0)
        seen.add(ir.label)
    assert seen == {label for _, _, _, chars in P.LINES.values() for label in chars}


@pytest.mark.parametrize("n", [3, 4])
def test_induced_characters_equal_iso_ir_representations(n):
    """ISO-IR's full representation (all arms) at the same k, traced on every operation of F, equals the
    character of the irrep symcheck names so."""
    isoir = pytest.importorskip("crystod.isoir")
    table = {ir.label: ir for ir in isoir.load_isoir_irreps(221, "cir")}
    g = group(n)
    W, w = g.conv_rotations, g.conv_translations
    # every rotation and every translation of F, and 150 more of its elements (CrystOD's evaluation is slow)
    ops = np.unique(np.concatenate([g.point_ops, g.trans_ops,
                                    np.random.default_rng(0).choice(g.order, 150, replace=False)]))
    for ir in g.irreps:
        if ir.k_label in P.ARMS:
            continue
        iso = table[ir.label]
        arm, params = iso.match_k(ir.k)
        chi = np.zeros(len(ops), dtype=complex)
        for i, f in enumerate(ops):
            for a in range(iso.narms):
                if iso.in_little_group(W[f], a, params):
                    chi[i] += iso.small_character(W[f], w[f], a, params)
        assert np.allclose(chi, ir.chars[ops], atol=1e-6), ir.label


def _wave(n: int, k, e, species: str = "Sr") -> sc.Structure:
    """One site's displacement wave e cos(2π k·x) (x in cubic cells) on the n×n×n supercell."""
    parent = cubic_supercell(n)
    x = parent.positions / A
    u = np.zeros_like(x)
    on = np.array(parent.species) == species
    u[on] = 0.02 * np.cos(2 * np.pi * x[on] @ np.asarray(k, dtype=float))[:, None] * np.asarray(e, dtype=float)
    return sc.Structure(parent.positions + u, parent.species, cell=parent.cell, pbc=[True] * 3)


@pytest.mark.parametrize("k, e, label", [
    ((0, 0, 1 / 4), (0, 0, 1), "DT1"), ((0, 0, 1 / 4), (1, 0, 0), "DT5"),
    ((1 / 4, 1 / 4, 1 / 4), (1, 1, 1), "LD1"), ((1 / 4, 1 / 4, 1 / 4), (1, -1, 0), "LD3"),
    ((1 / 4, 1 / 4, 0), (1, 1, 0), "SM1"), ((1 / 4, 1 / 4, 0), (1, -1, 0), "SM2"),
    ((1 / 4, 1 / 4, 0), (0, 0, 1), "SM3"),
])
def test_longitudinal_and_transverse_waves(k, e, label):
    r = modes(cubic_supercell(4), _wave(4, k, e), tol=TOL, group=group(4))
    assert [m.irrep for m in r.modes] == [label]
    m = r.modes[0]
    assert m.labelled and m.as_dict()["label_note"] is None
    assert m.k_label == label.rstrip("12345")


def copper_2x2x2() -> sc.Structure:
    """Fm-3m (Cu) in a 2×2×2 conventional supercell: k-points on Δ and Σ besides Γ, X, L, W."""
    frac = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    cu = sc.Structure(frac * 3.6, ["Cu"] * 4, cell=np.eye(3) * 3.6, pbc=[True] * 3)
    return supercell(cu, sc.Structure(np.zeros((32, 3)), ["Cu"] * 32, cell=np.eye(3) * 7.2, pbc=[True] * 3), TOL)


def orbits(number: int, reps=(1, 1, 1), cell=None) -> sc.Structure:
    """Two general orbits (C, N) of space group ``number`` (spglib's first setting), repeated ``reps`` times."""
    import spglib

    cell = np.diag([5.0, 5.5, 6.0]) if cell is None else cell
    sym = spglib.get_symmetry_from_database(next(h for h in range(1, 531)
                                                 if spglib.get_spacegroup_type(h).number == number))
    points, species = [], []
    for x, element in ((np.array([0.1234, 0.2718, 0.3821]), "C"), (np.array([0.3147, 0.0611, 0.1729]), "N")):
        for p in np.mod(np.einsum("fab,b->fa", sym["rotations"], x) + sym["translations"], 1.0):
            if not any(np.allclose(np.mod(p - q + 0.5, 1) - 0.5, 0, atol=1e-6) for q in points):
                points.append(p)
                species.append(element)
    shifts = np.stack(np.meshgrid(*[np.arange(r) for r in reps], indexing="ij"), -1).reshape(-1, 3)
    frac = np.concatenate([(np.array(points) + t) / reps for t in shifts])
    big = cell * np.array(reps)[:, None]
    return sc.Structure(frac @ big, species * len(shifts), cell=big, pbc=[True] * 3)


def pnma_1x1x3() -> sc.Structure:
    """Pnma (non-symmorphic: ISO-IR's IR-translations matter), tripled along c."""
    return orbits(62, (1, 1, 3))


def test_pairs_across_plus_and_minus_k_take_isotropys_names():
    """C2 (no inversion) in a 2×2×2 cell: at LD and U, −k is outside k's star, the conjugate irreps live at −k
    and a real field sees the pair: ISOTROPY names it LD1LE1, U1UA1 (as CrystOD, reading ISO-IR, prints)."""
    from symcheck.distortion import isoir

    if isoir.data_file() is None:
        pytest.skip("ISO-IR's data (pip install crystod) not found")
    beta = np.radians(100)
    cell = np.array([[5.0, 0, 0], [0, 5.5, 0], [6.0 * np.cos(beta), 0, 6.0 * np.sin(beta)]])
    g = parent_group(orbits(5, (2, 2, 2), cell), TOL)
    pairs = sorted(ir.label for ir in g.irreps if ir.pair)
    assert pairs == ["LD1LE1", "LD2LE2", "U1UA1", "U2UA2"] and all(ir.labelled for ir in g.irreps)
    assert isoir.minus_k_type("P", 143) == "PC" and isoir.minus_k_type("K", 221) == "KA"


def test_unlabelled_irreps_say_why(monkeypatch):
    """A line of another group (Fm-3m's Δ and Σ) without ISO-IR's data: no Bilbao entry, so named by k and
    dimension with the reason (and where the data would come from), never a CDML-looking name."""
    monkeypatch.setenv("SYMCHECK_ISOIR", "")
    g = parent_group(copper_2x2x2(), TOL)
    unnamed = [ir for ir in g.irreps if not ir.labelled]
    assert {ir.k_label for ir in unnamed} == {None} and len(unnamed) == 9
    assert all(ir.label.startswith("k=(") and "no CDML label" in ir.note and "crystod" in ir.note for ir in unnamed)
    assert all(ir.note is None for ir in g.irreps if ir.labelled)


@pytest.mark.parametrize("build, number, types", [(copper_2x2x2, 225, {"DT", "SM"}), (pnma_1x1x3, 62, {"LD"})])
def test_other_groups_lines_from_iso_ir_data(build, number, types):
    """With ISO-IR's data (CrystOD's copy), every irrep is named, and each named line irrep's characters equal
    ISO-IR's own full representation at that k (CrystOD's evaluation), on ISO-IR's frame."""
    isoir_data = pytest.importorskip("crystod.isoir")
    from symcheck.distortion import isoir

    if isoir.data_file() is None:
        pytest.skip("ISO-IR's data turned off ($SYMCHECK_ISOIR empty)")
    g = parent_group(build(), TOL)
    assert g.number == number and all(ir.labelled for ir in g.irreps), [ir.note for ir in g.irreps if ir.note]
    lines = [ir for ir in g.irreps if ir.k_label in types]
    assert {ir.k_label for ir in lines} == types
    fr, _ = isoir.frame(number, g.conv_rotations, g.conv_translations)
    table = {ir.label: ir for ir in isoir_data.load_isoir_irreps(number, "cir")}
    ops = np.unique(np.concatenate([g.point_ops, g.trans_ops, np.random.default_rng(0).choice(
        g.order, min(150, g.order), replace=False)]))  # CrystOD's evaluation is slow: every rotation and translation
    for ir in lines:
        for label in [ir.label] if not ir.pair else []:
            iso = table[label]
            _, params = iso.match_k(ir.k)
            chi = np.zeros(len(ops), dtype=complex)
            for i, f in enumerate(ops):
                for a in range(iso.narms):
                    if iso.in_little_group(fr.rotations[f], a, params):
                        chi[i] += iso.small_character(fr.rotations[f], fr.translations[f], a, params)
            assert np.allclose(chi, ir.chars[ops], atol=1e-6), label


def test_direction_parameters_count_the_letters_of_iso_ir_directions():
    """The basis-free count of an order parameter's free parameters equals the number of distinct letters
    of ISO-IR's direction wherever symcheck has the basis (Pm-3m at GM, X, M, R), and exists elsewhere."""
    from glazer import cubic

    parent = cubic()
    rng = np.random.default_rng(3)
    child = sc.Structure(parent.positions + rng.normal(scale=0.01, size=parent.positions.shape), parent.species,
                         cell=parent.cell, pbc=[True] * 3)
    r = modes(parent, child, tol=TOL)
    assert len(r.modes) > 10
    for m in r.modes:
        letters = {c for c in m.direction_label if c.isalpha()}
        assert m.direction_parameters == len(letters), (m.irrep, m.direction_label)
    wave = modes(cubic_supercell(4), _wave(4, (0, 0, 1 / 4), (1, 0, 0)), tol=TOL, group=group(4)).modes[0]
    assert wave.irrep == "DT5" and wave.direction is None and wave.direction_parameters >= 1


def test_a_third_of_the_zone_decomposes_exactly():
    """k = (0,0,1/3): the characters use k unrounded (rounded to 9 digits they left a 7e-10 Å residual)."""
    r = modes(cubic_supercell(3), _wave(3, (0, 0, 1 / 3), (1, 0, 0)), tol=TOL, group=group(3))
    assert [m.irrep for m in r.modes] == ["DT5"] and r.residual < 1e-12
    assert [float(x) for x in r.modes[0].k] == pytest.approx([0, 1 / 3, 0], abs=1e-15)
