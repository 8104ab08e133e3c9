#!/usr/bin/env python3
# Vendored copy of ../shared/bench/seednet_baseline.py (the project's shared speed baseline, outside
# this repository), so that benchmarks/train_step.py and tests/test_model.py run without it. Only
# these comment lines are added; tests/test_model.py checks that the code equals the shared copy
# whenever that file is present. Do not edit: change the shared copy and copy it here again.
"""Speed baseline: a straightforward modern-e3nn port of the tutorial's network.

It is the reference that symcheck's own training step is compared against, on the same
task and the same math (the tutorial's square/rectangle tasks, L_max = 5, float64).

    python ../shared/bench/seednet_baseline.py --task 2 --steps 50
prints the loss every 10 steps and the median milliseconds per training step.
Needs torch and e3nn only.
"""
import argparse
import statistics
import time

import torch
from e3nn import nn, o3
from e3nn.io import SphericalTensor
from e3nn.math import soft_one_hot_linspace


class PairConvolution(torch.nn.Module):
    """Convolution over all ordered pairs of points, self-pairs included."""

    def __init__(self, irreps_in, irreps_out, lmax, max_radius=3.0, n_basis=3, hidden=100, layers=3):
        super().__init__()
        self.irreps_sh = o3.Irreps.spherical_harmonics(lmax)
        self.tp = o3.FullyConnectedTensorProduct(irreps_in, self.irreps_sh, irreps_out, shared_weights=False)
        self.radial = nn.FullyConnectedNet([n_basis] + [hidden] * layers + [self.tp.weight_numel],
                                           torch.nn.functional.softplus)
        self.n_basis, self.max_radius = n_basis, max_radius

    def forward(self, x, pos):
        rel = pos[:, None, :] - pos[None, :, :]
        sh = o3.spherical_harmonics(self.irreps_sh, rel, normalize=True, normalization="component")
        emb = soft_one_hot_linspace(rel.norm(dim=-1), 0.0, self.max_radius, self.n_basis,
                                    basis="cosine", cutoff=True)
        n = pos.shape[0]
        return self.tp(x[None, :, :].expand(n, n, -1), sh, self.radial(emb)).sum(1)


class Network(torch.nn.Module):
    def __init__(self, lmax=5, n_layers=3):
        super().__init__()
        irreps = o3.Irreps.spherical_harmonics(lmax)
        scalars = o3.Irreps([(m, ir) for m, ir in irreps if ir.l == 0])
        gated = o3.Irreps([(m, ir) for m, ir in irreps if ir.l > 0])
        self.layers = torch.nn.ModuleList()
        for _ in range(n_layers - 1):
            gate = nn.Gate(scalars, [lambda x: torch.nn.functional.softplus(x, beta=5)],
                           o3.Irreps(f"{gated.num_irreps}x0e"), [torch.sigmoid], gated)
            self.layers.append(torch.nn.ModuleList([PairConvolution(irreps, gate.irreps_in, lmax), gate]))
        self.last = PairConvolution(irreps, irreps, lmax)

    def forward(self, x, pos):
        n = pos.shape[0]
        for conv, gate in self.layers:
            x = gate(conv(x / n ** 0.5, pos))
        return self.last(x / n ** 0.5, pos)


def tutorial_task(task):
    square = torch.tensor([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]])
    square -= square.mean(0)
    rectangle = square * torch.tensor([0.5, 1.5, 0.0])
    start, end = (rectangle, square) if task == 1 else (square, rectangle)
    st = SphericalTensor(5, 1, -1)
    target = torch.stack([st.with_peaks_at((end - start)[i:i + 1]) for i in range(4)])
    x = torch.zeros(4, st.dim)
    x[:, 0] = 1.0
    if task == 3:  # x^2 - y^2 in e3nn's basis, added to every point
        v = o3.spherical_harmonics(2, torch.tensor([[1.0, 0, 0]]), False) \
            - o3.spherical_harmonics(2, torch.tensor([[0.0, 1, 0]]), False)
        x[:, 4:9] = 0.1 * v / v.norm()
    return x, start, target


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", type=int, default=2, choices=[1, 2, 3])
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave torch's default)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_default_dtype(torch.float64)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x, pos, target = tutorial_task(a.task)
    model = Network()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    times = []
    for step in range(a.steps):
        t = time.perf_counter()
        loss = ((model(x, pos) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
        if step % 10 == 0 or step == a.steps - 1:
            print(f"step {step:4d}  loss {loss.item():.4e}")
    print(f"median ms/step {1e3 * statistics.median(times[1:] or times):.2f}")


if __name__ == "__main__":
    main()
