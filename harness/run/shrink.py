"""A time budget for Hypothesis's shrink phase, per item: failing runs stay fast.

Shrinking (minimising the first failing example) is what makes a failure readable, but against a
broken engine hundreds of items shrink at once and it dominates the run. Hypothesis has no public
limit on shrink time (only its own five minutes), so the budget works from the test function:
the clock starts at the item's first failing example; once the budget is spent, an example that
was never seen failing is not run and counts as passing. The shrinker then finds nothing smaller
and stops within a few cheap calls, and the example it reports, which did fail, is run again for
real (Hypothesis's final replay), so the reported failure and inputs are genuine, only less
minimal.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

#: Seconds an item may spend shrinking by default: most failures reach their minimal example
#: within it (a broken derivative shrinks to zeros in well under a second); an item that takes
#: longer keeps the smallest failing example found so far.
DEFAULT_SHRINK_LIMIT_S = 2.0


class ShrinkBudget:
    """Wraps one item's test function: after `limit_s` seconds past the first failure, only
    examples already seen failing run."""

    def __init__(self, limit_s: float | None):
        self.limit_s = limit_s
        self.first_failure: float | None = None
        self.failing: set[bytes] = set()
        self.skipped = 0

    @property
    def spent(self) -> bool:
        return (self.limit_s is not None and self.first_failure is not None
                and time.perf_counter() - self.first_failure >= self.limit_s)

    def wrap(self, run: Callable[[dict], None]) -> Callable[[dict], None]:
        def example(inputs: dict) -> None:
            # the fingerprint only when it is needed (runs copy the inputs, never change them)
            if self.spent and fingerprint(inputs) not in self.failing:
                self.skipped += 1
                return
            try:
                run(inputs)
            except BaseException:
                self.failing.add(fingerprint(inputs))
                if self.first_failure is None:
                    self.first_failure = time.perf_counter()
                raise
        return example


def fingerprint(inputs: dict) -> bytes:
    """The drawn inputs as bytes: equal inputs, equal bytes (names, dtypes, shapes, values)."""
    parts = []
    for name, value in inputs.items():
        array = np.asarray(value)
        data = repr(value).encode() if array.dtype.hasobject else array.tobytes()
        parts.append(f"{name}:{array.dtype.str}:{array.shape}:".encode() + data)
    return b"\0".join(parts)
