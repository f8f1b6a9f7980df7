"""engine.nn.Module and containers against torch.nn: registration, walks, state dicts,
errors, reprs and hooks.  Each test builds the same structure on both libraries."""

from __future__ import annotations

import re
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import engine

LIBS = {"torch": torch, "engine": engine}


def both(build):
    """``build(lib)`` run with torch and with the engine."""
    return build(torch), build(engine)


def copy_weights(tmodel, emodel):
    """torch's parameters and buffers into the engine model, through numpy."""
    state = {k: engine.tensor(v.detach().numpy()) for k, v in tmodel.state_dict().items()}
    emodel.load_state_dict(state)


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return (type(e).__name__, str(e))


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.25),
        nn.Sequential(nn.Linear(8, 8, bias=False), nn.Tanh()),
        nn.ModuleList([nn.Linear(8, 8) for _ in range(3)] + [nn.GELU(approximate="tanh")]),
        nn.ModuleDict({"head": nn.Linear(8, 3), "act": nn.LogSoftmax(dim=1)}),
        nn.Flatten(), nn.Unflatten(1, (3, 1)), nn.LeakyReLU(0.2, inplace=True), nn.SiLU(),
        nn.Softmax(dim=-1), nn.Sigmoid(), nn.Identity(), nn.Bilinear(2, 3, 4),
        nn.MSELoss(), nn.CrossEntropyLoss(label_smoothing=0.1), nn.BCEWithLogitsLoss(),
    )


class Net:
    """A user Module subclass with parameters, buffers, a plain tensor and extra_repr."""

    @staticmethod
    def build(lib):
        nn = lib.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 2)
                self.scale = nn.Parameter(lib.ones(2))
                self.register_buffer("running", lib.zeros(2))
                self.register_buffer("scratch", lib.zeros(1), persistent=False)
                self.plain = lib.ones(1)  # a tensor attribute, not a buffer
                self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

            def forward(self, x):
                x = self.fc(x) * self.scale
                for block in self.blocks:
                    x = block(x)
                return x

            def extra_repr(self):
                return "custom=1\nsecond line"

        return Net()


def test_reprs_match_torch():
    for build in (mlp, Net.build):
        t, e = both(build)
        assert repr(e) == repr(t)
    t, e = both(lambda lib: lib.nn.ModuleList())
    assert repr(e) == repr(t)
    t, e = both(lambda lib: lib.nn.ReLU(inplace=True))
    assert repr(e) == repr(t)


def test_parameter_repr_and_type():
    t = torch.nn.Parameter(torch.tensor([[1.0, -2.5], [0.25, 3.0]]))
    e = engine.nn.Parameter(engine.tensor([[1.0, -2.5], [0.25, 3.0]]))
    assert repr(e) == repr(t)
    assert str(type(e)) == str(type(t))
    t2 = torch.nn.Parameter(torch.tensor([1.0]), requires_grad=False)
    e2 = engine.nn.Parameter(engine.tensor([1.0]), requires_grad=False)
    assert repr(e2) == repr(t2)
    assert (e * 2).__class__ is engine.Tensor  # ops on a Parameter give plain tensors


def test_parameter_shares_storage_and_version():
    data = engine.zeros(3)
    p = engine.nn.Parameter(data)
    with engine.no_grad():
        p.add_(1)
    assert data.tolist() == [1.0, 1.0, 1.0]
    assert data._version == p._version == 1
    assert p.is_leaf and p.requires_grad


def test_walks_and_state_dict_keys_match_torch():
    for build in (mlp, Net.build):
        t, e = both(build)
        assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
        assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
        assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
        assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
        assert [type(m).__name__ for m in e.modules()] == [
            type(m).__name__ for m in t.modules()]
        es, ts = e.state_dict(), t.state_dict()
        assert list(es) == list(ts)
        assert [tuple(v.shape) for v in es.values()] == [tuple(v.shape) for v in ts.values()]
        assert dict(es._metadata) == dict(ts._metadata)
        assert [p.requires_grad for p in e.parameters()] == [
            p.requires_grad for p in t.parameters()]


def test_shared_submodule_is_walked_once():
    def build(lib):
        shared = lib.nn.Linear(2, 2)
        return lib.nn.Sequential(shared, lib.nn.ReLU(), shared)

    t, e = both(build)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_parameters(remove_duplicate=False)] == [
        n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert list(e.state_dict()) == list(t.state_dict())


def test_load_state_dict_copies_values_and_reports_keys():
    t, e = both(Net.build)
    copy_weights(t, e)
    for (name, tv), ev in zip(t.state_dict().items(), e.state_dict().values(), strict=True):
        assert np.array_equal(tv.numpy(), ev.numpy()), name
    # missing and unexpected keys: strict raises torch's text, strict=False returns them
    tsd = {k: v for k, v in t.state_dict().items() if k != "fc.bias"}
    tsd["extra.weight"] = torch.zeros(1)
    esd = {k: engine.tensor(v.numpy()) for k, v in tsd.items()}
    assert outcome(lambda: e.load_state_dict(esd)) == outcome(lambda: t.load_state_dict(tsd))
    assert repr(e.load_state_dict(esd, strict=False)) == repr(
        t.load_state_dict(tsd, strict=False))
    full = {k: engine.tensor(v.numpy()) for k, v in t.state_dict().items()}
    assert repr(e.load_state_dict(full)) == repr(t.load_state_dict(t.state_dict()))
    # a shape mismatch
    bad_t = dict(t.state_dict(), **{"fc.weight": torch.zeros(5, 5)})
    bad_e = dict(full, **{"fc.weight": engine.zeros(5, 5)})
    assert outcome(lambda: e.load_state_dict(bad_e)) == outcome(lambda: t.load_state_dict(bad_t))
    assert outcome(lambda: e.load_state_dict([1])) == outcome(lambda: t.load_state_dict([1]))


def test_load_state_dict_assign_keeps_parameter_type():
    e = engine.nn.Linear(2, 2)
    new = {"weight": engine.ones(2, 2), "bias": engine.zeros(2)}
    e.load_state_dict(new, assign=True)
    assert isinstance(e.weight, engine.nn.Parameter) and e.weight.requires_grad
    assert e.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]


@pytest.mark.parametrize("action", [
    "m.w = lib.nn.Parameter(lib.ones(1)); m.w = lib.ones(1)",
    "m.fc = lib.nn.Linear(1, 1); m.fc = 3",
    "m.register_buffer('b', lib.ones(1)); m.b = 'x'",
    "m.register_buffer('a.b', lib.ones(1))",
    "m.register_buffer('', lib.ones(1))",
    "m.register_buffer('x', 5)",
    "m.x = 1; m.register_buffer('x', lib.ones(1))",
    "m.register_parameter('p', lib.ones(1))",
    "m.register_parameter('p', (lib.ones(1, requires_grad=True) * 2))",
    "m.add_module('a.b', lib.nn.ReLU())",
    "m.add_module('x', 3)",
    "m.add_module(3, lib.nn.ReLU())",
    "m.missing",
    "del m.missing",
    "m.get_submodule('nope')",
    "m.get_parameter('fc.nope')",
    "m.train(1)",
    "m(lib.ones(1))",
    "lib.nn.Module(1)",
    "lib.nn.Module(a=1)",
])
def test_registration_errors_match_torch(action):
    def run(lib):
        m = lib.nn.Module()
        m.fc = lib.nn.Linear(1, 1)
        exec(action, {"lib": lib, "m": m})
        return [n for n, _ in m.named_parameters()], [n for n, _ in m.named_buffers()]

    assert outcome(lambda: run(engine)) == outcome(lambda: run(torch))


def test_attribute_reassignment_moves_between_registries():
    def run(lib):
        m = lib.nn.Module()
        m.x = lib.nn.Parameter(lib.ones(1))
        refused = outcome(lambda: setattr(m, "x", lib.nn.Linear(1, 1)))  # a parameter slot
        m.y = lib.nn.Linear(1, 1)
        m.y = lib.nn.Parameter(lib.ones(1))  # a parameter replaces the module
        after_module = (refused, list(m._parameters), list(m._modules))
        m.register_buffer("b", lib.ones(1))
        m.b = None
        del m.x
        return after_module, list(m._buffers.items()), list(m._modules), hasattr(m, "x")

    assert run(engine) == run(torch)


def test_train_eval_requires_grad_and_zero_grad():
    t, e = both(mlp)
    for lib, m in (("torch", t), ("engine", e)):
        m.eval()
        assert all(not sub.training for sub in m.modules()), lib
        m.train()
        assert all(sub.training for sub in m.modules()), lib
        m.requires_grad_(False)
        assert not any(p.requires_grad for p in m.parameters()), lib
    e = engine.nn.Linear(2, 1)
    e(engine.ones(3, 2)).sum().backward()
    e.zero_grad(set_to_none=False)
    assert e.weight.grad.tolist() == [[0.0, 0.0]]
    e.zero_grad()
    assert e.weight.grad is None


def test_apply_and_to_double():
    t, e = both(Net.build)
    seen = {lib: [] for lib in LIBS}
    t.apply(lambda m: seen["torch"].append(type(m).__name__))
    e.apply(lambda m: seen["engine"].append(type(m).__name__))
    assert seen["engine"] == seen["torch"]
    weight = e.fc.weight
    e.double()
    assert e.fc.weight is weight and weight.dtype == engine.float64
    assert e.running.dtype == engine.float64
    e.to(engine.float32)
    assert e.fc.weight.dtype == engine.float32


def test_containers_index_slice_and_mutate_like_torch():
    def run(lib):
        nn = lib.nn
        seq = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 3), nn.Tanh())
        out = [repr(seq[1:3]), repr(seq[-1]), len(seq)]
        del seq[1]
        seq.insert(0, nn.Sigmoid())
        seq.append(nn.ReLU())
        out += [repr(seq), list(seq.state_dict())]
        out.append(outcome(lambda: seq[10]))
        out.append(repr(seq + nn.Sequential(nn.ReLU())))
        seq2 = nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.Linear(1, 1))]))
        out += [repr(seq2), list(seq2.state_dict())]
        ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
        ml.extend([nn.ReLU()])
        ml.insert(1, nn.Sigmoid())
        out += [repr(ml), repr(ml[::2]), outcome(lambda: ml[7]), outcome(lambda: ml.extend(3))]
        md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
        md["c"] = nn.Linear(1, 1)
        out += [repr(md), list(md.keys()), "a" in md, repr(md.pop("b")), len(md)]
        pl = nn.ParameterList([nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])
        pl.append(lib.ones(1, dtype=lib.float64))
        out += [repr(pl), list(pl.state_dict()), [type(p).__name__ for p in pl]]
        pd = nn.ParameterDict({"w": lib.ones(2), "a": nn.Parameter(lib.zeros(3))})
        pd["z"] = lib.ones(1, 1)
        out += [repr(pd), list(pd.keys()), list(pd.state_dict())]
        out.append(outcome(lambda: pl(1)))
        return out

    assert run(engine) == run(torch)


def test_forward_hooks_run_like_torch():
    def run(lib):
        calls = []
        m = lib.nn.Linear(2, 2)
        lib.nn.init.ones_(m.weight)
        lib.nn.init.zeros_(m.bias)
        m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h = m.register_forward_hook(lambda mod, args, out: calls.append("post") or out + 1)
        m.register_forward_hook(lambda mod, args, kwargs, out: calls.append(sorted(kwargs)),
                                with_kwargs=True)
        m.register_forward_pre_hook(lambda mod, args: calls.append("first"), prepend=True)
        y1 = m(lib.ones(1, 2)).tolist()
        h.remove()
        y2 = m(lib.ones(1, 2)).tolist()
        return calls, y1, y2

    assert run(engine) == run(torch)


def test_full_backward_hook_sees_torch_grads():
    def run(lib, replace):
        seen = []
        m = lib.nn.Linear(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.tensor([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]]))

        def hook(mod, grad_input, grad_output):
            seen.append(([g.tolist() if g is not None else None for g in grad_input],
                         [g.tolist() for g in grad_output]))
            if replace:
                return (grad_input[0] * 10,)
            return None

        m.register_full_backward_hook(hook)
        x = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        (m(x) * lib.tensor([[2.0, -1.0]])).sum().backward()
        return seen, x.grad.tolist(), m.weight.grad.tolist()

    for replace in (False, True):
        assert run(engine, replace) == run(torch, replace)


def test_full_backward_hook_without_input_grad():
    def run(lib):
        seen = []
        m = lib.nn.Linear(2, 1)
        m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, len(go))))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m(lib.ones(1, 2)).sum().backward()
        return seen, [str(w.message) for w in caught]

    assert run(engine) == run(torch)


def test_deepcopy_keeps_parameters_and_independence():
    import copy

    e = Net.build(engine)
    c = copy.deepcopy(e)
    assert repr(c) == repr(e)
    assert all(isinstance(p, engine.nn.Parameter) for p in c.parameters())
    with engine.no_grad():
        c.fc.weight.add_(1)
    assert not np.array_equal(c.fc.weight.detach().numpy(), e.fc.weight.detach().numpy())


def test_state_dict_tensors_are_detached_aliases():
    e = engine.nn.Linear(2, 2)
    sd = e.state_dict()
    assert not sd["weight"].requires_grad
    with engine.no_grad():
        e.weight.fill_(3.0)
    assert sd["weight"].tolist() == [[3.0, 3.0], [3.0, 3.0]]
    kept = e.state_dict(keep_vars=True)
    assert kept["weight"] is e.weight


def test_type_names_match_torch():
    t, e = both(mlp)
    assert [str(type(m)) for m in e.modules()] == [str(type(m)) for m in t.modules()]
    assert re.match(r"<class 'torch\.nn\.modules\.linear\.Linear'>", str(type(e[0])))


def test_buffer_assignment_like_torch():
    def run(lib):
        m = lib.nn.Module()
        m.kept = lib.nn.Buffer(lib.ones(2))
        m.dropped = lib.nn.Buffer(lib.zeros(1), persistent=False)
        b = lib.nn.Buffer(lib.ones(1, requires_grad=True))
        return (str(type(m.kept)), list(m.state_dict()), [n for n, _ in m.named_buffers()],
                isinstance(m.kept, lib.nn.Buffer), isinstance(lib.ones(1), lib.nn.Buffer),
                b.requires_grad, b.is_leaf)

    assert run(engine) == run(torch)
