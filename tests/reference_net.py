"""Test-only: the tutorial network written with plain e3nn modules, and the weight mapping to SeedNet.

:class:`ReferenceNetwork` is the straightforward modern-e3nn port of the tutorial network. With
the default arguments it is the speed baseline ``benchmarks/seednet_baseline.py`` exactly (same
modules, same parameter names, same random initialisation for a given seed;
``tests/test_model.py`` checks this); the optional ``irreps_in``/``irreps_out``/``hidden``
arguments make the same construction for other inputs and outputs, so that
:class:`symcheck.training.network.SeedNet` can be checked against it beyond the tutorial task.
:func:`load_reference_state_dict` and :func:`as_reference_state_dict` map weights between the two.
"""

from __future__ import annotations

import torch
from e3nn import nn, o3
from e3nn.math import soft_one_hot_linspace

from symcheck.training.gate import make_gate
from symcheck.training.network import SeedNet


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
    lmax : highest l of the hidden irreps and of the spherical harmonics (the network's L).
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


def reference_parameter_names(n_layers: int, radial_layers: int = 3) -> list[str]:
    """Parameter names of the reference network, in its order (``layers.0.0.radial.layer0.weight``, …)."""
    names = []
    for layer in range(n_layers):
        prefix = f"layers.{layer}.0.radial" if layer < n_layers - 1 else "last.radial"
        names += [f"{prefix}.layer{k}.weight" for k in range(radial_layers + 1)]
    return names


def _views(model: SeedNet) -> dict[str, tuple[torch.nn.Parameter, tuple]]:
    """Reference name -> (SeedNet's stacked parameter, index of the reference tensor inside it)."""
    out = {}
    for name in reference_parameter_names(model.n_layers, model.radial_layers):
        layer = int(name.split(".")[1]) if name.startswith("layers.") else model.n_layers - 1
        k = int(name.split(".layer")[-1].split(".")[0])
        if k == 0:
            out[name] = (model.radial_in, (layer,))
        elif k < model.radial_layers:
            out[name] = (model.radial_mid, (k - 1, layer))
        else:
            out[name] = (model.radial_out, (layer, slice(None), slice(0, model.weight_numel[layer])))
    return out


def load_reference_state_dict(model: SeedNet, state_dict: dict[str, torch.Tensor]) -> None:
    """Copy the weights of a reference/baseline network (its ``state_dict()``) into ``model``."""
    with torch.no_grad():
        for name, (param, index) in _views(model).items():
            param[index].copy_(state_dict[name])


def as_reference_state_dict(model: SeedNet, grad: bool = False) -> dict[str, torch.Tensor]:
    """``model``'s parameters (or, with ``grad=True``, their gradients) under the reference's names."""
    out = {}
    for name, (param, index) in _views(model).items():
        t = param.grad if grad else param
        out[name] = None if t is None else t.detach()[index]
    return out
