"""tg.compile and its recording: the cache of recordings by argument signature, running a
step once with the engine's tape on (and .grad logged), and the _Builder that turns that tape
into slots and instructions; replay.py generates and runs the replay. See docs/compile.md."""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any

import numpy as np

from .autograd import _state
from .replay import _GRAD_SLOT, _Program
from .tensor import Tensor

__all__ = ["compile", "CompiledStep"]

MAX_RECORDINGS = 64  # recordings kept per compiled step (one per input signature)


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


def _wrap(args: tuple, kwargs: dict) -> tuple[list, dict, list[Tensor], list[Any]]:
    """fn's arguments with numpy arrays made Tensors, the Tensor arguments (one per array or
    Tensor argument, in _signature's order) and the other arguments (kept alive: their ids
    may be in the key)."""
    inputs: list[Tensor] = []
    statics: list[Any] = []

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
    return call_args, call_kwargs, inputs, statics


def _record(fn: Any, args: tuple, kwargs: dict) -> tuple[_Program, Tensor]:
    """Run fn eagerly with `autograd._state["tape"]` set, so every op it applies (forward,
    backward and the masks inside backward rules) lands on the tape and the optimizer notes
    its update there too; return the program built from that tape, and fn's result."""
    call_args, call_kwargs, inputs, statics = _wrap(args, kwargs)
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


# --------------------------------------------------------------------------- building


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
        return _Program(self, instrs, *self._outputs(result))

    def _outputs(self, result: Tensor) -> tuple[int, list, list]:
        """(the result's slot, the .grads the step left: (tensor or input position, slot or
        None), the guards: (tensor or input position, whether the .grad it read was None))."""
        result_slot = self.ref(result)
        grads_out = []
        for t in self.log.written.values():
            g = _GRAD_SLOT.__get__(t, Tensor)
            target = next((k for k, u in enumerate(self.inputs) if u is t), t)
            grads_out.append((target, None if g is None else self.ref(g)))
        guards = []
        for t, read_first, value in self.log.first.values():
            if read_first:
                target = next((k for k, u in enumerate(self.inputs) if u is t), t)
                guards.append((target, value is None))
        return result_slot, grads_out, guards

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
