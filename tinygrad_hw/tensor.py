"""Tensor: a numpy value plus what autodiff needs (requires_grad, grad, the op that made it).
Operators and methods only dispatch to ops; no derivative math lives here."""

from __future__ import annotations

import html
import warnings
from typing import Any

import numpy as np

from . import autograd
from .autograd import _state, apply, mask
from .ops.activation import Relu, Sigmoid, Softplus, Tanh
from .ops.elementwise import (
    Abs,
    Add,
    Cast,
    Div,
    Exp,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    Sqrt,
    Sub,
    Where,
)
from .ops.linalg import MatMul
from .ops.reduce import LogSoftmax, LogSumExp, Max, Min, Sum, check_axis, normalize_axis
from .ops.shape import Expand, GetItem, Reshape, Transpose

_ADD, _SUB, _MUL, _DIV, _POW, _NEG = Add(), Sub(), Mul(), Div(), Pow(), Neg()
_EXP, _LOG, _SQRT, _ABS, _MATMUL, _WHERE = Exp(), Log(), Sqrt(), Abs(), MatMul(), Where()
_SIGMOID, _TANH, _RELU, _SOFTPLUS = Sigmoid(), Tanh(), Relu(), Softplus()
_MAXIMUM, _MINIMUM = Maximum(), Minimum()


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    """reshape(2, 3) and reshape((2, 3)) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def _index_arg(index: Any) -> Any:
    """Tensors and lists inside an index become numpy arrays."""
    if isinstance(index, tuple):
        return tuple(_index_arg(i) for i in index)
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, list):
        return np.asarray(index)
    return index


_new = object.__new__
_T2 = Transpose((1, 0))


class Tensor:
    """An n-dimensional array that records the ops applied to it for reverse-mode autodiff."""

    __slots__ = (
        "_data", "grad", "_rg", "_op", "_inputs", "_retain", "_freed", "_epoch", "_mod",
        "name", "__weakref__",
    )
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operator
    __hash__ = object.__hash__  # == is elementwise, identity is the hash

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None
    ) -> None:
        if isinstance(data, Tensor):
            if data._rg:
                warnings.warn(
                    "Tensor(x) copies the value of x, which requires grad, without its graph: "
                    "no gradient will flow back to x. Use x itself, or x.detach() to say so.",
                    stacklevel=2,
                )
            data = data._data
        arr = np.array(data, dtype=dtype)
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"Tensor: unsupported dtype {arr.dtype} (use bool, integer or float data)"
            )
        self._init(arr, name)
        if requires_grad:
            self.requires_grad = True

    def _init(self, data: Any, name: str | None = None) -> None:
        self._data = data
        self.grad = None
        self._rg = False
        self._op = None
        self._inputs = ()
        self._retain = False
        self._freed = False
        self._epoch = 0  # in-place update count when this node was recorded
        self._mod = 0  # in-place update count when this tensor was last updated in place
        self.name = name

    @staticmethod
    def _make(data: Any) -> Tensor:
        """Wrap an array without copying or checks (results of ops). _init's fields, set
        inline: this runs once per op, so its cost is every op's cost."""
        t = _new(Tensor)
        t._data = data
        t.grad = t._op = t.name = None
        t._rg = t._retain = t._freed = False
        t._inputs = ()
        t._epoch = t._mod = 0
        return t

    # ----------------------------------------------------------------- value and metadata
    @property
    def data(self) -> np.ndarray:
        """The value as a read-only numpy array (use .numpy() for a writable copy)."""
        view = np.asarray(self._data).view()
        view.flags.writeable = False
        return view

    @data.setter
    def data(self, value: Any) -> None:
        """Replace the value, as PyTorch's `p.data = v`: allowed even while recording, since
        it is the explicit way around autograd (graphs that used the old value then refuse
        to run backward)."""
        self._assign(np.asarray(getattr(value, "_data", value)), explicit=True)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag and self.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require grad, this one has dtype "
                f"{self.dtype}; convert it with .astype(np.float64) first"
            )
        if not flag and self._op is not None:
            raise RuntimeError("requires_grad can only be switched off on a leaf; use detach()")
        self._rg = bool(flag)

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    @property
    def T(self) -> Tensor:
        return apply(_T2, self) if self._data.ndim == 2 else self.transpose()

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (a batch of matrices transposed)."""
        return apply(_T2, self) if self._data.ndim == 2 else self.swapaxes(-1, -2)

    def numpy(self) -> np.ndarray:
        if _state["tape"] is not None:
            autograd.read_while_recording(self, "numpy()")
        return np.array(self._data)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if _state["tape"] is not None:
            autograd.read_while_recording(self, "np.asarray()")
        arr = self.data if dtype is None else np.asarray(self._data, dtype=dtype)
        return np.array(arr) if copy else arr

    def item(self) -> Any:
        if _state["tape"] is not None:
            autograd.read_while_recording(self, "item()")
        return self._data.item()

    def tolist(self) -> Any:
        if _state["tape"] is not None:
            autograd.read_while_recording(self, "tolist()")
        return np.asarray(self._data).tolist()

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if _state["tape"] is not None:
            autograd.read_while_recording(self, "bool()")
        if self.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous (use .any() "
                f"or .all() on .numpy(), or compare tensors with `is`, not ==/in)"
            )
        return bool(self.item())

    def __float__(self) -> float:
        if _state["tape"] is not None:
            autograd.read_while_recording(self, "float()")
        return float(self.item())

    def __int__(self) -> int:
        if _state["tape"] is not None:
            autograd.read_while_recording(self, "int()")
        return int(self.item())

    def __repr__(self) -> str:
        body = np.array2string(np.asarray(self._data), separator=", ", prefix="Tensor(")
        extra = "" if self.dtype in (np.float64, np.int64, np.bool_) else f", dtype={self.dtype}"
        if self._op is not None:
            extra += f", op={type(self._op).__name__}"
        elif self._rg:
            extra += ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"

    def _repr_html_(self) -> str:
        """A notebook's view: shape, dtype, where it stands in autograd, and the value (at
        most a few hundred numbers, the middle elided as numpy prints it)."""
        if self._op is not None:
            grad = f"computed by <b>{type(self._op).__name__}</b>, requires grad"
        elif self._rg:
            grad = "leaf, requires grad" + (", has .grad" if self.grad is not None else "")
        else:
            grad = "no grad"
        value = np.array2string(np.asarray(self._data), separator=", ", threshold=200,
                                edgeitems=3, precision=6)
        name = f" <code>{html.escape(self.name)}</code>" if self.name else ""
        return (f"<div><b>Tensor</b>{name} &middot; shape {self.shape} &middot; {self.dtype} "
                f"&middot; {grad}<pre style=\"margin:2px 0\">{html.escape(value)}</pre></div>")

    # ----------------------------------------------------------------- autograd
    def backward(
        self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad (and retain_grad() tensors)."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def retain_grad(self) -> Tensor:
        """Keep .grad on this non-leaf after backward (e.g. a pre-activation z, for deltas)."""
        if not self._rg:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retain = True
        return self

    def detach(self) -> Tensor:
        """The same value, cut off from the graph (no grad)."""
        return Tensor._make(self._data)

    def zero_grad(self) -> None:
        self.grad = None

    def requires_grad_(self, flag: bool = True) -> Tensor:
        self.requires_grad = flag
        return self

    def _assign(self, value: np.ndarray, explicit: bool = False, fresh: bool = False) -> Tensor:
        """Replace the value in place (same shape, cast to own dtype), e.g. a parameter update.
        fresh=True: `value` is a new array nothing else holds, kept without a copy when its
        dtype is already right."""
        if self._op is not None:
            raise RuntimeError(
                "in-place update of a tensor computed by an op; only leaves can be updated"
            )
        if self._rg and _state["grad"] and not explicit:
            raise RuntimeError(
                "in-place update of a leaf that requires grad while recording; wrap the update "
                "in `with tg.no_grad():` (e.g. `w -= lr * w.grad`)"
            )
        if value.shape != self.shape:
            raise ValueError(
                f"in-place update: value of shape {value.shape} does not fit shape {self.shape}"
            )
        if fresh and type(value) is np.ndarray and value.dtype == self._data.dtype:
            self._data = value
        else:
            self._data = np.array(value, dtype=self.dtype)
        _state["epoch"] += 1
        self._mod = _state["epoch"]
        return self

    def _inplace(self, result: Tensor) -> Tensor:
        """`self op= other`, given `result = self op other`. A leaf that requires grad is
        updated in place (allowed under no_grad only, as in PyTorch). A tensor on a graph, or
        a result that needs a graph, rebinds the name to the recorded out-of-place result
        (`a += b` becomes `a = a + b`), keeping self's dtype. Otherwise the value is
        replaced in place and the tensor keeps its identity, as a numpy array would."""
        if not np.can_cast(result.dtype, self.dtype, "same_kind"):
            raise TypeError(
                f"in-place operator: the result has dtype {result.dtype}, which cannot be "
                f"stored in this tensor's dtype {self.dtype} (write `x = x + y` instead)"
            )
        if self._op is None and (self._rg or not result._rg):
            return self._assign(result._data, fresh=True)  # an op's output: a new array
        out = result if result.dtype == self.dtype else result.astype(self.dtype)
        out.name = self.name
        return out

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(self + other)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(self - other)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(self * other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(self / other)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(
            "tensors do not support item assignment; build the value with tg.where, "
            "tg.concatenate or indexing instead"
        )

    # ----------------------------------------------------------------- arithmetic
    def _lift(self, other: Any) -> Tensor:
        """Turn the other operand into a Tensor. Python scalars take this tensor's dtype when
        it can hold them (NEP 50), so float32 * 2.0 stays float32."""
        if isinstance(other, Tensor):
            return other
        if type(other) is float or type(other) is int:  # not bool, not numpy scalars
            dt = self._data.dtype
            if dt.kind != "f":
                dt = np.result_type(dt, other)
            return Tensor._make(np.array(other, dtype=dt))
        return Tensor(other)

    def __add__(self, other: Any) -> Tensor:
        return apply(_ADD, self, self._lift(other))

    def __radd__(self, other: Any) -> Tensor:
        return apply(_ADD, self._lift(other), self)

    def __sub__(self, other: Any) -> Tensor:
        return apply(_SUB, self, self._lift(other))

    def __rsub__(self, other: Any) -> Tensor:
        return apply(_SUB, self._lift(other), self)

    def __mul__(self, other: Any) -> Tensor:
        return apply(_MUL, self, self._lift(other))

    def __rmul__(self, other: Any) -> Tensor:
        return apply(_MUL, self._lift(other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return apply(_DIV, self, self._lift(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return apply(_DIV, self._lift(other), self)

    def __pow__(self, other: Any) -> Tensor:
        return apply(_POW, self, self._lift(other))

    def __rpow__(self, other: Any) -> Tensor:
        return apply(_POW, self._lift(other), self)

    def __matmul__(self, other: Any) -> Tensor:
        return apply(_MATMUL, self, self._lift(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return apply(_MATMUL, self._lift(other), self)

    def __neg__(self) -> Tensor:
        return apply(_NEG, self)

    def __pos__(self) -> Tensor:
        return self

    def _compare(self, fn: Any, other: Any) -> Tensor:
        """A bool tensor without grad; an op (a Mask), so tg.compile replays it."""
        try:
            other = self._lift(other)
        except TypeError:  # None, strings: numpy's answer, as a constant
            return Tensor._make(np.asarray(fn(self._data, other)))
        try:
            return mask(fn, self, other)
        except ValueError as e:
            raise ValueError(
                f"{fn.__name__}: shapes {self.shape} and {other.shape} do not broadcast: {e}"
            ) from None

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(np.equal, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(np.not_equal, other)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(np.less, other)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(np.less_equal, other)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(np.greater, other)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(np.greater_equal, other)

    def __invert__(self) -> Tensor:
        return mask(np.invert, self)

    # ----------------------------------------------------------------- elementwise math
    def exp(self) -> Tensor:
        return apply(_EXP, self)

    def log(self) -> Tensor:
        return apply(_LOG, self)

    def sqrt(self) -> Tensor:
        return apply(_SQRT, self)

    def abs(self) -> Tensor:
        return apply(_ABS, self)

    def sigmoid(self) -> Tensor:
        return apply(_SIGMOID, self)

    def tanh(self) -> Tensor:
        return apply(_TANH, self)

    def relu(self) -> Tensor:
        return apply(_RELU, self)

    def softplus(self) -> Tensor:
        return apply(_SOFTPLUS, self)

    def maximum(self, other: Any) -> Tensor:
        return apply(_MAXIMUM, self, self._lift(other))

    def minimum(self, other: Any) -> Tensor:
        return apply(_MINIMUM, self, self._lift(other))

    def where(self, condition: Any, other: Any) -> Tensor:
        """self where condition else other (torch.Tensor.where)."""
        if not (isinstance(condition, Tensor) and condition.dtype == np.bool_):
            condition = Tensor._make(np.asarray(getattr(condition, "_data", condition), bool))
        return apply(_WHERE, condition, self, self._lift(other))

    def astype(self, dtype: Any) -> Tensor:
        """The value in another dtype. Casting to an integer or bool dtype cuts the graph
        (the result does not require grad), as in PyTorch."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype.kind != "f":
            return Tensor._make(self._data.astype(dtype))
        return apply(Cast(dtype), self)

    # ----------------------------------------------------------------- reductions
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return apply(Sum(normalize_axis(axis, self.ndim, "sum"), keepdims), self)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return apply(Max(normalize_axis(axis, self.ndim, "max"), keepdims), self)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return apply(Min(normalize_axis(axis, self.ndim, "min"), keepdims), self)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return apply(LogSumExp(normalize_axis(axis, self.ndim, "logsumexp"), keepdims), self)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return C.mean(self, axis, keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return C.var(self, axis, keepdims, ddof)

    def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return C.std(self, axis, keepdims, ddof)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Indices of the maxima (an int64 tensor without grad), e.g. predicted classes."""
        return C.arg_reduce(np.argmax, self, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return C.arg_reduce(np.argmin, self, axis, keepdims)

    def clip(self, low: Any = None, high: Any = None) -> Tensor:
        return C.clip(self, low, high)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return apply(LogSoftmax(normalize_axis(axis, self.ndim, "log_softmax")), self)

    def softmax(self, axis: int = -1) -> Tensor:
        return C.softmax(self, axis)

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape: Any) -> Tensor:
        return apply(Reshape(_shape_arg(shape)), self)

    def transpose(self, *axes: Any) -> Tensor:
        axes = _shape_arg(axes) if axes else tuple(range(self.ndim))[::-1]
        axes = tuple(check_axis(a, self.ndim, "transpose") for a in axes)
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of the {self.ndim} axes of a "
                f"tensor of shape {self.shape}"
            )
        return apply(Transpose(axes), self)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        a, b = (check_axis(n, self.ndim, "swapaxes") for n in (axis1, axis2))
        if self.ndim == 0:
            return self
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(*axes)

    def expand(self, *shape: Any) -> Tensor:
        shape = _shape_arg(shape)
        lead = len(shape) - self.ndim
        shape = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        return apply(Expand(shape), self)

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        return C.flatten(self, start_axis, end_axis)

    def squeeze(self, axis: Any = None) -> Tensor:
        return C.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        return C.unsqueeze(self, axis)

    def __getitem__(self, index: Any) -> Tensor:
        return apply(GetItem(_index_arg(index)), self)



# compositions build on Tensor, so they come last (their functions only run after both loaded)
from . import composite as C  # noqa: E402
