"""The registry look-up by key hash (``registry.key_lookup``): the hits of every earlier night,
from the key index where a valid run covers the night and from a scan of its key column where
none does, read from the row groups that hold them: exactly the rows a full scan finds."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletrecon import keyindex
from walletrecon.history import (
    FORMAT,
    FORMAT_KEY,
    REGISTRY_FILE,
    REGISTRY_SCHEMA,
    STAMP_KEY,
    RegistrySpill,
)
from walletrecon.registry import Registries, key_lookup

FIRST = dt.date(2026, 11, 1)


def write_registry(folder: Path, night: int, keys: list[int | None], group: int) -> Path:
    """The registry of a night in ``folder``: row i has the given row_key and dup_hash and row_id
    'N<night>-<i>', written in row groups of ``group`` rows under a new stamp."""
    rows = len(keys)
    frame = pl.DataFrame(
        {
            "source": ["ledger"] * rows,
            "row_id": [f"N{night}-{i}" for i in range(rows)],
            "row_key": keys,
            "dup_hash": keys[::-1],
            "accepted_on": [FIRST + dt.timedelta(days=night)] * rows,
        },
        schema_overrides={"row_key": pl.UInt64, "dup_hash": pl.UInt64},
    )
    full = pl.DataFrame(schema=REGISTRY_SCHEMA).vstack(
        frame.select(
            pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
            for name, dtype in REGISTRY_SCHEMA.items()
        )
    )
    metadata = {FORMAT_KEY: FORMAT, STAMP_KEY: uuid.uuid4().hex.encode()}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / REGISTRY_FILE
    pq.write_table(full.to_arrow().replace_schema_metadata(metadata), path, row_group_size=group)
    return path


def stamp_of(path: Path) -> str:
    return (pq.read_schema(path).metadata or {})[STAMP_KEY].decode()


class History:
    """A state folder of nights, each written and indexed as a night does."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.nights: dict[dt.date, tuple[Path, str]] = {}

    def folder(self, night: dt.date) -> Path:
        return self.root / keyindex.folder_name(night)

    def add(self, number: int, keys: list[int | None], group: int, index: bool = True) -> None:
        night = FIRST + dt.timedelta(days=number)
        path = write_registry(self.folder(night), number, keys, group)
        upto = max((day for day in self.nights if day < night), default=None)
        tonight = {day: value for day, value in self.nights.items() if day < night}
        tonight[night] = (path, stamp_of(path))
        if index:
            keyindex.build(self.root, upto, tonight, night, self.folder(night))
        self.nights[night] = (path, stamp_of(path))

    def rewrite(self, number: int, keys: list[int | None]) -> None:
        """A night re-run: its registry written again (a new stamp), its index not."""
        night = FIRST + dt.timedelta(days=number)
        path = write_registry(self.folder(night), number, keys, 3)
        self.nights[night] = (path, stamp_of(path))

    def registries(self) -> Registries:
        return Registries(self.root, max(self.nights, default=None), dict(self.nights))


def scan(history: History, key: str, wanted: list[int], columns: list[str]) -> pl.DataFrame:
    frames = [pl.read_parquet(history.nights[night][0]) for night in sorted(history.nights)]
    return (
        pl.concat([pl.DataFrame(schema=REGISTRY_SCHEMA), *frames])
        .filter(pl.col(key).is_in(wanted))
        .select(*columns, key)
    )


def spread(key: int) -> int:
    """Small keys spread over the 64-bit hash space, so that runs have several batches."""
    return (key << 58) | key


keys_of_a_night = st.lists(st.one_of(st.none(), st.integers(0, 60).map(spread)), max_size=25)


@settings(max_examples=40, deadline=None)
@given(
    nights=st.lists(st.tuples(keys_of_a_night, st.integers(1, 7), st.booleans()), max_size=9),
    rerun=st.lists(st.integers(0, 8), max_size=2),
    wanted=st.lists(st.integers(0, 61).map(spread), max_size=30),
    key=st.sampled_from(keyindex.INDEX_KEYS),
)
def test_the_lookup_finds_exactly_the_rows_a_full_scan_finds(
    tmp_path_factory: pytest.TempPathFactory,
    nights: list[tuple[list[int | None], int, bool]],
    rerun: list[int],
    wanted: list[int],
    key: str,
) -> None:
    """Nights indexed or not (a state of an earlier version), some re-run after their index was
    written, runs of several batches, runs no longer merged: the hits are those of a full scan,
    in night and row order."""
    history = History(tmp_path_factory.mktemp("state"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keyindex, "BATCH_ROWS", 8)
        patch.setattr(keyindex, "MAX_RUN_NIGHTS", 3)
        for number, (keys, group, indexed) in enumerate(nights):
            history.add(number, keys, group, index=indexed)
    for number in rerun:
        if number < len(nights):
            history.rewrite(number, nights[number][0][:3])
    hashes = pl.DataFrame({key: wanted}, schema={key: pl.UInt64})
    found = key_lookup(history.registries(), key, hashes, ["source", "row_id", "accepted_on"])
    assert found.columns == ["source", "row_id", "accepted_on", key]
    expected = scan(history, key, wanted, ["source", "row_id", "accepted_on"])
    assert found.to_dicts() == expected.to_dicts()


def test_no_hit_gives_the_typed_empty_frame(tmp_path: Path) -> None:
    history = History(tmp_path)
    history.add(1, [1, 2, 3, 4, 5], 2)
    hashes = pl.DataFrame({"row_key": [99]}, schema={"row_key": pl.UInt64})
    found = key_lookup(history.registries(), "row_key", hashes, ["row_id", "accepted_on"])
    assert found.schema == pl.Schema(
        {"row_id": pl.String, "accepted_on": pl.Date, "row_key": pl.UInt64}
    )
    assert found.is_empty()


def test_a_spill_writes_sources_in_order_and_raises_a_failed_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tonight's registry rows are written in a thread, source after source: the file holds
    them in the order given, and a write that failed is raised by the next call, not lost."""
    rows = pl.DataFrame(schema=REGISTRY_SCHEMA)
    spill = RegistrySpill(tmp_path, FIRST)
    for source, ids in (("ledger", ["E1", "E2"]), ("settlement", ["S1"])):
        named = pl.DataFrame({"source": [source] * len(ids), "row_id": ids})
        spill.write(pl.concat([rows, named], how="diagonal"))
    path = spill.close()
    assert pl.read_parquet(path)["row_id"].to_list() == ["E1", "E2", "S1"]
    metadata = pq.read_schema(path).metadata
    assert metadata[STAMP_KEY] == spill.stamp.encode() and metadata[FORMAT_KEY] == FORMAT
    spill.discard()
    assert not spill.folder.exists()

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    failing = RegistrySpill(tmp_path, FIRST)
    monkeypatch.setattr(pq, "ParquetWriter", full)
    failing.write(rows)
    with pytest.raises(OSError, match="No space left"):
        failing.close()
    failing.discard()
    assert not failing.folder.exists()
