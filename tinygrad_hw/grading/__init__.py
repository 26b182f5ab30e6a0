"""Grading a class with the derivation checker: an assignment is a Python file of checks
with points (`@check`), a submission a student's .py file or Jupyter notebook. Each
submission runs in its own subprocess with a time limit, a memory limit and a fresh working
directory; a wrong gradient fails its check with the diagnosis as feedback.

    from tinygrad_hw.grading import check

    @check(points=2, name="sigmoid backward")
    def sigmoid_backward(sub):
        tg.testing.check_backward(tg.sigmoid, sub.sigmoid_backward)

`python -m tinygrad_hw.grading ASSIGNMENT SUBMISSION...` grades from the command line
(docs/grading.md)."""

from .checks import Check, check, load_assignment
from .results import SubmissionResult, TestResult
from .runner import grade, grade_all

__all__ = ["Check", "SubmissionResult", "TestResult", "check", "grade", "grade_all",
           "load_assignment"]
