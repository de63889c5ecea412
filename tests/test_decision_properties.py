"""Properties of decisions: whatever is decided after a night, re-running that night (or the
nights before it) publishes the same outputs; decided breaks never come back by themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.world import World, day
from walletrecon.cli import main

ACTIONS = ("write-off", "accept", "assign", "comment")
OUTPUTS = ("discrepancies", "tickets", "journal")


def world_of(root: Path) -> World:
    world = World(root)
    world.payment(0, "T1").receive(0, "T1")
    world.payment(0, "T2").receive(0, "T2").settle(0, "T2", amount="9.00")
    world.payment(1, "T3").settle(1, "T3").receive(1, "T3", amount="11.00")
    world.payment(1, "T4").receive(1, "T4").settle(1, "T4X")
    return world


def snapshot(out: Path, nights: range) -> dict[str, bytes]:
    return {
        str(path.relative_to(out)): path.read_bytes()
        for kind in OUTPUTS
        for night in nights
        for path in sorted((out / kind / f"run_date={day(night)}").iterdir())
    }


@pytest.mark.slow
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(choices=st.lists(st.tuples(st.integers(0, 20), st.sampled_from(ACTIONS)), max_size=4))
def test_decisions_never_change_a_published_night(
    tmp_path_factory: pytest.TempPathFactory, choices: list[tuple[int, str]]
) -> None:
    world = world_of(tmp_path_factory.mktemp("world"))
    world.run_through(3)
    before = snapshot(world.out, range(4))
    tickets = CliRunner().invoke(main, ["tickets", "--out", str(world.out), "--format", "jsonl"])
    ids = [line.split('"ticket_id":"')[1].split('"')[0] for line in tickets.output.splitlines()]
    for pick, action in choices:
        extra = ["--to", "carol"] if action == "assign" else []
        command = ["decide", action, ids[pick % len(ids)], "--reason", "r", *extra]
        CliRunner().invoke(main, [*command, "--out", str(world.out), "--user", "u"])
    for night in (2, 3):
        world.run(night)
    assert snapshot(world.out, range(4)) == before
