"""``walletrecon run --engine spark`` gives the same discrepancy rows as ``--engine local``, night
after night, on the committed sample data and on a generated data set. One local Spark session
serves the whole module (the command reuses it)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from tests.test_shards import (
    BALANCE_NIGHTS,
    PAYOUT_NIGHTS,
    assert_same,
    balance_nights,
    payout_nights,
)
from walletrecon import spark
from walletrecon.cli import main
from walletrecon.shards import LocalExecutor

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(spark.missing() is not None, reason=str(spark.missing())),
]


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    """The local Spark session, started once."""
    started = spark.session()
    yield started
    started.stop()


def run_nights(inbox: Path, config: Path | None, out: Path, engine: str) -> None:
    """``walletrecon run`` over every night of an inbox, in date order."""
    runner = CliRunner()
    for night in sorted(path.name for path in inbox.iterdir() if path.is_dir()):
        arguments = ["run", "--date", night, "--inbox", str(inbox), "--out", str(out)]
        arguments += ["--engine", engine, *(["--config", str(config)] if config else [])]
        result = runner.invoke(main, arguments)
        assert result.exit_code == 0, (engine, night, result.output, result.exception)


def discrepancies(out: Path) -> dict[str, pl.DataFrame]:
    """Every night's discrepancy rows, sorted (no column of them times the run)."""
    nights = {}
    for path in sorted(out.glob("discrepancies/*/*.parquet")):
        frame = pl.read_parquet(path)
        nights[path.parent.name] = frame.sort(frame.columns, nulls_last=True)
    return nights


def assert_engines_agree(inbox: Path, config: Path | None, tmp_path: Path) -> None:
    run_nights(inbox, config, tmp_path / "local", "local")
    run_nights(inbox, config, tmp_path / "spark", "spark")
    local, sparked = discrepancies(tmp_path / "local"), discrepancies(tmp_path / "spark")
    assert local.keys() == sparked.keys()
    assert len(local) == len(list(inbox.iterdir()))
    assert sum(frame.height for frame in local.values()) > 0
    for night, frame in local.items():
        assert frame.equals(sparked[night]), night


@pytest.mark.parametrize(
    "inbox",
    [SAMPLE / "inbox", SAMPLE / "real_formats" / "inbox"],
    ids=["sample", "real_formats"],
)
def test_spark_gives_the_local_rows_on_the_sample_data(
    session: Any, inbox: Path, tmp_path: Path
) -> None:
    assert_engines_agree(inbox, inbox.parent / "walletrecon.toml", tmp_path)


def test_spark_gives_the_local_rows_on_a_generated_data_set(session: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    arguments = ["sample", "--out", str(data), "--days", "3", "--seed", "5", "--rows", "1500"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    config = data / "walletrecon.toml"
    assert_engines_agree(data / "inbox", config if config.exists() else None, tmp_path / "runs")


def test_spark_gives_the_local_rows_of_a_night_read_from_the_spool(
    session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a 1MB budget every night is a large one: its rows wait in the spool, and the Spark
    executor reads a kernel's spooled inputs whole before Spark partitions them."""
    data = tmp_path / "data"
    arguments = ["sample", "--out", str(data), "--days", "2", "--seed", "7", "--rows", "1500"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    small = tmp_path / "small.toml"
    small.write_text((data / "walletrecon.toml").read_text() + '\n[engine]\nmemory_limit = "1MB"\n')
    spooled: list[str] = []
    run = spark.SparkExecutor.run

    def noted(self: Any, kernel: Any, *arguments: Any) -> Any:
        if len(arguments) > 4 and arguments[4]:
            spooled.append(kernel.name)
        return run(self, kernel, *arguments)

    monkeypatch.setattr(spark.SparkExecutor, "run", noted)
    assert_engines_agree(data / "inbox", small, tmp_path / "runs")
    # Spark keeps what a kernel hands on in memory: the later kernels read no spool; payouts
    # and balances read tonight's lines and entries summed per payout and per account and day,
    # in memory.
    assert set(spooled) == {"duplicates"}


def test_spark_engine_runs_kernels_in_more_than_one_shard(session: Any) -> None:
    # The executor really partitions: Spark's parallelism gives at least two shards here.
    executor = spark.SparkExecutor(session)
    assert executor.shard_count({"state.x": pl.DataFrame({"a": [1]})}) >= 2


@pytest.mark.parametrize("shards", [1, 3])
def test_spark_runs_the_kernels_per_shard_as_one_call_does(session: Any, shards: int) -> None:
    executor = spark.SparkExecutor(session, shards=shards)
    for run_nights, nights in ((balance_nights, BALANCE_NIGHTS), (payout_nights, PAYOUT_NIGHTS)):
        whole = run_nights(LocalExecutor(shards=1), nights)
        for sharded, plain in zip(run_nights(executor, nights), whole, strict=True):
            assert_same(sharded, plain)


def test_spark_submit_as_the_operations_guide_shows_gives_the_local_rows(tmp_path: Path) -> None:
    """docs/operations.md's ``spark-submit`` line, with a local master and a backfill of every
    sample night in one submission, gives the local engine's rows."""
    bin_dir = Path(sys.executable).parent
    submit = bin_dir / "spark-submit"
    if not submit.exists():
        pytest.skip(f"no spark-submit beside {sys.executable}")
    inbox, config = SAMPLE / "inbox", SAMPLE / "walletrecon.toml"
    nights = sorted(path.name for path in inbox.iterdir() if path.is_dir())
    out = tmp_path / "submitted"
    command = [str(submit), "--master", "local[2]", "--deploy-mode", "client"]
    command += [
        "--conf",
        "spark.sql.shuffle.partitions=3",
        str(Path(spark.__file__).parent / "cli.py"),
    ]
    command += ["backfill", "--from", nights[0], "--to", nights[-1], "--inbox", str(inbox)]
    command += ["--out", str(out), "--config", str(config), "--engine", "spark"]
    # An activated environment: spark-submit finds Spark through the python on the PATH.
    environment = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    run_nights(inbox, config, tmp_path / "local", "local")
    local, submitted = discrepancies(tmp_path / "local"), discrepancies(out)
    assert list(submitted) == [f"run_date={night}" for night in nights]
    for night, frame in local.items():
        assert frame.equals(submitted[night]), night
