"""From chunk tables to the scan's result: counts, floors, flags, duplicates; and the files under ``out``.

Aggregation streams over the chunk tables in chunk order (one in memory at a time), so the result
depends only on the tables, never on the order in which workers finished: a resumed scan ends
identical to an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class LabelSummary:
    """One label over the dataset.

    irreps : e3nn irreps of one entry. entries : number of scalar entries scanned.
    floor : the dataset's loss floor for this label (units², mean over all entries): per-frame
        floors plus the conflicts of duplicates. floor_fraction : floor / variance (None when the
        label does not vary). variance : of the label's entries (units²). conflict : the part of
        ``floor`` due to duplicates (units²).
    """

    irreps: str
    floor: float
    floor_fraction: float | None
    entries: int
    variance: float
    conflict: float


@dataclass(frozen=True)
class Flag:
    """A frame whose label breaks the frame's group G beyond label_rtol.

    index : frame number across the data (0-based); group : G; label_group : H = Stab_G(y), or
    "antisymmetric" for a rank-2 label with an antisymmetric part; floor : units² per entry.
    """

    index: int
    label: str
    group: str
    label_group: str
    floor: float


@dataclass(frozen=True)
class Duplicate:
    """Two frames equal up to rotation, translation and permutation whose label differs.

    conflict : the floor (units² per entry, over the two frames) their disagreement adds.
    """

    indices: tuple[int, int]
    label: str
    conflict: float


@dataclass(frozen=True)
class ScanResult:
    """What a scan found (``as_dict()``: the JSON of ``symcheck scan --json``).

    frames : frames scanned. groups : group name -> frames. labels : label -> LabelSummary.
    flagged : Flags, largest floor first (a floor at rounding level, ≤ 1e-20 of the label's mean square,
        is none). duplicates : Duplicates, largest conflict first.
    duplicate_pairs : pairs of equal frames found (labels agreeing or not). seconds : wall time.
    out : the output folder, if any; files : name -> path of what was written there.
    errors : (frame index, message) where the group code failed: on the frame's group (the frame is
        counted as group "error") or on a label's stabilizer (its label_group is "error", its floor stands).
    warnings : what the scan could not do and says so (e.g. a duplicate search skipped).
    """

    frames: int
    groups: dict
    labels: dict
    flagged: tuple
    duplicates: tuple
    duplicate_pairs: int
    seconds: float
    out: str | None = None
    files: dict | None = None
    errors: tuple = ()
    warnings: tuple = ()

    def as_dict(self) -> dict:
        return {
            "frames": self.frames,
            "groups": dict(self.groups),
            "labels": {k: {"irreps": v.irreps, "floor": v.floor, "floor_fraction": v.floor_fraction}
                       for k, v in self.labels.items()},
            "flagged": [asdict(f) for f in self.flagged],
            "duplicates": [{"indices": list(d.indices), "label": d.label, "conflict": d.conflict}
                           for d in self.duplicates],
            "seconds": self.seconds,
            "warnings": list(self.warnings),
        }


def summarize(chunk_ids, load, settings, seconds_since: float, check=None) -> ScanResult:
    """Aggregate the chunk tables (``load(id)`` gives one) into a ScanResult.

    chunk_ids : the chunks, in order; settings : the scan's settings (tol, label_rtol, …); seconds_since :
        the scan's start (``time.perf_counter()``).
    check : ``check(pairs, where, settings) -> (equal pairs, conflicts)`` for the duplicate candidates, e.g. on
        a process pool; None checks them here with ``duplicates.find_conflicts``.
    """
    from .duplicates import candidates, find_conflicts

    tally = _Tally(settings.label_rtol ** 2)
    for cid in chunk_ids:
        tally.add_table(load(cid).to_pydict())
    warnings: list[str] = []
    pairs, skipped = candidates(tally.keys, settings.tol)
    if skipped:
        warnings.append(f"near-duplicates not searched: {skipped:,} pairs of distinct frames within reach "
                        f"(fingerprints within 2·tol = {2 * settings.tol:g} Å) are more than the search lists; "
                        "exact copies were searched")
    equal, conflicts = (check or find_conflicts)(pairs, tally.where, settings) if pairs else ([], [])
    labels = _label_summaries(tally.sums, conflicts)
    flags = sorted(_above_rounding(tally.flags, tally.sums), key=lambda f: (-f.floor, f.index, f.label))
    dups = sorted((Duplicate(c.indices, c.label, c.conflict) for c in conflicts),
                  key=lambda d: (-d.conflict, d.indices, d.label))
    groups = dict(sorted(tally.groups.items(), key=lambda kv: (-kv[1], kv[0])))
    return ScanResult(tally.frames, groups, labels, tuple(flags), tuple(dups), len(equal),
                      time.perf_counter() - seconds_since, errors=tuple(tally.errors), warnings=tuple(warnings))


class _Tally:
    """What :func:`summarize` gathers from the chunk tables, row by row, in chunk order.

    rtol2 : label_rtol², for the antisymmetric-part flag.
    """

    def __init__(self, rtol2: float):
        self.rtol2 = rtol2
        self.frames = 0
        self.groups: Counter = Counter()  # group name -> frames
        self.sums: dict[str, dict] = {}  # label -> irreps and running sums
        self.flags: list[Flag] = []
        self.keys: list = []  # (formula, frame index, fingerprint) for the duplicate search
        self.errors: list[tuple[int, str]] = []
        self.where: dict[int, tuple[str, int]] = {}  # frame index -> (source, frame number)

    def add_table(self, t: dict) -> None:
        """Add one chunk table (column -> list; one row per frame and label, a frame's rows together)."""
        seen = set()
        for k in range(len(t["index"])):
            idx = t["index"][k]
            if idx not in seen:
                seen.add(idx)
                self.groups[t["group"][k]] += 1
                self.where[idx] = (t["source"][k], t["frame"][k])
            if t["error"][k] is not None:
                self.errors.append((idx, t["error"][k]))
            if t["fingerprint"][k] is not None:
                self.keys.append((t["formula"][k], idx, np.asarray(t["fingerprint"][k])))
            if t["label"][k] is not None:
                self._add_label(t, k)
        self.frames += len(seen)

    def _add_label(self, t: dict, k: int) -> None:
        """Add row k's label to its sums and flags; SymcheckError if its irreps differ from earlier frames'."""
        name, idx = t["label"][k], t["index"][k]
        s = self.sums.setdefault(name, {"irreps": t["irreps"][k], "entries": 0, "residual": 0.0, "total": 0.0,
                                        "sumsq": 0.0})
        if s["irreps"] != t["irreps"][k]:
            from ..errors import SymcheckError

            raise SymcheckError(f"{t['source'][k]}: frame {t['frame'][k]}: label {name!r} has irreps "
                                f"{t['irreps'][k]}, earlier frames {s['irreps']}")
        for column in ("entries", "residual", "total", "sumsq"):
            s[column] += t[column][k]
        if t["flagged"][k]:
            self.flags.append(Flag(idx, name, t["group"][k], t["label_group"][k], t["floor"][k]))
        anti = t["antisymmetric"][k]
        if anti > self.rtol2 * (t["sumsq"][k] + anti):  # the antisymmetric part of a symmetric tensor
            self.flags.append(Flag(idx, f"{name} (antisymmetric part)", t["group"][k], "antisymmetric", anti / 9))


ROUNDING = 1e-10  # a residual whose RMS per entry is below this times the label's RMS over the dataset is rounding


def _above_rounding(flags: list[Flag], sums: dict[str, dict]) -> list[Flag]:
    """The flags whose floor is more than rounding: floor > ROUNDING² × the label's mean square over the dataset.

    A perfect crystal's forces are zero up to ~1e-15 in any code; relative to themselves they break
    every symmetry (P1), and were flagged in every symmetric frame of a relaxation set. Flags of the
    antisymmetric part of a rank-2 label keep their own relative test.
    """
    out = []
    for f in flags:
        s = sums.get(f.label)
        if s is None or f.label_group == "antisymmetric" or f.floor > ROUNDING ** 2 * s["sumsq"] / s["entries"]:
            out.append(f)
    return out


def _label_summaries(sums: dict[str, dict], conflicts) -> dict[str, LabelSummary]:
    """label -> LabelSummary, labels sorted by name, from the tallied sums and the duplicates' conflicts.

    sums : label -> irreps, entries, residual, total and sumsq over the dataset; conflicts : the
    duplicate pairs whose label differs (``duplicates.Conflict``), each adding to its label's floor.
    """
    added: Counter = Counter()
    for c in conflicts:
        added[c.label] += c.added
    labels = {}
    for name in sorted(sums):
        s = sums[name]
        n = s["entries"]
        mean = s["total"] / n
        variance = max(s["sumsq"] / n - mean * mean, 0.0)
        floor = (s["residual"] + added[name]) / n
        labels[name] = LabelSummary(s["irreps"], floor, floor / variance if variance > 0 else None, n, variance,
                                    added[name] / n)
    return labels


def write_outputs(result: ScanResult, chunk_ids, load, out: Path) -> ScanResult:
    """Per-frame results (Parquet and CSV), summary.json and figures under ``out``; returns the result
    with ``out`` and ``files`` set. Files are written to temporary names and renamed."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    names = list(result.labels)
    frame_cols = [("index", pa.int64()), ("source", pa.string()), ("frame", pa.int64()), ("atoms", pa.int64()),
                  ("formula", pa.string()), ("periodic", pa.bool_()), ("group", pa.string()), ("order", pa.int64()),
                  ("error", pa.string())]
    label_cols = []
    for name in names:
        label_cols += [(f"{name}_floor", pa.float64()), (f"{name}_group", pa.string()), (f"{name}_flagged", pa.bool_())]
    schema = pa.schema(frame_cols + label_cols)
    parquet_tmp, csv_tmp = out / ".frames.parquet.tmp", out / ".frames.csv.tmp"
    floors: dict[str, list[float]] = {name: [] for name in names}
    flagged = {(f.index, f.label) for f in result.flagged}  # as in the summary (rounding-level residuals are not flags)
    with pq.ParquetWriter(parquet_tmp, schema) as pw, pacsv.CSVWriter(csv_tmp, schema) as cw:
        for cid in chunk_ids:
            t = load(cid).to_pydict()
            rows: dict[int, dict] = {}
            for k in range(len(t["index"])):
                idx = t["index"][k]
                row = rows.setdefault(idx, {c: t[c][k] for c, _ in frame_cols})
                name = t["label"][k]
                if name is not None:
                    row[f"{name}_floor"] = t["floor"][k]
                    row[f"{name}_group"] = t["label_group"][k] if (idx, name) in flagged else t["group"][k]
                    row[f"{name}_flagged"] = (idx, name) in flagged
                    floors[name].append(t["floor"][k])
            batch = pa.Table.from_pylist([rows[i] for i in sorted(rows)], schema=schema)
            pw.write_table(batch)
            cw.write_table(batch)
    os.replace(parquet_tmp, out / "frames.parquet")
    os.replace(csv_tmp, out / "frames.csv")
    files = {"frames.parquet": str(out / "frames.parquet"), "frames.csv": str(out / "frames.csv")}
    files.update(_figures(result, floors, out))
    files["summary.json"] = str(out / "summary.json")
    result = replace(result, out=str(out), files=files)
    tmp = out / ".summary.json.tmp"
    tmp.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    os.replace(tmp, out / "summary.json")
    return result


def _figures(result: ScanResult, floors: dict[str, list[float]], out: Path) -> dict[str, str]:
    """groups.png (frames per group) and floors.png (distribution of per-frame floors per label)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = {}
    items = list(result.groups.items())[:30]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.4 * len(items) + 2), 3.2))
    ax.bar(range(len(items)), [c for _, c in items], color="#4477aa")
    ax.set_xticks(range(len(items)), [g for g, _ in items], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("frames")
    more = " (30 most common)" if len(result.groups) > 30 else ""
    ax.set_title(f"symmetry groups of {result.frames} frames{more}")
    fig.tight_layout()
    fig.savefig(out / "groups.png", dpi=120)
    plt.close(fig)
    files["groups.png"] = str(out / "groups.png")
    if floors:
        fig, axes = plt.subplots(1, len(floors), figsize=(3.4 * len(floors), 3.0), squeeze=False)
        for ax, (name, vals) in zip(axes[0], floors.items()):
            v = np.asarray(vals)
            positive = v[v > 0]
            if len(positive):
                # floors of symmetric labels are rounding noise (~1e-32); shown at the left edge
                ax.hist(np.log10(np.maximum(positive, 1e-30)), bins=30, color="#cc6677")
            else:
                ax.text(0.5, 0.5, "every floor is 0", ha="center", va="center", transform=ax.transAxes)
            ax.set_xlabel("log10 floor per entry (units²), ≥ −30")
            ax.set_title(f"{name}: {int(np.sum(v <= 0))} of {len(v)} frames exactly 0", fontsize=9)
        axes[0][0].set_ylabel("frames")
        fig.tight_layout()
        fig.savefig(out / "floors.png", dpi=120)
        plt.close(fig)
        files["floors.png"] = str(out / "floors.png")
    return files
