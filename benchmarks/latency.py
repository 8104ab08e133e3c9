#!/usr/bin/env python3
"""Wall-clock latency of symcheck as a user feels it: cold commands, the analysis itself, time to verdict.

Everything that issue 14 ("Instant answers") asks to measure, as ratios within one run, so
that machine speed and load cancel out:

- cold-process wall time (median of ``--repeats``) of ``symcheck group`` and ``symcheck
  analyze`` on the tutorial square, benzene → Kekulé and a 40-atom perovskite pair (and
  ``group`` on CH4 with axial magnetic moments, the issue's feature case), each
  divided by the wall time of ``python -c "import numpy"`` (goals: analyze ≤ 8×, group ≤ 6×);
- the analysis itself, in process after a warm-up (goals: benzene → Kekulé ≤ 0.2 s, the
  perovskite pair ≤ 1 s);
- import times of numpy, ase.io, sympy, torch and e3nn.o3, each in a fresh process;
- time to verdict: ``symcheck train`` on the tutorial's Task 1 (rectangle → square) to
  "confirmed" and ``symcheck demo``, each divided by the wall time of 300 steps of the shared
  plain-e3nn baseline ``seednet_baseline.py --task 1`` (goals: train ≤ 1/5, demo ≤ 1/2).

Cold runs are interleaved in rounds (every command once per round) so that load from other
processes hits all of them alike; the load average is recorded before and after. The
benchmark prints numbers only and asserts nothing about time.

Bytecode: an installed package runs from compiled bytecode (pip compiles it at install, and
Python writes it on first import), as numpy does in the baseline. Where bytecode writing is off
(PYTHONDONTWRITEBYTECODE, as on some sandboxes) every cold symcheck run would compile its own
sources again (about 0.15 s here) while numpy runs from its compiled files. ``--bytecode
compile`` (the default) therefore byte-compiles the symcheck and symcheck_cli packages the
commands import before timing; ``--bytecode as-is`` measures the tree as it is.

    python benchmarks/latency.py                      # a table
    python benchmarks/latency.py --json               # one JSON object
    python benchmarks/latency.py --repeats 3 --skip verdict
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BASELINE = ROOT.parent / "shared" / "bench" / "seednet_baseline.py"

#: Goals of issue 14: (ratio limit, what it divides by).
GOALS = {"analyze": 8.0, "group": 6.0, "train": 1 / 5, "demo": 1 / 2}
GOALS_IN_PROCESS_S = {"benzene → Kekulé": 0.2, "perovskite 40 atoms": 1.0}
IMPORTS = ("numpy", "ase.io", "sympy", "torch", "e3nn.o3", "symcheck.o3")
SECTIONS = ("cold", "inprocess", "imports", "verdict")


def _load() -> list[float]:
    """The 1, 5 and 15 minute load averages (runnable processes; compare with the core count)."""
    return [round(x, 2) for x in os.getloadavg()]


def write_benzene_pair(folder: Path) -> tuple[Path, Path]:
    """benzene.xyz (ASE's D6h C6H6) and kekule.xyz (D3h) in ``folder``.

    Kekulé: each C–H unit is turned about the ring's axis by ±δ alternately, so the C–C bonds
    alternate between 2r·sin(30° ± δ), with δ chosen for a long bond of r + 0.03 Å (r: the
    ring radius = the C–C bond of the hexagon; the short bond is r − 0.03 Å to first order).
    """
    import numpy as np
    from ase.build import molecule
    from ase.io import write

    benzene = molecule("C6H6")
    benzene.center(about=(0.0, 0.0, 0.0))
    pos = benzene.positions
    carbons = [i for i, s in enumerate(benzene.get_chemical_symbols()) if s == "C"]
    hydrogens = [i for i, s in enumerate(benzene.get_chemical_symbols()) if s == "H"]
    axis = np.linalg.svd(pos[carbons] - pos[carbons].mean(0))[2][2]  # the ring's normal
    r = float(np.mean(np.linalg.norm(pos[carbons], axis=1)))
    delta = math.asin((r + 0.03) / (2 * r)) - math.pi / 6
    ref = pos[carbons[0]] / np.linalg.norm(pos[carbons[0]])
    angle = {c: math.atan2(float(np.cross(ref, pos[c]) @ axis), float(ref @ pos[c])) % (2 * math.pi) for c in carbons}
    order = sorted(carbons, key=angle.get)
    kekule = benzene.copy()
    for k, c in enumerate(order):
        h = min(hydrogens, key=lambda j: np.linalg.norm(pos[j] - pos[c]))
        t = delta if k % 2 == 0 else -delta
        K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        rot = np.eye(3) + math.sin(t) * K + (1 - math.cos(t)) * K @ K  # Rodrigues
        for i in (c, h):
            kekule.positions[i] = rot @ pos[i]
    a, b = folder / "benzene.xyz", folder / "kekule.xyz"
    write(a, benzene)
    write(b, kekule)
    return a, b


def write_magnetic_methane(folder: Path) -> Path:
    """methane_magnetic.extxyz: CH4 with an axial moment (3-column initial_magmoms, 1e) along z on C.

    The issue's slow ``symcheck group`` case: a 5-atom molecule whose per-atom features make
    the group detection apply Wigner matrices to them (Td lowers to S4).
    """
    import numpy as np
    from ase.build import molecule
    from ase.io import write

    methane = molecule("CH4")
    moments = np.zeros((len(methane), 3))
    moments[0] = [0.0, 0.0, 1.0]
    methane.set_initial_magnetic_moments(moments)
    path = folder / "methane_magnetic.extxyz"
    write(path, methane, format="extxyz")
    return path


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(cmd: list[str], cwd: Path, env: dict, cpu: list | None = None) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time (s) of one cold process, and its result; its CPU time (s) is appended to ``cpu``.
    A failure stops the benchmark."""
    c = _children_cpu()
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if cpu is not None:
        cpu.append(_children_cpu() - c)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return wall, proc


def compile_packages(env: dict) -> list[str]:
    """Byte-compile the symcheck and symcheck_cli packages that the timed commands import (with ``env``).

    Returns the folders compiled. The bytecode goes where Python looks for it (``__pycache__``, or
    PYTHONPYCACHEPREFIX when set), as an installation or a first import would put it.
    """
    where = subprocess.run(
        [sys.executable, "-c", "import os, symcheck, symcheck_cli; "
         "print(os.path.dirname(symcheck.__file__)); print(os.path.dirname(symcheck_cli.__file__))"],
        cwd=tempfile.gettempdir(), env=env, capture_output=True, text=True, check=True).stdout.split()
    subprocess.run([sys.executable, "-m", "compileall", "-q", *where], env=env, capture_output=True, check=True)
    return where


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def cold_commands(symcheck: str, tmp: Path) -> dict[str, list[str]]:
    """The cold-start commands, by name: the numpy baseline, group and analyze on three inputs."""
    benzene, kekule = write_benzene_pair(tmp)
    square, rectangle = EXAMPLES / "square.xyz", EXAMPLES / "rectangle.xyz"
    cubic, tilt = EXAMPLES / "perovskite_cubic_2x2x2.extxyz", EXAMPLES / "perovskite_tilt_a0a0c-.extxyz"
    return {
        "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
        "group square": [symcheck, "group", str(square)],
        "group benzene": [symcheck, "group", str(benzene)],
        "group perovskite 40 atoms": [symcheck, "group", str(cubic)],
        "group CH4 + magnetic moments": [symcheck, "group", str(write_magnetic_methane(tmp))],
        "analyze square → rectangle": [symcheck, "analyze", str(square), str(rectangle)],
        "analyze benzene → Kekulé": [symcheck, "analyze", str(benzene), str(kekule)],
        "analyze perovskite 40 atoms": [symcheck, "analyze", str(cubic), str(tilt), "--encoding", "vector",
                                        "--tol", "1e-3"],
    }


def run_cold(symcheck: str, tmp: Path, repeats: int, env: dict) -> dict:
    """Median cold wall and CPU times and their ratios to the numpy import's, rounds interleaved.

    On a busy machine the wall times wait for cores; the CPU times (user + system of the process)
    say what the command itself costs."""
    cmds = cold_commands(symcheck, tmp)
    walls: dict[str, list[float]] = {name: [] for name in cmds}
    cpus: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            walls[name].append(_timed(cmd, ROOT, env, cpus[name])[0])
    base = _median(walls["python -c 'import numpy'"])
    base_cpu = _median(cpus["python -c 'import numpy'"])
    rows = {}
    for name, ws in walls.items():
        kind = name.split()[0]
        rows[name] = {"median_s": round(_median(ws), 3), "runs_s": [round(w, 3) for w in ws],
                      "ratio": round(_median(ws) / base, 2), "goal_ratio": GOALS.get(kind),
                      "cpu_median_s": round(_median(cpus[name]), 3),
                      "cpu_ratio": round(_median(cpus[name]) / base_cpu, 2)}
    return rows


INPROCESS = r"""
import json, statistics, sys, time
import symcheck as sc
tmp = sys.argv[1]
ex = sys.argv[3]
square = sc.Task.from_files(f"{ex}/square.xyz", f"{ex}/rectangle.xyz")
t = time.perf_counter(); sc.analyze(square); warm = time.perf_counter() - t   # imports, caches
tasks = {
    "square → rectangle": (square, {}),
    "benzene → Kekulé": (sc.Task.from_files(f"{tmp}/benzene.xyz", f"{tmp}/kekule.xyz"), {}),
    "perovskite 40 atoms": (sc.Task.from_files(f"{ex}/perovskite_cubic_2x2x2.extxyz",
                                               f"{ex}/perovskite_tilt_a0a0c-.extxyz", encoding="vector"),
                            {"tol": 1e-3}),
}
out = {"first analyze (square, with lazy imports) s": round(warm, 3)}
for name, (task, kw) in tasks.items():
    ts, cs = [], []
    for _ in range(int(sys.argv[2])):
        c = time.process_time(); t = time.perf_counter(); sc.analyze(task, **kw)
        ts.append(time.perf_counter() - t); cs.append(time.process_time() - c)
    out[name] = {"median_s": round(statistics.median(ts), 4), "runs_s": [round(x, 4) for x in ts],
                 "cpu_median_s": round(statistics.median(cs), 4)}
out["modules"] = sorted(m for m in ("torch", "e3nn", "sympy", "ase.io", "networkx", "scipy") if m in sys.modules)
print(json.dumps(out))
"""


def run_inprocess(tmp: Path, repeats: int, env: dict) -> dict:
    """The analysis alone (sc.analyze), in one process after a warm-up analysis of the square."""
    # run from the temp folder: `python -c` puts its working directory first on sys.path, which
    # would hide a tree given on PYTHONPATH behind the checkout
    _, proc = _timed([sys.executable, "-c", INPROCESS, str(tmp), str(repeats), str(EXAMPLES)], tmp, env)
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, goal in GOALS_IN_PROCESS_S.items():
        rows[name]["goal_s"] = goal
    return rows


def run_imports(tmp: Path, repeats: int, env: dict) -> dict:
    """Import time of each module alone in a fresh process (interpreter start excluded), median."""
    code = "import time, importlib, sys; t = time.perf_counter(); importlib.import_module(sys.argv[1]); " \
           "print(time.perf_counter() - t)"
    times: dict[str, list[float]] = {m: [] for m in IMPORTS}
    for _ in range(repeats):
        for m in IMPORTS:
            _, proc = _timed([sys.executable, "-c", code, m], tmp, env)  # tmp: see run_inprocess
            times[m].append(float(proc.stdout.strip()))
    return {m: {"median_s": round(_median(ts), 3), "runs_s": [round(x, 3) for x in ts]} for m, ts in times.items()}


def run_verdict(symcheck: str, tmp: Path, repeats: int, env: dict, baseline_threads: int = 0) -> dict:
    """Time to verdict: train (Task 1) and demo vs 300 baseline steps, cold processes, interleaved.

    train and demo are timed twice per round: as a first run (the construction cache off,
    ``SYMCHECK_CACHE_DIR=off``) and with a cache warmed once before the rounds (untimed)."""
    if not BASELINE.exists():
        return {"skipped": f"{BASELINE} not found"}
    env_off = dict(env, SYMCHECK_CACHE_DIR="off")
    env_warm = dict(env, SYMCHECK_CACHE_DIR=str(tmp / "construction-cache"))
    train = [symcheck, "train", str(EXAMPLES / "rectangle.xyz"), str(EXAMPLES / "square.xyz"), "--json"]
    _timed(train, ROOT, env_warm)
    _timed([symcheck, "demo", "--out", str(tmp / "demo-warm")], ROOT, env_warm)
    names = ("baseline 300 steps", "train (first run, no cache)", "train (cached)",
             "demo (first run, no cache)", "demo (cached)")
    walls: dict[str, list[float]] = {name: [] for name in names}
    verdicts, loads = [], []
    for k in range(repeats):
        loads.append(_load()[0])
        walls["baseline 300 steps"].append(
            _timed([sys.executable, str(BASELINE), "--task", "1", "--steps", "300",
                    "--threads", str(baseline_threads)], ROOT, env)[0])
        for name, run_env in (("train (first run, no cache)", env_off), ("train (cached)", env_warm)):
            wall, proc = _timed(train, ROOT, run_env)
            walls[name].append(wall)
            verdicts.append(json.loads(proc.stdout).get("verdict"))
        for name, run_env in (("demo (first run, no cache)", env_off), ("demo (cached)", env_warm)):
            walls[name].append(_timed([symcheck, "demo", "--out", str(tmp / f"demo{k}")], ROOT, run_env)[0])
    base = _median(walls["baseline 300 steps"])
    rows = {name: {"median_s": round(_median(ws), 3), "runs_s": [round(w, 3) for w in ws],
                   "ratio": round(_median(ws) / base, 3), "goal_ratio": GOALS.get(name.split()[0])}
            for name, ws in walls.items()}
    rows["baseline 300 steps"]["load_before_each"] = loads
    rows["train (first run, no cache)"]["verdicts"] = verdicts
    return rows


def _print_table(result: dict) -> None:
    print(f"load average before {result['load_before']}, after {result['load_after']} on {result['cpus']} CPUs")
    print(f"bytecode: {result['bytecode']}" + (" (symcheck's packages byte-compiled first)"
                                               if result["bytecode"] == "compile" else "")
          + (f", PYTHONDONTWRITEBYTECODE={result['PYTHONDONTWRITEBYTECODE']}"
             if result["PYTHONDONTWRITEBYTECODE"] else ""))
    if "cold" in result:
        print("\ncold process (median wall s, ratio to `python -c 'import numpy'`; median CPU s, ratio; goal)")
        for name, row in result["cold"].items():
            goal = f"≤ {row['goal_ratio']:g}×" if row["goal_ratio"] else ""
            print(f"  {name:32s} {row['median_s']:8.3f} s  {row['ratio']:6.2f}×   CPU {row['cpu_median_s']:7.3f} s "
                  f"{row['cpu_ratio']:6.2f}×  {goal}")
    if "inprocess" in result:
        print("\nthe analysis itself, in process (median s, goal)")
        for name, row in result["inprocess"].items():
            if isinstance(row, dict):
                goal = f"≤ {row['goal_s']:g} s" if "goal_s" in row else ""
                print(f"  {name:32s} {row['median_s']:8.4f} s   CPU {row['cpu_median_s']:8.4f} s  {goal}")
            else:
                print(f"  {name:32s} {row}")
    if "imports" in result:
        print("\nimport time in a fresh process (median s)")
        for name, row in result["imports"].items():
            print(f"  {name:32s} {row['median_s']:8.3f} s")
    if "verdict" in result:
        print("\ntime to verdict (median wall s, ratio to 300 baseline steps, goal)")
        for name, row in result["verdict"].items():
            if not isinstance(row, dict):
                print(f"  {name}: {row}")
                continue
            goal = f"≤ {row['goal_ratio']:g}×" if row["goal_ratio"] else ""
            extra = f"  verdicts {row['verdicts']}" if "verdicts" in row else ""
            print(f"  {name:32s} {row['median_s']:8.3f} s  {row['ratio']:6.3f}×  {goal}{extra}")


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--repeats", type=int, default=5, help="cold runs per command (median), and import runs")
    p.add_argument("--inprocess-repeats", type=int, default=3, help="analyses per task in process (median)")
    p.add_argument("--verdict-repeats", type=int, default=3, help="rounds of baseline, train and demo (median)")
    p.add_argument("--baseline-threads", type=int, default=0,
                   help="--threads of seednet_baseline.py (0: torch's default, the script's own default)")
    p.add_argument("--skip", nargs="*", default=[], choices=SECTIONS, help="sections to leave out")
    p.add_argument("--bytecode", choices=("compile", "as-is"), default="compile",
                   help="compile: byte-compile symcheck's packages first, as installed (default); as-is: time "
                        "the tree as it is (with PYTHONDONTWRITEBYTECODE every run compiles symcheck's sources)")
    a = p.parse_args(argv)
    symcheck = shutil.which("symcheck", path=str(Path(sys.executable).parent)) or shutil.which("symcheck")
    if symcheck is None:
        raise SystemExit("the symcheck command is not installed (pip install -e .)")
    env = dict(os.environ)
    result: dict = {"load_before": _load(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
                    "repeats": a.repeats, "baseline_threads": a.baseline_threads}
    if os.environ.get("PYTHONPATH"):  # e.g. a patched tree measured against the installed one
        result["PYTHONPATH"] = os.environ["PYTHONPATH"]
    result["bytecode"] = a.bytecode
    result["PYTHONDONTWRITEBYTECODE"] = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
    if a.bytecode == "compile":
        result["compiled"] = compile_packages(env)
    sections = {
        "cold": lambda tmp: run_cold(symcheck, tmp, a.repeats, env),
        "inprocess": lambda tmp: run_inprocess(tmp, a.inprocess_repeats, env),
        "imports": lambda tmp: run_imports(tmp, a.repeats, env),
        "verdict": lambda tmp: run_verdict(symcheck, tmp, a.verdict_repeats, env, a.baseline_threads),
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        write_benzene_pair(tmp)
        for name, run in sections.items():
            if name in a.skip:
                continue
            result[name] = run(tmp)
            # each section as soon as it is done (stderr): a long run interrupted keeps its numbers
            print(json.dumps({name: result[name], "load": _load()}, ensure_ascii=False), file=sys.stderr, flush=True)
    result["load_after"] = _load()
    if a.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        _print_table(result)
    return result


if __name__ == "__main__":
    main()
