"""The waiting rule, written once (CONTRACT section 2): an item whose counterpart has not come is
**pending** until its window ends, and a break from then on.

Each relation says which items owe a counterpart and which window they wait in; ``waiting`` and
``overdue`` are the two sides of one rule, so the kernel's pending rows and the classifiers' breaks
can never disagree on where a window ends.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl

from walletrecon.config import Windows
from walletrecon.match.common import window_passed
from walletrecon.schemas import SETTLED_ENTRY_TYPES

#: Who waits for what: a ledger entry for its settlement line or its receipt; a settlement line or
#: a receipt for its ledger entry.
Relation = Literal["ledger_settlement", "ledger_receipt", "settlement", "receipts"]


def expects_settlement() -> pl.Expr:
    """A ledger entry a gateway must settle: succeeded, of a settled type, sent out."""
    return (
        (pl.col("status") == "succeeded")
        & pl.col("entry_type").is_in(list(SETTLED_ENTRY_TYPES))
        & pl.col("gateway_ref").is_not_null()
    )


def expects_receipt() -> pl.Expr:
    """A ledger entry a merchant must receipt: a succeeded payment to a merchant."""
    return (
        (pl.col("status") == "succeeded")
        & (pl.col("entry_type") == "payment")
        & pl.col("merchant_id").is_not_null()
    )


def window_days(relation: Relation, windows: Windows) -> int:
    """The days an item of the relation may wait for its counterpart."""
    if relation in ("ledger_settlement", "settlement"):
        return windows.settlement_days
    return windows.receipt_days


def unmatched(relation: Relation) -> pl.Expr:
    """Items of the relation that owe a counterpart and have none yet."""
    if relation == "ledger_settlement":
        return expects_settlement() & pl.col("settlement_match").is_null()
    if relation == "ledger_receipt":
        return expects_receipt() & pl.col("receipt_match").is_null()
    return pl.col("ledger_match").is_null()


def waiting(relation: Relation, windows: Windows, run_date: dt.date) -> pl.Expr:
    """Unmatched items whose window has not ended: pending tonight."""
    passed = window_passed("item_date", window_days(relation, windows), run_date)
    return unmatched(relation) & ~passed


def overdue(relation: Relation, windows: Windows, run_date: dt.date) -> pl.Expr:
    """Unmatched items whose window has ended: breaks tonight."""
    passed = window_passed("item_date", window_days(relation, windows), run_date)
    return unmatched(relation) & passed
