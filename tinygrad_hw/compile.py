"""tg.compile: record a training step once per input shape, then replay it as plain numpy.

    step = tg.compile(train_step)   # train_step(X, y): forward, loss.backward(), opt.step()
    loss = step(X_batch, y_batch)   # first call with these shapes records, later calls replay

Recording runs the step eagerly with `autograd._state["tape"]` set, so every op it applies
(forward, backward and the masks inside backward rules) lands on the tape, and the
optimizer notes its update there too. The tape becomes one straight-line Python function
of numpy calls: op outputs go to arrays allocated once (`out=`) where the op allows,
parameters are read from their tensors and updated in place by the optimizer, and no
Tensor, graph or gradient walk is involved. See docs/compile.md for what cannot be
recorded (value-dependent Python control flow is frozen at recording).
"""

from __future__ import annotations

import builtins
import functools
from collections import OrderedDict
from typing import Any

import numpy as np

from .autograd import Mask, Op, _state
from .ops.activation import Relu
from .ops.elementwise import Abs, Add, Div, Exp, Log, Maximum, Minimum, Mul, Neg, Sqrt, Sub
from .ops.linalg import MatMul
from .ops.reduce import Sum
from .ops.shape import Expand, Reshape, Transpose
from .tensor import Tensor

__all__ = ["compile", "CompiledStep"]

MAX_RECORDINGS = 64  # recordings kept per compiled step (one per input signature)

# op types whose forward is one numpy ufunc call: replayed as ufunc(*inputs, out=buffer)
_UFUNCS: dict[type, Any] = {
    Add: np.add, Sub: np.subtract, Mul: np.multiply, Div: np.divide, Neg: np.negative,
    Exp: np.exp, Log: np.log, Sqrt: np.sqrt, Abs: np.abs, Maximum: np.maximum,
    Minimum: np.minimum, MatMul: np.matmul,
}

_VIEWS = (Reshape, Transpose, Expand)  # ops whose output is a view of their input

_GRAD_SLOT = Tensor.__dict__["grad"]  # the slot behind Tensor.grad


def compile(fn: Any) -> CompiledStep:
    """Compile a training step `fn(*args, **kwargs)` that returns a Tensor (the loss).

    The first call with given argument shapes and dtypes runs fn eagerly and records the
    numpy program it executed: forward, backward and the optimizer's updates. Later calls
    with the same shapes replay that program on preallocated buffers and update the
    parameters in place, with the same results as eager mode; other shapes record again.
    numpy arrays among the arguments arrive in fn as Tensors without grad; Tensors arrive
    as themselves; other arguments (numbers, strings, objects) are frozen into the
    recording, and a different value records again. After a call, the loss is returned as a
    new Tensor, and `.grad` of the parameters (and of Tensor arguments) is what eager mode
    would leave there.

    Python control flow inside fn that depends on tensor values is frozen at recording;
    reading a value computed inside fn (.item(), .numpy(), float(), bool()) raises."""
    if not callable(fn):
        raise TypeError(f"tg.compile: expected a function, got {type(fn).__name__}")
    return CompiledStep(fn)


class CompiledStep:
    """The callable tg.compile returns: a cache of recordings keyed by the arguments'
    shapes and dtypes (and the values of non-array arguments)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self._cache: OrderedDict[tuple, _Program] = OrderedDict()
        functools.update_wrapper(self, fn)

    @property
    def recordings(self) -> int:
        """How many recordings are cached (one per argument signature seen)."""
        return len(self._cache)

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        if _state["tape"] is not None:  # inside another recording: record into that one
            return self.fn(*args, **kwargs)
        key, arrays, tensors = _signature(args, kwargs)
        program = self._cache.get(key)
        if program is not None:
            out = program.run(arrays, tensors)
            if out is not None:
                return out
            del self._cache[key]  # a guard failed: something the recording assumed changed
        program, result = _record(self.fn, args, kwargs)
        self._cache[key] = program
        if len(self._cache) > MAX_RECORDINGS:
            self._cache.popitem(last=False)
        return result

    def __repr__(self) -> str:
        return f"tg.compile({getattr(self.fn, '__qualname__', self.fn)!r})"


# --------------------------------------------------------------------------- arguments


def _signature(args: tuple, kwargs: dict) -> tuple[tuple, list, list]:
    """(cache key, the arrays of the array and Tensor arguments in order, the Tensor
    arguments (None for arrays) in the same order)."""
    key: list = []
    arrays: list = []
    tensors: list = []
    for name, a in _arguments(args, kwargs):
        if isinstance(a, Tensor):
            d = a._data
            key.append((name, "T", d.shape, d.dtype.str, a._rg))
            arrays.append(d)
            tensors.append(a)
        elif type(a) is np.ndarray:
            if a.dtype.kind not in "biuf":
                raise TypeError(f"tg.compile: argument {name!r} has unsupported dtype {a.dtype}")
            key.append((name, "A", a.shape, a.dtype.str))
            arrays.append(a)
            tensors.append(None)
        else:
            try:
                hash(a)
                key.append((name, "S", type(a), a))
            except TypeError:  # unhashable: by identity (the recording keeps it alive)
                key.append((name, "O", id(a)))
    return tuple(key), arrays, tensors


def _arguments(args: tuple, kwargs: dict) -> list[tuple[Any, Any]]:
    return [*enumerate(args), *sorted(kwargs.items())]


# --------------------------------------------------------------------------- recording


class _GradLog:
    """While recording, Tensor.grad is a property that notes, for every leaf that requires
    grad, whether the step read its .grad before writing it (then the recording depends on
    the gradient the leaf had when the step began) and which leaves' .grad it wrote."""

    def __init__(self) -> None:
        self.first: dict[int, tuple[Tensor, bool, Any]] = {}  # id -> (t, read first, value)
        self.written: dict[int, Tensor] = {}

    @staticmethod
    def _tracked(t: Any) -> bool:
        return getattr(t, "_rg", False) and getattr(t, "_op", 0) is None

    def get(self, t: Tensor) -> Any:
        g = _GRAD_SLOT.__get__(t, Tensor)
        if id(t) not in self.first and self._tracked(t):
            self.first[id(t)] = (t, True, g)
        return g

    def set(self, t: Tensor, value: Any) -> None:
        if self._tracked(t):
            self.first.setdefault(id(t), (t, False, None))
            self.written[id(t)] = t
        _GRAD_SLOT.__set__(t, value)


def _record(fn: Any, args: tuple, kwargs: dict) -> tuple[_Program, Tensor]:
    inputs: list[Tensor] = []  # one per array or Tensor argument, in _signature's order
    statics: list[Any] = []  # the other arguments, kept alive (their ids may be in the key)

    def wrap(a: Any) -> Any:
        if isinstance(a, Tensor):
            inputs.append(a)
            return a
        if type(a) is np.ndarray:
            t = Tensor._make(a)
            inputs.append(t)
            return t
        statics.append(a)
        return a

    call_args = [wrap(a) for _, a in _arguments(args, {})]
    names = sorted(kwargs)
    call_kwargs = {k: wrap(kwargs[k]) for k in names}
    tape: list = []
    log = _GradLog()
    start_epoch = _state["epoch"]
    _state["tape"], _state["traced"] = tape, {id(t) for t in inputs}
    Tensor.grad = property(log.get, log.set)
    try:
        result = fn(*call_args, **call_kwargs)
    finally:
        Tensor.grad = _GRAD_SLOT
        _state["tape"], _state["traced"] = None, set()
    if not isinstance(result, Tensor):
        raise TypeError(
            f"tg.compile: the compiled function must return a Tensor (the loss), but it "
            f"returned {type(result).__name__}"
        )
    program = _Builder(tape, inputs, log, start_epoch).build(result)
    program.statics = statics
    return program, result


# --------------------------------------------------------------------------- the program


class _Builder:
    """Turns a tape into a _Program: slots (one per recorded value), the instructions that
    fill them, and the generated replay function."""

    def __init__(self, tape: list, inputs: list[Tensor], log: _GradLog, start_epoch: int):
        self.tape, self.inputs, self.log, self.start_epoch = tape, inputs, log, start_epoch
        self.slot: dict[int, int] = {}  # id(tensor) -> slot
        self.by_array: dict[int, int] = {}  # id(array of an input or op output) -> slot
        self.values: list[Any] = []  # the recorded value of each slot
        self.kind: list[tuple] = []  # ("input", k) | ("leaf", t) | ("grad", t) | ("op", i)
        self.keep: list[Any] = []  # keeps recorded arrays alive while ids are compared
        self.grad_inputs: dict[int, Tensor] = {}  # id(old .grad tensor) -> its leaf
        for t, read_first, value in log.first.values():
            if read_first and value is not None:
                self.grad_inputs.setdefault(id(value), t)

    def _new(self, value: Any, kind: tuple) -> int:
        self.values.append(value)
        self.kind.append(kind)
        return len(self.values) - 1

    def ref(self, t: Any) -> int:
        """The slot of a tensor met as an input: known, or a new leaf slot."""
        s = self.slot.get(id(t))
        if s is not None:
            return s
        if not isinstance(t, Tensor):
            raise TypeError(f"tg.compile: expected a Tensor on the tape, got {type(t).__name__}")
        owner = self.grad_inputs.get(id(t))
        same = self.by_array.get(id(t._data))
        if owner is not None:
            s = self._new(t._data, ("grad", owner))
        elif same is not None:  # a detached value (same array): the same slot
            s = same
        else:
            s = self._new(t._data, ("leaf", t))
        self.slot[id(t)] = s
        return s

    def build(self, result: Tensor) -> _Program:
        for k, t in enumerate(self.inputs):
            if id(t) not in self.slot:
                s = self._new(t._data, ("input", k))
                self.slot[id(t)] = s
                self.by_array[id(t._data)] = s
                self.keep.append(t._data)
        instrs: list[tuple] = []  # ("op", op, in_slots, out_slot) | ("step", opt, params, grads)
        stepped: set[int] = set()
        for entry in self.tape:
            if len(entry) == 4 and entry[0] == "step":
                _, opt, params, grads = entry
                gs = [self.ref(g) for g in grads]
                instrs.append(("step", opt, list(params), gs))
                stepped.update(id(p) for p in params)
                continue
            op, ins, out = entry
            in_slots = [self.ref(t) for t in ins]
            s = self._new(out._data, ("op", len(instrs)))
            self.slot[id(out)] = s
            if isinstance(out._data, np.ndarray):
                self.by_array.setdefault(id(out._data), s)
                self.keep.append(out._data)
            instrs.append(("op", op, in_slots, s))
        self._check_updates(stepped)
        result_slot = self.ref(result)
        grads_out = []  # (tensor or input position, slot or None)
        for t in self.log.written.values():
            g = _GRAD_SLOT.__get__(t, Tensor)
            target = next((k for k, u in enumerate(self.inputs) if u is t), t)
            grads_out.append((target, None if g is None else self.ref(g)))
        guards = []  # (tensor or input position, the .grad it had: None or not)
        for t, read_first, value in self.log.first.values():
            if read_first:
                target = next((k for k, u in enumerate(self.inputs) if u is t), t)
                guards.append((target, value is None))
        return _Program(self, instrs, result_slot, grads_out, guards)

    def _check_updates(self, stepped: set[int]) -> None:
        """Refuse a recording in which a tensor the step reads was changed in place by code
        that is not an optimizer's step(): the replay would not repeat that change."""
        for kind in self.kind:
            if kind[0] == "leaf":
                t = kind[1]
                if t._mod > self.start_epoch and id(t) not in stepped:
                    raise RuntimeError(
                        f"tg.compile: a tensor of shape {t.shape} was updated in place inside "
                        f"the compiled step by code other than a tg.optim optimizer's step(); "
                        f"such updates are not recorded. Update parameters with an optimizer "
                        f"from tg.optim, or keep the update outside the compiled function"
                    )


def _base_slot(b: _Builder, value: Any) -> int | None:
    """The slot whose array `value` is a view of (or is), if any."""
    if not isinstance(value, np.ndarray):
        return None
    base = value if value.base is None else value.base
    return b.by_array.get(id(base))


class _Program:
    """One recording: guards, buffers and the generated replay function."""

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
        reads: dict[int, str] = {}  # slot -> expression reading its current array
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
        lines += [f"s{s} = {e}" for s, e in reads.items()]
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
        grads = "".join(f"{'None' if s is None else _fresh(s, b)}, " for _, s in grads_out)
        lines.append(f"return {_fresh(result_slot, b)}, ({grads})")
        args = "".join(f"a{k}, " for k in range(len(b.inputs)))
        self.source = f"def replay({args}TS):\n    " + "\n    ".join(lines) + "\n"
        exec(builtins.compile(self.source, "<tg.compile replay>", "exec"), ns)
        self.replay = ns["replay"]

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

    # ----------------------------------------------------------------- replay
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

