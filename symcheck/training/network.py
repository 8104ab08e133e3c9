"""The tutorial's e3nn point-convolution network, evaluated fast for a fixed geometry.

:class:`SeedNet` computes exactly the function of the plain-e3nn tutorial network (the baseline
``benchmarks/seednet_baseline.py``; same parameters, same outputs, same gradients), but it is
organised around the fact that the geometry does not change during training.

**Dense mode** (all ordered pairs, small inputs). Everything that depends only on the positions
is computed once by :meth:`SeedNet.geometry`: the radial basis of the *distinct* pair distances
and, for every layer, one sparse operator (:mod:`symcheck.training.dense`). The gate acts
directly on the (copy, point, component) layout (:mod:`symcheck.training.gate`), which is also
the next layer's input layout. The radial MLPs of all layers run together as batched matrix
products on the distinct distances only. The whole network is a single hand-differentiated
autograd node (:mod:`symcheck.training.fused`), because for a handful of points the per-node
cost of autograd would dominate the step.

**Edge mode** (large inputs, or on request). The convolution runs on an explicit edge list (all
pairs, or a radius graph with cutoff ``max_radius`` built with a k-d tree,
:mod:`symcheck.training.geometry`) with e3nn's own tensor product per edge and ordinary
autograd: time and memory linear in the number of edges.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from .. import o3 as np_o3
from ..compat import renamed_keyword
from .dense import build_dense_layers, dense_size
from .fused import DenseNetFunction, dense_backward, dense_forward
from .gate import GateLayout, gate_layout
from .geometry import Geometry, choose_graph, edge_list, unique_first
from .spec import Irreps, PathSpec, act_constant, path_spec, preload_wigner_3j, soft_one_hot_cosine


def natural_parity(irreps) -> bool:
    """True when every irrep in ``irreps`` has parity (-1)^l (0e, 1o, 2e, ...)."""
    return all(ir.p == (-1) ** ir.l for _, ir in Irreps(irreps))


def default_hidden(network_lmax: int, irreps_in, irreps_out) -> Irreps:
    """Hidden irreps: the tutorial's ``0e+1o+...`` up to ``network_lmax``, or both parities for every l.

    A network whose hidden features all have parity (-1)^l can neither read nor produce a
    pseudotensor (e.g. 1e), so when the input or output contains one, each l gets both parities.
    """
    if natural_parity(irreps_in) and natural_parity(irreps_out):
        return Irreps.spherical_harmonics(network_lmax)
    terms = []
    for l in range(network_lmax + 1):
        nat, other = ("e", "o") if l % 2 == 0 else ("o", "e")
        terms += [f"{l}{nat}", f"{l}{other}"]
    return Irreps("+".join(terms))


class SeedNet(torch.nn.Module):
    """The tutorial's gated point-convolution network (e3nn), fast for a fixed geometry.

    Same function of the same parameters as the plain-e3nn tutorial network with equal
    arguments; a seeded construction draws the same initial weights (``tests/reference_net.py``
    maps the weights between the two).

    Parameters
    ----------
    irreps_in : irreps of one point's input features (e.g. ``"0e+2e"``).
    irreps_out : irreps of one point's output.
    network_lmax : highest l of the hidden features and spherical harmonics (tutorial: 5).
    hidden : hidden irreps; default :func:`default_hidden` (``0e+1o+2e+...`` or both parities).
    n_layers : convolutions (tutorial: 3); all but the last are followed by a gate.
    max_radius : end of the radial basis and radius-graph cutoff, Å (tutorial: 3.0).
    n_basis : number of cosine radial basis functions (tutorial: 3).
    radial_hidden, radial_layers : width and number of hidden layers of the radial MLP (100, 3).
    lmax : deprecated name of ``network_lmax``.
    """

    def __init__(
        self,
        irreps_in,
        irreps_out,
        network_lmax: int = 5,
        hidden=None,
        n_layers: int = 3,
        max_radius: float = 3.0,
        n_basis: int = 3,
        radial_hidden: int = 100,
        radial_layers: int = 3,
        *,
        lmax: int | None = None,
    ):
        super().__init__()
        network_lmax = renamed_keyword("SeedNet", "lmax", "network_lmax", lmax, network_lmax, 5)
        if n_layers < 1 or radial_layers < 1:
            raise ValueError("n_layers and radial_layers must be at least 1")
        self.irreps_in = Irreps(irreps_in)
        self.irreps_out = Irreps(irreps_out)
        self.hidden = Irreps(hidden) if hidden is not None else default_hidden(network_lmax, irreps_in, irreps_out)
        self.network_lmax, self.n_layers = network_lmax, n_layers
        self.max_radius, self.n_basis = float(max_radius), n_basis
        self.irreps_sh = Irreps.spherical_harmonics(network_lmax)

        # Layers exactly as the reference builds them: the paths of each layer's fully connected
        # tensor product (no weights of its own), computed without e3nn (spec.path_spec); e3nn's
        # own modules are built only for the edge mode (self.tps).
        self.paths: list[PathSpec] = []
        self.gates: list[GateLayout | None] = []
        current = self.irreps_in
        for layer in range(n_layers):
            gate = gate_layout(self.hidden) if layer < n_layers - 1 else None
            out = gate.irreps_in if gate is not None else self.irreps_out
            self.paths.append(path_spec(current, self.irreps_sh, out))
            self.gates.append(gate)
            current = gate.irreps_out if gate is not None else current
        self._e3nn_tps: list | None = None
        self.weight_numel = [p.weight_numel for p in self.paths]
        preload_wigner_3j({t for p in self.paths for t in p.triples})
        self.w_max = max(self.weight_numel)
        self.radial_hidden, self.radial_layers = radial_hidden, radial_layers
        self._draw_radial_weights()
        self._c_softplus = act_constant(torch.nn.functional.softplus)

    @property
    def tps(self) -> list:
        """e3nn's ``FullyConnectedTensorProduct`` of every layer (edge mode); built, e3nn imported, on first use.

        Not registered as submodules (they hold no parameters): :meth:`forward_edges` moves them
        to the input's device and dtype.
        """
        if self._e3nn_tps is None:
            from e3nn import o3

            from .equivariance import default_dtype

            with default_dtype(torch.float64):  # e3nn builds its constants in the default dtype
                # e3nn's einsum-path optimisation takes seconds to set up and makes the per-edge
                # products slower here, not faster.
                self._e3nn_tps = [
                    o3.FullyConnectedTensorProduct(str(p.irreps_in1), str(p.irreps_in2), str(p.irreps_out),
                                                   shared_weights=False, _optimize_einsums=False)
                    for p in self.paths
                ]
        return self._e3nn_tps

    @property
    def lmax(self) -> int:
        """Deprecated name of :attr:`network_lmax`."""
        warnings.warn("SeedNet.lmax is deprecated: use network_lmax", DeprecationWarning, stacklevel=2)
        return self.network_lmax

    def _draw_radial_weights(self) -> None:
        """Radial MLP weights, drawn in the reference's order so that a seed gives the same network.

        They are stacked over layers: all layers' MLPs run as batched products, and the optimiser
        and autograd see three tensors instead of 4 per layer. The output matrices are padded with
        zero columns to the largest weight count; those columns never reach the output, get
        exactly zero gradient and so stay zero under Adam.
        """
        h, n_layers, radial_layers = self.radial_hidden, self.n_layers, self.radial_layers
        draws = []
        for layer in range(n_layers):
            dims = [self.n_basis] + [h] * radial_layers + [self.weight_numel[layer]]
            draws.append([torch.randn(a, b) for a, b in zip(dims, dims[1:], strict=False)])
        self.radial_in = torch.nn.Parameter(torch.stack([d[0] for d in draws]))
        self.radial_mid = torch.nn.Parameter(
            torch.stack([torch.stack([d[k] for d in draws]) for k in range(1, radial_layers)])
            if radial_layers > 1
            else torch.zeros(0, n_layers, h, h)
        )
        out = torch.zeros(n_layers, h, self.w_max)
        for layer, d in enumerate(draws):
            out[layer, :, : self.weight_numel[layer]] = d[-1]
        self.radial_out = torch.nn.Parameter(out)

    # ------------------------------------------------------------------ radial part
    def radial_weights(self, emb: torch.Tensor) -> list[torch.Tensor]:
        """Tensor-product weights of every layer, ``[(D, weight_numel[l])]``, for the radial basis ``emb`` (D, n_basis).

        Same as e3nn's FullyConnectedNet (x @ W/√fan_in, then c·softplus); the activation
        constant c is applied together with the next layer's 1/√fan_in, which is the same number.
        """
        cs = self._c_softplus / math.sqrt(self.radial_hidden)
        h = torch.nn.functional.softplus(torch.matmul(emb, self.radial_in) * (1.0 / math.sqrt(self.n_basis)))
        for w in self.radial_mid:
            h = torch.nn.functional.softplus(torch.bmm(h, w) * cs)
        out = torch.bmm(h, self.radial_out) * cs
        return [out[layer, :, :numel] for layer, numel in enumerate(self.weight_numel)]

    def in_scale(self, layer: int, norm: float) -> torch.Tensor:
        """Per-input-column factor of a layer: 1/√norm, times the previous gate's activation constants."""
        scale = torch.full((self.paths[layer].irreps_in1.dim,), 1.0 / math.sqrt(norm), dtype=torch.float64)
        if layer > 0:
            scale = scale * self.gates[layer - 1].out_scale
        return scale

    # ------------------------------------------------------------------ geometry
    def geometry(
        self,
        pos: torch.Tensor,
        x: torch.Tensor | None = None,
        graph: str = "auto",
        cell: np.ndarray | None = None,
        pbc: np.ndarray | None = None,
    ) -> Geometry:
        """Precompute everything that depends on the positions (and, if given, on the fixed input ``x``).

        Parameters
        ----------
        pos : (N, 3) positions, Å.
        x : (N, irreps_in.dim) input features that stay fixed during training; the first layer is
            then precomputed too, for calls of :meth:`forward` with this same tensor object.
        graph : ``"dense"`` (all ordered pairs, precomputed operators), ``"pairs"`` (all ordered
            pairs as an edge list), ``"radius"`` (pairs closer than ``max_radius``, plus
            self-pairs; features divided by √(mean neighbour count) instead of √N), or ``"auto"``
            (dense when it fits :data:`~symcheck.training.geometry.DENSE_BUDGET`, else pairs up to
            :data:`~symcheck.training.geometry.ALL_PAIRS_MAX_POINTS` points, else radius).
        cell, pbc : lattice vectors (rows, Å) and periodicity; used by the radius graph only.
        """
        dtype, device = self.radial_in.dtype, self.radial_in.device
        pos64 = pos.detach().to(device="cpu", dtype=torch.float64)
        n = pos64.shape[0]
        graph = choose_graph(graph, n, lambda k: dense_size(self.paths, k))
        dst, src, vec, norm = edge_list(pos64, graph, self.max_radius, cell, pbc)
        length = vec.norm(dim=-1)
        _, first, inv = unique_first(torch.round(length * 1e12))
        emb = soft_one_hot_cosine(length[first], 0.0, self.max_radius, self.n_basis)
        # e3nn's spherical harmonics, computed in numpy (symcheck.o3, tested against e3nn)
        sh = torch.from_numpy(np_o3.spherical_harmonics(self.irreps_sh.ls, vec.numpy(), normalize=True,
                                                        normalization="component"))
        emb = emb.to(device, dtype)
        geo = Geometry(
            n=n,
            mode="dense" if graph == "dense" else "edges",
            graph=graph,
            emb=emb,
            emb_layers=emb.expand(self.n_layers, -1, -1).contiguous(),
            norm=norm,
            src=src.to(device),
            dst=dst.to(device),
            sh=sh.to(device, dtype),
            inv=inv.to(device),
        )
        if geo.mode == "dense":
            build_dense_layers(self, geo, sh, dst, src, inv, len(first), x, pos64)
        return geo

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor, geo: Geometry | torch.Tensor) -> torch.Tensor:
        """Network output (N, irreps_out.dim) for input features ``x`` (N, irreps_in.dim) on ``geo``.

        ``geo`` is a :class:`Geometry` from :meth:`geometry` (fast) or raw positions (N, 3) in Å
        (a geometry is then built on the fly). On a dense geometry the whole network runs as one
        hand-differentiated autograd node (:mod:`symcheck.training.fused`); when ``x`` itself needs a
        gradient the edge-list path runs instead. The result is the same.
        """
        if not isinstance(geo, Geometry):
            geo = self.geometry(geo)
        if geo.mode == "dense" and not x.requires_grad:
            use_bound = geo.y_first is not None and x is geo.x_bound
            return DenseNetFunction.apply(self, geo, x, use_bound, self.radial_in, self.radial_mid, self.radial_out)
        return self.forward_edges(x, geo)

    def mse_step(self, x: torch.Tensor, geo: Geometry, target: torch.Tensor, pool: bool = False) -> torch.Tensor:
        """Loss and gradients of one training step: ``mean((f(x) - target)**2)``, gradients added to ``.grad``.

        Same numbers as ``loss = torch.nn.functional.mse_loss(pred, target); loss.backward()`` with
        ``pred = self(x, geo)`` (or its mean over points when ``pool``), but on a dense geometry
        without building an autograd graph at all. Returns the loss (0-dim tensor, detached).
        """
        if geo.mode != "dense" or x.requires_grad:
            out = self(x, geo)
            pred = out.mean(0) if pool else out
            loss = ((pred - target) ** 2).mean()
            loss.backward()
            return loss.detach()
        use_bound = geo.y_first is not None and x is geo.x_bound
        params = (self.radial_in, self.radial_mid, self.radial_out)
        with torch.no_grad():
            out, state = dense_forward(self, geo, x, use_bound, *params)
            pred = out.mean(0) if pool else out
            diff = pred - target
            loss = (diff * diff).mean()
            # d mean(diff²) / d pred = 2 diff / numel; the pooled mean spreads it evenly over the points.
            grad = diff * (2.0 / diff.numel())
            if pool:
                grad = (grad / out.shape[0]).expand_as(out)
            grads = dense_backward(self, geo, state, grad.contiguous())
            for p, g in zip(params, grads, strict=True):
                if p.grad is None:
                    p.grad = g
                else:
                    p.grad += g
        return loss

    def forward_edges(self, x: torch.Tensor, geo: Geometry) -> torch.Tensor:
        """Edge-list evaluation with e3nn's tensor products and ordinary autograd (any geometry)."""
        weights = self.radial_weights(geo.emb)
        n = geo.n
        for layer, tp in enumerate(self.tps):
            tp.to(device=x.device, dtype=x.dtype)  # a no-op once there
            xs = x[geo.src] * self.in_scale(layer, geo.norm).to(x)
            msg = tp(xs, geo.sh, weights[layer][geo.inv])
            z = torch.zeros(n, msg.shape[1], dtype=msg.dtype, device=msg.device).index_add(0, geo.dst, msg)
            gate = self.gates[layer]
            x = gate.apply_columns(z[:, gate.source.to(z.device)]) if gate is not None else z
        return x
