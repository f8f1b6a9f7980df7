"""ops/losses.py against torch, for what the OpInfo corpus does not reach: the nodes of the
composite losses (op for op, as ATen and torch.nn.functional build them), the grads' nodes
under create_graph, the legacy reduction arguments, CTC with impossible alignments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import engine


def _chain(t, depth=6):
    """The grad_fn names breadth first, a few levels deep."""
    out, frontier = [], [t.grad_fn]
    for _ in range(depth):
        names, nxt = [], []
        for fn in frontier:
            if fn is None:
                continue
            names.append(type(fn).__name__)
            nxt += [f for f, _ in fn.next_functions
                    if f is not None and "AccumulateGrad" not in type(f).__name__]
        if not names:
            break
        out.append("/".join(names))
        frontier = nxt
    return out


LOSSES = {
    "huber": lambda F, x, y, s: F.huber_loss(x, y, delta=0.7),
    "huber_weight": lambda F, x, y, s: F.huber_loss(x, y, weight=s, reduction="sum"),
    "smooth_l1": lambda F, x, y, s: F.smooth_l1_loss(x, y, beta=0.5, reduction="none"),
    "smooth_l1_beta0": lambda F, x, y, s: F.smooth_l1_loss(x, y, beta=0.0),
    "kl_div": lambda F, x, y, s: F.kl_div(x, s.softmax(1), reduction="batchmean"),
    "kl_div_log": lambda F, x, y, s: F.kl_div(x, y, reduction="sum", log_target=True),
    "poisson_nll": lambda F, x, y, s: F.poisson_nll_loss(x, s),
    "poisson_nll_full": lambda F, x, y, s: F.poisson_nll_loss(x.exp(), s + 1, log_input=False,
                                                              full=True, reduction="sum"),
    "gaussian_nll": lambda F, x, y, s: F.gaussian_nll_loss(x, y, s, full=True),
    "margin_ranking": lambda F, x, y, s: F.margin_ranking_loss(x, y, s.sign(), margin=0.2),
    "hinge": lambda F, x, y, s: F.hinge_embedding_loss(x, (s > 1).float() * 2 - 1),
    "soft_margin": lambda F, x, y, s: F.soft_margin_loss(x, (s > 1).float() * 2 - 1),
    "multi_margin": lambda F, x, y, s: F.multi_margin_loss(x, x.detach().argmin(1), p=2,
                                                           weight=s[0]),
    "multilabel_margin": lambda F, x, y, s: F.multilabel_margin_loss(
        x, (s * 2).long().clamp(-1, 3)),
    "multilabel_soft_margin": lambda F, x, y, s: F.multilabel_soft_margin_loss(
        x, (s > 1).double(), weight=s[0]),
    "cosine_embedding": lambda F, x, y, s: F.cosine_embedding_loss(x, y, s[:, 0].sign()),
    "triplet": lambda F, x, y, s: F.triplet_margin_loss(x, y, s, swap=True, p=1.5),
    "triplet_distance": lambda F, x, y, s: F.triplet_margin_with_distance_loss(
        x, y, s, distance_function=F.pairwise_distance, swap=True),
    "cosine_similarity": lambda F, x, y, s: F.cosine_similarity(x, y[:1], dim=1),
    "pairwise": lambda F, x, y, s: F.pairwise_distance(x, y, p=3, keepdim=True),
    "pdist": lambda F, x, y, s: F.pdist(x, p=2.5),
}


@pytest.mark.parametrize("name", LOSSES)
def test_graphs_values_and_grads(name):
    out = {}
    for lib in (torch, engine):
        rng = np.random.default_rng(7)
        x, y = (lib.tensor(rng.normal(size=(3, 4)), requires_grad=True) for _ in range(2))
        s = lib.tensor(rng.uniform(0.1, 2.0, size=(3, 4)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = LOSSES[name](lib.nn.functional, x, y, s)
        grads = lib.autograd.grad(loss.sum(), (x, y), allow_unused=True, create_graph=True)
        out[lib.__name__] = (_chain(loss), loss.tolist(), [
            None if g is None else (None if g.grad_fn is None else type(g.grad_fn).__name__,
                                    g.tolist()) for g in grads])
    t, e = out["torch"], out["engine"]
    assert e[0] == t[0]
    np.testing.assert_allclose(e[1], t[1], rtol=1e-10)
    for ge, gt in zip(e[2], t[2], strict=True):
        assert (ge is None) == (gt is None)
        if ge is not None:
            assert ge[0] == gt[0]
            np.testing.assert_allclose(ge[1], gt[1], rtol=1e-9, atol=1e-12)


def test_legacy_reduction_arguments_warn_as_torch():
    seen = {}
    for lib in (torch, engine):
        x = lib.ones(2, 3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = lib.nn.functional.soft_margin_loss(x, x, size_average=False)
        seen[lib.__name__] = (value.item(), [str(w.message) for w in caught])
    assert seen["engine"][1] == seen["torch"][1]
    assert seen["engine"][0] == pytest.approx(seen["torch"][0], rel=1e-6)


def test_ctc_impossible_alignment_and_zero_infinity():
    seen = {}
    for lib in (torch, engine):
        rng = np.random.default_rng(3)
        lp = lib.tensor(rng.normal(size=(6, 2, 4))).log_softmax(2).detach().requires_grad_()
        targets = lib.tensor([[1, 1], [3, 1]])
        results = []
        for zero_infinity in (False, True):
            loss = lib.nn.functional.ctc_loss(lp, targets, lib.tensor([2, 5]),
                                              lib.tensor([2, 1]), reduction="none",
                                              zero_infinity=zero_infinity)
            g, = lib.autograd.grad(loss[1], lp)
            results.append((loss.tolist(), type(loss.grad_fn).__name__, g.tolist()))
        seen[lib.__name__] = results
    for e, t in zip(seen["engine"], seen["torch"], strict=True):
        assert e[0] == t[0] and e[1] == t[1]
        np.testing.assert_allclose(e[2], t[2], rtol=1e-10, atol=1e-14)


ERRORS = [
    "F.multi_margin_loss(x, t.tensor([1, 0, 5]))", "F.multi_margin_loss(x, t.tensor([1, 0]))",
    "F.multi_margin_loss(x, t.tensor([1, 0, 2]), p=3)",
    "F.multi_margin_loss(x, t.tensor([1, 0, 2]), weight=t.ones(4))",
    "F.multilabel_margin_loss(x, t.tensor([1, 0]))",
    "F.multilabel_margin_loss(x, t.full((3, 5), 7))",
    "F.soft_margin_loss(x, t.ones(3, 5, requires_grad=True))",
    "F.huber_loss(x, x, delta=0)", "F.smooth_l1_loss(x, x, beta=-1)",
    "F.kl_div(t.tensor([1, 2]), t.tensor([1., 2]))", "F.kl_div(x, x, reduction='bad')",
    "F.gaussian_nll_loss(x, x, -t.ones(3, 5))", "F.gaussian_nll_loss(x, x, t.ones(3, 4))",
    "F.margin_ranking_loss(x, x, t.ones(5))", "F.cosine_embedding_loss(x, x, t.ones(3, 1))",
    "F.cosine_embedding_loss(x[0], x[0], t.ones(3))", "F.triplet_margin_loss(x, x, x[0])",
    "F.triplet_margin_loss(x, x, x, margin=0)", "F.cosine_similarity(x, t.ones(2, 5))",
    "F.cosine_similarity(t.tensor([1, 2]), t.tensor([1, 2]))", "F.pdist(x[0])",
    "F.pdist(x, -1)", "F.ctc_loss(x.view(3, 1, 5), t.tensor([[1]]), [3], [2])",
    "F.ctc_loss(x.view(3, 1, 5), t.tensor([[1]]), [4], [1])",
    "F.ctc_loss(x.view(3, 1, 5), t.tensor([[1]]), [3], [1], blank=5)",
]


@pytest.mark.parametrize("code", ERRORS)
def test_errors_as_torch(code):
    outcome = {}
    for t in (torch, engine):
        try:
            eval(code, {"t": t, "F": t.nn.functional, "x": t.ones(3, 5)})
            outcome[t.__name__] = None
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            outcome[t.__name__] = (type(e).__name__, str(e))
    assert outcome["engine"] == outcome["torch"]
