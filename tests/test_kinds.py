"""The registry of discrepancy kinds: its invariants, and a kind declared there alone reaching
every table derived from it (types, severities, lifecycle, queues, actions, resolutions)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import click
import polars as pl
import pytest
from click.testing import CliRunner

from tests.shared import shared
from walletrecon import kinds
from walletrecon.cli import main
from walletrecon.config import DUE_DAYS, Tickets, parse_config
from walletrecon.errors import ConfigError
from walletrecon.evaluate import score
from walletrecon.kinds import KINDS, NO_LONGER_FOUND, QUEUES, STEPS, Kind
from walletrecon.lifecycle import advance, to_report_rows
from walletrecon.schemas import DISCREPANCY_SCHEMA, SEVERITIES
from walletrecon.state import FINDING, OPEN_DISCREPANCIES, RESOLVED_DISCREPANCIES, conform, empty
from walletrecon.tickets import build_tickets

CONTRACT = shared("CONTRACT.md")
NIGHT = dt.date(2026, 11, 20)
NEW_KIND = Kind(
    name="refund_mismatch",
    key=("txn_id",),
    severity="medium",
    queue="merchant_support",
    steps=("look.", "note.", "hand over.", "tell.", "watch."),
    resolvable=True,
    explanation="a refund the merchant reports differs from the ledger's",
    resolution="the refunds agree again",
    per_currency=True,
)


def contract_types() -> dict[str, str]:
    """The contract's discrepancy types (section 2's table): type -> its key cell."""
    section = CONTRACT.read_text().split("## 2. ")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", section, re.MULTILINE)
    return {name: key for name, key in rows}


def finding(kind: str, currency: str = "CNY") -> pl.DataFrame:
    """One finding of a kind, as a classifier gives it."""
    row = {
        "type": [kind],
        "key": ["T1"],
        "txn_id": ["T1"],
        "currency": [currency],
        "expected_minor": [1000],
        "actual_minor": [900],
        "explanation": ["a break"],
        "evidence": ["ledger.csv:1"],
        "involved": [["ledger:E1"]],
    }
    return conform(pl.DataFrame(row), FINDING)


def test_kind_names_are_unique_and_are_the_contracts_types() -> None:
    names = kinds.names()
    assert len(set(names)) == len(names)
    assert list(names) == list(contract_types())


def test_every_kind_has_a_severity_queue_steps_key_and_explanation() -> None:
    for kind in KINDS:
        assert kind.severity in SEVERITIES, kind.name
        assert kind.queue in QUEUES, kind.name
        assert len(kind.steps) == len(STEPS) and all(step.strip() for step in kind.steps)
        assert kind.key and set(kind.key) <= set(DISCREPANCY_SCHEMA), kind.name
        assert kind.key[0] in contract_types()[kind.name], kind.name
        assert kind.explanation.strip() and kind.resolution.strip(), kind.name


def test_kinds_data_can_clear_say_how_they_were_resolved() -> None:
    for kind in KINDS:
        assert (kind.resolution != NO_LONGER_FOUND) == kind.resolvable, kind.name


def test_a_suggested_action_numbers_and_names_the_five_steps() -> None:
    action = NEW_KIND.suggested_action
    assert action == (
        "1. Confirm: look. 2. Record and classify: note. 3. Hand over: hand over. "
        "4. Tell the customer: tell. 5. Review: watch."
    )


def test_the_queue_configuration_takes_declared_kinds_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queues = {"tickets": {"queues": {NEW_KIND.name: "finance_ops"}}}
    with pytest.raises(ConfigError, match="unknown discrepancy type 'refund_mismatch'"):
        parse_config(queues)
    monkeypatch.setattr(kinds, "KINDS", (*KINDS, NEW_KIND))
    assert parse_config(queues).tickets.queues == {NEW_KIND.name: "finance_ops"}


def test_a_kind_declared_alone_reaches_every_derived_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(pl.exceptions.InvalidOperationError):
        to_report_rows(conform(finding(NEW_KIND.name), OPEN_DISCREPANCIES), NIGHT)
    monkeypatch.setattr(kinds, "KINDS", (*KINDS, NEW_KIND))
    assert NEW_KIND.name in kinds.names()
    none_resolved = empty(RESOLVED_DISCREPANCIES)
    two = pl.concat([finding(NEW_KIND.name), finding(NEW_KIND.name, currency="USD")])
    first = advance(empty(OPEN_DISCREPANCIES), none_resolved, two, NIGHT)
    assert first.open.height == 2  # its identity includes the currency
    rows = to_report_rows(first.open, NIGHT)
    assert rows["severity"].to_list() == ["medium", "medium"]
    opened = build_tickets(rows, first.resolved, NIGHT, Tickets())
    assert opened["queue"].to_list() == ["merchant_support", "merchant_support"]
    assert opened["suggested_action"].to_list() == [NEW_KIND.suggested_action] * 2
    later = NIGHT + dt.timedelta(days=1)
    second = advance(first.open, first.resolved_history, empty(FINDING), later)
    assert (second.open.height, second.resolved.height) == (0, 2)  # data can clear it
    closed = build_tickets(to_report_rows(second.open, later), second.resolved, later, Tickets())
    assert closed["resolution"].to_list() == ["the refunds agree again"] * 2
    truth = tmp_path / "truth.csv"
    truth.write_text("type,key\n")
    assert NEW_KIND.name in [item.type for item in score(truth, tmp_path)]


def test_a_fact_kind_declared_alone_stays_open_until_a_person_resolves_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fact = dataclasses.replace(NEW_KIND, resolvable=False, resolution=NO_LONGER_FOUND)
    monkeypatch.setattr(kinds, "KINDS", (*KINDS, fact))
    first = advance(
        empty(OPEN_DISCREPANCIES), empty(RESOLVED_DISCREPANCIES), finding(fact.name), NIGHT
    )
    later = advance(first.open, first.resolved_history, empty(FINDING), NIGHT)
    assert (later.open.height, later.resolved.height) == (1, 0)


def test_the_tickets_type_choice_is_the_registry() -> None:
    command = main.commands["tickets"]
    [choice] = [param.type for param in command.params if param.name == "types"]
    assert isinstance(choice, click.Choice)
    assert tuple(choice.choices) == kinds.names()
    result = CliRunner().invoke(main, ["tickets", "--out", ".", "--type", NEW_KIND.name])
    assert result.exit_code == 2 and "refund_mismatch" in result.output


def test_every_severity_has_days_to_fix_and_a_partial_setting_keeps_the_rest() -> None:
    assert set(DUE_DAYS) == set(SEVERITIES)
    assert Tickets().due_days == DUE_DAYS
    assert Tickets(due_days={"high": 0}).due_days == {**DUE_DAYS, "high": 0}
