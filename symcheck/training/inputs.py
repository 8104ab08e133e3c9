"""What the network reads: species, the structure's own features, a symmetry-breaking feature.

:func:`network_input` assembles the per-point input of a task (and the floor that applies to
it: with a breaking feature, the analysis of the task with that feature added);
:func:`tutorial_layout` places the inputs in the slots of the hidden irreps, as the tutorial
feeds its network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import o3
from ..errors import SymcheckError
from ..groups import DEFAULT_TOL

#: Size of a symmetry-breaking feature fed to the network (the tutorial's 0.1).
BREAKING_SCALE = 0.1


@dataclass(frozen=True)
class NetworkInput:
    """The per-point input of a run and the prediction it is held to.

    Parameters
    ----------
    features : (N, d) input columns.
    irreps : their irreps (:class:`symcheck.o3.Irreps`, e3nn's notation).
    floor : the exact loss floor with this input (loss units).
    learnable : an equivariant model can reach the target exactly with this input.
    breaking : description of the breaking feature, or None.
    """

    features: np.ndarray
    irreps: o3.Irreps
    floor: float
    learnable: bool
    breaking: str | None


def network_input(task, analysis, suggestion) -> NetworkInput:
    """Species, the structure's own features, the breaking feature ``suggestion`` (or None) and, for a
    rotation-only analysis (``so3``), a constant pseudoscalar: it removes every improper operation."""
    structure = task.structure
    n = len(structure)
    species = species_block(structure.species)
    blocks, block_irreps = [species], [f"{species.shape[1]}x0e"]
    if structure.features is not None:
        blocks.append(np.asarray(structure.features, dtype=float))
        block_irreps.append(structure.feature_irreps)
    floor, learnable, text = float(analysis.loss_floor), bool(analysis.learnable), None
    if suggestion is not None:
        field = breaking_field(suggestion, n)
        blocks.append(field)
        block_irreps.append(str(suggestion.irreps))
        text = getattr(suggestion, "description", None) or f"{suggestion.scope} {suggestion.irreps}"
        after = analysis_with_feature(task, analysis, field, str(suggestion.irreps))
        floor, learnable = float(after.loss_floor), bool(after.learnable)
    if getattr(analysis, "so3", False):
        blocks.append(np.full((n, 1), BREAKING_SCALE))
        block_irreps.append("0o")
    return NetworkInput(np.concatenate(blocks, axis=1), o3.Irreps("+".join(block_irreps)), floor, learnable, text)


def analysis_with_feature(task, analysis, field: np.ndarray, irreps: str):
    """The analysis of the task with a breaking feature added to the input, with the same settings.

    The floor the network is held to must come from the same tolerance, model group (so3) and
    target tolerance as the prediction shown: re-analysing at the defaults gave a wrong floor
    (and a "bug: loss below the floor") for near-symmetric inputs analysed at a small tol.
    """
    from ..predict import analyze

    structure = task.structure
    feats = field if structure.features is None else np.concatenate([structure.features, field], axis=1)
    irreps_all = "+".join(i for i in (structure.feature_irreps, irreps) if i)
    broken = type(task)(structure.with_features(feats, irreps_all), task.target, task.irreps, task.per_point)
    kwargs = {"tol": getattr(analysis, "tol", DEFAULT_TOL), "so3": getattr(analysis, "so3", False), "near_tol": 0.0}
    rtol = getattr(analysis, "target_rtol", None)
    if rtol is not None:
        kwargs["target_rtol"] = rtol
    return analyze(broken, feature_lmax=0, **kwargs)


def resolve_breaking(breaking, analysis):
    """None, "auto" or a suggestion -> a suggestion object or None."""
    if breaking is None:
        return None
    if isinstance(breaking, str):
        if breaking != "auto":
            raise SymcheckError(f"breaking must be None, 'auto' or a suggestion, got {breaking!r}")
        if analysis.learnable:
            return None  # nothing to break: the task is learnable as it is
        if not analysis.suggestions:
            raise SymcheckError("no symmetry-breaking feature was found for this task")
        return analysis.suggestions[0]
    for attr in ("irreps", "scope", "vector"):
        if not hasattr(breaking, attr):
            raise SymcheckError(f"breaking feature has no {attr!r} (expected a symcheck Suggestion)")
    return breaking


def species_block(species) -> np.ndarray:
    """One-hot species as 0e scalars; a single constant channel of 1.0 for one species (as the tutorial)."""
    kinds = sorted(set(species))
    if len(kinds) == 1:
        return np.ones((len(species), 1))
    return np.array([[1.0 if s == k else 0.0 for k in kinds] for s in species])


def breaking_field(suggestion, n: int) -> np.ndarray:
    """(N, d) input columns of a breaking feature, scaled like the tutorial (size :data:`BREAKING_SCALE`)."""
    v = np.asarray(suggestion.vector, dtype=float)
    if suggestion.scope == "global":
        if v.ndim != 1:
            raise SymcheckError(f"a global breaking feature must be one vector, got shape {v.shape}")
        norm = np.linalg.norm(v)
        return np.tile(BREAKING_SCALE * v / (norm if norm > 0 else 1.0), (n, 1))
    if v.ndim != 2 or v.shape[0] != n:
        raise SymcheckError(f"a per-point breaking field must have shape (N={n}, d), got {v.shape}")
    largest = np.linalg.norm(v, axis=1).max()
    return BREAKING_SCALE * v / (largest if largest > 0 else 1.0)


def tutorial_layout(inputs: o3.Irreps, hidden: o3.Irreps) -> tuple[o3.Irreps, np.ndarray]:
    """Place input irreps in the slots of the hidden irreps, as the tutorial feeds its network.

    The tutorial's input is a spherical tensor with the hidden irreps (0e+1o+…+5o), zero except
    where there is an input (the constant scalar, the x²−y² feature in the 2e slot). The zero
    slots matter: e3nn's path normalisation counts them, which keeps the first layer's output
    small at initialisation (a compact ``0e+2e`` input trains much worse). Inputs of a type with
    more copies than the hidden irreps have, or of a type missing there, get extra copies.

    Returns ``(layout, columns)``: the layout irreps and, for every input column, its column in
    the layout.
    """
    inputs, hidden = o3.Irreps(inputs), o3.Irreps(hidden)
    need: dict = {}
    for mul, ir in inputs:
        need[ir] = need.get(ir, 0) + mul
    order = [ir for _, ir in hidden] + [ir for _, ir in inputs]
    seen, entries = set(), []
    for ir in order:
        if ir in seen:
            continue
        seen.add(ir)
        have = sum(mul for mul, h in hidden if h == ir)
        entries.append((max(have, need.get(ir, 0)), ir))
    layout = o3.Irreps(entries)
    # first layout column of every irrep type, then hand out copies in input order
    start, col = {}, 0
    for mul, ir in layout:
        start[ir] = col
        col += mul * ir.dim
    used = dict.fromkeys(start, 0)
    columns = []
    for mul, ir in inputs:
        for _ in range(mul):
            base = start[ir] + used[ir] * ir.dim
            columns.extend(range(base, base + ir.dim))
            used[ir] += 1
    return layout, np.array(columns, dtype=int)
