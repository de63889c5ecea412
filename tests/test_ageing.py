"""Ageing buckets of the open breaks and match rates per relation, on inline frames, and the
``tickets --summary`` face."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from tests.world import World, day
from walletrecon.ageing import BUCKETS, ageing, match_rates
from walletrecon.cli import main
from walletrecon.config import Tickets
from walletrecon.manifest import SourceCounts
from walletrecon.schemas import AMOUNT_DECIMAL


def rows(*breaks: tuple[str, str, int, str | None]) -> pl.DataFrame:
    """Open breaks: (type, currency, age in days, difference)."""
    return pl.DataFrame(
        {
            "type": [item[0] for item in breaks],
            "currency": [item[1] for item in breaks],
            "age_days": [item[2] for item in breaks],
            "difference": [None if item[3] is None else Decimal(item[3]) for item in breaks],
            "actual_amount": [Decimal("7") for _ in breaks],
            "expected_amount": [None for _ in breaks],
        },
        schema_overrides={
            "type": pl.String,
            "currency": pl.String,
            "age_days": pl.Int32,
            "difference": AMOUNT_DECIMAL,
            "actual_amount": AMOUNT_DECIMAL,
            "expected_amount": AMOUNT_DECIMAL,
        },
    )


def test_each_age_lands_in_its_bucket_at_the_edges() -> None:
    ages = [0, 30, 31, 60, 61, 90, 91, 180, 181, 4000]
    figures = ageing(rows(*(("amount_mismatch", "CNY", age, "-1.50") for age in ages)), Tickets())
    counts = {name: cell["count"] for name, cell in figures["finance_ops"]["CNY"].items()}
    assert counts == {"0-30": 2, "31-60": 2, "61-90": 2, "91-180": 2, "over 180": 2}
    assert list(counts) == [name for name, _, _ in BUCKETS]
    assert figures["finance_ops"]["CNY"]["0-30"]["amount"] == "3"


def test_breaks_are_split_by_queue_and_currency_and_follow_the_routing() -> None:
    breaks = rows(
        ("amount_mismatch", "CNY", 3, "2.00"),
        ("amount_mismatch", "USD", 3, "-1.25"),
        ("missing_in_ledger", "CNY", 40, None),
    )
    figures = ageing(breaks, Tickets())
    assert figures["finance_ops"]["USD"]["0-30"] == {"count": 1, "amount": "1.25"}
    assert figures["tech_support"]["CNY"]["31-60"] == {"count": 1, "amount": "7"}
    routed = ageing(breaks, Tickets(queues={"amount_mismatch": "gateway_ops"}))
    assert set(routed) == {"gateway_ops", "tech_support"}


def test_no_open_break_gives_no_ageing() -> None:
    assert ageing(rows(), Tickets()) == {}


def test_match_rates_share_tonights_rows_and_the_hand_matches() -> None:
    counts = {
        "settlement": SourceCounts(
            read=10, rejected=0, redelivered=0, matched=7, discrepancy=1, pending=1
        ),
    }
    rates = match_rates(counts, {"settlement": 1})
    assert rates["ledger_settlement"] == {
        "automatic": 7,
        "by_hand": 1,
        "open": 2,
        "automatic_rate": "0.7",
        "by_hand_rate": "0.1",
        "open_rate": "0.2",
    }
    assert rates["payouts_bank"]["automatic_rate"] == "0"


def test_tickets_summary_shows_ageing_rates_and_decisions(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.payment(0, "T1").receive(0, "T1")
    world.run_through(2)
    result = CliRunner().invoke(main, ["tickets", "--out", str(world.out), "--summary"])
    assert result.exit_code == 0, result.output
    (line,) = [text for text in result.output.splitlines() if "gateway_ops" in text]
    assert line.split()[:4] == ["gateway_ops", "CNY", "1", "/"] and line.split()[4] == "10"
    assert "ledger_receipts" in result.output and "Decisions applied tonight: 0" in result.output
    trend = result.output.split("Automatic match rate, night by night")[1].splitlines()
    assert [line.split()[0] for line in trend[2:5]] == [str(day(0)), str(day(1)), str(day(2))]
