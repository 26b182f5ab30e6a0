"""fit(): history, early stopping with restored best weights, checkpoints that resume to the
same result as an uninterrupted run, the NaN stop; metrics; plots; and a smoke test of
softmax regression on the shipped Fashion-MNIST sample."""

import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import tinygrad_hw as tg
from tinygrad_hw import nn
from tinygrad_hw.data import DataLoader
from tinygrad_hw.metrics import accuracy, confusion_matrix, predict_classes
from tinygrad_hw.train import History, TrainingDiverged, fit


def blobs(n=120, d=4, k=3, seed=0, flip=False):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3, size=(k, d))
    y = rng.integers(0, k, n)
    X = centers[y] + rng.normal(size=(n, d))
    return X, ((k - 1 - y) if flip else y)


def setup(lr=0.1, seed=0, **kw):
    X, y = blobs(seed=seed)
    model = nn.Linear(4, 3, rng=seed)
    opt = tg.optim.SGD(model.parameters(), lr=lr, **kw)
    return model, opt, DataLoader(X, y, batch_size=16, seed=seed)


def test_fit_learns_and_records_history():
    model, opt, train = setup()
    Xv, yv = blobs(n=60, seed=0)
    hist = fit(model, opt, train, DataLoader(Xv, yv, 32, shuffle=False), epochs=5,
               progress=False)
    assert hist.epoch == [1, 2, 3, 4, 5]
    assert len(hist.step_loss) == 5 * len(train)
    assert hist.train_loss[-1] < hist.train_loss[0]
    assert hist.val_accuracy[-1] > 0.9
    assert hist.stopped_early_at == 0 and 1 <= hist.best_epoch <= 5


def test_early_stopping_on_a_plateau():
    model, opt, train = setup(lr=0.0)  # nothing changes; the loss only wobbles by rounding
    hist = fit(model, opt, train, epochs=20, patience=3, min_delta=1e-9, progress=False)
    assert hist.best_epoch == 1
    assert hist.stopped_early_at == 4
    assert hist.epoch == [1, 2, 3, 4]


def test_early_stopping_restores_the_best_weights():
    X, y = blobs(seed=1)
    Xv, yv = blobs(seed=1, flip=True)  # validation labels disagree: val loss rises

    def run(epochs, patience=None):
        model = nn.Linear(4, 3, rng=0)
        opt = tg.optim.SGD(model.parameters(), lr=0.2)
        hist = fit(model, opt, DataLoader(X, y, 16), DataLoader(Xv, yv, 60), epochs=epochs,
                   patience=patience, progress=False)
        return model, hist

    after_one, _ = run(1)
    model, hist = run(10, patience=2)
    assert hist.best_epoch == 1 and hist.stopped_early_at == 3
    assert_allclose(model.weight.numpy(), after_one.weight.numpy())


def test_resume_equals_uninterrupted_training(tmp_path):
    def run(epochs, path, resume=False):
        model, opt, train = setup(lr=0.05, momentum=0.9)
        hist = fit(model, opt, train, epochs=epochs, checkpoint=path, resume=resume,
                   progress=False)
        return model, hist

    full, full_hist = run(4, tmp_path / "full.npz")
    run(2, tmp_path / "part.npz")
    resumed, resumed_hist = run(4, tmp_path / "part.npz", resume=True)
    assert_array_equal(resumed.weight.numpy(), full.weight.numpy())
    assert_array_equal(resumed.bias.numpy(), full.bias.numpy())
    assert resumed_hist.epoch == [1, 2, 3, 4]
    assert_array_equal(resumed_hist.step_loss, full_hist.step_loss)
    assert tg.load(tmp_path / "part.npz")["epoch"] == 4


def test_nan_loss_stops_with_the_step_and_keeps_the_last_checkpoint(tmp_path):
    model, opt, train = setup()
    calls = {"n": 0}

    def poisoned(out, y):
        calls["n"] += 1
        loss = tg.cross_entropy(out, y)
        return loss * np.nan if calls["n"] == len(train) + 3 else loss

    path = tmp_path / "ckpt.npz"
    with pytest.raises(TrainingDiverged, match=r"nan at epoch 2, step 3 of 8.*kept"):
        fit(model, opt, train, epochs=3, loss_fn=poisoned, checkpoint=path, progress=False)
    assert tg.load(path)["epoch"] == 1
    assert not [f for f in os.listdir(tmp_path) if f != "ckpt.npz"]


def test_regularizer_shrinks_weights_but_history_keeps_the_data_loss():
    def run(lr, lam):
        model, opt, train = setup(lr=lr)
        reg = None if lam is None else (lambda m: tg.l2_penalty(m.weight, lam))
        return model, fit(model, opt, train, epochs=3, progress=False, regularizer=reg)

    plain, _ = run(0.1, None)
    shrunk, _ = run(0.1, 0.5)
    assert np.linalg.norm(shrunk.weight.numpy()) < 0.5 * np.linalg.norm(plain.weight.numpy())
    frozen, hist = run(0.0, 0.5)  # lr 0: the recorded loss is exactly the data loss
    data_loss = tg.train.evaluate(frozen, DataLoader(*blobs(), 16))[0]
    assert hist.train_loss[-1] == pytest.approx(data_loss, rel=1e-9)


def test_history_round_trip():
    h = History(epoch=[1, 2], train_loss=[1.0, 0.5], step_loss=[1.0], best_epoch=2)
    assert History.from_dict(h.to_dict()) == h


def test_metrics():
    logits = np.array([[2.0, 0.1, 0.3], [0.0, 1.0, -1.0], [0.2, 0.1, 0.9]])
    assert predict_classes(logits).tolist() == [0, 1, 2]
    assert predict_classes(np.array([-1.0, 2.0])).tolist() == [0, 1]
    assert accuracy(logits, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    assert accuracy(tg.Tensor(logits), np.eye(3)[[0, 1, 2]]) == 1.0
    cm = confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], num_classes=3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    with pytest.raises(ValueError, match="predictions"):
        accuracy(logits, np.array([0, 1]))


def png_size(path):
    import matplotlib.image

    return matplotlib.image.imread(path).shape[:2]


def test_plots_write_pngs(tmp_path):
    h = History(epoch=[1, 2, 3], train_loss=[1.0, 0.7, 0.6], val_loss=[1.1, 0.9, 0.95],
                train_accuracy=[0.5, 0.7, 0.8], val_accuracy=[0.45, 0.6, 0.58],
                stopped_early_at=3)
    rows, cols = png_size(tg.plots.plot_curves(h, tmp_path / "curves.png"))
    assert cols > 2 * rows > 400
    w = np.random.default_rng(0).normal(size=(10, 785))
    path = tg.plots.plot_weight_images(w, tmp_path / "w.png", titles=list("abcdefghij"))
    rows, cols = png_size(path)
    assert cols > rows > 200
    tg.plots.plot_xy([1, 0.1, 0.01, 0], {"||w||": [1, 2, 3, 4]}, tmp_path / "n.png",
                     "lambda", "norm", log_x=True)
    tg.plots.plot_samples(np.zeros((10, 28, 28)), list(range(10)), tmp_path / "s.png")
    tg.plots.plot_step_losses({"lr=0.1": [3, 2, 1]}, tmp_path / "l.png")
    assert all((tmp_path / f).stat().st_size > 1000 for f in ("n.png", "s.png", "l.png"))


def test_softmax_regression_on_the_shipped_sample():
    images, labels = tg.data.fashion_mnist("train", source="sample")
    X = tg.data.prepare_images(images)
    Xtr, ytr, Xva, yva = tg.data.train_val_split(X, labels, 0.2, seed=0)
    model = nn.Linear(784, 10, init="zeros")
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    hist = fit(model, opt, DataLoader(Xtr, ytr, 64), DataLoader(Xva, yva, 500, shuffle=False),
               epochs=3, progress=False)
    assert hist.val_accuracy[-1] > 0.72
    assert hist.train_loss[-1] < hist.train_loss[0]


# ----------------------------------------------------------------------- bad data
def _poisoned(X, row, value=np.nan):
    X = X.copy()
    X[row, 1] = value
    return X


@pytest.mark.parametrize("value, kind", [(np.nan, "NaN"), (np.inf, "inf")])
def test_nan_in_a_training_batch_names_the_batch_not_the_learning_rate(tmp_path, value, kind):
    X, y = blobs()
    X = _poisoned(X, 20, value)  # no shuffle, batches of 16: row 20 is in the second batch
    model = nn.Linear(4, 3, rng=0)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TrainingDiverged) as info:
        fit(model, opt, DataLoader(X, y, 16, shuffle=False), epochs=2, progress=False,
            checkpoint=tmp_path / "c.npz")
    msg = str(info.value)
    assert f"at epoch 1, step 2 of 8: the input batch (index 1 in the epoch) contains {kind}"\
        in msg
    assert f"{kind} in X (1 value)" in msg and "learning rate" not in msg
    assert "no checkpoint was written" in msg


def test_nan_in_training_targets_is_named_too():
    X, _ = blobs()
    t = np.zeros((len(X), 1))
    t[3, 0] = np.nan
    model = nn.Linear(4, 1, rng=0)
    with pytest.raises(TrainingDiverged, match=r"step 1 of 8: .* contains NaN in y \(1 value\)"):
        fit(model, tg.optim.SGD(model.parameters(), lr=0.01), DataLoader(X, t, 16, shuffle=False),
            loss_fn=tg.mse_loss, progress=False)


def test_real_divergence_still_suggests_a_smaller_learning_rate():
    X, y = blobs()
    model = nn.Linear(4, 1, rng=0)
    opt = tg.optim.SGD(model.parameters(), lr=1e6)
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as info:
        fit(model, opt, DataLoader(X * 1e3, y[:, None] * 1e3, 16), loss_fn=tg.mse_loss,
            epochs=50, progress=False)
    assert "Try a smaller learning rate" in str(info.value)
    assert "input batch" not in str(info.value)


def test_nan_in_the_validation_set_stops_fit_and_names_it(tmp_path):
    model, opt, train = setup()
    Xv, yv = blobs(n=60, seed=3)
    val = DataLoader(_poisoned(Xv, 45), yv, 20, shuffle=False)  # the third batch
    path = tmp_path / "ckpt.npz"
    with pytest.raises(TrainingDiverged) as info:
        fit(model, opt, train, val, epochs=3, checkpoint=path, progress=False)
    msg = str(info.value)
    assert "validation loss is nan after epoch 1: validation batch 3 of 3 (index 2) contains " \
        "NaN in X (1 value)" in msg
    assert "learning rate" not in msg and not path.exists()


def test_a_finite_validation_set_with_a_nan_loss_is_not_silent():
    model, opt, train = setup()
    Xv, yv = blobs(n=20, seed=3)

    def loss_fn(out, y):  # finite on training batches, inf on the validation set
        return tg.cross_entropy(out, y) * (np.inf if len(y) == 20 else 1.0)

    with pytest.raises(TrainingDiverged, match="validation loss is inf after epoch 1 although "
                                               "its data is finite: the model diverged"):
        fit(model, opt, train, DataLoader(Xv, yv, 20), loss_fn=loss_fn, progress=False)


@pytest.mark.parametrize("which", ["training", "validation"])
@pytest.mark.parametrize("n, batch_size", [(0, 4), (3, 8)])
def test_a_loader_without_batches_is_a_value_error(which, n, batch_size):
    X, y = blobs()
    empty = DataLoader(X[:n], y[:n], batch_size, drop_last=True)
    model = nn.Linear(4, 3, rng=0)
    loaders = (empty, None) if which == "training" else (DataLoader(X, y, 16), empty)
    with pytest.raises(ValueError, match=f"fit: the {which} loader yields no batch "
                                         rf"\({n} examples, batch_size={batch_size}, "
                                         "drop_last=True"):
        fit(model, tg.optim.SGD(model.parameters(), lr=0.1), *loaders, progress=False)


def test_a_loader_without_len_and_without_batches_is_a_value_error():
    model = nn.Linear(4, 3, rng=0)

    class NoBatches:
        def __len__(self):
            return 1  # claims a batch but yields none

        def __iter__(self):
            return iter(())

    with pytest.raises(ValueError, match="the training loader yielded no batch in epoch 1"):
        fit(model, tg.optim.SGD(model.parameters(), lr=0.1), NoBatches(), progress=False)
