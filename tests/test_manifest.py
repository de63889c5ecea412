"""The books of a night (``manifest``): counts and control totals per source and currency, from
the tally of the accepted rows and of the outcome rows; a night whose books do not balance, or
whose outcome rows are not its accepted rows, stops."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletrecon.errors import ReconciliationIntegrityError
from walletrecon.manifest import (
    SourceCounts,
    check_books,
    control_totals,
    source_counts,
    tally,
    unaccounted,
)
from walletrecon.sources.canonical import FileRecord

ROWS = pl.DataFrame(
    {
        "row_id": ["E1", "E2", "E3"],
        "currency": ["CNY", "CNY", "JPY"],
        "amount_minor": [100, -40, 7],
    }
)
ACCEPTED = tally(ROWS, "ledger")
AMOUNTS = dict(
    zip(ROWS["row_id"], zip(ROWS["currency"], ROWS["amount_minor"], strict=True), strict=True)
)


def outcomes(
    *pairs: tuple[str, str], amounts: dict[str, tuple[str, int]] = AMOUNTS
) -> pl.DataFrame:
    """The tally of outcome rows as the kernels give them: each row with its currency and
    control amount."""
    return tally(
        pl.DataFrame(
            {
                "source": ["ledger"] * len(pairs),
                "row_id": [row for row, _ in pairs],
                "outcome": [outcome for _, outcome in pairs],
                "currency": [amounts[row][0] for row, _ in pairs],
                "amount_minor": [amounts[row][1] for row, _ in pairs],
            },
            schema_overrides={"amount_minor": pl.Int64},
        )
    )


def test_totals_split_by_outcome_add_up_per_currency() -> None:
    found = outcomes(("E1", "matched"), ("E2", "pending"), ("E3", "discrepancy"))
    totals = control_totals(ACCEPTED, found)
    assert totals["ledger"]["CNY"]["by_outcome_minor"] == {"matched": 100, "pending": -40}
    assert totals["ledger"]["CNY"]["accepted"] == "0.60"
    assert totals["ledger"]["JPY"]["by_outcome_minor"] == {"discrepancy": 7}
    assert unaccounted(ACCEPTED, found) == []
    check_books({}, totals, unaccounted(ACCEPTED, found))


def test_totals_by_outcome_list_the_outcomes_in_their_contract_order_whatever_the_rows() -> None:
    pairs = [("E1", "pending"), ("E2", "matched")]
    for ordered in (pairs, pairs[::-1]):
        totals = control_totals(ACCEPTED, outcomes(*ordered, ("E3", "matched")))
        assert list(totals["ledger"]["CNY"]["by_outcome_minor"]) == ["matched", "pending"]


def test_a_row_without_an_outcome_unbalances_the_books() -> None:
    found = outcomes(("E1", "matched"), ("E3", "matched"))
    totals = control_totals(ACCEPTED, found)
    assert totals["ledger"]["CNY"]["balanced"] is False
    assert unaccounted(ACCEPTED, found) == ["ledger"]
    with pytest.raises(ReconciliationIntegrityError, match="ledger CNY"):
        check_books({}, totals)


def test_a_row_counted_twice_unbalances_the_books() -> None:
    found = outcomes(("E1", "matched"), ("E1", "pending"), ("E2", "matched"), ("E3", "matched"))
    assert control_totals(ACCEPTED, found)["ledger"]["CNY"]["balanced"] is False
    assert unaccounted(ACCEPTED, found) == ["ledger"]


def test_outcome_rows_that_are_not_the_accepted_rows_stop_the_night() -> None:
    """Counts and amounts can agree while the ids do not: another row with E2's amount."""
    other = {**AMOUNTS, "X9": AMOUNTS["E2"]}
    found = outcomes(("E1", "matched"), ("X9", "matched"), ("E3", "matched"), amounts=other)
    totals = control_totals(ACCEPTED, found)
    assert all(entry["balanced"] for entry in totals["ledger"].values())
    assert unaccounted(ACCEPTED, found) == ["ledger"]
    with pytest.raises(ReconciliationIntegrityError, match="not the rows accepted"):
        check_books({}, totals, unaccounted(ACCEPTED, found))


def test_row_counts_that_do_not_add_up_stop_the_night() -> None:
    counts = {
        "ledger": SourceCounts(
            read=5, rejected=1, redelivered=0, matched=2, discrepancy=0, pending=1
        )
    }
    with pytest.raises(ReconciliationIntegrityError, match="do not add up"):
        check_books(counts, {})


def test_counts_per_outcome_come_from_the_tally() -> None:
    files = [FileRecord(path="d/ledger.csv", source="ledger", sha256="x", rows_read=4)]
    found = outcomes(("E1", "matched"), ("E2", "pending"), ("E3", "matched"))
    rejected = pl.DataFrame({"source": ["ledger"]})
    counts = source_counts(files, rejected, {}, found)["ledger"]
    assert (counts.matched, counts.pending, counts.discrepancy, counts.rejected) == (2, 1, 0, 1)
    assert counts.balanced


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["CNY", "JPY"]), st.integers(-(10**6), 10**6)),
        min_size=1,
        max_size=12,
    ),
    st.data(),
)
def test_any_outcomes_of_exactly_the_accepted_rows_balance_and_any_lost_row_does_not(
    rows: list[tuple[str, int]], data: st.DataObject
) -> None:
    accepted = pl.DataFrame(
        {
            "row_id": [f"R{i}" for i in range(len(rows))],
            "currency": [currency for currency, _ in rows],
            "amount_minor": [amount for _, amount in rows],
        },
        schema_overrides={"amount_minor": pl.Int64},
    )
    judged = accepted.with_columns(
        pl.lit("ledger").alias("source"),
        pl.Series(
            "outcome",
            data.draw(
                st.lists(
                    st.sampled_from(["matched", "discrepancy", "pending"]),
                    min_size=len(rows),
                    max_size=len(rows),
                )
            ),
        ),
    ).sample(fraction=1.0, shuffle=True, seed=data.draw(st.integers(0, 99)))
    mine = tally(accepted, "ledger")
    assert unaccounted(mine, tally(judged)) == []
    assert all(e["balanced"] for e in control_totals(mine, tally(judged))["ledger"].values())
    lost = data.draw(st.integers(0, len(rows) - 1))
    assert unaccounted(mine, tally(judged.filter(pl.col("row_id") != f"R{lost}"))) == ["ledger"]
