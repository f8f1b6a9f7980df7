"""Mutation testing of the engine against the spec suite (``tox -e mutation``).

    python mutation/run.py [--sample N] [--seed S] [--workdir DIR] [--session FILE] [--with-opinfo]

cosmic-ray mutates files in place, so this copies the repository to ``--workdir`` and installs the
copy in editable mode into the running interpreter's environment (the tox env), so the spec suite
imports the mutated engine and the working tree is never touched. Then ``cosmic-ray init`` with
mutation/cosmic-ray.toml (the mutated modules and the per-mutant test command), optionally keeps a
reproducible random sample of ``N`` mutants (mutation/sample.py), ``cosmic-ray exec`` and prints
``cr-report`` and the score. The session database (``--session``, default
reports/mutation.sqlite) keeps every result and diff; re-running resumes pending mutants.
``--with-opinfo`` runs each mutant against the specs and the OpInfo corpus's CI subset
(specs/opinfo.yaml): the difference from a run without it, on the same sample and seed, is what
the corpus adds (use another ``--session`` for each).
"""

import argparse
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*cmd, cwd):
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=cwd, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=0, help="test only N random mutants (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/parity-mutation"))
    ap.add_argument("--session", type=Path, default=ROOT / "reports" / "mutation.sqlite")
    ap.add_argument("--with-opinfo", action="store_true",
                    help="kill mutants with the OpInfo corpus's CI subset too")
    args = ap.parse_args()

    work = args.workdir / "repo"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns(
        ".git", ".tox", "reports", "__pycache__", "*.egg-info", ".hypothesis", ".pytest_cache"))
    run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", work, cwd=work)
    # the suite must pass on the unmutated copy, or every mutant would count as killed
    config = work / "mutation" / "cosmic-ray.toml"
    if args.with_opinfo:  # the copy's test command keeps the corpus (specs/opinfo.yaml)
        config.write_text(config.read_text().replace(" --ignore=specs/opinfo.yaml", ""))
    session = args.session.resolve()
    session.parent.mkdir(parents=True, exist_ok=True)
    run(BIN / "cosmic-ray", "baseline", config, cwd=work)
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
    incompetent = counts.get("INCOMPETENT", 0)
    tested = killed + survived + incompetent
    print(f"\nmutants tested: {tested}, killed: {killed} (timeouts count as killed), "
          f"survived: {survived}, incompetent: {incompetent}")
    if killed + survived:
        print(f"raw mutation score: {killed / (killed + survived):.1%} "
              "(see docs/mutation.md for the equivalent survivors)")
    print("survivors: cr-report --show-diff", session, "| or sqlite3 work_results where "
          "test_outcome='SURVIVED'")


if __name__ == "__main__":
    main()
