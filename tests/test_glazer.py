"""The exact breaking search on the 15 Glazer tilt systems (Howard & Stokes 1998) and on point groups.

On main before the exact search, a⁻b⁻b⁻ (C2/c) and a⁻b⁻c⁻ (P-1) got "no single feature reaches
H", and for a⁺b⁺c⁺ and a⁰b⁻c⁻ the top suggestion was not the lowest L.
"""

import numpy as np
import pytest
from glazer import SYSTEMS, TILTED, cubic, glazer

import symcheck as sc
from symcheck.breaking import candidate_space, irrep_name
from symcheck.groups import symmetry_group
from symcheck.groups.stabilizer import stabilizer

TOL = 1e-3


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_tilt_systems_have_the_howard_stokes_space_groups(system):
    number, symbol = SYSTEMS[system]
    g = symmetry_group(glazer(system), TOL)
    assert (g.number, g.international) == (number, symbol)


@pytest.fixture(scope="module")
def reports():
    out = {}
    for system in TILTED:
        task = sc.Task.displacement(cubic(), glazer(system), encoding="vector")
        out[system] = sc.analyze(task, tol=TOL, feature_lmax=1, near_tol=0)
    return out


def _reaches_by_brute_force(G, H, structure, l, p, sites) -> bool:
    """Does a generic element of Fix_H ⊖ Fix_G (global, or on ``sites``) have stabilizer H?

    Independent of the search: the whole group G is applied to one generic field.
    """
    irr = irrep_name(l, p)
    W = candidate_space(G, H, irr, per_point=sites is not None, sub=None if sites is None else np.array(sites))
    if W.shape[1] == 0:
        return False
    v = W @ np.random.default_rng(3).normal(size=W.shape[1])
    if sites is None:
        field = v / np.linalg.norm(v)
    else:
        field = np.zeros((len(structure), 2 * l + 1))
        field[list(sites)] = v.reshape(len(sites), -1) / np.linalg.norm(v)
    S = stabilizer(G, structure, field, irr, sites is not None, 1e-6)
    return S.order == H.order and S.number == H.number


@pytest.mark.parametrize("system", TILTED)
def test_every_tilt_system_is_fixable_at_the_lowest_L(system, reports):
    r = reports[system]
    number, _ = SYSTEMS[system]
    G, H, structure = r.input_group, r.target_group, r.task.structure
    assert not r.learnable and H.number == number
    top = r.suggestions[0]
    assert top.reaches_target and top.stabilizer_order == H.order
    assert r.fix.startswith("add ")
    # nothing of lower L reaches H, in any scope (checked without the search)
    for l in range(top.L):
        for p in (1, -1):
            assert not _reaches_by_brute_force(G, H, structure, l, p, None)
            for orbit in G.equivalent_atoms:
                assert not _reaches_by_brute_force(G, H, structure, l, p, orbit), (l, p, orbit)
    # every suggestion keeps what it claims: apply every element of G to it
    for s in r.suggestions:
        S = stabilizer(G, structure, s.vector, s.irreps, s.scope != "global", 1e-6)
        assert S.order == s.stabilizer_order
        assert (S.order == H.order and S.number == H.number) == s.reaches_target


@pytest.mark.parametrize("system", TILTED)
def test_octahedral_rotations_on_ti_are_an_exact_fix(system, reports):
    """The order parameter itself (Smidt, Geiger & Miller 2021): an axial vector on the B sites."""
    r = reports[system]
    species = r.task.structure.species
    ti = [s for s in r.suggestions if s.irreps == "1e" and s.scope == "per-point" and species[s.sites[0]] == "Ti"]
    assert len(ti) == 1 and ti[0].reaches_target


@pytest.mark.parametrize("system", ["a-b-b-", "a-b-c-", "a0b-c-", "a-a-a-", "a0a0c-"])
def test_out_of_phase_systems_are_fixed_by_a_pseudoscalar_on_o(system, reports):
    r = reports[system]
    top = r.suggestions[0]
    assert (top.irreps, top.scope, r.task.structure.species[top.sites[0]]) == ("0o", "per-point", "O")


def test_a_plus_b_plus_c_plus_top_is_l0(reports):
    """a⁺b⁺c⁺ (Immm): an L = 0 scalar on the Sr sites, ahead of every L = 1 field."""
    top = reports["a+b+c+"].suggestions[0]
    assert (top.irreps, top.L, top.reaches_target) == ("0e", 0, True)


def test_fixes_rank_before_non_fixes_then_scope_then_L():
    """Ranking (DESIGN §6): reaches H, then global before per-point, lowest L, smallest W, orbit, parity."""
    task = sc.Task.displacement(cubic(), glazer("a0b-c-"), encoding="vector")
    r = sc.analyze(task, tol=TOL, feature_lmax=2, near_tol=0)
    keys = [s.rank_key() for s in r.suggestions]
    assert keys == sorted(keys)
    reach = [s.reaches_target for s in r.suggestions]
    assert reach == sorted(reach, reverse=True) and reach[0] and not reach[-1]
