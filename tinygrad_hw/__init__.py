"""tinygrad_hw: a small reverse-mode autodiff framework on numpy for the deep-learning course."""

from . import data, metrics, nn, optim, plots, testing, train, viz
from .anomaly import AnomalyError, detect_anomaly
from .autograd import enable_grad, is_grad_enabled, no_grad
from .compile import compile
from .functions import (
    abs,
    arange,
    argmax,
    as_tensor,
    clip,
    concatenate,
    exp,
    expand,
    flatten,
    full,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    ones,
    ones_like,
    relu,
    reshape,
    sigmoid,
    softmax,
    softplus,
    sqrt,
    squeeze,
    stack,
    sum,
    tanh,
    tensor,
    transpose,
    unsqueeze,
    where,
    zeros,
    zeros_like,
)
from .io import load, save
from .nn.functional import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l2_penalty,
    mse_loss,
)
from .tensor import Tensor
from .train import fit
from .transforms import grad, hessian, jacobian, value_and_grad

__version__ = "0.1.0"

__all__ = [
    "AnomalyError", "Tensor", "abs", "arange", "argmax", "as_tensor", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "clip", "compile", "concatenate", "cross_entropy", "data",
    "detect_anomaly", "enable_grad", "exp", "expand", "fit", "flatten", "full", "grad",
    "hessian", "is_grad_enabled", "jacobian", "l2_penalty", "load", "log", "log_softmax",
    "logsumexp", "matmul", "max", "maximum", "mean", "metrics", "min", "minimum", "mse_loss",
    "nn", "no_grad", "ones", "ones_like", "optim", "plots", "relu", "reshape", "save",
    "sigmoid", "softmax", "softplus", "sqrt", "squeeze", "stack", "sum", "tanh", "tensor",
    "testing", "train", "transpose", "unsqueeze", "value_and_grad", "viz", "where", "zeros",
    "zeros_like",
]
