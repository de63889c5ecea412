"""The state kept between nights, on disk: one folder of Parquet files per run date.

``OUT/state/run_date=D/`` holds the kernel's state after night D, the registry of the rows first
accepted that night, and the registry of every inbox file read by the nights up to D. A night reads
the state of the latest earlier run date; row registries of all dates up to that one tell
re-deliveries and duplicates of earlier nights, and its file registry tells which files of earlier
folders are late (``sources.inbox``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl
import polars_hash as plh
import pyarrow.parquet as pq

from walletrecon.modes import owner_writable
from walletrecon.sources.inbox import FILES_SCHEMA
from walletrecon.state import NightState, conform, empty

STATE_DIR = "state"
#: The registry format, kept in each registry file: content hashes (``validate.content_hash``) and
#: key hashes made another way cannot find tonight's rows among an earlier night's.
FORMAT_KEY = b"walletrecon.registry"
FORMAT = b"3: xxhash64 content and key hashes, versions of updated entries"
#: A registry file's stamp, new each time one is written: the key index (``keyindex``) records
#: the stamp of each night it covers, and is not used for a night re-run since.
STAMP_KEY = b"walletrecon.registry_stamp"
#: What later nights need to know of each accepted row (``canonical.registry_rows``).
REGISTRY_SCHEMA = {
    "source": pl.String,
    "row_id": pl.String,
    "content_hash": pl.UInt64,
    "dup_key": pl.String,
    "ref_norm": pl.String,
    "txn_id": pl.String,
    "is_payment": pl.Boolean,
    "origin": pl.String,
    "row_key": pl.UInt64,
    "dup_hash": pl.UInt64,
    #: The night that accepted this version, the ledger status, and the hash of the columns an
    #: update may not change (``redelivery.stable_hash``): a later version is compared with it.
    "accepted_on": pl.Date,
    "status": pl.String,
    "stable_hash": pl.UInt64,
}


#: Rows per row group of a registry file.
REGISTRY_ROW_GROUP = 128 * 1024


def key_hash(column: str) -> pl.Expr:
    """A stable 64-bit hash of a key column (null for null). Registry look-ups join on it, a
    number being far cheaper to compare than text, and then check the keys themselves (and their
    source), since hashes can collide."""
    return plh.col(column).nchash.xxhash64().cast(pl.UInt64)


REGISTRY_FILE = "registry.parquet"
FILES_FILE = "files.parquet"
_PARTITION = re.compile(r"^run_date=(\d{4}-\d{2}-\d{2})$")


def state_dates(out: Path) -> list[dt.date]:
    """Run dates that have a complete state folder, oldest first."""
    root = out / STATE_DIR
    if not root.is_dir():
        return []
    dates = []
    for child in root.iterdir():
        match = _PARTITION.match(child.name)
        if match and (child / REGISTRY_FILE).is_file():
            dates.append(dt.date.fromisoformat(match.group(1)))
    return sorted(dates)


def previous_state_date(out: Path, run_date: dt.date) -> dt.date | None:
    """The latest run date before this one that left a state, if any."""
    earlier = [day for day in state_dates(out) if day < run_date]
    return earlier[-1] if earlier else None


def state_folder(out: Path, run_date: dt.date) -> Path:
    return out / STATE_DIR / f"run_date={run_date.isoformat()}"


def read_state(out: Path, run_date: dt.date | None) -> NightState:
    """The state left by a run date (the initial state for None)."""
    if run_date is None:
        return NightState.initial()
    folder = state_folder(out, run_date)
    frames = {
        name: pl.read_parquet(path) if (path := folder / f"{name}.parquet").is_file() else None
        for name in NightState.schemas()
    }
    return NightState.from_frames(
        {name: frame for name, frame in frames.items() if frame is not None}
    )


class RegistrySpill:
    """Tonight's registry rows, written to a file beside the outputs source by source as they are
    made, so that they never sit in memory together. The file lies in a folder of its own, where
    the key index of the night is written too; ``write_state`` moves the folder's files into the
    night's state. A killed run's leftover folder is removed by the next run (``publish.recover``).

    Each source's rows are encoded and written in a thread of their own while the next source is
    worked on (Arrow leaves the GIL as it encodes); ``close`` waits for the last.
    """

    def __init__(self, out: Path, run_date: dt.date) -> None:
        with owner_writable():
            self.folder = out / f".registry-{run_date.isoformat()}-{uuid.uuid4().hex[:8]}"
            self.folder.mkdir(parents=True)
        self.path = self.folder / REGISTRY_FILE
        self.stamp = uuid.uuid4().hex
        self._writer: pq.ParquetWriter | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="registry")
        self._pending: Future[None] | None = None

    def write(self, rows: pl.DataFrame) -> None:
        """Queue a source's rows; an earlier write's failure is raised here."""
        self._wait()
        self._pending = self._pool.submit(self._write, rows)

    def _write(self, rows: pl.DataFrame) -> None:
        table = rows.to_arrow(compat_level=pl.CompatLevel.newest())
        table = table.replace_schema_metadata({FORMAT_KEY: FORMAT, STAMP_KEY: self.stamp.encode()})
        if self._writer is None:
            # Ids are unique: a dictionary or statistics of them only cost time, here and when
            # later nights read the file.
            with owner_writable():
                self._writer = pq.ParquetWriter(
                    self.path,
                    table.schema,
                    compression="lz4",
                    use_dictionary=["source"],
                    write_statistics=False,
                )
        # Row groups of modest size: the writer buffers one, and readers read one per thread.
        self._writer.write_table(table.cast(self._writer.schema), row_group_size=REGISTRY_ROW_GROUP)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> Path:
        """Finish the file (an empty registry if nothing was written) and return its path."""
        self._wait()
        if self._writer is None:
            self._write(pl.DataFrame(schema=REGISTRY_SCHEMA))
        if self._writer is not None:
            self._writer.close()
        self._pool.shutdown()
        return self.path

    def discard(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.folder, ignore_errors=True)

    def keys(self) -> pl.LazyFrame:
        """(source, dup_key, dup_hash) of tonight's rows that have a duplicate key, still to be
        read (from the closed file)."""
        return (
            pl.scan_parquet(self.path)
            .select("source", "dup_key", "dup_hash")
            .filter(pl.col("dup_key").is_not_null())
        )


def write_state(folder: Path, state: NightState, spill: Path, files: pl.DataFrame) -> None:
    """Write a night's state and file registry into a (staging) folder and move the files of its
    registry folder (``RegistrySpill``) there."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in state.frames().items():
        path = folder / f"{name}.parquet"
        if isinstance(frame, pl.LazyFrame):  # spooled: streamed to the state folder
            frame.sink_parquet(path, compression="lz4", statistics=False)
        else:
            frame.write_parquet(path, compression="lz4", statistics=False)
    conform(files, FILES_SCHEMA).write_parquet(folder / FILES_FILE, compression="lz4")
    for path in spill.iterdir():
        os.replace(path, folder / path.name)
    spill.rmdir()


def read_file_registry(out: Path, run_date: dt.date | None) -> pl.DataFrame:
    """The inbox files read by the nights up to ``run_date`` (none for None).

    A state written before the file registry existed has none: the files its nights read are
    then taken from their manifests (path and SHA-256, with no size or time, so that each is
    hashed once and compared by content).
    """
    if run_date is None:
        return empty(FILES_SCHEMA)
    path = state_folder(out, run_date) / FILES_FILE
    if path.is_file():
        return conform(pl.read_parquet(path), FILES_SCHEMA)
    rows: dict[str, dict[str, object]] = {}
    for manifest in sorted((out / "manifest").glob("run_date=*/manifest.json")):
        night = dt.date.fromisoformat(manifest.parent.name.removeprefix("run_date="))
        if night <= run_date:
            for item in json.loads(manifest.read_text(encoding="utf-8")).get("inputs", []):
                rows[item["path"]] = {
                    "path": item["path"],
                    "sha256": item["sha256"],
                    "night": night,
                }
    return conform(pl.DataFrame(list(rows.values())), FILES_SCHEMA).with_columns(
        pl.lit(-1, pl.Int64).alias("size"), pl.lit(-1, pl.Int64).alias("mtime_ns")
    )
