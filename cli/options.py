"""Every command-line option that more than one command takes, defined once, with the check of its value.

An option's check runs while the command line is read, before any file is opened, and names the
flag the user typed (one line, exit 2). ``analyze`` and ``train`` share a whole block of options:
:class:`AnalysisOptions`, which :func:`analysis_options` spreads into a command's parameters.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, fields
from functools import wraps
from pathlib import Path
from typing import Annotated, get_type_hints

import typer

import symcheck as sc

from .common import fail, note

#: Highest L accepted for the --*-lmax flags: beyond it e3nn's tables grow without bound and no
#: symmetry question needs more (a point group is told apart by its invariants up to L = 12).
LMAX_LIMIT = 12


def _distance(param: typer.CallbackParam, value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        fail(f"{param.opts[0]} must be a positive distance tolerance in Å, got {value}")
    return value


def _distance_or_zero(param: typer.CallbackParam, value: float) -> float:
    if not (math.isfinite(value) and value >= 0):
        fail(f"{param.opts[0]} must be a distance of at least 0 Å (0 turns the check off), got {value}")
    return value


def positive(param: typer.CallbackParam, value: float | None) -> float | None:
    """The check of an option that takes a finite number > 0 (None: not given)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        fail(f"{param.opts[0]} must be a positive number, got {value}")
    return value


def _at_least_one(param: typer.CallbackParam, value: int | None) -> int | None:
    if value is not None and value < 1:
        fail(f"{param.opts[0]} must be at least 1, got {value}")
    return value


def lmax_range(low: int):
    """The check of an option that takes an L in [low, LMAX_LIMIT] (None: not given)."""

    def check(param: typer.CallbackParam, value: int | None) -> int | None:
        if value is not None and not low <= value <= LMAX_LIMIT:
            fail(f"{param.opts[0]} must be between {low} and {LMAX_LIMIT}, got {value}")
        return value

    return check


def _setting(value: str | None) -> str | None:
    try:
        return sc.check_setting(value)
    except sc.SymcheckError as exc:
        fail(f"--setting: {exc}")


Tol = Annotated[float, typer.Option("--tol", callback=_distance,
                                    help="Distance tolerance in Å for every symmetry decision.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Setting = Annotated[str | None, typer.Option(
    "--setting", callback=_setting,
    help="Irrep-label setting: atoms (C2′ axes / σv planes through atoms) or bonds (between atoms); "
         "default: the file's own axes where the group allows.")]
Threads = Annotated[int | None, typer.Option(
    "--threads", callback=_at_least_one, help="CPU threads for torch (default: 1 for small inputs, faster).")]


@dataclass(frozen=True)
class AnalysisOptions:
    """The task and analysis settings ``analyze`` and ``train`` share (one definition for both).

    Each field is a command-line parameter; :meth:`task` and :meth:`analyze` hand them to the library.
    """

    input_file: Annotated[Path | None, typer.Argument(metavar="[INPUT]", help="Start structure.")] = None
    target_file: Annotated[Path | None, typer.Argument(metavar="[TARGET]", help="End structure (same atoms).")] = None
    encoding: Annotated[str, typer.Option(
        "--encoding", help="Target encoding: signal (the tutorial's) or vector (1o).")] = "signal"
    feature_lmax: Annotated[int, typer.Option(
        "--feature-lmax", callback=lmax_range(0),
        help=f"Highest L of the candidate symmetry-breaking features (0 to {LMAX_LIMIT}).")] = sc.FEATURE_LMAX
    signal_lmax: Annotated[int, typer.Option(
        "--signal-lmax", callback=lmax_range(1),
        help=f"Highest L of the signal encoding (1 to {LMAX_LIMIT}).")] = sc.SIGNAL_LMAX
    tol: Tol = sc.DEFAULT_TOL
    so3: Annotated[bool, typer.Option("--so3", help="A rotation-only model (parity ignored): G ∩ SO(3).")] = False
    match: Annotated[bool, typer.Option(
        "--match", help="Pair the atoms by minimal displacement, not by order.")] = False
    near_tol: Annotated[float, typer.Option(
        "--near-tol", callback=_distance_or_zero,
        help="Warn about higher groups this close (Å) that the target breaks; 0 turns the check off.")] = sc.NEAR_TOL
    target_rtol: Annotated[float, typer.Option(
        "--target-rtol", callback=positive,
        help="An operation keeps the target when no entry changes by more than this × the target's largest "
             "entry.")] = sc.TARGET_RTOL
    frame: Annotated[int | None, typer.Option(
        "--frame", help="Frame of a multi-frame file (default: the last).")] = None
    setting: Setting = None
    # the old name of --feature-lmax, hidden, for one release
    lmax: Annotated[int | None, typer.Option("--lmax", hidden=True, callback=lmax_range(0))] = None

    def __post_init__(self) -> None:
        if self.lmax is not None:
            if self.feature_lmax not in (sc.FEATURE_LMAX, self.lmax):
                fail("give --feature-lmax or the deprecated --lmax, not both")
            note("--lmax is deprecated and will be removed in the next release; use --feature-lmax")
            object.__setattr__(self, "feature_lmax", self.lmax)
            object.__setattr__(self, "lmax", None)

    def task(self) -> sc.Task:
        """The displacement task of the two files (or the tutorial's square → rectangle)."""
        if (self.input_file is None) != (self.target_file is None):
            fail("give both INPUT and TARGET files, or neither (the tutorial's square → rectangle)")
        if self.input_file is None:
            if self.frame is not None:
                fail("--frame picks a frame of the INPUT and TARGET files; give them")
            return sc.Task.displacement(sc.example("square"), sc.example("rectangle"), encoding=self.encoding,
                                        signal_lmax=self.signal_lmax, match=self.match)
        return sc.Task.from_files(self.input_file, self.target_file, encoding=self.encoding,
                                  signal_lmax=self.signal_lmax, match=self.match, frame=self.frame)

    def analyze(self) -> sc.Analysis:
        """``symcheck.analyze`` of :meth:`task` with these settings."""
        return sc.analyze(self.task(), tol=self.tol, so3=self.so3, feature_lmax=self.feature_lmax,
                          near_tol=self.near_tol, target_rtol=self.target_rtol, setting=self.setting)


def analysis_options(command):
    """Give ``command`` the parameters of :class:`AnalysisOptions` in place of its ``opts`` parameter.

    Typer reads a command's parameters from its signature: the wrapper shows the dataclass's
    fields there (with their option definitions), and calls ``command`` with them gathered into
    one ``opts``.
    """
    hints = get_type_hints(command, include_extras=True)
    shared = get_type_hints(AnalysisOptions, include_extras=True)
    names = [f.name for f in fields(AnalysisOptions)]
    own = [p for p in inspect.signature(command).parameters.values() if p.name != "opts"]
    clash = set(names) & {p.name for p in own}
    if clash:
        raise TypeError(f"{command.__name__} repeats the shared options {sorted(clash)}")
    params = []
    for p in inspect.signature(command).parameters.values():
        if p.name == "opts":
            params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default,
                                         annotation=shared[f.name]) for f in fields(AnalysisOptions)]
        else:
            params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints.get(p.name, p.annotation)))

    @wraps(command)
    def wrapper(**kwargs):
        opts = AnalysisOptions(**{name: kwargs.pop(name) for name in names})
        return command(opts=opts, **kwargs)

    wrapper.__signature__ = inspect.Signature(params, return_annotation=None)
    return wrapper
