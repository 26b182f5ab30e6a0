"""Replay code generation for tg.compile: a _Program turns a built recording into one
straight-line Python function of numpy calls (buffers allocated once, ufunc kernels,
dead instructions dropped), checks its guards and runs it."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from .autograd import Mask, Op
from .ops.activation import Relu
from .ops.elementwise import Abs, Add, Div, Exp, Log, Maximum, Minimum, Mul, Neg, Sqrt, Sub
from .ops.linalg import MatMul
from .ops.reduce import Sum
from .ops.shape import Expand, Reshape, Transpose
from .tensor import Tensor

if TYPE_CHECKING:
    from .compile import _Builder

# op types whose forward is one numpy ufunc call: replayed as ufunc(*inputs, out=buffer)
_UFUNCS: dict[type, Any] = {
    Add: np.add, Sub: np.subtract, Mul: np.multiply, Div: np.divide, Neg: np.negative,
    Exp: np.exp, Log: np.log, Sqrt: np.sqrt, Abs: np.abs, Maximum: np.maximum,
    Minimum: np.minimum, MatMul: np.matmul,
}

_VIEWS = (Reshape, Transpose, Expand)  # ops whose output is a view of their input

_GRAD_SLOT = Tensor.__dict__["grad"]  # the slot behind Tensor.grad


def _base_slot(b: _Builder, value: Any) -> int | None:
    """The slot whose array `value` is a view of (or is), if any."""
    if not isinstance(value, np.ndarray):
        return None
    base = value if value.base is None else value.base
    return b.by_array.get(id(base))


class _Program:
    """One recording: guards, buffers and the generated replay function. Op outputs go to
    arrays allocated once (`out=`) where the op allows, parameters are read from their
    tensors and updated in place by the optimizer; no Tensor or graph walk is involved."""

    def __init__(self, b: _Builder, instrs: list, result_slot: int,
                 grads_out: list, guards: list) -> None:
        self.statics: list[Any] = []
        self.grads_out, self.guards = grads_out, guards
        live = self._live(b, instrs, result_slot, grads_out)
        exported = {result_slot} | {s for _, s in grads_out if s is not None}
        # arrays handed to the caller must be fresh each call: their ops get no buffer
        no_buffer = {_base_slot(b, b.values[s]) for s in exported} | exported
        ns: dict[str, Any] = {"np": np}
        lines = [f"s{s} = a{kind[1]}" for s, kind in enumerate(b.kind) if kind[0] == "input"]
        reads = self._reads(b, ns)
        lines += [f"s{s} = {e}" for s, e in reads.items()]
        lines += self._body(b, instrs, live, no_buffer, reads, ns)
        grads = "".join(f"{'None' if s is None else _fresh(s, b)}, " for _, s in grads_out)
        lines.append(f"return {_fresh(result_slot, b)}, ({grads})")
        args = "".join(f"a{k}, " for k in range(len(b.inputs)))
        self.source = f"def replay({args}TS):\n    " + "\n    ".join(lines) + "\n"
        exec(builtins.compile(self.source, "<tg.compile replay>", "exec"), ns)
        self.replay = ns["replay"]

    def _reads(self, b: _Builder, ns: dict) -> dict[int, str]:
        """slot -> the expression reading its current array, for leaves and the .grads
        read at the start; also fills self.leaves, checked on each call."""
        reads: dict[int, str] = {}
        self.leaves: list[list] = []  # [tensor, last array, shape, dtype], checked per call
        for s, kind in enumerate(b.kind):
            if kind[0] == "leaf":
                ns[f"T{s}"] = kind[1]
                reads[s] = f"T{s}._data"
                v = b.values[s]
                self.leaves.append([kind[1], v, np.shape(v), getattr(v, "dtype", None)])
            elif kind[0] == "grad":  # the .grad a leaf had when the step began
                owner = next((k for k, u in enumerate(b.inputs) if u is kind[1]), None)
                ns[f"T{s}"] = kind[1]
                reads[s] = f"T{s}.grad._data" if owner is None else f"TS[{owner}].grad._data"
        return reads

    @staticmethod
    def _body(b: _Builder, instrs: list, live: set[int], no_buffer: set,
              reads: dict[int, str], ns: dict) -> list[str]:
        """The lines of the live instructions: op calls and optimizer updates."""
        lines: list[str] = []
        stable: dict[int, Any] = {}  # slot -> its array, the same object in every replay
        for k, instr in enumerate(instrs):
            if k not in live:
                continue
            if instr[0] == "step":
                _, opt, params, gs = instr
                ns[f"O{k}"], ns[f"P{k}"] = opt, params
                lines.append(f"O{k}.update_arrays(P{k}, [{', '.join(f's{g}' for g in gs)}])")
                # a parameter's array may change (its first update copies it): read it again
                for p in params:
                    s = b.slot.get(id(p))
                    if s is not None and s in reads:
                        lines.append(f"s{s} = {reads[s]}")
                continue
            _, op, ins, s = instr
            _check_frozen_index(op, b)
            expr = _emit(op, ins, s, b, ns, s not in no_buffer, stable)
            if expr is not None:
                lines.append(f"s{s} = {expr}")
        return lines

    @staticmethod
    def _live(b: _Builder, instrs: list, result_slot: int, grads_out: list) -> set[int]:
        """Instructions the result, the final gradients or an optimizer step depend on.
        An op that refers to another recorded op (CrossEntropyGrad reads the softmax its
        CrossEntropy kept) depends on it."""
        producer = {instr[3]: k for k, instr in enumerate(instrs) if instr[0] == "op"}
        op_index = {id(instr[1]): k for k, instr in enumerate(instrs) if instr[0] == "op"}
        needed = [result_slot] + [s for _, s in grads_out if s is not None]
        live: set[int] = set()
        work = [producer[s] for s in needed if s in producer]
        work += [k for k, instr in enumerate(instrs) if instr[0] == "step"]
        while work:
            k = work.pop()
            if k in live:
                continue
            live.add(k)
            instr = instrs[k]
            ins = instr[2] if instr[0] == "op" else instr[3]
            work += [producer[s] for s in ins if s in producer]
            if instr[0] == "op":
                work += [op_index[id(v)] for v in _attributes(instr[1])
                         if isinstance(v, Op) and id(v) in op_index]
        return live

    def run(self, arrays: list, tensors: list) -> Tensor | None:
        """Replay on these argument arrays; None when the recording no longer applies (a
        tensor it reads changed shape or dtype, or a .grad the step reads appeared or went
        away)."""
        for entry in self.leaves:
            a = entry[0]._data
            if a is not entry[1]:
                if np.shape(a) != entry[2] or getattr(a, "dtype", None) != entry[3]:
                    return None
                entry[1] = a
        for target, was_none in self.guards:
            t = tensors[target] if type(target) is int else target
            if t is None or (_GRAD_SLOT.__get__(t, Tensor) is None) != was_none:
                return None
        result, grads = self.replay(*arrays, tensors)
        for (target, _), g in zip(self.grads_out, grads):
            t = tensors[target] if type(target) is int else target
            if t is not None:
                t.grad = None if g is None else Tensor._make(g)
        return Tensor._make(result)


def _fresh(s: int, b: _Builder) -> str:
    """An expression for slot s's value that the next replay will not overwrite."""
    if b.kind[s][0] == "op":
        return f"s{s}"
    return f"np.array(s{s})"  # a leaf, an input or a parameter: a copy


def _emit(op: Op, ins: list[int], s: int, b: _Builder, ns: dict, buffer: bool,
          stable: dict[int, Any]) -> str | None:
    """The expression that computes slot s: the op's ufunc, into a buffer allocated once
    when `buffer`, where that gives exactly the op's forward, else the forward itself.
    None when the value is a view of arrays that stay the same between replays (a
    transpose or reshape of a buffer): then it is computed once, here, into `stable`."""
    args = ", ".join(f"s{i}" for i in ins)
    value = b.values[s]
    inputs = [b.values[i] for i in ins]
    if type(op) in _VIEWS and ins and all(i in stable for i in ins):
        view = op.forward(*[stable[i] for i in ins])
        if isinstance(view, np.ndarray) and view.base is not None and any(
                np.may_share_memory(view, stable[i]) for i in ins):
            stable[s] = ns[f"s{s}"] = view
            return None
    floats = all(isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind == "f"
                 for v in inputs)
    if floats and isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind == "f":
        kernel = _kernel(op)
        if kernel is not None:
            buf = np.empty(np.shape(value), value.dtype)
            if _same_as_forward(op, kernel, inputs, buf):
                ns[f"F{s}"] = kernel
                if not buffer:
                    return f"F{s}({args}, None)"
                ns[f"B{s}"] = stable[s] = buf
                return f"F{s}({args}, B{s})"
    ns[f"F{s}"] = op.fn if type(op) is Mask else op.forward
    return f"F{s}({args})"


def _kernel(op: Op) -> Any:
    """fn(*inputs, out) computing op's forward into out, for ops that are one ufunc call."""
    ufunc = _UFUNCS.get(type(op))
    if ufunc is not None:
        return ufunc
    if type(op) is Relu:
        return lambda x, out: np.maximum(x, 0, out=out)
    if type(op) is Sum:
        axis, keepdims = op.axis, op.keepdims
        return lambda x, out: np.add.reduce(x, axis, None, out, keepdims)
    return None


def _same_as_forward(op: Op, kernel: Any, inputs: list, buf: np.ndarray) -> bool:
    """Whether the kernel gives the op's forward bit for bit on these inputs (checked once,
    when recording, so a changed forward falls back to calling it)."""
    try:
        want = np.asarray(op.forward(*inputs))
        got = kernel(*inputs, buf)
    except (TypeError, ValueError):
        return False
    return (got is buf and want.shape == buf.shape and want.dtype == buf.dtype
            and np.array_equal(want, buf, equal_nan=True))


def _check_frozen_index(op: Op, b: _Builder) -> None:
    """Refuse an op holding, as a static parameter, an array computed in the step or passed
    to it (x[y] with y an argument): replays would keep using the recorded array."""
    for v in _attributes(op):
        parts = v if isinstance(v, tuple) else (v,)
        for part in parts:
            if isinstance(part, np.ndarray) and _base_slot(b, part) is not None:
                raise RuntimeError(
                    f"tg.compile: {op.label()} uses an index array that is an argument of "
                    f"the compiled step or was computed inside it; a replay would use the "
                    f"recorded values. Use the labels through tg.cross_entropy, a one-hot "
                    f"matrix product (one_hot @ W), or index outside the compiled function"
                )


def _attributes(op: Op) -> list[Any]:
    """The values of an op's slots (its static parameters and references)."""
    names = [n for cls in type(op).__mro__ for n in getattr(cls, "__slots__", ())]
    return [getattr(op, n, None) for n in names]
