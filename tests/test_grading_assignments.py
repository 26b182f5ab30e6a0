"""The example assignments in assignments/ graded by tinygrad_hw.grading: each reference
solution gets full marks, each wrong submission its expected score, and a few the expected
failing checks and diagnosis in their feedback. The submissions are graded in parallel
(each grade() is a subprocess), once per session."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tinygrad_hw.grading import grade

ASSIGNMENTS = Path(__file__).resolve().parent.parent / "assignments"

# (assignment folder, submission path relative to it) -> expected total score out of 10
EXPECTED = {
    ("backward_formulas", "solution.py"): 10,
    ("backward_formulas", "submissions/tanh_sign.py"): 8,
    ("backward_formulas", "submissions/softmax_diagonal.py"): 6,
    ("backward_formulas", "submissions/log_over_out.py"): 8,
    ("backward_formulas", "submissions/missing_softmax.py"): 6,
    ("backward_formulas", "submissions/notebook_forgot_grad_out.ipynb"): 8,
    ("regression_gradients", "solution.py"): 10,
    ("regression_gradients", "submissions/logistic_missing_factor2.py"): 7,
    ("regression_gradients", "submissions/softmax_sum_not_mean.py"): 5,
    ("regression_gradients", "submissions/logistic_flipped_sign.py"): 5,
    ("regression_gradients", "submissions/bias_penalised.py"): 5.5,
    ("regression_gradients", "submissions/softmax_spurious_factor2.py"): 8.5,
    ("backprop", "solution.py"): 10,
    ("backprop", "submissions/bp2_missing_transpose.py"): 4,
    ("backprop", "submissions/bp1_missing_sigma_prime.py"): 4,
    ("backprop", "submissions/bp2_sigma_not_prime.py"): 4,
    ("backprop", "submissions/worked_example_w4_slip.py"): 9.5,
    ("backprop", "submissions/backprop_index_error.py"): 0,
}


@pytest.fixture(scope="module")
def results():
    def run(key):
        folder, submission = key
        return grade(ASSIGNMENTS / folder / "assignment.py", ASSIGNMENTS / folder / submission,
                     timeout=120)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(EXPECTED, pool.map(run, EXPECTED)))


def failing(result):
    """{check name: its feedback} of the checks that did not get full points."""
    return {t.name: t.output for t in result.tests if t.score < t.max_score}


def test_every_submission_is_listed():
    for folder in {f for f, _ in EXPECTED}:
        on_disk = {f"submissions/{p.name}" for p in (ASSIGNMENTS / folder / "submissions").iterdir()
                   if p.suffix in (".py", ".ipynb")}
        assert on_disk == {s for f, s in EXPECTED if f == folder and s != "solution.py"}


@pytest.mark.parametrize("key", list(EXPECTED), ids=["/".join(k) for k in EXPECTED])
def test_expected_score(results, key):
    result = results[key]
    assert result.max_score == 10
    assert result.score == pytest.approx(EXPECTED[key]), [
        (t.name, t.score, t.output[:300]) for t in result.tests]


def test_backward_formulas_feedback(results):
    tanh = failing(results["backward_formulas", "submissions/tanh_sign.py"])
    assert list(tanh) == ["tanh backward"]
    assert "a flipped sign" in tanh["tanh backward"]

    softmax = failing(results["backward_formulas", "submissions/softmax_diagonal.py"])
    assert list(softmax) == ["softmax backward"]
    assert "your backward for softmax disagrees with the framework's" in softmax[
        "softmax backward"]

    missing = failing(results["backward_formulas", "submissions/missing_softmax.py"])
    assert missing == {"softmax backward": "missing_softmax.py defines no softmax_backward"}


def test_notebook_failing_cell_is_reported_and_later_cells_still_count(results):
    result = results["backward_formulas", "submissions/notebook_forgot_grad_out.ipynb"]
    assert "[cell 3] failed: NameError: name 'plt' is not defined" in result.output
    wrong = failing(result)
    assert list(wrong) == ["sigmoid backward"]          # log_backward, after the bad cell, counts
    assert "ignores grad_out" in wrong["sigmoid backward"]


def test_regression_feedback(results):
    factor2 = failing(results["regression_gradients", "submissions/logistic_missing_factor2.py"])
    assert list(factor2) == ["logistic regression gradient with L2, R = ||w||^2"]
    assert "a missing factor 2" in factor2["logistic regression gradient with L2, R = ||w||^2"]

    summed = failing(results["regression_gradients", "submissions/softmax_sum_not_mean.py"])
    assert "missing mean over the N examples" in summed["softmax regression gradients (lam = 0)"]

    sign = failing(results["regression_gradients", "submissions/logistic_flipped_sign.py"])
    assert "a flipped sign" in sign["logistic regression gradient (lam = 0)"]

    bias = results["regression_gradients", "submissions/bias_penalised.py"]
    assert "with the bias trick, the bias" in failing(bias)[
        "logistic regression gradient with L2, R = ||w||^2"]
    partial = {t.name: t for t in bias.tests}[
        "softmax regression gradients with L2, R = 1/2 ||W||^2"]
    assert partial.score == 1.5
    assert "dJ/dW is right, dJ/db is wrong" in partial.output   # the partial credit's reason


def test_backprop_feedback(results):
    bp1 = failing(results["backprop", "submissions/bp1_missing_sigma_prime.py"])
    assert set(bp1) == {"backprop: one sigmoid layer (BP1, BP3, BP4)",
                        "backprop: one hidden layer (BP2)", "backprop: three layers"}
    assert "layer 2 of 2, BP1" in bp1["backprop: one hidden layer (BP2)"]
    assert "sigma'(z^L) dropped from BP1" in bp1["backprop: one hidden layer (BP2)"]

    sigma = failing(results["backprop", "submissions/bp2_sigma_not_prime.py"])
    assert "sigma(z^1) where sigma'(z^1) belongs in BP2" in sigma[
        "backprop: one hidden layer (BP2)"]

    transpose = failing(results["backprop", "submissions/bp2_missing_transpose.py"])
    assert "your code raised ValueError: matmul" in transpose["backprop: one hidden layer (BP2)"]

    slip = results["backprop", "submissions/worked_example_w4_slip.py"]
    assert [t.name for t in slip.tests if t.score < t.max_score] == [
        "worked example: the weights after one step"]
    assert "w4: yours 0.300497715, published 0.29950229" in slip.tests[-1].output

    raised = failing(results["backprop", "submissions/backprop_index_error.py"])
    assert len(raised) == 4
    assert all(out.startswith("your code raised IndexError") for out in raised.values())
