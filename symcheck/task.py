"""Task: an input structure and the target an equivariant network should produce from it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .compat import renamed_keyword
from .defaults import SIGNAL_LMAX
from .errors import SymcheckError
from .o3 import Irreps
from .structure import Structure

ENCODINGS = ("signal", "vector")


def signal_irreps(signal_lmax: int) -> str:
    """Irreps of the tutorial's spherical signal up to L = signal_lmax: 0e+1o+2e+…, parity (−1)^l."""
    return "+".join(f"{l}{'e' if l % 2 == 0 else 'o'}" for l in range(signal_lmax + 1))


def peak_signal(vectors: np.ndarray, signal_lmax: int) -> np.ndarray:
    """Per-row spherical signal up to L = signal_lmax with its peak at each vector (e3nn
    ``SphericalTensor(signal_lmax, 1, -1)``).

    The tutorial's encoding of a displacement; a zero vector gives a zero signal. numpy only
    (symcheck.o3), equal to e3nn's to 1e-12 (tests/test_o3.py).
    """
    from .o3 import signal_with_peaks_at

    return signal_with_peaks_at(np.asarray(vectors, dtype=float).reshape(-1, 3), signal_lmax)


@dataclass(frozen=True)
class Task:
    """What a network is asked to learn: ``structure`` ↦ ``target``.

    Parameters
    ----------
    structure : the input (positions in Å, species, optional features).
    target : (N, d) per point, or (d,) for a global quantity, rows in the basis of ``irreps``.
    irreps : e3nn irreps string of one target row, e.g. ``"1o"`` (a vector), ``"0e+2e"``.
    per_point : True for a field on the points, False for one global quantity.
    end : for displacement tasks, the structure the points move to.
    encoding : for displacement tasks, ``"signal"`` or ``"vector"``.
    name : a short description (``start → end`` for displacement tasks).
    notes : plain-words notes on how the task was built (e.g. which frame of a multi-frame
        file); ``analyze`` reports them among its warnings.
    """

    structure: Structure
    target: np.ndarray
    irreps: str = "1o"
    per_point: bool = True
    end: Structure | None = field(default=None, compare=False)
    encoding: str | None = None
    name: str = ""
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self):
        d = Irreps(self.irreps).dim  # raises on an unknown irreps string
        try:
            y = np.array(self.target, dtype=float)
        except (TypeError, ValueError):
            raise SymcheckError("target is not an array of numbers") from None
        n = len(self.structure)
        want = (n, d) if self.per_point else (d,)
        if self.per_point and y.ndim == 1 and d == 1:
            y = y[:, None]
        if y.shape != want:
            raise SymcheckError(
                f"target of shape {y.shape} does not match irreps {self.irreps!r} "
                f"({'per point' if self.per_point else 'global'}: expected {want})"
            )
        if not np.all(np.isfinite(y)):
            raise SymcheckError("target contains NaN or inf")
        y.setflags(write=False)
        object.__setattr__(self, "target", y)

    @classmethod
    def displacement(
        cls,
        start: Structure,
        end: Structure,
        encoding: str = "signal",
        signal_lmax: int = SIGNAL_LMAX,
        match: bool = False,
        *,
        lmax: int | None = None,
    ) -> Task:
        """Move each point of ``start`` to its place in ``end``; the target is d_i = end_i − start_i.

        Parameters
        ----------
        start, end : structures with the same number of points and species (points correspond
            by order unless ``match``).
        encoding : ``"signal"`` (the tutorial's spherical signal peaked at d_i, L ≤ signal_lmax) or
            ``"vector"`` (d_i itself, irreps 1o, Å).
        signal_lmax : highest L of the signal encoding.
        match : find the correspondence by a minimal total squared displacement (per species).
        lmax : deprecated name of ``signal_lmax`` (warns; removed in the next release).
        """
        signal_lmax = renamed_keyword("Task.displacement", "lmax", "signal_lmax", lmax, signal_lmax, SIGNAL_LMAX)
        names = f"{start.source or 'start'} → {end.source or 'end'}"
        if encoding not in ENCODINGS:
            raise SymcheckError(f"unknown encoding {encoding!r} (use one of: {', '.join(ENCODINGS)})")
        if not isinstance(signal_lmax, (int, np.integer)) or isinstance(signal_lmax, bool) or signal_lmax < 1:
            raise SymcheckError(f"signal_lmax must be a positive integer, got {signal_lmax!r}")
        if len(start) != len(end):
            raise SymcheckError(
                f"{names}: different atom counts ({len(start)} in {start.source or 'start'}, "
                f"{len(end)} in {end.source or 'end'})"
            )
        if match:
            end = _matched(start, end)
        elif start.species != end.species:
            i = next(k for k, (a, b) in enumerate(zip(start.species, end.species)) if a != b)
            raise SymcheckError(
                f"{names}: species differ at point {i} ({start.species[i]} vs {end.species[i]}); "
                "give the points in the same order or use match=True (--match)"
            )
        d = end.positions - start.positions
        if start.periodic:
            if end.cell is None or not np.allclose(start.cell, end.cell, atol=1e-6):
                raise SymcheckError(f"{names}: the two periodic structures have different cells")
            # the shortest displacement through the periodic images
            frac = np.linalg.solve(start.cell.T, d.T).T
            d = (frac - np.round(frac)) @ start.cell
        if encoding == "vector":
            return cls(start, d, "1o", True, end=end, encoding="vector", name=names)
        return cls(start, peak_signal(d, signal_lmax), signal_irreps(signal_lmax), True, end=end, encoding="signal",
                   name=names)

    @classmethod
    def from_files(
        cls,
        start_path,
        end_path,
        encoding: str = "signal",
        signal_lmax: int = SIGNAL_LMAX,
        match: bool = False,
        frame: int | None = None,
        *,
        lmax: int | None = None,
    ) -> Task:
        """A displacement task from two structure files, saying which frame of a multi-frame file it used.

        Parameters
        ----------
        start_path, end_path : structure files (anything :func:`symcheck.read` reads).
        encoding, signal_lmax, match : as :meth:`displacement`.
        frame : the frame to use from every file that holds more than one (negative counts
            from the end); None: the last frame. Giving a frame when neither file has more
            than one is an error (it would silently mean nothing).

        lmax : deprecated name of ``signal_lmax`` (warns; removed in the next release).

        The task's ``notes`` name each multi-frame file and the frame used.
        """
        from .io import frame_count, read_frame

        signal_lmax = renamed_keyword("Task.from_files", "lmax", "signal_lmax", lmax, signal_lmax, SIGNAL_LMAX)
        if frame is not None and (not isinstance(frame, (int, np.integer)) or isinstance(frame, bool)):
            raise SymcheckError(f"frame must be an integer, got {frame!r}")
        structures, notes = [], []
        # Without a frame the last one is wanted whatever the count: each file is parsed once.
        counts = [None, None] if frame is None else [frame_count(path) for path in (start_path, end_path)]
        if frame is not None and max(counts) < 2:
            raise SymcheckError(f"frame {frame} asked for, but {start_path} and {end_path} hold one frame each")
        for path, count in zip((start_path, end_path), counts):
            k = -1 if frame is None or count < 2 else int(frame)
            structure, count = read_frame(path, k)
            structures.append(structure)
            if count > 1:
                used = k % count if -count <= k < count else k
                how = "the last; --frame N (frame=N) picks another" if frame is None else "as asked"
                notes.append(f"{path} holds {count} frames; used frame {used} ({how})")
        task = cls.displacement(structures[0], structures[1], encoding=encoding, signal_lmax=signal_lmax,
                                match=match)
        return replace(task, notes=tuple(notes)) if notes else task

    @property
    def displacements(self) -> np.ndarray | None:
        """end − start per point (Å) for displacement tasks, else None."""
        return None if self.end is None else self.end.positions - self.structure.positions

    @property
    def lmax(self) -> int:
        """Highest L in the target's irreps (for the signal encoding: ``signal_lmax``)."""
        return Irreps(self.irreps).lmax

    @property
    def mean_square(self) -> float:
        """Mean of the target's squared entries (the loss of predicting zero)."""
        return float(np.mean(self.target**2))


def _matched(start: Structure, end: Structure) -> Structure:
    """``end`` reordered so that point i corresponds to start's point i (minimal squared displacement)."""
    from scipy.optimize import linear_sum_assignment

    order = np.empty(len(start), dtype=int)
    sp_s, sp_e = np.array(start.species), np.array(end.species)
    if sorted(start.species) != sorted(end.species):
        raise SymcheckError(
            f"{start.source or 'start'} → {end.source or 'end'}: the two structures have different species"
        )
    for sp in np.unique(sp_s):
        i, j = np.flatnonzero(sp_s == sp), np.flatnonzero(sp_e == sp)
        cost = np.sum((start.positions[i][:, None] - end.positions[j][None]) ** 2, axis=-1)
        r, c = linear_sum_assignment(cost)
        order[i[r]] = j[c]
    feats = None if end.features is None else end.features[order]
    return Structure(end.positions[order], [end.species[k] for k in order], feats, end.feature_irreps,
                     end.cell, end.pbc, end.source)
