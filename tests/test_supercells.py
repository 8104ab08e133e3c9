"""Large supercells: space groups kept as cosets × translations, checked element by element on small cases.

Every factored computation (naming, projection, fixed spaces, stabilizers, minimal overgroups,
symmetrized positions) is compared with the brute-force one over the listed elements where the
group is small enough to list, and with spglib where it is not.
"""

import numpy as np
import pytest
import spglib
from ase.build import bulk, make_supercell
from ase.spacegroup import crystal
from spglib import error as spglib_error

import symcheck as sc
from symcheck.fixed import act, field_fixed_space, fixed_space, project, wigner_D
from symcheck.groups import SpaceGroup, symmetry_group
from symcheck.groups.stabilizer import listed_operations, minimal_overgroups, same_group, stabilizer, subgroup
from symcheck.near import tolerance_ladder

spglib_error.OLD_ERROR_HANDLING = False
TOL = 1e-3


def _dataset(atoms, tol=TOL):
    return spglib.get_symmetry_dataset((atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers), symprec=tol)


def _op_set(rotations, translations):
    return {(np.asarray(R, dtype=int).tobytes(), tuple(np.round(np.asarray(t) % 1.0, 6) % 1.0)) for R, t in
            zip(rotations, translations)}


SUPERCELLS = {
    "Si diamond 3x3x3 cubic (216 atoms)": lambda: bulk("Si", "diamond", a=5.43, cubic=True) * (3, 3, 3),
    "Cu 3x3x3 conventional": lambda: bulk("Cu", "fcc", a=3.61, cubic=True) * (3, 3, 3),
    "Cu 5x5x5 primitive": lambda: bulk("Cu", "fcc", a=3.61) * (5, 5, 5),
    "Si make_supercell": lambda: make_supercell(bulk("Si", "diamond", a=5.43), [[-1, 1, 1], [1, -1, 1], [1, 1, -1]]),
    "Mg hcp 3x3x2": lambda: bulk("Mg", "hcp", a=3.21, c=5.21).repeat((3, 3, 2)),
}


@pytest.mark.parametrize("name", sorted(SUPERCELLS))
def test_supercell_groups_are_spglibs(name):
    atoms = SUPERCELLS[name]()
    ds = _dataset(atoms)
    g = symmetry_group(sc.from_ase(atoms), TOL)
    assert isinstance(g, SpaceGroup)
    assert (g.name, g.number, g.order) == (ds.international, ds.number, len(ds.rotations))
    assert (g.crystal_space_group, g.crystal_space_group_number) == (ds.international, ds.number)
    assert not g.cell_keeps_subgroup
    assert len(g.coset_representatives) == len({R.tobytes() for R in ds.rotations})
    assert len(g.translations) == int(np.sum([np.array_equal(R, np.eye(3)) for R in ds.rotations]))
    # the elements are exactly spglib's operations (not rebuilt from generators)
    ours = _op_set([op.rotation_frac for op in g.operations], [op.translation_frac for op in g.operations])
    assert ours == _op_set(ds.rotations, ds.translations)
    # a sample of elements maps every atom onto an atom of the same species, modulo the lattice
    s = sc.from_ase(atoms)
    inv = np.linalg.inv(s.cell)
    ops = list(g.operations)
    for k in np.random.default_rng(0).choice(len(ops), size=24, replace=False):
        op = ops[k]
        d = (s.positions @ op.matrix.T + op.translation - s.positions[op.permutation]) @ inv
        d -= np.round(d)
        assert np.max(np.linalg.norm(d @ s.cell, axis=1)) < TOL
        assert [s.species[j] for j in op.permutation] == list(s.species)
        assert sorted(op.permutation.tolist()) == list(range(len(s)))
    assert sorted(len(o) for o in g.equivalent_atoms) == sorted(
        np.bincount(ds.equivalent_atoms)[np.unique(ds.equivalent_atoms)])


def test_large_group_lists_cosets_not_elements():
    atoms = bulk("Si", "diamond", a=5.43, cubic=True) * (3, 3, 3)
    g = symmetry_group(sc.from_ase(atoms), TOL)
    assert len(g.operations) == 5184
    assert g.operations[0].kind == "E"
    d = g.as_dict()
    assert d["operations_listed"] == "coset representatives" and len(d["operations"]) == 48
    assert len(d["translations"]) == 108 and d["space_group"] == "Fd-3m"
    listed = listed_operations(g)
    assert len(listed) < 60 and listed[0].kind == "E"


def test_cell_lower_than_crystal_keeps_a_subgroup():
    """A 2×1×1 diamond cell: spglib names the crystal Fd-3m, but only a tetragonal subgroup maps the cell."""
    atoms = bulk("Si", "diamond", a=5.43, cubic=True) * (2, 1, 1)
    ds = _dataset(atoms)
    g = symmetry_group(sc.from_ase(atoms), TOL)
    assert (g.crystal_space_group, g.crystal_space_group_number) == ("Fd-3m", 227) == (ds.international, ds.number)
    assert g.cell_keeps_subgroup and g.point_group == "D4h" and g.name == "I4_1/amd"
    assert g.order == len(ds.rotations)
    d = g.as_dict()
    assert d["cell_keeps_subgroup"] and d["crystal_space_group"] == "Fd-3m"


def _moved(G, irreps, y, per_point):
    """g·y for every listed element g of G, brute force."""
    ops = list(G.operations)
    Ds = wigner_D(irreps, np.stack([op.matrix for op in ops]))
    return ops, [act(irreps, op.matrix, op.permutation if per_point else None, y, D=D) for op, D in zip(ops, Ds)]


def _brute_project(G, irreps, y, per_point):
    return np.mean(_moved(G, irreps, y, per_point)[1], axis=0)


def _kept(G, field, irreps, per_point, tol=1e-6):
    ops, moved = _moved(G, irreps, field, per_point)
    return {(op.permutation.tobytes(), op.rotation_frac.tobytes()) for op, m in zip(ops, moved)
            if np.max(np.abs(m - field)) <= tol}


def _silicon(reps=(1, 1, 1)):
    return sc.from_ase(bulk("Si", "diamond", a=5.43, cubic=True) * reps)


def test_projection_fixed_space_and_stabilizer_match_brute_force():
    s = _silicon((2, 1, 1))
    G = symmetry_group(s, TOL)
    rng = np.random.default_rng(1)
    for irreps in ("1o", "2e", "0o"):
        d = wigner_D(irreps, np.eye(3)).shape[0]
        y = rng.normal(size=(len(s), d))
        assert np.allclose(project(G, irreps, y, True), _brute_project(G, irreps, y, True), atol=1e-12)
        g_y = rng.normal(size=d)
        assert np.allclose(project(G, irreps, g_y, False), _brute_project(G, irreps, g_y, False), atol=1e-12)
        # fixed space on all sites: the null space of (ρ(g) − I) over every element
        basis = field_fixed_space(G, irreps, np.arange(len(s)))
        brute = fixed_space(list(G.operations), irreps, per_point=True)
        assert basis.shape == brute.shape
        assert np.allclose(basis @ basis.T, brute @ brute.T, atol=1e-9)
    # stabilizers of a random field, of a symmetric one, and of one atom's displacement
    y = np.zeros((len(s), 3))
    y[3] = [0.05, 0, 0]  # along the cell's long axis, the tetragonal cell's 4-fold axis
    H = stabilizer(G, s, y, "1o", True, 1e-9)
    assert {(op.permutation.tobytes(), op.rotation_frac.tobytes()) for op in H.operations} == _kept(G, y, "1o", True)
    assert H.order == 4 and H.translations.shape == (1, 3)
    sym = _brute_project(G, "1o", rng.normal(size=(len(s), 3)), True)
    assert stabilizer(G, s, sym, "1o", True, 1e-9).order == G.order
    # a field that keeps half the translations (alternating along x between the two cubes)
    half = np.where(s.positions[:, 0] < 5.43 - 0.1, 1.0, -1.0)[:, None]
    Hh = stabilizer(G, s, half, "0e", True, 1e-9)
    assert Hh.order == len(_kept(G, half, "0e", True)) and len(Hh.translations) == 2
    assert np.allclose(project(Hh, "1o", y, True), _brute_project(Hh, "1o", y, True), atol=1e-12)


def test_features_lower_the_group_like_species():
    """Scalar features ±1 on a supercell: the same group as spglib with the features as species."""
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True) * (2, 2, 2)
    up = (np.round(atoms.get_scaled_positions()[:, 2] * 4).astype(int) % 2 == 0)
    s = sc.from_ase(atoms)
    magnetic = sc.Structure(s.positions, s.species, np.where(up, 1.0, -1.0)[:, None], "0e", cell=s.cell, pbc=s.pbc)
    g = symmetry_group(magnetic, TOL)
    relabeled = atoms.copy()
    relabeled.numbers = np.where(up, 29, 30)
    ds = _dataset(relabeled)
    assert (g.number, g.order) == (ds.number, len(ds.rotations))


def test_analyze_displaced_atom_in_a_supercell():
    start = _silicon((2, 2, 2))
    moved = start.positions.copy()
    moved[5] += [0.0, 0.0, 0.05]
    end = sc.Structure(moved, start.species, cell=start.cell, pbc=start.pbc)
    task = sc.Task.displacement(start, end, encoding="vector")
    r = sc.analyze(task, tol=TOL, feature_lmax=1, near_tol=0)
    G, H = r.input_group, r.target_group
    assert (G.name, G.order) == ("Fd-3m", 48 * 32)
    # H: the displaced atom's site symmetry (Td) that keeps z, i.e. C2v, and no translation
    assert H.order == 4 and H.point_group == "C2v" and not r.learnable
    brute = _brute_project(G, "1o", task.target, True)
    assert r.loss_floor == pytest.approx(float(np.mean((task.target - brute) ** 2)), rel=1e-12)
    assert same_group(H, stabilizer(G, start, task.target, "1o", True, 1e-9))


def test_symmetrize_and_ladder_of_a_displaced_supercell():
    start = _silicon((2, 2, 2))
    moved = start.positions.copy()
    moved[5] += [0.0, 0.0, 0.02]
    noisy = sc.Structure(moved, start.species, cell=start.cell, pbc=start.pbc)
    assert symmetry_group(noisy, TOL).order == 4
    fixed = sc.symmetrize(noisy, "Fd-3m", tol=TOL)
    g = symmetry_group(fixed, 1e-6)
    assert (g.name, g.order) == ("Fd-3m", 1536)
    # the Reynolds average over every element of the group symmetrize used, brute force
    G = next(step.group for step in tolerance_ladder(noisy) if step.tol > TOL and step.group.name == "Fd-3m")
    pos, inv = noisy.positions, np.linalg.inv(noisy.cell)
    total = np.zeros_like(pos)
    for op in G.operations:
        moved = pos @ op.matrix.T + op.translation
        total[op.permutation] += moved - np.round((moved - pos[op.permutation]) @ inv) @ noisy.cell
    assert np.allclose(fixed.positions, total / G.order, atol=1e-12)
    assert 0.019 < sc.max_displacement(noisy, fixed) <= 0.02


def test_rotation_only_part_keeps_every_translation():
    """G ∩ SO(3) of diamond 2×2×2: F4_132, half of Fd-3m, all 32 translations (not only those the generators make)."""
    from symcheck.groups.stabilizer import proper_part

    s = _silicon((2, 2, 2))
    G = symmetry_group(s, TOL)
    P = proper_part(G, s)
    assert (P.name, P.order, len(P.translations)) == ("F4_132", G.order // 2, 32)


def test_max_displacement_minimum_image():
    cell = np.eye(3) * 4.0
    a = sc.Structure([[0.05, 1, 1], [2, 2, 2]], ["Cu", "Cu"], cell=cell, pbc=[True] * 3)
    b = sc.Structure([[3.97, 1, 1], [2, 2.1, 2]], ["Cu", "Cu"], cell=cell, pbc=[True] * 3)
    assert sc.max_displacement(a, b) == pytest.approx(0.1)  # the first atom moved 0.08 Å through the boundary
    m1 = sc.Structure([[0, 0, 0], [1, 0, 0]], ["H", "H"])
    m2 = sc.Structure([[0, 0, 0.3], [1, 0, 0]], ["H", "H"])
    assert sc.max_displacement(m1, m2) == pytest.approx(0.3)


def test_same_group_and_minimal_overgroups_point_groups():
    cube = sc.Structure(np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float), ["C"] * 8)
    Oh = sc.point_group(cube, TOL)
    D4h = stabilizer(Oh, cube, _z2(), "2e", False, 1e-6)
    assert D4h.name == "D4h"
    assert [K.name for K in minimal_overgroups(Oh, D4h)] == ["Oh"]
    C4v = stabilizer(Oh, cube, np.array([0.0, 1.0, 0.0]), "1o", False, 1e-6)  # e3nn's y is the polar axis
    assert C4v.name == "C4v"
    assert [K.name for K in minimal_overgroups(Oh, C4v)] == ["D4h"]
    box = sc.Structure(np.array([[x, 2 * y, 3 * z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float),
                       ["C"] * 8)
    D2h = sc.point_group(box, TOL)
    C1 = subgroup(D2h, [])
    mins = minimal_overgroups(D2h, C1)
    assert sorted(K.name for K in mins) == sorted(["C2"] * 3 + ["Cs"] * 3 + ["Ci"])
    assert same_group(D2h, subgroup(D2h, list(D2h.operations))) and not same_group(D2h, C1)
    assert not same_group(mins[0], mins[1])


def _z2():
    """e3nn's l=2 component along its polar axis (y): invariant under D4h about y."""
    v = np.zeros(5)
    v[2] = 1.0
    return v


def test_minimal_overgroups_crystal_matches_brute_force():
    s = _silicon()
    G = symmetry_group(s, TOL)
    y = np.zeros((len(s), 3))
    y[0] = [0, 0, 0.05]
    H = stabilizer(G, s, y, "1o", True, 1e-9)
    mins = minimal_overgroups(G, H)
    keys = lambda K: frozenset((op.permutation.tobytes(), op.rotation_frac.tobytes()) for op in K.operations)  # noqa
    h = keys(H)
    # brute force: <H, g> for every g ∉ H, element by element, then the minimal ones
    ops = {(op.permutation.tobytes(), op.rotation_frac.tobytes()): op for op in G.operations}
    closures = set()
    for g in G.operations:
        if (g.permutation.tobytes(), g.rotation_frac.tobytes()) in h:
            continue
        closures.add(keys(subgroup(G, list(H.generators) + [g])))
    brute = {c for c in closures if not any(o < c for o in closures)}
    assert {keys(K) for K in mins} == brute
    assert all(h < keys(K) for K in mins) and len(ops) == G.order


def test_i432_at_spglibs_own_symprec():
    """H24He48 in I432 (a = 9.69 Å): named as spglib names it at 1e-5 and 1e-4, with spglib's translations."""
    atoms = crystal(["H", "He"], basis=[(0.3, 0, 0.5), (0.1, 0.2, 0.35)], spacegroup=211,
                    cellpar=[9.69, 9.69, 9.69, 90, 90, 90])
    atoms.positions += np.random.default_rng(0).uniform(-1, 1, size=atoms.positions.shape) * 5e-7
    assert len(atoms) == 72 and atoms.get_chemical_formula() == "H24He48"
    for tol in (1e-5, 1e-4):
        ds = _dataset(atoms, tol)
        g = symmetry_group(sc.from_ase(atoms), tol)
        assert ds.international == "I432" and (g.name, g.number, g.order) == ("I432", 211, 48)
        ours = _op_set([op.rotation_frac for op in g.operations], [op.translation_frac for op in g.operations])
        assert ours == _op_set(ds.rotations, ds.translations)


def test_i432_from_an_ase_written_cif(tmp_path):
    """The same I432 cell written to CIF by ASE and read back: spglib's group at 1e-5 and 1e-4 (the old
    reader turned the CIF's bookkeeping into features and said P1)."""
    from ase.io import write

    atoms = crystal(["H", "He"], basis=[(0.3, 0, 0.5), (0.1, 0.2, 0.35)], spacegroup=211,
                    cellpar=[9.69, 9.69, 9.69, 90, 90, 90])
    atoms.positions += np.random.default_rng(4).uniform(-1, 1, size=atoms.positions.shape) * 1e-6
    write(tmp_path / "i432.cif", atoms)
    for tol in (1e-5, 1e-4):
        g = symmetry_group(sc.read(tmp_path / "i432.cif"), tol)
        assert (g.name, g.number, g.order) == ("I432", 211, 48) == (_dataset(atoms, tol).international, 211, 48)


def test_r3c_distorted_at_tol_0_1():
    """A distorted LiNbO3-type cell: R3c at tol 0.1 Å, as spglib at symprec 0.1, and lower at 1e-3."""
    atoms = crystal(["Li", "Nb", "O"], basis=[(0, 0, 0.2829), (0, 0, 0), (0.0492, 0.3446, 0.0647)], spacegroup=161,
                    cellpar=[5.148, 5.148, 13.863, 90, 90, 120])
    rng = np.random.default_rng(0)
    atoms.set_cell(atoms.cell[:] @ (np.eye(3) + rng.normal(size=(3, 3)) * 0.004), scale_atoms=True)
    atoms.positions += rng.uniform(-1, 1, size=atoms.positions.shape) * 0.02
    for tol in (0.1, 1e-3):
        ds = _dataset(atoms, tol)
        g = symmetry_group(sc.from_ase(atoms), tol)
        assert (g.name, g.number, g.order) == (ds.international, ds.number, len(ds.rotations))
    assert symmetry_group(sc.from_ase(atoms), 0.1).name == "R3c"
    assert symmetry_group(sc.from_ase(atoms), 1e-3).name == "P1"


@pytest.mark.parametrize("triclinic", [False, True])
def test_small_cell_matching_equals_the_kd_tree(triclinic):
    """Small cells find nearest atoms by comparing with every image (no scipy); the k-d tree agrees."""
    from symcheck.groups.translations import Matcher

    rng = np.random.default_rng(3)
    cell = np.diag([4.0, 5.0, 6.5]) + (rng.normal(scale=0.8, size=(3, 3)) if triclinic else 0.0)
    frac = rng.random((40, 3))
    points = frac[rng.integers(0, 40, 300)] + rng.normal(scale=0.02, size=(300, 3)) + rng.integers(-2, 3, (300, 3))
    small, tree = Matcher(cell, frac), Matcher(cell, frac, small_cell=0)
    assert small.tree is None and tree.tree is not None
    for k in (1, 2):
        d1, j1 = small.query(points, k=k)
        d2, j2 = tree.query(points, k=k)
        np.testing.assert_allclose(d1, d2, atol=1e-12)
        assert np.array_equal(j1, j2)
    if not triclinic:  # one atom, two neighbours asked for: inf and index n, as the k-d tree says
        d1, j1 = Matcher(cell, frac[:1]).query(points[:5], k=2)
        d2, j2 = Matcher(cell, frac[:1], small_cell=0).query(points[:5], k=2)
        np.testing.assert_allclose(d1, d2, atol=1e-12)
        assert np.array_equal(j1, j2)
