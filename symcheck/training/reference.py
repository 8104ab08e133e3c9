"""Reference network: the tutorial's point convolution written with plain e3nn modules, no shortcuts.

This is the straightforward modern-e3nn port of the tutorial network (the speed baseline in
``shared/bench/seednet_baseline.py``), kept inside symcheck so that the tests and
``benchmarks/train_step.py`` are self-contained. With the default arguments it is that baseline
network exactly (same modules, same parameter names, same random initialisation for a given
seed); the optional ``irreps_in``/``irreps_out``/``hidden`` arguments make the same
construction for other inputs and outputs, so that :class:`symcheck.train.model.SeedNet` can
be checked against it beyond the tutorial task.
"""

from __future__ import annotations

import torch
from e3nn import nn, o3
from e3nn.math import soft_one_hot_linspace


def softplus_beta5(x: torch.Tensor) -> torch.Tensor:
    """Softplus with β = 5, the tutorial's scalar activation."""
    return torch.nn.functional.softplus(x, beta=5)


def make_gate(hidden: o3.Irreps) -> nn.Gate:
    """The tutorial's gated nonlinearity for ``hidden`` irreps.

    Even scalars go through softplus(β=5), odd scalars through tanh (softplus has no parity, so
    e3nn refuses it on 0o), and every l > 0 irrep is multiplied by a sigmoid of its own 0e gate.
    """
    scalars = o3.Irreps([(m, ir) for m, ir in hidden if ir.l == 0])
    gated = o3.Irreps([(m, ir) for m, ir in hidden if ir.l > 0])
    acts = [softplus_beta5 if ir.p == 1 else torch.tanh for _, ir in scalars]
    return nn.Gate(scalars, acts, o3.Irreps(f"{gated.num_irreps}x0e"), [torch.sigmoid], gated)


class PairConvolution(torch.nn.Module):
    """Convolution over all ordered pairs of points, self-pairs included (plain e3nn)."""

    def __init__(self, irreps_in, irreps_out, lmax, max_radius=3.0, n_basis=3, hidden=100, layers=3):
        super().__init__()
        self.irreps_sh = o3.Irreps.spherical_harmonics(lmax)
        self.tp = o3.FullyConnectedTensorProduct(irreps_in, self.irreps_sh, irreps_out, shared_weights=False)
        self.radial = nn.FullyConnectedNet(
            [n_basis] + [hidden] * layers + [self.tp.weight_numel], torch.nn.functional.softplus
        )
        self.n_basis, self.max_radius = n_basis, max_radius

    def forward(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        # rel[i, j] = pos[i] - pos[j]: the message from point j to point i sees the vector from j to i.
        rel = pos[:, None, :] - pos[None, :, :]
        sh = o3.spherical_harmonics(self.irreps_sh, rel, normalize=True, normalization="component")
        emb = soft_one_hot_linspace(rel.norm(dim=-1), 0.0, self.max_radius, self.n_basis, basis="cosine", cutoff=True)
        n = pos.shape[0]
        return self.tp(x[None, :, :].expand(n, n, -1), sh, self.radial(emb)).sum(1)


class ReferenceNetwork(torch.nn.Module):
    """The tutorial network with plain e3nn modules (defaults: the speed baseline exactly).

    Parameters
    ----------
    lmax : highest l of the hidden irreps and of the spherical harmonics.
    n_layers : number of convolutions (all but the last are followed by a gate).
    irreps_in, irreps_out : input / output irreps of one point; default: the hidden irreps.
    hidden : hidden irreps; default ``0e+1o+...`` up to ``lmax`` (the tutorial's).
    """

    def __init__(self, lmax=5, n_layers=3, irreps_in=None, irreps_out=None, hidden=None):
        super().__init__()
        irreps = o3.Irreps(hidden) if hidden is not None else o3.Irreps.spherical_harmonics(lmax)
        irreps_in = o3.Irreps(irreps_in) if irreps_in is not None else irreps
        irreps_out = o3.Irreps(irreps_out) if irreps_out is not None else irreps
        self.layers = torch.nn.ModuleList()
        current = irreps_in
        for _ in range(n_layers - 1):
            gate = make_gate(irreps)
            self.layers.append(torch.nn.ModuleList([PairConvolution(current, gate.irreps_in, lmax), gate]))
            current = gate.irreps_out
        self.last = PairConvolution(current, irreps_out, lmax)

    def forward(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        n = pos.shape[0]
        for conv, gate in self.layers:
            x = gate(conv(x / n**0.5, pos))
        return self.last(x / n**0.5, pos)


def tutorial_task(task: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Input features, positions and target of the tutorial's task 1, 2 or 3 (as the baseline builds them).

    Returns ``(x, pos, target)``: x (4, 36) features in the hidden layout (constant scalar 1 in
    channel 0; for task 3 also 0.1·(x²−y²)/‖x²−y²‖ in the 2e slot), pos (4, 3) Å, target (4, 36)
    the spherical-signal encoding (L_max = 5) of each point's displacement.
    """
    from e3nn.io import SphericalTensor

    dtype = torch.get_default_dtype()
    square = torch.tensor([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=dtype)
    square -= square.mean(0)
    rectangle = square * torch.tensor([0.5, 1.5, 0.0], dtype=dtype)
    start, end = (rectangle, square) if task == 1 else (square, rectangle)
    st = SphericalTensor(5, 1, -1)
    target = torch.stack([st.with_peaks_at((end - start)[i : i + 1]) for i in range(4)])
    x = torch.zeros(4, st.dim, dtype=dtype)
    x[:, 0] = 1.0
    if task == 3:  # x^2 - y^2 in e3nn's basis, added to every point
        v = o3.spherical_harmonics(2, torch.tensor([[1.0, 0, 0]], dtype=dtype), False) - o3.spherical_harmonics(
            2, torch.tensor([[0.0, 1, 0]], dtype=dtype), False
        )
        x[:, 4:9] = 0.1 * v / v.norm()
    return x, start, target
