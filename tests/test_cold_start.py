"""The analysis path imports neither torch nor e3nn (issue 14): symcheck.o3 serves it in numpy."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

PROBE = """
import runpy, sys
sys.argv = ["symcheck", *sys.argv[1:]]
try:
    runpy.run_module("symcheck", run_name="__main__")
except SystemExit as exc:
    assert not exc.code, exc.code
print(sorted(m for m in ("torch", "e3nn") if m in sys.modules))
print(sorted(m for m in ("ase.io", "sympy") if m in sys.modules))
print("pydantic" in sys.modules)
"""


@pytest.mark.parametrize("args", [
    ["analyze", str(EXAMPLES / "square.xyz"), str(EXAMPLES / "rectangle.xyz"), "--json"],
    ["group", str(EXAMPLES / "square.xyz"), "--json"],
    ["analyze", str(EXAMPLES / "perovskite_cubic.extxyz"), str(EXAMPLES / "perovskite_tetragonal.extxyz"),
     "--encoding", "vector", "--tol", "1e-3", "--json"],
])
def test_analysis_commands_do_not_import_torch_or_e3nn(args):
    run = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-3] == "[]"


@pytest.mark.parametrize("args", [
    ["analyze", str(EXAMPLES / "square.xyz"), str(EXAMPLES / "rectangle.xyz")],
    ["group", str(EXAMPLES / "square.xyz")],
    ["group", str(EXAMPLES / "perovskite_cubic.extxyz")],
])
def test_xyz_files_and_exact_names_need_neither_ase_io_nor_sympy(args):
    """extxyz files are read without ase.io (0.3 s of imports: it pulls in scipy), exact polynomial names
    (x**2 - y**2) are printed without sympy (0.2 s)."""
    run = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-2] == "[]"


def test_float_names_and_small_cells_need_neither_sympy_nor_scipy(tmp_path):
    """benzene → Kekulé names an L=4 feature with float coefficients (one of them 1.3e-5: sympy's
    exponent form, printed here), and the 40-atom perovskite pair matches its atoms and labels its
    order parameters without scipy's k-d tree (0.15 s of imports)."""
    from ase.build import molecule
    from ase.io import write

    benzene = molecule("C6H6")
    kekule = benzene.copy()
    kekule.positions[[0, 2, 4]] *= 1.02
    write(tmp_path / "benzene.xyz", benzene)
    write(tmp_path / "kekule.xyz", kekule)
    probe = PROBE + 'print(sorted(m for m in ("sympy", "scipy") if m in sys.modules))\n'
    for args in (["analyze", str(tmp_path / "benzene.xyz"), str(tmp_path / "kekule.xyz"), "--json"],
                 ["analyze", str(EXAMPLES / "perovskite_cubic_2x2x2.extxyz"),
                  str(EXAMPLES / "perovskite_tilt_a0a0c-.extxyz"), "--json"]):
        run = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip().splitlines()[-1] == "[]", (args, run.stdout.strip().splitlines()[-1])
