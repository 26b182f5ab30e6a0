"""DataLoader, train_val_split, one_hot and the pixel helpers (scale, flatten, bias column)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_hw.data as data


def indexed(n: int):
    """X holds each example's own index, y = 10 * index: batches show what they contain."""
    X = np.arange(n).reshape(n, 1)
    return X, 10 * np.arange(n)


def epoch(loader) -> list[np.ndarray]:
    return [xb[:, 0].copy() for xb, _ in loader]


# -- DataLoader ------------------------------------------------------------------------------

@given(st.integers(0, 60), st.integers(1, 25), st.booleans(), st.booleans())
def test_every_example_once_per_epoch(n, batch_size, shuffle, drop_last):
    X, y = indexed(n)
    loader = data.DataLoader(X, y, batch_size, shuffle=shuffle, drop_last=drop_last)
    batches = list(loader)
    assert len(batches) == len(loader)
    assert all(isinstance(xb, np.ndarray) and isinstance(yb, np.ndarray) for xb, yb in batches)
    assert all(np.array_equal(yb, 10 * xb[:, 0]) for xb, yb in batches)  # pairs stay together
    seen = np.concatenate([xb[:, 0] for xb, _ in batches]) if batches else np.array([], int)
    sizes = [len(xb) for xb, _ in batches]
    if drop_last:
        assert len(loader) == n // batch_size and all(s == batch_size for s in sizes)
        assert len(set(seen.tolist())) == len(seen) == n - n % batch_size
    else:
        assert len(loader) == -(-n // batch_size)
        assert sorted(seen.tolist()) == list(range(n))
        assert all(s == batch_size for s in sizes[:-1])
        if n % batch_size:
            assert sizes[-1] == n % batch_size  # the last partial batch is kept
    if not shuffle:
        assert seen.tolist() == list(range(len(seen)))


def test_len_and_partial_last_batch():
    X, y = indexed(10)
    assert [len(b) for b in epoch(data.DataLoader(X, y, 4))] == [4, 4, 2]
    assert len(data.DataLoader(X, y, 4)) == 3
    assert [len(b) for b in epoch(data.DataLoader(X, y, 4, drop_last=True))] == [4, 4]
    assert len(data.DataLoader(X, y, 4, drop_last=True)) == 2
    assert len(data.DataLoader(X, y, 32, drop_last=True)) == 0


def test_reshuffles_each_epoch_reproducibly():
    X, y = indexed(100)
    a, b = data.DataLoader(X, y, 10, seed=3), data.DataLoader(X, y, 10, seed=3)
    a1, a2 = np.concatenate(epoch(a)), np.concatenate(epoch(a))
    b1, b2 = np.concatenate(epoch(b)), np.concatenate(epoch(b))
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)  # a new order every epoch
    assert not np.array_equal(a1, np.arange(100))
    other = np.concatenate(epoch(data.DataLoader(X, y, 10, seed=4)))
    assert not np.array_equal(a1, other)


def test_an_epoch_left_early_does_not_change_the_next():
    X, y = indexed(50)
    full, partial = data.DataLoader(X, y, 5), data.DataLoader(X, y, 5)
    epoch(full)
    next(iter(partial))  # stop after one batch (early stopping, a debugging peek)
    np.testing.assert_array_equal(np.concatenate(epoch(full)), np.concatenate(epoch(partial)))


def test_drop_last_drops_different_examples_across_epochs():
    X, y = indexed(10)
    loader = data.DataLoader(X, y, 3, drop_last=True)
    dropped = [set(range(10)) - set(np.concatenate(epoch(loader)).tolist()) for _ in range(5)]
    assert all(len(d) == 1 for d in dropped) and len({min(d) for d in dropped}) > 1


def test_seed_none_still_shuffles():
    X, y = indexed(30)
    assert sorted(np.concatenate(epoch(data.DataLoader(X, y, 7, seed=None))).tolist()) == list(
        range(30))


def test_images_and_labels_keep_their_shapes_and_dtypes():
    images, labels = data.fashion_mnist("test", source="sample")
    xb, yb = next(iter(data.DataLoader(images, labels, 64)))
    assert xb.shape == (64, 28, 28) and xb.dtype == np.uint8
    assert yb.shape == (64,) and yb.dtype == np.int64


@pytest.mark.parametrize("args, error, words", [
    ((np.zeros((5, 2)), np.zeros(4), 2), ValueError, "X has 5 examples but y has 4"),
    ((np.zeros((5, 2)), np.zeros(5), 0), ValueError, "batch_size must be >= 1, got 0"),
    ((np.zeros((5, 2)), np.zeros(5), -3), ValueError, "batch_size must be >= 1"),
    ((np.zeros((5, 2)), np.zeros(5), 2.5), TypeError, "batch_size must be an int"),
    ((np.zeros((5, 2)), np.zeros(5), True), TypeError, "batch_size must be an int"),
    ((np.float64(1.0), np.zeros(5), 2), ValueError, "leading example axis"),
])
def test_data_loader_errors(args, error, words):
    with pytest.raises(error, match=words):
        data.DataLoader(*args)


# -- train_val_split -----------------------------------------------------------------------

def test_split_sizes_order_and_disjointness():
    X, y = indexed(1000)
    labels = np.arange(1000) % 10
    X_tr, y_tr, X_val, y_val = data.train_val_split(X, labels)
    assert X_tr.shape == (800, 1) and y_tr.shape == (800,)
    assert X_val.shape == (200, 1) and y_val.shape == (200,)
    train, val = X_tr[:, 0], X_val[:, 0]
    assert not set(train.tolist()) & set(val.tolist())
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(1000))
    np.testing.assert_array_equal(y_tr, labels[train])  # pairs stay together
    np.testing.assert_array_equal(y_val, labels[val])
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)  # original order kept


def test_split_is_stratified():
    y = np.repeat(np.arange(10), 600)
    _, y_tr, _, y_val = data.train_val_split(np.zeros((6000, 3)), y, val_fraction=0.2)
    np.testing.assert_array_equal(np.bincount(y_val), [120] * 10)
    np.testing.assert_array_equal(np.bincount(y_tr), [480] * 10)


@given(st.lists(st.integers(0, 4), min_size=10, max_size=200), st.floats(0.05, 0.95))
def test_stratified_counts_are_proportional_up_to_rounding(labels, fraction):
    y = np.array(labels)
    n_val = int(np.floor(len(y) * fraction + 0.5))
    if not 0 < n_val < len(y):
        return
    _, _, _, y_val = data.train_val_split(np.zeros((len(y), 1)), y, val_fraction=fraction)
    assert len(y_val) == n_val
    expected = np.bincount(y, minlength=5) * n_val / len(y)
    assert np.all(np.abs(np.bincount(y_val, minlength=5) - expected) < 1)


def test_split_is_reproducible_and_depends_on_the_seed():
    X, y = indexed(300)
    labels = np.arange(300) % 3
    a = data.train_val_split(X, labels, seed=7)
    b = data.train_val_split(X, labels, seed=7)
    c = data.train_val_split(X, labels, seed=8)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[2], c[2])


def test_unstratified_split_takes_any_targets():
    X, y = indexed(50)
    targets = np.linspace(0, 1, 50)  # regression targets cannot be stratified
    X_tr, t_tr, X_val, t_val = data.train_val_split(X, targets, 0.3, stratify=False)
    assert len(X_val) == 15 and len(X_tr) == 35
    np.testing.assert_array_equal(t_val, targets[X_val[:, 0]])
    with pytest.raises(ValueError, match="stratify=False"):
        data.train_val_split(X, targets, 0.3)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_split_rejects_fractions_outside_0_1(fraction):
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\)"):
        data.train_val_split(np.zeros((10, 1)), np.zeros(10, int), fraction)


def test_split_errors():
    with pytest.raises(ValueError, match="X has 10 examples but y has 9"):
        data.train_val_split(np.zeros((10, 1)), np.zeros(9, int))
    with pytest.raises(ValueError, match="empty part"):
        data.train_val_split(np.zeros((2, 1)), np.zeros(2, int), 0.2)


# -- one_hot, pixels, bias -----------------------------------------------------------------

def test_one_hot():
    out = data.one_hot([2, 0, 1])
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert out.dtype == np.float32
    wide = data.one_hot(np.array([9, 3]), num_classes=10, dtype=np.float64)
    assert wide.shape == (2, 10) and wide.dtype == np.float64
    np.testing.assert_array_equal(wide.argmax(axis=1), [9, 3])
    assert wide.sum() == 2
    assert data.one_hot(np.array([], int), num_classes=4).shape == (0, 4)


@pytest.mark.parametrize("labels, num_classes, error, words", [
    ([0, 10], 10, ValueError, "label 10 is outside 0..9"),
    ([-1, 2], None, ValueError, "label -1 is outside"),
    ([0.0, 1.0], None, TypeError, "must be integers"),
])
def test_one_hot_errors(labels, num_classes, error, words):
    with pytest.raises(error, match=words):
        data.one_hot(np.array(labels), num_classes)


def test_scale_and_flatten_pixels():
    images = np.array([[[0, 255], [51, 102]]], np.uint8)
    scaled = data.scale_pixels(images)
    assert scaled.dtype == np.float32 and scaled.shape == (1, 2, 2)
    np.testing.assert_allclose(scaled, [[[0, 1], [0.2, 0.4]]], atol=1e-7)
    assert data.scale_pixels(images, np.float64).dtype == np.float64
    flat = data.flatten_images(scaled)
    assert flat.shape == (1, 4)
    np.testing.assert_array_equal(flat.reshape(1, 2, 2), scaled)
    with pytest.raises(TypeError, match="already scaled"):
        data.scale_pixels(scaled)
    with pytest.raises(TypeError, match="float type"):
        data.scale_pixels(images, np.int32)


def test_add_bias_column_and_prepare_images():
    X = np.arange(6, dtype=np.float32).reshape(2, 3)
    Xb = data.add_bias_column(X)
    assert Xb.shape == (2, 4) and Xb.dtype == np.float32
    np.testing.assert_array_equal(Xb[:, :3], X)
    np.testing.assert_array_equal(Xb[:, 3], [1, 1])
    images, _ = data.fashion_mnist("test", source="sample")
    X = data.prepare_images(images[:5], bias=True)
    assert X.shape == (5, 785) and X.dtype == np.float32  # 28*28 + 1, the course's bias trick
    assert X.min() >= 0 and X.max() <= 1 and np.all(X[:, -1] == 1)
    assert data.prepare_images(images[:5], flatten=False).shape == (5, 28, 28)
    with pytest.raises(ValueError, match="flatten images first"):
        data.add_bias_column(images[:5])
