"""assert_grad_close: autodiff against a hand-derived gradient, with a diagnosis of the usual
slips (NaN or inf, zeros, a constant factor, a flipped sign, a transpose, one wrong entry, row
or column, a missing index-dependent factor, the backprop slips of a sigmoid layer, float32
rounding) worded so a student can fix the formula. The relations live in diagnoses.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import gradients
from ..tensor import Tensor
from . import diagnoses as dg
from . import network_facts as facts
from .diagnoses import Slip


class DerivationMismatch(AssertionError):
    """A hand-derived gradient disagrees with autodiff; the message says how."""


NO_RELATION = ("no simple relation (not a constant factor, sign, transpose, one entry or line, "
               "a per-row or per-column factor, or a named slip)")


def _shape_diagnosis(mine: np.ndarray, auto: np.ndarray, rtol: float, atol: float) -> str:
    if mine.shape == auto.shape[::-1] and mine.ndim == 2:
        if dg.fits(mine.T, auto, rtol, atol):
            return ("transposed: your gradient has shape "
                    f"{mine.shape} and equals the transpose of the true one {auto.shape}")
    return f"wrong shape: yours is {mine.shape}, the parameter's is {auto.shape}"


def _scaled(mine: np.ndarray, auto: np.ndarray, rtol: float, atol: float, n: int | None,
            k: int | None, eps: float) -> str | None:
    """yours = c * autodiff's for a constant c (not 1)."""
    c = dg.ratio(mine, auto)
    if c is None or abs(c - 1) < 1e-4 or abs(c) < 1e-12:
        return None
    # rounding in your gradient scales with it: widen the tolerance by |c| (float32 sums)
    if not dg.fits(mine, c * auto, max(rtol, 100 * eps), atol * max(1.0, abs(c))):
        return None
    if mine.size == 1:
        return (f"your value is {c:.6g} x autodiff's; with a single number a constant factor "
                f"cannot be told from other slips, so check factors and signs")
    return dg.constant_factor(c, n, k, rel=max(1e-6, 100 * eps))


def diagnose(mine: np.ndarray, auto: np.ndarray, rtol: float = 1e-6, atol: float = 1e-9,
             n_examples: int | None = None, x: np.ndarray | None = None, *,
             n_classes: int | None = None, slips: Sequence[Slip] = (),
             eps: float | None = None) -> str:
    """Name the simplest relation between a wrong hand gradient and autodiff's (x: the value
    of the parameter the gradient is taken for, if known; slips: what the gradient would be
    after named slips; eps: the machine epsilon of the coarsest float involved)."""
    mine, auto = np.asarray(mine, dtype=np.float64), np.asarray(auto, dtype=np.float64)
    eps = np.finfo(np.float64).eps if eps is None else eps
    if mine.shape != auto.shape:
        return _shape_diagnosis(mine, auto, rtol, atol)
    found = dg.nonfinite(mine)
    if found is None and not auto.any() and mine.any():
        found = ("autodiff's gradient is zero everywhere: f does not depend on this input "
                 "(did it pass through Tensor(...), .numpy(), .detach() or np.asarray?)")
    found = found or dg.zero_gradient(mine, auto, atol)
    found = found or _scaled(mine, auto, rtol, atol, n_examples, n_classes, eps)
    found = found or dg.named_slip(mine, auto, list(slips), rtol, atol)
    found = found or dg.penalty(mine, auto, x, rtol, atol)
    if not found and mine.ndim == 2 and mine.shape[0] == mine.shape[1] > 1:
        if dg.fits(mine.T, auto, rtol, atol):
            found = "transposed: your matrix equals the transpose of the true gradient"
    bad = ~dg.close(mine, auto, rtol, atol)
    found = found or dg.one_entry(bad) or dg.one_line(bad) or dg.index_dependence(mine, auto)
    found = found or dg.line_factor(mine, auto, rtol, atol) or dg.rounding(mine, auto, eps)
    return found or NO_RELATION


def _worst_table(mine: np.ndarray, auto: np.ndarray, k: int = 5) -> str:
    diff = np.abs(mine - auto).ravel()
    diff = np.where(np.isnan(diff), np.inf, diff)
    order = np.argsort(-diff, kind="stable")[:k]
    lines = [f"    {'index':>12s} {'yours':>14s} {'autodiff':>14s} {'difference':>12s}"]
    for flat in order:
        idx = tuple(int(i) for i in np.unravel_index(flat, mine.shape)) if mine.ndim else ()
        lines.append(f"    {str(idx):>12s} {mine.ravel()[flat]:14.8g} {auto.ravel()[flat]:14.8g} "
                     f"{mine.ravel()[flat] - auto.ravel()[flat]:12.4g}")
    return "\n".join(lines)


def tolerance(auto: np.ndarray, atol: float, eps: float) -> float:
    """atol, widened to 100 ulps of the gradient's largest entry in the coarsest precision
    involved (float32: 1.2e-5 x max |autodiff|)."""
    return max(atol, 100 * eps * float(np.abs(auto).max(initial=0.0)))


def _layer_slips(auto: np.ndarray, layers: list[facts.Layer], a0: np.ndarray | None) -> list:
    """Per-unit factors of the sigmoid layers that f computes for one example."""
    slips: list[Slip] = []
    sig = [ly for ly in layers if ly.name == "sigmoid" and ly.z.size == ly.z.shape[-1]]
    if auto.ndim not in (1, 2) or not sig:
        return slips
    for l, ly in enumerate(sig, start=1):
        if ly.z.size == auto.shape[0]:
            col = (slice(None),) + (None,) * (auto.ndim - 1)
            slips += [(auto * f.ravel()[col], w) for f, w in _unit_factors(ly, l, len(sig))]
    acts = ([a0.ravel()] if a0 is not None and a0.ndim == 1 else []) + [ly.a.ravel() for ly in sig]
    first = 0 if len(acts) > len(sig) else 1
    for m, (prev, cur) in enumerate(zip(acts, acts[1:]), start=first + 1):
        if auto.ndim == 2 and cur.size == prev.size == auto.shape[1] and prev.all():
            slips.append((auto * (cur / prev)[None, :], _bp4_words(m, f"a^{m}")))
    return slips


def _bp4_words(l: int, used: str) -> str:
    return (f"{used} used where a^{l - 1} belongs in BP4: dC/dW^{l}_jk = a^{l - 1}_k delta^{l}_j "
            f"takes the layer's input a^{l - 1}, not {used}")


def _unit_factors(ly: facts.Layer, l: int, last: int) -> list[tuple[np.ndarray, str]]:
    """(factor, words) for the sigmoid slips of BP1 (l == last) or BP2 at layer l."""
    s, d = ly.a, ly.deriv
    if l == last:  # the output layer: named L, whatever the graph shows below it
        return [(s / d, "sigma(z^L) where sigma'(z^L) belongs in BP1: delta^L = grad_a C (.) "
                        "sigma'(z^L), with sigma'(z) = sigma(z) (1 - sigma(z))"),
                (1 / d, "sigma'(z^L) dropped from BP1: delta^L = a^L - y is the cross-entropy's "
                        "(its sigma' cancels); for this cost delta^L = grad_a C (.) sigma'(z^L)"),
                (d, "an extra sigma'(z^L) in BP1: with the cross-entropy cost the sigma' "
                    "cancels, so delta^L = a^L - y, not (a^L - y) (.) sigma'(z^L)")]
    return [(s / d, f"sigma(z^{l}) where sigma'(z^{l}) belongs in BP2: delta^{l} = "
                    f"((W^{l + 1})^T delta^{l + 1}) (.) sigma'(z^{l}), with sigma'(z) = "
                    f"sigma(z) (1 - sigma(z))"),
            (1 / d, f"sigma'(z^{l}) dropped from BP2: ((W^{l + 1})^T delta^{l + 1}) alone is the "
                    f"formula for a linear layer; a sigmoid layer multiplies by sigma'(z^{l})"),
            (d, f"sigma'(z^{l}) applied twice in BP2: delta^{l} = ((W^{l + 1})^T delta^{l + 1}) "
                f"(.) sigma'(z^{l}) has it once")]


def _autodiff(f: Callable, inputs: Sequence[Any]) -> tuple[list[np.ndarray], dict]:
    tensors = [Tensor(np.asarray(getattr(x, "_data", x), dtype=np.float64), requires_grad=True)
               for x in inputs]
    out = f(*tensors)
    if not isinstance(out, Tensor) or out.size != 1:
        shape = getattr(out, "shape", type(out).__name__)
        raise ValueError(f"assert_grad_close: f must return a scalar Tensor, got {shape}")
    layers = facts.layers(out)
    seen = {"eps": facts.lowest_precision(out, *inputs), "layers": layers,
            "a0": facts.first_layer_input(out),
            "counts": facts.counts(out)}
    grads = gradients(out, tensors) if out.requires_grad else [None] * len(tensors)
    return [np.zeros(t.shape) if g is None else np.asarray(g._data, dtype=np.float64)
            for g, t in zip(grads, tensors)], seen


def autodiff_gradients(f: Callable, inputs: Sequence[Any]) -> list[np.ndarray]:
    """d f / d input for each float input (in float64), as numpy arrays."""
    return _autodiff(f, inputs)[0]


def _check_one(name: str, mine: Any, auto: np.ndarray, x: Any, seen: dict, rtol: float,
               atol: float, counts: tuple[int | None, int | None]) -> str | None:
    """The report for one input, or None when your gradient agrees."""
    eps = max(seen["eps"], facts.lowest_precision(Tensor(0.0), mine))
    mine = np.asarray(getattr(mine, "_data", mine), dtype=np.float64)
    tol = tolerance(auto, atol, eps)
    if mine.shape == auto.shape and dg.close(mine, auto, rtol, tol).all():
        return None
    x = np.asarray(getattr(x, "_data", x), dtype=np.float64)
    slips = _layer_slips(auto, seen["layers"], seen["a0"])
    n, k = (given or found for given, found in zip(counts, seen["counts"]))
    verdict = diagnose(mine, auto, rtol, tol, n, x, n_classes=k, slips=slips, eps=eps)
    table = _worst_table(mine, auto) if mine.shape == auto.shape else ""
    return (f"gradient for {name} (shape {auto.shape}) does not match autodiff.\n"
            f"  diagnosis: {verdict}\n{table}").rstrip()


def assert_grad_close(
    f: Callable,
    inputs: Sequence[Any],
    expected: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    names: Sequence[str] | None = None,
    n_examples: int | None = None,
    n_classes: int | None = None,
) -> None:
    """Check a hand-derived gradient against autodiff.

    f maps Tensors (one per entry of `inputs`) to a scalar Tensor; `expected` is your gradient
    (one array for one input, else a sequence with one array per input; None skips an input).
    Raises DerivationMismatch with the worst entries side by side and a diagnosis, one per
    wrong input in the order given. Pass `n_examples` (N) so a missing mean over the examples
    is named as such, `n_classes` (K) when f has no cross-entropy to read it from. When float32
    is involved (your gradient, an input, or data inside f), differences up to 100 float32 ulps
    of the gradient's largest entry (1.2e-5 x max |autodiff|) count as equal."""
    if isinstance(inputs, (np.ndarray, Tensor)):
        inputs = [inputs]
    expected = [expected] if len(inputs) == 1 else list(expected)
    if len(expected) != len(inputs):
        raise ValueError(f"assert_grad_close: {len(inputs)} inputs but {len(expected)} "
                         f"expected gradients")
    names = list(names) if names is not None else [f"input {i}" for i in range(len(inputs))]
    autos, seen = _autodiff(f, inputs)
    problems = [_check_one(name, mine, auto, x, seen, rtol, atol, (n_examples, n_classes))
                for name, mine, auto, x in zip(names, expected, autos, inputs)
                if mine is not None]
    problems = [p for p in problems if p]
    if problems:
        raise DerivationMismatch("\n".join(problems))
