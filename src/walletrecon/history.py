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
import uuid
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import polars as pl
import polars_hash as plh
import pyarrow.parquet as pq

from walletrecon.errors import StateError
from walletrecon.modes import owner_writable
from walletrecon.sources.inbox import FILES_SCHEMA
from walletrecon.sources.redelivery import PRIOR_SCHEMA
from walletrecon.state import NightState, conform, empty
from walletrecon.store import sql_text

STATE_DIR = "state"
#: The registry format, kept in each registry file: content hashes (``validate.content_hash``) and
#: key hashes made another way cannot find tonight's rows among an earlier night's.
FORMAT_KEY = b"walletrecon.registry"
FORMAT = b"3: xxhash64 content and key hashes, versions of updated entries"
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
    made, so that they never sit in memory together; ``write_state`` moves the file into the
    night's state. A killed run's leftover file is removed by the next run (``publish.recover``).
    """

    def __init__(self, out: Path, run_date: dt.date) -> None:
        with owner_writable():
            out.mkdir(parents=True, exist_ok=True)
        self.path = out / f".registry-{run_date.isoformat()}-{uuid.uuid4().hex[:8]}.parquet"
        self._writer: pq.ParquetWriter | None = None

    def write(self, rows: pl.DataFrame) -> None:
        table = rows.to_arrow(compat_level=pl.CompatLevel.newest())
        table = table.replace_schema_metadata({FORMAT_KEY: FORMAT})
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

    def close(self) -> Path:
        """Finish the file (an empty registry if nothing was written) and return its path."""
        if self._writer is None:
            self.write(pl.DataFrame(schema=REGISTRY_SCHEMA))
        if self._writer is not None:
            self._writer.close()
        return self.path

    def keys(self) -> pl.DataFrame:
        """(source, dup_key, dup_hash) of tonight's rows that have a duplicate key."""
        return (
            pl.scan_parquet(self.path)
            .select("source", "dup_key", "dup_hash")
            .filter(pl.col("dup_key").is_not_null())
            .collect()
        )


def write_state(folder: Path, state: NightState, registry: Path, files: pl.DataFrame) -> None:
    """Write a night's state and file registry into a (staging) folder and move its registry of
    rows there."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in state.frames().items():
        frame.write_parquet(folder / f"{name}.parquet", compression="lz4", statistics=False)
    conform(files, FILES_SCHEMA).write_parquet(folder / FILES_FILE, compression="lz4")
    os.replace(registry, folder / REGISTRY_FILE)


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


def registry_files(out: Path, upto: dt.date | None) -> list[str]:
    """Registry files of every run date up to and including ``upto``.

    Raises StateError for a registry whose content hashes were made another way (an earlier
    version's): re-deliveries of its rows would be taken for conflicting rows.
    """
    if upto is None:
        return []
    files = [state_folder(out, day) / REGISTRY_FILE for day in state_dates(out) if day <= upto]
    for path in files:
        metadata = pq.read_schema(path).metadata or {}
        if metadata.get(FORMAT_KEY) != FORMAT:
            raise StateError(
                f"{path}: written by an earlier walletrecon whose content hashes this version "
                "cannot compare; rebuild the state with `walletrecon backfill` from the first "
                "business date into a new output folder"
            )
    return [str(path) for path in files]


def _query(files: list[str], sql: str, options: str = "", **frames: pl.DataFrame) -> pl.DataFrame:
    """Run a registry query over the given registry files, with frames as named tables
    (``options``: more arguments of DuckDB's ``read_parquet``).

    Each query has a DuckDB session of its own: closing it hands back the memory DuckDB keeps
    after a large join, before the rest of the night needs it.
    """
    with duckdb.connect(":memory:") as connection:
        for name, frame in frames.items():
            # Arrow string views: handed to DuckDB without copying the text.
            connection.register(name, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
        listing = "[" + ", ".join("'" + path.replace("'", "''") + "'" for path in files) + "]"
        result: pl.DataFrame = connection.sql(
            sql.replace("$registry", f"read_parquet({listing}{options})")
        ).pl()
        return result


def _rows_at(path: str, numbers: npt.NDArray[np.int64], columns: list[str]) -> pl.DataFrame:
    """The rows of one registry file at the given row numbers (sorted), reading only the row
    groups that hold one."""
    parquet = pq.ParquetFile(path)
    metadata = parquet.metadata
    sizes = np.array([metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)])
    starts = np.concatenate([[0], np.cumsum(sizes)])
    group_of = np.searchsorted(starts, numbers, side="right") - 1
    groups = np.unique(group_of)
    read = pl.from_arrow(parquet.read_row_groups(groups.tolist(), columns=columns))
    assert isinstance(read, pl.DataFrame)
    # Where each group starts among the groups read.
    offsets = np.concatenate([[0], np.cumsum(sizes[groups])])[:-1]
    found: pl.DataFrame = read[
        numbers - starts[group_of] + offsets[np.searchsorted(groups, group_of)]
    ]
    return found


def key_lookup(
    files: list[str], key: str, hashes: pl.DataFrame, columns: list[str]
) -> pl.DataFrame:
    """Registry rows of the given files whose ``key`` hash is one of ``hashes`` (columns
    ``columns`` and ``key``), in file and row order.

    Two steps: the hits are found over the key column alone, then their other columns are read
    from the row groups that hold a hit. Re-deliveries and repeated keys are few and mostly of
    recent nights, so the wide columns of most earlier nights are never read.
    """
    hits = _query(
        files,
        sql_text("registry_key_hits").replace("$key", key),
        ", filename=true, file_row_number=true",
        tonight=hashes.select(key),
    )
    schema = pl.Schema({name: REGISTRY_SCHEMA[name] for name in (*columns, key)})
    parts = [pl.DataFrame(schema=schema)]
    for (path,), rows in hits.sort("filename").group_by("filename", maintain_order=True):
        numbers = np.sort(rows.get_column("file_row_number").to_numpy().astype(np.int64))
        parts.append(_rows_at(str(path), numbers, [*columns, key]).cast(schema))
    return pl.concat(parts)


def exact_matches(
    candidates: pl.DataFrame, tonight: pl.DataFrame, key: str, columns: list[str]
) -> pl.DataFrame:
    """Registry rows found by key hash, kept where their key columns equal a row of tonight's."""
    # The candidates are few: narrow tonight's rows to their hashes before joining.
    tonight = tonight.filter(pl.col(key).is_in(candidates.get_column(key).implode()))
    matched = candidates.join(tonight.select(key, *columns), on=key, suffix="__tonight")
    same = pl.all_horizontal(pl.col(column) == pl.col(f"{column}__tonight") for column in columns)
    return matched.filter(same).select(candidates.columns).unique(maintain_order=True).drop(key)


def prior_rows(files: list[str], tonight: pl.DataFrame) -> pl.DataFrame:
    """The standing version (the latest accepted) of each row of earlier nights sharing
    (source, row_id) with tonight's rows."""
    if not files or tonight.is_empty():
        return pl.DataFrame(schema={"source": pl.String, **PRIOR_SCHEMA})
    keyed = tonight.select("source", "row_id", key_hash("row_id").alias("row_key"))
    columns = ["source", "row_id", "content_hash", "stable_hash", "status", "origin", "accepted_on"]
    candidates = key_lookup(files, "row_key", keyed, columns)
    found = exact_matches(candidates, keyed, "row_key", ["source", "row_id"])
    return (
        found.sort("accepted_on", maintain_order=True)
        .unique(subset=["source", "row_id"], keep="last", maintain_order=True)
        .select("source", *PRIOR_SCHEMA)
    )


def known_keys(files: list[str], tonight: pl.DataFrame) -> pl.DataFrame:
    """Registry rows of earlier nights sharing a duplicate key with tonight's rows (source,
    dup_key, dup_hash)."""
    if not files or tonight.is_empty():
        return pl.DataFrame(schema={"source": pl.String, "dup_key": pl.String, "row_id": pl.String})
    candidates = key_lookup(files, "dup_hash", tonight, ["source", "dup_key", "row_id"])
    return exact_matches(candidates, tonight, "dup_hash", ["source", "dup_key"])


def payment_history(files: list[str], refs: pl.DataFrame) -> pl.DataFrame:
    """Payment entries of earlier nights named by tonight's chargebacks (by reference or txn_id)."""
    empty = pl.DataFrame(schema={"entry_id": pl.String, "txn_id": pl.String, "ref_norm": pl.String})
    if not files or refs.is_empty():
        return empty
    return _query(
        files,
        sql_text("registry_payment_history"),
        refs=refs.select("ref_norm", "merchant_ref"),
    )
