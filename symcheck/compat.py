"""Old keyword names kept working for one release: each use warns with a DeprecationWarning.

One name, one meaning (DESIGN.md): ``lmax`` meant three different L's, so the keywords became
``signal_lmax`` (the target's spherical signal), ``feature_lmax`` (the breaking search) and
``network_lmax`` (the model). The old spelling still works until the next release.
"""

from __future__ import annotations

import warnings
from typing import Any

from .errors import SymcheckError


def renamed_keyword(function: str, old: str, new: str, old_value: Any, new_value: Any, default: Any) -> Any:
    """The value of a renamed keyword argument: ``new_value``, or ``old_value`` when only the old name was given.

    Parameters
    ----------
    function : the function's name, for the messages (e.g. ``"analyze"``).
    old, new : the old and the new keyword.
    old_value : what was passed under the old keyword (None: not given).
    new_value : what was passed under the new keyword (its default when not given).
    default : the new keyword's default, to tell "not given" from "given".

    Warns with DeprecationWarning (pointing at the caller of ``function``) when the old keyword
    was given; raises SymcheckError when both were given with different values.
    """
    if old_value is None:
        return new_value
    warnings.warn(f"{function}({old}=...) is deprecated and will be removed in the next release; use {new}=...",
                  DeprecationWarning, stacklevel=3)
    if new_value != default and new_value != old_value:
        raise SymcheckError(f"{function}: give {new}={new_value!r} or the deprecated {old}={old_value!r}, not both")
    return old_value
