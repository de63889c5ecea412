"""Ledger entries against gateway and bank settlement lines.

A line matches a ledger entry of the same type by normalised gateway_ref, and failing that by
merchant_ref = txn_id. Each entry and each line is consumed by one match at most. A chargeback
consumes nothing: it only needs its payment to be known (in the working set or in history).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from walletrecon.match.common import (
    pair_one_to_one,
    record_matches,
    with_rows,
)
from walletrecon.schemas import SETTLED_ENTRY_TYPES

LEDGER_ORDER = ["first_run", "created_at", "entry_id"]
LINE_ORDER = ["first_run", "settled_at", "settlement_id"]
#: Entry types a gateway settles (``schemas.SETTLED_ENTRY_TYPES``), as a list for ``is_in``.
SETTLED_TYPES = list(SETTLED_ENTRY_TYPES)


@dataclass(frozen=True)
class SettlementMatch:
    """The working sets after tonight's matching, and the pairs formed tonight (positions of
    their rows in the two working sets)."""

    ledger: pl.DataFrame
    settlement: pl.DataFrame
    pairs: pl.DataFrame


def _pairs(entries: pl.DataFrame, candidates: pl.DataFrame) -> pl.DataFrame:
    """(ledger_row, line_row, entry_id, settlement_id, txn_id) pairs: by reference first, then
    by merchant_ref."""
    columns = ["ledger_row", "line_row", "entry_id", "settlement_id", "txn_id"]
    by_reference = pair_one_to_one(
        entries.filter(pl.col("ref_norm").is_not_null()),
        candidates.filter(pl.col("ref_norm").is_not_null()),
        ["ref_norm", "entry_type"],
        ["ref_norm", "record_type"],
        LEDGER_ORDER,
        LINE_ORDER,
    ).select(columns)
    rest_entries = entries.filter(~pl.col("ledger_row").is_in(by_reference["ledger_row"].implode()))
    rest_lines = candidates.filter(
        ~pl.col("line_row").is_in(by_reference["line_row"].implode())
        & pl.col("merchant_ref").is_not_null()
    )
    by_merchant_ref = pair_one_to_one(
        rest_entries,
        rest_lines,
        ["txn_id", "entry_type"],
        ["merchant_ref", "record_type"],
        LEDGER_ORDER,
        LINE_ORDER,
    ).select(columns)
    return pl.concat([by_reference, by_merchant_ref])


def _chargeback_targets(
    chargebacks: pl.DataFrame, ledger: pl.DataFrame, history: pl.DataFrame
) -> pl.DataFrame:
    """(line_row, entry_id, txn_id) of chargebacks whose payment is known."""
    if chargebacks.is_empty():
        return pl.DataFrame(
            schema={"line_row": pl.UInt32, "entry_id": pl.String, "txn_id": pl.String}
        )
    known = pl.concat(
        [
            ledger.lazy()
            .filter(pl.col("entry_type") == "payment")
            .select("entry_id", "txn_id", "ref_norm")
            .collect(engine="in-memory"),
            history.select("entry_id", "txn_id", "ref_norm"),
        ]
    ).unique(subset=["entry_id"], keep="first")
    by_reference = chargebacks.join(known, on="ref_norm", how="inner").select(
        "line_row", "entry_id", "txn_id", pl.lit(0).alias("rule")
    )
    rest = chargebacks.join(by_reference, on="line_row", how="anti")
    by_merchant_ref = rest.join(
        known.drop("ref_norm"), left_on="merchant_ref", right_on="txn_id", how="inner"
    ).select(
        "line_row", "entry_id", pl.col("merchant_ref").alias("txn_id"), pl.lit(1).alias("rule")
    )
    # A chargeback naming several known payments takes the one found by reference first, then
    # the smallest entry id: the same one whatever order the joins return them in.
    return (
        pl.concat([by_reference, by_merchant_ref])
        .sort("line_row", "rule", "entry_id")
        .unique(subset=["line_row"], keep="first", maintain_order=True)
        .drop("rule")
    )


def match_settlement(
    ledger: pl.DataFrame, settlement: pl.DataFrame, history: pl.DataFrame
) -> SettlementMatch:
    """Match open settlement lines to open ledger entries; record the matches on both sides.

    ``history`` holds (entry_id, txn_id, ref_norm) of payment entries of earlier nights, for
    chargebacks of payments that have left the working set.
    """
    # Lazy, so that only the key columns of the open rows are copied; rows keep their position.
    open_entries = (
        with_rows(ledger, "ledger_row")
        .filter(pl.col("settlement_match").is_null() & pl.col("entry_type").is_in(SETTLED_TYPES))
        .select("ledger_row", "entry_id", "txn_id", "ref_norm", "entry_type", *LEDGER_ORDER[:2])
        .collect(engine="in-memory")
    )
    open_lines = (
        with_rows(settlement, "line_row")
        .filter(pl.col("ledger_match").is_null())
        .select(
            "line_row",
            "settlement_id",
            "ref_norm",
            "merchant_ref",
            "record_type",
            *LINE_ORDER[:2],
        )
        .collect(engine="in-memory")
    )
    chargeback = pl.col("record_type") == "chargeback"
    pairs = _pairs(open_entries, open_lines.filter(~chargeback))
    chargebacks = _chargeback_targets(open_lines.filter(chargeback), ledger, history)
    line_matches = pl.concat([pairs.select(chargebacks.columns), chargebacks])
    ledger = record_matches(ledger, pairs["ledger_row"], settlement_match=pairs["settlement_id"])
    settlement = record_matches(
        settlement,
        line_matches["line_row"],
        ledger_match=line_matches["entry_id"],
        match_txn_id=line_matches["txn_id"],
    )
    return SettlementMatch(
        ledger=ledger, settlement=settlement, pairs=pairs.select("ledger_row", "line_row")
    )
