"""Symmetry-mode decomposition (symcheck.distortion, ``sc.modes``) against published assignments.

Labels: ISOTROPY's (Miller–Love/CDML) with the B site (Ti) at 1a: out-of-phase octahedral tilts
R4+, in-phase tilts M3+ (Howard & Stokes 1998, Acta Cryst. B54, 782), the ferroelectric mode of
BaTiO3 GM4−, the A-site antipolar displacements of Pnma X5+ (a secondary mode). The stored
ISO-IR matrices are compared with ISO-IR itself when CrystOD (which bundles the tables) is
installed.
"""

import json

import glazer as gz
import numpy as np
import pytest
from glazer import SYSTEMS, TILTED, cubic, glazer

import symcheck as sc
from symcheck.distortion import bcs_irreps as bcs
from symcheck.distortion import label_field, modes, parent_group, stabilizer_mask
from symcheck.distortion import pm3m_irreps as crystal_irreps

TOL = 1e-3


@pytest.fixture(scope="module")
def group():
    return parent_group(cubic(), TOL)


@pytest.fixture(scope="module")
def tilts(group):
    return {s: modes(cubic(), glazer(s), tol=TOL, group=group) for s in TILTED}


def _primaries(r):
    return sorted(m.irrep for m in r.modes if m.primary)


# --- labels -----------------------------------------------------------------------------------


def test_stored_matrices_are_iso_ir():
    isoir = pytest.importorskip("crystod.isoir")
    table = {ir.label: ir for ir in isoir.load_isoir_irreps(221)}
    for label in crystal_irreps.labels():
        ir = table[label]
        idx = crystal_irreps.rotation_indices(ir.rotations)
        ours = crystal_irreps.matrices(label, idx, np.zeros((len(idx), 3)))
        assert np.allclose(ours, ir.matrices.real, atol=1e-4), label  # ISO-IR prints 5 decimals
        assert np.abs(ir.matrices.imag).max() == 0
        assert np.allclose(np.array(crystal_irreps.ARMS[crystal_irreps.k_type(label)]),
                           [ir.arm_k(a, np.zeros(3)) for a in range(ir.narms)])


def test_every_irrep_of_the_2x2x2_supercell_is_labelled(group):
    labels = sorted(ir.label for ir in group.irreps)
    assert labels == sorted(crystal_irreps.labels())  # all 40 irreps at GM, X, M, R, none twice
    assert sum(ir.dim**2 for ir in group.irreps) == group.order == 384  # complete set of irreps of F
    assert group.origin == "Ti at 1a (the origin)"


def test_cubic_k_names():
    names = {(0, 0, 0): "GM", (0, 0.5, 0): "X", (0.5, 0.5, 0): "M", (0.5, 0.5, 0.5): "R", (0, 0.25, 0): "DT",
             (0.25, 0.25, 0): "SM", (0.25, 0.25, 0.25): "LD", (0.25, 0.5, 0): "Z", (0.25, 0.5, 0.25): "S",
             (0.5, 0.5, 0.25): "T", (0.25, 0.125, 0): None}
    for k, name in names.items():
        assert crystal_irreps.cubic_k_label(np.array(k)) == name


# --- Glazer tilt systems (Howard & Stokes 1998) -----------------------------------------------


@pytest.mark.parametrize("system", TILTED)
def test_tilt_primaries_are_r4_plus_and_m3_plus(system, tilts):
    r = tilts[system]
    expected = sorted({"-": ["R4+"], "+": ["M3+"]}.get(c, [None])[0] for c in set(system[1::2]) if c != "0")
    assert _primaries(r) == expected
    assert (r.child_number, r.child_space_group) == SYSTEMS[system]
    assert r.residual < 1e-10
    assert np.isclose(sum(m.amplitude**2 for m in r.modes), r.total_amplitude**2, rtol=1e-10)
    # the tilts move O only, to first order in the angles: nothing but the tilt modes
    assert {m.irrep for m in r.modes} == set(expected)
    if len(r.modes) == 1:  # one irrep: its isotropy subgroup is Howard & Stokes's group itself
        assert r.modes[0].isotropy_subgroup_number == SYSTEMS[system][0]


def test_single_tilts_have_the_howard_stokes_isotropy_subgroups(tilts):
    (minus,) = tilts["a0a0c-"].modes
    assert (minus.irrep, minus.isotropy_subgroup, minus.isotropy_subgroup_number) == ("R4+", "I4/mcm", 140)
    assert minus.direction_label == "(a,0,0)" and list(minus.k) == [0.5, 0.5, 0.5] and minus.k_label == "R"
    (plus,) = tilts["a0a0c+"].modes
    assert (plus.irrep, plus.isotropy_subgroup, plus.isotropy_subgroup_number) == ("M3+", "P4/mbm", 127)
    assert list(plus.k) == [0.5, 0.5, 0.0] and plus.k_label == "M"
    assert plus.direction_label == "(a;0;0)"  # ISOTROPY writes the arms of a star apart
    assert tilts["a+a+a+"].mode("M3+").direction_label == "(a;a;a)"
    assert tilts["a-a-a-"].mode("R4+").direction_label == "(a,a,a)"
    assert tilts["a-a-a-"].mode("R4+").isotropy_subgroup_number == 167
    assert tilts["a+a+a+"].mode("M3+").isotropy_subgroup_number == 204
    pnma = tilts["a+b-b-"]
    assert pnma.mode("R4+").isotropy_subgroup_number == 74  # a0b-b- alone: Imma
    assert pnma.mode("M3+").isotropy_subgroup_number == 127


def _o_pattern(shift) -> sc.Structure:
    """The cubic supercell with each O moved by shift(j, n): j its face axis, n its Ti's cell."""
    s = cubic()
    pos = s.positions.copy()
    for i, (r, species) in enumerate(zip(s.positions, s.species)):
        if species == "O":
            f = r / gz.A
            j = int(np.argmax(np.abs(f - np.round(f))))
            pos[i] += shift(j, np.floor(f).astype(int))
    return sc.Structure(pos, s.species, cell=s.cell, pbc=[True] * 3)


def test_jahn_teller_and_breathing_modes(group):
    """Published assignments beyond the tilts (B site at 1a): the cooperative in-plane Jahn–Teller
    pattern of LaMnO3 is M2+ with isotropy subgroup P4/mbm, the B-site breathing (rock-salt
    ordering of large and small octahedra) R1+ with Fm-3m (Carpenter & Howard, Acta Cryst. B65,
    134 (2009); Howard, Kennedy & Woodward, Acta Cryst. B59, 463 (2003))."""
    d = 0.05
    jt = _o_pattern(lambda j, n: d * (-1.0) ** (n[0] + n[1]) * {0: 1, 1: -1, 2: 0}[j] * np.eye(3)[j])
    breathing = _o_pattern(lambda j, n: d * (-1.0) ** n.sum() * np.eye(3)[j])
    for child, irrep, direction, number in ((jt, "M2+", "(a;0;0)", 127), (breathing, "R1+", "(a)", 225)):
        (m,) = modes(cubic(), child, tol=TOL, group=group).modes
        assert (m.irrep, m.direction_label, m.isotropy_subgroup_number, m.primary) == (irrep, direction, number, True)


def test_amplitudes_scale_with_the_tilt_angles(group, monkeypatch):
    before = modes(cubic(), glazer("a+b-b-"), tol=TOL, group=group)
    monkeypatch.setitem(gz.ANGLES, "a", 2 * gz.ANGLES["a"])
    monkeypatch.setitem(gz.ANGLES, "b", 2 * gz.ANGLES["b"])
    after = modes(cubic(), glazer("a+b-b-"), tol=TOL, group=group)
    for irrep in ("R4+", "M3+"):
        assert np.isclose(after.mode(irrep).amplitude, 2 * before.mode(irrep).amplitude, rtol=1e-12)


def _pnma_with_sr_shifts(group) -> sc.Structure:
    """a+b-b- plus the Sr displacements Pnma allows (a random Sr field averaged over the child's group)."""
    child = glazer("a+b-b-")
    u = child.positions - cubic().positions
    H = stabilizer_mask(group, group.images(u), u, 1e-9)
    v = np.zeros_like(u)
    sr = np.array(child.species) == "Sr"
    v[sr] = np.random.default_rng(0).normal(size=(sr.sum(), 3))
    v = group.images(v)[H].mean(axis=0)
    v *= 0.03 / np.linalg.norm(v, axis=1).max()  # 0.03 Å at most: smaller than the tilts, as in CaTiO3
    return sc.Structure(child.positions + v, child.species, cell=child.cell, pbc=[True] * 3)


def test_child_in_its_own_standard_setting(group):
    """Pnma as spglib standardizes it (20 atoms, axes turned, origin moved): matched to the parent by
    lattice vectors and a shift, the same modes, amplitudes per its 20 atoms (1/√2 of the 40's)."""
    import spglib

    child = _pnma_with_sr_shifts(group)
    numbers = [{"Ti": 22, "Sr": 38, "O": 8}[s] for s in child.species]
    L, frac, z = spglib.standardize_cell((child.cell, child.positions @ np.linalg.inv(child.cell), numbers),
                                         symprec=TOL)
    assert len(z) == 20 and not np.allclose(L[0] / np.linalg.norm(L[0]), [0.707, 0.707, 0], atol=0.01)
    std = sc.Structure(frac @ L, [{22: "Ti", 38: "Sr", 8: "O"}[x] for x in z], cell=L, pbc=[True] * 3)
    a = gz.A
    prim = sc.Structure(np.array([[0, 0, 0], [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]]) * a,
                        ["Ti", "Sr", "O", "O", "O"], cell=np.eye(3) * a, pbc=[True] * 3)
    r = modes(prim, std, tol=TOL)
    ref = modes(cubic(), child, tol=TOL, group=group)
    assert r.child_number == 62 and _primaries(r) == ["M3+", "R4+"]
    assert {m.irrep: round(m.amplitude, 9) for m in r.modes} == \
        {m.irrep: round(m.amplitude / np.sqrt(2), 9) for m in ref.modes}
    assert r.residual < 1e-10


def test_pnma_a_site_shifts_are_secondary_x5_plus(group):
    """The Sr displacements Pnma allows, on top of a+b-b-: X5+ (and R5+), secondary."""
    shifted = _pnma_with_sr_shifts(group)
    r = modes(cubic(), shifted, tol=TOL, group=group)
    assert r.child_number == 62
    assert _primaries(r) == ["M3+", "R4+"]
    x5 = r.mode("X5+")
    assert x5 is not None and not x5.primary and x5.amplitude > 0.01
    assert (x5.isotropy_subgroup, x5.isotropy_subgroup_number) == ("Cmcm", 63)
    assert x5.k_label == "X" and x5.dimension == 6 and x5.direction_label.count(";") == 2
    assert np.isclose(sum(m.amplitude**2 for m in r.modes), r.total_amplitude**2, rtol=1e-10)


def test_parent_as_primitive_cell_plus_the_childs_cell(tilts):
    a = gz.A
    prim = sc.Structure(np.array([[0, 0, 0], [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]]) * a,
                        ["Ti", "Sr", "O", "O", "O"], cell=np.eye(3) * a, pbc=[True] * 3)
    r = modes(prim, glazer("a+b-b-"), tol=TOL)
    ref = tilts["a+b-b-"]
    assert [(m.irrep, round(m.amplitude, 9), m.primary) for m in r.modes] == \
        [(m.irrep, round(m.amplitude, 9), m.primary) for m in ref.modes]


def test_child_in_a_cell_the_cubic_group_does_not_keep():
    """Pnma in its 20-atom √2×2×√2 cell: spglib lists only the tetragonal operations that keep that
    cell, so the decomposition runs on a 2×2×2 cubic supercell; amplitudes are per the 20 atoms given."""
    import spglib

    child = glazer("a+b-b-")
    numbers = [{"Ti": 22, "Sr": 38, "O": 8}[s] for s in child.species]
    L, frac, z = spglib.standardize_cell((child.cell, child.positions @ np.linalg.inv(child.cell), numbers),
                                         to_primitive=True, no_idealize=True, symprec=TOL)
    assert len(z) == 20
    small = sc.Structure(frac @ L, [{22: "Ti", 38: "Sr", 8: "O"}[x] for x in z], cell=L, pbc=[True] * 3)
    a = gz.A
    prim = sc.Structure(np.array([[0, 0, 0], [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]]) * a,
                        ["Ti", "Sr", "O", "O", "O"], cell=np.eye(3) * a, pbc=[True] * 3)
    r = modes(prim, small, tol=TOL)
    big = modes(prim, child, tol=TOL)
    assert r.child_number == 62 and _primaries(r) == ["M3+", "R4+"]
    for m in r.modes:
        assert np.isclose(m.amplitude, big.mode(m.irrep).amplitude / np.sqrt(2), rtol=1e-10)
    assert r.residual < 1e-10


# --- BaTiO3 -----------------------------------------------------------------------------------

A_BTO = 4.0


def batio3(polar=(0, 0, 0), c_over_a=1.0, ti=0.12, o=-0.05) -> sc.Structure:
    """BaTiO3 (Ti at the origin), Ti and O displaced along ``polar`` in the symmetric pattern of
    the ferroelectric phases (each O moves more along its own Ti–O bond, as in the real
    structures), the cell stretched along z by ``c_over_a``."""
    frac = np.array([[0, 0, 0], [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]], dtype=float)
    n = np.array(polar, dtype=float)
    n = n / np.linalg.norm(n) if n.any() else n
    u = np.zeros((5, 3))
    u[0] = ti * n
    for j in range(3):  # O on the j-th face: o along n, plus 0.3 o along its bond (axis j)
        u[2 + j] = o * n + 0.3 * o * n[j] * np.eye(3)[j]
    cell = np.diag([A_BTO, A_BTO, A_BTO * c_over_a])
    return sc.Structure(frac @ cell + u, ["Ti", "Ba", "O", "O", "O"], cell=cell, pbc=[True] * 3)


@pytest.mark.parametrize("polar, direction, name, number", [
    ((1, 0, 0), "(a,0,0)", "P4mm", 99),
    ((1, 1, 0), "(a,a,0)", "Amm2", 38),
    ((1, 1, 1), "(a,a,a)", "R3m", 160),
])
def test_batio3_ferroelectric_mode_is_gm4_minus(polar, direction, name, number):
    r = modes(batio3(), batio3(polar), tol=TOL)
    gm4 = r.mode("GM4-")
    assert gm4.primary and _primaries(r) == ["GM4-"]
    assert gm4.direction_label == direction
    assert (gm4.isotropy_subgroup, gm4.isotropy_subgroup_number) == (name, number)
    assert r.child_number == number
    assert gm4.multiplicity == 4  # Ti, Ba and two O modes; the acoustic one is removed as a translation
    assert r.residual < 1e-10
    assert np.isclose(sum(m.amplitude**2 for m in r.modes), r.total_amplitude**2, rtol=1e-10)


def test_batio3_tetragonal_with_strain():
    """Cubic → tetragonal with c/a = 1.01: the strain is split off (GM1+ and GM3+), the atoms are
    decomposed in the parent's cell."""
    r = modes(batio3(), batio3((0, 0, 1), c_over_a=1.01), tol=TOL)
    assert (r.child_space_group, r.child_number) == ("P4mm", 99)
    assert _primaries(r) == ["GM4-"]
    assert r.mode("GM4-").direction_label == "(0,0,a)"  # the domain along z
    strain = {s.irrep: s for s in r.strain}
    assert set(strain) == {"GM1+", "GM3+"} and not any(s.primary for s in r.strain)
    assert np.isclose(strain["GM1+"].amplitude, 0.01 / np.sqrt(3))  # trace part of diag(0, 0, 0.01)
    assert np.isclose(strain["GM3+"].amplitude, 0.01 * np.sqrt(2 / 3))
    assert strain["GM3+"].direction_label == "(a,0)"
    assert np.allclose(r.strain_tensor, np.diag([0, 0, 0.01]), atol=1e-12)
    # batio3() shifts atoms by fixed Å, so in the stretched cell they move 1/1.01 as far in
    # fractions of c: measured in the parent's cell, the amplitude is the unstrained one / 1.01
    unstrained = modes(batio3(), batio3((0, 0, 1)), tol=TOL)
    assert np.isclose(r.mode("GM4-").amplitude, unstrained.mode("GM4-").amplitude / 1.01, rtol=1e-12)


def test_json_shape(tilts):
    d = json.loads(json.dumps(tilts["a+b-b-"].as_dict()))
    assert d["parent"] == {"space_group": "Pm-3m", "number": 221}
    assert d["child"] == {"space_group": "Pnma", "number": 62}
    mode = d["modes"][0]
    for key in ("irrep", "k", "k_label", "direction", "amplitude", "primary", "isotropy_subgroup",
                "isotropy_subgroup_number"):
        assert key in mode
    assert d["residual"] < 1e-10 and d["total_amplitude"] > 0


# --- bad input --------------------------------------------------------------------------------


def test_bad_input_is_one_line():
    with pytest.raises(sc.SymcheckError, match="not an integer multiple"):
        modes(batio3(), sc.Structure(glazer("a0a0c-").positions[:39], glazer("a0a0c-").species[:39],
                                     cell=glazer("a0a0c-").cell, pbc=[True] * 3), tol=TOL)
    with pytest.raises(sc.SymcheckError, match="not a supergroup"):
        modes(batio3((0, 0, 1)), batio3(), tol=TOL)  # P4mm is no parent of Pm-3m
    with pytest.raises(sc.SymcheckError, match="species differ"):
        other = batio3()
        modes(other, sc.Structure(other.positions, ["Ti", "Sr", "O", "O", "O"], cell=other.cell, pbc=[True] * 3))
    with pytest.raises(sc.SymcheckError, match="3D-periodic"):
        modes(sc.Structure(np.eye(3), ["H"] * 3), sc.Structure(np.eye(3), ["H"] * 3))


# --- labelling a breaking field (for analyze) -------------------------------------------------


def test_label_field_names_tilt_fields(group):
    s = cubic()
    ti = np.array(s.species) == "Ti"
    n = np.rint(s.positions[ti] / gz.A).astype(int)
    # e3nn's l = 1 components are (x, y, z)
    axial = np.zeros((len(s), 3))
    axial[ti, 2] = (-1.0) ** n.sum(axis=1)  # z axial vector, alternating along x, y, z
    assert [lab for lab, _ in label_field(s, axial, "1e", group=group)] == ["R4+"]
    axial[ti, 2] = (-1.0) ** n[:, :2].sum(axis=1)  # alternating along x and y only
    labels = label_field(s, axial, "1e", group=group)
    assert [lab for lab, _ in labels] == ["M3+"] and list(labels[0][1]) == [0.5, 0.5, 0.0]
    polar = np.zeros((len(s), 3))
    polar[ti, 0] = 1.0  # the same polar vector on every Ti
    assert [lab for lab, _ in label_field(s, polar, "1o", group=group)] == ["GM4-"]


# --- the command ------------------------------------------------------------------------------


def test_modes_command(tmp_path):
    from symcheck_cli.main import app
    from typer.testing import CliRunner

    sc.write(tmp_path / "cubic.cif", cubic())
    sc.write(tmp_path / "tilted.cif", glazer("a0a0c-"))
    runner = CliRunner()
    res = runner.invoke(app, ["modes", str(tmp_path / "cubic.cif"), str(tmp_path / "tilted.cif"), "--tol", "1e-3",
                              "--json", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [(m["irrep"], m["primary"], m["isotropy_subgroup_number"]) for m in data["modes"]] == [("R4+", True, 140)]
    assert (tmp_path / "out" / "modes.png").stat().st_size > 0
    assert json.loads((tmp_path / "out" / "modes.json").read_text()) == data
    res = runner.invoke(app, ["modes", str(tmp_path / "cubic.cif"), str(tmp_path / "tilted.cif"), "--tol", "1e-3"])
    assert res.exit_code == 0 and "R4+" in res.stdout and "primary" in res.stdout
    bad = runner.invoke(app, ["modes", str(tmp_path / "cubic.cif"), str(tmp_path / "missing.cif")])
    assert bad.exit_code == 2 and "missing.cif" in bad.output


# --- other parents: unlabelled irreps, complex pairs, centred lattices ------------------------


def _p3_supercell() -> sc.Structure:
    """A P3 crystal (no inversion, complex irreps at K and −K) in a 3×3×1 supercell."""
    a, c = 4.0, 5.0
    L = np.array([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]])
    x = np.array([0.1, 0.25, 0.3])
    frac = np.array([x, [-x[1], x[0] - x[1], x[2]], [-x[0] + x[1], -x[0], x[2]], [0, 0, 0.1], [1 / 3, 2 / 3, 0.7]]) % 1
    big = np.array([(f + [i, j, 0]) / [3, 3, 1] for i in range(3) for j in range(3) for f in frac])
    cell = np.diag([3, 3, 1]) @ L
    return sc.Structure(big @ cell, ["O", "O", "O", "Zn", "S"] * 9, cell=cell, pbc=[True] * 3)


def _rocksalt() -> sc.Structure:
    """NaCl in its conventional cubic cell (Fm-3m, four primitive cells)."""
    a = 5.64
    na = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    return sc.Structure(np.vstack([na, na + [.5, 0, 0]]) * a, ["Na"] * 4 + ["Cl"] * 4, cell=np.eye(3) * a,
                        pbc=[True] * 3)


@pytest.mark.parametrize("make", [_p3_supercell, _rocksalt])
def test_other_parents_decompose_completely(make):
    parent = make()
    rng = np.random.default_rng(4)
    child = sc.Structure(parent.positions + rng.normal(scale=0.01, size=parent.positions.shape), parent.species,
                         cell=parent.cell, pbc=[True] * 3)
    group = parent_group(parent, 1e-4)
    # the irreps found are all of F's: Σ dim² = |F| (a complex pair counts as its two irreps)
    assert sum(ir.dim**2 / (2 if ir.pair else 1) for ir in group.irreps) == group.order
    r = modes(parent, child, tol=1e-4, group=group)
    assert r.residual < 1e-10
    assert np.isclose(sum(m.amplitude**2 for m in r.modes), r.total_amplitude**2, rtol=1e-10)
    # labelled (Bilbao/CDML) at the k-points the tables list: P3's Γ and K, fcc's Γ and X; P3's (1/3,0,0) lies on
    # a line: named from ISO-IR's data where installed (the pair across ±k as ISOTROPY writes it, SM1SN1), else it
    # keeps its k-point name
    from symcheck.distortion import isoir

    line = {"SM1SN1"} if isoir.data_file() is not None else set()
    assert {ir.label for ir in group.irreps if not ir.labelled} == (
        {"k=(-1/3,0,0)(6-dim)"} if make is _p3_supercell and not line else set())
    assert all(m.labelled for m in r.modes if m.k_label in ("GM", "K", "X"))
    if make is _p3_supercell:
        assert any(ir.pair for ir in group.irreps)
        # complex pairs: at Γ both members named (GM2GM3); at K the conjugate sits at −K, a star the tables
        # do not list, so the pair takes its K member's name
        assert sorted(ir.label for ir in group.irreps if ir.labelled) == sorted(
            ["GM1", "GM2GM3", "K1", "K2", "K3", *line])
    else:  # fcc X point in conventional units is (0,1,0) (or an equivalent), never folded onto Γ
        ks = {tuple(sorted(np.abs(ir.k))) for ir in group.irreps}
        assert ks == {(0.0, 0.0, 0.0), (0.0, 0.0, 1.0)}


# --- CDML labels of other parents (Bilbao tables, symcheck.distortion.bcs_irreps) --------------

needs_tables = pytest.mark.skipif(bcs.tables_dir() is None, reason="irreptables (the Bilbao tables) not installed")


@needs_tables
@pytest.mark.parametrize("origin", ["Ti", "Sr"])
def test_bilbao_labels_of_pm3m_are_iso_irs(origin):
    """Pm-3m keeps its ISO-IR path; the Bilbao tables name every one of its 40 irreps the same, with either
    cation at the origin (the labels of the two origins differ: R4+ with Ti at 1a is R5- with Sr there)."""
    parent = cubic()
    if origin == "Sr":
        parent = sc.Structure(parent.positions - gz.A / 2, parent.species, cell=parent.cell, pbc=parent.pbc)
    g = parent_group(parent, TOL)
    assert g.origin == f"{origin} at 1a (the origin)"
    frame = bcs.table_frame(221, g.conv_rotations, g.conv_translations)
    assert np.allclose(frame.shift, 0)
    cache: dict = {}
    assert [bcs.label(frame, ir.k, ir.chars, ir.pair, cache)[0] for ir in g.irreps] == [ir.label for ir in g.irreps]


def _ordered(s: sc.Structure) -> sc.Structure:
    """Rock-salt order of two B cations (Mg at the cube corners' even sites, W at the odd) on a 2×2×2 SrTiO3
    cell: the double perovskite Sr2MgWO6, Fm-3m with Mg at 4a (the origin)."""
    n = np.rint(s.positions / (gz.A / 2)).astype(int)  # Ti at even multiples of a/2 (before the tilts' O moves)
    species = [("Mg" if (n[i] // 2).sum() % 2 == 0 else "W") if e == "Ti" else e for i, e in enumerate(s.species)]
    return sc.Structure(s.positions, species, cell=s.cell, pbc=s.pbc)


@needs_tables
@pytest.mark.parametrize("system, irreps, name, number", [
    ("a0a0c-", ["GM4+"], "I4/m", 87),
    ("a0a0c+", ["X3+"], "P4/mnc", 128),
    ("a-a-a-", ["GM4+"], "R-3", 148),
    ("a+b-b-", ["GM4+", "X3+"], "P2_1/c", 14),  # P2_1/n in the paper: No. 14, another cell choice
])
def test_double_perovskite_tilts_are_gm4_plus_and_x3_plus(system, irreps, name, number):
    """Howard, Kennedy & Woodward (2003), Acta Cryst. B59, 463 (ordered double perovskites, Fm-3m, B' at 4a):
    out-of-phase tilts GM4+, in-phase tilts X3+; a0a0c- I4/m, a0a0c+ P4/mnc, a-a-a- R-3, a+b-b- P2_1/n."""
    parent = _ordered(cubic())
    r = modes(parent, _ordered(glazer(system)), tol=TOL)
    assert (r.parent_space_group, r.parent_number) == ("Fm-3m", 225)
    assert _primaries(r) == irreps
    assert all(m.labelled and m.k_label in ("GM", "X") for m in r.modes)
    assert (r.child_space_group, r.child_number) == (name, number)
    if len(irreps) == 1:
        assert (r.modes[0].isotropy_subgroup, r.modes[0].isotropy_subgroup_number) == (name, number)


def _k2nif4(theta: float = 0.0, upper: int = 1) -> sc.Structure:
    """K2NiF4 (I4/mmm, Ni at 2a) in its 2×2×1 conventional supercell; every NiF6 octahedron turned by theta
    about [110], the sense alternating from octahedron to octahedron within a layer (rows along [110] share
    one sense) and, for upper = 1, the same in the next layer up (the octahedron at (½,½,½) turns as the
    one at the origin), for upper = −1 reversed."""
    a, c, z_k, z_f = 4.006, 13.076, 0.352, 0.152
    axis = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    positions, species = [], []
    for i in range(2):
        for j in range(2):
            for layer, centre in enumerate([np.array([i, j, 0.0]), np.array([i + 0.5, j + 0.5, 0.5])]):
                ni = centre * [a, a, c]
                w = theta * (-1) ** (i + j) * (upper if layer else 1) * axis
                positions.append(ni)
                species.append("Ni")
                for r in ([a / 2, 0, 0], [0, a / 2, 0], [0, 0, z_f * c], [0, 0, -z_f * c]):
                    positions.append(ni + r + np.cross(w, r))
                    species.append("F")
                positions += [ni + [0, 0, z_k * c], ni - [0, 0, z_k * c]]
                species += ["K", "K"]
    return sc.Structure(np.array(positions), species, cell=np.diag([2 * a, 2 * a, c]), pbc=[True] * 3)


@needs_tables
def test_k2nif4_tilts_are_x3_plus_or_x4_plus():
    """IUCrJ (2023) 10, 385, Fig. 3 (K2NiF4, I4/mmm): tilts about [110] with the same sense in all layers are
    X3+, reversed in adjacent layers X4+ (both order parameter (0,a)); X3+ gives Cmce, La2CuO4's LTO phase
    (Bmab; Hatch, Stokes, Axe & Crawford 1989, Phys. Rev. B 39, 9282)."""
    parent = _k2nif4()
    g = parent_group(parent, TOL)
    assert (g.space_group, g.origin) == ("I4/mmm", "Ni at 2a (the origin)")
    same, reversed_ = (modes(parent, _k2nif4(0.05, up), tol=TOL, group=g) for up in (1, -1))
    assert [(m.irrep, m.k_label, m.primary, m.isotropy_subgroup_number) for m in same.modes] == [
        ("X3+", "X", True, 64)]
    assert [(m.irrep, m.k_label, m.primary) for m in reversed_.modes] == [("X4+", "X", True)]
    assert np.allclose(same.modes[0].k, [0.5, 0.5, 0])
    # I4/mmm's (½,0,0) (conventional) lies on a line of the Brillouin zone (ISO-IR's SM): not in the Bilbao
    # tables, so named from ISO-IR's data where installed, else by k and dimension with the reason
    from symcheck.distortion import isoir

    unlabelled = [ir for ir in g.irreps if not ir.labelled]
    if isoir.data_file() is None:
        assert unlabelled and all(ir.label.startswith("k=(1/2,0,0)(4-dim)") and "no CDML label" in ir.note
                                  for ir in unlabelled)
    else:
        assert not unlabelled
        assert sorted(ir.label for ir in g.irreps if ir.k_label == "SM") == ["SM1", "SM2", "SM3", "SM4"]


@needs_tables
def test_label_field_names_double_perovskite_rotations():
    """analyze's labels (label_field) on a non-Pm-3m parent: an axial vector along z on the B cations, of
    opposite sense on Mg and W (one out-of-phase rotation about z), is GM4+ of Fm-3m."""
    parent = _ordered(cubic())
    field = np.zeros((len(parent), 3))
    field[[i for i, e in enumerate(parent.species) if e == "Mg"], 2] = 1.0
    field[[i for i, e in enumerate(parent.species) if e == "W"], 2] = -1.0
    labels = label_field(parent, field, "1e", tol=TOL)
    assert [lbl for lbl, _ in labels] == ["GM4+"]


def _orbits(number: int, reps=(2, 2, 2)) -> sc.Structure:
    """Two general-position orbits (C and N) of space group ``number`` in spglib's standard setting."""
    import spglib

    hall = next(h for h in range(1, 531) if spglib.get_spacegroup_type(h).number == number)
    ops = spglib.get_symmetry_from_database(hall)
    frac, species = [], []
    for x, el in (([0.1234, 0.2718, 0.3821], "C"), ([0.3147, 0.0611, 0.1729], "N")):
        for p in np.mod(np.einsum("fab,b->fa", ops["rotations"], x) + ops["translations"], 1.0):
            if not any(np.allclose((p - q + 0.5) % 1 - 0.5, 0, atol=1e-6) for q in frac):
                frac.append(p)
                species.append(el)
    if number >= 143 and number <= 194:
        L = np.array([[5.0, 0, 0], [-2.5, 2.5 * np.sqrt(3), 0], [0, 0, 6.0]])
    else:
        L = np.diag([5.0, 5.0, 5.0] if number >= 195 else [5.0, 5.5, 6.0] if number < 75 else [5.0, 5.0, 6.0])
    frac = (np.array(frac)[None] + np.array([[i, j, k] for i in range(reps[0]) for j in range(reps[1])
                                             for k in range(reps[2])])[:, None]).reshape(-1, 3) / reps
    cell = np.diag(reps) @ L
    return sc.Structure(frac @ cell, species * int(np.prod(reps)), cell=cell, pbc=[True] * 3)


@needs_tables
@pytest.mark.parametrize("number, reps, expect", [
    # origin choice 2 (the tables') from spglib's choice 1: the shift (−1/4,−1/4,−1/4) of ITA
    (48, (2, 2, 2), {"shift": [-0.25, -0.25, -0.25]}),
    # I-centred, non-symmorphic, P = (½,½,½) not time-reversal invariant: fixes the tables' phase convention
    (230, (2, 2, 2), {"labels": {"P1P2", "P3"}}),
    # hexagonal K = (⅓,⅓,0) and H in a 3×3×2 supercell, non-symmorphic P6_3/mmc
    (194, (3, 3, 2), {"labels": {"K1", "K5", "H3"}}),
])
def test_every_irrep_at_a_tabulated_k_point_is_named(number, reps, expect):
    """For a sample of groups (all 230 were checked the same way on 2×2×2 supercells while writing this):
    every irrep of F whose star holds a tabulated k-point gets exactly one of the table's names, no two the
    same, and the set of irreps is complete."""
    g = parent_group(_orbits(number, reps), 1e-4)
    assert g.number == number
    assert sum(ir.dim**2 / (2 if ir.pair else 1) for ir in g.irreps) == g.order
    frame = bcs.table_frame(number, g.conv_rotations, g.conv_translations)
    tabulated = [ir for ir in g.irreps if bcs.star_kpoint(frame, ir.k) is not None]
    assert tabulated and all(ir.labelled for ir in tabulated)
    labels = [ir.label for ir in g.irreps if ir.labelled]
    assert len(set(labels)) == len(labels)
    if "shift" in expect:
        assert np.allclose(frame.shift, expect["shift"])
    if "labels" in expect:
        assert expect["labels"] <= set(labels)


def test_tables_missing_leave_irreps_unlabelled(monkeypatch):
    """Without irreptables every parent but Pm-3m is named by k-point and dimension, as before."""
    bcs.table.cache_clear()
    monkeypatch.setattr(bcs, "tables_dir", lambda: None)
    try:
        g = parent_group(_rocksalt(), 1e-4)
        assert not any(ir.labelled for ir in g.irreps)
        assert all(ir.label.startswith("k=(") for ir in g.irreps)
    finally:
        bcs.table.cache_clear()
