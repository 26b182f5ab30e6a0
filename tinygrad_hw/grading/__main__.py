"""python -m tinygrad_hw.grading ASSIGNMENT SUBMISSION... : grade submissions (.py files,
notebooks, or folders of them) against an assignment's checks. --out FILE (default
results.json) receives Gradescope's results.json (--format gradescope, one submission) or
a list with one such object per submission, each with its `submission` file name (--format
json). For more than one submission it also writes grades.csv beside FILE and prints a
summary of the class: scores, and how many students made each slip."""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

from .checks import load_assignment
from .results import SubmissionResult
from .runner import grade, submissions_in


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    parse.__name__ = kind.__name__
    return parse


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tinygrad_hw.grading", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("assignment", type=Path, help="the assignment file (checks with points)")
    p.add_argument("submissions", nargs="+", type=Path,
                   help=".py files, .ipynb notebooks, or folders of them")
    p.add_argument("--format", choices=["text", "gradescope", "json"], default="text",
                   help="text: only the lines printed per submission (default); gradescope: "
                        "Gradescope's results.json for one submission, in --out; json: a "
                        "list of those, one per submission, in --out")
    p.add_argument("--out", type=Path, default=Path("results.json"),
                   help="the results file (default results.json); grades.csv goes beside it")
    p.add_argument("--timeout", type=_positive(float), default=60.0,
                   help="seconds of wall-clock time per submission (default 60)")
    p.add_argument("--memory-mb", type=_positive(int), default=2048,
                   help="address-space limit per submission, in MB (default 2048)")
    args = p.parse_args(argv)
    try:
        load_assignment(args.assignment)
        files = submissions_in(args.submissions)
    except (FileNotFoundError, ValueError, SyntaxError) as e:
        p.error(str(e))
    if not files:
        p.error("no .py or .ipynb submission found in " + ", ".join(map(str, args.submissions)))
    if args.format == "gradescope" and len(files) != 1:
        p.error(f"--format gradescope grades one submission, got {len(files)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results = []
    for path in files:
        r = grade(args.assignment, path, args.timeout, args.memory_mb)
        results.append(r)
        print(f"{path.name}: {r.score:g} / {r.max_score:g}"
              + "".join(f"\n  - {t.name}: {t.score:g}/{t.max_score:g} {t.diagnosis}"
                        for t in r.tests if not t.passed))
    if args.format == "gradescope":
        _write(args.out, results[0].gradescope())
    elif args.format == "json":
        _write(args.out, [{"submission": Path(r.submission).name, **r.gradescope()}
                          for r in results])
    if len(results) > 1:
        grades = args.out.parent / "grades.csv"
        write_csv(grades, results)
        print(summary(results))
        print(f"grades: {grades}")
    return 0


def _write(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path}")


def write_csv(path: Path, results: list[SubmissionResult]) -> None:
    """One row per submission, one column per check, then the total."""
    names = [t.name for t in results[0].tests]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["submission", *names, "total", "max"])
        for r in results:
            scores = {t.name: t.score for t in r.tests}
            w.writerow([Path(r.submission).name, *(f"{scores[n]:g}" for n in names),
                        f"{r.score:g}", f"{r.max_score:g}"])


def summary(results: list[SubmissionResult]) -> str:
    """The class at a glance: per check the mean score and how many passed; the total's mean
    and median; and the diagnoses, most frequent first (each student counted once per
    check)."""
    n = len(results)
    lines = [f"{n} submissions", f"{'check':40s} {'max':>5s} {'mean':>6s} {'passed':>8s}"]
    for i, t0 in enumerate(results[0].tests):
        scores = [r.tests[i].score for r in results]
        passed = sum(r.tests[i].passed for r in results)
        lines.append(f"{t0.name[:40]:40s} {t0.max_score:5g} {statistics.mean(scores):6.2f} "
                     f"{passed:>3d} / {n}")
    totals = [r.score for r in results]
    lines.append(f"{'total':40s} {results[0].max_score:5g} {statistics.mean(totals):6.2f}   "
                 f"median {statistics.median(totals):g}")
    slips = Counter((t.name, t.diagnosis) for r in results for t in r.tests
                    if t.diagnosis and t.diagnosis != "partial credit")
    if slips:
        lines.append("most common slips:")
        lines += [f"  {count:3d} x {name}: {why}" for (name, why), count in slips.most_common()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
