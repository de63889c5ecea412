"""Polars expressions the CSV profiles share: amounts and timestamps as text, exactly.

Amounts never go through float: a written amount is checked against a grammar (separators,
sign forms) and rewritten as plain decimal text (``"-1234.50"``); minor units are shifted by the
currency's ISO 4217 exponent as digits. A value that does not parse becomes null, and the caller
names the column, the line and what was expected.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
import pyarrow as pa

from walletrecon.errors import ConfigError
from walletrecon.money import currency_exponents

#: The thousands separators the profiles accept, and their look-alikes read as the same.
THOUSANDS = ("", ".", ",", " ", "'")
_LOOKALIKES = {" ": ("\u00a0", "\u202f"), "'": ("\u2019",)}


def check_zone(zone: str | None, profile: str) -> None:
    """ConfigError unless ``zone`` is None or an IANA time zone name."""
    if zone is None:
        return
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{profile} profile: timezone '{zone}' is not an IANA time zone") from exc


def check_regex(pattern: str, where: str) -> None:
    """ConfigError unless Polars (Rust regex syntax) accepts ``pattern`` with a capture group."""
    try:
        pl.Series([""]).str.extract(pattern, 1)
    except pl.exceptions.ComputeError as exc:
        raise ConfigError(f"{where}: '{pattern}' is not a regular expression: {exc}") from exc
    if re.compile(pattern).groups < 1:
        raise ConfigError(f"{where}: '{pattern}' has no group (...) to take the value from")


def clean(expr: pl.Expr) -> pl.Expr:
    """A value trimmed, empty as null."""
    text = expr.str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text)


def exponent(currency: pl.Expr) -> pl.Expr:
    """The ISO 4217 minor-unit exponent of an (upper-case) currency code, null when unknown."""
    return currency.replace_strict(currency_exponents(), default=None, return_dtype=pl.Int64)


def decimal_text(expr: pl.Expr, decimal: str = ".", thousands: str = "") -> pl.Expr:
    """A written amount as plain decimal text, or null when it does not follow the grammar.

    Accepted: surrounding spaces, a leading ``+``/``-``, a trailing minus (``12,50-``) or
    parentheses (``(12.50)``) for negatives, the thousands separator only between groups of three
    digits, one decimal separator. Anything else (letters, currency symbols, two decimal marks)
    is null: the caller rejects the row rather than guess."""
    text = expr.str.strip_chars()
    for alias in _LOOKALIKES.get(thousands, ()):
        text = text.str.replace_all(alias, thousands, literal=True)
    dec, sep = re.escape(decimal), re.escape(thousands)
    digits = rf"(?:[0-9]{{1,3}}(?:{sep}[0-9]{{3}})+|[0-9]+)" if thousands else "[0-9]+"
    body = rf"(?:{digits}(?:{dec}[0-9]*)?|{dec}[0-9]+)"
    pattern = rf"\A(?:\(\s*{body}\s*\)|[+-]?{body}|{body}\s*-)\z"
    # Cheap string operations only: eager Polars evaluates a shared sub-expression once per
    # use, and a regex extraction costs ten times a match.
    negative = text.str.starts_with("(") | text.str.starts_with("-") | text.str.ends_with("-")
    plain = text.str.replace_all(r"[()+\-\s]", "")
    if thousands:
        plain = plain.str.replace_all(thousands, "", literal=True)
    if decimal != ".":
        plain = plain.str.replace(decimal, ".", literal=True)
    signed = pl.when(negative).then(pl.lit("-")).otherwise(pl.lit("")) + plain
    return pl.when(text.str.contains(pattern)).then(signed)


def plain_decimal(expr: pl.Expr) -> pl.Expr:
    """Machine-written decimal text (``-12.50``, ``+3``, ``.5``) without a leading ``+``, or null
    for anything else: one cheap match, for files that write amounts one way only."""
    text = expr.str.strip_chars()
    valid = text.str.contains(r"\A[+-]?(?:[0-9]+(?:[.][0-9]*)?|[.][0-9]+)\z")
    return pl.when(valid).then(text.str.strip_prefix("+"))


def minor_to_major(minor: pl.Expr, places: pl.Expr) -> pl.Expr:
    """Whole minor units as text (``"-1250"``) to major-unit text (``"-12.50"``) by exponent
    ``places``; null when the text is not a whole number or the exponent is unknown."""
    text = minor.str.strip_chars()
    valid = text.str.contains(r"\A[+-]?[0-9]+\z")
    negative = text.str.starts_with("-")
    digits = text.str.strip_prefix("-").str.strip_prefix("+")
    result: pl.Expr = pl.lit(None, pl.String)
    for value in sorted(set(currency_exponents().values())):
        padded = digits.str.zfill(value + 1)
        length = padded.str.len_chars()
        major = (
            padded
            if value == 0
            else padded.str.slice(0, length - value) + pl.lit(".") + padded.str.slice(-value)
        )
        result = pl.when(places == value).then(major).otherwise(result)
    signed = pl.when(negative).then(pl.lit("-") + result).otherwise(result)
    return pl.when(valid).then(signed)


def minor_units(major: pl.Expr, places: pl.Expr) -> pl.Expr:
    """Plain decimal text to Int64 minor units; null when it has more places than ``places`` or
    more digits than Int64 holds. Zeros ending a fraction are no places: ``10.000`` is 10.00 USD
    (as validation reads it)."""
    major = (
        pl.when(major.str.contains(".", literal=True))
        .then(major.str.strip_chars_end("0").str.strip_suffix("."))
        .otherwise(major)
    )
    dot = major.str.find(".", literal=True)
    fraction_digits = (major.str.len_chars() - dot - 1).fill_null(0).cast(pl.Int64)
    digits = major.str.replace(".", "", literal=True).str.to_integer(strict=False)
    shift = places - fraction_digits
    scaled = digits * pl.lit(10, pl.Int64).pow(shift.clip(lower_bound=0))
    in_range = major.str.len_chars() + shift <= 18
    return pl.when(major.is_not_null() & (shift >= 0) & in_range).then(scaled)


def negate(major: pl.Expr) -> pl.Expr:
    """Plain decimal text with its sign turned."""
    return (
        pl.when(major.str.starts_with("-"))
        .then(major.str.strip_prefix("-"))
        .otherwise(pl.lit("-") + major)
    )


def iso_timestamp(value: pl.Expr, fmt: str, zone: str | None) -> pl.Expr:
    """Text in strftime form ``fmt`` as ISO 8601: with its offset when the form has ``%z`` or a
    ``zone`` is given (the wall time read in that zone), else without offset; null when it does
    not match, or names a time the zone skips or repeats."""
    if "%z" in fmt:
        parsed = value.str.to_datetime(fmt, strict=False, time_unit="us")
        return parsed.dt.to_string("%Y-%m-%dT%H:%M:%S%:z")
    parsed = value.str.to_datetime(fmt, strict=False, time_unit="us")
    if zone is None:
        return parsed.dt.to_string("%Y-%m-%dT%H:%M:%S")
    placed = parsed.dt.replace_time_zone(zone, ambiguous="null", non_existent="null")
    return placed.dt.to_string("%Y-%m-%dT%H:%M:%S%:z").str.replace(r"\+00:00\z", "Z")


def iso_date(value: pl.Expr, fmt: str) -> pl.Expr:
    """Text in strftime form ``fmt`` as an ISO date, null when it does not match."""
    return value.str.to_date(fmt, strict=False).dt.to_string("%Y-%m-%d")


def arrow_rows(frame: pl.DataFrame) -> pa.Table:
    """A profile's rows as Arrow: every column plain ``string`` except ``origin_row`` (int64)."""
    table = frame.to_arrow()
    schema = pa.schema(
        pa.field(name, pa.int64() if name == "origin_row" else pa.string())
        for name in table.column_names
    )
    return table.cast(schema)


Case = tuple[pl.Expr, pl.Expr]


def split_by_reason(frame: pl.DataFrame, cases: list[Case]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows that pass every check, and the rows that fail one with ``_reason`` (the message of
    the first failing check). Messages are built for the failing rows only: Polars evaluates
    every branch of a when/then chain on every row it is given."""
    failing = pl.any_horizontal(condition.fill_null(False) for condition, _ in cases)
    flagged = frame.with_columns(failing.alias("_failing"))
    good = flagged.filter(~pl.col("_failing")).drop("_failing")
    bad = flagged.filter(pl.col("_failing")).drop("_failing")
    reason: pl.Expr = pl.lit(None, pl.String)
    for condition, message in reversed(cases):
        reason = pl.when(condition.fill_null(False)).then(message).otherwise(reason)
    return good, bad.with_columns(reason.alias("_reason"))
