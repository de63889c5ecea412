"""Any source from a CSV (any delimiter, quoting, encoding) or an ``.xlsx`` sheet, by configuration.

``spec.columns`` maps canonical column = the file's column (header name). ``spec.options`` (flat
text, as ``convert --option KEY=VALUE`` gives it):

- ``delimiter``: ``,`` (default), ``\\t`` (or ``tab``), ``;``, ``|``. ``quote``: ``"`` (default).
- ``decimal``: ``.`` (default) or ``,``; ``thousands``: none (default), ``.``, ``,``, `` `` or ``'``
  (a space also accepts no-break spaces, ``'`` also ``’``). Separators must group three digits.
- ``date_format`` / ``timestamp_format``: strftime forms (``%d.%m.%Y``, ``%d/%m/%Y %H:%M``) for
  date and timestamp columns; without one, the value passes as written (the engine reads ISO).
- ``timezone``: IANA zone for timestamps without offset: written with that zone's offset;
  without it they stay without offset (the engine reads them in its configured zone).
- ``skip_header_lines``: lines before the header row (not records); ``skip_footer_lines``: the
  last N non-empty lines, kept as ``control`` records (footers usually carry totals).
- ``sheet``: for ``.xlsx``, the sheet's name or 0-based index (default the first).
- ``debit_column``, ``credit_column``: two columns each written positive; the amount (bank
  ``amount``, else the source's first amount column) is credit - debit; a row with both nonzero
  is rejected.
- ``amount_sign = "negate"``: turn the sign of the signed amount columns (``amount``,
  ``balance``, ``net_amount``).
- ``constant.COLUMN = VALUE``: a constant for a canonical column (``constant.currency = EUR``).
- ``extract.COLUMN = "FILECOLUMN:REGEX"``: the first group of REGEX in the file column
  (``extract.payout_id = "reference:(PO-\\d+)"``); no match is null (rejected when required).

Amounts: surrounding spaces, thousands separators, a decimal comma, a trailing minus
(``12,50-``) and parentheses (``(12.50)``) are read; letters and currency symbols are rejected
rather than guessed. A value that does not parse rejects its row naming the column, line and
what was expected. ``spec.encoding`` is decoded strictly (a bad byte: InputError with offset).

``.xlsx`` (read by ``mapped_excel``): ``decimal`` and ``thousands`` are refused (a numeric
cell carries no separators; it arrives as the shortest text of its binary double, ``12.5``),
an amount with more decimal places than the row's currency allows is rejected (the tail of a
float such as ``0.30000000000000004``: store such amounts as text, or round them in the sheet),
and date/timestamp columns take datetime cells and serial numbers (in the workbook's 1900 or
1904 date system) besides text in the configured format. ``skip_header_lines`` counts sheet
rows before the header row; ``skip_footer_lines`` the last non-empty rows (a totals row).

Records: every non-empty line after the header row (CSV) or every row after the header row with
a value in any cell (xlsx); footer lines and rows included, as control.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from walletrecon.errors import ConfigError, InputError
from walletrecon.schemas import SOURCES, Column
from walletrecon.sources.profiles import ControlLine, ProfileResult, ProfileSpec, Rejection
from walletrecon.sources.profiles.delimited import read_records
from walletrecon.sources.profiles.mapped_excel import SERIAL, excel_time, read_sheet
from walletrecon.sources.profiles.textexpr import (
    THOUSANDS,
    Case,
    arrow_rows,
    check_regex,
    check_zone,
    clean,
    decimal_text,
    exponent,
    iso_date,
    iso_timestamp,
    minor_units,
    negate,
    split_by_reason,
)

OPTIONS = (
    "delimiter",
    "quote",
    "decimal",
    "thousands",
    "date_format",
    "timestamp_format",
    "timezone",
    "skip_header_lines",
    "skip_footer_lines",
    "sheet",
    "debit_column",
    "credit_column",
    "amount_sign",
)
PREFIXES = ("constant.", "extract.")
DELIMITERS = {",": ",", ";": ";", "|": "|", "\\t": "\t", "\t": "\t", "tab": "\t"}
SIGNED = ("amount", "balance", "net_amount")


def _check_options(spec: ProfileSpec) -> None:
    names = SOURCES[spec.source].column_names
    for key, value in spec.options.items():
        prefix = next((p for p in PREFIXES if key.startswith(p)), None)
        if prefix is None and key not in OPTIONS:
            raise ConfigError(
                f"mapped profile: unknown option '{key}' (known: {', '.join(OPTIONS)}, "
                "constant.COLUMN, extract.COLUMN)"
            )
        if prefix and key[len(prefix) :] not in names:
            raise ConfigError(f"mapped profile: option '{key}' names no {spec.source} column")
        if prefix == "extract." and ":" not in value:
            raise ConfigError(f"mapped profile: {key} = '{value}'; expected 'FILECOLUMN:REGEX'")
    checks = {"decimal": (".", ","), "thousands": THOUSANDS, "amount_sign": ("negate",)}
    for key, allowed in checks.items():
        if key in spec.options and spec.options[key] not in allowed:
            raise ConfigError(
                f"mapped profile: {key} = '{spec.options[key]}'; expected one of "
                + ", ".join(repr(a) for a in allowed)
            )
    if spec.options.get("delimiter", ",") not in DELIMITERS:
        raise ConfigError(
            f"mapped profile: delimiter '{spec.options['delimiter']}'; expected "
            "',', ';', '|' or '\\t'"
        )
    if ("debit_column" in spec.options) != ("credit_column" in spec.options):
        raise ConfigError("mapped profile: debit_column and credit_column are given together")
    check_zone(spec.options.get("timezone"), "mapped")
    unknown = sorted(set(spec.columns) - set(names))
    if unknown:
        raise ConfigError(f"mapped profile: {', '.join(unknown)} are not {spec.source} columns")


def _count(spec: ProfileSpec, key: str) -> int:
    value = spec.options.get(key, "0")
    if not value.isdigit():
        raise ConfigError(f"mapped profile: {key} = '{value}'; expected a whole number")
    return int(value)


def _amount_target(spec: ProfileSpec) -> str:
    amounts = [c.name for c in SOURCES[spec.source].columns if c.kind == "amount"]
    return "amount" if "amount" in amounts else amounts[0]


def _value(column: Column, spec: ProfileSpec, header: list[str]) -> pl.Expr | None:
    """The expression giving a canonical column's raw text, or None when nothing feeds it."""
    options, name = spec.options, column.name
    if f"constant.{name}" in options:
        return pl.lit(options[f"constant.{name}"], pl.String)
    if f"extract.{name}" in options:
        source, pattern = options[f"extract.{name}"].split(":", 1)
        _need(source, header, spec)
        check_regex(pattern, f"mapped profile: extract.{name}")
        return pl.col(source).str.extract(pattern, 1)
    if name in spec.columns:
        _need(spec.columns[name], header, spec)
        return pl.col(spec.columns[name])
    return None


def _need(column: str, header: list[str], spec: ProfileSpec) -> None:
    if column not in header:
        raise InputError(
            f"{spec.display}: expected a column '{column}' in the header "
            f"(found: {', '.join(header)})"
        )


def _debit_credit(spec: ProfileSpec, header: list[str], decimal: str, thousands: str) -> pl.Expr:
    """credit - debit, each written positive; null (and a reason) when both hold a value."""
    debit_name, credit_name = spec.options["debit_column"], spec.options["credit_column"]
    for name in (debit_name, credit_name):
        _need(name, header, spec)
    debit = decimal_text(clean(pl.col(debit_name)), decimal, thousands)
    credit = decimal_text(clean(pl.col(credit_name)), decimal, thousands)
    nonzero_debit = debit.str.contains("[1-9]").fill_null(False)
    return pl.when(nonzero_debit).then(negate(debit)).otherwise(credit.fill_null(debit))


def _time(
    column: Column, raw: pl.Expr, spec: ProfileSpec, excel: bool, date1904: bool = False
) -> tuple[pl.Expr, str]:
    """A date or timestamp as ISO text, and what was expected (for reasons)."""
    key = "date_format" if column.kind == "date" else "timestamp_format"
    fmt, zone = spec.options.get(key), spec.options.get("timezone")
    expected = f"a value in {key} '{fmt}'" if fmt else "ISO 8601"
    if column.kind == "date":
        value = iso_date(raw, fmt) if fmt else raw
    else:
        value = iso_timestamp(raw, fmt, zone) if fmt else raw
    if excel:
        cell = excel_time(raw, date1904)
        if column.kind == "date":
            from_cell = cell.dt.to_string("%Y-%m-%d")
        elif zone:
            placed = cell.dt.replace_time_zone(zone, ambiguous="null", non_existent="null")
            from_cell = placed.dt.to_string("%Y-%m-%dT%H:%M:%S%:z")
        else:
            from_cell = cell.dt.to_string("%Y-%m-%dT%H:%M:%S")
        # A number in a date column is a serial date or nothing (serials before 61 fall in
        # Excel's phantom 29 February 1900 and are rejected).
        value = (
            pl.when(raw.str.contains(SERIAL))
            .then(from_cell)
            .otherwise(pl.coalesce(from_cell, value))
        )
        expected += " or an Excel date"
    return value, expected


Built = tuple[pl.Expr, pl.Expr, pl.Expr]


@dataclass
class Loaded:
    """A file's rows as text, whichever reader read them."""

    header: list[str]
    table: pa.Table
    lines: np.ndarray
    records: int
    malformed: list[tuple[int, str, str]]
    footer: list[tuple[int, str]]
    raw_line: Callable[[int], str] | None
    date1904: bool = False


def _column(
    column: Column, spec: ProfileSpec, header: list[str], excel: bool, date1904: bool = False
) -> Built:
    """A canonical column's value (as ``_v_NAME``), when its row fails, and the message."""
    decimal, thousands = spec.options.get("decimal", "."), spec.options.get("thousands", "")
    source = _value(column, spec, header)
    is_debit_credit = column.name == _amount_target(spec) and "debit_column" in spec.options
    raw = clean(source) if source is not None else pl.lit(None, pl.String)
    value, bad = raw, pl.lit(False)
    expected = "a value"
    if is_debit_credit:
        debit, credit = spec.options["debit_column"], spec.options["credit_column"]
        value = _debit_credit(spec, header, decimal, thousands)
        raw = pl.concat_str(pl.col(debit).fill_null(""), pl.lit("|"), pl.col(credit).fill_null(""))
        both = pl.all_horizontal(
            decimal_text(clean(pl.col(name)), decimal, thousands).str.contains("[1-9]")
            for name in (debit, credit)
        ).fill_null(False)
        signs = pl.any_horizontal(
            clean(pl.col(n)).str.contains(r"\A-|-\z|\A\(") for n in (debit, credit)
        )
        # A column that holds text but no decimal number is wrong even beside a good other one.
        unreadable = pl.any_horizontal(
            clean(pl.col(n)).is_not_null()
            & decimal_text(clean(pl.col(n)), decimal, thousands).is_null()
            for n in (debit, credit)
        )
        bad = both | signs.fill_null(False) | unreadable.fill_null(False)
        bad = bad | (raw.str.contains("[0-9]") & value.is_null())
        expected = f"one positive decimal number in {debit} or {credit}"
    elif column.kind == "amount":
        value = decimal_text(raw, decimal, thousands)
        expected = f"a decimal number with decimal '{decimal}' and thousands '{thousands}'"
    elif column.kind == "currency":
        value = raw.str.to_uppercase()
    elif column.kind in ("date", "timestamp"):
        value, expected = _time(column, raw, spec, excel, date1904)
    if spec.options.get("amount_sign") == "negate" and column.name in SIGNED:
        value = negate(value)
    bad = bad | (raw.is_not_null() & value.is_null())
    shown = pl.lit(f"{column.name}: '") + raw.fill_null("") + pl.lit(f"' is not {expected}")
    empty = pl.lit(f"{column.name}: empty; expected {expected}")
    failing = (bad | value.is_null()) if column.required else bad
    return value.alias(f"_v_{column.name}"), failing, pl.when(bad).then(shown).otherwise(empty)


def _places_cases(spec: ProfileSpec) -> list[Case]:
    """xlsx: an amount with more places than its currency allows (a float cell's tail)."""
    cases: list[Case] = []
    for column in SOURCES[spec.source].columns:
        if column.kind != "amount":
            continue
        value, places = pl.col(f"_v_{column.name}"), exponent(pl.col("_v_currency"))
        condition = (
            minor_units(value, places).is_null() & value.is_not_null() & places.is_not_null()
        )
        message = (
            pl.lit(f"{column.name}: '")
            + value
            + pl.lit(
                "' has more decimal places than its currency allows (a binary float cell? "
                "store amounts as text or round them in the sheet)"
            )
        )
        cases.append((condition, message))
    return cases


def _load(path: Path, spec: ProfileSpec, excel: bool) -> Loaded:
    """The file's header and data rows as text, with lines, malformed rows and footers."""
    skip_head, skip_foot = _count(spec, "skip_header_lines"), _count(spec, "skip_footer_lines")
    if excel:
        if "decimal" in spec.options or "thousands" in spec.options:
            raise ConfigError(
                "mapped profile: decimal and thousands apply to CSV; numeric .xlsx "
                "cells carry no separators (text cells are read as plain numbers)"
            )
        sheet = read_sheet(path, spec.display, spec.options.get("sheet", "0"), skip_head, skip_foot)
        return Loaded(
            sheet.header, sheet.table, sheet.lines, sheet.records, [], sheet.footer, None,
            sheet.date1904,
        )  # fmt: skip
    csv = read_records(
        path,
        spec.encoding,
        spec.display,
        delimiter=DELIMITERS[spec.options.get("delimiter", ",")],
        quote=spec.options.get("quote", '"'),
        skip_header_lines=skip_head,
        skip_footer_lines=skip_foot,
    )
    return Loaded(
        csv.header, csv.table, csv.lines, csv.records, csv.malformed, csv.footer, csv.raw_line
    )


def read(path: Path, spec: ProfileSpec) -> ProfileResult:
    """Read one CSV or .xlsx file into a source's canonical rows by configuration."""
    _check_options(spec)
    spec = replace(spec, display=spec.display or str(path))
    excel = path.suffix.lower() == ".xlsx"
    loaded = _load(path, spec, excel)
    frame = pl.from_arrow(loaded.table)
    assert isinstance(frame, pl.DataFrame)
    built = [
        _column(column, spec, loaded.header, excel, loaded.date1904)
        for column in SOURCES[spec.source].columns
    ]
    frame = frame.with_columns(
        pl.Series("_line", loaded.lines, pl.Int64), *(value for value, _, _ in built)
    )
    cases = [(failing, message) for _, failing, message in built]
    if excel and "currency" in SOURCES[spec.source].column_names:
        cases += _places_cases(spec)
    accepted, refused = split_by_reason(frame, cases)
    if loaded.raw_line is None:
        raw = pl.concat_str([pl.col(n).fill_null("") for n in loaded.header], separator="\t")
        refused = refused.with_columns(raw.alias("_raw"))
    else:
        refused = refused.with_columns(pl.lit("").alias("_raw"))
    return _result(spec, accepted, refused, loaded)


def _result(
    spec: ProfileSpec, accepted: pl.DataFrame, refused: pl.DataFrame, loaded: Loaded
) -> ProfileResult:
    names = SOURCES[spec.source].column_names
    rows = accepted.select(
        *(pl.col(f"_v_{name}").alias(name) for name in names),
        pl.col("_line").alias("origin_row"),
        pl.lit(None, pl.String).alias("origin_element"),
    )
    raw_line = loaded.raw_line
    rejected = [
        Rejection(line, reason, raw_line(line) if raw_line else raw, column=reason.split(":")[0])
        for line, reason, raw in refused.select("_line", "_reason", "_raw").iter_rows()
    ]
    rejected += [Rejection(line, f"row: {why}", raw) for line, why, raw in loaded.malformed]
    rejected.sort(key=lambda rejection: rejection.row)
    return ProfileResult(
        source=spec.source,
        rows=arrow_rows(rows),
        rejected=rejected,
        control=[ControlLine(line, "footer", raw) for line, raw in loaded.footer],
        records=loaded.records,
    )
