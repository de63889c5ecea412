"""`walletrecon tickets`: list, filter and export a night's tickets."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.killer import ROOT
from tests.world import World, day
from walletrecon.cli import main
from walletrecon.lock import run_lock

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


def half_swapped(tmp_path: Path) -> World:
    """Night 0 published; night 1 SIGKILLed after its discrepancies were swapped in."""
    world = World(tmp_path).payment(0, "T1").settle(0, "T1", amount="11.00")
    world.run(0)
    world.payment(1, "T2")._write(1)
    command = [sys.executable, "-m", "tests.killer", "--swap", "2", day(1).isoformat()]
    command += [str(world.inbox), str(world.out)]
    killed = subprocess.run(command, capture_output=True, check=False, cwd=ROOT)
    assert killed.returncode == -signal.SIGKILL
    assert (world.out / "discrepancies" / f"run_date={day(1)}").is_dir()
    return world


def test_reading_tickets_rolls_back_a_half_swapped_night(tmp_path: Path) -> None:
    world = half_swapped(tmp_path)
    result = CliRunner().invoke(main, ["tickets", "--out", str(world.out), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert "rolled back a half-published night" in result.stderr
    assert {json.loads(line)["opened_on"] for line in result.stdout.splitlines()} == {
        day(0).isoformat()
    }
    assert not (world.out / "discrepancies" / f"run_date={day(1)}").exists()
    assert not list(world.out.glob(".publishing-*"))


def test_reading_tickets_while_a_run_publishes_exits_75(tmp_path: Path) -> None:
    world = half_swapped(tmp_path)
    with run_lock(world.out):
        result = CliRunner().invoke(main, ["tickets", "--out", str(world.out)])
    assert result.exit_code == 75
    assert f"{world.out} is in use" in result.stderr


def test_the_table_shows_no_data_types(out: Path) -> None:
    table = tickets(out).splitlines()
    assert table[0].split() == [
        "ticket_id",
        "status",
        "priority",
        "queue",
        "type",
        "key",
        "age_days",
        "due_date",
        "amount",
        "currency",
        "assignee",
    ]
    assert table[1].startswith("WR-")
    assert not [line for line in table if "str" in line.split() or "i64" in line.split()]


@pytest.mark.parametrize(
    ("option", "value"),
    [("--queue", "finance"), ("--type", "dup"), ("--status", "closed"), ("--date", "garbage")],
)
def test_unknown_filter_values_are_usage_errors(out: Path, option: str, value: str) -> None:
    result = CliRunner().invoke(main, ["tickets", "--out", str(out), option, value])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output
    assert "isoformat" not in result.output


def test_the_jira_export_leaves_resolved_tickets_out_unless_asked(out: Path) -> None:
    every = [json.loads(line) for line in tickets(out, "--format", "jsonl").splitlines()]
    resolved = {row["ticket_id"] for row in every if row["status"] == "resolved"}
    assert resolved
    jira = list(csv.DictReader(io.StringIO(tickets(out, "--format", "jira"))))
    assert {row["External ID"] for row in jira} == {row["ticket_id"] for row in every} - resolved
    asked = tickets(out, "--format", "jira", "--status", "resolved")
    assert {row["External ID"] for row in csv.DictReader(io.StringIO(asked))} == resolved
