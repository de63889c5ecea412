"""CSV files a person opens in a spreadsheet, written so that no cell runs as a formula.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (CSV injection): a ``bank_line_id`` of ``=HYPERLINK(...)``
would run on the reviewer's machine. Following OWASP's rule, such a cell is prefixed with a single
quote, which spreadsheets show as text. Plain numbers such as ``-12.50`` stay as they are, so
negative amounts remain numbers. Every CSV the engine writes for people goes through
``write_csv``.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

#: First characters that make a spreadsheet evaluate a cell (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A cell beginning with one of them.
FORMULA_START = "^[" + re.escape("".join(FORMULA_STARTS)) + "]"
#: A plain decimal number, which a spreadsheet reads as a number and never as a formula.
PLAIN_NUMBER = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell a spreadsheet would evaluate prefixed with ``'``.

    Most columns hold no cell that starts like a formula: one pass finds the columns that do,
    and only those are rewritten."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text_columns or frame.is_empty():
        return frame
    found = frame.select(_starts_formula(pl.col(name)).any().alias(name) for name in text_columns)
    flagged = [name for name, hit in found.row(0, named=True).items() if hit]
    if not flagged:
        return frame
    return frame.with_columns(_safe_cell(pl.col(name)).alias(name) for name in flagged)


def _starts_formula(cell: pl.Expr) -> pl.Expr:
    return cell.str.contains(FORMULA_START)


def _safe_cell(cell: pl.Expr) -> pl.Expr:
    formula = _starts_formula(cell) & ~cell.str.contains(PLAIN_NUMBER)
    return pl.when(formula).then(pl.lit("'") + cell).otherwise(cell)


def write_csv(frame: pl.DataFrame, path: Path | None = None) -> str:
    """Write the frame as CSV (to ``path``, or return the text) with formulas neutralised."""
    safe = neutralise(frame)
    if path is None:
        return safe.write_csv()
    safe.write_csv(path)
    return ""
