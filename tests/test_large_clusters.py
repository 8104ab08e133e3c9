"""Large clusters: the generator shortcut (≥ 2000 atoms) and its fallback give the same groups."""

import numpy as np
import pytest
from ase.cluster import Icosahedron, Octahedron

import symcheck as sc


def _group(structure, tol, fast):
    """The group with the generator shortcut from 2000 atoms on, or without it (never taken)."""
    return sc.point_group(structure, tol=tol, fast_min_atoms=2000 if fast else 10**9)


def _check(pg, structure, tol):
    Y = structure.positions - pg.center
    for op in pg.operations:
        assert np.max(np.linalg.norm(Y @ op.matrix.T - Y[op.permutation], axis=1)) <= tol
        assert sorted(op.permutation) == list(range(len(structure)))


@pytest.mark.parametrize("cluster, expected", [(Octahedron("Cu", 20), "Oh"), (Icosahedron("Cu", 12), "Ih")])
def test_shortcut_agrees_with_class_by_class(cluster, expected):
    s = sc.from_ase(cluster)
    assert len(s) > 2000
    fast, slow = _group(s, 0.01, True), _group(s, 0.01, False)
    assert fast.name == slow.name == expected and fast.order == slow.order
    _check(fast, s, 0.01)
    # the same elements with the same permutations
    def key(m):
        return (np.round(m, 6) + 0.0).tobytes()

    by_matrix = {key(op.matrix): op.permutation for op in slow.operations}
    for op in fast.operations:
        assert np.array_equal(by_matrix[key(op.matrix)], op.permutation)


def test_shortcut_with_noise():
    rng = np.random.default_rng(0)
    s = sc.from_ase(Icosahedron("Cu", 12))
    noisy = sc.Structure(s.positions + rng.normal(size=s.positions.shape) * 0.003, s.species)
    pg = _group(noisy, 0.03, True)
    assert pg.name == "Ih"
    _check(pg, noisy, 0.03)


def test_shortcut_falls_back_when_the_outer_atoms_break_the_group():
    """Inner shells are Oh, the outermost atoms are stretched along z: the group is D4h."""
    s = sc.from_ase(Octahedron("Cu", 20))
    pos = s.positions - s.positions.mean(0)
    r = np.round(np.linalg.norm(pos, axis=1), 6)  # whole orbits: radii equal up to rounding
    outer = r > np.quantile(r, 0.9)
    pos[outer, 2] *= 1.02
    stretched = sc.Structure(pos, s.species)
    fast, slow = _group(stretched, 0.01, True), _group(stretched, 0.01, False)
    assert fast.name == slow.name == "D4h"
    _check(fast, stretched, 0.01)
