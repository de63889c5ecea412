"""The state carried from night to night: open items, payouts, postings, snapshots, open breaks.

A ``NightState`` is a bundle of Polars frames, each with a fixed schema declared here. The kernel
takes yesterday's state and returns tonight's; ``store``-side code persists it as Parquet.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import cast, overload

import polars as pl
import pyarrow as pa

from walletrecon.causes import CAUSE_COLUMNS

UTC_TIME = pl.Datetime("us", "UTC")

LEDGER_WORK: dict[str, pl.DataType] = {
    "entry_id": pl.String(),
    "txn_id": pl.String(),
    "account_id": pl.String(),
    "entry_type": pl.String(),
    "amount_minor": pl.Int64(),
    "currency": pl.String(),
    "status": pl.String(),
    "created_at": UTC_TIME,
    "posted_at": UTC_TIME,
    "merchant_id": pl.String(),
    "gateway_ref": pl.String(),
    "ref_norm": pl.String(),
    "item_date": pl.Date(),
    "first_run": pl.Date(),
    "origin": pl.String(),
    "settlement_match": pl.String(),
    "receipt_match": pl.String(),
}
SETTLEMENT_WORK: dict[str, pl.DataType] = {
    "settlement_id": pl.String(),
    "gateway": pl.String(),
    "gateway_ref": pl.String(),
    "ref_norm": pl.String(),
    "merchant_ref": pl.String(),
    "record_type": pl.String(),
    "gross_minor": pl.Int64(),
    "fee_minor": pl.Int64(),
    "net_minor": pl.Int64(),
    "currency": pl.String(),
    "settled_at": UTC_TIME,
    "payout_id": pl.String(),
    "net_currency": pl.String(),
    "exchange_rate": pl.String(),
    "item_date": pl.Date(),
    "first_run": pl.Date(),
    "origin": pl.String(),
    "ledger_match": pl.String(),
    "match_txn_id": pl.String(),
    "fee_checked": pl.Boolean(),
}
RECEIPT_WORK: dict[str, pl.DataType] = {
    "receipt_id": pl.String(),
    "merchant_id": pl.String(),
    "txn_id": pl.String(),
    "amount_minor": pl.Int64(),
    "currency": pl.String(),
    "received_at": UTC_TIME,
    "item_date": pl.Date(),
    "first_run": pl.Date(),
    "origin": pl.String(),
    "ledger_match": pl.String(),
}
BANK_WORK: dict[str, pl.DataType] = {
    "bank_line_id": pl.String(),
    "amount_minor": pl.Int64(),
    "currency": pl.String(),
    "reference": pl.String(),
    "item_date": pl.Date(),
    "first_run": pl.Date(),
    "origin": pl.String(),
}
PAYOUTS: dict[str, pl.DataType] = {
    "payout_key": pl.String(),
    "payout_id": pl.String(),
    "currency": pl.String(),
    "mixed_currency": pl.Boolean(),
    "net_minor": pl.Int64(),
    "lines": pl.Int64(),
    "payout_date": pl.Date(),
    #: The nets of the payout's lines, refunds apart: a bank credit short of one of them names
    #: that line as the likely cause (``causes``).
    "line_nets": pl.List(pl.Int64()),
    "refund_nets": pl.List(pl.Int64()),
    "bank_minor": pl.Int64(),
    "bank_lines": pl.Int64(),
    "bank_line_id": pl.String(),
    "bank_currency": pl.String(),
    "bank_origin": pl.String(),
}
POSTINGS: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "currency": pl.String(),
    "day": pl.Date(),
    "total_minor": pl.Int64(),
}
SNAPSHOTS: dict[str, pl.DataType] = {
    "row_id": pl.String(),
    "account_id": pl.String(),
    "currency": pl.String(),
    "as_of": UTC_TIME,
    "item_date": pl.Date(),
    "balance_minor": pl.Int64(),
    "first_run": pl.Date(),
    "origin": pl.String(),
}
#: Entries posted shortly after their account's latest cut-off, kept one night: the next night's
#: snapshot may differ by one of them, counted early by the snapshot before
#: (``match.balance_causes``).
CUTOFF_ENTRIES: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "currency": pl.String(),
    "entry_id": pl.String(),
    "amount_minor": pl.Int64(),
    "posted_at": UTC_TIME,
    "origin": pl.String(),
}
#: The internal form of a discrepancy, before identity, severity and lifecycle are added.
FINDING: dict[str, pl.DataType] = {
    "type": pl.String(),
    "key": pl.String(),
    "account_id": pl.String(),
    "txn_id": pl.String(),
    "gateway_ref": pl.String(),
    "merchant_id": pl.String(),
    "payout_id": pl.String(),
    "bank_line_id": pl.String(),
    "currency": pl.String(),
    "expected_minor": pl.Int64(),
    "actual_minor": pl.Int64(),
    "explanation": pl.String(),
    "evidence": pl.String(),
    "involved": pl.List(pl.String()),
    **CAUSE_COLUMNS,
}
OPEN_DISCREPANCIES: dict[str, pl.DataType] = {
    "discrepancy_id": pl.String(),
    **FINDING,
    "first_seen": pl.Date(),
    "times_reopened": pl.Int32(),
    #: Who a person assigned the break to (``decide assign``).
    "assignee": pl.String(),
}
#: Breaks a person's decision closed (``decisions``): the break as it was, and how it ended.
DECIDED_DISCREPANCIES: dict[str, pl.DataType] = {
    **OPEN_DISCREPANCIES,
    "resolution": pl.String(),
    "decision_id": pl.String(),
    "decided_on": pl.Date(),
    #: ``accept --until``: the break opens again on the first night after this date.
    "until": pl.Date(),
}
#: Decisions a night has applied, so that no later night applies one again.
APPLIED_DECISIONS: dict[str, pl.DataType] = {
    "decision_id": pl.String(),
    "action": pl.String(),
    "applied_on": pl.Date(),
    #: ``applied``, or ``void`` when its breaks were no longer open (said in ``note``).
    "outcome": pl.String(),
    "note": pl.String(),
}
#: Breaks that were resolved, so that one coming back is known as re-opened.
RESOLVED_DISCREPANCIES: dict[str, pl.DataType] = {
    "discrepancy_id": pl.String(),
    "resolved_on": pl.Date(),
    "times_resolved": pl.Int32(),
}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with a schema."""
    return pl.DataFrame(schema=schema)


@overload
def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame: ...
@overload
def conform(frame: pl.LazyFrame, schema: dict[str, pl.DataType]) -> pl.LazyFrame: ...
@overload
def conform(
    frame: pl.DataFrame | pl.LazyFrame, schema: dict[str, pl.DataType]
) -> pl.DataFrame | pl.LazyFrame: ...
def conform(
    frame: pl.DataFrame | pl.LazyFrame, schema: dict[str, pl.DataType]
) -> pl.DataFrame | pl.LazyFrame:
    """Select and cast a frame to a schema; missing columns become nulls."""
    names = frame.collect_schema().names()
    if not names:
        return empty(schema) if isinstance(frame, pl.DataFrame) else empty(schema).lazy()
    return frame.select(
        [
            (pl.col(name) if name in names else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in schema.items()
        ]
    )


#: Bytes of one string value's view: short values live in it, longer ones point into a buffer.
VIEW_BYTES = 16
#: A column is copied when its buffers hold more than this many times the bytes it needs.
WASTE_FACTOR = 2
#: ... and the excess is at least this many bytes (a copy of a tiny column saves nothing).
WASTE_FLOOR = 1 << 20


def _held(column: pl.Series) -> int:
    """Bytes of the Arrow buffers a column references (without copying it)."""
    exported = column.to_arrow(compat_level=pl.CompatLevel.newest())
    chunks = exported.chunks if isinstance(exported, pa.ChunkedArray) else [exported]
    return sum(buffer.size for chunk in chunks for buffer in chunk.buffers() if buffer is not None)


def _needed(column: pl.Series) -> int:
    """Bytes a compact copy of a column takes, about: its values plus one view per string."""
    strings = column.len()
    if isinstance(column.dtype, pl.List):
        strings = int(column.list.len().sum() or 0)
    return int(column.estimated_size()) + VIEW_BYTES * strings


def _wasteful(column: pl.Series) -> bool:
    if not (column.dtype == pl.String or isinstance(column.dtype, pl.List)):
        return False
    held, needed = _held(column), _needed(column)
    return held > WASTE_FACTOR * needed and held - needed > WASTE_FLOOR


def compact(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its text columns copied where they keep far more memory alive than they use.

    Polars keeps text as views into shared buffers: a filter or a gather keeps the whole buffers
    of its source alive, however few rows it keeps. Frames that outlive their source (findings,
    the state carried to the next night) would hold a night's text in memory for a handful of
    rows. A copy through Arrow's plain string layout writes the values anew, compactly."""
    wasteful = [column.name for column in frame.get_columns() if _wasteful(column)]
    if not wasteful:
        return frame
    copied = cast(pl.DataFrame, pl.from_arrow(frame.select(wasteful).to_arrow()))
    return frame.with_columns(copied.get_columns())


def fresh(frame: pl.DataFrame) -> pl.DataFrame:
    """A small frame's rows copied into new memory, one buffer a column.

    A kernel's findings are a few rows built in many pieces (a chunk per step that found them),
    allocated among a shard's working buffers; kept shard after shard, those pieces kept the
    memory of the shards around them from going back (measured on 30M rows: about 0.5GB a
    shard of settlement, 12 shards; ``compact`` finds no wasteful column there)."""
    return cast(pl.DataFrame, pl.from_arrow(frame.to_arrow(), schema=frame.schema)).rechunk()


#: The frames of the state that the kernels pass on untouched: the breaks' lifecycle and the
#: decisions applied, which the lifecycle stage works on after the kernels.
LIFECYCLE_FRAMES = (
    "open_discrepancies",
    "resolved_discrepancies",
    "decided_discrepancies",
    "applied_decisions",
)


@dataclass(frozen=True)
class NightState:
    """Everything one night hands to the next."""

    #: The entries carried to the next night; on a large night a scan of the spool, written to
    #: the state folder by streaming (a first night of 30M ledger rows carried 5.3M).
    ledger: pl.DataFrame | pl.LazyFrame
    settlement: pl.DataFrame
    receipts: pl.DataFrame
    bank: pl.DataFrame
    payouts: pl.DataFrame
    postings: pl.DataFrame
    snapshots: pl.DataFrame
    open_discrepancies: pl.DataFrame
    resolved_discrepancies: pl.DataFrame
    cutoff_entries: pl.DataFrame = field(default_factory=lambda: empty(CUTOFF_ENTRIES))
    decided_discrepancies: pl.DataFrame = field(
        default_factory=lambda: empty(DECIDED_DISCREPANCIES)
    )
    applied_decisions: pl.DataFrame = field(default_factory=lambda: empty(APPLIED_DECISIONS))

    @staticmethod
    def schemas() -> dict[str, dict[str, pl.DataType]]:
        """The schema of every frame, by field name."""
        return {
            "ledger": LEDGER_WORK,
            "settlement": SETTLEMENT_WORK,
            "receipts": RECEIPT_WORK,
            "bank": BANK_WORK,
            "payouts": PAYOUTS,
            "postings": POSTINGS,
            "snapshots": SNAPSHOTS,
            "cutoff_entries": CUTOFF_ENTRIES,
            "open_discrepancies": OPEN_DISCREPANCIES,
            "resolved_discrepancies": RESOLVED_DISCREPANCIES,
            "decided_discrepancies": DECIDED_DISCREPANCIES,
            "applied_decisions": APPLIED_DECISIONS,
        }

    @classmethod
    def initial(cls) -> NightState:
        """The state before the first night: nothing open, nothing posted."""
        return cls(**{name: empty(schema) for name, schema in cls.schemas().items()})

    @classmethod
    def from_frames(cls, frames: dict[str, pl.DataFrame]) -> NightState:
        """Build a state from frames, conforming each to its schema (absent frames: empty)."""
        schemas = cls.schemas()
        return cls(
            **{
                name: conform(frames[name], schema) if name in frames else empty(schema)
                for name, schema in schemas.items()
            }
        )

    def frames(self) -> dict[str, pl.DataFrame | pl.LazyFrame]:
        """The frames by field name."""
        return {item.name: getattr(self, item.name) for item in fields(self)}

    def in_memory(self) -> dict[str, pl.DataFrame]:
        """The frames by field name, a spooled one read (a state read from disk has none)."""
        return {
            name: frame if isinstance(frame, pl.DataFrame) else frame.collect()
            for name, frame in self.frames().items()
        }
