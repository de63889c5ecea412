"""The night's spool: large frames wait on disk between the kernels, not in memory.

A night whose rows pass the memory budget (``[engine] memory_limit``) hands its largest frames
from stage to stage through Parquet files in a folder of the output's own (``.spool-*``): the
rows loaded tonight (written once: the new rows are a plan over them), the duplicates kernel's
first rows, the ledger's working set, the entries settlement hands to receipts, and every row's
outcome until the manifest counts them. A sharded kernel then reads, per hash shard, only its
shard's rows of them (``shards.LocalExecutor``; from 8 shards on, after ``Spool.split`` splits
them by shard in one pass), so that memory follows a shard, not the night.

A spooled frame is a ``pl.LazyFrame`` scanning its files: kernels and executors take it wherever
they take a frame still to be read. A killed run's leftover folder is removed by the next run
(``publish.recover``); a finished night removes its own.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import polars as pl

from walletrecon.modes import owner_writable

#: The prefix of a night's spool folder in the output folder.
SPOOL_PREFIX = ".spool-"
#: The stages that write tonight's rows, by the names their files take (``named``); a kernel's
#: handoffs take the kernel's name. ``ARRIVED``: the ledger's ids and amounts its outcomes need.
SHAPED, WORKING, ARRIVED = "shaped", "working", "arrived"
#: The frame of a kernel's outcome rows (``named(kernel, OUTCOMES)``): they wait for the manifest.
OUTCOMES = "outcomes"
#: Parquet as the spool writes it: LZ4 (about a third of the bytes, as fast as none), no
#: statistics (the spool is read whole, by shard or by row position, never by value).
COMPRESSION: Final = "lz4"
#: Rows ``Spool.split`` reads and splits at a time.
SPLIT_SLICE = 1 << 20


class Spool:
    """A folder of Parquet files, one set per frame written."""

    def __init__(self, out: Path, run_date: dt.date) -> None:
        #: Made with the first file: a night that spools nothing leaves no trace.
        self.folder = out / f"{SPOOL_PREFIX}{run_date.isoformat()}-{uuid.uuid4().hex[:8]}"
        self._files = 0

    def _path(self, name: str) -> Path:
        if not self._files:
            with owner_writable():
                self.folder.mkdir(parents=True, exist_ok=True)
        self._files += 1
        return self.folder / f"{self._files:05d}-{name}.parquet"

    def write(self, name: str, frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
        """Write a frame (a lazy one by the streaming engine) and return a scan of it."""
        path = self._path(name)
        with owner_writable():
            if isinstance(frame, pl.LazyFrame):
                frame.sink_parquet(path, compression=COMPRESSION, statistics=False)
            else:
                frame.write_parquet(path, compression=COMPRESSION, statistics=False)
        return pl.scan_parquet(path)

    def split(
        self, name: str, frame: pl.LazyFrame, shard_ids: pl.Series, shards: int
    ) -> list[pl.LazyFrame]:
        """A spooled frame split in one pass by the shard of each row (``shard_ids``: one value
        per row, 0 to ``shards`` - 1, in the frame's order): per shard, a scan of its rows in the
        frame's order (empty, with the frame's schema, for a shard with none). One read and one
        write of the frame, where reading each shard's rows from the whole frame reads it once a
        shard.

        ``SPLIT_SLICE`` rows at a time, each slice into its own folder of shard files, so that
        memory follows a slice: a sink partitioned by a column of ids held in memory read the
        whole frame first (a frame of 4M rows, 167MB in memory: 245MB at the peak)."""
        folder = self._path(name).with_suffix("")
        key = shard_ids.name
        offset = 0
        with owner_writable():
            # One streaming pass in order: a plan over spooled rows (filters of positions) would
            # be read from its start again for every slice asked of it by offset.
            for number, batch in enumerate(frame.collect_batches(chunk_size=SPLIT_SLICE)):
                ids = shard_ids.slice(offset, batch.height)
                offset += batch.height
                rows_of_slice = batch.with_columns(ids)
                del batch
                rows_of_slice.lazy().sink_parquet(
                    pl.PartitionBy(folder / f"{number:06d}", key=key, include_key=False),
                    compression=COMPRESSION,
                    statistics=False,
                    mkdir=True,
                )
                del rows_of_slice
        schema = frame.collect_schema()
        scans = []
        for shard in range(shards):
            paths = sorted(
                folder.glob(f"*/{key}={shard}/*.parquet"),
                key=lambda path: (path.parent.parent.name, int(path.stem)),
            )
            scans.append(pl.scan_parquet(paths) if paths else pl.LazyFrame(schema=schema))
        return scans

    def remove(self, *names: str) -> None:
        """Delete the files of frames no stage reads any more (a scan of them must not be
        read after): the spool holds about two stages' rows at a time, not the night's."""
        for name in names:
            for path in self.folder.glob(f"*-{name}.parquet"):
                path.unlink(missing_ok=True)
            for path in self.folder.glob(f"*-{name}"):
                shutil.rmtree(path, ignore_errors=True)

    def parts(self, name: str) -> SpoolParts:
        """A frame written a part at a time (one per shard): ``add`` each, then ``scan``."""
        return SpoolParts(self, name)

    def discard(self) -> None:
        """Remove the folder and every file in it."""
        shutil.rmtree(self.folder, ignore_errors=True)


class SpoolParts:
    """The parts of one spooled frame, written one after another."""

    def __init__(self, spool: Spool, name: str) -> None:
        self.spool, self.name = spool, name
        self.paths: list[Path] = []
        self.schema: pl.Schema | None = None

    def add(self, frame: pl.DataFrame) -> None:
        """Write one part; parts share the first part's schema."""
        if self.schema is None:
            self.schema = frame.schema
        path = self.spool._path(self.name)
        with owner_writable():
            frame.write_parquet(path, compression=COMPRESSION, statistics=False)
        self.paths.append(path)

    def scan(self) -> pl.LazyFrame:
        """All parts, in the order written."""
        if not self.paths:
            return pl.LazyFrame(schema=self.schema or {})
        return pl.scan_parquet(self.paths)


def named(stage: str, frame: str) -> str:
    """A spooled frame's name: the stage that wrote it and the frame (``new-ledger``,
    ``duplicates-ledger``), what ``Spool.remove`` takes."""
    return f"{stage}-{frame}"


def concat(frames: Sequence[pl.DataFrame | pl.LazyFrame]) -> pl.DataFrame | pl.LazyFrame:
    """Frames one after another: lazily when any is spooled."""
    if all(isinstance(frame, pl.DataFrame) for frame in frames):
        return pl.concat(
            [frame for frame in frames if isinstance(frame, pl.DataFrame)], how="vertical_relaxed"
        )
    return pl.concat([frame.lazy() for frame in frames], how="vertical_relaxed")


def rows(frame: pl.DataFrame | pl.LazyFrame) -> int:
    """The rows of a frame; of a spooled one without reading it (Parquet's metadata)."""
    if isinstance(frame, pl.DataFrame):
        return frame.height
    counted = frame.select(pl.len()).collect().item()
    return int(counted)
