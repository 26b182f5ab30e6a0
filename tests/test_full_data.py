"""The accuracy targets on the full Fashion-MNIST test set (Debian package
dataset-fashion-mnist; skipped without it): softmax regression >= 84.5%, the MLP >= 88.0%,
each with its default flags."""

import importlib

import pytest

from models.runner import full_data_installed

pytestmark = pytest.mark.skipif(not full_data_installed(),
                                reason="full Fashion-MNIST not installed "
                                       "(apt-get install dataset-fashion-mnist)")


@pytest.mark.parametrize("name,target", [("softmax_regression", 0.845), ("mlp", 0.880)])
def test_accuracy_target_on_the_full_test_set(name, target, tmp_path):
    module = importlib.import_module(f"models.{name}")
    report = module.main(["--dataset", "fashion-mnist", "--out", str(tmp_path), "--no-progress"])
    assert report["n_test"] == 10_000
    assert report["test_accuracy"] >= target
