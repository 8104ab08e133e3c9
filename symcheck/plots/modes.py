"""The symmetry modes of a crystal distortion: amplitude per irrep, primary order parameters marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .figure import new_figure, save


def modes_figure(decomposition: Any, path: str | Path) -> Path:
    """Bar chart of a mode decomposition's amplitudes (Å) per irrep: primaries dark and labelled, secondaries light.

    :param decomposition: what :func:`symcheck.modes` returns: its ``modes`` (each with ``irrep``,
        ``amplitude`` in Å and ``primary``) and the two space groups' names.
    :param path: output PNG path.
    :return: the path written.
    """
    modes = decomposition.modes
    fig = new_figure(max(4.0, 0.6 * len(modes) + 2), 3.6)
    ax = fig.add_subplot()
    names = [m.irrep for m in modes]
    colors = ["#1f4e79" if m.primary else "#9dc3e6" for m in modes]
    bars = ax.bar(range(len(names)), [m.amplitude for m in modes], color=colors)
    for bar, m in zip(bars, modes):
        if m.primary:
            ax.annotate("primary", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                        va="bottom", fontsize=8)
    ax.set_xticks(range(len(names)), names, rotation=0 if len(names) < 8 else 45)
    ax.set_ylabel("amplitude (Å)")
    ax.set_title(f"{decomposition.parent_space_group} → {decomposition.child_space_group}: symmetry modes",
                 fontsize=10)
    ax.margins(y=0.15)
    fig.tight_layout()
    return save(fig, path)
