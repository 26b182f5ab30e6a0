"""Checks with points, and the assignment file that holds them."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")


@dataclass(frozen=True)
class Check:
    """One graded check: fn(sub) passes by returning None (full points); it may return the
    fraction of its points earned, in [0, 1], or (fraction, message) to say why; an
    AssertionError fails it with its message as the feedback."""

    fn: Callable[[Any], Any]
    points: float
    name: str
    visibility: str = "visible"


def check(points: float, name: str | None = None,
          visibility: str = "visible") -> Callable[[Callable], Callable]:
    """Mark fn(sub) as a check worth `points` (name: what the student sees, by default the
    function's name; visibility: Gradescope's visible / hidden / after_due_date /
    after_published)."""
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
        raise ValueError(f"check: points must be a number >= 0, got {points!r}")
    if visibility not in VISIBILITY:
        raise ValueError(f"check: visibility must be one of {VISIBILITY}, got {visibility!r}")

    def mark(fn: Callable) -> Callable:
        fn.__grading_check__ = Check(fn, float(points), name or fn.__name__, visibility)
        return fn

    return mark


def load_assignment(path: str | Path) -> list[Check]:
    """The checks of an assignment file, in the order they are defined."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"assignment {path} does not exist")
    spec = importlib.util.spec_from_file_location(f"_assignment_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    checks = [f.__grading_check__ for f in vars(module).values()
              if callable(f) and isinstance(getattr(f, "__grading_check__", None), Check)]
    if not checks:
        raise ValueError(f"assignment {path} defines no check (decorate functions with "
                         f"@check(points=...) from tinygrad_hw.grading)")
    names = [c.name for c in checks]
    if len(set(names)) != len(names):
        raise ValueError(f"assignment {path}: two checks are named "
                         f"{next(n for n in names if names.count(n) > 1)!r}")
    return checks
