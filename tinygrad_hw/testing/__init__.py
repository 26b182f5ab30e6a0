"""Tools for checking gradients: finite-difference gradcheck and gradgradcheck, autodiff
against hand derivations (assert_grad_close, and check_backprop for BP1-BP4 layer by layer),
instructor mode for student backward formulas, and hypothesis strategies."""

from . import strategies
from .backprop import check_backprop
from .derivation import DerivationMismatch, assert_grad_close, autodiff_gradients, diagnose
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .instructor import (
    BackwardReport,
    StudentCodeError,
    check_backward,
    compare_backward,
    use_backward,
)

__all__ = [
    "BackwardReport", "DerivationMismatch", "GradcheckError", "StudentCodeError",
    "assert_grad_close", "autodiff_gradients", "check_backprop", "check_backward",
    "compare_backward", "diagnose", "gradcheck", "gradgradcheck", "strategies", "use_backward",
]
