"""The main job, models.softmax_regression, end to end on the shipped sample: every file of
its contract, sane report fields, and models.report rebuilding report.md from report.json."""

import json
import shutil

import numpy as np
import pytest

from models import report as report_cli
from models import softmax_regression
from tinygrad_hw import nn

FILES = ["report.json", "report.md", "curves.png", "samples.png", "weights.png", "graph.dot"]
FILES += ["graph.svg", "graph.png"] if shutil.which("dot") else []  # needs Graphviz's dot


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("softmax")
    softmax_regression.main(["--dataset", "sample", "--epochs", "3", "--out", str(out),
                             "--no-progress"])
    return out


def test_writes_every_file(run):
    for name in FILES:
        assert (run / name).stat().st_size > 0, name


def test_report_fields_are_sane(run):
    r = json.loads((run / "report.json").read_text())
    assert r["model"] == "softmax_regression" and r["dataset"] == "sample"
    assert r["n_train"] + r["n_val"] == 5000 and r["n_test"] == 1000
    assert r["epochs_run"] == 3 and r["stopped_early_at"] is None
    for split in ("train", "val", "test"):
        assert 0.6 < r[f"{split}_accuracy"] <= 1.0
        assert 0 < r[f"{split}_loss"] < 1.5
    assert r["hyperparameters"]["init"] == "zeros"
    assert r["derivation_check"]["verdict"].startswith("agree")
    assert 0 < r["training_seconds"] <= r["seconds"]


def test_report_md_embeds_every_picture(run):
    text = (run / "report.md").read_text()
    for picture in ("curves.png", "samples.png", "weights.png", "graph.png"):
        assert f"]({picture})" in text
    assert "| test |" in text


def test_graph_names_the_parameters(run):
    dot = (run / "graph.dot").read_text()
    assert "weight" in dot and "bias" in dot and "cross_entropy" in dot


def test_early_stopping_flag(tmp_path):
    r = softmax_regression.main(["--dataset", "sample", "--epochs", "30", "--patience", "1",
                                 "--lr", "0.5", "--optimizer", "sgd", "--schedule", "constant",
                                 "--out", str(tmp_path), "--no-progress"])
    assert r["stopped_early_at"] is not None and r["epochs_run"] < 30


def test_report_cli_rebuilds_the_markdown(run, capsys):
    (run / "report.md").write_text("stale")
    report_cli.main([str(run)])
    assert "# softmax_regression: homework report" in (run / "report.md").read_text()
    with pytest.raises(SystemExit, match="report.json does not exist"):
        report_cli.main([str(run / "missing")])


# ---------------------------------------------------------------- the derivation check


def test_report_checks_the_hand_gradients_of_w_and_of_b(run):
    check = json.loads((run / "report.json").read_text())["derivation_check"]
    assert check["max |autodiff - hand| for W"] < 1e-12
    assert check["max |autodiff - hand| for b"] < 1e-12
    assert check["verdict"] == "agree (W and b)"
    assert check["formula"].startswith("dC/dw_kj") and "dC/db_k" in check["formula"]
    text = (run / "report.md").read_text()
    assert "- max |autodiff - hand| for W: " in text and "- max |autodiff - hand| for b: " in text


def _batch():
    rng = np.random.default_rng(0)
    model = nn.Linear(784, 10, rng=0)
    return model, rng.random((16, 784)), rng.integers(0, 10, 16)


def test_derivation_check_is_a_typed_record():
    model, X, y = _batch()
    check = softmax_regression.derivation_check(model, X, y, 0.1)
    assert isinstance(check, softmax_regression.DerivationCheck)
    assert check.agree and check.verdict == "agree" and check.batch_size == 16
    assert check.lam == 0.1 and check.max_error_W < 1e-12 and check.max_error_b < 1e-12
    rows = check.rows()
    assert list(rows) == ["formula", "batch size", "lambda", "max |autodiff - hand| for W",
                          "max |autodiff - hand| for b", "verdict"]
    assert rows["formula"].startswith("J = C + lambda ||W||^2: dJ/dw_kj")


def test_a_wrong_bias_gradient_is_caught(monkeypatch):
    model, X, y = _batch()
    right = softmax_regression.hand_gradients

    def wrong_b(W, b, X, y):
        dW, db = right(W, b, X, y)
        return dW, -db  # a sign slip in dC/db only

    monkeypatch.setattr(softmax_regression, "hand_gradients", wrong_b)
    check = softmax_regression.derivation_check(model, X, y, 0.0)
    assert not check.agree and check.verdict.startswith("DISAGREE") and "b" in check.verdict
    assert check.max_error_W < 1e-12 < 1e-3 < check.max_error_b
    assert check.rows()["verdict"] == check.verdict


# ---------------------------------------------------------------- report formatting


def test_lists_are_formatted_element_wise_and_every_column_is_labelled():
    report = {"model": "m", "hyperparameters": {"lambdas": [1.0, 0.1, 0.0], "sizes": (784, 10)},
              "derivation_check": {"max |autodiff - hand|, initial / trained weights":
                                   [2.220446049250313e-16, 1.951563910473908e-18]},
              "tables": {"Hessian": {"columns": ["", "w_0", " "],
                                     "rows": [["w_0", 1.0, [0.5, 12345.678]]]}}}
    text = report_cli.render(report)
    assert "2.220446049250313e-16" not in text and "1.951563910473908e-18" not in text
    assert "- max |autodiff - hand|, initial / trained weights: [2.22e-16, 1.952e-18]" in text
    assert "| lambdas | [1.0000, 0.1000, 0] |" in text and "| sizes | [784, 10] |" in text
    assert "| row | w_0 | column 3 |" in text and "| w_0 | 1.0000 | [0.5000, 1.235e+04] |" in text
    assert all("|  |" not in line for line in text.splitlines())
    assert report_cli.text_table(["", "a"], [["x", 0.25]]).split()[0] == "row"
    assert report_cli._fmt(np.float32(0.5)) == "0.5000"


# ---------------------------------------------------------------- the weight picture


def test_weight_picture_is_on_one_clipped_scale_with_rare_pixels_grey(run):
    r = json.loads((run / "report.json").read_text())
    caption = next(p["caption"] for p in r["pictures"] if p["file"] == "weights.png")
    assert "one colour scale clipped at the 99th percentile of |w|" in caption
    assert "grey:" in caption and "lit (> 0.1) in under 1% of the training images" in caption
    X = np.zeros((200, 784))
    X[:, 0] = 1.0  # always lit
    X[:1, 1] = 1.0  # lit in 0.5% of the images
    X[:5, 2] = 1.0  # 2.5%
    rare = softmax_regression.rarely_lit(X)
    assert rare.shape == (784,) and not rare[0] and rare[1] and not rare[2] and rare[3]
