"""Faults while publishing: a failure or a kill at any point of the swap leaves the previous
outputs of the night intact, and the next run succeeds."""

from __future__ import annotations

import gzip
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import walletrecon.publish as publish_module
from tests.killer import ROOT
from tests.world import World, day
from walletrecon.cli import main
from walletrecon.pipeline import STAGES

KINDS = len(publish_module.KINDS)


def snapshot(out: Path) -> dict[str, bytes]:
    """Every published file of an output folder (state included), by relative path: not a
    killed run's hidden leftovers (spills, staging), which the next run removes."""
    return {
        str(path.relative_to(out)): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(out).parts)
    }


def kill(point: list[str], world: World) -> subprocess.CompletedProcess[bytes]:
    """Run night 0 of a world in another process, SIGKILLed at the given point."""
    command = [sys.executable, "-m", "tests.killer", *point, "2026-11-20"]
    command += [str(world.inbox), str(world.out)]
    return subprocess.run(command, capture_output=True, check=False, cwd=ROOT)


def two_versions(tmp_path: Path) -> World:
    """A night published once; its inbox then changes so that a re-run publishes other rows."""
    world = World(tmp_path).payment(0, "T1").receive(0, "T1").settle(0, "T1")
    world.run(0)
    world.rows[(0, "settlement")][0]["gross_amount"] = "9.00"
    world.rows[(0, "settlement")][0]["net_amount"] = "9.00"
    return world


@pytest.mark.parametrize("failing_call", range(1, KINDS + 1))
def test_a_failure_during_the_swap_rolls_back_to_the_previous_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_call: int
) -> None:
    world = two_versions(tmp_path)
    before = snapshot(world.out)
    calls = {"count": 0}
    real_swap = publish_module.swap_in

    def flaky_swap(staged: Path, target: Path, trash: Path) -> None:
        calls["count"] += 1
        if calls["count"] == failing_call:
            raise OSError(28, "No space left on device")
        real_swap(staged, target, trash)

    monkeypatch.setattr(publish_module, "swap_in", flaky_swap)
    with pytest.raises(OSError):
        world.run(0)
    monkeypatch.undo()
    assert snapshot(world.out) == before
    assert not list(world.out.glob(".*"))
    world.run(0)
    assert world.breaks(0) == {("amount_mismatch", "T1")}


@pytest.mark.slow
@pytest.mark.parametrize("killing_call", [1, KINDS // 2, KINDS])
def test_a_run_killed_during_the_swap_is_rolled_back_by_the_next_run(
    tmp_path: Path, killing_call: int
) -> None:
    world = two_versions(tmp_path)
    world._write(0)
    before = snapshot(world.out)
    result = kill(["--swap", str(killing_call)], world)
    assert result.returncode == -signal.SIGKILL
    assert list(world.out.glob(".publishing-*.json"))
    publish_module.recover(world.out)
    assert snapshot(world.out) == before
    world.run(0)
    assert world.breaks(0) == {("amount_mismatch", "T1")}


# mtime=0: the same bytes on every run.
TRUNCATED_GZIP = gzip.compress(b"settlement_id,gateway\nS1,adyen\n" * 50, mtime=0)[:40]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("settlement.csv.gz", TRUNCATED_GZIP, "cannot read"),
        ("settlement.csv", b"", "empty"),
        ("settlement.parquet", b"PAR1 not really parquet", "cannot read as Parquet"),
        ("settlement.csv", "settlement_id,gateway\n".encode("utf-16"), "UTF-8"),
    ],
    ids=["truncated-gzip", "empty", "corrupt-parquet", "utf-16"],
)
def test_unreadable_files_exit_2_and_leave_the_outputs_intact(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    world = World(tmp_path).payment(0, "T1").receive(0, "T1").settle(0, "T1")
    world.run(0)
    before = snapshot(world.out)
    folder = world.inbox / "2026-11-20"
    (folder / "settlement.csv").unlink()
    (folder / name).write_bytes(content)
    arguments = ["run", "--date", "2026-11-20", "--inbox", str(world.inbox)]
    result = CliRunner().invoke(main, [*arguments, "--out", str(world.out)])
    assert result.exit_code == 2
    assert message in result.output
    assert snapshot(world.out) == before


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_a_run_killed_at_any_stage_leaves_the_outputs_and_the_next_run_succeeds(
    tmp_path: Path, stage: str
) -> None:
    world = two_versions(tmp_path)
    world._write(0)
    before = snapshot(world.out)
    result = kill(["--stage", stage], world)
    assert result.returncode == -signal.SIGKILL
    assert snapshot(world.out) == before
    world.run(0)
    assert world.breaks(0) == {("amount_mismatch", "T1")}
    assert not list(world.out.glob(".*-*"))


def test_a_registry_hashed_another_way_stops_the_night_with_exit_2(tmp_path: Path) -> None:
    world = World(tmp_path).payment(0, "T1").receive(0, "T1").settle(0, "T1")
    world.payment(1, "T2")
    world.run(0)
    registry = next(world.out.glob("state/run_date=*/registry.parquet"))
    table = pq.read_table(registry)
    pq.write_table(table.replace_schema_metadata({}), registry)  # as an earlier version wrote it
    world._write(1)
    before = snapshot(world.out)
    arguments = ["run", "--date", day(1).isoformat(), "--inbox", str(world.inbox)]
    result = CliRunner().invoke(main, [*arguments, "--out", str(world.out)])
    assert result.exit_code == 2
    assert "content hashes" in result.output
    assert "backfill" in result.output
    assert snapshot(world.out) == before
