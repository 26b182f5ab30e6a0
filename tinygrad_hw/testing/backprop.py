"""check_backprop: a student's backpropagation for a layered network (delta^l by BP1/BP2, dC/db^l
and dC/dW^l by BP3/BP4) against autodiff, layer by layer, naming the first wrong layer and
equation with a diagnosis of the slip."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import gradients
from ..tensor import Tensor
from . import network_facts as facts
from .derivation import (
    DerivationMismatch,
    _bp4_words,
    _unit_factors,
    _worst_table,
    diagnose,
    tolerance,
)


def _array(x: Any) -> np.ndarray:
    return np.asarray(getattr(x, "_data", x))


def _rows(x: np.ndarray, n: int, columns: bool = False) -> np.ndarray:
    """Examples as rows, (N, n), from (n,), (N, n) or, with columns (or when the last axis
    is not n), (n, N)."""
    if x.ndim == 1 or (x.shape[-1] == n and not columns):
        return x.reshape(-1, n)
    return x.reshape(n, -1).T


def _equation(kind: str, l: int, last: int, linear: bool) -> tuple[str, str]:
    if kind == "delta" and l == last:
        rule = "delta^L = grad_a C" + (", as a linear output layer has sigma' = 1" if linear
                                       else " (.) sigma'(z^L)")
        return "BP1", rule
    if kind == "delta":
        return "BP2", f"delta^{l} = ((W^{l + 1})^T delta^{l + 1}) (.) sigma'(z^{l})"
    if kind == "b":
        return "BP3", f"dC/db^{l}_j = delta^{l}_j, summed over the examples"
    return "BP4", f"dC/dW^{l}_jk = a^{l - 1}_k delta^{l}_j, summed over the examples"


class _Network:
    """What autodiff and the graph say about every layer of loss_fn at params."""

    def __init__(self, loss_fn: Callable, params: Sequence[Any], inputs: Any) -> None:
        self.params = [Tensor(np.asarray(_array(p), dtype=np.float64), requires_grad=True)
                       for p in params]
        loss, zs = loss_fn(*self.params)
        if not isinstance(loss, Tensor) or loss.size != 1:
            raise ValueError("check_backprop: loss_fn must return (scalar loss, [z^1, ..., z^L])")
        if len(self.params) != 2 * len(zs) or not all(isinstance(z, Tensor) for z in zs):
            raise ValueError(f"check_backprop: {len(zs)} pre-activations z^l (Tensors) need "
                             f"2 x {len(zs)} params [W^1, b^1, ...], got {len(self.params)}")
        self.layers = [facts.activation_of(loss, z) for z in zs]
        a0 = _array(inputs) if inputs is not None else facts.network_input(zs[0])
        self.a0 = None if a0 is None else np.asarray(a0, dtype=np.float64)
        self.eps = facts.lowest_precision(loss, *params)
        autos = [np.asarray(g._data, dtype=np.float64) if g is not None else np.zeros(t.shape)
                 for g, t in zip(gradients(loss, list(zs) + self.params), list(zs) + self.params)]
        self.deltas, self.grads = autos[:len(zs)], autos[len(zs):]
        b1 = self.params[1].shape  # a bias column (n_1 x 1): examples are columns
        self.columns = len(b1) == 2 and b1[1] == 1 and b1[0] > 1

    def rows(self, x: np.ndarray, l: int) -> np.ndarray:
        """An array of layer l's width (l = 0: the input) with the examples as rows."""
        n = self.params[0].shape[1] if l == 0 else self.width(l)
        return _rows(x, n, self.columns)

    def width(self, l: int) -> int:
        return self.params[2 * (l - 1)].shape[0]

    def activations(self) -> list[tuple[int, np.ndarray]]:
        """(m, a^m in rows) for every a^m known: a^0 when given or found, a^1 .. a^L."""
        known = [] if self.a0 is None else [(0, self.rows(self.a0, 0))]
        return known + [(m, self.rows(ly.a, m))
                        for m, ly in enumerate(self.layers, start=1)]

    def slips(self, kind: str, l: int) -> list:
        """What your array would be after each named slip at layer l."""
        ly, last = self.layers[l - 1], len(self.layers)
        if kind == "delta":
            if ly.name != "sigmoid":
                return []
            return [(self.deltas[l - 1] * f, w) for f, w in _unit_factors(ly, l, last)]
        if kind == "b":
            return []
        delta, shape = self.rows(self.deltas[l - 1], l), self.params[2 * l - 2].shape
        used = [(a, f"a^{m}") for m, a in self.activations() if m != l - 1]
        if l >= 2:
            used.append((self.rows(self.layers[l - 2].z, l - 1), f"z^{l - 1}"))
        return [((delta.T @ a).reshape(shape), _bp4_words(l, name))
                for a, name in used if a.shape == (delta.shape[0], shape[1])]


def _compare(net: _Network, kind: str, l: int, mine: Any, rtol: float, atol: float,
             eps: float) -> str | None:
    """The diagnosis for one array, or None when it agrees with autodiff."""
    auto = net.deltas[l - 1] if kind == "delta" else net.grads[2 * l - (1 if kind == "b" else 2)]
    mine = np.asarray(_array(mine), dtype=np.float64)
    tol = tolerance(auto, atol, eps)
    if mine.shape == auto.shape and np.all(np.abs(mine - auto) <= tol + rtol * np.abs(auto)):
        return None
    n = net.rows(net.deltas[l - 1], l).shape[0]
    verdict = diagnose(mine, auto, rtol, tol, n if n > 1 else None,
                       net.params[2 * l - 2]._data if kind == "W" else None,
                       slips=net.slips(kind, l), eps=eps)
    table = _worst_table(mine, auto) if mine.shape == auto.shape else ""
    return f"  diagnosis: {verdict}\n{table}".rstrip()


_NAMES = {"delta": "delta^{l}", "b": "dC/db^{l}", "W": "dC/dW^{l}"}
_AUTO = {"delta": "dC/dz^{l}", "b": "dC/db^{l}", "W": "dC/dW^{l}"}


def check_backprop(loss_fn: Callable, params: Sequence[Any], deltas: Sequence[Any],
                   grads: Sequence[Any], *, inputs: Any = None, rtol: float = 1e-6,
                   atol: float = 1e-9) -> None:
    """Check your backpropagation against autodiff, in the order backprop computes it: for
    l = L down to 1, delta^l (BP1 at l = L, BP2 below), then dC/db^l (BP3) and dC/dW^l (BP4).

    loss_fn(*params) -> (loss, [z^1, ..., z^L]); params = [W^1, b^1, ..., W^L, b^L] with W^l
    of shape (n_l, n_{l-1}); deltas = your [delta^1, ..., delta^L], each shaped like z^l
    ((n_l,) for one example, (N, n_l) with examples as rows, or (n_l, N) as columns); grads =
    your [dC/dW^1, dC/db^1, ..., dC/dW^L, dC/db^L]. `inputs` is a^0 (read off the graph when
    omitted). Raises DerivationMismatch naming the first wrong layer and equation."""
    net = _Network(loss_fn, params, inputs)
    L = len(net.layers)
    if len(deltas) != L or len(grads) != 2 * L:
        raise ValueError(f"check_backprop: {L} layers need {L} deltas and {2 * L} gradients, "
                         f"got {len(deltas)} and {len(grads)}")
    eps = max(net.eps, facts.lowest_precision(Tensor(0.0), *deltas, *grads))
    wrong = []
    for l in range(L, 0, -1):
        for kind, mine in (("delta", deltas[l - 1]), ("b", grads[2 * l - 1]),
                           ("W", grads[2 * l - 2])):
            found = _compare(net, kind, l, mine, rtol, atol, eps)
            if found:
                wrong.append((kind, l, found))
    if wrong:
        raise DerivationMismatch(_report(wrong, net))


def _report(wrong: list[tuple[str, int, str]], net: _Network) -> str:
    kind, l, found = wrong[0]
    L = len(net.layers)
    eq, rule = _equation(kind, l, L, net.layers[-1].name == "linear")
    lines = [f"check_backprop: layer {l} of {L}, {eq}: your {_NAMES[kind].format(l=l)} does not "
             f"match autodiff's {_AUTO[kind].format(l=l)}.", f"  {eq}: {rule}", found]
    if kind == "delta" and l > 1:
        lines.append("  the deltas of the layers below, and their gradients, inherit this error "
                     "through BP2-BP4: fix this one first")
    rest = [f"{_NAMES[k].format(l=m)} ({_equation(k, m, L, False)[0]})" for k, m, _ in wrong[1:]]
    if rest:
        lines.append(f"  also different: {', '.join(rest)}")
    return "\n".join(lines)
