"""End to end: the CLI over the committed sample data and over freshly generated data sets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from walletrecon import kinds
from walletrecon.cli import main
from walletrecon.evaluate import score
from walletrecon.sample import generate

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def run_all(data: Path, out: Path, *extra: str) -> list[int]:
    """Run every night of a data set in order through the CLI; the exit codes."""
    runner = CliRunner()
    codes = []
    for night in sorted(path.name for path in (data / "inbox").iterdir()):
        arguments = ["run", "--date", night, "--inbox", str(data / "inbox"), "--out", str(out)]
        arguments += ["--config", str(data / "walletrecon.toml"), *extra]
        result = runner.invoke(main, arguments)
        assert "report:" in result.output or result.exit_code != 0, result.output
        codes.append(result.exit_code)
    return codes


def published_files(out: Path) -> dict[Path, bytes]:
    """Every published file (not the lock or other dot files) with its bytes."""
    return {
        path: path.read_bytes()
        for path in out.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


def assert_breaks_follow_their_kinds(out: Path) -> None:
    """Every kind is found, with its declared severity and a key from its declared columns."""
    published = pl.read_parquet(out / "discrepancies" / "*" / "*.parquet")
    assert set(published["type"]) == set(kinds.names())
    for kind in kinds.KINDS:
        rows = published.filter(pl.col("type") == kind.name)
        assert set(rows["severity"]) == {kind.severity}, kind.name
        keyed = pl.any_horizontal([pl.col(column) == pl.col("key") for column in kind.key])
        assert rows.filter(~keyed.fill_null(False)).is_empty(), kind.name


def test_sample_data_runs_night_after_night_and_finds_exactly_its_truth(tmp_path: Path) -> None:
    assert run_all(SAMPLE, tmp_path / "out") == [0] * 5
    for item in score(SAMPLE / "truth.csv", tmp_path / "out"):
        assert (item.type, item.recall, item.precision) == (item.type, 1.0, 1.0)
    assert_breaks_follow_their_kinds(tmp_path / "out")


def test_sample_data_rejects_redelivers_and_updates_what_its_truth_says(tmp_path: Path) -> None:
    run_all(SAMPLE, tmp_path / "out")
    truth = pl.read_csv(SAMPLE / "truth.csv", infer_schema=False)
    manifests = [
        json.loads(path.read_text())
        for path in sorted((tmp_path / "out" / "manifest").glob("*/manifest.json"))
    ]
    rejected = sum(c["rejected"] for m in manifests for c in m["outcomes"].values())
    redelivered = sum(c["redelivered"] for m in manifests for c in m["outcomes"].values())
    assert rejected == truth.filter(pl.col("type") == "rejected").height
    assert redelivered == truth.filter(pl.col("type") == "redelivered").height
    updated = sum(c.get("updated", 0) for m in manifests for c in m["outcomes"].values())
    assert updated == truth.filter(pl.col("type") == "updated").height > 0


def test_fail_on_critical_exits_one_when_critical_breaks_are_open(tmp_path: Path) -> None:
    codes = run_all(SAMPLE, tmp_path / "out", "--fail-on", "critical")
    assert codes[-1] == 1


def test_a_failed_night_leaves_the_previous_outputs_untouched(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    out = tmp_path / "out"
    run_all(data, out)
    night = sorted(path.name for path in (data / "inbox").iterdir())[-1]
    before = published_files(out)
    ledger = next((data / "inbox" / night).glob("ledger.*"))
    ledger.write_text("entry_id,txn_id\nE1,T1\n")
    arguments = ["run", "--date", night, "--inbox", str(data / "inbox"), "--out", str(out)]
    result = CliRunner().invoke(main, [*arguments, "--config", str(data / "walletrecon.toml")])
    assert result.exit_code == 2
    assert "missing required column" in result.output
    after = published_files(out)
    assert after == before


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_injected_break_is_found_and_nothing_else(tmp_path: Path, seed: int) -> None:
    data = tmp_path / "data"
    generate(data, days=5, seed=seed, rows=300)
    assert run_all(data, tmp_path / "out") == [0] * 5
    for item in score(data / "truth.csv", tmp_path / "out"):
        assert (item.type, item.recall, item.precision) == (item.type, 1.0, 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("timezone", ["UTC", "America/New_York"])
def test_larger_data_sets_in_other_time_zones_are_reconciled_exactly(
    tmp_path: Path, timezone: str
) -> None:
    data = tmp_path / "data"
    generate(data, days=6, seed=17, rows=4000, timezone=timezone, mixed_formats=True)
    assert run_all(data, tmp_path / "out") == [0] * 6
    for item in score(data / "truth.csv", tmp_path / "out"):
        assert (item.type, item.recall, item.precision) == (item.type, 1.0, 1.0)
