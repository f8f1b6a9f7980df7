"""engine.nn layers, nn.init and nn.utils against torch.

Layers get torch's weights (through numpy) and the same inputs; outputs and grads are
compared at torch.testing's float32 tolerance (matrix products sum in another order),
grad_fn names exactly.  nn.init's arithmetic (fans, gains, bounds) is compared exactly by
recording the bounds each initialiser hands to ``uniform_``/``normal_`` on both libraries;
the values drawn are torch's bits (tests/engine/test_random_ops.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import engine

RTOL, ATOL = 1.3e-6, 1e-5


def to_engine(t):
    return engine.tensor(t.detach().numpy())


def build_pair(factory):
    tmod = factory(torch)
    emod = factory(engine)
    emod.load_state_dict({k: to_engine(v) for k, v in tmod.state_dict().items()})
    return tmod, emod


def close(e, t, what=""):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=RTOL, atol=ATOL,
                               err_msg=what)


def grad_fn(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


LAYERS = {
    "linear": (lambda lib: lib.nn.Linear(5, 3), [(4, 5)]),
    "linear_3d_nobias": (lambda lib: lib.nn.Linear(5, 3, bias=False), [(2, 4, 5)]),
    "bilinear": (lambda lib: lib.nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    "relu": (lambda lib: lib.nn.ReLU(), [(3, 4)]),
    "tanh": (lambda lib: lib.nn.Tanh(), [(3, 4)]),
    "sigmoid": (lambda lib: lib.nn.Sigmoid(), [(3, 4)]),
    "leaky": (lambda lib: lib.nn.LeakyReLU(0.2), [(3, 4)]),
    "gelu": (lambda lib: lib.nn.GELU(), [(3, 4)]),
    "gelu_tanh": (lambda lib: lib.nn.GELU(approximate="tanh"), [(3, 4)]),
    "silu": (lambda lib: lib.nn.SiLU(), [(3, 4)]),
    "softmax": (lambda lib: lib.nn.Softmax(dim=1), [(3, 4)]),
    "log_softmax": (lambda lib: lib.nn.LogSoftmax(dim=0), [(3, 4)]),
    "flatten": (lambda lib: lib.nn.Flatten(), [(2, 3, 4)]),
    "unflatten": (lambda lib: lib.nn.Unflatten(1, (2, 2)), [(3, 4)]),
    "identity": (lambda lib: lib.nn.Identity(7, unused=True), [(3, 4)]),
    "dropout_eval": (lambda lib: lib.nn.Dropout(0.5).eval(), [(3, 4)]),
    "dropout_p0": (lambda lib: lib.nn.Dropout(0.0), [(3, 4)]),
    "mlp": (lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.Tanh(),
                                          lib.nn.Linear(6, 2)), [(5, 4)]),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_forward_backward_match_torch(name):
    factory, shapes = LAYERS[name]
    tmod, emod = build_pair(factory)
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(-2, 2, s).astype(np.float32) for s in shapes]
    tin = [torch.tensor(a, requires_grad=True) for a in arrays]
    ein = [engine.tensor(a, requires_grad=True) for a in arrays]
    tout, eout = tmod(*tin), emod(*ein)
    close(eout, tout, "forward")
    assert tuple(eout.shape) == tuple(tout.shape)
    if name != "bilinear":  # torch's bilinear is one fused node; the engine's an einsum
        assert grad_fn(eout) == grad_fn(tout)
    weights = rng.uniform(-1, 1, tuple(tout.shape)).astype(np.float32)
    (tout * torch.tensor(weights)).sum().backward()
    (eout * engine.tensor(weights)).sum().backward()
    for i, (e, t) in enumerate(zip(ein, tin, strict=True)):
        close(e.grad, t.grad, f"input {i} grad")
    for (n, tp), ep in zip(tmod.named_parameters(), emod.parameters(), strict=True):
        close(ep.grad, tp.grad, f"{n} grad")


LOSSES = {
    "mse": (lambda lib: lib.nn.MSELoss(), "regression"),
    "mse_sum": (lambda lib: lib.nn.MSELoss(reduction="sum"), "regression"),
    "l1": (lambda lib: lib.nn.L1Loss(reduction="none"), "regression"),
    "cross_entropy": (lambda lib: lib.nn.CrossEntropyLoss(), "classes"),
    "cross_entropy_smooth": (lambda lib: lib.nn.CrossEntropyLoss(label_smoothing=0.2,
                                                                  ignore_index=1), "classes"),
    "cross_entropy_weight": (lambda lib: lib.nn.CrossEntropyLoss(
        weight=lib.tensor([1.0, 2.0, 0.5])), "classes"),
    "nll": (lambda lib: lib.nn.NLLLoss(reduction="sum"), "log_probs"),
    "bce": (lambda lib: lib.nn.BCELoss(), "probs"),
    "bce_logits": (lambda lib: lib.nn.BCEWithLogitsLoss(pos_weight=lib.tensor([2.0, 1.0, 0.5])),
                   "binary"),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_modules_match_torch(name):
    factory, kind = LOSSES[name]
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, (4, 3)).astype(np.float32)
    if kind == "regression":
        target = rng.uniform(-2, 2, (4, 3)).astype(np.float32)
    elif kind in ("classes", "log_probs"):
        target = np.array([0, 2, 1, 2])
        if kind == "log_probs":
            x = np.log(np.exp(x) / np.exp(x).sum(1, keepdims=True)).astype(np.float32)
    elif kind == "probs":
        x = (1 / (1 + np.exp(-x))).astype(np.float32)
        target = rng.uniform(0, 1, (4, 3)).astype(np.float32)
    else:
        target = (rng.uniform(0, 1, (4, 3)) > 0.5).astype(np.float32)
    results = {}
    for lib in (torch, engine):
        module = factory(lib)
        inp = lib.tensor(x, requires_grad=True)
        loss = module(inp, lib.tensor(target))
        loss.sum().backward()
        results[lib.__name__] = (loss, inp.grad, grad_fn(loss), repr(module),
                                 list(module.state_dict()))
    (tl, tg, tn, tr, tk), (el, eg, en, er, ek) = results["torch"], results["engine"]
    close(el, tl, "loss")
    close(eg, tg, "grad")
    assert (en, er, ek) == (tn, tr, tk)


def test_legacy_reduction_arguments_warn_like_torch():
    import warnings

    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = lib.nn.MSELoss(size_average=False)
        return module.reduction, [str(w.message) for w in caught]

    assert run(engine) == run(torch)


def record_draws(lib, monkeypatch, build):
    """The (method, arguments) every ``uniform_``/``normal_`` call receives while ``build``
    runs; the fill itself is left to a constant so nothing random is compared."""
    calls = []

    def fake(method):
        def fill(self, *args, **kwargs):
            calls.append((method, tuple(self.shape), args,
                          {k: v for k, v in kwargs.items() if k != "generator"}))
            with lib.no_grad():
                self.fill_(0.5)
            return self
        return fill

    for method in ("uniform_", "normal_"):
        monkeypatch.setattr(lib.Tensor, method, fake(method), raising=False)
    build(lib)
    monkeypatch.undo()
    return calls


INITS = {
    "linear": lambda lib: lib.nn.Linear(7, 3),
    "linear_nobias": lambda lib: lib.nn.Linear(4, 9, bias=False),
    "bilinear": lambda lib: lib.nn.Bilinear(3, 5, 2),
    "xavier_uniform": lambda lib: lib.nn.init.xavier_uniform_(lib.empty(6, 4, 3), gain=2.0),
    "xavier_normal": lambda lib: lib.nn.init.xavier_normal_(lib.empty(5, 2)),
    "kaiming_uniform": lambda lib: lib.nn.init.kaiming_uniform_(
        lib.empty(8, 3, 2, 2), a=0.1, mode="fan_out", nonlinearity="leaky_relu"),
    "kaiming_normal": lambda lib: lib.nn.init.kaiming_normal_(lib.empty(4, 5),
                                                              nonlinearity="relu"),
    "uniform": lambda lib: lib.nn.init.uniform_(lib.empty(3), -0.3, 0.7),
    "normal": lambda lib: lib.nn.init.normal_(lib.empty(3), 1.5, 0.25),
}


@pytest.mark.parametrize("name", sorted(INITS))
def test_init_bounds_are_torch_bounds(name, monkeypatch):
    """Initialisers hand ``uniform_``/``normal_`` exactly torch's bounds and stds."""
    e = record_draws(engine, monkeypatch, INITS[name])
    t = record_draws(torch, monkeypatch, INITS[name])
    assert e == t and e


def test_calculate_gain_and_fans_match_torch():
    for nl, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                      ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                      ("leaky_relu", 3), ("selu", None)]:
        assert engine.nn.init.calculate_gain(nl, param) == torch.nn.init.calculate_gain(nl,
                                                                                        param)
    for shape in [(3, 4), (2, 3, 5), (4, 2, 3, 3), (1, 1, 1, 1, 2)]:
        assert engine.nn.init._calculate_fan_in_and_fan_out(engine.empty(shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    for code in ["calculate_gain('leaky_relu', True)", "calculate_gain('nope')",
                 "_calculate_fan_in_and_fan_out(lib.empty(3))",
                 "kaiming_uniform_(lib.empty(3, 3), mode='fan_x')", "eye_(lib.empty(2, 2, 2))",
                 "dirac_(lib.empty(2, 2))", "dirac_(lib.empty(3, 2, 3), groups=2)",
                 "orthogonal_(lib.empty(3))", "sparse_(lib.empty(3), 0.5)"]:
        assert outcome(engine, code) == outcome(torch, code), code


def outcome(lib, code):
    try:
        exec(code, {"lib": lib, **vars(lib.nn.init)})
        return "ok"
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return type(e).__name__, str(e)


@pytest.mark.parametrize("code", [
    "constant_(lib.empty(2, 3), 0.3)", "ones_(lib.empty(4))", "zeros_(lib.ones(2, 2))",
    "eye_(lib.empty(3, 5))", "eye_(lib.empty(4, 2))", "dirac_(lib.empty(4, 2, 3))",
    "dirac_(lib.empty(4, 2, 3, 3), groups=2)", "dirac_(lib.empty(2, 2, 1, 2, 3))",
])
def test_deterministic_inits_match_torch(code):
    values = {}
    for lib in (torch, engine):
        scope = {"lib": lib, **vars(lib.nn.init)}
        values[lib.__name__] = eval(code, scope).numpy()
    np.testing.assert_array_equal(values["engine"], values["torch"])


def test_random_inits_keep_their_laws():
    """Whatever the random source: bounds, truncation, orthogonality and sparsity hold."""
    init = engine.nn.init
    w = init.kaiming_uniform_(engine.empty(64, 32), a=math.sqrt(5))
    bound = 1 / math.sqrt(32)
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.9 * bound
    t = init.trunc_normal_(engine.empty(4000), mean=0.5, std=2.0, a=-1.0, b=1.5)
    assert -1.0 <= float(t.min()) and float(t.max()) <= 1.5
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):  # torch's warning
        t = init.trunc_normal_(engine.empty(4000), mean=0.0, std=1.0, a=2.5, b=3.0)
    assert 2.5 <= float(t.min()) and float(t.max()) <= 3.0
    q = init.orthogonal_(engine.empty(3, 6), gain=2.0).numpy().astype(np.float64)
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(3), atol=1e-5)
    s = init.sparse_(engine.empty(10, 4), sparsity=0.3).numpy()
    assert ((s == 0).sum(axis=0) >= 3).all()
    n = init.normal_(engine.empty(20000), 1.0, 0.5).numpy()
    assert abs(n.mean() - 1.0) < 0.02 and abs(n.std() - 0.5) < 0.02


def test_clip_grad_norm_and_value_match_torch():
    rng = np.random.default_rng(2)
    shapes = [(3, 4), (5,), (2, 2, 2)]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    for max_norm, norm_type in [(1.0, 2.0), (100.0, 2.0), (0.5, 1.0), (0.3, math.inf),
                                (2.0, 3.0)]:
        out = {}
        for lib in (torch, engine):
            params = [lib.nn.Parameter(lib.zeros(s)) for s in shapes]
            for p, g in zip(params, grads, strict=True):
                p.grad = lib.tensor(g)
            total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
            out[lib.__name__] = (total, [p.grad for p in params])
        close(out["engine"][0], out["torch"][0], "total norm")
        for e, t in zip(out["engine"][1], out["torch"][1], strict=True):
            close(e, t, f"clipped grad ({max_norm}, {norm_type})")
    out = {}
    for lib in (torch, engine):
        params = [lib.nn.Parameter(lib.zeros(s)) for s in shapes]
        for p, g in zip(params, grads, strict=True):
            p.grad = lib.tensor(g)
        lib.nn.utils.clip_grad_value_(params, 0.5)
        out[lib.__name__] = [p.grad.numpy() for p in params]
    for e, t in zip(out["engine"], out["torch"], strict=True):
        np.testing.assert_array_equal(e, t)


def test_clip_grad_norm_nonfinite_error_matches_torch():
    def run(lib):
        p = lib.nn.Parameter(lib.zeros(2))
        p.grad = lib.tensor([float("inf"), 1.0])
        try:
            lib.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
            return "ok"
        except RuntimeError as e:
            return str(e)

    assert run(engine) == run(torch)


def test_parameters_vector_round_trip_matches_torch():
    tmod, emod = build_pair(lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 2),
                                                          lib.nn.Linear(2, 2)))
    tvec = torch.nn.utils.parameters_to_vector(tmod.parameters())
    evec = engine.nn.utils.parameters_to_vector(emod.parameters())
    np.testing.assert_array_equal(evec.detach().numpy(), tvec.detach().numpy())
    assert grad_fn(evec) == grad_fn(tvec)
    new = np.arange(tvec.numel(), dtype=np.float32)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), tmod.parameters())
    engine.nn.utils.vector_to_parameters(engine.tensor(new), emod.parameters())
    for tp, ep in zip(tmod.parameters(), emod.parameters(), strict=True):
        np.testing.assert_array_equal(ep.detach().numpy(), tp.detach().numpy())
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        engine.nn.utils.vector_to_parameters([1.0], emod.parameters())
