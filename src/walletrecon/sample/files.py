"""Writing files: source files in each format, the configuration and the truth file."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from walletrecon.sample.model import FEE_TABLES, TRUTH_COLUMNS
from walletrecon.sample.timeline import Calendar


def write_frames(path: Path, kind: str, frames: Iterable[pl.DataFrame]) -> int:
    """Write one source file from consecutive text frames (the first one gives the header).

    ``kind`` is ``csv``, ``csv.gz``, ``parquet`` (every column a string) or ``bom`` (CSV that
    starts with a UTF-8 byte order mark). Returns the number of rows written.
    """
    if kind == "parquet":
        return _write_parquet(path.with_suffix(".parquet"), frames)
    target = path.with_name(path.name + ".gz") if kind == "csv.gz" else path
    rows = 0
    with target.open("wb") as raw:
        stream: io.BufferedIOBase = raw
        if kind == "csv.gz":
            stream = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
        if kind == "bom":
            stream.write(b"\xef\xbb\xbf")
        for index, frame in enumerate(frames):
            stream.write(frame.write_csv(include_header=index == 0).encode("utf-8"))
            rows += frame.height
        if stream is not raw:
            stream.close()
    return rows


def _write_parquet(path: Path, frames: Iterable[pl.DataFrame]) -> int:
    """Write frames to one Parquet file with every column stored as a string."""
    writer: pq.ParquetWriter | None = None
    rows = 0
    for frame in frames:
        schema = pa.schema([(name, pa.string()) for name in frame.columns])
        if writer is None:
            writer = pq.ParquetWriter(path, schema)
        if frame.height:
            writer.write_table(frame.to_arrow().cast(schema))
        rows += frame.height
    if writer is not None:
        writer.close()
    return rows


def config_text(timezone: str) -> str:
    """The walletrecon.toml that goes with the data set (amounts as quoted decimals)."""
    lines = [
        f'timezone = "{timezone}"',
        "",
        "[windows]",
        "settlement_days = 2",
        "receipt_days = 1",
        "sync_delay_hours = 24",
        "",
        "[tolerance]",
        'amount = "0"',
    ]
    for gateway, table in FEE_TABLES.items():
        lines += ["", f"[fees.{gateway}]", f'percent = "{table.percent}"']
        lines += ['record_types = ["payment", "topup"]', "", f"[fees.{gateway}.fixed]"]
        lines += [f'{currency} = "{amount}"' for currency, amount in table.fixed.items()]
    lines += ["", "# bank_x has no fee table: its fees are not checked, only net = gross - fee."]
    return "\n".join(lines) + "\n"


def write_truth(
    path: Path, frames: Sequence[pl.DataFrame], calendar: Calendar, days: int
) -> dict[str, int]:
    """Write truth.csv (breaks due on or before the last night); counts per type."""
    dates = {day: calendar.date_of(day).isoformat() for day in range(days)}
    truth = (
        pl.concat(frames)
        .filter(pl.col("run_day") < days)
        .with_columns(
            pl.col("run_day").replace_strict(dates, return_dtype=pl.String).alias("run_date")
        )
        .select(TRUTH_COLUMNS)
        .sort("run_date", "type", "source", "key", "row_id")
    )
    truth.write_csv(path)
    counts = truth.group_by("type").len().sort("type")
    return dict(zip(counts["type"].to_list(), counts["len"].to_list(), strict=True))
