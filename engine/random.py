"""``torch.random`` and ``torch.Generator``: PyTorch's CPU random source, bit for bit.

PyTorch's CPU generator is a Mersenne Twister (mt19937) seeded with the classic
``init_genrand`` recurrence from the low 32 bits of the 64-bit seed; a 64-bit draw is two
32-bit draws, the first one the high word. The twister itself is numpy's ``MT19937`` bit
generator (the same algorithm), so raw draws cost numpy speed, not Python speed. What
numpy does not know (the seed, the position bookkeeping torch exposes, the cached second
Box-Muller normal of each precision) lives here, so that ``get_state`` returns the same 5056
bytes as torch's ``Generator.get_state()`` and ``set_state`` accepts torch's bytes.

The samplers that turn draws into tensors are in ``engine._sampling``.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from ._device import device as _device
from ._tensor import Tensor, make

__all__ = ["set_rng_state", "get_rng_state", "manual_seed", "seed", "initial_seed", "fork_rng",
           "thread_safe_generator"]

_N = 624  # words of mt19937 state
_DEFAULT_SEED = 67280421310721  # c10's default seed of a new torch.Generator()

# torch's CPUGeneratorImplState, a POD memcpy'd into a uint8 tensor: the legacy TH layout
# (seed, left, seeded, next, 624 words widened to 64 bits, the double Box-Muller cache)
# followed by the float Box-Muller cache. Padding bytes are zero.
_STATE = np.dtype({
    "names": ["seed", "left", "seeded", "next", "state", "normal_x", "normal_y", "normal_rho",
              "normal_is_valid", "float_normal", "float_normal_is_valid"],
    "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", _N), "<f8", "<f8", "<f8", "<i4", "<f4",
                "u1"],
    "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
    "itemsize": 5056,
})
STATE_SIZE = _STATE.itemsize


def _seeded_key(seed: int) -> np.ndarray:
    """mt19937's init_genrand on the low 32 bits of ``seed`` (what torch's engine does)."""
    key = [seed & 0xFFFFFFFF]
    x = key[0]
    for j in range(1, _N):
        x = (1812433253 * (x ^ (x >> 30)) + j) & 0xFFFFFFFF
        key.append(x)
    return np.array(key, dtype=np.uint32)


def _nondeterministic_seed() -> int:
    """64 bits from the OS, as c10's getNonDeterministicRandom reads /dev/urandom."""
    return int.from_bytes(os.urandom(8), "little")


def _unpack_seed(seed) -> int:
    """Generator.manual_seed's argument rules: an int (not bool) in [-2**63, 2**64);
    negatives wrap modulo 2**64."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    if not -(2**63) <= seed < 2**64:
        raise ValueError("Overflow when unpacking long long")
    return seed % 2**64


class Generator:
    """A CPU random generator whose draws, seeds and states are torch's, bit for bit."""

    __module__ = "torch._C"  # prints as torch's <torch._C.Generator object at 0x...>

    def __init__(self, device="cpu"):
        kind = getattr(device, "type", device)
        if kind != "cpu":
            raise RuntimeError(f"engine has only the CPU generator, not {device!r}")
        self._bitgen = np.random.MT19937()
        self._set_seed(_DEFAULT_SEED)

    # ------------------------------------------------------------------ seeding
    def _set_seed(self, seed: int) -> None:
        self._seed = seed
        self._fresh = True  # torch's engine is at (left=1, next=0) until the first draw
        self._bitgen.state = {"bit_generator": "MT19937",
                              "state": {"key": _seeded_key(seed), "pos": _N}}
        self._next_double_normal = None  # the cached sine half of a Box-Muller pair
        self._next_float_normal = None

    def manual_seed(self, seed) -> Generator:
        self._set_seed(_unpack_seed(seed))
        return self

    def seed(self) -> int:
        value = _nondeterministic_seed()
        self._set_seed(value)
        return value

    def initial_seed(self) -> int:
        return self._seed

    @property
    def device(self):
        return _device("cpu")

    def get_offset(self):
        raise RuntimeError("CPU Generator does not use offset")

    def set_offset(self, offset):
        raise RuntimeError("CPU Generator does not use offset")

    # ------------------------------------------------------------------ state bytes
    def _state_bytes(self) -> bytes:
        numpy_state = self._bitgen.state["state"]
        pos = int(numpy_state["pos"])
        record = np.zeros((), _STATE)
        record["seed"] = self._seed
        record["left"] = 1 if pos == _N else _N + 1 - pos
        record["seeded"] = 1
        record["next"] = 0 if self._fresh else pos
        record["state"] = numpy_state["key"]
        if self._next_double_normal is not None:
            record["normal_is_valid"] = 1
            record["normal_y"] = self._next_double_normal
        if self._next_float_normal is not None:
            record["float_normal_is_valid"] = 1
            record["float_normal"] = self._next_float_normal
        return record.tobytes()

    def _set_state_bytes(self, blob: bytes) -> None:
        if len(blob) != STATE_SIZE:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {STATE_SIZE} but found "
                               f"the input RNG state size to be {len(blob)}")
        record = np.frombuffer(blob, _STATE)[0]
        left, nxt = int(record["left"]), int(record["next"]) & 0xFFFFFFFF
        if not (record["seeded"] != 0 and 0 < left <= _N and nxt <= _N):
            raise RuntimeError("Invalid mt19937 state")
        # torch twists when ``left`` runs out, numpy when ``pos`` reaches 624: the two
        # agree for every state torch produces (left == 625 - next, or left == 1).
        pos = _N if left == 1 else nxt
        self._bitgen.state = {"bit_generator": "MT19937",
                              "state": {"key": record["state"].astype(np.uint32), "pos": pos}}
        self._seed = int(record["seed"])
        self._fresh = left == 1 and nxt == 0
        self._next_double_normal = (float(record["normal_y"]) if record["normal_is_valid"]
                                    else None)
        self._next_float_normal = (float(record["float_normal"])
                                   if record["float_normal_is_valid"] else None)

    def get_state(self):
        return make(np.frombuffer(self._state_bytes(), np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state._data.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        self._set_state_bytes(np.ascontiguousarray(new_state._data).tobytes())
        return self

    def clone_state(self) -> Generator:
        twin = Generator()
        twin._set_state_bytes(self._state_bytes())
        return twin

    def __reduce__(self):
        return (_rebuild, (self._state_bytes(),))

    # ------------------------------------------------------------------ raw draws
    def _random(self, n: int) -> np.ndarray:
        """``n`` calls of torch's ``random()``: 32-bit words, as uint32."""
        if n <= 0:
            return np.zeros(0, np.uint32)
        self._fresh = False
        return self._bitgen.random_raw(n).astype(np.uint32)

    def _random64(self, n: int) -> np.ndarray:
        """``n`` calls of torch's ``random64()``: two words each, the first one high."""
        if n <= 0:
            return np.zeros(0, np.uint64)
        self._fresh = False
        words = self._bitgen.random_raw(2 * n).reshape(n, 2)
        return (words[:, 0] << np.uint64(32)) | words[:, 1]

    def _snapshot(self):
        """Everything a draw changes, to rewind a sampler that read ahead."""
        return (self._bitgen.state, self._fresh)

    def _restore(self, snapshot, advance_words: int = 0) -> None:
        self._bitgen.state, self._fresh = snapshot
        if advance_words > 0:
            self._fresh = False
            self._bitgen.random_raw(advance_words)


def _rebuild(blob: bytes) -> Generator:
    generator = Generator()
    generator._set_state_bytes(blob)
    return generator


default_generator = Generator()
default_generator.seed()  # torch seeds its default CPU generator from the OS at start-up


def manual_seed(seed) -> Generator:
    """Seed the default generator; like torch, any ``int(seed)``-able value is accepted."""
    return default_generator.manual_seed(int(seed))


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type=None):
    """Restore the default generator's state on exit (there are no other devices here)."""
    if not enabled or device_type == "meta":
        yield
        return
    saved = default_generator._state_bytes()
    try:
        yield
    finally:
        default_generator._set_state_bytes(saved)


def thread_safe_generator():
    """torch returns a DataLoader thread worker's own generator here, and None elsewhere;
    the engine has no DataLoader workers, so always None (use the default generator)."""
    return None
