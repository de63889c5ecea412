"""Suggested matches on inline frames: one clear candidate is suggested both ways with its
confidence and evidence; an ambiguous, distant, different or late one is not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from walletrecon.config import Windows, load_config
from walletrecon.evaluate import suggestion_score
from walletrecon.pipeline import run_night
from walletrecon.sample import generate
from walletrecon.state import OPEN_DISCREPANCIES
from walletrecon.suggestions import suggest

DAY = dt.date(2026, 11, 20)
WINDOWS = Windows()


def entry(identity: str, ref: str, amount: int = 1000, **extra: Any) -> dict[str, Any]:
    """An entry missing in settlement."""
    return {
        "discrepancy_id": identity,
        "type": "missing_in_settlement",
        "key": f"T-{identity}",
        "txn_id": f"T-{identity}",
        "account_id": "A1",
        "gateway_ref": ref,
        "currency": "CNY",
        "expected_minor": amount,
        "first_seen": DAY,
        "involved": [f"ledger:E-{identity}"],
        **extra,
    }


def line(identity: str, ref: str, amount: int = 1000, **extra: Any) -> dict[str, Any]:
    """A settlement line missing in the ledger."""
    return {
        "discrepancy_id": identity,
        "type": "missing_in_ledger",
        "key": ref,
        "gateway_ref": ref,
        "currency": "CNY",
        "actual_minor": amount,
        "first_seen": DAY,
        "involved": [f"settlement:S-{identity}"],
        **extra,
    }


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    full = [{name: row.get(name) for name in OPEN_DISCREPANCIES} for row in rows]
    return pl.DataFrame(full, schema=OPEN_DISCREPANCIES, orient="row")


def suggested(*rows: dict[str, Any]) -> dict[str, tuple[str, Decimal]]:
    found = suggest(frame(*rows), WINDOWS)
    return {
        row["discrepancy_id"]: (row["suggested_match"], row["suggestion_confidence"])
        for row in found.iter_rows(named=True)
    }


def test_a_reference_one_character_away_is_suggested_both_ways() -> None:
    got = suggested(entry("a", "GW-ABC123"), line("b", "GW-ABC1233"))
    assert got == {"a": ("S-b", Decimal("0.95")), "b": ("E-a", Decimal("0.95"))}
    reason = suggest(frame(entry("a", "GW-ABC123"), line("b", "GW-ABC1233")), WINDOWS)
    text = reason.filter(pl.col("discrepancy_id") == "a")["suggestion_reason"].item()
    assert "S-b" in text and "GW-ABC1233" in text and "one character" in text


def test_two_characters_away_is_less_sure_and_three_is_nothing() -> None:
    assert suggested(entry("a", "GW-ABC123"), line("b", "GW-ABX12"))["a"][1] == Decimal("0.80")
    assert suggested(entry("a", "GW-ABC123"), line("b", "GW-XYZ123")) == {}


def test_case_and_spaces_are_not_differences() -> None:
    assert suggested(entry("a", "GW-ABC123"), line("b", " gw-abc1234 "))["a"][1] == Decimal("0.95")


def test_a_different_amount_or_currency_is_no_candidate() -> None:
    assert suggested(entry("a", "GW-ABC123"), line("b", "GW-ABC1233", amount=999)) == {}
    assert suggested(entry("a", "GW-ABC123"), line("b", "GW-ABC1233", currency="USD")) == {}


def test_two_equally_close_candidates_give_no_suggestion() -> None:
    got = suggested(entry("a", "GW-ABC123"), line("b", "GW-ABC1233"), line("c", "GW-ABC1234"))
    assert got == {}


def test_a_clearly_closer_candidate_is_suggested_with_less_confidence() -> None:
    got = suggested(entry("a", "GW-ABC123"), line("b", "GW-ABC1233"), line("c", "GW-ABC1"))
    assert got["a"] == ("S-b", Decimal("0.85"))
    assert "c" not in got


def test_a_line_closest_to_two_entries_is_suggested_to_neither() -> None:
    got = suggested(entry("a", "GW-ABC123"), entry("b", "GW-ABC124"), line("c", "GW-ABC12"))
    assert got == {}


def test_a_counterpart_outside_the_window_is_none_and_a_day_apart_costs_confidence() -> None:
    far = DAY - dt.timedelta(days=WINDOWS.settlement_days + 1)
    assert suggested(entry("a", "GW-ABC123"), line("b", "GW-ABC1233", first_seen=far)) == {}
    near = DAY - dt.timedelta(days=1)
    got = suggested(entry("a", "GW-ABC123"), line("b", "GW-ABC1233", first_seen=near))
    assert got["a"][1] == Decimal("0.90")


def test_a_receipt_under_a_near_txn_id_of_the_same_merchant() -> None:
    payment = {
        "discrepancy_id": "p",
        "type": "payment_not_received",
        "txn_id": "T0000000042",
        "merchant_id": "M1",
        "currency": "CNY",
        "expected_minor": 500,
        "first_seen": DAY,
        "involved": ["ledger:E-p"],
    }
    receipt = {
        "discrepancy_id": "r",
        "type": "missing_in_ledger",
        "txn_id": "T00000000422",
        "merchant_id": "M1",
        "currency": "CNY",
        "actual_minor": 500,
        "first_seen": DAY,
        "involved": ["receipts:R-r"],
    }
    assert suggested(payment, receipt) == {
        "p": ("R-r", Decimal("0.95")),
        "r": ("E-p", Decimal("0.95")),
    }
    assert suggested(payment, {**receipt, "merchant_id": "M2"}) == {}


def test_a_retry_under_another_id_is_suggested_for_the_failed_settled_one() -> None:
    failed = {
        "discrepancy_id": "f",
        "type": "status_mismatch",
        "txn_id": "T1",
        "account_id": "A1",
        "currency": "CNY",
        "actual_minor": 700,
        "first_seen": DAY,
        "involved": ["ledger:E-1", "settlement:S-1"],
    }
    retry = entry("r", "GW-R", amount=700, txn_id="T2")
    got = suggested(failed, retry)
    assert got == {"f": ("E-r", Decimal("0.85")), "r": ("S-1", Decimal("0.85"))}
    assert suggested(failed, {**retry, "account_id": "A2"}) == {}


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(5)))
def test_the_order_of_the_breaks_changes_nothing(order: list[int]) -> None:
    rows = [
        entry("a", "GW-ABC123"),
        line("b", "GW-ABC1233"),
        entry("c", "GW-XYZ789", amount=2000),
        line("d", "GW-XYZ78", amount=2000),
        line("e", "GW-QQQ111", amount=3000),
    ]
    expected = suggest(frame(*rows), WINDOWS)
    assert suggest(frame(*(rows[index] for index in order)), WINDOWS).equals(expected)


def test_clean_data_gives_no_suggestion() -> None:
    assert suggest(frame(), WINDOWS).is_empty()


def test_generated_near_misses_are_suggested_and_no_suggestion_is_wrong(tmp_path: Path) -> None:
    summary = generate(tmp_path / "data", days=5, seed=41, rows=2000)
    config = load_config(tmp_path / "data" / "walletrecon.toml")
    for night in summary.dates:
        run_night(night, tmp_path / "data" / "inbox", tmp_path / "out", config)
    score = suggestion_score(tmp_path / "data" / "truth.csv", tmp_path / "out")
    assert score.near_misses > 0
    assert score.suggested_right == score.suggestible
    assert score.wrong == 0


def test_a_near_pair_is_found_among_thousands_of_breaks_of_one_amount() -> None:
    crowd = [entry(f"e{index}", f"GW-{index:012X}") for index in range(700)]
    crowd += [line(f"l{index}", f"GW-{10**9 + index:012X}") for index in range(700)]
    got = suggested(*crowd, entry("a", "GW-NEARMISS001"), line("b", "GW-NEARMISS0011"))
    assert got["a"][0] == "S-b" and got["b"][0] == "E-a"
