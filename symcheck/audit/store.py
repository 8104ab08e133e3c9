"""Chunk results on disk: atomic checkpoints under ``OUT/chunks`` and the run's manifest.

A checkpoint is written to a temporary name in the same folder and renamed, so a scan killed at
any moment leaves only finished chunks under their final names; a re-run reads those and
analyses the rest. The manifest records what the chunks mean (files, sizes, settings): a re-run
with different data or settings is refused rather than mixed with old chunks.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import SymcheckError


def chunk_path(out: Path, chunk_id: int) -> Path:
    return out / "chunks" / f"{chunk_id:06d}.parquet"


def write_chunk(out: Path, chunk_id: int, table) -> None:
    import pyarrow.parquet as pq

    final = chunk_path(out, chunk_id)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, final)  # atomic on POSIX: the chunk is there whole or not at all


def read_chunk_table(out: Path, chunk_id: int):
    import pyarrow.parquet as pq

    return pq.read_table(chunk_path(out, chunk_id))


def finished(out: Path) -> set[int]:
    folder = out / "chunks"
    if not folder.is_dir():
        return set()
    return {int(p.stem) for p in folder.glob("[0-9]*.parquet")}


def manifest(files: list[str], chunks, settings) -> dict:
    """What identifies a scan: its files (with size and modification time), chunking and settings."""
    from .analysis import COLUMNS

    return {
        # the chunk tables' columns: checkpoints of another symcheck version are not mixed in
        "columns": [list(c) for c in COLUMNS],
        "files": [{"path": str(Path(f).resolve()), "bytes": os.path.getsize(f), "mtime_ns": os.stat(f).st_mtime_ns}
                  for f in files],
        "chunks": [[c.path, c.start, c.stop] for c in chunks],
        "tol": settings.tol,
        "label_rtol": settings.label_rtol,
        "labels": None if settings.labels is None else [list(x) for x in settings.labels],
    }


def prepare(out: Path, info: dict) -> set[int]:
    """Create OUT (or resume it): returns the finished chunk ids."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "chunks").mkdir(exist_ok=True)
    path = out / "scan-manifest.json"
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = None
        if old != info:
            raise SymcheckError(f"{out}: holds a scan of other data or settings; use another --out or empty it")
        return finished(out)
    for stale in (out / "chunks").glob("*.parquet"):
        raise SymcheckError(f"{out}: chunk {stale.name} without a manifest; use another --out or empty it")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(info, indent=1))
    os.replace(tmp, path)
    return set()
