"""Integer tables, identifier counters and truth frames: the data in numeric form."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from walletrecon.sample.model import BoolArray, IntArray


class Table:
    """Named integer columns of equal length: one source in numeric form before formatting."""

    def __init__(self, columns: dict[str, IntArray]) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def __getitem__(self, name: str) -> IntArray:
        return self.columns[name]

    def __setitem__(self, name: str, values: IntArray) -> None:
        self.columns[name] = values

    def take(self, selection: IntArray | BoolArray) -> Table:
        """The rows at these positions (or where this mask holds), as a new table."""
        return Table({name: values[selection] for name, values in self.columns.items()})

    def reorder(self, selection: IntArray | BoolArray) -> None:
        """Keep only these rows, in this order, in place (one column at a time, to save memory)."""
        for name in list(self.columns):
            self.columns[name] = self.columns[name][selection]

    def append(self, other: Table) -> None:
        """Add the rows of another table with the same columns at the end, in place."""
        for name in list(self.columns):
            self.columns[name] = np.concatenate([self.columns[name], other[name]])

    def chunks(self, size: int) -> Iterator[Table]:
        """Consecutive slices (views) of at most ``size`` rows; one empty slice when empty."""
        for start in range(0, max(len(self), 1), size):
            yield Table(
                {name: values[start : start + size] for name, values in self.columns.items()}
            )

    def frame(self) -> pl.DataFrame:
        """The columns as a polars frame (for formatting)."""
        return pl.DataFrame(self.columns)

    @staticmethod
    def concat(tables: Sequence[Table]) -> Table:
        """The rows of all tables one after the other (same columns in each)."""
        names = tables[0].columns.keys()
        return Table({name: np.concatenate([table[name] for table in tables]) for name in names})


@dataclass
class Counters:
    """Global sequence numbers, so that every identifier is unique over all nights."""

    next_number: dict[str, int] = field(default_factory=dict)

    def take(self, kind: str, count: int) -> IntArray:
        """The next ``count`` numbers of one kind of identifier."""
        start = self.next_number.get(kind, 1)
        self.next_number[kind] = start + count
        return np.arange(start, start + count, dtype=np.int64)


def truth_frame(
    kind: str,
    keys: pl.Series,
    run_day: IntArray,
    source: str,
    row_ids: pl.Series,
    note: str,
    counterparts: pl.Series | None = None,
    causes: pl.Series | None = None,
) -> pl.DataFrame:
    """Truth rows with one type, source and note (and, for near misses, the counterpart; for
    breaks injected with a likely cause, that cause)."""
    if counterparts is None:
        counterparts = pl.Series([None] * len(keys), dtype=pl.String)
    if causes is None:
        causes = pl.Series([None] * len(keys), dtype=pl.String)
    return pl.DataFrame(
        {
            "type": pl.Series([kind] * len(keys), dtype=pl.String),
            "key": keys.alias("key"),
            "run_day": pl.Series(run_day, dtype=pl.Int64),
            "source": pl.Series([source] * len(keys), dtype=pl.String),
            "row_id": row_ids.alias("row_id"),
            "note": pl.Series([note] * len(keys), dtype=pl.String),
            "counterpart": counterparts.alias("counterpart").cast(pl.String),
            "cause": causes.alias("cause").cast(pl.String),
        }
    )


def pick_rows(rng: np.random.Generator, available: BoolArray, count: int) -> BoolArray:
    """A mask of up to ``count`` random rows among the available ones."""
    candidates = np.flatnonzero(available)
    chosen = rng.choice(candidates, size=min(count, len(candidates)), replace=False)
    mask = np.zeros(len(available), dtype=np.bool_)
    mask[chosen] = True
    return mask
