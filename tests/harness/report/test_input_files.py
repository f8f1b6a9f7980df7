"""Every file a command reads gets one line saying what is wrong with it, never a traceback:
`parity merge`, `parity report` and its `--baseline` read results.json files (checked against
harness.report.schema), runs read expectations.yaml; an output folder that cannot be written is
refused before anything is read or run."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.report import schema
from harness.report.html import render_html
from harness.report.results import build, check_schema, load_results, metadata
from harness.spec import expectations


def record(node_id: str, outcome: str = "passed") -> dict:
    failure = None if outcome in ("passed", "xpassed") else {
        "kind": "mismatch", "message": "line 1 `y = x * 2`: y.values differs",
        "statement_line": 1,
        "discrepancies": [{"statement_line": 1, "statement": "y = x * 2", "variable": "y",
                           "field": "values", "torch": "tensor([2.])", "engine": "tensor([3.])",
                           "detail": "1 of 1 elements differ", "note": "",
                           "measure": {"dtype": "float32", "mismatched": 1, "numel": 1,
                                       "rtol": 1.3e-6, "atol": 1e-5, "max_abs": 1.0,
                                       "max_rel": 0.5, "max_ulp": 8388608,
                                       "worst_index": [0], "elements": [
                                           {"index": [0], "torch": 2.0, "engine": 3.0}]}}],
        "inputs": {"x": {"dtype": "float32", "shape": [1], "values": [1.0]}},
        "seed": "0", "reproduce": f"pytest {node_id} --hypothesis-seed=0",
        "snippet": "import torch\ny = x * 2\n", "traceback": None}
    return {"id": node_id, "name": node_id.split("::")[1], "file": node_id.split("::")[0],
            "line": 2, "description": "twice x", "outcome": outcome, "duration_s": 0.1,
            "examples": 3, "program": "y = x * 2\n", "program_line": 7, "failure": failure,
            "variant": None, "area": ".", "checks": {"values": "pass"},
            "margins": [{"variable": "y", "field": "values", "op": "@", "dtype": "float32",
                         "max_abs": 0.0, "max_rel": 0.0, "max_ulp": 0, "ratio": 0.0}],
            "coverage": {"functions": [], "methods": [], "grad_fns": ["MulBackward0"]},
            "expectation": None, "warnings": []}


def results() -> dict:
    """A failed result (results[0]) and a passed one (results[1])."""
    meta = metadata(profile="ci", seed=0, git_commit=None)
    return build([record("specs/s.yaml::a"), record("specs/s.yaml::b", "failed")], meta)


def write(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def deep(n: int) -> str:
    return "[" * n + "]" * n


def without(key_path: tuple, data: dict | None = None) -> dict:
    data = copy.deepcopy(data or results())
    target = data
    for key in key_path[:-1]:
        target = target[key]
    del target[key_path[-1]]
    return data


def replaced(key_path: tuple, value) -> dict:
    data = copy.deepcopy(results())
    target = data
    for key in key_path[:-1]:
        target = target[key]
    target[key_path[-1]] = value
    return data


BROKEN = {
    "no results": (without(("results",)), "the top level: 'results' is a required property"),
    "a record without id": (without(("results", 1, "id")), "results[1]: 'id' is a required"),
    "null records": (replaced(("results",), [None, None]), "None is not of type 'object'"),
    "100,000-deep arrays": ('{"schema_version": 1, "results": ' + deep(100_000) + "}",
                            "JSON nested too deeply"),
    "id of the wrong type": (replaced(("results", 1, "id"), 7), "results[1].id: 7 is not of"),
    "an unknown outcome": (replaced(("results", 0, "outcome"), "great"), "results[0].outcome"),
    "a discrepancy of the wrong shape": (
        replaced(("results", 0, "failure", "discrepancies"), [[1, 2]]),
        "results[0].failure.discrepancies[0]: [1, 2] is not of type 'object'"),
    "a deep value where a string goes": (
        replaced(("results", 0, "description"), json.loads(deep(500))),
        "results[0].description"),
    "counts that do not add up": (replaced(("summary", "total"), 5),
                                  "summary.total is 5 but there are 2 results"),
    "results not a list": (replaced(("results",), {"a": 1}), "results: {'a': 1} is not of"),
    "another version": (replaced(("schema_version",), 2), "unsupported results schema_version 2"),
    "a shard that is not I/N": (replaced(("metadata", "shard"), "1/x"),
                                "metadata.shard: '1/x' does not match"),
    "a list": ([results()], "unsupported results schema_version None"),
    "not JSON": ("{'results': []}", "invalid JSON"),
    "not UTF-8": ("\udcff", "not UTF-8"),
}


def write_broken(path: Path, data) -> Path:
    if data == "\udcff":
        path.write_bytes(b'{"a": "\xff"}')
        return path
    return write(path, data)


@pytest.mark.parametrize("case", sorted(BROKEN))
@pytest.mark.parametrize("command", ["merge", "report", "baseline"])
def test_a_broken_input_is_one_line(case, command, tmp_path, capsys):
    data, text = BROKEN[case]
    bad = write_broken(tmp_path / "bad.json", data)
    good = write(tmp_path / "good.json", results())
    argv = {"merge": ["merge", good, bad], "report": ["report", bad],
            "baseline": ["report", good, "--baseline", bad]}[command]
    code, out, err = run(capsys, *argv, "--out", tmp_path / "out")
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert str(bad) in err and text in err, err
    assert not (tmp_path / "out" / "index.html").exists()


def test_good_inputs_render(tmp_path, capsys):
    good = write(tmp_path / "good.json", results())
    code, out, err = run(capsys, "report", good, "--baseline", good, "--out", tmp_path / "r")
    assert code == 0, err
    code, out, err = run(capsys, "merge", good, good, "--out", tmp_path / "m")
    assert code == 0, err
    assert load_results(tmp_path / "m" / "results.json")["summary"]["total"] == 2


def test_a_file_with_no_results_is_not_all_as_expected(tmp_path, capsys):
    empty = write(tmp_path / "empty.json", build([], metadata(profile="ci", seed=0,
                                                              git_commit=None)))
    code, _, err = run(capsys, "report", empty, "--out", tmp_path / "r")
    assert code == 2 and "has no results: nothing to report" in err
    assert not (tmp_path / "r" / "index.html").exists()
    code, _, err = run(capsys, "merge", empty, empty, "--out", tmp_path / "m")
    assert code == 2 and "no results" in err


@pytest.mark.parametrize("command", ["report", "merge"])
def test_an_unwritable_out_folder_is_refused_before_reading(command, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    missing = tmp_path / "missing.json"  # never read: the folder is checked first
    code, _, err = run(capsys, command, missing, "--out", tmp_path / "file" / "sub")
    assert code == 2
    assert err.strip() == f"parity {command}: cannot write the report to " \
                          f"{tmp_path / 'file' / 'sub'}: Not a directory"


def paths(data, prefix=()):
    """Every (key path) in a JSON document."""
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return
    for key, value in items:
        yield (*prefix, key)
        yield from paths(value, (*prefix, key))


_DELETE = object()


def test_whatever_passes_the_schema_renders():
    """Every key of a real-looking file deleted, nulled or given another type: the schema
    refuses it in one line, or the report renders it."""
    original = results()
    refused = rendered = 0
    for key_path in list(paths(original)):
        for value in (_DELETE, None, "x", 12345, [[["deep"]]], {"k": None}, True, -1.5):
            data = copy.deepcopy(original)
            target = data
            for key in key_path[:-1]:
                target = target[key]
            if value is _DELETE:
                del target[key_path[-1]]
            else:
                target[key_path[-1]] = value
            try:
                check_schema(data)
            except ValueError as exc:
                assert "\n" not in str(exc)
                refused += 1
                continue
            render_html(data)
            rendered += 1
    assert refused > 100 and rendered > 100


def test_the_schema_is_valid_and_takes_every_outcome():
    validator = schema._validator()
    for outcome in ("passed", "failed", "error", "xfailed", "xpassed"):
        data = build([record("specs/s.yaml::a", outcome)],
                     metadata(profile="ci", seed=0, git_commit=None))
        assert not list(validator.iter_errors(data)), outcome


EXPECTATIONS = {
    "not UTF-8": (b"\xff\xfe", "file is not UTF-8"),
    "a folder": (None, "cannot read file: Is a directory"),
    "deeply nested": (b"expectations: " + deep(5000).encode(), "nested more than 100 deep"),
    "a list": (b"- a\n", "an expectations file is a mapping with an 'expectations:' list"),
    "null entries": (b"expectations:\n  - null\n", "expectations.0: Input should be a valid"),
    "an id of the wrong type": (b"expectations:\n  - {id: 3, reason: r}\n",
                                "expectations.0.id: Input should be a valid string"),
    "a control character": (b"expectations:\n  - {id: \x01, reason: r}\n",
                            "YAML: cannot load this file"),
    "too big": (b"# " + b"x" * (expectations.MAX_FILE_BYTES + 1), "is limited to 10 MB"),
}


@pytest.mark.parametrize("case", sorted(EXPECTATIONS))
def test_a_broken_expectations_file_is_one_line(case, tmp_path):
    content, text = EXPECTATIONS[case]
    path = tmp_path / "expectations.yaml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(expectations.ExpectationsError) as info:
        expectations.load(path)
    assert str(info.value).startswith(f"{path}:") and text in str(info.value)
    assert "\n" not in str(info.value)
