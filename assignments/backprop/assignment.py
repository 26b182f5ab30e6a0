"""Assignment: backpropagation's four equations, and the 2-2-2 worked example by hand.

The student's file defines

    backprop(weights, biases, x, y) -> (nabla_b, nabla_w)
        a sigmoid network in Nielsen's notation, one example: weights[l-1] = W^l of shape
        (n_l, n_(l-1)), biases[l-1] = b^l of shape (n_l,), x = a^0 of shape (n_0,), y the
        target of shape (n_L,); z^l = W^l a^(l-1) + b^l, a^l = sigma(z^l) on every layer
        (the output too), the quadratic cost C = 1/2 ||a^L - y||^2. Returns the lists
        nabla_b = [dC/db^1, ..., dC/db^L] (each (n_l,)) and nabla_w = [dC/dW^1, ..., dC/dW^L]
        (each (n_l, n_(l-1))). For one example dC/db^l = delta^l (BP3), so nabla_b is also
        the list of deltas checked by BP1 and BP2.

    worked_example_update() -> {"w1": ..., ..., "w8": ...}
        the eight weights of the classic 2-2-2 example (docs/course.md section 6) after one
        gradient-descent step with learning rate 0.5 (the biases stay as they are).

backprop is checked layer by layer by tg.testing.check_backprop against autodiff on networks
with layers of different widths (so that a missing transpose cannot go unnoticed); the
updated weights are compared with the published values to 1e-6, 1/8 of the points each.
"""

import numpy as np

import tinygrad_hw as tg
from tinygrad_hw.grading import check
from tinygrad_hw.testing import check_backprop

# the published values after one step (docs/course.md section 6)
UPDATED = {"w1": 0.149780716, "w2": 0.19956143, "w3": 0.24975114, "w4": 0.29950229,
           "w5": 0.35891648, "w6": 0.408666186, "w7": 0.511301270, "w8": 0.561370121}


def _check_network(sub, sizes, seed):
    rng = np.random.default_rng(seed)
    params = []  # [W^1, b^1, ..., W^L, b^L]
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)]
    x, y = rng.normal(size=sizes[0]), rng.uniform(0, 1, size=sizes[-1])

    def loss_fn(*params):  # quadratic cost of one example, and [z^1, ..., z^L]
        a, zs = tg.Tensor(x), []
        for W, b in zip(params[::2], params[1::2]):
            zs.append(W @ a + b)
            a = tg.sigmoid(zs[-1])
        diff = a - y
        return (diff * diff).sum() * 0.5, zs

    weights, biases = [p.copy() for p in params[::2]], [p.copy() for p in params[1::2]]
    nabla_b, nabla_w = sub.backprop(weights, biases, x.copy(), y.copy())
    nabla_b, nabla_w = list(nabla_b), list(nabla_w)
    L = len(sizes) - 1
    assert len(nabla_b) == L and len(nabla_w) == L, (
        f"backprop returned {len(nabla_b)} bias gradients and {len(nabla_w)} weight gradients "
        f"for a network of {L} layers: it must return one of each per layer")
    grads = [g for pair in zip(nabla_w, nabla_b) for g in pair]  # [dC/dW^1, dC/db^1, ...]
    check_backprop(loss_fn, params, nabla_b, grads, inputs=x)


@check(points=2, name="backprop: one sigmoid layer (BP1, BP3, BP4)")
def one_layer(sub):
    _check_network(sub, [3, 2], seed=0)


@check(points=3, name="backprop: one hidden layer (BP2)")
def hidden_layer(sub):
    _check_network(sub, [3, 4, 2], seed=1)


@check(points=1, name="backprop: three layers")
def deep(sub):
    _check_network(sub, [4, 5, 3, 2], seed=2)


@check(points=4, name="worked example: the weights after one step")
def worked_example(sub):
    got = sub.worked_example_update()
    wrong = []
    for name, value in UPDATED.items():
        mine = got.get(name) if isinstance(got, dict) else None
        if mine is None:
            wrong.append(f"{name}: missing (published {value})")
        elif not abs(float(mine) - value) <= 1e-6:
            wrong.append(f"{name}: yours {float(mine):.9f}, published {value}")
    if len(wrong) == len(UPDATED):
        raise AssertionError("no updated weight matches the published values to 1e-6:\n  "
                             + "\n  ".join(wrong))
    if wrong:
        return ((len(UPDATED) - len(wrong)) / len(UPDATED),
                f"{len(UPDATED) - len(wrong)} of 8 weights right; wrong:\n  " + "\n  ".join(wrong))
    return None
