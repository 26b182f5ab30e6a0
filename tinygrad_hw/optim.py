"""Optimizers SGD (momentum, Nesterov, weight decay) and Adam, with PyTorch's update rules,
and state_dict()/load_state_dict() for resuming training exactly from a checkpoint."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .autograd import _state, no_grad
from .nn.module import StateDictError
from .tensor import Tensor


def _check_params(params: Any, opt: str) -> list[Tensor]:
    """The parameters as a list, after checking they are distinct leaves that require grad."""
    if isinstance(params, Tensor):
        raise TypeError(f"{opt}: params must be an iterable of tensors; wrap one tensor: [w]")
    if callable(getattr(params, "parameters", None)):
        params = params.parameters()
    if not isinstance(params, Iterable):
        raise TypeError(f"{opt}: params must be an iterable of tensors, not {type(params)}")
    params = list(params)
    if not params:
        raise ValueError(
            f"{opt}: got an empty parameter list (a plain Tensor assigned to a Module is not a "
            f"parameter: wrap it in nn.Parameter)"
        )
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{opt}: params[{i}] is a {type(p).__name__}, not a Tensor")
        if not p.requires_grad:
            raise ValueError(
                f"{opt}: params[{i}] (shape {p.shape}) does not require grad; create it with "
                f"requires_grad=True or as an nn.Parameter"
            )
        if not p.is_leaf:
            raise ValueError(f"{opt}: params[{i}] (shape {p.shape}) was computed by an op; "
                             f"optimizers update leaf tensors only")
        if id(p) in seen:
            raise ValueError(f"{opt}: params[{i}] (shape {p.shape}) appears more than once")
        seen.add(id(p))
    return params


def _check_range(opt: str, name: str, value: Any, low: float, high: float = math.inf) -> None:
    """A finite number with low <= value (< high when high is finite)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not (math.isfinite(value) and low <= value and (value < high or high == math.inf)):
        bound = f">= {low}" if high == math.inf else f"in [{low}, {high})"
        raise ValueError(f"{opt}: {name} must be a number {bound}, got {value!r}")


class Optimizer:
    """Base class: holds the parameters and per-parameter state (keyed by position);
    subclasses define `_update` and the names of their hyperparameters and state."""

    _HYPER: tuple[str, ...] = ()
    _STATE: tuple[str, ...] = ()  # per-parameter arrays; "step" is a 0-d int64 count

    def __init__(self, params: Any) -> None:
        self.params: list[Tensor] = _check_params(params, type(self).__name__)
        self.state: dict[int, dict[str, np.ndarray]] = {}
        self._index: dict[int, int] = {}  # id(param) -> its position in self.params
        self._owned: dict[int, np.ndarray] = {}  # position -> the value array it updates in place
        self._work: dict[tuple[int, int], np.ndarray] = {}  # scratch arrays (not state)

    def _validate(self, hyper: dict[str, Any]) -> None:
        raise NotImplementedError

    def _update(self, i: int, w: np.ndarray, g: np.ndarray) -> None:
        """Update w (parameter i's value, which this optimizer owns) in place from g."""
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Set .grad of every parameter to None."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """One update of every parameter that has a .grad (others are skipped, their state
        untouched). Pure numpy on the values: no graph is recorded. While tg.compile records
        a step, the update is noted on its tape as ("step", optimizer, params, grads), so that
        replays run the same update (`update_arrays`) on the replayed gradients."""
        params, grads = [], []
        for p in self.params:
            if p.grad is not None:
                params.append(p)
                grads.append(p.grad)
        tape = _state["tape"]
        if tape is not None:
            tape.append(("step", self, params, grads))
        self.update_arrays(params, [getattr(g, "_data", g) for g in grads])

    def update_arrays(self, params: list[Tensor], grads: list[Any]) -> None:
        """Update each of `params` (parameters of this optimizer) from its gradient array.
        The first update of a parameter copies its value into an array this optimizer owns;
        from then on it is updated in place (the values are the same as out of place). Each
        update counts as an in-place change, so graphs that used the old value refuse
        backward."""
        index = self._index
        if len(index) != len(self.params):
            index.clear()
            index.update((id(p), i) for i, p in enumerate(self.params))
        owned = self._owned
        for p, g in zip(params, grads):
            i = index[id(p)]
            w = p._data
            if type(g) is not np.ndarray or g.dtype is not w.dtype or g.shape != w.shape:
                g = self._checked(i, p, g)
            if owned.get(i) is not w:
                with no_grad():
                    p._assign(w)  # a copy of the value, owned by this optimizer
                w = owned[i] = p._data
            self._update(i, w, g)
        _state["epoch"] += 1  # one in-place change of every updated parameter
        for p in params:
            p._mod = _state["epoch"]

    def _checked(self, i: int, p: Tensor, g: Any) -> np.ndarray:
        """g as an array of parameter i's dtype, after checking its shape."""
        g = np.asarray(g)
        if g.dtype != p._data.dtype:
            g = g.astype(p._data.dtype)
        if g.shape != p._data.shape:
            raise ValueError(
                f"{type(self).__name__}: params[{i}] has shape {p.shape} but its .grad "
                f"has shape {g.shape}"
            )
        return g

    def _scratch(self, i: int, w: np.ndarray, k: int = 0) -> np.ndarray:
        """A work array shaped like parameter i (k-th of its kind), reused between steps."""
        key = (i, k)
        buf = self._work.get(key)
        if buf is None or buf.shape != w.shape or buf.dtype != w.dtype:
            buf = self._work[key] = np.empty_like(w)
        return buf

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._HYPER)
        return f"{type(self).__name__}({hyper})"

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: {"type": name, "n_params": n, "hyperparams":
        {name: value}, "state": {"<param index>": {name: array}}}, every leaf a numpy array
        (copied), so it can go straight into tg.save."""
        hyper = {k: np.array(getattr(self, k)) for k in self._HYPER}
        state = {str(i): {k: np.array(v) for k, v in s.items()} for i, s in self.state.items()}
        return {
            "type": np.array(type(self).__name__),
            "n_params": np.array(len(self.params)),
            "hyperparams": hyper,
            "state": state,
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore hyperparameters (lr included, as PyTorch) and per-parameter state from
        state_dict() (or its tg.save/tg.load round trip). Everything is checked first; on
        any problem a StateDictError lists them all and nothing changes."""
        problems = _check_header(self, state_dict)
        hyper, state = {}, {}
        if not problems:
            hyper = self._read_hyper(state_dict["hyperparams"], problems)
            state = self._read_state(state_dict["state"], problems)
        if not problems:
            try:
                self._validate(hyper)
            except ValueError as e:
                problems.append(str(e))
        if problems:
            raise StateDictError(
                f"Error(s) in loading the state of {type(self).__name__}:\n  "
                + "\n  ".join(problems) + "\n  Nothing was loaded."
            )
        for k, v in hyper.items():
            setattr(self, k, v)
        self.state = state

    def _read_hyper(self, given: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
        problems += _key_problems("hyperparams", self._HYPER, given)
        hyper = {}
        for k in (k for k in self._HYPER if k in given):
            current, arr = getattr(self, k), np.asarray(getattr(given[k], "_data", given[k]))
            if arr.dtype.kind not in "biuf" or arr.shape != np.shape(current):
                problems.append(f"hyperparams[{k!r}]: expected shape {np.shape(current)}, got "
                                f"{arr.shape} (dtype {arr.dtype})")
            elif isinstance(current, tuple):
                hyper[k] = tuple(float(v) for v in arr)
            else:
                hyper[k] = type(current)(arr)
        return hyper

    def _read_state(self, given: Mapping[str, Any], problems: list[str]) -> dict:
        state: dict[int, dict[str, np.ndarray]] = {}
        for key, entry in given.items():
            i = int(key) if str(key).isdigit() else -1
            if not 0 <= i < len(self.params) or not isinstance(entry, Mapping):
                problems.append(f"state: unexpected entry {key!r}")
                continue
            problems += _key_problems(f"state[{key!r}]", self._STATE, entry)
            p, state[i] = self.params[i], {}
            for k in self._STATE:
                if k not in entry:
                    continue
                arr = np.asarray(getattr(entry[k], "_data", entry[k]))
                want = () if k == "step" else p.shape
                if arr.shape != want or arr.dtype.kind not in "iuf":
                    problems.append(f"state[{key!r}][{k!r}]: expected shape {want}, got "
                                    f"{arr.shape} (dtype {arr.dtype})")
                else:
                    dtype = np.int64 if k == "step" else p.dtype
                    state[i][k] = np.array(arr, dtype=dtype)
        return state


def _check_header(opt: Optimizer, sd: Any) -> list[str]:
    if not isinstance(sd, Mapping):
        return [f"expected a dict from state_dict(), got {type(sd).__name__}"]
    problems = _key_problems("", ("type", "n_params", "hyperparams", "state"), sd)
    if problems:
        return problems
    name, n = str(np.asarray(sd["type"])), np.asarray(sd["n_params"])
    n = int(n) if n.shape == () and n.dtype.kind in "iu" else -1
    if name != type(opt).__name__:
        problems.append(f"the state is from {name}, not {type(opt).__name__}")
    if n != len(opt.params):
        problems.append(f"the state is for {n} parameters, this optimizer has {len(opt.params)}")
    for k in ("hyperparams", "state"):
        if not isinstance(sd[k], Mapping):
            problems.append(f"{k!r} should be a dict, got {type(sd[k]).__name__}")
    return problems


def _key_problems(where: str, expected: tuple[str, ...], given: Mapping) -> list[str]:
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    where = f"{where}: " if where else ""
    return ([f"{where}missing keys: {', '.join(map(repr, missing))}"] if missing else []) + (
        [f"{where}unexpected keys: {', '.join(map(repr, unexpected))}"] if unexpected else []
    )


class SGD(Optimizer):
    """Stochastic gradient descent with PyTorch's update rule, for each parameter w:

        g = grad + weight_decay * w
        b = g on the first step, then b = momentum * b + (1 - dampening) * g   (if momentum)
        g = g + momentum * b if nesterov else b                               (if momentum)
        w = w - lr * g

    Weight decay: `weight_decay=wd` adds wd * w to each gradient before the update, which is
    the gradient of J = C + wd/2 ||w||^2, i.e. the R = 1/2 ||w||^2 convention (docs/course.md,
    section 3). `tg.l2_penalty(params, lam)` uses R = ||w||^2, whose gradient is 2 lam w, so
    `weight_decay=2 * lam` gives the same update as adding `l2_penalty(params, lam)` to the loss.
    """

    _HYPER = ("lr", "momentum", "dampening", "weight_decay", "nesterov")
    _STATE = ("momentum_buffer",)

    def __init__(
        self, params: Any, lr: float, momentum: float = 0.0, weight_decay: float = 0.0, *,
        dampening: float = 0.0, nesterov: bool = False,
    ) -> None:
        super().__init__(params)
        hyper = dict(lr=lr, momentum=momentum, dampening=dampening,
                     weight_decay=weight_decay, nesterov=nesterov)
        self._validate(hyper)
        self.lr, self.momentum, self.dampening = float(lr), float(momentum), float(dampening)
        self.weight_decay, self.nesterov = float(weight_decay), bool(nesterov)

    def _validate(self, hyper: dict[str, Any]) -> None:
        for k in ("lr", "momentum", "dampening", "weight_decay"):
            _check_range("SGD", k, hyper[k], 0.0)
        if hyper["nesterov"] and (hyper["momentum"] <= 0 or hyper["dampening"] != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")

    def _update(self, i: int, w: np.ndarray, g: np.ndarray) -> None:
        # in place, with the same numpy operations (so the same values) as
        # g = g + wd w;  b = m b + (1 - d) g;  g = g + m b or b;  w = w - lr g
        if self.weight_decay != 0:
            d = np.multiply(w, self.weight_decay, out=self._scratch(i, w))
            g = np.add(g, d, out=d)
        if self.momentum != 0:
            s = self.state.setdefault(i, {})
            b = s.get("momentum_buffer")
            if b is None:
                b = s["momentum_buffer"] = g.copy()
            else:
                np.multiply(b, self.momentum, out=b)
                b += np.multiply(g, 1 - self.dampening, out=self._scratch(i, w, 1))
            if self.nesterov:
                g = np.add(g, np.multiply(b, self.momentum, out=self._scratch(i, w, 1)),
                           out=self._scratch(i, w, 2))
            else:
                g = b
        w -= np.multiply(g, self.lr, out=self._scratch(i, w, 1))


class Adam(Optimizer):
    """Adam with PyTorch's bias-corrected update rule, for each parameter w at step t:

        g = grad + weight_decay * w
        m = beta1 * m + (1 - beta1) * g,   v = beta2 * v + (1 - beta2) * g^2   (m, v start at 0)
        w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    t counts the steps in which this parameter had a gradient. (This is Adam's L2 form, as
    torch.optim.Adam; decoupled decay, AdamW, is a different method.)

    Weight decay: `weight_decay=wd` adds wd * w to each gradient before the update, which is
    the gradient of J = C + wd/2 ||w||^2, i.e. the R = 1/2 ||w||^2 convention (docs/course.md,
    section 3). `tg.l2_penalty(params, lam)` uses R = ||w||^2, whose gradient is 2 lam w, so
    `weight_decay=2 * lam` gives the same update as adding `l2_penalty(params, lam)` to the loss.
    """

    _HYPER = ("lr", "betas", "eps", "weight_decay")
    _STATE = ("step", "exp_avg", "exp_avg_sq")

    def __init__(
        self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self._validate(dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.lr, self.eps, self.weight_decay = float(lr), float(eps), float(weight_decay)
        self.betas = (float(betas[0]), float(betas[1]))

    def _validate(self, hyper: dict[str, Any]) -> None:
        for k in ("lr", "eps", "weight_decay"):
            _check_range("Adam", k, hyper[k], 0.0)
        betas = hyper["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        for j, beta in enumerate(betas):
            _check_range("Adam", f"betas[{j}]", beta, 0.0, 1.0)

    def _update(self, i: int, w: np.ndarray, g: np.ndarray) -> None:
        # in place, with the same numpy operations (so the same values) as
        # m = m + (1 - beta1) (g - m);  v = beta2 v + (1 - beta2) g g;
        # w = w - lr / (1 - beta1^t) * (m / (sqrt(v) / sqrt(1 - beta2^t) + eps))
        beta1, beta2 = self.betas
        if self.weight_decay != 0:
            d = np.multiply(w, self.weight_decay, out=self._scratch(i, w))
            g = np.add(g, d, out=d)
        s = self.state.get(i)
        if s is None:
            s = self.state[i] = {"step": np.array(0), "exp_avg": np.zeros_like(w),
                                 "exp_avg_sq": np.zeros_like(w)}
        t = int(s["step"]) + 1
        m, v = s["exp_avg"], s["exp_avg_sq"]
        tmp = np.subtract(g, m, out=self._scratch(i, w, 1))
        m += np.multiply(tmp, 1 - beta1, out=tmp)
        v *= beta2
        v += np.multiply(np.multiply(g, 1 - beta2, out=tmp), g, out=tmp)
        s["step"] = np.array(t)
        denom = np.sqrt(v, out=tmp)
        denom /= math.sqrt(1 - beta2**t)
        denom += self.eps
        w -= np.multiply(np.divide(m, denom, out=denom), self.lr / (1 - beta1**t), out=denom)
