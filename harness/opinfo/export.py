"""`parity opinfo-spec ITEM [--sample s3]`: a failing OpInfo sample written as a YAML spec.

The item is named as pytest names it (`add[float32]`, `div[floor_rounding-float64]`, with or
without the `specs/opinfo.yaml::` prefix). Without `--sample`, the item's smallest kept failing
sample (among the first failing samples a run keeps) is written, for its first failing check.
The spec runs the sample from literal values through the ordinary spec harness, so it can be
committed as a regression (`specs/found/`) once the engine is fixed, or listed in the
expectations file before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.opinfo import corpus, repro
from harness.opinfo.runner import ItemResult, run_item


class ExportError(Exception):
    """The item or sample does not exist, or nothing to write."""


@dataclass
class Exported:
    name: str  # the spec's name
    text: str  # the YAML file
    passed: bool  # the sample conforms on this engine (the spec is then a plain regression)


def parse_item(item: str) -> tuple[corpus.Entry, str]:
    """`add[float32]` / `specs/opinfo.yaml::div[floor_rounding-float64]` -> (entry, dtype)."""
    name = item.split("::")[-1]
    match = re.fullmatch(r"(.+)\[(.+)\]", name)
    if not match:
        raise ExportError(f"{item!r} is not an OpInfo item name like add[float32]")
    op, inside = match.groups()
    variant, _, dtype = inside.rpartition("-")
    if dtype not in (*corpus.DTYPES, corpus.ERRORS):
        raise ExportError(f"{item!r}: unknown dtype {dtype!r}")
    key = f"{op}.{variant}" if variant else op
    try:
        return corpus.find(key), dtype
    except KeyError as exc:
        raise ExportError(str(exc.args[0])) from None


def export(item: str, torch, engine, sample: str | None = None, limit: int | None = 20
           ) -> Exported:
    entry, dtype = parse_item(item)
    if sample is not None:
        if not re.fullmatch(r"[sre]\d+", sample):
            raise ExportError(f"--sample {sample!r}: expected a label like s3, r12 or e0")
        index = int(sample[1:])
        limit = None if sample[0] == "r" else index + 1
    result = run_item(entry, dtype, torch, engine, limit, only=sample)
    if result.resolution is None or not result.resolution.offered:
        raise ExportError(f"{entry.key}: the engine offers no form of this op "
                          f"(lacks {', '.join(result.resolution.missing[:3])})"
                          if result.resolution else f"{entry.key}: could not be resolved")
    if result.harness_error:
        raise ExportError(f"the OpInfo bridge failed on {item}:\n{result.harness_error}")
    if result.samples_run == 0:
        why = "; ".join(f"{label}: {reason}" for label, reason in result.skipped)
        raise ExportError(f"{item}: no sample {sample or ''} to write" + (f" ({why})" if why
                                                                          else ""))
    return _written(entry, dtype, result, sample)


def _written(entry: corpus.Entry, dtype: str, result: ItemResult, label: str | None) -> Exported:
    ctx = result.context
    if result.failures:
        failure = result.smallest_failure
        finding = failure.result.findings[0]
        sample = failure.sample
        form = next((f for f in result.resolution.forms
                     if f.spelling == finding.form and f.offered), result.resolution.primary)
        check, what = finding.check, f"{finding.check} ({finding.kind}, {form.spelling})"
    elif label is not None:
        sample = _sample(entry, dtype, label)
        form, check, what = result.resolution.primary, "", "conforms on this engine"
    else:
        raise ExportError(f"{entry.item_name(dtype)}: every sample conforms; name one with "
                          "--sample to write it anyway")
    backward = {"vjp": "vjp", "vjp_none": "vjp", "gradgrad": "gradgrad"}.get(check)
    if backward is None and ctx.backward and dtype != corpus.ERRORS:
        backward = "gradgrad" if ctx.gradgrad else "vjp"
    prog = repro.program(ctx, sample, form, backward, check == "contiguity")
    if not prog.complete:
        raise ExportError(f"{entry.item_name(dtype)} {sample.label}: the op is a function of "
                          "OpInfo's whose source could not be recovered; use the snippet")
    name = f"opinfo_{entry.key}_{dtype}_{sample.label}"
    description = (f"PyTorch's OpInfo entry {entry.key}, sample {sample.label} in {dtype} "
                   f"(written by parity opinfo-spec): {what}")
    header = (f"Written by `parity opinfo-spec \"{entry.item_name(dtype)}\" --sample "
              f"{sample.label}`: the sample from literal values, no OpInfo import needed.")
    return Exported(re.sub(r"[^A-Za-z0-9_.-]+", "_", name),
                    repro.spec(prog, name, description, header), not result.failures)


def _sample(entry: corpus.Entry, dtype: str, label: str):
    from harness.opinfo import samples as literals

    drawn = corpus.error_samples(entry) if dtype == corpus.ERRORS \
        else corpus.samples(entry, dtype, None if label[0] == "r" else int(label[1:]) + 1)
    for one in drawn:
        if one.label == label:
            return literals.describe(one)
    raise ExportError(f"{entry.item_name(dtype)} has no sample {label}")


def default_path(root: Path, exported: Exported) -> Path:
    return root / "specs" / "found" / f"{exported.name.replace('.', '_')}.yaml"
