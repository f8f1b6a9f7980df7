"""engine.optim.lr_scheduler against torch's: the learning-rate (and momentum) sequences over
many steps are compared with ``==`` (the schedules are Python float arithmetic, done in
torch's order), for Hypothesis-drawn settings; state dicts have torch's keys."""

from __future__ import annotations

import re
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.optim as eoptim

STEPS = 60


def optimizers(opt_name="SGD", groups=2, **kwargs):
    """The same optimizer on both libraries: two param groups with different lrs."""
    built = {}
    for lib, mod in (("torch", torch.optim), ("engine", eoptim)):
        tlib = torch if lib == "torch" else engine
        params = [{"params": [tlib.nn.Parameter(tlib.ones(2))], "lr": 0.1 * (i + 1)}
                  for i in range(groups)]
        built[lib] = getattr(mod, opt_name)(params, **kwargs)
    return built


def trace(opt, sched, steps, metric=None, momentum_key=None):
    """Per step: the scheduler's last lrs and the groups' momentum/betas."""
    out = []
    for i in range(steps):
        opt.step()
        try:
            sched.step() if metric is None else sched.step(metric(i))
        except Exception as e:  # noqa: BLE001 - torch's own errors must be the engine's too
            out.append((type(e).__name__, str(e)))
            break
        row = [list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups]]
        if momentum_key:
            row.append([g[momentum_key] for g in opt.param_groups])
        out.append(row)
    return out


def compare(make, opt_name="SGD", steps=STEPS, metric=None, momentum_key=None, **opt_kwargs):
    opts = optimizers(opt_name, **opt_kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tsched = make(torch.optim.lr_scheduler, opts["torch"])
        except Exception as e:  # noqa: BLE001 - torch refuses: the engine must refuse alike
            with pytest.raises(type(e), match=re.escape(str(e))):
                make(eoptim.lr_scheduler, opts["engine"])
            return None, None
        esched = make(eoptim.lr_scheduler, opts["engine"])
        initial = ([g["lr"] for g in opts["engine"].param_groups],
                   [g["lr"] for g in opts["torch"].param_groups])
        assert initial[0] == initial[1]
        assert esched.get_last_lr() == tsched.get_last_lr()
        t = trace(opts["torch"], tsched, steps, metric, momentum_key)
        e = trace(opts["engine"], esched, steps, metric, momentum_key)
    assert e == t
    tsd, esd = tsched.state_dict(), esched.state_dict()
    assert sorted(esd) == sorted(tsd)
    return tsched, esched


gammas = st.sampled_from([0.1, 0.5, 0.9, 0.95, 0.999])
small = st.integers(1, 12)


@settings(max_examples=20, deadline=None)
@given(step_size=small, gamma=gammas)
def test_step_lr(step_size, gamma):
    compare(lambda m, o: m.StepLR(o, step_size, gamma=gamma))


@settings(max_examples=20, deadline=None)
@given(milestones=st.lists(st.integers(1, 50), max_size=5), gamma=gammas)
def test_multistep_lr(milestones, gamma):
    compare(lambda m, o: m.MultiStepLR(o, milestones, gamma=gamma))


@settings(max_examples=20, deadline=None)
@given(gamma=gammas)
def test_exponential_lr(gamma):
    compare(lambda m, o: m.ExponentialLR(o, gamma))


@settings(max_examples=20, deadline=None)
@given(t_max=st.integers(1, 25), eta_min=st.sampled_from([0.0, 1e-4, 0.01]))
def test_cosine_annealing_lr(t_max, eta_min):
    compare(lambda m, o: m.CosineAnnealingLR(o, t_max, eta_min=eta_min))


@settings(max_examples=20, deadline=None)
@given(t0=st.integers(1, 10), t_mult=st.integers(1, 3), eta_min=st.sampled_from([0.0, 0.001]))
def test_cosine_annealing_warm_restarts(t0, t_mult, eta_min):
    compare(lambda m, o: m.CosineAnnealingWarmRestarts(o, t0, T_mult=t_mult, eta_min=eta_min))


@settings(max_examples=20, deadline=None)
@given(start=st.sampled_from([0.1, 1 / 3, 0.5, 1.0]), end=st.sampled_from([0.0, 0.5, 1.0]),
       total=st.integers(1, 20))
def test_linear_lr(start, end, total):
    compare(lambda m, o: m.LinearLR(o, start_factor=start, end_factor=end, total_iters=total))


@settings(max_examples=20, deadline=None)
@given(factor=st.sampled_from([0.1, 1 / 3, 0.5, 1.0]), total=st.integers(0, 20))
def test_constant_lr(factor, total):
    compare(lambda m, o: m.ConstantLR(o, factor=factor, total_iters=total))


@settings(max_examples=20, deadline=None)
@given(total=st.integers(1, 30), power=st.sampled_from([0.5, 1.0, 2.0]))
def test_polynomial_lr(total, power):
    compare(lambda m, o: m.PolynomialLR(o, total_iters=total, power=power))


def test_lambda_and_multiplicative_lr():
    compare(lambda m, o: m.LambdaLR(o, lambda epoch: 0.95**epoch))
    compare(lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.5]))
    compare(lambda m, o: m.MultiplicativeLR(o, lambda epoch: 0.97))


@settings(max_examples=20, deadline=None)
@given(total=st.integers(10, 80), pct=st.sampled_from([0.1, 0.25, 0.3, 0.5]),
       strategy=st.sampled_from(["cos", "linear"]), three_phase=st.booleans(),
       opt=st.sampled_from(["SGD", "Adam"]))
def test_one_cycle_lr(total, pct, strategy, three_phase, opt):
    key = "betas" if opt == "Adam" else "momentum"
    kwargs = {"momentum": 0.9} if opt == "SGD" else {}
    compare(lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 1.0], total_steps=total, pct_start=pct,
                                      anneal_strategy=strategy, three_phase=three_phase),
            opt_name=opt, steps=total - 1, momentum_key=key, **kwargs)


@settings(max_examples=20, deadline=None)
@given(up=st.integers(1, 10), down=st.one_of(st.none(), st.integers(1, 10)),
       mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
       gamma=st.sampled_from([0.9, 0.99]))
def test_cyclic_lr(up, down, mode, gamma):
    compare(lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=up,
                                    step_size_down=down, mode=mode, gamma=gamma),
            momentum_key="momentum", momentum=0.9)


@settings(max_examples=20, deadline=None)
@given(mode=st.sampled_from(["min", "max"]), threshold_mode=st.sampled_from(["rel", "abs"]),
       patience=st.integers(0, 4), cooldown=st.integers(0, 3),
       metrics=st.lists(st.sampled_from([1.0, 0.9, 0.5, 0.99, 1.1, 2.0]), min_size=STEPS,
                        max_size=STEPS))
def test_reduce_lr_on_plateau(mode, threshold_mode, patience, cooldown, metrics):
    compare(lambda m, o: m.ReduceLROnPlateau(o, mode=mode, threshold_mode=threshold_mode,
                                             patience=patience, cooldown=cooldown,
                                             min_lr=[0.0, 0.01], factor=0.5),
            metric=lambda i: metrics[i])


def test_sequential_and_chained():
    compare(lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.ExponentialLR(o, 0.9),
            m.StepLR(o, 3)], milestones=[5, 20]))
    compare(lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.95)]))


def test_closed_form_when_epoch_given():
    opts = optimizers()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = {}
        for lib, mod in (("torch", torch.optim), ("engine", eoptim)):
            opt = opts[lib]
            sched = mod.lr_scheduler.StepLR(opt, 3, gamma=0.5)
            out = []
            for epoch in (5, 2, 9, 9, 30):
                opt.step()
                sched.step(epoch)
                out.append(sched.get_last_lr())
            rows[lib] = out
    assert rows["engine"] == rows["torch"]


def test_warnings_match_torch():
    def run(lib, mod):
        opt = mod.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        sched = mod.lr_scheduler.StepLR(opt, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched.step()  # before optimizer.step()
            sched.get_lr()  # outside step
            sched.step(3)  # an explicit epoch
        return [(w.category.__name__, str(w.message)) for w in caught]

    assert run(engine, eoptim) == run(torch, torch.optim)


@pytest.mark.parametrize("code", [
    "m.StepLR(object(), 2)",
    "m.LinearLR(o, start_factor=0)",
    "m.ConstantLR(o, factor=2)",
    "m.CosineAnnealingWarmRestarts(o, 0)",
    "m.OneCycleLR(o, 1.0)",
    "m.OneCycleLR(o, 1.0, total_steps=5, anneal_strategy='x')",
    "s = m.OneCycleLR(o, 1.0, total_steps=2); o.step(); s.step(); s.step()",
    "m.ReduceLROnPlateau(o, factor=1.0)",
    "m.ReduceLROnPlateau(o, mode='x')",
    "m.SequentialLR(o, [m.StepLR(o, 2)], milestones=[3])",
    "m.StepLR(o, 2, last_epoch=3)",
])
def test_errors_match_torch(code):
    def run(lib, mod):
        o = mod.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1, momentum=0.9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(code, {"m": mod.lr_scheduler, "o": o})

    def outcome(fn):
        try:
            fn()
            return "ok"
        except Exception as e:  # noqa: BLE001 - the exception is what is compared
            return type(e).__name__, str(e)

    assert outcome(lambda: run(engine, eoptim)) == outcome(lambda: run(torch, torch.optim))


def test_state_dict_round_trip():
    tsched, esched = compare(lambda m, o: m.CosineAnnealingWarmRestarts(o, 4, T_mult=2),
                             steps=7)
    opts = optimizers()
    fresh = eoptim.lr_scheduler.CosineAnnealingWarmRestarts(opts["engine"], 4, T_mult=2)
    fresh.load_state_dict(esched.state_dict())
    assert fresh.state_dict() == esched.state_dict()
