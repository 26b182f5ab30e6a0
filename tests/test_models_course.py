"""The course scripts mlp, two_layer_net, nielsen_network, newton and worked_example run end to
end (image models on the shipped sample), write every file of their contract, and report sane
values: the worked example's published figures, Newton on lstsq, autodiff deltas equal to BP."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from models import mlp, newton, nielsen_network, two_layer_net, worked_example

PNG = b"\x89PNG\r\n\x1a\n"
IMAGE_FIELDS = ("model", "dataset", "hyperparameters", "seconds", "n_train", "n_val", "n_test",
                "epochs_run", "stopped_early_at", "train_loss", "train_accuracy", "val_loss",
                "val_accuracy", "test_loss", "test_accuracy")
QUIET_SAMPLE = ["--dataset", "sample", "--no-progress"]


def run(main, out: Path, *flags: str, files: tuple[str, ...] = ()) -> dict:
    """Run a script's main into `out`; check the files every script writes, plus `files`."""
    returned = main(["--out", str(out), *flags])
    report = json.loads((out / "report.json").read_text())
    assert report["model"] == returned["model"]
    for name in ("report.json", "report.md", "graph.dot", *files):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == PNG, name
    if shutil.which("dot"):
        assert (out / "graph.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
        assert (out / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "grad" in (out / "graph.dot").read_text()  # drawn after backward()
    for key in ("model", "dataset", "hyperparameters", "seconds"):
        assert key in report, key
    markdown = (out / "report.md").read_text()
    check_markdown_tables(markdown)
    for picture in report["pictures"]:
        assert f"]({picture['file']})" in markdown, picture
        assert (out / picture["file"]).is_file() or picture["file"] == "graph.png"
    return report


def check_markdown_tables(markdown: str) -> None:
    """Every row of a table has its header's number of cells (a stray | would add one)."""
    header = None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            header = None
        elif header is None:
            header = line.count("|")
        else:
            assert line.count("|") == header, line


def check_image_metrics(report: dict) -> None:
    missing = [k for k in IMAGE_FIELDS if k not in report]
    assert not missing, missing
    assert report["dataset"] == "sample"
    for part in ("train", "val", "test"):
        assert 0.0 <= report[f"{part}_accuracy"] <= 1.0
        assert math.isfinite(report[f"{part}_loss"]) and report[f"{part}_loss"] > 0


# ---------------------------------------------------------------- mlp

@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("mlp")
    report = run(mlp.main, out, *QUIET_SAMPLE, "--epochs", "2", "--hidden", "32",
                 files=("curves.png", "samples.png", "weights.png"))
    return report, out


def test_mlp_writes_its_contract_with_sane_metrics(mlp_run):
    report, _ = mlp_run
    check_image_metrics(report)
    assert report["epochs_run"] == 2 and report["n_test"] == 1000
    assert report["test_accuracy"] > 0.5  # well above chance (0.1) even after 2 epochs
    assert report["training_seconds"] > 0
    assert report["hyperparameters"]["activation"] == "relu"
    assert report["hyperparameters"]["hidden"] == 32
    assert 0 <= report["dead_hidden_units"] <= 32


def test_mlp_hand_backprop_matches_autodiff(mlp_run):
    check = mlp_run[0]["derivation_check"]
    assert check["verdict"] == "agree"
    assert check["max |autodiff - hand| over W1, b1, W2, b2"] < 1e-10


def test_mlp_defaults_are_the_measured_recipe():
    args = mlp._arguments([])
    assert (args.hidden, args.activation, args.optimizer, args.schedule) == (256, "relu", "adam",
                                                                            "linear")
    assert (args.lr, args.batch_size, args.epochs, args.val_split) == (0.002, 128, 15, 0.2)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_mlp_hand_gradients_match_autodiff_with_l2(activation):
    args = mlp._arguments(["--hidden", "7", "--activation", activation, "--l2", "0.01"])
    rng = np.random.default_rng(1)
    X, y = rng.random((9, 784)), rng.integers(0, 10, 9)
    assert mlp.derivation_check(mlp.build(args), X, y, args)["verdict"] == "agree"


def test_mlp_sigmoid_variant_runs(tmp_path):
    report = run(mlp.main, tmp_path, *QUIET_SAMPLE, "--epochs", "1", "--hidden", "16",
                 "--activation", "sigmoid", files=("weights.png",))
    check_image_metrics(report)


# ---------------------------------------------------------------- two-layer nets

@pytest.fixture(scope="module")
def two_layer_run(tmp_path_factory) -> dict:
    return run(two_layer_net.main, tmp_path_factory.mktemp("two_layer"), "--steps", "300",
               files=("curves.png",))


def test_two_layer_nets_learn_and_report_both_nets(two_layer_run):
    reg, cls = two_layer_run["regression"], two_layer_run["classifier"]
    assert 0 < reg["train_loss"] < 0.5 and 0 < reg["test_loss"] < 0.5
    for key in ("train_accuracy", "test_accuracy"):
        assert 0.7 < cls[key] <= 1.0  # three separable-ish blobs; chance is 1/3
    assert two_layer_run["dataset"].startswith("generated")


def test_two_layer_hand_formulas_match_autodiff(two_layer_run):
    check = two_layer_run["derivation_check"]
    assert check["verdict"] == "agree"
    table = two_layer_run["tables"]["Regression net: gradients of one example, autodiff vs hand"]
    assert len(table["rows"]) == 4 + 12  # dSE/db_k and dSE/da_ik
    for _, _, auto, hand, gap in table["rows"]:
        assert gap < 1e-12 and math.isclose(auto, hand, rel_tol=1e-9, abs_tol=1e-15)


# ---------------------------------------------------------------- Nielsen's network

@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_nielsen_network_deltas_of_autodiff_and_bp_agree(tmp_path, cost):
    report = run(nielsen_network.main, tmp_path, *QUIET_SAMPLE, "--epochs", "1",
                 "--sizes", "784", "16", "12", "10", "--cost", cost,
                 files=("curves.png",))
    check_image_metrics(report)
    norms = report["delta_norms"]
    assert [(n["weights"], n["layer"]) for n in norms] == [
        (w, layer) for w in ("initial", "trained") for layer in (1, 2, 3)]
    for n in norms:
        assert n["autodiff"] > 0
        assert math.isclose(n["autodiff"], n["backprop"], rel_tol=1e-9)
    assert report["derivation_check"]["verdict"] == "agree"
    assert cost in report["loss_name"]
    assert "δ = dC/dz^3" in (tmp_path / "graph.dot").read_text()  # deltas drawn


def test_nielsen_network_rejects_sizes_that_do_not_fit_the_images(capsys):
    with pytest.raises(SystemExit):
        nielsen_network.main(["--sizes", "100", "10"])
    assert "784" in capsys.readouterr().err


# ---------------------------------------------------------------- Newton

@pytest.fixture(scope="module")
def newton_run(tmp_path_factory) -> dict:
    return run(newton.main, tmp_path_factory.mktemp("newton"), files=("loss_per_iteration.png",))


def test_newton_lands_on_lstsq_in_one_step(newton_run):
    assert newton_run["newton_distance_to_lstsq"] < 1e-8
    assert newton_run["newton_hand_distance_to_lstsq"] < 1e-8
    assert newton_run["hessian_max_abs_diff"] < 1e-10
    assert math.isclose(newton_run["loss_newton"], newton_run["loss_lstsq"], rel_tol=1e-9)
    assert newton_run["loss_initial"] > newton_run["loss_newton"]


def test_gradient_descent_needs_many_iterations(newton_run):
    iterations = newton_run["gd_iterations"]
    assert iterations is not None and iterations > 10
    assert newton_run["condition_number"] > 1


# ---------------------------------------------------------------- worked example

@pytest.fixture(scope="module")
def worked_run(tmp_path_factory) -> dict:
    return run(worked_example.main, tmp_path_factory.mktemp("worked"))


def test_worked_example_reproduces_the_published_figures(worked_run):
    assert abs(worked_run["E_total"] - 0.298371109) < 1e-9
    assert abs(worked_run["w5_after"] - 0.35891648) < 1e-8
    assert abs(worked_run["w1_after"] - 0.149780716) < 1e-9
    assert worked_run["E_total_after"] < worked_run["E_total"]
    assert worked_run["derivation_check"]["published figures"] == "reproduced"
    assert worked_run["derivation_check"]["verdict"] == "agree"


def test_worked_example_tables_list_every_value_and_weight(worked_run):
    tables = worked_run["tables"]
    forward = {row[0]: float(row[2]) for row in tables["Forward pass"]["rows"]}
    assert abs(forward["out_o1"] - 0.75136507) < 1e-8
    assert abs(forward["out_h1"] - 0.593269992) < 1e-9
    gradients = next(t for title, t in tables.items() if title.startswith("Gradients"))
    rows = {row[0]: row for row in gradients["rows"]}
    assert list(rows) == [f"w{i}" for i in range(1, 9)] + ["b1", "b2"]
    assert abs(float(rows["w5"][3]) - 0.082167041) < 1e-9  # dE/dw5 by hand
    assert all(row[5] < 1e-12 for row in rows.values())  # hand vs autodiff
    assert rows["b1"][2] == rows["b1"][6]  # the biases are not updated


def test_worked_example_cross_entropy_variant(tmp_path):
    report = run(worked_example.main, tmp_path, "--cost", "cross-entropy")
    assert report["cost"] == "cross-entropy"
    assert report["derivation_check"]["verdict"] == "agree"
    assert "published figures" not in report["derivation_check"]
    deltas = {row[0]: float(row[2]) for row in report["tables"]["Deltas (backward pass)"]["rows"]}
    assert abs(deltas["delta_o1"] - (0.75136507 - 0.01)) < 1e-8  # sigma' cancels: out - t
    assert report["E_total_after"] < report["E_total"]
    assert "W1 = [w1 w2; w3 w4]" in (tmp_path / "graph.dot").read_text()
