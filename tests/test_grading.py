"""The grader: checks with points, submissions in their own subprocess, and a result for
anything a submission does (wrong, missing, crashing, looping, exiting, printing, hogging
memory, a notebook with a failing cell), in Gradescope's format, as JSON and as a class
summary."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tinygrad_hw.grading import check, grade, load_assignment
from tinygrad_hw.grading.__main__ import main as cli

ASSIGNMENT = '''
import tinygrad_hw as tg
from tinygrad_hw.grading import check

@check(points=2, name="sigmoid backward")
def sigmoid_backward(sub):
    tg.testing.check_backward(tg.sigmoid, sub.sigmoid_backward)

@check(points=1, name="tanh backward")
def tanh_backward(sub):
    tg.testing.check_backward(tg.tanh, sub.tanh_backward)

@check(points=4, name="half credit")
def half(sub):
    return 0.5 if sub.ANSWER == 41 else None
'''
GOOD = '''
def sigmoid_backward(g, out, x):
    return g * out * (1 - out)

def tanh_backward(g, out, x):
    return g * (1 - out ** 2)

ANSWER = 42
'''
SUBMISSIONS = {
    "good.py": GOOD,
    "sign.py": GOOD.replace("return g * out * (1 - out)", "return -g * out * (1 - out)"),
    "partial.py": GOOD.replace("ANSWER = 42", "ANSWER = 41"),
    "missing.py": GOOD.replace("def tanh_backward", "def tanh_backwards"),
    "raises.py": GOOD.replace("return g * (1 - out ** 2)", "raise ValueError('not yet')"),
    "loop.py": "while True:\n    pass\n",
    "import_crash.py": "import numpy as np\nx = np.undefined_thing\n" + GOOD,
    "exits.py": GOOD + "\nimport sys\nsys.exit(3)\n",
    "printer.py": GOOD.replace("return g * out * (1 - out)",
                               "print('x' * 1_000_000)\n    return g * out * (1 - out)"),
    "memory.py": GOOD.replace("return g * (1 - out ** 2)",
                              "big = [bytearray(10**8) for _ in range(40)]\n    return g"),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    (root / "assignment.py").write_text(ASSIGNMENT)
    subs = root / "submissions"
    subs.mkdir()
    for name, text in SUBMISSIONS.items():
        (subs / name).write_text(text)
    cells = [new_code_cell("%matplotlib inline\nimport numpy as np"),
             new_code_cell(GOOD.split("def tanh")[0]), new_code_cell("print(undefined_name)"),
             new_code_cell("def tanh_backward(g, out, x):\n    return g * (1 - out ** 2)"),
             new_code_cell("ANSWER = 42")]
    nbformat.write(new_notebook(cells=cells), subs / "notebook.ipynb")
    return root


def _grade(folder, name, **kw):
    return grade(folder / "assignment.py", folder / "submissions" / name, **kw)


def _by_name(result):
    return {t.name: t for t in result.tests}


def test_a_right_submission_gets_every_point(folder):
    r = _grade(folder, "good.py")
    assert (r.score, r.max_score) == (7, 7) and r.output == ""


def test_a_wrong_gradient_fails_with_the_diagnosis(folder):
    t = _by_name(_grade(folder, "sign.py"))["sigmoid backward"]
    assert t.score == 0 and "a flipped sign" in t.output and t.diagnosis == "a flipped sign"


def test_partial_credit_is_a_fraction_of_the_points(folder):
    r = _grade(folder, "partial.py")
    assert _by_name(r)["half credit"].score == 2 and r.score == 5


def test_a_missing_function_is_one_failed_check(folder):
    t = _by_name(_grade(folder, "missing.py"))["tanh backward"]
    assert t.output == "missing.py defines no tanh_backward" and t.score == 0


def test_an_exception_shows_the_students_own_traceback(folder):
    t = _by_name(_grade(folder, "raises.py"))["tanh backward"]
    assert t.output.startswith("your code raised ValueError: not yet")
    assert "raises.py, line 6, in tanh_backward" in t.output
    assert "instructor.py" not in t.output  # the grader's and library's frames are left out


def test_an_infinite_loop_times_out_and_the_grader_goes_on(folder):
    r = _grade(folder, "loop.py", timeout=5)
    assert r.score == 0 and "timed out after 5 s" in r.output
    assert all("timed out" in t.output for t in r.tests)


def test_a_crash_at_import_is_reported_and_what_was_defined_is_graded(folder):
    r = _grade(folder, "import_crash.py")
    assert "import_crash.py raised an error while it was loaded: AttributeError" in r.output
    assert all(t.diagnosis == "missing definition" for t in r.tests)


def test_sys_exit_does_not_stop_the_grader(folder):
    r = _grade(folder, "exits.py")
    assert "called sys.exit(3)" in r.output and r.score == 7


def test_megabytes_of_printing_are_cut(folder):
    r = _grade(folder, "printer.py", output_mb=1)
    assert r.score == 7 and "MB (only the first 1 MB were kept); the first 2,000" in r.output
    assert len(r.output) < 3000


def test_memory_hogs_fail_their_check_only(folder):
    r = _grade(folder, "memory.py", memory_mb=1024)
    tanh = _by_name(r)["tanh backward"]
    assert tanh.score == 0 and "MemoryError" in tanh.output + r.output
    assert _by_name(r)["sigmoid backward"].score == 2


def test_a_notebook_runs_its_code_cells_in_order_and_reports_failed_cells(folder):
    r = _grade(folder, "notebook.ipynb")
    assert r.score == 7
    assert "notebook.ipynb [cell 3] failed: NameError: name 'undefined_name'" in r.output


def test_gradescope_results_json(folder, tmp_path):
    out = tmp_path / "results" / "results.json"
    assert cli([str(folder / "assignment.py"), str(folder / "submissions" / "sign.py"),
                "--format", "gradescope", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["score"] == 5 and data["execution_time"] > 0
    assert [t["name"] for t in data["tests"]] == ["sigmoid backward", "tanh backward",
                                                 "half credit"]
    assert set(data["tests"][0]) == {"name", "score", "max_score", "output", "visibility"}


def test_a_class_folder_gives_grades_csv_and_a_summary(folder, tmp_path, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("good.py", "sign.py", "partial.py", "missing.py"):
        (subs / name).write_text(SUBMISSIONS[name])
    assert cli([str(folder / "assignment.py"), str(subs), "--out",
                str(tmp_path / "results.json"), "--format", "json"]) == 0
    rows = (tmp_path / "grades.csv").read_text().splitlines()
    assert rows[0] == "submission,sigmoid backward,tanh backward,half credit,total,max"
    assert "sign.py,0,1,4,5,7" in rows and len(rows) == 5
    out = capsys.readouterr().out
    assert "4 submissions" in out and "1 x sigmoid backward: a flipped sign" in out
    every = json.loads((tmp_path / "results.json").read_text())
    assert [r["submission"] for r in every] == ["good.py", "missing.py", "partial.py", "sign.py"]
    assert every[3]["score"] == 5 and every[3]["tests"][0]["max_score"] == 2


def test_bad_assignments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="points must be a number >= 0"):
        check(points=-1)
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(ValueError, match="defines no check"):
        load_assignment(empty)
