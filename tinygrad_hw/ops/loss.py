"""Fused loss primitives, kept fused where a composition would lose accuracy or give
infinite gradients."""

import math

import numpy as np

from ..autograd import Op, apply, const, is_grad_enabled
from .reduce import _shifted, reduce_kept

_LOG_FLOOR = -100.0  # PyTorch clamps log(p) at -100 so p = 0 or 1 gives a finite loss
_EPS = 1e-12


def _targets(a, labels):
    """Index of the labelled class in each row: (n, labels[n]), or the label of one row."""
    return labels if a.ndim == 1 else (np.arange(len(a)), labels)


class CrossEntropy(Op):
    """out_n = ln sum_k e^{x_nk} - x_n,y_n for integer labels y (logits x, classes last),
    then its mean or sum over the examples when `reduction` says so;
    d out_n/dx_nk = softmax(x_n)_k - [k = y_n] (divided by N for the mean).
    Fused for speed: one op in place of log_softmax, indexing, negation and the mean. The
    forward keeps the softmax it computes, so the first-order backward is one subtraction."""

    __slots__ = ("reduction", "probs")

    def __init__(self, reduction: str = "none"):
        self.reduction = reduction

    def params(self):
        return {} if self.reduction == "none" else {"reduction": self.reduction}

    def forward(self, x, labels):
        losses = self._losses(x, labels)
        if self.reduction == "none":
            return losses
        total = np.add.reduce(losses, axis=None)
        return total / losses.size if self.reduction == "mean" else total

    def _scale(self, grad_out):
        """grad_out times d out / d out_n: grad_out itself for 'none' (one per example) and
        'sum', grad_out / N for the mean."""
        n = max(math.prod(self.probs.shape[:-1]), 1)  # a Python int keeps float32 float32
        return grad_out / n if self.reduction == "mean" else grad_out

    def _losses(self, x, labels):
        # shifted by each row's max: no overflow, and a confident right answer's small loss
        # is ln(1 + tiny), right to about 1e-16 absolute (ln(e^10 + e^-10) - 10 would lose
        # everything below 1e-15 relative to 10)
        s, _ = _shifted(x, (x.ndim - 1,))
        e = np.exp(s)
        total = reduce_kept(np.add, e, (e.ndim - 1,))
        e /= total
        self.probs = e
        return np.log(total[..., 0]) - s[_targets(s, labels)]

    def backward(self, grad_out, out, x, labels):
        g = self._scale(grad_out)
        if self.reduction == "none":
            g = g.unsqueeze(-1)
        if is_grad_enabled():  # create_graph: the softmax must stay differentiable
            one_hot = const(np.eye(x.shape[-1], dtype=x.dtype)[labels._data])
            return (x.softmax(axis=-1) - one_hot) * g, None
        return apply(CrossEntropyGrad(self), g, labels), None


class CrossEntropyGrad(Op):
    """out_nk = (softmax(x_n)_k - [k = y_n]) g_n: CrossEntropy's first-order backward, from
    the softmax its forward kept (g: one number, or one per example with a trailing axis).
    Used without create_graph only, so it has no derivative."""

    __slots__ = ("loss",)
    differentiable = False

    def __init__(self, loss: CrossEntropy):
        self.loss = loss

    def params(self):
        return {}

    def forward(self, g, labels):
        d = self.loss.probs * g
        d[_targets(d, labels)] -= g if g.ndim == 0 else g[..., 0]
        return d


class BinaryCrossEntropyWithLogits(Op):
    """out = softplus(x) - x y = max(x, 0) - x y + ln(1 + e^-|x|);
    d out/dx = sigmoid(x) - y, d out/dy = -x.
    Fused for speed (one op instead of four) and exact for logits of any size."""

    __slots__ = ()

    def forward(self, x, y):
        # ln(1 + e^x) - x y written so that nothing cancels: for a confident right answer
        # (x = 40, y = 1) the loss is ln(1 + e^-40) = 4.2e-18, not 40 - 40 = 0
        return np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))

    def backward(self, grad_out, out, x, y):
        gx = grad_out * (x.sigmoid() - y) if x._rg else None
        gy = -grad_out * x if y._rg else None
        return gx, gy


class BinaryCrossEntropy(Op):
    """out = -[y ln p + (1-y) ln(1-p)], each log clamped at -100;
    d out/dp = (p - y) / (p (1-p)), d out/dy = ln(1-p) - ln p.
    Fused so p = 0 or 1 stays finite in value and gradient (p (1-p) floored at 1e-12)."""

    __slots__ = ()

    def forward(self, p, y):
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), _LOG_FLOOR)
            log_1mp = np.maximum(np.log1p(-p), _LOG_FLOOR)
        return -(y * log_p + (1 - y) * log_1mp)

    def backward(self, grad_out, out, p, y):
        gp = grad_out * (p - y) / (p * (1 - p)).maximum(_EPS) if p._rg else None
        gy = None
        if y._rg:
            log_p = p.maximum(_EPS).log().maximum(_LOG_FLOOR)
            log_1mp = (1 - p).maximum(_EPS).log().maximum(_LOG_FLOOR)
            gy = grad_out * (log_1mp - log_p)
        return gp, gy
