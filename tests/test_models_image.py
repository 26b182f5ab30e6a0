"""The Fashion-MNIST model scripts (logistic regression, L2 sweep, step-size study) run end to
end on the shipped sample and write every file of their contract, with sane report values."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

import tinygrad_hw as tg
from models import l2_sweep, mlp, softmax_regression, step_size_study
from models import logistic_regression as logreg

QUIET = ["--dataset", "sample", "--no-progress"]
STANDARD = ("model", "dataset", "n_train", "n_val", "n_test", "hyperparameters", "epochs_run",
            "stopped_early_at", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
            "test_loss", "test_accuracy", "seconds", "summary")
COMMON_FILES = ("report.json", "report.md", "curves.png", "samples.png", "graph.dot")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sample_train_labels() -> np.ndarray:
    return tg.data.fashion_mnist("train", source="sample")[1]


def run(main, out: Path, *flags: str) -> dict:
    """Run a script's main, check its contract, and return report.json as written."""
    main(["--out", str(out), *QUIET, *flags])
    report = json.loads((out / "report.json").read_text())
    for name in COMMON_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    if shutil.which("dot"):
        assert (out / "graph.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
        assert (out / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "grad" in (out / "graph.dot").read_text()  # drawn after backward(): gradients
    missing = [k for k in STANDARD if k not in report]
    assert not missing, missing
    assert report["dataset"] == "sample"
    for part in ("train", "val", "test"):
        assert 0.0 <= report[f"{part}_accuracy"] <= 1.0
        assert math.isfinite(report[f"{part}_loss"]) and report[f"{part}_loss"] > 0
    markdown = (out / "report.md").read_text()
    for picture in report["pictures"]:
        assert f"]({picture['file']})" in markdown
        if picture["file"].endswith(".png"):
            assert (out / picture["file"]).read_bytes()[:8] == PNG, picture["file"]
    return report


def pictures(report: dict) -> set[str]:
    return {p["file"] for p in report["pictures"]}


# ---------------------------------------------------------------- logistic regression


def test_logistic_regression_script(tmp_path, sample_train_labels, capsys):
    report = run(logreg.main, tmp_path, "--epochs", "3")
    assert {"curves.png", "samples.png", "weights.png", "graph.png"} <= pictures(report)
    assert report["model"] == "logistic_regression"
    assert report["classes"] == {"y=0": "T-shirt/top", "y=1": "Shirt"}
    assert report["hyperparameters"]["classes"] == [0, 6]
    n_pair = int(np.isin(sample_train_labels, [0, 6]).sum())
    assert report["n_train"] + report["n_val"] == n_pair
    assert report["n_val"] == round(0.2 * n_pair)
    assert 1 <= report["epochs_run"] <= 3
    assert report["test_accuracy"] > 0.6  # shirt vs T-shirt is hard, but far above chance
    check = report["derivation_check"]
    assert check["verdict"] == "agree" and check["after training: verdict"] == "agree"
    assert check["max |autodiff - hand|"] < 1e-9
    assert check["|bias-trick loss - model loss|"] < 1e-5
    printed = capsys.readouterr().out
    assert "derivation check on the first batch (initial weights): gradients agree" in printed


def test_logistic_regression_classes_by_name_l2_and_patience(tmp_path, sample_train_labels):
    report = run(logreg.main, tmp_path, "--classes", "trouser", "Bag", "--epochs", "4",
                 "--l2", "0.01", "--patience", "1", "--init", "default")
    assert report["classes"] == {"y=0": "Trouser", "y=1": "Bag"}
    n_pair = int(np.isin(sample_train_labels, [1, 8]).sum())
    assert report["n_train"] + report["n_val"] == n_pair
    assert report["derivation_check"]["verdict"] == "agree"  # with the 2 lambda w term
    assert report["epochs_run"] <= 4
    if report["stopped_early_at"]:
        assert report["stopped_early_at"] == report["epochs_run"]
    assert report["test_accuracy"] > 0.9  # an easy pair


@pytest.mark.parametrize("token, index", [("6", 6), ("0", 0), ("shirt", 6), ("Shirt", 6),
                                          ("T-shirt/top", 0), ("tshirt", 0), ("ankle", 9),
                                          ("Ankle boot", 9), ("bag", 8)])
def test_class_index(token, index):
    assert logreg.class_index(token) == index


@pytest.mark.parametrize("token", ["10", "s", "hat", ""])
def test_class_index_rejects_unknown_or_ambiguous(token):
    with pytest.raises(ValueError, match="use 0-9 or one of"):
        logreg.class_index(token)


def test_logistic_regression_rejects_a_repeated_class(tmp_path):
    with pytest.raises(SystemExit):
        logreg.main(["--out", str(tmp_path), *QUIET, "--classes", "shirt", "6"])


def test_logistic_derivation_check_reports_a_wrong_hand_gradient(monkeypatch):
    model = tg.nn.Linear(784, 1, rng=0)
    X = np.random.default_rng(0).uniform(size=(16, 784)).astype(np.float32)
    y = np.arange(16) % 2
    assert logreg.derivation_check(model, X, y)["verdict"] == "agree"
    right = logreg.hand_gradient
    monkeypatch.setattr(logreg, "hand_gradient", lambda w, X, y: len(y) * right(w, X, y))
    verdict = logreg.derivation_check(model, X, y)["verdict"]
    assert verdict.startswith("DISAGREE") and "mean" in verdict  # the missing 1/N is named


# ---------------------------------------------------------------- L2 sweep


def test_l2_sweep_script(tmp_path, sample_train_labels):
    report = run(l2_sweep.main, tmp_path, "--epochs", "2")
    assert {"weights_by_lambda.png", "norm_vs_lambda.png", "val_accuracy_vs_lambda.png",
            "curves.png", "graph.png"} <= pictures(report)
    assert report["n_train"] + report["n_val"] == len(sample_train_labels)
    table = report["tables"]["L2 sweep"]
    assert table["columns"][:2] == ["lambda", "weight norm"]
    rows = table["rows"]
    assert [r[0] for r in rows] == list(l2_sweep.DEFAULT_LAMBDAS)
    by_lambda = sorted(rows, key=lambda r: r[0])
    norms = [r[1] for r in by_lambda]
    assert all(a > b for a, b in zip(norms, norms[1:])), norms  # the norm falls as lambda grows
    val = {r[0]: r[5] for r in rows}
    assert report["best_lambda"] in val
    assert val[report["best_lambda"]] == max(val.values()) == report["val_accuracy"]
    assert all(0 <= r[3] <= 1 and 0 <= r[5] <= 1 and r[6] <= 2 for r in rows)
    check = report["derivation_check"]
    assert check["verdict"] == "agree (W and b, every lambda)"
    assert check["formula"].startswith("J = C + lambda ||W||^2: dJ/dw_kj")
    assert "dC/dw" not in check["formula"]
    for lam in l2_sweep.DEFAULT_LAMBDAS:
        line = check[f"lambda = {lam:g}"]
        assert line.startswith("agree; max |autodiff - hand| ")
        assert " for W, " in line and line.endswith(" for b")
    assert report["training_seconds"] <= report["seconds"]
    # the graph is drawn at a positive lambda: the penalty branch lambda ||W||^2 is in it
    assert report["graph_lambda"] > 0
    if report["best_lambda"] > 0:
        assert report["graph_lambda"] == report["best_lambda"]
    dot = (tmp_path / "graph.dot").read_text()
    assert "= sum<" in dot and f"mul(y={report['graph_lambda']:g})" in dot
    assert f"lambda = {report['graph_lambda']:g}" in dot


def _run(lam: float, val: float, diverged: str | None = None) -> l2_sweep.Run:
    run = l2_sweep.Run(lam, tg.nn.Linear(784, 10, init="zeros"), diverged=diverged)
    run.metrics = {"val_accuracy": val, "train_accuracy": val}
    return run


def test_l2_graph_is_drawn_at_a_positive_lambda():
    runs = [_run(1.0, 0.70), _run(0.1, 0.75), _run(0.01, 0.74, "diverged"), _run(0.0, 0.80)]
    best = l2_sweep.best_run(runs)
    assert best.lam == 0.0
    assert l2_sweep.graph_run(runs, best).lam == 0.1  # the best positive lambda
    assert l2_sweep.graph_run(runs[:2], runs[1]) is runs[1]  # the best, when it is positive
    only_zero = [_run(0.0, 0.8)]
    assert l2_sweep.graph_run(only_zero, only_zero[0]) is only_zero[0]


def test_l2_check_rows_come_from_typed_records():
    rng = np.random.default_rng(0)
    model, X, y = tg.nn.Linear(784, 10, rng=0), rng.random((8, 784)), rng.integers(0, 10, 8)
    checks = [softmax_regression.derivation_check(model, X, y, lam) for lam in (0.5, 0.0)]
    assert all(isinstance(c, softmax_regression.DerivationCheck) for c in checks)
    rows = l2_sweep.check_rows(checks)
    assert list(rows) == ["formula", "batch size", "lambda = 0.5", "lambda = 0", "verdict"]
    assert rows["batch size"] == 8 and rows["verdict"] == "agree (W and b, every lambda)"
    bad = softmax_regression.DerivationCheck(0.5, 8, 1.0, 0.0, "DISAGREE: W is off")
    assert l2_sweep.check_rows([bad, checks[1]])["verdict"] == "DISAGREE at lambda = 0.5"


def test_l2_sweep_takes_its_own_lambdas(tmp_path):
    report = run(l2_sweep.main, tmp_path, "--epochs", "1", "--lambdas", "0.5", "0")
    rows = report["tables"]["L2 sweep"]["rows"]
    assert [r[0] for r in rows] == [0.5, 0.0]
    assert rows[0][1] < rows[1][1]
    assert set(report["norms"]) == {"0.5", "0"}


# ---------------------------------------------------------------- step-size study


def test_step_size_study_script(tmp_path, sample_train_labels):
    report = run(step_size_study.main, tmp_path, "--epochs", "1", "--subset", "1000")
    assert {"learning_rates.png", "batch_sizes.png", "curves.png", "graph.png"} <= pictures(report)
    assert report["n_train"] == 1000
    assert report["n_val"] == round(0.2 * len(sample_train_labels))
    assert report["epochs_run"] == 1
    small, good, large = report["learning_rates"]
    assert [small["role"], good["role"], large["role"]] == list(step_size_study.ROLES)
    assert small["lr"] < good["lr"] < large["lr"]
    assert not small["diverged"] and not good["diverged"]
    assert large["diverged"] and "at epoch 1, step" in large["message"]
    assert large["diverged_at"]["epoch"] == 1 and large["diverged_at"]["step"] == large["steps_run"]
    assert large["steps_run"] < good["steps_run"] == 1000 // 64  # drop_last: full batches only
    assert small["final_step_loss"] > good["final_step_loss"]  # too small: slow
    assert "DIVERGED" in (tmp_path / "report.md").read_text()
    sizes = {b["batch_size"]: b for b in report["batch_sizes"]}
    assert set(sizes) == {1, 32, 256} and sizes[1]["steps_run"] == 1000
    assert sizes[1]["cost_rose"] > 0  # batch size 1: the cost goes up at times
    assert sizes[1]["largest_rise"] > sizes[256]["largest_rise"]
    assert sizes[1]["last_epoch_std"] > sizes[256]["last_epoch_std"]
    assert len(report["tables"]["Batch sizes"]["rows"]) == 3
    assert sizes[32]["steps_run"] == 1000 // 32 and sizes[256]["steps_run"] == 1000 // 256
    # the settings list every learning rate used
    hyper = report["hyperparameters"]
    assert hyper["lrs"] == [small["lr"], good["lr"], large["lr"]] == [0.001, 0.1, 2.0]
    assert hyper["batch_lr"] == 0.01
    markdown = (tmp_path / "report.md").read_text()
    assert "| lrs | [0.0010, 0.1000, 2.0000] |" in markdown and "| batch_lr | 0.0100 |" in markdown
    # the batch-size caption says what the numbers say
    caption = next(p["caption"] for p in report["pictures"] if p["file"] == "batch_sizes.png")
    assert "goes up" not in caption
    lowest = min(report["batch_sizes"], key=lambda b: b["final_cost"])
    lowest_j = f"the lowest J, {lowest['final_cost']:.3f} after {lowest['steps_run']} updates"
    assert lowest_j in caption
    noisiest = max(report["batch_sizes"], key=lambda b: b["last_epoch_std"])
    assert f"batch size {noisiest['batch_size']} is the noisiest" in caption


def test_step_size_runs_take_full_batches_only():
    split = step_size_study._load(step_size_study._parser().parse_args(
        ["--dataset", "sample", "--subset", "1000"]))
    for batch_size in (64, 32, 256, 1):
        args = step_size_study._parser().parse_args(["--batch-size", str(batch_size)])
        sizes = [len(yb) for _, yb in step_size_study.train_loader(split, args)]
        assert sizes == [batch_size] * (1000 // batch_size)  # no tiny last batch (64: 8 left)
    args = step_size_study._parser().parse_args(["--batch-size", "2000"])
    assert [len(yb) for _, yb in step_size_study.train_loader(split, args)] == [1000]


def _batch(size: int, std: float, rose: float, final: float, steps: int) -> dict:
    return {"batch_size": size, "last_epoch_std": std, "cost_rose": rose, "final_cost": final,
            "losses": [1.0] * steps, "diverged": None}


def test_batch_caption_follows_the_numbers():
    runs = [_batch(1, 1.0, 0.49, 0.483, 8000), _batch(32, 0.13, 0.16, 0.965, 250),
            _batch(256, 0.061, 0.0, 1.799, 30)]
    caption = step_size_study.batch_caption(runs, 500, 0.01)
    assert caption == (
        "Cost per step against the examples seen, batch sizes 1, 32, 256 at lr 0.01: batch size "
        "1 is the noisiest (step-loss std 1.000 in the last epoch, 0.061 for batch size 256; J "
        "on 500 fixed examples rose after 49% of its updates), yet it ends with the lowest J, "
        "0.483 after 8000 updates, against 1.799 for batch size 256 after 30")
    runs[0]["final_cost"] = 2.5  # now batch size 1 ends highest
    caption = step_size_study.batch_caption(runs, 500, 0.01)
    assert caption.endswith(", batch size 32 ends with the lowest J, 0.965 after 250 updates, "
                            "against 2.500 for batch size 1 after 8000")


# ---------------------------------------------------------------- mlp


def test_mlp_report_states_its_dead_hidden_units(tmp_path):
    report = run(mlp.main, tmp_path, "--epochs", "1", "--hidden", "16")
    dead = report["dead_hidden_units"]
    sentence = (f"{dead} of 16 hidden units never {'fires' if dead == 1 else 'fire'} (ReLU "
                f"output 0) on 1,000 test images.")
    assert report["dead_units_test_images"] == 1000
    assert f"- {sentence}" in (tmp_path / "report.md").read_text()
    args = mlp._arguments(["--hidden", "256"])
    assert mlp.dead_units_note(31, args, 2000) == (
        "31 of 256 hidden units never fire (ReLU output 0) on 2,000 test images.")


def test_divergence_guard():
    guard = step_size_study.DivergenceGuard(blowup=10, steps_per_epoch=4)
    labels = np.array([0, 1])
    guard(tg.Tensor(np.zeros((2, 3))), labels)  # ln 3, the first step
    with tg.no_grad():  # evaluation passes are not steps, whatever their loss
        guard(tg.Tensor(np.array([[-100.0, 0, 0], [0, -100.0, 0]])), labels)
    assert len(guard.losses) == 1
    with pytest.raises(tg.train.TrainingDiverged, match="at epoch 1, step 2 of 4"):
        guard(tg.Tensor(np.array([[-100.0, 0, 0], [0, -100.0, 0]])), labels)
    with pytest.raises(tg.train.TrainingDiverged, match="nan"):
        guard(tg.Tensor(np.full((2, 3), np.nan)), labels)
