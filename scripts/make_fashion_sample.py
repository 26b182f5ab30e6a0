"""Regenerate tinygrad_hw/data/sample/ from the full Fashion-MNIST: a seeded, stratified pick
(500 train / 100 test images per class, kept in dataset order) written as deterministic IDX .gz.
Usage: python scripts/make_fashion_sample.py [--src DIR] [--out DIR] [--check]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from tinygrad_hw.data.datasets import FILES, NUM_CLASSES, SAMPLE_DIR, fashion_mnist
from tinygrad_hw.data.idx import load_idx, save_idx

SEED = 0
PER_CLASS = {"train": 500, "test": 100}


def select_sample(labels: np.ndarray, per_class: int, seed: int = SEED) -> np.ndarray:
    """Sorted indices of `per_class` examples of each class, drawn without replacement."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
             for c in range(NUM_CLASSES)]
    return np.sort(np.concatenate(picks))


def make_sample(split: str, src: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """The sample of `split`, drawn from the full set found via `src` (or the usual places)."""
    images, labels = fashion_mnist(split, root=src, source="full")
    idx = select_sample(labels, PER_CLASS[split])
    return images[idx], labels[idx].astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="directory with the full Fashion-MNIST files")
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR, help="where to write")
    parser.add_argument("--check", action="store_true",
                        help="only compare with the sample in --out; exit 1 if it differs")
    args = parser.parse_args(argv)
    same = True
    for split in FILES:
        images, labels = make_sample(split, args.src)
        paths = [args.out / f"{stem}.gz" for stem in FILES[split]]
        if args.check:
            old_images, old_labels = (load_idx(path) for path in paths)
            ok = np.array_equal(old_images, images) and np.array_equal(old_labels, labels)
            same &= ok
            print(f"{split}: {'matches' if ok else 'DIFFERS from'} {args.out}")
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        save_idx(paths[0], images)
        save_idx(paths[1], labels)
        print(f"{split}: {len(labels)} images -> {paths[0]} ({paths[0].stat().st_size:,} B), "
              f"{paths[1]} ({paths[1].stat().st_size:,} B)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
