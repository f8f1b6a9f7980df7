"""An OpInfo item's result as a plain JSON record, in the same schema as a spec's (results.md).

The record has what every record has (`id`, `outcome`, `checks`, `failure` with discrepancies,
a `reproduce` command and a standalone `snippet`) and an `opinfo` object with what only the
corpus knows: the entry, the samples run and conforming per check, the failure kinds and, for
error inputs, which level the messages matched at. Built on the worker: plain types only.
"""

from __future__ import annotations

import shlex
from collections import Counter

from harness.contract import ERROR, FAILED, PASSED, XFAILED, XPASSED
from harness.opinfo import checks, corpus, repro
from harness.opinfo.runner import ItemResult

AREA = "opinfo"
#: Discrepancies a record keeps (the first failing samples' findings, in order).
KEPT_DISCREPANCIES = 12


def outcome_of(result: ItemResult, expected: bool) -> str:
    if result.harness_error:
        return ERROR
    failed = result.failed
    if expected:
        return XFAILED if failed else XPASSED
    return FAILED if failed else PASSED


def record(node_id: str, name: str, path: str, entry: corpus.Entry, result: ItemResult,
           session_seed, expectation=None, options: list[str] | tuple[str, ...] = ()) -> dict:
    outcome = outcome_of(result, expectation is not None)
    states = result.checks
    if outcome == XFAILED:
        states = {c: "xfail" if s == checks.FAIL else s for c, s in states.items()}
    resolution = result.resolution
    forms = [] if resolution is None else resolution.forms
    failure = None
    if outcome not in (PASSED, XPASSED):
        failure = {
            "kind": "harness_error" if result.harness_error else "mismatch",
            "message": message(result),
            "statement_line": None,
            "discrepancies": [] if result.harness_error else discrepancies(result),
            "inputs": None,
            "seed": str(session_seed),
            "reproduce": shlex.join(["pytest", node_id, *options]),
            "snippet": _snippet(entry, result),
            "traceback": result.harness_error,
        }
    return {
        "id": node_id, "name": name, "file": path, "line": 1,
        "description": description(entry, result), "outcome": outcome,
        "duration_s": round(result.duration_s, 4), "examples": result.samples_run,
        "program": "", "program_line": None, "failure": failure,
        "variant": result.dtype, "area": AREA, "checks": states, "margins": [],
        "coverage": coverage(forms, result.grad_fns),
        "expectation": expectation.as_dict() if expectation else None,
        "opinfo": {
            "op": entry.name, "variant": entry.variant, "key": entry.key, "dtype": result.dtype,
            "differentiable": entry.differentiable,
            "forms": [{"spelling": f.spelling, "kind": f.kind, "offered": f.offered,
                       "missing": list(f.missing)} for f in forms],
            "samples_run": result.samples_run, "samples_conforming": result.samples_passed,
            "skipped": [{"sample": label, "why": why} for label, why in result.skipped],
            "counts": {c: {"conforming": n[0], "run": n[1]} for c, n in result.counts.items()},
            "kinds": dict(sorted(result.kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
            "message_levels": dict(result.levels),
        },
    }


def description(entry: corpus.Entry, result: ItemResult) -> str:
    what = "error inputs" if result.dtype == corpus.ERRORS else f"samples in {result.dtype}"
    return (f"PyTorch's OpInfo entry {entry.key}: {result.samples_run} {what} run, "
            f"{result.samples_passed} conform"
            + (f", {len(result.skipped)} not runnable" if result.skipped else ""))


def message(result: ItemResult) -> str:
    if result.harness_error:
        return "the OpInfo bridge failed: " + result.harness_error.strip().splitlines()[-1]
    kinds = ", ".join(f"{k} ({n})" for k, n in Counter(result.kinds).most_common(3))
    more = f" (+{len(result.kinds) - 3} more kinds)" if len(result.kinds) > 3 else ""
    return (f"{result.samples_run - result.samples_passed} of {result.samples_run} samples "
            f"differ: {kinds}{more}")


def discrepancies(result: ItemResult) -> list[dict]:
    out = []
    for failure in result.failures:
        statement = _statement(result, failure)
        for f in failure.result.findings:
            if len(out) >= KEPT_DISCREPANCIES:
                return out
            out.append({"statement_line": None, "statement": statement, "variable": f.where,
                        "field": f.check, "torch": f.torch, "engine": f.engine,
                        "detail": f.detail, "note": f"{f.kind} [{f.form}]",
                        "measure": f.measure})
    return out


def _statement(result: ItemResult, failure) -> str:
    primary = result.resolution.primary
    lines, _ = repro._call(primary, failure.sample)
    return f"{failure.sample.label}: {lines[-1].removeprefix('out = ')}"


def _snippet(entry: corpus.Entry, result: ItemResult) -> str | None:
    try:
        return first_snippet(entry, result)
    except Exception as exc:  # a repro is a convenience: its failure must not lose the record
        return f"# the snippet could not be made: {type(exc).__name__}: {exc}\n"


#: Input elements past which a snippet names the sample instead of writing it out: OpInfo's
#: reference samples reach a million elements, and their literals made 1 GB reports.
SNIPPET_ELEMENTS = 20_000


def first_snippet(entry: corpus.Entry, result: ItemResult) -> str | None:
    """The standalone snippet of the smallest kept failing sample, for its first failing check
    (the smallest reads best; the first may hold a million elements)."""
    ctx = result.context
    if not result.failures or ctx is None:
        return None
    failure = result.smallest_failure
    if failure.elements > SNIPPET_ELEMENTS:
        item = entry.item_name(result.dtype)
        return (f"# OpInfo {item}, sample {failure.sample.label}: its inputs hold "
                f"{failure.elements:,} elements, too many to write out here.\n"
                f"# Run it: pytest 'specs/opinfo.yaml::{item}' --parity-opinfo-samples all\n"
                f"# Or write it as a spec: parity opinfo-spec '{item}' "
                f"--sample {failure.sample.label}\n")
    finding = failure.result.findings[0]
    form = next((f for f in result.resolution.forms if f.spelling == finding.form),
                result.resolution.primary)
    if not form.offered:
        form = result.resolution.primary
    backward = {"vjp": "vjp", "vjp_none": "vjp", "gradgrad": "gradgrad"}.get(finding.check)
    if finding.check == "variants" and "grad" in finding.where:
        backward = "vjp"
    prog = repro.program(ctx, failure.sample, form, backward, finding.check == "contiguity")
    title = (f"OpInfo {entry.item_name(result.dtype)}, sample {failure.sample.label}: "
             f"{finding.check} ({finding.kind}) [{form.spelling}]")
    return repro.snippet(prog, title)


def coverage(forms, grad_fns) -> dict:
    """The PyTorch API the item exercised, named as the report's coverage names it."""
    functions, methods = set(), set()
    for form in forms:
        if not form.offered:
            continue
        name = form.spelling
        if name.startswith("torch.nn.functional."):
            functions.add("F." + name.removeprefix("torch.nn.functional."))
        elif name.startswith("torch."):
            functions.add(name)
        elif name.startswith("Tensor.") and not name.startswith("Tensor.__"):
            methods.add(name.removeprefix("Tensor."))
    return {"functions": sorted(functions), "methods": sorted(methods),
            "grad_fns": sorted(grad_fns)}


def coverage_summary(engine, entries: list[corpus.Entry], config, known: dict | None = None
                     ) -> dict:
    """The corpus against the engine under test, for the report's headline: every entry of the
    pinned PyTorch's op_db, whether the engine offers it, what it lacks. `known` holds
    resolutions already made (by entry key)."""
    import torch

    from harness.opinfo.resolve import resolve

    ops = []
    for entry in entries:
        resolution = (known or {}).get(entry.key) or resolve(entry.info, engine)
        ops.append({"key": entry.key, "differentiable": entry.differentiable,
                    "offered": resolution.offered,
                    "primary": resolution.primary.spelling if resolution.offered else None,
                    "missing": resolution.missing if not resolution.offered else []})
    differentiable = [o for o in ops if o["differentiable"]]
    return {
        "torch": torch.__version__.split("+")[0],
        "entries": len(ops), "offered": sum(o["offered"] for o in ops),
        "differentiable": len(differentiable),
        "differentiable_offered": sum(o["offered"] for o in differentiable),
        "samples": "all" if config.samples is None else config.samples,
        "dtypes": list(config.dtypes) + (["errors"] if config.errors else []),
        "ops": ops,
    }


def headline(summary: dict, item_records: list[dict]) -> list[str]:
    """The corpus's headline, as `parity` prints it: ops offered, samples conforming."""
    run = sum(r["opinfo"]["samples_run"] for r in item_records if r.get("opinfo"))
    conforming = sum(r["opinfo"]["samples_conforming"] for r in item_records if r.get("opinfo"))
    not_offered = [o["key"] for o in summary["ops"] if not o["offered"]]
    return [
        f"parity opinfo: {summary['differentiable_offered']} of {summary['differentiable']} "
        f"differentiable OpInfo ops offered by the engine ({summary['offered']} of "
        f"{summary['entries']} entries, torch {summary['torch']}); samples conforming: "
        f"{conforming} of {run}",
        f"parity opinfo: {len(not_offered)} entries not offered (the report lists them; "
        "`parity opinfo-coverage` prints them with samples conforming per op)",
    ]
