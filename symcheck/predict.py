"""analyze(task): can an equivariant network learn it, what is the loss floor, and what would fix it."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .breaking import Suggestion, neumann_table, suggest
from .compat import renamed_keyword
from .defaults import FEATURE_LMAX, ROUNDING_DISPLACEMENT, TARGET_RTOL
from .fixed import one_torch_thread, project
from .groups import DEFAULT_TOL, PointGroup, check_tolerance, symmetry_group
from .groups.naming import kind_family
from .groups.stabilizer import field_change, listed_operations, proper_part, same_group, stabilizer
from .near import NEAR_TOL, NearSymmetry, near_symmetry
from .task import Task


@dataclass(frozen=True)
class Obstruction:
    """An element of G that moves the target, and by how much.

    Parameters
    ----------
    operation : the element, e.g. ``"C4 (axis 0,0,1)"`` (crystals add the translation).
    change : max |g·y − y| over the target's entries (target units).
    kind : the element's kind without its power (``"C4"`` for C4 and C4^3, ``"σv"``), for counting.
    """

    operation: str
    change: float
    kind: str = ""


@dataclass(frozen=True)
class Analysis:
    """What symcheck predicts for a task.

    Parameters
    ----------
    input_group : G, the symmetry group of the input (G ∩ SO(3) when ``so3``).
    target_group : H = Stab_G(target), the part of G the target keeps.
    learnable : H = G: some G-equivariant model can output the target exactly.
    loss_floor : exact minimal MSE (mean over all target entries, as torch.nn.MSELoss) of any
        G-equivariant model: ‖y − P_G y‖² / (number of entries).
    mean_square : mean of the target's squared entries (the loss of predicting zero).
    best_output : P_G y, the closest output any equivariant model can give.
    end_group : for displacement tasks, the end structure's own group (for information).
    obstructions : elements of G that move the target.
    suggestions : ranked symmetry-breaking inputs (empty when learnable).
    neumann : invariant components per irrep of the input group: the global outputs it allows.
    so3 : the analysis is for a rotation-only model.
    tol : distance tolerance (Å) used for the groups.
    near_symmetry : a higher group close to the input that the target breaks (or None).
    warnings : plain-words warnings: near symmetry, a frame picked from a multi-frame file,
        a target that moves nothing, an end structure more symmetric than the target (atoms
        probably out of order).
    feature_lmax : highest L of the breaking search.
    near_tol : how far (Å) the near-symmetry check looked (0: off).
    target_rtol : relative tolerance for "the operation keeps the target".
    setting : the irrep-label setting of the suggestions (None: the default one).
    """

    task: Task
    input_group: PointGroup
    target_group: PointGroup
    learnable: bool
    loss_floor: float
    mean_square: float
    best_output: np.ndarray
    end_group: PointGroup | None
    obstructions: tuple[Obstruction, ...]
    suggestions: tuple[Suggestion, ...]
    neumann: dict
    so3: bool
    tol: float
    near_symmetry: NearSymmetry | None = None
    warnings: tuple[str, ...] = ()
    feature_lmax: int = FEATURE_LMAX
    near_tol: float = NEAR_TOL
    target_rtol: float = TARGET_RTOL
    setting: str | None = None

    def obstruction_counts(self) -> dict[str, int]:
        """How many obstructing elements of each kind (``{"C4": 2, "σv": 2}``), in the order first met."""
        counts: dict[str, int] = {}
        for o in self.obstructions:
            counts[o.kind] = counts.get(o.kind, 0) + 1
        return counts

    @property
    def worst_obstruction(self) -> Obstruction | None:
        """The obstructing element that changes the target most (None when learnable)."""
        return max(self.obstructions, key=lambda o: o.change, default=None)

    @property
    def floor_fraction(self) -> float:
        """loss_floor as a fraction of the target's mean square."""
        return self.loss_floor / self.mean_square if self.mean_square > 0 else 0.0

    @property
    def verdict(self) -> str:
        """One line: learnable or not, with the groups and the floor."""
        G, H = self.input_group.pretty_name, self.target_group.pretty_name
        if self.learnable:
            return f"LEARNABLE: input {G}, target keeps all of {H}; loss floor {self.loss_floor:.3e}"
        return (
            f"NOT LEARNABLE: input {G}, target keeps only {H}; loss floor {self.loss_floor:.3e} "
            f"({100 * self.floor_fraction:.0f}% of the target's mean square)"
        )

    @property
    def fix(self) -> str | None:
        """One line: the best fix, or None when learnable or nothing found."""
        if self.learnable or not self.suggestions:
            return None
        best = self.suggestions[0]
        if not best.reaches_target:
            return f"no single feature up to L={max(s.L for s in self.suggestions)} reaches " \
                   f"{self.target_group.pretty_name}; the closest is {best.description}"
        return f"add {best.description}"

    def neumann_by_irrep(self) -> dict | None:
        """Copies of each irrep of G in each O(3) irrep L ≤ lmax (finite point groups; else None)."""
        G = self.input_group
        if G.kind != "point":
            return None
        from .groups.decomposition import neumann_by_irrep

        lmax = max(int(k[:-1]) for k in self.neumann)
        return neumann_by_irrep(G, lmax)

    def as_dict(self) -> dict:
        """Plain-JSON form used by ``symcheck analyze --json``."""

        def group(g: PointGroup | None):
            if g is None:
                return None
            if g.periodic:  # crystals: the crystal class, and the space group itself
                return {"point_group": g.point_group, "order": g.order, "hermann_mauguin": g.hermann_mauguin,
                        "space_group": g.international, "space_group_number": g.number}
            return {"point_group": g.name, "order": g.order, "hermann_mauguin": g.hermann_mauguin}

        return {
            "task": self.task.name,
            "irreps": self.task.irreps,
            "per_point": self.task.per_point,
            "encoding": self.task.encoding,
            "input": group(self.input_group),
            "target": group(self.target_group),
            "end_structure": group(self.end_group),
            "learnable": self.learnable,
            "loss_floor": self.loss_floor,
            "mean_square": self.mean_square,
            "floor_fraction": self.floor_fraction,
            "verdict": self.verdict,
            "fix": self.fix,
            "obstructions": [{"operation": o.operation, "change": o.change} for o in self.obstructions],
            "suggestions": [s.as_dict() for s in self.suggestions],
            "neumann": self.neumann,
            "so3": self.so3,
            "tol": self.tol,
            "near_symmetry": None if self.near_symmetry is None else self.near_symmetry.as_dict(),
            "warnings": list(self.warnings),
            "settings": {"tol": self.tol, "so3": self.so3, "feature_lmax": self.feature_lmax,
                         "near_tol": self.near_tol, "target_rtol": self.target_rtol, "setting": self.setting},
        }


def analyze(
    task: Task,
    tol: float = DEFAULT_TOL,
    so3: bool = False,
    feature_lmax: int = FEATURE_LMAX,
    near_tol: float = NEAR_TOL,
    target_rtol: float = TARGET_RTOL,
    setting: str | None = None,
    *,
    lmax: int | None = None,
) -> Analysis:
    """Predict whether an equivariant network can learn the task, its loss floor, and the fixes.

    Parameters
    ----------
    task : the input structure and target.
    tol : distance tolerance in Å for the symmetry groups.
    so3 : analyse a rotation-only model (G ∩ SO(3); parity ignored).
    feature_lmax : highest L of the candidate symmetry-breaking features.
    near_tol : look this far (Å) for a higher group that the input nearly has and the target
        breaks (a near-symmetry warning); 0 turns the check off.
    target_rtol : an operation keeps the target when it changes no entry by more than this
        fraction of the target's largest entry.
    setting : irrep-label setting of the suggestions (``symcheck.groups.characters``: None for
        the default, ``"atoms"`` or ``"bonds"``); an unknown one raises SymcheckError.
    lmax : deprecated name of ``feature_lmax`` (warns; removed in the next release).
    """
    from .groups.naming import check_setting

    feature_lmax = renamed_keyword("analyze", "lmax", "feature_lmax", lmax, feature_lmax, FEATURE_LMAX)
    setting = check_setting(setting)
    with one_torch_thread():
        report = _analyze(task, check_tolerance(tol), so3, feature_lmax, near_tol, target_rtol, setting)
    # the settings travel with the prediction, so that training tests exactly this one
    return replace(report, feature_lmax=feature_lmax, near_tol=near_tol, target_rtol=target_rtol, setting=setting,
                   warnings=report.warnings + task_warnings(task, report))


def task_warnings(task: Task, report: Analysis) -> tuple[str, ...]:
    """Plain-words warnings about the task itself: what was dropped or looks odd.

    - notes the task carries (e.g. which frame of a multi-frame file was used);
    - a displacement target that moves no point ("nothing moves": the task is trivially learnable);
    - an end structure that shares more operations with G than H has: each operation of G that
      also maps the end structure onto itself would keep the displacements if the atoms
      corresponded, so the target keeping fewer means the two files list the atoms in
      different orders (rectangle → square, with E = D4h larger than H = D2h, is not this case:
      every operation G and E share is in H).
    """
    out = list(getattr(task, "notes", ()))
    d = task.displacements
    if d is not None and not np.any(np.abs(d) > 0):
        out.append(f"{task.name}: the target is identical to the input (nothing moves)")
    E, H = report.end_group, report.target_group
    if E is not None and _shared_rotations(report.input_group, E) > _shared_rotations(H, H):
        out.append(
            f"the end structure is {E.pretty_name} but the target keeps only {H.pretty_name}: the atoms of the "
            "two files are probably not in the same order (--match, match=True, pairs them by distance)"
        )
    return tuple(out)


def _shared_rotations(A, B, matrix_atol: float = 0.02) -> int:
    """How many distinct matrices R of A's operations are also matrices of B's (0 for infinite groups).

    Only the matrices are compared (each group's operations act about its own center, and a
    crystal's operations repeat R with different translations). ``matrix_atol`` bounds the entries of
    R − R' (dimensionless) for two matrices to count as one.
    """
    if A.infinite or B.infinite:
        return 0
    mats_a, mats_b = _distinct(_matrices(A), matrix_atol), _distinct(_matrices(B), matrix_atol)
    diff = np.abs(mats_a[:, None] - mats_b[None]).max(axis=(2, 3))
    return int(np.sum(diff.min(axis=1) < matrix_atol))


def _matrices(G) -> np.ndarray:
    """The operations' matrices (a crystal's coset representatives: one per rotation)."""
    return np.array([op.matrix for op in (G.coset_representatives if G.periodic else G.operations)])


def _distinct(mats: np.ndarray, matrix_atol: float) -> np.ndarray:
    """The matrices in order, each kept unless it is within ``matrix_atol`` of one kept before."""
    keep = np.empty_like(mats)
    n = 0
    for m in mats:  # each against every kept matrix at once
        if not n or not np.any(np.abs(keep[:n] - m).max(axis=(1, 2)) < matrix_atol):
            keep[n] = m
            n += 1
    return keep[:n]


def _analyze(task: Task, tol: float, so3: bool, feature_lmax: int, near_tol: float, target_rtol: float,
             setting: str | None = None) -> Analysis:
    s, y = task.structure, task.target
    reuse: dict = {}  # the input's cell groups, for the near-symmetry ladder over the same atoms
    G = symmetry_group(s, tol, reuse=reuse)
    if so3:
        G = proper_part(G, s)
    G = G.in_setting(setting)  # operations named as the labels' setting names them (C2′/σv)
    # the target is compared relative to its own size: its units are not Å, and a small target
    # must not count as symmetric just for being small
    ytol = target_rtol * float(np.max(np.abs(y), initial=0.0))
    rounding = task.end is not None and float(np.max(np.abs(task.displacements), initial=0.0)) <= ROUNDING_DISPLACEMENT
    if rounding:  # no entry of the target can change by more than twice its largest: every operation keeps it
        ytol = 2 * float(np.max(np.abs(y), initial=0.0))
    H = stabilizer(G, s, y, task.irreps, task.per_point, ytol)
    best = project(G, task.irreps, y, task.per_point)
    floor = float(np.mean((y - best) ** 2))
    learnable = same_group(H, G)
    change = field_change(G, y, task.irreps, task.per_point)
    obstructions = tuple(
        Obstruction(op.label(), float(c), kind_family(op.kind))
        for op, c in zip(listed_operations(G), change) if c > ytol
    )
    suggestions = () if learnable else tuple(
        suggest(G, H, s, feature_lmax, y, task.irreps, task.per_point, setting=setting)
    )
    end_group = None
    if task.end is not None:
        end_group = symmetry_group(task.end, tol)
        if so3:
            end_group = proper_part(end_group, task.end)
    near = near_symmetry(task, G, tol, near_tol, reuse) if not so3 else None
    warnings = (near.warning,) if near is not None else ()
    if rounding and np.any(task.displacements):  # exactly zero has its own warning
        warnings += (f"the displacements are rounding, not a distortion (largest "
                     f"{float(np.max(np.abs(task.displacements))):.2g} Å ≤ {ROUNDING_DISPLACEMENT:g} Å): the target "
                     "counts as zero and keeps the input's group",)
    return Analysis(task, G, H, learnable, floor, task.mean_square, best, end_group, obstructions,
                    suggestions, neumann_table(G, feature_lmax), so3, tol, near, warnings)
