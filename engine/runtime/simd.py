"""The vector width ATen's CPU kernels run at on this machine (AVX512 or AVX2), which
decides where their vectorized loop ends and the scalar tail begins.

ATen dispatches its pointwise kernels to the widest instruction set the CPU offers (or the
one ``ATEN_CPU_CAPABILITY`` names).  Their vectorized loop steps through an input two
vectors at a time and leaves the remainder to scalar code; the two paths treat NaN alike in
most kernels, but not in a few backward kernels (``x <= 0 ? a : b`` in scalar code versus a
blend selected by ``x > 0``), so an engine matching torch bit for bit has to know the step.
"""

from __future__ import annotations

import os

import numpy as np

_BYTES = {"avx512": 64, "avx2": 32, "default": 0}  # bytes per vector register


def _capability() -> str:
    chosen = os.environ.get("ATEN_CPU_CAPABILITY", "").lower()
    if chosen in _BYTES:
        return chosen
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = f.read()
    except OSError:
        return "avx2"
    if " avx512f " in flags and " avx512bw " in flags and " avx512vl " in flags:
        return "avx512"
    return "avx2" if " avx2 " in flags else "default"


CAPABILITY = _capability()
LOOP_BYTES = 2 * _BYTES[CAPABILITY]  # one step of the vectorized loop: two vectors
# some kernels (hardtanh's, the shrinks' backward) have no AVX512 build: they step as AVX2
LOOP_BYTES_AVX2 = min(LOOP_BYTES, 2 * _BYTES["avx2"])


def vectorized_lanes(x, loop_bytes: int = LOOP_BYTES):
    """Which elements of ``x`` an ATen pointwise kernel computes in its vectorized loop (True)
    rather than its scalar tail, or None when all of them are.  TensorIterator orders the
    dimensions by stride (a broadcast dimension, stride 0, keeps its place), merges the
    innermost ones while they are dense, and steps through that run ``loop_bytes`` at a time
    if its elements are adjacent (or all one element), leaving the last partial step of each
    run to scalar code; a strided run is all scalar.  The two paths round differently in some
    half kernels (the scalar one rounds each step to half)."""
    step = loop_bytes // x.itemsize
    if x.size == 0:
        return None
    strides, shape = x.strides, x.shape
    perm = list(range(x.ndim))[::-1]  # innermost first, sorted as TensorIterator does
    for i in range(1, len(perm)):
        j = i
        while j > 0 and 0 < strides[perm[j]] < strides[perm[j - 1]]:
            perm[j - 1], perm[j] = perm[j], perm[j - 1]
            j -= 1
    inner, run, expected = 0, 1, None
    for d in perm:
        if shape[d] != 1:
            if expected is not None and strides[d] != expected:
                break
            if expected is None and strides[d] not in (0, x.itemsize):
                return np.zeros(shape, bool)  # a strided run: all scalar
            expected = strides[d] * shape[d]
            run *= shape[d]
        inner += 1
    if step and inner == x.ndim and run % step == 0:
        return None
    if not step or run < step:
        return np.zeros(shape, bool)
    lanes = np.arange(run) < (run // step) * step
    out = np.empty(shape, bool)
    order = perm[::-1]  # outermost first
    out.transpose(order)[...] = lanes.reshape([shape[d] for d in order[x.ndim - inner:]])
    return out
