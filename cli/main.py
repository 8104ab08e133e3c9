"""The `symcheck` command: a thin shell over the public API (arguments, printing, exit codes).

Each command lives in its own module (group.py, analyze.py, train.py, …); the options several
commands take are defined once in options.py; errors, consoles and path checks are in common.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer

import symcheck as sc

from .analyze import analyze
from .common import out, reports_errors
from .demo import demo
from .group import group, symmetrize
from .modes import modes
from .scan import scan
from .train import train

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Can an E(3)-equivariant network learn this map? Symmetry, loss floors and symmetry-breaking inputs.",
    pretty_exceptions_enable=False,
)


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

# a number as pydantic reads it from a string: ASCII digits, an optional sign, point and exponent (pydantic
# also takes "1_000", " 1", "nan" …: those go through pydantic itself)
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NOT_PLAIN = object()


def _plain_value(annotation, value):
    """``value`` as typer's pydantic adapter would return it, for the plain cases; else _NOT_PLAIN.

    Each case gives exactly what pydantic gives (tests/test_speed_cli.py compares them).
    """
    kind = type(value)
    if annotation is float:
        if kind is float:
            return value
        if kind is int:
            return float(value)
        if kind is str and _FLOAT.fullmatch(value):
            return float(value)
    elif annotation is int:
        if kind is int:
            return value
        if kind is str and _INT.fullmatch(value):
            return int(value)
    elif annotation is str or annotation is bool:
        if kind is annotation:
            return value
    elif annotation is Path and kind is str:
        return Path(value)
    return _NOT_PLAIN


def _values_without_pydantic() -> None:
    """Read plain option values (numbers, strings, paths) without pydantic.

    This typer version coerces every value, defaults included, through a pydantic TypeAdapter:
    importing pydantic for it took 0.09 s of every command (about as long as importing numpy),
    for values that are plain numbers, words and paths. Such values are converted here exactly
    as pydantic would; anything else (a malformed number, an option with limits, a file, a
    list) goes through typer's own pydantic coercion and its error messages. Skipped when typer
    is not built this way.
    """
    try:
        from dataclasses import dataclass
        from functools import cached_property

        from typer import _param_types, core
        from typer._coercion import RuntimeParam
    except ImportError:
        return
    original = getattr(core, "build_runtime_param", None)
    coerce_path = getattr(_param_types, "coerce_cli_path", None)
    if original is None or coerce_path is None or getattr(original, "_symcheck", False):
        return

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):
        descriptor: object = None

        @cached_property
        def full(self):
            """typer's own coercion, built (and pydantic imported) only when a value needs it."""
            return original(self.descriptor)

        def _coerce_value(self, value, param, ctx):
            plain = _plain_value(self.annotation, value)
            if plain is _NOT_PLAIN:
                return self.full._coerce_value(value, param, ctx)
            if self.annotation is Path:  # typer's checks of the path (exists, readable …, as configured)
                return coerce_path(plain, self.parameter_info, path_type=Path, param=param, ctx=ctx)
            return plain

    def build_runtime_param(descriptor):
        info = descriptor.parameter_info
        plain = (descriptor.annotation in (float, int, str, bool, Path) and descriptor.file_annotation is None
                 and info.parser is None and info.min is None and info.max is None and not info.clamp
                 and getattr(info, "path_type", None) is None and getattr(info, "click_type", None) is None)
        if not plain:
            return original(descriptor)
        return PlainRuntimeParam(parameter_info=info, annotation=descriptor.annotation, descriptor=descriptor)

    build_runtime_param._symcheck = True
    core.build_runtime_param = build_runtime_param


try:
    _values_without_pydantic()
except Exception:  # noqa: BLE001  (typer's private internals changed shape: keep typer's own coercion)
    pass


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


for _command in (group, symmetrize, analyze, train, demo, scan, modes):
    app.command(_command.__name__)(reports_errors(_command))


def main() -> None:  # pragma: no cover - console-script entry point
    app(prog_name="symcheck")


if __name__ == "__main__":  # pragma: no cover
    main()
