"""Labels everywhere, one convention (issue 10, item 6).

What is checked, and against what:

* the irrep labels of textbook vibrations and features, in the default setting and the named
  settings ``"atoms"`` / ``"bonds"``: benzene's Kekulé distortion (B1u with C2′ between the atoms,
  ASE's default orientation; B2u with C2′ through them, Herzberg's/Wilson's ν14 b2u), the tutorial
  square's x² − y² (B1g), H2O's bend (A1) and asymmetric stretch (B2 with the molecule in the
  σv′(yz) plane, Mulliken's 1955 convention, which is ASE's orientation), NH3's umbrella (A1) and
  asymmetric modes (E), methane's T2 fields on H;
* linear molecules and a point (Herzberg's term symbols): the CO2 bend Πu, asymmetric stretch
  Σu+, symmetric stretch Σg+; z, Rz, (x, y) of D∞h (Σu+, Σg−, Πu) and C∞v (Σ+, Σ−, Π); Kh's
  S, P, D with g/u parity; the groups that features lower them to (C∞, C∞h, D∞, K);
* one name per element: the operations' kinds (operations table, obstruction list) equal the
  character table's class kinds in every setting, e.g. the square's diagonal mirrors are σd
  (they contain the C2″ axes, the diagonals, when C2′ are the file's x and y axes) everywhere;
* the setting API: ``SETTINGS``, ``setting_description``, ``PointGroup.in_setting``, errors.
"""

from __future__ import annotations

import json
from functools import cache

import ase.build
import numpy as np
import pytest
import shapes  # tests/ is on sys.path (see conftest.py)

import symcheck as sc
from symcheck import SymcheckError
from symcheck.groups.characters import SETTINGS, character_table, setting_description
from symcheck.groups.decomposition import irrep_labels, irrep_weights
from symcheck.groups.lattice import subgroup_lattice
from symcheck.groups.linear import LinearCharacterTable, l_letter, m_letter
from symcheck.groups.naming import operation_name
from symcheck.polynomials import vector_from_polynomial


@cache
def molecule(name: str) -> sc.Structure:
    m = ase.build.molecule(name)
    return sc.Structure(m.positions, m.get_chemical_symbols())


@cache
def group_of(name: str):
    return sc.point_group(molecule(name))


def co2(features=None, irreps=None) -> sc.Structure:
    pos = np.array([[0.0, 0, -1.16], [0, 0, 0], [0, 0, 1.16]])
    return sc.Structure(pos, ["O", "C", "O"], features, irreps)


def kekule_field() -> np.ndarray:
    """Tangential displacements of benzene's carbons, alternating in sign: bonds alternate short/long."""
    pos = molecule("C6H6").positions
    field = np.zeros((12, 3))
    for k in range(6):
        t = np.cross([0.0, 0.0, 1.0], pos[k])
        field[k] = (-1) ** k * 0.05 * t / np.linalg.norm(t)
    return field


# --------------------------------------------------------------------------------------------
# Finite groups: labels in each setting
# --------------------------------------------------------------------------------------------


def test_settings_constant_and_errors():
    assert SETTINGS == ("atoms", "bonds")
    pg = sc.point_group(sc.example("square"))
    with pytest.raises(SymcheckError, match="unknown setting 'through-atoms'; valid settings are 'atoms', 'bonds'"):
        character_table(pg, setting="through-atoms")
    with pytest.raises(SymcheckError, match="valid settings"):
        irrep_labels(pg, np.zeros(5), "2e", setting="x")
    with pytest.raises(SymcheckError, match="valid settings"):
        pg.in_setting("x")
    assert character_table(pg, setting="ATOMS").setting_name == "atoms"  # case-insensitive


def test_benzene_kekule_b1u_by_default_b2u_with_c2prime_through_atoms():
    """ASE's benzene has C2′ (the file's x axis) between the atoms: the Kekulé mode is B1u there."""
    G = group_of("C6H6")
    assert G.name == "D6h"
    field = kekule_field()
    assert irrep_labels(G, field, "1o", per_point=True) == ["B1u"]
    assert irrep_labels(G, field, "1o", per_point=True, setting="bonds") == ["B1u"]
    assert irrep_labels(G, field, "1o", per_point=True, setting="atoms") == ["B2u"]
    text = setting_description(G)
    assert text.startswith("default setting (the file's axes; here \"bonds\": C2' between atoms)")
    assert "C2' along (0.577,-1,0), (0.577,1,0), (1,0,0), between atoms" in text
    assert "C2'' along (0,1,0), (1,-0.577,0), (1,0.577,0), through atoms 0, 1, 2, 3, 4, 5, …" in text
    atoms = setting_description(G, "atoms")
    assert atoms.startswith('setting "atoms"')
    assert "C2' along (0,1,0), (1,-0.577,0), (1,0.577,0), through atoms" in atoms
    # the distorted molecule is D3h: the field's stabilizer keeps the C2 axes through the atoms
    end = sc.Structure(molecule("C6H6").positions + kekule_field(), molecule("C6H6").species)
    assert sc.point_group(end).name == "D3h"


def test_tutorial_square_labels_and_settings():
    pg = sc.point_group(sc.example("square"))
    v = vector_from_polynomial("x**2 - y**2", 2)
    assert irrep_labels(pg, v, "2e") == ["B1g"]
    assert irrep_labels(pg, v, "2e", setting="bonds") == ["B1g"]  # C2′ along x, y: between the corners
    assert irrep_labels(pg, v, "2e", setting="atoms") == ["B2g"]  # C2′ along the diagonals, through them
    assert irrep_labels(pg, vector_from_polynomial("x*y", 2), "2e", setting="atoms") == ["B1g"]


def test_water_and_ammonia():
    h2o = group_of("H2O")
    assert h2o.name == "C2v"
    pos = molecule("H2O").positions
    # bend: the H atoms move toward each other in the molecular plane (yz), symmetric
    bend = np.zeros((3, 3))
    bend[1] = [0, -pos[1, 1], 0]
    bend[2] = [0, -pos[2, 1], 0]
    bend[0] = -(bend[1] + bend[2]) / 16
    assert irrep_labels(h2o, bend, "1o", per_point=True) == ["A1"]
    assert irrep_labels(h2o, bend, "1o", per_point=True, setting="atoms") == ["A1"]
    # asymmetric stretch: one O–H bond longer, the other shorter (in the yz plane)
    stretch = np.zeros((3, 3))
    stretch[1] = pos[1] - pos[0]
    stretch[2] = -(pos[2] - pos[0])
    # molecule in the yz plane, σv(xz) ⟂ it: B2 as in Mulliken's convention
    assert irrep_labels(h2o, stretch, "1o", per_point=True) == ["B2"]
    assert irrep_labels(h2o, stretch, "1o", per_point=True, setting="bonds") == ["B2"]
    assert irrep_labels(h2o, stretch, "1o", per_point=True, setting="atoms") == ["B1"]  # σv(xz) = molecular plane
    assert "σv'(yz) ⟂ (1,0,0), through atoms 1, 2" in setting_description(h2o)

    nh3 = group_of("NH3")
    assert nh3.name == "C3v"
    p = molecule("NH3").positions
    umbrella = np.zeros((4, 3))
    umbrella[1:, 2] = 1.0
    umbrella[0, 2] = -3 * 1.008 / 14.0
    assert irrep_labels(nh3, umbrella, "1o", per_point=True) == ["A1"]
    asym = np.zeros((4, 3))
    asym[1] = p[1] - p[0]
    asym[2] = -(p[2] - p[0])  # two N–H bonds change oppositely
    assert irrep_labels(nh3, asym, "1o", per_point=True) == ["E"]
    # one class of σv: both settings name the same elements
    assert irrep_labels(nh3, asym, "1o", per_point=True, setting="bonds") == ["E"]
    assert "one class of σv planes" in setting_description(nh3, "bonds")


def test_methane_t2_fields_on_hydrogen():
    ch4 = group_of("CH4")
    assert ch4.name == "Td"
    p = molecule("CH4").positions
    radial = np.zeros((5, 3))
    radial[1:] = p[1:] * np.array([1.0, 1.0, -1.0, -1.0])[:, None]  # two C–H longer, two shorter
    assert irrep_labels(ch4, radial, "1o", per_point=True) == ["T2"]
    shift = np.zeros((5, 3))
    shift[1:, 0] = 1.0  # every H moved along x
    assert irrep_labels(ch4, shift, "1o", per_point=True) == ["T2"]  # the H's translated: a vector
    # a 1o field on the H's spans A1 + E + T1 + 2T2: the orbit of one H's radial vector, A1 + T2
    one = np.zeros((5, 3))
    one[1] = p[1]
    assert irrep_labels(ch4, one, "1o", per_point=True) == ["A1", "T2"]
    assert "no choice of setting" in setting_description(ch4, "atoms")


# --------------------------------------------------------------------------------------------
# Infinite groups
# --------------------------------------------------------------------------------------------


def test_co2_vibrations():
    G = sc.point_group(co2())
    assert G.name == "Dinfh"
    bend = np.array([[1.0, 0, 0], [-2, 0, 0], [1, 0, 0]])
    asym = np.array([[0.0, 0, 1], [0, 0, -2], [0, 0, 1]])
    sym = np.array([[0.0, 0, -1], [0, 0, 0], [0, 0, 1]])
    assert irrep_labels(G, bend, "1o", per_point=True) == ["Πu"]
    assert irrep_labels(G, asym, "1o", per_point=True) == ["Σu+"]
    assert irrep_labels(G, sym, "1o", per_point=True) == ["Σg+"]
    assert irrep_labels(G, sym, "1o", per_point=True, setting="atoms") == ["Σg+"]
    w = irrep_weights(G, bend + asym, "1o", per_point=True)
    assert sum(w.values()) == pytest.approx(1.0)
    assert {k for k, x in w.items() if x > 1e-9} == {"Πu", "Σu+"}


@pytest.mark.parametrize(
    "poly, l, irreps, dinfh, cinfv",
    [
        ("z", 1, "1o", "Σu+", "Σ+"),
        ("z", 1, "1e", "Σg-", "Σ-"),  # Rz
        ("x", 1, "1o", "Πu", "Π"),
        ("x", 1, "1e", "Πg", "Π"),  # Rx
        ("x*z", 2, "2e", "Πg", "Π"),
        ("x**2 - y**2", 2, "2e", "Δg", "Δ"),
        ("2*z**2 - x**2 - y**2", 2, "2e", "Σg+", "Σ+"),
        ("x*y*z", 3, "3o", "Δu", "Δ"),
        ("x**3 - 3*x*y**2", 3, "3o", "Φu", "Φ"),
    ],
)
def test_linear_global_features(poly, l, irreps, dinfh, cinfv):
    v = vector_from_polynomial(poly, l)
    assert irrep_labels(sc.point_group(co2()), v, irreps) == [dinfh]
    co = sc.Structure(np.array([[0.0, 0, 0], [0, 0, 1.13]]), ["C", "O"])
    assert irrep_labels(sc.point_group(co), v, irreps) == [cinfv]


def test_groups_lowered_by_features():
    z = np.tile([0.0, 0, 1], (3, 1))
    cinfh = sc.point_group(co2(z, "1e"))  # axial vectors along the axis: σh and i stay, σv goes
    assert cinfh.name == "Cinfh"
    assert irrep_labels(cinfh, vector_from_polynomial("z", 1), "1o") == ["Σu"]
    assert irrep_labels(cinfh, vector_from_polynomial("x", 1), "1o") == ["Πu"]
    dinf = sc.point_group(co2(np.ones((3, 1)), "0o"))  # a pseudoscalar: no improper element
    assert dinf.name == "Dinf"
    assert irrep_labels(dinf, vector_from_polynomial("z", 1), "1o") == ["Σ-"]  # C2′ flips z
    assert irrep_labels(dinf, vector_from_polynomial("2*z**2 - x**2 - y**2", 2), "2e") == ["Σ+"]
    co = sc.Structure(np.array([[0.0, 0, 0], [0, 0, 1.13]]), ["C", "O"], np.tile([0.0, 0, 1], (2, 1)), "1e")
    cinf = sc.point_group(co)
    assert cinf.name == "Cinf"
    assert irrep_labels(cinf, vector_from_polynomial("z", 1), "1o") == ["Σ"]
    assert irrep_labels(cinf, vector_from_polynomial("x*y", 2), "2e") == ["Δ"]


def test_point_groups_of_a_point():
    kh = sc.point_group(sc.Structure(np.zeros((1, 3)), ["Ne"]))
    assert kh.name == "Kh"
    assert irrep_labels(kh, np.ones(1), "0e") == ["Sg"]
    assert irrep_labels(kh, np.array([1.0, 0, 0]), "1o") == ["Pu"]
    assert irrep_labels(kh, np.array([1.0, 0, 0]), "1e") == ["Pg"]
    assert irrep_labels(kh, np.arange(5.0), "2e") == ["Dg"]
    assert irrep_labels(kh, np.arange(7.0), "3o") == ["Fu"]
    assert irrep_labels(kh, np.arange(1.0, 9.0), "1o+2e") == ["Dg", "Pu"]
    assert irrep_labels(kh, np.ones((1, 3)), "1o", per_point=True) == ["Pu"]
    k = sc.point_group(sc.Structure(np.zeros((1, 3)), ["X"], np.ones((1, 1)), "0o"))
    assert k.name == "K"
    assert irrep_labels(k, np.arange(5.0), "2o") == ["D"]
    assert [l_letter(l) for l in range(8)] == list("SPDFGHIK")
    assert [m_letter(m) for m in range(5)] == list("ΣΠΔΦΓ")


def test_infinite_tables():
    G = sc.point_group(co2())
    ct = character_table(G)
    assert isinstance(ct, LinearCharacterTable) and ct.order is None
    assert ct.classes == ("E", "2C∞^φ", "∞σv", "i", "2S∞^φ", "∞C2'")
    assert ct.labels[:4] == ("Σg+", "Σg-", "Πg", "Δg")
    rows = {r.label: r.characters for r in ct.irreps}
    assert rows["Πu"] == ("2", "2cos(φ)", "0", "-2", "2cos(φ)", "0")  # Cotton's D∞h table
    assert rows["Σu-"] == ("1", "1", "-1", "-1", "-1", "1")
    assert rows["Δg"] == ("2", "2cos(2φ)", "0", "2", "2cos(2φ)", "0")
    assert "Σ+/Σ- symmetric/antisymmetric under σv" in ct.setting and "g/u under inversion" in ct.setting
    assert ct.text().splitlines()[0].split() == ["D∞h", "E", "2C∞^φ", "∞σv", "i", "2S∞^φ", "∞C2'"]
    assert "setting 'atoms' changes nothing" in character_table(G, "atoms").setting
    d = json.loads(json.dumps(ct.as_dict()))
    assert d["point_group"] == "Dinfh" and d["order"] is None and d["irreps"][0]["label"] == "Σg+"
    kh = character_table(sc.point_group(sc.Structure(np.zeros((1, 3)), ["Ne"])))
    assert kh.labels[:3] == ("Sg", "Pg", "Dg") and "1o is Pu" in kh.setting
    assert setting_description(G) == ct.setting


# --------------------------------------------------------------------------------------------
# One name per element
# --------------------------------------------------------------------------------------------


def _names_agree(G, ct) -> None:
    """Every C2 and mirror carries its table class's name (the form stored on operations)."""
    for k, op in enumerate(G.operations):
        if op.kind.startswith("σ") or op.kind.startswith("C2") and "^" not in op.kind:
            assert op.kind == operation_name(ct.classes[ct.element_class[k]].kind), (G.name, op.label())


@pytest.mark.parametrize("name", ["D4h", "D6h", "D4", "C4v", "C6v", "C2v", "D2h", "D2d", "D3d", "D4d", "D3h",
                                  "C2h", "Cs", "Oh", "Td", "Th", "Ih", "O"])
def test_operations_and_table_use_the_same_names(name):
    pos, species = shapes.decorated_orbit(name, seed=2)
    G = sc.point_group(sc.Structure(pos, species))
    assert G.name == name
    _names_agree(G, character_table(G))
    for setting in SETTINGS:
        _names_agree(G.in_setting(setting), character_table(G, setting))
        np.testing.assert_allclose(G.in_setting(setting).frame, character_table(G, setting).frame, atol=1e-12)


def test_square_diagonal_mirrors_are_sigma_d_everywhere():
    """D4h: σv contain the C2′ axes, σd the C2″ (Cotton). With C2′ the file's x and y (default), the
    square's diagonal mirrors are σd in the operations, the character table, the obstructions and
    the subgroup lattice; in the setting "atoms" (C2′ along the diagonals, through the corners) they are σv."""
    G = sc.point_group(sc.example("square"))
    diag = {op.kind for op in G.operations if op.axis is not None and abs(abs(op.axis[0]) - abs(op.axis[1])) < 1e-9
            and abs(op.axis[2]) < 1e-9}
    assert diag == {"C2''", "σd"}
    assert [c.label for c in character_table(G).classes] == ["E", "2C4", "C2", "2C2'", "2C2''", "i", "2S4", "σh",
                                                              "2σv", "2σd"]
    report = sc.analyze(sc.Task.displacement(sc.example("square"), sc.example("rectangle")))
    kinds = sorted({o.operation.split(" ")[0] for o in report.obstructions})
    assert kinds == ["C2''", "C4", "C4^3", "S4", "S4^3", "σd"]
    atoms = G.in_setting("atoms")
    diag = {op.kind for op in atoms.operations if op.axis is not None
            and abs(abs(op.axis[0]) - abs(op.axis[1])) < 1e-9 and abs(op.axis[2]) < 1e-9}
    assert diag == {"C2'", "σv"}
    assert G.in_setting(None) is G
    # the group's own description follows its setting, and JSON carries it with the operations
    assert G.as_dict()["setting"] == setting_description(G) == character_table(G).setting
    assert G.in_setting("atoms").setting_description() == setting_description(G, "atoms")
    assert setting_description(G.in_setting("atoms")).startswith('setting "atoms"')
    assert character_table(G.in_setting("atoms")).labels == character_table(G, "atoms").labels
    np.testing.assert_allclose(G.in_setting("bonds").frame, G.frame, atol=1e-12)


def test_lattice_tags_follow_the_setting():
    G = sc.point_group(sc.example("square"))
    L = subgroup_lattice(G)
    rect = L.class_of([op for op in G.operations if op.kind in ("C2'", "σv", "σh", "i", "C2")])
    assert L.classes[rect].label == "D2h(C2',σv)"  # the rectangle's group: C2 along the file's x, y
    La = subgroup_lattice(G.in_setting("atoms"))
    assert {c.label for c in La.classes if c.name == "D2h"} == {"D2h(C2',σv)", "D2h(C2'',σd)"}
    diag = La.class_of([op for op in G.operations if op.kind in ("C2''", "σd", "σh", "i", "C2")])
    assert La.classes[diag].label == "D2h(C2',σv)"  # in "atoms", the diagonals are the C2′


def test_settings_when_atoms_lie_on_both_classes_or_on_none():
    """Atoms on both classes of C2 axes: "atoms" is the class through the lowest-numbered such atom.
    No atom on any vertical mirror: a named setting keeps the default and says so."""
    corners = np.array([[1.0, 1, 0], [-1, 1, 0], [-1, -1, 0], [1, -1, 0]]) * 0.9  # on the diagonals
    axes = np.array([[1.0, 0, 0], [0, 1, 0], [-1, 0, 0], [0, -1, 0]])  # on the file's axes
    G = sc.point_group(sc.Structure(np.vstack([corners, axes]), ["C"] * 4 + ["N"] * 4))
    assert G.name == "D4h"
    v = vector_from_polynomial("x**2 - y**2", 2)
    assert irrep_labels(G, v, "2e") == irrep_labels(G, v, "2e", setting="bonds") == ["B1g"]
    assert irrep_labels(G, v, "2e", setting="atoms") == ["B2g"]  # C2′ through atom 0, on a diagonal
    head = "default setting (the file's axes; here \"bonds\": C2' not through atom 0)"
    assert setting_description(G).startswith(head)
    assert setting_description(G, "bonds").startswith("setting \"bonds\" (C2' not through atom 0)")

    turned = np.deg2rad(20 + 90 * np.arange(4)), np.deg2rad(-20 + 90 * np.arange(4))
    ring = np.vstack([np.c_[np.cos(a), np.sin(a), np.zeros(4)] for a in turned] + [[[0.0, 0, 1]]])
    c4v = sc.point_group(sc.Structure(ring, ["C"] * 8 + ["N"]))
    assert c4v.name == "C4v"
    text = setting_description(c4v, "atoms")
    assert "no atom off the principal axis lies on a mirror through the principal axis" in text
    np.testing.assert_allclose(character_table(c4v, "atoms").frame, character_table(c4v).frame, atol=1e-12)
