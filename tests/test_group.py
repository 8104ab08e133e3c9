"""The one Group (symcheck/groups/group.py): element keys, the closure, greedy generators, kinds, equality."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import symcheck as sc
from symcheck.errors import SymcheckError
from symcheck.groups import Group, PointGroup, SpaceGroup, symmetry_group
from symcheck.groups.group import close, element_keys, greedy_generators, multiply_operations, orbits
from symcheck.groups.naming import rotation
from symcheck.groups.stabilizer import stabilizer, subgroup


def _same(x):
    return x


def test_element_keys_fold_signed_zero_and_wrap_translations():
    R = np.eye(3)
    minus_zero = R.copy()
    minus_zero[0, 1] = -0.0
    assert element_keys(np.stack([R, minus_zero]))[0] == element_keys(np.stack([R, minus_zero]))[1]
    near = np.array([[0.9999999, 0.0, 0.5], [0.0, 1e-9, 0.5]])
    keys = element_keys(np.stack([R, R]), translations=near)
    assert keys[0] == keys[1]  # 0.9999999 ≡ 0 modulo the lattice
    perms = np.array([[0, 1, 2], [1, 0, 2]])
    keys = element_keys(np.stack([R, R]), permutations=perms)
    assert keys[0] != keys[1]
    keys = element_keys(np.stack([R, rotation([0, 0, 1], 1e-3)]))
    assert keys[0] != keys[1]


def test_close_cyclic_group_by_indices_and_keys():
    # Z_12 under addition: 8 generates {0, 4, 8}; with 3 as well, everything
    add = lambda a, b: (a + b) % 12  # noqa: E731
    for key_space in (None, 12):
        found = close(np.array([8]), add, _same, start=np.array([0]), key_space=key_space)
        assert sorted(found.keys.tolist()) == [0, 4, 8]
        found = close(np.array([8, 3]), add, _same, key_space=key_space)
        assert sorted(found.keys.tolist()) == list(range(12))
        # every element but the start is generator · parent; the table is generators · elements
        e, pg, pe = found.elements, found.parent_generator, found.parent_element
        gens = e[:2]
        for i in range(2, len(e)):
            assert pe[i] < i and e[i] == add(gens[pg[i]], e[pe[i]])
        for a in range(2):
            assert [e[j] for j in found.table[a]] == [add(gens[a], x) for x in e]


def test_close_matrices_and_permutations_gives_d4():
    # the square's D4 acting on its four corners: C4 cycles them, a C2' through corners 0 and 2 swaps 1 and 3
    c4 = (rotation([0, 0, 1], np.pi / 2)[None], np.array([[1, 2, 3, 0]]))
    c2 = (rotation([1, 0, 0], np.pi)[None], np.array([[0, 3, 2, 1]]))
    gens = tuple(np.concatenate(pair) for pair in zip(c4, c2))
    found = close(gens, multiply_operations, lambda ops: element_keys(ops[0], ops[1]))
    mats, perms = found.elements
    assert len(mats) == 8 and len({tuple(p) for p in perms.tolist()}) == 8
    assert np.allclose(np.linalg.det(mats), 1)
    assert orbits(perms, 4) == ((0, 1, 2, 3),)


def test_close_reports_repeats_for_schreier_generators():
    # Z_12 closed on its image in Z_4 (key: x mod 4): 1 reaches every class; the repeated product
    # 1 + 3 = 4 differs from the stored 0 by 4, the generator of the kernel {0, 4, 8}
    found = close(np.array([1]), lambda a, b: (a + b) % 12, lambda x: x % 4, start=np.array([0]), repeats=True)
    assert sorted(found.keys.tolist()) == [0, 1, 2, 3]
    diffs = {int((r - found.elements[j]) % 12) for r, j in zip(found.repeated, found.repeated_as)}
    assert diffs == {4}


def test_close_stops_at_its_limit():
    irrational = rotation([0, 0, 1], 2 * np.pi * (np.sqrt(2) - 1))
    with pytest.raises(SymcheckError, match="at most 50"):
        close(irrational[None], np.matmul, element_keys, limit=50)


def test_greedy_generators_of_klein_four():
    table = np.array([[0, 1, 2, 3], [1, 0, 3, 2], [2, 3, 0, 1], [3, 2, 1, 0]])

    def reached(chosen):
        mask = np.zeros(4, dtype=bool)
        found = close(np.array(chosen, dtype=np.int64), lambda a, b: table[a, b], _same, start=np.array([0]))
        mask[found.keys] = True
        return mask

    assert greedy_generators(4, reached) == [1, 2]


def test_kinds_are_data_and_groups_compare_by_elements(square, perovskite):
    G = sc.point_group(square)
    assert isinstance(G, Group) and isinstance(G, PointGroup)
    assert (G.kind, G.finite, G.infinite, G.periodic) == ("point", True, False, False)
    line = sc.Structure(positions=[[0, 0, -1.16], [0, 0, 0], [0, 0, 1.16]], species=["O", "C", "O"])
    L = sc.point_group(line)
    assert (L.kind, L.infinite, L.order) == ("infinite", True, None)
    C = symmetry_group(perovskite("cubic"), 1e-3)
    assert isinstance(C, SpaceGroup) and not isinstance(C, PointGroup)
    assert (C.kind, C.periodic, C.finite) == ("space", True, True)
    assert not hasattr(C, "center") and not hasattr(C, "frame")
    # equality by elements: the square's D4h keeps two C2v (a vector along x, one along y) that share a name
    kept = [stabilizer(G, square, v, "1o", False, atol=1e-9) for v in np.eye(3)]  # the axis: C4v; in-plane: C2v
    Hx, Hy = (H for H in kept if H.name == "C2v")
    assert not Hx.same_group(Hy)
    again = subgroup(G, list(Hx.generators))
    assert Hx.same_group(again) and again.same_group(Hx)
    assert Hx.is_subgroup_of(G) and not G.is_subgroup_of(Hx) and not Hx.is_subgroup_of(Hy)
    assert not Hx.same_group(G) and not G.same_group(C) and not L.same_group(G)
    with pytest.raises(ValueError):
        Group("X", None, (), (), (), 0.01, "point")
    with pytest.raises(ValueError):
        replace(C, kind="point")
    with pytest.raises(ValueError):
        replace(G, kind="space")


def test_infinite_subgroups_by_membership():
    hcn = sc.Structure(positions=[[0, 0, -1.07], [0, 0, 0], [0, 0, 1.16]], species=["H", "C", "N"])
    co2 = sc.Structure(positions=[[0, 0, -1.16], [0, 0, 0], [0, 0, 1.16]], species=["O", "C", "O"])
    A, B = sc.point_group(hcn), sc.point_group(co2)
    assert (A.name, B.name) == ("Cinfv", "Dinfh")
    assert A.is_subgroup_of(B) and not B.is_subgroup_of(A)
    assert A.is_subgroup_of(A) and B.same_group(B)
