"""assert_grad_close: autodiff against a hand-derived gradient, with a diagnosis of the usual
slips (a constant factor, a flipped sign, a transpose, one wrong row or column, a missing
index-dependent factor) worded so a student can fix the formula."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import gradients
from ..tensor import Tensor


class DerivationMismatch(AssertionError):
    """A hand-derived gradient disagrees with autodiff; the message says how."""


# (factor, what it usually means); checked against the least-squares ratio yours / autodiff
_FACTORS = [
    (2.0, "a spurious factor 2: e.g. 2*lambda*w where the penalty lambda/2 ||w||^2 gives "
          "lambda*w, or the derivative of (y - o)^2 / 2 written with a 2"),
    (0.5, "a missing factor 2: e.g. lambda*w where the penalty lambda ||w||^2 gives "
          "2*lambda*w, or the derivative of (y - o)^2 written without its 2"),
    (1 / math.log(2), "log base 2: your loss uses log2, which scales every gradient by "
                      "1/ln 2 = 1.4427; the cross-entropy here uses the natural log"),
    (math.log(2), "a factor ln 2 = 0.693: one of the two uses log base 2"),
]


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    return np.abs(a - b) <= atol + rtol * np.abs(b)


def _ratio(mine: np.ndarray, auto: np.ndarray) -> float | None:
    """c minimising ||mine - c auto||, or None when auto is zero."""
    denom = float(np.vdot(auto, auto))
    return float(np.vdot(auto, mine)) / denom if denom > 0 else None


def _factor_diagnosis(c: float, n: int | None) -> str:
    """Words for `yours = c * autodiff`."""
    m = abs(c)
    if math.isclose(m, 1.0, rel_tol=1e-6):
        return ("a flipped sign: your gradient is the negative of autodiff's (e.g. (y - y_hat) x "
                "where dC/dw = (y_hat - y) x, or a lost minus in -ln y_hat)")
    sign = "a flipped sign, and " if c < 0 else ""
    for factor, meaning in _FACTORS:
        if math.isclose(m, factor, rel_tol=1e-6):
            return f"{sign}your gradient is {c:.6g} x autodiff's: {meaning}"
    whole, inverse = round(m), round(1 / m)
    if whole >= 3 and math.isclose(m, whole, rel_tol=1e-6):
        who = "N, the number of examples" if whole == n else f"if {whole} is your N"
        return (f"{sign}your gradient is {c:.6g} x autodiff's ({who}): missing mean over the "
                f"N examples; the loss averages, so divide your sum by N")
    if inverse >= 3 and math.isclose(m * inverse, 1.0, rel_tol=1e-6):
        who = "N, the number of examples" if inverse == n else f"if {inverse} is your N"
        return (f"{sign}your gradient is 1/{inverse} of autodiff's ({who}): you divided by N, "
                f"but the loss sums over the examples")
    return f"{sign}your gradient is {c:.6g} x autodiff's everywhere: a constant factor"


def _index_dependence(mine: np.ndarray, auto: np.ndarray) -> str | None:
    """Your formula is constant along an axis where the true gradient varies."""
    if mine.ndim < 1:
        return None
    for axis in range(mine.ndim):
        if mine.shape[axis] < 2:
            continue
        flat_mine = np.ptp(mine, axis=axis).max() <= 1e-12 * (np.abs(mine).max() + 1e-300)
        flat_auto = np.ptp(auto, axis=axis).max() <= 1e-9 * (np.abs(auto).max() + 1e-300)
        if flat_mine and not flat_auto:
            letter = "ijkl"[axis] if axis < 4 else str(axis)
            return (f"your gradient does not change along axis {axis} (index {letter}), but the "
                    f"true one does: a factor indexed by {letter} is missing or was replaced "
                    f"by another (e.g. -y_k (y_k - y_hat_k) where -x_j (y_k - y_hat_k) is right)")
    return None


def _line_diagnosis(bad: np.ndarray) -> str | None:
    """The mismatches all sit in one row or one column of a matrix."""
    if bad.ndim != 2 or bad.all():
        return None
    rows, cols = np.nonzero(bad)
    if len(set(rows)) == 1 and bad.shape[0] > 1:
        r = rows[0]
        last = " (the last row: with the bias trick, the bias row)" if r == bad.shape[0] - 1 else ""
        return f"only row {r} is wrong{last}; the rest matches, so check that row's term"
    if len(set(cols)) == 1 and bad.shape[1] > 1:
        c = cols[0]
        last = (" (the last column: with the bias trick, the bias column)"
                if c == bad.shape[1] - 1 else "")
        return f"only column {c} is wrong{last}; the rest matches, so check that column's term"
    return None


def _penalty_diagnosis(mine: np.ndarray, auto: np.ndarray, x: np.ndarray | None,
                       atol: float) -> str | None:
    """yours - autodiff = c * the parameter itself: an L2 term's factor is off."""
    if x is None or x.shape != mine.shape or mine.size < 2:
        return None
    c = _ratio(mine - auto, x)
    if c is None or not np.allclose(mine - auto, c * x, rtol=1e-6, atol=atol):
        return None
    slip = ("you wrote lambda w where 2 lambda w is right (R = ||w||^2)" if c < 0 else
            "you wrote 2 lambda w where lambda w is right (R = 1/2 ||w||^2)")
    return (f"your gradient minus autodiff's is {c:.6g} x the parameter itself: a term "
            f"proportional to w is off; with L2 regularisation, if your lambda is {abs(c):.6g}, "
            f"{slip}")


def diagnose(mine: np.ndarray, auto: np.ndarray, rtol: float = 1e-6, atol: float = 1e-9,
             n_examples: int | None = None, x: np.ndarray | None = None) -> str:
    """Name the simplest relation between a wrong hand gradient and autodiff's (x: the value
    of the parameter the gradient is taken for, if known)."""
    if mine.shape != auto.shape:
        if mine.shape == auto.shape[::-1] and mine.ndim == 2:
            if np.allclose(mine.T, auto, rtol=rtol, atol=atol):
                return ("transposed: your gradient has shape "
                        f"{mine.shape} and equals the transpose of the true one {auto.shape}")
        return f"wrong shape: yours is {mine.shape}, the parameter's is {auto.shape}"
    if not auto.any() and mine.any():
        return ("autodiff's gradient is zero everywhere: f does not depend on this input "
                "(did it pass through Tensor(...), .numpy(), .detach() or np.asarray?)")
    c = _ratio(mine, auto)
    if c is not None and c != 0 and np.allclose(mine, c * auto, rtol=1e-6, atol=atol):
        if mine.size == 1:
            return (f"your value is {c:.6g} x autodiff's; with a single number a constant factor "
                    f"cannot be told from other slips, so check factors and signs")
        return _factor_diagnosis(c, n_examples)
    penalty = _penalty_diagnosis(mine, auto, x, atol)
    if penalty:
        return penalty
    if mine.ndim == 2 and mine.shape[0] == mine.shape[1] and mine.shape[0] > 1:
        if np.allclose(mine.T, auto, rtol=rtol, atol=atol):
            return "transposed: your matrix equals the transpose of the true gradient"
    found = _line_diagnosis(~_close(mine, auto, rtol, atol)) or _index_dependence(mine, auto)
    return found or "no simple relation (not a constant factor, sign, transpose or one line)"


def _worst_table(mine: np.ndarray, auto: np.ndarray, k: int = 5) -> str:
    diff = np.abs(mine - auto).ravel()
    order = np.argsort(-diff, kind="stable")[:k]
    lines = [f"    {'index':>12s} {'yours':>14s} {'autodiff':>14s} {'difference':>12s}"]
    for flat in order:
        idx = tuple(int(i) for i in np.unravel_index(flat, mine.shape)) if mine.ndim else ()
        lines.append(f"    {str(idx):>12s} {mine.ravel()[flat]:14.8g} {auto.ravel()[flat]:14.8g} "
                     f"{mine.ravel()[flat] - auto.ravel()[flat]:12.4g}")
    return "\n".join(lines)


def autodiff_gradients(f: Callable, inputs: Sequence[Any]) -> list[np.ndarray]:
    """d f / d input for each float input (in float64), as numpy arrays."""
    tensors = [Tensor(np.asarray(getattr(x, "_data", x), dtype=np.float64), requires_grad=True)
               for x in inputs]
    out = f(*tensors)
    if not isinstance(out, Tensor) or out.size != 1:
        shape = getattr(out, "shape", type(out).__name__)
        raise ValueError(f"assert_grad_close: f must return a scalar Tensor, got {shape}")
    grads = gradients(out, tensors) if out.requires_grad else [None] * len(tensors)
    return [np.zeros(t.shape) if g is None else np.asarray(g._data, dtype=np.float64)
            for g, t in zip(grads, tensors)]


def assert_grad_close(
    f: Callable,
    inputs: Sequence[Any],
    expected: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    names: Sequence[str] | None = None,
    n_examples: int | None = None,
) -> None:
    """Check a hand-derived gradient against autodiff.

    f maps Tensors (one per entry of `inputs`) to a scalar Tensor; `expected` is your gradient
    (one array for one input, else a sequence with one array per input; None skips an input).
    Raises DerivationMismatch with the worst entries side by side and a diagnosis. Pass
    `n_examples` (N) so a missing mean over the examples is named as such."""
    if isinstance(inputs, (np.ndarray, Tensor)):
        inputs = [inputs]
    expected = [expected] if len(inputs) == 1 else list(expected)
    if len(expected) != len(inputs):
        raise ValueError(f"assert_grad_close: {len(inputs)} inputs but {len(expected)} "
                         f"expected gradients")
    names = list(names) if names is not None else [f"input {i}" for i in range(len(inputs))]
    problems = []
    for name, mine, auto, x in zip(names, expected, autodiff_gradients(f, inputs), inputs):
        if mine is None:
            continue
        mine = np.asarray(getattr(mine, "_data", mine), dtype=np.float64)
        if mine.shape == auto.shape and _close(mine, auto, rtol, atol).all():
            continue
        x = np.asarray(getattr(x, "_data", x), dtype=np.float64)
        verdict = diagnose(mine, auto, rtol, atol, n_examples, x)
        table = _worst_table(mine, auto) if mine.shape == auto.shape else ""
        problems.append(f"gradient for {name} (shape {auto.shape}) does not match autodiff.\n"
                        f"  diagnosis: {verdict}\n{table}".rstrip())
    if problems:
        raise DerivationMismatch("\n".join(problems))
