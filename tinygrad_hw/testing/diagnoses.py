"""The relations `diagnose` looks for between a wrong hand gradient (yours) and autodiff's: NaN
or inf, zeros, a constant factor (2, ln 2, N, K, N/K), a named slip, an L2 term, one wrong entry
or line, an index-free formula, a per-row or per-column factor, and float32 rounding."""

from __future__ import annotations

import math

import numpy as np

Slip = tuple[np.ndarray, str]  # what your gradient would be after a named slip, and its words

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


def close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    return np.abs(a - b) <= atol + rtol * np.abs(b)


def fits(mine: np.ndarray, model: np.ndarray, rtol: float, atol: float) -> bool:
    """mine equals model within the tolerance, entry by entry."""
    return mine.shape == model.shape and bool(close(mine, model, rtol, atol).all())


def ratio(mine: np.ndarray, auto: np.ndarray) -> float | None:
    """c minimising ||mine - c auto||, or None when auto is zero."""
    denom = float(np.vdot(auto, auto))
    return float(np.vdot(auto, mine)) / denom if denom > 0 else None


def _positions(mask: np.ndarray, k: int = 5) -> str:
    where = [tuple(int(i) for i in idx) for idx in np.argwhere(mask)[:k]]
    shown = ", ".join(str(w[0]) if len(w) == 1 else str(w) for w in where) or "()"
    return shown + (", ..." if mask.sum() > k else "")


def nonfinite(mine: np.ndarray) -> str | None:
    """NaN or inf entries, with their positions."""
    nan, inf = np.isnan(mine), np.isinf(mine)
    if not (nan.any() or inf.any()):
        return None
    parts = [f"NaN at {_positions(nan)}" if nan.any() else "",
             f"inf at {_positions(inf)}" if inf.any() else ""]
    count = int(nan.sum() + inf.sum())
    return (f"your gradient contains {' and '.join(p for p in parts if p)} ({count} of "
            f"{mine.size} entries): a 0/0, a division by zero or the log of 0 in your formula "
            f"(e.g. ln(y_hat) with y_hat = 0, or 1/sigma'(z) where the sigmoid saturates)")


def zero_gradient(mine: np.ndarray, auto: np.ndarray, atol: float) -> str | None:
    if np.abs(mine).max(initial=0.0) > atol or not (np.abs(auto) > atol).any():
        return None
    return ("your gradient is zero where autodiff's is not: nothing was added into it (left at "
            "its initial zeros?); for a bias, dC/db_j is delta_j summed over the examples")


def _count_words(m: float, n: int | None, k: int | None, rel: float) -> str | None:
    """Words for |yours / autodiff| = m when m is a count: N, 1/N, N/K, K or 1/K."""
    def near(v: float | None) -> bool:
        return v is not None and math.isclose(m, v, rel_tol=rel)
    if n and near(n) and n > 1:
        return (f" ({n} = N, the number of examples): missing mean over the N examples; the "
                f"loss averages, so divide your sum by N")
    if n and near(1 / n) and n > 1:
        return (f" (1/N, N = {n} the number of examples): you divided by N, but the loss sums "
                f"over the examples")
    if n and k and near(n / k) and n != k:
        return (f" (N/K = {n}/{k}): you divided by the number of classes (K = {k}) instead of "
                f"examples (N = {n})")
    if k and near(k) and k > 1:
        return (f" (K = {k}, the number of classes): the loss also averages over the K classes "
                f"(a mean over all N x K entries), so divide by K too; or you divided by the "
                f"number of classes where the loss divides by N x K")
    if k and near(1 / k) and k > 1:
        return (f" (1/K, K = {k} the number of classes): you divided by the number of classes, "
                f"but the loss does not average over them")
    return None


def constant_factor(c: float, n: int | None, k: int | None = None, rel: float = 1e-6) -> str:
    """Words for `yours = c * autodiff`."""
    m = abs(c)
    if math.isclose(m, 1.0, rel_tol=rel):
        return ("a flipped sign: your gradient is the negative of autodiff's (e.g. (y - y_hat) x "
                "where dC/dw = (y_hat - y) x, or a lost minus in -ln y_hat)")
    sign = "a flipped sign, and " if c < 0 else ""
    counts = _count_words(m, n, k, rel)
    meaning = next((w for f, w in _FACTORS if math.isclose(m, f, rel_tol=rel)), None)
    if counts:  # the counts are known to be the problem's own: they come first
        return f"{sign}your gradient is {c:.6g} x autodiff's{counts}" + (
            f"; or {meaning}" if meaning else "")
    if meaning:
        return f"{sign}your gradient is {c:.6g} x autodiff's: {meaning}"
    whole, inverse = round(m), round(1 / m)
    if n is None and whole >= 3 and math.isclose(m, whole, rel_tol=rel):
        return (f"{sign}your gradient is {c:.6g} x autodiff's (if {whole} is your N): missing "
                f"mean over the N examples; the loss averages, so divide your sum by N")
    if n is None and inverse >= 3 and math.isclose(m * inverse, 1.0, rel_tol=rel):
        return (f"{sign}your gradient is 1/{inverse} of autodiff's (if {inverse} is your N): "
                f"you divided by N, but the loss sums over the examples")
    known = ", ".join(["2, 1/2, ln 2"] + ([f"N = {n}"] if n else []) + ([f"K = {k}"] if k else []))
    return (f"{sign}your gradient is {c:.6g} x autodiff's everywhere: a constant factor that "
            f"matches none of the usual slips ({known}); look for a constant you added or lost")


def named_slip(mine: np.ndarray, auto: np.ndarray, slips: list[Slip], rtol: float,
               atol: float) -> str | None:
    """The first slip whose result equals yours (and differs from the right gradient)."""
    for model, words in slips:
        model = np.asarray(model, dtype=np.float64)
        if model.shape == mine.shape and np.isfinite(model).all() and fits(
                mine, model, rtol, atol) and not fits(auto, model, rtol, atol):
            return words
    return None


def penalty(mine: np.ndarray, auto: np.ndarray, x: np.ndarray | None, rtol: float,
            atol: float) -> str | None:
    """yours - autodiff = c * the parameter itself: an L2 term's factor is off."""
    if x is None or x.shape != mine.shape or mine.size < 2:
        return None
    c = ratio(mine - auto, x)
    if c is None or not fits(mine - auto, c * x, rtol, atol):
        return None
    slip = ("you wrote lambda w where 2 lambda w is right (R = ||w||^2)" if c < 0 else
            "you wrote 2 lambda w where lambda w is right (R = 1/2 ||w||^2)")
    return (f"your gradient minus autodiff's is {c:.6g} x the parameter itself: a term "
            f"proportional to w is off; with L2 regularisation, if your lambda is {abs(c):.6g}, "
            f"{slip}")


def one_entry(bad: np.ndarray) -> str | None:
    """Exactly one entry differs."""
    if bad.size < 2 or bad.sum() != 1:
        return None
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    if bad.ndim == 1:
        last = " (the last entry: with the bias trick, the bias)" if idx[0] == bad.size - 1 else ""
        return f"only entry {idx[0]} is wrong{last}; the rest matches, so check that entry's term"
    return f"only entry {idx} is wrong; the rest matches, so check that entry's term"


def one_line(bad: np.ndarray) -> str | None:
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


def index_dependence(mine: np.ndarray, auto: np.ndarray) -> str | None:
    """Your formula is constant along an axis where the true gradient varies."""
    for axis in range(mine.ndim):
        if mine.shape[axis] < 2:
            continue
        flat_mine = np.ptp(mine, axis=axis).max() <= 1e-12 * (np.abs(mine).max() + 1e-300)
        flat_auto = np.ptp(auto, axis=axis).max() <= 1e-9 * (np.abs(auto).max() + 1e-300)
        if flat_mine and not flat_auto and np.abs(mine).max() > 0:
            letter = "ijkl"[axis] if axis < 4 else str(axis)
            return (f"your gradient does not change along axis {axis} (index {letter}), but the "
                    f"true one does: a factor indexed by {letter} is missing or was replaced "
                    f"by another (e.g. -y_k (y_k - y_hat_k) where -x_j (y_k - y_hat_k) is right)")
    return None


def _line_factors(mine: np.ndarray, auto: np.ndarray, axis: int) -> np.ndarray | None:
    """r with mine ~ r * auto, r constant along `axis` (one factor per line), or None."""
    den = (auto * auto).sum(axis=axis, keepdims=True)
    if (den == 0).any():
        return None
    return (auto * mine).sum(axis=axis, keepdims=True) / den


def line_factor(mine: np.ndarray, auto: np.ndarray, rtol: float, atol: float) -> str | None:
    """Each row (or column) of yours is autodiff's times its own factor."""
    if mine.ndim != 2 or min(mine.shape) < 2:
        return None
    for axis, line, letter in ((1, "row", "j"), (0, "column", "k")):
        r = _line_factors(mine, auto, axis)
        if r is None or not fits(mine, r * auto, rtol, atol) or np.ptp(r) < 1e-6 * np.abs(r).max():
            continue
        shown = np.array2string(r.ravel()[:6], precision=4, separator=", ")
        more = ", ..." if r.size > 6 else ""
        return (f"each {line} of your gradient is autodiff's {line} times its own factor "
                f"({shown[:-1]}{more}]): a factor that depends on the {line} index {letter} is "
                f"wrong, missing or extra (in backprop a per-unit factor: sigma'(z_j) of BP1/BP2 "
                f"for rows, a^(l-1)_k of BP4 for columns)")
    return None


def rounding(mine: np.ndarray, auto: np.ndarray, eps: float) -> str | None:
    """A small patternless difference in float32 (or coarser) arithmetic."""
    scale = float(np.abs(auto).max(initial=0.0))
    if eps < 1e-10 or scale == 0:
        return None
    worst = float(np.abs(mine - auto).max()) / scale
    if worst > 1e3 * eps:
        return None
    return (f"the largest difference is {worst:.2g} x the gradient's largest entry, the size of "
            f"float32 rounding (about 7 digits, fewer after long sums): the difference is "
            f"float32 rounding, not a slip in the formula; compute your gradient in float64 "
            f"(e.g. X.astype(np.float64)) to compare at full precision, or pass a larger atol")
