"""docs/results.md's OpInfo section describes what an OpInfo item's record and the run's
`metadata.opinfo` really hold: every key written is documented there, every key documented there
is written (the rest of the file is checked by tests/harness/report/test_results_doc.py)."""

import json
import re

import pytest
import torch  # noqa: F401  imported here so pytester's in-process runs never re-import them
from test_results_doc import DOC, documented

CONFIG = "opinfo:\n  samples: 2\n  dtypes: [float32]\n  ops: [exp, maximum]\n"


@pytest.fixture
def written(pytester, monkeypatch) -> dict:
    import engine

    (pytester.path / "specs").mkdir()
    (pytester.path / "specs" / "opinfo.yaml").write_text(CONFIG)
    exp = engine.exp
    monkeypatch.setattr(engine, "exp", lambda x, *a, **k: exp(x * 1.001, *a, **k))
    result = pytester.runpytest("specs", "-p", "no:cacheprovider", "--parity-report=reports")
    assert result.ret == 1, result.stdout.str()
    return json.loads((pytester.path / "reports" / "results.json").read_text())


def test_opinfo_keys_are_documented_and_written(written):
    doc = documented("opinfo")
    records = [r for r in written["results"] if "opinfo" in r]
    assert {r["name"] for r in records} == {"exp[float32]", "maximum[float32]",
                                            "maximum[errors]"}
    keys = {"opinfo"} | set(written["metadata"]["opinfo"])
    for record in records:
        keys |= set(record["opinfo"])
    assert keys - set(doc) == set(), "written but not documented"
    assert set(doc) - keys == set(), "documented but never written"
    failed = next(r for r in records if r["name"] == "exp[float32]")
    discrepancy = failed["failure"]["discrepancies"][0]
    text = DOC.read_text()
    assert re.match(r"s\d+: torch\.exp\(t0\)$", discrepancy["statement"])
    assert discrepancy["note"].endswith("[torch.exp]") and "`note`" in text
    ops = written["metadata"]["opinfo"]["ops"][0]
    assert all(f'"{key}"' in text for key in ops)
    forms = failed["opinfo"]["forms"][0]
    assert all(f'"{key}"' in text for key in forms)
