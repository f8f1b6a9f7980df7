"""Keep freed large blocks in the process heap for reuse (glibc's ``mallopt``).

numpy allocates every result with malloc.  By default glibc serves big blocks (a 1e6-element
float32 array is 4 MB) with fresh ``mmap``s or trims them off the heap when freed, so every
new array page-faults its memory in again: on a 1e6-element graph that costs several times
the arithmetic.  Raising the mmap and trim thresholds lets later arrays reuse freed memory.
Best effort: anything but glibc on Linux is left alone; ``ENGINE_MALLOC_KEEP=0`` opts out.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
KEEP_BYTES = 256 * 2**20  # blocks up to this size come from (and return to) the heap


def keep_freed_memory() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("ENGINE_MALLOC_KEEP") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP_BYTES) and mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))


keep_freed_memory()
