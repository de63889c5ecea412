"""Ledger against settlement: missing lines, orphan lines, amounts, status, currency, timing."""

from __future__ import annotations

from pathlib import Path

from tests.world import World, at


def clean_payment(world: World, night: int, txn: str) -> World:
    return world.payment(night, txn).settle(night, txn).receive(night, txn)


def test_clean_payment_gives_no_break(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.run_through(3)
    assert world.breaks(3) == set()


def test_missing_settlement_is_a_break_when_the_window_ends(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").receive(0, "T1")
    world.run_through(2)
    assert world.breaks(1) == set()
    assert world.breaks(2) == {("missing_in_settlement", "T1")}


def test_late_settlement_inside_the_window_is_no_break(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").receive(0, "T1").settle(2, "T1", settled_at=at(0, 12))
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))


def test_settlement_after_the_window_resolves_the_break(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").receive(0, "T1").settle(3, "T1", settled_at=at(0, 12))
    world.run_through(3)
    assert world.breaks(2) == {("missing_in_settlement", "T1")}
    assert world.breaks(3) == set()


def test_failed_payment_without_settlement_is_fine(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", status="failed", posted_at="")
    world.run_through(3)
    assert world.breaks(3) == set()


def test_orphan_settlement_line_is_missing_in_ledger(tmp_path: Path) -> None:
    world = World(tmp_path).settle(0, "T9")
    world.run_through(2)
    assert world.breaks(1) == set()
    assert world.breaks(2) == {("missing_in_ledger", "GW-T9")}


def test_reference_case_and_spaces_carry_no_meaning(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.rows[(0, "settlement")][0]["gateway_ref"] = "  gw-t1 "
    world.rows[(0, "settlement")][0]["merchant_ref"] = ""
    world.run_through(2)
    assert world.breaks(2) == set()


def test_merchant_ref_matches_when_the_reference_differs(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").receive(0, "T1").settle(0, "T1", gateway_ref="OTHER")
    world.run_through(2)
    assert world.breaks(2) == set()


def test_amount_difference_is_amount_mismatch(tmp_path: Path) -> None:
    world = (
        World(tmp_path)
        .payment(0, "T1")
        .receive(0, "T1")
        .settle(0, "T1", gross_amount="9.00", net_amount="9.00")
    )
    world.run(0)
    frame = world.open(0)
    assert world.breaks(0) == {("amount_mismatch", "T1")}
    assert str(frame["difference"][0]) == "-1.0000"


def test_amount_within_tolerance_is_no_break(tmp_path: Path) -> None:
    world = World(tmp_path, tolerance={"amount": "0.05"})
    world.payment(0, "T1").receive(0, "T1").settle(0, "T1", gross_amount="9.96", net_amount="9.96")
    world.run(0)
    assert world.breaks(0) == set()


def test_settled_failed_payment_is_status_mismatch(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", status="failed", posted_at="").settle(0, "T1")
    world.run(0)
    assert world.breaks(0) == {("status_mismatch", "T1")}


def test_other_currency_is_currency_mismatch_without_amount_check(tmp_path: Path) -> None:
    world = (
        World(tmp_path)
        .payment(0, "T1")
        .receive(0, "T1")
        .settle(0, "T1", currency="USD", gross_amount="1.40", net_amount="1.40")
    )
    world.run(0)
    assert world.breaks(0) == {("currency_mismatch", "T1")}


def test_settlement_long_after_the_payment_is_sync_delay(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").receive(0, "T1").settle(1, "T1", settled_at=at(1, 12))
    world.run_through(1)
    assert world.breaks(1) == {("sync_delay", "T1")}


def test_settlement_within_the_sync_threshold_is_no_delay(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").receive(0, "T1").settle(1, "T1", settled_at=at(1, 9))
    world.run_through(1)
    assert world.breaks(1) == set()


def test_chargeback_of_a_payment_from_an_earlier_night_matches_it(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.settle(
        3,
        "T1",
        settlement_id="CB-1",
        record_type="chargeback",
        net_amount="-10.00",
        settled_at=at(3, 11),
    )
    world.run_through(5)
    assert all(world.breaks(night) == set() for night in range(6))


def test_chargeback_of_an_unknown_payment_is_missing_in_ledger(tmp_path: Path) -> None:
    world = World(tmp_path).settle(0, "T9", record_type="chargeback", net_amount="-10.00")
    world.run_through(2)
    assert world.breaks(1) == set()
    assert world.breaks(2) == {("missing_in_ledger", "GW-T9")}


def test_failed_payment_settled_early_and_received_late_is_one_status_break(
    tmp_path: Path,
) -> None:
    world = World(tmp_path).payment(0, "T1", status="failed", posted_at="").settle(0, "T1")
    world.receive(1, "T1", received_at=at(0, 12))
    world.run_through(3)
    assert world.breaks(3) == {("status_mismatch", "T1")}


def test_entry_without_reference_is_matched_by_merchant_ref_on_a_later_night(
    tmp_path: Path,
) -> None:
    world = World(tmp_path).add(
        0,
        "ledger",
        {
            "entry_id": "E1",
            "txn_id": "T1",
            "entry_type": "topup",
            "amount": "10.00",
            "created_at": at(0),
            "posted_at": at(0, 10, 1),
        },
    )
    world.settle(1, "T1", gateway_ref="GWX-1", record_type="topup", settled_at=at(0, 23))
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))


def test_a_failed_payments_line_settled_a_day_later_and_delivered_late_is_a_status_break(
    tmp_path: Path,
) -> None:
    world = World(tmp_path).payment(0, "T1", status="failed", posted_at="")
    world.settle(3, "T1", settled_at=at(1, 9))
    world.run_through(3)
    assert world.breaks(3) == {("status_mismatch", "T1")}
