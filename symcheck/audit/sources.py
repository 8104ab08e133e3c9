"""Training-set files as chunks of frames: planning (cheap, in the driver) and reading (in the workers).

A chunk is a plain description (file, kind, frame range, byte range) that any worker process,
local or on a Dask cluster, can read on its own: no structures travel between processes, and a
worker holds one chunk at a time, so memory stays bounded by the chunk size.

Multi-frame (ext)xyz files are split by byte offsets found from their frame headers (one pass over
the file, no parsing of atoms); ASE databases by row offset; other formats (cif, POSCAR, traj, …)
by frame index through ASE.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import SymcheckError

_XYZ_SUFFIXES = (".xyz", ".extxyz")
_DB_SUFFIXES = (".db",)
# Files a directory scan skips: our own outputs and obvious non-structures.
_SKIP_SUFFIXES = (".json", ".csv", ".parquet", ".png", ".md", ".txt", ".log", ".tmp")


@dataclass(frozen=True)
class Chunk:
    """Frames ``start:stop`` of one file, the ``first`` of them being frame ``first`` of the whole scan.

    kind : "xyz" (read bytes ``offset:end`` with ASE's extxyz reader), "db" (rows by offset), or
        "ase" (frames by index through ``ase.io.read``).
    """

    id: int
    path: str
    kind: str
    start: int
    stop: int
    first: int
    offset: int = 0
    end: int = 0

    @property
    def frames(self) -> int:
        return self.stop - self.start


def expand(data) -> list[str]:
    """The files of DATA, in order: files as given, directories' structure files sorted by path (recursively)."""
    if isinstance(data, (str, os.PathLike)):
        data = [data]
    files = []
    for item in data:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                           and p.suffix.lower() not in _SKIP_SUFFIXES)
            if not found:
                raise SymcheckError(f"{path}: the directory holds no structure files")
            files.extend(str(p) for p in found)
        elif path.is_file():
            files.append(str(path))
        else:
            raise SymcheckError(f"{path}: no such file or directory")
    if not files:
        raise SymcheckError("no data given")
    return files


def kind_of(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in _XYZ_SUFFIXES:
        return "xyz"
    if suffix in _DB_SUFFIXES:
        return "db"
    return "ase"


def xyz_offsets(path: str) -> list[int]:
    """Byte offset of every frame of an (ext)xyz file, plus the file size at the end.

    Reads only the count line of each frame and skips its atom lines, so a file of 10⁵ frames
    is indexed in one streaming pass; a count that does not fit the file is reported here.
    """
    offsets = []
    with open(path, "rb") as f:
        pos = 0
        line_no = 0
        while True:
            line = f.readline()
            if not line:
                break
            if not line.strip():  # blank lines between or after frames
                pos += len(line)
                line_no += 1
                continue
            try:
                count = int(line.split()[0])
            except ValueError:
                raise SymcheckError(f"{path}: line {line_no + 1}: expected an atom count, "
                                    f"got {line[:40].decode(errors='replace').strip()!r}") from None
            if count <= 0:
                raise SymcheckError(f"{path}: line {line_no + 1}: atom count {count} is not positive")
            offsets.append(pos)
            pos += len(line)
            for k in range(count + 1):
                nxt = f.readline()
                if not nxt:
                    raise SymcheckError(f"{path}: frame {len(offsets) - 1} declares {count} atoms "
                                        f"but the file ends after {max(k - 1, 0)}")
                pos += len(nxt)
            line_no += count + 2
    if not offsets:
        raise SymcheckError(f"{path}: the file holds no frames")
    offsets.append(pos)
    return offsets


def _db_count(path: str) -> int:
    import ase.db

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ase.db.connect(path, type="db").count()
    except Exception as exc:  # ase.db raises sqlite3 and ValueError alike for a non-database
        raise SymcheckError(f"{path}: cannot read the file as an ASE database ({type(exc).__name__}: {exc})") from None


def plan(files: list[str], chunk_size: int) -> list[Chunk]:
    """Split the files into chunks of at most ``chunk_size`` frames (chunks never span two files)."""
    from ..io import frame_count

    if chunk_size < 1:
        raise SymcheckError(f"chunk size must be at least 1, got {chunk_size}")
    chunks: list[Chunk] = []
    first = 0
    for path in files:
        kind = kind_of(path)
        if kind == "xyz":
            offsets = xyz_offsets(path)
            count = len(offsets) - 1
        elif kind == "db":
            count = _db_count(path)
            offsets = None
        else:
            count = frame_count(path)
            offsets = None
        if count == 0:
            raise SymcheckError(f"{path}: the file holds no frames")
        for start in range(0, count, chunk_size):
            stop = min(start + chunk_size, count)
            off, end = (offsets[start], offsets[stop]) if offsets is not None else (0, 0)
            chunks.append(Chunk(len(chunks), path, kind, start, stop, first + start, off, end))
        first += count
    return chunks


def read_chunk(chunk: Chunk) -> list:
    """The chunk's frames as ase.Atoms (calculator results and info attached), or for plain extxyz
    text as the lighter frames of ``symcheck.plainio.parse_plain_extxyz``, which offer the same fields."""
    import ase.io

    from ..plainio import parse_plain_extxyz

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if chunk.kind == "xyz":
                with open(chunk.path, "rb") as f:
                    f.seek(chunk.offset)
                    text = f.read(chunk.end - chunk.offset).decode()
                # plain extxyz (most training sets) without ASE's Atoms and calculators: 10x faster
                frames = parse_plain_extxyz(text)
                if frames is None:
                    frames = ase.io.read(io.StringIO(text), index=":", format="extxyz")
            elif chunk.kind == "db":
                import ase.db

                db = ase.db.connect(chunk.path, type="db")
                frames = []
                for row in db.select(offset=chunk.start, limit=chunk.frames, sort="id"):
                    atoms = row.toatoms()
                    # key-value pairs and data (dipoles, polarizabilities, …) are labels too
                    atoms.info.update(row.key_value_pairs)
                    atoms.info.update(row.get("data", {}) or {})
                    frames.append(atoms)
            else:
                frames = ase.io.read(chunk.path, index=f"{chunk.start}:{chunk.stop}")
        except SymcheckError:
            raise
        except Exception as exc:  # ASE raises many kinds; all mean "cannot parse"
            raise SymcheckError(f"{chunk.path}: frames {chunk.start}–{chunk.stop - 1}: cannot read them "
                                f"({type(exc).__name__}: {exc})") from None
    if not isinstance(frames, list):
        frames = [frames]
    if len(frames) != chunk.frames:
        raise SymcheckError(f"{chunk.path}: frames {chunk.start}–{chunk.stop - 1}: read {len(frames)} frames, "
                            f"expected {chunk.frames}")
    return frames


def read_frame(path: str, index: int, offsets: list[int] | None = None):
    """One frame (ase.Atoms) of a file, for the duplicate check; ``offsets`` from ``xyz_offsets`` if known."""
    kind = kind_of(path)
    if kind == "xyz":
        offsets = xyz_offsets(path) if offsets is None else offsets
        return read_chunk(Chunk(0, path, kind, index, index + 1, 0, offsets[index], offsets[index + 1]))[0]
    return read_chunk(Chunk(0, path, kind, index, index + 1, 0))[0]
