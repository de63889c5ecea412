"""Typing and validating raw text rows in DuckDB: good rows become canonical, bad rows get reasons.

The validation query of a source is derived from its column specs in ``schemas``: every column
yields a typed value and an error expression. A row with any error is rejected with the first
failing column and every reason; nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl
import pyarrow as pa

from walletrecon.money import currency_exponents
from walletrecon.schemas import Column, Source


@dataclass(frozen=True)
class Validated:
    """The outcome of validating one source: canonical rows and rejected rows."""

    accepted: pl.DataFrame
    rejected: pl.DataFrame


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _missing(column: Column) -> str:
    """The error of an absent value: none for optional columns."""
    if not column.required:
        return ""
    return f"WHEN {column.name} IS NULL THEN 'missing required value'"


def _parsed_sql(column: Column) -> str:
    """Parsing done once per value, before the checks: amount parts and timestamp casts."""
    if column.kind == "amount":
        return f"amount_parts({column.name}) AS parts__{column.name}"
    if column.kind in ("timestamp", "date"):
        target = "TIMESTAMPTZ" if column.kind == "timestamp" else "DATE"
        cast = f"try_cast({column.name} AS {target})"
        if column.bare_date_is_end_of_day:
            next_day = f"CAST(try_cast({column.name} AS DATE) + INTERVAL 1 DAY AS TIMESTAMPTZ)"
            bare = f"regexp_full_match({column.name}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
            cast = f"CASE WHEN {bare} THEN {next_day} ELSE {cast} END"
        return f"{cast} AS cast__{column.name}"
    return ""


def _error_sql(column: Column) -> str:
    """The reason a column's value is unusable, or NULL."""
    name, missing = column.name, _missing(column)
    shown = f"{_quote(chr(39))} || {name} || {_quote(chr(39))}"
    if column.kind == "enum":
        allowed = ", ".join(_quote(choice) for choice in column.choices)
        expected = _quote(f" (expected one of {', '.join(column.choices)})")
        return (
            f"CASE {missing} WHEN lower({name}) NOT IN ({allowed}) "
            f"THEN 'unknown value ' || {shown} || {expected} END"
        )
    if column.kind == "currency":
        unknown = f"'unknown ISO 4217 currency ' || {shown}"
        return f"CASE {missing} WHEN currency_scale IS NULL THEN {unknown} END"
    if column.kind == "amount":
        parts = f"parts__{name}"
        negative = ""
        if column.sign == "non_negative":
            negative = f"WHEN {parts}.sign = '-' THEN 'must not be negative: ' || {shown}"
        return (
            f"CASE WHEN {name} IS NULL THEN 'missing required value' "
            f"WHEN {parts} IS NULL THEN 'not a decimal number: ' || {shown} "
            f"WHEN currency_exponent IS NULL THEN NULL "
            f"WHEN length(rtrim({parts}.fraction, '0')) > currency_exponent THEN "
            "'more decimal places than the currency has (' || currency_exponent || '): ' || "
            f"{shown} "
            f"WHEN length(ltrim({parts}.whole, '0')) > 14 THEN 'amount too large: ' || {shown} "
            f"{negative} END"
        )
    if column.kind in ("timestamp", "date"):
        label = "an ISO 8601 timestamp" if column.kind == "timestamp" else "an ISO 8601 date"
        bad = f"cast__{name} IS NULL AND {name} IS NOT NULL"
        return f"CASE {missing} WHEN {bad} THEN 'not {label}: ' || {shown} END"
    return f"CASE {missing} END" if missing else "NULL"


def _value_sql(column: Column) -> str:
    """The typed value of a column (meaningful only on rows without errors)."""
    name = column.name
    if column.kind == "enum":
        return f"lower({name})"
    if column.kind == "currency":
        return f"upper({name})"
    if column.kind == "amount":
        return f"amount_minor(parts__{name}, currency_exponent, currency_scale)"
    if column.kind in ("timestamp", "date"):
        return f"cast__{name}"
    return name


def _is_text(column: Column) -> bool:
    """Text columns are typed in Polars straight from the raw Arrow table (no copy back)."""
    return column.kind in ("id", "text", "enum", "currency")


def _text_expr(column: Column) -> pl.Expr:
    """The typed value of a text column: trimmed, empty as absent, enums lower, codes upper."""
    value = pl.col(column.name).str.strip_chars()
    if column.kind == "enum":
        value = value.str.to_lowercase()
    elif column.kind == "currency":
        value = value.str.to_uppercase()
    return pl.when(value == "").then(None).otherwise(value).alias(column.name)


def _currency_maps() -> tuple[str, str]:
    """DuckDB MAP literals: currency code to exponent, and to 10^exponent."""
    exponents = currency_exponents()
    codes = sorted(exponents)
    exponent_map = ", ".join(f"'{code}': {exponents[code]}" for code in codes)
    scale_map = ", ".join(f"'{code}': {10 ** exponents[code]}" for code in codes)
    return f"MAP {{{exponent_map}}}", f"MAP {{{scale_map}}}"


def _hash_sql(column: Column) -> str:
    """A column's typed value as text for the content hash (timestamps as epoch microseconds;
    references whose case carries no meaning in lower case)."""
    if column.case_insensitive:
        return f"coalesce(lower({column.name}), '')"
    if column.kind == "timestamp":
        return f"coalesce(CAST(epoch_us({column.name}) AS VARCHAR), '')"
    return f"coalesce(CAST({column.name} AS VARCHAR), '')"


def validation_sql(source: Source) -> str:
    """The validation query of a source over a registered Arrow table named ``raw``.

    Four steps: trim every value (empty is absent), parse amounts and timestamps once, check every
    column, then type the values and hash the typed content (to tell re-deliveries).
    """
    columns = source.columns
    names = [column.name for column in columns]
    trimmed = ", ".join(f"nullif(trim(raw.{name}), '') AS {name}" for name in names)
    parsed = ", ".join(sql for sql in map(_parsed_sql, columns) if sql)
    errors = ", ".join(f"{_error_sql(column)} AS error__{column.name}" for column in columns)
    values = ", ".join(
        f"{_value_sql(column)} AS {column.name}" for column in columns if not _is_text(column)
    )
    typed_text = ", ".join(
        f"{_value_sql(column)} AS {column.name}" for column in columns if _is_text(column)
    )
    exponent_map, scale_map = _currency_maps()
    reasons = ", ".join(f"'{name}: ' || error__{name}" for name in names)
    first = " ".join(f"WHEN error__{name} IS NOT NULL THEN '{name}'" for name in names)
    hashed = ", ".join(_hash_sql(column) for column in columns)
    # Only numbers, times and (rarely) reasons leave DuckDB: exporting text is the costly part.
    return f"""
        WITH trimmed AS (
            SELECT raw.origin_row, {trimmed} FROM raw
        ), parsed AS (
            SELECT trimmed.*,
                   ({exponent_map})[upper(trimmed.currency)] AS currency_exponent,
                   ({scale_map})[upper(trimmed.currency)] AS currency_scale
                   {", " + parsed if parsed else ""}
            FROM trimmed
        ), checked AS (
            SELECT *, {errors} FROM parsed
        ), typed AS (
            SELECT origin_row, {values}, {typed_text},
                   nullif(concat_ws('; ', {reasons}), '') AS reason,
                   CASE {first} END AS reason_column
            FROM checked
        )
        SELECT * EXCLUDE ({", ".join(c.name for c in columns if _is_text(c))}),
               md5_number_lower(concat_ws(chr(31), {hashed})) AS content_hash
        FROM typed
    """


def raw_values_json(source: Source) -> str:
    """A DuckDB expression rendering a raw row as JSON, kept beside each rejection."""
    pairs = ", ".join(f"{_quote(name)}, raw.{name}" for name in source.column_names)
    return f"json_object({pairs})::VARCHAR"


def validate(connection: duckdb.DuckDBPyConnection, source: Source, raw: pa.Table) -> Validated:
    """Type and check every row of a raw table; split it into accepted and rejected rows."""
    connection.register("raw", raw)
    try:
        checked = connection.sql(validation_sql(source)).pl()
        text_columns = [column for column in source.columns if _is_text(column)]
        texts = pl.from_arrow(
            raw.select(["origin_file", "origin_row"] + [c.name for c in text_columns])
        )
        assert isinstance(texts, pl.DataFrame)
        texts = texts.select(
            pl.col("origin_file").cast(pl.String), "origin_row", *map(_text_expr, text_columns)
        )
        if not checked.get_column("origin_row").equals(texts.get_column("origin_row")):
            checked = texts.select("origin_row").join(checked, on="origin_row", how="left")
        typed = pl.concat([texts, checked.drop("origin_row")], how="horizontal").select(
            "origin_file",
            "origin_row",
            *source.column_names,
            "reason",
            "reason_column",
            "content_hash",
        )
        good = pl.col("reason").is_null()
        rejected = typed.filter(~good).select(
            "origin_file", "origin_row", pl.col("reason_column").alias("column"), "reason"
        )
        connection.register("rejected_rows", rejected.select("origin_row").to_arrow())
        raw_json = connection.sql(
            f"SELECT origin_row, {raw_values_json(source)} AS raw_values FROM raw "
            "SEMI JOIN rejected_rows USING (origin_row)"
        ).pl()
    finally:
        connection.unregister("raw")
    accepted = typed.filter(good).drop("reason", "reason_column")
    rejected = rejected.join(raw_json, on="origin_row", how="left")
    return Validated(accepted=accepted, rejected=rejected)
