"""fashion_mnist and mnist: the search order, the shipped sample and the fallback to it, clear
errors for missing or inconsistent files, and the real Fashion-MNIST from Debian's package."""

import gzip
import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import tinygrad_hw.data as data
from tinygrad_hw.data import datasets

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
needs_debian = pytest.mark.skipif(
    not DEBIAN.is_dir(),
    reason=f"{DEBIAN} absent: install the Debian package dataset-fashion-mnist",
)
# SHA-256 of the *decompressed* files. Debian recompressed the .gz (no name in the gzip
# header, new mtime), so the .gz checksums Zalando publishes do not match; the content does.
RAW_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No full set anywhere: an empty $TINYGRAD_HW_DATA and no system directory."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(datasets.ENV_VAR, str(empty))
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", (tmp_path / "not-installed",))
    return empty


def fake_split(directory: Path, split: str, n: int = 20, fill: int = 0, gz: bool = True,
               labels: np.ndarray | None = None, size: int = 28) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    images_stem, labels_stem = datasets.FILES[split]
    suffix = ".gz" if gz else ""
    labels = np.arange(n, dtype=np.uint8) % 10 if labels is None else labels
    data.save_idx(directory / (images_stem + suffix), np.full((n, size, size), fill, np.uint8))
    data.save_idx(directory / (labels_stem + suffix), labels.astype(np.uint8))


# -- the real data ------------------------------------------------------------------------

@needs_debian
@pytest.mark.parametrize("split, n", [("train", 60_000), ("test", 10_000)])
def test_debian_fashion_mnist(split, n, monkeypatch):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    images, labels = data.fashion_mnist(split, source="full")
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.int64
    assert labels.min() == 0 and labels.max() == 9
    np.testing.assert_array_equal(np.bincount(labels), [n // 10] * 10)
    first = {"train": [9, 0, 0, 3, 0, 2, 7, 2, 5, 5], "test": [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]}
    assert labels[:10].tolist() == first[split]
    assert abs(images.mean() / 255 - 0.286) < 2e-3  # the dataset's well-known pixel mean


@needs_debian
@pytest.mark.parametrize("stem", list(RAW_SHA256))
def test_debian_files_decompress_to_the_published_content(stem):
    path = DEBIAN / f"{stem}.gz"
    arr = data.load_idx(path)  # checks magic, dims, payload length and the gzip CRC
    with gzip.open(path) as f:
        raw = f.read()
    assert hashlib.sha256(raw).hexdigest() == RAW_SHA256[stem]
    assert len(raw) == 4 + 4 * arr.ndim + arr.size


# -- the shipped sample -------------------------------------------------------------------

@pytest.mark.parametrize("split, per_class", [("train", 500), ("test", 100)])
def test_sample_is_stratified(split, per_class):
    images, labels = data.fashion_mnist(split, source="sample")
    assert images.shape == (10 * per_class, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), [per_class] * 10)
    assert images.reshape(len(images), -1).max(axis=1).min() > 0  # no blank images


def test_sample_is_small_compressed_idx_with_its_licence():
    files = sorted(p.name for p in datasets.SAMPLE_DIR.iterdir())
    assert files == ["LICENSE", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                     "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    assert sum(p.stat().st_size for p in datasets.SAMPLE_DIR.iterdir()) < 3_000_000
    licence = (datasets.SAMPLE_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "Zalando SE" in licence and "MIT License" in licence


def _sample_script():
    path = Path(__file__).parents[1] / "scripts" / "make_fashion_sample.py"
    spec = importlib.util.spec_from_file_location("make_fashion_sample", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_debian
def test_sample_is_what_the_script_picks_from_the_full_set(monkeypatch, capsys):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    script = _sample_script()
    for split in datasets.SPLITS:
        full_images, full_labels = data.fashion_mnist(split, source="full")
        idx = script.select_sample(full_labels, script.PER_CLASS[split])
        images, labels = data.fashion_mnist(split, source="sample")
        np.testing.assert_array_equal(images, full_images[idx])
        np.testing.assert_array_equal(labels, full_labels[idx])
    assert script.main(["--check"]) == 0
    assert capsys.readouterr().out.count("matches") == 2


def test_select_sample_is_deterministic_and_stratified():
    script = _sample_script()
    labels = np.random.default_rng(1).integers(0, 10, 2000)
    a, b = script.select_sample(labels, 20), script.select_sample(labels, 20)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.bincount(labels[a]), [20] * 10)
    assert np.all(np.diff(a) > 0)  # sorted, no repeats: the sample keeps dataset order


# -- the fallback and the search order ------------------------------------------------------

@pytest.mark.parametrize("split", ["train", "test"])
def test_falls_back_to_the_sample_with_a_one_line_notice(nowhere, tmp_path, capsys, split):
    images, labels = data.fashion_mnist(split, root=tmp_path / "also-empty")
    sample_images, sample_labels = data.fashion_mnist(split, source="sample")
    np.testing.assert_array_equal(images, sample_images)
    np.testing.assert_array_equal(labels, sample_labels)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "shipped sample" in lines[0]
    assert str(tmp_path / "not-installed") in lines[0] and str(nowhere) in lines[0]


def test_explicit_sample_prints_nothing(capsys):
    data.fashion_mnist("test", source="sample")
    assert capsys.readouterr().err == ""


def test_source_full_does_not_fall_back(nowhere, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        data.fashion_mnist("train", source="full")
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and str(nowhere) in message
    assert str(tmp_path / "not-installed") in message and "dataset-fashion-mnist" in message


def test_search_order_root_then_env_then_system(nowhere, tmp_path, monkeypatch):
    system = tmp_path / "system"
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", (system,))
    fake_split(system, "test", fill=1)
    assert data.fashion_mnist("test")[0].max() == 1
    fake_split(nowhere, "test", fill=2, gz=False)  # $TINYGRAD_HW_DATA itself, raw files
    assert data.fashion_mnist("test")[0].max() == 2
    fake_split(nowhere / "fashion-mnist", "test", fill=3)
    assert data.fashion_mnist("test")[0].max() == 3
    fake_split(tmp_path / "root", "test", fill=4)
    assert data.fashion_mnist("test", root=tmp_path / "root")[0].max() == 4
    assert data.fashion_mnist("test", root=str(tmp_path / "root"))[0].max() == 4


def test_half_a_pair_is_an_error_naming_the_missing_file(nowhere):
    fake_split(nowhere, "train")
    (nowhere / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        data.fashion_mnist("train")


@pytest.mark.parametrize("kind, words", [
    ("labels out of range", "outside 0..9"),
    ("counts differ", "19 labels but"),
    ("wrong image size", "27x27"),
])
def test_inconsistent_files_name_the_file(nowhere, kind, words):
    if kind == "labels out of range":
        fake_split(nowhere, "train", labels=np.array([0] * 19 + [10]))
    elif kind == "counts differ":
        fake_split(nowhere, "train", labels=np.zeros(19))
    else:
        fake_split(nowhere, "train", size=27)
    with pytest.raises(data.IDXError, match=words) as info:
        data.fashion_mnist("train")
    assert str(nowhere) in str(info.value)


def test_swapped_files_are_caught_by_the_magic_number(nowhere):
    fake_split(nowhere, "test")
    images, labels = (nowhere / (stem + ".gz") for stem in datasets.FILES["test"])
    images.rename(nowhere / "tmp")
    labels.rename(images)
    (nowhere / "tmp").rename(labels)
    with pytest.raises(data.IDXError, match="expected 0x0803"):
        data.fashion_mnist("test")


@pytest.mark.parametrize("bad", ["training", "val", "", None])
def test_invalid_split_names_the_allowed_values(bad):
    for load in (data.fashion_mnist, data.mnist):
        with pytest.raises(ValueError, match="'train' or 'test'"):
            load(bad)


def test_invalid_source_names_the_allowed_values():
    with pytest.raises(ValueError, match="'auto' or 'full' or 'sample'"):
        data.fashion_mnist("train", source="fashion-mnist")


# -- MNIST -------------------------------------------------------------------------------------

def test_mnist_reads_root_then_env_subdirectory(nowhere, tmp_path):
    fake_split(nowhere / "mnist", "train", n=30, fill=5)
    images, labels = data.mnist("train")
    assert images.shape == (30, 28, 28) and labels.dtype == np.int64 and images.max() == 5
    fake_split(tmp_path / "mine", "train", n=10, fill=6, gz=False)
    assert data.mnist("train", root=tmp_path / "mine")[0].max() == 6


def test_mnist_missing_says_where_it_looked_and_how_to_get_it(nowhere):
    with pytest.raises(FileNotFoundError) as info:
        data.mnist("test")
    message = str(info.value)
    assert str(nowhere / "mnist") in message and "t10k-images-idx3-ubyte" in message
    assert "download" in message and "root=" in message


def test_mnist_without_any_directory(monkeypatch):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    with pytest.raises(FileNotFoundError, match="no directory to look in"):
        data.mnist("train")
