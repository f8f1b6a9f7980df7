"""Keep a random sample of a cosmic-ray session's pending mutants; mark the rest skipped.

    python mutation/sample.py SESSION.sqlite N [--seed S]

The sample is stratified by module (each module keeps its share of N, rounded by largest
remainder so that the shares add up to N: with the whole engine's ~100 modules a minimum of one
per module would overshoot) and reproducible (seed).
Skipped mutants get a SKIPPED result, so `cosmic-ray exec` leaves them alone and `cr-report`
does not count them. N <= 0 keeps everything (the full run).
"""

import argparse
import random
from collections import defaultdict

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("session")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.n <= 0:
        return
    with use_db(args.session, WorkDB.Mode.open) as db:
        items = sorted(db.pending_work_items, key=lambda w: w.job_id)
        by_module = defaultdict(list)
        for item in items:
            by_module[str(item.mutations[0].module_path)].append(item)
        rng = random.Random(args.seed)
        modules = sorted(by_module)
        share = {m: min(args.n, len(items)) * len(by_module[m]) / len(items) for m in modules}
        quota = {m: int(share[m]) for m in modules}
        by_remainder = sorted(modules, key=lambda m: (quota[m] - share[m], m))
        for m in by_remainder[:min(args.n, len(items)) - sum(quota.values())]:
            quota[m] += 1
        keep = set()
        for m in modules:
            keep.update(w.job_id for w in rng.sample(by_module[m], quota[m]))
        skip = [w.job_id for w in items if w.job_id not in keep]
        db.set_multiple_results(skip, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
        print(f"sampled {len(keep)} of {len(items)} mutants (seed {args.seed}); "
              f"{len(skip)} skipped")


if __name__ == "__main__":
    main()
