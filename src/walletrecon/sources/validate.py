"""Typing and validating raw text rows in Polars: good rows become canonical, bad rows get reasons.

Every check and typed value is derived from the column specs in ``schemas``. Each column yields a
list of cases (condition, reason) evaluated like SQL's ``CASE WHEN``: the first true condition
decides, and a case without a reason stops the checks of that column. A row with any reason is
rejected with the first failing column and every reason; nothing is dropped silently.

The work runs in Polars expressions on the raw Arrow table, in a few streaming stages: trim every
value, type text and parse amounts and timestamps, flag rows with any reason, then type amounts
and hash the accepted rows and build the reasons of the rejected ones. The checks reproduce the
DuckDB query this module used to be: values are trimmed as DuckDB's trim() does and cased as its
lower() and upper() do. DuckDB is kept for two exact jobs: casting the timestamps and dates the
Polars fast path does not prove (no offset, bare dates, odd forms keep DuckDB's reading in the
session's time zone), and rendering rejected rows as JSON. Money never goes through float:
amounts are split into sign, whole and fraction digits as text and assembled into integer minor
units with integer arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import polars as pl
import polars_hash as plh
import pyarrow as pa

from walletrecon.config import InputLimits
from walletrecon.match.common import row_wise
from walletrecon.money import currency_exponents
from walletrecon.schemas import Column, Source
from walletrecon.sources.parsing import (
    amount_cases,
    amount_parts,
    amount_value,
    expected_time,
    fast_time,
    part,
    quoted,
    rate_cases,
    rate_needed,
    session_zone,
    trimmed,
    typed_time,
    within_limits,
)

#: What DuckDB's trim() removes (Unicode space separators). The checks and the quoted values in
#: reasons have always seen values trimmed this way; typed text is trimmed of all white space.
DUCKDB_SPACES = " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
DUCKDB_SPACES += "\u202f\u205f\u3000"
#: The limits of the default configuration.
DEFAULT_LIMITS = InputLimits()
#: The working column flagging a row with any reason.
FAILED = "failed__"


@dataclass(frozen=True)
class Validated:
    """The outcome of validating one source: canonical rows and rejected rows."""

    accepted: pl.DataFrame
    rejected: pl.DataFrame


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _is_text(column: Column) -> bool:
    return column.kind in ("id", "text", "enum", "currency", "rate")


# --- trimming: the text the checks see, and typed text ------------------------------------------


#: Run a stage on the streaming engine: every step is row-wise, so it runs on all cores.
_collect = row_wise


def _surroundings(frame: pl.DataFrame, names: list[str]) -> tuple[set[str], set[str]]:
    """The columns with a value that has white space around it, and those with an empty value.

    Trimming changes nothing in the other columns, so they are kept as they are.
    """
    checks = []
    for name in names:
        value = pl.col(name)
        stripped = value.str.strip_chars().str.len_bytes() != value.str.len_bytes()
        checks += [stripped.any().alias(f"spaced__{name}"), (value == "").any().alias(name)]
    found = _collect(frame.lazy().select(checks)).row(0, named=True)
    spaced = {name for name in names if found[f"spaced__{name}"]}
    return spaced, {name for name in names if found[name]}


def _trim_expr(column: Column, spaced: bool, empty: bool) -> pl.Expr:
    """The text of a column as the checks see it, trimmed like DuckDB's trim(); empty as absent.

    DuckDB's spaces are white space too, so a column without spaced values needs no trim.
    """
    value = pl.col(column.name)
    if spaced:
        value = value.str.strip_chars(DUCKDB_SPACES)
    if spaced or empty:
        value = pl.when(value != "").then(value)
    return value.alias(f"trimmed__{column.name}")


def _texts(raw: pa.Table, source: Source) -> tuple[pl.DataFrame, set[str]]:
    """The origin columns and every column as the checks see it; the columns with spaced values."""
    frame = pl.from_arrow(raw)
    assert isinstance(frame, pl.DataFrame)
    spaced, empty = _surroundings(frame, list(source.column_names))
    trimmed = [_trim_expr(c, c.name in spaced, c.name in empty) for c in source.columns]
    origin = pl.col("origin_file").cast(pl.String)
    return _collect(frame.lazy().select(origin, "origin_row", *trimmed)), spaced


def _typed_text(column: Column, spaced: bool, spellings: pl.Series | None) -> pl.Expr:
    """The typed value of a text column: trimmed of all white space (more than DuckDB's spaces),
    empty as absent, enums lower-cased and codes upper-cased."""
    value = trimmed(column.name)
    if spaced:
        value = value.str.strip_chars()
    if spellings is not None:
        value = _cased(column, value, spellings.str.strip_chars() if spaced else spellings)
    if spaced:
        # Trimmed values are never empty, but stripping more white space can empty them.
        value = pl.when(value != "").then(value)
    return value.alias(column.name)


def _cased(column: Column, value: pl.Expr, spellings: pl.Series) -> pl.Expr:
    """Enums lower-cased, codes upper-cased, worked out once per distinct spelling: there are
    few, and most are already in the right case."""
    text = pl.col("spelling")
    case = text.str.to_lowercase() if column.kind == "enum" else text.str.to_uppercase()
    changes = spellings.unique().to_frame("spelling").with_columns(case.alias("cased"))
    changes = changes.filter(pl.col("spelling") != pl.col("cased"))
    if changes.is_empty():
        return value
    return value.replace(changes.get_column("spelling"), changes.get_column("cased"))


# --- enums and currencies: worked out once per distinct spelling ---------------------------------


def _spellings(frame: pl.DataFrame, source: Source) -> dict[str, pl.Series]:
    """The distinct values of the enum and currency columns, as the checks see them: few."""
    names = [column.name for column in source.columns if column.kind in ("enum", "currency")]
    distinct = [trimmed(name).drop_nulls().unique().implode().alias(name) for name in names]
    found = _collect(frame.lazy().select(distinct))
    return {name: found.get_column(name).explode().drop_nulls() for name in names}


def _known_enum(column: Column, spellings: pl.Series) -> pl.Expr:
    """Whether the value is a choice, lower-cased as DuckDB's lower() did (choices are ASCII).

    Polars lower-cases İ to an i with a combining dot where DuckDB gives a plain i: the only
    letter where the two part on an ASCII result.
    """
    lowered = spellings.str.replace_all("İ", "I", literal=True).str.to_lowercase()
    known = spellings.filter(lowered.is_in(list(column.choices)))
    return trimmed(column.name).is_in(known.implode()).alias(f"known__{column.name}")


def _currency_exponent(column: Column, spellings: pl.Series) -> pl.Expr:
    """The exponent of a known ISO 4217 code, or null.

    DuckDB's upper() maps letter for letter; Polars also expands ß and ligatures into several
    letters (ß to SS), so a known spelling keeps its three characters.
    """
    exponents = currency_exponents()
    codes = spellings.str.to_uppercase()
    known = {
        spelling: exponents[code]
        for spelling, code in zip(spellings, codes, strict=True)
        if len(spelling) == 3 and code in exponents
    }
    exponent = trimmed(column.name).replace_strict(known, default=None, return_dtype=pl.Int64)
    return exponent.alias(f"exponent__{column.name}")


def _text_exprs(source: Source, spaced: set[str], spellings: dict[str, pl.Series]) -> list[pl.Expr]:
    """The typed text columns, whether each enum value is known, each currency's exponent."""
    found = []
    for column in filter(_is_text, source.columns):
        found.append(_typed_text(column, column.name in spaced, spellings.get(column.name)))
        if column.kind == "enum":
            found.append(_known_enum(column, spellings[column.name]))
        elif column.kind == "currency":
            found.append(_currency_exponent(column, spellings[column.name]))
    return found


# --- checks: every column's cases, like SQL's CASE WHEN ------------------------------------------


#: C0 control characters and DEL, tab and line breaks aside (a quoted value may hold them).
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def _cases(column: Column, limits: InputLimits) -> list[tuple[pl.Expr, pl.Expr | None]]:
    """(condition, reason) pairs of a column in order; the first true condition decides."""
    name, shown = column.name, quoted(column.name)
    # An absent amount is always an error; other columns only when required.
    missing = column.required or column.kind == "amount"
    cases: list[tuple[pl.Expr, pl.Expr | None]] = [
        (trimmed(name).is_null(), pl.lit("missing required value") if missing else None)
    ]
    if column.kind == "rate":
        needed = pl.lit("missing: the net currency differs from the currency")
        cases.insert(0, (trimmed(name).is_null() & rate_needed(), needed))
    if column.kind in ("id", "text") and not column.free_text:
        # An id or key with a NUL or another control character is a damaged file's, not a key.
        damaged = trimmed(name).str.contains(CONTROL_CHARACTERS).fill_null(False)
        cases.append((damaged, pl.lit("holds a control character; expected printable text")))
    if column.kind == "enum":
        expected = f" (expected one of {', '.join(column.choices)})"
        unknown = pl.lit("unknown value ") + shown + pl.lit(expected)
        cases.append((~part(name, "known"), unknown))
    elif column.kind == "currency":
        unknown = pl.lit("unknown ISO 4217 currency ") + shown
        cases.append((part(name, "exponent").is_null(), unknown))
    elif column.kind == "amount":
        cases.extend(amount_cases(column))
    elif column.kind == "rate":
        cases.extend(rate_cases(column))
    elif column.kind in ("timestamp", "date"):
        expected = expected_time(column, limits)
        cases.append((pl.col(name).is_null(), pl.lit(f"not {expected}: ") + shown))
    while cases and cases[-1][1] is None:
        cases.pop()  # a trailing case without a reason decides nothing
    return cases


def _first(
    cases: list[tuple[pl.Expr, pl.Expr | None]], outcome: Callable[[pl.Expr | None], pl.Expr]
) -> pl.Expr:
    """The outcome of the first case whose condition holds (null conditions do not hold)."""
    result = outcome(None)
    for condition, reason in reversed(cases):
        result = pl.when(condition).then(outcome(reason)).otherwise(result)
    return result


def _fails(reason: pl.Expr | None) -> pl.Expr:
    return pl.lit(reason is not None)


def _reason(reason: pl.Expr | None) -> pl.Expr:
    return pl.lit(None, pl.String) if reason is None else reason


def _failed(source: Source, limits: InputLimits) -> pl.Expr:
    """Whether any column of a row has a reason: cheap flags, reasons are built for these only."""
    every = [_cases(column, limits) for column in source.columns]
    flags = [_first(cases, _fails) for cases in every if cases]
    failed = pl.any_horizontal(flags) if flags else pl.lit(False)
    return failed.fill_null(False).alias(FAILED)


def _reasons(source: Source, limits: InputLimits) -> list[pl.Expr]:
    """The first failing column, and every reason as 'column: reason' joined with '; '."""
    errors = {column.name: _first(_cases(column, limits), _reason) for column in source.columns}
    first = pl.coalesce(
        [pl.when(error.is_not_null()).then(pl.lit(name)) for name, error in errors.items()]
    )
    joined = pl.concat_str(
        [pl.lit(f"{name}: ") + error for name, error in errors.items()],
        separator="; ",
        ignore_nulls=True,
    )
    return [first.alias("column"), pl.when(joined != "").then(joined).alias("reason")]


# --- typed rows, content hash, rejected rows -----------------------------------------------------


def _hash_text(column: Column) -> pl.Expr:
    """A column's typed value as text for the content hash (timestamps as epoch microseconds;
    references whose case carries no meaning in lower case; absent as '')."""
    value = pl.col(column.name)
    if column.case_insensitive:
        value = value.str.to_lowercase()
    elif column.kind == "timestamp":
        value = value.dt.epoch("us").cast(pl.String)
    elif not _is_text(column):
        value = value.cast(pl.String)
    return value.fill_null("")


def content_hash(source: Source) -> pl.Expr:
    """A stable 64-bit hash of a row's typed content: tells an identical re-delivery of an id
    from a conflicting one, so 12.5 and 12.50 (or GW-AB and gw-ab) hash alike.

    A column a file may leave out counts only where it has a value, so rows without one hash as
    they did before the column existed (the registries of earlier nights stay valid)."""
    always = [column for column in source.columns if not column.optional_column]
    text = pl.concat_str([_hash_text(column) for column in always], separator=chr(31))
    for column in source.columns:
        if column.optional_column:
            extra = pl.lit(chr(30) + column.name + chr(31)) + _hash_text(column)
            text = text + pl.when(pl.col(column.name).is_not_null()).then(extra).otherwise(
                pl.lit("")
            )
    return (
        plh.concat_str([text], separator="").nchash.xxhash64().cast(pl.UInt64).alias("content_hash")
    )


def _typed(
    connection: duckdb.DuckDBPyConnection, source: Source, raw: pa.Table, limits: InputLimits
) -> pl.DataFrame:
    """Every row with its typed text, timestamps and dates, and the working columns of the checks.

    Amounts are typed later, on accepted rows only.
    """
    times = [column for column in source.columns if column.kind in ("timestamp", "date")]
    amounts = [column.name for column in source.columns if column.kind == "amount"]
    frame, spaced = _texts(raw, source)
    texts = _text_exprs(source, spaced, _spellings(frame, source))
    parts = [expr for name in amounts for expr in amount_parts(name)]
    frame = _collect(frame.lazy().with_columns(*texts, *map(fast_time, times), *parts))
    zone = session_zone(connection)
    frame = frame.with_columns(
        typed_time(connection, column, frame, zone, limits) for column in times
    )
    return frame.with_columns(within_limits(column, limits) for column in times)


def raw_values_json(source: Source) -> str:
    """A DuckDB expression rendering a raw row as JSON, kept beside each rejection."""
    pairs = ", ".join(f"{_quote(name)}, raw.{name}" for name in source.column_names)
    return f"json_object({pairs})::VARCHAR"


def _raw_values(
    connection: duckdb.DuckDBPyConnection, source: Source, raw: pa.Table, rows: pl.Series
) -> pl.DataFrame:
    """The raw rows at the given positions as JSON (by DuckDB, as always), by origin row."""
    if rows.is_empty():
        return pl.DataFrame(schema={"origin_row": pl.Int64, "raw_values": pl.String})
    connection.register("validate_rejected", raw.take(rows.to_arrow()))
    try:
        values: pl.DataFrame = connection.sql(
            f"SELECT origin_row, {raw_values_json(source)} AS raw_values "
            "FROM validate_rejected AS raw"
        ).pl()
    finally:
        connection.unregister("validate_rejected")
    return values


def _accepted(checked: pl.LazyFrame, source: Source) -> pl.DataFrame:
    """The rows without reasons: typed columns and the content hash."""
    amounts = [column for column in source.columns if column.kind == "amount"]
    return _collect(
        checked.filter(~pl.col(FAILED))
        .with_columns(map(amount_value, amounts))
        .select(
            # One file name per row: categorical, not a copy of the name on every row.
            pl.col("origin_file").cast(pl.Categorical),
            "origin_row",
            *source.column_names,
            content_hash(source),
        )
    )


def _rejected(
    connection: duckdb.DuckDBPyConnection,
    source: Source,
    raw: pa.Table,
    checked: pl.LazyFrame,
    limits: InputLimits,
) -> pl.DataFrame:
    """The rows with reasons: origin, first failing column, every reason, and the raw row."""
    rejected = _collect(
        checked.with_row_index("position")
        .filter(pl.col(FAILED))
        .select("position", "origin_file", "origin_row", *_reasons(source, limits))
    )
    raw_values = _raw_values(connection, source, raw, rejected.get_column("position"))
    return rejected.drop("position").join(
        raw_values, on="origin_row", how="left", maintain_order="left"
    )


#: Rows validated at a time: the checks' working columns (text, parts, typed values, reasons)
#: are several times the size of the rows they check, so a large file is validated a slice at a
#: time and only the accepted rows accumulate. Validation is row by row: slicing changes nothing.
VALIDATION_SLICE = 250_000


def _validate_slice(
    connection: duckdb.DuckDBPyConnection, source: Source, raw: pa.Table, limits: InputLimits
) -> Validated:
    typed = _typed(connection, source, raw, limits)
    # Every row's flag once: the accepted and the rejected rows are both filtered on it.
    checked = _collect(typed.lazy().with_columns(_failed(source, limits))).lazy()
    return Validated(
        accepted=_accepted(checked, source),
        rejected=_rejected(connection, source, raw, checked, limits),
    )


def validate(
    connection: duckdb.DuckDBPyConnection,
    source: Source,
    raw: pa.Table,
    limits: InputLimits = DEFAULT_LIMITS,
    slice_rows: int = VALIDATION_SLICE,
) -> Validated:
    """Type and check every row of a raw table; split it into accepted and rejected rows.

    Runs a slice of ``slice_rows`` rows at a time (``VALIDATION_SLICE``), so that memory follows
    the accepted rows, not the checks' working columns over the whole file.
    """
    if raw.num_rows <= slice_rows:
        return _validate_slice(connection, source, raw, limits)
    parts = [
        _validate_slice(connection, source, raw.slice(offset, slice_rows), limits)
        for offset in range(0, raw.num_rows, slice_rows)
    ]
    return Validated(
        accepted=pl.concat([part.accepted for part in parts]),
        rejected=pl.concat([part.rejected for part in parts]),
    )
