"""The `parity` command: run specs, check them, re-render a report.

`parity run` is pytest with the plugin (pytest does the work; everything pytest accepts passes
through); `parity validate` loads specs without running them; `parity report` renders HTML from a
results.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.spec import SpecError, load_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parity", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run", help="run specs through PyTorch and the engine (pytest options pass through)")
    run.add_argument("args", nargs=argparse.REMAINDER, help="spec paths and pytest options")

    validate = sub.add_parser("validate", help="load and check specs without running them")
    validate.add_argument("paths", nargs="*", default=["specs"])

    report = sub.add_parser("report", help="render index.html from a results.json")
    report.add_argument("results", type=Path)
    report.add_argument("--out", type=Path, default=Path("reports"))

    args = parser.parse_args(argv)
    return {"run": _run, "validate": _validate, "report": _report}[args.command](args)


def _run(args) -> int:
    import pytest

    pytest_args = args.args or ["specs"]
    return int(pytest.main(pytest_args))


def _validate(args) -> int:
    problems = specs = 0
    for path in _spec_files(args.paths):
        for entry in load_file(path).entries:
            if isinstance(entry, SpecError):
                problems += 1
                print(entry)
            else:
                specs += 1
    print(f"{specs} specs valid, {problems} problems")
    return 1 if problems else 0


def _spec_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*.y*ml") if f.name != "expectations.yaml")
        else:
            files.append(p)
    return files


def _report(args) -> int:
    from harness.report import load_results, write_report

    try:
        data = load_results(args.results)
    except (OSError, ValueError) as exc:
        print(f"parity report: {exc}", file=sys.stderr)
        return 2
    _, html = write_report(data, args.out)
    print(html)
    return 0


if __name__ == "__main__":
    sys.exit(main())
