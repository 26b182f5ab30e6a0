"""Command-line plumbing shared by the course models: argparse types that refuse nonsense
with one sentence naming the allowed range, the help format (every default shown), the
check that --out can be written, and clearing the files a previous run left in it."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter,
                    argparse.RawDescriptionHelpFormatter):
    """The description as written (the model's docstring), and every default shown."""


def ranged(kind: type, low: float | None = None, high: float | None = None, *,
           low_open: bool = False, high_open: bool = False) -> Callable[[str], float]:
    """An argparse type: `kind` (int or float) within [low, high] (open ends where asked);
    anything else is refused with the allowed range, e.g. "must be > 0, got -1"."""
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    noun = "an integer" if kind is int else "a number"
    allowed = f"{noun} {' and '.join(parts)}" if parts else noun

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}") from None
        bad = not math.isfinite(value)
        if low is not None:
            bad |= value <= low if low_open else value < low
        if high is not None:
            bad |= value >= high if high_open else value > high
        if bad:
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text}")
        return value

    parse.__name__ = allowed  # what argparse calls the type in its own messages
    return parse


POSITIVE_INT = ranged(int, 1)
NONNEGATIVE_INT = ranged(int, 0)
POSITIVE = ranged(float, 0, low_open=True)
NONNEGATIVE = ranged(float, 0)
FRACTION = ranged(float, 0, 1, high_open=True)  # [0, 1)


def fail(prog: str, message: str) -> None:
    """One line on stderr and exit status 1 (a problem outside the flags, e.g. --out)."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    raise SystemExit(1)


def prepare_out(out: Path, prog: str, keep: tuple[str, ...] = ()) -> None:
    """Make sure `out` is a folder this run can write into (one line and exit 1 if not),
    and remove the files an earlier run recorded in its report.json, except `keep`, so no
    stale picture of another run is left beside the new report."""
    above = next((a for a in (out, *out.parents) if a.exists()), None)
    if above is not None and not above.is_dir():
        where = "is a file" if above == out else f"is below the file {above}"
        fail(prog, f"cannot write into --out {out}: it {where}, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        fail(prog, f"cannot write into --out {out}: {e.strerror or e}")
    old = out / "report.json"
    if not old.is_file():
        return
    try:
        previous = json.loads(old.read_text())
        files = previous.get("files") or _guess_files(previous)
    except (OSError, ValueError, AttributeError):
        return  # not a report of ours: leave everything alone
    removed = 0
    for name in files:
        path = out / str(name)
        if name in keep or path.parent != out or not path.is_file():
            continue  # only plain files this run's predecessor wrote, never a subfolder
        path.unlink()
        removed += 1
    if removed:
        print(f"{out}: removed the {removed} files of the previous run "
              f"({previous.get('model', 'unknown model')})")


RUN_FILES = ("report.json", "report.md", "graph.dot", "graph.svg", "graph.png")


def _guess_files(report: dict) -> list[str]:
    """The files of a report written before reports listed them."""
    return [p["file"] for p in report.get("pictures", [])] + list(RUN_FILES)


def written_files(out: Path, report: dict, extra: tuple[str, ...] = ()) -> list[str]:
    """The files of this run in `out` (for the next run's prepare_out)."""
    names = {*RUN_FILES, *extra} | {p["file"] for p in report.get("pictures", [])}
    return sorted(n for n in names if n in ("report.json", "report.md") or (out / n).is_file())


def command(main: Callable[[], object]) -> None:
    """Run a model's main() as a command. A Ctrl-C that the model could not turn into a
    report (before the first checkpoint, or in a model without one) ends with one line and
    exit status 130 instead of a traceback."""
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted before a report could be written", file=sys.stderr)
        raise SystemExit(130) from None
