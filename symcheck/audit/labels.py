"""Labels of a training frame: which arrays and results are targets, and their e3nn irreps.

A label is a per-atom field (N, d) or a global quantity (d,), in e3nn's basis for its irreps.
Labels are never inputs: the frame's group is detected from positions and species alone.

Symmetric rank-2 tensors (stress, virial, polarizability) are stored by ASE as 3×3 matrices or
in Voigt order (xx, yy, zz, yz, xz, xy); they become 0e+2e in e3nn's orthonormal basis (the one
of ``e3nn.io.CartesianTensor("ij=ji")``, checked in tests), so ‖x‖ = ‖T‖_F and floors keep the
tensor's units². The antisymmetric part, which a symmetric tensor must not have, is kept apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import SymcheckError
from ..o3 import Irreps

# Rows: e3nn's 0e+2e components (2e with y as the polar axis); columns: the 3×3 tensor flattened
# row by row. Orthonormal rows, so the map is norm preserving on symmetric tensors.
_S2, _S3, _S6 = np.sqrt(2.0), np.sqrt(3.0), np.sqrt(6.0)
SYMMETRIC_TO_0E2E = np.array([
    [1 / _S3, 0, 0, 0, 1 / _S3, 0, 0, 0, 1 / _S3],
    [0, 0, 1 / _S2, 0, 0, 0, 1 / _S2, 0, 0],
    [0, 1 / _S2, 0, 1 / _S2, 0, 0, 0, 0, 0],
    [-1 / _S6, 0, 0, 0, 2 / _S6, 0, 0, 0, -1 / _S6],
    [0, 0, 0, 0, 0, 1 / _S2, 0, 1 / _S2, 0],
    [-1 / _S2, 0, 0, 0, 0, 0, 0, 0, 1 / _S2],
])

# Voigt order used by ASE: xx, yy, zz, yz, xz, xy.
_VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))

# Per-atom arrays that are labels by default (name -> irreps by number of columns).
PER_ATOM_LABELS = {
    "forces": {3: "1o"},
    "dipoles": {3: "1o"},
    "magmoms": {3: "1e", 1: "0e"},
    "magnetic_moments": {3: "1e", 1: "0e"},
    "charges": {1: "0e"},
    "energies": {1: "0e"},
}
# Global results that are labels by default.
GLOBAL_LABELS = {
    "energy": "0e",
    "free_energy": "0e",
    "stress": "0e+2e",
    "virial": "0e+2e",
    "dipole": "1o",
    "polarizability": "0e+2e",
    "magmom": "0e",
}


@dataclass(frozen=True)
class LabelSpec:
    """One label to scan: its name, e3nn irreps, and where it lives.

    name : the array or info/results key.
    irreps : e3nn irreps string of one entry (per atom, or of the global quantity).
    per_point : True for per-atom arrays (N, d), False for global quantities (d,).
    """

    name: str
    irreps: str
    per_point: bool


@dataclass(frozen=True)
class LabelValue:
    """A label's value in one frame.

    y : (N, d) or (d,) array in e3nn's basis for ``spec.irreps``, in the label's units.
    antisymmetric : squared Frobenius norm of the antisymmetric part of a rank-2 label (units²),
        0.0 for every other label.
    """

    spec: LabelSpec
    y: np.ndarray
    antisymmetric: float = 0.0


def tensor_to_0e2e(value) -> tuple[np.ndarray, float]:
    """A rank-2 tensor (3×3, 9 values row by row, or Voigt 6) as e3nn 0e+2e, and ‖antisymmetric part‖²."""
    v = np.asarray(value, dtype=float).reshape(-1)
    if v.size == 6:
        T = np.zeros((3, 3))
        for k, (a, b) in enumerate(_VOIGT):
            T[a, b] = T[b, a] = v[k]
    elif v.size == 9:
        T = v.reshape(3, 3)
    else:
        raise ValueError(f"a rank-2 tensor needs 6 (Voigt) or 9 values, got {v.size}")
    S = (T + T.T) / 2
    A = (T - T.T) / 2
    return SYMMETRIC_TO_0E2E @ S.reshape(-1), float(np.sum(A * A))


def parse_label_option(items) -> tuple[tuple[str, str | None], ...] | None:
    """``["forces", "stress", "charges_x:1o"]`` -> ((name, irreps or None), ...); None stays None."""
    if items is None:
        return None
    if isinstance(items, str):
        items = [items]
    out = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            name, _, irreps = part.partition(":")
            name, irreps = name.strip(), irreps.strip() or None
            if not name:
                raise SymcheckError(f"label {part!r}: no name (write NAME or NAME:IRREPS)")
            if irreps is not None:
                try:
                    Irreps(irreps)
                except SymcheckError as exc:
                    raise SymcheckError(f"label {part!r}: {exc}") from None
            out.append((name, irreps))
    return tuple(out)


def _sources(atoms) -> tuple[dict, dict]:
    """(per-atom arrays, global values) of an ase.Atoms, calculator results included."""
    n = len(atoms)
    per_atom = {k: v for k, v in atoms.arrays.items() if k not in ("positions", "numbers")}
    glob = {}
    for k, v in atoms.info.items():
        glob[k] = v
    calc = atoms.calc
    results = getattr(calc, "results", {}) if calc is not None else {}
    for k, v in results.items():
        if np.ndim(v) >= 1 and np.shape(v)[0] == n and k not in ("stress", "virial", "dipole", "polarizability"):
            per_atom.setdefault(k, v)
        else:
            glob.setdefault(k, v)
    return per_atom, glob


def _numeric(v) -> np.ndarray | None:
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr


def frame_labels(atoms, wanted, where: str) -> list[LabelValue]:
    """The labels of one frame (ase.Atoms) in e3nn's basis.

    wanted : None for every label found by name (see ``PER_ATOM_LABELS`` and ``GLOBAL_LABELS``;
        also any info key that contains "energy" and holds one number), or ``((name, irreps or None), …)``
        from ``parse_label_option``: a name without irreps must be one found by default; a listed
        label missing from a frame is skipped there (datasets mix molecules without stress and cells with it).
    where : "file: frame k" for messages.
    """
    per_atom, glob = _sources(atoms)
    n = len(atoms)
    out: list[LabelValue] = []
    if wanted is None:
        for name in sorted(per_atom):
            table = PER_ATOM_LABELS.get(name)
            arr = _numeric(per_atom[name])
            if table is None or arr is None:
                continue
            cols = 1 if arr.ndim == 1 else int(np.prod(arr.shape[1:]))
            if cols in table:
                out.append(_value(LabelSpec(name, table[cols], True), arr, n, where))
        for name in sorted(glob):
            irreps = GLOBAL_LABELS.get(name)
            arr = _numeric(glob[name])
            if arr is None:
                continue
            if irreps is None and "energy" in name.lower() and arr.size == 1:
                irreps = "0e"
            if irreps is not None:
                out.append(_value(LabelSpec(name, irreps, False), arr, n, where))
        return out
    for name, irreps in wanted:
        if name in per_atom:
            arr = _numeric(per_atom[name])
            per_point = True
        elif name in glob:
            arr = _numeric(glob[name])
            per_point = False
        else:
            continue
        if arr is None:
            raise SymcheckError(f"{where}: label {name!r} is not numeric")
        if irreps is None:
            if per_point:
                cols = 1 if arr.ndim == 1 else int(np.prod(arr.shape[1:]))
                irreps = PER_ATOM_LABELS.get(name, {}).get(cols)
            else:
                irreps = GLOBAL_LABELS.get(name) or ("0e" if "energy" in name.lower() and arr.size == 1 else None)
            if irreps is None:
                raise SymcheckError(f"{where}: label {name!r} has no known irreps; give them as {name}:IRREPS")
        out.append(_value(LabelSpec(name, irreps, per_point), arr, n, where))
    return out


@lru_cache(maxsize=256)
def irreps_facts(irreps: str) -> tuple[int, bool, bool]:
    """(dimension, whether it is 0e+2e, whether it is scalars 0e only) of an irreps string, parsed once."""
    parsed = Irreps(irreps)
    return parsed.dim, parsed == "0e+2e", all(ir == (0, 1) for _, ir in parsed)


def _value(spec: LabelSpec, arr: np.ndarray, n: int, where: str) -> LabelValue:
    d, rank2, _ = irreps_facts(spec.irreps)
    if not np.all(np.isfinite(arr)):
        raise SymcheckError(f"{where}: label {spec.name!r} contains NaN or inf")
    if spec.per_point:
        rows = arr.reshape(n, -1)
        if rank2 and rows.shape[1] in (6, 9):
            converted = [tensor_to_0e2e(r) for r in rows]
            return LabelValue(spec, np.array([c[0] for c in converted]), float(sum(c[1] for c in converted)))
        if rows.shape[1] != d:
            raise SymcheckError(f"{where}: label {spec.name!r} has {rows.shape[1]} columns, "
                                f"irreps {spec.irreps} need {d}")
        return LabelValue(spec, rows.copy())
    flat = arr.reshape(-1)
    if rank2 and flat.size in (6, 9):
        y, anti = tensor_to_0e2e(flat)
        return LabelValue(spec, y, anti)
    if flat.size != d:
        raise SymcheckError(f"{where}: label {spec.name!r} has {flat.size} values, irreps {spec.irreps} need {d}")
    return LabelValue(spec, flat.copy())
