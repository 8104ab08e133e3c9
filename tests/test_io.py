"""Reading structures through ASE: formats, features, cells, trajectories and bad files."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

import symcheck as sc
from symcheck import SymcheckError


def test_bundled_examples_are_the_tutorial_shapes(examples):
    square, rectangle = sc.read(examples / "square.xyz"), sc.read(examples / "rectangle.xyz")
    assert np.allclose(square.positions, [[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]])
    assert np.allclose(rectangle.positions, [[-0.25, -0.75, 0], [0.25, -0.75, 0], [0.25, 0.75, 0], [-0.25, 0.75, 0]])
    assert sc.example("square") == square and sc.example("rectangle") == rectangle


def test_extxyz_arrays_become_features(tmp_path):
    import ase.io

    a = Atoms("H4", positions=[[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]])
    a.arrays["vectors"] = np.tile([0.0, 0.0, 1.0], (4, 1))
    a.arrays["charge"] = np.array([1.0, 1.0, 1.0, 2.0])
    ase.io.write(tmp_path / "f.extxyz", a)
    s = sc.read(tmp_path / "f.extxyz")
    assert s.feature_irreps == "1x0e+1o"
    assert np.allclose(s.features[:, 0], [1, 1, 1, 2]) and np.allclose(s.features[:, 1:], a.arrays["vectors"])
    # the features decide the group: vectors along +z make it C4v; one different charge lowers it further
    assert sc.point_group(s).name == "Cs"
    assert sc.point_group(s.with_features(s.features[:, 1:], "1o")).name == "C4v"


def test_cif_and_poscar_keep_cell(tmp_path):
    import ase.io

    ase.io.write(tmp_path / "si.cif", bulk("Si", "diamond", 5.43))
    ase.io.write(tmp_path / "POSCAR", bulk("NaCl", "rocksalt", 5.64), format="vasp")
    si = sc.read(tmp_path / "si.cif")
    nacl = sc.read(tmp_path / "POSCAR")
    assert si.periodic and nacl.periodic and si.pbc.all()
    assert np.isclose(abs(np.linalg.det(si.cell)), 5.43**3 / 4)
    assert nacl.species == ("Na", "Cl")


def test_trajectory_frames(tmp_path):
    import ase.io

    frames = [Atoms("H2", positions=[[0, 0, 0], [0, 0, d]]) for d in (0.7, 0.8, 0.9)]
    ase.io.write(tmp_path / "t.xyz", frames)
    all_frames = sc.read(tmp_path / "t.xyz", index=":")
    assert [round(f.positions[1, 2], 3) for f in all_frames] == [0.7, 0.8, 0.9]
    assert sc.read(tmp_path / "t.xyz").positions[1, 2] == pytest.approx(0.9)


def test_periodic_structure_is_refused_by_point_group(tmp_path):
    import ase.io

    ase.io.write(tmp_path / "si.cif", bulk("Si", "diamond", 5.43))
    with pytest.raises(SymcheckError, match="periodic"):
        sc.point_group(sc.read(tmp_path / "si.cif"))


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty"),
        ("garbage\n", "cannot read"),
        ("3\n\nC 0 0 0\nH 1 0 0\n", "cannot read"),
        ("2\n\nC 0 0 nan\nH 1 0 0\n", "not finite"),
        ("2\n\nC 0 0 inf\nH 1 0 0\n", "not finite"),
    ],
)
def test_bad_files_name_file_and_problem(tmp_path, content, message):
    path = tmp_path / "bad.xyz"
    path.write_text(content)
    with pytest.raises(SymcheckError, match=message) as info:
        sc.read(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file():
    with pytest.raises(SymcheckError, match="no such file"):
        sc.read("does/not/exist.xyz")


def test_structure_validation():
    with pytest.raises(SymcheckError, match=r"shape \(N, 3\)"):
        sc.Structure([[0.0, 0.0]])
    with pytest.raises(SymcheckError, match="species"):
        sc.Structure([[0.0, 0, 0]], species=["H", "H"])
    with pytest.raises(SymcheckError, match="dimension"):
        sc.Structure([[0.0, 0, 0]], features=[[1.0, 2.0]], feature_irreps="1o")
    with pytest.raises(SymcheckError, match="unknown irreps"):
        sc.Structure([[0.0, 0, 0]], features=[[1.0, 2.0, 3.0]], feature_irreps="1q")
    s = sc.Structure([[0.0, 0, 0], [1.0, 0, 0]])
    with pytest.raises((AttributeError, TypeError)):
        s.positions = np.zeros((2, 3))  # frozen
    with pytest.raises(ValueError):
        s.positions[0, 0] = 5.0  # read-only array
