"""The `symcheck` command: a thin shell over the public API (arguments, printing, exit codes)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

import symcheck as sc
from symcheck.errors import SymcheckError
from symcheck.groups import DEFAULT_TOL, symmetry_group

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Can an E(3)-equivariant network learn this map? Symmetry, loss floors and symmetry-breaking inputs.",
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)  # lines unbroken when piped; tables fit the width
err = Console(stderr=True, highlight=False)

TOL_HELP = "Distance tolerance in Å for every symmetry decision."


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(2)


def reports_errors(fn: Callable) -> Callable:
    """Turn SymcheckError (bad input) into one line on stderr and exit code 2."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SymcheckError as exc:
            _fail(str(exc))

    return wrapper


def _emit_json(data: dict) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=_json_default) + "\n")


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def _read_pair(input_file: Path | None, target_file: Path | None):
    if (input_file is None) != (target_file is None):
        _fail("give both INPUT and TARGET files, or neither (the tutorial's square → rectangle)")
    if input_file is None:
        return sc.example("square"), sc.example("rectangle")
    return sc.read(input_file), sc.read(target_file)


def _operations_table(pg) -> Table:
    """Operations grouped by kind (C4, σh, S4 …) with their distinct axes or mirror normals."""
    from symcheck.groups.pointgroup import _fmt_axis

    crystal = isinstance(pg, sc.groups.SpaceGroup)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("kind", "count") + (("with translation",) if crystal else ()) + ("axes / normals",):
        table.add_column(col, justify="right" if col in ("count", "with translation") else "left")
    groups: dict[str, list] = {}
    for op in pg.operations:
        groups.setdefault(op.kind.split("^")[0], []).append(op)
    for kind, ops in groups.items():
        axes = sorted({_fmt_axis(op.axis) for op in ops if op.axis is not None})
        shown = "; ".join(axes[:6]) + (" …" if len(axes) > 6 else "")
        row = [kind, str(len(ops))]
        if crystal:
            row.append(str(sum(bool(np.any(np.abs(op.translation_frac) > 1e-9)) for op in ops)))
        table.add_row(*row, shown)
    return table


@app.command()
@reports_errors
def group(
    file: Path = typer.Argument(..., help="Structure file (xyz, extxyz, cif, POSCAR, … through ASE)."),
    tol: float = typer.Option(DEFAULT_TOL, help=TOL_HELP),
    ladder: bool = typer.Option(False, "--ladder", help="Also the group at tolerances from 1e-6 to 0.5 Å."),
    lattice: Path | None = typer.Option(None, "--lattice", help="Draw the subgroup lattice to this PNG."),
    characters: bool = typer.Option(False, "--characters", help="Print the character table."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """The point group of a structure: name, order, operations by kind, equivalent atoms."""
    structure = sc.read(file)
    pg = symmetry_group(structure, tol=tol)
    steps = sc.tolerance_ladder(structure) if ladder else None
    sub = _lattice(pg, lattice, highlight=None, title=f"subgroups of {pg.pretty_name}") if lattice else None
    table = _character_table(pg) if characters else None
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
        _emit_json(data)
        return
    order = "infinite" if pg.order is None else str(pg.order)
    if isinstance(pg, sc.groups.SpaceGroup):
        out.print(f"[bold]{file}[/]: {len(structure)} atoms in the cell, space group [bold]{pg.pretty_name}[/], "
                  f"crystal class {pg.point_group}; {order} operations of the cell (translations included)")
        sites = [f"{structure.species[o[0]]}: {pg.wyckoffs[o[0]]} ({pg.site_symmetry[o[0]]}) ×{len(o)}"
                 for o in pg.equivalent_atoms]
        out.print("Wyckoff sites: " + "; ".join(sites))
    else:
        hm = f" ({pg.hermann_mauguin})" if pg.hermann_mauguin else ""
        out.print(f"[bold]{file}[/]: {len(structure)} atoms, point group [bold]{pg.pretty_name}[/]{hm}, order {order}")
    if pg.order is None:
        out.print("generators: " + ", ".join(op.label() for op in pg.generators))
    else:
        out.print(_operations_table(pg))
    orbits = ["{" + ",".join(str(i) for i in o) + "}" for o in pg.equivalent_atoms]
    out.print(f"equivalent atoms ({len(orbits)} sets): " + " ".join(orbits[:20]) + (" …" if len(orbits) > 20 else ""))
    if steps is not None:
        ladder_table = Table(title="tolerance ladder", title_justify="left", header_style="bold")
        for col in ("tol (Å)", "group", "order", "distance to it (Å)"):
            ladder_table.add_column(col, justify="right" if col != "group" else "left")
        for step in steps:
            ladder_table.add_row(f"{step.tol:g}", step.group.pretty_name, str(step.group.order or "∞"),
                                 f"{step.distance:.3g}")
        out.print(ladder_table)
    if table is not None:
        out.print(table.text())
    if sub is not None:
        out.print(f"subgroup lattice: {len(sub.subgroups)} subgroups in {len(sub.classes)} conjugacy classes, "
                  f"drawn to {lattice}")


def _lattice(G, path: Path, highlight, title: str):
    """Draw G's subgroup lattice (finite point groups only) and return it."""
    from symcheck.groups.lattice import draw_lattice, subgroup_lattice

    if G.order is None or isinstance(G, sc.groups.SpaceGroup):
        _fail(f"the subgroup lattice needs a finite point group, not {G.pretty_name}")
    sub = subgroup_lattice(G)
    draw_lattice(sub, path, highlight=highlight(sub) if highlight else None, title=title)
    return sub


def _character_table(G):
    from symcheck.groups.characters import character_table

    if G.order is None or isinstance(G, sc.groups.SpaceGroup):
        _fail(f"character tables need a finite point group, not {G.pretty_name}")
    return character_table(G)


@app.command()
@reports_errors
def symmetrize(
    file: Path = typer.Argument(..., help="Structure file."),
    out_file: Path = typer.Option(..., "--out", help="Where to write the symmetrized structure."),
    group_name: str | None = typer.Option(None, "--group", help="Wanted group (Schoenflies); default: detected."),
    tol: float = typer.Option(DEFAULT_TOL, help=TOL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """Write the nearest structure with the group (positions projected onto its fixed space)."""
    structure = sc.read(file)
    result = sc.symmetrize(structure, group=group_name, tol=tol)
    sc.write(out_file, result)
    moved = float(abs(result.positions - structure.positions).max())
    name = group_name or sc.point_group(structure, tol=tol).name
    if as_json:
        _emit_json({"file": str(file), "out": str(out_file), "point_group": name, "max_displacement": moved})
        return
    out.print(f"wrote {out_file}: {name}, atoms moved by at most {moved:.3g} Å")


@app.command()
@reports_errors
def analyze(
    input_file: Path | None = typer.Argument(None, metavar="[INPUT]", help="Start structure."),
    target_file: Path | None = typer.Argument(None, metavar="[TARGET]", help="End structure (same atoms)."),
    encoding: str = typer.Option("signal", help="Target encoding: signal (the tutorial's) or vector (1o)."),
    lmax: int = typer.Option(4, help="Highest L of the candidate symmetry-breaking features."),
    signal_lmax: int = typer.Option(5, help="Highest L of the signal encoding."),
    tol: float = typer.Option(DEFAULT_TOL, help=TOL_HELP),
    so3: bool = typer.Option(False, "--so3", help="Analyse a rotation-only model (parity ignored)."),
    match: bool = typer.Option(False, "--match", help="Pair the atoms by minimal displacement, not by order."),
    near_tol: float = typer.Option(0.1, help="Warn about higher groups this close (Å) that the target breaks."),
    lattice: Path | None = typer.Option(None, "--lattice", help="Draw G's subgroup lattice with the path G → H."),
    neumann: bool = typer.Option(False, "--neumann", help="Print the Neumann table per irrep of G."),
    check: bool = typer.Option(False, "--check", help="Exit with code 1 when the task is not learnable."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """Predict learnability, the exact loss floor and the most symmetric symmetry-breaking input."""
    if lmax < 0:
        _fail(f"--lmax must be at least 0, got {lmax}")
    start, end = _read_pair(input_file, target_file)
    task = sc.Task.displacement(start, end, encoding=encoding, lmax=signal_lmax, match=match)
    report = sc.analyze(task, tol=tol, so3=so3, lmax=lmax, near_tol=near_tol)
    G, H = report.input_group, report.target_group
    sub = None
    if lattice:
        sub = _lattice(G, lattice, highlight=lambda L: L.path(H), title=f"{G.pretty_name} → {H.pretty_name}")
    per_irrep = report.neumann_by_irrep() if neumann else None
    if as_json:
        data = report.as_dict()
        if sub is not None:
            data["lattice"] = {"file": str(lattice), "subgroups": len(sub.subgroups),
                               "subgroup_classes": len(sub.classes),
                               "path": [sub.classes[i].label for i in sub.path(H)]}
        if per_irrep is not None:
            data["neumann_by_irrep"] = per_irrep
        _emit_json(data)
    else:
        _print_analysis(report)
        if sub is not None:
            out.print("symmetry breaking path: " + " → ".join(sub.classes[i].label for i in sub.path(H))
                      + f" (lattice drawn to {lattice})")
        if per_irrep is not None:
            _print_neumann(per_irrep, G)
    if check and not report.learnable:
        raise typer.Exit(1)


def _print_analysis(report) -> None:
    style = "green" if report.learnable else "red"
    out.print(f"[bold {style}]{report.verdict}[/]")
    if report.fix:
        out.print(f"[bold]fix:[/] {report.fix}")
    for warning in report.warnings:
        out.print(f"[bold yellow]warning:[/] {warning}")
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
    out.print(info)
    if report.obstructions:
        kinds: dict[str, int] = {}
        for o in report.obstructions:
            kind = o.operation.split(" ")[0].split("^")[0]
            kinds[kind] = kinds.get(kind, 0) + 1
        worst = max(report.obstructions, key=lambda o: o.change)
        out.print(
            "obstructing operations: "
            + ", ".join(f"{n}× {k}" if n > 1 else k for k, n in kinds.items())
            + f" (largest change {worst.change:.3g}, by {worst.operation})"
        )
    if report.suggestions:
        table = Table(title="symmetry-breaking inputs (best first)", header_style="bold", title_justify="left")
        for col in ("#", "irreps", "scope", "feature", "G becomes", "fixes?", "dim W"):
            table.add_column(col)
        for k, s in enumerate(report.suggestions[:12], 1):
            table.add_row(
                str(k), s.irreps, s.scope if s.scope == "global" else f"atoms {_sites(s.sites)}",
                s.polynomial, s.stabilizer, "yes" if s.reaches_target else "no", str(s.candidate_dim),
            )
        out.print(table)
        if len(report.suggestions) > 12:
            out.print(f"… and {len(report.suggestions) - 12} more (--json lists all)")


@app.command()
@reports_errors
def train(
    input_file: Path | None = typer.Argument(None, metavar="[INPUT]", help="Start structure."),
    target_file: Path | None = typer.Argument(None, metavar="[TARGET]", help="End structure (same atoms)."),
    auto_break: bool = typer.Option(False, "--auto-break", help="Add the best symmetry-breaking feature."),
    break_spec: str | None = typer.Option(
        None, "--break", help="Breaking feature: auto, a suggestion number, or IRREP:POLYNOMIAL (e.g. '2e:x**2-y**2')."
    ),
    encoding: str = typer.Option("signal", help="Target encoding: signal (the tutorial's) or vector (1o)."),
    steps: int = typer.Option(1000, help="Most training steps (stops early once the prediction is confirmed)."),
    lr: float = typer.Option(1e-3, help="Adam learning rate."),
    seed: int = typer.Option(0, help="Seed of the initial weights."),
    device: str = typer.Option("auto", help="auto (CUDA when present), cpu or cuda."),
    tol: float = typer.Option(DEFAULT_TOL, help=TOL_HELP),
    match: bool = typer.Option(False, "--match", help="Pair the atoms by minimal displacement, not by order."),
    out_dir: Path | None = typer.Option(None, "--out", help="Write loss curve, output signals and result.json here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """Train the tutorial's e3nn network on the task and check the loss against the predicted floor."""
    from symcheck.breaking import parse_breaking

    if auto_break and break_spec is not None:
        _fail("give --auto-break or --break, not both")
    if steps <= 0:
        _fail(f"--steps must be positive, got {steps}")
    start, end = _read_pair(input_file, target_file)
    task = sc.Task.displacement(start, end, encoding=encoding, match=match)
    report = sc.analyze(task, tol=tol)
    spec = "auto" if auto_break else break_spec
    breaking = parse_breaking(spec, report) if spec is not None else None
    if breaking is not None and not breaking.reaches_target and not as_json:
        left = ("another " if breaking.stabilizer == report.target_group.name else "") + breaking.stabilizer
        err.print(f"[yellow]note:[/] {breaking.description} leaves {left}, not the target's "
                  f"{report.target_group.pretty_name}: the task stays unlearnable")
    with _progress(as_json, steps, report.loss_floor) as update:
        result = sc.train(task, breaking=breaking, steps=steps, lr=lr, seed=seed, device=device,
                          analysis=report, progress=update)
    files = _write_train_outputs(out_dir, task, result) if out_dir else {}
    if as_json:
        data = result.as_dict()
        data["input"] = report.as_dict()["input"]
        data["target"] = report.as_dict()["target"]
        data["files"] = {k: str(v) for k, v in files.items()}
        _emit_json(data)
        return
    style = "green" if result.verdict == "confirmed" else "red"
    out.print(f"[bold {style}]{result.verdict.upper()}[/]: {result.reason}")
    out.print(f"input {report.input_group.pretty_name}, target keeps {report.target_group.pretty_name}; "
              f"breaking: {result.breaking or 'none'}")
    out.print(f"{result.steps} steps in {result.seconds:.2f} s on {result.device}; "
              f"equivariance error {result.equivariance_error:.1e}")
    for name, path in files.items():
        out.print(f"wrote {path} ({name})")


def _progress(quiet: bool, total: int, floor: float):
    """A rich progress bar with the live loss and the predicted floor (a no-op when quiet)."""
    from contextlib import contextmanager

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def bar():
        if quiet or not out.is_terminal:
            yield None
            return
        with Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("loss {task.fields[loss]:.3e}  floor " + f"{floor:.3e}"),
                      TimeElapsedColumn(), console=err, transient=True) as progress:
            task_id = progress.add_task("train", total=total, loss=float("nan"))
            yield lambda step, loss: progress.update(task_id, completed=step, loss=loss)

    return bar()


def _write_train_outputs(out_dir: Path, task, result) -> dict:
    from symcheck import plots

    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"loss curve": plots.loss_curves([("training", result.losses, result.predicted_floor)],
                                             out_dir / "loss.png")}
    if task.encoding == "signal":
        files["output signals"] = plots.signals_figure(
            task.structure.positions, result.output, task.lmax, out_dir / "signals.png",
            title=f"output after {result.steps} steps ({result.verdict})",
            end_positions=task.end.positions, displacements=task.displacements)
    path = out_dir / "result.json"
    path.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    files["result"] = path
    return files


@app.command()
@reports_errors
def demo(
    out_dir: Path = typer.Option(Path("symcheck-demo"), "--out", help="Folder for the figures."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """The tutorial end to end: its three tasks analysed, trained and judged, with figures."""
    from symcheck.demo import run_demo

    if as_json:
        _emit_json(run_demo(out_dir).as_dict())
        return
    with err.status("analysing and training the tutorial's three tasks …"):
        result = run_demo(out_dir)
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


def _print_neumann(per_irrep: dict, G) -> None:
    labels = list(next(iter(per_irrep.values())))
    table = Table(title=f"Neumann table: copies of each irrep of {G.pretty_name} in each O(3) irrep",
                  title_justify="left", header_style="bold")
    table.add_column("O(3)")
    for label in labels:
        table.add_column(label, justify="right")
    for lp, counts in per_irrep.items():
        table.add_row(lp, *[str(counts[label]) if counts[label] else "·" for label in labels])
    out.print(table)


def _sites(sites) -> str:
    return ",".join(str(i) for i in sites[:8]) + ("…" if len(sites) > 8 else "")


def main() -> None:  # pragma: no cover - console-script entry point
    app(prog_name="symcheck")


if __name__ == "__main__":  # pragma: no cover
    main()
