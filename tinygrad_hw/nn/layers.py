"""Layers: Linear (x @ W.T + b, as PyTorch, with the course's zero init as an option) and
the activation modules Sigmoid, ReLU, Tanh and Softmax."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..functions import as_tensor
from ..tensor import Tensor
from .module import Module, Parameter

INITS = ("default", "zeros", "normal")


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """x @ weight.T + bias, with weight of shape (out_features, in_features) (as PyTorch)."""
    out = as_tensor(x) @ as_tensor(weight).T
    return out if bias is None else out + bias


def _init_values(
    shape: tuple[int, int], bias: bool, init: str, rng: Any
) -> tuple[np.ndarray, np.ndarray | None]:
    """float64 weight and bias values; the weight is drawn first, then the bias."""
    out_features, in_features = shape
    if init not in INITS:
        raise ValueError(f"Linear: init must be one of {INITS}, not {init!r}")
    if init == "zeros":
        w, b = np.zeros(shape), np.zeros(out_features)
    else:
        gen = np.random.default_rng(rng)
        scale = 1 / math.sqrt(in_features) if in_features > 0 else 0.0
        if init == "default":
            w = gen.uniform(-scale, scale, size=shape)
            b = gen.uniform(-scale, scale, size=out_features)
        else:
            w, b = gen.normal(0.0, scale, size=shape), np.zeros(out_features)
    return w, (b if bias else None)


class Linear(Module):
    """y = x @ weight.T + bias, weight (out_features, in_features), bias (out_features,).

    init:
      "default"  weight and bias ~ U(-1/sqrt(in_features), 1/sqrt(in_features)) (PyTorch's)
      "zeros"    weight and bias start at zero (the course's softmax regression)
      "normal"   weight ~ N(0, 1/in_features), bias zero
    rng: an int seed or a numpy Generator for reproducible init (None: fresh entropy). The
      weight is drawn before the bias; one Generator passed to several layers gives each
      layer different, reproducible values. Values are drawn in float64, then cast to dtype.
    dtype: a float dtype, float64 by default (float32 works too).
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, init: str = "default",
        *, rng: int | np.random.Generator | None = None, dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {n!r}")
        if np.dtype(dtype).kind != "f":
            raise TypeError(f"Linear: dtype must be a float dtype, got {np.dtype(dtype)}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        w, b = _init_values((self.out_features, self.in_features), bias, init, rng)
        self.weight = Parameter(w, dtype=dtype)
        self.bias = None if b is None else Parameter(b, dtype=dtype)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}): input of shape {x.shape} should have "
                f"{self.in_features} features in its last axis"
            )
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Sigmoid(Module):
    """sigma(x) = 1 / (1 + e^-x), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x).sigmoid()


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x).relu()


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x).tanh()


class Softmax(Module):
    """e^x / sum e^x along `axis` (PyTorch's `dim`). For training, prefer feeding logits to
    cross_entropy, which applies log_softmax itself."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x).softmax(self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"
