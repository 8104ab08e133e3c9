#!/usr/bin/env python3
"""Time one training step (forward + backward + Adam) of symcheck's network against the plain-e3nn baseline.

Both run in this process on the same task with the same mathematics: the tutorial's
square → rectangle task (4 points, L_max = 5, float64), the baseline being the straightforward
e3nn port of the tutorial network (``benchmarks/seednet_baseline.py``, vendored from
``shared/bench/seednet_baseline.py``). Steps of the two are interleaved in rounds so that load
from other processes hits both alike; the medians are reported.

    python benchmarks/train_step.py                 # baseline vs symcheck, tutorial task
    python benchmarks/train_step.py --json          # last line: {"baseline_ms", "symcheck_ms", "ratio", ...}
    python benchmarks/train_step.py --threads 1     # both on one torch thread (symcheck train's choice here)
    python benchmarks/train_step.py --atoms 10,100,1000   # symcheck alone on random clusters (radius graph)
    python benchmarks/train_step.py --device cuda
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import numpy as np  # noqa: E402
import torch  # noqa: E402
from seednet_baseline import Network, tutorial_task  # noqa: E402

from symcheck.training.network import SeedNet  # noqa: E402
from symcheck.training.optim import Adam  # noqa: E402
from symcheck.training.stopping import training_step  # noqa: E402

IRREPS = "0e+1o+2e+3o+4e+5o"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_steps(task: int, device: torch.device, dtype: torch.dtype, seed: int = 0):
    """Training-step closures for the baseline and for symcheck, both from the same initial weights."""
    x, pos, target = (t.to(device) for t in tutorial_task(task))
    torch.manual_seed(seed)
    ref = Network().to(device)
    ref_opt = torch.optim.Adam(ref.parameters(), 1e-3)

    def baseline_step() -> float:
        loss = ((ref(x, pos) - target) ** 2).mean()
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()
        return loss.item()

    torch.manual_seed(seed)
    net = SeedNet(IRREPS, IRREPS).to(device=device, dtype=dtype)
    xs, ts = x.to(dtype), target.to(dtype)
    geo = net.geometry(pos, xs)  # positions (and the fixed input) precomputed once, as in training
    # The same step as the baseline's (MSE loss, gradients, Adam update), the way symcheck.train
    # runs it (symcheck.training.stopping.training_step): on the CPU a DenseStep, no autograd graph.
    trainer = training_step(net, geo, xs, ts, False, 1e-3)

    def symcheck_step() -> float:
        # The loss as a Python float, as the baseline's .item(): on a GPU this synchronises.
        return trainer.step()

    return baseline_step, symcheck_step


def compare(task: int, rounds: int, device: torch.device, dtype: torch.dtype) -> dict:
    """Median ms/step of the baseline and of symcheck, measured in interleaved rounds (same torch threads)."""
    baseline_step, symcheck_step = make_steps(task, device, dtype)
    for _ in range(3):  # warm-up (e3nn code generation, allocator, caches)
        baseline_step()
    for _ in range(30):
        symcheck_step()
    base_t, sym_t = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        baseline_step()
        _sync(device)
        base_t.append(time.perf_counter() - t)
        # symcheck steps are ~60x shorter: time a burst of them so each sample is not clock noise.
        burst = 20
        t = time.perf_counter()
        for _ in range(burst):
            symcheck_step()
        _sync(device)
        sym_t.append((time.perf_counter() - t) / burst)
    b, s = 1e3 * statistics.median(base_t), 1e3 * statistics.median(sym_t)
    return {"baseline_ms": round(b, 4), "symcheck_ms": round(s, 4), "ratio": round(b / s, 2),
            "threads": torch.get_num_threads()}


def random_cluster(n: int, density: float = 0.1, seed: int = 0) -> np.ndarray:
    """n points at a fixed number density (points / Å^3): a jittered cubic grid cut to a ball.

    Spacing density^(-1/3) (2.15 Å at the default), each point moved by up to ±20 % of it, so the
    number of neighbours within the cutoff, and hence edges per atom, does not grow with n.
    """
    rng = np.random.default_rng(seed)
    a = density ** (-1 / 3)
    k = int(np.ceil((n * 6 / np.pi) ** (1 / 3))) + 2
    grid = np.stack(np.meshgrid(*[np.arange(k)] * 3, indexing="ij"), -1).reshape(-1, 3).astype(float)
    grid -= grid.mean(0)
    grid = grid[np.argsort(np.linalg.norm(grid, axis=1), kind="stable")[:n]]
    return a * (grid + rng.uniform(-0.2, 0.2, grid.shape))


def scaling(sizes: list[int], steps: int, device: torch.device, dtype: torch.dtype) -> list[dict]:
    """ms/step and peak memory of symcheck on random clusters of the given sizes (radius graph)."""
    out = []
    for n in sizes:
        pos = torch.tensor(random_cluster(n), dtype=dtype, device=device)
        torch.manual_seed(0)
        net = SeedNet("0e", "1o").to(device=device, dtype=dtype)
        x = torch.ones(n, 1, dtype=dtype, device=device)
        target = torch.randn(n, 3, dtype=dtype, device=device)
        geo = net.geometry(pos, x, graph="radius")
        opt = Adam(net.parameters(), 1e-3)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        times = []
        for i in range(steps + 2):
            t = time.perf_counter()
            opt.zero_grad()
            loss = net.mse_step(x, geo, target)
            opt.step()
            loss.item()
            if i >= 2:
                times.append(time.perf_counter() - t)
        row = {"atoms": n, "edges": geo.n_edges, "ms_per_step": round(1e3 * statistics.median(times), 3)}
        row["us_per_edge"] = round(1e6 * statistics.median(times) / geo.n_edges, 3)
        if device.type == "cuda":
            row["peak_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
        else:  # peak resident memory of the process so far (sizes run in increasing order)
            row["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", type=int, default=2, choices=[1, 2, 3], help="tutorial task (default 2)")
    p.add_argument("--rounds", type=int, default=40, help="interleaved timing rounds (default 40)")
    p.add_argument("--atoms", type=str, default="", help="comma-separated cluster sizes: time symcheck alone")
    p.add_argument("--steps", type=int, default=10, help="timed steps per cluster size with --atoms")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--float32", action="store_true", help="run symcheck in float32 (baseline stays float64)")
    p.add_argument("--threads", type=int, default=0, help="torch threads, both sides (0: torch's default)")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    a = p.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
    torch.set_default_dtype(torch.float64)
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print("error: --device cuda but CUDA is not available", file=sys.stderr)
        return 2
    device = torch.device(a.device)
    dtype = torch.float32 if a.float32 else torch.float64
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, symcheck dtype {dtype}")
    if a.atoms:
        sizes = [int(s) for s in a.atoms.split(",") if s.strip()]
        rows = scaling(sizes, a.steps, device, dtype)
        for r in rows:
            extra = f"  peak {r['peak_mib']} MiB" if "peak_mib" in r else f"  peak RSS {r['peak_rss_mib']} MiB"
            print(
                f"{r['atoms']:6d} atoms {r['edges']:8d} edges  {r['ms_per_step']:9.3f} ms/step  "
                f"{r['us_per_edge']:.3f} us/edge{extra}"
            )
        if a.json:
            print(json.dumps({"atoms": rows}))
        return 0
    res = compare(a.task, a.rounds, device, dtype)
    print(
        f"tutorial task {a.task}: baseline {res['baseline_ms']:.3f} ms/step, "
        f"symcheck {res['symcheck_ms']:.3f} ms/step, ratio {res['ratio']:.1f}x (goal >= 60x)"
    )
    if a.json:
        print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
