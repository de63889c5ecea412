"""Deliberately bad input rows: copies of clean rows under fresh ids, each with one flaw."""

from __future__ import annotations

import numpy as np
import polars as pl

from walletrecon.sample.formatting import gateway_refs, identifiers
from walletrecon.sample.tables import Counters

BAD_TIMESTAMP = "2026-13-45T99:00:00"
LEDGER_FLAWS: tuple[str, ...] = (
    "amount '12.3.4' is not a decimal number",
    "USD amount with three decimals",
    "unknown currency XYZ",
    "created_at '2026-13-45T99:00:00' is not a timestamp",
    "account_id is empty",
    "entry_type 'paymnt' is not a known entry type",
)
SETTLEMENT_FLAWS: tuple[str, ...] = (
    "gross_amount '12.3.4' is not a decimal number",
    "USD amounts with three decimals",
    "unknown currency XYZ",
    "settled_at '2026-13-45T99:00:00' is not a timestamp",
    "gateway_ref is empty",
    "record_type 'paymnt' is not a known record type",
)


def _flaw_expr(kind: pl.Expr, flaws: dict[int, str | None], column: str) -> pl.Expr:
    """The column with the value replaced for rows of the given flaw kinds."""
    expression: pl.Expr = pl.col(column)
    for code, value in flaws.items():
        expression = (
            pl.when(kind == code).then(pl.lit(value, dtype=pl.String)).otherwise(expression)
        )
    return expression.alias(column)


def bad_ledger_rows(templates: pl.DataFrame, counters: Counters) -> tuple[pl.DataFrame, pl.Series]:
    """Copies of clean ledger rows under fresh ids, each with one flaw; and a note per row."""
    size = templates.height
    kind = pl.Series("kind", np.arange(size) % len(LEDGER_FLAWS))
    fresh_refs = gateway_refs(counters.take("gateway_ref", size))
    sign = pl.when(pl.col("amount").str.starts_with("-")).then(pl.lit("-")).otherwise(pl.lit(""))
    flaw = pl.col("kind")
    bad = templates.with_columns(
        kind,
        identifiers("entry", counters.take("entry", size)).alias("entry_id"),
        identifiers("txn", counters.take("txn", size)).alias("txn_id"),
        pl.when(pl.col("gateway_ref").is_not_null()).then(fresh_refs).alias("gateway_ref"),
    ).with_columns(
        pl.when(flaw == 0)
        .then(sign + pl.lit("12.3.4"))
        .when(flaw == 1)
        .then(sign + pl.lit("10.001"))
        .otherwise(pl.col("amount"))
        .alias("amount"),
        _flaw_expr(flaw, {1: "USD", 2: "XYZ"}, "currency"),
        _flaw_expr(flaw, {3: BAD_TIMESTAMP}, "created_at"),
        _flaw_expr(flaw, {4: None}, "account_id"),
        _flaw_expr(flaw, {5: "paymnt"}, "entry_type"),
    )
    notes = kind.replace_strict(dict(enumerate(LEDGER_FLAWS)), return_dtype=pl.String)
    return bad.drop("kind"), notes


def bad_settlement_rows(
    templates: pl.DataFrame, counters: Counters
) -> tuple[pl.DataFrame, pl.Series]:
    """Copies of clean settlement lines under fresh ids, each with one flaw; and a note per row."""
    size = templates.height
    kind = pl.Series("kind", np.arange(size) % len(SETTLEMENT_FLAWS))
    flaw = pl.col("kind")
    bad = templates.with_columns(
        kind,
        identifiers("settlement", counters.take("settlement", size)).alias("settlement_id"),
        identifiers("txn", counters.take("txn", size)).alias("merchant_ref"),
        gateway_refs(counters.take("gateway_ref", size)).alias("gateway_ref"),
    ).with_columns(
        _flaw_expr(flaw, {0: "12.3.4", 1: "10.001"}, "gross_amount"),
        _flaw_expr(flaw, {1: "0.000"}, "fee_amount"),
        _flaw_expr(flaw, {1: "10.001"}, "net_amount"),
        _flaw_expr(flaw, {1: "USD", 2: "XYZ"}, "currency"),
        _flaw_expr(flaw, {3: BAD_TIMESTAMP}, "settled_at"),
        _flaw_expr(flaw, {4: None}, "gateway_ref"),
        _flaw_expr(flaw, {5: "paymnt"}, "record_type"),
    )
    notes = kind.replace_strict(dict(enumerate(SETTLEMENT_FLAWS)), return_dtype=pl.String)
    return bad.drop("kind"), notes
