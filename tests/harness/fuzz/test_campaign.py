"""Campaigns: with no spec at all, a campaign finds each broken engine of
tests/harness/run/test_broken_engines.py and writes it as a spec of at most 6 statements that
fails on the broken engine and conforms on the real one; a fixed-seed campaign is reproducible;
findings are shrunk, deduplicated and written as specs the ordinary harness runs."""

import pytest
import test_broken_engines as broken  # tests/harness/run (pyproject's pythonpath)

from harness.contract import FAILED, PASSED
from harness.fuzz import campaign, program
from harness.run.backends import load
from harness.run.runner import check
from harness.spec import load_file
from harness.validate import validate

CONFIG = campaign.Config(tuple(op.name for op in program.OPS), shrink_limit_s=2.0)
BREAKS = list(dict.fromkeys(b[0] for b in broken.BREAKS))


def conforms(found: campaign.Finding) -> bool:
    """Whether the finding's program and inputs pass on the engine as it is."""
    return campaign.run_program(found.program, found.inputs, load("torch"),
                                load("engine"), CONFIG.time_limit_s).signature is None


#: signatures of the engine's own divergences met by earlier hunts: not shrunk again
ENGINE_OWN: set = set()


def hunt(break_engine, chunks: int = 40) -> campaign.Finding:
    """Chunks of the campaign with seed 0 on the broken engine until a finding that the break
    explains (it conforms without the break); the engine's own divergences are skipped."""
    seen: set = set(ENGINE_OWN)
    for index in range(chunks):
        with pytest.MonkeyPatch.context() as mp:
            break_engine(mp)
            result = campaign.run_chunk(CONFIG, campaign.chunk_seed(0, index), campaign.CHUNK,
                                        frozenset(seen))
        for found in result.findings:
            seen.add(found.signature)
            if conforms(found):
                return found
            ENGINE_OWN.add(found.signature)
    raise AssertionError(f"no finding explained by {break_engine.__name__} in {chunks} chunks")


@pytest.mark.parametrize("break_engine", BREAKS, ids=[b.__name__ for b in BREAKS])
def test_a_campaign_finds_each_broken_engine(break_engine, tmp_path):
    found = hunt(break_engine)
    assert found.verified, found.verify_message  # the spec runner fails it the same way
    assert len(found.program) <= 6, found.program.text
    path = tmp_path / f"{found.name}.yaml"
    path.write_text(found.text)
    [spec] = load_file(path).entries
    [variant] = spec.variants()
    assert check(spec, variant, "found", max_examples=5).outcome == PASSED  # the real engine
    with pytest.MonkeyPatch.context() as mp:
        break_engine(mp)
        assert check(spec, variant, "found", max_examples=5).outcome == FAILED


def test_a_fixed_seed_campaign_is_reproducible_and_covers_the_generator():
    """What CI runs: a short campaign; a change to the generator or the shrinker shows here."""
    runs = [campaign.run(CONFIG, programs=200, campaign_seed=0, out=None, isolate=False)
            for _ in range(2)]
    first, second = runs
    assert first.stats.programs == 200
    assert first.stats.ops == second.stats.ops and first.stats.features == second.stats.features
    assert [f.text for f in first.findings] == [f.text for f in second.findings]
    assert {"backward", "autograd.grad", "hook", "no_grad", "inplace", "view",
            "retain_grad", "create_graph", "second_backward"} <= set(first.stats.features)
    assert first.stats.skipped == 0, first.stats.skip_reasons


def test_findings_are_written_once_and_validate(tmp_path):
    """What a campaign finds is written once, as specs that pass `parity validate`; a second
    campaign finds the same and writes nothing."""
    with pytest.MonkeyPatch.context() as mp:
        broken.wrong_add_forward(mp)  # something certain to be found
        first = campaign.run(CONFIG, programs=100, campaign_seed=0, out=tmp_path,
                             isolate=False)
        again = campaign.run(CONFIG, programs=100, campaign_seed=0, out=tmp_path,
                             isolate=False)
    assert first.written and not again.written
    assert again.duplicates >= len(first.written)
    names = sorted(p.name for p in tmp_path.glob("*.yaml"))
    assert names == sorted(p.name for p in first.written.values())
    outcome = validate([str(tmp_path)])
    assert not outcome.problems, outcome.problems
    assert outcome.valid == len(names)


def test_a_divergence_is_shrunk_to_its_statement():
    """A value divergence deep in a long program shrinks to the few statements it needs."""
    with pytest.MonkeyPatch.context() as mp:
        broken.slightly_wrong_sum(mp)
        result = campaign.run(CONFIG, programs=200, campaign_seed=5, out=None, isolate=False)
    sums = [f for f in result.findings if f.signature[1] == "sum"]
    assert sums, [f.signature for f in result.findings]
    assert len(sums[0].program) <= 2, sums[0].program.text


def test_the_command_runs_a_campaign_and_writes_its_summary(tmp_path, capsys):
    """`parity fuzz` end to end (chunks in forked children): counts, histograms, the page."""
    import json

    from harness.cli import main

    status = main(["fuzz", "--programs", "40", "--seed", "3", "--ops", "elementwise,backward",
                   "--out", str(tmp_path / "found"), "--summary", str(tmp_path / "summary")])
    data = json.loads((tmp_path / "summary" / "summary.json").read_text())
    assert data["programs"] == 40 and data["statements"] >= 40
    assert set(data["ops"]) <= {op.name for op in program.OPS
                                if op.kind == "elementwise" or op.name == "backward"}
    assert status == (1 if data["findings"] else 0)
    assert "parity fuzz" in (tmp_path / "summary" / "index.html").read_text()
    assert "40 programs" in capsys.readouterr().out
