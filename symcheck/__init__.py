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

# name -> module that defines it; imported on first use so `import symcheck` stays light.
_LAZY = {
    "read": ".io",
    "write": ".io",
    "from_ase": ".io",
    "to_ase": ".io",
    "example": ".io",
    "point_group": ".groups",
    "PointGroup": ".groups",
    "SymmetryOperation": ".groups",
    "Task": ".task",
    "analyze": ".predict",
    "Analysis": ".predict",
    "Suggestion": ".breaking",
    "symmetrize": ".near",
    "tolerance_ladder": ".near",
    "max_displacement": ".near",
    "modes": ".modes",
    "train": ".training",
    "TrainResult": ".training",
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
