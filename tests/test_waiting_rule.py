"""The waiting rule, on inline frames: an unmatched item is pending until its window ends and
overdue from the day it ends, never both, never neither."""

from __future__ import annotations

import datetime as dt
from typing import get_args

import polars as pl
import pytest

from walletrecon.config import Windows
from walletrecon.match.waiting import Relation, overdue, waiting

RUN = dt.date(2026, 11, 20)
WINDOWS = Windows(settlement_days=2, receipt_days=1)


def items(days_before: list[int], matched: bool = False) -> pl.DataFrame:
    """Succeeded payments sent to a gateway and a merchant, dated ``days_before`` the run."""
    count = len(days_before)
    match = pl.lit("X" if matched else None, pl.String)
    return pl.DataFrame(
        {
            "item_date": [RUN - dt.timedelta(days=days) for days in days_before],
            "status": ["succeeded"] * count,
            "entry_type": ["payment"] * count,
            "gateway_ref": ["GW"] * count,
            "merchant_id": ["M"] * count,
        }
    ).with_columns(
        match.alias("settlement_match"),
        match.alias("receipt_match"),
        match.alias("ledger_match"),
    )


@pytest.mark.parametrize(
    ("relation", "window"),
    [("ledger_settlement", 2), ("settlement", 2), ("ledger_receipt", 1), ("receipts", 1)],
)
def test_an_unmatched_item_waits_until_its_window_ends_then_is_overdue(
    relation: Relation, window: int
) -> None:
    frame = items([0, window - 1, window, window + 3]).select(
        waiting(relation, WINDOWS, RUN).alias("waiting"),
        overdue(relation, WINDOWS, RUN).alias("overdue"),
    )
    assert frame["waiting"].to_list() == [True, True, False, False]
    assert frame["overdue"].to_list() == [False, False, True, True]


@pytest.mark.parametrize("relation", get_args(Relation))
def test_a_matched_item_neither_waits_nor_is_overdue(relation: Relation) -> None:
    frame = items([0, 5], matched=True).select(
        waiting(relation, WINDOWS, RUN).alias("waiting"),
        overdue(relation, WINDOWS, RUN).alias("overdue"),
    )
    assert not frame["waiting"].any() and not frame["overdue"].any()


def test_entries_that_owe_nothing_neither_wait_nor_are_overdue() -> None:
    owed_nothing = items([0, 5]).with_columns(
        pl.Series("status", ["failed", "pending"]),
    )
    relations: tuple[Relation, ...] = ("ledger_settlement", "ledger_receipt")
    for relation in relations:
        flags = owed_nothing.select(
            waiting(relation, WINDOWS, RUN) | overdue(relation, WINDOWS, RUN)
        )
        assert not flags.to_series().any()
    unsent = items([5]).with_columns(pl.lit(None, pl.String).alias("gateway_ref"))
    assert not unsent.select(overdue("ledger_settlement", WINDOWS, RUN)).item()
    assert unsent.select(overdue("ledger_receipt", WINDOWS, RUN)).item()
