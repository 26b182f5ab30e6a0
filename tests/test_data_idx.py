"""The IDX reader: round trips (raw and gzip, every IDX dtype) against an independent writer,
and every kind of damage raising IDXError with the file named in the message."""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import tinygrad_hw.data as data
from tinygrad_hw.data.idx import parse_idx

CODES = {"u1": 0x08, "i1": 0x09, ">i2": 0x0B, ">i4": 0x0C, ">f4": 0x0D, ">f8": 0x0E}
CODES = {np.dtype(k): v for k, v in CODES.items()}


def idx_bytes(arr: np.ndarray, dtype: str | None = None) -> bytes:
    """An IDX file written by hand (big-endian), independently of tinygrad_hw.data.save_idx."""
    big = np.dtype(dtype or arr.dtype).newbyteorder(">")
    header = struct.pack(">HBB", 0, CODES[big], arr.ndim)
    header += struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(big).tobytes()


def write(path, content: bytes, gz: bool = False):
    path.write_bytes(gzip.compress(content) if gz else content)
    return path


IMAGES = np.arange(3 * 28 * 28).reshape(3, 28, 28).astype(np.uint8)
LABELS = np.array([7, 0, 9], np.uint8)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_round_trip_images_and_labels(tmp_path, gz):
    suffix = ".gz" if gz else ""
    images = data.load_idx(write(tmp_path / f"img{suffix}", idx_bytes(IMAGES), gz), 0x803)
    labels = data.load_idx(write(tmp_path / f"lab{suffix}", idx_bytes(LABELS), gz), 0x801)
    assert images.dtype == np.uint8 and images.shape == (3, 28, 28)
    assert labels.dtype == np.uint8 and labels.shape == (3,)
    np.testing.assert_array_equal(images, IMAGES)
    np.testing.assert_array_equal(labels, LABELS)
    images[0, 0, 0] = 255  # a writable array, not a view of the file's bytes


def test_gzip_is_detected_by_content_not_name(tmp_path):
    path = write(tmp_path / "labels-without-suffix", idx_bytes(LABELS), gz=True)
    np.testing.assert_array_equal(data.load_idx(path), LABELS)


@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
def test_every_idx_dtype_reads_in_native_byte_order(tmp_path, dtype):
    arr = np.arange(-6, 6).reshape(2, 3, 2)
    out = data.load_idx(write(tmp_path / "x.idx", idx_bytes(arr, dtype)))
    assert out.dtype == np.dtype(dtype).newbyteorder("=") and out.dtype.isnative
    np.testing.assert_array_equal(out, arr.astype(dtype))


_dtypes = st.sampled_from(["u1", "i1", "<i2", "<i4", "<f4", "<f8"])


@given(arrays(_dtypes, array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4)))
def test_save_idx_and_parse_idx_round_trip(arr):
    out = parse_idx(idx_bytes(arr))
    assert out.dtype == arr.dtype and out.shape == arr.shape
    assert out.tobytes() == arr.tobytes()  # bitwise, so NaNs and -0.0 count too


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_save_idx_matches_the_hand_written_format(tmp_path, suffix):
    data.save_idx(tmp_path / f"x{suffix}", IMAGES)
    raw = (tmp_path / f"x{suffix}").read_bytes()
    assert (gzip.decompress(raw) if suffix else raw) == idx_bytes(IMAGES)


def test_save_idx_gzip_is_deterministic(tmp_path):
    data.save_idx(tmp_path / "a.gz", LABELS)
    data.save_idx(tmp_path / "b.gz", LABELS)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_save_idx_rejects_what_idx_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="int64"):
        data.save_idx(tmp_path / "x", np.arange(3))


def _crc_flipped(gz: bytes) -> bytes:
    return gz[:-8] + bytes([gz[-8] ^ 0xFF]) + gz[-7:]


def _isize_wrong(gz: bytes) -> bytes:
    return gz[:-4] + struct.pack("<I", struct.unpack("<I", gz[-4:])[0] + 1)


GOOD = idx_bytes(LABELS)
IMG = idx_bytes(IMAGES)
DAMAGE = {  # name: (file bytes, gzip?, expected magic, words the message must contain)
    "empty": (b"", False, None, "too short"),
    "bad magic": (b"\x01\x02" + GOOD[2:], False, None, "bad magic"),
    "unknown type code": (GOOD[:2] + b"\x07" + GOOD[3:], False, None, "bad magic"),
    "zero dims": (GOOD[:3] + b"\x00" + GOOD[4:], False, None, "bad magic"),
    "images expected, labels found": (GOOD, False, 0x803, "expected 0x0803"),
    "wrong dims count": (GOOD[:3] + b"\x03" + GOOD[4:], False, 0x801, "expected 0x0801"),
    "more dims than written": (GOOD[:3] + b"\x03" + GOOD[4:], False, None, "header cut short"),
    "fewer dims than written": (IMG[:3] + b"\x01" + IMG[4:], False, None, "trailing bytes"),
    "header cut short": (IMG[:10], False, None, "header cut short"),
    "short payload": (GOOD[:-1], False, None, "1 missing"),
    "trailing bytes": (GOOD + b"\x00\x00", False, None, "2 trailing bytes"),
    "short payload in gzip": (GOOD[:-1], True, None, "payload too short"),
    "trailing bytes in gzip": (GOOD + b"\x00", True, None, "trailing bytes"),
    "truncated gzip": (gzip.compress(GOOD)[:-5], "as is", None, "damaged gzip"),
    "bad CRC": (_crc_flipped(gzip.compress(GOOD)), "as is", None, "CRC"),
    "wrong gzip length": (_isize_wrong(gzip.compress(GOOD)), "as is", None, "damaged gzip"),
    "garbage after gzip": (gzip.compress(GOOD) + b"junk", "as is", None, "damaged gzip"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damage_raises_idx_error_naming_the_file(tmp_path, case):
    content, gz, magic, words = DAMAGE[case]
    path = write(tmp_path / "damaged-labels-idx1-ubyte.gz", content, gz is True)
    with pytest.raises(data.IDXError) as info:
        data.load_idx(path, magic)
    assert str(path) in str(info.value)
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)


def test_corrupt_deflate_stream_is_caught(tmp_path):
    gz = bytearray(gzip.compress(idx_bytes(IMAGES)))
    gz[len(gz) // 2] ^= 0xFF
    path = write(tmp_path / "x.gz", bytes(gz))
    with pytest.raises(data.IDXError, match="damaged gzip") as info:
        data.load_idx(path)
    assert "x.gz" in str(info.value)


def test_missing_file_is_both_idx_error_and_file_not_found(tmp_path):
    path = tmp_path / "nope-idx1-ubyte.gz"
    with pytest.raises(FileNotFoundError) as info:
        data.load_idx(path)
    assert isinstance(info.value, data.IDXError)
    assert str(path) in str(info.value) and "no such file" in str(info.value)
