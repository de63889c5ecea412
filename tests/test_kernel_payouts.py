"""The payouts kernel on its own, on inline frames: no files, no CLI."""

from __future__ import annotations

import datetime as dt

import polars as pl

from walletrecon.kernels.payouts import PayoutParams, PayoutState, PayoutTonight, run
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
    tonight = PayoutTonight(lines(1000, 2000), bank(("B1", 3000, "po-77")))
    result = run(NOTHING, tonight, PARAMS, RUN)
    assert result.findings.is_empty()
    assert result.outcomes.rows() == [("bank", "B1", "matched", "CNY", 3000)]
    assert result.state["payouts"]["payout_id"].to_list() == ["PO-77"]  # kept for its window
    assert result.state["bank"].is_empty()


def test_a_bank_line_paying_another_amount_breaks_the_payout_at_once() -> None:
    result = run(NOTHING, PayoutTonight(lines(1000), bank(("B1", 900, "PO-77"))), PARAMS, RUN)
    assert result.findings.select("type", "key", "expected_minor", "actual_minor").rows() == [
        ("payout_mismatch", "PO-77", 1000, 900)
    ]
    assert result.outcomes.rows() == [("bank", "B1", "discrepancy", "CNY", 900)]


def test_a_payout_waits_for_its_bank_line_until_the_window_ends() -> None:
    early = run(NOTHING, PayoutTonight(lines(1000), bank()), PARAMS, RUN)
    assert early.findings.is_empty()
    late = run(
        PayoutState(early.state["payouts"], early.state["bank"]),
        PayoutTonight(lines(), bank()),
        PARAMS,
        RUN + dt.timedelta(days=2),
    )
    assert late.findings.select("key", "actual_minor").rows() == [("PO-77", None)]


def test_an_unclaimed_bank_line_is_pending_then_a_break_and_carried_meanwhile() -> None:
    first = run(NOTHING, PayoutTonight(lines(), bank(("B9", 500, "rent"))), PARAMS, RUN)
    assert first.outcomes.rows() == [("bank", "B9", "pending", "CNY", 500)]
    assert first.state["bank"]["bank_line_id"].to_list() == ["B9"]
    after = run(
        PayoutState(first.state["payouts"], first.state["bank"]),
        PayoutTonight(lines(), bank()),
        PARAMS,
        RUN + dt.timedelta(days=2),
    )
    assert after.findings.select("type", "key").rows() == [("payout_mismatch", "B9")]
