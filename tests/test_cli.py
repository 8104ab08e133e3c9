"""The command line: output, JSON keys, exit codes, and one-line errors for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from symcheck_cli.main import app
from typer.testing import CliRunner

runner = CliRunner()

SQUARE = Path(__file__).resolve().parents[1] / "examples" / "square.xyz"
RECTANGLE = SQUARE.with_name("rectangle.xyz")


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_group_square():
    r = run("group", SQUARE)
    assert r.exit_code == 0
    assert "D4h" in r.stdout and "order 16" in r.stdout and "C4 " in r.stdout


def test_group_json_keys():
    r = run("group", RECTANGLE, "--json")
    data = json.loads(r.stdout)
    assert data["point_group"] == "D2h" and data["order"] == 8 and len(data["operations"]) == 8
    op = data["operations"][0]
    assert set(op) >= {"matrix", "permutation", "kind"}
    assert data["equivalent_atoms"] == [[0, 1, 2, 3]]


def test_analyze_default_is_the_tutorial():
    r = run("analyze")
    assert r.exit_code == 0
    first = r.stdout.splitlines()[0]
    assert first.startswith("NOT LEARNABLE: input D4h, target keeps only D2h; loss floor 7.070e-04")
    assert "x**2 - y**2 (2e)" in r.stdout


def test_analyze_json_and_check():
    r = run("analyze", SQUARE, RECTANGLE, "--json", "--check")
    assert r.exit_code == 1  # --check: not learnable
    data = json.loads(r.stdout)
    assert data["input"]["point_group"] == "D4h" and data["input"]["order"] == 16
    assert data["target"]["point_group"] == "D2h" and data["target"]["order"] == 8
    assert data["learnable"] is False and abs(data["loss_floor"] - 7.0702e-4) < 5e-8
    s = data["suggestions"][0]
    assert (s["irreps"], s["scope"], s["polynomial"], s["stabilizer"]) == ("2e", "global", "x**2 - y**2", "D2h")
    assert len(s["vector"]) == 5


def test_analyze_learnable_check_passes():
    r = run("analyze", RECTANGLE, SQUARE, "--check")
    assert r.exit_code == 0 and r.stdout.startswith("LEARNABLE")


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "args_factory, message",
    [
        (lambda t: ["group", _write(t, "e.xyz", "")], "empty"),
        (lambda t: ["group", _write(t, "m.xyz", "nonsense\n")], "cannot read"),
        (lambda t: ["group", _write(t, "n.xyz", "2\n\nC 0 0 nan\nH 1 0 0\n")], "not finite"),
        (lambda t: ["group", _write(t, "c.xyz", "2\n\nC 0 0 0\nC 0 0 0.001\n")], "closer than the tolerance"),
        (lambda t: ["group", SQUARE, "--tol", "0"], "tolerance"),
        (lambda t: ["group", SQUARE, "--tol", "-0.1"], "tolerance"),
        (lambda t: ["analyze", SQUARE, _write(t, "3.xyz", "3\n\nX 0 0 0\nX 1 0 0\nX 0 1 0\n")],
         "different atom counts"),
        (lambda t: ["analyze", SQUARE], "give both"),
        (lambda t: ["analyze", "--encoding", "bogus"], "unknown encoding"),
        (lambda t: ["group", t / "missing.xyz"], "no such file"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path, args_factory, message):
    r = run(*args_factory(tmp_path))
    assert r.exit_code == 2
    text = r.stderr.strip()
    assert message in text and len(text.splitlines()) == 1 and "Traceback" not in text


def test_python_dash_m_and_console_script():
    r = subprocess.run([sys.executable, "-m", "symcheck", "group", SQUARE, "--json"],
                       capture_output=True, text=True, check=True)
    assert json.loads(r.stdout)["point_group"] == "D4h"


def test_cli_import_is_light():
    """The CLI starts without torch, e3nn or sympy; they load only where a command needs them."""
    code = ("import sys, symcheck_cli.main, symcheck; "
            "print(sorted(m for m in ('torch', 'e3nn', 'sympy') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_version():
    from symcheck import __version__

    r = run("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"symcheck {__version__}"


def test_switches_show_as_switches_in_help():
    """A plain switch (--so3, --json, --help) shows no value type; options with a value keep theirs."""
    r = runner.invoke(app, ["analyze", "--help"], env={"COLUMNS": "160", "TERMINAL_WIDTH": "160"})
    assert r.exit_code == 0
    lines = {line.split()[1]: line for line in r.stdout.splitlines() if line.strip().startswith("│ --")}
    for switch in ("--so3", "--match", "--check", "--json", "--neumann", "--help"):
        assert "<bool>" not in lines[switch], lines[switch]
    assert "<float>" in lines["--tol"] and "<int>" in lines["--feature-lmax"]


def test_symmetrize_reports_largest_atom_move(tmp_path):
    """An atom off by (0.003, 0.004, 0) moves 0.005 Å in all (the old report gave the largest coordinate)."""
    import numpy as np

    import symcheck as sc

    square = sc.read(SQUARE)
    pos = square.positions.copy()
    pos[0] += [0.003, 0.004, 0.0]
    path = tmp_path / "off.xyz"
    sc.write(path, sc.Structure(pos, square.species))
    out = tmp_path / "sym.xyz"
    r = run("symmetrize", path, "--out", out, "--group", "D4h", "--tol", "0.01", "--json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    moved = np.linalg.norm(sc.read(out).positions - pos, axis=1).max()
    assert data["max_displacement"] == pytest.approx(moved, rel=1e-6)
    assert data["max_displacement"] > np.abs(sc.read(out).positions - pos).max() * 1.05


def test_multi_frame_file_says_which_frame(tmp_path):
    import ase.io
    from ase import Atoms

    import symcheck as sc

    square = sc.read(SQUARE)
    frames = [Atoms(square.species, positions=square.positions * s) for s in (1.0, 1.1, 1.2)]
    path = tmp_path / "frames.xyz"
    ase.io.write(path, frames)
    r = run("analyze", path, RECTANGLE, "--json")
    assert r.exit_code == 0, r.stderr
    warnings = json.loads(r.stdout)["warnings"]
    assert any("3 frames" in w and "frame 2" in w and "--frame" in w for w in warnings)
    r = run("analyze", path, RECTANGLE, "--frame", "0", "--json")
    assert any("used frame 0" in w for w in json.loads(r.stdout)["warnings"])
    r = run("analyze", path, RECTANGLE, "--frame", "3")
    assert r.exit_code == 2 and "frame 3" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_nothing_moves_and_match_hint_are_shown():
    r = run("analyze", SQUARE, SQUARE)
    assert r.exit_code == 0 and "nothing moves" in r.stdout
    shuffled = Path(__file__).resolve().parents[1] / "examples" / "rectangle.xyz"
    import symcheck as sc

    rect = sc.read(shuffled)
    perm = [1, 2, 3, 0]
    with __import__("tempfile").TemporaryDirectory() as d:
        path = Path(d) / "shuffled.xyz"
        sc.write(path, sc.Structure(rect.positions[perm], [rect.species[i] for i in perm]))
        r = run("analyze", SQUARE, path)
        assert r.exit_code == 0 and "--match" in r.stdout
        r = run("analyze", SQUARE, path, "--match")
        assert "--match" not in r.stdout and "D2h" in r.stdout


def test_group_characters_with_setting():
    r = run("group", SQUARE, "--characters", "--setting", "bonds", "--json")
    assert r.exit_code == 0, r.stderr
    assert "character_table" in json.loads(r.stdout)
