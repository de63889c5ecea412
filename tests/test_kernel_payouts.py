"""The payouts kernel on its own, on inline frames: no files, no CLI."""

from __future__ import annotations

import datetime as dt

import polars as pl

from walletrecon.kernels.payouts import PayoutParams, PayoutState, PayoutTonight, run
from walletrecon.match.payouts import line_totals
from walletrecon.state import BANK_WORK, PAYOUTS, conform, empty

RUN = dt.date(2026, 11, 20)
PARAMS = PayoutParams(window_days=2, tolerance=pl.lit(0, pl.Int64))
NOTHING = PayoutState(empty(PAYOUTS), empty(BANK_WORK))


def lines(*nets: int, payout: str = "PO-77", day: dt.date = RUN) -> pl.DataFrame:
    """Settlement lines of one payout with the given nets (minor units)."""
    return pl.DataFrame(
        {
            "payout_id": [payout] * len(nets),
            "currency": ["CNY"] * len(nets),
            "net_currency": [None] * len(nets),
            "net_minor": list(nets),
            "item_date": [day] * len(nets),
        },
        schema_overrides={
            "payout_id": pl.String,
            "currency": pl.String,
            "net_currency": pl.String,
            "net_minor": pl.Int64,
            "item_date": pl.Date,
        },
    )


def bank(*rows: tuple[str, int, str], day: dt.date = RUN) -> pl.DataFrame:
    """Bank lines: (id, amount in minor units, reference)."""
    frame = pl.DataFrame(
        {
            "bank_line_id": [row[0] for row in rows],
            "amount_minor": [row[1] for row in rows],
            "currency": ["CNY"] * len(rows),
            "reference": [row[2] for row in rows],
            "item_date": [day] * len(rows),
            "first_run": [RUN] * len(rows),
            "origin": [f"bank.csv:{index + 2}" for index in range(len(rows))],
        }
    )
    return conform(frame, BANK_WORK)


def test_a_bank_line_paying_the_net_reconciles_its_payout() -> None:
    tonight = PayoutTonight(line_totals(lines(1000, 2000)), bank(("B1", 3000, "po-77")))
    result = run(NOTHING, tonight, PARAMS, RUN)
    assert result.findings.is_empty()
    assert result.outcomes.rows() == [("bank", "B1", "matched", "CNY", 3000)]
    assert result.state["payouts"]["payout_id"].to_list() == ["PO-77"]  # kept for its window
    assert result.state["bank"].is_empty()


def test_a_bank_line_paying_another_amount_breaks_the_payout_at_once() -> None:
    result = run(
        NOTHING, PayoutTonight(line_totals(lines(1000)), bank(("B1", 900, "PO-77"))), PARAMS, RUN
    )
    assert result.findings.select("type", "key", "expected_minor", "actual_minor").rows() == [
        ("payout_mismatch", "PO-77", 1000, 900)
    ]
    assert result.outcomes.rows() == [("bank", "B1", "discrepancy", "CNY", 900)]


def test_a_payout_waits_for_its_bank_line_until_the_window_ends() -> None:
    early = run(NOTHING, PayoutTonight(line_totals(lines(1000)), bank()), PARAMS, RUN)
    assert early.findings.is_empty()
    late = run(
        PayoutState(early.state["payouts"], early.state["bank"]),
        PayoutTonight(line_totals(lines()), bank()),
        PARAMS,
        RUN + dt.timedelta(days=2),
    )
    assert late.findings.select("key", "actual_minor").rows() == [("PO-77", None)]


def test_an_unclaimed_bank_line_is_pending_then_a_break_and_carried_meanwhile() -> None:
    first = run(
        NOTHING, PayoutTonight(line_totals(lines()), bank(("B9", 500, "rent"))), PARAMS, RUN
    )
    assert first.outcomes.rows() == [("bank", "B9", "pending", "CNY", 500)]
    assert first.state["bank"]["bank_line_id"].to_list() == ["B9"]
    after = run(
        PayoutState(first.state["payouts"], first.state["bank"]),
        PayoutTonight(line_totals(lines()), bank()),
        PARAMS,
        RUN + dt.timedelta(days=2),
    )
    assert after.findings.select("type", "key").rows() == [("payout_mismatch", "B9")]


def test_line_totals_sum_each_payout_once_whatever_the_case_of_its_id() -> None:
    """Tonight's lines summed per payout before the kernel: one row a payout (ids equal but for
    case are one payout), lines with no payout left out, the latest line's date its date; the
    same from a lazy frame (a spooled night)."""
    frame = pl.concat(
        [
            lines(1000, 2000, day=RUN - dt.timedelta(days=1)),
            lines(-300, payout="po-77"),
            lines(5, payout="PO-9"),
            lines(7).with_columns(pl.lit(None, pl.String).alias("payout_id")),
        ]
    )
    totals = line_totals(frame)
    assert totals.drop("line_nets", "refund_nets").rows() == [
        ("po-77", "PO-77", "CNY", False, 2700, 3, RUN),
        ("po-9", "PO-9", "CNY", False, 5, 1, RUN),
    ]
    assert totals.get_column("line_nets").to_list() == [[-300, 1000, 2000], [5]]
    assert line_totals(frame.lazy()).equals(totals)
    assert line_totals(lines()).is_empty()


def test_a_payout_whose_lines_are_in_two_currencies_is_mixed() -> None:
    """The currency of a line's net (else its own) counts; two of them, or one and a line with
    none, make the payout mixed, and its bank line breaks it."""
    usd_net = lines(100, 200).with_columns(
        pl.Series("net_currency", [None, "USD"], dtype=pl.String)
    )
    no_currency = lines(100, 200).with_columns(
        pl.Series("currency", ["CNY", None], dtype=pl.String)
    )
    none_at_all = lines(100).with_columns(pl.lit(None, pl.String).alias("currency"))
    mixed = [line_totals(frame)["mixed_currency"].to_list() for frame in (usd_net, no_currency)]
    assert mixed == [[True], [True]]
    assert line_totals(none_at_all)["mixed_currency"].to_list() == [False]
    result = run(
        NOTHING, PayoutTonight(line_totals(usd_net), bank(("B1", 300, "PO-77"))), PARAMS, RUN
    )
    assert result.findings.get_column("key").to_list() == ["PO-77"]
