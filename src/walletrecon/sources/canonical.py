"""The canonical profile: inbox folders in, typed canonical rows and rejected rows out.

For each business date folder of the run, each source file is read as text, validated and shaped
into the working schema of the kernel. Every row read ends as accepted or rejected
(with its file, row, column and reason); the per-file counts feed the manifest.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from walletrecon.config import InputLimits
from walletrecon.errors import InputError
from walletrecon.history import key_hash
from walletrecon.match.duplicates import duplicate_key
from walletrecon.schemas import SOURCES, Source
from walletrecon.sources.files import file_sha256, find_source_file, read_raw
from walletrecon.sources.rejections import check_rejected_share
from walletrecon.sources.validate import DEFAULT_LIMITS, validate

REJECTED_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "origin_file": pl.String(),
    "origin_row": pl.Int64(),
    "column": pl.String(),
    "reason": pl.String(),
    "raw_values": pl.String(),
}


@dataclass(frozen=True)
class FileRecord:
    """One input file of the run, for the manifest."""

    source: str
    path: str
    sha256: str
    rows_read: int


@dataclass
class Loaded:
    """Accepted rows per source (typed, not yet de-duplicated), rejected rows, file records."""

    accepted: dict[str, pl.DataFrame] = field(default_factory=dict)
    rejected: list[pl.DataFrame] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    #: Files with no rows, or with every row rejected: for the log, manifest and report.
    warnings: list[str] = field(default_factory=list)


def _malformed_rows(
    source: Source, display: str, malformed: list[tuple[int, str, str]]
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": [source.name] * len(malformed),
            "origin_file": [display] * len(malformed),
            "origin_row": [number for number, _, _ in malformed],
            "column": [None] * len(malformed),
            "reason": [f"row: {reason}" for _, reason, _ in malformed],
            "raw_values": [text for _, _, text in malformed],
        },
        schema=REJECTED_SCHEMA,
    )


def _reasons(rejected: pl.DataFrame, malformed: list[tuple[int, str, str]]) -> pl.Series:
    """Every rejected row's reason, validated and malformed rows alike."""
    return pl.concat(
        [
            rejected.get_column("reason"),
            pl.Series("reason", [f"row: {reason}" for _, reason, _ in malformed], pl.String),
        ]
    )


def load_folders(
    connection: duckdb.DuckDBPyConnection,
    inbox: Path,
    dates: list[dt.date],
    limits: InputLimits = DEFAULT_LIMITS,
) -> Loaded:
    """Read and validate every source file of the given business-date folders, in date order.

    Files are hashed (SHA-256, for the manifest) on a background thread while they are validated:
    hashing runs outside the interpreter lock.
    """
    loaded = Loaded()
    parts: dict[str, list[pl.DataFrame]] = {name: [] for name in SOURCES}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as hasher:
        for order, day in enumerate(sorted(dates)):
            folder = inbox / day.isoformat()
            for source in SOURCES.values():
                path = find_source_file(folder, source)
                if path is None:
                    continue
                digest = hasher.submit(file_sha256, path)
                display = f"{day.isoformat()}/{path.name}"
                raw = read_raw(path, source, display)
                result = validate(connection, source, raw.table, limits)
                rows_read = raw.table.num_rows + len(raw.malformed)
                rejected = result.rejected.height + len(raw.malformed)
                loaded.warnings += check_rejected_share(
                    display, rows_read, rejected, _reasons(result.rejected, raw.malformed), limits
                )
                loaded.files.append(FileRecord(source.name, display, digest.result(), rows_read))
                parts[source.name].append(
                    result.accepted.with_columns(pl.lit(order).alias("folder_order"))
                )
                loaded.rejected.append(
                    result.rejected.with_columns(pl.lit(source.name).alias("source")).select(
                        list(REJECTED_SCHEMA)
                    )
                )
                if raw.malformed:
                    loaded.rejected.append(_malformed_rows(source, display, raw.malformed))
    for name, frames in parts.items():
        if frames:
            loaded.accepted[name] = pl.concat(frames, how="vertical_relaxed")
    return loaded


def require_ledger(inbox: Path, run_date: dt.date) -> None:
    """The ledger is the one required source: the run date's folder must hold it."""
    folder = inbox / run_date.isoformat()
    if not folder.is_dir():
        raise InputError(f"{folder}: no inbox folder for business date {run_date}")
    if find_source_file(folder, SOURCES["ledger"]) is None:
        raise InputError(
            f"{folder}: the required source 'ledger' is missing "
            "(ledger.csv, ledger.csv.gz or ledger.parquet)"
        )


def _utc(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone("UTC")


def _local_date(column: pl.Expr, timezone: str) -> pl.Expr:
    return column.dt.convert_time_zone(timezone).dt.date()


def shape(source: str, accepted: pl.DataFrame, run_date: dt.date, timezone: str) -> pl.DataFrame:
    """Canonical accepted rows of a source in the kernel's working form."""
    origin = pl.concat_str(
        [pl.col("origin_file"), pl.col("origin_row").cast(pl.String)], separator=":"
    )
    base = accepted.with_columns(origin.alias("origin"), pl.lit(run_date).alias("first_run"))
    if source == "ledger":
        return base.with_columns(
            pl.col("amount").alias("amount_minor"),
            _utc("created_at"),
            _utc("posted_at"),
            pl.col("gateway_ref").str.to_lowercase().alias("ref_norm"),
            _local_date(pl.col("created_at"), timezone).alias("item_date"),
            pl.col("entry_id").alias("row_id"),
        )
    if source == "settlement":
        return base.with_columns(
            pl.col("gross_amount").alias("gross_minor"),
            pl.col("fee_amount").alias("fee_minor"),
            pl.col("net_amount").alias("net_minor"),
            _utc("settled_at"),
            pl.col("gateway_ref").str.to_lowercase().alias("ref_norm"),
            _local_date(pl.col("settled_at"), timezone).alias("item_date"),
            pl.col("settlement_id").alias("row_id"),
            pl.lit(False).alias("fee_checked"),
        )
    if source == "receipts":
        return base.with_columns(
            pl.col("amount").alias("amount_minor"),
            _utc("received_at"),
            _local_date(pl.col("received_at"), timezone).alias("item_date"),
            pl.col("receipt_id").alias("row_id"),
        )
    if source == "bank":
        return base.with_columns(
            pl.col("amount").alias("amount_minor"),
            pl.col("value_date").alias("item_date"),
            pl.col("bank_line_id").alias("row_id"),
        )
    cut_off = pl.col("as_of") - pl.duration(microseconds=1)
    return base.with_columns(
        pl.col("balance").alias("balance_minor"),
        _utc("as_of"),
        _local_date(cut_off, timezone).alias("item_date"),
        pl.concat_str(
            [
                pl.col("account_id"),
                pl.col("currency"),
                _utc("as_of").dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ"),
            ],
            separator="@",
        ).alias("row_id"),
    )


def registry_rows(source: str, shaped: pl.DataFrame) -> pl.DataFrame:
    """What later nights need to know of tonight's accepted rows: id, content, keys."""
    keyed = shaped.with_columns(
        pl.lit(source).alias("source"),
        (
            duplicate_key(source)
            if source in ("ledger", "settlement", "receipts")
            else pl.lit(None, pl.String)
        ).alias("dup_key"),
        (pl.col("ref_norm") if source == "ledger" else pl.lit(None, pl.String)).alias("ref_norm"),
        (pl.col("txn_id") if source == "ledger" else pl.lit(None, pl.String)).alias("txn_id"),
        (pl.col("entry_type") == "payment" if source == "ledger" else pl.lit(False)).alias(
            "is_payment"
        ),
    )
    return keyed.select(
        "source",
        "row_id",
        "content_hash",
        "dup_key",
        "ref_norm",
        "txn_id",
        "is_payment",
        "origin",
        key_hash("row_id").alias("row_key"),
        key_hash("dup_key").alias("dup_hash"),
    )
