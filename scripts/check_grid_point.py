"""Check rows of a grid search against single runs: for sampled rows of DIR/results.csv (and
the best row), run `python -m models.softmax_regression` with that row's flags and compare
its validation loss with the row's (they must agree to 1e-4).

    .venv/bin/python scripts/check_grid_point.py runs/grid --points 3
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

TOLERANCE = 1e-4


def single_run(row: dict, report: dict, out: Path) -> float:
    flags = ["--dataset", report["dataset"], "--optimizer", "sgd", "--schedule", "constant",
             "--init", "zeros", "--val-split", str(report["val_split"]),
             "--epochs", row["epochs"], "--lr", row["lr"], "--l2", row["l2"],
             "--batch-size", row["batch_size"], "--seed", str(report["seed"]),
             "--out", str(out), "--no-progress", "--compile"]
    subprocess.run([sys.executable, "-m", "models.softmax_regression", *flags], check=True,
                   stdout=subprocess.DEVNULL, cwd=Path(__file__).resolve().parent.parent)
    return json.loads((out / "report.json").read_text())["val_loss"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir", type=Path, help="the grid search's --out folder")
    p.add_argument("--points", type=int, default=3, help="rows to sample besides the best")
    p.add_argument("--seed", type=int, default=0, help="which rows are sampled")
    args = p.parse_args(argv)
    report = json.loads((args.dir / "report.json").read_text())
    with (args.dir / "results.csv").open() as f:
        table = [r for r in csv.DictReader(f) if np.isfinite(float(r["val_loss"]))]
    pick = np.random.default_rng(args.seed).choice(len(table), args.points, replace=False)
    best = {k: str(v) for k, v in report["best"].items()}
    rows = [best] + [table[i] for i in sorted(pick)]
    failed = 0
    print("epochs  lr        l2        batch  grid val_loss  single run  |difference|")
    for row in rows:
        with tempfile.TemporaryDirectory() as tmp:
            single = single_run(row, report, Path(tmp))
        diff = abs(single - float(row["val_loss"]))
        failed += diff > TOLERANCE
        print(f"{row['epochs']:>6}  {row['lr']:<8}  {row['l2']:<8}  {row['batch_size']:>5}  "
              f"{float(row['val_loss']):13.6f}  {single:10.6f}  {diff:.2e}"
              + ("  MISMATCH" if diff > TOLERANCE else ""))
    print(f"{len(rows) - failed} of {len(rows)} rows agree to {TOLERANCE}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
