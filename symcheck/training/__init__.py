"""Training: the tutorial's e3nn network (fast fixed-geometry evaluation) and the training loop with its verdict.

:func:`train` trains a network on a task and returns a :class:`TrainResult`; ``symcheck.train``
is this function. Importing this package imports torch and e3nn; ``import symcheck`` does not.
"""

from .loop import MAX_STEPS, TrainResult, resolve_analysis, train

__all__ = ["MAX_STEPS", "TrainResult", "resolve_analysis", "train"]
