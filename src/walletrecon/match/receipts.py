"""Ledger payments against merchant receipts, by txn_id, each consumed by one match at most."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from walletrecon.match.common import (
    pair_one_to_one,
    record_matches,
    with_rows,
)

LEDGER_ORDER = ["first_run", "created_at", "entry_id"]
RECEIPT_ORDER = ["first_run", "received_at", "receipt_id"]


@dataclass(frozen=True)
class ReceiptMatch:
    """The working sets after tonight's matching, and the pairs formed tonight (positions of
    their rows in the two working sets)."""

    ledger: pl.DataFrame
    receipts: pl.DataFrame
    pairs: pl.DataFrame


def match_receipts(ledger: pl.DataFrame, receipts: pl.DataFrame) -> ReceiptMatch:
    """Match open receipts to open payment entries of the same txn_id."""
    open_payments = (
        with_rows(ledger, "ledger_row")
        .filter((pl.col("entry_type") == "payment") & pl.col("receipt_match").is_null())
        .select("ledger_row", "entry_id", "txn_id", *LEDGER_ORDER[:2])
        .collect(engine="in-memory")
    )
    open_receipts = (
        with_rows(receipts, "receipt_row")
        .filter(pl.col("ledger_match").is_null())
        .select("receipt_row", "receipt_id", "txn_id", *RECEIPT_ORDER[:2])
        .collect(engine="in-memory")
    )
    pairs = pair_one_to_one(
        open_payments, open_receipts, ["txn_id"], ["txn_id"], LEDGER_ORDER, RECEIPT_ORDER
    ).select("ledger_row", "receipt_row", "entry_id", "receipt_id")
    ledger = record_matches(ledger, pairs["ledger_row"], receipt_match=pairs["receipt_id"])
    receipts = record_matches(receipts, pairs["receipt_row"], ledger_match=pairs["entry_id"])
    return ReceiptMatch(
        ledger=ledger, receipts=receipts, pairs=pairs.select("ledger_row", "receipt_row")
    )
