"""The activation, loss, distance and dropout modules against torch's: reprs, forward values,
grads and the grad_fn each records; training/eval mode for the random ones (torch's bits)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

MODULES = [
    "ELU()", "ELU(0.5, inplace=True)", "SELU()", "CELU(2.0)", "GLU()", "Hardtanh(-2, 2)",
    "ReLU6()", "Hardswish()", "Hardsigmoid(inplace=True)", "Mish()", "Softplus(2, 10)",
    "Softshrink(0.3)", "Hardshrink()", "Tanhshrink()", "Threshold(0.1, 20)", "LogSigmoid()",
    "Softsign()", "Softmin(1)", "PReLU(3, init=0.3, dtype=float64)", "RReLU(0.1, 0.3)",
    "Dropout1d(0.3)", "Dropout2d(0.2)", "AlphaDropout(0.2)", "FeatureAlphaDropout(0.1)",
]


@pytest.mark.parametrize("code", MODULES)
@pytest.mark.parametrize("training", [True, False])
def test_activation_and_dropout_modules(code, training):
    seen = {}
    for lib in (torch, engine):
        lib.manual_seed(11)
        module = eval("nn." + code, {"nn": lib.nn, "float64": lib.float64})
        module.train(training)
        x = lib.tensor(np.linspace(-3, 3, 24).reshape(2, 3, 4), requires_grad=True)
        y = module(x * 1)
        g, = lib.autograd.grad(y.sum(), x)
        seen[lib.__name__] = (repr(module), type(y.grad_fn).__name__, y.detach().numpy(),
                              g.numpy())
    t, e = seen["torch"], seen["engine"]
    assert e[:2] == t[:2]
    np.testing.assert_allclose(e[2], t[2], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(e[3], t[3], rtol=1e-12, atol=1e-15)


LOSSES = {
    "HuberLoss(delta=0.5)": 2, "SmoothL1Loss(beta=2.0)": 2, "SoftMarginLoss()": 2,
    "KLDivLoss(reduction='batchmean', log_target=True)": 2, "PoissonNLLLoss()": 2,
    "MarginRankingLoss(0.5)": 3, "HingeEmbeddingLoss(margin=2.0)": 2,
    "MultiLabelSoftMarginLoss(reduction='sum')": 2, "CosineEmbeddingLoss(0.1)": 3,
    "TripletMarginLoss(swap=True)": 3, "TripletMarginWithDistanceLoss(margin=0.5)": 3,
    "CosineSimilarity(dim=0)": 2, "PairwiseDistance(p=1.0, keepdim=True)": 2,
}


@pytest.mark.parametrize("code", LOSSES)
def test_loss_and_distance_modules(code):
    seen = {}
    for lib in (torch, engine):
        rng = np.random.default_rng(5)
        module = eval("nn." + code, {"nn": lib.nn})
        args = [lib.tensor(rng.normal(size=(3, 4)), requires_grad=True)
                for _ in range(LOSSES[code])]
        if code.startswith(("MarginRanking", "CosineEmbedding")):
            args[2] = lib.tensor([1.0, -1.0, 1.0]) if code.startswith("Cosine") else \
                args[2].detach().sign()
        if code.startswith(("SoftMargin", "HingeEmbedding", "MultiLabelSoft")):
            args[1] = (args[1].detach() > 0).double() * (1 if "Soft" in code[:9] else 2) - (
                0 if code.startswith("MultiLabel") else 1)
        if code.startswith("PoissonNLL"):
            args[1] = args[1].detach().abs()
        out = module(*args)
        grads = lib.autograd.grad(out.sum(), args[0])
        seen[lib.__name__] = (repr(module), type(out.grad_fn).__name__, out.detach().numpy(),
                              grads[0].numpy())
    t, e = seen["torch"], seen["engine"]
    assert e[:2] == t[:2]
    np.testing.assert_allclose(e[2], t[2], rtol=1e-12)
    np.testing.assert_allclose(e[3], t[3], rtol=1e-10, atol=1e-14)


def test_prelu_is_a_parameter_module_with_torchs_state():
    e, t = engine.nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    assert e.weight.tolist() == pytest.approx(t.weight.tolist())
    assert type(e.weight).__name__ == "Parameter"


def test_module_argument_errors():
    for code in ("nn.Hardtanh(1.0, -1.0)", "nn.MultiMarginLoss(p=3)",
                 "nn.TripletMarginLoss(margin=0)", "nn.HuberLoss(delta='a')"):
        outcome = {}
        for lib in (torch, engine):
            try:
                eval(code, {"nn": lib.nn})
                outcome[lib.__name__] = None
            except Exception as exc:  # noqa: BLE001 - compared
                outcome[lib.__name__] = (type(exc).__name__, str(exc))
        assert outcome["engine"] == outcome["torch"], code
