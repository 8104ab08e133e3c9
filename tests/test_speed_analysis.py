"""The analysis's shortcuts (issue 14) give exactly what the plain computation gives.

Look-up tables for the translations, matrices cached per group and cell groups reused along a
tolerance ladder are checked against the same quantities computed from scratch.
"""

from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

import symcheck as sc
from symcheck.fixed import coset_wigner, wigner_D
from symcheck.groups import crystal, symmetry_group, translations
from symcheck.near import LADDER_TOLS, symmetry_distance, tolerance_ladder

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _perovskite(name: str) -> sc.Structure:
    return sc.read(EXAMPLES / name)


def _brute_force_sums(T):
    """t_u + t_v and −t_u by a dictionary of the integer vectors (the definition)."""
    where = {tuple(z): i for i, z in enumerate(T.z.tolist())}
    n = len(T)
    add = np.array([[where[tuple(((T.z[u] + T.z[v]) % T.q).tolist())] for v in range(n)] for u in range(n)])
    neg = np.array([where[tuple((-T.z[u] % T.q).tolist())] for u in range(n)])
    return add, neg


@pytest.mark.parametrize("build", [
    lambda: bulk("Fe", "bcc", 2.87, cubic=True),  # T = {0, (½,½,½)}: grid points outside T
    lambda: bulk("Cu", "fcc", 3.6, cubic=True).repeat((2, 1, 3)),
    lambda: bulk("Cu", "fcc", 3.6).repeat(7),  # |T| = 343: sums computed, not read from the table
])
@pytest.mark.parametrize("dense", [True, False])
def test_translation_lookups_agree_with_the_definition(build, dense, monkeypatch):
    if not dense:  # the binary search used for grids too large for a look-up array
        monkeypatch.setattr(translations, "DENSE_GRID", 0)
    T = symmetry_group(sc.from_ase(build()), 1e-3).cell_group.T
    assert (T._dense is not None) == dense
    add, neg = _brute_force_sums(T)
    n = len(T)
    assert np.array_equal(T.add(np.arange(n)[:, None], np.arange(n)[None, :]), add)
    assert np.array_equal(T.neg(np.arange(n)), neg)
    assert all(int(T.add(u, v)) == add[u, v] for u in range(0, n, 7) for v in range(0, n, 5))
    # every grid point: its index in T, or −1
    grid = np.stack(np.meshgrid(*[np.arange(-q, 2 * q) for q in T.q], indexing="ij"), axis=-1).reshape(-1, 3)
    where = {tuple(z): i for i, z in enumerate(T.z.tolist())}
    expected = [where.get(tuple((z % T.q).tolist()), -1) for z in grid]
    assert np.array_equal(T.index_of_z(grid), expected)
    assert np.array_equal(T.perms(np.arange(n)), np.array([T.perm(v) for v in range(n)]))


def test_coset_representatives_and_their_matrices_are_built_once():
    G = symmetry_group(_perovskite("perovskite_cubic_2x2x2.extxyz"), 1e-3)
    reps = G.coset_representatives
    assert G.coset_representatives is reps
    cg = G.cell_group
    fresh = [cg.element(k, v) for k, v in zip(G.point_indices.tolist(), G.rep_shifts.tolist())]
    assert all(np.array_equal(a.matrix, b.matrix) and np.array_equal(a.permutation, b.permutation)
               and np.allclose(a.translation_frac, b.translation_frac) for a, b in zip(reps, fresh))
    for irreps in ("1o", "2e+3o", "0e"):
        Ds = coset_wigner(G, irreps)
        assert coset_wigner(G, irreps) is Ds
        assert not Ds.flags.writeable
        assert np.array_equal(Ds, wigner_D(irreps, np.stack([op.matrix for op in reps])))


def _same_group(A, B) -> bool:
    return (A.name == B.name and A.number == B.number and A.order == B.order and A.tol == B.tol
            and A.cell_group.tol == B.cell_group.tol
            and set(A.element_keys().tolist()) == set(B.element_keys().tolist())
            and crystal.generator_pairs(A) == crystal.generator_pairs(B)
            and [list(o) for o in A.equivalent_atoms] == [list(o) for o in B.equivalent_atoms]
            and A.wyckoffs == B.wyckoffs)


@pytest.mark.parametrize("name", ["perovskite_cubic_2x2x2.extxyz", "perovskite_tilt_a0a0c-.extxyz"])
def test_ladder_reusing_cell_groups_gives_the_groups_built_afresh(name):
    s = _perovskite(name)
    steps = tolerance_ladder(s)
    assert [step.tol for step in steps] == list(LADDER_TOLS[:len(steps)])
    names = set()
    for step in steps:
        fresh = symmetry_group(s, step.tol)
        assert _same_group(step.group, fresh), step.tol
        assert step.distance == symmetry_distance(s, fresh)
        # a subgroup named through the reused cell group: spglib reads it at this step's tolerance
        sub = crystal.crystal_subgroup(step.group, list(step.group.generators[:1]))
        assert sub.name == crystal.crystal_subgroup(fresh, list(fresh.generators[:1])).name
        names.add(step.group.name)
    if name.startswith("perovskite_tilt"):
        assert len(names) > 1  # the ladder climbs from the tilted group to the cubic one


def test_cell_groups_are_reused_only_for_the_same_atoms():
    """A reuse dictionary shared by two orderings of the same crystal: each gets its own permutations."""
    s = _perovskite("perovskite_cubic_2x2x2.extxyz")
    oxygens = [i for i, x in enumerate(s.species) if x == s.species[-1]]
    order = np.arange(len(s))
    order[[oxygens[0], oxygens[5]]] = order[[oxygens[5], oxygens[0]]]
    swapped = sc.Structure(s.positions[order], [s.species[i] for i in order], cell=s.cell, pbc=s.pbc)
    reuse: dict = {}
    first = crystal.space_group(s, 1e-3, reuse=reuse)
    second = crystal.space_group(swapped, 1e-3, reuse=reuse)
    assert len(reuse) == 2 and second.cell_group is not first.cell_group
    assert _same_group(second, crystal.space_group(swapped, 1e-3))
    # the input's group seeds the ladder of the same atoms (as analyze does)
    for step in tolerance_ladder(s, [t for t in LADDER_TOLS if 1e-3 < t <= 0.1], reuse):
        assert _same_group(step.group, symmetry_group(s, step.tol))


def test_closures_from_tables_are_the_generated_groups():
    """Subgroups read from a multiplication table equal those close() builds product by product."""
    from symcheck.groups.group import close

    G = symmetry_group(_perovskite("perovskite_cubic_2x2x2.extxyz"), 1e-3)
    cg = G.cell_group
    T = cg.T
    rng = np.random.default_rng(5)
    for _ in range(30):
        gens = rng.choice(len(T), size=int(rng.integers(0, 3)), replace=False)
        reference = np.sort(close(np.unique(gens), T.add, translations.index_key, start=np.zeros(1, dtype=np.int64),
                                  key_space=len(T)).keys)
        assert np.array_equal(T.closure(gens), reference)
        points = rng.choice(len(cg.rot_frac), size=int(rng.integers(0, 3)), replace=False)
        reference = close(points, cg._point_product, translations.index_key, start=np.array([cg.identity]),
                          key_space=len(cg.rot_frac)).keys
        assert np.array_equal(translations.table_closure(cg.mult, points, cg.identity), np.sort(reference))


def test_successive_draws_are_slices_of_one_stream():
    """characters._complex_characters reads its k-th draw of r numbers as numbers k·r … (k+1)·r of one draw."""
    from symcheck.o3 import fixed_normals

    rng = np.random.default_rng(20240607)
    r = 10
    for k in range(20):
        assert np.array_equal(rng.normal(size=r), fixed_normals(20240607, (k + 1) * r)[k * r:])
