"""Text for graph nodes: op names with their parameters, value and gradient summaries, the
local derivative from an op's docstring, and escaping for Graphviz HTML labels."""

from __future__ import annotations

import html
import inspect
import re
from typing import Any

import numpy as np

# Class names whose snake_case spelling is not the method name students call.
_OP_NAMES = {"MatMul": "matmul", "LogSumExp": "logsumexp", "GetItem": "getitem"}
_TINY = 6  # tensors with at most this many elements show every value
_MAX_TEXT = 48  # longer label lines are cut, so one odd parameter cannot widen the picture


def escape(text: Any) -> str:
    """Text made safe for a Graphviz HTML label. html.escape covers < > & and quotes; | and
    braces are plain text in HTML labels but record-shape syntax elsewhere, so they are
    written as character references too."""
    out = html.escape(str(text), quote=True)
    return out.replace("|", "&#124;").replace("{", "&#123;").replace("}", "&#125;")


def shorten(text: str, limit: int = _MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def op_name(op: Any) -> str:
    """The snake_case word a student types: MatMul -> matmul, LogSoftmax -> log_softmax."""
    cls = type(op).__name__
    return _OP_NAMES.get(cls) or re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cls).lower()


def format_param(value: Any) -> str:
    """A parameter value in numpy's spelling, short: (1,) -> 1, slice(None, 2) -> :2."""
    if isinstance(value, tuple) and len(value) == 1 and isinstance(value[0], (int, np.integer)):
        return str(int(value[0]))
    if isinstance(value, slice):
        parts = ["" if v is None else str(v) for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if value is Ellipsis:
        return "..."
    if isinstance(value, np.ndarray):
        return value.tolist().__repr__() if value.size <= 4 else f"<{value.dtype} {value.shape}>"
    if isinstance(value, tuple):
        inner = ", ".join(format_param(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, np.dtype):
        return value.name
    return str(value)


def op_text(op: Any, extra: dict[str, str] | None = None) -> str:
    """`sum(axis=1)`, `getitem[:, 0]`, `pow(y=2)`: the op, its non-default parameters and any
    inlined constant arguments (`extra`)."""
    params = op.params() if hasattr(op, "params") else {}
    if op_name(op) == "getitem":
        index = params.get("index")
        parts = index if isinstance(index, tuple) else (index,)
        return shorten("getitem[" + ", ".join(format_param(p) for p in parts) + "]")
    shown = {k: format_param(v) for k, v in params.items() if v is not None and v is not False}
    shown.update(extra or {})
    args = ", ".join(f"{k}={v}" for k, v in shown.items())
    return shorten(f"{op_name(op)}({args})" if args else op_name(op))


def arg_names(op: Any, count: int) -> list[str]:
    """Names of an op's inputs as its backward rule spells them (x, y; a, b; cond, x, y), so
    edge labels match the docstring's d out/dx."""
    try:
        sig = inspect.signature(type(op).backward)
    except (TypeError, ValueError):
        return [str(i) for i in range(count)]
    names = []
    for p in list(sig.parameters.values())[3:]:  # self, grad_out, out
        if p.kind is p.VAR_POSITIONAL:
            names += [f"{p.name}[{i}]" for i in range(count - len(names))]
        else:
            names.append(p.name)
    return (names + [str(i) for i in range(len(names), count)])[:count]


def derivative_text(op: Any) -> str | None:
    """The part after ';' in the op's docstring ("d out/dx = out (1 - out)"). A docstring's
    summary may wrap onto lines starting in lower case; a capitalised line starts the prose."""
    doc = inspect.getdoc(type(op)) or ""
    lines = doc.splitlines()
    if not lines or ";" not in doc:
        return None
    summary = [lines[0]]
    for line in lines[1:]:
        if not line.strip() or line.strip()[0].isupper():
            break
        summary.append(line.strip())
    text = " ".join(" ".join(summary).split())
    return text.split(";", 1)[1].strip() if ";" in text else None


def number(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return f"{float(v):.4g}"


def nonfinite(arr: np.ndarray) -> str | None:
    """'NaN', 'inf' or None: what non-finite values a float array holds, NaN first."""
    if arr.dtype.kind not in "fc" or np.isfinite(arr).all():
        return None
    return "NaN" if np.isnan(arr).any() else "inf"


def summary(arr: np.ndarray) -> list[str]:
    """Lines describing an array: every value of a tiny one (a matrix row by row), else
    min/mean/max over the finite values plus a count of non-finite ones, so one NaN does
    not hide the rest."""
    arr = np.asarray(arr)
    if arr.size <= _TINY:
        flat = [number(v) for v in arr.reshape(-1)]
        if arr.ndim == 0:
            return flat
        if arr.ndim == 2 and arr.shape[0] > 1:
            rows = [_nested(flat[i : i + arr.shape[1]], arr.shape[1:]) for i in
                    range(0, arr.size, max(arr.shape[1], 1))]
            pad = "\u00a0"  # a no-break space survives Graphviz's trimming of lines
            return ["[" + rows[0] + ","] + [pad + r + "," for r in rows[1:-1]] + [
                pad + rows[-1] + "]"
            ]
        return [_nested(flat, arr.shape)]
    if arr.dtype.kind == "b":
        return [f"{int(arr.sum())} of {arr.size} true"]
    bad = ~np.isfinite(arr) if arr.dtype.kind in "fc" else np.zeros(arr.shape, bool)
    ok = arr[~bad]
    text = "" if ok.size == 0 else (
        f"min {number(ok.min())}  mean {number(ok.mean())}  max {number(ok.max())}"
    )
    if bad.any():
        text = (text + "  " if text else "") + f"{int(bad.sum())} of {arr.size} non-finite"
    return [text]


def _nested(flat: list[str], shape: tuple[int, ...]) -> str:
    if len(shape) <= 1:
        return "[" + ", ".join(flat) + "]"
    step = len(flat) // shape[0]
    rows = [_nested(flat[i : i + step], shape[1:]) for i in range(0, len(flat), step)]
    return "[" + ", ".join(rows) + "]"


def shape_text(arr: np.ndarray) -> str:
    shape = "scalar" if arr.ndim == 0 else str(tuple(int(n) for n in arr.shape))
    return f"{shape} {arr.dtype.name}"


def wrap(text: str, width: int = 52, lines: int = 3) -> list[str]:
    """Text broken at spaces into at most `lines` lines of about `width` characters."""
    out: list[str] = []
    for word in text.split():
        if out and len(out[-1]) + 1 + len(word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = shorten(out[-1] + " …", width)
    return out
