"""Interval columns of every replication in shared memory, written by the local workers.

A year of CareConnect intervals is ~40 MB per replication, 1.2 GB over 30. Sent as bytes,
each replication is encoded and compressed in its worker, then decompressed and copied into
the joined columns by the client: ~0.1 CPU-s per replication in the worker and ~0.15 in the
client, on two cores that the workers need. With :class:`SharedColumns` the client maps the
joined columns once, in an anonymous shared memory mapping, *before* its local worker
processes are forked; each worker writes its replication's columns straight into their
final place, and the client's DataFrame is made of views of the mapping: nothing is
encoded, sent, decoded or copied.

Only workers forked from the client after the mapping was made can see it (a token in
the task's payload names it; :func:`lookup` finds nothing in any other process). A
replication whose columns do not match the layout (names, dtypes, categories, rows) is sent
as bytes as before; the result never depends on which way a replication came.
"""

from __future__ import annotations

import mmap
import multiprocessing
import sys
import uuid

import numpy as np
import pandas as pd

#: Mappings of this process, by token (made by the client; inherited by forked workers).
_REGISTRY: dict[str, SharedColumns] = {}


def available() -> bool:
    """Whether local worker processes are forked (so they inherit a mapping made before)."""
    if not hasattr(mmap, "MAP_SHARED") or sys.platform != "linux":
        return False
    method = multiprocessing.get_start_method(allow_none=True)
    # Unset: the platform's default, fork on Linux before Python 3.14.
    return method == "fork" or (method is None and sys.version_info < (3, 14))


def shareable(sample: pd.DataFrame) -> bool:
    """Whether every column of ``sample`` can live in a mapping (numbers, bools and
    categoricals, stored as their codes)."""
    return all(isinstance(d, pd.CategoricalDtype)
               or (isinstance(d, np.dtype) and d.kind in "iufb") for d in sample.dtypes)


class SharedColumns:
    """One array per column of ``sample``, ``rows * n_parts`` long, part ``p`` at rows
    ``p * rows ..``, in an anonymous shared memory mapping (categoricals: int32 codes).

    Parameters
    ----------
    sample : DataFrame
        Any frame with the parts' columns and dtypes (the categories included).
    rows : int
        Rows of every part.
    n_parts : int
    """

    def __init__(self, sample: pd.DataFrame, rows: int, n_parts: int):
        if not shareable(sample):
            raise ValueError("SharedColumns: a column is neither numeric nor categorical")
        self.sample = sample.iloc[:0]
        self.rows, self.n_parts = int(rows), int(n_parts)
        n = self.rows * self.n_parts
        self.dtypes = [np.dtype(np.int32) if isinstance(d, pd.CategoricalDtype) else d
                       for d in self.sample.dtypes]
        # each column starts on a page boundary
        page = mmap.PAGESIZE
        offsets, size = [], 0
        for dtype in self.dtypes:
            offsets.append(size)
            size += -(-n * dtype.itemsize // page) * page
        self._map = mmap.mmap(-1, max(size, page), flags=mmap.MAP_SHARED)
        self.arrays = {name: np.frombuffer(self._map, dtype=dtype, count=n, offset=offset)
                       for name, dtype, offset
                       in zip(self.sample.columns, self.dtypes, offsets, strict=True)}
        self.token = uuid.uuid4().hex

    def fits(self, frame: pd.DataFrame) -> bool:
        """Whether ``frame`` is a part of this layout (same columns, dtypes and rows)."""
        return (len(frame) == self.rows and list(frame.columns) == list(self.sample.columns)
                and all(a == b for a, b in zip(frame.dtypes, self.sample.dtypes, strict=True)))

    def write(self, position: int, frame: pd.DataFrame) -> bool:
        """Copy ``frame`` in as part ``position``; False (nothing written) if it does not
        fit."""
        if not self.fits(frame):
            return False
        lo, hi = position * self.rows, (position + 1) * self.rows
        for name, out in self.arrays.items():
            column = frame[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                out[lo:hi] = column.cat.codes.to_numpy()
            else:
                out[lo:hi] = column.to_numpy()
        return True

    def part(self, position: int) -> pd.DataFrame:
        """Part ``position`` as a DataFrame of its own (a copy)."""
        return self._frame(position * self.rows, (position + 1) * self.rows, copy=True)

    def frame(self) -> pd.DataFrame:
        """Every part, in position order: views of the mapping (which they keep alive)."""
        return self._frame(0, self.rows * self.n_parts, copy=False)

    def _frame(self, lo: int, hi: int, copy: bool) -> pd.DataFrame:
        out = {}
        for (name, values), dtype in zip(self.arrays.items(), self.sample.dtypes, strict=True):
            values = values[lo:hi]
            out[name] = (pd.Categorical.from_codes(values, dtype=dtype)
                         if isinstance(dtype, pd.CategoricalDtype) else values)
        return pd.DataFrame(out, copy=copy)

    def register(self) -> str:
        """Make the mapping findable by :func:`lookup` (here and in workers forked after)."""
        _REGISTRY[self.token] = self
        return self.token

    def unregister(self) -> None:
        _REGISTRY.pop(self.token, None)


def lookup(token: str | None) -> SharedColumns | None:
    """The mapping ``token`` names, if this process has it."""
    return _REGISTRY.get(token) if token else None
