"""The night's spool: frames written to Parquet read back as they were, a part at a time or
whole; the folder appears with the first file and goes with the night or the next run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from walletrecon import spool as spool_module
from walletrecon.publish import recover
from walletrecon.shards import (
    SHARD,
    WORKING_SET_FACTOR,
    LocalExecutor,
    frames_size,
    input_size,
    shard_rows,
)
from walletrecon.spool import SPOOL_PREFIX, Spool, rows

NIGHT = dt.date(2026, 11, 20)
FRAME = pl.DataFrame(
    {
        "entry_id": ["E1", "E2", "E3"],
        "amount_minor": [100, -5, 0],
        "posted_at": pl.Series(
            [dt.datetime(2026, 11, 20, 1), None, dt.datetime(2026, 11, 20, 2)],
            dtype=pl.Datetime("us", "UTC"),
        ),
        "involved": [["ledger:E1"], [], None],
    }
)


def test_a_written_frame_reads_back_as_it_was_and_counts_its_rows(tmp_path: Path) -> None:
    spool = Spool(tmp_path, NIGHT)
    assert not list(tmp_path.iterdir())  # nothing written, no folder
    scanned = spool.write("ledger", FRAME)
    assert_frame_equal(scanned.collect(), FRAME)
    assert rows(scanned) == 3 and rows(FRAME) == 3
    lazily = spool.write("ledger", FRAME.lazy().filter(pl.col("amount_minor") > 0))
    assert lazily.collect()["entry_id"].to_list() == ["E1"]
    assert spool.folder.parent == tmp_path and spool.folder.name.startswith(SPOOL_PREFIX)
    spool.discard()
    assert not spool.folder.exists()


def test_parts_read_back_in_the_order_written(tmp_path: Path) -> None:
    spool = Spool(tmp_path, NIGHT)
    parts = spool.parts("ledger")
    assert parts.scan().collect().is_empty()
    parts.add(FRAME.head(1))
    parts.add(FRAME.clear())
    parts.add(FRAME.tail(2))
    assert_frame_equal(parts.scan().collect(), FRAME)


def test_the_size_of_a_spooled_frame_is_estimated_from_its_rows_and_types(
    tmp_path: Path,
) -> None:
    scanned = Spool(tmp_path, NIGHT).write("ledger", FRAME)
    assert input_size(scanned) == 3 * (24 + 8 + 8 + 48)
    assert frames_size({"a": scanned, "b": FRAME}) == input_size(scanned) + FRAME.estimated_size()


def test_a_killed_night_s_spool_is_removed_by_the_next_run(tmp_path: Path) -> None:
    spool = Spool(tmp_path, NIGHT)
    spool.write("ledger", FRAME)
    recover(tmp_path)
    assert not spool.folder.exists()


def test_a_spooled_input_counts_once_more_in_the_shard_count(tmp_path: Path) -> None:
    scanned = Spool(tmp_path, NIGHT).write("ledger", FRAME)
    size = input_size(scanned)
    executor = LocalExecutor(memory_limit=size * WORKING_SET_FACTOR)
    assert executor.shard_count({"tonight.ledger": FRAME.head(0)}) == 1
    assert executor.shard_count({"tonight.ledger": scanned}) == 2
    assert executor.shard_count({"tonight.ledger": scanned}, factor=1) == 1


def test_removed_frames_leave_the_others(tmp_path: Path) -> None:
    spool = Spool(tmp_path, NIGHT)
    spool.write("new-ledger", FRAME)
    kept = spool.write("duplicates-ledger", FRAME)
    parts = spool.parts("new-ledger")
    parts.add(FRAME)
    spool.remove("new-ledger")
    assert [path.name for path in spool.folder.iterdir()] == ["00002-duplicates-ledger.parquet"]
    assert_frame_equal(kept.collect(), FRAME)


@settings(max_examples=25, deadline=None)
@given(
    shard_ids=st.lists(st.integers(0, 3), min_size=0, max_size=40),
    sliced=st.sampled_from([1, 3, 16, spool_module.SPLIT_SLICE]),
)
def test_a_frame_split_by_shard_keeps_each_shard_s_rows_in_their_order(
    tmp_path_factory: pytest.TempPathFactory, shard_ids: list[int], sliced: int
) -> None:
    """Read a slice at a time (``sliced`` rows: one slice or many), each shard's rows come
    back whole and in the frame's order."""
    frame = pl.DataFrame(
        {"entry_id": [f"E{n}" for n in range(len(shard_ids))], "n": range(len(shard_ids))},
        schema={"entry_id": pl.String, "n": pl.Int64},
    )
    spool = Spool(tmp_path_factory.mktemp("spool"), NIGHT)
    scanned = spool.write("ledger", frame)
    ids = pl.Series(SHARD, shard_ids, dtype=pl.Int32)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spool_module, "SPLIT_SLICE", sliced)
        split = spool.split("ledger-by-shard", scanned, ids, 5)
    assert len(split) == 5
    for shard, scan in enumerate(split):
        assert_frame_equal(scan.collect(), frame.filter(ids == shard))
        assert_frame_equal(scan.collect(), shard_rows(scanned, ids, shard))
    spool.remove("ledger-by-shard")
    assert [path.name for path in spool.folder.iterdir()] == ["00001-ledger.parquet"]
