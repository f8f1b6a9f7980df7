"""What Hypothesis's target phase is worth to Parity: failures found with and without it.

The runner passes each example's worst error / tolerance ratio to `hypothesis.target()`, and
Hypothesis then spends part of an item's examples hill-climbing that ratio (its optimise phase)
instead of drawing fresh inputs. That helps only against a bug whose error grows smoothly
towards a failure; it costs examples spent near one input. This script breaks the engine in
ways of exactly that kind (errors that grow with the input or hit part of the input space only),
runs every spec item that uses the broken op with and without the target phase (the same
examples per item, several seeds), and counts the items that fail.

Run: python benchmarks/target_phase.py [--seeds 3] [--examples 100]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.ops import elementwise
from harness.run import runner
from harness.run.plugin import spec_items
from harness.spec import SpecError

ROOT = Path(__file__).resolve().parents[1]


def _wrap_function(mp, name, wrong):
    """`torch.name(x)` and `x.name()` computed right, then made wrong by `wrong(x, out)`."""
    real_function, real_method = getattr(engine, name), getattr(engine.Tensor, name)
    mp.setattr(engine, name, lambda x, *a, **k: wrong(x, real_function(x, *a, **k)))
    mp.setattr(engine.Tensor, name, lambda x, *a, **k: wrong(x, real_method(x, *a, **k)))


def _wrap_formula(mp, node, index, wrong):
    formulas = list(node.formulas)
    real = formulas[index]
    formulas[index] = lambda n, g: wrong(real(n, g))
    mp.setattr(node, "formulas", tuple(formulas))


def _scaled(x, out, factor):
    """`out` times (1 + factor), factor an array over x's elements, in out's dtype."""
    with engine.no_grad():
        bump = engine.tensor(np.asarray(factor, dtype=out.numpy().dtype))
    return out * (1 + bump)


#: (name, the op's name in programs, break): each wrong only where the input makes it so
BREAKS = [
    ("exp: relative error 2e-8·x⁴", "exp",
     lambda mp: _wrap_function(mp, "exp", lambda x, out: _scaled(
         x, out, 2e-8 * x.detach().numpy().astype(np.float64) ** 4))),
    ("sigmoid: 1e-5 above x = 4.5", "sigmoid",
     lambda mp: _wrap_function(mp, "sigmoid", lambda x, out: _scaled(
         x, out, 1e-5 * (x.detach().numpy() > 4.5)))),
    ("log: 1e-5 below x = 0.01", "log",
     lambda mp: _wrap_function(mp, "log", lambda x, out: _scaled(
         x, out, 1e-5 * (np.abs(x.detach().numpy()) < 0.01)))),
    ("pow's grad: 1e-7·g² relative", "pow",
     lambda mp: _wrap_formula(mp, elementwise.PowBackward0, 0,
                              lambda r: r * (1 + 1e-7 * r * r))),
]


def items_using(op: str) -> list[tuple[str, object, dict]]:
    """The spec items whose program text names `op`."""
    out = []
    for file in sorted((ROOT / "specs").rglob("*.yaml")):
        if file.name in ("expectations.yaml", "opinfo.yaml"):
            continue
        for name, spec, variant in spec_items(file, ROOT):
            if not isinstance(spec, SpecError) and op in spec.model.program:
                out.append((f"{file.relative_to(ROOT).as_posix()}::{name}", spec, variant))
    return out


def failing(items, seed: int, examples: int, target: bool) -> tuple[set[str], float]:
    found, start = set(), time.process_time()
    for node_id, spec, variant in items:
        result = runner.check(spec, variant, node_id, session_seed=seed, max_examples=examples,
                              shrink_limit_s=0, targeting=target)
        if result.outcome == "failed":
            found.add(node_id)
    return found, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--examples", type=int, default=100)
    args = parser.parse_args()
    print(f"{'break':<32} {'items':>5} {'seed':>4} {'found: target':>13} {'plain':>5} "
          f"{'only target':>11} {'only plain':>10} {'CPU s: target':>13} {'plain':>6}",
          flush=True)
    totals = np.zeros(4)
    for label, op, apply in BREAKS:
        items = items_using(op)
        for seed in range(args.seeds):
            with pytest.MonkeyPatch.context() as mp:
                apply(mp)
                with_t, cpu_t = failing(items, seed, args.examples, True)
                plain, cpu_p = failing(items, seed, args.examples, False)
            totals += (len(with_t - plain), len(plain - with_t), cpu_t, cpu_p)
            print(f"{label:<32} {len(items):>5} {seed:>4} {len(with_t):>13} {len(plain):>5} "
                  f"{len(with_t - plain):>11} {len(plain - with_t):>10} {cpu_t:>13.1f} "
                  f"{cpu_p:>6.1f}", flush=True)
    print(f"total: items found only with the target phase {totals[0]:.0f}, only without it "
          f"{totals[1]:.0f}; CPU {totals[2]:.0f} s with, {totals[3]:.0f} s without")


if __name__ == "__main__":
    main()
