"""Reading one input file (CSV, CSV.gz or Parquet) into an Arrow table of strings.

Every value is read as text, so that amounts are never inferred as floats; validation and typing
happen afterwards (``validate``). Each row carries its origin (file and 1-based data row number).
A file that cannot be read at all, or that lacks a required column, raises InputError.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from walletrecon import arrays
from walletrecon.arrays import one_name
from walletrecon.errors import InputError
from walletrecon.schemas import Source
from walletrecon.sources.records import Piece, RecordScan, scan_records

SUFFIXES = (".csv", ".csv.gz", ".parquet")
#: The CSV parser's block size when every record is small (pyarrow's default).
DEFAULT_BLOCK = 1 << 20


@dataclass
class RawFile:
    """The text of one input file, with rows the CSV parser could not split into columns."""

    path: Path
    table: pa.Table
    #: (row number, reason, raw text) of rows with the wrong number of fields.
    malformed: list[tuple[int, str, str]] = field(default_factory=list)
    #: Data records of the file before this piece of it (``_read_csv``).
    first_row: int = 0


def no_rows(names: list[str]) -> pa.Table:
    """A table of text columns with these names and no rows (a header-only file)."""
    return pa.table({name: arrays.texts([]) for name in names})


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _csv_header(path: Path) -> tuple[list[str], bool]:
    """The header's column names, and whether anything follows the header line."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            line = handle.readline().decode("utf-8-sig")
            # Universal newlines: a lone CR ends a line (before the header, an empty one; in a
            # file with CR line ends, the first "line" read holds every record).
            records = (row for row in csv.reader(io.StringIO(line, newline=None)) if row)
            header, more = next(records, []), next(records, None)
            return header, more is not None or bool(handle.read(1))
    except csv.Error as exc:
        raise InputError(f"{path}: line 1: the header is not a CSV record ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: header is not valid UTF-8 ({exc.reason})") from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: cannot read file: {exc}") from exc


def _duplicates(path: Path, names: list[str], source: Source) -> None:
    """A column of the source named twice in a file's header is ambiguous: refuse the file."""
    seen: set[str] = set()
    for name in names:
        if name in seen and name in source.column_names:
            raise InputError(f"{path}: column '{name}' appears more than once in the header")
        seen.add(name)


def _read_csv(path: Path, source: Source, piece_bytes: int | None = None) -> Iterator[RawFile]:
    """The file's records a piece at a time (``scan_records``): all of them in one piece unless
    ``piece_bytes`` asks for smaller ones. Each piece's malformed rows carry their row number
    in the file; ``RawFile.first_row`` is the number of data records before the piece."""
    names, has_rows = _csv_header(path)
    header = [name.strip() for name in names]
    if not header or header == [""]:
        raise InputError(f"{path}: the file is empty (no header row)")
    _duplicates(path, header, source)
    if not has_rows:
        yield RawFile(path, no_rows(header))
        return
    scan = scan_records(path, piece_bytes)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        before = 0
        for piece in scan.pieces:
            # One piece is the whole file: the parser reads it from the path, a block at a time.
            source_bytes = (
                path
                if len(scan.pieces) == 1
                else pa.py_buffer(handle.read(piece.end - piece.start))
            )
            yield _parse_piece(path, header, source_bytes, scan, piece, before)
            before += piece.records


def _parse_piece(
    path: Path,
    header: list[str],
    data: Path | pa.Buffer,
    scan: RecordScan,
    piece: Piece,
    before: int,
) -> RawFile:
    """One piece of records parsed; InputError when the parser's count is not the scan's."""
    malformed: list[tuple[int, str, str]] = []
    # The parser numbers records from the piece's start (the file's header is 1).
    offset = -1 if piece.start == 0 else before

    def keep_bad_row(row: pa_csv.InvalidRow) -> str:
        number = (row.number + offset) if row.number is not None else -1
        reason = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        malformed.append((number, reason, row.text))
        return "skip"

    def parse(*, use_threads: bool) -> pa.Table:
        source = pa.BufferReader(data) if isinstance(data, pa.Buffer) else data
        skip = 1 if piece.start == 0 else 0
        return _parse_csv(source, header, keep_bad_row, scan, skip, use_threads=use_threads)

    try:
        table = parse(use_threads=True)
        if malformed:
            # Re-read on one thread: only then does the parser number the rows.
            malformed.clear()
            table = parse(use_threads=False)
    except (pa.ArrowInvalid, OSError, EOFError, UnicodeDecodeError) as exc:
        where = first_non_utf8(path)
        raise InputError(f"{path}: cannot read as UTF-8 CSV: {where or exc}") from exc
    read = table.num_rows + len(malformed)
    if read != piece.records:
        where = f" of bytes {piece.start} to {piece.end}" if len(scan.pieces) > 1 else ""
        raise InputError(
            f"{path}: the CSV parser read {read} rows{where} but the file holds {piece.records} "
            "records (counted by line breaks outside quotes): the file is malformed"
        )
    return RawFile(path, table, malformed, first_row=before)


def _block_size(scan: RecordScan) -> int:
    """Parse blocks large enough for the largest record (a record may not straddle two)."""
    size = DEFAULT_BLOCK
    while size < 2 * scan.largest_record + 2:
        size *= 2
    return size


def _parse_csv(
    source: Path | pa.BufferReader,
    header: list[str],
    handler: object,
    scan: RecordScan,
    skip_rows: int,
    *,
    use_threads: bool,
) -> pa.Table:
    return pa_csv.read_csv(
        source,
        read_options=pa_csv.ReadOptions(
            column_names=header,
            skip_rows=skip_rows,
            encoding="utf8",
            use_threads=use_threads,
            block_size=_block_size(scan),
        ),
        parse_options=pa_csv.ParseOptions(
            invalid_row_handler=handler, newlines_in_values=scan.quoted_line_breaks
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def first_non_utf8(path: Path) -> str:
    """Where a file (or its decompressed text) first stops being UTF-8: its physical line, the
    byte and what was expected; empty when it is UTF-8 throughout. Read a block at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    opener = gzip.open if path.name.endswith(".gz") else open
    line = 1
    with opener(path, "rb") as handle:
        while block := handle.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                # ``exc.object`` is the block after the bytes of a character the last one cut.
                line += exc.object.count(b"\n", 0, exc.start)
                return (
                    f"line {line}: byte 0x{exc.object[exc.start]:02x} is not UTF-8 "
                    "(expected UTF-8 text)"
                )
            line += block.count(b"\n")
    return ""


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text_column(path: Path, name: str, column: pa.ChunkedArray, before: int) -> pa.ChunkedArray:
    """A Parquet column as text; InputError naming the column (and the row: ``before`` rows of
    the file precede these) when it has no text form: a nested type, or bytes not UTF-8."""
    if pa.types.is_nested(column.type):
        raise InputError(f"{path}: column '{name}' is {column.type}; expected text or a number")
    try:
        return pc.cast(column, pa.string())
    except pa.ArrowInvalid as exc:
        if not (pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)):
            raise InputError(f"{path}: column '{name}' cannot be read as text: {exc}") from exc
        row = next(
            number
            for number, value in enumerate(column.to_pylist(), start=before + 1)
            if value is not None and not _is_utf8(value)
        )
        raise InputError(
            f"{path}: row {row}, column '{name}': bytes that are not UTF-8 text"
        ) from exc


def _read_parquet(path: Path, source: Source, piece_bytes: int | None = None) -> Iterator[RawFile]:
    """The file's rows as text, ``piece_bytes`` of them (uncompressed, by the file's metadata)
    at a time; InputError when the rows read are not the rows its metadata records."""
    try:
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
        _duplicates(path, names, source)
        # Only the source's columns are read: others, of any type, are not the night's business.
        wanted = [name for name in names if name in source.column_names]
        schema = pa.schema([parquet.schema_arrow.field(name) for name in wanted])
        metadata = parquet.metadata
        recorded = metadata.num_rows
        _no_float_amounts(path, schema, source)
        size = sum(
            metadata.row_group(index).total_byte_size for index in range(metadata.num_row_groups)
        )
        batch = recorded if piece_bytes is None else max(1, piece_bytes * recorded // max(size, 1))
        read, pieces = 0, 0
        for rows in parquet.iter_batches(batch_size=max(batch, 1), columns=wanted):
            table = pa.Table.from_batches([rows])
            columns = [
                _text_column(path, name, column, read)
                for name, column in zip(table.column_names, table.columns, strict=True)
            ]
            yield RawFile(path, pa.table(columns, names=table.column_names), first_row=read)
            read, pieces = read + table.num_rows, pieces + 1
        if not pieces:
            yield RawFile(path, no_rows(wanted))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: cannot read as Parquet: {exc}") from exc
    if read != recorded:
        raise InputError(f"{path}: read {read} rows but the file's metadata records {recorded}")


def _no_float_amounts(path: Path, schema: pa.Schema, source: Source) -> None:
    amounts = {column.name for column in source.columns if column.kind == "amount"}
    for item in schema:
        if item.name in amounts and pa.types.is_floating(item.type):
            raise InputError(
                f"{path}: column '{item.name}' is floating point; amounts must be decimal "
                "strings or a decimal type, never floats"
            )


def with_optional_columns(table: pa.Table, source: Source) -> pa.Table:
    """The table with every column a file may leave out, absent values where it did."""
    for column in source.columns:
        if column.optional_column and column.name not in table.column_names:
            table = table.append_column(column.name, pa.nulls(table.num_rows, pa.string()))
    return table


def read_raw(path: Path, source: Source, display_name: str) -> RawFile:
    """Read a source file as text, whole (``read_pieces``)."""
    return next(read_pieces(path, source, display_name))


def read_pieces(
    path: Path, source: Source, display_name: str, piece_bytes: int | None = None
) -> Iterator[RawFile]:
    """Read a source file as text, a piece of about ``piece_bytes`` bytes at a time (of text,
    or of a Parquet file's uncompressed columns); check the required columns; add origin
    columns."""
    reader = _read_parquet if path.name.endswith(".parquet") else _read_csv
    for raw in reader(path, source, piece_bytes):
        yield _with_origin(raw, source, display_name)


def _with_origin(raw: RawFile, source: Source, display_name: str) -> RawFile:
    path = raw.path
    present = set(raw.table.column_names)
    missing = [
        column.name
        for column in source.columns
        if column.name not in present and not column.optional_column
    ]
    if missing:
        raise InputError(
            f"{path}: missing required column(s) {', '.join(missing)} for source "
            f"'{source.name}' (found: {', '.join(raw.table.column_names) or 'none'})"
        )
    table = with_optional_columns(raw.table, source).select(list(source.column_names))
    rows = table.num_rows
    bad_rows = {number for number, _, _ in raw.malformed}
    first = raw.first_row + 1
    numbers = np.arange(first, first + rows + len(bad_rows), dtype=np.int64)
    if bad_rows:
        numbers = numbers[~np.isin(numbers, np.fromiter(bad_rows, dtype=np.int64))]
    raw.table = table.append_column("origin_file", one_name(display_name, rows)).append_column(
        "origin_row", arrays.numbers(numbers[:rows], pa.int64())
    )
    return raw
