"""Operating night after night: backfill, dry runs, re-runs that mark later nights stale, and one
run at a time per output folder."""

from __future__ import annotations

import datetime as dt
import errno
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.world import published
from walletrecon.cli import _exit_for, main
from walletrecon.errors import ConfigError, TransientError
from walletrecon.lock import run_lock

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
NIGHTS = sorted(path.name for path in (SAMPLE / "inbox").iterdir())


def invoke(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.output


def common(out: Path) -> list[str]:
    return [
        "--inbox",
        str(SAMPLE / "inbox"),
        "--out",
        str(out),
        "--config",
        str(SAMPLE / "walletrecon.toml"),
    ]


def test_backfill_gives_the_same_outputs_as_running_night_by_night(tmp_path: Path) -> None:
    for night in NIGHTS:
        assert invoke("run", "--date", night, *common(tmp_path / "straight"))[0] == 0
    code, output = invoke(
        "backfill", "--from", NIGHTS[0], "--to", NIGHTS[-1], *common(tmp_path / "filled")
    )
    assert code == 0
    assert output.count("open discrepancies") == len(NIGHTS)
    straight, filled = published(tmp_path / "straight"), published(tmp_path / "filled")
    assert straight.keys() == filled.keys()
    assert all(straight[name].equals(filled[name]) for name in straight)


def test_backfill_skips_dates_without_an_inbox_folder(tmp_path: Path) -> None:
    code, output = invoke("backfill", "--from", "2026-11-14", "--to", NIGHTS[0], *common(tmp_path))
    assert code == 0
    assert "2026-11-14: no inbox folder, skipped" in output


def test_dry_run_publishes_nothing(tmp_path: Path) -> None:
    code, output = invoke("run", "--date", NIGHTS[0], "--dry-run", *common(tmp_path))
    assert code == 0
    assert "dry run: nothing was published" in output
    assert not any(path.is_file() and not path.name.startswith(".") for path in tmp_path.rglob("*"))


def test_rerunning_an_earlier_night_marks_later_nights_stale_until_rerun(tmp_path: Path) -> None:
    straight = tmp_path / "straight"
    assert invoke("backfill", "--from", NIGHTS[0], "--to", NIGHTS[-1], *common(straight))[0] == 0
    again = tmp_path / "again"
    shutil.copytree(straight, again)
    assert invoke("run", "--date", NIGHTS[1], *common(again))[0] == 0
    stale = sorted(path.parent.name for path in again.glob("manifest/*/STALE"))
    assert stale == [f"run_date={night}" for night in NIGHTS[2:]]
    assert invoke("backfill", "--from", NIGHTS[2], "--to", NIGHTS[-1], *common(again))[0] == 0
    assert not list(again.glob("manifest/*/STALE"))
    first, second = published(straight), published(again)
    assert all(first[name].equals(second[name]) for name in first)


def test_a_second_run_on_the_same_output_folder_exits_75(tmp_path: Path) -> None:
    with run_lock(tmp_path):
        code, output = invoke("run", "--date", NIGHTS[0], *common(tmp_path))
    assert code == 75
    assert "is in use by pid" in output
    assert not (tmp_path / "manifest").exists()


def test_the_lock_is_free_again_after_a_run(tmp_path: Path) -> None:
    assert invoke("run", "--date", NIGHTS[0], *common(tmp_path))[0] == 0
    assert invoke("run", "--date", NIGHTS[0], "--wait", "1", *common(tmp_path))[0] == 0


def test_json_logs_give_one_object_per_stage_with_the_run_id(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["run", "--date", NIGHTS[0], "--log-format", "json", *common(tmp_path)]
    )
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    stages = [record["stage"] for record in records if "stage" in record]
    assert stages[:3] == ["discover", "load", "state"]
    assert "publish" in stages
    assert len({record["run_id"] for record in records}) == 1
    assert records[-1]["message"].endswith("done")
    assert records[-1]["counts"]["outcomes"]["ledger"]["balanced"] is True


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (PermissionError(errno.EACCES, "Permission denied", "out"), 2),
        (FileExistsError(errno.EEXIST, "File exists", "out"), 2),
        (OSError(errno.ENOSPC, "No space left on device"), 75),
        (TransientError("busy"), 75),
        (ConfigError("windows.settlement_days: bad"), 2),
        (RuntimeError("unforeseen"), 70),
    ],
)
def test_every_failure_maps_to_its_documented_exit_code(error: Exception, code: int) -> None:
    assert _exit_for(error) == code


def test_a_file_delivered_again_on_a_later_night_is_reported(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE / "inbox", inbox)
    shutil.copy(inbox / NIGHTS[0] / "settlement.csv", inbox / NIGHTS[1] / "settlement.csv")
    out = tmp_path / "out"
    arguments = ["--inbox", str(inbox), "--out", str(out)]
    arguments += ["--config", str(SAMPLE / "walletrecon.toml")]
    assert invoke("run", "--date", NIGHTS[0], *arguments)[0] == 0
    result = CliRunner().invoke(main, ["run", "--date", NIGHTS[1], *arguments])
    assert result.exit_code == 0
    warning = f"{NIGHTS[1]}/settlement.csv is byte for byte {NIGHTS[0]}/settlement.csv"
    assert warning in result.stderr
    manifest = json.loads(
        (out / "manifest" / f"run_date={NIGHTS[1]}" / "manifest.json").read_text()
    )
    assert any(warning in item for item in manifest["warnings"])
    assert (
        manifest["outcomes"]["settlement"]["redelivered"]
        == manifest["outcomes"]["settlement"]["read"]
        - manifest["outcomes"]["settlement"]["rejected"]
    )
    report = (out / "report" / f"run_date={NIGHTS[1]}" / "report.html").read_text()
    assert "same file was delivered twice" in report


def test_a_second_process_waits_for_the_lock_then_gives_up_with_75(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "walletrecon.cli", "run", "--date", NIGHTS[0]]
    command += [*common(tmp_path), "--wait", "1"]
    with run_lock(tmp_path):
        busy = subprocess.run(command, capture_output=True, text=True, check=False)
    assert busy.returncode == 75
    assert "is in use by pid" in busy.stderr
    free = subprocess.run(command, capture_output=True, text=True, check=False)
    assert free.returncode == 0


def test_every_stage_is_announced_in_order(tmp_path: Path) -> None:
    from walletrecon.config import load_config
    from walletrecon.pipeline import STAGES, run_night

    seen: list[str] = []
    config = load_config(SAMPLE / "walletrecon.toml")
    run_night(
        dt.date.fromisoformat(NIGHTS[0]), SAMPLE / "inbox", tmp_path, config, on_stage=seen.append
    )
    assert seen == list(STAGES)


def test_two_alike_files_read_by_one_catch_up_night_are_reported(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE / "inbox", inbox)
    shutil.copy(inbox / NIGHTS[0] / "settlement.csv", inbox / NIGHTS[1] / "settlement.csv")
    arguments = ["--inbox", str(inbox), "--out", str(tmp_path / "out")]
    arguments += ["--config", str(SAMPLE / "walletrecon.toml")]
    result = CliRunner().invoke(main, ["run", "--date", NIGHTS[1], *arguments])
    assert result.exit_code == 0, result.output
    warning = f"{NIGHTS[1]}/settlement.csv is byte for byte {NIGHTS[0]}/settlement.csv, read the"
    assert warning in result.stderr


def test_a_night_on_a_stale_state_stops_and_names_the_backfill(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("backfill", "--from", NIGHTS[0], "--to", NIGHTS[2], *common(out))[0] == 0
    assert invoke("run", "--date", NIGHTS[0], *common(out))[0] == 0  # marks 1 and 2 stale
    code, output = invoke("run", "--date", NIGHTS[3], *common(out))
    assert code == 2
    assert f"walletrecon backfill --from {NIGHTS[1]} --to {NIGHTS[3]}" in output
    assert not (out / "manifest" / f"run_date={NIGHTS[3]}").exists()
    assert invoke("backfill", "--from", NIGHTS[1], "--to", NIGHTS[3], *common(out))[0] == 0


def _summaries(output: str) -> list[str]:
    """The night summary lines, without their timing."""
    return [line.rsplit(" in ", 1)[0] for line in output.splitlines() if "rows read" in line]


def test_a_dry_run_backfill_reports_what_the_real_one_publishes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("run", "--date", NIGHTS[0], *common(out))[0] == 0

    def files() -> dict[Path, bytes]:  # the lock file says who holds it: not an output
        return {
            path: path.read_bytes()
            for path in out.rglob("*")
            if path.is_file() and path.name != ".walletrecon.lock"
        }

    before = files()
    code, dry = invoke(
        "backfill", "--from", NIGHTS[1], "--to", NIGHTS[-1], "--dry-run", *common(out)
    )
    assert code == 0, dry
    assert dry.count("dry run: nothing was published") == len(NIGHTS) - 1
    assert files() == before
    assert not [path for path in tmp_path.iterdir() if "dry-run" in path.name]
    code, real = invoke("backfill", "--from", NIGHTS[1], "--to", NIGHTS[-1], *common(out))
    assert code == 0
    assert _summaries(dry) == _summaries(real)
    # Night by night: the later nights built on the dry run's earlier ones (not on night 0).
    assert len(set(_summaries(real))) == len(NIGHTS) - 1
