"""Fuzz throughput: generated programs per second per core, with 1 and 2 workers, for programs
of about 10 statements, and where one program's time goes (drawing it, PyTorch's trace, the
engine's trace, the comparison), PyTorch and the engine side by side.

Run: python benchmarks/bench_fuzz.py [--programs N] [--statements S] [--seed K]
Per core = programs / CPU seconds of the workers' chunks (what one core achieves, whatever
else the machine runs); wall = programs / wall time of the campaign (start-up and forking
included), which on a machine shared with other work moves with its load. Divergences are neither
shrunk nor verified here (shrink limit 0): the figure is the generate-and-compare rate.

The scaling floor: the same chunks split between `workers` independent forked processes that
share nothing (no supervisor, no pipes, no threads). What that gains from a second process is
what this machine gives this workload; the campaign's own 2-worker speed-up is judged against it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from harness.fuzz import campaign, render
from harness.fuzz import program as fuzz_program
from harness.run import trace as traces
from harness.run.backends import load
from harness.run.compare import Comparator


def config(statements: int) -> campaign.Config:
    return campaign.Config(tuple(op.name for op in fuzz_program.OPS), shrink_limit_s=0,
                           verify=False, max_statements=statements,
                           min_statements=max(1, statements - 2))


def rate(programs: int, statements: int, workers: int, campaign_seed: int) -> dict:
    result = campaign.run(config(statements), programs=programs, campaign_seed=campaign_seed,
                          workers=workers, out=None)
    stats = result.stats
    return {"workers": workers, "programs": stats.programs,
            "statements_per_program": round(stats.statements / max(stats.programs, 1), 1),
            "wall_s": round(result.seconds, 2),
            "programs_per_s_wall": round(stats.programs / result.seconds, 1),
            "programs_per_s_per_core": round(stats.programs / stats.cpu_s, 1),
            "programs_per_s_per_worker_wall": round(stats.programs / stats.busy_s, 1)}


def _run_share(job: tuple) -> int:
    statements, campaign_seed, chunks = job
    return sum(campaign.run_chunk(config(statements), campaign.chunk_seed(campaign_seed, index),
                                  count, frozenset()).stats.programs for index, count in chunks)


def independent(programs: int, statements: int, workers: int, campaign_seed: int) -> dict:
    """Programs per wall second when `workers` forked processes run the campaign's chunks
    with nothing shared: the scaling floor."""
    chunks = [(index, min(campaign.CHUNK, programs - start))
              for index, start in enumerate(range(0, programs, campaign.CHUNK))]
    shares = [(statements, campaign_seed, chunks[w::workers]) for w in range(workers)]
    load("torch"), load("engine")
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        start = time.perf_counter()
        done = sum(pool.map(_run_share, shares, chunksize=1))
        seconds = time.perf_counter() - start
    return {"workers": workers, "programs": done, "wall_s": round(seconds, 2),
            "programs_per_s_wall": round(done / seconds, 1)}


def breakdown(programs: int, statements: int, campaign_seed: int) -> dict:
    """Seconds per program in each stage, in this process."""
    torch, engine = load("torch"), load("engine")
    ops = fuzz_program.OPS
    spent = {"draw": 0.0, "torch": 0.0, "engine": 0.0, "compare": 0.0}
    count = [0]

    @seed(campaign_seed)
    @settings(max_examples=programs, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def body(data):
        t0 = time.perf_counter()
        program = data.draw(fuzz_program.programs(ops, statements, max(1, statements - 2)))
        inputs = data.draw(render.inputs(program))
        compiled = render.compiled(program)
        rg = {leaf.name: leaf.requires_grad for leaf in program.leaves}
        lines = compiled.statement_lines
        t1 = time.perf_counter()
        expected = traces.run(compiled, torch, inputs, rg, lines)
        t2 = time.perf_counter()
        actual = traces.run(compiled, engine, inputs, rg, lines)
        t3 = time.perf_counter()
        Comparator().compare(expected, actual)
        t4 = time.perf_counter()
        for name, seconds in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            spent[name] += seconds
        count[0] += 1

    body()
    return {name: round(1000 * seconds / count[0], 2) for name, seconds in spent.items()} | {
        "unit": "ms per program", "programs": count[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=3000)
    parser.add_argument("--statements", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    one = rate(args.programs, args.statements, 1, args.seed)
    two = rate(args.programs, args.statements, 2, args.seed)
    floor_one = independent(args.programs, args.statements, 1, args.seed)
    floor_two = independent(args.programs, args.statements, 2, args.seed)
    out = {"one_worker": one, "two_workers": two,
           "speedup_2_workers_wall": round(two["programs_per_s_wall"]
                                           / one["programs_per_s_wall"], 2),
           "independent_processes": [floor_one, floor_two],
           "speedup_2_independent_processes_wall": round(
               floor_two["programs_per_s_wall"] / floor_one["programs_per_s_wall"], 2),
           "per_program": breakdown(min(args.programs, 200), args.statements, args.seed)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
