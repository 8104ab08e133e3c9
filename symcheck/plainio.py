"""The common structure files read without ``ase.io``: plain extended-XYZ frames and VASP 5 POSCAR/CONTCAR.

Importing any ``ase.io`` module costs 0.3 s (it pulls in scipy through ``ase.constraints``), more than
the analysis of a small structure. These readers follow ASE's semantics exactly (tests/test_io_fast.py
checks them against ASE) and return None for anything unusual, which ``symcheck.io`` then leaves to ASE.
"""

from __future__ import annotations

import os
import re

import numpy as np

# ---------------------------------------------------------------------------- extxyz

# A comment line symcheck reads itself: bare words (ASE makes each an info key set to True) and
# key=value pairs whose value is one plain token or a double-quoted string without escapes,
# brackets or nested quotes. Anything else
# (JSON values, escapes, [arrays], {braces}, single quotes) is left to ASE's parser.
_PAIR = re.compile(r'\s*([^\s="\\{}\[\]\']+)(?:\s*=\s*("[^"\\{}\[\]\']*"|[^\s"\\{}\[\]\']+))?')
_BOOLS = {"T": True, "F": False, "true": True, "false": False, "True": True, "False": False,
          "TRUE": True, "FALSE": False}
_ASE_NAMES = {"pos": "positions", "Z": "numbers", "charge": "charges", "species": "symbols"}
_PLAIN_TYPES = {"R": float, "I": int, "S": str}


# ASE's extxyz reader (ase.io.extxyz.set_calc_and_arrays) moves these per-atom columns and comment
# keys into a SinglePointCalculator's results; tests/test_io_fast.py checks the lists against ASE.
CALC_PER_ATOM = frozenset({"energies", "forces", "stresses", "charges", "magmoms", "born_effective_charges"})
CALC_PER_FRAME = frozenset({"energy", "free_energy", "stress", "dipole", "magmom", "polarization",
                             "dielectric_tensor"})
_SPECIAL_3_3 = frozenset({"Lattice", "virial", "stress"})


class _Results:
    """A calculator's ``results`` only (what symcheck reads of ASE's SinglePointCalculator)."""

    def __init__(self, results: dict):
        self.results = results


class Frame:
    """What symcheck reads of an ``ase.Atoms`` (arrays, info, calculator results, cell, pbc), for a
    frame of an extxyz file read without ase.io; :meth:`to_atoms` makes the real thing."""

    def __init__(self, symbols: list[str], numbers: np.ndarray, arrays: dict, cell, pbc, info: dict, results: dict):
        self.symbols, self.numbers, self.arrays = symbols, numbers, arrays
        self.cell = np.zeros((3, 3)) if cell is None else cell
        self.pbc = np.zeros(3, dtype=bool) if pbc is None else np.array(pbc, dtype=bool)
        self.info = info
        self.calc = _Results(results) if results else None
        self.positions = arrays["positions"]

    def __len__(self) -> int:
        return len(self.symbols)

    def get_chemical_symbols(self) -> list[str]:
        return list(self.symbols)

    def to_atoms(self):
        """The frame as an ``ase.Atoms`` with a SinglePointCalculator, as ASE's extxyz reader makes it."""
        from ase import Atoms
        from ase.calculators.singlepoint import SinglePointCalculator

        atoms = Atoms(self.numbers, positions=self.positions, cell=self.cell, pbc=self.pbc, info=dict(self.info))
        for name, arr in self.arrays.items():
            if name not in ("numbers", "positions"):
                atoms.new_array(name, arr)
        if self.calc is not None:
            atoms.calc = SinglePointCalculator(atoms, **self.calc.results)
        return atoms


def _info_value(key: str, raw) -> object:
    """ASE's value of a comment key (ase.io.extxyz.key_val_str_to_dict) for the plain values of :data:`_PAIR`."""
    value = "T" if raw is True else raw
    if key.lower() == "uid":
        return value
    parts = re.findall(r"[^\s,]+", value)
    try:
        try:
            number = np.array(parts, dtype=int)
        except (ValueError, OverflowError):
            number = np.array(parts, dtype=float)
        value = number[0] if len(number) == 1 else number
    except (ValueError, OverflowError):
        pass
    if key in _SPECIAL_3_3:
        return np.array(value).reshape((3, 3), order="F")  # 9 numbers: checked by the caller
    if isinstance(value, str):
        flags = [_BOOLS.get(t) for t in parts]
        if parts and None not in flags:
            return flags[0] if len(flags) == 1 else flags
    return value


def _comment_fields(comment: str) -> dict | None:
    """key -> raw value (True for a bare word) of an extxyz comment line, or None if ASE must parse it."""
    out: dict = {}
    pos, text = 0, comment.strip()
    while pos < len(text):
        m = _PAIR.match(text, pos)
        if m is None or m.end() == pos:
            return None
        end = m.end()
        if end < len(text) and not text[end].isspace():
            return None  # e.g. key="a"b or a word with '=' and nothing readable after it
        key, value = m.group(1), m.group(2)
        out[key] = True if value is None else value.strip('"')
        pos = end
    return out


class _NotPlain(Exception):
    """Raised inside the fast readers: the input is not plain enough, ASE must read it (or say what is wrong)."""


def _plain_extxyz_frame(lines: list[str], start: int, natoms: int):
    """One frame (comment at ``lines[start]``) as a :class:`Frame`, or None when ASE must read it.

    lines : the file's lines; start : index of the frame's comment line; natoms : the frame's atom count.
    """
    fields = _comment_fields(lines[start])
    if fields is None or natoms == 0:
        return None
    try:
        _check_plain_values(fields)
        cell, pbc = _cell_and_pbc(fields)
        info = {k: _info_value(k, v) for k, v in fields.items() if k not in ("Lattice", "pbc", "Properties")}
        columns = _property_columns(fields.get("Properties", "species:S:1:pos:R:3"))
        arrays = _column_arrays(lines[start + 1:start + 1 + natoms], columns)
        symbols, numbers = _species_numbers(arrays.pop("symbols"))
    except _NotPlain:
        return None
    results = _calculator_results(arrays, info)
    arrays = {"numbers": numbers, "positions": arrays.pop("positions"), **arrays}
    return Frame(symbols, numbers, arrays, cell, pbc, info, results)


def _check_plain_values(fields: dict) -> None:
    """Raise _NotPlain for comment values ASE treats specially: virial/stress not 9 numbers, JSON.

    fields : key -> raw value, from :func:`_comment_fields`.
    """
    for key in ("virial", "stress"):  # ASE insists on 9 numbers for these
        if key in fields and _numbers(fields[key], 9) is None:
            raise _NotPlain(key)
    if any(isinstance(v, str) and v.startswith("_JSON ") for v in fields.values()):
        raise _NotPlain("JSON value")


def _cell_and_pbc(fields: dict) -> tuple[np.ndarray | None, list[bool] | None]:
    """(cell, pbc) of a frame from its Lattice and pbc keys, as ASE sets them (None, None without either).

    fields : key -> raw value, from :func:`_comment_fields`. Raises _NotPlain for a malformed Lattice or pbc.
    """
    cell = pbc = None
    if "Lattice" in fields:
        lattice = _numbers(fields["Lattice"], 9)
        if lattice is None:
            raise _NotPlain("Lattice")
        cell = np.array(lattice).reshape((3, 3), order="F").T  # ASE's cell is the transpose
        pbc = [True, True, True]
    if "pbc" in fields:
        value = fields["pbc"]
        flags = [True] if value is True else [_BOOLS.get(t) for t in value.replace(",", " ").split()]
        if len(flags) not in (1, 3) or None in flags:
            raise _NotPlain("pbc")
        pbc = flags * 3 if len(flags) == 1 else flags
    if pbc is not None and cell is None:
        cell = np.zeros((3, 3))
    return cell, pbc


def _property_columns(spec) -> list[tuple[str, type, int]]:
    """(ASE array name, converter, number of columns) per property of a Properties value.

    spec : the raw Properties value (``name:kind:cols`` triples). Raises _NotPlain for anything but plain
    R/I/S columns with distinct names including species and 3 positions (and no Z or move_mask).
    """
    if not isinstance(spec, str):
        raise _NotPlain("Properties")
    parts = spec.split(":")
    if len(parts) % 3 or not parts:
        raise _NotPlain("Properties")
    columns = []
    for name, kind, cols in zip(parts[::3], parts[1::3], parts[2::3], strict=True):
        if kind not in _PLAIN_TYPES or not cols.isdigit() or int(cols) < 1:
            raise _NotPlain(f"Properties column {name}")
        columns.append((_ASE_NAMES.get(name, name), _PLAIN_TYPES[kind], int(cols)))
    names = [c[0] for c in columns]
    if len(set(names)) != len(names) or ("symbols", str, 1) not in columns or ("positions", float, 3) not in columns \
            or "numbers" in names or "move_mask" in names:
        raise _NotPlain("Properties")
    return columns


def _column_arrays(atom_lines: list[str], columns: list[tuple[str, type, int]]) -> dict[str, np.ndarray]:
    """ASE name -> array (object for strings, float64 or int32, 1-D for one column) of the atom lines.

    atom_lines : one line per atom; columns : from :func:`_property_columns`. Raises _NotPlain for a short
    line, a value its converter refuses or an integer out of int32 (ASE says what could not be read).
    """
    converters = [conv for _, conv, cols in columns for _ in range(cols)]
    width = len(converters)
    rows = []
    try:
        for line in atom_lines:
            vals = line.split()
            if len(vals) < width:
                raise _NotPlain("short atom line")
            rows.append([conv(v) for conv, v in zip(converters, vals)])
    except ValueError:
        raise _NotPlain("unreadable value") from None
    arrays, k = {}, 0
    for name, conv, cols in columns:
        block = [row[k:k + cols] for row in rows]
        k += cols
        if conv is str:
            arrays[name] = np.array([b[0] for b in block], dtype=object)
            continue
        try:
            arr = np.array(block, dtype=np.float64 if conv is float else np.int32)
        except OverflowError:
            raise _NotPlain("integer out of range") from None
        arrays[name] = arr[:, 0] if cols == 1 else arr
    return arrays


def _species_numbers(species: np.ndarray) -> tuple[list[str], np.ndarray]:
    """(symbols, atomic numbers) of a species column, capitalised as ASE does; _NotPlain for an unknown one."""
    from ase.data import atomic_numbers

    symbols = [str(s).capitalize() for s in species]
    if any(s not in atomic_numbers for s in symbols):
        raise _NotPlain("unknown species")
    return symbols, np.array([atomic_numbers[s] for s in symbols], dtype=int)


def _calculator_results(arrays: dict, info: dict) -> dict:
    """Move the arrays and info keys ASE gives a SinglePointCalculator out of them into its results.

    arrays : name -> per-atom array; info : key -> comment value (both changed in place).
    """
    results = {k: arrays.pop(k) for k in list(arrays) if k in CALC_PER_ATOM}
    for key in [k for k in info if k in CALC_PER_FRAME]:
        value = info.pop(key)
        if key == "stress" and np.shape(value) == (3, 3):  # ASE keeps Voigt order
            value = np.array([value[0, 0], value[1, 1], value[2, 2], value[1, 2], value[0, 2], value[0, 1]])
        results[key] = value
    return results


def _numbers(value, count: int) -> list[float] | None:
    """``count`` numbers from a raw comment value, or None."""
    if not isinstance(value, str):
        return None
    out = floats(re.findall(r"[^\s,]+", value))
    return out if out is not None and len(out) == count else None


def parse_plain_extxyz(text: str) -> list | None:
    """The frames of extxyz text read without ase.io, or None when ASE's reader is needed.

    Each frame offers what symcheck reads of an ``ase.Atoms`` — ``arrays``, ``info``,
    ``calc.results``, ``positions``, ``numbers``, ``cell``, ``pbc``, ``len()``,
    ``get_chemical_symbols()`` — with ASE's extxyz meanings (columns such as forces and comment
    keys such as energy or stress in the calculator results), and ``to_atoms()``. Only plain
    files are read here (see :func:`_comment_fields`); anything else, and any text that is not
    well formed, gives None, so that ASE reads it or reports the problem.

    :param text: whole frames of an extxyz file, one after another (blank lines between them allowed).
    """
    if "\r" in text.replace("\r\n", "\n"):
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # after the last line's newline
    frames, k = [], 0
    while k < len(lines):
        head = lines[k].strip()
        if not head:
            k += 1
            continue
        if not head.isdigit() or k + 1 + int(head) >= len(lines):
            return None
        natoms = int(head)
        after = k + 2 + natoms
        if after < len(lines) and lines[after].lstrip().startswith("VEC"):
            return None
        frame = _plain_extxyz_frame(lines, k + 1, natoms)
        if frame is None:
            return None
        frames.append(frame)
        k = after
    return frames


def plain_extxyz_frames(path: str, heads: list[tuple[int, int]]) -> list[Frame] | None:
    """The frames with these (header line, atom count) of an uncompressed extxyz file, read without
    ase.io; None when any of them needs ASE's reader (see :func:`_comment_fields`) or the file is
    not plain UTF-8 with \\n or \\r\\n line ends."""
    if path.endswith((".gz", ".bz2", ".xz")) or os.path.getsize(path) > (64 << 20):
        return None
    with open(path, "rb") as f:
        raw = f.read()
    if raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    try:
        lines = raw.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    frames = []
    for head, natoms in heads:
        after = head + 1 + natoms  # 0-based index of the line after the frame's atoms
        if after < len(lines) and lines[after].lstrip().startswith("VEC"):
            return None
        frame = _plain_extxyz_frame(lines, head, natoms)  # the comment is line head + 1, index head
        if frame is None:
            return None
        frames.append(frame)
    return frames


def plain_poscar(path: str) -> Frame | None:
    """A VASP 5 POSCAR/CONTCAR read as ASE's ``read_vasp`` reads it, without ase.io; None for anything
    else (VASP 4 files whose species come from the comment or a POTCAR, lattice velocities, comments
    on the count line, selective dynamics together with velocities, malformed lines), left to ASE.

    path : the file.
    """
    from ase.data import atomic_masses, atomic_numbers

    lines = _poscar_lines(path)
    if lines is None:
        return None
    try:
        scale, cell = _poscar_cell(lines)
        symbols = _poscar_symbols(lines[5], lines[6])
        k, selective, cartesian = _poscar_mode(lines)
        natoms = len(symbols)
        if natoms == 0 or len(lines) < k + 1 + natoms:
            return None
        pos = np.empty((natoms, 3))
        for i in range(natoms):
            words = lines[k + 1 + i].split()
            if selective and len(words) < 6:
                raise _NotPlain("selective dynamics flags")  # ASE refuses the file
            pos[i] = [float(w) for w in words[0:3]]
        velocities = _poscar_velocities(lines, k + 1 + natoms, natoms, selective)
    except (ValueError, IndexError, _NotPlain):
        return None  # ASE says what could not be read
    numbers = np.array([atomic_numbers[t] for t in symbols], dtype=int)
    positions = pos * scale if cartesian else pos @ cell
    arrays = {"numbers": numbers, "positions": positions}
    if velocities is not None:
        arrays["momenta"] = atomic_masses[numbers][:, np.newaxis] * velocities
    return Frame(symbols, numbers, arrays, cell, [True, True, True], {}, {})


def _poscar_lines(path: str) -> list[str] | None:
    """The lines of a UTF-8 file with no lone carriage return and at least 8 lines, else None."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if "\r" in text.replace("\r\n", "\n"):
        return None
    lines = text.split("\n")
    return lines if len(lines) >= 8 else None


def _poscar_cell(lines: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(scale, scaled cell) of a POSCAR, as ``read_vasp`` computes them.

    lines : the file's lines (line 2: one factor, a negative volume or three factors; lines 3-5: the
    lattice). Raises _NotPlain, ValueError or IndexError where ASE must read the file.
    """
    scale = []
    for token in lines[1].split()[:3]:
        try:
            scale.append(float(token))
        except ValueError:
            break
    if len(scale) not in (1, 3) or (len(scale) == 3 and min(scale) < 0):
        raise _NotPlain("scale line")
    scale = np.array(scale)
    cell = np.array([lines[k].split()[:3] for k in (2, 3, 4)], dtype=float)
    if cell.shape != (3, 3):
        raise _NotPlain("lattice lines")
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero cell: NaN, refused by the caller as ASE's is
        if scale[0] < 0.0:
            scale = np.cbrt(-1.0 * scale / np.linalg.det(cell))
        cell *= scale
    return scale, cell


def _poscar_symbols(types_line: str, counts_line: str) -> list[str]:
    """One chemical symbol per atom from a VASP 5 species line and its count line.

    Raises _NotPlain (VASP 4 layout, a commented count line, unknown species, negative counts) or
    ValueError (a count that is not an integer) where ASE must read the file.
    """
    from ase.data import chemical_symbols

    types, counts = types_line.split(), counts_line.split()
    if not types or types[0].lstrip("+-").isdigit() or not counts or any("!" in c for c in counts):
        raise _NotPlain("VASP 4")  # species from the comment or a POTCAR, or a commented count line
    types = [t.split("/")[0].split("_")[0] for t in types]
    numbers_of = [int(c) for c in counts]
    if len(types) < len(numbers_of) or any(t not in chemical_symbols for t in types) or min(numbers_of) < 0:
        raise _NotPlain("species")
    return [t for t, n in zip(types, numbers_of) for _ in range(n)]


def _poscar_mode(lines: list[str]) -> tuple[int, bool, bool]:
    """(index of the Direct/Cartesian line, selective dynamics?, Cartesian?) of a VASP 5 POSCAR.

    lines : the file's lines. Raises _NotPlain for an empty mode line, IndexError past the end.
    """
    k = 7
    mode = lines[k].strip()
    selective = mode[:1].lower() == "s"
    if selective:
        k += 1
        mode = lines[k].strip()
    if not mode:
        raise _NotPlain("mode line")
    return k, selective, mode[0].lower() in ("c", "k")


def _poscar_velocities(lines: list[str], k: int, natoms: int, selective: bool) -> np.ndarray | None:
    """The velocities block (ASE units) after the positions, or None when the file has none.

    lines : the file's lines; k : index of the line after the positions. Raises _NotPlain (lattice
    velocities, velocities with selective dynamics, a short block) or ValueError where ASE must read it.
    """
    from ase.units import Ang, fs

    init = lines[k] if k < len(lines) else ""
    if init.strip() and init[0].lower() == "l":
        raise _NotPlain("lattice velocities")
    first = lines[k + 1].split() if k + 1 < len(lines) else []
    if len(first) <= 1:
        return None
    if selective or len(lines) < k + 1 + natoms:
        raise _NotPlain("velocities")  # ASE would adjust the momenta of constrained atoms
    velocities = np.empty((natoms, 3))
    for i in range(natoms):
        words = lines[k + 1 + i].split()
        if len(words) != 3:
            raise _NotPlain("velocity line")
        velocities[i] = (float(words[0]), float(words[1]), float(words[2]))
    return velocities * (Ang / fs)


def floats(tokens: list[str]) -> list[float] | None:
    """The tokens as floats, or None when one is not a number."""
    try:
        return [float(t) for t in tokens]
    except ValueError:
        return None
