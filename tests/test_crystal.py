"""Crystals: space groups against spglib, the perovskite order parameters, invariance, bad cells."""

import numpy as np
import pytest
import spglib
from ase.build import bulk
from ase.spacegroup import crystal
from spglib import error as spglib_error

import symcheck as sc
from symcheck import SymcheckError
from symcheck.fixed import act
from symcheck.groups import SpaceGroup, symmetry_group

spglib_error.OLD_ERROR_HANDLING = False  # the old None-returning mode is deprecated
TOL = 1e-3


def rutile():
    return crystal(["Ti", "O"], basis=[(0, 0, 0), (0.3, 0.3, 0.0)], spacegroup=136,
                   cellpar=[4.6, 4.6, 2.95, 90, 90, 90])


BULK = {
    "Si": (lambda: bulk("Si", "diamond", 5.43), 227),
    "NaCl": (lambda: bulk("NaCl", "rocksalt", 5.64), 225),
    "Cu": (lambda: bulk("Cu", "fcc", 3.6), 225),
    "Fe": (lambda: bulk("Fe", "bcc", 2.87), 229),
    "Mg": (lambda: bulk("Mg", "hcp", 3.21, 5.21), 194),
    "ZnO": (lambda: bulk("ZnO", "wurtzite", a=3.25, c=5.2), 186),
    "TiO2": (rutile, 136),
    "Cu cubic 2x2x2": (lambda: bulk("Cu", "fcc", 3.6, cubic=True).repeat(2), 225),
}


@pytest.mark.parametrize("name", sorted(BULK))
def test_agrees_with_spglib(name):
    build, number = BULK[name]
    atoms = build()
    g = symmetry_group(sc.from_ase(atoms), TOL)
    ds = spglib.get_symmetry_dataset((atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers), symprec=TOL)
    assert isinstance(g, SpaceGroup)
    assert g.number == ds.number == number
    assert g.international == ds.international
    assert g.order == len(ds.rotations)
    # every operation maps the cell's atoms onto atoms of the same species, modulo the lattice
    s = sc.from_ase(atoms)
    inv = np.linalg.inv(s.cell)
    for op in g.operations:
        moved = s.positions @ op.matrix.T + op.translation
        d = (moved - s.positions[op.permutation]) @ inv
        d -= np.round(d)
        assert np.max(np.linalg.norm(d @ s.cell, axis=1)) < TOL
        assert [s.species[j] for j in op.permutation] == list(s.species)
    assert sorted(len(o) for o in g.equivalent_atoms) == sorted(np.bincount(ds.equivalent_atoms)[
        np.unique(ds.equivalent_atoms)])


@pytest.mark.parametrize(
    "name, number, symbol",
    [("cubic", 221, "Pm-3m"), ("tetragonal", 99, "P4mm"), ("cubic_2x2x2", 221, "Pm-3m"),
     ("tilt_a0a0c-", 140, "I4/mcm"), ("tilt_a-b+a-", 62, "Pnma")],
)
def test_perovskite_groups(name, number, symbol, perovskite):
    g = symmetry_group(perovskite(name), TOL)
    assert (g.number, g.international) == (number, symbol)


def test_supercell_translations_are_elements(perovskite):
    g = symmetry_group(perovskite("cubic_2x2x2"), TOL)
    assert g.order == 48 * 8  # Oh times the 8 translations of the 2×2×2 cell
    pure = [op for op in g.operations if np.allclose(op.matrix, np.eye(3)) and op.kind == "t"]
    assert len(pure) == 7


def _check_suggestions(report, structure):
    """Every listed suggestion's stabilizer, verified by applying the whole group G to it."""
    G = report.input_group
    for s in report.suggestions:
        kept = 0
        for op in G.operations:
            perm = op.permutation if s.scope == "per-point" else None
            moved = act(s.irreps, op.matrix, perm, s.vector)
            kept += np.max(np.abs(moved - s.vector)) < 1e-6
        assert kept == s.stabilizer_order, (s.irreps, s.scope, s.stabilizer)
        assert s.reaches_target == (kept == report.target_group.order)


def test_ferroelectric_p4mm_global_polar_vector(perovskite):
    task = sc.Task.displacement(perovskite("cubic"), perovskite("tetragonal"), encoding="vector")
    r = sc.analyze(task, tol=TOL)
    assert (r.input_group.number, r.target_group.number) == (221, 99)
    assert not r.learnable and r.loss_floor == pytest.approx(r.mean_square)
    first = r.suggestions[0]
    assert (first.irreps, first.scope, first.polynomial, first.stabilizer) == ("1o", "global", "z", "P4mm")
    _check_suggestions(r, task.structure)


@pytest.mark.parametrize("tilt, number", [("tilt_a0a0c-", 140), ("tilt_a-b+a-", 62)])
def test_tilts_need_per_site_fields_including_the_b_site_pseudovector(tilt, number, perovskite):
    task = sc.Task.displacement(perovskite("cubic_2x2x2"), perovskite(tilt), encoding="vector")
    r = sc.analyze(task, tol=TOL)
    assert r.target_group.number == number
    fixes = [s for s in r.suggestions if s.reaches_target]
    # no global feature can break a translation
    assert fixes and all(s.scope == "per-point" for s in fixes)
    assert not any(s.reaches_target for s in r.suggestions if s.scope == "global")
    # the order parameter of Smidt, Geiger & Miller (2021): a pseudovector (1e) on the B (Zn) sites
    zn = [s for s in fixes if s.irreps == "1e" and {task.structure.species[i] for i in s.sites} == {"Zn"}]
    assert zn, [(s.irreps, s.sites[:2]) for s in fixes]
    # several per-site fields of the same L reach the target; ranking: L, then the candidate space
    assert [s.L for s in fixes] == sorted(s.L for s in fixes)
    _check_suggestions(r, task.structure)


def test_a0a0c_lowest_l_is_zero(perovskite):
    """A per-site pseudoscalar (0o) on the F sites already reaches I4/mcm: L=0 comes first."""
    task = sc.Task.displacement(perovskite("cubic_2x2x2"), perovskite("tilt_a0a0c-"), encoding="vector")
    r = sc.analyze(task, tol=TOL)
    best = r.suggestions[0]
    assert (best.irreps, best.stabilizer) == ("0o", "I4/mcm")
    assert {task.structure.species[i] for i in best.sites} == {"F"}


def test_invariance_under_origin_shift_and_atom_order(perovskite):
    start, end = perovskite("cubic_2x2x2"), perovskite("tilt_a0a0c-")
    ref = sc.analyze(sc.Task.displacement(start, end, encoding="vector"), tol=TOL)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(start))
    shift = np.array([0.37, -1.1, 2.3])
    moved = [sc.Structure(s.positions[order] + shift, [s.species[i] for i in order], cell=s.cell, pbc=s.pbc)
             for s in (start, end)]
    r = sc.analyze(sc.Task.displacement(*moved, encoding="vector"), tol=TOL)
    assert (r.input_group.number, r.target_group.number) == (ref.input_group.number, ref.target_group.number)
    assert r.loss_floor == pytest.approx(ref.loss_floor, rel=1e-9)
    assert [(s.irreps, s.scope, s.reaches_target) for s in r.suggestions] == [
        (s.irreps, s.scope, s.reaches_target) for s in ref.suggestions]


def test_bad_cells(tmp_path):
    from ase import Atoms

    flat = sc.Structure([[0.0, 0, 0]], ["Cu"], cell=[[1, 0, 0], [0, 1, 0], [0, 0, 0]], pbc=[True] * 3)
    with pytest.raises(SymcheckError, match="zero volume"):
        symmetry_group(flat, TOL)
    overlap = Atoms("Cu2", positions=[[0, 0, 0], [3.6, 0, 0]], cell=np.eye(3) * 3.6, pbc=True)
    with pytest.raises(SymcheckError, match="overlap through the periodic images"):
        symmetry_group(sc.from_ase(overlap), TOL)


def test_crystal_ladder_and_symmetrize(perovskite):
    """The ferroelectric cell is P4mm up to 0.1 Å and Pm-3m beyond; symmetrizing moves Zn back by 0.1 Å."""
    from symcheck.near import tolerance_ladder

    tetragonal = perovskite("tetragonal")
    steps = tolerance_ladder(tetragonal)
    names = [s.group.name for s in steps]
    assert names[0] == "P4mm" and names[-1] == "Pm-3m"
    assert steps[0].distance < 1e-12 and steps[-1].distance == pytest.approx(0.1, rel=1e-9)
    cubic = sc.symmetrize(tetragonal, "Pm-3m", tol=TOL)
    assert symmetry_group(cubic, 1e-6).name == "Pm-3m"
    moved = np.linalg.norm(cubic.positions - tetragonal.positions, axis=1)
    assert moved[1] == pytest.approx(0.1) and np.all(moved[[0, 2, 3, 4]] < 1e-9)


def test_cli_lists_each_wyckoff_position_once(tmp_path):
    """A distorted supercell has many orbits on one Wyckoff position: `group` names each position once,
    with its atoms and orbits counted (it used to print one entry per orbit, hundreds of them)."""
    from ase.build import bulk
    from ase.io import write
    from symcheck_cli.main import app
    from typer.testing import CliRunner

    atoms = bulk("Si", "diamond", a=5.43, cubic=True) * (2, 2, 2)
    atoms.positions[0] += [0.0, 0.0, 0.05]
    write(tmp_path / "si.cif", atoms)
    r = CliRunner().invoke(app, ["group", str(tmp_path / "si.cif"), "--tol", "1e-3"])
    line = next(x for x in r.stdout.splitlines() if x.startswith("Wyckoff sites"))
    entries = [e.split(" ×")[0] for e in line.removeprefix("Wyckoff sites: ").split("; ")]
    assert r.exit_code == 0 and len(entries) == len(set(entries)) and "orbits" in line
    assert sum(int(e.split(" ×")[1].split()[0]) for e in line.removeprefix("Wyckoff sites: ").split("; ")) == 64


def test_cli_prints_space_groups(examples):
    import json

    from symcheck_cli.main import app
    from typer.testing import CliRunner

    runner = CliRunner()
    cubic, tetragonal = examples / "perovskite_cubic.extxyz", examples / "perovskite_tetragonal.extxyz"
    r = runner.invoke(app, ["group", str(cubic), "--tol", "1e-3"])
    assert r.exit_code == 0 and "Pm-3m (No. 221)" in " ".join(r.stdout.split()) and "Wyckoff" in r.stdout
    r = runner.invoke(app, ["analyze", str(cubic), str(tetragonal), "--tol", "1e-3", "--encoding", "vector", "--json"])
    data = json.loads(r.stdout)
    assert data["input"]["space_group_number"] == 221 and data["input"]["point_group"] == "Oh"
    assert data["target"]["space_group"] == "P4mm" and data["target"]["point_group"] == "C4v"
    assert data["suggestions"][0]["polynomial"] == "z"
