"""A realistic results dict for the browser test: the real suite's items, hundreds of them failing.

The items are the ones the plugin collects from ``specs/`` (loaded with the same loader): real
ids, areas, dtype variants (~65 variant ids), descriptions, programs and line numbers, and the
engine's real API for the coverage section. Only the outcomes and what was measured are drawn,
from a seeded RNG so runs are repeatable: about 40% of the items fail (a real broken-engine run
had 258 of 634), and a failure carries payloads the size real ones have — one or more
discrepancies with both values printed as the harness prints them (numpy, 8 digits, up to 200
elements), the measured errors and up to 20 differing elements, the falsifying inputs drawn to
the spec's declared shapes and dtypes, the standalone snippet with those inputs inlined (the
format of ``harness.run.records.snippet``), margins per variable and, for errors, tracebacks.
The shape of the dict follows docs/results.md.
"""

from __future__ import annotations

import copy
import math
import random
import re
import shlex
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from harness.run.backends import load as load_backend
from harness.run.usage import api_usage
from harness.spec import Spec, SpecError, load_file

XSS = "<script>alert(1)</script>"
ROOT = Path(__file__).resolve().parents[2]
SEED = "4190573601"
#: Items per outcome besides passed: hundreds of failures, as the audited run against a broken
#: engine had (258 of 634 failing), drawn at random among the suite's items.
OUTCOMES = {"failed": 258, "error": 6, "xfailed": 10, "xpassed": 3}
#: assert_close's default (rtol, atol) per dtype, as compare.py uses them.
TOL = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}
TRACEBACK = '''Traceback (most recent call last):
  File "/work/main/harness/run/runner.py", line 151, in one_example
    engine_trace = trace.run(spec.program, engine, inputs, time_limit_s)
  File "/work/main/harness/run/trace.py", line 112, in run
    step = _run_statement(statement, namespace)
  File "/work/main/harness/run/trace.py", line 141, in _run_statement
    exec(statement.code, namespace)
  File "<spec program>", line {line}, in <module>
  File "/work/main/engine/_tensor.py", line 412, in backward
    _autograd.backward(self, gradient, retain_graph, create_graph, inputs)
  File "/work/main/engine/_autograd.py", line 188, in backward
    grads = node.apply(grad_outputs)
  File "/work/main/engine/_node.py", line 96, in apply
    return tuple(f(self, grad) for f in self.formulas)
  File "/work/main/engine/_derivatives.py", line 461, in <lambda>
    lambda n, g: O.expand(g, n.self_sizes),
  File "/work/main/engine/_ops_shape.py", line 233, in expand
    raise RuntimeError(f"The expanded size of the tensor ({size}) must match the existing "
RuntimeError: The expanded size of the tensor (3) must match the existing size (2) at \
non-singleton dimension 1.  Target sizes: [2, 3].  Tensor sizes: [2, 2]
'''


@dataclass(frozen=True)
class Item:
    node_id: str
    name: str
    spec: Spec
    variant: dict
    variant_id: str


@cache
def suite(root: Path = ROOT) -> tuple[Item, ...]:
    """Every spec item the plugin collects from root/specs, in file order."""
    items = []
    for path in sorted((root / "specs").rglob("*.yaml")):
        if path.name == "expectations.yaml":
            continue
        for entry in load_file(path, root=root).entries:
            if isinstance(entry, SpecError):
                continue
            for variant in entry.variants():
                suffix = entry.variant_id(variant)
                name = f"{entry.name}[{suffix}]" if suffix else entry.name
                items.append(Item(f"{entry.path}::{name}", name, entry, variant, suffix))
    return tuple(items)


def make_results(n: int = 634, seed: int = 7, root: Path = ROOT) -> dict:
    """n items of the suite (a seeded sample, in file order, so the page keeps its size as the
    suite grows), with OUTCOMES scaled to n."""
    rng = random.Random(seed)
    items = suite(root)
    if len(items) > n:
        items = tuple(items[i] for i in sorted(rng.sample(range(len(items)), n)))
    scale = len(items) / 634
    api = load_backend("engine").api()
    counts = {name: round(count * scale) for name, count in OUTCOMES.items()}
    drawn = rng.sample(range(len(items)), sum(counts.values()))
    outcome = {}
    for name, count in counts.items():
        outcome.update((i, name) for i in drawn[:count])
        drawn = drawn[count:]
    results = [_result(rng, item, outcome.get(i, "passed"), api)
               for i, item in enumerate(items)]
    xss = results[7]
    xss["id"] = xss["id"].replace(xss["name"], XSS)
    xss["name"] = xss["description"] = XSS
    return {
        "schema_version": 1,
        "created": "2026-11-26T06:17:49+00:00",
        "metadata": {
            "engine_api": api, "shard": None, "engine": "engine", "python": "3.11.7",
            "platform": "Linux-6.1-x86_64-with-glibc2.36", "torch": "2.13.0+cpu",
            "numpy": "2.4.6", "hypothesis": "6.170.17", "parity": "0.1.0",
            "git_commit": "e3f3e5b424c87eb8a051995e5282f801086d9dc",
            "hypothesis_profile": "ci", "seed": SEED, "duration_s": 912.4,
            "examples": sum(r["examples"] for r in results),
        },
        "summary": summary(results),
        "results": results,
    }


def summary(results: list[dict]) -> dict:
    """The outcome counts of a results file, as the plugin writes them."""
    counts = {o: 0 for o in ("passed", "xfailed", "xpassed", "error", "failed")}
    for r in results:
        counts[r["outcome"]] += 1
    counts["total"] = len(results)
    return counts


def make_baseline(results: dict) -> dict:
    """An earlier run of the same engine: most failures were there already; a few items fail
    anew, one fails differently, a few were fixed, three were added since and one removed."""
    base = copy.deepcopy(results)
    rows = base["results"]
    for r in rows:
        flip = zlib.crc32(r["id"].encode()) % 40 == 0 and r is not rows[0]
        if r["outcome"] in ("failed", "error") and flip:
            r["outcome"], r["failure"] = "passed", None
    rows[0]["outcome"] = "passed"
    next(r for r in rows if r["outcome"] == "error")["outcome"] = "failed"
    for r in [r for r in rows if r["outcome"] == "passed"][5:8]:
        r["outcome"] = "failed"
    del rows[-3:]
    rows.append(dict(rows[1], id="specs/ops/old.yaml::removed_spec", name="removed_spec"))
    base["created"] = "2026-11-24T09:12:00+00:00"
    base["metadata"] = dict(base["metadata"], git_commit="3b1d2c0ffee9")
    base["summary"] = summary(rows)
    return base


def _area(path: str) -> str:
    parts = Path(path).parts[:-1]
    return "/".join(parts[parts.index("specs") + 1:]) if "specs" in parts else "."


def _result(rng: random.Random, item: Item, outcome: str, api: dict) -> dict:
    spec = item.spec
    program = spec.program
    grad_inputs = [n for n, d in spec.model.inputs.items() if d.requires_grad]
    functions, methods = api_usage(program.tree)
    grad_fns = _grad_fns(functions | methods, api)
    checks = {
        "values": "pass",
        "grads": "pass" if grad_inputs or "backward" in methods else "n/a",
        "none_grads": "pass" if ".grad" in program.text else "n/a",
        "flags": "pass",
        "errors": "pass" if spec.model.raises else "n/a",
        "prints": "pass" if "print(" in program.text else "n/a",
    }
    inputs = _inputs(rng, spec, item.variant)
    failure, expectation, broken = None, None, None
    if outcome in ("failed", "xfailed"):
        weights = {c: w for c, w in (("grads", 60), ("values", 25), ("prints", 8),
                                     ("none_grads", 4), ("flags", 3)) if checks[c] != "n/a"}
        broken = rng.choices(list(weights), list(weights.values()))[0]
        checks[broken] = "xfail" if outcome == "xfailed" else "fail"
        failure = _mismatch(rng, item, broken, inputs, grad_fns)
    elif outcome == "error":
        checks = {c: "n/a" for c in checks}
        failure = _error(rng, item)
    if outcome in ("xfailed", "xpassed"):
        expectation = {"reason": "PyTorch's vectorised float32 summation order rounds "
                                 "differently from numpy's pairwise order, by about 1e-7 "
                                 "relative, which this dtype's tolerance rejects.\n",
                       "link": "", "strict": outcome == "xfailed" or rng.random() < 0.5}
    return {
        "id": item.node_id, "name": item.name, "file": spec.path, "line": spec.line,
        "description": spec.model.description, "outcome": outcome,
        "duration_s": round(rng.uniform(0.005, 4.0 if outcome == "failed" else 1.2), 4),
        "examples": 1 if outcome in ("failed", "xfailed") else rng.choice([3, 3, 100]),
        "program": program.text, "program_line": spec.program_line, "failure": failure,
        "variant": item.variant_id or None, "area": _area(spec.path), "checks": checks,
        "margins": _margins(rng, item, inputs, grad_fns, broken),
        "coverage": {"functions": sorted(functions), "methods": sorted(methods),
                     "grad_fns": grad_fns},
        "expectation": expectation,
    }


def _grad_fns(used: frozenset[str], api: dict) -> list[str]:
    """grad_fn classes the program's calls plausibly make, from the engine's own list."""
    known = set(api.get("grad_fns") or [])
    names = {n.rpartition(".")[2] for n in used}
    found = {f"{''.join(p.capitalize() for p in n.split('_'))}Backward0" for n in names}
    return sorted(found & known)


def _shape(rng: random.Random, spec: Spec, name: str, sizes: dict) -> tuple[int, ...]:
    decl = spec.model.inputs[name]
    group = spec.model.broadcast
    if group is not None and name in group.inputs:
        dims = rng.randint(group.min_dims, min(group.max_dims, 3))
        return tuple(rng.randint(max(group.min_side, 1), min(group.max_side, 4))
                     for _ in range(dims))
    shape = []
    for d in decl.shape:
        if isinstance(d, str):
            lo, hi = spec.model.dims.get(d, (1, 4))
            d = sizes.setdefault(d, rng.randint(lo, max(lo, min(hi, 5))))
        shape.append(d)
    return tuple(shape)


def _inputs(rng: random.Random, spec: Spec, variant: dict) -> dict[str, np.ndarray]:
    sizes: dict = {}
    arrays = {}
    for name, decl in spec.model.inputs.items():
        dtype = variant.get(name) or (decl.dtype if isinstance(decl.dtype, str) else "float32")
        shape = _shape(rng, spec, name, sizes)
        n = math.prod(shape)
        lo, hi = decl.range or (-10.0, 10.0)
        if decl.fill is not None:
            values = [decl.fill] * n
        elif dtype == "bool":
            values = [rng.random() < 0.5 for _ in range(n)]
        elif dtype.startswith(("int", "uint")):
            values = [rng.randint(max(int(lo), 0 if dtype == "uint8" else -100), int(hi))
                      for _ in range(n)]
        else:
            values = [rng.uniform(lo, hi) for _ in range(n)]
        arrays[name] = np.array(values, dtype=dtype).reshape(shape)
    return arrays


def _show(values: np.ndarray, dtype: str) -> str:
    """A value as compare.py prints it: numpy, 8 digits, summarised beyond 200 elements."""
    body = np.array2string(values, precision=8, threshold=200, separator=", ")
    return f"{body} ({dtype})"


def _snippet(spec: Spec, inputs: dict[str, np.ndarray]) -> str:
    """The format of harness.run.records.snippet."""
    lines = ["import math", "", "import numpy as np", "",
             "import torch  # or: import engine as torch",
             "import torch.nn.functional as F  # or: import engine.nn.functional as F", ""]
    for name, array in inputs.items():
        values = re.sub(r"\b(nan|inf)\b", r"math.\1", repr(array.tolist()))
        grad = ", requires_grad=True" if spec.model.inputs[name].requires_grad else ""
        lines.append(f"{name} = torch.tensor(np.array({values}, dtype=np.{array.dtype}){grad})")
    return "\n".join(lines) + "\n" + spec.program.text


def _statement(rng: random.Random, spec: Spec, broken: str):
    statements = spec.program.statements
    want = {"grads": ("backward", "grad("), "prints": ("print(",), "none_grads": (".grad",)}
    hits = [s for s in statements if any(w in s.source for w in want.get(broken, ()))]
    return rng.choice(hits or list(statements))


def _targets(statement) -> list[str]:
    match = re.match(r"\s*([A-Za-z_][\w, ]*?)\s*=[^=]", statement.source)
    return [t.strip() for t in match.group(1).split(",")] if match else []


def _mismatch(rng: random.Random, item: Item, broken: str, inputs: dict, grad_fns) -> dict:
    spec = item.spec
    statement = _statement(rng, spec, broken)
    source = statement.source.strip().splitlines()[0]
    float_inputs = [n for n, a in inputs.items() if a.dtype.kind == "f"]
    discrepancies = []
    # a broken op spreads: the grads of several inputs, the values of later variables
    later = [t for s in spec.program.statements if s.line > statement.line for t in _targets(s)]
    if broken == "grads":
        names = [n for n in float_inputs if spec.model.inputs[n].requires_grad] + \
            [n for n in float_inputs if not spec.model.inputs[n].requires_grad] or ["x"]
        for name in names[:_how_many(rng)]:
            array = inputs.get(name, np.ones((2, 3), dtype="float32"))
            discrepancies.append(_array_discrepancy(rng, statement, source, name, "grad",
                                                    array.shape, str(array.dtype), True))
    elif broken == "values":
        names = (_targets(statement) + later) or [(float_inputs or ["out"])[0]]
        like = inputs[float_inputs[0]] if float_inputs else np.ones((3, 4), dtype="float32")
        for name in names[:_how_many(rng)]:
            discrepancies.append(_array_discrepancy(rng, statement, source, name, "values",
                                                    like.shape, str(like.dtype), False))
    else:
        grad_fn = (grad_fns or ["MulBackward0"])[0]
        field, torch_text, engine_text = {
            "flags": ("grad_fn", f"<{grad_fn}>", f"<{grad_fn[:-1]}1>"),
            "none_grads": ("grad_warnings",
                           "UserWarning: The .grad attribute of a Tensor that is not a leaf "
                           "Tensor is being accessed. Its .grad attribute won't be populated "
                           "during autograd.backward(). If you indeed want the .grad field to "
                           "be populated for a non-leaf Tensor, use .retain_grad() on the "
                           "non-leaf Tensor.", "(no warning)"),
            "prints": ("stdout", "tensor([[ 0.1235, -2.5000,  3.0000],\n        [ 1.0000,  "
                       "0.0000, -0.5000]], grad_fn=<MulBackward0>)\n",
                       "tensor([[ 0.1234, -2.5000,  3.0000],\n        [ 1.0000,  0.0000, "
                       "-0.5000]], grad_fn=<MulBackward0>)\n"),
        }[broken]
        variable = None if broken == "prints" else (_targets(statement) or ["y"])[0]
        detail = "printed text differs at line 1, column 12" if broken == "prints" else ""
        discrepancies.append({"statement_line": statement.line, "statement": source,
                              "variable": variable, "field": field, "torch": torch_text,
                              "engine": engine_text, "detail": detail, "measure": None})
    first = discrepancies[0]
    what = f"{first['variable']}.{first['field']}" if first["variable"] else first["field"]
    return {
        "kind": "mismatch",
        "message": f"line {statement.line} `{source}`: {what} differs",
        "statement_line": statement.line,
        "discrepancies": discrepancies,
        "inputs": {name: {"dtype": str(a.dtype), "shape": list(a.shape), "values": a.tolist()}
                   for name, a in inputs.items()},
        "seed": SEED,
        "reproduce": f"pytest {shlex.quote(item.node_id)} --hypothesis-seed={SEED}",
        "snippet": _snippet(spec, inputs),
        "traceback": None,
    }


def _how_many(rng: random.Random) -> int:
    """Discrepancies in one failure, as in a real run against a broken engine (mean 1.4)."""
    return rng.choice([1] * 12 + [2] * 6 + [3] * 2 + [rng.randint(4, 6)])


def _array_discrepancy(rng, statement, source, variable, field, shape, dtype, fd) -> dict:
    """Both values, the measured errors and the differing elements, as compare.py gives them."""
    dtype = dtype if dtype in TOL else "float32"
    shape = shape if math.prod(shape) else (2, 3)  # an empty tensor cannot differ
    if rng.random() < 0.03:
        shape = (10, 20)  # now and then a large value: 200 elements, printed in full
    rtol, atol = TOL[dtype]
    torch = np.array([rng.uniform(-4, 4) for _ in range(math.prod(shape))],
                     dtype=dtype).reshape(shape)
    share = rng.choice([0.1, 0.5, 1.0])
    scale = rng.choice([1e-4, 1e-2, 0.5])
    noise = np.array([rng.uniform(1, 2) * scale if rng.random() < share else 0.0
                      for _ in range(torch.size)]).reshape(shape)
    engine = (torch * (1 + noise)).astype(dtype)
    if torch.size and not (engine != torch).any():
        engine.flat[0] = torch.flat[0] + 1
    t64, e64 = torch.astype(np.float64), engine.astype(np.float64)
    err = np.abs(e64 - t64)
    bad = err > atol + rtol * np.abs(t64)
    rel = np.where(err == 0, 0.0, err / np.maximum(np.abs(t64), 1e-300))
    worst = np.unravel_index(int(np.argmax(np.where(bad, err, -1.0))), shape) if shape else ()
    ulp = float((err / np.spacing(np.abs(torch)).astype(np.float64)).max(initial=0.0))
    where = [tuple(int(i) for i in idx) for idx in np.argwhere(bad)]
    listed = ", ".join(f"{w}: {float(t64[w])!r} vs {float(e64[w])!r}" for w in where[:5])
    detail = (f"{len(where)} of {torch.size} elements outside rtol={rtol:g}, atol={atol:g}; "
              f"worst at {tuple(int(i) for i in worst)}; max abs {err.max(initial=0):.3g}, "
              f"max rel {rel.max(initial=0):.3g}, max ULP {ulp:.0f}; differing (torch vs "
              f"engine): {listed}{' ...' if len(where) > 5 else ''}")
    if fd:
        detail += (f"; finite differences (float64, h=1e-06) support PyTorch: max |fd - torch| "
                   f"{rng.uniform(1e-9, 1e-7):.3g}, max |fd - engine| {err.max(initial=0):.3g}")
    return {
        "statement_line": statement.line, "statement": source, "variable": variable,
        "field": field, "torch": _show(torch, dtype), "engine": _show(engine, dtype),
        "detail": detail,
        "measure": {"mismatched": len(where), "numel": int(torch.size), "rtol": rtol,
                    "atol": atol, "max_abs": float(err.max(initial=0)),
                    "max_rel": float(rel.max(initial=0)), "max_ulp": ulp,
                    "worst_index": [int(i) for i in worst],
                    "elements": [{"index": list(w), "torch": float(t64[w]),
                                  "engine": float(e64[w])} for w in where[:20]]},
    }


def _error(rng: random.Random, item: Item) -> dict:
    spec = item.spec
    statement = rng.choice(spec.program.statements)
    if rng.random() < 0.5:
        return {"kind": "harness_error",
                "message": f"line {statement.line}: the engine raised RuntimeError where "
                           "PyTorch did not",
                "statement_line": statement.line, "discrepancies": [], "inputs": None,
                "seed": SEED, "reproduce": f"pytest {shlex.quote(item.node_id)} "
                                           f"--hypothesis-seed={SEED}",
                "snippet": None, "traceback": TRACEBACK.replace("{line}", str(statement.line))}
    line = spec.program_line + statement.line - 1
    return {"kind": "broken_spec",
            "message": f"{spec.path}:{line}:5: program: PyTorch raised TypeError: "
                       "unsupported operand type(s) where the spec declares no `raises`",
            "statement_line": statement.line, "discrepancies": [], "inputs": None,
            "seed": None, "reproduce": None, "snippet": None, "traceback": None}


def _op(rng: random.Random, statement, grad_fns: list[str]) -> str | None:
    """What a margin is attributed to: the grad_fn of the value, or the statement's op."""
    src = statement.source
    if grad_fns and rng.random() < 0.5:
        return rng.choice(grad_fns)
    if m := re.search(r"\b((?:torch|F)(?:\.\w+)+)\(", src):
        return m.group(1)
    if m := re.search(r"\.(\w+)\(", src):
        return f"Tensor.{m.group(1)}"
    return next((o for o in ("@", "**", "*", "/", "+", "-") if f" {o} " in src),
                grad_fns[0] if grad_fns else None)


def _margins(rng, item: Item, inputs: dict, grad_fns: list, broken: str | None) -> list[dict]:
    """Per compared float tensor field, the worst error seen (docs/results.md)."""
    out = []
    targets = [(t, _op(rng, s, grad_fns)) for s in item.spec.program.statements
               for t in _targets(s)][:6]
    fields = [(n, "values", "(input)", str(a.dtype)) for n, a in inputs.items()
              if a.dtype.kind == "f"]
    fields += [(n, "grad", (grad_fns or [None])[0], str(inputs[n].dtype))
               for n, a in inputs.items()
               if a.dtype.kind == "f" and item.spec.model.inputs[n].requires_grad]
    fields += [(t, "values", op, "float32") for t, op in targets]
    for variable, field, op, dtype in fields:
        rtol, atol = TOL.get(dtype, TOL["float32"])
        ratio = 0.0 if rng.random() < 0.9 else 10 ** rng.uniform(-9, -0.1)
        if broken == ("grads" if field == "grad" else "values") and rng.random() < 0.5:
            ratio = 10 ** rng.uniform(0.1, 5)
        out.append({"variable": variable, "field": field, "op": op, "dtype": dtype,
                    "max_abs": ratio * atol, "max_rel": ratio * rtol,
                    "max_ulp": float(round(ratio * 12)), "ratio": ratio})
    return out
