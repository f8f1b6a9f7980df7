"""Random samplers that produce PyTorch's CPU bits exactly, as numpy arrays.

Each sampler takes an ``engine.random.Generator``, a shape (or parameter arrays) and a numpy
dtype, consumes the generator exactly as ATen's CPU kernel does (same number and width of
draws, same order) and returns the values ATen writes, element for element in C order (the
order a contiguous output is filled). What "exactly" took:

* uniform: ``random()`` (32 bits) for float32/float16, ``random64()`` for float64, masked to
  24/53 bits, scaled, then ``fma(x, to - from, from)``: the kernel is compiled with FMA
  contraction, and a value that rounds up to ``to`` becomes ``from``.
* normal of 16 or more contiguous elements (``normal_fill``): all uniforms first, then
  Box-Muller on blocks of 16 (u1 = first 8, u2 = last 8) and, when the size is not a multiple
  of 16, 16 fresh uniforms that overwrite the last 16 values. float32 (and float16/bfloat16,
  computed in float32 then rounded) uses the AVX2 ``log256_ps``/``sincos256_ps`` polynomials
  exactly as GCC compiled them (which multiply-adds are fused was read off libtorch_cpu's
  machine code); float64 calls glibc's ``log``, ``sin``, ``cos`` (Python's ``math`` module is
  the same glibc) and ``fma``.
* normal of fewer than 16 elements, or non-contiguous: the scalar Box-Muller of
  ``normal_distribution<double>``, whose second value is cached in the generator and served
  by the next scalar normal draw (``randn(3)`` leaves one behind).
* The other distributions are ATen's scalar transformations of one double uniform per
  element, with glibc's functions (``log1p``, ``tan``, ``exp``, ``log``); numpy's own
  ``np.log`` & co differ from glibc in the last bit, so the glibc ones are mapped over the
  elements (the cost of exactness: about 50 ns per element and function).

Integration (which public op needs which sampler; nothing is wired yet). ``gen`` is the
``generator=`` argument or ``engine.random.default_generator``; shapes are tuples, dtypes
numpy dtypes; every sampler returns a fresh C-ordered array of that shape and dtype.

* ``engine.random`` replaces ``_creation.Generator``/``default_generator``/``manual_seed``/
  ``initial_seed``; ``engine/__init__`` should also export ``seed``, ``get_rng_state``,
  ``set_rng_state`` and ``import engine.random as random`` (``torch.random.fork_rng``).
* ``torch.rand(*size)``, ``rand_like``: ``uniform(gen, shape, dtype)``.
  ``Tensor.uniform_(a, b)`` (and ``nn.init.uniform_``, ``kaiming_uniform_``, ``xavier_uniform_``,
  ``nn.Linear``'s init, which all call it): ``uniform(gen, x.shape, x.dtype, a, b)``.
* ``torch.randn``, ``randn_like``: ``normal(gen, shape, dtype)``. ``Tensor.normal_(m, s)``
  (``nn.init.normal_``, ``xavier_normal_``, ``kaiming_normal_``) and ``torch.normal(m, s,
  size)`` with floats: ``normal(gen, x.shape, x.dtype, m, s, contiguous=x.is_contiguous())``.
  ``torch.normal(Tensor, Tensor | float)`` / ``(float, Tensor)``: ``normal_tensor(gen, mean,
  std)`` (arrays or floats).
* ``torch.randint(low=0, high, size, dtype=int64)``, ``randint_like(x, low, high)``:
  ``random_from_to(gen, shape, dtype, low, high)``. ``Tensor.random_()``, ``random_(to)``,
  ``random_(from, to)``, ``random_(from, None)``: ``random_(gen, x.shape, x.dtype, from_, to)``
  with ``from_=None, to=None`` / ``None, to`` / ``from_, to`` / ``from_, None``.
* ``torch.randperm(n, dtype=int64)``: ``randperm(gen, n, dtype)``.
* ``torch.bernoulli(p_tensor)``: ``bernoulli_tensor(gen, p)``; ``torch.bernoulli(x, p=0.3)``
  and ``Tensor.bernoulli_(0.3)``: ``bernoulli_scalar(gen, x.shape, x.dtype, 0.3)``;
  ``Tensor.bernoulli_(p_tensor)``: ``bernoulli_tensor(gen, broadcast_to(p, x.shape),
  x.dtype)`` (p's dtype picks the precision: float64 p draws 64 bits, others 32).
* ``F.dropout(x, p, training=True)`` / ``nn.Dropout``: torch computes ``noise =
  empty_like(x).bernoulli_(1 - p); noise.div_(1 - p); x * noise`` (grad_fn ``MulBackward0``;
  ``inplace=True`` does ``x.mul_(noise)``): ``noise = dropout_noise(gen, x.shape, x.dtype,
  p)``. p == 0, p == 1 and training=False draw nothing. ``dropout1d/2d/3d`` (feature
  dropout): the same with shape ``(N, C, 1, ..., 1)`` broadcast over x. ``alpha_dropout``:
  ``noise = bernoulli_scalar(gen, x.shape, x.dtype, 1 - p)``, then with alpha =
  1.7580993408473766 and ``a = 1 / sqrt((alpha**2 * p + 1) * (1 - p))``: ``b = (noise - 1) *
  (alpha * a) + alpha * a * p``; ``x * (noise * a) + b`` (checked bit-exact in float64).
* ``F.rrelu(x, lower, upper, training=True)`` (grad_fn ``RreluWithNoiseBackward0``):
  ``output, noise = rrelu_noise(gen, x, lower, upper)``; float16 is not implemented by torch.
* ``torch.multinomial(probs, n, replacement)``: ``multinomial(gen, probs, n, replacement)``.
* ``torch.poisson(rates)``: ``poisson(gen, rates)``.
* ``Tensor.exponential_(l)``, ``geometric_(p)``, ``log_normal_(m, s)``, ``cauchy_(m, s)``:
  ``exponential``/``geometric``/``log_normal``/``cauchy(gen, x.shape, x.dtype, ...)``.
* DataLoader: every ``iter(loader)`` draws its base seed with
  ``torch.empty((), dtype=torch.int64).random_()`` from the default generator; with
  ``shuffle=True`` the RandomSampler then draws one more such int64, seeds a fresh Generator
  with it and yields ``randperm(n)`` of that generator (checked against torch 2.13).
* In-place samplers on a non-contiguous tensor fill it in memory order (TensorIterator
  walks the output by increasing stride): assign the values through
  ``memory_order_view(x_array)``, and pass ``contiguous=False`` to ``normal``.

Scope: torch 2.13's x86-64 CPU build on a CPU with AVX2 (its distribution kernels have no
AVX512 variant, so AVX2 and AVX512 machines draw alike). A torch running its DEFAULT
(non-AVX2) kernels, or on ARM, computes float32 normals with other math functions.
bfloat16 is not supported (numpy has no bfloat16).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import warnings

import numpy as np

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_FLOATS = (_F16, _F32, _F64)


def _numel(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


# ====================================================================== exact arithmetic
def _libm(fn, x: np.ndarray) -> np.ndarray:
    """glibc's double ``fn`` on every element (numpy's SIMD versions differ in the last bit)."""
    flat = np.asarray(x, np.float64).ravel()
    out = np.fromiter(map(fn, flat.tolist()), np.float64, flat.size)
    return out.reshape(np.shape(x))


def _log(x: float) -> float:
    """glibc's log, which returns -inf at 0 where ``math.log`` raises."""
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _exp(x: float) -> float:
    """glibc's exp, which returns inf on overflow where ``math.exp`` raises."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _add_round_to_odd(a, b):
    """a + b rounded to odd (exact when representable, else the neighbour with odd last
    bit): rounding that result again to fewer bits is correctly rounded."""
    s, err = _two_sum(a, b)
    even = (s.view(np.int64) & 1) == 0
    toward = np.where(err > 0, np.inf, -np.inf)
    return np.where((err != 0) & even, np.nextafter(s, toward), s)


def fma32(a, b, c) -> np.ndarray:
    """float32 fused multiply-add. The product of two floats is exact in float64 and so is,
    nearly always, the sum; rounding that to float32 is then the FMA. It is wrong only when
    the float64 sum was itself rounded onto a float32 halfway point: those few are nudged
    one float64 step toward the true value first."""
    exact = np.multiply(a, b, dtype=_F64)
    s = np.add(exact, c, dtype=_F64)
    bits = np.asarray(s).view(np.int64)
    # halfway patterns, and float32-subnormal results (|s| < 2**-125, whose halfway bits
    # sit elsewhere), take the careful path (in place: each pass over 1M elements counts)
    if np.ndim(bits) == 0:
        suspect = (((bits & 0x1FFFFFFF) == 0x10000000)
                   | ((bits & 0x7FF0000000000000) < 0x3820000000000000))
    else:
        low = np.bitwise_and(bits, 0x1FFFFFFF)
        suspect = np.equal(low, 0x10000000)
        np.bitwise_and(bits, 0x7FF0000000000000, out=low)
        suspect |= np.less(low, 0x3820000000000000)
    if suspect.any():  # the careful path for those elements only (a few in a million)
        exact, c = np.broadcast_arrays(exact, np.asarray(c, _F64))
        if np.ndim(s) == 0:
            return _add_round_to_odd(exact, c).astype(_F32)
        s = np.array(s)
        s[suspect] = _add_round_to_odd(exact[suspect], c[suspect])
    return s.astype(_F32)


def fma64(a, b, c) -> np.ndarray:
    """float64 fused multiply-add (Boldo & Melquiond's emulation with rounding to odd)."""
    a, b, c = (np.asarray(v, _F64) for v in (a, b, c))
    p = a * b
    split = 134217729.0  # 2**27 + 1, Dekker's splitter
    ta, tb = a * split, b * split
    ah, bh = ta - (ta - a), tb - (tb - b)
    al, bl = a - ah, b - bh
    p_err = ((ah * bh - p) + ah * bl + al * bh) + al * bl  # a*b == p + p_err exactly
    hi, lo = _two_sum(c, p_err)
    vh, vl = _two_sum(p, hi)
    return vh + _add_round_to_odd(vl, lo)


def _to_dtype(values64: np.ndarray, dtype) -> np.ndarray:
    """C++ ``static_cast<scalar_t>(double)``: float16 goes through float (c10::Half has a
    float constructor only), so it rounds twice as torch does."""
    dtype = np.dtype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow to inf, as C++ casts do
        if dtype == _F16:
            return values64.astype(_F32).astype(_F16)
        return values64.astype(dtype)


_glibc = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
_glibc.lgamma.restype = ctypes.c_double
_glibc.lgamma.argtypes = [ctypes.c_double]


def _lgamma(x: float) -> float:
    """glibc's lgamma (CPython's math.lgamma is its own implementation)."""
    return _glibc.lgamma(x)


# ====================================================================== uniforms
def _check_float(dtype, kernel: str) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in _FLOATS:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_scalar_name(dtype)}\'')
    return dtype


def _scalar_name(dtype) -> str:
    return {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(np.dtype(dtype).name, np.dtype(dtype).name)


def _unit_float(gen, n: int) -> np.ndarray:
    """``uniform_real_distribution<float>(0, 1)``: 24 bits of ``random()``."""
    return (gen._random(n) & np.uint32(0xFFFFFF)).astype(_F32) * np.float32(2.0**-24)


def _unit_double(gen, n: int) -> np.ndarray:
    """``uniform_real_distribution<double>(0, 1)``: 53 bits of ``random64()``."""
    return (gen._random64(n) & np.uint64(2**53 - 1)).astype(_F64) * 2.0**-53


def uniform(gen, shape, dtype=_F32, low=0.0, high=1.0) -> np.ndarray:
    """``Tensor.uniform_(low, high)``; ``torch.rand`` is ``uniform(gen, shape, dtype)``."""
    dtype = _check_float(dtype, "check_uniform_bounds")
    if low > high:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={_fmt(low)} > "
            f"to={_fmt(high)}")
    n = _numel(shape)
    if low == 0 and high == 1:  # x * 1 + 0 is x, and x < 1: skip the arithmetic
        draw = _unit_double if dtype == _F64 else _unit_float
        values = draw(gen, n).astype(dtype)
        if dtype == _F16:  # a float just below 1 rounds up to half 1: that becomes 0
            values[values == 1] = 0
        return values.reshape(shape)
    if dtype == _F64:
        x = _unit_double(gen, n)
        values = fma64(x, high - low, low)
        values = np.where(values == high, low, values)
    else:  # float32, and float16 computed in float32 (its opmath type)
        lo, hi = np.float32(low), np.float32(high)
        values = fma32(_unit_float(gen, n), hi - lo, lo).astype(dtype)
        top, bottom = _to_dtype(np.float64(high), dtype), _to_dtype(np.float64(low), dtype)
        values = np.where(values == top, bottom, values)
    return values.astype(dtype).reshape(shape)


def _fmt(x) -> str:
    """A double as ATen's ostream prints it (6 significant digits)."""
    text = f"{float(x):g}"
    return text


# ====================================================================== normal
def _c32(x):
    return np.float32(x)


_LOG_P = [_c32(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1,
                            -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
                            2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)]
_LOG_Q1, _LOG_Q2 = _c32(-2.12194440e-4), _c32(0.693359375)
_SQRTHF = _c32(0.707106781186547524)
_DP1, _DP2, _DP3 = _c32(-0.78515625), _c32(-2.4187564849853515625e-4), _c32(-3.77489497744594108e-8)
_SIN_P = [_c32(v) for v in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)]
_COS_P = [_c32(v) for v in (2.443315711809948e-005, -1.388731625493765e-003,
                            4.166664568298827e-002)]
_FOUR_OVER_PI = _c32(1.27323954473516)
_TWO_PI_F = _c32(2.0 * math.pi)


def _bits(x):
    return x.view(np.int32)


def _log256(x: np.ndarray) -> np.ndarray:
    """avx_mathfun's cephes ``log256_ps`` with the fused multiply-adds GCC made of it."""
    x = np.maximum(x, np.int32(0x00800000).view(_F32))
    exponent = (_bits(x).view(np.uint32) >> 23).astype(np.int32) - np.int32(0x7F)
    x = ((_bits(x) & np.int32(~0x7F800000)) | _bits(_c32(0.5))).view(_F32)
    e = exponent.astype(_F32) + _c32(1)
    small = x < _SQRTHF
    e = e - np.where(small, _c32(1), _c32(0))
    x = (x - _c32(1)) + np.where(small, x, _c32(0))
    z = x * x
    y = fma32(_LOG_P[0], x, _LOG_P[1])
    for p in _LOG_P[2:]:
        y = fma32(y, x, p)
    y = fma32(y * x, z, e * _LOG_Q1)
    y = fma32(-z, _c32(0.5), y)
    return fma32(e, _LOG_Q2, x + y)


def _sincos256(x: np.ndarray):
    """avx_mathfun's cephes ``sincos256_ps`` with GCC's fused multiply-adds."""
    sign_sin = _bits(x) & np.int32(-(2**31))
    ax = np.abs(x)
    j = ((ax * _FOUR_OVER_PI).astype(np.int32) + 1) & np.int32(~1)
    y = j.astype(_F32)
    sign_sin = sign_sin ^ ((j & 4) << 29)
    sign_cos = (~(j - 2) & 4) << 29
    use_sin_poly = (j & 2) == 0
    r = fma32(y, _DP1, ax)
    r = fma32(_DP2, y, r)
    r = fma32(y, _DP3, r)
    z = r * r
    c = fma32(_COS_P[0], z, _COS_P[1])
    c = fma32(c, z, _COS_P[2])
    c = fma32(z, z * c, -(z * _c32(0.5))) + _c32(1)
    s = fma32(_SIN_P[0], z, _SIN_P[1])
    s = fma32(s, z, _SIN_P[2])
    s = fma32(r, z * s, r)
    # the select is done with masks and adds, as in the source: keep its signed zeros
    zero = _c32(0)
    s_part, c_part = np.where(use_sin_poly, s, zero), np.where(use_sin_poly, zero, c)
    sine = s_part + c_part
    cosine = (s - s_part) + (c - c_part)
    return (_bits(sine) ^ sign_sin).view(_F32), (_bits(cosine) ^ sign_cos).view(_F32)


def _scale(values, std, mean, fma):
    """``fma(values, std, mean)``; with std 1 and mean 0 that is ``values + 0`` (which turns
    -0.0 into +0.0, as the fma does)."""
    if std == 1 and mean == 0:
        return values + values.dtype.type(0)
    return fma(values, std, mean)


def _box_muller16_f32(u: np.ndarray, mean, std) -> np.ndarray:
    """``NormalFill16<float>`` (AVX2) on rows of 16 float32 uniforms."""
    u1, u2 = _c32(1) - u[:, :8], u[:, 8:]
    radius = np.sqrt(_log256(u1) * _c32(-2))
    sine, cosine = _sincos256(_TWO_PI_F * u2)
    mean, std = _c32(mean), _c32(std)
    return np.concatenate([_scale(radius * cosine, std, mean, fma32),
                           _scale(radius * sine, std, mean, fma32)], axis=1)


def _box_muller16_f64(u: np.ndarray, mean, std) -> np.ndarray:
    """``NormalFill16<double>``: glibc log/sin/cos and an explicit fma."""
    u1, u2 = 1.0 - u[:, :8], u[:, 8:]
    radius = np.sqrt(-2.0 * _libm(math.log, u1))
    theta = (2.0 * math.pi) * u2
    return np.concatenate([_scale(radius * _libm(math.cos, theta), std, mean, fma64),
                           _scale(radius * _libm(math.sin, theta), std, mean, fma64)], axis=1)


def _normal_fill(gen, n: int, dtype: np.dtype, mean, std) -> np.ndarray:
    if dtype == _F64:
        draw, box_muller = _unit_double, _box_muller16_f64
    else:
        draw, box_muller = _unit_float, _box_muller16_f32
    blocks = n // 16
    # float and double fill the whole tensor with uniforms first; float16 (bfloat16) works
    # through a 16-value buffer, so it draws nothing for the n % 16 values it recomputes
    u = draw(gen, n if dtype != _F16 else blocks * 16)
    out = np.concatenate([u, np.zeros(n - u.size, u.dtype)])
    out[:blocks * 16] = box_muller(u[:blocks * 16].reshape(blocks, 16), mean, std).ravel()
    if n % 16:
        out[n - 16:] = box_muller(draw(gen, 16).reshape(1, 16), mean, std).ravel()
    with np.errstate(over="ignore"):
        return out.astype(dtype)  # float16: computed in float32, rounded once


def _standard_normals(gen, n: int) -> np.ndarray:
    """``n`` draws of ``normal_distribution<double>`` before its mean/std: the cached sine
    first, then (cos, sin) pairs of fresh Box-Muller; an odd sine left over is cached."""
    out = np.empty(n, _F64)
    start = 0
    if n and gen._next_double_normal is not None:
        out[0] = gen._next_double_normal
        gen._next_double_normal = None
        start = 1
    pairs = (n - start + 1) // 2
    if pairs:
        u = _unit_double(gen, 2 * pairs).reshape(pairs, 2)
        radius = np.sqrt(-2.0 * _libm(math.log1p, -u[:, 1]))
        theta = 2.0 * math.pi * u[:, 0]
        both = np.empty((pairs, 2), _F64)
        both[:, 0] = radius * _libm(math.cos, theta)
        both[:, 1] = radius * _libm(math.sin, theta)
        both = both.ravel()
        out[start:] = both[:n - start]
        if (n - start) % 2:
            gen._next_double_normal = float(both[-1])
    return out


def normal(gen, shape, dtype=_F32, mean=0.0, std=1.0, contiguous=True) -> np.ndarray:
    """``Tensor.normal_(mean, std)``; ``torch.randn`` is ``normal(gen, shape, dtype)``."""
    dtype = _check_float(dtype, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
    n = _numel(shape)
    if n >= 16 and contiguous:
        values = _normal_fill(gen, n, dtype, mean, std)
    else:
        values = _to_dtype(_scale(_standard_normals(gen, n), std, mean, fma64), dtype)
    return values.reshape(shape)


def normal_tensor(gen, mean, std, dtype=None) -> np.ndarray:
    """``torch.normal(mean, std)`` with a tensor mean and/or std (the other may be a float):
    standard normals in the broadcast shape, then ``* std + mean`` as separate ops (torch's
    ``output.mul_(std).add_(mean)``; a float std goes into ``normal_(0, std)`` instead)."""
    mean_is_tensor, std_is_tensor = isinstance(mean, np.ndarray), isinstance(std, np.ndarray)
    if dtype is None:
        dtype = (mean if mean_is_tensor else std).dtype
    dtype = np.dtype(dtype)
    if std_is_tensor and (std < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    shape = np.broadcast_shapes(np.shape(mean), np.shape(std))
    if not std_is_tensor:
        return (normal(gen, shape, dtype, 0.0, std) + mean).astype(dtype)
    values = normal(gen, shape, dtype)
    return ((values * std.astype(dtype)) + np.asarray(mean, dtype)).astype(dtype)


# ====================================================================== integers
_INT_TOP = {"bool": 1, "uint8": 255, "int8": 127, "int16": 2**15 - 1, "int32": 2**31 - 1,
            "int64": 2**63 - 1, "float16": 2**11, "float32": 2**24, "float64": 2**53}


_C_NAME = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char",
           "int16": "short int", "int32": "int", "int64": "long int", "float16": "c10::Half",
           "float32": "float", "float64": "double"}


def _check_in_range(dtype, low: int, last: int, last_name: str) -> None:
    """ATen's check_from_to_in_range: integer dtypes must hold both ends; float dtypes warn
    past 2**digits, where consecutive integers stop being representable."""
    name = _C_NAME[dtype.name]
    if dtype.kind in "biu":
        info = (0, 1) if dtype == np.bool_ else (np.iinfo(dtype).min, np.iinfo(dtype).max)
        for value, what in ((low, "from"), (last, last_name)):
            if not info[0] <= value <= info[1]:
                raise RuntimeError(f"{what} is out of bounds for {name}")
        return
    if dtype == _F16:
        for value, what in ((low, "from"), (last, last_name)):
            if not -65504 <= value <= 65504:
                raise RuntimeError(f"{what} is out of bounds for {name}")
    digits = {"float16": 11, "float32": 24, "float64": 53}[dtype.name]
    for value, what in ((low, "from"), (last, last_name)):
        if not -(2**digits) <= value <= 2**digits:
            warnings.warn(
                f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision "
                f"limitations {name} can support discrete uniform distribution only within "
                "this range. This warning will become an error in version 1.7 release, "
                "please fix the code in advance", UserWarning, stacklevel=3)


def random_from_to(gen, shape, dtype, low: int, high: int) -> np.ndarray:
    """``random_(from, to)`` / ``torch.randint``: ``draw % (to - from) + from``, with a
    64-bit draw when the range needs it (and the dtype is int64, float or double)."""
    dtype = np.dtype(dtype)
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dtype.kind == "f":
        low, high = _update_from(low, dtype), _update_to(high, dtype)
    _check_in_range(dtype, low, high - 1, "to - 1")
    return _from_range(gen, shape, dtype, high - low, low)


_DIGITS = {"float16": 11, "float32": 24, "float64": 53}


def _as_float_int(value: int, dtype) -> int:
    """``static_cast<int64_t>(static_cast<scalar_t>(value))`` (float16 through float)."""
    return int(_int_to_dtype(np.array([value], np.int64), dtype)[0])


def _update_from(low: int, dtype) -> int:
    """ATen moves a ``from`` that its dtype cannot hold exactly up to a representable one."""
    plus_one = _as_float_int(low + 1, dtype)
    if plus_one < low:
        n = abs(low + 1).bit_length() - 1
        low = plus_one + (1 << (n - _DIGITS[dtype.name] + 1))
    return low


def _update_to(high: int, dtype) -> int:
    """ATen moves a ``to`` whose predecessor its dtype rounds up down to a representable one."""
    minus_one = _as_float_int(high - 1, dtype)
    if minus_one >= high:
        n = abs(high - 1).bit_length() - 1
        high = minus_one - (1 << (n - _DIGITS[dtype.name] + 1))
    return high


def _from_range(gen, shape, dtype, span: int, base: int) -> np.ndarray:
    n = _numel(shape)
    wide = span >= 2**32 and dtype.name in ("int64", "float32", "float64")
    draws = gen._random64(n) if wide else gen._random(n).astype(np.uint64)
    offsets = draws % np.uint64(span)
    values = (offsets.astype(np.int64) + np.int64(base)) if span < 2**63 else \
        (offsets + np.uint64(base % 2**64)).view(np.int64)
    return _int_to_dtype(values, dtype).reshape(shape)


def _int_to_dtype(values: np.ndarray, dtype) -> np.ndarray:
    """``static_cast<T>(int64)``: float16 goes through float."""
    if dtype == _F16:
        return values.astype(_F32).astype(_F16)
    if dtype == np.bool_:
        return values != 0
    return values.astype(dtype)


def random_(gen, shape, dtype, low=None, high=None) -> np.ndarray:
    """``Tensor.random_()``, ``random_(to)`` (``low=0``) and ``random_(from, to)``;
    ``high=None`` with a ``low`` means up to the dtype's largest value."""
    dtype = np.dtype(dtype)
    if low is None and high is None:
        n = _numel(shape)
        top = _INT_TOP[dtype.name]
        if dtype.name in ("int64", "float64"):
            draws = gen._random64(n)
        else:
            draws = gen._random(n).astype(np.uint64)
        if dtype == np.bool_:
            return (draws & np.uint64(1)).astype(bool).reshape(shape)
        modulus = top + 1
        return _int_to_dtype((draws % np.uint64(modulus)).astype(np.int64), dtype).reshape(shape)
    if low is None:
        low = 0
    if high is not None:
        return random_from_to(gen, shape, dtype, low, high)
    top = _INT_TOP[dtype.name]
    if dtype.kind == "f" and low >= top:
        raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than or equal "
                           f"to 'to_inc' casted to dtype, but got from={low} > to_inc={top}")
    _check_in_range(dtype, low, top, "to_inc")
    return _from_range(gen, shape, dtype, top - low + 1, low)


def randperm(gen, n: int, dtype=np.int64) -> np.ndarray:
    """``torch.randperm(n)``: ATen's forward Fisher-Yates, swapping slot i with
    ``i + random() % (n - i)``."""
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    perm = list(range(n))
    if n > 1:
        spans = np.arange(n, 1, -1, dtype=np.uint64)
        jumps = (gen._random(n - 1).astype(np.uint64) % spans).astype(np.int64)
        targets = (jumps + np.arange(n - 1)).tolist()
        for i, j in enumerate(targets):
            perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm, dtype=np.int64).astype(dtype)


# ====================================================================== bernoulli & co
def bernoulli_scalar(gen, shape, dtype, p: float) -> np.ndarray:
    """``Tensor.bernoulli_(p)`` with a float p: one double uniform per element, ``u < p``."""
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}")
    hits = _unit_double(gen, _numel(shape)) < p
    return _int_to_dtype(hits.astype(np.int64), np.dtype(dtype)).reshape(shape)


def bernoulli_tensor(gen, p: np.ndarray, dtype=None) -> np.ndarray:
    """``torch.bernoulli(p)`` / ``Tensor.bernoulli_(p_tensor)``: a double uniform per
    element when p is float64, else a float one (24 bits) compared in float32."""
    dtype = np.dtype(p.dtype if dtype is None else dtype)
    if p.dtype == _F64:
        hits = _unit_double(gen, p.size) < p.ravel()
    else:
        hits = _unit_float(gen, p.size) < p.ravel().astype(_F32)
    return _int_to_dtype(hits.astype(np.int64), dtype).reshape(p.shape)


def dropout_noise(gen, shape, dtype, p: float) -> np.ndarray:
    """The noise ``F.dropout`` multiplies by: ``bernoulli_(1 - p)`` in the input's dtype,
    divided by ``1 - p`` in that dtype."""
    keep = 1.0 - p
    noise = bernoulli_scalar(gen, shape, dtype, keep)
    return (noise / np.asarray(keep, dtype)).astype(dtype)


def rrelu_noise(gen, x: np.ndarray, lower: float, upper: float):
    """``rrelu_with_noise`` in training: a double uniform in [lower, upper) for each element
    <= 0 (in C order), none for the others; returns (output, noise)."""
    flat = x.ravel()
    negative = flat <= 0
    # the bounds are first cast to the opmath type (float for float32/float16), then the
    # double uniform is scaled without FMA (this kernel is not built per CPU capability)
    opmath = _F64 if x.dtype == _F64 else _F32
    low, high = float(opmath.type(lower)), float(opmath.type(upper))
    u = _unit_double(gen, int(negative.sum()))
    slopes = (u * (high - low) + low).astype(opmath).astype(x.dtype)
    noise = np.ones_like(flat)
    noise[negative] = slopes
    out = flat.copy()
    out[negative] = flat[negative] * slopes
    return out.reshape(x.shape), noise.reshape(x.shape)


def exponential(gen, shape, dtype, lambd=1.0) -> np.ndarray:
    """``Tensor.exponential_(lambd)``: ``-1/lambd * log1p(-u)`` in double."""
    dtype = np.dtype(dtype)
    if dtype not in _FLOATS:
        raise RuntimeError("Exponential distribution is a continuous probability distribution."
                           f" dtype must be a floating point but you specified "
                           f"{_scalar_name(dtype)}")
    if not lambd > 0:
        raise RuntimeError(
            f"exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}")
    u = _unit_double(gen, _numel(shape))
    return _to_dtype((-1.0 / lambd) * _libm(math.log1p, -u), dtype).reshape(shape)


def geometric(gen, shape, dtype, p: float) -> np.ndarray:
    """``Tensor.geometric_(p)``: ``ceil(log(u) / log1p(-p))`` in double."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_fmt(p)}")
    u = _unit_double(gen, _numel(shape))
    values = np.ceil(_libm(_log, u) / math.log1p(-p))
    return _to_dtype(values, np.dtype(dtype)).reshape(shape)


def log_normal(gen, shape, dtype, mean=1.0, std=2.0) -> np.ndarray:
    """``Tensor.log_normal_(mean, std)``: ``exp`` of the scalar (cached) Box-Muller."""
    dtype = _check_float(dtype, "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_fmt(std)}")
    z = fma64(_standard_normals(gen, _numel(shape)), std, mean)
    return _to_dtype(_libm(_exp, z), dtype).reshape(shape)


def cauchy(gen, shape, dtype, median=0.0, sigma=1.0) -> np.ndarray:
    """``Tensor.cauchy_(median, sigma)``: ``median + sigma * tan(pi * (u - 0.5))``."""
    dtype = _check_float(dtype, "cauchy_cpu")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_fmt(sigma)}")
    u = _unit_double(gen, _numel(shape))
    values = fma64(sigma, _libm(math.tan, math.pi * (u - 0.5)), median)
    return _to_dtype(values, dtype).reshape(shape)


# ====================================================================== multinomial, poisson
def multinomial(gen, probs: np.ndarray, num_samples: int, replacement=False) -> np.ndarray:
    """``torch.multinomial``: without replacement (or one sample) ATen draws exponentials in
    probs' dtype and takes the top ``num_samples`` of ``probs / q``; with replacement a
    double uniform per sample is looked up in the normalised running sum."""
    rows = probs.reshape(-1, probs.shape[-1])
    if not replacement or num_samples == 1:
        q = exponential(gen, rows.shape, rows.dtype, 1.0)
        keys = (rows / q).astype(rows.dtype)
        picks = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    else:
        picks = np.empty((rows.shape[0], num_samples), np.int64)
        acc = _F32 if rows.dtype == _F16 else rows.dtype
        for i, row in enumerate(rows.astype(acc)):
            running = np.cumsum(row, dtype=acc)
            total = running[-1]
            running = (running / total).astype(acc)
            running[-1] = 1
            u = _unit_double(gen, num_samples)
            picks[i] = np.searchsorted(running.astype(_F64), u, side="left")
    return picks.reshape(probs.shape[:-1] + (num_samples,)).astype(np.int64)


class _Uniforms:
    """Double uniforms read ahead in blocks; ``close`` rewinds the generator to just past
    the ones actually used (samplers with rejection loops use a variable number)."""

    def __init__(self, gen, block=4096):
        self.gen, self.block = gen, block
        self.start = gen._snapshot()
        self.buffer, self.pos, self.used = [], 0, 0

    def next(self) -> float:
        if self.pos == len(self.buffer):
            self.buffer, self.pos = _unit_double(self.gen, self.block).tolist(), 0
        self.pos += 1
        self.used += 1
        return self.buffer[self.pos - 1]

    def close(self) -> None:
        self.gen._restore(self.start, 2 * self.used)


def _poisson_one(lam: float, uniform) -> int:
    if lam >= 10:  # Hormann's transformed rejection
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = uniform() - 0.5
            v = uniform()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (_log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                    <= -lam + k * loglam - _lgamma(k + 1.0)):
                return k
    if lam == 0:
        return 0
    enlam, count, prod = math.exp(-lam), 0, 1.0
    while True:
        prod *= uniform()
        if prod > enlam:
            count += 1
        else:
            return count


def poisson(gen, rates: np.ndarray) -> np.ndarray:
    """``torch.poisson(rates)``: ATen's per-element sampler, in C order, in rates' dtype."""
    flat = rates.ravel().astype(_F64)
    if (flat < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    stream = _Uniforms(gen)
    try:
        counts = [_poisson_one(lam, stream.next) for lam in flat.tolist()]
    finally:
        stream.close()
    return _to_dtype(np.array(counts, _F64), rates.dtype).reshape(rates.shape)


# ====================================================================== layout
def memory_order_view(array: np.ndarray) -> np.ndarray:
    """A view of ``array`` whose C order is its memory order: assigning a sampler's values
    through it fills a strided tensor the way TensorIterator does."""
    order = sorted(range(array.ndim), key=lambda d: -abs(array.strides[d]))
    return array.transpose(order)
