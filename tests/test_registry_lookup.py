"""The registry look-up by key hash (``history.key_lookup``): the hits of every earlier night's
file, read from the row groups that hold them, exactly the rows a full scan finds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletrecon.history import REGISTRY_SCHEMA, key_lookup


def registry(path: Path, night: int, rows: int, group: int) -> str:
    """A registry file of ``rows`` rows in row groups of ``group`` rows; row i has row_key
    night * 1000 + i and row_id 'N<night>-<i>'."""
    frame = pl.DataFrame(
        {
            "source": ["ledger"] * rows,
            "row_id": [f"N{night}-{i}" for i in range(rows)],
            "row_key": [night * 1000 + i for i in range(rows)],
            "accepted_on": [dt.date(2026, 11, night)] * rows,
        }
    )
    full = pl.DataFrame(schema=REGISTRY_SCHEMA).vstack(
        frame.select(
            pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
            for name, dtype in REGISTRY_SCHEMA.items()
        )
    )
    pq.write_table(full.to_arrow(), path, row_group_size=group)
    return str(path)


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.tuples(st.integers(0, 40), st.integers(1, 7)), min_size=1, max_size=4),
    picks=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 41)), max_size=30),
)
def test_the_lookup_finds_exactly_the_rows_a_full_scan_finds(
    tmp_path_factory: pytest.TempPathFactory,
    sizes: list[tuple[int, int]],
    picks: list[tuple[int, int]],
) -> None:
    folder = tmp_path_factory.mktemp("registry")
    files = [
        registry(folder / f"{night}.parquet", night + 1, rows, group)
        for night, (rows, group) in enumerate(sizes)
    ]
    keys = [night * 1000 + row for night, row in picks]  # some hit, some miss
    hashes = pl.DataFrame({"row_key": keys}, schema={"row_key": pl.UInt64})
    found = key_lookup(files, "row_key", hashes, ["source", "row_id", "accepted_on"])
    scan = pl.concat([pl.read_parquet(path) for path in files]).filter(
        pl.col("row_key").is_in(hashes.get_column("row_key").implode())
    )
    assert found.columns == ["source", "row_id", "accepted_on", "row_key"]
    assert found.to_dicts() == scan.select(found.columns).to_dicts()


def test_no_hit_gives_the_typed_empty_frame(tmp_path: Path) -> None:
    files = [registry(tmp_path / "1.parquet", 1, 5, 2)]
    hashes = pl.DataFrame({"row_key": [99]}, schema={"row_key": pl.UInt64})
    found = key_lookup(files, "row_key", hashes, ["row_id", "accepted_on"])
    assert found.schema == pl.Schema(
        {"row_id": pl.String, "accepted_on": pl.Date, "row_key": pl.UInt64}
    )
    assert found.is_empty()
