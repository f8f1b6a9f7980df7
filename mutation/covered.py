"""Run only the tests that execute a mutant's changed lines (the per-mutant command of a pass).

    python mutation/covered.py PRISTINE COVERAGE_FILE -- PYTEST_ARGS...   (e.g. specs -x -q ...)

Run by cosmic-ray in the mutated copy (the current directory): finds the engine file that differs
from PRISTINE's (an unmutated copy) and the changed lines, asks COVERAGE_FILE (a run of the suite
on PRISTINE under `--cov=engine --cov-context=test`) which test items executed those lines, and
runs `pytest PYTEST_ARGS` on just those of them that the paths in PYTEST_ARGS collect (less
`--ignore=`d files); none: exit 0 (survived). A test that never executes
a changed line runs exactly as on the unmutated engine (the suite is deterministic), so it cannot
kill the mutant: the selection changes the time, not the verdict. Why: a pass over the OpInfo
corpus takes minutes per mutant on 2 cores, and most of the engine is reached by a few items.
A line run only at import (a `def` line with its defaults and decorators) stands for its whole
function: the items that executed any line of it; a module-level statement stands for every
item, unless the change is inside a lambda's body (run only when called).
"""

import ast
import difflib
import subprocess
import sys
from pathlib import Path

from coverage import CoverageData


def changed_lines(pristine):
    """(relative path, changed line numbers in the pristine file) of the one mutated module."""
    for path in sorted(Path("engine").rglob("*.py")):
        old, new = (pristine / path).read_text(), path.read_text()
        if old != new:
            matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines())
            lines = set()
            for tag, i1, i2, _, _ in matcher.get_opcodes():
                if tag != "equal":
                    lines.update(range(i1 + 1, max(i2, i1 + 1) + 1))
            return path, lines
    return None, set()


def function_lines(source, lines):
    """Every line of the innermost functions whose signature or decorators hold ``lines``."""
    spans = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            head = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if any(head <= line < node.body[0].lineno for line in lines):
                spans.update(range(node.body[0].lineno, node.end_lineno + 1))
    return spans


def only_in_lambdas(old, new):
    """Whether the two sources differ only inside lambda bodies: a body runs when the lambda is
    called, so its line's test contexts are exact even where the line also ran at import."""
    def stripped(source):
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Lambda):
                node.body = ast.Constant(None)
        return ast.dump(tree)
    return stripped(old) == stripped(new)


def main():
    sep = sys.argv.index("--")
    pristine, coverage_file = Path(sys.argv[1]).resolve(), sys.argv[2]
    args = sys.argv[sep + 1:]
    scope = [a for a in args if not a.startswith("-") and Path(a).exists()]  # `specs`, a file
    ignored = [a.split("=", 1)[1] for a in args if a.startswith("--ignore=")]
    path, lines = changed_lines(pristine)
    if path is None:
        print("no engine file differs from the pristine copy")
        return 0
    data = CoverageData(coverage_file)
    data.read()
    measured = [f for f in data.measured_files() if f.endswith("/" + path.as_posix())]
    contexts = data.contexts_by_lineno(measured[0]) if measured else {}
    items = {c for line in lines for c in contexts.get(line, []) if c}
    in_lambda = only_in_lambdas((pristine / path).read_text(), path.read_text())
    if not items and not in_lambda and any("" in contexts.get(line, []) for line in lines):
        body = function_lines((pristine / path).read_text(), lines)
        items = {c for line in body for c in contexts.get(line, []) if c}
        if not body:  # a module-level statement: every item may depend on it
            items = set(data.measured_contexts())
    items = sorted({c.split("|")[0] for c in items if c and in_scope(c, scope, ignored)})
    print(f"{path} lines {sorted(lines)}: {len(items)} test items execute them", flush=True)
    if not items:
        return 0
    few = ["-n", "0"] if len(items) < 20 else []  # not worth starting xdist workers
    pytest_args = [a for a in args if a not in scope] + few
    return subprocess.run([sys.executable, "-m", "pytest", *pytest_args, *items]).returncode


def in_scope(node_id, scope, ignored):
    """Whether the suite `pytest SCOPE --ignore=IGNORED` collects this item."""
    def under(paths):
        return any(node_id.startswith(p.rstrip("/") + ("::" if p.endswith(".yaml") else "/"))
                   for p in paths)
    return under(scope) and not under(ignored)


if __name__ == "__main__":
    sys.exit(main())
