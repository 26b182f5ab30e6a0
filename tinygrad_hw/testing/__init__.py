"""Tools for checking gradients: finite-difference gradcheck and gradgradcheck, autodiff
against hand derivations (assert_grad_close), and hypothesis strategies."""

from . import strategies
from .derivation import DerivationMismatch, assert_grad_close, autodiff_gradients, diagnose
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "DerivationMismatch", "GradcheckError", "assert_grad_close", "autodiff_gradients",
    "diagnose", "gradcheck", "gradgradcheck", "strategies",
]
