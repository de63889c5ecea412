"""The published Parquet tables, laid out so that every common reader reads a folder whole.

The outputs are Hive-partitioned by night (``discrepancies/run_date=D/*.parquet``, CONTRACT
section 3). A reader that discovers the partitions infers the type of ``run_date`` from the
folder names: DuckDB and Spark a DATE, pyarrow (and so pandas) a dictionary of strings, which
it must unify with the files' own ``run_date`` column. A DATE column in the files therefore
makes ``pandas.read_parquet("OUT/discrepancies/")`` fail ("Unable to merge: Field run_date has
incompatible types"), and so does a plain string column. The files hold ``run_date`` as the
ISO date in a dictionary-encoded string with 32-bit signed indices, the type pyarrow infers for
the folder: then DuckDB and Spark read a DATE, pyarrow a dictionary and pandas a category of
``YYYY-MM-DD`` texts (``docs/auditors.md`` lists every column's type in each reader).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

#: The partition column of every published table.
PARTITION_COLUMN = "run_date"
#: Its type in the files: what pyarrow infers from ``run_date=YYYY-MM-DD`` folder names.
PARTITION_TYPE = pa.dictionary(pa.int32(), pa.string())


def published_table(frame: pl.DataFrame) -> pa.Table:
    """A frame as a published table: ``run_date`` (a date in memory) as its ISO text."""
    if PARTITION_COLUMN not in frame.columns:
        return frame.to_arrow()
    iso = frame.with_columns(pl.col(PARTITION_COLUMN).cast(pl.String))
    table = iso.to_arrow()
    index = table.schema.get_field_index(PARTITION_COLUMN)
    column = table.column(index).cast(pa.string()).dictionary_encode()
    return table.set_column(
        index, pa.field(PARTITION_COLUMN, PARTITION_TYPE), column.cast(PARTITION_TYPE)
    )


def write_published(frame: pl.DataFrame, path: Path) -> None:
    """Write one partition's file of a published table."""
    pq.write_table(published_table(frame), path, compression="zstd")


def read_published(path: Path) -> pl.DataFrame:
    """A published file as it was in memory: ``run_date`` a date again."""
    frame = pl.read_parquet(path)
    if PARTITION_COLUMN in frame.columns:
        frame = frame.with_columns(pl.col(PARTITION_COLUMN).cast(pl.String).str.to_date())
    return frame
