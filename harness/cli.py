"""The `parity` command: write, check and run specs, re-render a report.

`parity new` writes a spec skeleton; `parity validate` checks specs without the engine (schema,
allow-list, PyTorch names, one dry run on PyTorch); `parity schema` prints the spec JSON Schema;
`parity run` is pytest with the plugin (pytest does the work and shows its progress; every pytest
option passes through); `parity report` renders HTML from a results.json. `parity opinfo-spec`,
`opinfo-coverage` and `opinfo-failures` work on PyTorch's OpInfo corpus (harness.opinfo). `parity
fuzz` runs generated programs on both and writes each new divergence as a spec (harness.fuzz).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.run.timeout import DEFAULT_LIMIT_S


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["run"]:  # everything after `run` is pytest's, options included
        return _run(argv[1:])
    parser = argparse.ArgumentParser(prog="parity", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run", help="run specs through PyTorch and the engine (pytest options pass through)")
    run.add_argument("args", nargs=argparse.REMAINDER, help="spec paths and pytest options")

    validate = sub.add_parser(
        "validate", help="check specs without the engine; one line per problem, exit 1 if any")
    validate.add_argument("paths", nargs="*", default=["specs"], help="files or directories")
    validate.add_argument("--no-run", action="store_true",
                          help="skip the dry run on PyTorch (static checks only)")
    validate.add_argument("--time-limit", type=float, default=DEFAULT_LIMIT_S,
                          metavar="SECONDS", help="per dry-run example (default: %(default)s)")
    validate.add_argument("--engine", default=None, metavar="MODULE|PATH",
                          help="the engine under test, as --parity-engine names it (default: "
                               "engine): a program using a name it lacks is a warning")

    new = sub.add_parser("new", help="write a commented spec skeleton to specs/AREA/NAME.yaml")
    new.add_argument("target", metavar="AREA/NAME")

    sub.add_parser("schema", help="print the JSON Schema of spec files")

    report = sub.add_parser("report", help="render index.html from a results.json")
    report.add_argument("results", type=Path)
    report.add_argument("--out", type=Path, default=Path("reports"))
    report.add_argument("--baseline", type=Path, metavar="OLD_RESULTS",
                        help="an earlier run's results.json: mark and list first what changed")

    merge = sub.add_parser("merge", help="combine the results.json of several shards into one "
                                         "results.json and report")
    merge.add_argument("results", type=Path, nargs="+")
    merge.add_argument("--out", type=Path, default=Path("reports"))

    spec = sub.add_parser("opinfo-spec", help="write a sample of an OpInfo item as a YAML spec "
                                               "(its smallest kept failing sample unless --sample)")
    spec.add_argument("item", help="as pytest names it: add[float32], "
                                   "'specs/opinfo.yaml::div[floor_rounding-float64]'")
    spec.add_argument("--sample", metavar="LABEL",
                      help="the sample (s3, r12, e0), as a failure's discrepancies name it")
    spec.add_argument("--out", metavar="PATH",
                      help="file or folder to write (default: specs/found/); '-' prints it")
    spec.add_argument("--engine", default="engine", metavar="MODULE",
                      help="the module under test (default: engine)")
    for name, text in (("opinfo-coverage", "the OpInfo coverage of a run: ops offered, samples "
                                           "conforming per op and per check, ops not offered"),
                       ("opinfo-failures", "the OpInfo failures of a run grouped by kind, as "
                                           "Markdown")):
        command = sub.add_parser(name, help=text)
        command.add_argument("results", type=Path, nargs="?",
                             default=Path("reports") / "results.json")
        command.add_argument("--out", type=Path, help="write to this file instead of stdout")

    from harness.fuzz import command as fuzz_command

    fuzz_command.add_arguments(sub.add_parser("fuzz", help=fuzz_command.HELP))

    args = parser.parse_args(argv)
    commands = {"validate": _validate, "new": _new, "schema": _schema, "report": _report,
                "fuzz": fuzz_command.main, "merge": _merge, "opinfo-spec": _opinfo_spec,
                "opinfo-coverage": _opinfo_text, "opinfo-failures": _opinfo_text}
    return commands[args.command](args)


def _run(pytest_args: list[str]) -> int:
    """pytest over `specs/` unless a path is given; a progress bar (pytest's per-item lines with
    `-v`), pytest's summary, then the report path."""
    import pytest

    from harness.run.progress import ProgressBar

    verbosity_given = any(a in ("-v", "-vv", "-q", "-qq", "--verbose", "--quiet")
                          or a.startswith("--verbosity") for a in pytest_args)
    quiet = [] if verbosity_given else ["-q", "-o", "console_output_style=classic"]
    pytest.hookimpl(optionalhook=True)(_SpecsUnlessAPathIsGiven.pytest_configure_node)
    return int(pytest.main([*quiet, *pytest_args],
                           plugins=[_SpecsUnlessAPathIsGiven(), ProgressBar()]))


class _SpecsUnlessAPathIsGiven:
    """With no path on the command line, run specs/ rather than pytest's `testpaths` (the unit
    tests). What is a path is pytest's own parser's answer, so the value of an option that takes
    one (`--parity-report reports`, `-k name`) is never mistaken for a path. pytest-xdist
    workers parse the command line again and know nothing of this plugin: the paths go to them
    in their workerinput (harness.run.plugin's pytest_configure reads them)."""

    def __init__(self):
        self.args: list[str] | None = None

    def pytest_configure(self, config):
        if config.args_source == config.ArgsSource.ARGS:
            return
        here = Path(config.invocation_params.dir)
        specs = here / "specs" if (here / "specs").is_dir() else config.rootpath / "specs"
        config.args, config.args_source = [str(specs)], config.ArgsSource.ARGS
        self.args = config.args

    def pytest_configure_node(self, node):
        """An xdist hook (marked optional in _run, where pytest is imported)."""
        if self.args:
            node.workerinput["parity_args"] = self.args


def _validate(args) -> int:
    from harness.validate import validate

    outcome = validate(args.paths, run=not args.no_run, time_limit=args.time_limit,
                       engine=args.engine)
    for problem in outcome.problems:
        print(problem)
    for warning in outcome.warnings:
        print(warning)
    sys.stdout.flush()
    named_expectations = any(Path(p).name == "expectations.yaml" for p in args.paths)
    if not outcome.files and not named_expectations:
        print(f"parity validate: no spec files in {' '.join(args.paths)}", file=sys.stderr)
        return 1
    warned = f", {len(outcome.warnings)} warnings" if outcome.warnings else ""
    print(f"{outcome.valid} specs valid, {len(outcome.problems)} problems{warned} "
          f"({outcome.files} files)", file=sys.stderr)
    uncollected = _not_collected_by_run(args.paths)
    if uncollected:
        shown = ", ".join(map(str, uncollected[:3])) + (", ..." if len(uncollected) > 3 else "")
        print(f"note: `parity run` does not collect {len(uncollected)} of these files (it takes "
              f"*.yaml under a folder named specs/): {shown}", file=sys.stderr)
    return 1 if outcome.problems else 0


def _not_collected_by_run(paths: list[str]) -> list[Path]:
    """Files `parity validate` checks that the pytest plugin would not collect."""
    from harness.run.plugin import is_collected
    from harness.validate import spec_files

    return [f for f in spec_files(paths) if not is_collected(f.resolve())]


def _new(args) -> int:
    from harness.spec.scaffold import ScaffoldError, new_spec, project_root

    root = project_root()
    try:
        path = Path(os.path.relpath(new_spec(args.target, root)))
    except ScaffoldError as exc:
        print(f"parity new: {exc}", file=sys.stderr)
        return 1
    print(path)
    if root != Path.cwd().resolve():  # run from below the project folder: say where it went
        print(f"written to the project's specs/ folder: {root / 'specs'}", file=sys.stderr)
    print(f"next: edit it, then `parity validate {path}` and `parity run {path}`", file=sys.stderr)
    return 0


def _schema(args) -> int:
    from harness.spec.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


def _report(args) -> int:
    from harness.report.html import write_report
    from harness.report.results import check_writable, load_results

    try:
        check_writable(args.out)
        data = load_results(args.results)
        if not data["results"]:
            raise ValueError(f"{args.results}: has no results: nothing to report")
        baseline = load_results(args.baseline) if args.baseline else None
        _, html = write_report(data, args.out, baseline=baseline)
    except (OSError, ValueError) as exc:
        print(f"parity report: {exc}", file=sys.stderr)
        return 2
    print(html)
    return 0



def _merge(args) -> int:
    """Shards of one run (`pytest --shard i/N`) become one report."""
    from harness.report.html import write_report
    from harness.report.results import MergeError, check_writable, load_results, merge

    try:
        check_writable(args.out)
        merged = merge([(path, load_results(path)) for path in args.results])
        if not merged["results"]:
            raise ValueError("the files hold no results: nothing to merge")
        _, html = write_report(merged, args.out)
    except (OSError, ValueError, MergeError) as exc:
        print(f"parity merge: {exc}", file=sys.stderr)
        return 2
    summary = merged["summary"]
    print(f"{summary['total']} results from {len(args.results)} files -> {html}")
    missing = merged["metadata"]["missing_shards"]
    if missing:
        count = missing[0].split("/")[1]
        print(f"parity merge: WARNING: only {int(count) - len(missing)} of {count} shards: "
              f"{', '.join(missing)} missing, so the report covers part of the suite",
              file=sys.stderr)
    return 0

def _opinfo_spec(args) -> int:
    """A sample of an OpInfo item as a ready-to-commit spec."""
    from harness.opinfo import config as opinfo_config
    from harness.opinfo.export import ExportError, default_path, export
    from harness.run.backends import load
    from harness.spec.scaffold import project_root

    root = project_root()
    settings = root / "specs" / opinfo_config.FILENAME
    limit = opinfo_config.load(settings).samples if settings.is_file() else 20
    try:
        exported = export(args.item, load("torch").module, load(args.engine).module,
                          args.sample, limit)
    except (ExportError, ImportError) as exc:
        print(f"parity opinfo-spec: {exc}", file=sys.stderr)
        return 1
    if args.out == "-":
        sys.stdout.write(exported.text)
        return 0
    path = default_path(root, exported) if args.out is None else Path(args.out)
    if path.is_dir():
        path = path / default_path(root, exported).name
    if path.exists():
        print(f"parity opinfo-spec: {path} exists (never overwritten)", file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(exported.text, encoding="utf-8")
    print(os.path.relpath(path))
    state = "conforms on this engine" if exported.passed else "fails on this engine"
    print(f"the sample {state}; next: `parity validate {os.path.relpath(path)}` and "
          f"`parity run {os.path.relpath(path)}`", file=sys.stderr)
    return 0


def _opinfo_text(args) -> int:
    """`opinfo-coverage` / `opinfo-failures`: text made from a results.json."""
    from harness.report.opinfo import coverage_text, failures_markdown
    from harness.report.results import load_results

    try:
        data = load_results(args.results)
    except (OSError, ValueError) as exc:
        print(f"parity {args.command}: {exc}", file=sys.stderr)
        return 2
    text = coverage_text(data) if args.command == "opinfo-coverage" else failures_markdown(data)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
