"""`symcheck train`: the task analysed once, then symcheck.analyze_and_train on that analysis; printing only."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

import symcheck as sc

from .common import emit_json, err, fail, note, out, output_folder
from .options import LMAX_LIMIT, AnalysisOptions, AsJson, Threads, analysis_options, lmax_range, positive


@analysis_options
def train(
    opts: AnalysisOptions,
    auto_break: Annotated[bool, typer.Option("--auto-break", help="Add the best symmetry-breaking feature.")] = False,
    break_spec: Annotated[str | None, typer.Option(
        "--break", help="Breaking feature: auto, a suggestion number, or IRREP:POLYNOMIAL (e.g. '2e:x**2-y**2').",
    )] = None,
    steps: Annotated[int | None, typer.Option(
        "--steps", help="Most training steps. Default: adaptive (on while the loss still falls, up to 20000); "
                        "training stops early once the prediction is confirmed.")] = None,
    network_lmax: Annotated[int | None, typer.Option(
        "--network-lmax", callback=lmax_range(1),
        help=f"Highest L of the network's features (1 to {LMAX_LIMIT}; default: 5, or more when the target or "
             "the inputs need it).")] = None,
    lr: Annotated[float, typer.Option("--lr", callback=positive, help="Adam learning rate.")] = 1e-3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the initial weights.")] = 0,
    device: Annotated[str, typer.Option("--device", help="auto (CUDA when present), cpu or cuda.")] = "auto",
    threads: Threads = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Write loss curve, output signals and result.json here.")] = None,
    check: Annotated[bool, typer.Option(
        "--check", help="Exit with code 1 when the prediction is not confirmed.")] = False,
    as_json: AsJson = False,
) -> None:
    """Train the tutorial's e3nn network on the task and check the loss against the predicted floor."""
    if auto_break and break_spec is not None:
        fail("give --auto-break or --break, not both")
    if steps is not None and steps <= 0:
        fail(f"--steps must be positive, got {steps} (leave it out for the adaptive budget)")
    if out_dir is not None:
        output_folder(out_dir)
    report = opts.analyze()  # analysed once: the run tests exactly this prediction
    spec = "auto" if auto_break else break_spec
    breaking = _breaking(spec, report) if spec is not None else None
    if not as_json:
        for warning in report.warnings:
            err.print(f"[bold yellow]warning:[/] {warning}", soft_wrap=True)
        if breaking is not None and not breaking.reaches_target:
            left = ("another " if breaking.stabilizer == report.target_group.name else "") + breaking.stabilizer
            note(f"{breaking.description} leaves {left}, not the target's {report.target_group.pretty_name}: "
                 "the task stays unlearnable")
    with _progress(as_json, steps, report.loss_floor) as update:
        run = sc.analyze_and_train(report, breaking, out=out_dir, steps=steps, lr=lr, seed=seed, device=device,
                                   threads=threads, progress=update, network_lmax=network_lmax)
    if as_json:
        emit_json(run.as_dict())
    else:
        result = run.result
        style = "green" if result.confirmed else "red"
        out.print(f"[bold {style}]{result.verdict.upper()}[/]: {result.reason}")
        out.print(f"input {report.input_group.pretty_name}, target keeps {report.target_group.pretty_name}; "
                  f"breaking: {result.breaking or 'none'}")
        out.print(f"{result.steps} steps in {result.seconds:.2f} s on {result.device}; "
                  f"equivariance error {result.equivariance_error:.1e}")
        for name, path in run.files.items():
            out.print(f"wrote {path} ({name})")
    if check and not run.result.confirmed:
        raise typer.Exit(1)


def _breaking(spec: str, report):
    """The breaking feature of a --break / --auto-break spec, with plain errors for numbers out of range."""
    text = spec.strip()
    if text.isdigit() and not 1 <= int(text) <= len(report.suggestions):
        if not report.suggestions:
            fail(f"--break {text}: the task is learnable as it is, there are no suggestions to pick from")
        fail(f"--break {text}: pick a suggestion from 1 to {len(report.suggestions)} (symcheck analyze lists them)")
    if text == "auto" and not report.learnable and not report.suggestions:
        fail(f"--break auto: no symmetry-breaking feature up to L={report.feature_lmax} was found "
             "(try a larger --feature-lmax)")
    try:
        return sc.parse_breaking(text, report)
    except sc.SymcheckError as exc:
        message = str(exc)
        fail(message if message.startswith("--break") else f"--break {text!r}: {message}")


def _progress(quiet: bool, total: int | None, floor: float):
    """A rich progress bar with the live loss and the predicted floor (a no-op when quiet)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def bar():
        if quiet or not out.is_terminal:
            yield None
            return
        with Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("loss {task.fields[loss]:.3e}  floor " + f"{floor:.3e}"),
                      TimeElapsedColumn(), console=err, transient=True) as progress:
            # adaptive budget: the bar runs against the cap, and finishes early when the verdict is in
            task_id = progress.add_task("train", total=total or sc.MAX_STEPS, loss=float("nan"))
            yield lambda step, loss: progress.update(task_id, completed=step, loss=loss)

    return bar()
