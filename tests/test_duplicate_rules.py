"""Duplicates (a second distinct row for one business key) against re-deliveries (the same row)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from tests.world import World, at, day


def clean_payment(world: World, night: int, txn: str) -> World:
    return world.payment(night, txn).settle(night, txn).receive(night, txn)


def manifest(world: World, night: int) -> dict[str, Any]:
    path = world.out / "manifest" / f"run_date={day(night).isoformat()}" / "manifest.json"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def rejected(world: World, night: int) -> pl.DataFrame:
    folder = world.out / "rejected" / f"run_date={day(night).isoformat()}"
    return pl.read_parquet(folder / "rejected.parquet")


def payment_row(txn: str, amount: str = "-10.00", entry_id: str | None = None) -> dict[str, str]:
    return {
        "entry_id": entry_id or f"E-{txn}",
        "txn_id": txn,
        "amount": amount,
        "merchant_id": "M1",
        "gateway_ref": f"GW-{txn}",
        "created_at": at(0),
        "posted_at": at(0, 10, 1),
    }


# --- settlement lines -------------------------------------------------------------------------


def test_second_settlement_line_for_one_reference_is_duplicate(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.settle(0, "T1", settlement_id="S-T1-again", settled_at=at(0, 12))
    world.run(0)
    assert world.breaks(0) == {("duplicate", "GW-T1")}
    row = world.open(0).row(0, named=True)
    assert row["txn_id"] == "T1"
    assert "S-T1-again" in row["explanation"]


def test_second_settlement_line_on_a_later_night_is_duplicate(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.settle(1, "T1", settlement_id="S-T1-again", settled_at=at(0, 12))
    world.run_through(2)
    assert world.breaks(0) == set()
    assert world.breaks(1) == {("duplicate", "GW-T1")}
    assert world.breaks(2) == {("duplicate", "GW-T1")}


def test_duplicate_settlement_line_is_not_matched_again(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.settle(1, "T1", settlement_id="S-T1-again", settled_at=at(0, 12))
    world.run_through(3)
    assert ("missing_in_ledger", "GW-T1") not in world.breaks(3)
    assert world.breaks(3) == {("duplicate", "GW-T1")}


def test_payment_and_its_refund_sharing_a_reference_are_not_duplicates(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.add(
        0,
        "ledger",
        {
            "entry_id": "E-T1-refund",
            "txn_id": "T1",
            "entry_type": "refund",
            "amount": "10.00",
            "merchant_id": "M1",
            "gateway_ref": "GW-T1",
            "created_at": at(0, 15),
            "posted_at": at(0, 15, 1),
        },
    )
    world.settle(
        0,
        "T1",
        settlement_id="S-T1-refund",
        record_type="refund",
        net_amount="-10.00",
        settled_at=at(0, 16),
    )
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))


# --- receipts ---------------------------------------------------------------------------------


def test_second_receipt_for_one_txn_is_duplicate(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.receive(0, "T1", receipt_id="R-T1-again", received_at=at(0, 10, 30))
    world.run(0)
    assert world.breaks(0) == {("duplicate", "T1")}
    assert "R-T1-again" in world.open(0)["explanation"][0]


def test_second_receipt_on_a_later_night_is_duplicate(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.receive(1, "T1", receipt_id="R-T1-again", received_at=at(0, 10, 30))
    world.run_through(1)
    assert world.breaks(0) == set()
    assert world.breaks(1) == {("duplicate", "T1")}


# --- ledger -----------------------------------------------------------------------------------


def test_second_payment_entry_for_one_txn_is_duplicate(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.add(0, "ledger", {**payment_row("T1", entry_id="E-T1-again"), "created_at": at(0, 11)})
    world.run(0)
    assert world.breaks(0) == {("duplicate", "T1")}
    assert "E-T1-again" in world.open(0)["explanation"][0]


def test_second_payment_entry_on_a_later_night_is_duplicate(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.add(1, "ledger", {**payment_row("T1", entry_id="E-T1-again"), "created_at": at(0, 11)})
    world.run_through(3)
    assert world.breaks(0) == set()
    assert world.breaks(1) == {("duplicate", "T1")}
    assert world.breaks(3) == {("duplicate", "T1")}


def test_non_payment_entries_sharing_a_txn_are_not_duplicates(tmp_path: Path) -> None:
    world = World(tmp_path)
    for entry_id, account, amount in (("E1", "A1", "-5.00"), ("E2", "A2", "5.00")):
        world.add(
            0,
            "ledger",
            {
                "entry_id": entry_id,
                "txn_id": "X1",
                "account_id": account,
                "entry_type": "transfer_out" if amount.startswith("-") else "transfer_in",
                "amount": amount,
                "created_at": at(0),
                "posted_at": at(0),
            },
        )
    world.run(0)
    assert world.breaks(0) == set()


# --- re-deliveries ----------------------------------------------------------------------------


def test_same_row_twice_in_one_night_is_a_redelivery_not_a_duplicate(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.add(0, "ledger", payment_row("T1"))
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))
    outcomes = manifest(world, 0)["outcomes"]["ledger"]
    assert outcomes["read"] == 2
    assert outcomes["redelivered"] == 1
    assert outcomes["rejected"] == 0
    assert rejected(world, 0).height == 0


def test_same_row_again_on_a_later_night_is_a_redelivery(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.add(1, "ledger", payment_row("T1"))
    world.receive(1, "T1", received_at=at(0, 10, 5))
    world.settle(2, "T1", settled_at=at(0, 11))
    world.run_through(3)
    assert all(world.breaks(night) == set() for night in range(4))
    assert manifest(world, 1)["outcomes"]["ledger"]["redelivered"] == 1
    assert manifest(world, 1)["outcomes"]["receipts"]["redelivered"] == 1
    assert manifest(world, 2)["outcomes"]["settlement"]["redelivered"] == 1
    assert manifest(world, 0)["outcomes"]["ledger"]["redelivered"] == 0


def test_redelivered_settlement_line_is_not_a_duplicate(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1").settle(0, "T1")
    world.run(0)
    assert world.breaks(0) == set()
    assert manifest(world, 0)["outcomes"]["settlement"]["redelivered"] == 1


def test_same_id_with_other_content_is_rejected_and_the_first_stands(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.add(0, "ledger", payment_row("T1", amount="-12.00"))
    world.run_through(2)
    assert all(world.breaks(night) == set() for night in range(3))
    frame = rejected(world, 0)
    assert frame.height == 1
    row = frame.row(0, named=True)
    assert row["column"] == "entry_id"
    assert row["origin_file"] == f"{day(0).isoformat()}/ledger.csv"
    assert row["origin_row"] == 2
    assert "E-T1" in row["reason"]
    outcomes = manifest(world, 0)["outcomes"]["ledger"]
    assert (outcomes["read"], outcomes["rejected"], outcomes["redelivered"]) == (2, 1, 0)


def test_same_id_with_other_content_on_a_later_night_is_rejected(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.add(1, "ledger", payment_row("T1", amount="-12.00"))
    world.run_through(2)
    assert all(world.breaks(night) == set() for night in range(3))
    assert rejected(world, 0).height == 0
    row = rejected(world, 1).row(0, named=True)
    assert row["column"] == "entry_id"
    assert row["origin_file"] == f"{day(1).isoformat()}/ledger.csv"
    assert manifest(world, 1)["outcomes"]["ledger"]["rejected"] == 1


def test_receipt_id_reused_with_other_content_is_rejected_on_receipt_id(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.receive(1, "T1", amount="99.00")
    world.run_through(1)
    assert world.breaks(1) == set()
    frame = rejected(world, 1)
    assert frame["column"].to_list() == ["receipt_id"]
    assert frame["source"].to_list() == ["receipts"]


def test_reference_case_and_spaces_do_not_hide_a_duplicate_line(tmp_path: Path) -> None:
    world = clean_payment(World(tmp_path), 0, "T1")
    world.settle(1, "T1", settlement_id="S-T1-again", gateway_ref=" gw-t1 ", settled_at=at(0, 12))
    world.run_through(1)
    assert {kind for kind, _ in world.breaks(1)} == {"duplicate"}
    assert {key.strip().lower() for _, key in world.breaks(1)} == {"gw-t1"}


def test_redelivery_differing_only_in_reference_case_is_a_redelivery(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").receive(0, "T1").settle(0, "T1")
    world.settle(1, "T1", gateway_ref=" gw-t1 ", settled_at=at(0, 11))
    world.run_through(1)
    manifest = json.loads(
        (world.out / "manifest" / f"run_date={day(1)}" / "manifest.json").read_text()
    )
    assert manifest["outcomes"]["settlement"]["redelivered"] == 1
    assert manifest["outcomes"]["settlement"]["rejected"] == 0
    assert world.breaks(1) == set()


def test_an_id_reused_by_another_source_of_an_earlier_night_is_neither_redelivery_nor_conflict(
    tmp_path: Path,
) -> None:
    # Registry look-ups go by a hash of the id alone: the source must still decide.
    world = World(tmp_path).payment(0, "T1").receive(0, "T1").settle(0, "T1")
    world.payment(1, "T2").receive(1, "T2").settle(1, "T2", settlement_id="E-T1")
    world.run(0)
    summary = world.run(1)
    assert summary.rejected == 0
    assert manifest(world, 1)["outcomes"]["settlement"]["redelivered"] == 0
    assert world.breaks(1) == set()
