"""``.npy`` files of rows: written from blocks, one block in memory at a time, atomically; opened
(memory-mapped) and checked against what their sidecar says."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io import atomic_write

_BLOCK = 65536


def write_rows(output: str | Path, blocks: Iterable[np.ndarray], rows: int, dim: int, dtype: str) -> None:
    """Concatenate ``blocks`` (arrays or memory maps of shape (n, dim)) into ``output``. The header is
    the one ``np.save`` writes for the whole array, so the file is byte for byte ``np.save``'s."""
    with atomic_write(output, "wb", encoding=None) as fh:
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
                  "shape": (rows, dim)}
        np.lib.format.write_array_header_1_0(fh, header)
        written = 0
        for block in blocks:
            if block.ndim != 2 or block.shape[1] != dim or block.dtype != np.dtype(dtype):
                raise DataError(f"expected {dtype} rows of {dim}, found {block.dtype} {block.shape}", path=output)
            for start in range(0, len(block), _BLOCK):
                fh.write(np.ascontiguousarray(block[start : start + _BLOCK]).tobytes())
            written += len(block)
        if written != rows:
            raise RuntimeError(f"{output}: wrote {written} rows, expected {rows}")


def open_rows(path: str | Path, rows: int | None = None, dim: int | None = None,
              dtype: str | None = None) -> np.ndarray:
    """A ``.npy`` array, memory-mapped, that must hold ``rows`` x ``dim`` of ``dtype`` where given (what
    its sidecar says): a file cut short, not a ``.npy`` at all, or of another shape is a DataError
    naming it, before anything reads its rows."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path=path)
    try:
        arr = np.load(path, mmap_mode="r")
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"not a whole .npy array ({exc}); the file is cut short or of another kind", path=path) from None
    if arr.ndim != 2:
        raise DataError(f"expected a 2-D array (rows, dim), got shape {arr.shape}", path=path)
    want = (rows if rows is not None else arr.shape[0], dim if dim is not None else arr.shape[1])
    if arr.shape != want or (dtype is not None and arr.dtype != np.dtype(dtype)):
        raise DataError(f"holds {arr.dtype} rows of shape {arr.shape}, its sidecar says {dtype or arr.dtype} "
                        f"{want}; the array and its sidecar belong to different runs", path=path)
    return arr
