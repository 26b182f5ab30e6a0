"""Data for the course: the IDX reader, Fashion-MNIST / MNIST (with a shipped Fashion-MNIST
sample for offline use), DataLoader, train_val_split, one_hot and pixel helpers."""

from .datasets import FASHION_MNIST_CLASSES, fashion_mnist, mnist
from .idx import IMAGES_MAGIC, LABELS_MAGIC, IDXError, IDXNotFoundError, load_idx, save_idx
from .loader import (
    DataLoader,
    add_bias_column,
    flatten_images,
    one_hot,
    prepare_images,
    scale_pixels,
    train_val_split,
)

__all__ = [
    "FASHION_MNIST_CLASSES", "IMAGES_MAGIC", "LABELS_MAGIC", "DataLoader", "IDXError",
    "IDXNotFoundError", "add_bias_column", "fashion_mnist", "flatten_images", "load_idx",
    "mnist", "one_hot", "prepare_images", "save_idx", "scale_pixels", "train_val_split",
]
