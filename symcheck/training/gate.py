"""The tutorial's gated nonlinearity: e3nn's Gate, and its column bookkeeping for the fast network.

:func:`make_gate` builds the e3nn module (the tutorial's activations; the reference network
uses it); :class:`GateLayout` records where e3nn's Gate reads and writes each column, so that
:mod:`symcheck.training.network` and :mod:`symcheck.training.fused` can apply the same gate
without the module. The layout is computed without importing e3nn
(:func:`symcheck.training.spec.gate_irreps`; tests check it against e3nn's Gate).
"""

from __future__ import annotations

import torch

from .. import o3
from .spec import act_constant, gate_irreps, simplify


def softplus_beta5(x: torch.Tensor) -> torch.Tensor:
    """Softplus with β = 5, the tutorial's scalar activation."""
    return torch.nn.functional.softplus(x, beta=5)


def make_gate(hidden):
    """The tutorial's gated nonlinearity for ``hidden`` irreps, as an e3nn ``nn.Gate`` module.

    Even scalars go through softplus(β=5), odd scalars through tanh (softplus has no parity, so
    e3nn refuses it on 0o), and every l > 0 irrep is multiplied by a sigmoid of its own 0e gate.
    Imports e3nn (the fast network does not call this; :class:`GateLayout` describes the same gate).
    """
    from e3nn import nn
    from e3nn import o3 as e3nn_o3

    hidden = e3nn_o3.Irreps(hidden)
    scalars = e3nn_o3.Irreps([(m, ir) for m, ir in hidden if ir.l == 0])
    gated = e3nn_o3.Irreps([(m, ir) for m, ir in hidden if ir.l > 0])
    acts = [softplus_beta5 if ir.p == 1 else torch.tanh for _, ir in scalars]
    return nn.Gate(scalars, acts, e3nn_o3.Irreps(f"{gated.num_irreps}x0e"), [torch.sigmoid], gated)


class GateLayout:
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

    Parameters
    ----------
    hidden : the hidden irreps the gate acts on.
    """

    def __init__(self, hidden: o3.Irreps):
        gate = gate_irreps(hidden)
        self.irreps_in, self.irreps_out = gate.irreps_in, gate.irreps_out
        scal, gates, gated = gate.scalars, gate.gates, gate.gated
        hidden = o3.Irreps(hidden)
        # the scalars and gated irreps as e3nn's cut hands them out: the hidden terms, simplified
        parities = [ir.p for mul, ir in simplify([(m, ir) for m, ir in hidden if ir.l == 0]) for _ in range(mul)]
        even = [c for c, p in zip(scal, parities, strict=True) if p == 1]
        odd = [c for c, p in zip(scal, parities, strict=True) if p == -1]
        if scal != even + odd:  # make_gate lists 0e before 0o, so e3nn keeps this order
            raise AssertionError("unexpected scalar order in e3nn's Gate")
        gated_dims = [ir.dim for mul, ir in simplify([(m, ir) for m, ir in hidden if ir.l > 0]) for _ in range(mul)]
        self.n_even, self.n_odd, self.n_gated = len(even), len(odd), len(gated_dims)
        self.n_gated_cols = len(gated)

        # Column layout: e3nn's ElementwiseTensorProduct pairs the n-th gated copy with the n-th gate.
        gate_of_col = [n for n, dim in enumerate(gated_dims) for _ in range(dim)]
        self.source = torch.tensor(even + odd + gated + [gates[n] for n in gate_of_col], dtype=torch.long)
        self._copy_layout(gate.irreps_in.dim, even + odd, gates, gated, gated_dims)

        c_even, c_odd, c_gate = act_constant(softplus_beta5), act_constant(torch.tanh), act_constant(torch.sigmoid)
        # An irrep times a 0e scalar in e3nn's ElementwiseTensorProduct is the plain product (factor 1).
        self.out_scale = torch.tensor(
            [c_even] * len(even) + [c_odd] * len(odd) + [c_gate] * len(gated), dtype=torch.float64
        )

    def _copy_layout(self, dim: int, scal: list[int], gates: list[int], gated: list[int], gated_dims: list[int]):
        """Set ``col_copy``, ``col_comp``, ``n_copies`` and ``mmax``: the copy layout of the gate input."""
        col_copy = [0] * dim
        col_comp = [0] * dim
        for c, col in enumerate(scal):
            col_copy[col] = c
        pos, c = 0, len(scal)
        for size in gated_dims:
            for m in range(size):
                col_copy[gated[pos]], col_comp[gated[pos]] = c, m
                pos += 1
            c += 1
        for n, col in enumerate(gates):
            col_copy[col] = c + n
        self.col_copy = torch.tensor(col_copy, dtype=torch.long)
        self.col_comp = torch.tensor(col_comp, dtype=torch.long)
        self.n_copies = len(scal) + 2 * len(gated_dims)
        self.mmax = max([1, *gated_dims])

    def apply_columns(self, z: torch.Tensor) -> torch.Tensor:
        """Gate on column-layout input ``z[..., source]``, without the output constants."""
        e, o, gd = self.n_even, self.n_odd, self.n_gated_cols
        parts = [softplus_beta5(z[..., :e])]
        if o:
            parts.append(torch.tanh(z[..., e : e + o]))
        parts.append(z[..., e + o : e + o + gd] * torch.sigmoid(z[..., e + o + gd :]))
        return torch.cat(parts, dim=-1)


_GATE_LAYOUTS: dict[str, GateLayout] = {}


def gate_layout(hidden: o3.Irreps) -> GateLayout:
    """Cached :class:`GateLayout` (the activation constants sample 10^6 points each)."""
    key = str(hidden)
    if key not in _GATE_LAYOUTS:
        _GATE_LAYOUTS[key] = GateLayout(hidden)
    return _GATE_LAYOUTS[key]
