"""engine.random and engine._sampling against PyTorch's CPU generator: equal bits.

Every test seeds a torch.Generator and an engine Generator alike, draws with both, and
compares the raw bytes of the results (so -0.0 vs 0.0 and NaN payloads count) and the
5056-byte generator states afterwards. Sizes straddle the thresholds of the kernels: 16 (the
vectorised Box-Muller), multiples of 16 (its recomputed tail), 624 (a twist of the engine).
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.random as R
from engine import _sampling as S

SEEDS = st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 1, 42, 2**32, 2**63]))
SIZES = st.sampled_from([0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 100, 623, 624, 625, 1000])
FLOATS = st.sampled_from([torch.float16, torch.float32, torch.float64])
NP = {torch.float16: np.float16, torch.float32: np.float32, torch.float64: np.float64,
      torch.int64: np.int64, torch.int32: np.int32, torch.int16: np.int16,
      torch.int8: np.int8, torch.uint8: np.uint8, torch.bool: np.bool_}
FAST = settings(max_examples=25, deadline=None)


def pair(seed):
    return R.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)


def assert_same(ours: np.ndarray, theirs: torch.Tensor):
    theirs = theirs.detach().numpy()
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    if ours.tobytes() != theirs.tobytes():
        differ = np.flatnonzero(ours.view(np.uint8) != theirs.view(np.uint8))
        raise AssertionError(f"bits differ at byte {differ[:5]}: {ours.ravel()[:8]} vs "
                             f"{theirs.ravel()[:8]}")


def assert_same_state(ours: R.Generator, theirs: torch.Generator):
    assert ours._state_bytes() == theirs.get_state().numpy().tobytes()


# ---------------------------------------------------------------- the generator itself
@given(SEEDS, st.lists(st.integers(0, 1500), max_size=4))
@FAST
def test_state_bytes_follow_torch_through_draws(seed, draws):
    ours, theirs = pair(seed)
    assert_same_state(ours, theirs)
    for n in draws:
        ours._random(n)
        torch.randint(0, 7, (n,), generator=theirs)  # one 32-bit word per element
        assert_same_state(ours, theirs)
    assert ours.initial_seed() == theirs.initial_seed()


@given(SEEDS, st.integers(0, 1300), st.integers(1, 40))
@FAST
def test_set_state_takes_torch_bytes_and_continues_alike(seed, skip, n):
    ours, theirs = pair(seed)
    torch.randn(3, generator=theirs)  # leaves a cached normal in the state
    torch.rand(skip, generator=theirs)
    ours._set_state_bytes(theirs.get_state().numpy().tobytes())
    assert_same_state(ours, theirs)
    assert_same(S.normal(ours, (n,), np.float64), torch.randn(n, dtype=torch.float64,
                                                              generator=theirs))
    assert_same_state(ours, theirs)


def test_a_new_generator_is_torchs_default_seeded_one():
    assert_same_state(R.Generator(), torch.Generator())
    assert R.Generator().initial_seed() == torch.Generator().initial_seed()


def test_manual_seed_arguments_as_torch():
    for seed in (-1, -(2**63), 2**64 - 1, 12345):
        assert R.Generator().manual_seed(seed).initial_seed() == \
            torch.Generator().manual_seed(seed).initial_seed()
    for bad in (1.5, True, "3", 2**64, -(2**63) - 1):
        with pytest.raises(Exception) as theirs:
            torch.Generator().manual_seed(bad)
        with pytest.raises(type(theirs.value), match=None) as ours:
            R.Generator().manual_seed(bad)
        assert str(ours.value) == str(theirs.value)
    assert R.manual_seed("7").initial_seed() == torch.manual_seed("7").initial_seed() == 7


def test_get_state_set_state_are_engine_byte_tensors():
    ours = R.Generator().manual_seed(9)
    state = ours.get_state()
    assert isinstance(state, engine.Tensor) and state.dtype == engine.uint8
    assert tuple(state.shape) == (R.STATE_SIZE,)
    first = S.uniform(ours, (5,), np.float64)
    ours.set_state(state)
    assert S.uniform(ours, (5,), np.float64).tobytes() == first.tobytes()
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        ours.set_state(engine.zeros(5))
    with pytest.raises(TypeError, match="expected a torch.ByteTensor, but got str"):
        ours.set_state("x")
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        ours.set_state(engine.tensor(np.zeros(R.STATE_SIZE, np.uint8), dtype=engine.uint8))


def test_clone_pickle_and_offset():
    ours = R.Generator().manual_seed(3)
    S.normal(ours, (3,), np.float32)
    for twin in (ours.clone_state(), pickle.loads(pickle.dumps(ours))):
        assert twin._state_bytes() == ours._state_bytes()
    with pytest.raises(RuntimeError, match="CPU Generator does not use offset"):
        ours.get_offset()
    assert str(ours.device) == "cpu"


def test_default_generator_module_functions_and_fork_rng():
    R.manual_seed(11)
    torch.manual_seed(11)
    assert R.initial_seed() == torch.initial_seed() == 11
    assert_same(S.uniform(R.default_generator, (20,), np.float32), torch.rand(20))
    saved, saved_torch = R.get_rng_state(), torch.get_rng_state()
    assert saved.numpy().tobytes() == saved_torch.numpy().tobytes()
    with R.fork_rng(), torch.random.fork_rng():
        assert_same(S.normal(R.default_generator, (7,), np.float32), torch.randn(7))
    assert R.get_rng_state().numpy().tobytes() == saved.numpy().tobytes()
    S.uniform(R.default_generator, (3,), np.float32)
    R.set_rng_state(saved)
    assert_same(S.normal(R.default_generator, (40,), np.float32), torch.randn(40))
    assert_same_state(R.default_generator, torch.default_generator)
    assert R.seed() != R.seed()


# ---------------------------------------------------------------- samplers
@given(SEEDS, SIZES, FLOATS, st.sampled_from([(0.0, 1.0), (-2.5, 3.25), (1e-3, 2e3),
                                             (0.1, 0.1000001), (-1.0, -1.0)]))
@FAST
def test_uniform(seed, n, dtype, bounds):
    ours, theirs = pair(seed)
    assert_same(S.uniform(ours, (n,), NP[dtype]), torch.rand(n, dtype=dtype, generator=theirs))
    assert_same(S.uniform(ours, (n, 2), NP[dtype], *bounds),
                torch.empty(n, 2, dtype=dtype).uniform_(*bounds, generator=theirs))
    assert_same_state(ours, theirs)


@given(SEEDS, SIZES, FLOATS, st.sampled_from([(0.0, 1.0), (0.5, 2.0), (-1e-3, 1e5)]))
@FAST
def test_normal_both_paths(seed, n, dtype, params):
    ours, theirs = pair(seed)
    assert_same(S.normal(ours, (n,), NP[dtype]), torch.randn(n, dtype=dtype, generator=theirs))
    assert_same(S.normal(ours, (n,), NP[dtype], *params),
                torch.empty(n, dtype=dtype).normal_(*params, generator=theirs))
    # a transposed view is not contiguous: the scalar path, filled in memory order
    base = torch.zeros(n, 3, dtype=dtype)
    base.t().normal_(*params, generator=theirs)
    array = np.zeros((n, 3), NP[dtype])
    view = S.memory_order_view(array.T)
    view[...] = S.normal(ours, view.shape, NP[dtype], *params, contiguous=False)
    assert_same(array, base)
    assert_same_state(ours, theirs)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_big_tensors(dtype):
    ours, theirs = pair(2024)
    for n in (100003, 4096):
        assert_same(S.normal(ours, (n,), NP[dtype]), torch.randn(n, dtype=dtype,
                                                                 generator=theirs))
        assert_same(S.uniform(ours, (n,), NP[dtype]), torch.rand(n, dtype=dtype,
                                                                 generator=theirs))
    assert_same_state(ours, theirs)


OPS = {
    "rand": (lambda g, n, d: S.uniform(g, (n,), NP[d]),
             lambda t, n, d: torch.rand(n, dtype=d, generator=t)),
    "randn": (lambda g, n, d: S.normal(g, (n,), NP[d]),
              lambda t, n, d: torch.randn(n, dtype=d, generator=t)),
    "randint": (lambda g, n, d: S.random_from_to(g, (n,), np.int64, -4, 1000),
                lambda t, n, d: torch.randint(-4, 1000, (n,), generator=t)),
    "randperm": (lambda g, n, d: S.randperm(g, n),
                 lambda t, n, d: torch.randperm(n, generator=t)),
    "bernoulli": (lambda g, n, d: S.bernoulli_scalar(g, (n,), NP[d], 0.3),
                  lambda t, n, d: torch.empty(n, dtype=d).bernoulli_(0.3, generator=t)),
    "log_normal": (lambda g, n, d: S.log_normal(g, (n,), NP[d], 0.1, 0.5),
                   lambda t, n, d: torch.empty(n, dtype=d).log_normal_(0.1, 0.5, generator=t)),
    "exponential": (lambda g, n, d: S.exponential(g, (n,), NP[d], 2.0),
                    lambda t, n, d: torch.empty(n, dtype=d).exponential_(2.0, generator=t)),
}


@given(SEEDS, st.lists(st.tuples(st.sampled_from(sorted(OPS)), SIZES, FLOATS), max_size=6))
@FAST
def test_sequences_of_draws_advance_alike(seed, steps):
    ours, theirs = pair(seed)
    for name, n, dtype in steps:
        mine, torchs = OPS[name]
        assert_same(mine(ours, n, dtype), torchs(theirs, n, dtype))
        assert_same_state(ours, theirs)


INTS = st.sampled_from([torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8,
                        torch.bool, torch.float16, torch.float32, torch.float64])


@given(SEEDS, SIZES, INTS)
@FAST
def test_random_(seed, n, dtype):
    ours, theirs = pair(seed)
    assert_same(S.random_(ours, (n,), NP[dtype]),
                torch.empty(n, dtype=dtype).random_(generator=theirs))
    high = 2 if dtype == torch.bool else 100
    assert_same(S.random_(ours, (n,), NP[dtype], None, high),
                torch.empty(n, dtype=dtype).random_(high, generator=theirs))
    if dtype not in (torch.bool, torch.uint8):
        assert_same(S.random_(ours, (n,), NP[dtype], -7, 9),
                    torch.empty(n, dtype=dtype).random_(-7, 9, generator=theirs))
    if dtype in (torch.int64, torch.float32, torch.float64):  # a range needing 64 bits
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_same(S.random_from_to(ours, (n,), NP[dtype], -(2**40), 2**45),
                        torch.empty(n, dtype=dtype).random_(-(2**40), 2**45, generator=theirs))
            assert_same(S.random_(ours, (n,), NP[dtype], 5),
                        torch.empty(n, dtype=dtype).random_(5, None, generator=theirs))
    assert_same_state(ours, theirs)


@given(SEEDS, st.sampled_from([0, 1, 2, 3, 10, 624, 625, 5000]))
@FAST
def test_randperm(seed, n):
    ours, theirs = pair(seed)
    assert_same(S.randperm(ours, n), torch.randperm(n, generator=theirs))
    assert_same(S.randperm(ours, n, np.int32), torch.randperm(n, dtype=torch.int32,
                                                              generator=theirs))
    assert_same_state(ours, theirs)


@given(SEEDS, SIZES, FLOATS, st.floats(0, 1))
@FAST
def test_bernoulli(seed, n, dtype, p):
    ours, theirs = pair(seed)
    assert_same(S.bernoulli_scalar(ours, (n,), NP[dtype], p),
                torch.empty(n, dtype=dtype).bernoulli_(p, generator=theirs))
    probs = torch.rand(n, 2, dtype=dtype)
    assert_same(S.bernoulli_tensor(ours, probs.numpy()), torch.bernoulli(probs,
                                                                         generator=theirs))
    assert_same(S.bernoulli_tensor(ours, probs.numpy(), np.int64),
                torch.empty(n, 2, dtype=torch.int64).bernoulli_(probs, generator=theirs))
    assert_same_state(ours, theirs)


@given(SEEDS, st.integers(1, 30), st.integers(1, 3), st.sampled_from([torch.float32,
                                                                      torch.float64]))
@FAST
def test_multinomial(seed, categories, rows, dtype):
    ours, theirs = pair(seed)
    probs = torch.rand(rows, categories, dtype=dtype) + 0.01
    for count, replace in ((1, False), (min(categories, 4), False), (9, True)):
        assert_same(S.multinomial(ours, probs.numpy(), count, replace),
                    torch.multinomial(probs, count, replace, generator=theirs))
    assert_same(S.multinomial(ours, probs[0].numpy(), 5, True),
                torch.multinomial(probs[0], 5, True, generator=theirs))
    assert_same_state(ours, theirs)


@given(SEEDS, SIZES, st.sampled_from([0.3, 4.0, 9.99, 10.0, 55.5, 1e4]), FLOATS)
@FAST
def test_poisson(seed, n, scale, dtype):
    ours, theirs = pair(seed)
    rates = (torch.rand(n, dtype=torch.float64) * scale).to(dtype)
    rates[:2] = 0
    assert_same(S.poisson(ours, rates.numpy()), torch.poisson(rates, generator=theirs))
    assert_same_state(ours, theirs)


@given(SEEDS, SIZES, FLOATS)
@FAST
def test_exponential_geometric_log_normal_cauchy(seed, n, dtype):
    ours, theirs = pair(seed)
    empty = torch.empty(n, dtype=dtype)
    assert_same(S.exponential(ours, (n,), NP[dtype], 0.7),
                empty.exponential_(0.7, generator=theirs))
    assert_same(S.geometric(ours, (n,), NP[dtype], 0.2), empty.geometric_(0.2, generator=theirs))
    assert_same(S.log_normal(ours, (n,), NP[dtype], -0.5, 0.8),
                empty.log_normal_(-0.5, 0.8, generator=theirs))
    assert_same(S.cauchy(ours, (n,), NP[dtype], 1.5, 0.25),
                empty.cauchy_(1.5, 0.25, generator=theirs))
    assert_same_state(ours, theirs)


@given(SEEDS, st.sampled_from([(3,), (4, 5), (17,), (2, 16)]), st.sampled_from(
    [torch.float32, torch.float64]))
@FAST
def test_normal_with_tensor_parameters(seed, shape, dtype):
    ours, theirs = pair(seed)
    mean = torch.randn(shape, dtype=dtype)
    std = torch.rand(shape, dtype=dtype) + 0.1
    assert_same(S.normal_tensor(ours, mean.numpy(), std.numpy()),
                torch.normal(mean, std, generator=theirs))
    assert_same(S.normal_tensor(ours, mean.numpy(), 0.7), torch.normal(mean, 0.7,
                                                                      generator=theirs))
    assert_same(S.normal_tensor(ours, 0.3, std.numpy()), torch.normal(0.3, std,
                                                                     generator=theirs))
    assert_same_state(ours, theirs)


@given(SEEDS, st.sampled_from([0.1, 0.5, 0.9]), FLOATS)
@FAST
def test_dropout_and_rrelu_noise_on_the_default_generator(seed, p, dtype):
    x = torch.randn(5, 37).to(dtype)
    x4 = torch.randn(2, 3, 4, 5).to(dtype)
    torch.manual_seed(seed)
    R.manual_seed(seed)
    noise = S.dropout_noise(R.default_generator, x.shape, NP[dtype], p)
    assert_same((x.numpy() * noise).astype(NP[dtype]), F.dropout(x, p))
    noise = S.dropout_noise(R.default_generator, (2, 3, 1, 1), NP[dtype], p)
    assert_same((x4.numpy() * noise).astype(NP[dtype]), F.dropout2d(x4, p, True))
    if dtype != torch.float16:  # torch has no half rrelu on CPU
        output, _ = S.rrelu_noise(R.default_generator, x.numpy(), 0.1, 0.4)
        assert_same(output, F.rrelu(x, 0.1, 0.4, training=True))
    assert_same_state(R.default_generator, torch.default_generator)


ERRORS = [
    (lambda g: S.uniform(g, (3,), np.float32, 2.5, 1.25),
     lambda: torch.empty(3).uniform_(2.5, 1.25)),
    (lambda g: S.normal(g, (3,), np.float32, 0, -1.5), lambda: torch.empty(3).normal_(0, -1.5)),
    (lambda g: S.normal(g, (3,), np.int64), lambda: torch.randn(3, dtype=torch.int64)),
    (lambda g: S.uniform(g, (3,), np.int64), lambda: torch.rand(3, dtype=torch.int64)),
    (lambda g: S.bernoulli_scalar(g, (3,), np.float32, 1.5),
     lambda: torch.empty(3).bernoulli_(1.5)),
    (lambda g: S.exponential(g, (3,), np.float32, 0), lambda: torch.empty(3).exponential_(0)),
    (lambda g: S.exponential(g, (3,), np.int64),
     lambda: torch.empty(3, dtype=torch.int64).exponential_()),
    (lambda g: S.geometric(g, (3,), np.float32, 1.5), lambda: torch.empty(3).geometric_(1.5)),
    (lambda g: S.log_normal(g, (3,), np.float32, 0, 0), lambda: torch.empty(3).log_normal_(0, 0)),
    (lambda g: S.cauchy(g, (3,), np.float32, 0, -1), lambda: torch.empty(3).cauchy_(0, -1)),
    (lambda g: S.random_from_to(g, (3,), np.int64, 5, 5), lambda: torch.randint(5, 5, (3,))),
    (lambda g: S.random_(g, (3,), np.int8, 0, 200),
     lambda: torch.empty(3, dtype=torch.int8).random_(0, 200)),
    (lambda g: S.random_(g, (3,), np.uint8, -1, 2),
     lambda: torch.empty(3, dtype=torch.uint8).random_(-1, 2)),
    (lambda g: S.randperm(g, -1), lambda: torch.randperm(-1)),
    (lambda g: S.poisson(g, np.array([-1.0], np.float32)),
     lambda: torch.poisson(torch.tensor([-1.0]))),
    (lambda g: S.normal_tensor(g, np.zeros(3, np.float32), -np.ones(3, np.float32)),
     lambda: torch.normal(torch.zeros(3), -torch.ones(3))),
]


@pytest.mark.parametrize("ours, theirs", ERRORS)
def test_errors_as_torch(ours, theirs):
    with pytest.raises(Exception) as expected:
        theirs()
    with pytest.raises(type(expected.value)) as got:
        ours(R.Generator())
    assert str(got.value) == str(expected.value).split("\n")[0]
