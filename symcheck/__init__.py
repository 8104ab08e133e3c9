"""symcheck: can an E(3)-equivariant network learn this map?

Detects the symmetry of input and target, predicts learnability and the exact loss floor,
names the most symmetric symmetry-breaking input, and trains an e3nn network to confirm it.

Public API (heavy dependencies such as torch, e3nn and sympy load only when a function needs them)::

    import symcheck as sc
    task = sc.Task.displacement(sc.read("square.xyz"), sc.read("rectangle.xyz"))
    report = sc.analyze(task)
    result = sc.train(task, breaking=report.suggestions[0])
"""

from importlib import import_module

from .errors import SymcheckError
from .structure import Structure

__version__ = "0.1.0"

# name -> module that defines it; imported on first use so `import symcheck` stays light. The CLI
# (cli/) uses only these names: a function that moves between modules changes one line here.
_LAZY = {
    "read": ".io",
    "write": ".io",
    "from_ase": ".io",
    "to_ase": ".io",
    "example": ".io",
    "point_group": ".groups",
    "space_group": ".groups",
    "symmetry_group": ".groups",
    "PointGroup": ".groups",
    "SpaceGroup": ".groups",
    "SymmetryOperation": ".groups",
    "DEFAULT_TOL": ".defaults",
    "check_setting": ".groups.naming",
    "character_table": ".groups.characters",
    "subgroup_lattice": ".groups.lattice",
    "draw_lattice": ".plots",
    "modes_figure": ".plots.modes",
    "operations_by_kind": ".tables",
    "Task": ".task",
    "SIGNAL_LMAX": ".defaults",
    "analyze": ".predict",
    "Analysis": ".predict",
    "FEATURE_LMAX": ".defaults",
    "TARGET_RTOL": ".defaults",
    "Suggestion": ".breaking",
    "parse_breaking": ".breaking",
    "symmetrize": ".near",
    "symmetrized": ".near",
    "Symmetrized": ".near",
    "tolerance_ladder": ".near",
    "max_displacement": ".near",
    "NEAR_TOL": ".defaults",
    "LABEL_RTOL": ".defaults",
    "SCAN_CHUNK_SIZE": ".defaults",
    "modes": ".distortion",
    "train": ".training",
    "TrainResult": ".training",
    "MAX_STEPS": ".training",
    "analyze_and_train": ".workflow",
    "TrainRun": ".workflow",
    "run_demo": ".demo",
    "scan": ".audit",
}

__all__ = ["Structure", "SymcheckError", "__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'symcheck' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
