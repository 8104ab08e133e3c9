"""Deprecated alias of :mod:`symcheck.fixed` (group actions on fields, fixed spaces, projectors), kept one release."""

from __future__ import annotations

import warnings

from .fixed import (
    act,
    field_fixed_space,
    fixed_space,
    null_space,
    one_torch_thread,
    project,
    representation_matrix,
    wigner_D,
)

warnings.warn("symcheck.reps is deprecated; import from symcheck.fixed", DeprecationWarning, stacklevel=2)

__all__ = ["act", "field_fixed_space", "fixed_space", "null_space", "one_torch_thread", "project",
           "representation_matrix", "wigner_D"]
