"""Masked ids: the report and the tickets hide account and merchant ids when configured to; the
Parquet keeps them whole; tickets keep their ids."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.world import World, day
from walletrecon.privacy import ids_of, mask_text, masked


@pytest.mark.parametrize(
    ("identifier", "shown"),
    [("A0000015", "A0****15"), ("M00007", "M0**07"), ("AB", "**"), ("A", "*"), ("ABC", "A*C")],
)
def test_an_id_keeps_its_ends_and_hides_its_middle(identifier: str, shown: str) -> None:
    assert masked(identifier) == shown


def test_an_id_is_masked_inside_words_and_a_longer_id_first() -> None:
    rows = pl.DataFrame(
        {
            "account_id": ["A0001", "A00010"],
            "merchant_id": [None, "M0007"],
            "explanation": ["A0001 paid", "A00010 paid M0007"],
            "discrepancy_id": ["x", "y"],
        }
    )
    shown = mask_text(rows, ids_of(rows))
    assert shown["explanation"].to_list() == ["A0*01 paid", "A0**10 paid M0*07"]
    assert shown["discrepancy_id"].to_list() == ["x", "y"]


def test_masked_ids_in_report_and_tickets_whole_in_the_parquet(tmp_path: Path) -> None:
    plain, private = (
        World(tmp_path / "plain"),
        World(tmp_path / "private", privacy={"mask_ids": True}),
    )
    for world in (plain, private):
        world.payment(0, "T1", account_id="A0000015").receive(0, "T1")
        world.run_through(2)
    night = f"run_date={day(2)}"
    tickets = [
        json.loads(line)
        for line in (private.out / "tickets" / night / "tickets.jsonl").read_text().splitlines()
    ]
    whole = [
        json.loads(line)
        for line in (plain.out / "tickets" / night / "tickets.jsonl").read_text().splitlines()
    ]
    assert [item["ticket_id"] for item in tickets] == [item["ticket_id"] for item in whole]
    assert not any("A0000015" in json.dumps(item) for item in tickets)
    assert any("A0****15" in item["key"] for item in tickets)
    report = (private.out / "report" / night / "report.html").read_text()
    assert "A0000015" not in report
    assert (private.out / "tickets" / night / "tickets.csv").read_text().count("A0000015") == 0
    assert private.open(2)["account_id"].to_list() == plain.open(2)["account_id"].to_list()
    assert "A0000015" in private.open(2)["account_id"].to_list()
