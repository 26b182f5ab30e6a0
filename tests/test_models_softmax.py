"""The main job, models.softmax_regression, end to end on the shipped sample: every file of
its contract, sane report fields, and models.report rebuilding report.md from report.json."""

import json
import shutil

import pytest

from models import report as report_cli
from models import softmax_regression

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
    assert r["derivation_check"]["verdict"] == "agree"
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
