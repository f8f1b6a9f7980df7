"""Training a network step for step with PyTorch: the same MLP (torch's initial weights
copied in), the same batches from a DataLoader, a loss, backward, gradient clipping, an
optimizer step and a scheduler step, on both libraries.  Losses and parameters are compared
after every step at a tolerance (matrix products and reductions sum in another order; the
optimizers' own arithmetic is checked bit for bit in test_optim_steps)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
import engine.optim as eoptim
import engine.utils.data as edata

# eps = 1e-3 in the adaptive methods: with torch's tiny default an entry whose gradient
# nearly cancels (|g| ~ 1e-8, known only to summation-order noise) moves by a full step
# either way; the optimizers' arithmetic with every eps is checked in test_optim_steps
CASES = {
    "sgd_momentum": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    "adam": ("Adam", dict(lr=0.01, eps=1e-3)),
    "adamw_amsgrad": ("AdamW", dict(lr=0.01, amsgrad=True, eps=1e-3)),
    "rmsprop_centered": ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, eps=1e-3)),
    "adagrad": ("Adagrad", dict(lr=0.1, lr_decay=0.01, eps=1e-3)),
    "adadelta": ("Adadelta", dict(lr=1.0)),
    "adamax": ("Adamax", dict(lr=0.01, eps=1e-3)),
    "nadam": ("NAdam", dict(lr=0.01, eps=1e-3)),
    "radam": ("RAdam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.01,
                            eps=1e-3)),
}
STEPS = 8


def model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 3))


def loop(lib, opt_mod, data_mod, name, kwargs, x, y, state):
    net = model(lib)
    if state is None:
        state = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    else:
        net.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    opt = getattr(opt_mod, name)(net.parameters(), **kwargs)
    sched = opt_mod.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    loader = data_mod.DataLoader(data_mod.TensorDataset(lib.tensor(x), lib.tensor(y)),
                                 batch_size=8)
    loss_fn = lib.nn.CrossEntropyLoss()
    history = []
    batches = iter(loader)
    for _ in range(STEPS):
        try:
            xb, yb = next(batches)
        except StopIteration:
            batches = iter(loader)
            xb, yb = next(batches)
        opt.zero_grad()
        loss = loss_fn(net(xb), yb)
        loss.backward()
        norm = lib.nn.utils.clip_grad_norm_(net.parameters(), max_norm=5.0)
        opt.step()
        sched.step()
        history.append((loss.item(), norm.item(), sched.get_last_lr(),
                        [p.detach().numpy().copy() for p in net.parameters()]))
    return state, history


@pytest.mark.parametrize("case", sorted(CASES))
def test_training_matches_torch(case):
    name, kwargs = CASES[case]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 6)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    state, thist = loop(torch, torch.optim, torch.utils.data, name, kwargs, x, y, None)
    _, ehist = loop(engine, eoptim, edata, name, kwargs, x, y, state)
    for step, ((tl, tn, tlr, tp), (el, en, elr, ep)) in enumerate(
            zip(thist, ehist, strict=True)):
        assert elr == tlr
        np.testing.assert_allclose(el, tl, rtol=1e-5, err_msg=f"loss at step {step}")
        np.testing.assert_allclose(en, tn, rtol=1e-5, err_msg=f"grad norm at step {step}")
        for i, (t, e) in enumerate(zip(tp, ep, strict=True)):
            np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-5,
                                       err_msg=f"param {i} after step {step}")
    assert not np.array_equal(ehist[-1][3][0], state["0.weight"])  # the steps did something
