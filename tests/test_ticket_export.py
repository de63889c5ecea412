"""`walletrecon tickets`: list, filter and export a night's tickets."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from walletrecon.cli import main

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tickets") / "out"
    arguments = ["backfill", "--from", "2026-11-16", "--to", "2026-11-20"]
    arguments += ["--inbox", str(SAMPLE / "inbox"), "--out", str(folder)]
    arguments += ["--config", str(SAMPLE / "walletrecon.toml")]
    assert CliRunner().invoke(main, arguments).exit_code == 0
    return folder


def tickets(out: Path, *arguments: str) -> str:
    result = CliRunner().invoke(main, ["tickets", "--out", str(out), *arguments])
    assert result.exit_code == 0, result.output
    return result.output


def test_jsonl_export_of_the_latest_night_holds_every_ticket(out: Path) -> None:
    lines = tickets(out, "--format", "jsonl").splitlines()
    published = (out / "tickets" / "run_date=2026-11-20" / "tickets.jsonl").read_text()
    assert len(lines) == len(published.splitlines()) > 0
    assert {json.loads(line)["ticket_id"] for line in lines} == {
        json.loads(line)["ticket_id"] for line in published.splitlines()
    }


def test_filters_keep_only_matching_tickets(out: Path) -> None:
    rows = [
        json.loads(line)
        for line in tickets(
            out, "--format", "jsonl", "--queue", "finance_ops", "--min-age", "2"
        ).splitlines()
    ]
    assert rows
    assert all(row["queue"] == "finance_ops" and row["age_days"] >= 2 for row in rows)
    typed = tickets(out, "--format", "jsonl", "--type", "sync_delay", "--status", "new")
    assert all(
        json.loads(line)["type"] == "sync_delay" and json.loads(line)["status"] == "new"
        for line in typed.splitlines()
    )


def test_an_earlier_night_can_be_chosen(out: Path) -> None:
    first = tickets(out, "--date", "2026-11-16", "--format", "jsonl").splitlines()
    assert {json.loads(line)["opened_on"] for line in first} == {"2026-11-16"}


def test_jira_csv_has_the_columns_the_importer_maps(out: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(tickets(out, "--format", "jira"))))
    assert rows
    assert list(rows[0]) == [
        "Summary",
        "Issue Type",
        "Priority",
        "Description",
        "Labels",
        "Due Date",
        "External ID",
    ]
    assert {row["Priority"] for row in rows} <= {"Highest", "High", "Medium", "Low"}
    assert all(row["External ID"].startswith("WR-") for row in rows)


def test_table_output_counts_the_tickets(out: Path) -> None:
    assert tickets(out, "--type", "duplicate").rstrip().endswith("ticket(s)")


def test_a_folder_without_tickets_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["tickets", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "no published tickets" in result.output


def test_resolved_tickets_after_many_open_ones_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "tickets" / "run_date=2026-11-20"
    folder.mkdir(parents=True)
    rows = [{"ticket_id": f"WR-{n}", "status": "open", "resolution": None} for n in range(150)]
    rows.append({"ticket_id": "WR-X", "status": "resolved", "resolution": "the receipt arrived"})
    (folder / "tickets.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    lines = tickets(tmp_path, "--status", "resolved", "--format", "jsonl").splitlines()
    assert [json.loads(line)["ticket_id"] for line in lines] == ["WR-X"]
