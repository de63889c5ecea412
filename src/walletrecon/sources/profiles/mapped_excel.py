"""One ``.xlsx`` sheet as a table of strings, for the mapped profile.

Reader: ``fastexcel`` (Rust, on calamine; maintained, Arrow out, no Python loop per cell).
The sheet is loaded without a header and with every column as text, so that row ``i`` of the
result is sheet row ``i + 1`` and the header row is found here. Amounts never go through a
Python float: fastexcel writes a numeric cell as the shortest text that reads back as the same
binary double with at most nine decimals (``12.5``, ``123456789.120000005``, never an exponent).
Nine decimals of a large number are the double's own error, not the value the cell shows: such a
text is replaced by the shortest text that reads back as the same double (``123456789.12``).
The mapped profile reads the result as a decimal number and rejects it when it has more places
than the row's currency allows. Datetime cells arrive as ``YYYY-MM-DD HH:MM:SS`` (calamine applies
the workbook's date system) and serial-number cells as their number (``46052``); the mapped
profile converts both exactly, a serial in the workbook's own date system: 1900, or 1904 when
``xl/workbook.xml`` says ``date1904`` (old Mac Excel, and workbooks saved from them).

Errors (InputError naming the file, sheet and row): an unknown sheet, a header row that is not
there, an empty header cell (also what a merged header cell leaves in its other columns) and a
header name given twice. Records: every row after the header row with a value in any cell; the
last ``skip_footer_lines`` of them are footer (control) rows, kept with their cells' text.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from walletrecon.errors import InputError


@dataclass
class Sheet:
    """The data rows of a sheet as text, with their 1-based sheet rows."""

    header: list[str]
    table: pa.Table
    lines: np.ndarray
    records: int
    #: (sheet row, cells joined by tabs) of the last ``skip_footer_lines`` non-empty rows.
    footer: list[tuple[int, str]] = field(default_factory=list)
    #: True when the workbook counts serial dates from 1904 (``date1904``).
    date1904: bool = False


_DATE1904 = re.compile(rb"<(?:\w+:)?workbookPr\b[^>]*\bdate1904\s*=\s*[\"'](?:1|true)[\"']")


def uses_1904_dates(path: Path) -> bool:
    """True when the workbook's ``workbookPr`` sets ``date1904`` (serials count from 1904)."""
    try:
        with zipfile.ZipFile(path) as book:
            return _DATE1904.search(book.read("xl/workbook.xml")) is not None
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


def _load(path: Path, name: str, sheet: str) -> pl.DataFrame:
    import fastexcel

    try:
        reader = fastexcel.read_excel(path)
        names = reader.sheet_names
        # A sheet's name wins over an index: sheets are often named after a year or a month.
        key: int | str = int(sheet) if sheet.isdigit() and sheet not in names else sheet
        if (isinstance(key, int) and key >= len(names)) or (
            isinstance(key, str) and key not in names
        ):
            raise InputError(f"{name}: no sheet {sheet!r} (sheets: {', '.join(names)})")
        loaded = reader.load_sheet(key, header_row=None, skip_rows=0, dtypes="string")
        frame = pl.from_arrow(loaded.to_arrow())
    except InputError:
        raise
    except Exception as exc:  # fastexcel raises its own error classes for broken files
        raise InputError(f"{name}: cannot read as an .xlsx workbook: {exc}") from exc
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(_shortest(pl.col(column)) for column in frame.columns)


#: fastexcel's text of a number cell that the double's own error reaches (nine decimals).
NINE_DECIMALS = r"\A-?[0-9]+\.[0-9]{9}\z"


def _shortest(cell: pl.Expr) -> pl.Expr:
    """A number cell written with nine decimals, as the shortest text of the same double."""
    shortest = cell.cast(pl.Float64, strict=False).cast(pl.String)
    usable = cell.str.contains(NINE_DECIMALS) & ~shortest.str.contains("e", literal=True)
    return pl.when(usable).then(shortest).otherwise(cell).alias(cell.meta.output_name())


def read_sheet(
    path: Path, name: str, sheet: str, skip_header_lines: int, skip_footer_lines: int = 0
) -> Sheet:
    """The sheet's header (row ``skip_header_lines + 1``), data rows and footer rows, as text."""
    frame = _load(path, name, sheet)
    where = f"{name}: sheet {sheet!r} row {skip_header_lines + 1}"
    if frame.height <= skip_header_lines:
        raise InputError(f"{where}: expected a header row; the sheet has {frame.height} rows")
    cells = [frame.item(skip_header_lines, i) for i in range(frame.width)]
    header = [str(cell).strip() if cell is not None else "" for cell in cells]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise InputError(f"{where}: expected a header row of column names; the row is empty")
    empty = [str(i + 1) for i, cell in enumerate(header) if not cell]
    if empty:
        raise InputError(
            f"{where}: header cell(s) in column(s) {', '.join(empty)} are empty "
            "(or merged); expected a name for every column"
        )
    repeated = sorted({cell for cell in header if header.count(cell) > 1})
    if repeated:
        raise InputError(f"{where}: header names {', '.join(repeated)} more than once")
    data = frame.slice(skip_header_lines + 1).select(frame.columns[: len(header)])
    data.columns = header
    numbered = data.with_row_index("_row", offset=skip_header_lines + 2)
    kept = numbered.filter(pl.any_horizontal(pl.col(h).is_not_null() for h in header))
    body = kept.head(max(kept.height - skip_footer_lines, 0))
    tail = kept.slice(body.height)
    joined = pl.concat_str([pl.col(h).fill_null("") for h in header], separator="\t")
    footer = [(int(row), str(text)) for row, text in tail.select("_row", joined).iter_rows()]
    lines = body.get_column("_row").cast(pl.Int64).to_numpy()
    table = body.drop("_row").to_arrow()
    return Sheet(header, table, lines, kept.height, footer, uses_1904_dates(path))


SERIAL = r"\A[0-9]{1,6}(?:\.[0-9]+)?\z"
_CELL_TIME = r"\A[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"


def excel_time(raw: pl.Expr, date1904: bool = False) -> pl.Expr:
    """An Excel serial number or a datetime cell's text as a naive datetime.

    In the 1900 system a serial counts days from 1899-12-30; serials below 61 fall before
    1 March 1900, where Excel counts a 29 February that never was: null. In the 1904 system
    (``date1904``) a serial counts days from 1904-01-01 and every serial is a real day. The
    fraction is the time of day, which Excel stores as a binary fraction, so it is rounded to
    the nearest second."""
    days = raw.str.extract(r"\A([0-9]+)", 1).cast(pl.Int64)
    serial = raw.str.contains(SERIAL) & (days >= (0 if date1904 else 61))
    fraction = ("0" + raw.str.extract(r"(\.[0-9]+)\z", 1).fill_null("")).cast(pl.Float64)
    seconds = (fraction * 86400).round(0).cast(pl.Int64)
    epoch = "1904-01-01T00:00:00" if date1904 else "1899-12-30T00:00:00"
    base = pl.lit(np.datetime64(epoch, "us"))
    from_serial = base + pl.duration(days=days, seconds=seconds)
    cell = raw.str.slice(0, 19).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
    return pl.when(serial).then(from_serial).when(raw.str.contains(_CELL_TIME)).then(cell)
