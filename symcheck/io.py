"""Reading and writing structures through ASE (xyz, extxyz, cif, POSCAR and whatever else ASE reads)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import SymcheckError
from .structure import Structure

# extxyz per-atom arrays that describe the atoms themselves rather than features
_NOT_FEATURES = {"numbers", "positions", "species", "symbols", "Z", "mass", "masses", "tags"}


def from_ase(atoms, source: str = "") -> Structure:
    """A Structure from an ``ase.Atoms``: positions (Å), symbols, cell and pbc when periodic.

    Per-atom arrays beyond positions and numbers (extxyz columns, also those ASE files under a
    calculator, such as forces and charges) become features, in alphabetical order of their
    names: scalars (``0e``), except 3-column ``vectors``/``forces``/``dipole*``, read as polar
    vectors (``1o``), and 3-column ``magmoms``, read as axial vectors (``1e``).
    """
    feats, irreps = [], []
    per_atom = {k: v for k, v in atoms.arrays.items() if k not in _NOT_FEATURES}
    # extxyz columns such as forces or charges end up in a calculator's results
    results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
    for k, v in results.items():
        if np.ndim(v) >= 1 and np.shape(v)[0] == len(atoms) and k not in per_atom:
            per_atom[k] = v
    for name in sorted(per_atom):
        arr = np.asarray(per_atom[name])
        if not np.issubdtype(arr.dtype, np.number) or arr.dtype == bool:
            continue
        arr = arr.reshape(len(atoms), -1).astype(float)
        if arr.shape[1] == 3 and (name in ("vectors", "forces") or name.startswith("dipole")):
            irreps.append("1o")
        elif arr.shape[1] == 3 and name in ("magmoms", "initial_magmoms"):
            irreps.append("1e")
        else:
            irreps.append(f"{arr.shape[1]}x0e")
        feats.append(arr)
    features = np.concatenate(feats, axis=1) if feats else None
    feature_irreps = "+".join(irreps) if feats else None
    periodic = bool(np.any(atoms.pbc)) and atoms.cell.rank > 0
    cell = np.array(atoms.cell) if periodic else None
    pbc = np.array(atoms.pbc) if periodic else None
    if periodic and abs(np.linalg.det(cell)) < 1e-9:
        raise SymcheckError(f"{source or 'structure'}: the cell has zero volume")
    return Structure(atoms.positions, atoms.get_chemical_symbols(), features, feature_irreps, cell, pbc, source)


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


def read(path: str | os.PathLike, index=None, format: str | None = None) -> Structure | list[Structure]:
    """Read a structure file through ASE (xyz, extxyz, cif, POSCAR, …).

    Parameters
    ----------
    path : file to read.
    index : None for the last frame as one Structure; ``":"`` (or a slice) for all frames as a list.
    format : ASE format name when the file name does not tell it.
    """
    path = str(path)
    p = Path(path)
    if not p.exists():
        raise SymcheckError(f"{path}: no such file")
    if p.is_dir():
        raise SymcheckError(f"{path}: is a directory, not a structure file")
    if p.stat().st_size == 0:
        raise SymcheckError(f"{path}: the file is empty")
    import warnings

    import ase.io

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frames = ase.io.read(path, index=":" if index is None else index, format=format)
    except Exception as exc:  # ASE raises many kinds; all mean "cannot parse"
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SymcheckError(f"{path}: cannot read the file ({msg})") from None
    if not isinstance(frames, list):
        frames = [frames]
    if not frames:
        raise SymcheckError(f"{path}: the file holds no structure")
    structures = []
    for k, atoms in enumerate(frames):
        if len(atoms) == 0:
            raise SymcheckError(f"{path}: frame {k} has no atoms")
        try:
            structures.append(from_ase(atoms, source=path))
        except SymcheckError as exc:
            msg = str(exc)
            raise SymcheckError(msg if msg.startswith(path) else f"{path}: {msg}") from None
    return structures[-1] if index is None else structures


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
