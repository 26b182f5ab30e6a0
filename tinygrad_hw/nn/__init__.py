"""Neural-network building blocks; `functional` holds the losses."""

from . import functional

__all__ = ["functional"]
