"""`symcheck demo`: printing for symcheck.run_demo (the tutorial's three tasks, end to end)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

import symcheck as sc

from .common import emit_json, err, out, output_folder
from .options import AsJson, Threads


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the figures.")] = Path("symcheck-demo"),
    threads: Threads = None,
    as_json: AsJson = False,
) -> None:
    """The tutorial end to end: its three tasks analysed, trained and judged, with figures."""
    output_folder(out_dir)
    if as_json:
        emit_json(sc.run_demo(out_dir, threads=threads).as_dict())
        return
    with err.status("analysing and training the tutorial's three tasks …"):
        result = sc.run_demo(out_dir, threads=threads)
    table = Table(title="symcheck demo: the e3nn tutorial 'Simple Tasks and Symmetry'", title_justify="left",
                  header_style="bold", pad_edge=False)
    for col in ("task", "G", "H", "floor", "final loss", "<1e-4 at", "verdict", "s"):
        table.add_column(col, justify="right" if col in ("floor", "final loss", "<1e-4 at", "s") else "left",
                         no_wrap=col != "task")
    for row in result.rows:
        floor = 0.0 if row.predicted_floor < 1e-20 else row.predicted_floor
        table.add_row(row.task, row.input_group, row.target_group, f"{floor:.2e}", f"{row.final_loss:.2e}",
                      str(row.below_1e4_step or "never"),
                      f"[green]{row.verdict}[/]" if row.verdict == "confirmed" else f"[red]{row.verdict}[/]",
                      f"{row.seconds:.1f}")
    out.print(table)
    out.print("G: the input's group (with the breaking feature for task 3), H: what the target keeps; "
              "floor: the exact loss floor of any equivariant model.")
    out.print(f"Task 3 breaks the symmetry with {result.rows[2].breaking}.")
    out.print(f"figures in {out_dir}/: " + ", ".join(Path(p).name for p in result.figures.values()))
    out.print(f"total {result.seconds:.1f} s")
