"""Functional transforms in the style of JAX: grad, value_and_grad, jacobian, hessian.
Built only on the vjp walk with create_graph=True, so they nest (hessian = jacobian of grad).
They take plain arrays or Tensors; no requires_grad is needed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd import enable_grad, gradients, walk
from .functions import as_tensor, stack
from .tensor import Tensor


def _argnums(argnums: int | Sequence[int]) -> tuple[int, ...]:
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def _variable(arg: Any) -> Tensor:
    """A fresh differentiation variable for one argument. A Tensor that already requires grad
    (an outer transform's variable) is passed through an op, so this level's gradient is
    taken with respect to the new node while the outer level can still see through it."""
    if isinstance(arg, Tensor) and arg.requires_grad:
        return arg * 1
    t = Tensor._make(as_tensor(arg)._data)
    t.requires_grad = True
    return t


def _outside_dependence(results: Sequence[Tensor], private: Sequence[Tensor]) -> bool:
    """Whether any result depends on a tensor requiring grad other than this level's own
    variables, i.e. whether an outer computation may differentiate through the results."""
    private_ids = {id(t) for t in private}
    reached = walk([t for t in results if t._rg], _requires_grad)
    return any(t._op is None and id(t) not in private_ids for t in reached)


def _requires_grad(t: Tensor) -> bool:
    return t._rg


def _finish(results: list[Tensor], private: Sequence[Tensor]) -> list[Tensor]:
    """Detach the results when nothing outside this transform can differentiate them."""
    if _outside_dependence(results, private):
        return results
    return [r.detach() for r in results]


def _grads(out: Tensor, variables: Sequence[Tensor], seed: Any = None) -> list[Tensor]:
    """d out / d variable for each variable, zeros where out does not depend on it."""
    if out._rg:
        found = gradients(out, variables, seed, retain_graph=True, create_graph=True)
    else:
        found = (None,) * len(variables)
    return [Tensor._make(np.zeros(v.shape, v.dtype)) if g is None else g
            for g, v in zip(found, variables)]


def _call(f: Callable, args: tuple, nums: tuple[int, ...], kwargs: dict):
    """Call f with fresh variables at `nums`; other numpy arrays arrive as constant Tensors."""
    args = [Tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    variables = []
    for i in nums:
        args[i] = _variable(args[i])
        variables.append(args[i])
    out = f(*args, **kwargs)
    if isinstance(out, (list, tuple, dict)):
        raise TypeError(f"f must return one Tensor, not a {type(out).__name__}; stack the "
                        f"outputs with tg.stack or tg.concatenate")
    return _floating(out), variables


def _floating(out: Any) -> Tensor:
    """f's output as a Tensor; only a floating-point value has a derivative."""
    kind = np.asarray(getattr(out, "_data", out)).dtype.kind
    if isinstance(out, (bool, np.bool_, int, np.integer)) or kind not in "f":
        what = f"{type(out).__name__} {out!r}"
        if isinstance(out, (Tensor, np.ndarray)):
            what = f"a {type(out).__name__} of dtype {out.dtype}"
        raise TypeError(
            f"f must return a floating-point Tensor to be differentiated, but it returned "
            f"{what}; a comparison, np.allclose or an integer result has no gradient"
        )
    return out if isinstance(out, Tensor) else as_tensor(out)


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """A function returning (f(*args), gradient of f with respect to args[argnums])."""
    nums = _argnums(argnums)

    def value_and_grad_f(*args: Any, **kwargs: Any):
        with enable_grad():
            out, variables = _call(f, args, nums, kwargs)
            if out.size != 1:
                raise ValueError(
                    f"grad: f must return a scalar (one element), but it returned shape "
                    f"{out.shape}; use jacobian for non-scalar outputs"
                )
            value, *grads = _finish([out, *_grads(out, variables)], variables)
        return value, grads[0] if isinstance(argnums, int) else tuple(grads)

    return value_and_grad_f


def grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """A function returning the gradient of scalar-valued f with respect to args[argnums]."""
    vg = value_and_grad(f, argnums)

    def grad_f(*args: Any, **kwargs: Any):
        return vg(*args, **kwargs)[1]

    return grad_f


def jacobian(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """A function returning d f(x) / d x with shape f(x).shape + x.shape, one row per
    output element (reverse mode)."""
    nums = _argnums(argnums)

    def jacobian_f(*args: Any, **kwargs: Any):
        with enable_grad():
            out, variables = _call(f, args, nums, kwargs)
            rows: list[list[Tensor]] = [[] for _ in variables]
            for i in range(out.size):
                seed = np.zeros(out.size, out.dtype)
                seed[i] = 1
                for row, g in zip(rows, _grads(out, variables, seed.reshape(out.shape))):
                    row.append(g)
            jacs = [
                stack(row).reshape(out.shape + v.shape)
                if row
                else Tensor._make(np.zeros(out.shape + v.shape, v.dtype))
                for row, v in zip(rows, variables)
            ]
            jacs = _finish(jacs, variables)
        return jacs[0] if isinstance(argnums, int) else tuple(jacs)

    return jacobian_f


def hessian(f: Callable, argnums: int = 0) -> Callable:
    """A function returning the matrix of second derivatives of scalar f, shape x.shape * 2,
    with respect to the one argument args[argnums]."""
    if not isinstance(argnums, int):
        raise TypeError(f"hessian: argnums must be one int, not {argnums!r}; stack several "
                        f"arguments into one array to get their joint Hessian")
    return jacobian(grad(f, argnums), argnums)
