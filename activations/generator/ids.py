"""Random identifiers, made vectorised: hex and UUID-shaped strings straight into Arrow buffers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

# byte -> its two lowercase hex digits, as one little-endian uint16
_PAIRS = np.array([int.from_bytes(f"{b:02x}".encode(), "little") for b in range(256)], dtype="<u2")
_UUID_GROUPS = ((0, 8), (9, 13), (14, 18), (19, 23), (24, 36))


def _hex(rng: np.random.Generator, n: int, nbytes: int) -> np.ndarray:
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    return _PAIRS[raw].view(np.uint8).reshape(n, nbytes * 2)


def _strings(buffer: np.ndarray) -> pa.Array:
    n, width = buffer.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(buffer))
    )


def uuids(rng: np.random.Generator, n: int, prefix: str = "") -> pa.Array:
    """``n`` random UUID-shaped strings (version 4 layout), optionally prefixed."""
    p = len(prefix)
    hex_ = _hex(rng, n, 16)
    out = np.empty((n, p + 36), dtype=np.uint8)
    if p:
        out[:, :p] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    src = 0
    for start, end in _UUID_GROUPS:
        out[:, p + start : p + end] = hex_[:, src : src + end - start]
        src += end - start
        if end < 36:
            out[:, p + end] = ord("-")
    out[:, p + 14] = ord("4")
    return _strings(out)


def hex_ids(rng: np.random.Generator, n: int, prefix: str, nbytes: int = 12) -> pa.Array:
    """``n`` random ids: ``prefix`` and ``2 * nbytes`` hex digits."""
    p = len(prefix)
    out = np.empty((n, p + 2 * nbytes), dtype=np.uint8)
    out[:, :p] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    out[:, p:] = _hex(rng, n, nbytes)
    return _strings(out)


def numbered(
    prefix: str, numbers: np.ndarray, digits: int, valid: np.ndarray | None = None
) -> pa.Array:
    """``prefix`` and each number zero-padded to ``digits`` (like ``f"{prefix}{n:0{digits}d}"``)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if valid is not None:
        numbers = np.where(valid, numbers, 0)
    n, p = len(numbers), len(prefix)
    if n and (numbers.min() < 0 or numbers.max() >= 10**digits):
        raise ValueError(f"numbers do not fit in {digits} digits")
    out = np.empty((n, p + digits), dtype=np.uint8)
    out[:, :p] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    powers = 10 ** np.arange(digits - 1, -1, -1, dtype=np.int64)
    out[:, p:] = (numbers[:, None] // powers % 10 + ord("0")).astype(np.uint8)
    array = _strings(out)
    if valid is None:
        return array
    return pa.LargeStringArray.from_buffers(
        n, array.buffers()[1], array.buffers()[2], pa.array(valid, pa.bool_()).buffers()[1]
    )
