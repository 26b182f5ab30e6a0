"""The benchmark suite: every framework's version of a workload computes the same update
(so the speed ratios compare like with like), and the suite runs on tiny settings and writes
valid JSON, with PyTorch and without it. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import workloads as wl

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "benchmarks" / "suite.py"
TINY = ["--quick", "--repeat", "2", "--warmup", "1", "--block-seconds", "0.001",
        "--epoch-repeat", "1", "--epoch-images", "300", "--memory-steps", "40",
        "--ops", "10", "--target", "0.1", "--max-epochs", "1"]


@pytest.mark.parametrize("key", list(wl.WORKLOADS))
def test_one_step_updates_the_weights_as_numpy_does(key):
    diffs = wl.max_weight_difference(wl.WORKLOADS[key])
    for framework, diff in diffs.items():
        if wl.available(framework) is None:
            assert diff <= 1e-5, (framework, diff)
        else:
            assert diff == wl.available(framework)
    assert isinstance(diffs[wl.TG], float)


def test_numpy_step_is_float32_and_learns():
    workload = wl.WORKLOADS["mlp3"]
    impl = wl.build(workload, wl.NUMPY, wl.init_params(workload.sizes))
    X, y = wl.batch(32)
    first = impl.step(X, y)
    for _ in range(20):
        last = impl.step(X, y)
    assert first.dtype == np.float32 and last < first
    assert all(w.dtype == np.float32 for w in impl.weights())


def test_chain_gradients_agree():
    for framework, diff in wl.chain_difference(n_ops=20).items():
        if wl.available(framework) is None:
            assert diff <= 1e-12, (framework, diff)


def _run(tmp_path: Path, code: str, *flags: str) -> tuple[dict, str]:
    out = tmp_path / "results.json"
    argv = [str(SUITE), *TINY, *flags, "--json", str(out)]
    script = (f"import runpy, sys\n{code}\nsys.argv = {argv!r}\n"
              f"runpy.run_path({str(SUITE)!r}, run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text()), done.stdout


def _check_timings(frameworks: dict) -> None:
    assert list(frameworks) == list(wl.FRAMEWORKS)
    numpy = frameworks[wl.NUMPY]
    assert numpy["status"] == "ok" and numpy["x_numpy"] == 1.0
    for r in frameworks.values():
        if r["status"] == "ok":
            assert 0 < r["min"] <= r["q1"] <= r["median"] <= r["q3"] <= r["max"]
            assert len(r["seconds_per_call"]) >= 1


def test_suite_runs_and_writes_json(tmp_path):
    results, stdout = _run(tmp_path, "")
    assert set(results) >= {"machine", "threads", "settings", "steps", "op", "epoch",
                            "memory", "accuracy"}
    assert results["threads"]["OPENBLAS_NUM_THREADS"] == "1"
    assert set(results["steps"]) == set(wl.WORKLOADS)
    for section in [*results["steps"].values(), results["op"], results["epoch"]]:
        _check_timings(section["frameworks"])
    memory = results["memory"]
    assert [r["step"] for r in memory["readings"]] == [4, 40]
    assert isinstance(memory["flat"], bool)
    assert results["accuracy"]["status"] in ("reached", "not reached") or \
        results["accuracy"]["status"].startswith("skipped")
    assert "| workload | framework |" in stdout and "### Memory" in stdout


def test_suite_without_torch_and_with_a_compile(tmp_path):
    """PyTorch hidden: its rows say "not installed". A pass-through tg.compile (when
    tinygrad_hw has none yet) runs the compiled column's code path."""
    code = ("sys.modules['torch'] = None\nimport tinygrad_hw\n"
            "if not hasattr(tinygrad_hw, 'compile'):\n    tinygrad_hw.compile = lambda f: f")
    results, stdout = _run(tmp_path, code, "--sections", "steps,op")
    assert results["machine"]["torch"] == "not installed"
    for section in [*results["steps"].values(), results["op"]]:
        frameworks = section["frameworks"]
        _check_timings(frameworks)
        assert frameworks[wl.TORCH]["status"] == "not installed"
        assert frameworks[wl.TG]["x_torch"] == "not installed"
        assert frameworks[wl.TG_COMPILED]["status"] == "ok"
    assert "not installed" in stdout
    assert "epoch" not in results and "memory" not in results
