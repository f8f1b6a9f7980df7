"""`parity fuzz`: its options and what it prints (harness/cli.py only adds the subcommand)."""

from __future__ import annotations

import sys
from pathlib import Path

from harness.run.timeout import DEFAULT_LIMIT_S

HELP = ("generate random autograd programs, run them on PyTorch and the engine, and write each "
        "new divergence, shrunk, as a spec")


def add_arguments(parser) -> None:
    parser.add_argument("--minutes", type=float, help="stop after this long")
    parser.add_argument("--programs", type=int, help="stop after this many programs "
                        "(default: 1000 when --minutes is not given)")
    parser.add_argument("--seed", type=int, default=0, help="campaign seed (default: 0); "
                        "with -n 1 and --programs a campaign is reproducible")
    parser.add_argument("-n", "--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--ops", default="", metavar="NAMES",
                        help="comma-separated ops or groups to use (default: all)")
    parser.add_argument("--exclude-ops", default="", metavar="NAMES",
                        help="comma-separated ops or groups to leave out")
    parser.add_argument("--out", type=Path, default=Path("specs") / "found",
                        help="where findings are written as specs (default: %(default)s)")
    parser.add_argument("--summary", type=Path, default=Path("reports") / "fuzz",
                        help="folder for summary.json and index.html (default: %(default)s)")
    parser.add_argument("--parity-engine", "--engine", dest="engine", default=None,
                        metavar="MODULE|PATH", help="the engine under test (default: engine)")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_LIMIT_S, metavar="SECONDS",
                        help="per program and backend (default: %(default)s)")
    parser.add_argument("--shrink-limit", type=float, default=None, metavar="SECONDS",
                        help="time spent minimising each finding (default: 20)")
    parser.add_argument("--max-statements", type=int, default=10)
    parser.add_argument("--list-ops", action="store_true", help="print the ops and groups")


def main(args) -> int:
    from harness.fuzz import campaign, summary
    from harness.fuzz import program as fuzz_program
    from harness.run.backends import load
    from harness.run.engines import resolve

    if args.list_ops:
        for op in fuzz_program.OPS:
            print(f"{op.kind:12} {op.name}")
        return 0
    try:
        engine_name, _ = resolve(args.engine, Path.cwd())
        engine = load(engine_name).module
        ops = fuzz_program.select_ops(_names(args.ops), _names(args.exclude_ops), engine)
    except (ValueError, ImportError) as exc:
        print(f"parity fuzz: {exc}", file=sys.stderr)
        return 2
    config = campaign.Config(
        tuple(op.name for op in ops), engine_name, args.time_limit or None,
        campaign.DEFAULT_SHRINK_LIMIT_S if args.shrink_limit is None else args.shrink_limit,
        args.max_statements)
    programs = args.programs if args.programs or args.minutes else 1000

    def progress(stats, findings) -> None:
        print(f"\r{stats.programs} programs, {len(findings)} findings", end="",
              file=sys.stderr, flush=True)

    result = campaign.run(config, programs=programs, minutes=args.minutes,
                          campaign_seed=args.seed, workers=args.workers, out=args.out,
                          progress=progress)
    print(file=sys.stderr)
    findings = [finding_record(f, result.written.get(f.name)) for f in result.findings]
    data = summary.summary(result.stats, findings, result.seconds, args.workers, args.seed,
                           result.duplicates, engine_name)
    json_path, html_path = summary.write(data, args.summary)
    print(f"{data['programs']} programs in {data['seconds']} s ({data['programs_per_s']}/s), "
          f"{len(findings)} new findings, {result.duplicates} duplicates")
    for f in findings:
        where = f["path"] or f"not written: {f['verify_message']}"
        print(f"  {f['name']} ({f['statements']} statements): {where}")
    print(f"summary: {json_path} {html_path}")
    return 1 if findings else 0


def finding_record(f, path: Path | None) -> dict:
    return {"name": f.name, "signature": list(f.signature), "statements": len(f.program),
            "message": f.message, "program": f.program.text, "verified": f.verified,
            "verify_message": f.verify_message, "path": str(path) if path else None}


def _names(text: str) -> list[str] | None:
    names = [n.strip() for n in text.split(",") if n.strip()]
    return names or None
