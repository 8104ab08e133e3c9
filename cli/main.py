"""The `symcheck` command: a thin shell over the public API (arguments, printing, exit codes).

Each command lives in its own module (group.py, analyze.py, train.py, …); the options several
commands take are defined once in options.py; errors, consoles and path checks are in common.py.
"""

from __future__ import annotations

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
