"""Look-ups in the registries of earlier nights: the standing version of a re-delivered row,
rows sharing a duplicate key, payments named by a chargeback.

A look-up by key hash takes the hits from the key index (``keyindex``) for the nights its valid
runs cover and from a scan of the key column for any other night (a state written before the
index, or nights re-run since their run was written), then reads the hits' other columns from
the row groups that hold them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow.parquet as pq

from walletrecon.errors import StateError
from walletrecon.history import (
    FORMAT,
    FORMAT_KEY,
    REGISTRY_FILE,
    REGISTRY_SCHEMA,
    STAMP_KEY,
    STATE_DIR,
    key_hash,
    state_dates,
    state_folder,
)
from walletrecon.keyindex import Run, find, located_rows, valid_runs
from walletrecon.sources.redelivery import PRIOR_SCHEMA
from walletrecon.store import sql_text


@dataclass
class Registries:
    """The registry file and stamp of every night up to ``upto``, and the index runs over them."""

    state_root: Path
    upto: dt.date | None
    nights: dict[dt.date, tuple[Path, str]]
    _runs: dict[str, list[Run]] = field(default_factory=dict)

    @property
    def files(self) -> list[str]:
        """The registry files, oldest night first."""
        return [str(self.nights[night][0]) for night in sorted(self.nights)]

    def stamps(self) -> dict[dt.date, str]:
        return {night: stamp for night, (_, stamp) in self.nights.items()}

    def runs(self, key: str) -> list[Run]:
        """The valid index runs of a key (read once)."""
        if key not in self._runs:
            self._runs[key] = valid_runs(self.state_root, self.upto, key, self.stamps())
        return self._runs[key]


def registries(out: Path, upto: dt.date | None) -> Registries:
    """The registries of every run date up to and including ``upto``.

    Raises StateError for a registry whose content hashes were made another way (an earlier
    version's): re-deliveries of its rows would be taken for conflicting rows.
    """
    nights: dict[dt.date, tuple[Path, str]] = {}
    for day in state_dates(out):
        if upto is not None and day <= upto:
            path = state_folder(out, day) / REGISTRY_FILE
            metadata = pq.read_schema(path).metadata or {}
            if metadata.get(FORMAT_KEY) != FORMAT:
                raise StateError(
                    f"{path}: written by an earlier walletrecon whose content hashes this version "
                    "cannot compare; rebuild the state with `walletrecon backfill` from the first "
                    "business date into a new output folder"
                )
            nights[day] = (path, metadata.get(STAMP_KEY, b"").decode())
    return Registries(out / STATE_DIR, upto, nights)


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


#: Registry row groups read at a time when gathering hits: only the hit rows are kept of each
#: chunk, so memory follows the hits, not the file (a large night's registry is gigabytes).
GROUPS_AT_A_TIME = 8


def _rows_at(path: str, numbers: npt.NDArray[np.int64], columns: list[str]) -> pl.DataFrame:
    """The rows of one registry file at the given row numbers (sorted), reading only the row
    groups that hold one, a few at a time."""
    parquet = pq.ParquetFile(path)
    metadata = parquet.metadata
    sizes = np.array([metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)])
    starts = np.concatenate([[0], np.cumsum(sizes)])
    group_of = np.searchsorted(starts, numbers, side="right") - 1
    groups = np.unique(group_of)
    found = []
    for first in range(0, groups.size, GROUPS_AT_A_TIME):
        chunk = groups[first : first + GROUPS_AT_A_TIME]
        read = pl.from_arrow(parquet.read_row_groups(chunk.tolist(), columns=columns))
        assert isinstance(read, pl.DataFrame)
        wanted = np.isin(group_of, chunk)
        # Where each group of the chunk starts among the rows read.
        offsets = np.concatenate([[0], np.cumsum(sizes[chunk])])[:-1]
        at = group_of[wanted]
        found.append(read[numbers[wanted] - starts[at] + offsets[np.searchsorted(chunk, at)]])
    if not found:
        empty = pl.from_arrow(parquet.schema_arrow.empty_table().select(columns))
        assert isinstance(empty, pl.DataFrame)
        return empty
    rows: pl.DataFrame = pl.concat(found)
    return rows


def _index_hits(registries: Registries, key: str, hashes: pl.DataFrame) -> pl.DataFrame:
    """(filename, file_row_number) of the rows the key index finds for the hashes."""
    runs = registries.runs(key)
    needles = hashes.get_column(key).drop_nulls().unique().sort().to_numpy().astype(np.uint64)
    found = located_rows(find(runs, needles) if runs else np.empty(0, np.uint64))
    files = {night: str(path) for night, (path, _) in registries.nights.items()}
    return found.select(
        pl.col("night").replace_strict(files, return_dtype=pl.String).alias("filename"),
        pl.col("row").alias("file_row_number"),
    )


def key_lookup(
    registries: Registries, key: str, hashes: pl.DataFrame, columns: list[str]
) -> pl.DataFrame:
    """Registry rows of earlier nights whose ``key`` hash is one of ``hashes`` (columns
    ``columns`` and ``key``), in night and row order.

    Two steps: the hits are found by the key index (or, for nights no index run covers, a scan
    of the key column), then their other columns are read from the row groups that hold a hit.
    Re-deliveries and repeated keys are few and mostly of recent nights, so the wide columns of
    most earlier nights are never read.
    """
    covered = {night for run in registries.runs(key) for night in run.nights}
    scanned = [
        str(path) for night, (path, _) in sorted(registries.nights.items()) if night not in covered
    ]
    hits = [_index_hits(registries, key, hashes)]
    if scanned:
        found = _query(
            scanned,
            sql_text("registry_key_hits").replace("$key", key),
            ", filename=true, file_row_number=true",
            tonight=hashes.select(key),
        )
        hits.append(
            found.select(
                pl.col("filename").cast(pl.String), pl.col("file_row_number").cast(pl.Int64)
            )
        )
    schema = pl.Schema({name: REGISTRY_SCHEMA[name] for name in (*columns, key)})
    parts = [pl.DataFrame(schema=schema)]
    for (path,), rows in pl.concat(hits).sort("filename").group_by("filename", maintain_order=True):
        numbers = np.sort(rows.get_column("file_row_number").to_numpy().astype(np.int64))
        parts.append(_rows_at(str(path), numbers, [*columns, key]).cast(schema))
    return pl.concat(parts)


def exact_matches(
    candidates: pl.DataFrame, tonight: pl.DataFrame | pl.LazyFrame, key: str, columns: list[str]
) -> pl.DataFrame:
    """Registry rows found by key hash, kept where their key columns equal a row of tonight's
    (tonight's rows may be still to read: only those whose hash was found are read whole)."""
    # The candidates are few: narrow tonight's rows to their hashes before joining.
    narrowed = (
        tonight.lazy()
        .filter(pl.col(key).is_in(candidates.get_column(key).implode()))
        .select(key, *columns)
        .collect(engine="streaming")
    )
    matched = candidates.join(narrowed, on=key, suffix="__tonight")
    same = pl.all_horizontal(pl.col(column) == pl.col(f"{column}__tonight") for column in columns)
    return matched.filter(same).select(candidates.columns).unique(maintain_order=True).drop(key)


def prior_rows(registries: Registries, tonight: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """The standing version (the latest accepted) of each row of earlier nights sharing
    (source, row_id) with tonight's rows (``source``, ``row_id``; a lazy frame is read for
    its ids' hashes, and whole only where a hash is found: a night's ids are never all in
    memory as text)."""
    empty = pl.DataFrame(schema={"source": pl.String, **PRIOR_SCHEMA})
    if not registries.nights:
        return empty
    keyed = tonight.lazy().select("source", "row_id", key_hash("row_id").alias("row_key"))
    hashes = keyed.select("row_key").collect(engine="streaming")
    if hashes.is_empty():
        return empty
    columns = ["source", "row_id", "content_hash", "stable_hash", "status", "origin", "accepted_on"]
    candidates = key_lookup(registries, "row_key", hashes, columns)
    del hashes
    found = exact_matches(candidates, keyed, "row_key", ["source", "row_id"])
    return (
        found.sort("accepted_on", maintain_order=True)
        .unique(subset=["source", "row_id"], keep="last", maintain_order=True)
        .select("source", *PRIOR_SCHEMA)
    )


def known_keys(registries: Registries, tonight: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Registry rows of earlier nights sharing a duplicate key with tonight's rows (source,
    dup_key, dup_hash; a lazy frame is read for its hashes, and whole only where one is
    found)."""
    empty = pl.DataFrame(schema={"source": pl.String, "dup_key": pl.String, "row_id": pl.String})
    if not registries.nights:
        return empty
    hashes = tonight.lazy().select("dup_hash").collect(engine="streaming")
    if hashes.is_empty():
        return empty
    candidates = key_lookup(registries, "dup_hash", hashes, ["source", "dup_key", "row_id"])
    del hashes
    return exact_matches(candidates, tonight, "dup_hash", ["source", "dup_key"])


def payment_history(registries: Registries, refs: pl.DataFrame) -> pl.DataFrame:
    """Payment entries of earlier nights named by tonight's chargebacks (by reference or txn_id)."""
    empty = pl.DataFrame(schema={"entry_id": pl.String, "txn_id": pl.String, "ref_norm": pl.String})
    if not registries.nights or refs.is_empty():
        return empty
    return _query(
        registries.files,
        sql_text("registry_payment_history"),
        refs=refs.select("ref_norm", "merchant_ref"),
    )
