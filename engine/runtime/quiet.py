"""numpy's floating-point warnings off while the engine computes: torch never warns about
overflow, 0/0 or log(0), so numpy's RuntimeWarnings must not leak to the user.

``silent`` wraps an op; hot paths set ``errors`` to ``QUIET`` themselves (a token per call,
as ``silent`` does, without its frame).
"""

from __future__ import annotations

import functools

import numpy as np

try:  # setting numpy's error-state context variable directly costs ~70 ns, errstate ~1 us
    from numpy._core._ufunc_config import _extobj_contextvar as errors

    with np.errstate(all="ignore"):
        QUIET = errors.get()
except ImportError:  # pragma: no cover - private numpy API moved
    errors = QUIET = None


def silent(fn):
    """``fn`` run with numpy's floating-point warnings off."""
    if errors is None:  # pragma: no cover
        return np.errstate(all="ignore")(fn)

    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        token = errors.set(QUIET)
        try:
            return fn(*args, **kwargs)
        finally:
            errors.reset(token)

    return quiet
