"""Typing amounts, timestamps and dates from trimmed text, for ``validate``.

Amounts: split into sign, whole and fraction digits as text and assembled into integer minor
units with integer arithmetic; money never goes through float. Timestamps and dates: a Polars fast
path for the one ISO form it reads exactly as DuckDB does, and DuckDB's cast for everything else
(no offset, bare dates, odd forms keep DuckDB's reading in the session's time zone).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from walletrecon.config import InputLimits
from walletrecon.schemas import NET_CURRENCY, Column

#: A plain decimal number after trimming (the amount grammar). It has at most one '.', so the
#: text splits exactly at it into sign and whole digits, and fraction digits.
AMOUNT = r"\A[+-]?(?:[0-9]+(?:[.][0-9]*)?|[.][0-9]+)\z"
#: More whole digits than this (leading zeros aside) is too large for Int64 minor units.
MAX_WHOLE_DIGITS = 14
#: The only timestamp form typed in Polars: an ISO 8601 date and time with 1 to 6 fraction digits
#: and an explicit offset, every field in its range. Polars reads it exactly as DuckDB's cast does
#: (tested on sweeps; a second 60 is a leap second to Polars, so it is left out). Anything else,
#: or a day Polars cannot place (30 February), is cast by DuckDB.
_DAY = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_HOUR, _SIXTY = r"(?:[01][0-9]|2[0-3])", r"[0-5][0-9]"
ISO_WITH_OFFSET = (
    rf"\A{_DAY}T{_HOUR}:{_SIXTY}:{_SIXTY}(?:[.][0-9]{{1,6}})?(?:Z|[+-]{_HOUR}:{_SIXTY})\z"
)
ISO_WITH_OFFSET_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%#z"
ISO_DATE = rf"\A{_DAY}\z"
#: Only text that starts like an ISO 8601 date goes to DuckDB's cast: its special words
#: (infinity, epoch, now, today, ...) and signed years are not dates of a payment.
DATE_LIKE = "^[0-9]{4}-[0-9]"
#: A character ISO 8601 never writes in a date, time or offset. DuckDB would read a zone's name
#: or abbreviation (``CST``, ``IST``, ``Europe/Berlin``), and an abbreviation is ambiguous (CST is
#: both US Central and China Standard Time): such text is not a timestamp of the contract.
NOT_ISO_CHARACTER = "[^0-9Tt Zz:.,+-]"
#: An offset no place uses, at the end of a time: beyond ±14:00 (hours 15 to 99, or 14 and some
#: minutes), or minutes 60 to 99. Any place's offset is within ±14:00 (UTC+14:00, UTC-12:00).
_AFTER_TIME = r"[0-9]:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?\s*[+-]"
_BEYOND = r"(?:1[5-9]|[2-9][0-9])(?::?[0-9]{2})?|14:?(?:0[1-9]|[1-5][0-9])|[0-9]{1,2}:?[6-9][0-9]"
BAD_OFFSET = rf"{_AFTER_TIME}(?:{_BEYOND})\z"


# Working columns beside the typed ones: "<part>__<column name>".
def part(name: str, part: str) -> pl.Expr:
    return pl.col(f"{part}__{name}")


def trimmed(name: str) -> pl.Expr:
    """A value as the checks see it: trimmed like DuckDB's trim(), empty as absent."""
    return part(name, "trimmed")


def row_exponent(column: Column) -> pl.Expr:
    """The minor-unit exponent of an amount's currency (the first of its currency columns that
    the row has), or null."""
    return pl.coalesce([part(name, "exponent") for name in column.currency_columns])


def quoted(name: str) -> pl.Expr:
    """A value quoted for a reason, as trimmed for the checks."""
    return pl.lit("'") + trimmed(name) + pl.lit("'")


# --- timestamps and dates: a checked Polars fast path, DuckDB for the rest -----------------------


def session_zone(connection: duckdb.DuckDBPyConnection) -> str:
    """The session's time zone, as DuckDB names it on the timestamps it returns."""
    rows = connection.sql("SELECT current_setting('TimeZone')").fetchall()
    return str(rows[0][0])


def _cast_sql(column: Column, value: str, limits: InputLimits) -> str:
    """DuckDB's reading of a timestamp or date; a bare date may mean the end of that day.

    Only date-like text without a zone's name is cast, and only finite values within the
    configured years are kept: an infinite or far-off value never reaches Polars (which cannot
    hold it).
    """
    if column.kind == "date":
        cast = f"try_cast({value} AS DATE)"
    else:
        cast = f"try_cast({value} AS TIMESTAMPTZ)"
    if column.kind == "timestamp" and column.bare_date_is_end_of_day:
        next_day = f"CAST(try_cast({value} AS DATE) + INTERVAL 1 DAY AS TIMESTAMPTZ)"
        bare = f"regexp_full_match({value}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
        cast = f"CASE WHEN {bare} THEN {next_day} ELSE {cast} END"
    years = f"{limits.earliest_year} AND {limits.latest_year}"
    return (
        f"CASE WHEN regexp_matches({value}, '{DATE_LIKE}') "
        f"AND NOT regexp_matches({value}, '{NOT_ISO_CHARACTER}') "
        f"THEN (SELECT CASE WHEN isfinite(t) AND year(t) BETWEEN {years} THEN t END "
        f"FROM (SELECT {cast} AS t)) END"
    )


def within_limits(column: Column, limits: InputLimits) -> pl.Expr:
    """A typed timestamp or date, or null when its year or its offset is out of range.

    The year is checked in UTC (timestamps) or as written (dates); an offset beyond ±14:00 is
    no place's (a typo such as +99:00 would shift the time by days).
    """
    value = pl.col(column.name)
    first, after = dt.date(limits.earliest_year, 1, 1), dt.date(limits.latest_year + 1, 1, 1)
    if column.kind == "timestamp":
        # Compared as instants: no per-value conversion to a calendar.
        start = dt.datetime.combine(first, dt.time(), dt.UTC)
        end = dt.datetime.combine(after, dt.time(), dt.UTC)
        instant = value.dt.convert_time_zone("UTC")  # the zone is metadata: no work per value
        valid = (instant >= pl.lit(start)) & (instant < pl.lit(end))
    else:
        valid = (value >= pl.lit(first)) & (value < pl.lit(after))
    if column.kind == "timestamp":
        valid = valid & ~trimmed(column.name).str.contains(BAD_OFFSET).fill_null(False)
    return pl.when(valid).then(value).alias(column.name)


def expected_time(column: Column, limits: InputLimits) -> str:
    """What a timestamp or date column expects, for reasons."""
    years = f"a year from {limits.earliest_year} to {limits.latest_year}"
    if column.kind == "date":
        return f"an ISO 8601 date with {years}"
    return f"an ISO 8601 timestamp with {years} and an offset within ±14:00"


def fast_time(column: Column) -> pl.Expr:
    """The Polars reading of the forms it reads exactly like DuckDB; null for everything else."""
    value = trimmed(column.name)
    if column.kind == "date":
        typed = pl.when(value.str.contains(ISO_DATE)).then(
            value.str.to_date("%Y-%m-%d", strict=False)
        )
    else:
        typed = pl.when(value.str.contains(ISO_WITH_OFFSET)).then(
            value.str.to_datetime(
                ISO_WITH_OFFSET_FORMAT, time_unit="us", time_zone="UTC", strict=False
            )
        )
    return typed.alias(column.name)


def _cast_in_duckdb(
    connection: duckdb.DuckDBPyConnection, column: Column, values: pl.Series, limits: InputLimits
) -> pl.Series:
    """DuckDB's cast of the values the fast path left, in their order (UTC for timestamps)."""
    pending = values.to_frame("value").with_row_index("position")
    connection.register("validate_pending", pending.to_arrow())
    try:
        cast_sql = _cast_sql(column, "value", limits)
        cast: pl.DataFrame = connection.sql(
            f"SELECT {cast_sql} AS value FROM validate_pending ORDER BY position"
        ).pl()
    finally:
        connection.unregister("validate_pending")
    series = cast.get_column("value")
    return series.dt.convert_time_zone("UTC") if column.kind == "timestamp" else series


def typed_time(
    connection: duckdb.DuckDBPyConnection,
    column: Column,
    frame: pl.DataFrame,
    zone: str,
    limits: InputLimits,
) -> pl.Series:
    """A timestamp or date column typed: the fast path's reading, DuckDB's for the values left.

    Timestamps carry the session's zone, as DuckDB returned them before the fast path existed.
    """
    typed, text = frame.get_column(column.name), frame.get_column(f"trimmed__{column.name}")
    pending = (typed.is_null() & text.is_not_null()).arg_true()
    if len(pending):
        typed = typed.clone().scatter(
            pending, _cast_in_duckdb(connection, column, text.gather(pending), limits)
        )
    if column.kind == "timestamp":
        typed = typed.dt.convert_time_zone(zone)
    return typed


# --- amounts: digits as text, integer arithmetic -------------------------------------------------


def amount_parts(name: str) -> list[pl.Expr]:
    """Is-a-number, is-negative, whole digits (no sign, no leading zeros) and fraction digits
    (no trailing zeros), all as text."""
    text = trimmed(name)
    halves = text.str.split_exact(".", 1)
    whole, fraction = halves.struct.field("field_0"), halves.struct.field("field_1")
    return [
        text.str.contains(AMOUNT).alias(f"number__{name}"),
        text.str.starts_with("-").alias(f"negative__{name}"),
        whole.str.strip_chars_start("+-0").alias(f"whole__{name}"),
        fraction.fill_null("").str.strip_chars_end("0").alias(f"fraction__{name}"),
    ]


def amount_value(column: Column) -> pl.Expr:
    """Integer minor units: whole * 10^exponent + the fraction digits shifted to the exponent."""
    name = column.name
    whole, fraction, exponent = part(name, "whole"), part(name, "fraction"), row_exponent(column)
    ten = pl.lit(10, pl.Int64)
    # Too many digits is rejected anyway; not parsing them keeps the arithmetic in range.
    whole_units = pl.when(whole.str.len_chars() <= MAX_WHOLE_DIGITS).then(
        whole.str.to_integer(strict=False)
    )
    shift = (exponent - fraction.str.len_chars()).clip(lower_bound=0)
    fraction_units = fraction.str.to_integer(strict=False).fill_null(0) * ten.pow(shift)
    units = whole_units.fill_null(0) * ten.pow(exponent) + fraction_units
    signed = pl.when(part(name, "negative")).then(-units).otherwise(units)
    return pl.when(part(name, "number") & exponent.is_not_null()).then(signed).alias(name)


def amount_cases(column: Column) -> list[tuple[pl.Expr, pl.Expr | None]]:
    """The amount checks in order; an unknown currency skips the checks needing its exponent."""
    name, shown, exponent = column.name, quoted(column.name), row_exponent(column)
    places = pl.concat_str(
        pl.lit("more decimal places than the currency has ("),
        exponent.cast(pl.String),
        pl.lit("): "),
        shown,
    )
    too_large = part(name, "whole").str.len_chars() > MAX_WHOLE_DIGITS
    cases: list[tuple[pl.Expr, pl.Expr | None]] = [
        (~part(name, "number"), pl.lit("not a decimal number: ") + shown),
        (exponent.is_null(), None),
        (part(name, "fraction").str.len_chars() > exponent, places),
        (too_large, pl.lit("amount too large: ") + shown),
    ]
    if column.sign == "non_negative":
        cases.append((part(name, "negative"), pl.lit("must not be negative: ") + shown))
    return cases


# --- exchange rates: positive decimals, kept as text ---------------------------------------------

#: A positive decimal number (no sign but an optional '+').
RATE = r"\A[+]?(?:[0-9]+(?:[.][0-9]*)?|[.][0-9]+)\z"
#: More significant digits than this does not fit the exact 64-bit arithmetic of the checks.
MAX_RATE_DIGITS = 18


def rate_digits(text: pl.Expr) -> pl.Expr:
    """The significant digits of a rate as text: '0.011000' -> '11', '1.5' -> '15'."""
    halves = text.str.strip_chars_start("+").str.split_exact(".", 1)
    whole = halves.struct.field("field_0").fill_null("")
    fraction = halves.struct.field("field_1").fill_null("").str.strip_chars_end("0")
    return (whole + fraction).str.strip_chars_start("0")


def rate_needed() -> pl.Expr:
    """A settlement line whose net currency differs from its currency needs its rate: amounts
    of two currencies are never compared without one."""
    net, gross = (trimmed(name).str.to_uppercase() for name in NET_CURRENCY)
    return net.is_not_null() & gross.is_not_null() & (net != gross)


def rate_cases(column: Column) -> list[tuple[pl.Expr, pl.Expr | None]]:
    """The checks of an exchange rate: a positive decimal of at most 18 significant digits."""
    value, shown = trimmed(column.name), quoted(column.name)
    digits = rate_digits(value)
    return [
        (~value.str.contains(RATE), pl.lit("not a positive decimal rate: ") + shown),
        (digits == "", pl.lit("an exchange rate must be above zero: ") + shown),
        (
            digits.str.len_chars() > MAX_RATE_DIGITS,
            pl.lit(f"more than {MAX_RATE_DIGITS} significant digits: ") + shown,
        ),
    ]
