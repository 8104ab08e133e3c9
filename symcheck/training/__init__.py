"""Training: the tutorial's e3nn network (fast fixed-geometry evaluation) and the training loop with its verdict.

:func:`train` trains a network on a task and returns a :class:`TrainResult`; ``symcheck.train``
is this function. Importing this package imports torch, not e3nn: what the network takes from
e3nn's construction is computed in ``spec`` (and tested against e3nn), e3nn's own modules are
imported only for the edge mode of large inputs; ``import symcheck`` imports neither.

Modules, from the ground up: ``spec`` (e3nn's paths, 3j symbols and constants without e3nn),
``cache`` (the on-disk construction cache), ``gate`` (e3nn's Gate and its column bookkeeping), ``geometry``
(graphs, edges, what is precomputed per set of positions), ``dense`` (the sparse per-layer
operators of the all-pairs mode), ``fused`` (the hand-written forward and backward pass),
``network`` (:class:`~symcheck.training.network.SeedNet`), ``optim`` (Adam), ``inputs`` (what the
network reads), ``stopping`` (step budget and verdict rules), ``equivariance``, ``result``
(:class:`TrainResult`) and ``loop`` (:func:`train`).
"""

from .loop import resolve_analysis, train
from .result import BUG, CONFIRMED, DIVERGED, NOT_CONFIRMED, VERDICTS, TrainResult
from .stopping import MAX_STEPS

__all__ = ["BUG", "CONFIRMED", "DIVERGED", "MAX_STEPS", "NOT_CONFIRMED", "VERDICTS", "TrainResult",
           "resolve_analysis", "train"]
