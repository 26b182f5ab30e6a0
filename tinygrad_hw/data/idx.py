"""The IDX file format (MNIST, Fashion-MNIST): a strict reader for raw or gzip files and a
deterministic writer. Any damage (magic, dims, payload length, gzip CRC) raises IDXError."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 0x0803  # unsigned bytes, 3 dims (N, rows, cols)
LABELS_MAGIC = 0x0801  # unsigned bytes, 1 dim (N,)

# IDX type code -> big-endian numpy dtype
_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A damaged or unexpected IDX file; the message names the file and what is wrong."""


class IDXNotFoundError(IDXError, FileNotFoundError):
    """The IDX file does not exist (both an IDXError and a FileNotFoundError)."""


def _read_bytes(path: Path) -> bytes:
    """The file's content; gzip (told by its first bytes) is read to the end, so its CRC
    and length are checked."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise IDXNotFoundError(f"{path}: no such file") from None
    with f:
        is_gzip = f.read(2) == _GZIP_MAGIC
        f.seek(0)
        if not is_gzip:
            return f.read()
        try:
            with gzip.open(f, "rb") as gz:
                return gz.read()
        except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
            raise IDXError(f"{path}: damaged gzip data ({type(e).__name__}: {e})") from e


def parse_idx(buf: bytes, name: str = "<bytes>", magic: int | None = None) -> np.ndarray:
    """Parse an IDX payload already in memory; `name` labels the errors."""
    if len(buf) < 4:
        raise IDXError(f"{name}: {len(buf)} bytes is too short for an IDX header")
    zero, code, ndim = struct.unpack(">HBB", buf[:4])
    found = (code << 8) | ndim
    if zero != 0 or code not in _DTYPES or ndim == 0:
        raise IDXError(f"{name}: bad magic number 0x{buf[:4].hex()} (not an IDX file)")
    if magic is not None and found != magic:
        raise IDXError(f"{name}: magic number 0x{found:04x}, expected 0x{magic:04x} "
                       f"({_describe(magic)}; this file holds {_describe(found)})")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise IDXError(f"{name}: header cut short: {ndim} dims need {header} bytes, "
                       f"the file has {len(buf)}")
    dims = struct.unpack(f">{ndim}I", buf[4:header])
    dtype = _DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    got = len(buf) - header
    if got < expected:
        raise IDXError(f"{name}: payload too short: dims {dims} need {expected} bytes "
                       f"after the header, found {got} ({expected - got} missing)")
    if got > expected:
        raise IDXError(f"{name}: {got - expected} trailing bytes after the payload "
                       f"(dims {dims} need {expected} bytes, found {got})")
    arr = np.frombuffer(buf, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))  # native byte order, writable copy


def _describe(magic: int) -> str:
    dtype = _DTYPES.get(magic >> 8)
    kind = dtype.name if dtype is not None else f"type 0x{magic >> 8:02x}"
    return f"{kind} with {magic & 0xFF} dims"


def load_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Read an IDX file, raw or gzip (detected from its first bytes), into a numpy array.

    `magic` (e.g. IMAGES_MAGIC = 0x803, LABELS_MAGIC = 0x801) also requires that type and
    number of dims. Raises IDXNotFoundError for a missing file and IDXError for any damage.
    """
    path = Path(path)
    return parse_idx(_read_bytes(path), str(path), magic)


def save_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write `array` as IDX; gzip when `compress` (default: when the name ends in .gz).

    The gzip header holds no name or time, so the same array always gives the same bytes.
    """
    path = Path(path)
    arr = np.asarray(array)
    code = _CODES.get(arr.dtype.newbyteorder("="))
    if code is None or arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"save_idx: cannot store dtype {arr.dtype} with shape {arr.shape} "
                         f"as IDX (dtypes: uint8 int8 int16 int32 float32 float64; 1-255 dims)")
    header = struct.pack(f">HBB{arr.ndim}I", 0, code, arr.ndim, *arr.shape)
    buf = header + arr.astype(_DTYPES[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        with open(path, "wb") as f, gzip.GzipFile("", "wb", 9, f, mtime=0) as gz:
            gz.write(buf)
    else:
        path.write_bytes(buf)
