"""A night's decisions on inline frames (``decisions.apply``): what each action does to the open
and decided breaks, in the log's order, and what it leaves alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from walletrecon.decisions.apply import apply_decisions
from walletrecon.decisions.model import GENESIS, Decision
from walletrecon.state import DECIDED_DISCREPANCIES, OPEN_DISCREPANCIES, empty

RUN = dt.date(2026, 11, 20)


def breaks(*ids: str, **columns: Any) -> pl.DataFrame:
    """Open breaks with these ids (an amount break of 10.00 CNY each)."""
    rows = [
        {
            "discrepancy_id": identity,
            "type": "amount_mismatch",
            "key": f"T-{identity}",
            "currency": "CNY",
            "expected_minor": 1000,
            "actual_minor": 900,
            "first_seen": RUN - dt.timedelta(days=3),
            "times_reopened": 0,
            "involved": [],
            **columns,
        }
        for identity in ids
    ]
    return pl.DataFrame(rows, schema=OPEN_DISCREPANCIES) if rows else empty(OPEN_DISCREPANCIES)


def decision(number: int, action: str, *ids: str, **extra: Any) -> Decision:
    return Decision(
        decision_id=f"DEC-{number:06d}",
        at="2026-11-19T12:00:00+00:00",
        user="alice",
        action=action,  # type: ignore[arg-type]
        target=ids[0] if ids else "X",
        reason="because",
        state="approved",
        previous_sha256=GENESIS,
        breaks=ids,
        **extra,
    )


def decided_of(open_breaks: pl.DataFrame, **columns: Any) -> pl.DataFrame:
    values = {"resolution": "accepted", "decision_id": "DEC-000009", "decided_on": RUN, **columns}
    return open_breaks.with_columns(
        pl.lit(value, dtype=DECIDED_DISCREPANCIES[name]).alias(name)
        for name, value in {"until": None, **values}.items()
    ).select(list(DECIDED_DISCREPANCIES))


def test_a_write_off_moves_its_open_break_to_the_decided_ones() -> None:
    applied = apply_decisions(
        breaks("B1", "B2"), empty(DECIDED_DISCREPANCIES), [decision(1, "write-off", "B1")], RUN
    )
    assert applied.open["discrepancy_id"].to_list() == ["B2"]
    row = applied.decided.row(0, named=True)
    assert (row["discrepancy_id"], row["resolution"], row["decision_id"]) == (
        "B1",
        "written_off",
        "DEC-000001",
    )
    assert row["decided_on"] == RUN and row["until"] is None
    assert applied.closed["discrepancy_id"].to_list() == ["B1"]
    assert applied.applied.select("decision_id", "outcome").rows() == [("DEC-000001", "applied")]


def test_an_accept_until_a_date_keeps_the_break_closed_through_that_date_only() -> None:
    until = RUN + dt.timedelta(days=2)
    first = apply_decisions(
        breaks("B1"), empty(DECIDED_DISCREPANCIES), [decision(1, "accept", "B1", until=until)], RUN
    )
    assert first.decided["until"].to_list() == [until]
    on_the_date = apply_decisions(first.open, first.decided, [], until)
    assert on_the_date.open.is_empty() and on_the_date.reopened == []
    after = apply_decisions(on_the_date.open, on_the_date.decided, [], until + dt.timedelta(1))
    assert after.decided.is_empty()
    assert after.open["discrepancy_id"].to_list() == ["B1"]
    assert after.open["times_reopened"].to_list() == [1]
    assert after.reopened == ["B1"]


def test_an_accept_for_good_never_opens_again() -> None:
    first = apply_decisions(
        breaks("B1"), empty(DECIDED_DISCREPANCIES), [decision(1, "accept", "B1")], RUN
    )
    later = apply_decisions(first.open, first.decided, [], RUN + dt.timedelta(days=400))
    assert later.open.is_empty() and later.decided["resolution"].to_list() == ["accepted"]


def test_reopen_brings_a_decided_break_back_with_its_first_seen_and_one_more_reopening() -> None:
    closed = decided_of(breaks("B1"))
    applied = apply_decisions(empty(OPEN_DISCREPANCIES), closed, [decision(2, "reopen", "B1")], RUN)
    assert applied.decided.is_empty()
    row = applied.open.row(0, named=True)
    assert row["first_seen"] == RUN - dt.timedelta(days=3) and row["times_reopened"] == 1
    assert applied.reopened == ["B1"]


def test_a_write_off_then_a_reopen_in_one_night_leave_the_break_open_and_nothing_closed() -> None:
    applied = apply_decisions(
        breaks("B1"),
        empty(DECIDED_DISCREPANCIES),
        [decision(1, "write-off", "B1"), decision(2, "reopen", "B1")],
        RUN,
    )
    assert applied.open["discrepancy_id"].to_list() == ["B1"]
    assert applied.closed.is_empty() and applied.decided.is_empty()


def test_assign_sets_the_assignee_and_closes_nothing() -> None:
    applied = apply_decisions(
        breaks("B1", "B2"),
        empty(DECIDED_DISCREPANCIES),
        [decision(1, "assign", "B2", assignee="carol")],
        RUN,
    )
    assignees = dict(applied.open.select("discrepancy_id", "assignee").rows())
    assert assignees == {"B1": None, "B2": "carol"}
    assert applied.decided.is_empty()


def test_a_comment_changes_no_break() -> None:
    before = breaks("B1")
    applied = apply_decisions(
        before, empty(DECIDED_DISCREPANCIES), [decision(1, "comment", "B1")], RUN
    )
    assert applied.open.equals(before)
    assert applied.applied["outcome"].to_list() == ["applied"]


def test_a_decision_whose_breaks_are_gone_is_void_and_says_why() -> None:
    applied = apply_decisions(
        breaks("B2"),
        empty(DECIDED_DISCREPANCIES),
        [decision(1, "write-off", "B1"), decision(2, "reopen", "B2")],
        RUN,
    )
    outcomes = applied.applied.select("decision_id", "outcome", "note").rows()
    assert outcomes == [
        ("DEC-000001", "void", "none of its breaks was open any more"),
        ("DEC-000002", "void", "none of its breaks was closed by a decision any more"),
    ]
    assert applied.open["discrepancy_id"].to_list() == ["B2"]


def test_breaks_no_decision_names_pass_through_untouched() -> None:
    before = breaks("B1", "B2", "B3")
    applied = apply_decisions(before, empty(DECIDED_DISCREPANCIES), [], RUN)
    assert applied.open.equals(before.sort("type", "discrepancy_id"))
    assert applied.applied.is_empty() and applied.closed.is_empty()
