"""Merchant receipts as a merchant delivers them: an ``.xlsx`` spreadsheet or a GB18030 CSV.

Both take one night's canonical receipts text rows (the columns of ``SOURCES["receipts"]``, all
strings, nulls where ``walletrecon sample`` writes empty fields) and are read back by the
``mapped`` profile with the ``[[inputs]]`` table that ``xlsx_inputs`` / ``csv_inputs`` give.

Spreadsheet (``write_xlsx``): sheet ``Receipts``, a title row, then a header in the merchant's
words (``XLSX_HEADERS``), then one row per receipt. An amount is a number cell when the text
the reader gets back for it (``sheet_text``) is exactly the same decimal as the canonical text
(``number_cell``: true for everyday amounts, false from about 10^7 with cents). Otherwise, and
for any text that is not a plain decimal number (a broken row's amount), it is a text cell
holding the canonical text, so the reader and validation treat it as the canonical night does.
Number cells show the currency's places (``0.00``, ``0``, ``0.000``); the reader gets ``12.5``
for ``12.50``, the same decimal. ``received_at`` is a text cell holding the canonical ISO text
as written (``...+08:00``, ``...Z`` or the engine's local time without offset): a datetime
cell carries no offset, and a local time without offset is only placed by the engine's zone,
so text keeps every instant exactly. Ids and codes are text cells (never formulas). The
workbook's creation time is fixed (``CREATED``), so the same rows give the same bytes.

CSV (``write_csv``): GB18030, comma separated, ``"`` quoting where needed, Chinese headers
(``CSV_HEADERS``), decimal point (what Chinese merchant exports use; a decimal comma would turn
a broken amount such as ``1,5`` into a valid one), every value as the canonical text.

Rows come back with the canonical values column by column (amounts equal as decimals, the
same minor units after validation); no id is derived differently, so no id mapping is needed.
Empty values are written empty and read back as null. One limit: the xlsx reader counts only
rows with a value in some cell, so a receipt with every field empty (never generated) would
vanish from the sheet; ``write_xlsx`` refuses such rows (ValueError) rather than lose one.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from walletrecon.money import currency_exponents
from walletrecon.schemas import SOURCES

SOURCE = "receipts"
NAMES = SOURCES[SOURCE].column_names
XLSX_HEADERS = {
    "receipt_id": "Receipt No.",
    "merchant_id": "Merchant",
    "txn_id": "Order Ref",
    "amount": "Amount",
    "currency": "Currency",
    "received_at": "Received",
}
CSV_HEADERS = {
    "receipt_id": "收据编号",
    "merchant_id": "商户",
    "txn_id": "订单号",
    "amount": "金额",
    "currency": "币种",
    "received_at": "收款时间",
}
SHEET = "Receipts"
TITLE = "Merchant receipts"
CSV_ENCODING = "gb18030"
#: The workbook's creation time (docProps/core.xml): fixed so the bytes depend on the rows only.
CREATED = datetime(2026, 1, 1)
_PLAIN = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")


def sheet_text(value: float) -> str:
    """The text the reader gets back for a number cell holding ``value``.

    xlsxwriter stores a double as ``%.16g``; the reader (fastexcel on calamine) parses that
    into a double and gives it back with nine decimal places, trailing zeros cut (measured:
    ``123456789.12`` comes back as ``123456789.120000005``, ``0.30000000000000004`` as ``0.3``)."""
    stored = float(f"{value:.16g}")
    return f"{stored:.9f}".rstrip("0").rstrip(".")


def number_cell(text: str | None) -> float | None:
    """The amount as a float for a number cell, or None when it must stay a text cell: only
    a plain decimal whose read-back text (``sheet_text``) is exactly the same decimal."""
    if text is None or not _PLAIN.fullmatch(text):
        return None
    value = float(text)
    return value if Decimal(sheet_text(value)) == Decimal(text) else None


def _title(rows: pl.DataFrame) -> str:
    """The title row: the receipts' count and the span of their received texts."""
    received = rows["received_at"].drop_nulls().sort()
    if received.is_empty():
        return f"{TITLE}: {rows.height} receipts"
    return f"{TITLE}: {rows.height} receipts, {received[0][:10]} to {received[-1][:10]}"


def _check_columns(rows: pl.DataFrame) -> None:
    if rows.columns[: len(NAMES)] != list(NAMES):
        raise ValueError(
            f"receipts writer: expected columns {', '.join(NAMES)}; got {rows.columns}"
        )


def _check_not_blank(rows: pl.DataFrame) -> None:
    """A row with every field empty has no sheet row the reader would count."""
    blank = rows.select(
        pl.all_horizontal(pl.col(n).is_null() | (pl.col(n).str.strip_chars() == "") for n in NAMES)
    ).to_series()
    if blank.any():
        first = blank.arg_true()[0]
        raise ValueError(f"receipts writer: row {first + 1} has every field empty")


def _write_rows(workbook: Any, sheet: Any, rows: pl.DataFrame) -> None:
    """One sheet row per receipt from sheet row 3: amounts as numbers where exact, else text."""
    places = {
        e: workbook.add_format({"num_format": "0." + "0" * e if e else "0"}) for e in range(5)
    }
    exponents = currency_exponents()
    for row, record in enumerate(rows.select(NAMES).iter_rows(), start=2):
        for col, value in enumerate(record):
            if value is None or value == "":
                continue
            number = number_cell(value) if NAMES[col] == "amount" else None
            if number is None:
                sheet.write_string(row, col, value)
                continue
            exponent = exponents.get((record[NAMES.index("currency")] or "").strip().upper())
            sheet.write_number(row, col, number, places.get(exponent) if exponent else places[0])


def write_xlsx(rows: pl.DataFrame, path: Path) -> None:
    """Write canonical receipts text rows as the merchant's ``.xlsx`` spreadsheet at ``path``."""
    import xlsxwriter  # type: ignore[import-untyped]

    _check_columns(rows)
    _check_not_blank(rows)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    workbook.set_properties({"created": CREATED, "title": TITLE})
    sheet = workbook.add_worksheet(SHEET)
    bold = workbook.add_format({"bold": True})
    sheet.write_string(0, 0, _title(rows), bold)
    for col, name in enumerate(NAMES):
        sheet.write_string(1, col, XLSX_HEADERS[name], bold)
    _write_rows(workbook, sheet, rows)
    sheet.set_column(0, len(NAMES) - 1, 20)
    workbook.close()


def write_csv(rows: pl.DataFrame, path: Path) -> None:
    """Write canonical receipts text rows as the merchant's GB18030 CSV at ``path``."""
    _check_columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([CSV_HEADERS[name] for name in NAMES])
    for record in rows.select(NAMES).iter_rows():
        writer.writerow(["" if value is None else value for value in record])
    path.write_bytes(buffer.getvalue().encode(CSV_ENCODING))


def xlsx_inputs(pattern: str = "receipts/*.xlsx") -> dict[str, Any]:
    """The ``[[inputs]]`` table that reads ``write_xlsx``'s files under ``pattern``."""
    return {
        "source": SOURCE,
        "profile": "mapped",
        "pattern": pattern,
        "encoding": "utf-8",
        "columns": dict(XLSX_HEADERS),
        "options": {"sheet": SHEET, "skip_header_lines": "1"},
    }


def csv_inputs(pattern: str = "receipts/*.csv") -> dict[str, Any]:
    """The ``[[inputs]]`` table that reads ``write_csv``'s files under ``pattern``."""
    return {
        "source": SOURCE,
        "profile": "mapped",
        "pattern": pattern,
        "encoding": CSV_ENCODING,
        "columns": dict(CSV_HEADERS),
        "options": {"delimiter": ",", "decimal": "."},
    }
