"""What a campaign did, as counts: programs run and per second, the ops and autograd features
exercised, and the findings; written as summary.json and a small index.html of its own."""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Stats:
    programs: int = 0  # generated programs run on both backends
    shrink_runs: int = 0  # programs run while minimising a divergence
    statements: int = 0
    diverged: int = 0  # generated programs whose traces differed (any signature)
    torch_raised: int = 0  # generated programs where PyTorch raised on some statement
    skipped: int = 0  # PyTorch timed out, or the harness failed on the program
    crashed: int = 0  # chunks whose process died (crash isolation)
    busy_s: float = 0.0  # time spent in chunks (summed over workers)
    cpu_s: float = 0.0  # CPU time of the chunks (summed over workers): a per-core rate
    ops: Counter = field(default_factory=Counter)
    features: Counter = field(default_factory=Counter)
    skip_reasons: Counter = field(default_factory=Counter)

    def merge(self, other: Stats) -> None:
        for name in ("programs", "shrink_runs", "statements", "diverged", "torch_raised",
                     "skipped", "crashed", "busy_s", "cpu_s"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("ops", "features", "skip_reasons"):
            getattr(self, name).update(getattr(other, name))


def summary(stats: Stats, findings: list[dict], seconds: float, workers: int, seed: int,
            duplicates: int, engine: str) -> dict:
    data = asdict(stats)
    for name in ("ops", "features", "skip_reasons"):
        data[name] = dict(sorted(getattr(stats, name).items(), key=lambda kv: (-kv[1], kv[0])))
    data.update(
        seconds=round(seconds, 2), workers=workers, seed=seed, engine=engine,
        programs_per_s=round(stats.programs / seconds, 1) if seconds else 0.0,
        programs_per_s_per_worker=round(stats.programs / seconds / workers, 1) if seconds else 0.0,
        findings=findings, duplicates=duplicates,
        median_shrunk_statements=_median([f["statements"] for f in findings]),
    )
    data["busy_s"], data["cpu_s"] = round(stats.busy_s, 2), round(stats.cpu_s, 2)
    return data


def _median(values: list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1]
                                                            + ordered[middle]) / 2


def write(data: dict, folder: Path) -> tuple[Path, Path]:
    """summary.json and index.html in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / "summary.json", folder / "index.html"
    json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    html_path.write_text(render_html(data), encoding="utf-8")
    return json_path, html_path


def render_html(data: dict) -> str:
    e = html.escape

    def table(title: str, counts: dict) -> str:
        rows = "".join(f"<tr><td>{e(str(k))}</td><td>{v}</td></tr>" for k, v in counts.items())
        return f"<h2>{e(title)}</h2><table><tr><th>name</th><th>count</th></tr>{rows}</table>"

    findings = "".join(
        f"<h3>{e(f['name'])}{'' if f['verified'] else ' (not reproduced by the harness)'}</h3>"
        f"<p>{e(f['message'])}</p><p>{f['statements']} statements, "
        f"{e(f.get('path') or 'not written')}</p><pre>{e(f['program'])}</pre>"
        for f in data["findings"]) or "<p>none</p>"
    head = (f"<p>{data['programs']} programs in {data['seconds']} s on {data['workers']} "
            f"worker(s): {data['programs_per_s']} programs/s; {data['statements']} statements; "
            f"{data['shrink_runs']} shrink runs; {data['diverged']} diverging programs; "
            f"{len(data['findings'])} findings ({data['duplicates']} duplicates); engine "
            f"{e(data['engine'])}, seed {data['seed']}.</p>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:"
             "collapse}td,th{border:1px solid #ccc;padding:2px 8px}pre{background:#f4f4f4;"
             "padding:6px}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>parity fuzz</title>"
            f"<style>{style}</style></head><body><h1>parity fuzz</h1>{head}<h2>Findings</h2>"
            f"{findings}{table('Ops', data['ops'])}{table('Features', data['features'])}"
            f"</body></html>\n")
