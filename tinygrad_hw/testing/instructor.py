"""Instructor mode: a student writes the backward formula of an op in numpy, checks it against
the framework's over hypothesis inputs drawn from the op's domain, and can train with it
swapped in."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..autograd import Op, apply, const, gradients, no_grad
from ..tensor import Tensor
from . import strategies as tst
from .derivation import DerivationMismatch, _worst_table, diagnose

Backward = Callable[[np.ndarray, np.ndarray, np.ndarray], Any]
_floats = functools.partial(st.floats, allow_nan=False, allow_subnormal=False)


class StudentCodeError(RuntimeError):
    """The student's backward raised. The message names the op and the input; the student's
    exception is chained as __cause__, so its traceback is shown above this one."""


class _Problem(Exception):
    """The student's backward returned something that is no gradient for x."""


@dataclasses.dataclass(frozen=True)
class Domain:
    """Where an op is checked: x in [low, high], at least `gap` away from the `kink` (a point
    without a derivative, checked on its own), with no ties when `distinct`. `one_sided` are the
    derivatives left and right of the kink; `at_kink` is the framework's (and PyTorch's) value."""

    low: float = -4.0
    high: float = 4.0
    kink: float | None = None
    one_sided: tuple[float, float] = (0.0, 0.0)
    at_kink: float = 0.0
    distinct: bool = False
    min_size: int = 1
    gap: float = 1e-3
    min_spread: float = 0.0  # std: values this far apart, so the spread is not 0 by underflow

    def describe(self) -> str:
        kink = "" if self.kink is None else f" except near the kink x = {self.kink:g}"
        return f"x in [{self.low:g}, {self.high:g}]{kink}" + (", no ties" * self.distinct)

    def arrays(self) -> st.SearchStrategy:
        shapes = tst.shapes(min_dims=1, max_dims=3, max_side=4)
        if self.min_size > 1:
            shapes = shapes.filter(lambda s: int(np.prod(s)) >= self.min_size)
        floats = _floats(self.low, self.high)
        if self.kink is not None:
            floats = st.one_of(_floats(self.low, min(self.high, self.kink - self.gap)),
                               _floats(max(self.low, self.kink + self.gap), self.high))
        arrays = hnp.arrays(np.float64, shapes, elements=floats, unique=self.distinct)
        if self.min_spread:
            arrays = arrays.filter(lambda a: np.ptp(a) > self.min_spread)
        return arrays


# an op missing here is checked on Domain(): x in [-4, 4]
_DOMAINS = {
    "log": Domain(low=0.1),  # ln x exists for x > 0 only
    "sqrt": Domain(low=0.1),  # no real sqrt below 0, no derivative at 0
    "relu": Domain(kink=0.0, one_sided=(0.0, 1.0)),
    "abs": Domain(kink=0.0, one_sided=(-1.0, 1.0)),
    "max": Domain(distinct=True),  # a tie splits the gradient among the maxima
    "min": Domain(distinct=True),
    "std": Domain(distinct=True, min_size=2, min_spread=1e-3),  # std = 0: no derivative
}


@dataclasses.dataclass(repr=False)
class BackwardReport:
    """What a check of a backward formula tried: the shape of every input, the domain, and
    notes (a different convention at a kink). Printing it summarises the check."""

    op: str
    domain: str
    shapes: list[tuple[int, ...]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def n_inputs(self) -> int:
        return len(self.shapes)

    def tried(self) -> str:
        kinds = sorted(set(self.shapes), key=lambda s: (len(s), s))
        listed = ", ".join(str(s) for s in kinds[:6]) + (", ..." if len(kinds) > 6 else "")
        return (f"{self.n_inputs} input{'s' * (self.n_inputs != 1)} of {len(kinds)} "
                f"shape{'s' * (len(kinds) != 1)} ({listed}), {self.domain}")

    def __str__(self) -> str:
        notes = "".join(f"\n  note: {note}" for note in self.notes)
        return f"your backward for {self.op} matches the framework's on {self.tried()}{notes}"

    __repr__ = __str__


def _method_name(fn: Callable | str) -> str:
    name = fn if isinstance(fn, str) else getattr(fn, "__name__", "")
    if not callable(getattr(Tensor, name, None)):
        raise ValueError(f"no Tensor method {name!r} to give a backward formula to; use the name "
                         f"of a one-tensor op such as 'sigmoid', 'tanh', 'relu' or 'softmax'")
    return name


def _where(x: np.ndarray, grad_out: np.ndarray) -> str:
    if x.size <= 4:
        return f"x = {x.tolist()}, grad_out = {np.asarray(grad_out).tolist()}"
    return (f"x of shape {x.shape} (values in [{x.min():.4g}, {x.max():.4g}]), grad_out of "
            f"shape {np.shape(grad_out)}")


def _as_gradient(name: str, g: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The student's return value as a float array of x's shape, or a _Problem naming why not.
    A tuple of one array is accepted (as PyTorch's autograd.Function does)."""
    if isinstance(g, tuple):
        if len(g) != 1:
            raise _Problem(f"wrong number of values: your backward for {name} returned a tuple of "
                           f"{len(g)}; an op of one input x returns one array, the gradient for x")
        g = g[0]
    if g is None:
        raise _Problem(f"your backward for {name} returned None (a missing `return`?); it must "
                       f"return the gradient for x, an array of x's shape {shape}")
    try:
        g = np.asarray(getattr(g, "_data", g), dtype=np.float64)
    except (TypeError, ValueError):
        raise _Problem(f"your backward for {name} returned a {type(g).__name__}, not an array "
                       f"of numbers") from None
    if g.shape != shape:
        hint = " (the transpose?)" if g.shape == shape[::-1] and g.ndim > 1 else ""
        raise _Problem(f"wrong shape: your backward for {name} returned shape {g.shape}{hint}, "
                       f"but x has shape {shape} and its gradient has the same shape")
    return g


def _student(name: str, formula: Backward, grad_out: np.ndarray, out: np.ndarray,
             x: np.ndarray) -> np.ndarray:
    """The student's gradient for x; an exception in the student's code comes back as a
    StudentCodeError naming the op and the input, chained to the original."""
    try:
        g = formula(grad_out, out, x)
    except Exception as e:
        raise StudentCodeError(
            f"your backward for {name} raised {type(e).__name__}: {e}\n  at {_where(x, grad_out)}"
            f"\n  (the traceback of your code is shown above)") from e
    return _as_gradient(name, g, x.shape)


def _forward(name: str, x: np.ndarray) -> np.ndarray:
    with no_grad():
        return getattr(Tensor, name)(Tensor(x)).numpy()


def _autodiff(name: str, x: np.ndarray, grad_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(out, the framework's gradient for x) at x for this output gradient."""
    t = Tensor(x, requires_grad=True)
    out = getattr(Tensor, name)(t)
    (auto,) = gradients(out, [t], grad_out)
    auto = np.zeros(x.shape) if auto is None else np.asarray(auto._data, dtype=np.float64)
    return out.numpy(), auto


def _kink(name: str, x: np.ndarray, grad_out: np.ndarray, mine: np.ndarray,
          bad: np.ndarray) -> tuple[bool, str]:
    """(passes, words) when every mismatch sits at the op's kink; (False, "") otherwise. A value
    between the one-sided derivatives is another valid convention, so it passes with a note."""
    d = _DOMAINS.get(name, Domain())
    at = x == d.kink
    if d.kink is None or not at.any() or (bad & ~at).any():
        return False, ""
    g, (left, right) = grad_out[bad], d.one_sided
    ok = np.all((mine[bad] >= np.minimum(g * left, g * right) - 1e-9)
                & (mine[bad] <= np.maximum(g * left, g * right) + 1e-9))
    mine_at = f"your {name}'({d.kink:g}) = {mine[bad][0] / g[0] if g[0] else mine[bad][0]:g}"
    if ok:
        return True, (f"differs only at the kink x = {d.kink:g} (convention): {mine_at}, the "
                      f"framework's (like PyTorch's) is {d.at_kink:g}; both lie between the "
                      f"one-sided derivatives {left:g} and {right:g}, so neither is wrong")
    return False, (f"differs only at the kink x = {d.kink:g}, where {mine_at} lies outside "
                   f"[{left:g}, {right:g}], the range between the one-sided derivatives (the "
                   f"framework, like PyTorch, uses {d.at_kink:g})")


def _ignores_grad_out(name: str, formula: Backward, x: np.ndarray, grad_out: np.ndarray,
                      out: np.ndarray, mine: np.ndarray) -> str:
    """Words for a backward whose result does not change with grad_out, else ""."""
    ones = np.ones_like(grad_out)
    other = 2 * ones if np.allclose(grad_out, ones) else ones
    _, auto = _autodiff(name, x, other)
    try:
        same = np.allclose(mine, _student(name, formula, other, out, x), equal_nan=True)
    except (_Problem, StudentCodeError):
        return ""
    if not same or np.allclose(auto, _autodiff(name, x, grad_out)[1]):
        return ""
    local = " (it is the local derivative d out/dx alone)" * np.allclose(mine, auto / other)
    return (f"ignores grad_out: your backward returns the same gradient whatever grad_out is"
            f"{local}; by the chain rule it must use grad_out (for an elementwise op, multiply "
            f"the local derivative by grad_out)")


def _verdict(name: str, formula: Backward, x: np.ndarray, grad_out: np.ndarray, out: np.ndarray,
             mine: np.ndarray, auto: np.ndarray, rtol: float, atol: float) -> str:
    wild = ~np.isfinite(mine) & np.isfinite(auto)
    if wild.any():
        i = tuple(np.argwhere(wild)[0])
        return (f"yours is {mine[i]} at index {i} (x = {x[i]:.6g}) where the framework's is "
                f"{auto[i]:.6g}: a division by zero, or log/sqrt of a number <= 0?")
    ignored = _ignores_grad_out(name, formula, x, grad_out, out, mine)
    if ignored:
        return ignored
    if not auto.any():
        return "the framework's gradient is 0 at every entry of this input, and yours is not"
    return diagnose(mine, auto, rtol, atol)


def _check_one(report: BackwardReport, formula: Backward, x: np.ndarray, grad_out: np.ndarray,
               rtol: float, atol: float) -> None:
    """Compare the student's gradient with autodiff's at x and record the input: a different
    convention at a kink becomes a note, any other difference a DerivationMismatch."""
    report.shapes.append(x.shape)
    name, table = report.op, ""
    out, auto = _autodiff(name, x, grad_out)
    try:
        mine = _student(name, formula, grad_out, out, x)
    except _Problem as p:
        head = str(p)
    else:
        bad = ~np.isclose(mine, auto, rtol=rtol, atol=atol, equal_nan=True)
        if not bad.any():
            return
        passes, verdict = _kink(name, x, grad_out, mine, bad)
        if passes:
            report.notes.append(verdict)
            return
        verdict = verdict or _verdict(name, formula, x, grad_out, out, mine, auto, rtol, atol)
        head = f"your backward for {name} disagrees with the framework's\n  diagnosis: {verdict}"
        table = _worst_table(mine, auto)
    raise DerivationMismatch(f"{head}\n  at {_where(x, grad_out)}\n  inputs tried: "
                             f"{report.tried()}\n{table}".rstrip())


def _noted(report: BackwardReport) -> BackwardReport:
    for note in report.notes:
        warnings.warn(f"{report.op}: {note}", UserWarning, stacklevel=3)
    return report


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
        g_out, xs = np.asarray(grad_out._data), np.asarray(x._data)
        try:
            g = _student(self.name, self.formula, g_out, np.asarray(out._data), xs)
        except _Problem as p:
            raise DerivationMismatch(f"{p}\n  at {_where(xs, g_out)}") from None
        return (const(g.astype(x.dtype, copy=False)),)


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
                     grad_out: np.ndarray, rtol: float = 1e-6,
                     atol: float = 1e-9) -> BackwardReport:
    """One check of `formula` at x for a given output gradient; raises DerivationMismatch (or
    StudentCodeError when the formula raises), else returns a report (with a warned note when
    the formula differs only by its convention at a kink such as relu's x = 0)."""
    name = _method_name(fn)
    report = BackwardReport(name, "the given input")
    x = np.asarray(x, dtype=np.float64)
    _check_one(report, formula, x, np.asarray(grad_out, dtype=np.float64), rtol, atol)
    return _noted(report)


def check_backward(fn: Callable | str, formula: Backward, *, low: float | None = None,
                   high: float | None = None, max_examples: int = 50, rtol: float = 1e-6,
                   atol: float = 1e-9) -> BackwardReport:
    """Check a student's backward formula against the framework's op on hypothesis inputs
    (shapes up to 3-D, random output gradients) from the op's domain (see _DOMAINS; low and
    high override its range), then at its kink if it has one. Raises DerivationMismatch for
    the simplest failing input, StudentCodeError when the formula raises; returns a report."""
    name = _method_name(fn)
    domain = _DOMAINS.get(name, Domain())
    domain = dataclasses.replace(domain, low=domain.low if low is None else low,
                                 high=domain.high if high is None else high)
    report = BackwardReport(name, domain.describe())
    # a typical input first: its mismatch pattern gives the most telling diagnosis
    rng = np.random.default_rng(0)
    x = rng.uniform(domain.low, domain.high, size=(4, 5))
    _check_one(report, formula, x, rng.normal(size=_forward(name, x).shape), rtol, atol)

    @settings(max_examples=max_examples, deadline=None, database=None, report_multiple_bugs=False)
    @given(data=st.data())
    def run(data: Any) -> None:
        x = data.draw(domain.arrays(), label="x")
        grad_out = data.draw(tst.arrays(_forward(name, x).shape, low=-2, high=2), label="grad_out")
        _check_one(report, formula, x, grad_out, rtol, atol)

    run()
    if domain.kink is not None:
        k = domain.kink
        _check_one(report, formula, np.array([k - 1.0, k, k + 1.0]), np.ones(3), rtol, atol)
    return _noted(report)
