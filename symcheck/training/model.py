"""The tutorial's e3nn point-convolution network, evaluated fast for a fixed geometry.

:class:`SeedNet` computes exactly the function of the plain-e3nn network in
:mod:`symcheck.train.reference` (same parameters, same outputs, same gradients), but it is
organised around the fact that the geometry does not change during training.

**Dense mode** (all ordered pairs, small inputs). Everything that depends only on the positions
is computed once by :meth:`SeedNet.geometry`: the radial basis of the *distinct* pair distances,
and for every layer the tensor product's Clebsch–Gordan coefficients contracted with each pair's
spherical harmonics, together with the 1/√N and activation-normalisation constants. This is one
sparse matrix per layer, ``M[(d, w, i, m), (j, a)]`` (d: distance class, w: path weight, i/j:
receiving/sending point, a: input component, m: component of the output irrep copy that w
writes to). A convolution then is

* ``Y = M @ x`` (one sparse product; for the first layer the input is fixed, so ``Y`` is stored),
* ``zp[o] = Σ_{(d,w) → o} w_radial[d, w] · Y[(d, w)]`` (a row scaling and one ``index_add``),

and the gate acts directly on ``zp``'s (copy, point, component) layout, which is also the next
layer's input layout. The radial MLPs of all layers run together as batched matrix products on
the distinct distances only. The whole network is a single hand-differentiated autograd node
(:mod:`symcheck.train.fused`), because for a handful of points the per-node cost of autograd
would dominate the step.

**Edge mode** (large inputs, or on request). The convolution runs on an explicit edge list (all
pairs, or a radius graph with cutoff ``max_radius`` built with a k-d tree) with e3nn's own tensor
product per edge and ordinary autograd: time and memory linear in the number of edges.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from e3nn import o3
from e3nn.math import normalize2mom, soft_one_hot_linspace

from .fused import DenseNetFunction, dense_backward, dense_forward
from .reference import make_gate

#: Largest number of stored entries (sparse M twice, plus Y) for the dense mode.
DENSE_BUDGET = 8_000_000
#: Above this many points the automatic graph is a radius graph instead of all pairs.
ALL_PAIRS_MAX_POINTS = 64


def natural_parity(irreps) -> bool:
    """True when every irrep in ``irreps`` has parity (-1)^l (0e, 1o, 2e, ...)."""
    return all(ir.p == (-1) ** ir.l for _, ir in o3.Irreps(irreps))


def default_hidden(lmax: int, irreps_in, irreps_out) -> o3.Irreps:
    """Hidden irreps: the tutorial's ``0e+1o+...`` up to lmax, or both parities for every l.

    A network whose hidden features all have parity (-1)^l can neither read nor produce a
    pseudotensor (e.g. 1e), so when the input or output contains one, each l gets both parities.
    """
    if natural_parity(irreps_in) and natural_parity(irreps_out):
        return o3.Irreps.spherical_harmonics(lmax)
    terms = []
    for l in range(lmax + 1):
        nat, other = ("e", "o") if l % 2 == 0 else ("o", "e")
        terms += [f"{l}{nat}", f"{l}{other}"]
    return o3.Irreps("+".join(terms))


_ACT_CONSTANTS: dict = {}


def _act_constant(f) -> float:
    """e3nn's second-moment normalisation constant of an activation (1.0 where e3nn leaves it as is); cached."""
    if f not in _ACT_CONSTANTS:
        norm = normalize2mom(f)
        _ACT_CONSTANTS[f] = 1.0 if norm._is_id else float(norm.cst)
    return _ACT_CONSTANTS[f]


def _softplus5(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.softplus(x, beta=5)


class _GateLayout:
    """Column bookkeeping of e3nn's Gate for one hidden layer.

    e3nn's Gate reads ``irreps_in`` (sorted: scalars, gates and gated irreps interleaved by
    irrep type) and writes ``irreps_out = even scalars + odd scalars + gated irreps``, each
    scalar through its normalised activation and each gated irrep copy times the normalised
    sigmoid of its own gate. Two layouts of the gate's input are used here:

    * columns (edge mode): ``source`` picks e3nn columns into
      ``[even | odd | gated | gate of each gated column]``;
    * copies (dense mode): ``col_copy``/``col_comp`` place e3nn column k at component m of copy c
      with copies ordered ``[even scalars, odd scalars, gated copies, gates]``.

    ``out_scale[k]`` is the activation constant of output column k (e3nn layout of
    ``irreps_out``); the next layer multiplies it in.
    """

    def __init__(self, hidden: o3.Irreps):
        gate = make_gate(hidden)
        self.irreps_in, self.irreps_out = gate.irreps_in, gate.irreps_out
        probe = torch.arange(gate.irreps_in.dim, dtype=torch.float64)
        scal, gates, gated = (t.long().tolist() for t in gate.sc(probe))
        parities = [ir.p for mul, ir in gate.irreps_scalars for _ in range(mul)]
        even = [c for c, p in zip(scal, parities, strict=True) if p == 1]
        odd = [c for c, p in zip(scal, parities, strict=True) if p == -1]
        if scal != even + odd:  # make_gate lists 0e before 0o, so e3nn keeps this order
            raise AssertionError("unexpected scalar order in e3nn's Gate")
        gated_dims = [ir.dim for mul, ir in gate.irreps_gated for _ in range(mul)]
        self.n_even, self.n_odd, self.n_gated = len(even), len(odd), len(gated_dims)
        self.n_gated_cols = len(gated)

        # Column layout: e3nn's ElementwiseTensorProduct pairs the n-th gated copy with the n-th gate.
        gate_of_col = [n for n, dim in enumerate(gated_dims) for _ in range(dim)]
        self.source = torch.tensor(even + odd + gated + [gates[n] for n in gate_of_col], dtype=torch.long)

        # Copy layout of the gate input.
        col_copy = [0] * gate.irreps_in.dim
        col_comp = [0] * gate.irreps_in.dim
        for c, col in enumerate(even + odd):
            col_copy[col] = c
        pos, c = 0, len(scal)
        for dim in gated_dims:
            for m in range(dim):
                col_copy[gated[pos]], col_comp[gated[pos]] = c, m
                pos += 1
            c += 1
        for n, col in enumerate(gates):
            col_copy[col] = c + n
        self.col_copy = torch.tensor(col_copy, dtype=torch.long)
        self.col_comp = torch.tensor(col_comp, dtype=torch.long)
        self.n_copies = len(scal) + 2 * len(gated_dims)
        self.mmax = max([1, *gated_dims])

        c_even, c_odd, c_gate = _act_constant(_softplus5), _act_constant(torch.tanh), _act_constant(torch.sigmoid)
        # An irrep times a 0e scalar in e3nn's ElementwiseTensorProduct is the plain product (factor 1).
        self.out_scale = torch.tensor(
            [c_even] * len(even) + [c_odd] * len(odd) + [c_gate] * len(gated), dtype=torch.float64
        )

    def apply_columns(self, z: torch.Tensor) -> torch.Tensor:
        """Gate on column-layout input ``z[..., source]``, without the output constants."""
        e, o, gd = self.n_even, self.n_odd, self.n_gated_cols
        parts = [_softplus5(z[..., :e])]
        if o:
            parts.append(torch.tanh(z[..., e : e + o]))
        parts.append(z[..., e + o : e + o + gd] * torch.sigmoid(z[..., e + o + gd :]))
        return torch.cat(parts, dim=-1)


_GATE_LAYOUTS: dict[str, _GateLayout] = {}


def _gate_layout(hidden: o3.Irreps) -> _GateLayout:
    """Cached :class:`_GateLayout` (building e3nn's Gate samples 10^6 points per activation constant)."""
    key = str(hidden)
    if key not in _GATE_LAYOUTS:
        _GATE_LAYOUTS[key] = _GateLayout(hidden)
    return _GATE_LAYOUTS[key]


@dataclass
class _DenseLayer:
    """Precomputed operators of one convolution over all pairs (see the module docstring)."""

    m: torch.Tensor  # sparse CSR (rows * cols, input size): input features -> Y
    mt: torch.Tensor  # its transpose, for the backward pass
    copy_of_row: torch.Tensor  # (rows,): output irrep copy fed by each (distance class, weight)
    n_copies: int
    rows: int  # D * w_max (distance classes × padded weight count)
    cols: int  # N * mmax
    mmax: int
    gather: torch.Tensor | None  # last layer: positions of the e3nn output columns in zp, (N * K,)


@dataclass
class Geometry:
    """Everything about one set of positions that the network reuses between training steps.

    Built by :meth:`SeedNet.geometry`; treat as opaque. ``mode`` is ``"dense"`` (precomputed
    operators over all ordered pairs) or ``"edges"`` (explicit edge list).
    """

    n: int
    mode: str
    graph: str
    emb: torch.Tensor  # (D, n_basis) radial basis of the distinct distances
    emb_layers: torch.Tensor  # (L, D, n_basis): emb repeated for the batched radial MLPs
    norm: float  # features are divided by sqrt(norm) before each convolution
    src: torch.Tensor  # (E,) sending point of each edge
    dst: torch.Tensor  # (E,) receiving point
    sh: torch.Tensor  # (E, sh dim) spherical harmonics of pos[dst] - pos[src]
    inv: torch.Tensor  # (E,) distance class of each edge
    layers: list[_DenseLayer] = field(default_factory=list)
    y_first: torch.Tensor | None = None  # dense mode: first layer's M @ x for the bound input
    x_bound: torch.Tensor | None = None

    @property
    def n_edges(self) -> int:
        """Number of directed edges (self-pairs included)."""
        return int(self.src.shape[0])


def _csr(rows, cols, vals, shape, device, dtype) -> torch.Tensor:
    """CSR matrix from distinct (row, col) entries, with 32-bit indices.

    MKL's sparse kernels would convert 64-bit indices on every call.
    """
    order = torch.argsort(rows * shape[1] + cols)
    counts = torch.bincount(rows, minlength=shape[0])
    crow = torch.zeros(shape[0] + 1, dtype=torch.long)
    torch.cumsum(counts, 0, out=crow[1:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
        return torch.sparse_csr_tensor(
            crow.to(torch.int32), cols[order].to(torch.int32), vals[order], shape, check_invariants=False
        ).to(device=device, dtype=dtype)


_W3J: dict[tuple[int, int, int], torch.Tensor] = {}


def _wigner_3j(l1: int, l2: int, l3: int) -> torch.Tensor:
    """e3nn's Wigner 3j symbol in float64 (cached)."""
    key = (l1, l2, l3)
    if key not in _W3J:
        _W3J[key] = o3.wigner_3j(l1, l2, l3, dtype=torch.float64)
    return _W3J[key]


class SeedNet(torch.nn.Module):
    """The tutorial's gated point-convolution network (e3nn), fast for a fixed geometry.

    Same function of the same parameters as :class:`symcheck.train.reference.ReferenceNetwork`
    with equal arguments; :func:`load_reference_state_dict` copies the reference's weights in,
    and a seeded construction draws the same initial weights as the reference.

    Parameters
    ----------
    irreps_in : irreps of one point's input features (e.g. ``"0e+2e"``).
    irreps_out : irreps of one point's output.
    lmax : highest l of the hidden features and spherical harmonics (tutorial: 5).
    hidden : hidden irreps; default :func:`default_hidden` (``0e+1o+2e+...`` or both parities).
    n_layers : convolutions (tutorial: 3); all but the last are followed by a gate.
    max_radius : end of the radial basis and radius-graph cutoff, Å (tutorial: 3.0).
    n_basis : number of cosine radial basis functions (tutorial: 3).
    radial_hidden, radial_layers : width and number of hidden layers of the radial MLP (100, 3).
    """

    def __init__(
        self,
        irreps_in,
        irreps_out,
        lmax: int = 5,
        hidden=None,
        n_layers: int = 3,
        max_radius: float = 3.0,
        n_basis: int = 3,
        radial_hidden: int = 100,
        radial_layers: int = 3,
    ):
        super().__init__()
        if n_layers < 1 or radial_layers < 1:
            raise ValueError("n_layers and radial_layers must be at least 1")
        self.irreps_in = o3.Irreps(irreps_in)
        self.irreps_out = o3.Irreps(irreps_out)
        self.hidden = o3.Irreps(hidden) if hidden is not None else default_hidden(lmax, irreps_in, irreps_out)
        self.lmax, self.n_layers = lmax, n_layers
        self.max_radius, self.n_basis = float(max_radius), n_basis
        self.irreps_sh = o3.Irreps.spherical_harmonics(lmax)

        # Layers exactly as the reference builds them (tensor products without weights of their own).
        self.tps = torch.nn.ModuleList()
        self.gates: list[_GateLayout | None] = []
        current = self.irreps_in
        for layer in range(n_layers):
            gate = _gate_layout(self.hidden) if layer < n_layers - 1 else None
            out = gate.irreps_in if gate is not None else self.irreps_out
            # e3nn's einsum-path optimisation takes seconds to set up and makes the per-edge
            # products slower here, not faster; the dense mode does not use them at all.
            tp = o3.FullyConnectedTensorProduct(
                current, self.irreps_sh, out, shared_weights=False, _optimize_einsums=False
            )
            self.tps.append(tp)
            self.gates.append(gate)
            current = gate.irreps_out if gate is not None else current
        self.weight_numel = [tp.weight_numel for tp in self.tps]

        # Radial MLP weights, drawn in the reference's order so that a seed gives the same network,
        # then stacked over layers: all layers' MLPs run as batched products, and the optimiser
        # and autograd see three tensors instead of 4 per layer. The output matrices are padded
        # with zero columns to the largest weight count; those columns never reach the output,
        # get exactly zero gradient and so stay zero under Adam.
        h = radial_hidden
        self.w_max = max(self.weight_numel)
        draws = []
        for layer in range(n_layers):
            dims = [n_basis] + [h] * radial_layers + [self.weight_numel[layer]]
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
        self.radial_hidden, self.radial_layers = h, radial_layers
        self._c_softplus = _act_constant(torch.nn.functional.softplus)

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

    def _in_scale(self, layer: int, norm: float) -> torch.Tensor:
        """Per-input-column factor of a layer: 1/√norm, times the previous gate's activation constants."""
        scale = torch.full((self.tps[layer].irreps_in1.dim,), 1.0 / math.sqrt(norm), dtype=torch.float64)
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
            (dense when it fits :data:`DENSE_BUDGET`, else pairs up to
            :data:`ALL_PAIRS_MAX_POINTS` points, else radius).
        cell, pbc : lattice vectors (rows, Å) and periodicity; used by the radius graph only.
        """
        dtype, device = self.radial_in.dtype, self.radial_in.device
        pos64 = pos.detach().to(device="cpu", dtype=torch.float64)
        n = pos64.shape[0]
        if graph not in ("auto", "dense", "pairs", "radius"):
            raise ValueError(f"unknown graph {graph!r}: use auto, dense, pairs or radius")
        if graph == "auto":
            if n > ALL_PAIRS_MAX_POINTS:
                graph = "radius"
            else:
                graph = "dense" if self._dense_size(n) <= DENSE_BUDGET else "pairs"
        if graph == "radius":
            dst, src, vec = _radius_graph(pos64.numpy(), self.max_radius, cell, pbc)
            # Neighbours per point, self included: equals N when the graph holds all pairs.
            norm = len(dst) / n
        else:
            dst, src = (t.reshape(-1) for t in torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij"))
            vec = pos64[dst] - pos64[src]
            norm = float(n)
        # The reference's expressions: rel[i, j] = pos[i] - pos[j] for the message j -> i.
        length = vec.norm(dim=-1)
        _, first, inv = _unique_first(torch.round(length * 1e12))
        emb = soft_one_hot_linspace(length[first], 0.0, self.max_radius, self.n_basis, basis="cosine", cutoff=True)
        sh = o3.spherical_harmonics(self.irreps_sh, vec, normalize=True, normalization="component")
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
            self._build_dense(geo, sh, dst, src, inv, len(first), x)
        return geo

    def _build_dense(self, geo: Geometry, sh, dst, src, inv, d_count: int, x: torch.Tensor | None) -> None:
        dtype, device = self.radial_in.dtype, self.radial_in.device
        n = geo.n
        for layer, tp in enumerate(self.tps):
            gate = self.gates[layer]
            # Where each input column lives in the flattened layer input.
            a_dim = tp.irreps_in1.dim
            if layer == 0:
                in_index = lambda j, a, a_dim=a_dim: j * a_dim + a  # noqa: E731  x is (N, A), e3nn layout
                in_size = n * a_dim
            else:
                # previous gate output in copy layout (copies, N, mmax): e3nn columns of gate.irreps_out
                prev = self.gates[layer - 1]
                _, c_of, m_of, mm = _output_copies(prev.irreps_out)
                in_index = lambda j, a, c_of=c_of, m_of=m_of, mm=mm: (c_of[a] * n + j) * mm + m_of[a]  # noqa: E731
                in_size = (int(c_of.max()) + 1) * n * mm
            # Where each e3nn output column goes: (copy, component).
            if gate is not None:
                k_copy, k_comp, mmax, n_copies = gate.col_copy, gate.col_comp, gate.mmax, gate.n_copies
            else:
                _, k_copy, k_comp, mmax = _output_copies(tp.irreps_out)
                n_copies = int(k_copy.max()) + 1
            # Copy written by each weight: the copy of the first e3nn column of its target irrep copy.
            first_col = _copy_first_columns(tp.irreps_out)
            copy_of_w = torch.zeros(self.w_max, dtype=torch.long)  # padding weights: any copy, their Y rows are 0
            copy_of_w[: tp.weight_numel] = k_copy[first_col[_weight_targets(tp)]]
            rows, cols, vals, shape = self._dense_operator(
                tp,
                sh,
                dst,
                src,
                inv,
                d_count,
                n,
                self._in_scale(layer, geo.norm),
                in_index,
                in_size,
                k_comp,
                mmax,
                self.w_max,
            )
            gather = None
            if gate is None:
                gather = ((k_copy[None, :] * n + torch.arange(n)[:, None]) * mmax + k_comp[None, :]).reshape(-1)
            geo.layers.append(
                _DenseLayer(
                    m=_csr(rows, cols, vals, shape, device, dtype),
                    mt=_csr(cols, rows, vals, (shape[1], shape[0]), device, dtype),
                    copy_of_row=copy_of_w.repeat(d_count).to(device),
                    n_copies=n_copies,
                    rows=d_count * self.w_max,
                    cols=n * mmax,
                    mmax=mmax,
                    gather=None if gather is None else gather.to(device),
                )
            )
        if x is not None:
            geo.x_bound = x
            with torch.no_grad():
                geo.y_first = torch.mv(geo.layers[0].m, x.detach().to(device, dtype).reshape(-1))

    def _dense_size(self, n: int) -> int:
        """Upper bound on the numbers stored by the dense mode for n points (M counted twice: M and its transpose)."""
        d = n * (n - 1) // 2 + 1
        total = 0
        for tp in self.tps:
            mmax = max(ir.dim for _, ir in tp.irreps_out)
            per_pair = sum((2 * l1 + 1) * (2 * l3 + 1) for l1, l3 in _path_dims(tp))
            total += 2 * n * n * per_pair + d * tp.weight_numel * n * mmax
        return total

    @staticmethod
    def _dense_operator(tp, sh, dst, src, inv, d_count, n, in_scale, in_index, in_size, k_comp, mmax, w_stride):
        """Entries of the sparse operator of one layer, ``(rows, cols, vals, shape)``.

        M[(d, w, i, m), in_index(j, a)] = Σ_{pairs (i,j) of class d} CG_w[a, b, k] sh_ij[b] in_scale[a].

        CG_w is the coefficient tensor of the path that weight w scales, exactly as e3nn's
        generated code applies it (``path_weight`` · Wigner 3j, 'uvw' connection); m = k_comp[k] is
        the component of output column k within its irrep copy; rows are laid out with
        ``w_stride`` (>= weight_numel) weights per distance class.
        """
        sh = sh.to(torch.float64)
        in1, in2, out = tp.irreps_in1, tp.irreps_in2, tp.irreps_out
        rows, cols, vals = [], [], []
        w_offset = 0
        for ins in tp.instructions:
            mul1, mul2, mul3 = ins.path_shape
            if ins.connection_mode != "uvw" or not ins.has_weight:
                raise ValueError(f"unsupported tensor-product instruction {ins}")
            (_, ir1), (_, ir2), (_, ir3) = in1[ins.i_in1], in2[ins.i_in2], out[ins.i_out]
            # b[e, i, k] = path_weight * sum_j w3j[i, j, k] sh_e[j]: the path's operator on x for pair e.
            sh_block = sh[:, in2.slices()[ins.i_in2]].reshape(-1, ir2.dim)
            w3j = _wigner_3j(ir1.l, ir2.l, ir3.l).transpose(0, 1).reshape(ir2.dim, ir1.dim * ir3.dim)
            b = (ins.path_weight * (sh_block @ w3j)).reshape(-1, mul2, ir1.dim, ir3.dim)
            e_idx, v_idx, i_idx, k_idx = torch.nonzero(b, as_tuple=True)
            val = b[e_idx, v_idx, i_idx, k_idx]
            for u in range(mul1):
                a = in1.slices()[ins.i_in1].start + u * ir1.dim + i_idx
                for wo in range(mul3):
                    w = w_offset + (u * mul2 + v_idx) * mul3 + wo
                    k = out.slices()[ins.i_out].start + wo * ir3.dim + k_idx
                    rows.append(((inv[e_idx] * w_stride + w) * n + dst[e_idx]) * mmax + k_comp[k])
                    cols.append(in_index(src[e_idx], a))
                    vals.append(val * in_scale[a])
            w_offset += mul1 * mul2 * mul3
        shape = (d_count * w_stride * n * mmax, in_size)
        return torch.cat(rows), torch.cat(cols), torch.cat(vals), shape

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor, geo: Geometry | torch.Tensor) -> torch.Tensor:
        """Network output (N, irreps_out.dim) for input features ``x`` (N, irreps_in.dim) on ``geo``.

        ``geo`` is a :class:`Geometry` from :meth:`geometry` (fast) or raw positions (N, 3) in Å
        (a geometry is then built on the fly). On a dense geometry the whole network runs as one
        hand-differentiated autograd node (:mod:`symcheck.train.fused`); when ``x`` itself needs a
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
            xs = x[geo.src] * self._in_scale(layer, geo.norm).to(x)
            msg = tp(xs, geo.sh, weights[layer][geo.inv])
            z = torch.zeros(n, msg.shape[1], dtype=msg.dtype, device=msg.device).index_add(0, geo.dst, msg)
            gate = self.gates[layer]
            x = gate.apply_columns(z[:, gate.source.to(z.device)]) if gate is not None else z
        return x


def _copy_first_columns(irreps: o3.Irreps) -> torch.Tensor:
    """e3nn column index of the first component of every irrep copy, in e3nn's copy order."""
    cols, k = [], 0
    for mul, ir in irreps:
        for _ in range(mul):
            cols.append(k)
            k += ir.dim
    return torch.tensor(cols, dtype=torch.long)


def _path_dims(tp) -> list[tuple[int, int]]:
    """(l_in, l_out) of every weight of the tensor product (one entry per weight)."""
    out = []
    for ins in tp.instructions:
        l1 = tp.irreps_in1[ins.i_in1].ir.l
        l3 = tp.irreps_out[ins.i_out].ir.l
        out += [(l1, l3)] * math.prod(ins.path_shape)
    return out


def _output_copies(irreps_out: o3.Irreps) -> tuple[list[int], torch.Tensor, torch.Tensor, int]:
    """Split irreps into single irrep copies.

    Returns ``(first_copy, k_copy, k_comp, mmax)``: ``first_copy[i]`` is the copy index of the
    first copy of ``irreps_out[i]``; column k of the e3nn layout is component ``k_comp[k]`` of
    copy ``k_copy[k]``; ``mmax`` is the largest irrep dimension.
    """
    first_copy, k_copy, k_comp = [], [], []
    copy = 0
    for mul, ir in irreps_out:
        first_copy.append(copy)
        for _ in range(mul):
            k_copy += [copy] * ir.dim
            k_comp += list(range(ir.dim))
            copy += 1
    mmax = max((ir.dim for _, ir in irreps_out), default=1)
    return first_copy, torch.tensor(k_copy, dtype=torch.long), torch.tensor(k_comp, dtype=torch.long), mmax


def _weight_targets(tp) -> torch.Tensor:
    """Output copy written by each weight of a fully connected ('uvw') tensor product, shape (weight_numel,).

    e3nn stores the weights instruction after instruction, each as a row-major (u, v, w) block.
    """
    first_copy, _, _, _ = _output_copies(tp.irreps_out)
    targets = []
    for ins in tp.instructions:
        if not ins.has_weight:
            continue
        if ins.connection_mode != "uvw":
            raise ValueError(f"unsupported tensor-product connection mode {ins.connection_mode!r}")
        mul1, mul2, mul_out = ins.path_shape
        block = torch.arange(mul_out).repeat(mul1 * mul2) + first_copy[ins.i_out]
        targets.append(block)
    return torch.cat(targets) if targets else torch.zeros(0, dtype=torch.long)


def _unique_first(key: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Distinct values of ``key``: (values, index of each value's first occurrence, inverse map)."""
    values, inv = torch.unique(key, return_inverse=True)
    first = torch.full((len(values),), len(key), dtype=torch.long)
    first = first.scatter_reduce(0, inv, torch.arange(len(key)), reduce="amin")
    return values, first, inv


def _radius_graph(pos: np.ndarray, cutoff: float, cell=None, pbc=None):
    """Directed edges (dst, src, vec) with |vec| < cutoff, self-pairs included.

    vec = pos[dst] - pos[src] (minus the lattice shift of a periodic image of src).

    Built in O(N) with a k-d tree (periodic images through ASE's neighbour list when ``cell``/``pbc`` are given).
    """
    if cell is not None and pbc is not None and np.any(pbc):
        from ase.neighborlist import primitive_neighbor_list

        i, j, shift = primitive_neighbor_list(
            "ijS", np.asarray(pbc, bool), np.asarray(cell, float), pos, cutoff, self_interaction=False
        )
        # ASE: vector from i to the image of j is pos[j] - pos[i] + S·cell; the message j -> i sees the opposite.
        vec = pos[i] - (pos[j] + shift @ np.asarray(cell, float))
        n = len(pos)
        dst = np.concatenate([np.arange(n), i])
        src = np.concatenate([np.arange(n), j])
        vec = np.concatenate([np.zeros((n, 3)), vec])
        return torch.as_tensor(dst), torch.as_tensor(src), torch.as_tensor(vec)
    from scipy.spatial import cKDTree

    pairs = cKDTree(pos).query_pairs(cutoff, output_type="ndarray")
    # query_pairs uses r <= cutoff; the basis vanishes at the cutoff anyway, keep strict < for clarity.
    d = np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1)
    pairs = pairs[d < cutoff]
    n = len(pos)
    dst = np.concatenate([np.arange(n), pairs[:, 0], pairs[:, 1]])
    src = np.concatenate([np.arange(n), pairs[:, 1], pairs[:, 0]])
    dst_t, src_t = torch.as_tensor(dst), torch.as_tensor(src)
    p = torch.as_tensor(pos)
    return dst_t, src_t, p[dst_t] - p[src_t]


def reference_parameter_names(n_layers: int, radial_layers: int = 3) -> list[str]:
    """Parameter names of the reference network, in its order (``layers.0.0.radial.layer0.weight``, …)."""
    names = []
    for layer in range(n_layers):
        prefix = f"layers.{layer}.0.radial" if layer < n_layers - 1 else "last.radial"
        names += [f"{prefix}.layer{k}.weight" for k in range(radial_layers + 1)]
    return names


def _views(model: SeedNet) -> dict[str, tuple[torch.nn.Parameter, tuple]]:
    """Reference name -> (own parameter, index of the reference tensor inside it)."""
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
