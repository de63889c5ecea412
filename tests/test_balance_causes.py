"""Likely causes of a balance break, night by night through the real pipeline: an entry posted
after the cut-off (and its echo the night after), a duplicate entry, a fee not booked; and the
differences that fit none of them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from tests.world import World, at, day
from walletrecon.causes import CAUSE_ACTIONS

CUT_OFF = "23:59:59+08:00"


def _snapshot(night: int, balance: str, account: str = "A1") -> dict[str, str]:
    return {
        "account_id": account,
        "as_of": f"{day(night).isoformat()}T{CUT_OFF}",
        "balance": balance,
    }


def _entry(night: int, entry: str, amount: str, **extra: Any) -> dict[str, Any]:
    """A succeeded entry of account A1 (a top-up unless told), posted a minute after it was made."""
    return {
        "entry_id": entry,
        "txn_id": f"T-{entry}",
        "entry_type": "topup",
        "amount": amount,
        "created_at": at(night),
        "posted_at": at(night, 10, 1),
        **extra,
    }


def _balance_break(world: World, night: int) -> dict[str, Any]:
    frame = world.open(night).filter(pl.col("type") == "balance_mismatch")
    assert frame.height == 1, frame
    return frame.row(0, named=True)


def _late_entry_world(tmp_path: Path, minutes_after: int) -> World:
    """A1 tops up 100.00; a 25.00 top-up made just before midnight is posted ``minutes_after``
    the cut-off, and the wallet's snapshot of that night already counts it."""
    posted = at(1, 0, minutes_after) if minutes_after < 60 else at(1, minutes_after // 60)
    world = World(tmp_path)
    world.add(
        0,
        "ledger",
        _entry(0, "E1", "100.00"),
        _entry(0, "E2", "25.00", created_at=at(0, 23, 58), posted_at=posted),
    )
    world.add(0, "balances", _snapshot(0, "125.00"))
    world.add(1, "balances", _snapshot(1, "125.00"))
    world.add(2, "balances", _snapshot(2, "125.00"))
    return world


def test_an_entry_posted_after_the_cut_off_is_named_then_its_echo_then_it_clears(
    tmp_path: Path,
) -> None:
    world = _late_entry_world(tmp_path, minutes_after=10)
    world.run(0)
    first = _balance_break(world, 0)
    assert first["difference"] == Decimal("25.00")
    assert (first["likely_cause"], first["cause_confidence"]) == (
        "entry_after_cutoff",
        Decimal("0.90"),
    )
    assert "entry E2 of 25.00 CNY posted at" in first["explanation"]
    assert "Likely cause:" in first["explanation"]
    # The entry's own row is evidence, beside the snapshot's.
    assert "ledger.csv" in first["evidence"] and "balances.csv" in first["evidence"]
    # Night 1: the chained rule counts E2 a second time (the snapshot before had it): the same
    # break, minus the amount, traced to the entry kept from last night.
    world.run(1)
    echo = _balance_break(world, 1)
    assert echo["discrepancy_id"] == first["discrepancy_id"]
    assert echo["difference"] == Decimal("-25.00")
    assert echo["likely_cause"] == "entry_after_cutoff"
    world.run(2)
    assert not world.breaks(2)


def test_an_entry_posted_long_after_the_cut_off_names_no_cause(tmp_path: Path) -> None:
    world = _late_entry_world(tmp_path, minutes_after=180)
    world.run(0)
    found = _balance_break(world, 0)
    assert found["likely_cause"] is None and found["cause_confidence"] is None
    assert "Likely cause" not in found["explanation"]


def test_the_sync_window_is_configurable(tmp_path: Path) -> None:
    world = _late_entry_world(tmp_path, minutes_after=180)
    world.config = world.config.model_copy(
        update={"windows": world.config.windows.model_copy(update={"balance_sync_minutes": 240})}
    )
    world.run(0)
    assert _balance_break(world, 0)["likely_cause"] == "entry_after_cutoff"


def _duplicated_world(tmp_path: Path, balance: str) -> World:
    """A1 tops up 100.00 and pays 10.00, a payment the ledger books twice; the wallet reports
    ``balance``."""
    world = World(tmp_path)
    world.add(
        0,
        "ledger",
        _entry(0, "E1", "100.00"),
        _entry(0, "P1", "-10.00", entry_type="payment", txn_id="T-P"),
        _entry(0, "P1-again", "-10.00", entry_type="payment", txn_id="T-P"),
    )
    world.add(0, "balances", _snapshot(0, balance))
    return world


def test_a_duplicate_payment_entry_the_wallet_shows_once(tmp_path: Path) -> None:
    world = _duplicated_world(tmp_path, "90.00")
    world.run(0)
    found = _balance_break(world, 0)
    assert found["difference"] == Decimal("10.00")
    assert (found["likely_cause"], found["cause_confidence"]) == (
        "duplicate_entry",
        Decimal("0.90"),
    )
    assert "P1-again" in found["explanation"]
    assert ("duplicate", "T-P") in world.breaks(0)


def test_a_difference_other_than_the_duplicate_names_no_cause(tmp_path: Path) -> None:
    world = _duplicated_world(tmp_path, "91.00")
    world.run(0)
    assert _balance_break(world, 0)["likely_cause"] is None


def _topup_with_fee(tmp_path: Path, balance: str, *extra: dict[str, Any], **config: Any) -> World:
    """A1 tops up 100.00 through a gateway whose line charges a fee of 1.50."""
    world = World(tmp_path, **config)
    world.add(0, "ledger", _entry(0, "E1", "100.00", gateway_ref="GW-1"), *extra)
    world.add(
        0,
        "settlement",
        {
            "settlement_id": "S1",
            "gateway_ref": "GW-1",
            "merchant_ref": "T-E1",
            "record_type": "topup",
            "gross_amount": "100.00",
            "fee_amount": "1.50",
            "net_amount": "98.50",
            "settled_at": at(0, 11),
        },
    )
    world.add(0, "balances", _snapshot(0, balance))
    return world


def test_a_fee_the_wallet_took_but_the_ledger_never_booked(tmp_path: Path) -> None:
    world = _topup_with_fee(tmp_path, "98.50")
    world.run(0)
    found = _balance_break(world, 0)
    assert found["difference"] == Decimal("-1.50")
    assert (found["likely_cause"], found["cause_confidence"]) == (
        "fee_not_booked",
        Decimal("0.90"),
    )
    assert "a fee of 1.50 CNY on topup E1" in found["explanation"]
    tickets = world.out / "tickets" / f"run_date={day(0).isoformat()}" / "tickets.jsonl"
    (ticket,) = [json.loads(line) for line in tickets.read_text().splitlines()]
    assert ticket["likely_cause"] == "fee_not_booked"
    assert ticket["suggested_action"].endswith(
        "Given the likely cause: " + CAUSE_ACTIONS["fee_not_booked"]
    )


def test_a_booked_fee_entry_is_no_candidate(tmp_path: Path) -> None:
    fee = _entry(0, "F1", "-1.50", entry_type="fee", txn_id="T-E1")
    world = _topup_with_fee(tmp_path, "97.00", fee)
    world.run(0)
    found = _balance_break(world, 0)
    assert found["difference"] == Decimal("-1.50")
    assert found["likely_cause"] is None


def test_a_schedule_fee_names_the_cause_before_the_line_arrives(tmp_path: Path) -> None:
    fees = {"adyen": {"percent": "1.5", "record_types": ["topup"], "fixed": {"CNY": "0.20"}}}
    world = World(tmp_path, fees=fees)
    world.add(0, "ledger", _entry(0, "E1", "100.00", gateway_ref="GW-1"))
    world.add(0, "balances", _snapshot(0, "98.30"))
    world.run(0)
    found = _balance_break(world, 0)
    assert found["likely_cause"] == "fee_not_booked"
    assert "a fee of 1.70 CNY" in found["explanation"]


def test_a_fee_of_another_size_names_no_cause(tmp_path: Path) -> None:
    world = _topup_with_fee(tmp_path, "98.00")
    world.run(0)
    assert _balance_break(world, 0)["likely_cause"] is None


def test_two_entries_of_the_difference_after_the_cut_off_lower_the_confidence(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    late = {"created_at": at(0, 23, 58), "posted_at": at(1, 0, 5)}
    world.add(
        0,
        "ledger",
        _entry(0, "E1", "100.00"),
        _entry(0, "E2", "25.00", **late),
        _entry(0, "E3", "25.00", **late),
    )
    world.add(0, "balances", _snapshot(0, "125.00"))
    world.run(0)
    found = _balance_break(world, 0)
    assert (found["likely_cause"], found["cause_confidence"]) == (
        "entry_after_cutoff",
        Decimal("0.60"),
    )
    assert "one of 2 such entries" in found["explanation"]
    # Which entry it was is unknown: only the snapshot is evidence.
    assert "ledger.csv" not in found["evidence"]


def test_an_early_entry_is_no_echo_when_last_night_was_not_off_by_it(tmp_path: Path) -> None:
    """An entry posted just after last night's cut-off, of minus tonight's difference, whose
    snapshot matched last night: nothing was counted early, so no cause."""
    world = World(tmp_path)
    world.add(0, "ledger", _entry(0, "E1", "100.00"))
    world.add(0, "balances", _snapshot(0, "100.00"))
    world.add(
        1, "ledger", _entry(1, "E2", "-10.00", created_at=at(1, 0, 20), posted_at=at(1, 0, 30))
    )
    world.add(1, "balances", _snapshot(1, "100.00"))
    world.run(0)
    assert not world.breaks(0)
    world.run(1)
    found = _balance_break(world, 1)
    assert found["difference"] == Decimal("10.00")
    assert found["likely_cause"] is None
