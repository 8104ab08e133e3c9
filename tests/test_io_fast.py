"""symcheck.io reads common extxyz files without ase.io (issue 14): the same Structures as through ASE."""

import fnmatch
import warnings
from io import StringIO
from pathlib import Path

import numpy as np
import pytest

import symcheck as sc
from symcheck import io, plainio
from symcheck.errors import SymcheckError

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted([*ROOT.glob("examples/*.xyz"), *ROOT.glob("examples/*.extxyz"), *ROOT.glob("symcheck/data/*.xyz")])


def _through_ase(path, index):
    """The structure as symcheck made it before the fast path: ase.io.read, then from_ase."""
    import ase.io

    return io.from_ase(ase.io.read(path, index=index, format="extxyz"), source=str(path), user_columns=True)


def _same(a, b):
    assert a.species == b.species
    np.testing.assert_array_equal(a.positions, b.positions)
    assert (a.cell is None) == (b.cell is None)
    if a.cell is not None:
        np.testing.assert_array_equal(a.cell, b.cell)
        np.testing.assert_array_equal(a.pbc, b.pbc)
    assert a.feature_irreps == b.feature_irreps and a.feature_names == b.feature_names
    if a.features is None:
        assert b.features is None
    else:
        np.testing.assert_array_equal(a.features, b.features)


def _fast_taken(path):
    heads = io._xyz_frames(str(path))
    return plainio.plain_extxyz_frames(str(path), heads) is not None


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_files_read_alike_without_ase_io(path):
    assert _fast_taken(path)
    for k in range(io.frame_count(path)):
        _same(sc.read(path, index=k), _through_ase(path, k))


def _labelled_files(folder):
    """extxyz files written by ASE with the arrays and calculator results symcheck turns into features."""
    import ase.io
    from ase.build import bulk, molecule
    from ase.calculators.singlepoint import SinglePointCalculator

    rng = np.random.default_rng(3)
    files = {}
    water = molecule("H2O")  # 3 atoms: a dipole of shape (3,) is not a per-atom array
    water.calc = SinglePointCalculator(water, energy=-1.0, dipole=np.array([0.0, 0.0, 0.3]),
                                       forces=rng.normal(size=(3, 3)))
    files["water.extxyz"] = [water]
    cell = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((1, 1, 2))[:6]  # 6 atoms: a Voigt stress has 6 entries
    cell.calc = SinglePointCalculator(cell, energy=2.0, stress=rng.normal(size=6), forces=rng.normal(size=(6, 3)))
    files["six.extxyz"] = [cell]
    afm = bulk("Fe", "bcc", a=2.87, cubic=True)
    afm.set_initial_magnetic_moments([1.0, -1.0])
    axial = molecule("CH4")
    axial.set_initial_magnetic_moments(np.eye(5, 3))
    charged = molecule("NH3")
    charged.set_initial_charges([0.3, -0.1, -0.1, -0.1])
    charged.set_velocities(rng.normal(size=(4, 3)))
    iso = molecule("CH4")
    iso.set_masses([12.0, 1.008, 2.014, 1.008, 1.008])
    user = molecule("C6H6")
    user.new_array("label", np.arange(12, dtype=np.int32))
    user.new_array("weights", rng.normal(size=(12, 2)))
    slab = bulk("Al", "fcc", a=4.05, cubic=True)
    slab.pbc = [True, False, True]
    files.update({"afm.extxyz": [afm], "axial.extxyz": [axial], "charged.extxyz": [charged], "iso.xyz": [iso],
                  "user.extxyz": [user], "slab.extxyz": [slab], "frames.xyz": [water, afm, charged, user]})
    paths = []
    for name, images in files.items():
        ase.io.write(folder / name, images, format="extxyz")
        paths.append(folder / name)
    return paths


def test_ase_written_files_read_alike_without_ase_io(tmp_path):
    for path in _labelled_files(tmp_path):
        assert _fast_taken(path), path.name
        for k in range(io.frame_count(path)):
            _same(sc.read(path, index=k), _through_ase(path, k))


def test_dipole_of_a_three_atom_molecule_is_not_per_atom(tmp_path):
    """A water molecule's dipole (3,) and a 6-atom cell's Voigt stress (6,) are per structure, not per atom."""
    water, six = _labelled_files(tmp_path)[:2]
    assert sc.read(water).feature_names == ("forces",)
    assert sc.read(six).feature_names == ("forces",)


HAND_WRITTEN = {
    "plain.xyz": "2\nwater-free  comment, (with) +-0.5 words\nh 0 0 0\ncl 0 0 1.27\n",
    "crlf.xyz": "2\r\nHCl\r\nH 0 0 0\r\nCl 0 0 1.27\r\n",
    "spaces.extxyz": '1\nLattice = "3 0 0 0 3 0 0 0 3"  pbc="T F T" Properties=species:S:1:pos:R:3:q:R:1\n'
                     'Cu 0 0 0 0.5\n',
    "bare_pbc.extxyz": "1\npbc\nCu 0 0 0\n",
    "extra_columns.extxyz": "2\nProperties=species:S:1:pos:R:3\nH 0 0 0 9 9\nH 0 0 1 9 9\n",
    "ints.extxyz": "2\nProperties=species:S:1:pos:R:3:tag2:I:1 energy=-3.5 stress=\"1 0 0 0 1 0 0 0 1\"\n"
                   "H 0 0 0 1\nH 0 0 1 2\n",
}


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_hand_written_files_read_alike_or_fail_alike(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(HAND_WRITTEN[name].encode())
    assert _fast_taken(path)
    try:
        expected = _through_ase(path, -1)
    except SymcheckError as exc:
        with pytest.raises(SymcheckError) as got:
            sc.read(path)
        assert str(got.value).endswith(str(exc).split(": ", 1)[1])
        return
    _same(sc.read(path), expected)


LEFT_TO_ASE = {
    "json.extxyz": '1\nProperties=species:S:1:pos:R:3 data="_JSON [1, 2]"\nH 0 0 0\n',
    "numbers.extxyz": "1\nProperties=Z:I:1:pos:R:3\n1 0 0 0\n",
    "logical.extxyz": "1\nProperties=species:S:1:pos:R:3:move_mask:L:1\nH 0 0 0 T\n",
    "braces.extxyz": "1\nProperties=species:S:1:pos:R:3 info={a b}\nH 0 0 0\n",
    "escaped.extxyz": '1\nProperties=species:S:1:pos:R:3 name="a\\"b"\nH 0 0 0\n',
    "vec.xyz": "1\n\nH 0 0 0\nVEC1 3 0 0\n",
    "unknown.xyz": "1\n\nQq 0 0 0\n",
    "cr.xyz": "1\r\rH 0 0 0\r",
}


@pytest.mark.parametrize("name", sorted(LEFT_TO_ASE))
def test_unusual_files_are_left_to_ase(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(LEFT_TO_ASE[name].encode())
    try:
        heads = io._xyz_frames(str(path))
    except SymcheckError:
        return  # refused before any reader runs
    assert plainio.plain_extxyz_frames(str(path), heads) is None


def test_name_and_content_checks_cover_the_installed_ase():
    """Every ASE format recognised by name or signature before the extension is one the fast path leaves to ASE."""
    from ase.io.formats import filetype, ioformats

    for fmt in ioformats.values():
        for glob in fmt.globs:
            if fnmatch.fnmatch("a.xyz", glob) or "*" not in glob:
                continue
            core = glob.strip("*").split("*")[0]
            if fnmatch.fnmatch(f"x{core}y.xyz", glob):
                assert any(w in core.upper() for w in io._OTHER_NAMES), glob
        for magic in fmt.magic:
            core = magic.lstrip(b"*").strip()
            assert any(m in core for m in io._OTHER_MAGIC), (fmt.name, magic)
        if fmt.magic_regex:
            assert any(m in fmt.magic_regex for m in (b"ITEM:", b"begin")), fmt.name
    for name in ("a.xyz", "b.extxyz", "C.XYZ", "d.ExtXyz"):
        assert io._plain_extxyz_name(name, b"1\n\nH 0 0 0\n") and filetype(name, read=False) == "extxyz"
    assert not io._plain_extxyz_name("POSCAR.xyz", b"1\n\nH 0 0 0\n")
    assert not io._plain_extxyz_name("a.xyz", b"2\nMOLECULE\nH 0 0 0\nH 0 0 1\n")


def _same_atoms(fast, atoms):
    """A frame of parse_plain_extxyz holds what ase.io.read gives: arrays, info, calculator results, cell, pbc."""
    assert len(fast) == len(atoms) and fast.get_chemical_symbols() == atoms.get_chemical_symbols()
    assert set(fast.arrays) == set(atoms.arrays)
    for k, v in atoms.arrays.items():
        np.testing.assert_array_equal(fast.arrays[k], v)
    assert set(fast.info) == set(atoms.info)
    for k, v in atoms.info.items():
        assert type(fast.info[k]) is type(v), k
        np.testing.assert_array_equal(fast.info[k], v)
    results = atoms.calc.results if atoms.calc is not None else {}
    assert set(fast.calc.results if fast.calc is not None else {}) == set(results)
    for k, v in results.items():
        np.testing.assert_array_equal(fast.calc.results[k], v)
    np.testing.assert_array_equal(fast.cell, np.array(atoms.cell))
    np.testing.assert_array_equal(fast.pbc, atoms.pbc)


def test_scan_frames_read_alike_without_ase_io(tmp_path):
    """Training-set frames (EMT forces, energy and stress; info keys of every kind) as ASE reads them."""
    import ase.io
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from ase.calculators.singlepoint import SinglePointCalculator

    frames = []
    for k, el in enumerate(("Cu", "Al", "Ni")):
        atoms = bulk(el, "fcc", cubic=True).repeat((2, 1, 1))
        atoms.rattle(0.02, seed=k)
        atoms.calc = EMT()
        res = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces(), "stress": atoms.get_stress()}
        atoms.calc = SinglePointCalculator(atoms, **res)
        atoms.info.update({"step": k, "temperature": 300.5, "converged": True, "name": f"{el} cell",
                           "dipole_guess": np.array([0.1, 0.2, 0.3]), "counts": np.arange(4),
                           "virial": np.arange(9.0).reshape(3, 3)})
        frames.append(atoms)
    path = tmp_path / "train.extxyz"
    ase.io.write(path, frames, format="extxyz")
    text = path.read_text()
    fast = plainio.parse_plain_extxyz(text)
    assert fast is not None
    for f, a in zip(fast, ase.io.read(path, index=":"), strict=True):
        _same_atoms(f, a)
        _same_atoms(f, f.to_atoms())
    for body in HAND_WRITTEN.values():
        got = plainio.parse_plain_extxyz(body)
        assert got is not None
        _same_atoms(got[0], ase.io.read(StringIO(body), index=0, format="extxyz"))


def test_calculator_lists_are_ases():
    from ase.io.extxyz import per_atom_properties, per_config_properties

    assert plainio.CALC_PER_ATOM == set(per_atom_properties)
    assert plainio.CALC_PER_FRAME == set(per_config_properties)
    assert io._PER_STRUCTURE_RESULTS == set(per_config_properties)


@pytest.mark.parametrize("text", ["2\n\nH 0 0 0\n", "x\n\nH 0 0 0\n", "1\n\nH 0 0 0\nVEC1 1 0 0\n",
                                  "1\r\rH 0 0 0\r", "1\nProperties=Z:I:1:pos:R:3\n1 0 0 0\n"])
def test_plain_text_parser_leaves_the_rest_to_ase(text):
    assert plainio.parse_plain_extxyz(text) is None


def _poscars(folder):
    """POSCAR/CONTCAR files as ASE writes them (direct, Cartesian, velocities, selective dynamics) and by hand."""
    import ase.io
    from ase.build import bulk
    from ase.constraints import FixAtoms

    rng = np.random.default_rng(5)
    salt = bulk("NaCl", "rocksalt", a=5.64, cubic=True)
    paths = []
    for name, kw in (("POSCAR", {}), ("CONTCAR", {"direct": True}), ("cart_POSCAR", {"direct": False}),
                     ("x.vasp", {"direct": True, "sort": True})):
        ase.io.write(folder / name, salt, format="vasp", **kw)
        paths.append(folder / name)
    moving = salt.copy()
    moving.set_velocities(rng.normal(size=(len(salt), 3)) * 0.01)
    ase.io.write(folder / "v_CONTCAR", moving, format="vasp", direct=True)
    fixed = salt.copy()
    fixed.set_constraint(FixAtoms([0, 1]))
    ase.io.write(folder / "sd_POSCAR", fixed, format="vasp")
    paths += [folder / "v_CONTCAR", folder / "sd_POSCAR"]
    hand = {
        "neg_POSCAR": "Cu volume\n-47.0\n1 0 0\n0 1 0\n0 0 1\nCu\n1\nDirect\n0 0 0\n",
        "three_POSCAR": "Cu scaled\n3.6 3.6 3.0\n1 0 0\n0 1 0\n0 0 1\nCu\n2\nCartesian\n0 0 0\n0.5 0.5 0.5\n",
        "hash_POSCAR": "NaCl\n1.0\n5.64 0 0\n0 5.64 0\n0 0 5.64\nNa_pv/6a2f546d Cl/0123abcd\n1 1\ndirect\n0 0 0 Na\n"
                       "0.5 0.5 0.5 Cl\n",
        "sd2_POSCAR": "H2\n1.0\n5 0 0\n0 5 0\n0 0 5\nH\n2\nSelective dynamics\nCartesian\n0 0 0 F F F\n"
                      "0 0 0.74 T T T\n",
    }
    for name, text in hand.items():
        (folder / name).write_text(text)
        paths.append(folder / name)
    return paths


def test_poscars_read_alike_without_ase_io(tmp_path):
    import ase.io

    for path in _poscars(tmp_path):
        assert plainio.plain_poscar(str(path)) is not None, path.name
        assert io._check_file(str(path), None) == "vasp"
        expected = io.from_ase(ase.io.read(path, format="vasp"), source=str(path))
        _same(sc.read(path), expected)
    assert sc.read(tmp_path / "v_CONTCAR").feature_names == ("momenta",)


@pytest.mark.parametrize("text", [
    "Cu\n3.6\n1 0 0\n0 1 0\n0 0 1\n1\nDirect\n0 0 0\n",  # VASP 4: species from the comment line
    "Cu\n3.6\n1 0 0\n0 1 0\n0 0 1\nCu\n1 ! one\nDirect\n0 0 0\n",
    "H\n1.0\n5 0 0\n0 5 0\n0 0 5\nH\n1\nSelective dynamics\nDirect\n0 0 0 F F F\n\n0.1 0 0\n",
    "H\n1.0\n5 0 0\n0 5 0\n0 0 5\nH\n1\nDirect\n0 0 0\nLattice velocities and vectors\n1\n",
    "H\n1.0\n5 0 0\n0 5 0\n0 0 5\nH\n1\nDirect\n0 0\n",
    "H\n1.0\n5 0 0\n0 5 0\n0 0 5\nH\n1\nSelective\nDirect\n0 0 0\n",  # no flags: ASE refuses it
])
def test_unusual_poscars_are_left_to_ase(tmp_path, text):
    path = tmp_path / "POSCAR"
    path.write_text(text)
    assert plainio.plain_poscar(str(path)) is None


def test_zero_cell_poscar_gives_no_warning(tmp_path):
    path = tmp_path / "POSCAR"
    path.write_text("H\n-10\n0 0 0\n0 0 0\n0 0 0\nH\n1\nDirect\n0 0 0\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not np.isfinite(plainio.plain_poscar(str(path)).cell).all()


def test_poscar_names():
    head = b"Cu\n1.0\n"
    assert io._plain_poscar_name("POSCAR", head) and io._plain_poscar_name("run1/CONTCAR_relaxed", head)
    assert io._plain_poscar_name("salt.vasp", head)
    for name in ("OUTCAR", "POSCAR.gz", "XDATCAR", "vasprun.xml", "POSCAR_CONFIG", "notes.txt"):
        assert not io._plain_poscar_name(name, head), name
    assert not io._plain_poscar_name("POSCAR", b"Cu\nMOLECULE\n")
