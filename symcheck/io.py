"""Reading and writing structures through ASE (xyz, extxyz, cif, POSCAR and whatever else ASE reads).

How a file becomes features
---------------------------
Only physical per-atom quantities become features, each with the irreps it transforms as
(see :data:`PHYSICAL_ARRAYS`). What a reader adds for its own bookkeeping never does: ASE's CIF
reader labels each atom with its asymmetric-unit site (``spacegroup_kinds``), its PDB reader
adds residue numbers, occupancies and B factors, ``ase.build`` tags surface layers. Such
numbers distinguish atoms that the structure does not distinguish, and used as features they
silently lower the group (an ASE-written CIF of fcc Cu came out Pmmm instead of Fm-3m).

The extended-XYZ format is the exception: its header declares every column, so a numeric
column the user put there and symcheck does not know (``label:I:1``) still becomes scalar
features (``0e``, one per column), except names that readers and builders write for their
own bookkeeping (:data:`BOOKKEEPING_ARRAYS`). ``read(path, features={...})`` and
``from_ase(atoms, features={...})`` choose the feature arrays and their irreps explicitly.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Mapping

import numpy as np

from .errors import SymcheckError
from .o3 import Irreps
from .plainio import CALC_PER_FRAME, floats, plain_extxyz_frames, plain_poscar
from .structure import Structure

# Per-atom polar vectors (1o): velocities and momenta (ASE stores velocities as momenta), forces,
# displacements, dipoles. Three columns each.
_POLAR = frozenset(
    {"momenta", "velocities", "velocity", "vel", "velo", "forces", "force", "vectors",
     "displacements", "displacement", "dipoles", "dipole"}
)
# Magnetic moments: three columns are an axial vector (1e, unchanged by inversion). One column is
# a collinear moment m along an axis that the file does not give; without spin–orbit coupling
# that axis is not tied to the lattice, so what the moment tells the geometry is only which
# sites carry which (signed) size: a scalar, 0e. Up and down sites of an antiferromagnet are
# then different; time reversal (which would swap them) is not an operation of these groups.
_MAGNETIC = frozenset({"magmoms", "initial_magmoms", "magmom"})
# Per-atom scalars (0e): charges, per-atom energies.
_SCALAR = frozenset({"initial_charges", "charges", "charge", "energies"})
# Masses: a feature only where atoms of one species differ (isotopes); a mass per element adds
# nothing to the species and is dropped.
_MASS = frozenset({"masses", "mass"})

#: Array name -> how it becomes a feature. Arrays not listed here are never features, except
#: numeric user columns of an extended-XYZ file (see the module docstring).
PHYSICAL_ARRAYS: dict[str, str] = {
    **{k: "1o (3 columns: a polar vector)" for k in sorted(_POLAR)},
    **{k: "1e (3 columns: an axial vector) or 0e (1 column: a collinear moment)" for k in sorted(_MAGNETIC)},
    **{k: "0e (1 column)" for k in sorted(_SCALAR)},
    **{k: "0e (1 column), only where atoms of one species differ (isotopes)" for k in sorted(_MASS)},
}

#: Per-atom arrays that ASE's readers and builders attach for bookkeeping (audited for ASE 3.29:
#: cif, vasp, extxyz, pdb, gromacs, lammps, castep, magres, prismatic/mustem, ase.build,
#: ase.spacegroup). They never become features, also not as extended-XYZ user columns, where
#: they turn up when an ASE-read CIF or PDB is written back out as extxyz.
BOOKKEEPING_ARRAYS = frozenset(
    {"numbers", "positions", "species", "symbols", "Z", "pos", "tags", "spacegroup_kinds",
     "occupancy", "occupancies", "bfactor", "debye_waller_factors", "residuenumbers", "residuenames",
     "atomtypes", "id", "ids", "type", "types", "mol-id", "mol_id", "index", "indices", "labels",
     "castep_labels", "castep_custom_species", "mmcharges", "move_mask", "bonds", "angles",
     "dihedrals", "quaternions", "selective_dynamics", "frozen", "fixed"}
)

# ASE calculator results of the whole structure (ase.calculators.calculator.all_properties less
# the per-atom ones, the same list as ASE's extxyz per-frame keys): never per-atom arrays, whatever their length.
_PER_STRUCTURE_RESULTS = CALC_PER_FRAME

# Per-atom calculator results left out: per-atom stresses and Born effective charges are
# tensors computed from the structure itself, so they carry its symmetry and add nothing.
_CALC_RESULTS = _POLAR | _MAGNETIC | _SCALAR

# Formats whose files hold frames as "<count>\n<comment>\n<count atom lines>"; the scan below
# checks every count against the file before ASE reads it.
_XYZ_FORMATS = ("xyz", "extxyz")
_CHUNK = 1 << 20


def from_ase(atoms, source: str = "", *, features: Mapping[str, str] | None = None,
             user_columns: bool = False) -> Structure:
    """A Structure from an ``ase.Atoms``: positions (Å), symbols, cell and pbc when periodic.

    Parameters
    ----------
    atoms : the ase.Atoms.
    source : file name, used in messages.
    features : array name -> e3nn irreps string, choosing the feature arrays (from
        ``atoms.arrays`` or the calculator's per-atom results) explicitly; ``{}`` for none.
        None (the default) uses the physical arrays of :data:`PHYSICAL_ARRAYS`:
        velocities/momenta, forces, displacements, dipoles 1o; 3-column magnetic moments 1e,
        collinear ones 0e; charges and per-atom energies 0e; masses 0e only where atoms of one
        species differ. Arrays that are zero on every atom are left out (a relaxed CONTCAR's
        velocity block). Anything else a reader attaches is bookkeeping and ignored.
    user_columns : also turn numeric arrays that are neither physical nor bookkeeping into
        scalar features (``{d}x0e``); ``read`` sets it for extended-XYZ files, whose header
        declares every column.

    Features are ordered by array name; ``Structure.feature_names`` names each irreps term.
    A structure with periodic boundaries must have a usable cell: an all-zero, non-finite or
    flat cell with pbc raises SymcheckError rather than quietly making a molecule.
    """
    where = f"{source}: " if source else ""
    n = len(atoms)
    if n == 0:
        raise SymcheckError(f"{where}the structure has no atoms")
    per_atom = dict(atoms.arrays)
    # extxyz columns such as forces or charges, and OUTCAR/vasprun results, live in a calculator
    results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
    for k, v in results.items():
        # a per-structure result (a water molecule's dipole, a 6-atom cell's Voigt stress) can
        # have as many rows as there are atoms; it is still not a per-atom array
        if k not in per_atom and k not in _PER_STRUCTURE_RESULTS and np.ndim(v) >= 1 and np.shape(v)[0] == n:
            per_atom[k] = v
    if features is None:
        chosen = _default_features(per_atom, atoms.numbers, user_columns, where)
    else:
        chosen = _explicit_features(per_atom, features, n, where)
    names = tuple(name for name, _, _ in chosen)
    feats = np.concatenate([arr for _, arr, _ in chosen], axis=1) if chosen else None
    irreps = "+".join(ir for _, _, ir in chosen) if chosen else None
    cell, pbc = _cell(atoms, where)
    return Structure(atoms.positions, atoms.get_chemical_symbols(), feats, irreps, cell, pbc, source,
                     names if chosen else None)


def _default_features(per_atom: dict, numbers: np.ndarray, user_columns: bool, where: str):
    """(name, (N, d) array, irreps) of the arrays that are features by default, by name."""
    chosen = []
    for name in sorted(per_atom):
        if name in BOOKKEEPING_ARRAYS:
            continue
        arr = np.asarray(per_atom[name])
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            continue
        arr = arr.reshape(len(numbers), -1).astype(float)
        cols = arr.shape[1]
        if name in _POLAR or name.startswith("dipole"):
            irreps = _need_cols(name, cols, (3,), where) and "1o"
        elif name in _MAGNETIC:
            irreps = "1e" if _need_cols(name, cols, (1, 3), where) == 3 else "1x0e"
        elif name in _SCALAR or name in _MASS:
            _need_cols(name, cols, (1,), where)
            irreps = "1x0e"
            if name in _MASS and not _differs_within_species(arr[:, 0], numbers):
                continue
        elif user_columns:
            irreps = f"{cols}x0e"
        else:
            continue
        if not np.all(np.isfinite(arr)):
            raise SymcheckError(f"{where}the per-atom array {name!r} contains NaN or inf")
        if name in PHYSICAL_ARRAYS and not np.any(arr):
            continue  # zero on every atom: a block readers fill with zeros, it distinguishes nothing
        chosen.append((name, arr, irreps))
    return chosen


def _need_cols(name: str, cols: int, allowed: tuple[int, ...], where: str) -> int:
    if cols not in allowed:
        want = " or ".join(str(c) for c in allowed)
        raise SymcheckError(f"{where}the per-atom array {name!r} has {cols} columns; expected {want}")
    return cols


def _differs_within_species(values: np.ndarray, numbers: np.ndarray) -> bool:
    for z in np.unique(numbers):
        v = values[numbers == z]
        if np.ptp(v) > 1e-6 * max(1.0, float(np.max(np.abs(v)))):
            return True
    return False


def _explicit_features(per_atom: dict, features: Mapping[str, str], n: int, where: str):
    chosen = []
    for name in sorted(features):
        if name not in per_atom:
            have = ", ".join(sorted(k for k in per_atom if k not in ("numbers", "positions"))) or "none"
            raise SymcheckError(f"{where}no per-atom array {name!r} (arrays: {have})")
        arr = np.asarray(per_atom[name])
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            raise SymcheckError(f"{where}the per-atom array {name!r} is not numeric")
        arr = arr.reshape(n, -1).astype(float)
        irreps = str(features[name])
        dim = Irreps(irreps).dim
        if dim != arr.shape[1]:
            raise SymcheckError(
                f"{where}the per-atom array {name!r} has {arr.shape[1]} columns but irreps {irreps!r} need {dim}"
            )
        chosen.append((name, arr, irreps))
    return chosen


#: Longest periodic cell vector accepted (Å): spglib's tolerances fail long before float overflow does.
_MAX_CELL_LENGTH = 1e6


def _cell(atoms, where: str):
    """(cell, pbc) for a periodic Atoms, (None, None) for a molecule; bad periodic cells raise."""
    pbc = np.asarray(atoms.pbc, dtype=bool)
    if not pbc.any():
        return None, None
    cell = np.array(atoms.cell, dtype=float)
    if not np.all(np.isfinite(cell)):
        raise SymcheckError(f"{where}the cell contains NaN or inf")
    if not np.any(cell):
        raise SymcheckError(f"{where}periodic boundaries (pbc) are declared but the cell is zero")
    big = np.max(np.abs(cell), axis=1)
    lengths = big * np.linalg.norm(cell / np.where(big > 0, big, 1.0)[:, None], axis=1)  # 1e300 does not overflow
    for k in np.flatnonzero(pbc):
        if lengths[k] == 0:
            raise SymcheckError(f"{where}cell vector {'abc'[k]} is zero along a periodic direction")
        if lengths[k] > _MAX_CELL_LENGTH:
            raise SymcheckError(f"{where}cell vector {'abc'[k]} is {lengths[k]:.3g} Å long; a periodic cell longer "
                                f"than {_MAX_CELL_LENGTH:g} Å is no crystal (declare that direction non-periodic)")
    if abs(np.linalg.det(cell)) <= 1e-9 * max(float(np.prod(lengths)), 1e-300):
        raise SymcheckError(f"{where}the cell has zero volume")
    return cell, pbc


def to_ase(structure: Structure):
    """An ``ase.Atoms`` with the structure's positions, species (unknown labels become X), cell and pbc."""
    from ase import Atoms
    from ase.data import chemical_symbols

    symbols = [s if s in chemical_symbols else "X" for s in structure.species]
    atoms = Atoms(symbols, positions=structure.positions)
    if structure.cell is not None:
        atoms.cell = structure.cell
        atoms.pbc = structure.pbc
    return atoms


# --------------------------------------------------------------------------- reading files


def read(path: str | os.PathLike, index=None, format: str | None = None, *,
         features: Mapping[str, str] | None = None) -> Structure | list[Structure]:
    """Read a structure file through ASE (xyz, extxyz, cif, POSCAR, traj, json, pdb, …).

    Parameters
    ----------
    path : a regular file (pipes, FIFOs and devices are refused: they can be read only once).
    index : None for the last frame as one Structure; an int for that frame (negative counts
        from the end) as one Structure; ``":"`` (or another slice, or slice string) for frames
        as a list.
    format : ASE format name when the file name does not tell it.
    features : array name -> irreps, choosing the feature arrays explicitly (see ``from_ase``);
        by default physical arrays, plus numeric user columns of extended-XYZ files.

    Every problem with the file raises SymcheckError with one line that starts with the path.
    """
    structures, _ = _read_counted(str(path), index, format, features)
    return structures


def read_frame(path: str | os.PathLike, index: int = -1, format: str | None = None, *,
               features: Mapping[str, str] | None = None) -> tuple[Structure, int]:
    """One frame of a structure file and the file's frame count, the file parsed once.

    Parameters are those of :func:`read` (``index`` an int, negative counting from the end).
    """
    return _read_counted(str(path), int(index), format, features)


def _read_counted(path: str, index, format: str | None, features) -> tuple[Structure | list[Structure], int]:
    fmt = _check_file(path, format)
    if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
        one, want = True, int(index)
    elif index is None:
        one, want = True, -1
    elif isinstance(index, (str, slice)):
        one, want = False, index
    else:
        raise SymcheckError(f"{path}: frame index must be an int, a slice or a string like ':', not {index!r}")
    frames, count = _ase_frames(path, fmt, want)
    if one and not -count <= want < count:
        raise SymcheckError(f"{path}: frame {want} asked for, the file has {_frames_phrase(count)}")
    structures = []
    for k, atoms in frames:
        if len(atoms) == 0:
            raise SymcheckError(f"{path}: frame {k} has no atoms")
        try:
            structures.append(from_ase(atoms, source=path, features=features, user_columns=fmt == "extxyz"))
        except SymcheckError as exc:
            msg = str(exc)
            if count > 1 and msg.startswith(f"{path}: "):
                msg = f"{path}: frame {k}: {msg[len(path) + 2:]}"
            raise SymcheckError(msg if msg.startswith(path) else f"{path}: {msg}") from None
    if one:
        return structures[0], count
    return structures, count


def frame_count(path: str | os.PathLike, format: str | None = None) -> int:
    """Number of frames (structures) in a file.

    xyz/extxyz files are counted from their headers without parsing atoms, ASE trajectories and
    databases from their index; other formats are read through ASE. Problems raise
    SymcheckError naming the file.
    """
    path = str(path)
    fmt = _check_file(path, format)
    if fmt in _XYZ_FORMATS:
        return len(_xyz_frames(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt == "traj":
                from ase.io.trajectory import Trajectory

                with Trajectory(path) as traj:
                    return len(traj)
            if fmt == "db":
                import ase.db

                return ase.db.connect(path).count()
    except Exception as exc:  # ASE raises many kinds; all mean "cannot parse"
        raise SymcheckError(f"{path}: cannot read the file as {_fmt_name(fmt)} ({_why(exc)})") from None
    frames, count = _ase_frames(path, fmt, slice(None))
    return count


_FORMAT_NAMES = {"extxyz": "extended XYZ", "xyz": "XYZ", "cif": "CIF", "vasp": "POSCAR/CONTCAR",
                 "proteindatabank": "PDB", "traj": "ASE trajectory", "json": "ASE JSON", "db": "ASE database",
                 "vasp-out": "OUTCAR", "vasp-xml": "vasprun.xml"}


def _fmt_name(fmt: str) -> str:
    return _FORMAT_NAMES.get(fmt, fmt)


def _frames_phrase(count: int) -> str:
    return "1 frame (0)" if count == 1 else f"{count} frames (0 to {count - 1})"


def _check_file(path: str, format: str | None) -> str:
    """The ASE format of a readable regular file, or SymcheckError naming the problem."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise SymcheckError(f"{path}: is a broken symbolic link") from None
        raise SymcheckError(f"{path}: no such file") from None
    except OSError as exc:
        raise SymcheckError(f"{path}: cannot access the file ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise SymcheckError(f"{path}: is a directory, not a structure file")
    if not stat.S_ISREG(st.st_mode):
        # a FIFO or pipe can be read only once (ASE reads a file more than once), a device may never end
        mode = st.st_mode
        if stat.S_ISFIFO(mode):
            kind = "a pipe or FIFO"
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            kind = "a device"
        else:
            kind = "a socket" if stat.S_ISSOCK(mode) else "a special file"
        raise SymcheckError(f"{path}: is not a regular file ({kind}); save the structure to a file first")
    if st.st_size == 0:
        raise SymcheckError(f"{path}: the file is empty")
    try:
        with open(path, "rb") as f:
            head = f.read(_PEEK_BYTES)
    except OSError as exc:
        raise SymcheckError(f"{path}: cannot open the file ({exc.strerror or exc})") from None
    if (format is None and _plain_extxyz_name(path, head)) or format == "extxyz":
        # the common case without importing ase.io (0.1-0.3 s: it pulls in scipy through ase.constraints)
        format = "extxyz"
        if not _compressed(path):
            _check_text(path, head, format)
        return format
    if (format is None and _plain_poscar_name(path, head)) or (format == "vasp" and not _compressed(path)):
        _check_text(path, head, "vasp")
        return "vasp"
    from ase.io.formats import UnknownFileTypeError, filetype, ioformats

    if format is None:
        try:
            format = filetype(path)
        except UnknownFileTypeError:
            raise SymcheckError(f"{path}: cannot tell the file's format from its name or content") from None
        except Exception as exc:  # noqa: BLE001  (ASE's guessers read the file; any failure is the file's)
            raise SymcheckError(f"{path}: cannot read the file ({_why(exc)})") from None
    if format not in ioformats:
        raise SymcheckError(f"{path}: unknown format {format!r}")
    io = ioformats[format]
    if not io.can_read:
        raise SymcheckError(f"{path}: ASE cannot read the {format} format")
    if not io.isbinary and not _compressed(path):
        _check_text(path, head, format)
    return format


def _check_text(path: str, head: bytes, format: str) -> None:
    """Refuse UTF-16 and binary content in a file of a text format (ASE's messages would be internal)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SymcheckError(f"{path}: is UTF-16 text; save it as UTF-8")
    if b"\x00" in head[:8192]:
        raise SymcheckError(f"{path}: is a binary file, not {_fmt_name(format)} text")


# ASE's ``filetype`` reads this many bytes to look for the signatures of other formats.
_PEEK_BYTES = 50_000
_XYZ_NAME = re.compile(r"\.(?:ext)?xyz$", re.IGNORECASE)
# Parts of names that ASE 3.29's ``filetype`` gives another format before looking at the extension
# (its globs ``*POSCAR*``, ``*CONTCAR*``, ``*CENTCAR*``, ``*OUTCAR*``, ``*XDATCAR*``, ``*CONFIG*``),
# and the signatures (``magic``) of other formats found anywhere in a file's first bytes. A name
# or content with any of them goes through ASE's own guess; tests/test_io_fast.py checks this list
# against the installed ASE.
_OTHER_NAMES = ("POSCAR", "CONTCAR", "CENTCAR", "OUTCAR", "XDATCAR", "CONFIG")
_OTHER_MAGIC = (b"znucl", b"ABINIT", b"FHI-aims", b"&&&&", b"Geometry", b"&system", b"&SYSTEM", b"PWSCF",
                b"GAMESS", b"Gaussian", b"___", b"GPAW", b"ITEM:", b"CDF", b"Northwest", b"Linear-Scaling",
                b"LOCK SPECIES", b"lock species", b"INPUT FILE", b"O   R   C   A", b":simulation", b"$coord",
                b"$grad", b"ANIMSTEPS", b"CRYSTAL", b"SLAB", b"POLYMER", b"MOLECULE", b"ATOMS", b"begin",
                b"Ulm", b"AFFormat", b"$DATA")


def _compressed(path: str) -> bool:
    """True for a name ASE decompresses (.gz, .bz2, .xz)."""
    return path.endswith((".gz", ".bz2", ".xz"))


_POSCAR_NAMES = ("POSCAR", "CONTCAR", "CENTCAR")  # ASE's globs *POSCAR*, *CONTCAR*, *CENTCAR*: vasp


def _plain_poscar_name(path: str, head: bytes) -> bool:
    """True when ASE's ``filetype`` would surely say vasp (POSCAR/CONTCAR): by name, no other format's signature.

    :param path: the file name.
    :param head: the file's first :data:`_PEEK_BYTES` bytes.
    """
    name = os.path.basename(path)
    upper = name.upper()
    if _compressed(path) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        return False
    others = [w for w in _OTHER_NAMES if w not in _POSCAR_NAMES]
    by_name = any(w in name for w in _POSCAR_NAMES) and not any(w in upper for w in others) \
        and not upper.endswith((".XML", ".NC", ".XV", "I_INFO"))
    by_extension = name.lower().endswith(".vasp") and not any(w in upper for w in _OTHER_NAMES)
    return (by_name or by_extension) and not any(m in head for m in _OTHER_MAGIC)


def _plain_extxyz_name(path: str, head: bytes) -> bool:
    """True when ASE's ``filetype`` would surely say extxyz: an .xyz/.extxyz name, no other format's signature.

    :param path: the file name.
    :param head: the file's first :data:`_PEEK_BYTES` bytes (raw, maybe compressed).
    """
    name = os.path.basename(path)
    if not _XYZ_NAME.search(name) or any(w in name.upper() for w in _OTHER_NAMES):
        return False
    return not any(m in head for m in _OTHER_MAGIC)


def _ase_frames(path: str, fmt: str, want) -> tuple[list[tuple[int, object]], int]:
    """[(frame number, Atoms)] for ``want`` (an int or a slice/slice string) and the file's frame count."""
    if fmt in _XYZ_FORMATS:
        heads = _xyz_frames(path)  # checks every header against the file before ASE reads it
        count = len(heads)
        if isinstance(want, int):
            if not -count <= want < count:
                return [], count
            ase_index, numbers = want % count, [want % count]
        else:
            numbers = list(range(count))[_as_slice(path, want)]
            ase_index = _as_slice(path, want)
        if fmt == "extxyz":
            fast = plain_extxyz_frames(path, [heads[k] for k in numbers])
            if fast is not None:
                return list(zip(numbers, fast)), count
    else:
        count, ase_index, numbers = None, ":", None
    if fmt == "cif":
        _check_cif_cells(path)
    elif fmt == "vasp":
        _check_poscar(path)
        fast = None if _compressed(path) else plain_poscar(path)
        if fast is not None:
            if isinstance(want, int):
                return ([(0, fast)] if want in (0, -1) else []), 1
            return [(k, fast) for k in range(1)[_as_slice(path, want)]], 1
    import ase.io
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = ase.io.read(path, index=ase_index, format=fmt)
    except SymcheckError:
        raise
    except Exception as exc:  # ASE raises many kinds; all mean "cannot parse"
        raise SymcheckError(f"{path}: cannot read the file as {_fmt_name(fmt)} ({_why(exc, path, fmt)})") from None
    got = got if isinstance(got, list) else [got]
    if count is None:
        count = len(got)
        if count == 0:
            raise SymcheckError(f"{path}: the file holds no structure")
        if isinstance(want, int):
            if not -count <= want < count:
                return [], count
            return [(want % count, got[want])], count
        numbers = list(range(count))[_as_slice(path, want)]
        return [(k, got[k]) for k in numbers], count
    if count == 0:
        raise SymcheckError(f"{path}: the file holds no structure")
    return list(zip(numbers, got)), count


def _as_slice(path: str, want) -> slice:
    if isinstance(want, slice):
        return want
    from ase.utils import string2index

    try:
        idx = string2index(want)
    except ValueError:
        raise SymcheckError(f"{path}: cannot read frame index {want!r} (use e.g. ':', '-1', '0:10:2')") from None
    if isinstance(idx, int):
        return slice(idx, None if idx == -1 else idx + 1)
    return idx


# ----------------------------------------------------------------- xyz: frames from headers


class _ByteLines:
    """Lines of a binary stream read in 1 MiB chunks, with a fast skip over many lines."""

    def __init__(self, f):
        self.f, self.buf, self.pos, self.eof, self.lineno = f, b"", 0, False, 0

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.f.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos:] + chunk
        self.pos = 0
        return True

    def readline(self) -> bytes:
        """The next line with its newline; b"" at the end of the file."""
        while True:
            i = self.buf.find(b"\n", self.pos)
            if i >= 0:
                line, self.pos = self.buf[self.pos:i + 1], i + 1
                self.lineno += 1
                return line
            if not self._fill():
                line, self.pos = self.buf[self.pos:], len(self.buf)
                self.lineno += bool(line)
                return line

    def skip(self, n: int) -> int:
        """Skip up to n lines; the number skipped (fewer only at the end of the file)."""
        done = 0
        while done < n:
            # count newlines a window at a time, so that a big frame costs a few C calls per window
            end = min(self.pos + 65536, len(self.buf))
            found = self.buf.count(b"\n", self.pos, end)
            if found >= n - done:
                need = n - done
                while end - self.pos > 1024:  # halve the window down to a few lines, then find them
                    mid = (self.pos + end) // 2
                    half = self.buf.count(b"\n", self.pos, mid)
                    if half >= need:
                        end = mid
                    else:
                        need -= half
                        self.pos = mid
                for _ in range(need):
                    self.pos = self.buf.find(b"\n", self.pos) + 1
                self.lineno += n - done
                return n
            done += found
            self.lineno += found
            self.pos = end
            if end == len(self.buf) and not self._fill():
                if self.buf and not self.buf.endswith(b"\n"):  # a last line without a newline
                    done += 1
                    self.lineno += 1
                return done
        return done


def _xyz_frames(path: str) -> list[tuple[int, int]]:
    """(header line number, atom count) of every frame of an xyz/extxyz file, checked against the file.

    Follows ASE's frame scan (a frame is a count line, a comment line and that many atom lines,
    optionally followed by VEC lines; a blank line where a count is expected ends the file), but
    fails as soon as a count overruns the file: a header claiming 10^8 atoms fails at once
    instead of after ASE's 10^8 empty reads.
    """
    frames = []
    try:
        with _open_binary(path) as f:
            lines = _ByteLines(f)
            while True:
                line = lines.readline()
                if frames and line.lstrip().startswith(b"VEC"):
                    continue
                if line.strip() == b"":
                    break
                head = lines.lineno
                try:
                    natoms = int(line)
                except ValueError:
                    raise SymcheckError(
                        f"{path}: cannot read the file: line {head} should be the number of atoms of frame "
                        f"{len(frames)}, found {_show(line)}"
                    ) from None
                if natoms < 0:
                    raise SymcheckError(f"{path}: cannot read the file: line {head} declares {natoms} atoms")
                comment = lines.readline()
                first = lines.readline() if natoms and comment else b""
                got = bool(comment) + bool(first) + (lines.skip(natoms - 1) if first and natoms > 1 else 0)
                if got < natoms + 1:
                    raise SymcheckError(
                        f"{path}: cannot read the file: frame {len(frames)} (line {head}) declares {natoms} "
                        f"atoms, but the file ends after {max(got - 1, 0)} of them"
                    )
                _check_properties(path, comment, first, head + 1)
                frames.append((head, natoms))
    except SymcheckError:
        raise
    except (OSError, EOFError, ValueError) as exc:  # e.g. a corrupt .gz
        raise SymcheckError(f"{path}: cannot read the file ({_why(exc)})") from None
    if not frames:
        raise SymcheckError(f"{path}: the file holds no structure")
    return frames


def _open_binary(path: str):
    """The file opened for reading bytes, decompressed when its name ends in .gz, .bz2 or .xz."""
    if _compressed(path):
        from ase.io.formats import open_with_compression

        return open_with_compression(path, "rb")
    return open(path, "rb")


_PROPERTIES = re.compile(rb"""(?:^|\s)Properties\s*=\s*["']?([^\s"']+)""")


def _check_properties(path: str, comment: bytes, first_atom: bytes, lineno: int) -> None:
    """Refuse an extxyz ``Properties=`` column spec that the atom lines cannot hold.

    ASE builds one column type per declared column before it reads a single atom, so
    ``species:S:100000000`` would take minutes before failing.
    """
    m = _PROPERTIES.search(comment)
    if m is None:
        return
    fields = m.group(1).split(b":")
    try:
        cols = [int(x) for x in fields[2::3]]
    except ValueError:
        return  # ASE reports the malformed spec
    total = sum(cols)
    have = len(first_atom.split()) if first_atom else None
    if any(c < 1 for c in cols) or total > 100_000 or (have is not None and total > have):
        found = f", but the atom lines have {have}" if have is not None else ""
        raise SymcheckError(f"{path}: cannot read the file: line {lineno} declares {total} columns per atom "
                            f"in Properties{found}")


def _show(raw: bytes, limit: int = 40) -> str:
    """A short, one-line, printable rendering of some bytes from a file."""
    text = raw.decode("utf-8", errors="replace").strip()
    text = "".join(c if c.isprintable() else "?" for c in text)
    return repr(text if len(text) <= limit else text[:limit] + "…")


# ----------------------------------------------------------------------------- CIF cells


def _check_cif_cells(path: str) -> None:
    """Refuse CIF data blocks with atoms whose cell is missing or impossible (ASE would assert or divide by zero)."""
    from ase.io.cif import parse_cif

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            blocks = [b for b in parse_cif(path) if b.has_structure()]
    except Exception:  # noqa: BLE001  (parse errors are reported by the full read that follows)
        return
    for block in blocks:
        name = f"data block {block.name!r}: " if len(blocks) > 1 else ""
        tags = block.cell_tags
        missing = [t for t in tags if t not in block]
        if missing:
            raise SymcheckError(f"{path}: {name}the cell is missing ({', '.join(missing)} not given)")
        values = []
        for tag in tags:
            v = block[tag]
            x = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else float("nan")
            if not np.isfinite(x):
                raise SymcheckError(f"{path}: {name}{tag} is {_show(str(v).encode())}, not a number")
            values.append(x)
        a, b, c, al, be, ga = values
        for tag, v in zip(tags[:3], (a, b, c)):
            if v <= 0:
                raise SymcheckError(f"{path}: {name}{tag} is {v:g}; a cell length must be positive")
        for tag, v in zip(tags[3:], (al, be, ga)):
            if not 0 < v < 180:
                raise SymcheckError(f"{path}: {name}{tag} is {v:g}°; a cell angle must lie between 0° and 180°")
        ca, cb, cg = np.cos(np.radians([al, be, ga]))
        if 1 - ca**2 - cb**2 - cg**2 + 2 * ca * cb * cg <= 1e-12:
            raise SymcheckError(f"{path}: {name}the cell angles {al:g}°, {be:g}°, {ga:g}° give no cell (zero volume)")


# ------------------------------------------------------------------------------ POSCAR


def _check_poscar(path: str) -> None:
    """Refuse a POSCAR/CONTCAR whose lattice lines or atom count do not fit its lines.

    ASE would allocate the declared number of atoms first (seconds for 10^8) and then fail
    with an internal numpy message. Only what ASE itself requires is checked; anything this
    does not recognise is left to ASE.
    """
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return  # reported by the full read
    for k in range(2, 5):
        if k >= len(lines):
            raise SymcheckError(f"{path}: cannot read the file as POSCAR/CONTCAR: it ends at line {len(lines)}, "
                                f"before the three lattice vectors (lines 3 to 5)")
        numbers = floats(lines[k].split()[:3])
        if numbers is None or len(numbers) < 3:
            raise SymcheckError(f"{path}: cannot read the file as POSCAR/CONTCAR: line {k + 1} should hold a "
                                f"lattice vector (three numbers), found {_show(lines[k].encode())}")
    counts_line = None
    for k in (5, 6):
        tokens = lines[k].split() if k < len(lines) else []
        if tokens and all(t.isdigit() for t in tokens):
            counts_line = k
            break
    if counts_line is None:
        return  # symbols from a POTCAR or another layout: ASE decides
    natoms = sum(int(t) for t in lines[counts_line].split())
    first = counts_line + 1
    if first < len(lines) and lines[first].strip()[:1] in ("s", "S"):
        first += 1  # "Selective dynamics"
    first += 1  # "Direct" or "Cartesian"
    coords = [line for line in lines[first:first + natoms] if line.strip()]
    if len(coords) < natoms:
        raise SymcheckError(f"{path}: cannot read the file as POSCAR/CONTCAR: line {counts_line + 1} declares "
                            f"{natoms} atoms, but only {len(coords)} coordinate lines follow")


# ------------------------------------------------------------------------ error messages

# Messages of exceptions raised by ASE on purpose about the file's content (shown to the user);
# anything else (AssertionError, LinAlgError, IndexError, numpy's broadcast errors …) is an
# internal symptom of a malformed file and is summarised instead.
_INTERNAL = re.compile(
    r"broadcast|shape|singular|index \d+ is out of bounds|out of range|has no attribute|unsupported operand|"
    r"NoneType|subscriptable|referenced before assignment|values to unpack|not iterable|"
    r"argument must be|object cannot be|unhashable|codec can't",
    re.IGNORECASE,
)


def _why(exc: BaseException, path: str = "", fmt: str = "") -> str:
    """One plain line saying why a file could not be read, without internal exception names."""
    if isinstance(exc, UnicodeDecodeError):
        return f"it is not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
    if isinstance(exc, MemoryError):
        return "it declares more data than fits in memory"
    text = " ".join(str(exc).split())
    for prefix in ("ase.io.extxyz: ", "ase.io.adfxyz: "):
        text = text.replace(prefix, "")
    if isinstance(exc, ValueError) and text.startswith("could not convert string to float"):
        return "a number could not be read: " + text.split(":", 1)[-1].strip()[:60]
    if isinstance(exc, ValueError) and text.startswith("invalid literal for int()"):
        return "an integer could not be read: " + text.split(":", 1)[-1].strip()[:60]
    if not text or _INTERNAL.search(text) or isinstance(exc, (AssertionError, IndexError, KeyError, TypeError,
                                                               AttributeError, StopIteration, ZeroDivisionError)):
        return "it is truncated or malformed"
    return text if len(text) <= 160 else text[:160] + "…"


# ------------------------------------------------------------------------------- writing


def write(path: str | os.PathLike, structure: Structure, format: str | None = None) -> None:
    """Write a structure through ASE (format from the file name unless given)."""
    import ase.io

    ase.io.write(str(path), to_ase(structure), format=format)


def example(name: str) -> Structure:
    """A structure bundled with symcheck: ``"square"`` or ``"rectangle"`` (the tutorial's shapes)."""
    from importlib.resources import files

    target = files("symcheck") / "data" / f"{name}.xyz"
    if not target.is_file():
        raise SymcheckError(f"no bundled example named {name!r} (have: square, rectangle)")
    return read(str(target))


__all__ = ["BOOKKEEPING_ARRAYS", "PHYSICAL_ARRAYS", "example", "frame_count", "from_ase", "read", "to_ase", "write"]
