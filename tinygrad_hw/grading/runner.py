"""Grading submissions: each in its own subprocess (tinygrad_hw.grading.worker) with a
wall-clock timeout, a memory limit, a cap on what it may print, and a fresh temporary
working directory. These limits stop accidents (an infinite loop, a huge array, a print in
a loop), not attacks: run untrusted code inside a container."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from .checks import load_assignment
from .results import SubmissionResult, TestResult

SHOWN_OUTPUT = 2000  # characters of what a submission printed, shown with its result


def submissions_in(paths: Iterable[str | Path]) -> list[Path]:
    """The submissions named: files as they are, folders as their .py and .ipynb files."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(q for q in p.iterdir() if q.suffix in (".py", ".ipynb"))
        elif p.is_file():
            found.append(p)
        else:
            raise FileNotFoundError(f"submission {p} does not exist")
    return found


def grade_all(assignment: str | Path, submissions: Iterable[str | Path], timeout: float = 60,
              memory_mb: int = 2048, output_mb: int = 16) -> list[SubmissionResult]:
    """grade() for every submission file, and every .py / .ipynb in a folder given."""
    return [grade(assignment, s, timeout, memory_mb, output_mb)
            for s in submissions_in(submissions)]


def grade(assignment: str | Path, submission: str | Path, timeout: float = 60,
          memory_mb: int = 2048, output_mb: int = 16) -> SubmissionResult:
    """Run every check of `assignment` on `submission` (.py or .ipynb) in a subprocess with
    `timeout` seconds of wall-clock time, `memory_mb` of address space and `output_mb` of
    printed output. Whatever the submission does, a result comes back: checks it never
    reached fail with the reason (timeout, crash, memory)."""
    checks = load_assignment(assignment)  # here too: a broken assignment fails loudly, once
    submission = Path(submission)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as work, tempfile.TemporaryDirectory() as private:
        progress_file = Path(private) / "progress.json"
        printed = Path(private) / "printed.txt"
        cmd = [sys.executable, "-m", "tinygrad_hw.grading.worker",
               str(Path(assignment).resolve()),
               str(submission.resolve()), str(progress_file), str(output_mb * 2**20)]
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
        with printed.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=work, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True,
                                    preexec_fn=_limits(memory_mb, output_mb))
            try:
                code = proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                code, timed_out = proc.wait(), True
        progress = _read(progress_file)
        shown, size = _shown(printed)
    result = SubmissionResult(str(submission), execution_time=time.perf_counter() - began)
    done = {t["name"]: t for t in progress.get("tests", [])}
    stop = _stop_reason(code, timed_out, timeout, memory_mb, output_mb, progress, shown)
    messages = list(progress.get("messages", []))
    if stop and not progress.get("loaded"):
        messages.append(f"{submission.name}: {stop} while it was being loaded")
    for c in checks:
        if c.name in done:
            t = done[c.name]
            result.tests.append(TestResult(t["name"], t["score"], t["max_score"], t["output"],
                                           t["visibility"], t["diagnosis"]))
            continue
        here = c.name == progress.get("current")
        why = (f"{stop} during this check" if here else
               f"not run: the submission {stop} earlier") if stop else "not run"
        result.tests.append(TestResult(c.name, 0.0, c.points, why, c.visibility,
                                       _short(stop) if stop else "not run"))
    if size:
        dropped = progress.get("dropped", 0)
        kept = f" (only the first {output_mb} MB were kept)" if dropped else ""
        more = f"; the first {SHOWN_OUTPUT:,} characters:" if size > SHOWN_OUTPUT else ":"
        messages.append(f"{submission.name} printed {_bytes(size + dropped)}{kept}{more}\n"
                        + shown)
    result.output = "\n\n".join(messages)
    return result


def _limits(memory_mb: int, output_mb: int):
    def apply() -> None:
        import resource

        mem = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        out = 4 * output_mb * 2**20  # a backstop: the worker itself drops output above output_mb
        resource.setrlimit(resource.RLIMIT_FSIZE, (out, out))

    return apply


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _shown(printed: Path) -> tuple[str, int]:
    size = printed.stat().st_size if printed.exists() else 0
    with printed.open("rb") as f:
        head = f.read(SHOWN_OUTPUT)
    return head.decode("utf-8", "replace"), size


def _stop_reason(code: int, timed_out: bool, timeout: float, memory_mb: int, output_mb: int,
                 progress: dict, printed: str) -> str:
    """Why the worker stopped before the end ('' when it finished)."""
    if timed_out:
        return f"timed out after {timeout:g} s (an infinite loop?)"
    if code == -signal.SIGXFSZ:
        return f"printed more than {output_mb} MB and was stopped"
    if progress.get("loaded") and progress.get("current") is None and code == 0:
        return ""
    if "MemoryError" in printed or code in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
        return (f"stopped ({_signal_name(code)}); it may have run out of memory "
                f"(limit {memory_mb} MB)")
    if not progress:
        tail = printed.strip().splitlines()[-1:] or ["no output"]
        return f"could not be graded: the grader's process failed ({tail[0]})"
    return f"stopped with exit status {code} (os._exit?)"


def _signal_name(code: int) -> str:
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            pass
    return f"exit status {code}"


def _short(stop: str) -> str:
    return stop.split(" (")[0].split(";")[0]


def _bytes(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n:,} bytes"
