"""``symcheck.scan``: a symmetry audit of a whole training set.

For every frame: its group G (point group of a molecule or cluster, space group of a crystal) from
positions and species alone, and for every label y (forces 1o, energy 0e, stress 0e+2e, …) the
floor ‖y − P_G y‖² per entry that no G-equivariant model can go below, and the label's own group
H = Stab_G(y) where it breaks G. For the dataset: frames per group, per label the floor (mean over
all entries, duplicates' conflicts included) and its fraction of the label's variance, the frames
whose labels break their symmetry, and duplicate frames whose labels disagree.

Modules: ``sources`` (files -> chunks, reading), ``labels`` (labels and irreps), ``analysis``
(one chunk -> table), ``duplicates``, ``executors`` (process pool, Dask), ``store``
(checkpoints), ``report`` (aggregation and the files under ``out``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ..defaults import DEFAULT_TOL, LABEL_RTOL, SCAN_CHUNK_SIZE
from ..errors import SymcheckError
from .analysis import Settings
from .labels import parse_label_option
from .report import Duplicate, Flag, LabelSummary, ScanResult, summarize, write_outputs

DEFAULT_CHUNK_SIZE = SCAN_CHUNK_SIZE  # the name this package has exported


def scan(data, labels=None, tol: float = DEFAULT_TOL, label_rtol: float = LABEL_RTOL, workers: int | None = None,
         scheduler: str | None = None, out=None, progress: Callable[[int, int], None] | None = None,
         chunk_size: int = DEFAULT_CHUNK_SIZE) -> ScanResult:
    """Scan a training set for labels that break their frame's symmetry, and for conflicting duplicates.

    Parameters
    ----------
    data : a file (multi-frame xyz/extxyz, ASE database ``.db``, any ASE-readable format), a
        directory of such files (read recursively, sorted by path), or a list of these. Frames are
        numbered from 0 across all of them in order.
    labels : None for every label found by name (per-atom ``forces``, ``dipoles``, ``magmoms``,
        ``charges``, ``energies``; global ``energy``, ``free_energy`` and other ``*energy*`` numbers,
        ``stress``, ``virial``, ``dipole``, ``polarizability``, ``magmom``), or a list of
        ``"NAME"`` / ``"NAME:IRREPS"`` (e3nn irreps of one entry) choosing them.
    tol : distance tolerance in Å for the groups and for duplicates.
    label_rtol : a label breaks G in a frame when ‖y − P_G y‖ > label_rtol · ‖y‖ (dimensionless).
    workers : processes (default all cores); 1 runs in this process.
    scheduler : None for a local process pool, ``"local"`` for a Dask LocalCluster, or the address of
        a running Dask scheduler (``"tcp://host:port"``); its workers must see the files.
    out : a folder for checkpoints (one per chunk), per-frame results (``frames.parquet``,
        ``frames.csv``), ``summary.json`` and figures; a re-run with the same folder resumes.
    progress : called as progress(frames done, frames in all) after each chunk.
    chunk_size : frames per chunk (the unit of work, of checkpointing and of memory).
    """
    from . import executors, sources, store

    t0 = time.perf_counter()
    if not tol > 0:
        raise SymcheckError(f"tolerance must be a positive distance in Å, got {tol}")
    if not label_rtol > 0:
        raise SymcheckError(f"label_rtol must be positive, got {label_rtol}")
    if workers is not None and workers < 1:
        raise SymcheckError(f"workers must be at least 1, got {workers}")
    settings = Settings(float(tol), float(label_rtol), parse_label_option(labels))
    files = sources.expand(data)
    chunks = sources.plan(files, chunk_size)
    total = sum(c.frames for c in chunks)
    out_dir = Path(out) if out is not None else None
    done: set[int] = set()
    if out_dir is not None:
        done = store.prepare(out_dir, store.manifest(files, chunks, settings))
    tables: dict[int, object] = {}
    todo = [c for c in chunks if c.id not in done]
    frames_done = total - sum(c.frames for c in todo)
    sizes = {c.id: c.frames for c in chunks}
    if progress is not None:
        progress(frames_done, total)
    n_workers = workers or executors.default_workers()
    if not todo:
        results = iter(())
    elif scheduler is not None:
        results = executors.run_dask(todo, settings, scheduler, workers)
    elif n_workers == 1 or len(todo) == 1:
        results = executors.run_serial(todo, settings)
    else:
        results = executors.run_pool(todo, settings, min(n_workers, len(todo)))
    for chunk_id, table in results:
        if out_dir is not None:
            store.write_chunk(out_dir, chunk_id, table)
        else:
            tables[chunk_id] = table
        frames_done += sizes[chunk_id]
        if progress is not None:
            progress(frames_done, total)

    def load(chunk_id: int):
        return tables[chunk_id] if out_dir is None else store.read_chunk_table(out_dir, chunk_id)

    check = None
    if scheduler is None and n_workers > 1:
        def check(pairs, where, settings):
            """The duplicate candidates on a process pool too, in batches of whole components."""
            from .duplicates import batches, check_batch, find_conflicts, merge

            items = batches(pairs, where, max(8, len(pairs) // (4 * n_workers)))
            if len(items) == 1:
                return find_conflicts(pairs, where, settings)
            return merge(executors.run_pool(items, settings, min(n_workers, len(items)), check_batch))

    result = summarize([c.id for c in chunks], load, settings, seconds_since=t0, check=check)
    if out_dir is not None:
        result = write_outputs(result, [c.id for c in chunks], load, out_dir)
    return result


__all__ = ["Duplicate", "Flag", "LabelSummary", "ScanResult", "scan", "DEFAULT_CHUNK_SIZE"]
