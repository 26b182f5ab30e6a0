"""tinygrad_hw.nn: Module registration and names, Parameter, Linear (forward, gradients, init),
Sequential and activations, state_dict / load_state_dict, train/eval, repr."""

import copy
import math

import numpy as np
import pytest

import tinygrad_hw as tg
from tinygrad_hw import Tensor, nn
from tinygrad_hw.testing import gradcheck


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(2))
        self.hidden = nn.Linear(3, 4, rng=0)
        self.note = "not registered"
        self.plain = Tensor(np.zeros(2), requires_grad=True)  # not a Parameter: not registered
        self.out = nn.Sequential(nn.Sigmoid(), nn.Linear(4, 2, rng=1))
        self.offset = nn.Parameter(np.zeros(2))

    def forward(self, x):
        return self.out(self.hidden(x)) * self.scale + self.offset


# ----------------------------------------------------------------------- registration
def test_parameters_and_modules_register_in_assignment_order():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "offset", "hidden.weight", "hidden.bias", "out.1.weight",
                     "out.1.bias"]
    assert [p.shape for p in net.parameters()] == [(2,), (2,), (4, 3), (4,), (2, 4), (2,)]
    assert [n for n, _ in net.named_modules()] == ["", "hidden", "out", "out.0", "out.1"]
    assert [n for n, _ in net.named_children()] == ["hidden", "out"]
    assert list(net.children()) == [net.hidden, net.out]
    assert len(list(net.modules())) == 5
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale", "offset"]
    assert net.note == "not registered" and net.plain.shape == (2,)


def test_parameter_names_match_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2, bias=False))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2, bias=False)
    )
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert repr(ours).replace("axis", "dim") == repr(theirs)


def test_unknown_attribute_is_an_attribute_error():
    net = Net()
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'hiden'"):
        net.hiden  # noqa: B018
    assert not hasattr(net, "weight")
    assert getattr(net, "missing", "default") == "default"
    assert "hidden" in dir(net) and "scale" in dir(net)


def test_forgetting_super_init_gives_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_reassignment_keeps_the_position_and_type_is_checked():
    net = Net()
    net.scale = nn.Parameter(np.full(2, 3.0))
    assert [n for n, _ in net.named_parameters()][0] == "scale"
    assert net.scale.tolist() == [3.0, 3.0]
    with pytest.raises(TypeError, match="'scale', a registered Parameter"):
        net.scale = Tensor(np.ones(2))
    with pytest.raises(TypeError, match="registered Module"):
        net.hidden = "oops"
    net.offset = None  # None is allowed and unregisters, as in PyTorch
    assert net.offset is None and "offset" not in dict(net.named_parameters())
    del net.hidden
    assert not hasattr(net, "hidden")


def test_call_runs_forward_and_base_forward_is_missing():
    net = Net()
    x = np.ones((5, 3))
    np.testing.assert_array_equal(net(x).numpy(), net.forward(x).numpy())
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(x)


def test_shared_parameters_appear_once_in_parameters_but_under_every_name_in_state():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.Tanh(), lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    seq.load_state_dict(seq.state_dict())


# ----------------------------------------------------------------------- Parameter
def test_parameter_is_a_float_leaf_requiring_grad_and_ops_give_plain_tensors():
    p = nn.Parameter([1, 2, 3])
    assert isinstance(p, Tensor) and p.dtype == np.float64 and p.requires_grad and p.is_leaf
    assert nn.Parameter(np.zeros(2, np.float32)).dtype == np.float32
    t = Tensor([1.0, 2.0])
    q = nn.Parameter(t)
    assert type(q) is nn.Parameter and q is not t and q.tolist() == [1.0, 2.0]
    for out in (p + 1, p * p, p.T, p.detach(), p[0], p.sum(), -p, p.exp()):
        assert type(out) is Tensor
    assert not nn.Parameter(np.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\nTensor([1., 2., 3.]")
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.zeros(2), dtype=np.int64)


def test_parameter_updates_in_place_under_no_grad():
    net = Net()
    w = net.hidden.weight
    (net(np.ones((2, 3))) ** 2).sum().backward()
    with tg.no_grad():
        net.hidden.weight -= 0.1 * net.hidden.weight.grad
    assert net.hidden.weight is w and isinstance(w, nn.Parameter)


def test_deepcopy_gives_independent_parameters():
    net = Net()
    twin = copy.deepcopy(net)
    assert twin.hidden.weight is not net.hidden.weight
    assert isinstance(twin.hidden.weight, nn.Parameter) and twin.hidden.weight.requires_grad
    np.testing.assert_array_equal(twin.hidden.weight.numpy(), net.hidden.weight.numpy())
    with tg.no_grad():
        twin.hidden.weight -= 1.0
    assert not np.allclose(twin.hidden.weight.numpy(), net.hidden.weight.numpy())


# ----------------------------------------------------------------------- Linear
def test_linear_forward_matches_numpy():
    lin = nn.Linear(3, 2, rng=0)
    W, b = lin.weight.numpy(), lin.bias.numpy()
    assert W.shape == (2, 3) and b.shape == (2,)
    x = np.random.default_rng(1).normal(size=(5, 3))
    np.testing.assert_allclose(lin(x).numpy(), x @ W.T + b, atol=1e-12)
    np.testing.assert_allclose(lin(x[0]).numpy(), x[0] @ W.T + b, atol=1e-12)
    x3 = x.reshape(5, 1, 3)
    np.testing.assert_allclose(lin(Tensor(x3)).numpy(), x3 @ W.T + b, atol=1e-12)
    no_bias = nn.Linear(3, 2, bias=False, rng=0)
    assert no_bias.bias is None and len(list(no_bias.parameters())) == 1
    np.testing.assert_allclose(no_bias(x).numpy(), x @ no_bias.weight.numpy().T, atol=1e-12)


def test_linear_gradients_gradcheck_and_closed_form():
    rng = np.random.default_rng(2)
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    assert gradcheck(lambda x, W, b: nn.linear(x, W, b).sigmoid(), x, W, b)
    lin = nn.Linear(3, 2, rng=3)
    assert gradcheck(lambda x: lin(x).tanh(), x)
    g = rng.normal(size=(4, 2))
    lin(x).backward(g)
    np.testing.assert_allclose(lin.weight.grad.numpy(), g.T @ x, atol=1e-12)  # BP4
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.sum(axis=0), atol=1e-12)  # BP3


def test_linear_zero_init_is_the_course_start():
    lin = nn.Linear(785, 10, init="zeros")
    assert not lin.weight.numpy().any() and not lin.bias.numpy().any()


def test_linear_default_init_bounds_and_spread():
    lin = nn.Linear(400, 300, rng=0)
    bound = 1 / math.sqrt(400)
    for p in (lin.weight.numpy(), lin.bias.numpy()):
        assert np.all(np.abs(p) <= bound)
        assert p.min() < -0.9 * bound and p.max() > 0.9 * bound
    np.testing.assert_allclose(lin.weight.numpy().std(), bound / math.sqrt(3), rtol=0.02)
    normal = nn.Linear(400, 300, init="normal", rng=0)
    np.testing.assert_allclose(normal.weight.numpy().std(), bound, rtol=0.02)
    assert not normal.bias.numpy().any()


def test_linear_seeded_init_is_reproducible():
    a, b, c = nn.Linear(5, 4, rng=7), nn.Linear(5, 4, rng=7), nn.Linear(5, 4, rng=8)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())
    assert not np.array_equal(a.weight.numpy(), c.weight.numpy())
    gen1, gen2 = np.random.default_rng(0), np.random.default_rng(0)
    first, second = nn.Linear(5, 4, rng=gen1), nn.Linear(5, 4, rng=gen1)
    assert not np.array_equal(first.weight.numpy(), second.weight.numpy())
    np.testing.assert_array_equal(nn.Linear(5, 4, rng=gen2).weight.numpy(), first.weight.numpy())
    f32 = nn.Linear(5, 4, rng=7, dtype=np.float32)
    np.testing.assert_array_equal(f32.weight.numpy(), a.weight.numpy().astype(np.float32))


def test_linear_dtype_and_argument_errors():
    lin = nn.Linear(3, 2, dtype=np.float32)
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    assert lin(np.ones((1, 3), np.float32)).dtype == np.float32
    assert nn.Linear(3, 2).weight.dtype == np.float64
    with pytest.raises(TypeError, match="float dtype"):
        nn.Linear(3, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="init must be one of"):
        nn.Linear(3, 2, init="xavier")
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 2)
    with pytest.raises(ValueError, match=r"input of shape \(5, 4\) should have 3 features"):
        lin(np.ones((5, 4), np.float32))


# ----------------------------------------------------------------------- Sequential, activations
def test_sequential_indexing_len_iteration():
    layers = [nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    with pytest.raises(IndexError, match="out of range for 3"):
        seq[3]
    x = np.random.default_rng(0).normal(size=(6, 4))
    np.testing.assert_allclose(seq(x).numpy(), seq[2](seq[1](seq[0](x))).numpy())
    named = nn.Sequential({"fc": nn.Linear(4, 3), "act": nn.Tanh()})
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    seq.append(nn.Softmax())
    assert len(seq) == 4 and [n for n, _ in seq.named_modules()][-1] == "3"
    with pytest.raises(TypeError, match="item 1 is a function"):
        nn.Sequential(nn.Linear(2, 2), tg.relu)


def test_activations_match_numpy():
    x = np.random.default_rng(0).normal(size=(3, 4)) * 3
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x)), atol=1e-12)
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), np.maximum(x, 0))
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(x), atol=1e-12)
    e = np.exp(x - x.max(axis=0))
    np.testing.assert_allclose(nn.Softmax(axis=0)(x).numpy(), e / e.sum(axis=0), atol=1e-12)
    assert nn.Softmax()(x).numpy().sum(axis=-1) == pytest.approx(np.ones(3))
    assert repr(nn.Softmax(axis=0)) == "Softmax(axis=0)" and repr(nn.ReLU()) == "ReLU()"


def test_repr_is_like_pytorch():
    net = Net()
    assert repr(net) == (
        "Net(\n"
        "  (hidden): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (out): Sequential(\n"
        "    (0): Sigmoid()\n"
        "    (1): Linear(in_features=4, out_features=2, bias=True)\n"
        "  )\n"
        ")"
    )


# ----------------------------------------------------------------------- train / eval / grads
def test_train_eval_set_the_flag_everywhere():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(TypeError, match="bool"):
        net.train("no")


def test_module_zero_grad():
    net = Net()
    net(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
