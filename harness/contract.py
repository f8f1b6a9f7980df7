"""What the stages share: check names, the field -> check mapping, outcomes, the results schema.

The runner decides which checks an item exercised and failed, the report draws them as matrix
columns, and results.json carries them between the two (docs/results.md): the names, their
order and which discrepancy field belongs to which check are written once, here.

A grad that is None on one side and a tensor on the other is a `none_grads` failure, not a
`grads` one: `grads` compares grad values under tolerance, while `none_grads` is the column for
whether a grad exists at all (a leaf that got none, a non-leaf that kept one) and the warnings
PyTorch gives about it.
"""

from __future__ import annotations

#: Version of results.json that this code writes and reads.
SCHEMA_VERSION = 1

PASSED, FAILED, ERROR = "passed", "failed", "error"
XFAILED, XPASSED = "xfailed", "xpassed"
#: Display order of outcomes: those that need a person's attention first.
OUTCOMES = (FAILED, ERROR, XPASSED, XFAILED, PASSED)

#: Check categories (the report's matrix columns, in order) with their headings.
CHECKS = {
    "values": "values",
    "grads": "grads",
    "none_grads": "None-grad / warnings",
    "flags": "flags & grad_fn",
    "errors": "errors",
    "prints": "prints",
}
#: A check's state in a record's `checks` is "pass", "fail", "xfail" (a failure the expectations
#: declare) or "n/a" (PyTorch's trace never exercised it).

#: The checks of an OpInfo item (harness.opinfo: a sample of PyTorch's own corpus), in report
#: order, with their headings. They ask other questions than a spec's (a random cotangent's
#: vector-Jacobian product, the op's other call forms, the entry's error inputs), so the report
#: draws them as a matrix of their own; a discrepancy of an OpInfo item names its check as
#: its field.
OPINFO_CHECKS = {
    "values": "values",
    "shape": "shape",
    "dtype": "dtype",
    "requires_grad": "requires_grad",
    "grad_fn": "grad_fn",
    "contiguity": "contiguity",
    "vjp": "VJP",
    "vjp_none": "None grads",
    "gradgrad": "double backward",
    "variants": "call forms",
    "inplace_broadcast": "in-place broadcast",
    "error_type": "error class",
    "error_message": "error message",
}
#: How an engine's error message matched PyTorch's for an OpInfo error input, best first:
#: the same text, the entry's pattern, the exception class only, not even the class.
MESSAGE_LEVELS = ("exact", "pattern", "class", "none")

#: The detail of a grad discrepancy where one side has a grad and the other has None.
ONE_SIDE_NONE = "one side is None"

_FIELD_CHECK = {
    "requires_grad": "flags", "is_leaf": "flags", "grad_fn": "flags", "retains_grad": "flags",
    "dtype": "flags", "shape": "flags", "grad": "grads", "grad_warnings": "none_grads",
    "warnings": "none_grads", "exception": "errors", "stdout": "prints",
}


def check_of(field: str, detail: str = "") -> str:
    """The check a discrepancy's field belongs to, by its last part (`[0].grad` is a grad's);
    values, value, keys, variables and steps are `values`."""
    last = field.rsplit(".", 1)[-1]
    if last == "grad" and detail == ONE_SIDE_NONE:
        return "none_grads"
    return _FIELD_CHECK.get(last, "values")


def observed(variable: str | None, field: str) -> str:
    """What differs, as the program would spell it: `x.grad`, `ws[0].grad`, `d['y'].values`."""
    return f"{variable}.{field}".replace(".[", "[") if variable else field


def first_line(statement: str) -> str:
    """A statement as a one-line message shows it: its first line, then "…" if there is more."""
    head, _, rest = statement.strip().partition("\n")
    return f"{head.rstrip()} …" if rest.strip() else head
