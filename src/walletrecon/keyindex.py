"""The key index of the registries: where a key hash lies among earlier nights' registry rows,
found without scanning every earlier night.

Each night writes a *run* per key (``index-<key>.arrow``, Arrow IPC, in its state folder): the
(hash, location) of registry rows with that key, sorted by hash, a location being the night (days
since 1970) above the row number in that night's registry file. Runs merge like a binary
counter up to ``MAX_RUN_NIGHTS`` nights: tonight's run takes in the newest earlier run while
that covers no more nights than it, so the ``index.json`` of a state folder lists the runs that
cover every earlier night (a few per ``MAX_RUN_NIGHTS`` nights), and a row is rewritten at most
log2(``MAX_RUN_NIGHTS``) + 1 times. A look-up joins tonight's sorted hashes with each run's, a
batch at a time (a merge join of sorted frames in Polars): 16 bytes an entry read from memory,
not a DuckDB scan of every earlier night's registry. With millions of keys a night every batch
holds one of them, so the look-up still reads every entry; a per-run filter in front (a blocked
Bloom filter) would let it follow tonight's keys alone.

A run's batches split the 64-bit hash space into equal power-of-two ranges, so a look-up or a
merge holds one batch of each run at a time (about ``BATCH_ROWS`` entries) and a look-up skips
the batches no key of tonight falls in. A run records the nights it covers and the stamp of each
night's registry file (``history.RegistrySpill``). A run whose nights were re-run since (another
stamp) or whose folder is gone is not used: the nights it covered are then looked up by scanning
their registries, and indexed again by the next nights (``CATCH_UP`` a night).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from walletrecon.arrays import numbers

#: The registry columns indexed: the row id's hash and the duplicate key's hash.
INDEX_KEYS = ("row_key", "dup_hash")
#: In a state folder: the runs covering the nights up to its own, newest first, per key.
INDEX_FILE = "index.json"
#: Entries per batch of a run, about (batches are equal ranges of the hash space).
BATCH_ROWS = 1 << 22
#: A run covering this many nights is merged no more: a look-up reads every entry of the batches
#: its keys fall in whatever the runs, so more runs cost it little, while merging ever larger runs
#: would rewrite the whole history every power of two nights.
MAX_RUN_NIGHTS = 16
#: Earlier nights no valid run covers, taken into tonight's run at most (the rest on later nights).
CATCH_UP = 4
#: The metadata key of a run file: the nights it covers, their registry stamps, its batches.
RUN_KEY = b"walletrecon.index"
RUN_SCHEMA = pa.schema([("hash", pa.uint64()), ("location", pa.uint64())])
_EPOCH = dt.date(1970, 1, 1)
_TOP = np.iinfo(np.uint64).max

UInt64s = npt.NDArray[np.uint64]
Int64s = npt.NDArray[np.int64]


def folder_name(night: dt.date) -> str:
    return f"run_date={night.isoformat()}"


def run_file(key: str) -> str:
    return f"index-{key}.arrow"


def _night_bits(night: dt.date) -> int:
    """A night's part of a location: its day number above the row's 32 bits."""
    return (night - _EPOCH).days << 32


def location(night: dt.date, row: pl.Expr) -> pl.Expr:
    """The location of a row of a night's registry file: the night's day number above its row."""
    return row.cast(pl.UInt64) + _night_bits(night)


def located_rows(located: UInt64s) -> pl.DataFrame:
    """(night, row) of each location, in their order."""
    frame = pl.DataFrame({"location": located}, schema={"location": pl.UInt64})
    return frame.select(
        (pl.col("location") // (1 << 32)).cast(pl.Int32).cast(pl.Date).alias("night"),
        (pl.col("location") % (1 << 32)).cast(pl.Int64).alias("row"),
    )


def _shift(batches: int) -> int:
    """How far a hash shifts right to give its batch number (64: every hash is in batch 0)."""
    return 64 - (batches.bit_length() - 1)


def _batch_of(hashes: UInt64s | np.uint64, batches: int) -> Int64s:
    shift = _shift(batches)
    if shift == 64:
        return np.zeros(np.shape(hashes), dtype=np.int64)
    return np.asarray(np.right_shift(hashes, np.uint64(shift)), dtype=np.int64)


def _ranges(batches: int) -> list[tuple[np.uint64, np.uint64]]:
    """The (first, last) hash of each batch, both inclusive."""
    shift = _shift(batches)
    if shift == 64:
        return [(np.uint64(0), np.uint64(_TOP))]
    starts = [np.uint64(number) << np.uint64(shift) for number in range(batches)]
    ends = [np.uint64(start - np.uint64(1)) for start in starts[1:]] + [np.uint64(_TOP)]
    return list(zip(starts, ends, strict=True))


def _within(hashes: UInt64s, first: np.uint64, last: np.uint64) -> slice:
    start = int(np.searchsorted(hashes, first, side="left"))
    return slice(start, int(np.searchsorted(hashes, last, side="right")))


@dataclass(frozen=True)
class Run:
    """One run file: the nights it covers, with their registry stamps, and its batch count."""

    path: Path
    nights: tuple[dt.date, ...]
    stamps: tuple[str, ...]
    batches: int
    entries: int

    @staticmethod
    def read(path: Path) -> Run | None:
        """The run at ``path``; None if there is none (or none this version reads)."""
        if not path.is_file():
            return None
        try:
            with pa.OSFile(str(path)) as handle:
                metadata = pa.ipc.open_file(handle).schema.metadata or {}
            document = json.loads(metadata[RUN_KEY])
            nights = tuple(dt.date.fromisoformat(night) for night in document["nights"])
            stamps = tuple(str(stamp) for stamp in document["stamps"])
            return Run(path, nights, stamps, int(document["batches"]), int(document["entries"]))
        except (pa.ArrowInvalid, OSError, KeyError, TypeError, ValueError):
            return None

    def holds(self, stamps: dict[dt.date, str], upto: dt.date) -> bool:
        """Whether every night of the run is at most ``upto`` and still has its stamp."""
        pairs = zip(self.nights, self.stamps, strict=True)
        return all(night <= upto and stamps.get(night) == stamp for night, stamp in pairs)

    def batches_at(self, wanted: Sequence[int]) -> Iterator[tuple[int, UInt64s, UInt64s]]:
        """(number, hashes, locations) of the wanted batches, one at a time.

        Each batch is mapped on its own and read in place (no copy); its pages leave the
        process's memory with the last array using them, so a look-up holds one batch a run.
        """
        for number in wanted:
            with pa.memory_map(str(self.path)) as source:
                batch = pa.ipc.open_file(source).get_batch(number)
            yield (
                number,
                pl.Series(batch.column(0)).to_numpy(),
                pl.Series(batch.column(1)).to_numpy(),
            )


def valid_runs(
    state_root: Path, upto: dt.date | None, key: str, stamps: dict[dt.date, str]
) -> list[Run]:
    """The runs listed by the state of ``upto`` that still hold (``Run.holds``), newest first,
    no two covering the same night."""
    if upto is None:
        return []
    listing = state_root / folder_name(upto) / INDEX_FILE
    try:
        folders = json.loads(listing.read_text(encoding="utf-8"))["runs"][key]
    except (OSError, KeyError, TypeError, ValueError):
        return []
    runs: list[Run] = []
    covered: set[dt.date] = set()
    for folder in folders:
        run = Run.read(state_root / str(folder) / run_file(key))
        if run is not None and not covered.intersection(run.nights) and run.holds(stamps, upto):
            runs.append(run)
            covered.update(run.nights)
    return runs


def _entries(hashes: UInt64s, located: UInt64s | None = None) -> pl.DataFrame:
    """Entries (or bare hashes) sorted by hash as a frame that knows it is sorted: Polars joins
    and merges sorted frames in one pass."""
    frame = pl.DataFrame({"hash": hashes} | ({} if located is None else {"location": located}))
    return frame.with_columns(pl.col("hash").set_sorted())


def find(runs: list[Run], needles: UInt64s) -> UInt64s:
    """The locations of every entry of the runs whose hash is one of ``needles`` (sorted,
    unique), run by run and in hash order within a run."""
    found: list[UInt64s] = []
    for run in runs:
        cuts = np.searchsorted(needles, [first for first, _ in _ranges(run.batches)], side="left")
        cuts = np.append(cuts, needles.size)
        wanted = [number for number in range(run.batches) if cuts[number] < cuts[number + 1]]
        for number, hashes, located in run.batches_at(wanted):
            part = _entries(needles[cuts[number] : cuts[number + 1]])
            hits = part.join(_entries(hashes, located), on="hash", how="inner")
            found.append(hits.get_column("location").to_numpy())
    return np.concatenate(found) if found else np.empty(0, dtype=np.uint64)


# --- building tonight's run ----------------------------------------------------------------------


def _merged(pieces: list[tuple[UInt64s, UInt64s]]) -> tuple[UInt64s, UInt64s]:
    """Entries sorted by hash from pieces each sorted by hash (Polars sorts on every core)."""
    filled = [(hashes, located) for hashes, located in pieces if hashes.size]
    if len(filled) <= 1:
        return filled[0] if filled else pieces[0]
    merged = pl.concat([_entries(*piece) for piece in filled], rechunk=False).sort("hash")
    return merged.get_column("hash").to_numpy(), merged.get_column("location").to_numpy()


#: Hashes bucketed at a time when a night's registry is bucketed by batch (bounds the temporary
#: 64-bit shift to 32MB).
_BUCKET_SLICE = 1 << 22


@dataclass
class _Registry:
    """A night's registry read for its key: the hashes in row order, a row's number being its
    place, and (on first use) the batch each falls in.

    A batch's entries are picked out by their batch number and sorted alone, so the night is
    never sorted whole: about 10 bytes an entry are held (the hash and a 16-bit batch number),
    where sorting the night's (hash, location) pairs at once held about 40 at the sort's peak,
    in a thread beside the kernels."""

    night: dt.date
    hashes: UInt64s
    #: Rows with a hash (None: every row has one).
    valid: npt.NDArray[np.bool_] | None
    _numbers: tuple[int, npt.NDArray[np.unsignedinteger[Any]]] | None = None

    @staticmethod
    def of_registry(path: Path, night: dt.date, key: str) -> _Registry:
        """The registry's ``key`` column, read a record batch at a time into one array."""
        source = pq.ParquetFile(path)
        hashes = np.zeros(source.metadata.num_rows, dtype=np.uint64)
        valid: npt.NDArray[np.bool_] | None = None
        offset = 0
        for batch in source.iter_batches(batch_size=1 << 20, columns=[key]):
            column = pl.Series(batch.column(0))
            size = len(column)
            if column.null_count():
                if valid is None:
                    valid = np.ones(hashes.size, dtype=np.bool_)
                valid[offset : offset + size] = column.is_not_null().to_numpy()
                column = column.fill_null(0)
            hashes[offset : offset + size] = column.to_numpy()
            offset += size
        return _Registry(night, hashes, valid)

    def _batch_numbers(self, batches: int) -> npt.NDArray[np.unsignedinteger[Any]]:
        """Each row's batch among ``batches``; ``batches`` itself for a row with no hash."""
        if self._numbers is not None and self._numbers[0] == batches:
            return self._numbers[1]
        self._numbers = None  # let the numbers of another batch count go first
        wide = batches >= 1 << 16
        numbers: npt.NDArray[np.unsignedinteger[Any]] = np.empty(
            self.hashes.size, dtype=np.uint32 if wide else np.uint16
        )
        for start in range(0, self.hashes.size, _BUCKET_SLICE):
            part = slice(start, start + _BUCKET_SLICE)
            numbers[part] = _batch_of(self.hashes[part], batches)
        if self.valid is not None:
            numbers[~self.valid] = batches
        self._numbers = (batches, numbers)
        return numbers

    def between(self, first: np.uint64, last: np.uint64) -> tuple[UInt64s, UInt64s]:
        """(hashes, locations) of the rows with a hash from ``first`` to ``last``, sorted by hash
        then row. A whole batch's rows are found by batch number, other ranges by value."""
        width = int(last) - int(first) + 1
        if width & (width - 1) == 0 and int(first) % width == 0:
            numbers = self._batch_numbers(max(1, (1 << 64) // width))
            rows = np.flatnonzero(numbers == int(first) // width)
        else:
            inside = (self.hashes >= first) & (self.hashes <= last)
            rows = np.flatnonzero(inside if self.valid is None else inside & self.valid)
        hashes = self.hashes[rows]
        order = np.argsort(hashes, kind="stable")
        return hashes[order], rows[order].astype(np.uint64) + np.uint64(_night_bits(self.night))

    def __len__(self) -> int:
        return int(self.hashes.size if self.valid is None else np.count_nonzero(self.valid))


@dataclass
class _Stored:
    """A run file read batch by batch as the merge walks the hash space."""

    run: Run
    _cached: dict[int, tuple[UInt64s, UInt64s]] = field(default_factory=dict)

    def between(self, first: np.uint64, last: np.uint64) -> tuple[UInt64s, UInt64s]:
        batches = self.run.batches
        numbers = range(int(_batch_of(first, batches)), 1 + int(_batch_of(last, batches)))
        missing = [number for number in numbers if number not in self._cached]
        for number in list(self._cached):
            if number not in numbers:
                del self._cached[number]
        for number, hashes, located in self.run.batches_at(missing):
            self._cached[number] = (hashes, located)
        pieces = []
        for number in numbers:
            hashes, located = self._cached[number]
            part = _within(hashes, first, last)
            pieces.append((hashes[part], located[part]))
        if len(pieces) == 1:
            return pieces[0]
        return np.concatenate([h for h, _ in pieces]), np.concatenate([loc for _, loc in pieces])

    def __len__(self) -> int:
        return self.run.entries


def _write_run(path: Path, parts: list[_Registry | _Stored], nights: dict[dt.date, str]) -> None:
    """Merge the parts into one run file covering ``nights`` (night: registry stamp)."""
    total = sum(len(part) for part in parts)
    batches = 1 << max(0, (max(1, -(-total // BATCH_ROWS)) - 1).bit_length())
    ordered = sorted(nights)
    document = {
        "nights": [night.isoformat() for night in ordered],
        "stamps": [nights[night] for night in ordered],
        "batches": batches,
        "entries": total,
    }
    schema = RUN_SCHEMA.with_metadata({RUN_KEY: json.dumps(document).encode()})
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        for first, last in _ranges(batches):
            hashes, located = _merged([part.between(first, last) for part in parts])
            writer.write_batch(
                pa.record_batch(
                    [numbers(hashes, pa.uint64()), numbers(located, pa.uint64())], schema=schema
                )
            )


def build(
    state_root: Path,
    upto: dt.date | None,
    registries: dict[dt.date, tuple[Path, str]],
    tonight: dt.date,
    target: Path,
) -> list[Path]:
    """Write tonight's runs and ``index.json`` into ``target`` (tonight's state folder to be);
    return the earlier run files tonight's runs took in.

    ``registries`` holds the registry file and stamp of every night up to ``upto`` and of
    tonight (whose file may still be elsewhere). Once tonight is published, the runs taken in
    can go (``retire``): only a re-run of an earlier night would have read them, and it then
    scans those nights' registries instead.
    """
    stamps = {night: stamp for night, (_, stamp) in registries.items() if night != tonight}
    listing: dict[str, list[str]] = {}
    taken_in: list[Path] = []
    for key in INDEX_KEYS:
        chain = valid_runs(state_root, upto, key, stamps)
        covered = {night for run in chain for night in run.nights}
        behind = sorted(night for night in stamps if night not in covered)[-CATCH_UP:]
        nights = [tonight, *behind]
        parts: list[_Registry | _Stored] = [
            _Registry.of_registry(registries[night][0], night, key) for night in nights
        ]
        taken = {night: registries[night][1] for night in nights}
        while chain and len(chain[0].nights) <= len(taken) <= MAX_RUN_NIGHTS - len(chain[0].nights):
            run = chain.pop(0)
            parts.append(_Stored(run))
            taken_in.append(run.path)
            taken.update(zip(run.nights, run.stamps, strict=True))
        _write_run(target / run_file(key), parts, taken)
        listing[key] = [folder_name(tonight), *(run.path.parent.name for run in chain)]
    (target / INDEX_FILE).write_text(json.dumps({"runs": listing}, indent=1), encoding="utf-8")
    return taken_in


def retire(runs: list[Path]) -> None:
    """Remove run files a published night's runs took in (they hold nothing else)."""
    for path in runs:
        path.unlink(missing_ok=True)
