"""Which files a night reads: late files of folders an earlier night already reconciled (new,
appended to, or a whole new folder), and inbox entries that are not business-date folders."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner, Result

from tests.world import published
from walletrecon.cli import main
from walletrecon.sources import inbox as inbox_module
from walletrecon.sources.inbox import FILES_SCHEMA, discover, inbox_folders

NIGHTS = ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19"]
#: The kernel's carried frames: a late file read on a later night must leave them as they would
#: have been with the file on time.
CARRIED = ("ledger", "settlement", "receipts", "bank", "payouts", "postings", "snapshots")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated sample: four nights of about 300 rows a source."""
    root = tmp_path_factory.mktemp("sample")
    arguments = ["sample", "--out", str(root), "--days", "4", "--seed", "5", "--rows", "300"]
    assert CliRunner().invoke(main, arguments).exit_code == 0
    return root


@pytest.fixture
def world(sample: Path, tmp_path: Path) -> Path:
    """A fresh copy of the sample's inbox and configuration, with no outputs yet."""
    shutil.copytree(sample / "inbox", tmp_path / "inbox")
    shutil.copy(sample / "walletrecon.toml", tmp_path / "walletrecon.toml")
    return tmp_path


def run(root: Path, night: str, out: str = "out", command: str = "run") -> Result:
    """Run one night (or, with ``command="backfill"``, every night up to it) through the CLI."""
    dates = ["--date", night] if command == "run" else ["--from", NIGHTS[0], "--to", night]
    arguments = [command, *dates, "--inbox", str(root / "inbox"), "--out", str(root / out)]
    result = CliRunner().invoke(main, [*arguments, "--config", str(root / "walletrecon.toml")])
    assert result.exit_code == 0, result.output + result.stderr
    return result


def manifest(root: Path, night: str, out: str = "out") -> dict[str, Any]:
    path = root / out / "manifest" / f"run_date={night}" / "manifest.json"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def discrepancies(root: Path, night: str, out: str = "out") -> pl.DataFrame:
    folder = root / out / "discrepancies" / f"run_date={night}"
    return pl.read_parquet(folder / "part-0.parquet").sort("discrepancy_id")


def carried_state(root: Path, night: str, out: str = "out") -> dict[str, pl.DataFrame]:
    folder = root / out / "state" / f"run_date={night}"
    frames = {name: pl.read_parquet(folder / f"{name}.parquet") for name in CARRIED}
    return {name: frame.sort(frame.columns) for name, frame in frames.items()}


def same_state(root: Path, night: str, other: str) -> bool:
    """Whether two output folders carry the same kernel items after a night (apart from the
    night that first read each, ``first_run``, which a late file moves)."""
    mine, theirs = carried_state(root, night), carried_state(root, night, other)
    return all(
        mine[name]
        .drop("first_run", strict=False)
        .equals(theirs[name].drop("first_run", strict=False))
        for name in CARRIED
    )


def ids(frame: pl.DataFrame) -> set[str]:
    return set(frame["discrepancy_id"].to_list())


def test_a_late_receipts_file_in_a_reconciled_folder_is_read_the_next_night(world: Path) -> None:
    run(world, NIGHTS[2], out="straight", command="backfill")
    held = world / "held.csv"
    shutil.move(world / "inbox" / NIGHTS[1] / "receipts.csv", held)
    run(world, NIGHTS[0])
    run(world, NIGHTS[1])
    assert not discrepancies(world, NIGHTS[1]).filter(type="payment_not_received").is_empty()
    shutil.move(held, world / "inbox" / NIGHTS[1] / "receipts.csv")
    result = run(world, NIGHTS[2])
    late = f"{NIGHTS[1]}/receipts.csv is a late file"
    assert late in result.stderr
    document = manifest(world, NIGHTS[2])
    assert document["late_files"] == [
        {"path": f"{NIGHTS[1]}/receipts.csv", "folder_date": NIGHTS[1], "reason": "new"}
    ]
    assert any(late in warning for warning in document["warnings"])
    assert late in (world / "out" / "report" / f"run_date={NIGHTS[2]}" / "report.html").read_text()
    # The late receipts resolve the breaks their absence made: the same breaks stay open as when
    # the file came on time, and the kernel carries the same items.
    assert ids(discrepancies(world, NIGHTS[2])) == ids(discrepancies(world, NIGHTS[2], "straight"))
    assert same_state(world, NIGHTS[2], "straight")


@pytest.mark.slow
def test_a_rerun_of_the_night_that_read_a_late_file_gives_the_same_rows(world: Path) -> None:
    held = world / "held.csv"
    shutil.move(world / "inbox" / NIGHTS[1] / "receipts.csv", held)
    run(world, NIGHTS[0])
    run(world, NIGHTS[1])
    shutil.move(held, world / "inbox" / NIGHTS[1] / "receipts.csv")
    run(world, NIGHTS[2])
    first = discrepancies(world, NIGHTS[2])
    run(world, NIGHTS[2])
    assert discrepancies(world, NIGHTS[2]).equals(first)
    assert manifest(world, NIGHTS[2])["late_files"][0]["path"] == f"{NIGHTS[1]}/receipts.csv"


@pytest.mark.slow
def test_a_backfill_over_the_range_repairs_nights_that_missed_a_file(world: Path) -> None:
    run(world, NIGHTS[2], out="straight", command="backfill")
    held = world / "held.csv"
    shutil.move(world / "inbox" / NIGHTS[1] / "receipts.csv", held)
    run(world, NIGHTS[0])
    run(world, NIGHTS[1])
    shutil.move(held, world / "inbox" / NIGHTS[1] / "receipts.csv")
    run(world, NIGHTS[2])
    run(world, NIGHTS[2], command="backfill")
    again, straight = published(world / "out"), published(world / "straight")
    assert again.keys() == straight.keys()
    assert all(again[name].equals(straight[name]) for name in straight)
    assert manifest(world, NIGHTS[2])["late_files"] == []


@pytest.mark.slow
def test_rows_appended_to_a_reconciled_file_are_read_and_the_rest_are_redeliveries(
    world: Path,
) -> None:
    run(world, NIGHTS[2], out="straight", command="backfill")
    receipts = world / "inbox" / NIGHTS[1] / "receipts.csv"
    lines = receipts.read_text(encoding="utf-8").splitlines(keepends=True)
    half = len(lines) // 2
    receipts.write_text("".join(lines[:half]), encoding="utf-8")
    run(world, NIGHTS[0])
    run(world, NIGHTS[1])
    with receipts.open("a", encoding="utf-8") as handle:
        handle.write("".join(lines[half:]))
    result = run(world, NIGHTS[2])
    assert f"{NIGHTS[1]}/receipts.csv changed after night {NIGHTS[1]} read it" in result.stderr
    document = manifest(world, NIGHTS[2])
    assert document["late_files"] == [
        {"path": f"{NIGHTS[1]}/receipts.csv", "folder_date": NIGHTS[1], "reason": "changed"}
    ]
    before = manifest(world, NIGHTS[1])["outcomes"]["receipts"]
    assert document["outcomes"]["receipts"]["redelivered"] >= before["read"] - before["rejected"]
    assert ids(discrepancies(world, NIGHTS[2])) == ids(discrepancies(world, NIGHTS[2], "straight"))


@pytest.mark.slow
def test_a_new_folder_for_a_date_before_the_last_night_is_read(world: Path) -> None:
    run(world, NIGHTS[3], out="straight", command="backfill")
    held = world / "held"
    shutil.move(world / "inbox" / NIGHTS[1], held)
    run(world, NIGHTS[0])
    run(world, NIGHTS[2])
    shutil.move(held, world / "inbox" / NIGHTS[1])
    run(world, NIGHTS[3])
    late = manifest(world, NIGHTS[3])["late_files"]
    assert {item["path"] for item in late} == {
        f"{NIGHTS[1]}/{path.name}" for path in (world / "inbox" / NIGHTS[1]).iterdir()
    }
    assert {item["reason"] for item in late} == {"new"}


@pytest.mark.slow
def test_a_late_folder_with_earlier_versions_of_updated_entries_leaves_the_same_state(
    world: Path,
) -> None:
    run(world, NIGHTS[3], out="straight", command="backfill")
    held = world / "held"
    shutil.move(world / "inbox" / NIGHTS[1], held)
    run(world, NIGHTS[0])
    run(world, NIGHTS[2])
    shutil.move(held, world / "inbox" / NIGHTS[1])
    run(world, NIGHTS[3])
    assert same_state(world, NIGHTS[3], "straight")


def test_a_file_only_touched_is_not_read_again(world: Path) -> None:
    run(world, NIGHTS[0])
    ledger = world / "inbox" / NIGHTS[0] / "ledger.csv"
    os.utime(ledger, ns=(ledger.stat().st_atime_ns, ledger.stat().st_mtime_ns + 10**9))
    run(world, NIGHTS[1])
    assert manifest(world, NIGHTS[1])["late_files"] == []
    assert [item["path"].split("/")[0] for item in manifest(world, NIGHTS[1])["inputs"]] == [
        NIGHTS[1]
    ] * len(manifest(world, NIGHTS[1])["inputs"])
    registry = pl.read_parquet(world / "out" / "state" / f"run_date={NIGHTS[1]}" / "files.parquet")
    touched = registry.filter(path=f"{NIGHTS[0]}/ledger.csv")
    assert touched["mtime_ns"].to_list() == [ledger.stat().st_mtime_ns]
    assert touched["night"].to_list() == [dt.date.fromisoformat(NIGHTS[0])]


def test_unchanged_files_of_earlier_folders_are_not_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "2026-11-16"
    folder.mkdir()
    (folder / "ledger.csv").write_text("entry_id\nE1\n", encoding="utf-8")
    (folder / "receipts.csv").write_text("receipt_id\nR1\n", encoding="utf-8")
    status = (folder / "ledger.csv").stat()
    known = pl.DataFrame(
        [
            {
                "path": "2026-11-16/ledger.csv",
                "size": status.st_size,
                "mtime_ns": status.st_mtime_ns,
                "sha256": "x",
                "night": dt.date(2026, 11, 16),
            },
            {
                "path": "2026-11-16/receipts.csv",
                "size": 1,
                "mtime_ns": 1,
                "sha256": "y",
                "night": dt.date(2026, 11, 16),
            },
        ],
        schema=FILES_SCHEMA,
    )
    hashed: list[str] = []
    monkeypatch.setattr(inbox_module, "file_sha256", lambda path: hashed.append(path.name) or "z")
    found = discover(tmp_path, dt.date(2026, 11, 17), dt.date(2026, 11, 16), known)
    assert hashed == ["receipts.csv"]
    assert [(item.path, item.reason) for item in found.late] == [
        ("2026-11-16/receipts.csv", "changed")
    ]


def test_only_folders_named_as_iso_dates_are_business_dates(tmp_path: Path) -> None:
    for name in ["2026-11-16", "20261117", "2026-1-17", "2026-13-01", ".sync", "2026-11-20"]:
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    dates, warnings = inbox_folders(tmp_path, dt.date(2026, 11, 18))
    assert dates == [dt.date(2026, 11, 16)]
    named = sorted(warning.split(":")[0].rsplit("/", 1)[-1] for warning in warnings)
    assert named == ["2026-1-17", "2026-13-01", "20261117", "notes.txt"]


@pytest.mark.slow
def test_a_folder_named_as_a_compact_date_is_not_read_twice(world: Path) -> None:
    run(world, NIGHTS[2], out="straight", command="backfill")
    shutil.copytree(world / "inbox" / NIGHTS[2], world / "inbox" / NIGHTS[2].replace("-", ""))
    run(world, NIGHTS[0])
    run(world, NIGHTS[1])
    result = run(world, NIGHTS[2])
    warning = f"{NIGHTS[2].replace('-', '')}: not a business-date folder"
    assert warning in result.stderr
    document = manifest(world, NIGHTS[2])
    assert any(warning in item for item in document["warnings"])
    assert document["outcomes"] == manifest(world, NIGHTS[2], "straight")["outcomes"]
    assert discrepancies(world, NIGHTS[2]).equals(discrepancies(world, NIGHTS[2], "straight"))


@pytest.mark.slow
def test_a_state_without_a_file_registry_takes_the_files_read_from_the_manifests(
    world: Path,
) -> None:
    run(world, NIGHTS[0])
    (world / "out" / "state" / f"run_date={NIGHTS[0]}" / "files.parquet").unlink()
    run(world, NIGHTS[1])
    assert manifest(world, NIGHTS[1])["late_files"] == []
    registry = pl.read_parquet(world / "out" / "state" / f"run_date={NIGHTS[1]}" / "files.parquet")
    earlier = registry.filter(pl.col("path").str.starts_with(NIGHTS[0]))
    assert earlier.height == len(list((world / "inbox" / NIGHTS[0]).iterdir()))
    assert (earlier["size"] > 0).all()
    assert earlier["night"].unique().to_list() == [dt.date.fromisoformat(NIGHTS[0])]
