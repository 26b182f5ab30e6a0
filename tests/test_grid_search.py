"""models.grid_search on the shipped sample: the batched trainer against single runs, the
files it writes, grids it refuses, Ctrl-C and --resume, and the Dask path on a local cluster."""

import csv
import json

import numpy as np
import pytest

import tinygrad_hw as tg
from models import grid_batched, grid_search, softmax_regression

GRID = {"epochs": [1, 3], "lr": [0.01, 0.05], "l2": [0.0, 0.003], "batch_size": [50, 200]}


def _grid_file(tmp_path, grid=GRID):
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(grid))
    return str(path)


def _run(tmp_path, out, *flags, grid=GRID):
    return grid_search.main(["--dataset", "sample", "--grid", _grid_file(tmp_path, grid),
                             "--out", str(out), "--no-progress", *flags])


def _csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grid")
    report = _run(tmp, tmp / "out", "--jobs", "1")
    return tmp / "out", report


def test_writes_results_report_and_pictures(local):
    out, report = local
    table = _csv(out / "results.csv")
    assert list(table[0]) == ["epochs", "lr", "l2", "batch_size", "val_loss", "val_accuracy",
                              "train_loss"]
    assert len(table) == 16 and report["configs"] == 16
    assert {(r["epochs"], r["lr"], r["l2"], r["batch_size"]) for r in table} == {
        (str(e), str(lr), str(l2), str(b)) for e in GRID["epochs"] for lr in GRID["lr"]
        for l2 in GRID["l2"] for b in GRID["batch_size"]}
    saved = json.loads((out / "report.json").read_text())
    assert set(saved["best"]) == set(table[0])
    best = min(table, key=lambda r: float(r["val_loss"]))
    assert saved["best"]["val_loss"] == pytest.approx(float(best["val_loss"]))
    assert 0.6 < saved["test_accuracy"] <= 1 and 0 < saved["test_loss"] < 1.5
    assert saved["configs"] == 16 and saved["seconds"] > 0
    text = (out / "report.md").read_text()
    for picture in ("heatmap.png", "curve.png"):
        assert (out / picture).stat().st_size > 0 and f"]({picture})" in text
    assert "| test |" in text


@pytest.mark.parametrize("row", [0, 13])
def test_a_grid_point_equals_a_single_run(local, tmp_path, row):
    point = _csv(local[0] / "results.csv")[row]
    single = softmax_regression.main([
        "--dataset", "sample", "--optimizer", "sgd", "--schedule", "constant", "--init",
        "zeros", "--val-split", "0.2", "--epochs", point["epochs"], "--lr", point["lr"],
        "--l2", point["l2"], "--batch-size", point["batch_size"], "--seed", "0",
        "--out", str(tmp_path), "--no-progress"])
    assert abs(single["val_loss"] - float(point["val_loss"])) < 1e-4
    assert abs(single["val_accuracy"] - float(point["val_accuracy"])) < 2e-3


def test_one_batched_step_is_each_configuration_s_own_step():
    """Autodiff through the configuration axis: configuration c's columns get exactly the
    gradient of its own loss (with 2 lambda W), as a separate Linear model would."""
    rng = np.random.default_rng(0)
    X, y = rng.random((30, 784), dtype=np.float32), rng.integers(0, 10, 30)
    lrs, l2s = [0.1, 0.5, 0.05], [0.0, 0.01, 0.1]
    model = grid_batched.BatchedSoftmax(lrs, l2s)
    start = rng.normal(size=(784, 30)).astype(np.float32) * 0.01
    with tg.no_grad():
        model.W -= model.W - start  # the same nonzero start for the batched and single models
    model.step(X, y)
    for c, (lr, l2) in enumerate(zip(lrs, l2s)):
        W = tg.Tensor(start[:, 10 * c:10 * c + 10].T, requires_grad=True)
        b = tg.Tensor(np.zeros(10, np.float32), requires_grad=True)
        loss = tg.cross_entropy(tg.Tensor(X) @ W.T + b, y) + tg.l2_penalty(W, l2)
        loss.backward()
        want_W = W.numpy() - lr * W.grad.numpy()
        got = model.W.numpy()[:, 10 * c:10 * c + 10].T
        np.testing.assert_allclose(got, want_W, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(model.b.numpy()[10 * c:10 * c + 10],
                                   -lr * b.grad.numpy(), rtol=1e-5, atol=1e-8)


def test_a_diverging_configuration_is_nan_and_the_others_are_not():
    split = grid_batched.load_data("sample", 0.2, 0)
    res = grid_batched.train_group(split, 100, [0.05, 1e36], [0.0, 0.0], 2, 0)
    assert np.isfinite(res.val_loss[:, 0]).all() and np.isnan(res.val_loss[:, 1]).all()
    assert np.isnan(res.val_accuracy[:, 1]).all() and np.isnan(res.train_loss[:, 1]).all()


def test_two_processes_give_the_results_of_one(local, tmp_path):
    _run(tmp_path, tmp_path / "two", "--jobs", "2")
    assert _csv(tmp_path / "two" / "results.csv") == _csv(local[0] / "results.csv")


def test_interrupted_run_resumes_to_the_same_results(local, tmp_path, monkeypatch, capsys):
    real, calls = grid_batched.run_group, []

    def interrupted_second(spec):
        calls.append(spec["batch_size"])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(spec)

    monkeypatch.setattr(grid_batched, "run_group", interrupted_second)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        _run(tmp_path, out, "--jobs", "1")
    assert stop.value.code == 130
    err = capsys.readouterr().err
    assert "interrupted: 1 of 2 groups are saved" in err and "--resume" in err
    assert not (out / "results.csv").exists()
    kept = (out / "groups" / "batch_size_50.json").read_text()
    _run(tmp_path, out, "--jobs", "1", "--resume")
    assert calls == [50, 200, 200]  # the saved group was not trained again
    assert (out / "groups" / "batch_size_50.json").read_text() == kept
    assert _csv(out / "results.csv") == _csv(local[0] / "results.csv")


def test_resume_refuses_groups_of_another_grid(local, tmp_path, capsys):
    out = tmp_path / "out"
    _run(tmp_path, out, "--jobs", "1", grid={**GRID, "batch_size": [50]})
    with pytest.raises(SystemExit) as stop:
        _run(tmp_path, out, "--jobs", "1", "--resume", grid={**GRID, "lr": [0.02],
                                                              "batch_size": [50]})
    assert stop.value.code == 2
    assert "batch_size_50.json holds a group of a different grid" in capsys.readouterr().err


@pytest.mark.parametrize("change, named", [
    ({"batch_size": [0, 64]}, "batch_size value 0 is not a positive integer"),
    ({"batch_size": [32.5]}, "batch_size value 32.5 is not a positive integer"),
    ({"lr": [-0.1]}, "lr value -0.1 is not a positive number"),
    ({"lr": [0]}, "lr value 0 is not a positive number"),
    ({"l2": [-1e-3]}, "l2 value -0.001 is not a number >= 0"),
    ({"epochs": [0]}, "epochs value 0 is not a positive integer"),
    ({"momentum": [0.9]}, "unknown key 'momentum'"),
    ({"lr": []}, "lr must be a non-empty list"),
])
def test_bad_grids_are_refused_before_training(tmp_path, capsys, change, named):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        _run(tmp_path, out, grid={**GRID, **change})
    assert stop.value.code == 2
    assert named in capsys.readouterr().err
    assert not out.exists()


def test_missing_key_and_bad_json_are_named(tmp_path):
    with pytest.raises(grid_search.GridError, match="key 'l2' is missing"):
        grid_search.check_grid({k: v for k, v in GRID.items() if k != "l2"}, "g.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{epochs: [1]")
    with pytest.raises(grid_search.GridError, match="bad.json: not readable JSON"):
        grid_search.read_grid(str(bad))
    with pytest.raises(grid_search.GridError, match="not 'default', 'small' or an existing"):
        grid_search.read_grid(str(tmp_path / "nowhere.json"))


def test_the_default_grid_has_8_values_of_each():
    grid = grid_search.read_grid("default")
    assert all(len(v) == 8 for v in grid.values()) and len(grid) == 4
    assert all(len(v) == 2 for v in grid_search.read_grid("small").values())


def test_dask_cluster_gives_the_local_results(local, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, processes=True) as cluster:
        _run(tmp_path, tmp_path / "dask", "--scheduler", cluster.scheduler_address)
    assert _csv(tmp_path / "dask" / "results.csv") == _csv(local[0] / "results.csv")


def test_an_out_below_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit, match=r"cannot write into --out .*file/out: Not a directory"):
        _run(tmp_path, tmp_path / "file" / "out")


def test_resume_with_every_group_done_trains_nothing(local, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _run(tmp_path, out, "--jobs", "1")
    monkeypatch.setattr(grid_batched, "run_group", lambda spec: pytest.fail("trained again"))
    _run(tmp_path, out, "--jobs", "2", "--resume")
    assert _csv(out / "results.csv") == _csv(local[0] / "results.csv")
