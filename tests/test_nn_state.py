"""nn.Module.state_dict / load_state_dict: copies, round trips, Tensors and dtypes, kept
parameter identity, every error reported at once, all-or-nothing loading."""

import numpy as np
import pytest
from test_nn import Net  # the shared example module

import tinygrad_hw as tg
import tinygrad_hw.optim as optim
from tinygrad_hw import Tensor, nn


def test_state_dict_is_a_copy_and_round_trips():
    net, other = Net(), Net()
    with tg.no_grad():
        for p in other.parameters():
            p -= 1.0
    state = net.state_dict()
    assert list(state) == [n for n, _ in net.named_parameters()]
    assert all(type(v) is np.ndarray for v in state.values())
    state["scale"][:] = 99.0
    assert net.scale.tolist() == [1.0, 1.0]
    result = other.load_state_dict(net.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (_, a), (_, b) in zip(net.named_parameters(), other.named_parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    x = np.ones((2, 3))
    np.testing.assert_array_equal(net(x).numpy(), other(x).numpy())


def test_load_state_dict_accepts_tensors_and_casts_to_the_parameter_dtype():
    lin = nn.Linear(2, 2, dtype=np.float32)
    lin.load_state_dict({"weight": Tensor(np.eye(2)), "bias": nn.Parameter([1.0, 2.0])})
    assert lin.weight.dtype == np.float32 and lin.weight.tolist() == [[1, 0], [0, 1]]
    assert lin.bias.tolist() == [1.0, 2.0]


def test_load_state_dict_keeps_parameter_identity_so_optimizers_still_work():
    net = Net()
    before = {n: p for n, p in net.named_parameters()}
    opt = optim.SGD(net.parameters(), lr=0.1)
    net.load_state_dict({k: np.zeros_like(v) for k, v in net.state_dict().items()})
    assert all(p is before[n] for n, p in net.named_parameters())
    assert all(p.requires_grad and isinstance(p, nn.Parameter) for p in net.parameters())
    net(np.ones((1, 3))).sum().backward()
    opt.step()
    assert net.offset.tolist() == [-0.1, -0.1]  # d out/d offset = 1


def _mangled(state):
    bad = dict(state)
    del bad["hidden.bias"], bad["out.1.weight"]
    bad["hidden.weight"] = np.zeros((3, 4))
    bad["scale"] = np.zeros(3)
    bad["extra"] = np.zeros(1)
    bad["out.2.weight"] = np.zeros(1)
    return bad


def test_load_state_dict_reports_every_problem_at_once_and_loads_nothing():
    net = Net()
    before = net.state_dict()
    good = {k: v + 1 for k, v in before.items()}
    with pytest.raises(nn.StateDictError) as info:
        net.load_state_dict({**_mangled(good)})
    msg = str(info.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert "missing keys: 'hidden.bias', 'out.1.weight'" in msg
    assert "unexpected keys: 'extra', 'out.2.weight'" in msg
    assert "wrong shape for 'scale': checkpoint (3,), model (2,)" in msg
    assert "wrong shape for 'hidden.weight': checkpoint (3, 4), model (4, 3)" in msg
    assert "Nothing was loaded" in msg
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)
    for k, v in net.state_dict().items():  # all-or-nothing: the good keys were not loaded
        np.testing.assert_array_equal(v, before[k])


@pytest.mark.parametrize("which", ["missing", "unexpected", "shape", "dtype"])
def test_load_state_dict_each_error_alone(which):
    lin = nn.Linear(2, 3)
    before = lin.state_dict()
    state = {k: v + 1 for k, v in before.items()}
    if which == "missing":
        del state["bias"]
        pattern = "missing keys: 'bias'"
    elif which == "unexpected":
        state["bias2"] = np.zeros(3)
        pattern = "unexpected keys: 'bias2'"
    elif which == "shape":
        state["weight"] = np.zeros((2, 3))
        pattern = r"wrong shape for 'weight': checkpoint \(2, 3\), model \(3, 2\)"
    else:
        state["bias"] = np.array(["a", "b", "c"])
        pattern = "'bias': dtype <U1 is not numeric"
    with pytest.raises(nn.StateDictError, match=pattern):
        lin.load_state_dict(state)
    for k, v in lin.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict_and_checkpoint_hint():
    lin = nn.Linear(2, 3)
    result = lin.load_state_dict({"weight": np.ones((3, 2)), "junk": np.ones(1)}, strict=False)
    assert result == (["bias"], ["junk"])
    assert lin.weight.numpy().sum() == 6
    with pytest.raises(nn.StateDictError, match="wrong shape"):
        lin.load_state_dict({"weight": np.ones((2, 2))}, strict=False)
    with pytest.raises(nn.StateDictError, match=r"checkpoint\['model'\]"):
        lin.load_state_dict({"model": lin.state_dict(), "epoch": 3})
    with pytest.raises(TypeError, match="expected a dict"):
        lin.load_state_dict([np.ones((3, 2))])


def test_loading_invalidates_a_graph_recorded_before():
    lin = nn.Linear(2, 1)
    loss = lin(np.ones((1, 2))).sum()
    lin.load_state_dict(lin.state_dict())
    with pytest.raises(RuntimeError, match="updated in place"):
        loss.backward()
