"""Assignment: backward formulas of four ops, written in numpy (instructor mode).

The student's file defines, for each op, its backward formula

    <op>_backward(grad_out, out, x) -> grad_x

where x is the op's input, out = op(x) its output and grad_out = dC/d out; it returns
dC/dx, an array of x's shape. Each formula is checked against the framework's own derivative
by `tg.testing.check_backward` on 50 hypothesis inputs (shapes up to 3-D) from the op's
domain; a wrong formula fails with the diagnosis of the slip as feedback.
"""

import tinygrad_hw as tg
from tinygrad_hw.grading import check


@check(points=2, name="sigmoid backward")
def sigmoid_backward(sub):
    # sigma'(x) = sigma(x) (1 - sigma(x)) = out (1 - out)
    tg.testing.check_backward(tg.sigmoid, sub.sigmoid_backward)


@check(points=2, name="tanh backward")
def tanh_backward(sub):
    # tanh'(x) = 1 - tanh(x)^2 = 1 - out^2
    tg.testing.check_backward(tg.tanh, sub.tanh_backward)


@check(points=4, name="softmax backward")
def softmax_backward(sub):
    # softmax over the last axis: the whole Jacobian, out * (g - sum_k g_k out_k)
    tg.testing.check_backward(tg.softmax, sub.softmax_backward)


@check(points=2, name="log backward")
def log_backward(sub):
    # d ln x / dx = 1 / x, checked on x in [0.1, 4]
    tg.testing.check_backward(tg.log, sub.log_backward)
