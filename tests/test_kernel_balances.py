"""The balances kernel on its own, on inline frames: no files, no CLI."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from walletrecon.kernels.balances import BalanceParams, BalanceState, BalanceTonight, run
from walletrecon.match.balances import (
    SNAPSHOT_ORDER,
    add_postings,
    check_balances,
    posting_totals,
)
from walletrecon.state import POSTINGS, SNAPSHOTS, conform, empty

RUN = dt.date(2026, 11, 20)
ZONE = "Asia/Shanghai"
PARAMS = BalanceParams(pl.lit(0, pl.Int64))


def entries(*rows: tuple[str, int, str]) -> pl.DataFrame:
    """Succeeded ledger versions: (account, amount in minor units, local posting day)."""
    return pl.DataFrame(
        {
            "account_id": [account for account, _, _ in rows],
            "currency": ["CNY"] * len(rows),
            "status": ["succeeded"] * len(rows),
            "amount_minor": [amount for _, amount, _ in rows],
            "posted_at": [dt.datetime.fromisoformat(f"{day}T12:00:00+08:00") for *_, day in rows],
            "created_at": [dt.datetime.fromisoformat(f"{day}T11:00:00+08:00") for *_, day in rows],
        },
        schema_overrides={
            "posted_at": pl.Datetime("us", "UTC"),
            "created_at": pl.Datetime("us", "UTC"),
        },
    )


def posted(*rows: tuple[str, int, str]) -> pl.DataFrame:
    """What such versions add up to per account and day, as the kernel takes them."""
    return posting_totals(entries(*rows), ZONE)


def snapshots(*rows: tuple[str, str, str, int]) -> pl.DataFrame:
    """Snapshots: (row id, account, local day, reported balance in minor units)."""
    frame = pl.DataFrame(
        {
            "row_id": [row_id for row_id, *_ in rows],
            "account_id": [account for _, account, *_ in rows],
            "currency": ["CNY"] * len(rows),
            "as_of": [dt.datetime.fromisoformat(f"{day}T23:59:59+08:00") for *_, day, _ in rows],
            "item_date": [dt.date.fromisoformat(day) for *_, day, _ in rows],
            "balance_minor": [balance for *_, balance in rows],
            "first_run": [RUN] * len(rows),
            "origin": [f"balances.csv:{index + 2}" for index in range(len(rows))],
        },
        schema_overrides={"as_of": pl.Datetime("us", "UTC")},
    )
    return conform(frame, SNAPSHOTS)


def test_a_balance_equal_to_the_postings_is_matched_and_carried() -> None:
    result = run(
        BalanceState(empty(POSTINGS), empty(SNAPSHOTS)),
        BalanceTonight(
            posted(("A1", 1000, "2026-11-20"), ("A1", -300, "2026-11-20")),
            snapshots(("S1", "A1", "2026-11-20", 700)),
        ),
        PARAMS,
        RUN,
    )
    assert result.findings.is_empty()
    assert result.outcomes.rows() == [("balances", "S1", "matched", "CNY", 700)]
    assert result.state["postings"].select("account_id", "total_minor").rows() == [("A1", 700)]
    assert result.state["snapshots"]["row_id"].to_list() == ["S1"]


def test_a_balance_off_the_postings_is_one_break_at_the_latest_snapshot() -> None:
    result = run(
        BalanceState(empty(POSTINGS), empty(SNAPSHOTS)),
        BalanceTonight(
            posted(("A1", 1000, "2026-11-19")),
            snapshots(("S1", "A1", "2026-11-19", 900), ("S2", "A1", "2026-11-20", 900)),
        ),
        PARAMS,
        RUN,
    )
    assert result.findings.select("type", "key", "expected_minor", "actual_minor").rows() == [
        ("balance_mismatch", "A1", 1000, 900)
    ]
    # S2 rolls forward from S1's reported 900 with nothing posted in between: it agrees.
    assert sorted(result.outcomes.rows()) == [
        ("balances", "S1", "discrepancy", "CNY", 900),
        ("balances", "S2", "matched", "CNY", 900),
    ]


def test_yesterdays_postings_and_snapshot_carry_a_balance_forward() -> None:
    night = run(
        BalanceState(empty(POSTINGS), empty(SNAPSHOTS)),
        BalanceTonight(
            posted(("A1", 500, "2026-11-19")), snapshots(("S1", "A1", "2026-11-19", 500))
        ),
        PARAMS,
        RUN - dt.timedelta(days=1),
    )
    later = run(
        BalanceState(night.state["postings"], night.state["snapshots"]),
        BalanceTonight(
            posted(("A1", 250, "2026-11-20")), snapshots(("S2", "A1", "2026-11-20", 700))
        ),
        PARAMS,
        RUN,
    )
    assert later.findings.select("key", "expected_minor", "actual_minor").rows() == [
        ("A1", 750, 700)
    ]
    assert later.outcomes.rows() == [("balances", "S2", "discrepancy", "CNY", 700)]
    assert later.state["snapshots"]["row_id"].to_list() == ["S1", "S2"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["A1", "A2"]), st.integers(-500, 500), st.integers(10, 19)),
        min_size=1,
        max_size=12,
    ),
    st.lists(
        st.tuples(st.sampled_from(["A1", "A2"]), st.integers(10, 19), st.integers(-900, 900)),
        min_size=1,
        max_size=8,
    ),
    st.data(),
)
def test_checking_some_snapshots_gives_them_the_verdicts_of_checking_all(
    posted: list[tuple[str, int, int]], reported: list[tuple[str, int, int]], data: st.DataObject
) -> None:
    """Only tonight's snapshots (and the latest carried one) are checked; the others serve as
    the ones before them. Checking a subset must give it exactly the verdicts it gets when all
    the snapshots are checked."""
    postings = add_postings(
        empty(POSTINGS),
        posting_totals(
            entries(*((account, amount, f"2026-11-{day}") for account, amount, day in posted)),
            ZONE,
        ),
    )
    rows = [
        (f"B{i}", account, f"2026-11-{day}", bal) for i, (account, day, bal) in enumerate(reported)
    ]
    ordered = snapshots(*rows).sort(SNAPSHOT_ORDER)
    wanted = data.draw(st.lists(st.sampled_from([row[0] for row in rows]), unique=True))
    subset = pl.DataFrame({"row_id": wanted}, schema={"row_id": pl.String})
    tolerance = pl.lit(0, pl.Int64)
    everything = check_balances(postings, ordered, tolerance)
    some = check_balances(postings, ordered, tolerance, wanted=subset)
    expected = everything.join(subset, on="row_id", how="semi").sort("row_id")
    assert some.sort("row_id").equals(expected)
    assert some.height == len(wanted)
