"""One chunk of frames -> one table: each frame's group G and, for each label, its floor and group H.

Runs in worker processes (a local pool or Dask workers): it reads its chunk itself and returns a
pyarrow Table with one row per (frame, label) — a frame without labels gets one row with a null
label — so that the driver only writes and aggregates.

The input of a frame is its positions and species (and cell for crystals): labels are targets,
never features. Floors use the public projector ``symcheck.fixed.project`` and groups the public
``symmetry_group`` and ``stabilizer``.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..errors import SymcheckError
from .labels import LabelValue, frame_labels, irreps_facts
from .sources import Chunk, read_chunk


@dataclass(frozen=True)
class Settings:
    """What every worker needs besides its chunk.

    tol : distance tolerance in Å for the groups (and duplicates).
    label_rtol : a label breaks G when ‖y − P_G y‖ > label_rtol · ‖y‖ (dimensionless).
    labels : ((name, irreps or None), …) or None for the labels found by name.
    """

    tol: float
    label_rtol: float
    labels: tuple | None


COLUMNS = (
    ("index", "int64"), ("source", "string"), ("frame", "int64"), ("atoms", "int64"), ("formula", "string"),
    ("periodic", "bool"), ("group", "string"), ("order", "int64"),
    ("label", "string"), ("irreps", "string"), ("per_point", "bool"), ("entries", "int64"),
    ("residual", "float64"), ("floor", "float64"), ("total", "float64"), ("sumsq", "float64"),
    ("flagged", "bool"), ("label_group", "string"), ("antisymmetric", "float64"),
    ("fingerprint", "list<float32>"), ("error", "string"),  # see fingerprint()
)


def schema():
    import pyarrow as pa

    types = {"int64": pa.int64(), "string": pa.string(), "bool": pa.bool_(), "float64": pa.float64(),
             "list<float32>": pa.list_(pa.float32())}
    return pa.schema([(name, types[t]) for name, t in COLUMNS])


def formula(species) -> str:
    """Hill-like formula with elements sorted alphabetically, e.g. 'C2H6O' -> 'C2H6O'."""
    counts = Counter(species)
    return "".join(f"{el}{counts[el] if counts[el] > 1 else ''}" for el in sorted(counts))


def centered_radii(positions: np.ndarray) -> np.ndarray:
    """Sorted distances of the atoms from their centroid (Å): invariant under rotation, translation, permutation."""
    return np.sort(np.linalg.norm(positions - positions.mean(axis=0), axis=1))


def fingerprint(positions: np.ndarray) -> np.ndarray:
    """Invariants of a finite structure for the duplicate search (Å), each within 2·tol between two
    structures equal within tol (after rotation, translation, permutation): the sorted distances from the
    centroid, then for up to ``PAIRWISE_ATOMS`` atoms all sorted interatomic distances (which fix the
    shape almost completely), for larger ones each atom's two nearest-neighbour distances, sorted.
    The radii alone let millions of MD frames of one small molecule through as candidates."""
    radii = centered_radii(positions)
    n = len(positions)
    if n < 2:
        return radii
    if n <= PAIRWISE_ATOMS:
        i, j = np.triu_indices(n, 1)
        return np.concatenate([radii, np.sort(np.linalg.norm(positions[i] - positions[j], axis=1))])
    from scipy.spatial import cKDTree

    d, _ = cKDTree(positions).query(positions, k=3)
    return np.concatenate([radii, np.sort(d[:, 1]), np.sort(d[:, 2])])


PAIRWISE_ATOMS = 16  # 120 distances: beyond that the fingerprint grows as N²


def fingerprints(X: np.ndarray) -> np.ndarray:
    """:func:`fingerprint` of F structures of N ≤ ``PAIRWISE_ATOMS`` atoms at once: X (F, N, 3) Å -> (F, length)."""
    F, N, _ = X.shape
    radii = np.sort(np.linalg.norm(X - X.mean(axis=1, keepdims=True), axis=-1), axis=1)
    if N < 2:
        return radii
    i, j = np.triu_indices(N, 1)
    return np.concatenate([radii, np.sort(np.linalg.norm(X[:, i] - X[:, j], axis=-1), axis=1)], axis=1)


def obviously_trivial(structure, tol: float) -> bool:
    """True when a finite structure can only have the trivial group C1, decided without a group search.

    Every operation (R, σ) of the group fixes the centroid and puts R·yᵢ within tol of y_σ(i), so it maps
    each atom to one of the same species whose distance from the centroid differs by at most tol.
    When no two atoms of a species have distances within tol (``SLACK`` added for rounding), σ is the
    identity and every operation moves no atom by more than tol: it is the identity (the group
    search identifies elements by their determinant and permutation), unless all atoms lie within
    tol/2 of a plane (a mirror) or of a line — thin structures go to the full search. Where radii
    coincide, the atoms' interatomic distances decide in the same way (``_swappable``). MD frames of
    molecules are nearly all C1.
    """
    pos = structure.positions
    if len(pos) < 4:
        return False
    centered = pos - pos.mean(axis=0)
    # thickness of the structure along its thinnest direction (RMS distance from the best plane)
    w = np.linalg.eigvalsh(centered.T @ centered / len(pos))
    if not np.sqrt(max(w[0], 0.0)) > 2 * tol:
        return False
    r = np.linalg.norm(centered, axis=1)
    species = np.asarray(structure.species)
    if all(np.min(np.diff(np.sort(r[species == s])), initial=np.inf) > tol + SLACK for s in np.unique(species)):
        return True
    return len(pos) <= PROFILE_ATOMS and not _swappable(pos, species, tol)


PROFILE_ATOMS = 400  # the distance profiles take N² memory and time
SLACK = 1e-9  # Å added to the exact bounds of the trivial precheck, for rounding


def obviously_trivial_batch(X: np.ndarray, species: np.ndarray, tol: float) -> np.ndarray:
    """:func:`obviously_trivial` for F finite structures of N atoms at once (the same tests, vectorized).

    X : (F, N, 3) positions, Å; species : (F, N) integer codes, ordered as the sorted species names
    (as ``np.unique`` orders them); tol in Å. Returns (F,) bools.
    """
    F, N, _ = X.shape
    if N < 4:
        return np.zeros(F, dtype=bool)
    centered = X - X.mean(axis=1, keepdims=True)
    w = np.linalg.eigvalsh(centered.transpose(0, 2, 1) @ centered / N)
    thick = np.sqrt(np.maximum(w[:, 0], 0.0)) > 2 * tol
    r = np.linalg.norm(centered, axis=-1)
    order = np.lexsort((r, species), axis=-1)
    rs, ss = np.take_along_axis(r, order, 1), np.take_along_axis(species, order, 1)
    gaps = np.where(ss[:, 1:] == ss[:, :-1], np.diff(rs, axis=1), np.inf)
    out = thick & np.all(gaps > tol + SLACK, axis=1)
    rest = np.flatnonzero(thick & ~out)
    if len(rest) == 0 or N > PROFILE_ATOMS:
        return out
    step = max(1, 4_000_000 // N**3)
    for start in range(0, len(rest), step):
        idx = rest[start:start + step]
        pos, sp = X[idx], species[idx]
        d = np.linalg.norm(pos[:, :, None, :] - pos[:, None, :, :], axis=-1)  # (f, N, N)
        # each atom's distances sorted within each species, species in order: _swappable's profile
        cols = np.lexsort((d, np.broadcast_to(sp[:, None, :], d.shape)), axis=-1)
        profile = np.take_along_axis(d, cols, -1)
        gap = np.max(np.abs(profile[:, :, None, :] - profile[:, None, :, :]), axis=-1)  # (f, N, N)
        pairs = (sp[:, :, None] == sp[:, None, :]) & ~np.eye(N, dtype=bool)
        swappable = np.any(pairs & (gap <= 2 * tol + SLACK), axis=(1, 2))
        out[idx] = ~swappable
    return out


def _swappable(pos: np.ndarray, species: np.ndarray, tol: float) -> bool:
    """Whether some operation could map an atom to another one (of its species), judged by distances.

    An operation (R, σ) puts every R·x_i within tol of x_σ(i), so the distances from σ(i) to the
    other atoms are those from i within 2·tol: sorted per species, the two profiles agree within
    2·tol (sorting keeps that bound). When every atom's profile differs from those of the others of
    its species by more than that, σ is the identity for every operation. Rattled MD frames, where
    many atoms share a radius from the centroid within tol, are told apart this way.
    """
    d = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
    blocks = [np.sort(d[:, species == s], axis=1) for s in np.unique(species)]
    profile = np.concatenate(blocks, axis=1)
    for s in np.unique(species):
        p = profile[species == s]
        if len(p) < 2:
            continue
        gap = np.max(np.abs(p[:, None, :] - p[None, :, :]), axis=-1)
        np.fill_diagonal(gap, np.inf)
        if np.min(gap) <= 2 * tol + SLACK:
            return True
    return False


class GroupSearchError(Exception):
    """The group search refused a frame that was read and validated (recorded as group "error", not fatal)."""


@dataclass(frozen=True)
class _Trivial:
    """The trivial group's name and order, for frames found C1 by ``obviously_trivial``."""

    name: str = "C1"
    order: int = 1


def frame_structure(atoms, where: str):
    """The input of a frame (ase.Atoms or a plain extxyz frame): positions + species (+ cell) as a Structure.

    ``features={}`` keeps every array out of it: labels are targets, never features."""
    from ..io import from_ase

    return from_ase(atoms, source=where, features={})


def frame_rows(atoms, where: str, index: int, source: str, frame: int, settings: Settings,
               structure=None, group=None, print_=None) -> list[dict]:
    """The rows of one frame (ase.Atoms): its group, and per label floor, group H and flag.

    structure : the frame's Structure when already made (``frame_structure``); group : its point group
    when already found (by ``symcheck.groups.batched``), else it is searched here; print_ : its
    fingerprint (a float32 list) when already computed.
    """
    from ..groups import symmetry_group

    structure = frame_structure(atoms, where) if structure is None else structure
    tol = settings.tol
    trivial = False
    if group is not None:
        G = group
    else:
        trivial = not structure.periodic and obviously_trivial(structure, tol)
        try:
            G = _Trivial() if trivial else symmetry_group(structure, tol)
        except SymcheckError as exc:
            # the frame was read and is a valid structure: a search that gives up on it (a nearly linear
            # molecule it cannot settle at this tol, say) is recorded for the frame, not fatal for the scan
            raise GroupSearchError(str(exc).removeprefix(f"{where}: ")) from None
    base = {
        "index": index, "source": source, "frame": frame, "atoms": len(structure),
        "formula": formula(structure.species), "periodic": bool(structure.periodic),
        "group": G.name, "order": G.order,
        # duplicates are searched among finite structures by this fingerprint (float32: the search allows 1e-5 Å)
        "fingerprint": None if structure.periodic else (
            print_ if print_ is not None else fingerprint(structure.positions).astype(np.float32).tolist()),
    }
    labels = frame_labels(atoms, settings.labels, where)
    if not labels:
        return [{**base, **_no_label()}]
    rows = []
    for value in labels:
        rows.append({**base, **label_row(G, structure, value, settings, trivial)})
        base["fingerprint"] = None  # once per frame is enough
    return rows


def _no_label() -> dict:
    return {"error": None, "label": None, "irreps": None, "per_point": None, "entries": None, "residual": None,
            "floor": None, "total": None, "sumsq": None, "flagged": None, "label_group": None, "antisymmetric": None}


def label_row(G, structure, value: LabelValue, settings: Settings, trivial: bool) -> dict:
    """Floor (‖y − P_G y‖² per entry, units²), flag and group H of one label in one frame."""
    spec, y = value.spec, value.y
    norm2 = float(np.sum(y * y))
    if trivial or G.order == 1 or _invariant_scalars(spec.irreps, spec.per_point):
        residual = 0.0  # P_G y = y: C1 fixes everything, a global 0e quantity is fixed by every G
    else:
        from ..fixed import project

        diff = y - project(G, spec.irreps, y, spec.per_point)
        residual = float(np.sum(diff * diff))
    rtol2 = settings.label_rtol ** 2
    flagged = residual > rtol2 * norm2
    error = None
    if flagged:
        # H: the elements that move no entry of y by more than label_rtol · max|y|
        from ..groups.stabilizer import stabilizer

        try:
            if not hasattr(G, "generators"):  # a batched group: the stabilizer search needs the full PointGroup
                G = G.point_group()
            H = stabilizer(G, structure, y, spec.irreps, spec.per_point,
                           settings.label_rtol * float(np.max(np.abs(y))))
            label_group = H.name
        except Exception as exc:  # a failure of the stabilizer search: the floor stands, H is unknown
            label_group, error = "error", f"{spec.name}: stabilizer: {type(exc).__name__}: {exc}"
    else:
        label_group = G.name  # within label_rtol the label keeps G
    return {
        "error": error, "label": spec.name, "irreps": spec.irreps, "per_point": spec.per_point, "entries": int(y.size),
        "residual": residual, "floor": residual / y.size, "total": float(np.sum(y)), "sumsq": norm2,
        "flagged": bool(flagged), "label_group": label_group, "antisymmetric": value.antisymmetric,
    }


def _invariant_scalars(irreps: str, per_point: bool) -> bool:
    return not per_point and irreps_facts(irreps)[2]


_BLAS_SETTERS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
                 "openblas_set_num_threads64_")
_blas: list | None = None  # (set, get) of every OpenBLAS loaded in this process, found once


def _openblas() -> list:
    """(set_num_threads, get_num_threads) of each OpenBLAS library loaded in this process (numpy's, scipy's)."""
    global _blas
    if _blas is None:
        import ctypes

        _blas = []
        try:
            with open("/proc/self/maps") as f:
                libs = sorted({line.split()[-1] for line in f if "openblas" in line.rsplit("/", 1)[-1].lower()})
        except OSError:  # not Linux: nothing to do
            libs = []
        for lib in libs:
            try:
                handle = ctypes.CDLL(lib)
            except OSError:
                continue
            for name in _BLAS_SETTERS:
                setter = getattr(handle, name, None)
                getter = getattr(handle, name.replace("set_", "get_"), None)
                if setter is not None and getter is not None:
                    _blas.append((setter, getter))
                    break
    return _blas


@contextmanager
def one_blas_thread():
    """numpy's and scipy's OpenBLAS on one thread inside the block, as before it afterwards.

    Workers run side by side, one per core, on small matrices: a second BLAS thread per worker
    only competes with the other workers (a 576×400 QR took 0.9 s with two threads instead of
    0.01 s with one on a busy two-core machine). Through OpenBLAS's own setter (ctypes), since
    numpy is already loaded; other BLAS libraries are left alone.
    """
    libs = _openblas()
    before = [get() for _, get in libs]
    for set_threads, _ in libs:
        set_threads(1)
    try:
        yield
    finally:
        for (set_threads, _), n in zip(libs, before, strict=True):
            set_threads(n)


def _batched_groups(chunk: Chunk, frames: list, settings: Settings) -> tuple[list, list, list]:
    """(Structure or None, batched group or None, fingerprint or None) per frame of a chunk.

    The groups of clear asymmetric tops (nearly every MD frame) are found for the whole chunk at once
    (``symcheck.groups.batched``): the same groups as the search frame by frame. A frame whose
    structure cannot be made gets None and is made again (and reported) in ``frame_rows``.
    """
    from ..groups.batched import point_groups

    structures: list = []
    for k, atoms in enumerate(frames):
        try:
            structures.append(frame_structure(atoms, f"{chunk.path}: frame {chunk.start + k}"))
        except Exception:  # reported with its frame by frame_rows
            structures.append(None)
    finite = [k for k, s in enumerate(structures) if s is not None and not s.periodic]
    groups: list = [None] * len(frames)
    prints: list = [None] * len(frames)
    found = point_groups([structures[k].positions for k in finite], [structures[k].species for k in finite],
                         settings.tol)
    by_size: dict[int, list[int]] = {}
    rest: dict[int, list[int]] = {}
    for k, g in zip(finite, found, strict=True):
        groups[k] = g
        n = len(structures[k])
        by_size.setdefault(n, []).append(k)
        if g is None and n <= PROFILE_ATOMS:
            rest.setdefault(n, []).append(k)
    for n, idx in by_size.items():
        if n <= PAIRWISE_ATOMS:
            X = np.stack([structures[k].positions for k in idx])
            for k, fp in zip(idx, fingerprints(X).astype(np.float32).tolist(), strict=True):
                prints[k] = fp
    # the others (symmetric tops, rattled ones among them): the trivial precheck, for all of one size at once
    for idx in rest.values():
        X = np.stack([structures[k].positions for k in idx])
        codes = np.stack([np.unique(np.asarray(structures[k].species), return_inverse=True)[1].reshape(-1)
                          for k in idx])
        for k, trivial in zip(idx, obviously_trivial_batch(X, codes, settings.tol), strict=True):
            if trivial:
                groups[k] = _Trivial()
    return structures, groups, prints


def analyze_chunk(chunk: Chunk, settings: Settings):
    """Read and analyse one chunk; returns (chunk id, pyarrow Table with ``schema()``)."""
    import pyarrow as pa

    from ..fixed import one_torch_thread

    rows: list[dict] = []
    frames = read_chunk(chunk)
    with one_torch_thread(), one_blas_thread():  # tiny matrices: threads only cost, and workers run side by side
        structures, groups, prints = _batched_groups(chunk, frames, settings)
        for k, atoms in enumerate(frames):
            frame = chunk.start + k
            where = f"{chunk.path}: frame {frame}"
            try:
                rows.extend(frame_rows(atoms, where, chunk.first + k, chunk.path, frame, settings,
                                       structures[k], groups[k], prints[k]))
            except SymcheckError as exc:
                msg = str(exc)
                raise SymcheckError(msg if msg.startswith(chunk.path) else f"{where}: {msg}") from None
            except Exception as exc:  # a failure inside the group code: keep the frame, say what happened
                rows.append({"index": chunk.first + k, "source": chunk.path, "frame": frame, "atoms": len(atoms),
                             "formula": formula(atoms.get_chemical_symbols()), "periodic": bool(atoms.pbc.any()),
                             "group": "error", "order": None, "fingerprint": None, **_no_label(),
                             "error": f"{type(exc).__name__}: {exc}"})
    return chunk.id, pa.Table.from_pylist(rows, schema=schema())
