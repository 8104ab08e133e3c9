"""Files written by ASE's own writers give spglib's space group; bad files give one plain line; frames.

Regression for issue 10, item 1: ASE's CIF reader attaches per-atom bookkeeping
(``spacegroup_kinds``) that used to become features, so an ASE-written CIF of fcc Cu came out
Pmmm (No. 47) instead of Fm-3m (No. 225); cubic BaTiO3 Pmmm, hcp Mg P-6m2, rutile Pm and
quartz P1. Only physical per-atom quantities may become features.
"""

import os
import stat

import numpy as np
import pytest
import spglib
from ase import Atoms
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.spacegroup import crystal

import symcheck as sc
from symcheck import SymcheckError
from symcheck.groups import symmetry_group
from symcheck.io import frame_count

TOL = 0.01


def _cu():
    return bulk("Cu", "fcc", a=3.61, cubic=True)


def _batio3():
    return crystal(["Ba", "Ti", "O"], basis=[(0, 0, 0), (0.5, 0.5, 0.5), (0.5, 0.5, 0)], spacegroup=221,
                   cellpar=[4.0, 4.0, 4.0, 90, 90, 90])


def _mg():
    return bulk("Mg", "hcp", a=3.21, c=5.21)


def _rutile():
    return crystal(["Ti", "O"], basis=[(0, 0, 0), (0.3053, 0.3053, 0)], spacegroup=136,
                   cellpar=[4.594, 4.594, 2.959, 90, 90, 90])


def _quartz():
    return crystal(["Si", "O"], basis=[(0.4697, 0, 0), (0.4135, 0.2669, 0.1191)], spacegroup=154,
                   cellpar=[4.916, 4.916, 5.405, 90, 90, 120])


# name -> (builder, literature space-group number)
CRYSTALS = {
    "Cu fcc": (_cu, 225),  # Fm-3m
    "BaTiO3 cubic": (_batio3, 221),  # Pm-3m
    "Mg hcp": (_mg, 194),  # P6_3/mmc
    "rutile TiO2": (_rutile, 136),  # P4_2/mnm
    "alpha-quartz": (_quartz, 154),  # P3_221 (this hand; the other is P3_121, 152)
}
# ASE writer format -> file name
WRITERS = {"cif": "x.cif", "vasp": "POSCAR", "extxyz": "x.extxyz", "proteindatabank": "x.pdb",
           "json": "x.json", "traj": "x.traj"}


def _spglib_number(atoms) -> int:
    return spglib.get_symmetry_dataset((atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers),
                                       symprec=TOL).number


def _write(tmp_path, atoms, fmt):
    import ase.io

    path = tmp_path / WRITERS[fmt]
    if fmt == "extxyz":
        # the common conversion: read the CIF with ASE and write it back out as extxyz, so the
        # CIF reader's spacegroup_kinds travel along as a column; add surface-style tags too
        ase.io.write(tmp_path / "via.cif", atoms)
        atoms = ase.io.read(tmp_path / "via.cif")
        atoms.set_tags(np.arange(len(atoms)))
        atoms.arrays["occupancy"] = np.linspace(0.5, 1.0, len(atoms))
    ase.io.write(path, atoms, format=fmt)
    return path


@pytest.mark.parametrize("fmt", sorted(WRITERS))
@pytest.mark.parametrize("name", sorted(CRYSTALS))
def test_ase_written_files_give_spglibs_group(tmp_path, name, fmt):
    build, number = CRYSTALS[name]
    atoms = build()
    assert _spglib_number(atoms) == number
    s = sc.read(_write(tmp_path, atoms, fmt))
    assert s.periodic and len(s) == len(atoms)
    assert s.features is None, f"bookkeeping became features: {s.feature_names}"
    assert symmetry_group(s, TOL).number == number


def test_reader_bookkeeping_arrays_are_present_but_ignored(tmp_path):
    """The arrays that caused the bug are really there; they just do not become features."""
    import ase.io

    ase.io.write(tmp_path / "cu.cif", _cu())
    assert "spacegroup_kinds" in ase.io.read(tmp_path / "cu.cif").arrays
    ase.io.write(tmp_path / "cu.pdb", _cu())
    pdb = ase.io.read(tmp_path / "cu.pdb")
    assert {"occupancy", "bfactor", "residuenumbers"} <= set(pdb.arrays)
    assert sc.read(tmp_path / "cu.cif").features is None and sc.read(tmp_path / "cu.pdb").features is None
    assert sc.from_ase(ase.io.read(tmp_path / "cu.cif")).features is None


@pytest.mark.parametrize("fmt", ["extxyz", "vasp", "traj"])
def test_velocity_is_a_polar_vector(tmp_path, fmt):
    """Ti moving along z in cubic BaTiO3: P4mm (99), not three scalars (which gave Pm)."""
    atoms = _batio3()
    v = np.zeros((len(atoms), 3))
    v[1, 2] = 0.01
    atoms.set_velocities(v)
    atoms.arrays.pop("spacegroup_kinds")
    s = sc.read(_write(tmp_path, atoms, fmt) if fmt != "extxyz" else _plain_write(tmp_path, atoms))
    assert s.feature_irreps == "1o" and s.feature_names == ("momenta",)
    assert symmetry_group(s, TOL).number == 99


def _plain_write(tmp_path, atoms, name="x.extxyz"):
    import ase.io

    path = tmp_path / name
    ase.io.write(path, atoms, format="extxyz")
    return path


def test_forces_polar_and_three_column_magmoms_axial(tmp_path):
    """A force along z on Ti gives P4mm (99); a magnetic moment along z (axial) gives P4/m (83)."""
    atoms = _batio3()
    atoms.arrays.pop("spacegroup_kinds")
    f = np.zeros((len(atoms), 3))
    f[1, 2] = 0.5
    atoms.calc = SinglePointCalculator(atoms, forces=f, energy=0.0)
    assert symmetry_group(sc.read(_plain_write(tmp_path, atoms)), TOL).number == 99
    atoms.calc = None
    atoms.set_initial_magnetic_moments(f)
    s = sc.read(_plain_write(tmp_path, atoms, "m.extxyz"))
    assert s.feature_irreps == "1e"
    assert symmetry_group(s, TOL).number == 83


def test_collinear_magmoms_are_scalars(tmp_path):
    """A collinear moment is a signed size along an axis the file does not give: 0e.

    Ferromagnetic Cu keeps Fm-3m; antiferromagnetic layers get the group of the coloured lattice.
    """
    import ase.io

    atoms = _cu()
    atoms.set_initial_magnetic_moments([1.0] * 4)
    s = sc.read(_plain_write(tmp_path, atoms))
    assert s.feature_irreps == "1x0e" and symmetry_group(s, TOL).number == 225
    afm = [1.0, -1.0, -1.0, 1.0]  # (0,0,0), (0,½,½) up/down … alternating (001) layers
    atoms.set_initial_magnetic_moments(afm)
    s = sc.read(_plain_write(tmp_path, atoms, "afm.extxyz"))
    coloured = atoms.copy()
    coloured.numbers = [29 if m > 0 else 79 for m in afm]
    assert symmetry_group(s, TOL).number == _spglib_number(coloured) == 123  # P4/mmm
    # vasprun/OUTCAR-style collinear moments from a calculator, through an ASE trajectory
    atoms.set_initial_magnetic_moments(None)
    atoms.calc = SinglePointCalculator(atoms, magmoms=np.array(afm), energy=0.0)
    ase.io.write(tmp_path / "m.traj", atoms)
    assert symmetry_group(sc.read(tmp_path / "m.traj"), TOL).number == 123


def test_masses_count_only_as_isotopes(tmp_path):
    atoms = _cu()
    atoms.set_masses([63.5] * 4)  # not ASE's table, but the same for every Cu: nothing to tell
    assert sc.read(_plain_write(tmp_path, atoms)).features is None
    atoms.set_masses([63.0, 65.0, 65.0, 65.0])  # one 63Cu among 65Cu
    s = sc.read(_plain_write(tmp_path, atoms, "iso.extxyz"))
    assert s.feature_names == ("masses",) and symmetry_group(s, TOL).number == 221  # Pm-3m


def test_zero_velocities_are_dropped(tmp_path):
    """A relaxed CONTCAR's all-zero velocity block is no feature."""
    import ase.io

    atoms = _cu()
    atoms.set_velocities(np.zeros((4, 3)))
    ase.io.write(tmp_path / "CONTCAR", atoms, format="vasp")
    assert "momenta" in ase.io.read(tmp_path / "CONTCAR").arrays
    assert sc.read(tmp_path / "CONTCAR").features is None


def test_extxyz_user_columns_and_explicit_features(tmp_path):
    """extxyz columns the user declared stay features (0e per column); bookkeeping names never."""
    atoms = Atoms("H4", positions=[[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]])
    atoms.arrays["label"] = np.array([0, 0, 0, 1])
    atoms.arrays["spacegroup_kinds"] = np.array([0, 1, 2, 3])
    path = _plain_write(tmp_path, atoms)
    s = sc.read(path)
    assert s.feature_names == ("label",) and s.feature_irreps == "1x0e"
    assert sc.point_group(s).name == "C2v"
    # from_ase does not guess: arrays it does not know are ignored unless named
    assert sc.from_ase(atoms).features is None
    s = sc.from_ase(atoms, features={"label": "0e"})
    assert s.feature_irreps == "0e" and sc.point_group(s).name == "C2v"
    assert sc.read(path, features={}).features is None
    with pytest.raises(SymcheckError, match="no per-atom array 'charge'"):
        sc.read(path, features={"charge": "0e"})
    with pytest.raises(SymcheckError, match="need 3"):
        sc.read(path, features={"label": "1o"})


# --------------------------------------------------------------------------- frames


def _trajectory(tmp_path, name="t.xyz"):
    import ase.io

    frames = [Atoms("H2", positions=[[0, 0, 0], [0, 0, d]]) for d in (0.7, 0.8, 0.9)]
    ase.io.write(tmp_path / name, frames)
    return tmp_path / name


@pytest.mark.parametrize("name", ["t.xyz", "t.extxyz", "t.traj", "t.json"])
def test_frames_by_number(tmp_path, name):
    path = _trajectory(tmp_path, name)
    assert frame_count(path) == 3
    assert sc.read(path, index=0).positions[1, 2] == pytest.approx(0.7)
    assert sc.read(path, index=-2).positions[1, 2] == pytest.approx(0.8)
    assert sc.read(path).positions[1, 2] == pytest.approx(0.9)
    assert [round(s.positions[1, 2], 3) for s in sc.read(path, index="1:")] == [0.8, 0.9]
    with pytest.raises(SymcheckError) as info:
        sc.read(path, index=7)
    assert str(info.value) == f"{path}: frame 7 asked for, the file has 3 frames (0 to 2)"
    with pytest.raises(SymcheckError, match="frame -4 asked for"):
        sc.read(path, index=-4)


@pytest.mark.parametrize("final_newline", [True, False])
def test_xyz_frame_scan_across_buffer_boundaries(tmp_path, final_newline):
    """Frames of many sizes and line lengths, over several 1 MiB read chunks, are counted exactly."""
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 4000, size=60)
    sizes[7], sizes[8] = 1, 20000  # a one-atom frame and one bigger than a read window
    parts = []
    for k, n in enumerate(sizes):
        pad = " " * int(rng.integers(0, 40))
        atoms = "".join(f"H {i * 0.9:.2f} {k}.0 0.0{pad}\n" for i in range(n))
        parts.append(f"{n}\nframe {k}\n{atoms}")
    text = "".join(parts)
    path = tmp_path / "sizes.xyz"
    path.write_text(text if final_newline else text.rstrip("\n"))
    assert path.stat().st_size > 2 * 2**20
    assert frame_count(path) == len(sizes)
    for k in (0, 8, len(sizes) - 1):
        assert len(sc.read(path, index=k)) == sizes[k]
    path.write_text(text[: text.rindex("H ") - 1])  # the last frame loses its last atom line
    _assert_plain_error(path, f"frame {len(sizes) - 1} .* declares {sizes[-1]} atoms, but the file ends after "
                              f"{sizes[-1] - 1} of them")


def test_compressed_xyz_frames(tmp_path):
    import gzip

    text = _trajectory(tmp_path).read_bytes()
    path = tmp_path / "t.xyz.gz"
    path.write_bytes(gzip.compress(text))
    assert frame_count(path) == 3 and sc.read(path, index=1).positions[1, 2] == pytest.approx(0.8)
    (tmp_path / "bad.xyz.gz").write_bytes(gzip.compress(b"5\n\nH 0 0 0\n"))
    _assert_plain_error(tmp_path / "bad.xyz.gz", "declares 5 atoms, but the file ends after 1")
    (tmp_path / "corrupt.xyz.gz").write_bytes(gzip.compress(text)[:-30])
    _assert_plain_error(tmp_path / "corrupt.xyz.gz", "cannot read the file")


def test_frame_count_of_single_structures(tmp_path):
    import ase.io

    ase.io.write(tmp_path / "cu.cif", _cu())
    ase.io.write(tmp_path / "POSCAR", _cu(), format="vasp")
    assert frame_count(tmp_path / "cu.cif") == frame_count(tmp_path / "POSCAR") == 1
    with pytest.raises(SymcheckError, match=r"frame 1 asked for, the file has 1 frame \(0\)"):
        sc.read(tmp_path / "POSCAR", index=1)


def test_xyz_frame_count_reads_headers_only(tmp_path):
    """Counting frames skips atom lines: atom lines that are not even numbers do not matter."""
    path = tmp_path / "big.xyz"
    frame = "3\ncomment\n" + "not an atom line\n" * 3
    path.write_text(frame * 1000)
    assert frame_count(path) == 1000


# ----------------------------------------------------------------------- bad files

CU_CIF = """data_cu
_cell_length_a 3.61
_cell_length_b 3.61
_cell_length_c 3.61
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Cu1 Cu 0 0 0
Cu2 Cu 0 0.5 0.5
Cu3 Cu 0.5 0 0.5
Cu4 Cu 0.5 0.5 0
"""
CU_POSCAR = """Cu
1.0
3.61 0 0
0 3.61 0
0 0 3.61
Cu
4
Direct
0 0 0
0 0.5 0.5
0.5 0 0.5
0.5 0.5 0
"""


def _no_cell(text):
    return "\n".join(line for line in text.splitlines() if not line.startswith("_cell"))


BAD_TEXT = {
    "a0.cif": (CU_CIF.replace("_cell_length_a 3.61", "_cell_length_a 0"), "_cell_length_a is 0"),
    "alpha0.cif": (CU_CIF.replace("_cell_angle_alpha 90", "_cell_angle_alpha 0"), "_cell_angle_alpha is 0"),
    "flat.cif": (CU_CIF.replace("_cell_angle_gamma 90", "_cell_angle_gamma 180"), "angle must lie between"),
    "impossible.cif": (CU_CIF.replace("_cell_angle_alpha 90", "_cell_angle_alpha 170")
                       .replace("_cell_angle_beta 90", "_cell_angle_beta 10"), "give no cell"),
    "nan.cif": (CU_CIF.replace("_cell_length_b 3.61", "_cell_length_b nan"), "_cell_length_b is"),
    "nocell.cif": (_no_cell(CU_CIF), "the cell is missing"),
    "POSCAR_truncated": (CU_POSCAR[: CU_POSCAR.index("0.5 0 0.5")], "declares 4 atoms, but only 2"),
    "POSCAR_short": (CU_POSCAR[:20], "lattice vector"),
    "POSCAR_nan": (CU_POSCAR.replace("3.61 0 0", "nan 0 0"), "cell contains NaN or inf"),
    "POSCAR_huge": (CU_POSCAR.replace("\n4\n", "\n100000000\n"), "declares 100000000 atoms"),
    "zero_lattice.extxyz": ('1\nLattice="0 0 0 0 0 0 0 0 0" Properties=species:S:1:pos:R:3 pbc="T T T"\nCu 0 0 0\n',
                            "periodic boundaries .pbc. are declared but the cell is zero"),
    "nan_lattice.extxyz": ('1\nLattice="nan 0 0 0 1 0 0 0 1" Properties=species:S:1:pos:R:3 pbc="T T T"\nCu 0 0 0\n',
                           "NaN or inf"),
    "flat_lattice.extxyz": ('1\nLattice="1 0 0 2 0 0 0 0 1" Properties=species:S:1:pos:R:3 pbc="T T T"\nCu 0 0 0\n',
                            "zero volume"),
    "huge_columns.extxyz": ('1\nProperties=species:S:100000000:pos:R:3\nCu 0 0 0\n', "declares 100000003 columns"),
    "more_columns.extxyz": ('1\nProperties=species:S:1:pos:R:3:charge:R:1\nCu 0 0 0\n',
                            "declares 5 columns per atom in Properties, but the atom lines have 4"),
    "huge_length.cif": (CU_CIF.replace("_cell_length_a 3.61", "_cell_length_a 1e300"),
                        "cell vector a is 1e.300 Å long; a periodic cell longer than 1e.06 Å is no crystal"),
    "long_lattice.extxyz": ('1\nLattice="1e9 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3 pbc="T T T"\nCu 0 0 0\n',
                            "cell vector a is 1e.09 Å long"),
    "huge_angle.cif": (CU_CIF.replace("_cell_angle_beta 90", "_cell_angle_beta 99999999999999999999"),
                       "angle must lie between"),
    "huge.xyz": ("100000000\n\nC 0 0 0\nH 1 0 0\n", "declares 100000000 atoms, but the file ends after 2"),
    "negative.xyz": ("-3\n\nC 0 0 0\n", "declares -3 atoms"),
    "header.xyz": ("two\n\nC 0 0 0\nH 1 0 0\n", "line 1 should be the number of atoms"),
    "second_frame.xyz": ("1\n\nC 0 0 0\n5\n\nC 0 0 0\n", r"frame 1 \(line 4\) declares 5 atoms"),
    "letters.xyz": ("2\n\nC 0 0 x\nH 1 0 0\n", "cannot read"),
    "blank.xyz": ("\n\n\n", "holds no structure"),
}


@pytest.mark.parametrize("name", sorted(BAD_TEXT))
def test_bad_text_files(tmp_path, name):
    content, message = BAD_TEXT[name]
    path = tmp_path / name
    path.write_text(content)
    fmt = "vasp" if name.startswith("POSCAR") else None
    _assert_plain_error(path, message, format=fmt)


BAD_BYTES = {
    "garbage.xyz": (bytes(range(256)) * 40, "is a binary file"),
    "garbage.cif": (bytes(range(256)) * 40, "cannot read the file as CIF"),
    "garbage.traj": (bytes(range(256)) * 40, "cannot read"),
    "garbage.json": (b"{not json" * 10, "cannot read"),
    "utf16.xyz": ("2\n\nC 0 0 0\nH 1 0 0\n".encode("utf-16"), "UTF-16"),
    "latin1.xyz": ("2\nCaf\xe9\nC 0 0 0\nH 1 0 0\n".encode("latin-1"), "not UTF-8 text: byte 0xe9"),
    "noext": (b"\x89PNG\r\n\x1a\n" + bytes(100), "cannot"),
}


@pytest.mark.parametrize("name", sorted(BAD_BYTES))
def test_bad_binary_files(tmp_path, name):
    content, message = BAD_BYTES[name]
    path = tmp_path / name
    path.write_bytes(content)
    _assert_plain_error(path, message)


def test_latin1_cif_comment_is_fine(tmp_path):
    """ASE decodes CIFs itself (latin-1 as a fallback): a non-UTF-8 comment is no reason to refuse."""
    path = tmp_path / "latin1.cif"
    path.write_bytes(CU_CIF.replace("data_cu", "data_cu\n# R\xe9sum\xe9").encode("latin-1"))
    assert symmetry_group(sc.read(path), TOL).number == 225


def _assert_plain_error(path, message, **kwargs):
    with pytest.raises(SymcheckError, match=message) as info:
        sc.read(path, **kwargs)
    text = str(info.value)
    assert text.startswith(str(path)) and "\n" not in text
    for internal in ("AssertionError", "Singular matrix", "broadcast", "Traceback", "Error)", "Error:"):
        assert internal not in text


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_refused_without_reading(tmp_path):
    """A FIFO with no writer would block a reader forever; it is refused before it is opened."""
    path = tmp_path / "pipe.xyz"
    os.mkfifo(path)
    assert stat.S_ISFIFO(os.stat(path).st_mode)
    _assert_plain_error(path, r"is not a regular file \(a pipe or FIFO\)")
    with pytest.raises(SymcheckError, match="not a regular file"):
        frame_count(path)


def test_devices_directories_and_missing_files(tmp_path):
    if os.path.exists("/dev/null"):
        _assert_plain_error("/dev/null", r"is not a regular file \(a device\)")
    _assert_plain_error(tmp_path, "is a directory")
    _assert_plain_error(tmp_path / "missing.xyz", "no such file")
    os.symlink(tmp_path / "gone.xyz", tmp_path / "link.xyz")
    _assert_plain_error(tmp_path / "link.xyz", "broken symbolic link")
    (tmp_path / "x.xyz").write_text("1\n\nH 0 0 0\n")
    _assert_plain_error(tmp_path / "x.xyz", "unknown format 'nonsense'", format="nonsense")
    with pytest.raises(SymcheckError, match="frame index"):
        sc.read(tmp_path / "x.xyz", index=1.5)


def test_structure_validation_of_cells():
    with pytest.raises(SymcheckError, match="cell contains NaN"):
        sc.Structure([[0.0, 0, 0]], cell=[[np.nan, 0, 0], [0, 1, 0], [0, 0, 1]])
    with pytest.raises(SymcheckError, match="cell is zero"):
        sc.Structure([[0.0, 0, 0]], cell=np.zeros((3, 3)), pbc=[True, True, True])
    with pytest.raises(SymcheckError, match="3×3"):
        sc.Structure([[0.0, 0, 0]], cell=[1.0, 2.0])
    with pytest.raises(SymcheckError, match="three booleans"):
        sc.Structure([[0.0, 0, 0]], cell=np.eye(3), pbc=[True, False])
    with pytest.raises(SymcheckError, match="feature names"):
        sc.Structure([[0.0, 0, 0]], features=[[1.0, 2.0]], feature_irreps="2x0e", feature_names=("a", "b"))
    # a zero cell without periodic boundaries is just no cell
    assert not sc.Structure([[0.0, 0, 0]], cell=np.zeros((3, 3)), pbc=[False] * 3).periodic


def test_from_ase_refuses_periodic_atoms_without_a_cell():
    with pytest.raises(SymcheckError, match="cell is zero"):
        sc.from_ase(Atoms("Cu", pbc=True))
    with pytest.raises(SymcheckError, match="cell vector c is zero along a periodic direction"):
        sc.from_ase(Atoms("Cu", cell=[[1, 0, 0], [0, 1, 0], [0, 0, 0]], pbc=True))
    assert not sc.from_ase(Atoms("Cu", cell=[[1, 0, 0], [0, 1, 0], [0, 0, 0]], pbc=False)).periodic
