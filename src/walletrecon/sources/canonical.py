"""Inbox folders in, typed canonical rows and rejected rows out, shaped for the kernel.

For each business date folder of the run, each delivered file is read by its profile, validated
and shaped into the working schema of the kernel. Every record read ends as accepted, rejected
(with its file, row, column and reason) or control; the per-file counts feed the manifest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from walletrecon.config import InputLimits
from walletrecon.errors import InputError
from walletrecon.history import key_hash
from walletrecon.match.common import row_wise, with_row_wise
from walletrecon.match.duplicates import duplicate_key
from walletrecon.schemas import SOURCES
from walletrecon.sources.files import file_sha256
from walletrecon.sources.inbox import InboxFile
from walletrecon.sources.inputs import Delivery, InputSpec, deliveries
from walletrecon.sources.profiles import ControlTotal
from walletrecon.sources.reading import FileRead, read_pieces
from walletrecon.sources.redelivery import stable_hash
from walletrecon.sources.rejections import check_rejected_share
from walletrecon.sources.validate import DEFAULT_LIMITS
from walletrecon.spool import SHAPED, Spool, concat, named


@dataclass(frozen=True)
class FileRecord:
    """One input file of the run, for the manifest."""

    source: str
    path: str
    sha256: str
    #: Every record of the file: rows, rows the profile rejected, and control lines.
    rows_read: int
    profile: str = "canonical"
    #: Records that are totals, not transactions (outcome ``control``).
    control: int = 0
    #: The file's control totals and whether each held.
    checks: tuple[dict[str, object], ...] = ()


#: What ``shape`` needs besides the rows: the run date and the time zone of business dates.
Shaping = tuple[dt.date, str]


@dataclass
class Loaded:
    """Accepted rows per source (typed, not yet de-duplicated), rejected rows, file records."""

    #: In the kernel's working form when loaded with ``shaping``; in memory, or (a large night)
    #: in the night's spool.
    accepted: dict[str, pl.DataFrame | pl.LazyFrame] = field(default_factory=dict)
    rejected: list[pl.DataFrame] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    #: What a person should know about the files (header-only or wholly rejected files,
    #: hidden files, unchecked control totals).
    warnings: list[str] = field(default_factory=list)


#: Bytes of a CSV file read at a time: the file's text, its checks' working columns and its
#: rows before they are shaped follow one piece, not the file (a 10M-row ledger is 1.3GB).
PIECE_BYTES = 256 * 1024 * 1024


def load_folders(
    connection: duckdb.DuckDBPyConnection,
    files: list[InboxFile],
    limits: InputLimits = DEFAULT_LIMITS,
    spool: Spool | None = None,
    shaping: Shaping | None = None,
    piece_bytes: int = PIECE_BYTES,
) -> Loaded:
    """Read and validate the given delivered files (``inbox.discover``), each through its
    profile, in folder-date order, a piece of about ``piece_bytes`` at a time where the
    profile reads in pieces (``read_pieces``). With ``shaping``, each piece's accepted rows are
    put in the kernel's working form (``shape``) as they are validated. With a ``spool`` (a
    large night), they are written there at once, so that memory follows one piece.

    Files are hashed (SHA-256, for the manifest) on a background thread while they are validated:
    hashing runs outside the interpreter lock. ``folder_order`` numbers the files in delivery
    order (date, then source, then name): the first delivery of an id is the earliest.
    """
    loaded = Loaded()
    parts: dict[str, list[pl.DataFrame | pl.LazyFrame]] = {name: [] for name in SOURCES}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as hasher:
        for order, item in enumerate(sorted(files, key=lambda item: item.folder)):
            delivery = item.delivery
            source = delivery.spec.source
            digest = hasher.submit(file_sha256, delivery.path)
            record = _FileTally()
            for read in read_pieces(connection, delivery, limits, piece_bytes):
                record.add(read)
                accepted = read.accepted.drop("position").with_columns(
                    pl.lit(order).alias("folder_order"), pl.lit(item.folder).alias("folder_date")
                )
                loaded.rejected.append(read.rejected)
                del read  # the piece's text, before its rows are shaped and the next piece read
                # Arrow's allocator keeps freed memory for reuse: a 10M-row night kept 1.8GB of
                # the CSV reader's buffers through every later stage.
                pa.default_memory_pool().release_unused()
                if shaping is not None:
                    accepted = shape(source, accepted, *shaping)
                if spool is not None:
                    parts[source].append(spool.write(named(SHAPED, source), accepted))
                else:
                    parts[source].append(accepted)
                del accepted
            rejected = pl.concat(record.rejected)
            loaded.warnings += record.warnings + check_rejected_share(
                delivery.spec.display, record.rows, rejected.height, rejected["reason"], limits
            )
            loaded.files.append(record.file(delivery, digest.result()))
    for name, frames in parts.items():
        if frames:
            loaded.accepted[name] = concat(frames)
    return loaded


@dataclass
class _FileTally:
    """What the pieces of one file add up to, for its manifest record and warnings."""

    rows: int = 0
    control: int = 0
    totals: list[ControlTotal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The pieces' rejected rows (kept by ``Loaded.rejected`` too): their share is the file's.
    rejected: list[pl.DataFrame] = field(default_factory=list)

    def add(self, read: FileRead) -> None:
        self.rows += read.rows
        self.control += read.control
        self.totals += read.totals
        self.warnings += read.warnings
        self.rejected.append(read.rejected)

    def file(self, delivery: Delivery, sha256: str) -> FileRecord:
        return FileRecord(
            source=delivery.spec.source,
            path=delivery.display,
            sha256=sha256,
            rows_read=self.rows + self.control,
            profile=delivery.profile,
            control=self.control,
            checks=tuple(asdict(total) for total in self.totals),
        )


def require_ledger(inbox: Path, run_date: dt.date, inputs: tuple[InputSpec, ...] = ()) -> None:
    """The ledger is the one required source: the run date's folder must deliver it."""
    folder = inbox / run_date.isoformat()
    if not folder.is_dir():
        raise InputError(f"{folder}: no inbox folder for business date {run_date}")
    found, _ = deliveries(folder, run_date, inputs)
    if not any(delivery.spec.source == "ledger" for delivery in found):
        for name in ("ledger.csv", "ledger.csv.gz", "ledger.parquet"):
            if (folder / name).is_dir():
                raise InputError(f"{folder / name}: a folder, not a file; expected the ledger")
        raise InputError(
            f"{folder}: the required source 'ledger' is missing "
            "(ledger.csv, ledger.csv.gz, ledger.parquet, or a file an [[inputs]] table names)"
        )


def _utc(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone("UTC")


def _local_date(column: pl.Expr, timezone: str) -> pl.Expr:
    return column.dt.convert_time_zone(timezone).dt.date()


def _working_columns(source: str, timezone: str) -> list[pl.Expr]:
    """The columns the kernel's working form adds to a source's canonical rows."""
    if source == "ledger":
        return [
            pl.col("amount").alias("amount_minor"),
            _utc("created_at"),
            _utc("posted_at"),
            pl.col("gateway_ref").str.to_lowercase().alias("ref_norm"),
            _local_date(pl.col("created_at"), timezone).alias("item_date"),
            pl.col("entry_id").alias("row_id"),
        ]
    if source == "settlement":
        return [
            pl.col("gross_amount").alias("gross_minor"),
            pl.col("fee_amount").alias("fee_minor"),
            pl.col("net_amount").alias("net_minor"),
            _utc("settled_at"),
            pl.col("gateway_ref").str.to_lowercase().alias("ref_norm"),
            _local_date(pl.col("settled_at"), timezone).alias("item_date"),
            pl.col("settlement_id").alias("row_id"),
            pl.lit(False).alias("fee_checked"),
        ]
    if source == "receipts":
        return [
            pl.col("amount").alias("amount_minor"),
            _utc("received_at"),
            _local_date(pl.col("received_at"), timezone).alias("item_date"),
            pl.col("receipt_id").alias("row_id"),
        ]
    if source == "bank":
        return [
            pl.col("amount").alias("amount_minor"),
            pl.col("value_date").alias("item_date"),
            pl.col("bank_line_id").alias("row_id"),
        ]
    cut_off = pl.col("as_of") - pl.duration(microseconds=1)
    return [
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
    ]


def shape(source: str, accepted: pl.DataFrame, run_date: dt.date, timezone: str) -> pl.DataFrame:
    """Canonical accepted rows of a source in the kernel's working form."""
    origin = pl.concat_str(
        [pl.col("origin_file").cast(pl.String), pl.col("origin_row").cast(pl.String)],
        separator=":",
    )
    working = _working_columns(source, timezone)
    shaped = with_row_wise(accepted, [origin.alias("origin"), *working])
    shaped = shaped.with_columns(pl.lit(run_date).alias("first_run"))
    # The working form's column order: the canonical columns, origin, first_run, the rest.
    order = [*accepted.columns, "origin", "first_run"]
    return shaped.select(*order, *(name for name in shaped.columns if name not in order))


#: Registry rows worked out at a time from rows still to be read (about 200 bytes each).
REGISTRY_BATCH = 1 << 20


def registry_rows(source: str, shaped: pl.DataFrame | pl.LazyFrame) -> Iterator[pl.DataFrame]:
    """What later nights need to know of tonight's accepted rows: id, content, keys. Rows in
    memory give one frame; rows still to be read (spooled) a frame of ``REGISTRY_BATCH`` rows
    at a time, from one streaming pass, so that memory follows a batch."""
    if isinstance(shaped, pl.DataFrame):
        yield row_wise(_registry_plan(source, shaped.lazy()))
        return
    yield from _registry_plan(source, shaped).collect_batches(chunk_size=REGISTRY_BATCH)


def _registry_plan(source: str, shaped: pl.LazyFrame) -> pl.LazyFrame:
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
        (pl.col("status") if source == "ledger" else pl.lit(None, pl.String)).alias("status"),
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
        pl.col("first_run").alias("accepted_on"),
        "status",
        stable_hash(source),
    )
