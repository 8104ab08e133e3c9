"""`symcheck scan`: printing for symcheck.scan (a symmetry audit of a training set); no science here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

import symcheck as sc

from .options import AsJson, Tol

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def scan(
    data: list[Path] = typer.Argument(..., help="Multi-frame xyz/extxyz files, ASE databases (.db), directories."),
    labels: str = typer.Option(None, "--labels", help="Labels to scan, comma separated: NAME or NAME:IRREPS "
                               "(default: forces, energy, stress, dipole, … as found)."),
    tol: Tol = sc.DEFAULT_TOL,
    label_rtol: float = typer.Option(sc.LABEL_RTOL, "--label-rtol",
                                     help="Flag a label when ‖y − P_G y‖ > this · ‖y‖."),
    workers: int = typer.Option(None, "--workers", help="Processes (default: all cores)."),
    scheduler: str = typer.Option(None, "--scheduler", help="'local' for a Dask LocalCluster, or a scheduler "
                                  "address tcp://host:port."),
    out_dir: Path = typer.Option(None, "--out", help="Folder for checkpoints, frames.parquet/csv, summary.json "
                                 "and figures; re-running with it resumes."),
    chunk_size: int = typer.Option(sc.SCAN_CHUNK_SIZE, "--chunk-size",
                                   help="Frames per chunk (unit of work and of checkpoints)."),
    as_json: AsJson = False,
    top: int = typer.Option(10, "--top", help="Flagged frames and duplicates shown in the tables."),
) -> None:
    """Audit a training set: each frame's symmetry group, labels that break it, conflicting duplicates, loss floors."""
    label_list = [x for x in labels.split(",") if x.strip()] if labels else None
    show = not as_json and sys.stderr.isatty()
    progress = Progress(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TextColumn("frames"),
                        TimeRemainingColumn(), console=err, transient=True, disable=not show)
    with progress:
        task = progress.add_task("scan", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = sc.scan([str(d) for d in data], labels=label_list, tol=tol, label_rtol=label_rtol, workers=workers,
                         scheduler=scheduler, out=out_dir, progress=report, chunk_size=chunk_size)
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
        return
    _print(result, top)


def _print(result, top: int) -> None:
    groups = ", ".join(f"{g} {n}" for g, n in list(result.groups.items())[:12])
    more = f", … ({len(result.groups)} groups)" if len(result.groups) > 12 else ""
    out.print(f"{result.frames} frames in {result.seconds:.1f} s; groups: {groups}{more}")
    if not result.labels:
        out.print("labels: none found (forces, energy, stress, dipole, … by name; --labels NAME:IRREPS for others)")
    table = Table(title="labels: loss floor of any equivariant model", title_justify="left", header_style="bold")
    for col in ("label", "irreps", "floor (units²)", "of variance", "from duplicates", "flagged frames"):
        table.add_column(col, justify="left" if col in ("label", "irreps") else "right")
    flagged = {}
    for f in result.flagged:
        flagged[f.label] = flagged.get(f.label, 0) + 1
    for name, s in result.labels.items():
        frac = "—" if s.floor_fraction is None else f"{s.floor_fraction:.2e}"
        table.add_row(name, s.irreps, f"{s.floor:.3e}", frac, f"{s.conflict:.3e}", str(flagged.get(name, 0)))
    if result.labels:
        out.print(table)
    for name, n in flagged.items():
        if name not in result.labels:
            out.print(f"{name}: {n} frames")
    if result.flagged:
        t = Table(title=f"flagged frames (labels breaking the frame's group), {len(result.flagged)} in all",
                  title_justify="left", header_style="bold")
        for col in ("frame", "label", "G", "label keeps H", "floor"):
            t.add_column(col, justify="right" if col in ("frame", "floor") else "left")
        for f in result.flagged[:top]:
            t.add_row(str(f.index), f.label, f.group, f.label_group, f"{f.floor:.3e}")
        out.print(t)
    out.print(f"duplicate frames: {result.duplicate_pairs} pairs, {len(result.duplicates)} with labels that differ")
    if result.duplicates:
        t = Table(header_style="bold")
        for col in ("frames", "label", "conflict floor"):
            t.add_column(col, justify="right" if col == "conflict floor" else "left")
        for d in result.duplicates[:top]:
            t.add_row(f"{d.indices[0]}, {d.indices[1]}", d.label, f"{d.conflict:.3e}")
        out.print(t)
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/] {warning}")
    if result.errors:
        n = len(result.errors)
        out.print(f"[red]{n} frame{'s' * (n != 1)} the group search refused[/] (group 'error'), first: "
                  f"frame {result.errors[0][0]}: {result.errors[0][1]}")
    if result.out:
        out.print(f"written to {result.out}/: " + ", ".join(result.files))
