"""The course models' command lines: bad flags refused by argparse before anything runs,
--help with every default, an unwritable --out in one line, no stale files from an earlier
run, and Ctrl-C keeping the finished epochs with --resume continuing exactly."""

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tinygrad_hw.train
from models import softmax_regression

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ["--dataset", "sample", "--no-progress"]


@pytest.mark.parametrize("model, flags, message", [
    ("softmax_regression", ["--lr", "-1"], "argument --lr: must be a number > 0, got -1"),
    ("softmax_regression", ["--batch-size", "0"],
     "argument --batch-size: must be an integer >= 1, got 0"),
    ("softmax_regression", ["--epochs", "0"], "argument --epochs: must be an integer >= 1"),
    ("mlp", ["--epochs", "-1"], "argument --epochs: must be an integer >= 1, got -1"),
    ("logistic_regression", ["--val-split", "1.5"],
     "argument --val-split: must be a number >= 0 and < 1, got 1.5"),
    ("softmax_regression", ["--l2", "-1"], "argument --l2: must be a number >= 0, got -1"),
    ("softmax_regression", ["--momentum", "2"],
     "argument --momentum: must be a number >= 0 and < 1, got 2"),
    ("softmax_regression", ["--lr", "nan"], "argument --lr: must be a number > 0, got nan"),
    ("softmax_regression", ["--seed", "x"], "argument --seed: must be an integer >= 0, got 'x'"),
    ("l2_sweep", ["--lambdas", "1", "-1"], "argument --lambdas: must be a number >= 0, got -1"),
    ("two_layer_net", ["--steps", "0"], "argument --steps: must be an integer >= 1, got 0"),
    ("mlp", ["--hidden", "0"], "argument --hidden: must be an integer >= 1, got 0"),
    ("newton", ["--n", "3"], "argument --n: must be at least --d = 5 (the number of weights)"),
    ("step_size_study", ["--batch-sizes", "0"], "argument --batch-sizes: must be an integer"),
    ("worked_example", ["--lr", "0"], "argument --lr: must be a number > 0, got 0"),
])
def test_bad_flags_are_refused_before_anything_runs(tmp_path, capsys, model, flags, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        importlib.import_module(f"models.{model}").main([*flags, "--out", str(out)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: python -m models.{model}") and message in err
    assert "Traceback" not in err and not out.exists()


@pytest.mark.parametrize("model, default", [
    ("softmax_regression", "--lr LR               learning rate (step size) (default: 0.002)"),
    ("logistic_regression", "--lr LR               learning rate (step size) (default: 0.1)"),
    ("mlp", "examples per mini-batch (default: 128)"),
    ("softmax_regression", "(default: adam)"),
])
def test_help_shows_every_default_and_the_whole_description(capsys, model, default):
    module = importlib.import_module(f"models.{model}")
    with pytest.raises(SystemExit):
        module.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert " ".join(default.split()) in text
    assert " ".join(module.__doc__.split()) in text  # not cut after its first line


@pytest.mark.parametrize("below, reason", [
    ("", "it is a file, not a folder"),
    ("sub", "it is below the file"),
])
def test_an_unwritable_out_is_one_line(tmp_path, capsys, below, reason):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as stop:
        importlib.import_module("models.newton").main(["--out", str(blocker / below)])
    assert stop.value.code == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"cannot write into --out {blocker / below}" in err
    assert reason in err


def test_a_run_clears_the_files_of_the_previous_run_only(tmp_path, capsys):
    out = tmp_path / "out"
    importlib.import_module("models.newton").main(["--out", str(out)])
    first = set(json.loads((out / "report.json").read_text())["files"])
    (out / "my_notes.txt").write_text("mine")
    importlib.import_module("models.worked_example").main(["--out", str(out)])
    assert f"removed the {len(first)} files of the previous run (newton)" in capsys.readouterr().out
    second = set(json.loads((out / "report.json").read_text())["files"])
    left = {p.name for p in out.iterdir()}
    assert left == second | {"my_notes.txt"}
    assert (first - second) and not (first - second) & left  # newton's own pictures are gone


def _report(out):
    return json.loads((out / "report.json").read_text())


def test_ctrl_c_keeps_finished_epochs_and_resume_finishes_exactly(tmp_path, monkeypatch, capsys):
    flags = [*SAMPLE, "--epochs", "4", "--batch-size", "200"]
    whole = softmax_regression.main([*flags, "--out", str(tmp_path / "whole")])

    real_record = tinygrad_hw.train._record

    def stop_in_epoch_3(hist, epoch, *values):
        if epoch == 3:
            raise KeyboardInterrupt
        real_record(hist, epoch, *values)

    monkeypatch.setattr(tinygrad_hw.train, "_record", stop_in_epoch_3)
    out = tmp_path / "cut"
    with pytest.raises(SystemExit) as stop:
        softmax_regression.main([*flags, "--out", str(out)])
    assert stop.value.code == 130
    assert capsys.readouterr().err.strip() == ("interrupted after epoch 2 of 4; resume with "
                                               "--resume")
    cut = _report(out)
    assert cut["interrupted_after_epoch"] == 2 and cut["epochs_run"] == 2
    assert "interrupted after epoch 2 of 4" in (out / "report.md").read_text().splitlines()[0]
    assert (out / "curves.png").stat().st_size > 0

    monkeypatch.setattr(tinygrad_hw.train, "_record", real_record)
    resumed = softmax_regression.main([*flags, "--out", str(out), "--resume"])
    for key in ("test_loss", "test_accuracy", "val_loss", "train_loss", "epochs_run"):
        assert resumed[key] == whole[key], key
    assert "interrupted_after_epoch" not in _report(out)


def test_resume_refuses_a_checkpoint_with_other_flags(tmp_path):
    out = tmp_path / "out"
    softmax_regression.main([*SAMPLE, "--epochs", "1", "--out", str(out)])
    with pytest.raises(SystemExit, match=r"--resume: the checkpoint in .* other settings: "
                                         r"--lr 0.002 \(now 0.01\)"):
        softmax_regression.main([*SAMPLE, "--epochs", "1", "--lr", "0.01", "--out", str(out),
                                 "--resume"])


def test_sigint_prints_one_line_and_exits_130(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "models.softmax_regression", *SAMPLE, "--epochs", "1000",
           "--batch-size", "500", "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.npz").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted after epoch ")
    assert lines[0].endswith(" of 1000; resume with --resume")
    assert _report(out)["interrupted_after_epoch"] >= 1


def test_the_models_need_no_hypothesis():
    """hypothesis is a test dependency: blocked, every model still imports, and one runs."""
    names = ["softmax_regression", "logistic_regression", "l2_sweep", "step_size_study", "mlp",
             "two_layer_net", "nielsen_network", "newton", "worked_example", "grid_search"]
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            + "".join(f"import models.{n}\n" for n in names)
            + "import tinygrad_hw.testing as t; t.assert_grad_close\n"
            + "models.worked_example.main(['--out', sys.argv[1]])\n")
    done = subprocess.run([sys.executable, "-c", code, str(ROOT / "runs" / "no_hypothesis")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_ctrl_c_before_any_report_is_one_line(capsys):
    from models import cli

    def interrupted_main():
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as stop:
        cli.command(interrupted_main)
    assert stop.value.code == 130
    assert capsys.readouterr().err == "interrupted before a report could be written\n"
