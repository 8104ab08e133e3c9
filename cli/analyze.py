"""`symcheck analyze`: printing for symcheck.analyze (learnability, loss floor, symmetry-breaking inputs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import emit_json, figure_file, needs_finite_point_group, out, sites
from .group import draw_lattice
from .options import AnalysisOptions, AsJson, analysis_options

#: Suggestions shown in the table (--json lists all).
SHOWN = 12


@analysis_options
def analyze(
    opts: AnalysisOptions,
    lattice: Annotated[Path | None, typer.Option(
        "--lattice", help="Draw G's subgroup lattice with the path G → H.")] = None,
    neumann: Annotated[bool, typer.Option("--neumann", help="Print the Neumann table per irrep of G.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit with code 1 when the task is not learnable.")] = False,
    as_json: AsJson = False,
) -> None:
    """Predict learnability, the exact loss floor and the most symmetric symmetry-breaking input."""
    if lattice:
        figure_file(lattice, "--lattice")
    report = opts.analyze()
    G, H = report.input_group, report.target_group
    if neumann:
        needs_finite_point_group(G, "--neumann", "the Neumann table per irrep")
    sub = None
    if lattice:
        sub = draw_lattice(G, lattice, title=f"{G.pretty_name} → {H.pretty_name}", highlight=lambda L: L.path(H))
    per_irrep = report.neumann_by_irrep() if neumann else None
    if as_json:
        data = report.as_dict()
        if sub is not None:
            data["lattice"] = {"file": str(lattice), "subgroups": len(sub.subgroups),
                               "subgroup_classes": len(sub.classes),
                               "path": [sub.classes[i].label for i in sub.path(H)]}
        if per_irrep is not None:
            data["neumann_by_irrep"] = per_irrep
        emit_json(data)
    else:
        print_analysis(report)
        if sub is not None:
            out.print("symmetry breaking path: " + " → ".join(sub.classes[i].label for i in sub.path(H))
                      + f" (lattice drawn to {lattice})")
        if per_irrep is not None:
            out.print(_neumann_table(per_irrep, G))
    if check and not report.learnable:
        raise typer.Exit(1)


def print_analysis(report) -> None:
    """The verdict, the fix, the warnings, the groups and floor, the obstructions and the suggestions."""
    style = "green" if report.learnable else "red"
    out.print(f"[bold {style}]{report.verdict}[/]")
    if report.fix:
        out.print(f"[bold]fix:[/] {report.fix}")
    for warning in report.warnings:
        out.print(f"[bold yellow]warning:[/] {warning}")
    out.print(_groups_table(report))
    worst = report.worst_obstruction
    if worst is not None:
        out.print(
            "obstructing operations: "
            + ", ".join(f"{n}× {k}" if n > 1 else k for k, n in report.obstruction_counts().items())
            + f" (largest change {worst.change:.3g}, by {worst.operation})"
        )
    if report.suggestions:
        out.print(_suggestions_table(report.suggestions))
        if len(report.suggestions) > SHOWN:
            out.print(f"… and {len(report.suggestions) - SHOWN} more (--json lists all)")
        setting = report.suggestions[0].irrep_setting
        if setting:  # labels such as B1/B2 depend on it (choose another with --setting)
            out.print(f"[dim]irrep labels: {setting}[/]")


def _groups_table(report) -> Table:
    G, H, E = report.input_group, report.target_group, report.end_group
    info = Table(box=None, show_header=False, pad_edge=False)
    info.add_column(style="bold")
    info.add_column()
    info.add_row("task", f"{report.task.name}  ({report.task.encoding} encoding, irreps {report.task.irreps})")
    only = " — rotations only" if report.so3 else ""
    info.add_row("input group G", f"{G.pretty_name} (order {G.order or '∞'}){only}")
    info.add_row("target keeps H", f"{H.pretty_name} (order {H.order or '∞'})")
    if E is not None:
        info.add_row("end structure", f"{E.pretty_name} (order {E.order or '∞'}), for information")
    info.add_row("loss floor", f"{report.loss_floor:.4e}  (target mean square {report.mean_square:.4e})")
    return info


def _suggestions_table(suggestions) -> Table:
    table = Table(title="symmetry-breaking inputs (best first)", header_style="bold", title_justify="left")
    for col in ("#", "irreps", "irrep of G", "scope", "feature", "G becomes", "fixes?", "dim W"):
        table.add_column(col)
    for k, s in enumerate(suggestions[:SHOWN], 1):
        table.add_row(
            str(k), s.irreps, s.irrep_label or "", s.scope if s.scope == "global" else f"atoms {sites(s.sites)}",
            s.polynomial, s.stabilizer, "yes" if s.reaches_target else "no", str(s.candidate_dim),
        )
    return table


def _neumann_table(per_irrep: dict, G) -> Table:
    labels = list(next(iter(per_irrep.values())))
    table = Table(title=f"Neumann table: copies of each irrep of {G.pretty_name} in each O(3) irrep",
                  title_justify="left", header_style="bold")
    table.add_column("O(3)")
    for label in labels:
        table.add_column(label, justify="right")
    for lp, counts in per_irrep.items():
        table.add_row(lp, *[str(counts[label]) if counts[label] else "·" for label in labels])
    return table
