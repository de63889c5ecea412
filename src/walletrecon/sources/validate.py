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

from walletrecon.schemas import Column, Source


@dataclass(frozen=True)
class Validated:
    """The outcome of validating one source: canonical rows and rejected rows."""

    accepted: pl.DataFrame
    rejected: pl.DataFrame


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _missing(column: Column) -> str:
    name = f"raw.{column.name}"
    return f"(({name} IS NULL OR trim({name}) = '') AND {str(column.required).upper()})"


def _column_sql(column: Column) -> tuple[str, str]:
    """(typed value expression, error expression) of one column."""
    name = f"raw.{column.name}"
    missing = f"WHEN {_missing(column)} THEN 'missing required value'"
    if column.kind in ("id", "text"):
        return f"nullif(trim({name}), '')", f"CASE {missing} END"
    if column.kind == "enum":
        allowed = ", ".join(_quote(choice) for choice in column.choices)
        value = f"nullif(lower(trim({name})), '')"
        error = (
            f"CASE {missing} WHEN {value} NOT IN ({allowed}) THEN 'unknown value ' || "
            f"{_quote(chr(39))} || trim({name}) || {_quote(chr(39) + ' (expected one of ')}"
            f" || {_quote(', '.join(column.choices))} || ')' END"
        )
        return value, error
    if column.kind == "currency":
        value = f"nullif(upper(trim({name})), '')"
        error = (
            f"CASE {missing} WHEN {value} IS NOT NULL AND currency.code IS NULL THEN "
            f"'unknown ISO 4217 currency ''' || trim({name}) || '''' END"
        )
        return value, error
    if column.kind == "amount":
        value = (
            f"CASE WHEN amount_error({name}, currency.exponent) IS NULL "
            f"AND currency.exponent IS NOT NULL "
            f"THEN amount_minor({name}, currency.exponent, currency.scale) END"
        )
        error = f"amount_error({name}, currency.exponent)"
        sign = ""
        if column.sign == "non_negative":
            sign = f" WHEN starts_with(trim({name}), '-') THEN 'must not be negative: ' || {name}"
        return value, f"CASE WHEN {error} IS NOT NULL THEN {error}{sign} END"
    target = "TIMESTAMPTZ" if column.kind == "timestamp" else "DATE"
    label = "an ISO 8601 timestamp" if column.kind == "timestamp" else "an ISO 8601 date"
    value = f"try_cast(nullif(trim({name}), '') AS {target})"
    error = (
        f"CASE {missing} WHEN trim({name}) <> '' AND {value} IS NULL THEN "
        f"'not {label}: ''' || {name} || '''' END"
    )
    return value, error


def validation_sql(source: Source) -> str:
    """The validation query of a source over a registered Arrow table named ``raw``."""
    values, errors, columns = [], [], []
    for column in source.columns:
        value, error = _column_sql(column)
        values.append(f"{value} AS {column.name}")
        errors.append(f"{error} AS error__{column.name}")
        columns.append(column.name)
    reasons = ", ".join(f"'{name}: ' || error__{name}" for name in columns)
    first = " ".join(f"WHEN error__{name} IS NOT NULL THEN '{name}'" for name in columns)
    hashed = ", ".join(f"coalesce(CAST({name} AS VARCHAR), '')" for name in columns)
    return f"""
        WITH typed AS (
            SELECT raw.origin_file::VARCHAR AS origin_file, raw.origin_row,
                   {", ".join(values)}, {", ".join(errors)}
            FROM raw LEFT JOIN currencies AS currency ON currency.code = upper(trim(raw.currency))
        )
        SELECT * EXCLUDE ({", ".join(f"error__{name}" for name in columns)}),
               concat_ws('; ', {reasons}) AS reason,
               CASE {first} END AS reason_column,
               md5(concat_ws(chr(31), {hashed})) AS content_hash
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
        typed = connection.sql(validation_sql(source)).pl()
        raw_json = connection.sql(
            f"SELECT origin_row, {raw_values_json(source)} AS raw_values FROM raw"
        ).pl()
    finally:
        connection.unregister("raw")
    good = pl.col("reason") == ""
    accepted = typed.filter(good).drop("reason", "reason_column")
    rejected = (
        typed.filter(~good)
        .select("origin_file", "origin_row", pl.col("reason_column").alias("column"), "reason")
        .join(raw_json, on="origin_row", how="left")
    )
    return Validated(accepted=accepted, rejected=rejected)
