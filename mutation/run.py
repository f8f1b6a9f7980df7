"""Mutation testing of the engine against the spec suite (``tox -e mutation``).

    python mutation/run.py [--sample N] [--seed S] [--workdir DIR] [--session FILE] [--with-opinfo]
                           [--only-survivors-of FILE] [--covered] [--timeout SECONDS]

cosmic-ray mutates files in place, so this copies the repository to ``--workdir`` and installs the
copy in editable mode into the running interpreter's environment (the tox env), so the spec suite
imports the mutated engine and the working tree is never touched. Then ``cosmic-ray init`` with
mutation/cosmic-ray.toml (the mutated modules and the per-mutant test command), optionally keeps a
reproducible random sample of ``N`` mutants (mutation/sample.py), ``cosmic-ray exec`` and prints
``cr-report`` and the score. The session database (``--session``, default
reports/mutation.sqlite) keeps every result and diff; re-running resumes pending mutants.
``--with-opinfo`` runs each mutant against the specs and the OpInfo corpus's CI subset
(specs/opinfo.yaml): the difference from a run without it, on the same sample and seed, is what
the corpus adds (use another ``--session`` for each). ``--only-survivors-of FILE`` (with
``--with-opinfo``) takes FILE's kills as they are and runs only its survivors, against only the
corpus: the specs+OpInfo suite is a superset of the specs-alone one and deterministic (ci
profile), so a mutant the specs kill is killed by specs+OpInfo too, and a survivor passes the
specs; it can run beside FILE's own run and be re-run to catch up with it. ``--timeout``
overrides the per-mutant timeout (a larger suite on a loaded machine; a timeout is a kill).
``--covered`` runs the suite once on an unmutated copy under coverage with per-test contexts
(SESSION.coverage; this is the baseline) and then runs each mutant against only the items that
execute its changed lines (mutation/covered.py): the same verdicts, minutes instead of hours.
"""

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*cmd, cwd, env=None):
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, check=True)


def copy_repo(dest):
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(
        ".git", ".tox", "reports", "__pycache__", "*.egg-info", ".hypothesis", ".pytest_cache"))


def select_by_coverage(config_text, pristine, coverage):
    """The config with a test command that runs only the items executing the mutated lines
    (mutation/covered.py), after a run of the suite on an unmutated copy under coverage (the
    baseline: it must pass) unless ``coverage`` exists already."""
    copy_repo(pristine)
    command = re.search(r'(?m)^test-command = "python -m pytest (.*)"$', config_text).group(1)
    if not coverage.exists():  # in-process: coverage follows the test contexts, not a child's
        run(sys.executable, "-m", "pytest", *command.split(), "--parity-in-process",
            "--cov=engine", "--cov-context=test", "--cov-report=", cwd=pristine,
            env=dict(os.environ, COVERAGE_FILE=str(coverage), PYTHONPATH=str(pristine)))
    return config_text.replace(
        "python -m pytest ", f"python mutation/covered.py {pristine} {coverage} -- ")


WAITING = "waiting for the first pass"  # the output of a job the first pass has not run yet


def rerun_survivors(first, session):
    """Bring ``session`` up to date with ``first`` (the specs-alone pass): its kills and skips are
    copied, its survivors are pending here; a job ``first`` has not run yet waits (a SKIPPED
    result saying so, replaced by a re-run after ``first`` has run it), so this pass can run
    beside the first one and be resumed."""
    if not session.exists():
        shutil.copyfile(first, session)
        db = sqlite3.connect(session)
        with db:
            db.execute("delete from work_results where test_outcome = 'SURVIVED'")
            db.execute("insert into work_results (job_id, worker_outcome, output) select job_id, "
                       "'SKIPPED', ? from work_items where job_id not in "
                       "(select job_id from work_results)", (WAITING,))
    db = sqlite3.connect(session)
    with db:
        db.execute("attach database ? as first", (str(first),))
        db.execute("delete from work_results where output = ? and job_id in (select job_id "
                   "from first.work_results where worker_outcome != 'SKIPPED')", (WAITING,))
        db.execute("insert into work_results select * from first.work_results where "
                   "test_outcome != 'SURVIVED' and worker_outcome != 'SKIPPED' "
                   "and job_id not in (select job_id from work_results)")
    waiting = db.execute("select count(*) from work_results where output = ?",
                         (WAITING,)).fetchone()[0]
    db.close()
    print(f"{session.name}: {first.name}'s survivors are pending ({waiting} jobs wait for it)",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=0, help="test only N random mutants (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/parity-mutation"))
    ap.add_argument("--session", type=Path, default=ROOT / "reports" / "mutation.sqlite")
    ap.add_argument("--with-opinfo", action="store_true",
                    help="kill mutants with the OpInfo corpus's CI subset too")
    ap.add_argument("--only-survivors-of", type=Path, metavar="FILE",
                    help="start --session as a copy of this finished session, survivors pending")
    ap.add_argument("--covered", action="store_true",
                    help="run each mutant against only the items that execute its lines "
                         "(mutation/covered.py; needs pytest-cov)")
    ap.add_argument("--timeout", type=float, help="per-mutant timeout in seconds (config: 300)")
    args = ap.parse_args()

    work = args.workdir / "repo"
    copy_repo(work)
    run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", work, cwd=work)
    config = work / "mutation" / "cosmic-ray.toml"
    text = config.read_text()
    if args.with_opinfo:  # the copy's test command keeps the corpus (specs/opinfo.yaml)
        text = text.replace(" --ignore=specs/opinfo.yaml", "")
        if args.only_survivors_of:  # they pass the specs (deterministic): only the corpus can kill
            text = text.replace("python -m pytest specs ", "python -m pytest specs/opinfo.yaml ")
    if args.timeout:
        text = re.sub(r"(?m)^timeout = .*$", f"timeout = {args.timeout}", text)
    session = args.session.resolve()
    session.parent.mkdir(parents=True, exist_ok=True)
    if args.covered:
        text = select_by_coverage(text, args.workdir / "pristine", session.with_suffix(".coverage"))
    config.write_text(text)
    if not args.covered:  # (the coverage run is the baseline)
        # the suite must pass on the unmutated copy, or every mutant would count as killed
        run(BIN / "cosmic-ray", "baseline", config, cwd=work)
    if args.only_survivors_of:
        rerun_survivors(args.only_survivors_of.resolve(), session)
    if not session.exists():
        run(BIN / "cosmic-ray", "init", config, session, cwd=work)
        run(sys.executable, work / "mutation" / "sample.py", session, args.sample,
            "--seed", args.seed, cwd=work)
    run(BIN / "cosmic-ray", "exec", config, session, cwd=work)
    report = subprocess.run([str(BIN / "cr-report"), str(session)], cwd=work,
                            capture_output=True, text=True, check=False).stdout
    print("\n".join(report.splitlines()[-3:]))  # the per-job listing includes every skipped one

    db = sqlite3.connect(session)
    counts = dict(db.execute(
        "select test_outcome, count(*) from work_results where worker_outcome != 'SKIPPED' "
        "group by test_outcome").fetchall())
    killed, survived = counts.get("KILLED", 0), counts.get("SURVIVED", 0)
    timeouts = db.execute(
        "select count(*) from work_results where output = 'timeout'").fetchone()[0]
    incompetent = counts.get("INCOMPETENT", 0)
    tested = killed + survived + incompetent
    print(f"\nmutants tested: {tested}, killed: {killed} ({timeouts} by timeout), "
          f"survived: {survived}, incompetent: {incompetent}")
    if killed + survived:
        print(f"raw mutation score: {killed / (killed + survived):.1%} "
              "(see docs/mutation.md for the equivalent survivors)")
    print("survivors: cr-report --show-diff", session, "| or sqlite3 work_results where "
          "test_outcome='SURVIVED'")


if __name__ == "__main__":
    main()
