"""The subgroup lattice drawn: the Hasse diagram of a group's subgroup classes as a PNG (matplotlib, no display).

The lattice itself (subgroups, conjugacy classes, the diagram as a graph) is
:func:`symcheck.groups.lattice.subgroup_lattice`; this module only lays it out and draws it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only the type: the drawing reads the lattice's classes, graph and group
    from ..groups.lattice import SubgroupLattice


def _layout(lattice: SubgroupLattice):
    """Layered drawing of the Hasse diagram (a small Sugiyama layout).

    One row per order (largest on top). An edge that spans several rows gets a bend point in each
    row it crosses, which takes up room there, so no edge runs through a node's box. Rows are
    ordered by barycentre sweeps (fewer crossings), then every point moves toward the mean
    x of its neighbours while keeping room for the labels.

    :returns: (x, y) of each class id, the bend points of each edge (a, b), the width of the
        drawing (in characters).
    """
    rows, width, up, down, chains = _rows_with_bends(lattice)
    x = _place(rows, width, up, down)
    lo = min(x[v] - width[v] / 2 for row in rows for v in row)
    hi = max(x[v] + width[v] / 2 for row in rows for v in row)
    center = (lo + hi) / 2
    y = {v: float(len(rows) - 1 - r) for r, row in enumerate(rows) for v in row}
    pos = {c.id: (x[c.id] - center, y[c.id]) for c in lattice.classes}
    bends = {e: [(x[d] - center, y[d]) for d in chain] for e, chain in chains.items()}
    return pos, bends, hi - lo


def _rows_with_bends(lattice: SubgroupLattice):
    """Rows of class ids by order, with a bend point on every row an edge crosses.

    :returns: rows (lists of nodes: class ids and bend points), width of each node (characters),
        its neighbours above and below, and the bend points of each edge (a, b).
    """
    orders = sorted({c.order for c in lattice.classes}, reverse=True)
    row_of = {c.id: orders.index(c.order) for c in lattice.classes}
    rows: list[list] = [[c.id for c in lattice.classes if c.order == o] for o in orders]
    width: dict = {c.id: len(c.label) + 4.0 for c in lattice.classes}  # label plus padding, in characters
    up: dict = {v: [] for row in rows for v in row}
    down: dict = {v: [] for row in rows for v in row}
    chains: dict[tuple[int, int], list] = {}
    for a, b in lattice.graph.edges:
        chain = [a]
        for r in range(row_of[a] + 1, row_of[b]):
            d = ("bend", a, b, r)
            rows[r].append(d)
            width[d] = 3.0
            up[d], down[d] = [], []
            chain.append(d)
        chain.append(b)
        for u, v in zip(chain[:-1], chain[1:]):
            down[u].append(v)
            up[v].append(u)
        chains[(a, b)] = chain[1:-1]
    return rows, width, up, down, chains


def _place(rows: list[list], width: dict, up: dict, down: dict) -> dict:
    """x of every node: the rows ordered by barycentre sweeps, then each point pulled toward its
    neighbours' mean x, never closer to the next point than their labels allow."""
    x: dict = {}

    def pack(row, want):
        """Put the row's points in order at the wanted x, pushed apart just enough for their labels."""
        xs = [want[v] for v in row]
        for i in range(1, len(row)):
            xs[i] = max(xs[i], xs[i - 1] + (width[row[i - 1]] + width[row[i]]) / 2)
        shift = np.mean([want[v] for v in row]) - np.mean(xs)  # keep the row where it wants to be
        for v, xv in zip(row, xs):
            x[v] = xv + shift

    for row in rows:
        pack(row, {v: 0.0 for v in row})
    for _ in range(8):  # ordering: barycentre sweeps down, then up
        for r in range(1, len(rows)):
            rows[r].sort(key=lambda v: np.mean([x[u] for u in up[v]]) if up[v] else x[v])
            pack(rows[r], {v: 0.0 for v in rows[r]})
        for r in range(len(rows) - 2, -1, -1):
            rows[r].sort(key=lambda v: np.mean([x[u] for u in down[v]]) if down[v] else x[v])
            pack(rows[r], {v: 0.0 for v in rows[r]})
    for _ in range(20):  # positions: toward the neighbours' mean, order kept
        for r in list(range(len(rows))) + list(range(len(rows) - 2, 0, -1)):
            want = {v: np.mean([x[u] for u in up[v] + down[v]]) if up[v] + down[v] else x[v] for v in rows[r]}
            pack(rows[r], want)
    return x


def draw_lattice(
    lattice: SubgroupLattice,
    path: str | Path,
    highlight: Iterable[int] | None = None,
    title: str | None = None,
) -> Path:
    """Draw the Hasse diagram of the subgroup classes to a PNG file (matplotlib, no display needed).

    Rows are the subgroup orders (largest on top); each node is labelled with the class's name
    and, when it has several conjugates, their number (``"C2 ×2"``).

    :param lattice: from :func:`symcheck.groups.lattice.subgroup_lattice`.
    :param path: the PNG file to write.
    :param highlight: class ids to mark (e.g. ``lattice.path(H)``: G, H and the classes between).
        When given as an ordered sequence, the edges between consecutive ids are marked too, and
        the first and last node get a heavier outline.
    :param title: figure title; default "subgroups of G".
    :returns: the path written.
    """
    from matplotlib.figure import Figure  # Figure without pyplot: no GUI backend, no global state

    path = Path(path)
    hl = list(highlight) if highlight is not None else []
    hl_set = set(hl)
    hl_edges = {(a, b) for a, b in zip(hl[:-1], hl[1:])}
    pos, bends, widest = _layout(lattice)
    n_rows = len({c.order for c in lattice.classes})
    char = 0.075  # inches per character at fontsize 9

    fig = Figure(figsize=(max(5.0, widest * char + 1.6), max(3.0, 0.95 * n_rows + 1.0)), dpi=150)
    ax = fig.add_subplot(1, 1, 1)
    accent, base_edge, base_node = "#d95f02", "#9aa5b1", "#e8eef6"
    for a, b in lattice.graph.edges:
        pts = [pos[a], *bends[(a, b)], pos[b]]
        on = (a, b) in hl_edges
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color=accent if on else base_edge,
                lw=2.6 if on else 0.8, zorder=2 if on else 1, solid_capstyle="round", solid_joinstyle="round")
    ends = {hl[0], hl[-1]} if hl else set()
    for c in lattice.classes:
        xx, yy = pos[c.id]
        on = c.id in hl_set
        ax.text(xx, yy, c.label, ha="center", va="center", fontsize=9, zorder=3,
                fontweight="bold" if c.id in ends else "normal",
                bbox=dict(boxstyle="round,pad=0.3", fc="#fdd9b5" if on else base_node,
                          ec=accent if on else "#52606d", lw=2.0 if c.id in ends else (1.2 if on else 0.6)))
    orders = sorted({c.order for c in lattice.classes}, reverse=True)
    left = -widest / 2 - 1.0
    for r, o in enumerate(orders):
        ax.text(left, n_rows - 1 - r, f"{o}", ha="right", va="center", fontsize=8, color="#7b8794")
    ax.text(left, n_rows - 0.35, "order", ha="right", va="center", fontsize=8, color="#7b8794")
    ax.set_xlim(left - 5.0, widest / 2 + 1.0)
    ax.set_ylim(-0.6, n_rows - 0.2)
    ax.axis("off")
    n_sub = len(lattice.subgroups)
    ax.set_title(title or f"subgroups of {lattice.group.name}: {n_sub} in {len(lattice.classes)} conjugacy classes",
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


__all__ = ["draw_lattice"]
