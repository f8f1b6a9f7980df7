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
