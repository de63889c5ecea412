"""Reported wallet balances at the day's cut-off against the ledger's succeeded postings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import walletrecon.match.balances as balances_module
from tests.world import World, at, day


def entry(
    world: World,
    night: int,
    entry_id: str,
    amount: str,
    status: str = "succeeded",
    account: str = "A1",
    created: str | None = None,
    posted: str | None = None,
) -> World:
    """A transfer (no gateway, no merchant) on an account; posted a minute after it was made."""
    created_at = created or at(night)
    posted_at = (
        posted if posted is not None else (at(night, 10, 1) if status == "succeeded" else "")
    )
    return world.add(
        night,
        "ledger",
        {
            "entry_id": entry_id,
            "txn_id": f"X-{entry_id}",
            "account_id": account,
            "entry_type": "transfer_in" if not amount.startswith("-") else "transfer_out",
            "amount": amount,
            "status": status,
            "created_at": created_at,
            "posted_at": posted_at,
        },
    )


def balance(world: World, night: int, amount: str, account: str = "A1") -> World:
    """The balance the wallet reports for an account at the end of day ``night``."""
    return world.add(
        night,
        "balances",
        {
            "account_id": account,
            "as_of": f"{day(night).isoformat()}T23:59:59+08:00",
            "balance": amount,
        },
    )


def tickets(world: World, night: int) -> list[dict[str, Any]]:
    path = world.out / "tickets" / f"run_date={day(night).isoformat()}" / "tickets.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_balance_equal_to_succeeded_postings_is_no_break(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    entry(world, 0, "E2", "-30.00")
    balance(world, 0, "70.00")
    world.run(0)
    assert world.breaks(0) == set()


def test_balance_differing_is_balance_mismatch_with_amounts(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    entry(world, 0, "E2", "-30.00")
    balance(world, 0, "75.00")
    world.run(0)
    assert world.breaks(0) == {("balance_mismatch", "A1")}
    row = world.open(0).row(0, named=True)
    assert row["account_id"] == "A1"
    assert row["currency"] == "CNY"
    assert str(row["expected_amount"]) == "70.0000"
    assert str(row["actual_amount"]) == "75.0000"
    assert str(row["difference"]) == "5.0000"


def test_only_the_wrong_account_is_a_break(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    entry(world, 0, "E2", "40.00", account="A2")
    balance(world, 0, "100.00")
    balance(world, 0, "41.00", account="A2")
    world.run(0)
    assert world.breaks(0) == {("balance_mismatch", "A2")}


def test_failed_and_pending_entries_do_not_count(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    entry(world, 0, "E2", "-20.00", status="failed")
    entry(world, 0, "E3", "-5.00", status="pending")
    entry(world, 0, "E4", "-1.00", status="reversed")
    balance(world, 0, "100.00")
    world.run(0)
    assert world.breaks(0) == set()


def test_balance_counting_a_failed_entry_is_a_mismatch(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    entry(world, 0, "E2", "-20.00", status="failed")
    balance(world, 0, "80.00")
    world.run(0)
    assert world.breaks(0) == {("balance_mismatch", "A1")}
    assert str(world.open(0)["expected_amount"][0]) == "100.0000"


def test_balance_carries_earlier_nights_postings(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    balance(world, 0, "100.00")
    entry(world, 1, "E2", "-30.00")
    balance(world, 1, "70.00")
    world.run_through(1)
    assert world.breaks(0) == set()
    assert world.breaks(1) == set()


def test_balance_break_is_resolved_once_the_balance_rolls_forward_again(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    balance(world, 0, "90.00")
    entry(world, 1, "E2", "-30.00")
    balance(world, 1, "70.00")
    balance(world, 2, "70.00")
    world.run_through(2)
    assert world.breaks(0) == {("balance_mismatch", "A1")}
    # The correction itself is a movement no entry explains: 90 - 30 = 60, not 70.
    assert world.breaks(1) == {("balance_mismatch", "A1")}
    assert world.breaks(2) == set()
    discrepancy_id = world.open(0)["discrepancy_id"][0]
    first = [t for t in tickets(world, 0) if discrepancy_id in t["discrepancy_ids"]]
    then = [t for t in tickets(world, 2) if discrepancy_id in t["discrepancy_ids"]]
    assert [t["status"] for t in first] == ["new"]
    assert [t["status"] for t in then] == ["resolved"]
    assert then[0]["ticket_id"] == first[0]["ticket_id"]


def test_balance_is_checked_against_the_previous_reported_balance(tmp_path: Path) -> None:
    # Ledger 100, +10, +10; the wallet reports 95, 105, 120 (CONTRACT: previous reported
    # balance plus the succeeded entries posted in between).
    world = entry(World(tmp_path), 0, "E1", "100.00")
    balance(world, 0, "95.00")
    entry(world, 1, "E2", "10.00")
    balance(world, 1, "105.00")
    entry(world, 2, "E3", "10.00")
    balance(world, 2, "120.00")
    world.run_through(2)
    assert world.breaks(0) == {("balance_mismatch", "A1")}
    assert world.breaks(1) == set()
    assert world.breaks(2) == {("balance_mismatch", "A1")}
    row = world.open(2).row(0, named=True)
    assert (str(row["expected_amount"]), str(row["actual_amount"])) == ("115.0000", "120.0000")


def test_an_unchanged_wrong_balance_stays_open_while_the_latest_snapshot_breaks(
    tmp_path: Path,
) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    balance(world, 0, "90.00")
    world.run_through(2)
    assert world.breaks(2) == {("balance_mismatch", "A1")}
    assert world.open(2)["first_seen"].to_list() == [day(0)]


def test_a_late_entry_posted_before_the_cut_off_clears_the_break(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    balance(world, 0, "130.00")
    entry(world, 1, "E2", "30.00", created=at(0, 11), posted=at(0, 11, 1))
    world.run_through(1)
    assert world.breaks(0) == {("balance_mismatch", "A1")}
    assert world.breaks(1) == set()


def test_first_snapshot_compares_against_all_succeeded_entries(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    entry(world, 1, "E2", "-30.00")
    balance(world, 1, "70.00")
    world.run_through(1)
    assert world.breaks(1) == set()


def test_first_snapshot_counting_only_its_day_is_a_mismatch(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    entry(world, 1, "E2", "-30.00")
    balance(world, 1, "-30.00")
    world.run_through(1)
    assert world.breaks(1) == {("balance_mismatch", "A1")}
    assert str(world.open(1)["expected_amount"][0]) == "70.0000"


def test_entry_posted_after_the_cut_off_does_not_count_for_that_day(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    entry(world, 0, "E2", "-30.00", created=at(0, 23, 30), posted=at(1, 0, 30))
    balance(world, 0, "100.00")
    balance(world, 1, "70.00")
    world.run_through(1)
    assert world.breaks(0) == set()
    assert world.breaks(1) == set()


def test_balance_including_an_entry_posted_after_the_cut_off_is_a_mismatch(
    tmp_path: Path,
) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    entry(world, 0, "E2", "-30.00", created=at(0, 23, 30), posted=at(1, 0, 30))
    balance(world, 0, "70.00")
    world.run(0)
    assert world.breaks(0) == {("balance_mismatch", "A1")}
    assert str(world.open(0)["expected_amount"][0]) == "100.0000"


def test_entry_posted_just_before_midnight_counts_for_that_day(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    entry(world, 0, "E2", "-30.00", created=at(0, 23, 50), posted=at(0, 23, 58))
    balance(world, 0, "70.00")
    world.run(0)
    assert world.breaks(0) == set()


def test_late_arriving_entry_posted_before_the_cut_off_is_counted(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    balance(world, 0, "70.00")
    entry(world, 1, "E2", "-30.00", created=at(0, 12), posted=at(0, 12, 1))
    balance(world, 1, "70.00")
    world.run_through(1)
    assert world.breaks(0) == {("balance_mismatch", "A1")}
    assert world.breaks(1) == set()


def test_mismatch_explained_by_a_late_entry_is_resolved_with_its_ticket(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    balance(world, 0, "70.00")
    entry(world, 1, "E2", "-30.00", created=at(0, 12), posted=at(0, 12, 1))
    world.run_through(1)
    assert world.breaks(0) == {("balance_mismatch", "A1")}
    assert world.breaks(1) == set()
    discrepancy_id = world.open(0)["discrepancy_id"][0]
    then = [t for t in tickets(world, 1) if discrepancy_id in t["discrepancy_ids"]]
    assert [t["status"] for t in then] == ["resolved"]
    assert then[0]["resolution"]


def test_each_currency_of_an_account_is_checked_on_its_own(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    entry(world, 0, "E2", "7.00")
    world.rows[(0, "ledger")][1]["currency"] = "USD"
    balance(world, 0, "100.00")
    balance(world, 0, "8.00")
    world.rows[(0, "balances")][1]["currency"] = "USD"
    world.run(0)
    assert world.breaks(0) == {("balance_mismatch", "A1")}
    row = world.open(0).row(0, named=True)
    assert row["currency"] == "USD"
    assert str(row["expected_amount"]) == "7.0000"


def test_balance_reported_at_midnight_is_the_previous_days_cut_off(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    entry(world, 1, "E2", "-30.00", created=at(1, 0, 0), posted=at(1, 0, 0))
    world.add(
        1,
        "balances",
        {"account_id": "A1", "as_of": f"{day(1).isoformat()}T00:00:00+08:00", "balance": "100.00"},
    )
    world.run_through(1)
    assert world.breaks(1) == set()


def test_a_bare_date_cut_off_means_the_end_of_that_day(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    world.add(0, "balances", {"account_id": "A1", "as_of": "2026-11-20", "balance": "100.00"})
    world.run(0)
    assert world.breaks(0) == set()


def test_a_broken_snapshot_row_is_counted_as_a_discrepancy(tmp_path: Path) -> None:
    world = entry(World(tmp_path), 0, "E1", "100.00")
    balance(world, 0, "90.00")
    world.run(0)
    manifest = json.loads(
        (world.out / "manifest" / f"run_date={day(0)}" / "manifest.json").read_text()
    )
    assert manifest["outcomes"]["balances"]["discrepancy"] == 1
    assert manifest["outcomes"]["balances"]["matched"] == 0


def test_a_snapshot_arriving_days_late_rolls_forward_from_the_one_before_it(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    for night in (0, 2, 3):
        balance(world, night, "50.00")
    world.add(
        4, "balances", {"account_id": "A1", "as_of": f"{day(1)}T23:59:59+08:00", "balance": "50.00"}
    )
    world.run_through(4)
    assert world.breaks(0) == {("balance_mismatch", "A1")}  # 50 reported, no entries at all
    assert world.breaks(4) == set()


def test_compacting_old_postings_never_moves_a_quiet_accounts_expected_balance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(balances_module, "COMPACT_AFTER_DAYS", 2)
    world = entry(World(tmp_path), 0, "E1", "100.00")
    balance(world, 0, "100.00")
    entry(world, 1, "E2", "-100.00")
    balance(world, 1, "0.00")
    world.run_through(6)
    assert all(world.breaks(night) == set() for night in range(7))
