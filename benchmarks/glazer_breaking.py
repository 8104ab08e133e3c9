"""The exact breaking search on the 15 Glazer tilt systems: child group, best fix, time per analysis.

Usage: ``python benchmarks/glazer.py [--json] [--feature-lmax L]``. The structures are the tests'
(``tests/glazer.py``: 2×2×2 SrTiO3, Ti at the origin, rigid small-angle tilts).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from glazer import SYSTEMS, cubic, glazer  # noqa: E402

import symcheck as sc  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--feature-lmax", type=int, default=2, help="highest L of the breaking features")
    args = parser.parse_args()
    rows = []
    for system, (number, _symbol) in SYSTEMS.items():
        if system == "a0a0a0":
            continue
        task = sc.Task.displacement(cubic(), glazer(system), encoding="vector")
        start = time.perf_counter()
        report = sc.analyze(task, tol=1e-3, feature_lmax=args.feature_lmax, near_tol=0)
        seconds = time.perf_counter() - start
        top = report.suggestions[0]
        site = task.structure.species[top.sites[0]] if top.sites else ""
        rows.append({
            "system": system, "child": report.target_group.name, "number": report.target_group.number,
            "expected_number": number, "fix": f"{top.irreps} {top.scope} {site}".strip(),
            "reaches_child": top.reaches_target, "fixes": sum(s.reaches_target for s in report.suggestions),
            "seconds": round(seconds, 3),
        })
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'system':9s} {'child':10s} {'No.':>4s}  {'best fix':22s} {'fixes':>5s} {'s':>6s}")
    for r in rows:
        ok = "" if r["number"] == r["expected_number"] and r["reaches_child"] else "  (!)"
        print(f"{r['system']:9s} {r['child']:10s} {r['number']:4d}  {r['fix']:22s} {r['fixes']:5d} "
              f"{r['seconds']:6.2f}{ok}")


if __name__ == "__main__":
    main()
