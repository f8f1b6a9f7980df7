"""The likely culprits of a run's failures: what the failing items share that the passing lack.

Spectrum-based fault localisation. Each item exercised a set of elements (its record's
`coverage`: the backward nodes its backward passes ran, grad_fn classes, functions, Tensor
methods, operators, autograd features, and whether its PyTorch traces had None grads or
warnings to compare). An element's Ochiai score is

    failed(e) / sqrt(total_failed * (failed(e) + passed(e)))

1 for an element in every failing item and in no passing one. With one broken op, every failing
item exercises it and few passing items do, so it comes first: the report and the terminal
name it instead of leaving a reader with hundreds of failure cards. Only `failed` items count as
failing (an ERROR is a broken spec or the harness, an xfail a known divergence); passed and
xpassed items count as passing.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from harness.contract import CHECKS, FAILED, PASSED, XPASSED

#: Kinds of element, in the order a tie is broken: the most specific first.
KINDS = {
    "backward": "backward node run",
    "grad_fn": "grad_fn",
    "function": "function",
    "method": "Tensor method",
    "operator": "operator",
    "feature": "autograd feature",
    "check": "behaviour",
}


#: Checks that count as something an item exercised: `none_grads` is exercised only by programs
#: with non-leaf tensors or warnings, a behaviour of its own. The others (values, grads, flags,
#: errors, prints) are what nearly every item checks, or are named better by a feature
#: (declared-error, print): as elements they would only echo the symptom. A failing item counts
#: such a check only if that check failed: nearly every autograd program has a None grad to
#: compare, so its mere presence says nothing about a failure in its values.
CHECK_ELEMENTS = frozenset({"none_grads"})


@dataclass(frozen=True)
class Suspect:
    kind: str  # a key of KINDS
    name: str  # as a program or a trace spells it: MulBackward0, torch.mul, Tensor.sum, +
    score: float  # Ochiai
    failed: int  # failing items that exercised it
    passed: int  # passing items that exercised it
    total_failed: int
    failing_ids: tuple[str, ...]

    @property
    def key(self) -> str:
        """One token naming the element (no spaces): `grad_fn:MulBackward0`."""
        return f"{self.kind}:{self.name}"

    @property
    def label(self) -> str:
        return CHECKS.get(self.name, self.name) if self.kind == "check" else self.name

    def describe(self) -> str:
        return (f"{self.label} ({KINDS[self.kind]}): in {self.failed} of {self.total_failed} "
                f"failing items and {self.passed} passing (Ochiai {self.score:.2f})")


def exercised(row: dict) -> set[tuple[str, str]]:
    """(kind, name) of everything a record says its item exercised (of a failing item's
    CHECK_ELEMENTS, those that failed)."""
    coverage = row.get("coverage") if isinstance(row.get("coverage"), dict) else {}
    out = set()
    for field, kind, prefix in (("backward_nodes", "backward", ""), ("grad_fns", "grad_fn", ""),
                                ("functions", "function", ""),
                                ("methods", "method", "Tensor."), ("operators", "operator", ""),
                                ("features", "feature", "")):
        for name in coverage.get(field) or []:
            out.add((kind, f"{prefix}{name}"))
    checks = row.get("checks") if isinstance(row.get("checks"), dict) else {}
    involved = ("fail",) if row.get("outcome") == FAILED else ("pass", "fail", "xfail")
    out.update(("check", name) for name, state in checks.items()
               if name in CHECK_ELEMENTS and state in involved)
    return out


def rank(rows: list[dict]) -> list[Suspect]:
    """Every element some failing item exercised, most suspect first (ties: more failing
    items, fewer passing ones, the more specific kind, then by name)."""
    failing = [r for r in rows if isinstance(r, dict) and r.get("outcome") == FAILED]
    if not failing:
        return []
    in_failed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in failing:
        for element in exercised(row):
            in_failed[element].append(str(row.get("id", "")))
    in_passed = Counter(element for row in rows
                        if isinstance(row, dict) and row.get("outcome") in (PASSED, XPASSED)
                        for element in exercised(row) if element in in_failed)
    total = len(failing)
    suspects = []
    for (kind, name), ids in in_failed.items():
        passed = in_passed[kind, name]
        score = len(ids) / math.sqrt(total * (len(ids) + passed))
        suspects.append(Suspect(kind, name, score, len(ids), passed, total, tuple(sorted(ids))))
    order = list(KINDS)
    return sorted(suspects, key=lambda s: (-s.score, -s.failed, s.passed, order.index(s.kind),
                                           s.name))
