"""Tools for checking gradients: finite-difference gradcheck and gradgradcheck."""

from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]
