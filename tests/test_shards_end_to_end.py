"""Night after night, a tiny ``[engine] memory_limit`` (several hash shards for every kernel, and
tonight's rows and the working sets passed through the spool) gives the rows one shard gives:
discrepancies, tickets and the state handed to the next night (its carried entries streamed from
the spool)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from tests.test_spark_engine import discrepancies, run_nights
from walletrecon import kernel, shards
from walletrecon.cli import main
from walletrecon.spool import SPOOL_PREFIX, Spool, named

pytestmark = pytest.mark.slow


def sorted_frames(out: Path, pattern: str) -> dict[str, pl.DataFrame]:
    frames = {}
    for path in sorted(out.glob(pattern)):
        frame = pl.read_parquet(path)
        frames[str(path.relative_to(out))] = frame.sort(frame.columns, nulls_last=True)
    return frames


def test_many_shards_give_the_rows_of_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 4,000 ledger rows a night against 1MB: 3 to 7 shards a kernel (fewer rows and the small
    # kernels would run whole, and a wrong shard key would go unseen).
    data = tmp_path / "data"
    generated = CliRunner().invoke(
        main, ["sample", "--out", str(data), "--days", "3", "--seed", "23", "--rows", "4000"]
    )
    assert generated.exit_code == 0, generated.output
    config = data / "walletrecon.toml"
    small = tmp_path / "small.toml"
    small.write_text(config.read_text() + '\n[engine]\nmemory_limit = "1MB"\n')
    written: list[str] = []
    write = Spool.write

    def counted(spool: Spool, name: str, frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
        written.append(name)
        return write(spool, name, frame)

    monkeypatch.setattr(Spool, "write", counted)
    split = Spool.split

    def counted_split(
        spool: Spool, name: str, frame: pl.LazyFrame, shard_ids: pl.Series, count: int
    ) -> list[pl.LazyFrame]:
        written.append(name)
        return split(spool, name, frame, shard_ids, count)

    monkeypatch.setattr(Spool, "split", counted_split)
    # Kernels of 4 shards or more split their spooled inputs in one pass; the others read
    # each shard's rows by position.
    monkeypatch.setattr(shards, "SPLIT_FROM_SHARDS", 4)
    monkeypatch.setattr(kernel, "OUTCOME_SLICE", 1000)  # tonight's entries judged in slices
    run_nights(data / "inbox", config, tmp_path / "one", "local")
    assert not written
    run_nights(data / "inbox", small, tmp_path / "many", "local")
    # Every night read its ledger in pieces (64KB under 1MB) and spooled their rows and the
    # working set, and took its spool away.
    assert written.count("shaped-ledger") > 2 * 3 and written.count("working") == 3
    # The entries carried to the next night went from the spool to the state folder.
    assert written.count(named("ledger", "carried")) == 3
    # Re-deliveries are worked out in streaming passes over the spooled rows, never split;
    # the sharded kernels split their spooled inputs.
    assert not any(name.startswith("shaped-") and name.endswith("-by-shard") for name in written)
    assert any(name.endswith("tonight-ledger-by-shard") for name in written)
    assert not list((tmp_path / "many").glob(SPOOL_PREFIX + "*"))
    one, many = discrepancies(tmp_path / "one"), discrepancies(tmp_path / "many")
    assert one.keys() == many.keys() and sum(frame.height for frame in one.values()) > 0
    for night, frame in one.items():
        assert frame.equals(many[night]), night
    state = sorted_frames(tmp_path / "one", "state/*/*.parquet")
    assert state and sorted_frames(tmp_path / "many", "state/*/*.parquet").keys() == state.keys()
    for name, frame in sorted_frames(tmp_path / "many", "state/*/*.parquet").items():
        assert frame.equals(state[name]), name
    for path in sorted((tmp_path / "one").glob("tickets/*/tickets.jsonl")):
        twin = tmp_path / "many" / path.relative_to(tmp_path / "one")
        assert sorted(path.read_text().splitlines()) == sorted(twin.read_text().splitlines())
