"""`symcheck modes` as a stranger uses it (issue 12): ASE-written CIF and POSCAR files, atoms in another
order, a pure strain, and hostile input (another atom count, other species, NaN, a missing file): the
answer, or a one-line error naming the file with exit code 2."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
from ase import Atoms
from symcheck_cli.main import app
from typer.testing import CliRunner

A0 = 4.0
FRAC = np.array([[0, 0, 0], [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]])
SPECIES = ["Ti", "Ba", "O", "O", "O"]


def _atoms(c_over_a: float = 1.0, ti: float = 0.0, o: float = 0.0, species=SPECIES) -> Atoms:
    atoms = Atoms(species, scaled_positions=FRAC, cell=np.diag([A0, A0, A0 * c_over_a]), pbc=True)
    atoms.positions[0, 2] += ti
    atoms.positions[2:, 2] += o
    return atoms


def _run(*args: str):
    return CliRunner().invoke(app, ["modes", *args])


@pytest.mark.parametrize("fmt, suffix", [("cif", ".cif"), ("vasp", ".vasp")])
def test_ase_written_files_in_another_atom_order(tmp_path, fmt, suffix):
    parent, child = tmp_path / f"cubic{suffix}", tmp_path / f"polar{suffix}"
    ase.io.write(parent, _atoms(), format=fmt)
    ase.io.write(child, _atoms(1.01, 0.05, -0.02)[[3, 0, 4, 2, 1]], format=fmt)  # atoms shuffled
    res = _run(str(parent), str(child), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["child"] == {"space_group": "P4mm", "number": 99}
    assert [(m["irrep"], m["direction"], m["primary"]) for m in data["modes"]] == [("GM4-", "(0,0,a)", True)]
    assert data["residual"] < 1e-10
    assert {s["irrep"]: s["primary"] for s in data["strain"]} == {"GM1+": False, "GM3+": False}


def test_pure_strain_says_so_and_its_gm3_plus_is_primary(tmp_path):
    ase.io.write(tmp_path / "cubic.cif", _atoms())
    ase.io.write(tmp_path / "tetragonal.cif", _atoms(1.01))
    res = _run(str(tmp_path / "cubic.cif"), str(tmp_path / "tetragonal.cif"))
    assert res.exit_code == 0, res.output
    assert "homogeneous strain only" in res.stdout and "symmetry modes of the parent" not in res.stdout
    assert "the GM3+ strain needs symmetry breaking" in res.stdout
    data = json.loads(_run(str(tmp_path / "cubic.cif"), str(tmp_path / "tetragonal.cif"), "--json").stdout)
    assert data["modes"] == [] and data["child"]["number"] == 123
    # the volume change cannot lower the symmetry; the tetragonal GM3+ strain alone gives P4/mmm
    assert {s["irrep"]: (s["primary"], s["learnable"]) for s in data["strain"]} == {
        "GM1+": (False, True), "GM3+": (True, False)}


def _nan_xyz(path):
    path.write_text('5\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 pbc="T T T"\n'
                    "Ti 0 0 0\nBa 2 2 2\nO 2 0 0\nO 0 2 nan\nO 0 0 2\n")


@pytest.mark.parametrize("make, words", [
    (lambda p: ase.io.write(p / "child.cif", _atoms()[:4]), "4 atoms"),
    (lambda p: ase.io.write(p / "child.cif", _atoms(species=["Ti", "Sr", "O", "O", "O"])), "species"),
    (lambda p: _nan_xyz(p / "child.xyz"), "not finite"),
    (lambda p: None, "no such file"),
])
def test_hostile_child_is_a_one_line_error(tmp_path, make, words):
    ase.io.write(tmp_path / "cubic.cif", _atoms())
    make(tmp_path)
    child = next(iter(sorted(tmp_path.glob("child.*"))), tmp_path / "child.cif")
    res = _run(str(tmp_path / "cubic.cif"), str(child))
    assert res.exit_code == 2, res.output
    assert res.output.strip().count("\n") == 0 and child.name in res.output and words in res.output
