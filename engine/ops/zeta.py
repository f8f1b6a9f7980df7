"""The Hurwitz zeta function as ATen's CPU kernels evaluate it, for ``polygamma(n >= 2)``.

ATen's ``zeta(x, q)`` is Cephes' algorithm (direct sum of ``k ** -x`` until the terms stop
counting or ``q + k`` passes 9, then an Euler-Maclaurin tail with Bernoulli-number
coefficients), accumulated in double for float and double inputs, with its first term
``q ** -x`` taken in the input's precision.  scipy evaluates the same series but its
polygamma multiplies by ``gamma(n + 1)`` in double, so float32 results differ from torch's
by an ulp or more, and it returns 0 at ``q = +inf`` where the series gives ``0 * inf = nan``.
Here each element runs the series with the element-wise early exits torch's scalar loop
takes (the still-running elements are carried in compressed arrays).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np
import scipy.special as sc

from ..runtime import parallel as _parallel
from .operands import cast, strided, torch_layout

_MACHEP = 1.11022302462515654042e-16
# the Euler-Maclaurin coefficients (2k)! / B_2k of Cephes' zeta
_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
      7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
      -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)


def hurwitz_zeta(x: float, q: np.ndarray, acc=np.float64) -> np.ndarray:
    """``zeta(x, q)`` for a scalar ``x`` (an integer >= 2 here) and float ``q``, accumulated
    in ``acc``."""
    q = np.asarray(q)
    out = np.empty(q.shape, acc)
    if x == 1:
        out.fill(np.inf)
        return out
    if x < 1:
        out.fill(np.nan)
        return out
    flat_q = q.reshape(-1)
    flat = out.reshape(-1)
    with np.errstate(all="ignore"):
        pole = (flat_q <= 0) & (flat_q == np.floor(flat_q))
        non_integer = (flat_q <= 0) & ~pole & (x != np.floor(x))
        flat[pole] = np.inf
        flat[non_integer] = np.nan
        idx = np.flatnonzero(~pole & ~non_integer)
        qs = flat_q[idx]
        x = acc(x)
        s = np.power(qs, qs.dtype.type(-x)).astype(acc)  # in the input's precision
        a = qs.astype(acc)
        b = np.zeros_like(a)
        long = a < -_LONG_SUM  # thousands of terms below 9: summed one value at a time
        if long.any():
            _long_sums(x, flat, idx[long], s[long], a[long])
            keep = ~long
            idx, s, a, b = idx[keep], s[keep], a[keep], b[keep]
        i = 0
        while idx.size:  # the direct sum, over the elements still summing
            i += 1
            a += 1.0
            b = np.power(a, -x)
            s += b
            converged = (-_MACHEP * s < b) & (b < _MACHEP * s)
            keep = ~converged
            if i >= 9:
                keep &= a <= 9.0  # past the first nine terms, sum on only below 9 (not NaN)
            if not keep.all():
                flat[idx[converged]] = s[converged]
                if i >= 9:
                    moving = ~keep & ~converged
                    _euler_maclaurin(x, flat, idx[moving], s[moving], a[moving], b[moving])
                idx, s, a, b = idx[keep], s[keep], a[keep], b[keep]
    return out


_LONG_SUM = 64.0
_CHUNK = 1 << 16


def _long_sums(x, flat, idx, s0, q):
    """The direct sum for elements far below 9 (one term per unit step up to 9), each
    distinct value's terms evaluated together and added in order (a running sum, as the scalar
    loop adds them), then the tail; a Python loop over those steps would take seconds."""
    acc = s0.dtype.type
    values, first, inverse = np.unique(q, return_index=True, return_inverse=True)
    for u, (value, start) in enumerate(zip(values, first, strict=True)):
        where = idx[inverse.reshape(-1) == u]
        s, done, step = s0[start], False, 0
        while not done:
            k = np.arange(step + 1, step + _CHUNK + 1, dtype=acc)
            a = value + k  # exact: q + k is a multiple of q's ulp no larger than |q|
            b = np.power(a, -x)
            sums = np.cumsum(np.concatenate(([s], b)))[1:]
            stop = (-_MACHEP * sums < b) & (b < _MACHEP * sums)
            stop |= (k >= 9) & ~(a <= 9.0)
            if stop.any():
                j = int(np.argmax(stop))
                if (-_MACHEP * sums[j] < b[j]) & (b[j] < _MACHEP * sums[j]):
                    flat[where] = sums[j]
                else:
                    _euler_maclaurin(x, flat, where, np.full(where.size, sums[j]),
                                     np.full(where.size, a[j]), np.full(where.size, b[j]))
                done = True
            else:
                s, step = sums[-1], step + _CHUNK


def _euler_maclaurin(x, flat, idx, s, w, b):
    """The series' tail for the elements past the direct sum, written into ``flat``."""
    if not idx.size:
        return
    acc = s.dtype.type
    s = s + b * w / (x - acc(1.0))
    s -= acc(0.5) * b
    factor, k = acc(1.0), acc(0.0)  # the same for every element
    for coefficient in _A:
        factor *= x + k
        b = b / w
        t = factor * b / coefficient
        s = s + t
        done = np.abs(t / s) < _MACHEP
        if done.any():
            flat[idx[done]] = s[done]
            keep = ~done
            idx, s, b, w = idx[keep], s[keep], b[keep], w[keep]
            if not idx.size:
                return
        k += acc(1.0)
        factor *= x + k
        b = b / w
        k += acc(1.0)
    flat[idx] = s


def _libm():
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        lib.lgammaf.restype = lib.expf.restype = ctypes.c_float
        lib.lgammaf.argtypes = lib.expf.argtypes = [ctypes.c_float]
        return lib
    except (OSError, AttributeError):
        return None


_LIBM = _libm()


def _factorial(n: int, dtype) -> np.generic:
    """``exp(lgamma(n + 1))`` as torch's kernel takes it: in double for double, else through
    the C library's float lgammaf/expf (numpy's float32 exp rounds differently)."""
    if dtype == np.float64:
        return np.float64(math.exp(sc.gammaln(n + 1.0)))
    if _LIBM is not None:
        return np.float32(_LIBM.expf(_LIBM.lgammaf(n + 1.0)))
    return np.float32(math.exp(sc.gammaln(n + 1.0)))


def _zeta(x: float, q: np.ndarray, acc) -> np.ndarray:
    """``hurwitz_zeta`` over a flat copy of ``q``, split over threads when big (each element
    is its own series, so the split does not change a value), laid out as TensorIterator
    lays out an elementwise result."""
    flat = np.ascontiguousarray(q).reshape(-1)

    def part(values, out=None):
        if out is None:
            return hurwitz_zeta(x, values, acc)
        out[...] = hurwitz_zeta(x, values, acc)
        return out

    out = _parallel.elementwise(part, flat).reshape(q.shape)
    return torch_layout(out, (q,)) if strided(q) else out  # an elementwise result's layout


def polygamma(n: int, x: np.ndarray) -> np.ndarray:
    """torch's ``polygamma(n >= 2, x)``: ``(-1) ** (n + 1) * n! * zeta(n + 1, x)``, the
    factorial as ``exp(lgamma(n + 1))``.  Double and float sum the zeta series in double and
    multiply in their own precision; half sums it in float, rounds it to half, and multiplies
    in float (C++'s Half * float is a float), rounding once at the end."""
    dtype = x.dtype
    if dtype == np.float16:
        zeta = _zeta(n + 1, cast(x, np.float32), np.float32).astype(np.float16)
        product = np.float32(1 if n % 2 else -1) * _factorial(n, np.float32)
        return np.asarray(product * zeta.astype(np.float32)).astype(np.float16)
    zeta = _zeta(n + 1, x, np.float64).astype(dtype)
    sign = dtype.type(1 if n % 2 else -1)
    return np.asarray((sign * _factorial(n, dtype)) * zeta, dtype)
