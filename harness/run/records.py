"""Result records of a run's items: the plain JSON data the report reads (docs/results.md).

Records are built on the worker that ran the item and must hold only plain Python types, because
they travel to the pytest-xdist controller inside `report.user_properties`. The coverage of a
record (the PyTorch API its program uses, harness.run.usage) is worked out here, once per item.
"""

from __future__ import annotations

import builtins
import re
import shlex
from pathlib import PurePosixPath

import numpy as np

from harness.contract import observed
from harness.run import features, usage
from harness.run.compare import Discrepancy
from harness.run.runner import SpecResult
from harness.spec import Spec, SpecError


def area_of(path: str) -> str:
    """The spec's folder below `specs/`: "tutorial", "ops/elementwise"; "." for specs/ itself."""
    parts = PurePosixPath(path).parts[:-1]
    if "specs" in parts:
        parts = parts[len(parts) - parts[::-1].index("specs"):]
    return "/".join(parts) or "."


def reproduce(node_id: str, session_seed, options: list[str] | tuple[str, ...] = ()) -> str:
    """The shell command that replays one item: its node id, the session seed, and the options
    of the run that change what it runs (see plugin.reproduce_options)."""
    return shlex.join(["pytest", node_id, f"--hypothesis-seed={session_seed}", *options])


def record_for_spec(node_id: str, name: str, spec: Spec, result: SpecResult,
                    session_seed, variant: str | None = None,
                    reproduce_options: list[str] | tuple[str, ...] = (),
                    engine: tuple[str, str | None] = ("engine", None)) -> dict:
    """`engine`: the module tested and the folder it was imported from when that had to be
    put on sys.path (--parity-engine PATH), for the snippet's imports."""
    failure = None
    if result.outcome not in ("passed", "xpassed"):
        failure = {
            "kind": result.kind,
            "message": result.message,
            "statement_line": result.statement_line,
            "discrepancies": [
                {"statement_line": d.statement_line, "statement": d.statement,
                 "variable": d.variable, "field": d.field, "torch": d.torch,
                 "engine": d.engine, "detail": d.full_detail, "note": d.note,
                 "measure": d.measure}
                for d in result.discrepancies
            ],
            "inputs": _inputs(result.inputs),
            "seed": str(session_seed),
            "reproduce": reproduce(node_id, session_seed, reproduce_options),
            "snippet": snippet(spec, result.inputs, engine,
                               result.discrepancies[0] if result.discrepancies else None),
            "traceback": result.traceback,
        }
    return {
        "id": node_id, "name": name, "file": spec.path, "line": spec.line,
        "description": spec.model.description, "outcome": result.outcome,
        "duration_s": round(result.duration_s, 4), "examples": result.examples,
        "program": spec.program.text, "program_line": spec.program_line, "failure": failure,
        "variant": variant or None, "area": area_of(spec.path), "checks": result.checks,
        "margins": [m.as_dict() for m in result.margins],
        "coverage": coverage(spec, result.grad_fns, result.backward_nodes, result.traced),
        "expectation": result.expectation.as_dict() if result.expectation else None,
        "warnings": left_changed_warnings(result.left_changed),
    }


def left_changed_warnings(settings: list[str]) -> list[str]:
    """One line per global setting the program left changed (harness.run.global_state)."""
    return [f"the program changes {name.removesuffix(' (cannot be changed back)')}, global "
            "state that would leak into every later spec in its worker: "
            + ("PyTorch cannot change it back" if name.endswith("(cannot be changed back)")
               else "the harness restored it after every run") + "; set it back in the program "
            "or use a `with` block" for name in settings]


def coverage(spec: Spec, grad_fns: list[str], backward_nodes: list[str] = (),
             traced: list[str] = ()) -> dict:
    """What the item exercised: PyTorch's API, operators and autograd features read off the
    program (once per item), the grad_fn classes its PyTorch runs produced and, of those, the
    ones a backward pass ran (a broken derivative can only show through those); features
    include those PyTorch's traces showed (`traced`)."""
    functions, methods = usage.api_usage(spec.program.tree)
    return {"functions": sorted(functions), "methods": sorted(methods), "grad_fns": grad_fns,
            "backward_nodes": list(backward_nodes),
            "operators": sorted(features.operators(spec.program.tree)),
            "features": sorted(features.features(spec.program.tree, bool(spec.model.raises))
                               | set(traced))}


def record_for_broken(node_id: str, name: str, error: SpecError) -> dict:
    return {
        "id": node_id, "name": name, "file": error.path, "line": error.line,
        "description": "", "outcome": "error", "duration_s": 0.0, "examples": 0,
        "program": "", "program_line": None,
        "failure": {"kind": "broken_spec", "message": str(error), "statement_line": None,
                    "discrepancies": [], "inputs": None, "seed": None, "reproduce": None,
                    "snippet": None, "traceback": None},
        "variant": None, "area": area_of(error.path), "checks": {}, "margins": [],
        "coverage": {"functions": [], "methods": [], "grad_fns": [], "backward_nodes": [],
                     "operators": [], "features": []},
        "expectation": None, "warnings": [],
    }


def record_for_crash(node_id: str, message: str) -> dict:
    """An item whose worker died: only pytest's report of it is left."""
    path = node_id.split("::", 1)[0]
    name = node_id.split("::", 1)[-1]
    error = SpecError(path, 1, 1, "", message, spec_name=name)
    record = record_for_broken(node_id, name, error)
    record["failure"].update(kind="harness_error", message=message)
    return record


_NON_FINITE = re.compile(r"\b(nan|inf)\b")


def snippet(spec: Spec, inputs: dict[str, np.ndarray] | None,
            engine: tuple[str, str | None] = ("engine", None),
            differs: Discrepancy | None = None) -> str | None:
    """The falsifying example as a standalone program that runs on either backend: PyTorch as
    written, the engine that was tested by swapping the import (its folder put on sys.path
    when --parity-engine named a path). With `differs`, the value that differs is printed
    right after the statement it was observed after."""
    if inputs is None:
        return None
    module, folder = engine
    lines = ["import math", "", "import numpy as np", ""]
    if folder:
        lines += ["import sys", "", f"sys.path.insert(0, {folder!r})  # where {module} is", ""]
    lines += [f"import torch  # or: import {module} as torch",
              f"import torch.nn.functional as F  # or: import {module}.nn.functional as F", ""]
    for name, array in inputs.items():
        if not isinstance(array, np.ndarray):
            lines.append(f"{name} = {array!r}")
            continue
        values = _NON_FINITE.sub(r"math.\1", repr(array.tolist()))
        grad = ", requires_grad=True" if spec.model.inputs[name].requires_grad else ""
        shaped = f".reshape({array.shape})" if array.size == 0 and array.ndim > 1 else ""
        lines.append(f"{name} = torch.tensor(np.array({values}, "
                     f"dtype=np.{array.dtype}){shaped}{grad})")
    shown = _shown(differs) if differs else None
    show = (differs.statement_line, shown) if shown else None
    return "\n".join(lines) + "\n" + _catching_declared_raises(spec, show)


#: Fields a program can read with the same name (`x.grad`); `values` is the variable itself.
_ATTRIBUTE_FIELDS = frozenset({"grad", "grad_fn", "requires_grad", "is_leaf", "retains_grad",
                               "dtype", "shape"})


def _shown(d: Discrepancy) -> str | None:
    """The expression that prints a discrepancy's field (`x.grad`, `y`), or None when the
    program shows it already (printed text, warnings, exceptions)."""
    if not d.variable:
        return None
    expression = observed(d.variable, d.field)
    head, _, last = expression.rpartition(".")
    if last in ("values", "value"):
        return head
    if last == "grad_warnings":
        return f"{head}.grad"  # reading it gives the warning
    return expression if last in _ATTRIBUTE_FIELDS else None


def _catching_declared_raises(spec: Spec, show: tuple[int, str] | None = None) -> str:
    """The program with each statement the spec declares under `raises:` in a try/except that
    prints the exception, so the snippet runs on past it to the end, as the harness does.
    `show` = (line, expression): print the expression after the top-level statement at line."""
    text = spec.program.text
    declared = {r.line: r.type for r in spec.model.raises}
    if not declared and not show:
        return text
    # `except ... as name` unbinds name after the handler: take one the program never uses
    name = next(n for n in ("e", "error", *(f"error{i}" for i in range(1, 1000)))
                if not re.search(rf"\b{n}\b", text))
    lines = text.splitlines()
    ends: dict[int, int] = {}  # first line -> last line of the statements starting there
    for statement in spec.program.statements:
        ends[statement.line] = max(ends.get(statement.line, 0), statement.end_line)
    for start in sorted(ends, reverse=True):
        if show and start == show[0]:
            lines.insert(ends[start], f"print({show[1]!r}, {show[1]})  # differs here")
        kind = declared.get(start)
        if kind is None:
            continue
        first, last = start - 1, ends[start]
        builtin = getattr(builtins, kind, None)
        if isinstance(builtin, type) and issubclass(builtin, BaseException):
            handler = f"except {kind} as {name}:  # the spec declares this {kind}"
        else:  # a PyTorch-specific class the snippet's namespace does not name
            handler = f"except Exception as {name}:  # the spec declares {kind}"
        lines[first:last] = ["try:", *("    " + line if line.strip() else line
                                       for line in lines[first:last]),
                             handler, f"    print(type({name}).__name__, {name})"]
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def _inputs(inputs: dict[str, np.ndarray] | None) -> dict | None:
    if inputs is None:
        return None
    arrays = {name: np.asarray(a) for name, a in inputs.items()}  # dims are Python ints
    return {name: {"dtype": str(a.dtype), "shape": list(a.shape), "values": a.tolist()}
            for name, a in arrays.items()}
