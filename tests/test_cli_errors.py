"""Bad command-line input: one plain line naming the flag or file, exit code 2, nothing written, no traceback.

Every case is checked before any training (or any file is written), so each runs in well under
a second apart from the few that need an analysis first (--neumann on a crystal, --break N).
"""

from pathlib import Path

import pytest
from symcheck_cli.main import app
from typer.testing import CliRunner

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SQUARE, RECTANGLE = str(EXAMPLES / "square.xyz"), str(EXAMPLES / "rectangle.xyz")
CUBIC, TETRAGONAL = str(EXAMPLES / "perovskite_cubic.extxyz"), str(EXAMPLES / "perovskite_tetragonal.extxyz")

# Words that mean an internal error leaked out instead of a plain message.
LEAKS = ("Traceback", "Error(", "Exception", "AssertionError", "ValueError", "KeyError", "TypeError",
         "Singular matrix", "could not broadcast", "sympify", "TokenError")


def run(args: list[str]):
    return CliRunner().invoke(app, args)


def assert_plain_error(result, *names: str) -> str:
    """Exit 2, one line on stderr naming every one of ``names``, nothing on stdout, no internals."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    for name in names:
        assert name in lines[0], (name, lines[0])
    for leak in LEAKS:
        assert leak not in lines[0], (leak, lines[0])
    return lines[0]


@pytest.mark.parametrize("command", ["analyze", "train"])
@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--lmax", "100"),
        ("--lmax", "-1"),
        ("--signal-lmax", "100"),
        ("--signal-lmax", "0"),
        ("--tol", "nan"),
        ("--tol", "0"),
        ("--tol", "-1"),
        ("--tol", "inf"),
        ("--near-tol", "-1"),
        ("--near-tol", "nan"),
        ("--setting", "sideways"),
    ],
)
def test_analysis_flags_out_of_range(command, flag, value):
    line = assert_plain_error(run([command, flag, value]), flag)
    if "lmax" in flag:
        assert "12" in line  # the bound is said


@pytest.mark.parametrize(("flag", "value"), [("--lr", "0"), ("--lr", "-1e-3"), ("--lr", "nan"), ("--steps", "0"),
                                             ("--steps", "-5"), ("--threads", "0")])
def test_training_flags_out_of_range(flag, value):
    assert_plain_error(run(["train", flag, value]), flag)


def test_bad_polynomial_in_break_is_one_line():
    assert_plain_error(run(["train", "--break", "2e:foo("]), "--break", "foo(")
    assert_plain_error(run(["train", "--break", "2e:__import__('os')"]), "--break")


def test_break_number_out_of_range():
    line = assert_plain_error(run(["train", "--break", "99"]), "--break 99")
    assert "1 to" in line
    assert_plain_error(run(["train", SQUARE, SQUARE, "--break", "1"]), "--break 1", "learnable")


def test_symmetrize_out_file_problems(tmp_path):
    existing = tmp_path / "there.xyz"
    existing.write_text("keep me")
    assert_plain_error(run(["symmetrize", SQUARE, "--out", str(existing)]), "--out", str(existing), "exists")
    assert existing.read_text() == "keep me"
    missing = tmp_path / "no" / "such" / "dir" / "out.xyz"
    assert_plain_error(run(["symmetrize", SQUARE, "--out", str(missing)]), "--out", "does not exist")
    assert not (tmp_path / "no").exists()
    for name in ("out.foo", "out.png", "out"):
        assert_plain_error(run(["symmetrize", SQUARE, "--out", str(tmp_path / name)]), "--out", "type")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["there.xyz"]


def test_symmetrize_bad_tol_writes_nothing(tmp_path):
    target = tmp_path / "out.xyz"
    assert_plain_error(run(["symmetrize", SQUARE, "--out", str(target), "--tol", "nan"]), "--tol")
    assert not target.exists()


def test_symmetrize_crystal_without_group_works(tmp_path):
    """It used to write the file and then fail with Python advice (point_group refuses crystals)."""
    target = tmp_path / "sym.extxyz"
    result = run(["symmetrize", TETRAGONAL, "--out", str(target), "--json"])
    assert result.exit_code == 0, result.stderr
    assert target.exists()
    assert "P4mm" in result.stdout


def test_train_out_is_a_file_fails_before_training(tmp_path):
    existing = tmp_path / "result.txt"
    existing.write_text("keep me")
    assert_plain_error(run(["train", "--out", str(existing)]), "--out", str(existing))
    assert existing.read_text() == "keep me"


def test_demo_out_is_a_file(tmp_path):
    existing = tmp_path / "f"
    existing.write_text("x")
    assert_plain_error(run(["demo", "--out", str(existing)]), "--out")


def test_lattice_figure_type_checked_first(tmp_path):
    assert_plain_error(run(["analyze", "--lattice", str(tmp_path / "lattice.txt")]), "--lattice", ".txt")
    assert_plain_error(run(["group", SQUARE, "--lattice", str(tmp_path / "no" / "l.png")]), "--lattice")
    assert list(tmp_path.iterdir()) == []


def test_neumann_where_it_cannot_apply_says_so():
    assert_plain_error(run(["analyze", CUBIC, TETRAGONAL, "--neumann", "--tol", "1e-3"]), "--neumann",
                       "finite point group")


def test_setting_needs_characters_in_group():
    assert_plain_error(run(["group", SQUARE, "--setting", "bonds"]), "--setting", "--characters")
    assert_plain_error(run(["group", SQUARE, "--characters", "--setting", "x"]), "--setting")


def test_frame_without_files_or_out_of_range(tmp_path):
    assert_plain_error(run(["analyze", "--frame", "1"]), "--frame")
    assert_plain_error(run(["analyze", SQUARE, RECTANGLE, "--frame", "1"]), "frame 1")


def test_both_break_flags():
    assert_plain_error(run(["train", "--auto-break", "--break", "1"]), "--auto-break", "--break")
