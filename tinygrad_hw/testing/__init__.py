"""Tools for checking gradients: finite-difference gradcheck and gradgradcheck, autodiff
against hand derivations (assert_grad_close, and check_backprop for BP1-BP4 layer by layer),
instructor mode for student backward formulas, and hypothesis strategies."""

import importlib

from .backprop import check_backprop
from .derivation import DerivationMismatch, assert_grad_close, autodiff_gradients, diagnose
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "BackwardReport", "DerivationMismatch", "GradcheckError", "StudentCodeError",
    "assert_grad_close", "autodiff_gradients", "check_backprop", "check_backward",
    "compare_backward", "diagnose", "gradcheck", "gradgradcheck", "strategies", "use_backward",
]


# Instructor mode and the strategies draw inputs with hypothesis, which the other checks (and
# the course models) do not need: they are imported on first use.
_NEED_HYPOTHESIS = {"strategies": "strategies", "BackwardReport": "instructor",
                    "StudentCodeError": "instructor", "check_backward": "instructor",
                    "compare_backward": "instructor", "use_backward": "instructor"}


def __getattr__(name: str):
    module = _NEED_HYPOTHESIS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    loaded = importlib.import_module(f".{module}", __name__)
    return loaded if name == module else getattr(loaded, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
