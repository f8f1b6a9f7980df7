"""A synthetic but realistic results dict: hundreds of spec items with every optional field.

Used by the browser test (tests/browser) to look at a report that has something to show: failed,
error, xfailed and xpassed rows, a matrix, coverage, margins and a baseline to diff against. The
shape follows docs/results.md; values are drawn from a seeded RNG so runs are repeatable.
"""

from __future__ import annotations

import copy
import random
import zlib

XSS = "<script>alert(1)</script>"
AREAS = {
    "tutorial": ["add", "mul", "mean", "backward", "retain_grad", "while_loop"],
    "autograd": ["backward_twice", "grad_accumulates", "no_grad", "detach", "retain_graph",
                 "non_leaf_grad", "hooks", "create_graph"],
    "ops/elementwise": ["add", "sub", "mul", "div", "pow", "exp", "log", "sin", "cos", "tanh",
                        "sigmoid", "relu", "abs", "sqrt", "neg", "clamp"],
    "ops/reduction": ["sum", "mean", "prod", "max", "min", "amax", "norm", "var", "std"],
    "ops/linalg": ["matmul", "mm", "bmm", "t", "transpose", "outer"],
    "ops/shape": ["reshape", "view", "squeeze", "unsqueeze", "cat", "stack", "expand",
                  "permute"],
    "nn/functional": ["softmax", "log_softmax", "mse_loss", "cross_entropy", "linear", "gelu"],
    "printing": ["repr_small", "repr_large", "repr_grad_fn", "print_scalar"],
    "errors": ["shape_mismatch", "inplace_leaf", "backward_non_scalar", "dtype_mismatch"],
}
GRAD_FN = {"add": "AddBackward0", "sub": "SubBackward0", "mul": "MulBackward0",
           "div": "DivBackward0", "pow": "PowBackward0", "exp": "ExpBackward0",
           "log": "LogBackward0", "sin": "SinBackward0", "cos": "CosBackward0",
           "tanh": "TanhBackward0", "sigmoid": "SigmoidBackward0", "relu": "ReluBackward0",
           "abs": "AbsBackward0", "sqrt": "SqrtBackward0", "neg": "NegBackward0",
           "clamp": "ClampBackward1", "sum": "SumBackward0", "mean": "MeanBackward0",
           "prod": "ProdBackward0", "max": "MaxBackward1", "min": "MinBackward1",
           "amax": "AmaxBackward0", "norm": "NormBackward1", "var": "VarBackward0",
           "std": "StdBackward0", "matmul": "MmBackward0", "mm": "MmBackward0",
           "bmm": "BmmBackward0", "t": "TBackward0", "transpose": "TransposeBackward0",
           "outer": "MulBackward0", "reshape": "ViewBackward0", "view": "ViewBackward0",
           "squeeze": "SqueezeBackward0", "unsqueeze": "UnsqueezeBackward0",
           "cat": "CatBackward0", "stack": "StackBackward0", "expand": "ExpandBackward0",
           "permute": "PermuteBackward0", "softmax": "SoftmaxBackward0",
           "log_softmax": "LogSoftmaxBackward0", "mse_loss": "MseLossBackward0",
           "cross_entropy": "NllLossBackward0", "linear": "AddmmBackward0",
           "gelu": "GeluBackward0"}
UNUSED_ENGINE = {"functions": ["atan2", "cumsum", "einsum", "flip", "gather", "logsumexp",
                               "roll", "where"],
                 "methods": ["index_select", "masked_fill", "scatter_add", "unfold"],
                 "grad_fns": ["CumsumBackward0", "WhereBackward0", "GatherBackward0"]}
CHECKS = ("values", "grads", "none_grads", "flags", "errors", "prints")
TOL = {"float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def make_results(n: int = 500, seed: int = 7) -> dict:
    rng = random.Random(seed)
    pool = [(area, op, i) for i in range(40) for area, ops in AREAS.items() for op in ops]
    results, used = [], {"functions": set(), "methods": set(), "grad_fns": set()}
    k = 0
    while len(results) < n:
        area, op, i = pool[k]
        k += 1
        name = f"{op}_{i}" if i else op
        variants = [None] if area in ("printing", "errors", "tutorial") and i % 2 == 0 \
            else ["float32", "float64"]
        for variant in variants:
            if len(results) < n:
                results.append(_result(rng, area, op, name, variant, len(results), used))
    results[7]["id"] = results[7]["id"].replace(results[7]["name"], XSS)
    results[7]["name"] = results[7]["description"] = XSS
    summary = {o: 0 for o in ("passed", "xfailed", "xpassed", "error", "failed")}
    for r in results:
        summary[r["outcome"]] += 1
    summary["total"] = len(results)
    engine_api = {kind: sorted(used[kind] | set(UNUSED_ENGINE[kind])) for kind in used}
    engine_api["functions"].remove("ones_like")  # used by specs, missing in the engine
    return {
        "schema_version": 1,
        "created": "2026-11-25T21:50:00+00:00",
        "metadata": {
            "engine": "engine", "python": "3.11.7", "platform": "Linux-6.1-x86_64-with-glibc2.36",
            "torch": "2.13.0+cpu", "numpy": "2.4.6", "hypothesis": "6.170.17", "parity": "0.1.0",
            "git_commit": "6fe7724d581c87eb8a051995e5282f801086d9dc",
            "hypothesis_profile": "ci", "seed": "0", "duration_s": 312.4,
            "examples": sum(r["examples"] for r in results), "engine_api": engine_api,
        },
        "summary": summary,
        "results": results,
    }


def make_baseline(results: dict) -> dict:
    """An earlier run: a few outcomes differ, a few specs were added since, one was removed."""
    base = copy.deepcopy(results)
    rows = base["results"]
    for r in rows:
        flip = zlib.crc32(r["id"].encode()) % 3 == 0 and r is not rows[0]
        if r["outcome"] in ("failed", "error") and flip:
            r["outcome"], r["failure"] = "passed", None
    rows[0]["outcome"] = "passed"
    for r in [r for r in rows if r["outcome"] == "passed"][5:8]:
        r["outcome"] = "failed"
    del rows[-3:]
    rows.append(dict(rows[1], id="specs/ops/old.yaml::removed_spec", name="removed_spec"))
    base["created"] = "2026-11-24T09:12:00+00:00"
    base["metadata"] = dict(base["metadata"], git_commit="3b1d2c0ffee9")
    return base


def _outcome(rng: random.Random, area: str) -> str:
    x = rng.random()
    if area == "errors" and x < 0.12:
        return "error"
    return ("failed" if x < 0.05 else "error" if x < 0.06 else "xfailed" if x < 0.085
            else "xpassed" if x < 0.09 else "passed")


def _result(rng, area, op, name, variant, index, used) -> dict:
    file = f"specs/{area}/{op}.yaml"
    node_id = f"{file}::{name}" + (f"[{variant}]" if variant else "")
    outcome = _outcome(rng, area)
    line = 3 + 14 * (index % 9)
    grad_fn = GRAD_FN.get(op, "AddBackward0")
    call = f"torch.{op}(x)" if op in GRAD_FN else "x * 2"
    program = (f"y = {call}\nz = (y * y).sum()\nz.backward()\nprint(x.grad)\n"
               if area != "printing" else f"y = {call}\nprint(y)\nprint(y.grad_fn)\n")
    functions = sorted({op if op in GRAD_FN else "mul", "ones_like"} if index % 11 == 0
                       else {op if op in GRAD_FN else "mul"})
    methods = ["backward", "sum"] + (["grad"] if area != "printing" else [])
    grad_fns = [grad_fn, "MulBackward0", "SumBackward0"]
    used["functions"].update(functions)
    used["methods"].update(methods)
    used["grad_fns"].update(grad_fns)
    checks = {c: "pass" for c in CHECKS}
    if area not in ("errors",):
        checks["errors"] = "n/a"
    if area not in ("printing", "tutorial"):
        checks["prints"] = "n/a" if rng.random() < 0.5 else "pass"
    if area in ("printing",):
        checks["grads"] = checks["none_grads"] = "n/a"
    failure = None
    dtype = variant or "float32"
    if outcome in ("failed", "xfailed"):
        broken = rng.choice(["values", "grads", "grads", "flags", "none_grads", "prints"])
        checks[broken] = "fail"
        failure = _mismatch(rng, broken, program, node_id, dtype, grad_fn)
    elif outcome == "error":
        checks = {c: "n/a" for c in CHECKS}
        failure = {"kind": "broken_spec",
                   "message": f"{file}:{line + 4}:7: program: name 'torch.{op}x' is not defined",
                   "statement_line": 1, "discrepancies": [], "inputs": None, "seed": None,
                   "reproduce": None, "traceback": None}
    rtol, atol = TOL.get(dtype, TOL["float32"])
    margins = []
    for variable, field, m_op in (("y", "values", grad_fn), ("x", "grad", None)):
        base = rng.choice([0.0, 1e-7, 3e-6, 4e-5, 0.002, 0.02, 0.12, 0.3, 0.6])
        ratio = base * rng.uniform(0.5, 1.5)
        if outcome == "failed" and field == "grad" and checks["grads"] == "fail":
            ratio = rng.uniform(2, 5e4)
        margins.append({"variable": variable, "field": field, "op": m_op, "dtype": dtype,
                        "max_abs": ratio * atol, "max_rel": ratio * rtol,
                        "max_ulp": round(ratio * 20), "ratio": ratio})
    result = {
        "id": node_id, "name": name + (f"[{variant}]" if variant else ""), "file": file,
        "line": line, "description": f"{op} in {area}: values, gradient and printed text",
        "outcome": outcome, "duration_s": round(rng.uniform(0.002, 1.8), 4),
        "examples": rng.choice([1, 25, 100, 100, 100]), "program": program,
        "program_line": line + 3, "failure": failure, "variant": variant, "area": area,
        "checks": checks, "margins": margins,
        "coverage": {"functions": functions, "methods": methods, "grad_fns": grad_fns},
        "expectation": None,
    }
    if outcome in ("xfailed", "xpassed"):
        result["expectation"] = {"reason": f"engine's {op} rounds differently near zero",
                                 "link": "https://github.com/example/parity/issues/12",
                                 "strict": True}
    return result


def _mismatch(rng, broken, program, node_id, dtype, grad_fn) -> dict:
    statement_line, statement, variable = (3, "z.backward()", "x") if broken == "grads" else \
        (1, program.split("\n")[0], "y")
    field = {"values": "values", "grads": "grad", "flags": "grad_fn",
             "none_grads": "grad_warnings", "prints": "stdout"}[broken]
    rtol, atol = TOL.get(dtype, TOL["float32"])
    inputs = {"x": {"dtype": dtype, "shape": [2, 3],
                    "values": [[round(rng.uniform(-3, 3), 3) for _ in range(3)]
                               for _ in range(2)]}}
    if field in ("values", "grad"):
        t = [round(rng.uniform(-4, 4), 4) for _ in range(6)]
        e = [v + (0.25 if j % 2 else 0.0) for j, v in enumerate(t)]
        torch_text = _tensor_text(t, dtype)
        engine_text = _tensor_text(e, dtype)
        bad = [(j // 3, j % 3) for j in range(6) if j % 2]
        listed = ", ".join(f"{b}: {t[b[0] * 3 + b[1]]!r} vs {e[b[0] * 3 + b[1]]!r}"
                           for b in bad)
        max_rel = max(0.25 / abs(t[b[0] * 3 + b[1]]) for b in bad)
        detail = (f"{len(bad)} of 6 elements outside rtol={rtol:g}, atol={atol:g}; worst at "
                  f"{bad[0]}; max abs 0.25, max rel {max_rel:.3g}, max ULP 2097152; "
                  f"differing (torch vs engine): {listed}")
    elif field == "grad_fn":
        torch_text, engine_text, detail = grad_fn, grad_fn.replace("0", "1"), ""
    elif field == "grad_warnings":
        torch_text = ("UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor is "
                      "being accessed. Its .grad attribute won't be populated during "
                      "autograd.backward().")
        engine_text, detail = "(none)", ""
    else:
        torch_text, engine_text = "tensor([1.5000, 2.2500])\n", "tensor([1.5, 2.25])\n"
        detail = "printed text differs"
    message = f"line {statement_line} `{statement}`: {variable}.{field} differs"
    return {
        "kind": "mismatch", "message": message, "statement_line": statement_line,
        "discrepancies": [{"statement_line": statement_line, "statement": statement,
                           "variable": variable if field != "stdout" else None, "field": field,
                           "torch": torch_text, "engine": engine_text, "detail": detail}],
        "inputs": inputs, "seed": "0",
        "reproduce": f"pytest '{node_id}' --hypothesis-seed=0",
        "snippet": ("import torch\n"
                    f"x = torch.tensor({inputs['x']['values']}, dtype=torch.{dtype}, "
                    "requires_grad=True)\n" + program),
        "traceback": None,
    }


def _tensor_text(values: list[float], dtype: str) -> str:
    rows = [", ".join(f"{v:.4f}" for v in values[r * 3:r * 3 + 3]) for r in range(2)]
    return "tensor([[" + "],\n        [".join(rows) + "]]" + \
        (", dtype=torch.float64" if dtype == "float64" else "") + ")"
