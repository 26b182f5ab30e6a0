"""save / load: checkpoints (nested dicts of arrays, Tensors and scalars) as .npz files,
written atomically (temp file, fsync, os.replace) and read without pickle."""

from __future__ import annotations

import contextlib
import math
import os
import struct
import tempfile
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.lib import format as npformat

from .tensor import Tensor

FORMAT_KEY = "__tinygrad_hw_format__"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
SEP = "/"
_KINDS = "biufcUS"  # bool, numbers and strings: everything np.load reads without pickle
_SAVEZ_ARGS = ("file", "allow_pickle")  # np.savez's own keyword names
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_EOCD_MAGIC = b"PK\x05\x06"  # the zip end-of-central-directory record
_EOCD_SEARCH = 22 + 0xFFFF  # the record and the longest archive comment
_CHUNK = 1 << 20  # bytes read at a time


class CheckpointError(ValueError):
    """A file tg.load will not read (pickled data, no or unknown format version, not .npz,
    damaged or truncated), or a value tg.save cannot store without pickle. The message names
    the file or key, and the damage."""


def save(state: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write `state` to `path` (the exact name: no ".npz" is appended) as an .npz archive.

    Rules:
    - keys are non-empty strings without "/" (nested keys are joined with "/", so
      {"model": {"0.weight": w}} is stored as "model/0.weight"); keys starting with
      "__tinygrad_hw" are reserved, and so are the top-level keys "file" and "allow_pickle"
      (np.savez's argument names);
    - values are nested dicts, numpy arrays, Tensors (stored as their values), Python or
      numpy scalars (stored as 0-d arrays) and lists of numbers; anything that would need
      pickle (object arrays, None, arbitrary objects) is refused with a CheckpointError;
    - an empty nested dict is kept (as an entry "<its key>/" holding an empty array);
    - a format version is stored under "__tinygrad_hw_format__".
    The file is first written to a temp file in the same folder, fsync'ed, then moved over
    `path` with os.replace: on any failure the previous file is untouched and the temp file
    is removed.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"save: expected a dict, got {type(state).__name__}")
    entries: dict[str, np.ndarray] = {}
    _flatten(state, "", entries)
    entries[FORMAT_KEY] = np.array(FORMAT_VERSION)
    _write_atomic(os.fspath(path), entries)


def _flatten(tree: Mapping, prefix: str, out: dict[str, np.ndarray]) -> None:
    if not tree and prefix:
        out[prefix + SEP] = np.zeros(0)
    for key, value in tree.items():
        _check_key(key, prefix)
        name = f"{prefix}{SEP}{key}" if prefix else key
        if isinstance(value, Mapping):
            _flatten(value, name, out)
        else:
            out[name] = _to_array(value, name)


def _check_key(key: Any, prefix: str) -> None:
    where = f" (inside {prefix!r})" if prefix else ""
    if not isinstance(key, str):
        raise TypeError(f"save: keys must be strings, got {key!r}{where}")
    if not key or SEP in key:
        raise ValueError(f"save: key {key!r}{where} must be non-empty and contain no {SEP!r}")
    if key.startswith("__tinygrad_hw"):
        raise ValueError(f"save: key {key!r}{where} is reserved for tinygrad_hw")
    if not prefix and key in _SAVEZ_ARGS:
        raise ValueError(f"save: top-level key {key!r} is an argument name of np.savez; "
                         f"rename it or nest it in a dict")


def _to_array(value: Any, name: str) -> np.ndarray:
    try:
        arr = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
    except ValueError as e:  # ragged lists
        raise CheckpointError(f"save: {name!r} cannot be stored as an array: {e}") from None
    if arr.dtype.kind not in _KINDS:
        raise CheckpointError(
            f"save: {name!r} ({type(value).__name__}, dtype {arr.dtype}) cannot be stored: only "
            f"bool, numeric and string arrays can (object data would need pickle)"
        )
    return arr


def _write_atomic(path: str, entries: dict[str, np.ndarray]) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: folder {folder!r} (for {path!r}) does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **entries)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX only)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _file_mode(path: str) -> int:
    """The replaced file's permissions, or those of a new file (mkstemp's are 0o600)."""
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read a file written by `save`: a dict with the saved nesting whose leaves are numpy
    arrays (scalars come back as 0-d arrays: use int(x), float(x) or x.item()).

    Never unpickles: a file holding pickled data or object arrays is refused with a
    CheckpointError naming the file, as is a file without a format version (not written by
    `save`) or with a version this tinygrad_hw does not know. Every entry is read whole
    through zipfile, which checks its CRC-32, so a damaged file (a changed byte, a truncated
    copy) raises a CheckpointError naming the file and the damage; it never loads silently
    wrong values. A missing or unreadable file raises the usual OSError."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(len(_NPY_MAGIC))
        if head == _NPY_MAGIC:
            raise CheckpointError(f"{path}: holds a single .npy array, not an .npz from tg.save")
        f.seek(0)
        flat = _read_archive(f, head, path)
    _check_version(flat.pop(FORMAT_KEY, None), path)
    return _unflatten(flat, path)


def _read_archive(f: Any, head: bytes, path: str) -> dict[str, np.ndarray]:
    try:
        archive = zipfile.ZipFile(f)
    except Exception as e:  # BadZipFile, OSError (bad seek), struct.error, ...
        if not head:
            raise CheckpointError(f"{path}: the file is empty, not an .npz archive") from None
        why = ("it starts like a zip archive but its central directory (at the end) is missing "
               "or damaged: the file is truncated or corrupted" if _ZIP_MAGIC.startswith(head[:4])
               else "not an .npz archive readable without pickle")
        raise CheckpointError(f"{path}: {why} ({type(e).__name__}: {e})") from None
    flat: dict[str, np.ndarray] = {}
    with archive:
        _check_entry_count(f, len(archive.infolist()), path)
        for info in archive.infolist():
            key = _member_key(info.filename, flat, path)
            flat[key] = _read_entry(archive, info, key, path)
    return flat


def _check_entry_count(f: Any, listed: int, path: str) -> None:
    """zipfile walks the central directory by its byte size, so an entry swallowed by a
    damaged length field (one entry's comment running over the next) would silently vanish;
    the end record's count of entries tells."""
    f.seek(0, os.SEEK_END)
    f.seek(max(f.tell() - _EOCD_SEARCH, 0))
    tail = f.read()
    at = tail.rfind(_EOCD_MAGIC)
    if at < 0 or len(tail) - at < 12:
        raise CheckpointError(f"{path}: the zip end record is missing or truncated")
    (announced,) = struct.unpack("<H", tail[at + 10:at + 12])
    if announced != min(listed, 0xFFFF):  # zip64 archives write 0xFFFF here
        raise CheckpointError(f"{path}: damaged zip directory: it lists {listed} entries, but "
                              f"the end record announces {announced}")


def _member_key(name: str, seen: Mapping[str, Any], path: str) -> str:
    if not name.endswith(".npy"):
        raise CheckpointError(f"{path}: member {name!r} of the archive is not a .npy array, so "
                              f"this is not an .npz written by tg.save")
    key = name[: -len(".npy")]
    if key in seen:
        raise CheckpointError(f"{path}: entry {key!r} appears twice in the archive")
    return key


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, path: str):
    """One .npy member as an array, read to its end so that zipfile checks its CRC-32."""
    try:
        with archive.open(info) as member:
            try:
                arr = _read_npy(member, info.file_size, key, path)
            except (CheckpointError, ValueError, TypeError, SyntaxError):
                member.read()  # a bad CRC-32 explains a garbled header better
                raise
            if member.read(1):
                raise CheckpointError(f"{path}: entry {key!r} holds more bytes than its header "
                                      f"describes")
            return arr
    except CheckpointError:
        raise
    except (ValueError, TypeError, SyntaxError) as e:
        raise CheckpointError(f"{path}: entry {key!r} is not a readable .npy array "
                              f"({type(e).__name__}: {e})") from None
    except Exception as e:  # BadZipFile, EOFError, NotImplementedError, zlib.error, ...
        raise CheckpointError(f"{path}: entry {key!r} is damaged, {_damage(e)} "
                              f"({type(e).__name__}: {e})") from None


def _damage(e: Exception) -> str:
    if "CRC" in str(e):
        return "bad CRC-32 checksum: its bytes changed after it was written"
    if isinstance(e, EOFError) or "runcated" in str(e):
        return "truncated: the file ends inside it"
    return "its zip header is damaged"


def _read_npy(member: Any, size: int, key: str, path: str) -> np.ndarray:
    version = npformat.read_magic(member)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f".npy format version {version} (tg.save writes 1.0 or 2.0)")
    read_header = (npformat.read_array_header_1_0 if version == (1, 0)
                   else npformat.read_array_header_2_0)
    shape, fortran, dtype = read_header(member)
    if dtype.hasobject:
        raise CheckpointError(
            f"{path}: entry {key!r} holds pickled Python objects (an object array); tg.load "
            f"refuses pickled data because loading it can run arbitrary code"
        )
    expected, stored = math.prod(shape) * dtype.itemsize, size - member.tell()
    if stored != expected:  # checked before allocating what a damaged header asks for
        raise CheckpointError(f"{path}: entry {key!r} holds {stored} bytes of data, but its "
                              f"header says {dtype} {shape} ({expected} bytes)")
    arr = np.empty(shape, dtype, order="F" if fortran else "C")
    raw = arr.reshape(-1, order="A").view(np.uint8)  # the array's memory, in file order
    for at in range(0, len(raw), _CHUNK):
        chunk = raw[at:at + _CHUNK]
        if member.readinto(chunk) != len(chunk):
            raise EOFError(f"entry {key!r} ends early")
    return arr


def _check_version(version: np.ndarray | None, path: str) -> None:
    if version is None:
        raise CheckpointError(
            f"{path}: no format version (entry {FORMAT_KEY!r} is missing), so it was not "
            f"written by tg.save; supported versions: {SUPPORTED_VERSIONS}"
        )
    ok = version.shape == () and version.dtype.kind in "iu"
    if not ok or int(version) not in SUPPORTED_VERSIONS:
        raise CheckpointError(
            f"{path}: checkpoint format version {version.tolist()!r} is not supported by this "
            f"tinygrad_hw (supported versions: {SUPPORTED_VERSIONS}); it may need a newer one"
        )


def _unflatten(flat: dict[str, np.ndarray], path: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for name, arr in flat.items():
        parts = name.split(SEP)
        value: Any = arr
        if name.endswith(SEP):  # marks an empty dict
            parts, value = parts[:-1], {}
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise CheckpointError(f"{path}: entry {name!r} clashes with an array entry")
        if parts[-1] in node:
            raise CheckpointError(f"{path}: entry {name!r} clashes with a nested dict")
        node[parts[-1]] = value
    return root
