"""Run numpy's OpenBLAS on one thread (``ENGINE_BLAS_THREADS`` overrides).

The engine's matrices are small: OpenBLAS's worker threads cost more in wake-ups and
spinning (and fight torch's OpenMP threads when both libraries share a process) than they
save.  Best effort: a numpy without a bundled OpenBLAS is left alone.
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np


def limit_threads(n: int) -> bool:
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in glob.glob(os.path.join(libs, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:  # pragma: no cover
            continue
        for symbol in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                       "openblas_set_num_threads64_", "openblas_set_num_threads"):
            setter = getattr(lib, symbol, None)
            if setter is not None:
                setter(ctypes.c_int(n))
                return True
    return False


limit_threads(int(os.environ.get("ENGINE_BLAS_THREADS", "1")))
