"""What the network precomputes for one set of positions: the graph, its edges and the stored operators.

A :class:`Geometry` holds the edge list (all ordered pairs, or a radius graph through periodic
images), each edge's distance class and spherical harmonics, the radial basis of the distinct
distances and, in dense mode, every layer's :class:`DenseLayer` operator (built by
:mod:`symcheck.training.dense`). :func:`choose_graph` picks the graph for an input size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

#: Largest number of stored entries (sparse M twice, plus Y) for the dense mode.
DENSE_BUDGET = 8_000_000
#: Above this many points the automatic graph is a radius graph instead of all pairs.
ALL_PAIRS_MAX_POINTS = 64
#: The graphs :func:`choose_graph` accepts.
GRAPHS = ("auto", "dense", "pairs", "radius")


@dataclass
class DenseLayer:
    """Precomputed operators of one convolution over all pairs (see :mod:`symcheck.training.dense`)."""

    m: torch.Tensor  # sparse CSR (rows * cols, input size): input features -> Y
    make_mt: Callable[[], torch.Tensor] | None  # builds m's transpose (see mt)
    copy_of_row: torch.Tensor  # (rows,): output irrep copy fed by each (distance class, weight)
    n_copies: int
    rows: int  # D * w_max (distance classes × padded weight count)
    cols: int  # N * mmax
    mmax: int
    gather: torch.Tensor | None  # last layer: positions of the e3nn output columns in zp, (N * K,)
    _mt: torch.Tensor | None = None

    @property
    def mt(self) -> torch.Tensor:
        """m's transpose (sparse CSR), for the backward pass; built on first use, so that a geometry
        only evaluated (the equivariance check's rotated copies) never pays for it."""
        if self._mt is None:
            self._mt = self.make_mt()
            self.make_mt = None
        return self._mt


@dataclass
class Geometry:
    """Everything about one set of positions that the network reuses between training steps.

    Built by :meth:`symcheck.training.network.SeedNet.geometry`; treat as opaque. ``mode`` is
    ``"dense"`` (precomputed operators over all ordered pairs) or ``"edges"`` (explicit edge list).
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
    layers: list[DenseLayer] = field(default_factory=list)
    y_first: torch.Tensor | None = None  # dense mode: first layer's M @ x for the bound input
    x_bound: torch.Tensor | None = None

    @property
    def n_edges(self) -> int:
        """Number of directed edges (self-pairs included)."""
        return int(self.src.shape[0])


def choose_graph(graph: str, n: int, dense_size: Callable[[int], int]) -> str:
    """The graph to use for ``n`` points: ``graph`` itself, or for ``"auto"`` dense, pairs or radius.

    Parameters
    ----------
    graph : one of :data:`GRAPHS`.
    n : number of points.
    dense_size : numbers the dense mode would store for n points (compared with :data:`DENSE_BUDGET`).
    """
    if graph not in GRAPHS:
        raise ValueError(f"unknown graph {graph!r}: use auto, dense, pairs or radius")
    if graph != "auto":
        return graph
    if n > ALL_PAIRS_MAX_POINTS:
        return "radius"
    return "dense" if dense_size(n) <= DENSE_BUDGET else "pairs"


def edge_list(pos: torch.Tensor, graph: str, cutoff: float, cell=None, pbc=None):
    """``(dst, src, vec, norm)``: directed edges of ``graph`` on positions ``pos`` (N, 3), float64, Å.

    vec = pos[dst] - pos[src] (the reference's rel[i, j] = pos[i] - pos[j] for the message j -> i);
    ``norm`` is what features are divided by the square root of: N for all pairs, the mean
    neighbour count (self included) for a radius graph.
    """
    n = pos.shape[0]
    if graph == "radius":
        dst, src, vec = radius_graph(pos.numpy(), cutoff, cell, pbc)
        return dst, src, vec, len(dst) / n  # equals N when the graph holds all pairs
    dst, src = (t.reshape(-1) for t in torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij"))
    return dst, src, pos[dst] - pos[src], float(n)


def radius_graph(pos: np.ndarray, cutoff: float, cell=None, pbc=None):
    """Directed edges (dst, src, vec) with |vec| < cutoff (Å), self-pairs included.

    vec = pos[dst] - pos[src] (minus the lattice shift of a periodic image of src). Built in O(N)
    with a k-d tree (periodic images through ASE's neighbour list when ``cell``/``pbc`` are given).
    """
    n = len(pos)
    if cell is not None and pbc is not None and np.any(pbc):
        from ase.neighborlist import primitive_neighbor_list

        i, j, shift = primitive_neighbor_list(
            "ijS", np.asarray(pbc, bool), np.asarray(cell, float), pos, cutoff, self_interaction=False
        )
        # ASE: vector from i to the image of j is pos[j] - pos[i] + S·cell; the message j -> i sees the opposite.
        vec = pos[i] - (pos[j] + shift @ np.asarray(cell, float))
        dst = np.concatenate([np.arange(n), i])
        src = np.concatenate([np.arange(n), j])
        vec = np.concatenate([np.zeros((n, 3)), vec])
        return torch.as_tensor(dst), torch.as_tensor(src), torch.as_tensor(vec)
    from scipy.spatial import cKDTree

    pairs = cKDTree(pos).query_pairs(cutoff, output_type="ndarray")
    # query_pairs uses r <= cutoff; the basis vanishes at the cutoff anyway, keep strict < for clarity.
    d = np.linalg.norm(pos[pairs[:, 0]] - pos[pairs[:, 1]], axis=1)
    pairs = pairs[d < cutoff]
    dst = np.concatenate([np.arange(n), pairs[:, 0], pairs[:, 1]])
    src = np.concatenate([np.arange(n), pairs[:, 1], pairs[:, 0]])
    dst_t, src_t = torch.as_tensor(dst), torch.as_tensor(src)
    p = torch.as_tensor(pos)
    return dst_t, src_t, p[dst_t] - p[src_t]


def unique_first(key: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Distinct values of ``key``: (values, index of each value's first occurrence, inverse map)."""
    values, inv = torch.unique(key, return_inverse=True)
    first = torch.full((len(values),), len(key), dtype=torch.long)
    first = first.scatter_reduce(0, inv, torch.arange(len(key)), reduce="amin")
    return values, first, inv
