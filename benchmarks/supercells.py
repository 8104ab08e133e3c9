"""Benchmark of symcheck's space groups on large supercells (issue 10, item 2).

Measures, in one run (seconds of wall time, after one warm-up call that imports torch/e3nn):

* Si diamond 4×4×4 cubic supercell (512 atoms, 12,288 operations): ``symmetry_group``, and
  ``analyze`` of a displacement task (one atom moved 0.05 Å along z, ``encoding="vector"``),
  with the analysis split into its group-side part (groups of start and end, stabilizer,
  projection, near-symmetry ladder) and ``breaking.suggest``;
* a 1,600-atom cell of cubic SrTiO3 (8×8×5 perovskite cells): ``symmetry_group``;
* Cu fcc 10×10×10 conventional cells (4,000 atoms, 192,000 operations): ``symmetry_group``
  and its JSON form (``as_dict``), and spglib's own dataset call on the same cell for scale;
* ``minimal_overgroups`` of the a0a0c- tilt group inside the 2×2×2 perovskite supercell (order 384).

Targets: Si 4×4×4 group and analyze ≤ 3 s each, the 1,600-atom cell ≤ 2 s, Cu 10×10×10 ≤ 5 s.

Usage::

    python benchmarks/supercells.py            # table
    python benchmarks/supercells.py --json     # table, then a JSON summary as the last line
    python benchmarks/supercells.py --quick    # without Cu 10×10×10
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import traceback
from pathlib import Path

import numpy as np
from ase.build import bulk
from ase.spacegroup import crystal

import symcheck as sc
from symcheck.groups import symmetry_group

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TOL = 1e-3


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _limited(fn, seconds: float):
    """Run fn() (returning a small dict) in a forked child for at most ``seconds``.

    Returns (dict, elapsed) or ({"error": …}, elapsed). A step that runs away (time or memory)
    is reported instead of stalling the benchmark; the child is ended by its own process id.
    """
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    queue = ctx.Queue()

    def child():
        try:
            out, dt = _timed(fn)
            queue.put((out, dt))
        except BaseException as exc:  # noqa: BLE001 (reported to the parent)
            queue.put(({"error": f"{type(exc).__name__}: {str(exc)[:80]}"}, float("nan")))

    proc = ctx.Process(target=child)
    t = time.perf_counter()
    proc.start()
    proc.join(seconds)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return {"error": f"not finished after {seconds:g} s"}, time.perf_counter() - t
    return queue.get() if not queue.empty() else ({"error": f"exit code {proc.exitcode}"}, float("nan"))


def _silicon_task():
    atoms = bulk("Si", "diamond", a=5.43, cubic=True) * (4, 4, 4)
    start = sc.from_ase(atoms)
    moved = start.positions.copy()
    moved[0] += [0.0, 0.0, 0.05]
    end = sc.Structure(moved, start.species, cell=start.cell, pbc=start.pbc)
    return start, sc.Task.displacement(start, end, encoding="vector")


def _perovskite(reps):
    cell = crystal(["Sr", "Ti", "O"], basis=[(0, 0, 0), (0.5, 0.5, 0.5), (0.5, 0.5, 0)], spacegroup=221,
                   cellpar=[3.905, 3.905, 3.905, 90, 90, 90])
    return sc.from_ase(cell * reps)


def run(quick: bool, args_limit: float = 60.0) -> list[dict]:
    """Every measurement, printed as it is made; steps that may run away get ``args_limit`` seconds."""
    rows: list[dict] = []

    def record(case, what, seconds, goal=None, **info):
        ok = None if goal is None else bool(seconds <= goal)
        rows.append({"case": case, "what": what, "seconds": round(seconds, 3), "target_s": goal, "ok": ok, **info})
        mark = "" if ok is None else ("  ok" if ok else "  OVER TARGET")
        extra = ", ".join(f"{k}={v}" for k, v in info.items())
        print(f"{case:<34} {what:<34} {seconds:8.3f} s{mark}   {extra}", flush=True)

    # warm-up: torch/e3nn imports and spglib's first call are not what is measured
    warm = _perovskite((1, 1, 1))
    sc.analyze(sc.Task.displacement(warm, warm, encoding="vector"), tol=TOL)

    start, task = _silicon_task()
    g, dt = _timed(lambda: symmetry_group(start, TOL))
    record("Si 4x4x4 (512 atoms)", "symmetry_group", dt, 3.0, group=g.name, order=g.order)

    import symcheck.predict as predict
    from symcheck.breaking import suggest
    from symcheck.fixed import project
    from symcheck.groups.stabilizer import stabilizer
    from symcheck.near import near_symmetry

    def full():
        r = sc.analyze(task, tol=TOL)
        return {"input": r.input_group.name, "target": r.target_group.name, "target_order": r.target_group.order,
                "floor": f"{r.loss_floor:.4g}", "suggestions": len(r.suggestions)}

    info, dt = _limited(full, args_limit)
    record("Si 4x4x4 (512 atoms)", "analyze (displaced atom)", dt, 3.0, **info)
    # the analysis by parts
    y = task.target
    ytol = 1e-3 * float(np.max(np.abs(y)))

    def group_side():
        G = symmetry_group(task.structure, TOL)
        H = stabilizer(G, task.structure, y, task.irreps, task.per_point, ytol)
        project(G, task.irreps, y, task.per_point)
        symmetry_group(task.end, TOL)
        near_symmetry(task, G, TOL)
        return G, H

    (G, H), dt = _timed(group_side)
    record("Si 4x4x4 (512 atoms)", "analyze, group side (no suggest)", dt, 3.0, target=H.name, target_order=H.order)
    _, dt = _timed(lambda: near_symmetry(task, G, TOL))
    record("Si 4x4x4 (512 atoms)", "  of which near_symmetry ladder", dt)
    info, dt = _limited(lambda: {"suggestions": len(suggest(G, H, task.structure, 4, y, task.irreps,
                                                           task.per_point))}, args_limit)
    record("Si 4x4x4 (512 atoms)", "breaking.suggest (lmax 4)", dt, **info)
    from types import SimpleNamespace

    # task_warnings reads only the report's groups
    r = SimpleNamespace(input_group=G, target_group=H, end_group=symmetry_group(task.end, TOL))
    info, dt = _limited(lambda: {"warnings": len(predict.task_warnings(task, r))}, args_limit)
    record("Si 4x4x4 (512 atoms)", "predict.task_warnings", dt, **info)

    cell = _perovskite((8, 8, 5))
    g, dt = _timed(lambda: symmetry_group(cell, TOL))
    record("SrTiO3 8x8x5 (1,600 atoms)", "symmetry_group", dt, 2.0, group=g.name, order=g.order,
           crystal=g.crystal_space_group)

    from symcheck.groups.stabilizer import minimal_overgroups

    sc2 = sc.read(EXAMPLES / "perovskite_cubic_2x2x2.extxyz")
    tilt = sc.read(EXAMPLES / "perovskite_tilt_a0a0c-.extxyz")
    t2 = sc.Task.displacement(sc2, tilt, encoding="vector")
    G2 = symmetry_group(sc2, TOL)
    H2 = stabilizer(G2, sc2, t2.target, "1o", True, 1e-3 * float(np.max(np.abs(t2.target))))
    mins, dt = _timed(lambda: minimal_overgroups(G2, H2))
    record("perovskite 2x2x2 (40 atoms)", "minimal_overgroups(G, a0a0c-)", dt, G=G2.order, H=H2.name,
           overgroups="/".join(K.name for K in mins))

    if not quick:
        import spglib

        atoms = bulk("Cu", "fcc", a=3.61, cubic=True) * (10, 10, 10)
        cu = sc.from_ase(atoms)
        _, dt = _timed(lambda: spglib.get_symmetry_dataset((atoms.cell[:], atoms.get_scaled_positions(),
                                                             atoms.numbers), symprec=TOL))
        record("Cu 10x10x10 conv. (4,000 atoms)", "spglib dataset alone", dt)
        g, dt = _timed(lambda: symmetry_group(cu, TOL))
        record("Cu 10x10x10 conv. (4,000 atoms)", "symmetry_group", dt, 5.0, group=g.name, order=g.order)
        _, dt = _timed(lambda: json.dumps(g.as_dict()))
        record("Cu 10x10x10 conv. (4,000 atoms)", "as_dict + json", dt)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    parser.add_argument("--quick", action="store_true", help="skip Cu 10x10x10")
    parser.add_argument("--limit", type=float, default=60.0,
                        help="seconds allowed to analyze / suggest before they are reported as not finished")
    parser.add_argument("--memory-gb", type=float, default=8.0,
                        help="address-space limit of this process, so that a runaway allocation fails with "
                             "MemoryError instead of exhausting a shared machine (default 8)")
    args = parser.parse_args()
    try:
        import resource

        limit = int(args.memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on every platform
        pass
    try:
        rows = run(args.quick, args.limit)
    except Exception:
        traceback.print_exc()
        return 1
    if args.json:
        print(json.dumps({"benchmark": "supercells", "python": platform.python_version(),
                          "machine": platform.machine(), "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
