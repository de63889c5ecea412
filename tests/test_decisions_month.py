"""Acceptance: a month of generated nights worked as a finance team would (decisions on about a
third of the breaks, a bulk import, a rejected approval) ends with the open list holding exactly
the breaks nobody decided on, every closed break traced to the data or to a decision with its
user and reason, and the journal summing to the written-off amounts."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from walletrecon.cli import main
from walletrecon.config import load_config
from walletrecon.decisions.log import read_log
from walletrecon.pipeline import run_night
from walletrecon.sample import generate


def decide(out: Path, config: Path, *arguments: str, user: str) -> str:
    command = ["decide", *arguments, "--out", str(out), "--user", user, "--config", str(config)]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0, result.output
    return result.output


def open_breaks(out: Path, night: str) -> pl.DataFrame:
    return pl.read_parquet(out / "discrepancies" / f"run_date={night}" / "part-0.parquet")


@pytest.mark.slow
def test_a_month_worked_by_a_finance_team(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    summary = generate(data, days=30, seed=53, rows=300)
    config_path = data / "walletrecon.toml"
    with config_path.open("a") as handle:
        handle.write('\n[decisions]\napproval_above = { CNY = "500.00", USD = "80.00" }\n')
    config = load_config(config_path)
    nights = [day.isoformat() for day in summary.dates]
    decided: set[str] = set()
    rejected_one = imported = False
    for index, night in enumerate(summary.dates):
        run_night(night, data / "inbox", out, config)
        if index % 3 != 2 or index == len(nights) - 1:
            continue
        rows = open_breaks(out, night.isoformat()).sort("discrepancy_id")
        fresh = [row for row in rows.iter_rows(named=True) if row["discrepancy_id"] not in decided]
        chosen = fresh[: max(1, len(fresh) // 3)]
        if not imported:  # the spreadsheet round trip, once
            export = CliRunner().invoke(main, ["tickets", "--out", str(out), "--format", "csv"])
            tickets = list(csv.DictReader(io.StringIO(export.output)))
            single = [t for t in tickets if " " not in t["discrepancy_ids"]][:3]
            for ticket in tickets:
                ticket["decision"] = "accept" if ticket in single else ""
                ticket["reason"] = "expected: merchant agreement" if ticket in single else ""
            sheet = tmp_path / "decisions.csv"
            with sheet.open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(tickets[0]))
                writer.writeheader()
                writer.writerows(tickets)
            before = len(read_log(out).decisions)
            decide(out, config_path, "import", str(sheet), user="dora")
            for decision in read_log(out).decisions[before:]:
                if decision.state == "proposed":
                    decide(out, config_path, "approve", decision.decision_id, user="erin")
                decided.update(decision.breaks)
            imported = True
            chosen = [row for row in chosen if row["discrepancy_id"] not in decided]
        for number, row in enumerate(chosen):
            action = "write-off" if number % 2 == 0 else "accept"
            identity = row["discrepancy_id"]
            said = decide(
                out, config_path, action, identity, "--reason", f"{action} {identity}", user="alice"
            )
            proposal = said.split()[0]
            if "proposed" in said:
                if not rejected_one:  # one proposal rejected: its break stays open, undecided
                    decide(out, config_path, "reject", proposal, "--reason", "no", user="bob")
                    rejected_one = True
                    continue
                decide(out, config_path, "approve", proposal, user="bob")
            decided.add(identity)
    assert imported and rejected_one

    last = nights[-1]
    still_open = set(open_breaks(out, last)["discrepancy_id"].to_list())
    state = out / "state" / f"run_date={last}"
    closed_by_decision = pl.read_parquet(state / "decided_discrepancies.parquet")
    resolved_by_data = set(
        pl.read_parquet(state / "resolved_discrepancies.parquet")["discrepancy_id"].to_list()
    )
    applied = set(closed_by_decision["discrepancy_id"].to_list())
    assert not still_open & decided, "a decided break is still open"
    assert decided - applied <= resolved_by_data, "a decided break neither closed nor resolved"
    # Every break ever published is open, closed by data, or closed by a decision.
    ever = set(
        pl.read_parquet(out / "discrepancies" / "run_date=*" / "*.parquet")["discrepancy_id"]
    )
    assert ever <= still_open | resolved_by_data | applied
    # A break closed by a decision names it, and the log has its user and reason.
    log = read_log(out).by_id()
    for row in closed_by_decision.iter_rows(named=True):
        decision = log[row["decision_id"]]
        assert row["discrepancy_id"] in decision.breaks
        assert decision.user and decision.reason
        assert row["resolution"] in ("written_off", "accepted")
    # The journal sums to the written-off amounts, currency by currency.
    journal: dict[str, Decimal] = {}
    for path in sorted((out / "journal").glob("run_date=*/adjustments.csv")):
        for line in csv.DictReader(io.StringIO(path.read_text())):
            journal[line["currency"]] = journal.get(line["currency"], Decimal(0)) + Decimal(
                line["amount"]
            )
    written = closed_by_decision.filter(pl.col("resolution") == "written_off")
    expected: dict[str, Decimal] = {}
    for row in written.iter_rows(named=True):
        minor = abs((row["actual_minor"] or 0) - (row["expected_minor"] or 0))
        exponent = {"JPY": 0, "KWD": 3}.get(row["currency"], 2)
        expected[row["currency"]] = expected.get(row["currency"], Decimal(0)) + Decimal(
            minor
        ).scaleb(-exponent)
    assert journal == expected and journal
    # The manifests count what each night applied.
    applied_total = sum(
        json.loads(path.read_text())["decisions"]["applied"]
        for path in (out / "manifest").glob("run_date=*/manifest.json")
    )
    assert (
        applied_total
        == pl.read_parquet(state / "applied_decisions.parquet")
        .filter(pl.col("outcome") == "applied")
        .height
    )
