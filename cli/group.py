"""`symcheck group` and `symcheck symmetrize`: a structure's group, and the nearest structure with a group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

import symcheck as sc

from .common import (
    emit_json,
    fail,
    figure_file,
    needs_finite_point_group,
    new_structure_file,
    not_there,
    out,
)
from .options import AsJson, Setting, Tol


def group(
    file: Annotated[Path, typer.Argument(help="Structure file (xyz, extxyz, cif, POSCAR, … through ASE).")],
    tol: Tol = sc.DEFAULT_TOL,
    ladder: Annotated[bool, typer.Option("--ladder", help="Also the group at tolerances from 1e-6 to 0.5 Å.")] = False,
    lattice: Annotated[Path | None, typer.Option("--lattice", help="Draw the subgroup lattice to this PNG.")] = None,
    characters: Annotated[bool, typer.Option("--characters", help="Print the character table.")] = False,
    setting: Setting = None,
    as_json: AsJson = False,
) -> None:
    """The point group of a structure: name, order, operations by kind, equivalent atoms."""
    if setting is not None and not characters:
        fail("--setting names the irrep labels of the character table: give it with --characters")
    if lattice:
        figure_file(lattice, "--lattice")
    structure = sc.read(file)
    pg = sc.symmetry_group(structure, tol=tol).in_setting(setting)  # operations named in the table's setting
    if characters:
        needs_finite_point_group(pg, "--characters", "character tables")
    if lattice:
        needs_finite_point_group(pg, "--lattice", "the subgroup lattice")
    steps = sc.tolerance_ladder(structure) if ladder else None
    sub = draw_lattice(pg, lattice, title=f"subgroups of {pg.pretty_name}") if lattice else None
    table = sc.character_table(pg, setting=setting) if characters else None
    if as_json:
        data = pg.as_dict()
        data["file"] = str(file)
        data["atoms"] = len(structure)
        if steps is not None:
            data["ladder"] = [step.as_dict() for step in steps]
        if sub is not None:
            data["subgroups"] = len(sub.subgroups)
            data["subgroup_classes"] = len(sub.classes)
            data["lattice"] = str(lattice)
        if table is not None:
            data["character_table"] = table.as_dict()
        emit_json(data)
        return
    _print_group(file, structure, pg)
    if steps is not None:
        out.print(_ladder_table(steps))
    if table is not None:
        out.print(table.text())
    if sub is not None:
        out.print(f"subgroup lattice: {len(sub.subgroups)} subgroups in {len(sub.classes)} conjugacy classes, "
                  f"drawn to {lattice}")


def _print_group(file: Path, structure, pg) -> None:
    """The group's header line, its operations (or generators) and its sets of equivalent atoms."""
    order = "infinite" if pg.infinite else str(pg.order)
    if pg.periodic:
        out.print(f"[bold]{file}[/]: {len(structure)} atoms in the cell, space group [bold]{pg.pretty_name}[/], "
                  f"crystal class {pg.point_group}; {order} operations of the cell (translations included)")
        # orbits of one species on one Wyckoff position are listed once (a distorted supercell has hundreds)
        sites: dict[tuple, list[int]] = {}
        for o in pg.equivalent_atoms:
            sites.setdefault((structure.species[o[0]], pg.wyckoffs[o[0]], pg.site_symmetry[o[0]]), []).append(len(o))
        out.print("Wyckoff sites: " + "; ".join(
            f"{species}: {letter} ({symmetry}) ×{sum(sizes)}" + (f" in {len(sizes)} orbits" if len(sizes) > 1 else "")
            for (species, letter, symmetry), sizes in sites.items()))
    else:
        hm = f" ({pg.hermann_mauguin})" if pg.hermann_mauguin else ""
        out.print(f"[bold]{file}[/]: {len(structure)} atoms, point group [bold]{pg.pretty_name}[/]{hm}, order {order}")
    if pg.infinite:
        out.print("generators: " + ", ".join(op.label() for op in pg.generators))
    else:
        out.print(_operations_table(pg))
    orbits = ["{" + ",".join(str(i) for i in o) + "}" for o in pg.equivalent_atoms]
    out.print(f"equivalent atoms ({len(orbits)} sets): " + " ".join(orbits[:20]) + (" …" if len(orbits) > 20 else ""))


def _operations_table(pg) -> Table:
    """Operations grouped by kind (C4, σh, S4 …) with their distinct axes or mirror normals."""
    rows = sc.operations_by_kind(pg)
    crystal = rows and rows[0].translated is not None
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("kind", "count") + (("with translation",) if crystal else ()) + ("axes / normals",):
        table.add_column(col, justify="right" if col in ("count", "with translation") else "left")
    for row in rows:
        shown = "; ".join(row.axes[:6]) + (" …" if len(row.axes) > 6 else "")
        cells = [row.kind, str(row.count)] + ([str(row.translated)] if crystal else [])
        table.add_row(*cells, shown)
    return table


def _ladder_table(steps) -> Table:
    table = Table(title="tolerance ladder", title_justify="left", header_style="bold")
    for col in ("tol (Å)", "group", "order", "distance to it (Å)"):
        table.add_column(col, justify="right" if col != "group" else "left")
    for step in steps:
        table.add_row(f"{step.tol:g}", step.group.pretty_name, str(step.group.order or "∞"), f"{step.distance:.3g}")
    return table


def draw_lattice(G, path: Path, title: str, highlight=None):
    """Draw G's subgroup lattice (finite point groups only) to ``path`` and return it.

    :param highlight: None, or a function of the lattice giving the classes to mark.
    """
    needs_finite_point_group(G, "--lattice", "the subgroup lattice")
    sub = sc.subgroup_lattice(G)
    sc.draw_lattice(sub, path, highlight=highlight(sub) if highlight else None, title=title)
    return sub


def symmetrize(
    file: Annotated[Path, typer.Argument(help="Structure file.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the symmetrized structure.")],
    group_name: Annotated[str | None, typer.Option(
        "--group", help="Wanted group (Schoenflies); default: detected.")] = None,
    tol: Tol = sc.DEFAULT_TOL,
    as_json: AsJson = False,
) -> None:
    """Write the nearest structure with the group (positions projected onto its fixed space)."""
    new_structure_file(out_file)
    structure = sc.read(file)
    result = sc.symmetrized(structure, group=group_name, tol=tol)
    not_there(out_file)
    sc.write(out_file, result.structure)
    name, moved = result.group.name, result.max_displacement
    if as_json:
        emit_json({"file": str(file), "out": str(out_file), "point_group": name, "max_displacement": moved})
        return
    out.print(f"wrote {out_file}: {name}, atoms moved by at most {moved:.3g} Å")
