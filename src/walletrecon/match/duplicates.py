"""Duplicates: a second distinct row for one business key (not a re-delivery of the same row).

- settlement: two distinct lines for one gateway_ref (normalised) and record type;
- receipts: two distinct receipts for one txn_id;
- ledger: two distinct payment entries for one txn_id.

The first row of a key stands (an earlier night's row, else the earliest by timestamp, then id);
every later one is a duplicate. Keys already seen on earlier nights come in as ``known`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from walletrecon.match.common import repeated_hashes, row_wise
from walletrecon.state import FINDING, conform

#: Per source: (id column, timestamp column, duplicate-key expression, readable key column).
DUPLICATE_KEYS: dict[str, tuple[str, str, pl.Expr]] = {
    "settlement": (
        "settlement_id",
        "settled_at",
        pl.concat_str([pl.col("ref_norm"), pl.col("record_type")], separator="|"),
    ),
    "receipts": ("receipt_id", "received_at", pl.col("txn_id")),
    "ledger": (
        "entry_id",
        "created_at",
        pl.when(pl.col("entry_type") == "payment").then(pl.col("txn_id")).otherwise(None),
    ),
}


#: Per source: (key column, amount column, explanation, the columns the explanation names
#: between the duplicate's id and the original's id).
DUPLICATE_TEXT: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "settlement": (
        "gateway_ref",
        "gross_minor",
        "Settlement line {} repeats gateway reference {} ({}) already settled by line {}.",
        ("gateway_ref", "record_type"),
    ),
    "receipts": (
        "txn_id",
        "amount_minor",
        "Receipt {} from merchant {} is a second receipt of transaction {} (first: {}).",
        ("merchant_id", "txn_id"),
    ),
    "ledger": (
        "txn_id",
        "amount_minor",
        "Ledger entry {} is a second payment entry of transaction {} (first: {}).",
        ("txn_id",),
    ),
}


@dataclass(frozen=True)
class DuplicateSplit:
    """Rows of one source split into firsts (kept for matching) and duplicates (breaks)."""

    firsts: pl.DataFrame
    duplicates: pl.DataFrame


def duplicate_key(source: str) -> pl.Expr:
    """The duplicate key expression of a source (null where the rule does not apply)."""
    return DUPLICATE_KEYS[source][2]


#: The working column holding a row's position among tonight's rows of its source.
DUP_ROW = "dup_row"


def split_duplicates(
    source: str,
    rows: pl.DataFrame,
    known: pl.DataFrame,
    keep: pl.Expr | None = None,
) -> DuplicateSplit:
    """Split tonight's new rows of a source into firsts and duplicates.

    ``known`` holds (dup_key, row_id) of rows accepted on earlier nights. ``keep`` narrows the
    firsts further (rows the caller needs), in the same pass: the firsts are the one copy made.

    Fast path: a 64-bit hash of each row's key picks the rows whose key may be shared tonight or
    known; only those are ranked, by their key's text: a collision ranks a row that is no
    duplicate, never misses one.
    """
    id_column, time_column, key_expr = DUPLICATE_KEYS[source]
    lazy = rows.lazy().with_row_index(DUP_ROW)
    hashes = row_wise(lazy.select(key_expr.hash().alias("hash"), key_expr.is_null().alias("none")))
    known_hashes = known.select(pl.col("dup_key").hash()).to_series()
    shared = ~hashes.get_column("none") & (
        repeated_hashes(hashes.get_column("hash"))
        | hashes.get_column("hash").is_in(known_hashes.implode())
    )
    positions = shared.arg_true().cast(pl.get_index_type())
    del hashes, shared
    keyed = row_wise(
        lazy.filter(pl.col(DUP_ROW).is_in(positions.implode())).with_columns(
            key_expr.alias("dup_key")
        )
    )
    earlier = known.group_by("dup_key").agg(pl.col("row_id").min().alias("earlier_id"))
    ranked = (
        keyed.sort([time_column, id_column])
        .with_columns(
            pl.int_range(pl.len()).over("dup_key").alias("dup_rank"),
            pl.col(id_column).first().over("dup_key").alias("first_id"),
        )
        .join(earlier, on="dup_key", how="left")
        .with_columns(pl.coalesce("earlier_id", "first_id").alias("original_id"))
    )
    duplicates = ranked.filter(pl.col("earlier_id").is_not_null() | (pl.col("dup_rank") > 0))
    is_first = ~pl.col(DUP_ROW).is_in(duplicates.get_column(DUP_ROW).implode())
    firsts = lazy.filter(is_first if keep is None else is_first & keep).drop(DUP_ROW)
    return DuplicateSplit(
        firsts=firsts.collect(),
        duplicates=duplicates.drop(DUP_ROW, "dup_rank", "first_id", "earlier_id"),
    )


def duplicate_findings(source: str, duplicates: pl.DataFrame) -> pl.DataFrame:
    """One finding per duplicate row."""
    if duplicates.is_empty():
        return conform(pl.DataFrame(), FINDING).clear()
    id_column = DUPLICATE_KEYS[source][0]
    key, amount, template, fields = DUPLICATE_TEXT[source]
    frame = duplicates.with_columns(
        pl.col(key).alias("key"),
        pl.col(amount).alias("actual_minor"),
        pl.format(template, id_column, *fields, "original_id").alias("explanation"),
    )
    if source == "settlement":
        frame = frame.with_columns(pl.col("merchant_ref").alias("txn_id"))
    frame = frame.with_columns(
        pl.lit("duplicate").alias("type"),
        pl.col("origin").alias("evidence"),
        pl.concat_list(pl.concat_str([pl.lit(source + ":"), pl.col(id_column)])).alias("involved"),
    )
    return conform(frame, FINDING)
