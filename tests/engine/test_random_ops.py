"""The engine's public random ops against PyTorch: the same seeded program on both libraries
gives the same bits, dtypes, layouts, grad_fns, errors and generator state.

The samplers' arithmetic is tested in ``test_random_bitexact.py``; here the ops that wire them
up: argument forms, ``generator=``, memory order of strided outputs, the ``*_like`` layouts,
the nodes, nn.init and seeded modules, the module-level generator functions.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine

LIBS = (torch, engine)


def observe(value):
    """What a user sees of a result: bits, dtype, shape, strides order, grad_fn name."""
    if isinstance(value, (torch.Tensor, engine.Tensor)):
        array = value.detach().numpy()
        return ("tensor", array.dtype.str, tuple(array.shape), array.tobytes(),
                value.is_contiguous(), value.requires_grad,
                None if value.grad_fn is None else type(value.grad_fn).__name__)
    if isinstance(value, (list, tuple)):
        return [observe(v) for v in value]
    return value


def run(program, seed=0):
    """``program(lib)`` on both libraries after ``manual_seed(seed)``; their results and
    their default generators' states must be equal."""
    out = {}
    for lib in LIBS:
        lib.manual_seed(seed)
        try:
            result = observe(program(lib))
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            result = (type(e).__name__, str(e))
        out[lib.__name__] = (result, lib.get_rng_state().numpy().tobytes())
    assert out["engine"][0] == out["torch"][0]
    assert out["engine"][1] == out["torch"][1], "generator states differ"


PROGRAMS = {
    "randn5": lambda t: t.randn(5),
    "randn_sizes": lambda t: [t.randn(3), t.randn(2, 17), t.randn((4, 4)), t.randn(size=(33,)),
                              t.randn(3, dtype=t.float64)],
    "rand_sizes": lambda t: [t.rand(3), t.rand(2, 17, dtype=t.float64), t.rand(()),
                             t.rand(0), t.rand(5, requires_grad=True), t.rand(4, dtype=t.half)],
    "randint": lambda t: [t.randint(10, (3,)), t.randint(-5, 5, (2, 3)),
                          t.randint(3, 10, size=(2,)), t.randint(high=4, size=(3,)),
                          t.randint(0, 2**40, (3,)), t.randint(0, 7, (4,), dtype=t.float32),
                          t.randint(0, 100, (5,), dtype=t.uint8)],
    "randperm": lambda t: [t.randperm(0), t.randperm(1), t.randperm(10), t.randperm(700),
                           t.randperm(5, dtype=t.float64)],
    "normal": lambda t: [t.normal(0.5, 2.0, (3, 5)), t.normal(t.zeros(20), 1.5),
                         t.normal(1.0, t.ones(2, 3)), t.normal(t.zeros(2, 3), t.ones(3)),
                         t.normal(0.0, 1.0, size=(4,), dtype=t.float64)],
    "bernoulli": lambda t: [t.bernoulli(t.full((20,), 0.3)), t.bernoulli(t.rand(3, 4).double()),
                            t.bernoulli(t.zeros(5), 0.7), t.rand(6).bernoulli(),
                            t.ones(3).bernoulli_(0.2), t.ones(2, 3).bernoulli_(t.rand(3))],
    "multinomial": lambda t: [t.multinomial(t.tensor([0.1, 0.5, 0.4]), 2),
                              t.multinomial(t.rand(3, 5), 4, replacement=True),
                              t.rand(2, 6).multinomial(3),
                              t.multinomial(t.rand(7).double(), 1)],
    "poisson": lambda t: t.poisson(t.tensor([0.0, 0.5, 3.0, 12.0, 40.0])),
    "in_place": lambda t: [t.empty(5).uniform_(), t.empty(3, 6).uniform_(-2, 3),
                           t.empty(20).normal_(1, 2), t.empty(3, dtype=t.float64).normal_(),
                           t.empty(5, dtype=t.int64).random_(), t.empty(4).random_(10),
                           t.empty(4, dtype=t.int32).random_(-3, 3),
                           t.empty(4, dtype=t.int16).random_(5, None),
                           t.empty(6).exponential_(0.5), t.empty(6).geometric_(0.3),
                           t.empty(6).log_normal_(0, 0.5), t.empty(6).cauchy_(1, 2)],
    "generator_argument": lambda t: [t.randn(4, generator=t.Generator().manual_seed(3)),
                                     t.rand(4), t.randperm(5, generator=t.Generator())],
    "like": lambda t: [t.rand_like(t.zeros(3, 2)), t.randn_like(t.zeros(20, dtype=t.float64)),
                       t.randint_like(t.zeros(4), 7), t.randint_like(t.zeros(4), 2, 9),
                       t.rand_like(t.zeros(2, 3), dtype=t.float64)],
    "errors_rand": lambda t: t.rand(2, dtype=t.int64),
    "errors_randint": lambda t: t.randint(5, 2, (3,)),
    "errors_randint_size": lambda t: t.randint(10, 2),
    "errors_multinomial": lambda t: t.multinomial(t.tensor([0.2, 0.8]), 3),
    "errors_multinomial_negative": lambda t: t.multinomial(t.tensor([-0.2, 0.8]), 1),
    "errors_bernoulli": lambda t: t.bernoulli(t.tensor([1.5])),
    "errors_normal": lambda t: t.normal(t.zeros(2), t.ones(3)),
    "errors_uniform": lambda t: t.empty(3).uniform_(2, 1),
}


@pytest.mark.parametrize("name", PROGRAMS)
@pytest.mark.parametrize("seed", [0, 1234567])
def test_seeded_programs(name, seed):
    run(PROGRAMS[name], seed)


def _strided(t):
    """Dense but transposed, and a non-dense slice: in-place samplers fill memory order."""
    return [t.empty(4, 5).t().uniform_(), t.empty(5, 20).t().normal_(),
            t.empty(3, 4).t().normal_(), t.empty(6, 8)[:, ::2].uniform_(),
            t.empty(3, 4, 5).permute(2, 0, 1).random_(100),
            t.rand_like(t.zeros(4, 5).t()), t.randn_like(t.zeros(6, 7).t()),
            t.bernoulli(t.full((4, 5), 0.5).t())]


def test_strided_outputs_fill_memory_order():
    run(_strided)


@given(st.integers(0, 2**64 - 1), st.lists(st.integers(0, 40), min_size=1, max_size=3))
@settings(max_examples=20, deadline=None)
def test_any_seed_and_sizes(seed, sizes):
    run(lambda t: [t.randn(*sizes), t.rand(*sizes), t.randint(0, 9, tuple(sizes))], seed)


GRAD_FNS = {
    "normal_tensor_float": lambda t, x: t.normal(x, 1.0),
    "normal_float_tensor": lambda t, x: t.normal(1.0, x),
    "normal_tensor_tensor": lambda t, x: t.normal(x, x),
    "bernoulli": lambda t, x: t.bernoulli(x.sigmoid()),
    "poisson": lambda t, x: t.poisson(x.exp()),
    "uniform_": lambda t, x: (x * 1).uniform_(),
    "normal_": lambda t, x: (x * 1).normal_(),
    "random_from": lambda t, x: (x * 1).random_(2, 5),
    "random_to": lambda t, x: (x * 1).random_(5),
    "random": lambda t, x: (x * 1).random_(),
    "bernoulli_float": lambda t, x: (x * 1).bernoulli_(0.5),
    "bernoulli_tensor": lambda t, x: (x * 1).bernoulli_(x.sigmoid()),
    "exponential_": lambda t, x: (x * 1).exponential_(),
    "geometric_": lambda t, x: (x * 1).geometric_(0.5),
    "log_normal_": lambda t, x: (x * 1).log_normal_(),
    "cauchy_": lambda t, x: (x * 1).cauchy_(),
}


@pytest.mark.parametrize("name", GRAD_FNS)
def test_nodes_and_their_zero_grads(name):
    def program(t):
        x = t.tensor([0.2, 0.7, 1.5], requires_grad=True)
        y = GRAD_FNS[name](t, x)
        y.sum().backward()
        return [y, x.grad]

    run(program)


def test_leaf_in_place_sampling_is_refused():
    run(lambda t: t.zeros(3, requires_grad=True).uniform_())


def test_bernoulli_with_float_p_has_no_derivative():
    def program(t):
        x = t.rand(3, requires_grad=True)
        y = t.bernoulli(x, 0.5)
        name = type(y.grad_fn).__name__
        y.sum().backward()
        return name

    run(program)


def test_seeded_modules_and_init_are_torchs_bits():
    def program(t):
        linear = t.nn.Linear(4, 3)
        w = t.empty(5, 6)
        inits = [t.nn.init.uniform_(w.clone(), -1, 2), t.nn.init.normal_(w.clone(), 1, 3),
                 t.nn.init.xavier_uniform_(w.clone()), t.nn.init.kaiming_normal_(w.clone()),
                 t.nn.init.trunc_normal_(w.clone(), std=2.0)]
        return [linear.weight, linear.bias, *inits]

    run(program)


def test_dropout_family_masks():
    def program(t):
        f = t.nn.functional
        x = t.randn(4, 3, 5)
        return [f.dropout(x, 0.3), f.dropout(x, 0.5, training=False), f.dropout1d(x, 0.4),
                f.dropout2d(t.randn(2, 3, 4, 4), 0.5), f.dropout3d(t.randn(2, 2, 2, 2, 2)),
                f.alpha_dropout(x, 0.2, True), f.feature_alpha_dropout(x, 0.2, True),
                f.dropout(x[0].t(), 0.5), f.dropout1d(x[0], 0.5),
                f.dropout(x.double(), 1.0)]

    run(program)


def test_state_functions_and_fork_rng():
    def program(t):
        state = t.get_rng_state()
        a = t.rand(3)
        t.set_rng_state(state)
        b = t.rand(3)
        with t.random.fork_rng():
            c = t.randn(20)
        d = t.randn(20)
        g = t.Generator().manual_seed(7)
        e = t.rand(2, generator=g)
        g.set_state(t.default_generator.get_state())
        return [a, b, c, d, e, t.rand(2, generator=g), t.initial_seed(),
                t.random.initial_seed(), type(t.manual_seed(5)).__name__]

    run(program)


def test_seed_draws_a_fresh_seed():
    first = engine.seed()
    assert engine.initial_seed() == first
    assert engine.seed() != first


def test_data_loader_shuffle_and_random_split():
    def program(t):
        data = t.utils.data.TensorDataset(t.arange(10))
        loader = t.utils.data.DataLoader(data, batch_size=3, shuffle=True)
        order = [b[0].tolist() for b in loader]
        split = t.utils.data.random_split(range(7), [3, 4])
        return [order, [list(s) for s in split]]

    run(program)


def test_engine_default_generator_is_the_random_modules():
    assert engine.default_generator is engine.random.default_generator
    assert np.asarray(engine.get_rng_state()).shape == (5056,)
