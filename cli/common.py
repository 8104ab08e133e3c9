"""What every command shares: the consoles, one-line errors (exit 2), JSON output and the checks of paths."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path

import typer
from rich.console import Console

import symcheck as sc

out = Console(highlight=False, soft_wrap=True)  # lines unbroken when piped; tables fit the width
err = Console(stderr=True, highlight=False)


def fail(message: str) -> None:
    """One line on stderr and exit code 2 (bad input)."""
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(2)


def note(message: str) -> None:
    """A note on stderr that leaves stdout (and --json) untouched."""
    err.print(f"[yellow]note:[/] {message}", soft_wrap=True)


def reports_errors(fn: Callable) -> Callable:
    """Turn SymcheckError (bad input) into one line on stderr and exit code 2."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except sc.SymcheckError as exc:
            fail(str(exc))

    return wrapper


def emit_json(data: dict) -> None:
    """Print ``data`` as indented JSON on stdout (numpy arrays and numbers as lists and numbers)."""
    sys.stdout.write(json.dumps(data, indent=2, default=_json_default) + "\n")


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def needs_finite_point_group(group, flag: str, what: str) -> None:
    """One line and exit 2 when a flag needs a finite point group and ``group`` is not one (before any output)."""
    if group.kind != "point":
        fail(f"{flag}: {what} needs a finite point group, not {group.pretty_name}")


def writable_folder(folder: Path, flag: str, what: Path) -> None:
    """``folder`` (or its nearest existing ancestor, for folders symcheck creates) can take files."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        fail(f"{flag} {what}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK):
        fail(f"{flag} {what}: the folder {probe} is not writable")


def new_structure_file(path: Path, flag: str = "--out") -> None:
    """A structure file to be written: in an existing folder, a format ASE writes and reads (not the
    check that it does not exist yet: :func:`not_there` runs just before writing, after the cheap
    checks of the request itself, so that a wrong --group is reported as such)."""
    from ase.io.formats import filetype, ioformats

    if path.is_dir():
        fail(f"{flag} {path}: is a folder, not a file")
    if not path.parent.is_dir():
        fail(f"{flag} {path}: the folder {path.parent} does not exist")
    writable_folder(path.parent, flag, path)
    try:
        fmt = filetype(str(path), read=False)
        ok = ioformats[fmt].can_write and ioformats[fmt].can_read
    except Exception:  # ASE raises KeyError or UnknownFileTypeError for names it does not know
        ok = False
    if not ok:
        fail(f"{flag} {path}: unknown structure file type {path.suffix or path.name!r} "
             "(use .xyz, .extxyz, .cif, .vasp/POSCAR, .json, .traj or .pdb)")


def not_there(path: Path, flag: str = "--out") -> None:
    """symcheck never overwrites a file."""
    if path.exists() or path.is_symlink():
        fail(f"{flag} {path}: the file exists (symcheck does not overwrite; remove it or choose another name)")


def figure_file(path: Path, flag: str) -> None:
    """A figure to be written: an image type matplotlib writes, in an existing folder."""
    if path.suffix.lower() not in (".png", ".pdf", ".svg"):
        fail(f"{flag} {path}: unknown figure type {path.suffix or path.name!r} (use .png, .pdf or .svg)")
    if path.is_dir():
        fail(f"{flag} {path}: is a folder, not a file")
    if not path.parent.is_dir():
        fail(f"{flag} {path}: the folder {path.parent} does not exist")
    writable_folder(path.parent, flag, path)


def output_folder(path: Path, flag: str = "--out") -> None:
    """A folder for figures: an existing folder, or one that can be created."""
    if path.exists() and not path.is_dir():
        fail(f"{flag} {path}: is a file, not a folder")
    writable_folder(path, flag, path)


def sites(indices) -> str:
    """Atom indices as ``0,1,2`` (the first eight, then …)."""
    return ",".join(str(i) for i in indices[:8]) + ("…" if len(indices) > 8 else "")
