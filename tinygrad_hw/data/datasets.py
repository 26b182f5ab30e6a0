"""Fashion-MNIST and MNIST as (images uint8 (N, 28, 28), labels int64 (N,)), read from disk,
with the shipped stratified Fashion-MNIST sample as the offline fallback."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from .idx import IMAGES_MAGIC, LABELS_MAGIC, IDXError, load_idx

ENV_VAR = "TINYGRAD_HW_DATA"
# Where Debian's `dataset-fashion-mnist` installs the files; tests monkeypatch this.
SYSTEM_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets/fashion-mnist"),)
SAMPLE_DIR = Path(__file__).with_name("sample")
SPLITS = ("train", "test")
FULL_SIZES = {"train": 60_000, "test": 10_000}
SOURCES = ("auto", "full", "sample")
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
NUM_CLASSES = 10
_MNIST_HINT = (
    "MNIST is not shipped: to get it, download its four IDX files (e.g. from "
    "https://ossci-datasets.s3.amazonaws.com/mnist/ or http://yann.lecun.com/exdb/mnist/) "
    f"into ${ENV_VAR}/mnist/ or a directory passed as root="
)
_FASHION_HINT = (
    "To get it, install Debian's dataset-fashion-mnist package, set $" + ENV_VAR
    + " or pass root=, or use source='sample'"
)

Dataset = tuple[np.ndarray, np.ndarray]


def fashion_mnist(split: str = "train", root: str | os.PathLike | None = None,
                  source: str = "auto") -> Dataset:
    """Fashion-MNIST `split` ("train": 60,000, "test": 10,000) as (images, labels).

    Looks in `root`, then $TINYGRAD_HW_DATA/fashion-mnist, then $TINYGRAD_HW_DATA, then
    SYSTEM_DIRS (Debian's package). source="auto" falls back to the shipped sample with a
    one-line notice on stderr; source="full" raises FileNotFoundError instead;
    source="sample" always reads the sample (5,000 train / 1,000 test, equal per class).
    """
    _check_choice("split", split, SPLITS)
    _check_choice("source", source, SOURCES)
    if source == "sample":
        return _load_dir(SAMPLE_DIR, split)
    dirs = _fashion_dirs(root)
    found = _find_split(dirs, split)
    if found is not None:
        return _load_pair(*found)
    if source == "full":
        raise FileNotFoundError(_not_found("Fashion-MNIST", split, dirs, _FASHION_HINT))
    images, labels = _load_dir(SAMPLE_DIR, split)
    print(f"tinygrad_hw.data: full Fashion-MNIST not found ({_looked(dirs)}); using the "
          f"shipped sample, {len(labels):,} of {FULL_SIZES[split]:,} {split} images (install "
          f"dataset-fashion-mnist or set ${ENV_VAR} for all)", file=sys.stderr)
    return images, labels


def mnist(split: str = "train", root: str | os.PathLike | None = None) -> Dataset:
    """MNIST `split` as (images, labels), read from `root`, then $TINYGRAD_HW_DATA/mnist.

    Same file names and loader as Fashion-MNIST. Nothing is shipped or downloaded: a
    missing set raises FileNotFoundError saying where it looked and where to get it.
    """
    _check_choice("split", split, SPLITS)
    dirs = [Path(root)] if root is not None else []
    env = os.environ.get(ENV_VAR)
    if env:
        dirs.append(Path(env) / "mnist")
    found = _find_split(dirs, split)
    if found is None:
        raise FileNotFoundError(_not_found("MNIST", split, dirs, _MNIST_HINT))
    return _load_pair(*found)


def _check_choice(what: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        choices = " or ".join(repr(a) for a in allowed)
        raise ValueError(f"{what} must be {choices}, got {value!r}")


def _fashion_dirs(root: str | os.PathLike | None) -> list[Path]:
    dirs = [Path(root)] if root is not None else []
    env = os.environ.get(ENV_VAR)
    if env:
        dirs += [Path(env) / "fashion-mnist", Path(env)]
    return dirs + list(SYSTEM_DIRS)


def _find_file(directory: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def _find_split(dirs: list[Path], split: str) -> tuple[Path, Path] | None:
    """The first directory holding both files of `split`; half a pair is an error."""
    for directory in dirs:
        images, labels = (_find_file(directory, stem) for stem in FILES[split])
        if images is not None and labels is not None:
            return images, labels
        if images is not None or labels is not None:
            have, missing = (images, FILES[split][1]) if images else (labels, FILES[split][0])
            raise FileNotFoundError(f"{have} has no partner: {directory} lacks {missing}[.gz]")
    return None


def _looked(dirs: list[Path]) -> str:
    return "looked in " + ", ".join(str(d) for d in dirs) if dirs else "no directory to look in"


def _not_found(name: str, split: str, dirs: list[Path], hint: str) -> str:
    images, labels = FILES[split]
    return (f"{name} {split} set not found: {images}[.gz] and {labels}[.gz]; "
            f"{_looked(dirs)}. {hint}")


def _load_dir(directory: Path, split: str) -> Dataset:
    found = _find_split([directory], split)
    if found is None:
        hint = "The package's sample files are missing: reinstall tinygrad-hw"
        raise FileNotFoundError(_not_found("Fashion-MNIST", split, [directory], hint))
    return _load_pair(*found)


def _load_pair(images_path: Path, labels_path: Path) -> Dataset:
    """Read and cross-check one split: 28x28 images, labels 0..9, one label per image."""
    images = load_idx(images_path, IMAGES_MAGIC)
    labels = load_idx(labels_path, LABELS_MAGIC)
    if images.shape[1:] != (28, 28):
        raise IDXError(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, "
                       "expected 28x28")
    if len(labels) != len(images):
        raise IDXError(f"{labels_path}: {len(labels)} labels but {images_path} holds "
                       f"{len(images)} images")
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        raise IDXError(f"{labels_path}: {bad.size} labels outside 0..{NUM_CLASSES - 1} "
                       f"(first: label {labels[bad[0]]} at index {bad[0]})")
    return images, labels.astype(np.int64)
