"""On-disk cache of the network's construction: Wigner 3j tables, activation constants, dense operators.

A cold ``symcheck train`` recomputes the same numbers every time: the Wigner 3j symbols of the
network's paths (exact fractions), e3nn's activation constants (10^6 samples each) and, for the
tutorial's geometry, every layer's dense operator. They depend only on the irreps, the network's
L, the positions and the code, so they are kept on disk between runs.

* Folder: ``$SYMCHECK_CACHE_DIR``, else ``$XDG_CACHE_HOME/symcheck``, else ``~/.cache/symcheck``.
  ``SYMCHECK_CACHE_DIR=off`` (or empty) turns the cache off.
* Every file is keyed by its content's full description **and** by the versions that compute it:
  this cache format, numpy and torch versions, and a hash of the source of the modules that
  compute the cached numbers (so editing them invalidates the cache). The full key is stored
  inside the file and compared on load; a hash collision reads as a miss.
* The folder is bounded: after each write the least recently used files (by modification time,
  which a load refreshes) are removed until it holds at most ``$SYMCHECK_CACHE_MAX_MB`` (default
  256) megabytes, so files of other geometries and of older code versions do not pile up.
* Writes are atomic (a temporary file in the same folder, then ``os.replace``): a reader sees a
  whole file or none. A file that cannot be read, fails its zip checksum, has another key or
  arrays of the wrong shape is a miss: the numbers are computed again (and the file rewritten),
  never used. A folder that cannot be written is ignored.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

#: Version of the file layout; bump when what a file holds changes without a source change.
FORMAT = 1
#: Environment variable naming the cache folder ("off" or empty: no cache).
ENV = "SYMCHECK_CACHE_DIR"
#: Modules whose source determines the cached numbers (relative to the symcheck package).
SOURCES = ("o3.py", "training/spec.py", "training/dense.py", "training/gate.py", "training/geometry.py",
           "training/network.py", "training/cache.py")

#: Environment variable bounding the folder's size in megabytes (default DEFAULT_MAX_MB).
MAX_ENV = "SYMCHECK_CACHE_MAX_MB"
DEFAULT_MAX_MB = 256.0

_VERSION: list[str] = []


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is off (``SYMCHECK_CACHE_DIR=off``)."""
    value = os.environ.get(ENV)
    if value is not None:
        return None if value.strip().lower() in ("", "0", "off", "none", "false") else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "symcheck"


def version() -> str:
    """What the cached numbers depend on besides their key: format, numpy, torch and a hash of the sources."""
    if not _VERSION:
        import torch

        root = Path(__file__).resolve().parents[1]
        digest = hashlib.sha256()
        for name in SOURCES:
            try:
                digest.update((root / name).read_bytes())
            except OSError:
                digest.update(f"missing {name}".encode())
        _VERSION.append(f"format {FORMAT}; numpy {np.__version__}; torch {torch.__version__}; "
                        f"source {digest.hexdigest()[:16]}")
    return _VERSION[0]


def _path(kind: str, key: str) -> tuple[Path, str] | None:
    """The file for (kind, key) and the full key stored in it, or None when the cache is off."""
    folder = cache_dir()
    if folder is None:
        return None
    full = f"{kind}\n{key}\n{version()}"
    return folder / f"{kind}-{hashlib.sha256(full.encode()).hexdigest()[:32]}.npz", full


def load(kind: str, key: str, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray] | None:
    """The arrays stored under (kind, key), or None (no cache, no file, or a file not to be trusted).

    Parameters
    ----------
    kind : what is stored (a file-name prefix, e.g. ``"w3j"``).
    key : the content's full description (irreps, L, positions' hash, …).
    names : arrays the file must hold; a file without one of them is a miss.
    """
    where = _path(kind, key)
    if where is None or not where[0].exists():
        return None
    path, full = where
    try:
        with np.load(path, allow_pickle=False) as data:
            if "__key__" not in data.files or str(data["__key__"]) != full:
                return None
            if names is not None and any(name not in data.files for name in names):
                return None
            # reading every array here checks its zip CRC: a damaged file fails now, not later
            arrays = {name: data[name] for name in data.files if name != "__key__"}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None
    try:
        os.utime(path)  # recently used: pruned last
    except OSError:
        pass
    return arrays


def store(kind: str, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` under (kind, key), atomically; nothing happens when the folder cannot be written."""
    where = _path(kind, key)
    if where is None:
        return
    path, full = where
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp",
                                         delete=False) as f:
            tmp = f.name
            np.savez(f, __key__=np.array(full), **arrays)
        os.replace(tmp, path)
        tmp = None
        prune(path.parent, keep=path)
    except OSError:
        pass  # a read-only or full disk: the cache is an optimisation only
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def max_bytes() -> float:
    """The folder's size bound in bytes, from ``$SYMCHECK_CACHE_MAX_MB`` (default 256 MB)."""
    try:
        mb = float(os.environ.get(MAX_ENV, DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return max(mb, 0.0) * 1e6


def prune(folder: Path, keep: Path | None = None) -> None:
    """Remove the least recently used cache files until ``folder`` holds at most :func:`max_bytes`.

    Parameters
    ----------
    folder : the cache folder.
    keep : a file never removed (the one just written).
    """
    try:
        files = [(e.stat().st_mtime, e.stat().st_size, Path(e.path)) for e in os.scandir(folder)
                 if e.is_file() and e.name.endswith(".npz")]
    except OSError:
        return
    total, limit = sum(size for _, size, _ in files), max_bytes()
    for _, size, path in sorted(files):
        if total <= limit:
            break
        if keep is not None and path == keep:
            continue
        try:
            path.unlink()
            total -= size
        except OSError:
            pass


class Memo:
    """A small in-process least-recently-used map (the demo reuses one task's operators in the next)."""

    def __init__(self, size: int = 16):
        self.size = size
        self._items: OrderedDict = OrderedDict()

    def get(self, key):
        """The value stored under ``key``, or None."""
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key, value) -> None:
        """Store ``value`` under ``key``, dropping the least recently used entry beyond ``size``."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        self._items.clear()
