"""Anomaly mode: `detect_anomaly()` makes apply() and the backward walk check every op's
output for NaN/inf, and the error says whether the op produced it or an input (named)
already held it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .autograd import _state

if TYPE_CHECKING:
    from .autograd import Op


class AnomalyError(RuntimeError, FloatingPointError):
    """An op's forward or backward output held NaN or inf while `detect_anomaly()` was
    active; the message says whether the op produced it or an input already held it."""


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise AnomalyError at the first op whose forward or backward output holds NaN/inf,
    telling whether the op produced it or it was already in an input (named: its `name`,
    "data", or the op that made it)."""
    prev = _state["anomaly"]
    _state["anomaly"] = True
    try:
        yield
    finally:
        _state["anomaly"] = prev


def is_anomaly_enabled() -> bool:
    return _state["anomaly"]


def check_finite(op: Op, phase: str, inputs: Sequence[Any], outputs: Sequence[Any],
                  grad_out: Any = None) -> None:
    for i, arr in enumerate(outputs):
        kind = None if arr is None else _nonfinite(arr)
        if kind is None:
            continue
        which = "its output" if phase == "forward" else f"the gradient for input {i}"
        shapes = ", ".join(str(tuple(np.shape(getattr(t, "_data", t)))) for t in inputs)
        source = _nonfinite_source(inputs, grad_out)
        if source is None:
            raise AnomalyError(f"{phase} of {op.label()} produced {kind} in {which} "
                               f"(input shapes: {shapes})")
        raise AnomalyError(f"{phase} of {op.label()}: {kind} in {which}, but {source}, so "
                           f"{type(op).__name__} did not produce it (input shapes: {shapes})")


def _nonfinite(x: Any) -> str | None:
    """"NaN" or "inf" if the float array (or Tensor) x holds one, else None."""
    arr = np.asarray(getattr(x, "_data", x))
    if arr.dtype.kind not in "fc" or np.isfinite(arr).all():
        return None
    return "NaN" if np.isnan(arr).any() else "inf"


def _nonfinite_source(inputs: Sequence[Any], grad_out: Any) -> str | None:
    """Which NaN/inf came in with the op's inputs (or incoming gradient), named."""
    if grad_out is not None and (kind := _nonfinite(grad_out)):
        return f"the incoming gradient already holds {kind}"
    for j, t in enumerate(inputs):
        if kind := _nonfinite(t):
            name = getattr(t, "name", None)
            op = getattr(t, "_op", None)
            what = (repr(name) if name else "data" if op is None else
                    f"the output of {op.label()}, made while detect_anomaly() was off")
            return f"input {j} ({what}) already holds {kind}"
    return None
