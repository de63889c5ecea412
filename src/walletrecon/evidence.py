"""The evidence table: one row per (discrepancy, input row behind it) (CONTRACT section 7).

``OUT/evidence/run_date=D/part-0.parquet`` holds, for each of the night's open discrepancies,
every input row its ``evidence`` names: the source, the file (its path under the inbox, archived
under ``OUT/inputs/run_date=N/`` by the night N that read it), the row, and the SHA-256 of that
row's bytes in the archived file, so that an auditor can show a break's rows are the ones the
sender delivered:

- delimited text read by the canonical profile (``.csv``, or ``.csv.gz`` decompressed): the row
  is the data record's number (the header is record 0); the record's bytes, quoted line
  breaks included, without its line ending;
- every other text format (gateway reports, BAI2, MT940, text statements): the row is the
  file's physical line (1-based); the line's bytes without its ending (``sed -n 'Np'``);
- camt XML: the row is the line the entry (``Ntry``) starts on; the entry element's bytes, from
  ``<Ntry`` to its ``</Ntry>``;
- Parquet: the row is the record's number (1-based); its values of the source's columns (in
  the file's order) as text, joined by U+001F;
- spreadsheets (xlsx, xls, ods): the row is the sheet's row; its hash is left empty (null): a
  sheet's row is not a run of the file's bytes, and its cells are read again by ``verify
  --replay`` instead.

Cost: a row's hash is carried from the previous night's table while its break stays open; only
the rows of tonight's new evidence are read, one pass over each file they name.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from walletrecon.partitioned import read_published
from walletrecon.schemas import SOURCES
from walletrecon.state import conform

#: The evidence table's columns (``docs/auditors.md``).
EVIDENCE_SCHEMA: dict[str, pl.DataType] = {
    "discrepancy_id": pl.String(),
    "run_date": pl.Date(),
    "type": pl.String(),
    "source": pl.String(),
    "file": pl.String(),
    "row": pl.Int64(),
    "row_sha256": pl.String(),
}
#: Where a night's evidence table is, under ``OUT``.
EVIDENCE_DIR = "evidence"
EVIDENCE_FILE = "part-0.parquet"
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")
_ITEM = re.compile(r"^(?P<file>.*):(?P<row>\d+)$")
_FIELD_SEPARATOR = b"\x1f"


@dataclass(frozen=True)
class InputFile:
    """A file a night read: its source, the profile that read it, and where its bytes are."""

    source: str
    profile: str
    location: Path


def items(discrepancies: pl.DataFrame) -> pl.DataFrame:
    """(discrepancy, file, row) for every item the discrepancies' ``evidence`` names."""
    exploded = (
        discrepancies.select("discrepancy_id", "run_date", "type", "evidence")
        .filter(pl.col("evidence").is_not_null())
        .with_columns(pl.col("evidence").str.split("; "))
        .explode("evidence")
        .with_columns(
            pl.col("evidence").str.extract(_ITEM.pattern, 1).alias("file"),
            pl.col("evidence").str.extract(_ITEM.pattern, 2).cast(pl.Int64).alias("row"),
        )
    )
    return (
        exploded.filter(pl.col("file").is_not_null()).drop("evidence").unique(maintain_order=True)
    )


def _segments(data: bytes, records: bool) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the file's lines, or (``records``) of its CSV records: a line
    break inside quotes (an odd number of quote characters before it) does not end a record."""
    array = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(array == 10)
    if records and breaks.size and data.find(b'"') >= 0:
        quotes = np.flatnonzero(array == 34)
        breaks = breaks[np.searchsorted(quotes, breaks) % 2 == 0]
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(data)]])
    return starts, ends


def _text_rows(data: bytes, rows: Iterable[int], records: bool) -> dict[int, str]:
    starts, ends = _segments(data, records)
    offset = -1
    if records:
        # Data records are numbered from 1 after the header (record 0); an empty line is none.
        array = np.frombuffer(data, dtype=np.uint8)
        last = np.minimum(starts, max(array.size - 1, 0))
        only_return = (ends - starts == 1) & (array[last] == 13) if array.size else ends < 0
        keep = (ends > starts) & ~only_return
        starts, ends, offset = starts[keep], ends[keep], 0
    found: dict[int, str] = {}
    for row in rows:
        index = row + offset
        if 0 <= index < starts.size:
            line = data[starts[index] : ends[index]].rstrip(b"\r")
            found[row] = hashlib.sha256(line).hexdigest()
    return found


_ENTRY = re.compile(rb"<(?:[\w.-]+:)?Ntry[\s>]")


def _xml_rows(data: bytes, rows: Iterable[int]) -> dict[int, str]:
    starts, _ = _segments(data, records=False)
    found: dict[int, str] = {}
    for row in rows:
        if not 1 <= row <= starts.size:
            continue
        line_end = int(starts[row]) if row < starts.size else len(data)
        begin = _ENTRY.search(data, int(starts[row - 1]), line_end)
        if begin is None:  # the entry must start on the row's line
            continue
        prefix = data[begin.start() + 1 : begin.end() - 1].removesuffix(b"Ntry")
        closing = b"</" + prefix + b"Ntry>"
        end = data.find(closing, begin.start())
        if end >= 0:
            found[row] = hashlib.sha256(data[begin.start() : end + len(closing)]).hexdigest()
    return found


def _parquet_rows(path: Path, source: str, rows: Iterable[int]) -> dict[int, str]:
    """The source's columns the file holds, in the file's order, as text (columns of no source
    are ignored, as when the night read the file)."""
    wanted = pl.Series("row", sorted(set(rows)), dtype=pl.Int64)
    frame = pl.scan_parquet(path)
    known = set(SOURCES[source].column_names) if source in SOURCES else set()
    columns = [name for name in frame.collect_schema().names() if name in known]
    frame = frame.select(columns).with_row_index("row", offset=1)
    taken = (
        frame.with_columns(pl.col("row").cast(pl.Int64))
        .filter(pl.col("row").is_in(wanted.implode()))
        .select(
            "row",
            pl.concat_str(
                pl.exclude("row").cast(pl.String).fill_null(""), separator=_FIELD_SEPARATOR.decode()
            ).alias("text"),
        )
        .collect()
    )
    return {row: hashlib.sha256(text.encode()).hexdigest() for row, text in taken.iter_rows()}


def row_hashes(file: InputFile, rows: Iterable[int]) -> dict[int, str]:
    """SHA-256 of the named rows of one input file (rows it does not hold are left out)."""
    name = file.location.name.lower()
    if name.endswith(SPREADSHEETS):
        return {}
    if name.endswith(".parquet"):
        return _parquet_rows(file.location, file.source, rows)
    data = file.location.read_bytes()
    if name.endswith(".gz"):  # the rows are the decompressed file's
        data = gzip.decompress(data)
    if file.profile.startswith("camt") or name.endswith(".xml"):
        return _xml_rows(data, rows)
    return _text_rows(data, rows, records=file.profile == "canonical")


def previous_table(out: Path, before: dt.date) -> pl.DataFrame:
    """The evidence table of the latest night published before ``before`` (empty if none)."""
    nights = sorted(
        folder
        for folder in (out / EVIDENCE_DIR).glob("run_date=*")
        if folder.name.removeprefix("run_date=") < before.isoformat()
    )
    path = nights[-1] / EVIDENCE_FILE if nights else None
    if path is None or not path.is_file():
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    return read_published(path)


def evidence_table(
    discrepancies: pl.DataFrame, files: Mapping[str, InputFile], previous: pl.DataFrame
) -> pl.DataFrame:
    """The night's evidence rows: one per discrepancy and input row, with the row's source and
    SHA-256; a hash the previous night's table holds for the same break and row is kept."""
    wanted = items(discrepancies)
    known = previous.select("discrepancy_id", "file", "row", "row_sha256").filter(
        pl.col("row_sha256").is_not_null()
    )
    joined = wanted.join(known, on=["discrepancy_id", "file", "row"], how="left")
    missing = joined.filter(pl.col("row_sha256").is_null()).select("file", "row").unique()
    hashes: list[tuple[str, int, str]] = []
    for (name,), group in missing.group_by("file"):
        file = files.get(str(name))
        if file is None or not file.location.is_file():
            continue
        found = row_hashes(file, sorted(group["row"].to_list()))
        hashes.extend((str(name), row, digest) for row, digest in found.items())
    computed = pl.DataFrame(
        hashes,
        schema={"file": pl.String(), "row": pl.Int64(), "computed": pl.String()},
        orient="row",
    )
    sources = pl.DataFrame(
        [(name, file.source) for name, file in files.items()],
        schema={"file": pl.String(), "source": pl.String()},
        orient="row",
    )
    table = (
        joined.join(computed, on=["file", "row"], how="left")
        .join(sources, on="file", how="left")
        .with_columns(pl.coalesce("row_sha256", "computed").alias("row_sha256"))
    )
    return conform(table, EVIDENCE_SCHEMA).sort("discrepancy_id", "file", "row")


def input_files(
    out: Path, run_date: dt.date, inbox: Path, tonight: Iterable[Mapping[str, object]]
) -> dict[str, InputFile]:
    """Every file a night up to this one read, by its path under the inbox: tonight's in the
    inbox, earlier nights' in their archive (``OUT/inputs/run_date=N/``)."""
    from walletrecon.audit import read_manifests

    files: dict[str, InputFile] = {}
    for manifest in read_manifests(out, before=run_date):
        archive = out / "inputs" / f"run_date={manifest['run_date']}"
        for entry in manifest.get("inputs", []):
            files[str(entry["path"])] = InputFile(
                str(entry["source"]), str(entry.get("profile", "")), archive / str(entry["path"])
            )
    for entry in tonight:
        path = str(entry["path"])
        files[path] = InputFile(str(entry["source"]), str(entry.get("profile", "")), inbox / path)
    return files
