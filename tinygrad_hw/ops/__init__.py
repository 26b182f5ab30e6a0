"""Primitive ops, one class each: forward on numpy arrays, backward in Tensor ops."""
