"""Write a ``.npy`` file from blocks of rows, one block in memory at a time, atomically."""

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
