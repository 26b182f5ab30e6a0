"""Optimizer state_dict / load_state_dict: numpy copies, restored hyperparameters, exact
resumption (also through tg.save/tg.load), and errors that list everything and change nothing."""

import numpy as np
import pytest

import tinygrad_hw as tg
import tinygrad_hw.optim as optim
from tinygrad_hw import nn
from tinygrad_hw.io import load, save


def _train(model, opt, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        X, y = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
        opt.zero_grad()
        tg.cross_entropy(model(X), y).backward()
        opt.step()


def _setup(kind):
    model = nn.Sequential(nn.Linear(4, 5, rng=0), nn.Tanh(), nn.Linear(5, 3, rng=1))
    if kind == "sgd":
        return model, optim.SGD(model.parameters(), 0.1, momentum=0.9, nesterov=True)
    return model, optim.Adam(model.parameters(), lr=0.01, weight_decay=0.01)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("via_file", [False, True])
def test_state_round_trip_resumes_with_identical_results(kind, via_file, tmp_path):
    model, opt = _setup(kind)
    _train(model, opt, 3, seed=0)
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict()}
    if via_file:
        save(ckpt, tmp_path / "ckpt.npz")
        ckpt = load(tmp_path / "ckpt.npz")
    _train(model, opt, 4, seed=1)

    fresh, fresh_opt = _setup(kind)
    fresh.load_state_dict(ckpt["model"])
    fresh_opt.load_state_dict(ckpt["optimizer"])
    _train(fresh, fresh_opt, 4, seed=1)
    for a, b in zip(model.parameters(), fresh.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_state_dict_is_numpy_copies_and_restores_hyperparameters():
    model, opt = _setup("adam")
    _train(model, opt, 2, seed=0)
    sd = opt.state_dict()
    assert str(sd["type"]) == "Adam" and int(sd["n_params"]) == 4
    assert sorted(sd["state"]) == ["0", "1", "2", "3"]
    assert int(sd["state"]["0"]["step"]) == 2
    saved = sd["state"]["0"]["exp_avg"].copy()
    _train(model, opt, 1, seed=1)
    np.testing.assert_array_equal(sd["state"]["0"]["exp_avg"], saved)
    other = optim.Adam(model.parameters(), lr=0.5, betas=(0.5, 0.5))
    other.load_state_dict(sd)
    assert other.lr == 0.01 and other.betas == (0.9, 0.999) and other.weight_decay == 0.01
    sgd = optim.SGD(model.parameters(), lr=0.1)
    assert sgd.state_dict()["state"] == {}
    optim.SGD(model.parameters(), lr=0.2).load_state_dict(sgd.state_dict())


def test_load_state_errors_list_everything_and_change_nothing():
    model, opt = _setup("adam")
    _train(model, opt, 1, seed=0)
    sd = opt.state_dict()
    sd["state"]["0"]["exp_avg"] = np.zeros((9, 9))
    del sd["state"]["1"]["step"]
    sd["state"]["7"] = {}
    sd["hyperparams"]["lr"] = np.array(0.5)
    target_model, target = _setup("adam")
    with pytest.raises(nn.StateDictError) as info:
        target.load_state_dict(sd)
    msg = str(info.value)
    assert "state['0']['exp_avg']: expected shape (5, 4), got (9, 9)" in msg
    assert "state['1']: missing keys: 'step'" in msg
    assert "unexpected entry '7'" in msg and "Nothing was loaded" in msg
    assert target.state == {} and target.lr == 0.01

    with pytest.raises(nn.StateDictError, match="the state is from Adam, not SGD"):
        optim.SGD(model.parameters(), 0.1).load_state_dict(opt.state_dict())
    with pytest.raises(nn.StateDictError, match="for 4 parameters, this optimizer has 2"):
        optim.Adam(model[0].parameters()).load_state_dict(opt.state_dict())
    with pytest.raises(nn.StateDictError, match="missing keys: 'hyperparams'"):
        optim.Adam(model.parameters()).load_state_dict({"type": "Adam", "n_params": 4,
                                                        "state": {}})
    bad = opt.state_dict()
    bad["hyperparams"]["lr"] = np.array(-1.0)
    with pytest.raises(nn.StateDictError, match="lr must be a number >= 0"):
        target.load_state_dict(bad)
