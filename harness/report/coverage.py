"""The report's coverage: the PyTorch API the specs exercise against what the engine offers."""

from __future__ import annotations

from collections import Counter
from typing import Any

COVERAGE_KINDS = (
    ("functions", "torch functions"),
    ("methods", "Tensor methods and attributes"),
    ("grad_fns", "grad_fn classes"),
)


def coverage(rows: list[dict], engine_api: Any) -> dict | None:
    """What the specs exercise, per kind, against what the engine offers.

    The meter and the "not exercised" list count the engine's ops (``engine_api[kind]``);
    classes and dtypes it offers (``engine_api["types"]``) are not ops, but a spec using one
    does not use something missing either."""
    have = [r["coverage"] for r in rows if isinstance(r.get("coverage"), dict)]
    engine_api = engine_api if isinstance(engine_api, dict) else None
    if not have and not engine_api:
        return None
    kinds = []
    for key, heading in COVERAGE_KINDS:
        used = Counter(str(name) for c in have for name in set(c.get(key) or []))
        offered = {str(name) for name in (engine_api or {}).get(key) or []}
        known = offered | {str(name) for name in (engine_api or {}).get("types") or []
                           if key == "functions"}
        exercised = sorted(used.items(), key=lambda kv: (-kv[1], kv[0]))
        kinds.append({
            "key": key,
            "heading": heading,
            "exercised": [{"name": name, "count": n,
                           "missing": bool(engine_api) and name not in known}
                          for name, n in exercised],
            "unexercised": sorted(offered - set(used)),
            "offered": len(offered) if engine_api else None,
            "covered": len(offered & set(used)),
            "percent": round(100 * len(offered & set(used)) / len(offered)) if offered else None,
        })
    return {"kinds": kinds, "has_engine_api": bool(engine_api), "has_usage": bool(have)}
