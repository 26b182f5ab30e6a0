"""Module (registers Parameters and sub-modules by attribute, names, state_dict, train/eval),
Parameter (a leaf Tensor that requires grad) and Sequential, all shaped like PyTorch's."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor


class Parameter(Tensor):
    """A float leaf Tensor that requires grad; assigned to a Module attribute, it is registered
    as one of the module's parameters. Integer or bool data becomes float64; the value is
    copied (`Parameter(t)` is a new leaf with t's value, as `Tensor(t)`)."""

    __slots__ = ()

    def __init__(
        self, data: Any, requires_grad: bool = True, dtype: Any = None, name: str | None = None
    ) -> None:
        arr = np.array(data._data if isinstance(data, Tensor) else data, dtype=dtype)
        if dtype is None and arr.dtype.kind in "biu":
            arr = arr.astype(np.float64)
        if arr.dtype.kind != "f":
            raise TypeError(f"Parameter: needs floating-point data, got dtype {arr.dtype}")
        super().__init__(arr, requires_grad=requires_grad, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class StateDictError(RuntimeError, ValueError):
    """load_state_dict found missing/unexpected keys or wrong shapes; nothing was loaded."""


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class Module:
    """Base class of layers and models: assign Parameters and Modules as attributes in
    `__init__` (after `super().__init__()`), define `forward`, and call the module."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(); define forward(self, x) in the subclass"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ----------------------------------------------------------------- attribute registry
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        if isinstance(value, (Parameter, Module)) and params is None:
            raise AttributeError(
                f"cannot assign {type(value).__name__} {name!r} before Module.__init__() runs; "
                f"call super().__init__() first in {type(self).__name__}.__init__"
            )
        if isinstance(value, Parameter):
            self.__dict__.pop(name, None)
            modules.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            self.__dict__.pop(name, None)
            params.pop(name, None)
            modules[name] = value
        else:
            for kind, registry in (("Parameter", params), ("Module", modules)):
                if registry is not None and name in registry:
                    if value is not None:
                        raise TypeError(
                            f"cannot assign {type(value).__name__} to {name!r}, a registered "
                            f"{kind} of {type(self).__name__} ({kind} or None expected)"
                        )
                    del registry[name]
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails, so plain attributes never get here
        for registry in ("_parameters", "_modules"):
            found = self.__dict__.get(registry)
            if found is None:
                raise AttributeError(
                    f"{type(self).__name__!r} object has no attribute {name!r} (did its "
                    f"__init__ call super().__init__()?)"
                )
            if name in found:
                return found[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules))

    # ----------------------------------------------------------------- traversal
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module ("") and every sub-module, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(memo, _join(prefix, name), remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) in registration order, e.g. "0.weight", "0.bias"."""
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        seen: set[int] = set()
        for mod_prefix, module in owners if recurse else [(prefix, self)]:
            for name, p in module._parameters.items():
                if remove_duplicate and id(p) in seen:
                    continue
                seen.add(id(p))
                yield _join(mod_prefix, name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    # ----------------------------------------------------------------- modes and grads
    def train(self, mode: bool = True) -> Module:
        """Set `.training` on this module and every sub-module; returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode): mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        """Set .grad of every parameter to None."""
        for p in self.parameters():
            p.grad = None

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameter name -> a numpy copy of its value (shared parameters under every name)."""
        return {n: p.numpy() for n, p in self.named_parameters(remove_duplicate=False)}

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values (arrays or Tensors) into the parameters in place, so optimizers holding
        them keep working. Checks everything first: missing keys, unexpected keys (ignored
        when strict=False) and wrong shapes are reported together in one StateDictError,
        and then nothing is loaded. Returns (missing_keys, unexpected_keys)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        own = dict(self.named_parameters(remove_duplicate=False))
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        values, bad = _check_values(own, state_dict)
        problems = bad + (_key_problems(missing, unexpected, state_dict) if strict else [])
        if problems:
            raise StateDictError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n  "
                + "\n  ".join(problems) + "\n  Nothing was loaded."
            )
        with no_grad():
            for name, value in values.items():
                own[name]._assign(value)
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """Text shown inside the parentheses of repr(module); override in layers."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            lines.append(f"({name}): " + repr(module).replace("\n", "\n  "))
        if not self._modules and len(lines) <= 1:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _check_values(
    own: dict[str, Parameter], state: Mapping[str, Any]
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Arrays for the keys both sides have, and a message for each that does not fit."""
    values, bad = {}, []
    for name, p in own.items():
        if name not in state:
            continue
        value = state[name]
        try:
            arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        except ValueError:  # a ragged list
            arr = np.empty(0, dtype=object)
        if arr.dtype.kind not in "biuf":
            bad.append(f"{name!r}: dtype {arr.dtype} is not numeric ({type(value).__name__})")
        elif arr.shape != p.shape:
            bad.append(f"wrong shape for {name!r}: checkpoint {arr.shape}, model {p.shape}")
        else:
            values[name] = arr
    return values, bad


def _key_problems(missing: list[str], unexpected: list[str], state: Mapping) -> list[str]:
    problems = []
    if missing:
        problems.append("missing keys: " + ", ".join(map(repr, missing)))
    if unexpected:
        problems.append("unexpected keys: " + ", ".join(map(repr, unexpected)))
        if any(isinstance(state[k], Mapping) for k in unexpected):
            problems.append("(a value is a dict: pass the model's part, e.g. checkpoint['model'])")
    return problems


class Sequential(Module):
    """Modules applied in order: Sequential(Linear(4, 3), ReLU(), Linear(3, 2)).
    Sub-modules are named "0", "1", ... (or by the keys of one dict argument)."""

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            named = list(modules[0].items())
        else:
            named = [(str(i), m) for i, m in enumerate(modules)]
        for name, module in named:
            self._add(name, module)

    def _add(self, name: str, module: Any) -> None:
        if not isinstance(module, Module):
            raise TypeError(
                f"Sequential: item {name} is a {type(module).__name__}, not a Module "
                f"(use a layer object such as nn.ReLU(), not a function)"
            )
        setattr(self, name, module)

    def append(self, module: Module) -> Sequential:
        self._add(str(len(self)), module)
        return self

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))
        try:
            return items[index][1]
        except IndexError:
            raise IndexError(
                f"Sequential index {index} is out of range for {len(items)} modules"
            ) from None
