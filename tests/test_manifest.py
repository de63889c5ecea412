"""The books of a night: row counts and control totals must add up, or nothing is published."""

from __future__ import annotations

import polars as pl
import pytest

from walletrecon.errors import ReconciliationIntegrityError
from walletrecon.manifest import SourceCounts, by_source, check_books, control_totals

ROWS = {
    "ledger": pl.DataFrame(
        {
            "row_id": ["E1", "E2", "E3"],
            "currency": ["CNY", "CNY", "JPY"],
            "amount_minor": [100, -40, 7],
        }
    )
}


def outcomes(*pairs: tuple[str, str]) -> dict[str, pl.DataFrame]:
    return by_source(
        pl.DataFrame(
            {
                "source": ["ledger"] * len(pairs),
                "row_id": [row for row, _ in pairs],
                "outcome": [outcome for _, outcome in pairs],
            }
        )
    )


def test_totals_split_by_outcome_add_up_per_currency() -> None:
    totals = control_totals(
        ROWS, outcomes(("E1", "matched"), ("E2", "pending"), ("E3", "discrepancy"))
    )
    assert totals["ledger"]["CNY"]["by_outcome_minor"] == {"matched": 100, "pending": -40}
    assert totals["ledger"]["CNY"]["accepted"] == "0.60"
    assert totals["ledger"]["JPY"]["by_outcome_minor"] == {"discrepancy": 7}
    check_books({}, totals)


def test_totals_by_outcome_list_the_outcomes_in_their_contract_order_whatever_the_rows() -> None:
    pairs = [("E1", "pending"), ("E2", "matched")]
    for ordered in (pairs, pairs[::-1]):
        totals = control_totals(ROWS, outcomes(*ordered, ("E3", "matched")))
        assert list(totals["ledger"]["CNY"]["by_outcome_minor"]) == ["matched", "pending"]


def test_a_row_without_an_outcome_unbalances_the_books() -> None:
    totals = control_totals(ROWS, outcomes(("E1", "matched"), ("E3", "matched")))
    assert totals["ledger"]["CNY"]["balanced"] is False
    with pytest.raises(ReconciliationIntegrityError, match="ledger CNY"):
        check_books({}, totals)


def test_a_row_counted_twice_unbalances_the_books() -> None:
    totals = control_totals(
        ROWS, outcomes(("E1", "matched"), ("E1", "pending"), ("E2", "matched"), ("E3", "matched"))
    )
    assert totals["ledger"]["CNY"]["balanced"] is False


def test_row_counts_that_do_not_add_up_stop_the_night() -> None:
    counts = {
        "ledger": SourceCounts(
            read=5, rejected=1, redelivered=0, matched=2, discrepancy=0, pending=1
        )
    }
    with pytest.raises(ReconciliationIntegrityError, match="do not add up"):
        check_books(counts, {})


def test_outcomes_by_source_whether_or_not_sources_come_in_blocks() -> None:
    blocks = pl.DataFrame(
        {"source": ["ledger", "ledger", "bank"], "row_id": ["E1", "E2", "B1"], "outcome": ["m"] * 3}
    )
    mixed = blocks.select(pl.all().gather([0, 2, 1]))
    for frame in (blocks, mixed):
        split = by_source(frame)
        assert sorted(split) == ["bank", "ledger"]
        assert sorted(split["ledger"]["row_id"]) == ["E1", "E2"]
        assert split["bank"]["row_id"].to_list() == ["B1"]
