"""The command line reads plain option values without pydantic (issue 14), exactly as pydantic reads them.

typer coerces every value through a pydantic TypeAdapter; importing pydantic for that took about
as long as importing numpy. cli/main.py converts plain numbers, words and paths itself and hands
everything else to typer's own coercion, whose error messages are kept.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError
from symcheck_cli.main import _NOT_PLAIN, _plain_value, app
from typer.testing import CliRunner

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

STRINGS = ["1", "1.", ".5", "-0.5", "+3", "1e-3", "1E3", "1e+3", "1.e3", "007", "00.1", "-0", "1e400",
           "12345678901234567890", "1_000", " 1", "1 ", "nan", "inf", "-inf", "0x10", "1e", "", "١", "abc",
           "a b", "-", "~/x", "./x/../y"]


@pytest.mark.parametrize("annotation", [float, int, str, bool, Path])
def test_plain_values_are_what_pydantic_gives(annotation):
    adapter = TypeAdapter(annotation)
    values = STRINGS + [0, 1, 7, 2.5, -0.0, True, False]
    converted = 0
    for value in values:
        plain = _plain_value(annotation, value)
        if plain is _NOT_PLAIN:
            continue  # left to pydantic itself
        converted += 1
        expected = adapter.validate_python(value)
        assert type(plain) is type(expected) and repr(plain) == repr(expected), (annotation, value)
    assert converted >= 2


def test_what_pydantic_refuses_is_never_converted():
    for annotation in (float, int):
        adapter = TypeAdapter(annotation)
        for value in STRINGS:
            try:
                adapter.validate_python(value)
            except ValidationError:
                assert _plain_value(annotation, value) is _NOT_PLAIN, (annotation, value)


def test_bad_values_keep_typers_messages():
    runner = CliRunner()
    for flag, value, words in (("--tol", "abc", "valid number"), ("--feature-lmax", "2.5", "valid integer"),
                               ("--frame", "x", "valid integer")):
        result = runner.invoke(app, ["analyze", flag, value])
        assert result.exit_code == 2
        assert f"Invalid value for '{flag}'" in result.output and words in result.output


@pytest.mark.parametrize("args", [
    ["analyze", str(EXAMPLES / "square.xyz"), str(EXAMPLES / "rectangle.xyz"), "--tol", "0.01",
     "--feature-lmax", "3", "--setting", "atoms", "--encoding", "signal"],
    ["group", str(EXAMPLES / "square.xyz"), "--tol", "1e-2"],
])
def test_commands_with_plain_values_do_not_import_pydantic(args):
    from test_cold_start import PROBE

    run = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "False"
