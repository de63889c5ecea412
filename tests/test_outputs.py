"""The output faces: discrepancies parquet, lifecycle across nights, re-runs, tickets, manifest,
report."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from tests.world import World, at, day
from walletrecon.config import parse_config
from walletrecon.errors import ConfigError
from walletrecon.schemas import SEVERITIES

CONTRACT_COLUMNS: dict[str, type[pl.DataType] | pl.DataType] = {
    "discrepancy_id": pl.String,
    "run_date": pl.Date,
    "type": pl.String,
    "severity": pl.String,
    "account_id": pl.String,
    "txn_id": pl.String,
    "gateway_ref": pl.String,
    "merchant_id": pl.String,
    "payout_id": pl.String,
    "currency": pl.String,
    "expected_amount": pl.Decimal,
    "actual_amount": pl.Decimal,
    "difference": pl.Decimal,
    "first_seen": pl.Date,
    "age_days": pl.Int32,
    "explanation": pl.String,
}
TYPES = {
    "balance_mismatch",
    "missing_in_settlement",
    "missing_in_ledger",
    "payment_not_received",
    "amount_mismatch",
    "fee_mismatch",
    "status_mismatch",
    "duplicate",
    "currency_mismatch",
    "sync_delay",
    "payout_mismatch",
}


def folder(world: World, kind: str, night: int) -> Path:
    return world.out / kind / f"run_date={day(night).isoformat()}"


def tickets(world: World, night: int) -> list[dict[str, Any]]:
    text = (folder(world, "tickets", night) / "tickets.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def manifest(world: World, night: int) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (folder(world, "manifest", night) / "manifest.json").read_text(encoding="utf-8")
    )
    return document


def unreceipted(world: World) -> World:
    """A settled payment T1 whose receipt never comes: payment_not_received from night 1 on."""
    return world.payment(0, "T1", amount="25.00").settle(0, "T1", amount="25.00")


def several_breaks(world: World) -> World:
    """Night 0 with a break of several kinds and an unmatched item still pending."""
    unreceipted(world)
    world.payment(0, "T2").settle(0, "T2").receive(0, "T2", amount="9.00")
    world.payment(0, "T3").receive(0, "T3")
    return world


# --- discrepancies ------------------------------------------------------------------------------


def test_discrepancies_have_every_contract_column_with_its_type(tmp_path: Path) -> None:
    world = several_breaks(World(tmp_path))
    world.run_through(2)
    # The night's folder as a partitioned table reads it (the date comes from the folder).
    folder = world.out / "discrepancies" / f"run_date={day(2).isoformat()}"
    frame = duckdb.sql(f"SELECT * FROM read_parquet('{folder}/*.parquet')").pl()
    assert frame.height == 3
    for name, dtype in CONTRACT_COLUMNS.items():
        assert name in frame.columns, name
        if dtype is pl.Decimal:
            assert isinstance(frame.schema[name], pl.Decimal), name
        else:
            assert frame.schema[name] == dtype, name
    assert set(frame["type"].to_list()) <= TYPES
    assert set(frame["severity"].to_list()) <= set(SEVERITIES)
    assert frame["run_date"].to_list() == [day(2)] * 3
    assert frame["discrepancy_id"].null_count() == 0
    assert frame["explanation"].str.len_chars().min() > 10  # type: ignore[operator]


def test_amount_columns_hold_exact_decimals(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", amount="1000.125", currency="KWD", gateway_ref="")
    world.receive(0, "T1", amount="1000.12", currency="KWD")
    world.run(0)
    row = world.open(0).row(0, named=True)
    assert row["type"] == "amount_mismatch"
    assert str(row["expected_amount"]) == "1000.1250"
    assert str(row["actual_amount"]) == "1000.1200"
    assert str(row["difference"]) == "-0.0050"


def test_open_break_keeps_its_id_and_first_seen_while_age_grows(tmp_path: Path) -> None:
    world = unreceipted(World(tmp_path))
    world.run_through(4)
    rows = [world.open(night).row(0, named=True) for night in range(1, 5)]
    assert {row["type"] for row in rows} == {"payment_not_received"}
    assert len({row["discrepancy_id"] for row in rows}) == 1
    assert [row["first_seen"] for row in rows] == [day(1)] * 4
    assert [row["age_days"] for row in rows] == [0, 1, 2, 3]
    assert [row["run_date"] for row in rows] == [day(n) for n in range(1, 5)]


def test_different_breaks_have_different_ids(tmp_path: Path) -> None:
    world = several_breaks(World(tmp_path))
    world.run_through(2)
    ids = world.open(2)["discrepancy_id"].to_list()
    assert len(set(ids)) == len(ids) == 3


def test_rerunning_a_night_gives_identical_discrepancies_and_tickets(tmp_path: Path) -> None:
    world = several_breaks(World(tmp_path))
    world.run_through(2)
    frame = world.open(2)
    ticket_text = (folder(world, "tickets", 2) / "tickets.jsonl").read_text()
    ticket_csv = (folder(world, "tickets", 2) / "tickets.csv").read_text()
    world.run(2)
    assert world.open(2).equals(frame)
    assert (folder(world, "tickets", 2) / "tickets.jsonl").read_text() == ticket_text
    assert (folder(world, "tickets", 2) / "tickets.csv").read_text() == ticket_csv


def test_rerunning_an_earlier_night_gives_identical_rows(tmp_path: Path) -> None:
    world = several_breaks(World(tmp_path))
    world.run_through(2)
    frame = world.open(1)
    ticket_text = (folder(world, "tickets", 1) / "tickets.jsonl").read_text()
    world.run(1)
    assert world.open(1).equals(frame)
    assert (folder(world, "tickets", 1) / "tickets.jsonl").read_text() == ticket_text


def test_rerun_with_corrected_input_replaces_the_night_as_a_whole(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").settle(0, "T1").receive(0, "T1", amount="9.00")
    world.run(0)
    assert world.breaks(0) == {("amount_mismatch", "T1")}
    world.rows[(0, "receipts")][0]["amount"] = "10.00"
    world.run(0)
    assert world.breaks(0) == set()
    assert tickets(world, 0) == []
    assert manifest(world, 0)["discrepancies"]["open"] == 0


# --- tickets ------------------------------------------------------------------------------------


def test_tickets_jsonl_and_csv_carry_the_ticket_fields(tmp_path: Path) -> None:
    world = unreceipted(World(tmp_path))
    world.run_through(1)
    discrepancy_id = world.open(1)["discrepancy_id"][0]
    (ticket,) = tickets(world, 1)
    assert ticket["status"] == "new"
    assert ticket["discrepancy_ids"] == [discrepancy_id]
    assert ticket["queue"] == "merchant_support"
    assert ticket["priority"] == "P2"
    assert ticket["due_date"] == (day(1) + dt.timedelta(days=2)).isoformat()
    assert "merchant" in ticket["suggested_action"]
    assert ticket["ticket_id"]
    table = pl.read_csv(folder(world, "tickets", 1) / "tickets.csv", infer_schema=False)
    for column in ("ticket_id", "status", "discrepancy_ids", "queue", "priority", "due_date"):
        assert column in table.columns
    assert "suggested_action" in table.columns
    assert table["ticket_id"].to_list() == [ticket["ticket_id"]]
    assert table["discrepancy_ids"].to_list() == [discrepancy_id]


def test_ticket_id_is_stable_and_status_moves_from_new_to_open(tmp_path: Path) -> None:
    world = unreceipted(World(tmp_path))
    world.run_through(3)
    first, second, third = (tickets(world, night) for night in (1, 2, 3))
    assert [t["status"] for t in first] == ["new"]
    assert [t["status"] for t in second] == ["open"]
    assert [t["status"] for t in third] == ["open"]
    assert first[0]["ticket_id"] == second[0]["ticket_id"] == third[0]["ticket_id"]
    assert first[0]["due_date"] == third[0]["due_date"]


def test_ticket_is_resolved_the_night_its_break_is_gone(tmp_path: Path) -> None:
    world = unreceipted(World(tmp_path)).receive(3, "T1", "25.00", received_at=at(0, 10, 5))
    world.run_through(4)
    opened = tickets(world, 2)
    (resolved,) = tickets(world, 3)
    assert resolved["status"] == "resolved"
    assert resolved["ticket_id"] == opened[0]["ticket_id"]
    assert resolved["resolution"]
    assert tickets(world, 4) == []


def test_each_open_discrepancy_has_one_ticket(tmp_path: Path) -> None:
    world = several_breaks(World(tmp_path))
    world.run_through(2)
    covered = [
        i for t in tickets(world, 2) if t["status"] != "resolved" for i in t["discrepancy_ids"]
    ]
    assert sorted(covered) == sorted(world.open(2)["discrepancy_id"].to_list())


# --- manifest -----------------------------------------------------------------------------------


def test_manifest_lists_inputs_with_sha256_and_rows(tmp_path: Path) -> None:
    world = several_breaks(World(tmp_path))
    world.run(0)
    inputs = {item["path"]: item for item in manifest(world, 0)["inputs"]}
    date = day(0).isoformat()
    assert set(inputs) == {f"{date}/{name}.csv" for name in ("ledger", "settlement", "receipts")}
    for name, rows in (("ledger", 3), ("settlement", 2), ("receipts", 2)):
        item = inputs[f"{date}/{name}.csv"]
        data = (world.inbox / date / f"{name}.csv").read_bytes()
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
        assert item["rows_read"] == rows
        assert item["rows_rejected"] == 0


def test_manifest_control_totals_add_up_per_currency(tmp_path: Path) -> None:
    world = several_breaks(World(tmp_path))
    world.run(0)
    totals = manifest(world, 0)["control_totals"]
    ledger = totals["ledger"]["CNY"]
    assert ledger["accepted_minor"] == -4500
    assert ledger["accepted"] == "-45.00"
    assert sum(ledger["by_outcome_minor"].values()) == -4500
    assert totals["receipts"]["CNY"]["accepted_minor"] == 1900


def test_manifest_outcome_counts_balance(tmp_path: Path) -> None:
    world = several_breaks(World(tmp_path))
    world.run(0)
    outcomes = manifest(world, 0)["outcomes"]
    assert outcomes["ledger"]["read"] == 3
    assert outcomes["ledger"]["discrepancy"] == 1
    for counts in outcomes.values():
        parts = ("rejected", "redelivered", "matched", "discrepancy", "pending")
        assert counts["read"] == sum(counts[name] for name in parts)


def test_manifest_records_config_hash_versions_and_timings(tmp_path: Path) -> None:
    plain = unreceipted(World(tmp_path / "a"))
    plain.run(0)
    tolerant = unreceipted(World(tmp_path / "b", tolerance={"amount": "0.01"}))
    tolerant.run(0)
    first, second = manifest(plain, 0), manifest(tolerant, 0)
    assert len(first["config_hash"]) == 64
    assert first["config_hash"] != second["config_hash"]
    assert first["versions"]["walletrecon"]
    assert first["versions"]["polars"]
    timings = next(value for key, value in first.items() if key.startswith("timings"))
    assert {"load", "reconcile"} <= set(timings)
    assert all(isinstance(seconds, int | float) and seconds >= 0 for seconds in timings.values())


def test_manifest_config_hash_is_the_same_for_the_same_config(tmp_path: Path) -> None:
    first = unreceipted(World(tmp_path / "a"))
    first.run(0)
    second = unreceipted(World(tmp_path / "b"))
    second.run(0)
    assert manifest(first, 0)["config_hash"] == manifest(second, 0)["config_hash"]


def test_source_that_never_arrived_leaves_nothing_in_the_carried_state(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1", gateway_ref="", merchant_id="")
    world.run_through(2)
    carried = manifest(world, 2)["carried"]
    assert carried["receipts"]["after"] == 0
    assert carried["bank"]["after"] == 0
    assert carried["settlement"]["after"] == 0


# --- report -------------------------------------------------------------------------------------


def test_report_exists_and_names_the_run_date_and_its_breaks(tmp_path: Path) -> None:
    world = unreceipted(World(tmp_path))
    summary = world.run_through(1)
    path = folder(world, "report", 1) / "report.html"
    assert summary.report_path == path
    html = path.read_text(encoding="utf-8")
    assert day(1).isoformat() in html
    assert "payment_not_received" in html or "payment not received" in html.lower()
    assert "T1" in html


def test_ticket_queues_and_days_to_fix_follow_the_configuration(tmp_path: Path) -> None:
    world = World(
        tmp_path,
        tickets={"queues": {"amount_mismatch": "gateway_ops"}, "due_days": {"high": 0}},
    )
    world.payment(0, "T1").receive(0, "T1").settle(0, "T1", gross_amount="9.00", net_amount="9.00")
    world.run_through(1)
    [ticket] = [t for t in tickets(world, 1) if t["type"] == "amount_mismatch"]
    assert ticket["queue"] == "gateway_ops"
    assert ticket["due_date"] == day(0).isoformat()
    assert ticket["priority"] == "P1"  # high is P2, one step up for being overdue


def test_a_large_amount_raises_the_priority(tmp_path: Path) -> None:
    world = World(tmp_path, tickets={"large_amount": {"CNY": "5.00"}})
    world.payment(0, "T1", "100.00").receive(0, "T1", "100.00")
    world.settle(0, "T1", gross_amount="90.00", net_amount="90.00")
    world.run(0)
    [ticket] = tickets(world, 0)
    assert (ticket["severity"], ticket["priority"]) == ("high", "P1")


def test_an_unknown_type_in_ticket_queues_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="tickets"):
        parse_config({"tickets": {"queues": {"amount_mismatches": "finance_ops"}}})


def test_ticket_lifecycle_new_open_resolved_and_reopened(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").receive(0, "T1")
    world.settle(3, "T1", settled_at=at(0, 12))  # late: a break on nights 2, resolved on 3
    for night in range(4):
        world.add(
            night,
            "balances",
            {"account_id": "A1", "as_of": f"{day(night)}T23:59:59+08:00", "balance": "-10.00"},
        )
    world.rows[(4, "balances")] = []
    world.add(
        4,
        "balances",
        {"account_id": "A1", "as_of": f"{day(4)}T23:59:59+08:00", "balance": "-12.00"},
    )
    world.add(
        5,
        "balances",
        {"account_id": "A1", "as_of": f"{day(5)}T23:59:59+08:00", "balance": "-12.00"},
    )
    world.add(
        6,
        "balances",
        {"account_id": "A1", "as_of": f"{day(6)}T23:59:59+08:00", "balance": "-13.00"},
    )
    world.run_through(6)

    def status(night: int, kind: str) -> list[tuple[str, int]]:
        return [
            (t["status"], t["times_reopened"]) for t in tickets(world, night) if t["type"] == kind
        ]

    assert status(2, "missing_in_settlement") == [("new", 0)]
    assert status(3, "missing_in_settlement") == [("resolved", 0)]
    assert status(4, "balance_mismatch") == [("new", 0)]
    assert status(5, "balance_mismatch") == [("resolved", 0)]
    assert status(6, "balance_mismatch") == [("new", 1)]
    ids = {
        t["ticket_id"]
        for night in (4, 5, 6)
        for t in tickets(world, night)
        if t["type"] == "balance_mismatch"
    }
    assert len(ids) == 1
