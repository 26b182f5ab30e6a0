"""The subprocess that grades one submission (started by runner.grade, in a fresh working
directory and with resource limits):

    python -m tinygrad_hw.grading.worker ASSIGNMENT SUBMISSION PROGRESS_JSON OUTPUT_BYTES

It loads the submission (a .py file, or a notebook's code cells in order), runs every
check on it, and rewrites PROGRESS_JSON after each step, so that a timeout or a crash still
leaves what was done."""

from __future__ import annotations

import json
import linecache
import os
import re
import sys
import time
import traceback
import types
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .checks import Check, load_assignment
from .results import TestResult


class MissingName(AttributeError):
    """The submission does not define a name a check asked for."""


class Submission:
    """The student's definitions, as a module: sub.sigmoid_backward. A missing name raises
    MissingName ("hw1.py defines no sigmoid_backward")."""

    def __init__(self, namespace: dict[str, Any], filename: str) -> None:
        self._namespace, self._filename = namespace, filename

    def __getattr__(self, name: str) -> Any:
        try:
            return self._namespace[name]
        except KeyError:
            raise MissingName(f"{self._filename} defines no {name}") from None

    def __dir__(self) -> list[str]:
        return sorted(k for k in self._namespace if not k.startswith("__"))


def notebook_cells(path: Path) -> list[tuple[str, str]]:
    """(label, source) of each code cell of a notebook, in order; IPython's % and ! lines
    become `pass` (they are not Python)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = [c for c in nb["cells"] if c.get("cell_type") == "code"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path.name} is not a readable Jupyter notebook ({e})") from None
    out = []
    for i, cell in enumerate(cells, start=1):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        out.append((f"{path.name} [cell {i}]", re.sub(r"^(\s*)[%!].*$", r"\1pass", source,
                                                        flags=re.M)))
    return out


def load_submission(path: Path) -> tuple[dict[str, Any], list[str], set[str]]:
    """The submission's namespace, messages about its loading (a cell or an import that
    failed), and the file names its code has in tracebacks."""
    module = types.ModuleType("submission")
    module.__file__ = str(path)
    sys.modules["submission"] = module
    try:
        parts = (notebook_cells(path) if path.suffix == ".ipynb"
                 else [(path.name, path.read_text(encoding="utf-8"))])
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return module.__dict__, [f"could not read {path.name}: {e}"], set()
    messages, files = [], {label for label, _ in parts}
    for label, source in parts:
        linecache.cache[label] = (len(source), None, source.splitlines(True), label)
        try:
            exec(compile(source, label, "exec"), module.__dict__)
        except SystemExit as e:
            messages.append(f"{label} called sys.exit({e.code!r}) while it was loaded; the "
                            f"checks ran on what it had defined by then")
        except Exception as e:  # noqa: BLE001 - a student's error of any kind is reported
            where = "failed" if path.suffix == ".ipynb" else "raised an error while it was loaded"
            messages.append(f"{label} {where}: {student_error(e, files)}")
    return module.__dict__, messages, files


def student_error(e: BaseException, files: set[str]) -> str:
    """'ValueError: ...' and the traceback lines in the student's own code (the grader's and
    the libraries' frames left out); follows a chained cause into the student's code."""
    chain, seen = [], set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        chain.append(e)
        e = e.__cause__ or e.__context__
    for exc in reversed(chain):  # the innermost exception with a frame in the student's code
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in files]
        if frames:
            lines = [f"{type(exc).__name__}: {exc}"]
            for f in frames:
                lines.append(f"  {f.filename}, line {f.lineno}, in {f.name}")
                if f.line:
                    lines.append(f"    {f.line}")
            return "\n".join(lines)
    return f"{type(chain[0]).__name__}: {chain[0]}"


def diagnosis_of(message: str) -> str:
    """The short reason of a failed check, to count in the class summary: the derivation
    checker's diagnosis ("a flipped sign", "missing factor 2") if there is one, else the
    message's first line, up to its first colon or parenthesis."""
    found = re.search(r"diagnosis: (.+)", message)
    text = found.group(1) if found else (message.strip().splitlines() or ["failed"])[0]
    parts = text.split(": ")
    # "your gradient is 0.5 x autodiff's: a missing factor 2: ..." names the slip second
    text = parts[1] if text.startswith("your gradient is") and len(parts) > 1 else parts[0]
    text = re.split(r";| \(", text, maxsplit=1)[0].strip()
    return text if len(text) <= 80 else text[:77] + "..."


class CappedStream:
    """stdout for the submission: passes at most `limit` bytes through, then drops the rest
    (so a print in a loop cannot fill the disk or stall the grader) and remembers it did."""

    def __init__(self, stream: Any, limit: int) -> None:
        self.stream, self.left, self.dropped = stream, limit, 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8", "replace")
        if len(data) > self.left:
            self.dropped += len(data) - max(self.left, 0)
            data = data[:max(self.left, 0)]
        self.left -= len(data)
        if data:
            self.stream.buffer.write(data)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False


def run_check(c: Check, sub: Submission, files: set[str]) -> TestResult:
    result = TestResult(c.name, 0.0, c.points, visibility=c.visibility)
    try:
        got = c.fn(sub)
    except MissingName as e:
        result.output, result.diagnosis = str(e), "missing definition"
    except AssertionError as e:
        result.output = str(e) or "the check failed"
        result.diagnosis = diagnosis_of(result.output)
    except SystemExit as e:
        result.output = f"your code called sys.exit({e.code!r}) during this check"
        result.diagnosis = "called sys.exit"
    except Exception as e:  # noqa: BLE001
        error = student_error(e, files)
        result.output = f"your code raised {error}"
        result.diagnosis = f"raised {error.split(':')[0]}"
    else:
        fraction = 1.0 if got is None else got
        if isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], str):
            fraction, result.output = got  # partial credit with its reason
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or \
                not 0 <= fraction <= 1:
            result.output = (f"(grader problem) the check returned {got!r}: a check returns "
                             f"None, or the fraction of its points earned in [0, 1], or "
                             f"(fraction, message)")
            result.diagnosis = "check returned a bad value"
        else:
            result.score = round(c.points * float(fraction), 6)
            if fraction < 1:
                result.diagnosis = "partial credit"
    return result


def main(argv: list[str]) -> int:
    assignment, submission, progress_file, output_limit = argv
    progress: dict[str, Any] = {"messages": [], "tests": [], "current": None, "loaded": False,
                                "dropped": 0}
    sys.stdout = CappedStream(sys.__stdout__, int(output_limit))
    sys.stderr = sys.stdout

    def save() -> None:
        progress["dropped"] = sys.stdout.dropped
        tmp = progress_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(progress, f)
        os.replace(tmp, progress_file)

    save()
    checks = load_assignment(assignment)
    path = Path(submission)
    namespace, progress["messages"], files = load_submission(path)
    progress["loaded"] = True
    sub = Submission(namespace, path.name)
    for c in checks:
        progress["current"] = c.name
        save()
        began = time.perf_counter()
        result = run_check(c, sub, files)
        progress["tests"].append({**asdict(result), "seconds": time.perf_counter() - began})
    progress["current"] = None
    save()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
