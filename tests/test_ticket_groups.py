"""Tickets group the breaks a person handles together: a payout's breaks, and one account's
breaks of one type. A group's ticket stays open while any of its breaks is open."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.world import World, at, day
from walletrecon.lifecycle import _digest
from walletrecon.tickets import _grouped, _many, _single, _ticket_id


def tickets(world: World, night: int) -> list[dict[str, Any]]:
    path = world.out / "tickets" / f"run_date={day(night)}" / "tickets.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_payouts_breaks_share_one_ticket(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.payment(0, "T1").receive(0, "T1").settle(0, "T1", payout_id="PO-8")
    world.payment(0, "T2").receive(0, "T2")
    world.settle(0, "T2", gross_amount="9.00", net_amount="9.00", payout_id="PO-8")
    world.add(
        0,
        "bank",
        {"bank_line_id": "B1", "amount": "18.00", "value_date": day(0), "reference": "PO-8"},
    )
    world.run(0)
    [ticket] = tickets(world, 0)
    assert ticket["key"] == "PO-8"
    assert ticket["type"] == "payout_mismatch"  # the most urgent break leads
    assert len(ticket["discrepancy_ids"]) == 2
    assert ticket["summary"].startswith("2 breaks: ")


def test_one_accounts_breaks_of_one_type_share_one_ticket(tmp_path: Path) -> None:
    world = World(tmp_path)
    for txn in ("T1", "T2"):
        world.payment(0, txn).receive(0, txn).settle(0, txn)
        world.payment(0, txn, entry_id=f"E-{txn}-again")
    world.run(0)
    [ticket] = [t for t in tickets(world, 0) if t["type"] == "duplicate"]
    assert (ticket["key"], len(ticket["discrepancy_ids"])) == ("A1", 2)
    assert ticket["amount"] == "-20.00"


def test_a_group_ticket_is_resolved_only_when_all_its_breaks_are_gone(tmp_path: Path) -> None:
    world = World(tmp_path)
    for txn in ("T1", "T2"):
        world.payment(0, txn).receive(0, txn)
    world.settle(3, "T1", settled_at=at(0, 12))
    world.settle(4, "T2", settled_at=at(0, 12))
    world.run_through(4)
    statuses = {
        night: [(t["status"], len(t["discrepancy_ids"])) for t in tickets(world, night)]
        for night in (2, 3, 4)
    }
    assert statuses == {2: [("new", 2)], 3: [("open", 1)], 4: [("resolved", 1)]}
    ids = {t["ticket_id"] for night in (2, 3, 4) for t in tickets(world, night)}
    assert len(ids) == 1


def test_every_suggested_action_follows_the_five_handling_steps(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.payment(0, "T1").receive(0, "T1").settle(0, "T1", gross_amount="9.00", net_amount="9.00")
    world.run(0)
    [ticket] = tickets(world, 0)
    action = ticket["suggested_action"]
    steps = ["1. Confirm:", "2. Record and classify:", "3. Hand over:", "4. Tell the customer:"]
    assert all(step in action for step in [*steps, "5. Review:"])
    assert [action.index(step) for step in steps] == sorted(action.index(step) for step in steps)


def test_ids_are_the_sha256_digits_earlier_nights_published() -> None:
    """Ids must never change between versions: they are SHA-256 hex digits of the identity
    (24, lower-case) and of the group key (12, upper-case, after WR-)."""
    texts = ["amount_mismatch|gw-1|", "account:A1:balance_mismatch", "ünï€|x"]
    frame = pl.DataFrame({"text": texts}).select(
        _digest("text").alias("discrepancy"), _ticket_id("text").alias("ticket")
    )
    digests = [hashlib.sha256(text.encode()).hexdigest() for text in texts]
    assert frame["discrepancy"].to_list() == [digest[:24] for digest in digests]
    assert frame["ticket"].to_list() == ["WR-" + digest[:12].upper() for digest in digests]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["CNY", "USD", None]),
            st.one_of(st.none(), st.decimals(-1000, 1000, places=2)),
            st.sampled_from(["settled", None]),
            st.dates(dt.date(2026, 11, 1), dt.date(2026, 11, 3)),
        ),
        max_size=6,
    )
)
def test_a_ticket_of_one_break_is_what_the_grouping_gives_it(
    rows: list[tuple[str | None, Decimal | None, str | None, dt.date]],
) -> None:
    """The plain select for groups of one break gives, column by column, what the group-by of
    several breaks gives a group of one (an unknown amount sums to 0, no resolution or assignee
    is '', no decision an empty list)."""
    items = pl.DataFrame(
        {
            "group": [f"break:D{index}" for index in range(len(rows))],
            "status": ["open"] * len(rows),
            "discrepancy_id": [f"D{index}" for index in range(len(rows))],
            "type": ["duplicate"] * len(rows),
            "ticket_key": [f"K{index}" for index in range(len(rows))],
            "queue": ["finance_ops"] * len(rows),
            "priority": ["P2"] * len(rows),
            "severity": ["high"] * len(rows),
            "due_date": [row[3] for row in rows],
            "opened_on": [row[3] for row in rows],
            "age_days": [0] * len(rows),
            "currency": [row[0] for row in rows],
            "amount_value": [row[1] for row in rows],
            "summary": ["s"] * len(rows),
            "suggested_action": ["a"] * len(rows),
            "resolution": [row[2] for row in rows],
            "times_reopened": [0] * len(rows),
            "assignee": [row[2] for row in rows],
            "decision_id": [row[2] for row in rows],
            "suggested_match": [row[2] for row in rows],
            "suggestion_confidence": [row[2] and "0.95" for row in rows],
            "suggestion_reason": [row[2] for row in rows],
            "likely_cause": [row[2] for row in rows],
            "cause_confidence": [row[2] and "0.90" for row in rows],
            "run_date": [dt.date(2026, 11, 2)] * len(rows),
        },
        schema_overrides={
            "assignee": pl.String,
            "decision_id": pl.String,
            "suggested_match": pl.String,
            "suggestion_confidence": pl.String,
            "suggestion_reason": pl.String,
            "likely_cause": pl.String,
            "cause_confidence": pl.String,
            "currency": pl.String,
            "amount_value": pl.Decimal(38, 4),
            "resolution": pl.String,
            "due_date": pl.Date,
            "opened_on": pl.Date,
            "run_date": pl.Date,
        },
    )
    single = _single(items).sort("group")
    grouped = _many(items).select(single.columns).sort("group")
    assert single.equals(grouped.cast(single.schema))
    assert single.schema == _grouped(items).schema
