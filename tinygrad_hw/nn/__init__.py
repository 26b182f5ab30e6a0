"""Neural-network building blocks: Module, Parameter, Sequential, layers and activations;
`functional` holds the losses."""

from . import functional
from .layers import Linear, ReLU, Sigmoid, Softmax, Tanh, linear
from .module import IncompatibleKeys, Module, Parameter, Sequential, StateDictError

__all__ = [
    "IncompatibleKeys", "Linear", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid",
    "Softmax", "StateDictError", "Tanh", "functional", "linear",
]
