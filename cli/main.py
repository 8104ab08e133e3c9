"""The `symcheck` command: a thin shell over the public API (arguments, printing, exit codes)."""

from __future__ import annotations

import json
import math
import os
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
TOL_WHAT = "a positive distance tolerance in Å"
#: Highest L accepted for --lmax / --signal-lmax: beyond it e3nn's tables grow without bound and
#: no symmetry question needs more (a point group is told apart by its invariants up to L = 12).
LMAX_LIMIT = 12
SETTING_HELP = ("Irrep-label setting: atoms (C2′ axes / σv planes through atoms) or bonds (between atoms); "
                "default: the file's own axes where the group allows.")


def _switches_without_type() -> None:
    """Show plain switches (--so3, --json, --help …) as switches in --help, not as ``<bool>`` values.

    This typer version prints every option's type, flags included, so a switch looked like an
    option that takes a value. Flags have no value to show.
    """
    from typer.core import TyperOption

    original = getattr(TyperOption, "display_type_rich", None)
    if original is None or getattr(original, "_symcheck", False):
        return

    def display_type_rich(self, ctx):
        if getattr(self, "is_flag", False) and not getattr(self, "secondary_opts", None) and self.metavar is None:
            return None
        return original(self, ctx)

    display_type_rich._symcheck = True
    TyperOption.display_type_rich = display_type_rich


_switches_without_type()


def _version(value: bool) -> None:
    if value:
        out.print(f"symcheck {sc.__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print symcheck's version and exit."),
) -> None:
    """Can an E(3)-equivariant network learn this map? Symmetry, loss floors and symmetry-breaking inputs."""


def _positive(value: float, flag: str, what: str = "a positive number") -> float:
    """A finite number > 0, else one line naming the flag."""
    if not (math.isfinite(value) and value > 0):
        _fail(f"{flag} must be {what}, got {value}")
    return value


def _lmax_option(value: int, flag: str, low: int) -> int:
    if not low <= value <= LMAX_LIMIT:
        _fail(f"{flag} must be between {low} and {LMAX_LIMIT}, got {value}")
    return value


def _check_analysis_flags(tol: float, near_tol: float, lmax: int, signal_lmax: int) -> None:
    """The flags analyze and train share, checked before any file is read."""
    _positive(tol, "--tol", TOL_WHAT)
    if not (math.isfinite(near_tol) and near_tol >= 0):
        _fail(f"--near-tol must be a distance of at least 0 Å (0 turns the check off), got {near_tol}")
    _lmax_option(lmax, "--lmax", 0)
    _lmax_option(signal_lmax, "--signal-lmax", 1)


def _check_setting(setting: str | None) -> str | None:
    from symcheck.groups.naming import check_setting

    try:
        return check_setting(setting)
    except SymcheckError as exc:
        _fail(f"--setting: {exc}")


def _writable_folder(folder: Path, flag: str, what: Path) -> None:
    """``folder`` (or its nearest existing ancestor, for folders symcheck creates) can take files."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        _fail(f"{flag} {what}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK):
        _fail(f"{flag} {what}: the folder {probe} is not writable")


def _new_structure_file(path: Path, flag: str = "--out") -> None:
    """A structure file to be written: in an existing folder, a format ASE writes and reads (not the
    check that it does not exist yet: :func:`_not_there` runs just before writing, after the cheap
    checks of the request itself, so that a wrong --group is reported as such)."""
    from ase.io.formats import filetype, ioformats

    if path.is_dir():
        _fail(f"{flag} {path}: is a folder, not a file")
    if not path.parent.is_dir():
        _fail(f"{flag} {path}: the folder {path.parent} does not exist")
    _writable_folder(path.parent, flag, path)
    try:
        fmt = filetype(str(path), read=False)
        ok = ioformats[fmt].can_write and ioformats[fmt].can_read
    except Exception:  # ASE raises KeyError or UnknownFileTypeError for names it does not know
        ok = False
    if not ok:
        _fail(f"{flag} {path}: unknown structure file type {path.suffix or path.name!r} "
              "(use .xyz, .extxyz, .cif, .vasp/POSCAR, .json, .traj or .pdb)")


def _not_there(path: Path, flag: str = "--out") -> None:
    """symcheck never overwrites a file."""
    if path.exists() or path.is_symlink():
        _fail(f"{flag} {path}: the file exists (symcheck does not overwrite; remove it or choose another name)")


def _figure_file(path: Path, flag: str) -> None:
    """A figure to be written: an image type matplotlib writes, in an existing folder."""
    if path.suffix.lower() not in (".png", ".pdf", ".svg"):
        _fail(f"{flag} {path}: unknown figure type {path.suffix or path.name!r} (use .png, .pdf or .svg)")
    if path.is_dir():
        _fail(f"{flag} {path}: is a folder, not a file")
    if not path.parent.is_dir():
        _fail(f"{flag} {path}: the folder {path.parent} does not exist")
    _writable_folder(path.parent, flag, path)


def _output_folder(path: Path, flag: str = "--out") -> None:
    """A folder for figures: an existing folder, or one that can be created."""
    if path.exists() and not path.is_dir():
        _fail(f"{flag} {path}: is a file, not a folder")
    _writable_folder(path, flag, path)


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


def _task(input_file: Path | None, target_file: Path | None, encoding: str, signal_lmax: int, match: bool,
          frame: int | None):
    """The displacement task of the two files (or the tutorial's square → rectangle)."""
    if (input_file is None) != (target_file is None):
        _fail("give both INPUT and TARGET files, or neither (the tutorial's square → rectangle)")
    if input_file is None:
        if frame is not None:
            _fail("--frame picks a frame of the INPUT and TARGET files; give them")
        return sc.Task.displacement(sc.example("square"), sc.example("rectangle"), encoding=encoding,
                                    lmax=signal_lmax, match=match)
    return sc.Task.from_files(input_file, target_file, encoding=encoding, lmax=signal_lmax, match=match, frame=frame)


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
    setting: str | None = typer.Option(None, "--setting", help=SETTING_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """The point group of a structure: name, order, operations by kind, equivalent atoms."""
    _positive(tol, "--tol", TOL_WHAT)
    setting = _check_setting(setting)
    if setting is not None and not characters:
        _fail("--setting names the irrep labels of the character table: give it with --characters")
    if lattice:
        _figure_file(lattice, "--lattice")
    structure = sc.read(file)
    pg = symmetry_group(structure, tol=tol).in_setting(setting)  # operations named in the table's setting
    if characters:
        _needs_finite_point_group(pg, "--characters", "character tables")
    if lattice:
        _needs_finite_point_group(pg, "--lattice", "the subgroup lattice")
    steps = sc.tolerance_ladder(structure) if ladder else None
    sub = _lattice(pg, lattice, highlight=None, title=f"subgroups of {pg.pretty_name}") if lattice else None
    table = _character_table(pg, setting) if characters else None
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


def _needs_finite_point_group(G, flag: str, what: str) -> None:
    """One line and exit 2 when a flag needs a finite point group and G is not one (before any output)."""
    if G.order is None or isinstance(G, sc.groups.SpaceGroup):
        _fail(f"{flag}: {what} needs a finite point group, not {G.pretty_name}")


def _lattice(G, path: Path, highlight, title: str):
    """Draw G's subgroup lattice (finite point groups only) and return it."""
    from symcheck.groups.lattice import draw_lattice, subgroup_lattice

    _needs_finite_point_group(G, "--lattice", "the subgroup lattice")
    sub = subgroup_lattice(G)
    draw_lattice(sub, path, highlight=highlight(sub) if highlight else None, title=title)
    return sub


def _character_table(G, setting: str | None = None):
    from symcheck.groups.characters import character_table

    _needs_finite_point_group(G, "--characters", "character tables")
    return character_table(G) if setting is None else character_table(G, setting=setting)


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
    _positive(tol, "--tol", TOL_WHAT)
    _new_structure_file(out_file)
    structure = sc.read(file)
    result = sc.symmetrize(structure, group=group_name, tol=tol)
    # the group's name before anything is written: point_group refuses crystals, symmetry_group does not
    name = group_name or symmetry_group(structure, tol=tol).name
    moved = _max_displacement(structure, result)
    _not_there(out_file)
    sc.write(out_file, result)
    if as_json:
        _emit_json({"file": str(file), "out": str(out_file), "point_group": name, "max_displacement": moved})
        return
    out.print(f"wrote {out_file}: {name}, atoms moved by at most {moved:.3g} Å")


def _max_displacement(before, after) -> float:
    """Largest distance (Å) an atom moved (minimum image for crystals)."""
    from symcheck import near

    if hasattr(near, "max_displacement"):
        return near.max_displacement(before, after)
    return float(np.max(np.linalg.norm(after.positions - before.positions, axis=1), initial=0.0))


@app.command()
@reports_errors
def analyze(
    input_file: Path | None = typer.Argument(None, metavar="[INPUT]", help="Start structure."),
    target_file: Path | None = typer.Argument(None, metavar="[TARGET]", help="End structure (same atoms)."),
    encoding: str = typer.Option("signal", help="Target encoding: signal (the tutorial's) or vector (1o)."),
    lmax: int = typer.Option(4, help=f"Highest L of the candidate symmetry-breaking features (0 to {LMAX_LIMIT})."),
    signal_lmax: int = typer.Option(5, help=f"Highest L of the signal encoding (1 to {LMAX_LIMIT})."),
    tol: float = typer.Option(DEFAULT_TOL, help=TOL_HELP),
    so3: bool = typer.Option(False, "--so3", help="Analyse a rotation-only model (parity ignored)."),
    match: bool = typer.Option(False, "--match", help="Pair the atoms by minimal displacement, not by order."),
    near_tol: float = typer.Option(0.1, help="Warn about higher groups this close (Å) that the target breaks."),
    frame: int | None = typer.Option(None, "--frame", help="Frame of a multi-frame file (default: the last)."),
    setting: str | None = typer.Option(None, "--setting", help=SETTING_HELP),
    lattice: Path | None = typer.Option(None, "--lattice", help="Draw G's subgroup lattice with the path G → H."),
    neumann: bool = typer.Option(False, "--neumann", help="Print the Neumann table per irrep of G."),
    check: bool = typer.Option(False, "--check", help="Exit with code 1 when the task is not learnable."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """Predict learnability, the exact loss floor and the most symmetric symmetry-breaking input."""
    _check_analysis_flags(tol, near_tol, lmax, signal_lmax)
    setting = _check_setting(setting)
    if lattice:
        _figure_file(lattice, "--lattice")
    task = _task(input_file, target_file, encoding, signal_lmax, match, frame)
    report = sc.analyze(task, tol=tol, so3=so3, lmax=lmax, near_tol=near_tol, setting=setting)
    G, H = report.input_group, report.target_group
    if neumann:
        _needs_finite_point_group(G, "--neumann", "the Neumann table per irrep")
    if lattice:
        _needs_finite_point_group(G, "--lattice", "the subgroup lattice")
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
        for col in ("#", "irreps", "irrep of G", "scope", "feature", "G becomes", "fixes?", "dim W"):
            table.add_column(col)
        for k, s in enumerate(report.suggestions[:12], 1):
            table.add_row(
                str(k), s.irreps, s.irrep_label or "", s.scope if s.scope == "global" else f"atoms {_sites(s.sites)}",
                s.polynomial, s.stabilizer, "yes" if s.reaches_target else "no", str(s.candidate_dim),
            )
        out.print(table)
        if len(report.suggestions) > 12:
            out.print(f"… and {len(report.suggestions) - 12} more (--json lists all)")
        setting = report.suggestions[0].irrep_setting
        if setting:  # labels such as B1/B2 depend on it (choose another with --setting)
            out.print(f"[dim]irrep labels: {setting}[/]")


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
    lmax: int = typer.Option(4, help=f"Highest L of the candidate symmetry-breaking features (0 to {LMAX_LIMIT})."),
    signal_lmax: int = typer.Option(5, help=f"Highest L of the signal encoding (1 to {LMAX_LIMIT})."),
    tol: float = typer.Option(DEFAULT_TOL, help=TOL_HELP),
    so3: bool = typer.Option(False, "--so3", help="Analyse and train a rotation-only model (parity ignored)."),
    match: bool = typer.Option(False, "--match", help="Pair the atoms by minimal displacement, not by order."),
    near_tol: float = typer.Option(0.1, help="Warn about higher groups this close (Å) that the target breaks."),
    frame: int | None = typer.Option(None, "--frame", help="Frame of a multi-frame file (default: the last)."),
    setting: str | None = typer.Option(None, "--setting", help=SETTING_HELP),
    steps: int | None = typer.Option(
        None, help="Most training steps. Default: adaptive (on while the loss still falls, up to 20000); "
                   "training stops early once the prediction is confirmed."),
    lr: float = typer.Option(1e-3, help="Adam learning rate."),
    seed: int = typer.Option(0, help="Seed of the initial weights."),
    device: str = typer.Option("auto", help="auto (CUDA when present), cpu or cuda."),
    threads: int | None = typer.Option(None, help="CPU threads for torch (default: 1 for small inputs, faster)."),
    out_dir: Path | None = typer.Option(None, "--out", help="Write loss curve, output signals and result.json here."),
    check: bool = typer.Option(False, "--check", help="Exit with code 1 when the prediction is not confirmed."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """Train the tutorial's e3nn network on the task and check the loss against the predicted floor."""
    from symcheck.breaking import parse_breaking

    if auto_break and break_spec is not None:
        _fail("give --auto-break or --break, not both")
    _check_analysis_flags(tol, near_tol, lmax, signal_lmax)
    if steps is not None and steps <= 0:
        _fail(f"--steps must be positive, got {steps} (leave it out for the adaptive budget)")
    _positive(lr, "--lr")
    if threads is not None and threads < 1:
        _fail(f"--threads must be at least 1, got {threads}")
    setting = _check_setting(setting)
    if out_dir is not None:
        _output_folder(out_dir)
    task = _task(input_file, target_file, encoding, signal_lmax, match, frame)
    report = sc.analyze(task, tol=tol, so3=so3, lmax=lmax, near_tol=near_tol, setting=setting)
    spec = "auto" if auto_break else break_spec
    breaking = _breaking(spec, report, parse_breaking) if spec is not None else None
    if not as_json:
        for warning in report.warnings:
            err.print(f"[bold yellow]warning:[/] {warning}", soft_wrap=True)
    if breaking is not None and not breaking.reaches_target and not as_json:
        left = ("another " if breaking.stabilizer == report.target_group.name else "") + breaking.stabilizer
        err.print(f"[yellow]note:[/] {breaking.description} leaves {left}, not the target's "
                  f"{report.target_group.pretty_name}: the task stays unlearnable")
    with _progress(as_json, steps, report.loss_floor) as update:
        result = sc.train(report, breaking=breaking, steps=steps, lr=lr, seed=seed, device=device,
                          threads=threads, progress=update)
    files = _write_train_outputs(out_dir, task, result) if out_dir else {}
    if as_json:
        data = result.as_dict()
        data["input"] = report.as_dict()["input"]
        data["target"] = report.as_dict()["target"]
        data["warnings"] = list(report.warnings)
        data["settings"] = report.as_dict()["settings"]
        data["files"] = {k: str(v) for k, v in files.items()}
        _emit_json(data)
    else:
        style = "green" if result.verdict == "confirmed" else "red"
        out.print(f"[bold {style}]{result.verdict.upper()}[/]: {result.reason}")
        out.print(f"input {report.input_group.pretty_name}, target keeps {report.target_group.pretty_name}; "
                  f"breaking: {result.breaking or 'none'}")
        out.print(f"{result.steps} steps in {result.seconds:.2f} s on {result.device}; "
                  f"equivariance error {result.equivariance_error:.1e}")
        for name, path in files.items():
            out.print(f"wrote {path} ({name})")
    if check and result.verdict != "confirmed":
        raise typer.Exit(1)


def _breaking(spec: str, report, parse_breaking):
    """The breaking feature of a --break / --auto-break spec, with plain errors for numbers out of range."""
    text = spec.strip()
    if text.isdigit() and not 1 <= int(text) <= len(report.suggestions):
        if not report.suggestions:
            _fail(f"--break {text}: the task is learnable as it is, there are no suggestions to pick from")
        _fail(f"--break {text}: pick a suggestion from 1 to {len(report.suggestions)} (symcheck analyze lists them)")
    if text == "auto" and not report.learnable and not report.suggestions:
        _fail(f"--break auto: no symmetry-breaking feature up to L={report.feature_lmax} was found "
              "(try a larger --lmax)")
    try:
        return parse_breaking(text, report)
    except SymcheckError as exc:
        message = str(exc)
        _fail(message if message.startswith("--break") else f"--break {text!r}: {message}")


def _progress(quiet: bool, total: int | None, floor: float):
    """A rich progress bar with the live loss and the predicted floor (a no-op when quiet)."""
    from contextlib import contextmanager

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from symcheck.training import MAX_STEPS

    @contextmanager
    def bar():
        if quiet or not out.is_terminal:
            yield None
            return
        with Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("loss {task.fields[loss]:.3e}  floor " + f"{floor:.3e}"),
                      TimeElapsedColumn(), console=err, transient=True) as progress:
            # adaptive budget: the bar runs against the cap, and finishes early when the verdict is in
            task_id = progress.add_task("train", total=total or MAX_STEPS, loss=float("nan"))
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
    threads: int | None = typer.Option(None, help="CPU threads for torch (default: 1 for small inputs, faster)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """The tutorial end to end: its three tasks analysed, trained and judged, with figures."""
    from symcheck.demo import run_demo

    _output_folder(out_dir)
    if threads is not None and threads < 1:
        _fail(f"--threads must be at least 1, got {threads}")
    if as_json:
        _emit_json(run_demo(out_dir, threads=threads).as_dict())
        return
    with err.status("analysing and training the tutorial's three tasks …"):
        result = run_demo(out_dir, threads=threads)
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


from symcheck_cli.scan import scan as _scan_command  # noqa: E402  (symcheck scan lives in its own file)

app.command("scan")(reports_errors(_scan_command))

from symcheck_cli.modes import modes as _modes_command  # noqa: E402  (symcheck modes lives in its own file)

app.command("modes")(reports_errors(_modes_command))


def main() -> None:  # pragma: no cover - console-script entry point
    app(prog_name="symcheck")


if __name__ == "__main__":  # pragma: no cover
    main()
