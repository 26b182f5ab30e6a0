"""gradcheck: autodiff's full Jacobian against float64 central differences; gradgradcheck:
the same for the derivative of a gradient (second order)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import gradients
from ..functions import concatenate
from ..tensor import Tensor


class GradcheckError(AssertionError):
    """Autodiff and finite differences disagree; the message names the worst entry."""


def _prepare(inputs: tuple) -> tuple[list[Tensor], list[int]]:
    """Float inputs become float64 leaves requiring grad; others stay constants."""
    tensors, diff = [], []
    for i, x in enumerate(inputs):
        arr = np.asarray(x._data if isinstance(x, Tensor) else x)
        if arr.dtype.kind == "f":
            tensors.append(Tensor(arr.astype(np.float64), requires_grad=True))
            diff.append(i)
        else:
            tensors.append(Tensor(arr))
    return tensors, diff


def _evaluate(f: Callable, tensors: list[Tensor]) -> np.ndarray:
    out = f(*tensors)
    return np.asarray(out._data if isinstance(out, Tensor) else out, dtype=np.float64)


def _numeric(f: Callable, tensors: list[Tensor], i: int, eps: float) -> np.ndarray:
    """Jacobian of f's output (flattened) with respect to input i, by central differences."""
    base = tensors[i]._data
    columns = []
    for j in range(base.size):
        shifted = []
        for step in (eps, -eps):
            x = base.copy()
            x.flat[j] += step
            args = list(tensors)
            args[i] = Tensor(x, requires_grad=True)  # f may differentiate (gradgradcheck)
            shifted.append(_evaluate(f, args).ravel())
        columns.append((shifted[0] - shifted[1]) / (2 * eps))
    n_out = _evaluate(f, tensors).size
    return np.stack(columns, axis=1) if columns else np.zeros((n_out, 0))


def _analytic(f: Callable, tensors: list[Tensor], diff: list[int]) -> list[np.ndarray]:
    """Jacobian rows from one vector-Jacobian product per output element."""
    out = f(*tensors)
    jac = [np.zeros((out.size, tensors[i].size)) for i in diff]
    if not out.requires_grad:
        return jac
    for k in range(out.size):
        seed = np.zeros(out.size)
        seed[k] = 1
        grads = gradients(out, [tensors[i] for i in diff], seed.reshape(out.shape),
                          retain_graph=True)
        for row, g in zip(jac, grads):
            if g is not None:
                row[k] = np.asarray(g._data).ravel()
    return jac


def _where(shape: tuple, flat: int) -> str:
    return str(tuple(int(v) for v in np.unravel_index(flat, shape))) if shape else "()"


def gradcheck(
    f: Callable, *inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
    fast_mode: bool = False, n_directions: int = 4, seed: int = 0,
) -> bool:
    """Check autodiff's derivatives of f at `inputs` against central differences in float64.

    By default every entry of the Jacobian is compared, and GradcheckError names the input,
    the output and input indices and both values of the worst entry. With fast_mode=True,
    for inputs too large for the full Jacobian, `n_directions` random projections
    u . J v are compared instead (u over the output, v over all inputs at once)."""
    if fast_mode:
        return _check_directions(f, inputs, eps, atol, rtol, n_directions, seed)
    return _check_full(f, inputs, eps, atol, rtol, "gradcheck", "out")


def _check_full(f: Callable, inputs: tuple, eps: float, atol: float, rtol: float,
                who: str, what: str) -> bool:
    tensors, diff = _prepare(inputs)
    out_shape = _evaluate(f, tensors).shape
    for i, jac in zip(diff, _analytic(f, tensors, diff)):
        num = _numeric(f, tensors, i, eps)
        excess = np.abs(jac - num) - (atol + rtol * np.abs(num))
        excess = np.where(np.isnan(jac) != np.isnan(num), np.inf, np.nan_to_num(excess))
        if excess.size and excess.max() > 0:
            k, j = np.unravel_index(int(np.argmax(excess)), excess.shape)
            n_off = int((excess > 0).sum())
            raise GradcheckError(
                f"{who}: input {i} (shape {tensors[i].shape}): d {what}{_where(out_shape, k)} "
                f"/ d x{_where(tensors[i].shape, j)}: autodiff {jac[k, j]:.8g}, "
                f"finite differences {num[k, j]:.8g} "
                f"(atol={atol}, rtol={rtol}; {n_off} of {excess.size} entries off)"
            )
    return True


def _check_directions(f: Callable, inputs: tuple, eps: float, atol: float, rtol: float,
                      n_directions: int, seed: int) -> bool:
    tensors, diff = _prepare(inputs)
    rng = np.random.default_rng(seed)
    out = f(*tensors)
    for d in range(n_directions):
        u = rng.normal(size=out.shape)
        vs = {i: rng.normal(size=tensors[i].shape) for i in diff}
        grads = gradients(out, [tensors[i] for i in diff], u, retain_graph=True)
        auto = sum(float(np.vdot(g._data, vs[i])) for i, g in zip(diff, grads) if g is not None)
        sides = []
        for step in (eps, -eps):
            args = list(tensors)
            for i in diff:
                args[i] = Tensor(tensors[i]._data + step * vs[i], requires_grad=True)
            sides.append(float(np.vdot(u, _evaluate(f, args))))
        num = (sides[0] - sides[1]) / (2 * eps)
        if not abs(auto - num) <= atol + rtol * abs(num):
            raise GradcheckError(
                f"gradcheck (fast mode): random direction {d}: u . J v is {auto:.8g} by "
                f"autodiff and {num:.8g} by finite differences (atol={atol}, rtol={rtol})"
            )
    return True


def gradgradcheck(
    f: Callable, *inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """gradcheck of x -> d(f(x) . v)/dx for a fixed random v: checks second derivatives
    (the Hessian of f . v) computed through backward(create_graph=True)."""
    tensors, diff = _prepare(inputs)
    v = np.random.default_rng(seed).normal(size=_evaluate(f, tensors).shape)

    def first_derivative(*xs: Tensor) -> Tensor:
        out = f(*xs)
        grads = gradients((out * v).sum(), [xs[i] for i in diff], create_graph=True)
        return concatenate([
            (g if g is not None else Tensor(np.zeros(xs[i].shape))).reshape(-1)
            for i, g in zip(diff, grads)
        ])

    return _check_full(first_derivative, tuple(tensors), eps, atol, rtol, "gradgradcheck",
                       "(d(f . v)/dx)")
