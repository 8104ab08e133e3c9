"""Training: the tutorial's e3nn network (fast fixed-geometry evaluation) and the training loop with its verdict.

``symcheck.train(task, ...)`` trains and returns a :class:`TrainResult`. Importing this package
imports torch and e3nn; ``import symcheck`` does not.
"""

import sys
import types

from .loop import TrainResult, train

__all__ = ["TrainResult", "train"]


class _CallableModule(types.ModuleType):
    """Lets ``symcheck.train(task)`` work even where ``symcheck.train`` resolves to this package.

    Python binds a package's submodule as an attribute of the parent on first import, so once
    anything has imported ``symcheck.train.model``, ``symcheck.train`` is this module rather than
    the function; calling the module calls the function.
    """

    def __call__(self, *args, **kwargs):
        return train(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
