"""`symcheck modes`: printing for symcheck.modes (symmetry modes of a crystal distortion); no science here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich import box
from rich.console import Console
from rich.table import Table

import symcheck as sc

from .options import AsJson, Tol

# Not a terminal (a pipe, a file): wide enough that the table's columns are never cut.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)


def modes(
    parent: Path = typer.Argument(..., help="The undistorted parent crystal: the same supercell as CHILD, or a cell "
                                  "of which CHILD's cell is an integer multiple (cif, POSCAR, extxyz)."),
    child: Path = typer.Argument(..., help="The distorted crystal, same atoms (any order)."),
    tol: Tol = sc.DEFAULT_TOL,
    out_dir: Path = typer.Option(None, "--out", help="Folder for modes.png (amplitude per irrep, primaries marked) "
                                 "and modes.json."),
    as_json: AsJson = False,
) -> None:
    """Decompose the distortion PARENT → CHILD into symmetry modes of the parent's space group (AMPLIMODES-style)."""
    for path in (parent, child):
        if not path.is_file():
            raise sc.SymcheckError(f"{path}: no such file")
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise sc.SymcheckError(f"--out {out_dir}: is a file, not a folder")
    result = sc.modes(sc.read(parent), sc.read(child), tol=tol)
    data = result.as_dict()
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "modes.json").write_text(json.dumps(data, indent=2) + "\n")
        sc.modes_figure(result, out_dir / "modes.png")
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    _print(result)
    if out_dir is not None:
        out.print(f"wrote {out_dir / 'modes.png'} and {out_dir / 'modes.json'}")


def _print(r) -> None:
    out.print(f"parent {r.parent_space_group} (No. {r.parent_number}) → child {r.child_space_group} "
              f"(No. {r.child_number}); labels with {r.origin}")
    table = Table(title="symmetry modes of the parent (amplitude: √Σ|u|² over the supercell, Å)",
                  title_justify="left", header_style="bold", box=box.SIMPLE)
    for col in ("irrep", "k", "direction", "Å", "isotropy subgroup", "role"):
        table.add_column(col, justify="right" if col == "Å" else "left", no_wrap=True)
    for m in r.modes:
        role = "[bold]primary[/]" if m.primary else "secondary"
        k = (f"{m.k_label} " if m.k_label else "") + "(" + ",".join(m.as_dict()["k"]) + ")"
        direction = m.direction_label or (f"{m.direction_parameters} param." if m.direction_parameters else "–")
        table.add_row(m.irrep, k, direction, f"{m.amplitude:.5f}",
                      f"{m.isotropy_subgroup} ({m.isotropy_subgroup_number})", role)
    if r.modes:
        out.print(table)
    else:  # an empty table reads as a failure; say what the distortion is instead
        out.print("no displacement modes: the child's atoms sit at the parent's fractional positions"
                  + ("; the distortion is a homogeneous strain only" if r.strain else "; no strain either"))
    for m in r.modes:
        if m.note:  # why a mode has no CDML label (k on a line of a group symcheck has no checked labels for)
            out.print(f"[dim]{m.irrep}: {m.note}[/]")
    if r.strain:
        strain = Table(title="homogeneous strain (amplitude: Frobenius norm of U − I)", title_justify="left",
                       header_style="bold", box=box.SIMPLE)
        for col in ("irrep", "direction", "amplitude", "role"):
            strain.add_column(col, justify="right" if col == "amplitude" else "left")
        for s in r.strain:
            strain.add_row(s.irrep, s.direction_label or "–", f"{s.amplitude:.3g}",
                           "[bold]primary[/]" if s.primary else "secondary")
        out.print(strain)
    out.print(f"total amplitude {r.total_amplitude:.5f} Å; residual {r.residual:.2g} Å (what the modes leave out)")
    breaking = [m.irrep for m in r.modes if not m.learnable]
    strain_breaking = [s.irrep for s in r.strain if not s.learnable]
    if not breaking and strain_breaking:
        out.print(f"An equivariant network on the parent keeps its cell's symmetry: the {', '.join(strain_breaking)} "
                  "strain needs symmetry breaking (or the child's cell as input).")
    if breaking:
        primaries = ", ".join(m.irrep for m in r.primary)
        verb = "needs" if len(breaking) == 1 else "need"
        out.print(f"An equivariant network on the parent produces only the totally symmetric component; "
                  f"{', '.join(breaking)} {verb} symmetry breaking (primary order parameters: {primaries}).")
    out.print(f"[dim]{r.labels}.[/]")
