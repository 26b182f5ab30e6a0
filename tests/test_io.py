"""tinygrad_hw.io: save/load round trips (flat, nested, scalars, Tensors), atomic writes under
simulated failures, refusal of pickled data, and the format-version check."""

import os
import pickle

import numpy as np
import pytest

import tinygrad_hw.optim as optim
from tinygrad_hw import Tensor, nn
from tinygrad_hw.io import FORMAT_KEY, CheckpointError, load, save


def _assert_same(a, b):
    assert isinstance(b, dict) and list(a) == list(b)
    for k in a:
        if isinstance(a[k], dict):
            _assert_same(a[k], b[k])
        else:
            assert type(b[k]) is np.ndarray
            assert b[k].dtype == np.asarray(a[k]).dtype
            np.testing.assert_array_equal(b[k], np.asarray(a[k]))


def test_flat_round_trip_keeps_values_dtypes_and_order(tmp_path):
    state = {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3),
        "0.bias": np.array([1.5, -2.0]),
        "labels": np.array([3, 1, 2], dtype=np.uint8),
        "mask": np.array([True, False]),
        "empty": np.zeros((0, 4)),
    }
    path = tmp_path / "state.npz"
    save(state, path)
    _assert_same(state, load(path))
    assert load(str(path)).keys() == state.keys()


def test_tensors_scalars_and_strings_become_arrays(tmp_path):
    p = nn.Parameter(np.ones((2, 2), np.float32))
    save({"p": p, "t": Tensor([1, 2]), "epoch": 3, "lr": 0.1, "flag": True, "name": "mlp",
          "np_scalar": np.float32(2.5), "list": [1.0, 2.0]}, tmp_path / "c.npz")
    out = load(tmp_path / "c.npz")
    assert out["p"].dtype == np.float32 and out["p"].tolist() == [[1, 1], [1, 1]]
    assert out["t"].tolist() == [1, 2]
    assert out["epoch"].shape == () and int(out["epoch"]) == 3
    assert float(out["lr"]) == 0.1 and bool(out["flag"]) is True and str(out["name"]) == "mlp"
    assert out["np_scalar"].dtype == np.float32 and out["list"].tolist() == [1.0, 2.0]


def test_nested_checkpoint_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    empty_opt_state = opt.state_dict()
    model(np.ones((2, 3))).sum().backward()
    opt.step()
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
            "history": {"loss": np.array([0.9, 0.5]), "nothing": {}},
            "fresh_optimizer": empty_opt_state}
    save(ckpt, tmp_path / "ckpt.npz")
    back = load(tmp_path / "ckpt.npz")
    assert back["history"]["nothing"] == {} and back["fresh_optimizer"]["state"] == {}
    _assert_same({**ckpt, "epoch": np.array(3)}, back)
    twin = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    twin.load_state_dict(back["model"])
    np.testing.assert_array_equal(twin(np.ones((1, 3))).numpy(), model(np.ones((1, 3))).numpy())
    assert load_keys(tmp_path / "ckpt.npz")[:2] == ["model/0.weight", "model/0.bias"]


def load_keys(path):
    with np.load(path, allow_pickle=False) as npz:  # plain numpy can read the file too
        return list(npz.files)


def test_path_is_used_exactly_and_overwrites(tmp_path):
    path = tmp_path / "model.ckpt"
    save({"a": np.zeros(1)}, path)
    save({"a": np.ones(1)}, path)
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt"]
    assert load(path)["a"].tolist() == [1.0]


def test_new_file_gets_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        save({"a": np.zeros(1)}, tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "m.npz").st_mode & 0o777 == 0o644


# ----------------------------------------------------------------------- atomic writes
def _failing_savez(f, **entries):
    f.write(b"PK\x03\x04 half a zip")  # something partial reaches the temp file first
    raise OSError("disk full")


@pytest.mark.parametrize("target", ["savez", "replace", "fsync", "interrupt"])
def test_failed_save_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch, target):
    path = tmp_path / "ckpt.npz"
    save({"w": np.arange(3.0)}, path)
    old_bytes = path.read_bytes()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt if target == "interrupt" else OSError("simulated failure")

    if target == "savez":
        monkeypatch.setattr(np, "savez", _failing_savez)
    elif target == "interrupt":
        monkeypatch.setattr(np, "savez", boom)
    else:
        monkeypatch.setattr(os, target, boom)
    expected = KeyboardInterrupt if target == "interrupt" else OSError
    with pytest.raises(expected):
        save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert path.read_bytes() == old_bytes
    assert load(path)["w"].tolist() == [0.0, 1.0, 2.0]


def test_failed_first_save_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "savez", _failing_savez)
    with pytest.raises(OSError, match="disk full"):
        save({"w": np.zeros(3)}, tmp_path / "new.npz")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------- what save refuses
@pytest.mark.parametrize(
    "state, error, pattern",
    [
        ({"a": np.array([{}, 1], dtype=object)}, CheckpointError, r"'a' \(ndarray, dtype object\)"),
        ({"a": None}, CheckpointError, r"'a' \(NoneType, dtype object\)"),
        ({"m": {"b": [np.zeros(2), np.zeros(3)]}}, CheckpointError, "'m/b' cannot be stored"),
        ({"m": {"b": object()}}, CheckpointError, r"'m/b' \(object, dtype object\)"),
        ({1: np.zeros(1)}, TypeError, "keys must be strings, got 1"),
        ({"m": {2: np.zeros(1)}}, TypeError, r"got 2 \(inside 'm'\)"),
        ({"a/b": np.zeros(1)}, ValueError, "'a/b' must be non-empty and contain no '/'"),
        ({"": np.zeros(1)}, ValueError, "must be non-empty"),
        ({FORMAT_KEY: np.zeros(1)}, ValueError, "reserved"),
        ({"file": np.zeros(1)}, ValueError, "argument name of np.savez"),
        ({"allow_pickle": np.zeros(1)}, ValueError, "argument name of np.savez"),
    ],
)
def test_save_refuses_what_cannot_be_stored_without_pickle(tmp_path, state, error, pattern):
    path = tmp_path / "c.npz"
    save({"old": np.ones(1)}, path)
    with pytest.raises(error, match=pattern):
        save(state, path)
    assert os.listdir(tmp_path) == ["c.npz"] and list(load(path)) == ["old"]


def test_nested_keys_named_like_savez_arguments_are_fine(tmp_path):
    save({"m": {"file": np.ones(1)}}, tmp_path / "c.npz")
    assert load(tmp_path / "c.npz")["m"]["file"].tolist() == [1.0]


def test_save_needs_a_dict(tmp_path):
    with pytest.raises(TypeError, match="expected a dict"):
        save([np.zeros(1)], tmp_path / "c.npz")


# ----------------------------------------------------------------------- what load refuses
def test_load_refuses_object_arrays_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.ones(2), obj=np.array([{"a": 1}, None], dtype=object),
             **{FORMAT_KEY: np.array(1)})
    with pytest.raises(CheckpointError) as info:
        load(path)
    msg = str(info.value)
    assert str(path) in msg and "'obj'" in msg and "pickle" in msg


def test_load_refuses_pickle_and_npy_files(tmp_path):
    pickled = tmp_path / "state.pkl"
    pickled.write_bytes(pickle.dumps({"w": np.ones(2)}))
    with pytest.raises(CheckpointError, match="state.pkl: not an .npz archive readable without"):
        load(pickled)
    single = tmp_path / "w.npy"
    np.save(single, np.ones(2))
    with pytest.raises(CheckpointError, match=r"w.npy: holds a single .npy array"):
        load(single)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")


def test_format_version_is_stored_and_checked(tmp_path):
    save({"a": np.ones(1)}, tmp_path / "ok.npz")
    assert load_keys(tmp_path / "ok.npz") == ["a", FORMAT_KEY]
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.ones(1))
    with pytest.raises(CheckpointError) as info:
        load(plain)
    assert str(plain) in str(info.value) and "no format version" in str(info.value)
    assert "supported versions: (1,)" in str(info.value)
    future = tmp_path / "future.npz"
    np.savez(future, a=np.ones(1), **{FORMAT_KEY: np.array(99)})
    with pytest.raises(CheckpointError, match=r"future.npz: checkpoint format version 99 is not "
                                              r"supported .*supported versions: \(1,\)"):
        load(future)


def test_load_rejects_clashing_entries(tmp_path):
    path = tmp_path / "clash.npz"
    np.savez(path, **{"a": np.ones(1), "a/b": np.ones(1), FORMAT_KEY: np.array(1)})
    with pytest.raises(CheckpointError, match="clash"):
        load(path)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save({"a": np.ones(1)}, tmp_path / "no" / "such" / "c.npz")


# ----------------------------------------------------------------------- damaged files
def _tiny_checkpoint(tmp_path):
    path = tmp_path / "c.npz"
    save({"w": np.arange(2, dtype=np.float32), "b": np.ones(1)}, path)
    return path, path.read_bytes()


def _load_or_checkpoint_error(path, original):
    """Either a CheckpointError naming the file, or exactly the original arrays."""
    try:
        out = load(path)
    except CheckpointError as e:
        assert str(path) in str(e)
        return str(e)
    assert list(out) == list(original)
    for key, value in original.items():
        assert out[key].dtype == value.dtype and np.array_equal(out[key], value), key
    return None


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_every_flipped_byte_raises_checkpoint_error_or_loads_the_same(tmp_path, mask):
    path, raw = _tiny_checkpoint(tmp_path)
    original = load(path)
    assert len(raw) < 1000
    damaged = tmp_path / "damaged.npz"
    messages = []
    for i in range(len(raw)):
        flipped = bytearray(raw)
        flipped[i] ^= mask
        damaged.write_bytes(bytes(flipped))
        messages.append(_load_or_checkpoint_error(damaged, original))
    assert any(m and "bad CRC-32" in m for m in messages)  # the array bytes are checked


def test_every_truncation_raises_checkpoint_error(tmp_path):
    path, raw = _tiny_checkpoint(tmp_path)
    damaged = tmp_path / "short.npz"
    for n in range(len(raw)):
        damaged.write_bytes(raw[:n])
        with pytest.raises(CheckpointError) as info:
            load(damaged)
        assert str(damaged) in str(info.value)
        assert ("is empty" if n == 0 else "truncated") in str(info.value)


def test_a_damaged_entry_names_the_entry_and_the_damage(tmp_path):
    path, raw = _tiny_checkpoint(tmp_path)
    data_at = raw.index(np.arange(2, dtype=np.float32).tobytes())
    flipped = bytearray(raw)
    flipped[data_at] ^= 0x01  # a bit of w's first float: the CRC-32 catches it
    path.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match=r"c.npz: entry 'w' is damaged, bad CRC-32"):
        load(path)


def test_an_entry_swallowed_by_a_damaged_length_field_is_not_dropped_silently(tmp_path):
    path, raw = _tiny_checkpoint(tmp_path)
    first = raw.index(b"PK\x01\x02")  # the central directory: one record per entry
    second = raw.index(b"PK\x01\x02", first + 1)
    damaged = bytearray(raw)
    damaged[first + 32] = second - first  # w's comment length now covers b's record
    path.write_bytes(bytes(damaged))
    with pytest.raises(CheckpointError, match="lists 2 entries, but the end record announces 3"):
        load(path)


def test_not_an_npz_and_a_foreign_zip_are_checkpoint_errors(tmp_path):
    import zipfile

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="notes.txt: not an .npz archive"):
        load(text)
    foreign = tmp_path / "data.zip"
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(CheckpointError, match=r"member 'readme.txt' .* not a .npy array"):
        load(foreign)
