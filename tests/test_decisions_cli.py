"""People's decisions end to end: ``walletrecon decide`` on published breaks, nights applying
them, the journal, maker-checker, refusals, the lock, re-runs and the spreadsheet round trip."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import xlsxwriter
from click.testing import CliRunner, Result

from tests.test_payout_rules import bank_line, paid_out
from tests.world import World, day
from walletrecon.cli import main
from walletrecon.lock import run_lock


def decide(out: Path, *arguments: str, user: str = "alice", config: Path | None = None) -> Result:
    extra = ["--config", str(config)] if config else []
    command = ["decide", *arguments, "--out", str(out), "--user", user, *extra]
    return CliRunner().invoke(main, command)


def listed(out: Path) -> str:
    command = ["decide", "list", "--out", str(out), "--format", "jsonl"]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0, result.output
    return result.output


def tickets(out: Path, night: int) -> list[dict[str, Any]]:
    path = out / "tickets" / f"run_date={day(night).isoformat()}" / "tickets.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def ticket_of(out: Path, night: int, kind: str) -> dict[str, Any]:
    (found,) = [item for item in tickets(out, night) if item["type"] == kind]
    return found


def journal(out: Path, night: int) -> list[dict[str, str]]:
    path = out / "journal" / f"run_date={day(night).isoformat()}" / "adjustments.csv"
    return list(csv.DictReader(io.StringIO(path.read_text())))


def manifest(out: Path, night: int) -> dict[str, Any]:
    path = out / "manifest" / f"run_date={day(night).isoformat()}" / "manifest.json"
    return dict(json.loads(path.read_text()))


def two_breaks(tmp_path: Path, **config: Any) -> World:
    """A payment that never settles (missing_in_settlement from night 2, found every night) and
    one settled 1.00 CNY short (amount_mismatch, a fact that stays open): nights 0-2 run."""
    world = World(tmp_path, **config)
    world.payment(0, "T1").receive(0, "T1")
    world.payment(0, "T2").receive(0, "T2").settle(0, "T2", amount="9.00")
    world.run_through(2)
    return world


def test_a_write_off_closes_its_break_for_good_and_journals_it(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    missing = ticket_of(world.out, 2, "missing_in_settlement")
    result = decide(world.out, "write-off", missing["ticket_id"], "--reason", "never sent")
    assert result.exit_code == 0, result.output
    assert "DEC-000001 approved: write-off" in result.output
    world.run(3)
    resolved = ticket_of(world.out, 3, "missing_in_settlement")
    assert resolved["status"] == "resolved"
    assert resolved["resolution"] == "written_off"
    assert resolved["decision_ids"] == ["DEC-000001"]
    assert ("missing_in_settlement", "T1") not in world.breaks(3)
    (line,) = journal(world.out, 3)
    assert (line["decision_id"], line["txn_id"], line["amount"], line["currency"]) == (
        "DEC-000001",
        "T1",
        "10.00",
        "CNY",
    )
    assert line["debit_account"] == "reconciliation_write_offs"
    assert line["decided_by"] == "alice" and "never sent" in line["memo"]
    assert manifest(world.out, 3)["decisions"]["closed"] == {"written_off": 1}
    # The data still finds the entry unsettled: the break stays closed, no new ticket.
    world.run(4)
    assert ("missing_in_settlement", "T1") not in world.breaks(4)
    assert all(item["type"] != "missing_in_settlement" for item in tickets(world.out, 4))
    assert journal(world.out, 4) == []


def test_an_accept_until_a_date_reopens_the_night_after_it(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    amount = ticket_of(world.out, 2, "amount_mismatch")
    until = day(4).isoformat()
    result = decide(world.out, "accept", amount["ticket_id"], "--reason", "x", "--until", until)
    assert result.exit_code == 0, result.output
    for night in (3, 4):
        world.run(night)
        assert ("amount_mismatch", "T2") not in world.breaks(night)
    world.run(5)
    reopened = world.open(5).filter(pl.col("type") == "amount_mismatch").row(0, named=True)
    assert reopened["times_reopened"] == 1 and reopened["first_seen"] == day(0)
    assert manifest(world.out, 5)["decisions"]["reopened"] == 1


def test_a_write_off_above_the_threshold_waits_for_a_second_person(tmp_path: Path) -> None:
    world = two_breaks(tmp_path, decisions={"approval_above": {"CNY": "5.00"}})
    config = tmp_path / "walletrecon.toml"
    config.write_text('[decisions]\napproval_above = { CNY = "5.00" }\n')
    missing = ticket_of(world.out, 2, "missing_in_settlement")["ticket_id"]
    proposed = decide(world.out, "write-off", missing, "--reason", "lost", config=config)
    assert "DEC-000001 proposed" in proposed.output
    own = decide(world.out, "approve", "DEC-000001", user="alice")
    assert own.exit_code == 2 and "a second person must approve it" in own.output
    world.run(3)
    assert ("missing_in_settlement", "T1") in world.breaks(3)
    assert manifest(world.out, 3)["decisions"]["waiting_for_approval"] == 1
    approved = decide(world.out, "approve", "DEC-000001", user="bob")
    assert approved.exit_code == 0, approved.output
    world.run(4)
    assert ("missing_in_settlement", "T1") not in world.breaks(4)
    assert journal(world.out, 4)[0]["approved_by"] == "bob"


def test_the_night_holds_the_threshold_even_when_the_command_was_not_given_it(
    tmp_path: Path,
) -> None:
    world = two_breaks(tmp_path, decisions={"approval_above": {"CNY": "5.00"}})
    missing = ticket_of(world.out, 2, "missing_in_settlement")["ticket_id"]
    recorded = decide(world.out, "write-off", missing, "--reason", "lost")  # no --config
    assert "approved" in recorded.output
    world.run(3)
    assert ("missing_in_settlement", "T1") in world.breaks(3)
    assert manifest(world.out, 3)["decisions"]["waiting_for_approval"] == 1


def test_a_rejected_proposal_is_never_applied(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    config = tmp_path / "walletrecon.toml"
    config.write_text('[decisions]\napproval_above = { CNY = "0.50" }\n')
    amount = ticket_of(world.out, 2, "amount_mismatch")["ticket_id"]
    decide(world.out, "accept", amount, "--reason", "fine", config=config)
    no_reason = decide(world.out, "reject", "DEC-000001", user="bob")
    assert no_reason.exit_code == 2 and "needs a reason" in no_reason.output
    rejected = decide(world.out, "reject", "DEC-000001", "--reason", "no", user="bob")
    assert rejected.exit_code == 0, rejected.output
    world.run(3)
    assert ("amount_mismatch", "T2") in world.breaks(3)
    listing = listed(world.out)
    assert json.loads(listing.splitlines()[0])["state"] == "rejected"
    again = decide(world.out, "accept", amount, "--reason", "second try", config=config)
    assert again.exit_code == 0, again.output


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("WR-NOPE", "no such discrepancy_id or ticket_id in the latest night"),
        ("", "no such discrepancy_id or ticket_id"),
    ],
)
def test_a_decision_on_an_unknown_id_is_refused(tmp_path: Path, target: str, message: str) -> None:
    world = two_breaks(tmp_path)
    result = decide(world.out, "write-off", target, "--reason", "x")
    assert result.exit_code == 2 and message in result.output
    assert not (world.out / "decisions" / "decisions.jsonl").exists()


def test_a_decision_on_a_closed_break_is_refused_and_reopen_only_takes_decided_ones(
    tmp_path: Path,
) -> None:
    world = two_breaks(tmp_path)
    missing = ticket_of(world.out, 2, "missing_in_settlement")["ticket_id"]
    assert decide(world.out, "reopen", missing, "--reason", "x").exit_code == 2
    assert decide(world.out, "write-off", missing, "--reason", "x").exit_code == 0
    twice = decide(world.out, "accept", missing, "--reason", "x")
    assert twice.exit_code == 2 and "waiting for the next night" in twice.output
    world.run(3)
    closed = decide(world.out, "write-off", missing, "--reason", "x")
    assert closed.exit_code == 2
    assert "is closed" in closed.output and "written_off by DEC-000001" in closed.output
    assert decide(world.out, "reopen", missing, "--reason", "wrong one").exit_code == 0
    world.run(4)
    assert ("missing_in_settlement", "T1") in world.breaks(4)


def test_a_decision_waits_while_a_night_holds_the_output_folder(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    missing = ticket_of(world.out, 2, "missing_in_settlement")["ticket_id"]
    holding, release = threading.Event(), threading.Event()

    def night() -> None:
        with run_lock(world.out):
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=night)
    holder.start()
    holding.wait(10)
    busy = decide(world.out, "comment", missing, "--reason", "x", "--wait", "0")
    assert busy.exit_code == 75 and "in use" in busy.output
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    waited = decide(world.out, "comment", missing, "--reason", "x", "--wait", "20")
    holder.join()
    assert waited.exit_code == 0, waited.output
    assert time.monotonic() - started >= 0.4


def test_rerunning_a_night_after_later_decisions_gives_the_same_outputs(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    amount = ticket_of(world.out, 2, "amount_mismatch")["ticket_id"]
    missing = ticket_of(world.out, 2, "missing_in_settlement")["ticket_id"]
    decide(world.out, "write-off", amount, "--reason", "short paid")
    world.run(3)
    files = ("discrepancies", "tickets", "journal")
    before = {kind: sorted((world.out / kind / f"run_date={day(3)}").iterdir()) for kind in files}
    contents = {path: path.read_bytes() for paths in before.values() for path in paths}
    decide(world.out, "write-off", missing, "--reason", "recorded after night 3")
    world.run(3)
    assert {path: path.read_bytes() for path in contents} == contents
    world.run(4)
    assert [line["txn_id"] for line in journal(world.out, 4)] == ["T1"]


def test_a_tickets_export_with_decisions_filled_in_imports_as_a_whole(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    exported = CliRunner().invoke(main, ["tickets", "--out", str(world.out), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    for row in rows:
        row["decision"] = "write-off" if row["type"] == "amount_mismatch" else ""
        row["reason"] = "short paid" if row["decision"] else ""
    sheet = tmp_path / "decisions.csv"
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = decide(world.out, "import", str(sheet))
    assert result.exit_code == 0, result.output
    assert f"1 decision(s) recorded; {len(rows) - 1} row(s) without a decision" in result.output
    world.run(3)
    assert ("amount_mismatch", "T2") not in world.breaks(3)
    assert [line["txn_id"] for line in journal(world.out, 3)] == ["T2"]


def test_an_import_with_a_bad_row_names_it_and_records_nothing(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    good = ticket_of(world.out, 2, "amount_mismatch")["ticket_id"]
    sheet = tmp_path / "decisions.csv"
    sheet.write_text(
        "ticket_id,decision,reason,until\n"
        f"{good},accept,fine,\n"
        f"{good},writeoff,typo,\n"
        f"{good},accept,,\n"
        f"{good},accept,later,30/12/2026\n"
    )
    result = decide(world.out, "import", str(sheet))
    assert result.exit_code == 2
    assert "line 3: column decision: 'writeoff' is not one of" in result.output
    assert "line 4: column reason: empty" in result.output
    assert "line 5: column until: '30/12/2026' is not a date" in result.output
    assert not (world.out / "decisions" / "decisions.jsonl").exists()


def test_an_import_deciding_one_break_twice_records_nothing(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    good = ticket_of(world.out, 2, "amount_mismatch")["ticket_id"]
    sheet = tmp_path / "decisions.csv"
    sheet.write_text(f"ticket_id,decision,reason\n{good},accept,a\n{good},write-off,b\n")
    result = decide(world.out, "import", str(sheet))
    assert result.exit_code == 2 and "line 3" in result.output
    assert "already has DEC-" in result.output
    assert not (world.out / "decisions" / "decisions.jsonl").exists()


def test_decisions_import_from_an_xlsx_workbook(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    amount = ticket_of(world.out, 2, "amount_mismatch")["ticket_id"]
    missing = ticket_of(world.out, 2, "missing_in_settlement")["ticket_id"]
    path = tmp_path / "decisions.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("tickets")
    for row, cells in enumerate(
        [
            ["ticket_id", "decision", "reason", "to"],
            [amount, "assign", "for review", "carol"],
            [missing, "", "", ""],
        ]
    ):
        sheet.write_row(row, 0, cells)
    book.close()
    result = decide(world.out, "import", str(path))
    assert result.exit_code == 0, result.output
    world.run(3)
    row = world.open(3).filter(pl.col("type") == "amount_mismatch").row(0, named=True)
    assert row["assignee"] == "carol"
    assert ticket_of(world.out, 3, "amount_mismatch")["assignee"] == "carol"


def test_the_journal_sums_to_the_written_off_amounts(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    for kind in ("amount_mismatch", "missing_in_settlement"):
        decide(world.out, "write-off", ticket_of(world.out, 2, kind)["ticket_id"], "--reason", "x")
    world.run(3)
    lines = journal(world.out, 3)
    assert sorted(line["amount"] for line in lines) == ["1.00", "10.00"]
    assert manifest(world.out, 3)["decisions"]["journal_totals"] == {"CNY": "11.00"}
    short = {line["txn_id"]: line["debit_account"] for line in lines}
    assert short == {"T1": "reconciliation_write_offs", "T2": "reconciliation_write_offs"}


def test_tickets_show_the_decisions_on_them_and_their_state(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    amount = ticket_of(world.out, 2, "amount_mismatch")["ticket_id"]
    config = tmp_path / "walletrecon.toml"
    config.write_text('[decisions]\napproval_above = { CNY = "0.50" }\n')
    decide(world.out, "write-off", amount, "--reason", "short", config=config)
    command = ["tickets", "--out", str(world.out), "--format", "jsonl"]
    shown = [json.loads(line) for line in CliRunner().invoke(main, command).output.splitlines()]
    said = {item["type"]: item["decisions"] for item in shown}
    assert said["amount_mismatch"] == "DEC-000001 write-off proposed"
    assert said["missing_in_settlement"] == ""


def test_a_night_stops_on_an_edited_decision_log(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    amount = ticket_of(world.out, 2, "amount_mismatch")["ticket_id"]
    decide(world.out, "accept", amount, "--reason", "fine")
    log = world.out / "decisions" / "decisions.jsonl"
    log.write_text(log.read_text().replace("fine", "FINE"))
    world._write(3)
    command = ["run", "--date", day(3).isoformat(), "--inbox", str(world.inbox)]
    result = CliRunner().invoke(main, [*command, "--out", str(world.out)])
    assert result.exit_code == 2
    assert "decisions.jsonl line 1" in result.output and "edited" in result.output
    assert not (world.out / "manifest" / f"run_date={day(3)}").exists()


def mistyped(tmp_path: Path) -> World:
    """A payment settled under a mistyped reference (missing_in_settlement for the entry,
    missing_in_ledger for the line) and 1.00 CNY short; a payment receipted under a mistyped
    txn_id (payment_not_received, missing_in_ledger): nights 0-2 run."""
    world = World(tmp_path)
    world.payment(0, "T1").receive(0, "T1").settle(0, "T1X", amount="9.00")
    world.payment(0, "T3").receive(0, "T3X").settle(0, "T3")
    world.run_through(2)
    return world


def test_a_hand_match_pairs_an_entry_and_a_line_and_checks_them_as_one(tmp_path: Path) -> None:
    world = mistyped(tmp_path)
    assert {("missing_in_settlement", "T1"), ("missing_in_ledger", "GW-T1X")} <= world.breaks(2)
    result = decide(world.out, "match", "E-T1", "S-T1X", "--reason", "reference mistyped")
    assert result.exit_code == 0, result.output
    assert "2 break(s)" in result.output
    world.run(3)
    breaks = world.breaks(3)
    assert ("missing_in_settlement", "T1") not in breaks
    assert ("missing_in_ledger", "GW-T1X") not in breaks
    assert ("amount_mismatch", "T1") in breaks  # the pair is checked: 9.00 against 10.00
    closed = [item for item in tickets(world.out, 3) if item["resolution"] == "matched_by_hand"]
    assert {item["type"] for item in closed} == {"missing_in_settlement", "missing_in_ledger"}
    assert all(item["decision_ids"] == ["DEC-000001"] for item in closed)
    world.run(4)
    assert ("missing_in_settlement", "T1") not in world.breaks(4)


def test_a_hand_match_pairs_a_payment_and_a_receipt(tmp_path: Path) -> None:
    world = mistyped(tmp_path)
    assert ("payment_not_received", "T3") in world.breaks(2)
    result = decide(world.out, "match", "E-T3", "R-T3X", "--reason", "merchant typo")
    assert result.exit_code == 0, result.output
    world.run(3)
    assert not {key for kind, key in world.breaks(3) if key in ("T3", "T3X")}


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("E-T9", "S-T1X", "no ledger entry with this entry_id"),
        ("E-T1", "S-NOPE", "no unpaired settlement line, receipt or bank line"),
        ("E-T3", "S-T1X", "the entry already has its settlement line"),
    ],
)
def test_a_match_that_cannot_be_made_is_refused(
    tmp_path: Path, first: str, second: str, message: str
) -> None:
    world = mistyped(tmp_path)
    result = decide(world.out, "match", first, second, "--reason", "x")
    assert result.exit_code == 2 and message in result.output, result.output


def test_one_item_in_two_hand_matches_is_refused(tmp_path: Path) -> None:
    world = mistyped(tmp_path)
    assert decide(world.out, "match", "E-T1", "S-T1X", "--reason", "x").exit_code == 0
    again = decide(world.out, "match", "E-T1", "S-T1X", "--reason", "x")
    assert again.exit_code == 2 and "already has DEC-000001" in again.output


def test_a_hand_match_pairs_a_payout_and_a_bank_line_naming_no_payout(tmp_path: Path) -> None:
    world = paid_out(World(tmp_path))
    bank_line(world, 0, "29.00", "WIRE 0042 NO REFERENCE", line_id="B1")
    world.run_through(2)
    assert {("payout_mismatch", "PO-77"), ("payout_mismatch", "B1")} <= world.breaks(2)
    result = decide(world.out, "match", "PO-77", "B1", "--reason", "bank dropped the reference")
    assert result.exit_code == 0, result.output
    world.run(3)
    breaks = world.breaks(3)
    assert ("payout_mismatch", "B1") not in breaks
    # Paired, the payout is checked: 29.00 arrived against 30.00 due.
    payout = world.open(3).filter(pl.col("key") == "PO-77").row(0, named=True)
    assert (payout["expected_amount"], payout["actual_amount"]) == (Decimal("30"), Decimal("29"))


def test_a_suggested_match_is_accepted_by_naming_the_break(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.payment(0, "T5").receive(0, "T5").settle(0, "T5X")
    world.run_through(2)
    row = world.open(2).filter(pl.col("type") == "missing_in_ledger").row(0, named=True)
    assert row["suggested_match"] == "E-T5"
    assert row["suggestion_confidence"] == Decimal("0.95")
    result = decide(world.out, "match", row["discrepancy_id"], "--reason", "as suggested")
    assert result.exit_code == 0, result.output
    recorded = json.loads(listed(world.out).splitlines()[0])
    assert recorded["target"] == "E-T5" and recorded["action"] == "match"
    world.run(3)
    assert not world.breaks(3)


def test_a_match_takes_its_items_in_either_order(tmp_path: Path) -> None:
    world = mistyped(tmp_path)
    result = decide(world.out, "match", "S-T1X", "E-T1", "--reason", "reference mistyped")
    assert result.exit_code == 0, result.output
    assert "match E-T1" in result.output


def test_accepting_a_suggestion_on_a_break_without_one_is_refused(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    amount = ticket_of(world.out, 2, "amount_mismatch")["ticket_id"]
    result = decide(world.out, "match", amount, "--reason", "x")
    assert result.exit_code == 2 and "no suggested match" in result.output


def test_a_semicolon_csv_from_a_spreadsheet_imports(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    amount = ticket_of(world.out, 2, "amount_mismatch")["ticket_id"]
    sheet = tmp_path / "decisions.csv"
    sheet.write_text(f"ticket_id;decision;reason\n{amount};accept;fine, agreed\n", encoding="utf-8")
    result = decide(world.out, "import", str(sheet))
    assert result.exit_code == 0, result.output
    assert json.loads(listed(world.out).splitlines()[0])["reason"] == "fine, agreed"


def test_a_torn_last_line_is_left_out_and_cut_off_by_the_next_decision(tmp_path: Path) -> None:
    world = two_breaks(tmp_path)
    amount = ticket_of(world.out, 2, "amount_mismatch")["ticket_id"]
    missing = ticket_of(world.out, 2, "missing_in_settlement")["ticket_id"]
    decide(world.out, "comment", amount, "--reason", "first")
    log = world.out / "decisions" / "decisions.jsonl"
    whole = log.read_bytes()
    with log.open("ab") as handle:
        handle.write(b'{"decision_id":"DEC-000002","at":"2026')  # the append died here
    world.run(3)  # the night reads the log without the torn line
    assert decide(world.out, "comment", missing, "--reason", "second").exit_code == 0
    lines = log.read_bytes().splitlines()
    assert log.read_bytes().startswith(whole) and len(lines) == 2
    assert json.loads(lines[1])["decision_id"] == "DEC-000002"
