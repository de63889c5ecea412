"""Arrow arrays built without ``pyarrow.array``.

``pyarrow.array`` asks pandas whether its input is array-like, which imports pandas (a third of a
second, once a process) wherever pandas is installed. These build the same arrays through Polars,
which converts without asking; the other way, ``pl.Series(array).to_numpy()`` stands for
``Array.to_numpy``, which imports pandas too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa


def numbers(values: npt.NDArray[np.generic] | Sequence[int | None], kind: pa.DataType) -> pa.Array:
    """An Arrow array of numbers of type ``kind`` (nulls where a value is None)."""
    return pl.Series(values).to_arrow().cast(kind)


def texts(values: Sequence[str | None]) -> pa.Array:
    """An Arrow string array (nulls where a value is None)."""
    return pl.Series(values, dtype=pl.String).to_arrow().cast(pa.string())


def one_name(name: str, rows: int) -> pa.DictionaryArray:
    """A dictionary column holding one name on every row (a file's name beside its rows)."""
    indices = numbers(np.zeros(rows, np.int32), pa.int32())
    return pa.DictionaryArray.from_arrays(indices, texts([name]))
