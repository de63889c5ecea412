"""Delimited text files for the CSV profiles (stripe, mapped): records, their lines, strings only.

The file is decoded strictly in its declared encoding (``decode_file``: a bad byte is an
InputError with its byte offset) and handed to pyarrow's CSV parser as UTF-8, every column as
text. Record boundaries are found by a second, simpler scan (numpy over the bytes: a newline ends
a record when the quote characters before it are balanced), which gives each record its
physical line and is the independent record count the profiles report. Empty lines are not
records. Rows with the wrong number of fields are kept with their line and raw text. Empty
header fields after the last name (a delimiter ending every line) are named, not refused.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from walletrecon.errors import InputError
from walletrecon.sources.files import no_rows
from walletrecon.sources.profiles.text import decode_file
from walletrecon.sources.records import check_quotes


@dataclass
class Records:
    """The data records of a delimited file: a table of strings and where each came from."""

    header: list[str]
    table: pa.Table
    #: The 1-based physical line of each table row.
    lines: np.ndarray
    #: (line, reason, raw text) of records the parser could not split into the header's fields.
    malformed: list[tuple[int, str, str]] = field(default_factory=list)
    #: (line, raw text) of footer lines (``skip_footer_lines``).
    footer: list[tuple[int, str]] = field(default_factory=list)
    #: The number of data and footer records found by the line scan.
    records: int = 0
    header_line: int = 1
    data: bytes = b""
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    ends: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: The line of every non-empty record of the file (header included).
    record_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def raw_line(self, line: int) -> str:
        """The raw text of the record starting at ``line``, for rejection messages."""
        index = int(np.searchsorted(self.record_lines, line))
        return self.data[self.starts[index] : self.ends[index]].decode("utf-8").rstrip("\r")


def record_spans(
    data: bytes, quote: str, name: str = ""
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end byte offsets and 1-based first lines of the non-empty records of UTF-8
    ``data``.

    A newline ends a record when the quote characters before it are balanced (a doubled quote
    inside a quoted value counts twice and keeps the balance). InputError (naming ``name`` and
    the line) for a quote never closed or a quoted value over the limits
    (``records.check_quotes``)."""
    array = np.frombuffer(data, np.uint8)
    newlines = np.flatnonzero(array == 10)
    numbers = np.arange(2, len(newlines) + 2, dtype=np.int64)
    if quote:
        quotes = np.flatnonzero(array == ord(quote))
        if len(quotes):
            # A quote never closed would make the rest of the file one value (one record).
            check_quotes(name, quotes, newlines)
            balanced = (np.searchsorted(quotes, newlines) % 2) == 0
            newlines, numbers = newlines[balanced], numbers[balanced]
    lines = np.concatenate(([1], numbers)).astype(np.int64)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [len(data)])).astype(np.int64)
    length = ends - starts
    carriage = np.zeros(len(starts), dtype=bool)
    single = length == 1
    if single.any():
        carriage[single] = array[starts[single]] == 13
    keep = (length > 0) & ~carriage
    return starts[keep], ends[keep], lines[keep]


def first_odd_quote_line(data: bytes, quote: str) -> int | None:
    """The first physical line holding an odd number of quote characters, for messages."""
    if not quote:
        return None
    array = np.frombuffer(data, np.uint8)
    quotes = np.flatnonzero(array == ord(quote))
    bounds = np.concatenate(([0], np.flatnonzero(array == 10) + 1, [len(data)]))
    per_line = np.diff(np.searchsorted(quotes, bounds))
    odd = np.flatnonzero(per_line % 2)
    return int(odd[0]) + 1 if len(odd) else None


def utf8_bytes(path: Path, encoding: str, display: str) -> bytes:
    """The file as UTF-8 bytes, decoded strictly from its declared encoding (BOM dropped)."""
    return decode_file(path, encoding, display).encode("utf-8")


def header_names(text: str, delimiter: str, quote: str) -> list[str]:
    """The column names of a header record, trimmed."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote or None)
    return [name.strip() for name in next(reader, [])]


def read_records(
    path: Path,
    encoding: str,
    display: str,
    *,
    delimiter: str = ",",
    quote: str = '"',
    skip_header_lines: int = 0,
    skip_footer_lines: int = 0,
) -> Records:
    """Read a delimited file as strings: header, data rows with their lines, malformed rows."""
    name = display or str(path)
    data = utf8_bytes(path, encoding, name)
    starts, ends, lines = record_spans(data, quote, name)
    first = int(np.searchsorted(lines, skip_header_lines + 1))
    if first >= len(starts):
        raise InputError(f"{name}: no header row after {skip_header_lines} skipped line(s)")
    header_text = data[starts[first] : ends[first]].decode("utf-8").rstrip("\r")
    header = _name_trailing(header_names(header_text, delimiter, quote))
    _check_header(header, name, int(lines[first]))
    body_end = len(starts) - skip_footer_lines
    if body_end <= first:
        raise InputError(f"{name}: {skip_footer_lines} footer line(s) leave no header row")
    footer = [
        (int(lines[i]), data[starts[i] : ends[i]].decode("utf-8").rstrip("\r"))
        for i in range(body_end, len(starts))
    ]
    data_lines = lines[first + 1 : body_end]
    records = Records(
        header, pa.table({}), data_lines, footer=footer, header_line=int(lines[first])
    )
    records.data, records.starts, records.ends = data, starts, ends
    records.record_lines = lines
    records.records = len(data_lines) + len(footer)
    if not len(data_lines):
        records.table = no_rows(header)
        return records
    body = data[starts[first + 1] : ends[body_end - 1]]
    _parse_body(records, body, name, delimiter, quote)
    return records


#: The name given to an empty header field after the last named one (a trailing delimiter).
TRAILING = "(trailing field {})"


def _name_trailing(header: list[str]) -> list[str]:
    """Header names with the empty fields after the last name called ``(trailing field N)``:
    exports that end every line with the delimiter (``a;b;c;``) give the header an empty last
    field, and their rows as many fields."""
    named = len(header)
    while named and not header[named - 1]:
        named -= 1
    return header[:named] + [TRAILING.format(i + 1) for i in range(named, len(header))]


def _check_header(header: list[str], name: str, line: int) -> None:
    empty = [str(index + 1) for index, column in enumerate(header) if not column]
    if empty:
        raise InputError(
            f"{name}: line {line}: header field(s) {', '.join(empty)} are empty; "
            "expected a name for every column"
        )
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        raise InputError(f"{name}: line {line}: header names {', '.join(repeated)} more than once")


def _parse_body(records: Records, body: bytes, name: str, delimiter: str, quote: str) -> None:
    """Parse the data records with pyarrow; rows with the wrong field count keep their line."""
    bad: list[tuple[int, str, str]] = []

    def keep_bad_row(row: pa_csv.InvalidRow) -> str:
        number = row.number if row.number is not None else -1
        reason = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        bad.append((number, reason, row.text))
        return "skip"

    def parse(threads: bool) -> pa.Table:
        return pa_csv.read_csv(
            io.BytesIO(body),
            read_options=pa_csv.ReadOptions(
                column_names=records.header, use_threads=threads, block_size=1 << 24
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                quote_char=quote or False,
                newlines_in_values=True,
                invalid_row_handler=keep_bad_row,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={column: pa.string() for column in records.header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        table = parse(True)
        if bad:
            bad.clear()
            table = parse(False)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{name}: cannot read as delimited text: {exc}") from exc
    found = table.num_rows + len(bad)
    if found != len(records.lines):
        odd = first_odd_quote_line(records.data, quote)
        where = f"; line {odd} has an odd number of {quote} characters" if odd else ""
        raise InputError(
            f"{name}: the CSV parser found {found} records where the line scan found "
            f"{len(records.lines)}{where}: expected every quoted value closed"
        )
    keep = np.ones(len(records.lines), dtype=bool)
    for number, reason, text in bad:
        keep[number - 1] = False
        records.malformed.append((int(records.lines[number - 1]), reason, text))
    records.lines = records.lines[keep]
    records.table = table
