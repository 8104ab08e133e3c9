"""Tests of the character tables ``symcheck.groups.characters``.

What is checked, and against what:

* for every point group with axes up to 8-fold and the seven polyhedral ones: row orthogonality
  ⟨χ_a, χ_b⟩ = δ_ab · (1 real, 2 for a combined complex pair), column orthogonality, the number of
  complex irreps equal to the number of classes, Σ d² = |G|, distinct labels;
* whole tables against the standard ones (Cotton, *Chemical Applications of Group Theory*,
  appendix; Atkins' tables), typed in here as test data: C2v, C3v, D4h, Td, Oh, and the
  characters of Ih that involve the golden ratio;
* the labels of the Cartesian functions in the standard settings (z, (x, y), x² − y², xy, Rz …)
  for C2v, C3h, D2d, D2h, D3h, D4h, D6h, Td, Oh, Ih, and the tutorial square, whose C2 axes are
  the file's x and y: x² − y² is B1g, xy is B2g, z is A2u, (x, y) is Eu;
* the Neumann table against the dimension of the fixed space from e3nn's Wigner matrices, and the
  O(3) characters against traces of those matrices.
"""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest
import shapes  # tests/ is on sys.path (see conftest.py)

import symcheck as sc
from symcheck import SymcheckError
from symcheck.fixed import fixed_space, wigner_D
from symcheck.groups.characters import character_table, default_frame
from symcheck.groups.decomposition import irrep_labels, irrep_weights, neumann_by_irrep
from symcheck.polynomials import vector_from_polynomial

PHI = (1 + 5**0.5) / 2


@cache
def group(name: str):
    """The detected PointGroup of a decorated orbit with exactly that group (standard frame)."""
    pos, species = shapes.decorated_orbit(name, seed=2)
    return sc.point_group(sc.Structure(pos, species))


@cache
def table(name: str):
    return character_table(group(name))


def labels_of(name: str, poly: str, l: int, irreps: str) -> list[str]:
    return irrep_labels(group(name), vector_from_polynomial(poly, l), irreps, table=table(name))


NAMES = [n for n in shapes.all_group_names(8)] + ["D10h", "D12d", "S12"]


@pytest.mark.parametrize("name", NAMES)
def test_orthogonality_and_dimensions(name):
    ct = table(name)
    X = ct.table
    sizes = np.array([c.size for c in ct.classes])
    norms = np.array([r.norm for r in ct.irreps])
    assert ct.order == shapes.group_order(name) == sizes.sum()
    np.testing.assert_allclose((X * sizes) @ X.T / ct.order, np.diag(norms), atol=1e-10)  # rows
    # columns: Σ_rows χ(g) χ(h) / norm = |G|/|C| (δ[h ~ g] + δ[h ~ g⁻¹]) / 2 over the real rows
    mats = np.stack([op.matrix for op in group(name).operations])
    keys = {tuple(np.round(m, 6).ravel() + 0.0): k for k, m in enumerate(mats)}
    inverse = [ct.element_class[keys[tuple(np.round(mats[c.members[0]].T, 6).ravel() + 0.0)]] for c in ct.classes]
    expected = (np.eye(len(sizes)) + np.eye(len(sizes))[inverse]) / 2 * (ct.order / sizes)[:, None]
    np.testing.assert_allclose((X.T / norms) @ X, expected, atol=1e-9)
    n_complex = sum(2 if r.reality == "complex" else 1 for r in ct.irreps)
    assert n_complex == len(ct.classes)
    assert sum(r.dim**2 / r.norm for r in ct.irreps) == pytest.approx(ct.order)
    assert len(set(ct.labels)) == len(ct.labels) and not any("[" in lab for lab in ct.labels)
    assert ct.classes[0].label == "E" and ct.labels[0][0] == "A"
    assert all(r.characters[0] == r.dim for r in ct.irreps)
    assert all(c.label.startswith(str(c.size)) or c.size == 1 for c in ct.classes)
    # the element → class map agrees with the members
    for k, c in enumerate(ct.classes):
        assert all(ct.element_class[m] == k for m in c.members)


LABELS = {
    "C1": "A", "Ci": "Ag Au", "Cs": "A' A''", "C2": "A B", "C3": "A E", "C4": "A B E", "C6": "A B E1 E2",
    "C2v": "A1 A2 B1 B2", "C3v": "A1 A2 E", "C2h": "Ag Bg Au Bu", "C3h": "A' E' A'' E''",
    "C4h": "Ag Bg Eg Au Bu Eu", "S4": "A B E", "S6": "Ag Eg Au Eu", "S8": "A B E1 E2 E3",
    "D2": "A B1 B2 B3", "D2h": "Ag B1g B2g B3g Au B1u B2u B3u", "D2d": "A1 A2 B1 B2 E",
    "D3d": "A1g A2g Eg A1u A2u Eu", "D3h": "A1' A2' E' A1'' A2'' E''", "D4d": "A1 A2 B1 B2 E1 E2 E3",
    "D4h": "A1g A2g B1g B2g Eg A1u A2u B1u B2u Eu", "D5h": "A1' A2' E1' E2' A1'' A2'' E1'' E2''",
    "D6h": "A1g A2g B1g B2g E1g E2g A1u A2u B1u B2u E1u E2u", "T": "A E T", "Th": "Ag Eg Tg Au Eu Tu",
    "Td": "A1 A2 E T1 T2", "O": "A1 A2 E T1 T2", "Oh": "A1g A2g Eg T1g T2g A1u A2u Eu T1u T2u",
    "I": "A T1 T2 G H", "Ih": "Ag T1g T2g Gg Hg Au T1u T2u Gu Hu",
}  # fmt: skip


@pytest.mark.parametrize("name", list(LABELS))
def test_labels(name):
    assert " ".join(table(name).labels) == LABELS[name]


def test_complex_pairs_are_combined():
    """Cn, Cnh, S2n, T: complex-conjugate pairs become one real two-dimensional E row."""
    ct = table("C3")
    assert [r.reality for r in ct.irreps] == ["real", "complex"]
    np.testing.assert_allclose(ct.irrep("E").characters, [2, -1, -1])
    ct = table("C4h")
    assert {r.label for r in ct.irreps if r.reality == "complex"} == {"Eg", "Eu"}
    assert ct.irrep("Eg").dim == 2
    assert {r.label for r in table("S6").irreps if r.reality == "complex"} == {"Eg", "Eu"}
    assert [r.reality for r in table("T").irreps] == ["real", "complex", "real"]
    assert all(r.reality == "real" for r in table("D6h").irreps)


def _rows(ct):
    return {r.label: list(r.characters) for r in ct.irreps}


def test_c2v_table():
    ct = table("C2v")
    assert [c.label for c in ct.classes] == ["E", "C2", "σv(xz)", "σv'(yz)"]
    assert _rows(ct) == {"A1": [1, 1, 1, 1], "A2": [1, 1, -1, -1], "B1": [1, -1, 1, -1], "B2": [1, -1, -1, 1]}
    # setting: z the C2 axis, σv(xz) the mirror through the file's x axis; x is B1, y is B2
    np.testing.assert_allclose(ct.frame, np.eye(3), atol=1e-9)
    assert labels_of("C2v", "z", 1, "1o") == ["A1"]
    assert labels_of("C2v", "x", 1, "1o") == ["B1"]
    assert labels_of("C2v", "y", 1, "1o") == ["B2"]
    assert labels_of("C2v", "x*y", 2, "2e") == ["A2"]
    assert "σv(xz)" in ct.setting


def test_c3v_table():
    ct = table("C3v")
    assert [c.label for c in ct.classes] == ["E", "2C3", "3σv"]
    assert _rows(ct) == {"A1": [1, 1, 1], "A2": [1, 1, -1], "E": [2, -1, 0]}


def test_d4h_table():
    ct = table("D4h")
    assert [c.label for c in ct.classes] == ["E", "2C4", "C2", "2C2'", "2C2''", "i", "2S4", "σh", "2σv", "2σd"]
    assert _rows(ct) == {
        "A1g": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        "A2g": [1, 1, 1, -1, -1, 1, 1, 1, -1, -1],
        "B1g": [1, -1, 1, 1, -1, 1, -1, 1, 1, -1],
        "B2g": [1, -1, 1, -1, 1, 1, -1, 1, -1, 1],
        "Eg": [2, 0, -2, 0, 0, 2, 0, -2, 0, 0],
        "A1u": [1, 1, 1, 1, 1, -1, -1, -1, -1, -1],
        "A2u": [1, 1, 1, -1, -1, -1, -1, -1, 1, 1],
        "B1u": [1, -1, 1, 1, -1, -1, 1, -1, -1, 1],
        "B2u": [1, -1, 1, -1, 1, -1, 1, -1, 1, -1],
        "Eu": [2, 0, -2, 0, 0, -2, 0, 2, 0, 0],
    }


def test_td_and_oh_tables():
    ct = table("Td")
    assert [c.label for c in ct.classes] == ["E", "8C3", "3C2", "6S4", "6σd"]
    assert _rows(ct) == {"A1": [1, 1, 1, 1, 1], "A2": [1, 1, 1, -1, -1], "E": [2, -1, 2, 0, 0],
                         "T1": [3, 0, -1, 1, -1], "T2": [3, 0, -1, -1, 1]}
    ct = table("Oh")
    # columns: E 6C4 8C3 3C2(=C4²) 6C2' i 8S6 6S4 3σh 6σd
    assert [c.label for c in ct.classes] == ["E", "6C4", "8C3", "3C2", "6C2'", "i", "8S6", "6S4", "3σh", "6σd"]
    rows = _rows(ct)
    assert rows["T1u"] == [3, 1, 0, -1, -1, -3, 0, -1, 1, 1]
    assert rows["T2g"] == [3, -1, 0, -1, 1, 3, 0, -1, -1, 1]
    assert rows["Eg"] == [2, 0, -1, 2, 0, 2, -1, 0, 2, 0]
    assert rows["A2u"] == [1, -1, 1, 1, -1, -1, -1, 1, -1, 1]


def test_ih_golden_ratio():
    ct = table("Ih")
    assert [c.label for c in ct.classes] == ["E", "12C5", "12C5^2", "20C3", "15C2", "i", "12S10", "12S10^3",
                                             "20S6", "15σ"]
    rows = _rows(ct)
    np.testing.assert_allclose(rows["T1g"][:5], [3, PHI, 1 - PHI, 0, -1], atol=1e-12)
    np.testing.assert_allclose(rows["T2u"][:5], [3, 1 - PHI, PHI, 0, -1], atol=1e-12)
    np.testing.assert_allclose(rows["Gg"][:5], [4, -1, -1, 1, 0], atol=1e-12)
    np.testing.assert_allclose(rows["Hu"][:5], [5, 0, 0, -1, 1], atol=1e-12)
    np.testing.assert_allclose(rows["Hu"][5], -5, atol=1e-12)


@pytest.mark.parametrize(
    "name, poly, l, irreps, expected",
    [
        ("C3h", "z", 1, "1o", ["A''"]),
        ("C3h", "x", 1, "1o", ["E'"]),
        ("D2d", "z", 1, "1o", ["B2"]),
        ("D2d", "x**2 - y**2", 2, "2e", ["B1"]),
        ("D2d", "x*y", 2, "2e", ["B2"]),
        ("D2h", "z", 1, "1o", ["B1u"]),
        ("D2h", "y", 1, "1o", ["B2u"]),
        ("D2h", "x", 1, "1o", ["B3u"]),
        ("D2h", "x*z", 2, "2e", ["B2g"]),
        ("D3h", "z", 1, "1o", ["A2''"]),
        ("D3h", "x", 1, "1o", ["E'"]),
        ("D3h", "x*z", 2, "2e", ["E''"]),
        ("D6h", "x**2 - y**2", 2, "2e", ["E2g"]),
        ("D6h", "y*z", 2, "2e", ["E1g"]),
        ("D6h", "x", 1, "1o", ["E1u"]),
        ("C4v", "x**2 - y**2", 2, "2e", ["B1"]),
        ("C4v", "x*y", 2, "2e", ["B2"]),
        ("D4d", "z", 1, "1o", ["B2"]),
        ("D4d", "x", 1, "1o", ["E1"]),
        ("S4", "z", 1, "1o", ["B"]),
        ("C2h", "z", 1, "1o", ["Au"]),
        ("Td", "x", 1, "1o", ["T2"]),
        ("Td", "x*y*z", 3, "3o", ["A1"]),
        ("Oh", "x", 1, "1o", ["T1u"]),
        ("Oh", "x*y", 2, "2e", ["T2g"]),
        ("Oh", "x**2 - y**2", 2, "2e", ["Eg"]),
        ("Ih", "z", 1, "1o", ["T1u"]),
        ("Ih", "x*y", 2, "2e", ["Hg"]),
    ],
)
def test_cartesian_functions(name, poly, l, irreps, expected):
    assert labels_of(name, poly, l, irreps) == expected


def test_axial_vector_labels():
    """Rotations: Rz is A2g of D4h, (Rx, Ry) Eg; an axial vector is 1e."""
    assert labels_of("D4h", "z", 1, "1e") == ["A2g"]
    assert labels_of("D4h", "x", 1, "1e") == ["Eg"]
    assert labels_of("C2v", "z", 1, "1e") == ["A2"]


def test_tutorial_square():
    """The square's corners lie on the diagonals; its C2 axes along the file's x and y are the C2′."""
    pg = sc.point_group(sc.example("square"))
    ct = character_table(pg)
    np.testing.assert_allclose(ct.frame, np.eye(3), atol=1e-9)
    assert "C2' along (0,1,0), (1,0,0), between atoms" in ct.setting
    assert 'here "bonds"' in ct.setting and "C2'' along (1,-1,0), (1,1,0), through atoms 0, 1, 2, 3" in ct.setting
    v = vector_from_polynomial("x**2 - y**2", 2)
    assert irrep_labels(pg, v, "2e") == ["B1g"]
    assert irrep_labels(pg, vector_from_polynomial("x*y", 2), "2e") == ["B2g"]
    assert irrep_labels(pg, np.array([0.0, 0.0, 1.0]), "1o") == ["A2u"]
    assert irrep_labels(pg, np.array([1.0, 0.0, 0.0]), "1o") == ["Eu"]
    assert irrep_labels(pg, np.array([0.3, -0.8, 0.0]), "1o") == ["Eu"]
    # the detector returns the group in this default setting: the operations carry the same names
    np.testing.assert_allclose(pg.frame, np.eye(3), atol=1e-9)
    # C2' through the corners (the diagonals, setting "atoms"): there the roles swap
    other = character_table(pg, setting="atoms")
    np.testing.assert_allclose(np.abs(other.frame[0]), [2**-0.5, 2**-0.5, 0], atol=1e-9)
    assert irrep_labels(pg, v, "2e", table=other) == ["B2g"]
    assert irrep_labels(pg, v, "2e", setting="atoms") == ["B2g"]
    assert irrep_labels(pg, v, "2e", setting="bonds") == ["B1g"]
    assert irrep_labels(pg, vector_from_polynomial("x*y", 2), "2e", table=other) == ["B1g"]
    # an explicit frame along a diagonal gives the same table as "atoms"
    diagonal = character_table(pg, frame=other.frame)
    assert irrep_labels(pg, v, "2e", table=diagonal) == ["B2g"]
    # a mixture: weights sum to 1
    w = irrep_weights(pg, v + vector_from_polynomial("x*y", 2) + vector_from_polynomial("x*z", 2), "2e")
    assert sum(w.values()) == pytest.approx(1.0)
    assert {k for k, x in w.items() if x > 1e-9} == {"B1g", "B2g", "Eg"}


def test_per_point_fields():
    """Out-of-plane displacements of the square's corners: A2u + B1u + Eg (corners on the C2″ axes)."""
    pg = sc.point_group(sc.example("square"))
    rng = np.random.default_rng(0)
    field = np.zeros((4, 3))
    field[:, 2] = rng.normal(size=4)
    assert irrep_labels(pg, field, "1o", per_point=True) == ["Eg", "A2u", "B1u"]
    other = character_table(pg, setting="atoms")  # corners on the C2′ axes: B2u instead
    assert irrep_labels(pg, field, "1o", per_point=True, table=other) == ["Eg", "A2u", "B2u"]
    # the same displacement z on every corner: the whole square moves along z, A2u
    assert irrep_labels(pg, np.tile([0.0, 0.0, 1.0], (4, 1)), "1o", per_point=True) == ["A2u"]
    with pytest.raises(SymcheckError, match="shape"):
        irrep_weights(pg, np.zeros((3, 3)), "1o", per_point=True)
    with pytest.raises(SymcheckError, match="shape"):
        irrep_weights(pg, np.zeros(5), "1o")


def test_default_frame_follows_the_file_axes():
    """A D4h square whose C2 axes are the file's x, y, and the same square turned by 45°."""
    assert np.allclose(default_frame(group("D4h")), np.eye(3), atol=1e-9)
    corners = np.array([[1.0, 0, 0], [0, 1, 0], [-1, 0, 0], [0, -1, 0]])  # atoms on the file's axes
    pg = sc.point_group(sc.Structure(corners, ["X"] * 4))
    ct = character_table(pg)
    np.testing.assert_allclose(ct.frame, np.eye(3), atol=1e-9)
    # now the corners are on the C2′ axes, so the out-of-plane field is A2u + B2u + Eg
    field = np.zeros((4, 3))
    field[:, 2] = [1.0, 0.3, -0.2, 0.7]
    assert irrep_labels(pg, field, "1o", per_point=True) == ["Eg", "A2u", "B2u"]
    # a rotated molecule whose axes are not the file's: the detector's frame is used
    R = shapes.rot((1, 2, 3), 0.7)
    pgr = sc.point_group(sc.Structure(corners @ R.T, ["X"] * 4))
    np.testing.assert_allclose(character_table(pgr).frame, pgr.frame, atol=1e-9)


def test_bad_frames_and_infinite_groups():
    pg = group("D4h")
    with pytest.raises(SymcheckError, match="principal"):
        character_table(pg, frame=np.eye(3)[[1, 2, 0]])  # z along a 2-fold axis
    with pytest.raises(SymcheckError, match="orthonormal"):
        character_table(pg, frame=np.ones((3, 3)))
    # infinite groups have tables too now (tests/test_labels.py): Σ+, Σ-, Π, … for C∞v
    linear = sc.Structure(np.array([[0.0, 0, 0], [0, 0, 1.2]]), ["O", "C"])
    assert character_table(sc.point_group(linear)).labels[:3] == ("Σ+", "Σ-", "Π")
    with pytest.raises(SymcheckError, match="valid settings are 'atoms', 'bonds'"):
        character_table(pg, setting="diagonal")
    with pytest.raises(SymcheckError, match="no irrep"):
        table("D4h").index("T1g")


@pytest.mark.parametrize("name", ["D4h", "C3v", "Oh", "Ih", "D3d", "S6", "C5h"])
def test_neumann_table_against_fixed_spaces(name):
    """The copies of the identity irrep in each Lp are dim Fix_G(V_Lp), from e3nn's Wigner matrices."""
    pg = group(name)
    ct = table(name)
    nt = neumann_by_irrep(pg, 4, table=ct)
    trivial = ct.labels[0]
    assert list(nt) == [f"{l}{p}" for l in range(5) for p in "eo"]
    for key, counts in nt.items():
        l = int(key[:-1])
        assert sum(counts[r.label] * r.dim for r in ct.irreps) == 2 * l + 1
        assert counts[trivial] == fixed_space(pg.generators, key, per_point=False).shape[1]


def test_neumann_ih():
    nt = neumann_by_irrep(group("Ih"), 6, table=table("Ih"))

    def nonzero(key):
        return {k for k, v in nt[key].items() if v}

    assert nonzero("2e") == {"Hg"}
    assert nonzero("3o") == {"T2u", "Gu"}
    assert nonzero("4e") == {"Gg", "Hg"}
    assert nonzero("5o") == {"T1u", "T2u", "Hu"}
    assert nonzero("6e") == {"Ag", "T1g", "Gg", "Hg"}  # the first invariant of Ih after L = 0


def test_o3_characters_are_traces_of_e3nn_matrices():
    from symcheck.groups.decomposition import _o3_character

    mats = np.stack([op.matrix for op in group("Oh").operations])
    for key in ("0o", "1e", "2o", "3e", "4o"):
        D = wigner_D(key, mats)
        l, p = int(key[0]), 1 if key[1] == "e" else -1
        np.testing.assert_allclose(np.trace(D, axis1=1, axis2=2), [_o3_character(l, p, R) for R in mats],
                                   atol=1e-9)


def test_decompose_and_text():
    ct = table("D4h")
    vector = [3, 1, -1, -1, -1, -3, -1, 1, 1, 1]  # (x, y, z) per class: A2u + Eu
    assert ct.decompose(vector, per_class=True) == {**{k: 0 for k in ct.labels}, "A2u": 1, "Eu": 1}
    mats = np.stack([op.matrix for op in group("D4h").operations])
    assert ct.decompose(np.trace(mats, axis1=1, axis2=2)) == ct.decompose(vector, per_class=True)
    with pytest.raises(SymcheckError, match="not a representation"):
        ct.decompose([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], per_class=True)
    with pytest.raises(SymcheckError, match="one per element"):
        ct.decompose(vector)
    text = ct.text()
    assert text.splitlines()[0].split() == ["D4h", "E", "2C4", "C2", "2C2'", "2C2''", "i", "2S4", "σh", "2σv", "2σd"]
    assert "setting:" in text and str(ct) == text
    d = json.loads(json.dumps(ct.as_dict()))
    assert d["point_group"] == "D4h" and [r["label"] for r in d["irreps"]] == list(ct.labels)
