"""One ``.xlsx`` sheet as a table of strings, for the mapped profile.

Reader: ``fastexcel`` (Rust, on calamine; maintained, Arrow out, no Python loop per cell).
The sheet is loaded without a header and with every column as text, so that row ``i`` of the
result is sheet row ``i + 1`` and the header row is found here. Amounts never go through a
Python float: fastexcel writes a numeric cell as the shortest text that reads back as the same
binary double with at most nine decimals (``12.5``, ``123456789.120000005``, never an exponent).
Nine decimals of a large number are the double's own error, not the value the cell shows: such a
text is replaced by the shortest text that reads back as the same double (``123456789.12``).
The mapped profile reads the result as a decimal number and rejects it when it has more places
than the row's currency allows. Datetime cells arrive as ``YYYY-MM-DD HH:MM:SS`` and serial-number
cells as their number (``46052``); the mapped profile converts both exactly (1900 date system).

Errors (InputError naming the file, sheet and row): an unknown sheet, a header row that is not
there, an empty header cell (also what a merged header cell leaves in its other columns) and a
header name given twice. Records: every row after the header row with a value in any cell.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def _load(path: Path, name: str, sheet: str) -> pl.DataFrame:
    import fastexcel

    try:
        reader = fastexcel.read_excel(path)
        names = reader.sheet_names
        key: int | str = int(sheet) if sheet.isdigit() else sheet
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


def read_sheet(path: Path, name: str, sheet: str, skip_header_lines: int) -> Sheet:
    """The sheet's header (row ``skip_header_lines + 1``) and data rows, as text."""
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
    lines = kept.get_column("_row").cast(pl.Int64).to_numpy()
    return Sheet(header, kept.drop("_row").to_arrow(), lines, kept.height)


SERIAL = r"\A[0-9]{1,6}(?:\.[0-9]+)?\z"
_CELL_TIME = r"\A[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"


def excel_time(raw: pl.Expr) -> pl.Expr:
    """An Excel serial number (1900 system) or a datetime cell's text as a naive datetime.

    A serial counts days from 1899-12-30; its fraction is the time of day, which Excel stores
    as a binary fraction, so it is rounded to the nearest second. Serials below 61 fall before
    1 March 1900, where Excel counts a 29 February that never was: null. Workbooks in the 1904
    date system (old Mac Excel) are not told apart: their dates would be 4 years early."""
    serial = raw.str.contains(SERIAL) & (raw.str.extract(r"\A([0-9]+)", 1).cast(pl.Int64) >= 61)
    days = raw.str.extract(r"\A([0-9]+)", 1).cast(pl.Int64)
    fraction = ("0" + raw.str.extract(r"(\.[0-9]+)\z", 1).fill_null("")).cast(pl.Float64)
    seconds = (fraction * 86400).round(0).cast(pl.Int64)
    base = pl.lit(np.datetime64("1899-12-30T00:00:00", "us"))
    from_serial = base + pl.duration(days=days, seconds=seconds)
    cell = raw.str.slice(0, 19).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
    return pl.when(serial).then(from_serial).when(raw.str.contains(_CELL_TIME)).then(cell)
