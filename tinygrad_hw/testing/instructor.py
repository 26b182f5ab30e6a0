"""Instructor mode: a student writes the backward formula of an op in numpy, checks it against
the framework's over hypothesis inputs, and can train with it swapped in."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ..autograd import Op, apply, const, gradients, no_grad
from ..tensor import Tensor
from . import strategies as tst
from .derivation import DerivationMismatch, _worst_table, diagnose

Backward = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _method_name(fn: Callable | str) -> str:
    name = fn if isinstance(fn, str) else getattr(fn, "__name__", "")
    if not callable(getattr(Tensor, name, None)):
        raise ValueError(f"no Tensor method {name!r} to give a backward formula to; use the name "
                         f"of a one-tensor op such as 'sigmoid', 'tanh', 'relu' or 'softmax'")
    return name


class StudentOp(Op):
    """out = the framework's op;   d out/dx . grad_out = the student's numpy formula
    (first order only: the result carries no graph of its own)."""

    __slots__ = ("name", "reference", "formula", "options")

    def __init__(self, name: str, reference: Callable, formula: Backward, options: tuple):
        self.name = name
        self.reference = reference
        self.formula = formula
        self.options = options

    def params(self) -> dict[str, Any]:
        return {"name": self.name, "formula": getattr(self.formula, "__name__", "?")}

    def forward(self, x):
        args, kwargs = self.options
        with no_grad():
            return self.reference(Tensor._make(x), *args, **kwargs)._data

    def backward(self, grad_out, out, x):
        g = self.formula(np.asarray(grad_out._data), np.asarray(out._data), np.asarray(x._data))
        return (const(np.asarray(g, dtype=x.dtype)),)


@contextlib.contextmanager
def use_backward(fn: Callable | str, formula: Backward) -> Iterator[None]:
    """Inside the block, `x.<op>()` and `tg.<op>(x)` run backward through `formula`
    (grad_out, out, x as numpy arrays -> the gradient for x), so a model trains with it."""
    name = _method_name(fn)
    reference = getattr(Tensor, name)

    def patched(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return apply(StudentOp(name, reference, formula, (args, kwargs)), self)

    setattr(Tensor, name, patched)
    try:
        yield
    finally:
        setattr(Tensor, name, reference)


def compare_backward(fn: Callable | str, formula: Backward, x: np.ndarray,
                     grad_out: np.ndarray, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """One check of `formula` at x for a given output gradient; raises DerivationMismatch."""
    reference = getattr(Tensor, _method_name(fn))
    t = Tensor(x, requires_grad=True)
    out = reference(t)
    (auto,) = gradients(out, [t], grad_out)
    auto = np.asarray(auto._data)
    mine = np.asarray(formula(grad_out, out.numpy(), x), dtype=np.float64)
    if mine.shape == auto.shape and np.allclose(mine, auto, rtol=rtol, atol=atol):
        return
    table = _worst_table(mine, auto) if mine.shape == auto.shape else ""
    where = f"x = {x.tolist()}, grad_out = {grad_out.tolist()}" if x.size <= 4 else (
        f"x of shape {x.shape}")
    raise DerivationMismatch(
        f"your backward for {getattr(fn, '__name__', fn)} disagrees with the framework's at "
        f"{where}.\n  diagnosis: {diagnose(mine, auto, rtol, atol)}\n{table}"
    )


def check_backward(fn: Callable | str, formula: Backward, *, low: float = -4.0,
                   high: float = 4.0, max_examples: int = 50) -> None:
    """Check a student's backward formula against the framework's op over hypothesis inputs
    (shapes up to 3-D, values in [low, high], random output gradients). Raises
    DerivationMismatch for the simplest failing input hypothesis can find."""
    _method_name(fn)
    # a typical input first: its mismatch pattern gives the most telling diagnosis
    rng = np.random.default_rng(0)
    x = rng.uniform(low, high, size=(4, 5))
    compare_backward(fn, formula, x, rng.normal(size=x.shape))
    shapes = tst.shapes(min_dims=1, max_dims=3, max_side=4)

    @settings(max_examples=max_examples, deadline=None, database=None)
    @given(data=st.data())
    def run(data: Any) -> None:
        x = data.draw(tst.arrays(shapes, low=low, high=high), label="x")
        grad_out = data.draw(tst.arrays(x.shape, low=-2, high=2), label="grad_out")
        compare_backward(fn, formula, x, grad_out)

    run()
