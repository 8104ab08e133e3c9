"""Tests of the subgroup lattice ``symcheck.groups.lattice``.

What is checked, and against what:

* the number of subgroups and of conjugacy classes of subgroups, for groups up to order 16 against
  an independent brute force over *every subset* of the group that contains E (closed under
  products ⟺ subgroup), with conjugacy classes found by conjugating those subsets;
* for the larger groups against numbers from the literature and from counting by hand:
  Td ≅ O ≅ S4 has 30 subgroups in 11 classes and I ≅ A5 has 59 in 9 (groupprops, "Subgroup
  structure of symmetric group:S4", "Alternating group:A5"); for a direct product K × C2 (Oh = O × Ci,
  Ih = I × Ci, Th = T × Ci) Goursat's lemma gives the subgroups as H, H × C2 and one "twisted"
  subgroup per index-2 subgroup of each H, whence Oh: 30 + 30 + 38 = 98 in 11 + 11 + 11 = 33
  classes, Ih: 59 + 59 + 46 = 164 in 9 + 9 + 4 = 22, Th: 10 + 10 + 6 = 26 in 5 + 5 + 2 = 12;
  Cnv ≅ Dn has τ(n) + σ(n) subgroups (so C6v and D3h ≅ D6: 16) in τ(n) + Σ_{d|n} (1 or 2) classes
  (C6v: 10, C3v: 4, C4v: 8); the brief's "Ih: 59 subgroups" is the count of I, not of Ih;
* the names of the classes (Oh's 33 and Ih's 22 as listed in the literature), the size of each
  class against |G| / |N_G(H)| by brute force, the Hasse edges (maximal subgroups), the path
  G → H of a symmetry breaking, and the drawing.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache

import numpy as np
import pytest
import shapes  # tests/ is on sys.path (see conftest.py)

import symcheck as sc
from symcheck import SymcheckError
from symcheck.groups.elements import multiplication_table
from symcheck.groups.lattice import subgroup_lattice
from symcheck.groups.stabilizer import stabilizer, subgroup
from symcheck.plots import draw_lattice
from symcheck.polynomials import vector_from_polynomial


@cache
def group(name: str):
    """The detected PointGroup of a decorated orbit with exactly that group (standard frame)."""
    pos, species = shapes.decorated_orbit(name, seed=1)
    return sc.point_group(sc.Structure(pos, species))


@cache
def lattice(name: str):
    return subgroup_lattice(group(name))


# --------------------------------------------------------------------------------------------
# An independent brute force: every subset containing E, closed under products
# --------------------------------------------------------------------------------------------


def _key(m: np.ndarray) -> tuple:
    return tuple(np.round(m, 6).ravel() + 0.0)


def brute_force_subgroups(mats: np.ndarray) -> tuple[set[frozenset], int]:
    """All subgroups (as frozensets of matrix keys) and the number of their conjugacy classes.

    Uses its own multiplication table (rounded-matrix keys, not the library's nearest match) and
    tests every one of the 2^(n-1) subsets that contain the identity.
    """
    n = len(mats)
    keys = [_key(m) for m in mats]
    index = {k: i for i, k in enumerate(keys)}
    table = np.array([[index[_key(a @ b)] for b in mats] for a in mats])
    e = index[_key(np.eye(3))]
    inv = np.array([index[_key(m.T)] for m in mats])
    others = [i for i in range(n) if i != e]
    codes = np.arange(2 ** len(others), dtype=np.int64)
    member = np.zeros((len(codes), n), dtype=bool)
    member[:, e] = True
    for bit, i in enumerate(others):
        member[:, i] = (codes >> bit) & 1 == 1
    closed = np.ones(len(codes), dtype=bool)
    for a in range(n):
        for b in range(n):
            closed &= ~(member[:, a] & member[:, b]) | member[:, table[a, b]]
    subs = {frozenset(np.flatnonzero(row).tolist()) for row in member[closed]}
    classes = {frozenset(frozenset(int(table[table[g, h], inv[g]]) for h in s) for g in range(n)) for s in subs}
    as_keys = {frozenset(keys[i] for i in s) for s in subs}
    return as_keys, len(classes)


@pytest.mark.parametrize("name", ["C2v", "C3v", "C4v", "D2h", "D2d", "C4h", "D3h", "C6v", "D3d", "D4h"])
def test_all_subgroups_match_brute_force(name):
    """Groups of order ≤ 16: the same subgroups, and as many classes, as an exhaustive search."""
    L = lattice(name)
    mats = np.stack([op.matrix for op in group(name).operations])
    expected, n_classes = brute_force_subgroups(mats)
    got = {frozenset(_key(mats[i]) for i in s.elements) for s in L.subgroups}
    assert got == expected
    assert len(L.classes) == n_classes


# (subgroups, classes): see the module docstring for where each number comes from
COUNTS = {
    "C1": (1, 1), "Ci": (2, 2), "Cs": (2, 2), "C2v": (5, 5), "C3v": (6, 4), "C4v": (10, 8),
    "C6v": (16, 10), "D3h": (16, 10), "D4h": (35, 27), "T": (10, 5), "Th": (26, 12),
    "Td": (30, 11), "O": (30, 11), "Oh": (98, 33), "I": (59, 9), "Ih": (164, 22),
}  # fmt: skip


@pytest.mark.parametrize("name", list(COUNTS))
def test_counts(name):
    L = lattice(name)
    n_sub, n_cls = COUNTS[name]
    assert (len(L.subgroups), len(L.classes)) == (n_sub, n_cls)
    assert sum(c.size for c in L.classes) == n_sub
    assert L.graph.number_of_nodes() == n_cls


@pytest.mark.parametrize("name", ["D4h", "Td", "Oh", "Ih"])
def test_structure_of_the_lattice(name):
    """Subgroups are closed and distinct; class sizes are |G|/|N_G(H)|; conjugates share name and order."""
    L = lattice(name)
    pg = L.group
    mats = np.stack([op.matrix for op in pg.operations])
    table = multiplication_table(mats)
    n = len(mats)
    seen = set()
    for s in L.subgroups:
        el = np.array(s.elements)
        assert set(table[np.ix_(el, el)].ravel()) <= set(el.tolist())  # closed
        assert len(el) == s.order and n % s.order == 0  # Lagrange
        seen.add(s.elements)
    assert len(seen) == len(L.subgroups)
    inv = np.array([int(np.argmax(table[g] == L.subgroups[-1].elements[0])) for g in range(n)])
    for c in L.classes:
        rep = set(L.subgroups[c.members[0]].elements)
        normalizer = sum(1 for g in range(n) if {int(table[table[g, h], inv[g]]) for h in rep} == rep)
        assert c.size == n // normalizer
        assert {L.subgroups[k].name for k in c.members} == {c.name}
        assert {L.subgroups[k].order for k in c.members} == {c.order}
    # classes run from G down to C1
    assert L.classes[0].order == n and L.classes[0].name == pg.name and L.classes[0].size == 1
    assert L.classes[-1].name == "C1"
    assert [c.order for c in L.classes] == sorted((c.order for c in L.classes), reverse=True)


def test_names_of_the_classes():
    """Oh and Ih: the conjugacy classes of subgroups by name, as in the literature."""
    oh = Counter(c.name for c in lattice("Oh").classes)
    assert oh == Counter({"Oh": 1, "O": 1, "Td": 1, "Th": 1, "D4h": 1, "D3d": 1, "T": 1, "C4h": 1, "C4v": 1,
                          "D2d": 2, "D2h": 2, "D4": 1, "C3v": 1, "D3": 1, "S6": 1, "C2h": 2, "C2v": 3, "C4": 1,
                          "D2": 2, "S4": 1, "C3": 1, "C2": 2, "Ci": 1, "Cs": 2, "C1": 1})
    ih = Counter(c.name for c in lattice("Ih").classes)
    assert ih == Counter({n: 1 for n in ["Ih", "I", "Th", "D5d", "D3d", "T", "C5v", "D5", "S10", "D2h", "C3v",
                                         "D3", "S6", "C5", "C2h", "C2v", "D2", "C3", "C2", "Ci", "Cs", "C1"]})
    sizes = {c.name: c.size for c in lattice("Ih").classes}
    assert (sizes["Th"], sizes["D5d"], sizes["D3d"], sizes["C2"], sizes["Cs"]) == (5, 6, 10, 15, 15)


def test_same_named_classes_get_distinct_labels():
    """D4h has two D2h and two D2d classes (C2′ vs C2″ axes); their labels tell them apart."""
    L = lattice("D4h")
    labels = [c.label for c in L.classes]
    assert len(set(labels)) == len(labels)
    assert {c.label for c in L.classes if c.name == "D2h"} == {"D2h(C2',σv)", "D2h(C2'',σd)"}
    for name in ("Oh", "D6h", "Ih"):
        labels = [c.label for c in lattice(name).classes]
        assert len(set(labels)) == len(labels), name


def test_hasse_edges_are_maximal_subgroups():
    """Edges go to classes of maximal subgroups; D4h (a 2-group with D4h/Φ = C2³) has 7, all of index 2."""
    L = lattice("D4h")
    top = L.maximal_subgroups(0)
    assert len(top) == 7 and all(L.subgroups[k].order == 8 for k in top)
    assert sorted(L.graph.successors(0)) == sorted({L.subgroups[k].conjugacy_class for k in top})
    for a, b in L.graph.edges:
        assert L.classes[a].order % L.classes[b].order == 0 and L.classes[a].order > L.classes[b].order
    # Oh: maximal subgroups O, Td, Th (index 2), D4h ×3 (index 3), D3d ×4 (index 4)
    Lo = lattice("Oh")
    assert Counter(L.subgroups[k].name for k in Lo.maximal_subgroups(0) for L in [Lo]) == Counter(
        {"O": 1, "Td": 1, "Th": 1, "D4h": 3, "D3d": 4})
    assert Lo.graph.in_degree(0) == 0 and Lo.graph.out_degree(len(Lo.classes) - 1) == 0


def test_path_of_the_tutorial_breaking():
    """Square (D4h) → rectangle: the target keeps D2h; the path is D4h → D2h (a maximal subgroup)."""
    square = sc.example("square")
    pg = sc.point_group(square)
    L = subgroup_lattice(pg)
    v = vector_from_polynomial("x**2 - y**2", 2)
    H = stabilizer(pg, square, v, "2e", per_point=False, atol=1e-6)
    assert H.name == "D2h"
    path = L.path(H)
    assert [L.classes[c].name for c in path] == ["D4h", "D2h"]
    assert L.classes[path[-1]].label == "D2h(C2',σv)"  # the D2h whose C2 axes are the file's x and y
    chain = L.chain(H)
    assert chain[0] == 0 and L.subgroups[chain[-1]].order == 8
    # the same subgroup given as matrices, operations or indices
    idx = L.subgroup_index(H)
    assert L.subgroup_index(np.stack([op.matrix for op in H.operations])) == idx
    assert L.subgroup_index(list(H.operations)) == idx
    assert L.subgroup_index(list(L.subgroups[idx].elements)) == idx
    assert L.class_of(H) == path[-1]


def test_long_paths_step_through_maximal_subgroups():
    for name, target in (("Oh", "C2v"), ("Ih", "C1"), ("Oh", "C3")):
        L = lattice(name)
        k = next(i for i, s in enumerate(L.subgroups) if s.name == target)
        chain = L.chain(list(L.subgroups[k].elements))
        assert chain[0] == 0 and chain[-1] == k
        for a, b in zip(chain[:-1], chain[1:]):
            assert b in L.maximal_subgroups(a)
        path = L.path(list(L.subgroups[k].elements))
        assert all(L.graph.has_edge(a, b) for a, b in zip(path[:-1], path[1:]))
    # from a given top: D4h → C2v inside C4v
    L = lattice("D4h")
    top = next(i for i, s in enumerate(L.subgroups) if s.name == "C4v")
    low = next(k for k in L.maximal_subgroups(top) if L.subgroups[k].name == "C2v")
    assert L.chain(list(L.subgroups[low].elements), G=list(L.subgroups[top].elements)) == (top, low)


def test_path_refuses_a_non_subgroup():
    L = lattice("D4h")
    c4 = next(i for i, s in enumerate(L.subgroups) if s.name == "C4")
    d2h = next(i for i, s in enumerate(L.subgroups) if s.name == "D2h")
    with pytest.raises(SymcheckError, match="not a subgroup"):
        L.chain(list(L.subgroups[c4].elements), G=list(L.subgroups[d2h].elements))
    with pytest.raises(SymcheckError, match="not an element"):
        L.subgroup_index(np.array([[[0.0, 1, 0], [1, 0, 0], [0, 0, 1]]]) @ np.diag([1, 1, 1]) * 0.5)


def test_subgroup_names_agree_with_the_stabilizer_module():
    """Naming goes through the same classifier as ``stabilizer.subgroup``."""
    pg = group("D6h")
    L = subgroup_lattice(pg)
    for s in L.subgroups[::5]:
        assert subgroup(pg, [pg.operations[i] for i in s.elements]).name == s.name


def test_small_and_infinite_groups():
    L = lattice("C1")
    assert len(L.subgroups) == 1 and L.path([0]) == (0,)
    linear = sc.Structure(np.array([[0.0, 0, 0], [0, 0, 1.2]]), ["O", "O"])
    with pytest.raises(SymcheckError, match="infinite"):
        subgroup_lattice(sc.point_group(linear))


def test_draw(tmp_path):
    L = lattice("D4h")
    square_path = (0, next(c.id for c in L.classes if c.name == "D2h"))
    out = draw_lattice(L, tmp_path / "sub" / "d4h.png", highlight=square_path, title="D4h → D2h")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    out2 = draw_lattice(lattice("Oh"), tmp_path / "oh.png")
    assert out2.stat().st_size > 10_000
    assert "D2h" in L.summary() and "35 subgroups in 27 conjugacy classes" in L.summary()
    d = json.loads(json.dumps(L.as_dict()))
    assert (d["n_subgroups"], d["n_classes"]) == (35, 27) and d["classes"][0]["name"] == "D4h"
