"""What grading gives: one TestResult per check, one SubmissionResult per submission, and
their Gradescope, JSON and CSV forms."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class TestResult:
    """One check of one submission. diagnosis: a short label of why it failed (the slip the
    derivation checker named, "timed out", "your code raised KeyError", ...), '' if passed."""

    name: str
    score: float
    max_score: float
    output: str = ""
    visibility: str = "visible"
    diagnosis: str = ""

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score


@dataclass
class SubmissionResult:
    """All checks of one submission; output: what happened while loading it (a cell that
    failed, a crash at import, a timeout), shown to the student above the checks."""

    submission: str
    tests: list[TestResult] = field(default_factory=list)
    output: str = ""
    execution_time: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 6)

    def gradescope(self) -> dict[str, Any]:
        """Gradescope's results.json."""
        return {"score": self.score, "execution_time": round(self.execution_time, 3),
                "output": self.output,
                "tests": [{"name": t.name, "score": t.score, "max_score": t.max_score,
                           "output": t.output, "visibility": t.visibility}
                          for t in self.tests]}

    def to_dict(self) -> dict[str, Any]:
        return {"submission": self.submission, "score": self.score,
                "max_score": self.max_score, "execution_time": self.execution_time,
                "output": self.output, "tests": [asdict(t) for t in self.tests]}
