"""report.md, a homework-style report rendered from a run's report.json (settings, results,
the derivation check, every picture, notes); `python -m models.report DIR...` rebuilds it."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

METRICS = ("loss", "accuracy")
SPLITS = ("train", "val", "test")


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.4f}" if 1e-3 <= abs(value) < 1e4 else f"{value:.4g}"
    return str(value)


def _table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return lines + [""]


def text_table(columns: list[str], rows: list[list[Any]], indent: str = "  ") -> str:
    """The same table as plain aligned text, for the console."""
    cells = [columns] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(columns))]
    lines = [indent + "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()
             for row in cells]
    lines.insert(1, indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _settings(report: dict) -> list[str]:
    rows = [["dataset", report.get("dataset")]]
    rows += [[k, report.get(k)] for k in ("n_train", "n_val", "n_test") if k in report]
    rows += [[k, v] for k, v in sorted(report.get("hyperparameters", {}).items())]
    return ["## Settings", ""] + _table(["setting", "value"], rows)


def _results(report: dict) -> list[str]:
    rows = [[split] + [report.get(f"{split}_{m}") for m in METRICS] for split in SPLITS
            if any(f"{split}_{m}" in report for m in METRICS)]
    lines = ["## Results", ""]
    if rows:
        lines += _table(["split", report.get("loss_name", "cross-entropy"), "accuracy"], rows)
    facts = [("epochs run", "epochs_run"), ("stopped early at epoch", "stopped_early_at"),
             ("best epoch", "best_epoch"), ("training time (s)", "training_seconds"),
             ("total time (s)", "seconds")]
    lines += [f"- {label}: {_fmt(report[key])}" for label, key in facts if key in report]
    return lines + [""]


def _extra_tables(report: dict) -> list[str]:
    lines: list[str] = []
    for title, table in report.get("tables", {}).items():
        lines += [f"## {title}", ""] + _table(table["columns"], table["rows"])
    return lines


def _derivation(report: dict) -> list[str]:
    check = report.get("derivation_check")
    if not check:
        return []
    lines = ["## Derivation check: autodiff against the hand formula", ""]
    if isinstance(check, dict):
        lines += [f"- {k}: {_fmt(v)}" for k, v in check.items()]
    else:
        lines.append(str(check))
    return lines + [""]


def _pictures(report: dict) -> list[str]:
    lines: list[str] = []
    for pic in report.get("pictures", []):
        lines += [f"### {pic['caption']}", "", f"![{pic['caption']}]({pic['file']})", ""]
    return (["## Pictures", ""] + lines) if lines else []


def render(report: dict) -> str:
    """The markdown of a run's report (renders on GitHub, converts with pandoc)."""
    title = report.get("title") or f"{report.get('model', 'model')}: homework report"
    lines = [f"# {title}", ""]
    if report.get("summary"):
        lines += [report["summary"], ""]
    lines += _settings(report) + _results(report) + _extra_tables(report)
    lines += _derivation(report) + _pictures(report)
    notes = report.get("notes", [])
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m models.report", description=__doc__)
    p.add_argument("runs", nargs="+", help="run folders holding report.json")
    for folder in map(Path, p.parse_args(argv).runs):
        source = folder / "report.json"
        if not source.is_file():
            raise SystemExit(f"models.report: {source} does not exist (run the model first)")
        (folder / "report.md").write_text(render(json.loads(source.read_text())))
        print(f"rebuilt {folder / 'report.md'}")


if __name__ == "__main__":
    main()
