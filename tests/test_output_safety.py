"""Outputs a person opens are safe: no CSV cell runs as a spreadsheet formula, the HTML report
escapes what it shows, and files and folders are written 0644/0755 whatever the caller's umask."""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from tests.world import World, day
from walletrecon.cli import main
from walletrecon.spreadsheet import neutralise

FORMULA = '=HYPERLINK("http://evil.example/?x=1","<b>click</b>")'


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (FORMULA, "'" + FORMULA),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12.50", "-12.50"),
        ("+3", "+3"),
        ("BL-1", "BL-1"),
        ("a=b", "a=b"),
    ],
)
def test_a_text_cell_that_a_spreadsheet_would_evaluate_is_quoted(cell: str, written: str) -> None:
    assert neutralise(pl.DataFrame({"key": [cell]}))["key"].to_list() == [written]


def test_numbers_and_nulls_are_left_as_they_are() -> None:
    frame = pl.DataFrame({"amount": [-1250, None], "note": [None, "-0.5"]})
    assert neutralise(frame).equals(frame)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> World:
    world = World(tmp_path_factory.mktemp("safety"), windows={"settlement_days": 0})
    world.add(0, "bank", {"bank_line_id": FORMULA, "amount": "12.50", "value_date": day(0)})
    world.add(0, "bank", {"bank_line_id": "@rejected", "amount": "=1+1", "value_date": day(0)})
    world.run(0)
    return world


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_published_csv_files_neutralise_formulas(night: World) -> None:
    tickets = night.out / "tickets" / f"run_date={day(0)}" / "tickets.csv"
    rejected = night.out / "rejected_csv" / f"run_date={day(0)}" / "rejected.csv"
    assert "'" + FORMULA in cells(tickets.read_text())
    assert FORMULA not in cells(tickets.read_text())
    rejected_cells = cells(rejected.read_text())
    assert any("=1+1" in cell for cell in rejected_cells)
    assert not [cell for cell in rejected_cells if cell.startswith(("=", "+", "-", "@"))]


@pytest.mark.parametrize("form", ["csv", "jira"])
def test_ticket_exports_neutralise_formulas(night: World, form: str) -> None:
    result = CliRunner().invoke(main, ["tickets", "--out", str(night.out), "--format", form])
    assert result.exit_code == 0, result.output
    exported = cells(result.output)
    assert not [cell for cell in exported if cell.startswith(("=", "+", "@"))]
    assert any(FORMULA in cell for cell in exported)


def test_the_report_escapes_what_it_shows(night: World) -> None:
    html = (night.out / "report" / f"run_date={day(0)}" / "report.html").read_text()
    assert "&lt;b&gt;click&lt;/b&gt;" in html
    assert "<b>click</b>" not in html


def test_outputs_are_0644_and_folders_0755_under_a_permissive_umask(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").receive(0, "T1", amount="9.00").payment(1, "T2")
    previous = os.umask(0)
    try:
        world.run(0)
        # A decision (the log and its head), then a night that applies it (journal, index,
        # archived inputs): all written under the same permissive umask.
        ticket = (world.out / "tickets" / f"run_date={day(0)}" / "tickets.jsonl").read_text()
        command = ["decide", "comment", ticket.split('"ticket_id":"')[1].split('"')[0]]
        command += ["--reason", "seen", "--out", str(world.out), "--user", "a"]
        assert CliRunner().invoke(main, command).exit_code == 0
        world.run(1)
    finally:
        os.umask(previous)
    modes = {
        path.relative_to(world.out): stat.S_IMODE(path.stat().st_mode)
        for path in [world.out, *world.out.rglob("*")]
    }
    loose = {
        str(path): oct(mode)
        for path, mode in modes.items()
        if mode & 0o022 or (mode & 0o111 and not (world.out / path).is_dir())
    }
    assert loose == {}
    assert len(modes) > 20
    names = {path.name for path in modes}
    assert {"decisions.jsonl", "HEAD.json", "adjustments.csv", "index.html"} <= names
