"""Ledger payments against merchant receipts: missing, late, amounts, currency, status, timing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.world import World, at


def settled_payment(world: World, night: int, txn: str, **extra: str) -> World:
    """A payment whose settlement line is in order, so only the receipt side is under test."""
    return world.payment(night, txn, **extra).settle(night, txn)


def test_payment_without_receipt_breaks_when_the_receipt_window_ends(tmp_path: Path) -> None:
    world = settled_payment(World(tmp_path), 0, "T1")
    world.run_through(2)
    assert world.breaks(0) == set()
    assert world.breaks(1) == {("payment_not_received", "T1")}
    assert world.breaks(2) == {("payment_not_received", "T1")}


def test_payment_not_received_names_merchant_and_expected_amount(tmp_path: Path) -> None:
    world = settled_payment(World(tmp_path), 0, "T1", amount="12.50", merchant_id="M7")
    world.rows[(0, "settlement")][0].update(gross_amount="12.50", net_amount="12.50")
    world.run_through(1)
    row = world.open(1).row(0, named=True)
    assert row["type"] == "payment_not_received"
    assert row["merchant_id"] == "M7"
    assert str(row["expected_amount"]) == "12.5000"
    assert row["actual_amount"] is None


def test_receipt_one_night_late_inside_the_window_is_no_break(tmp_path: Path) -> None:
    world = settled_payment(World(tmp_path), 0, "T1").receive(1, "T1", received_at=at(1, 9))
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))


def test_receipt_after_the_window_resolves_payment_not_received(tmp_path: Path) -> None:
    world = settled_payment(World(tmp_path), 0, "T1").receive(2, "T1", received_at=at(0, 11))
    world.run_through(2)
    assert world.breaks(1) == {("payment_not_received", "T1")}
    assert world.breaks(2) == set()


def test_payment_without_merchant_needs_no_receipt(tmp_path: Path) -> None:
    world = settled_payment(World(tmp_path), 0, "T1", merchant_id="")
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))


def test_failed_payment_needs_no_receipt(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", status="failed", posted_at="", gateway_ref="")
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))


def test_receipt_amount_difference_is_amount_mismatch(tmp_path: Path) -> None:
    world = settled_payment(World(tmp_path), 0, "T1").receive(0, "T1", amount="9.50")
    world.run(0)
    assert world.breaks(0) == {("amount_mismatch", "T1")}
    row = world.open(0).row(0, named=True)
    assert str(row["expected_amount"]) == "10.0000"
    assert str(row["actual_amount"]) == "9.5000"
    assert str(row["difference"]) == "-0.5000"


def test_receipt_amount_within_tolerance_is_no_break(tmp_path: Path) -> None:
    world = settled_payment(World(tmp_path, tolerance={"amount": "0.50"}), 0, "T1")
    world.receive(0, "T1", amount="9.50")
    world.run(0)
    assert world.breaks(0) == set()


def test_receipt_in_other_currency_is_currency_mismatch_without_amount_check(
    tmp_path: Path,
) -> None:
    world = settled_payment(World(tmp_path), 0, "T1").receive(
        0, "T1", currency="USD", amount="1.40"
    )
    world.run(0)
    assert world.breaks(0) == {("currency_mismatch", "T1")}


@pytest.mark.parametrize("status", ["failed", "pending", "reversed"])
def test_merchant_receiving_an_unsucceeded_payment_is_status_mismatch(
    tmp_path: Path, status: str
) -> None:
    world = World(tmp_path).payment(0, "T1", status=status, posted_at="", gateway_ref="")
    world.receive(0, "T1")
    world.run(0)
    assert world.breaks(0) == {("status_mismatch", "T1")}
    assert world.open(0)["severity"].to_list() == ["critical"]


def test_receipt_more_than_a_day_after_the_payment_is_sync_delay(tmp_path: Path) -> None:
    world = settled_payment(World(tmp_path), 0, "T1").receive(1, "T1", received_at=at(1, 10, 1))
    world.run_through(1)
    assert world.breaks(1) == {("sync_delay", "T1")}


def test_receipt_exactly_at_the_threshold_is_no_sync_delay(tmp_path: Path) -> None:
    world = settled_payment(World(tmp_path), 0, "T1").receive(1, "T1", received_at=at(1, 10))
    world.run_through(1)
    assert world.breaks(1) == set()


def test_orphan_receipt_is_missing_in_ledger_after_the_receipt_window(tmp_path: Path) -> None:
    world = World(tmp_path).receive(0, "T9")
    world.run_through(2)
    assert world.breaks(0) == set()
    assert world.breaks(1) == {("missing_in_ledger", "T9")}
    row = world.open(1).row(0, named=True)
    assert str(row["actual_amount"]) == "10.0000"


def test_orphan_receipt_resolves_when_its_payment_arrives(tmp_path: Path) -> None:
    world = World(tmp_path).receive(0, "T9", received_at=at(0, 10, 5))
    world.payment(2, "T9", created_at=at(0, 10), posted_at=at(0, 10, 1))
    world.settle(2, "T9", settled_at=at(0, 11))
    world.run_through(2)
    assert world.breaks(1) == {("missing_in_ledger", "T9")}
    assert ("missing_in_ledger", "T9") not in world.breaks(2)


def test_receipt_before_its_payment_matches_when_the_payment_arrives(tmp_path: Path) -> None:
    world = World(tmp_path).receive(0, "T1", received_at=at(0, 10, 5))
    world.payment(1, "T1", created_at=at(0, 10), posted_at=at(0, 10, 1))
    world.settle(1, "T1", settled_at=at(0, 11))
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))


def test_second_payment_settled_and_receipted_is_matched_on_its_own(tmp_path: Path) -> None:
    world = settled_payment(World(tmp_path), 0, "T1").receive(0, "T1")
    settled_payment(world, 0, "T2")
    world.run_through(1)
    assert world.breaks(1) == {("payment_not_received", "T2")}
