"""Issue acceptance scenario: ten nights run straight, and ten nights run with a killed night, a
re-run night in the middle and a backfill, end with identical outputs."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.killer import ROOT
from tests.world import published
from walletrecon.cli import main
from walletrecon.sample import generate


def cli(data: Path, out: Path, *arguments: str) -> int:
    common = ["--inbox", str(data / "inbox"), "--out", str(out)]
    common += ["--config", str(data / "walletrecon.toml")]
    return CliRunner().invoke(main, [*arguments, *common]).exit_code


@pytest.mark.slow
def test_ten_nights_straight_and_with_a_kill_a_rerun_and_a_backfill_end_the_same(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    summary = generate(data, days=10, seed=23, rows=300)
    nights = [day.isoformat() for day in summary.dates]
    straight = tmp_path / "straight"
    assert cli(data, straight, "backfill", "--from", nights[0], "--to", nights[-1]) == 0

    bumpy = tmp_path / "bumpy"
    assert cli(data, bumpy, "backfill", "--from", nights[0], "--to", nights[3]) == 0
    command = [sys.executable, "-m", "tests.killer", "--stage", "publish", nights[4]]
    command += [str(data / "inbox"), str(bumpy), str(data / "walletrecon.toml")]
    killed = subprocess.run(command, check=False, cwd=ROOT)
    assert killed.returncode == -signal.SIGKILL
    assert cli(data, bumpy, "backfill", "--from", nights[4], "--to", nights[7]) == 0
    assert cli(data, bumpy, "run", "--date", nights[5]) == 0  # a re-run in the middle
    assert list(bumpy.glob("manifest/*/STALE"))
    assert cli(data, bumpy, "backfill", "--from", nights[6], "--to", nights[-1]) == 0

    expected, actual = published(straight, state=True), published(bumpy, state=True)
    assert expected.keys() == actual.keys()
    for name, frame in expected.items():
        assert actual[name].equals(frame), name
    assert not list(bumpy.glob("manifest/*/STALE"))
    assert dt.date.fromisoformat(nights[-1]) == summary.dates[-1]
