"""The datacompy peer: ledger against settlement with datacompy's Polars comparison.

datacompy compares two tables joined on key columns, column by column; of the relations only
ledger-settlement is such a comparison (the others are sums and free-text look-ups), so this peer
reports that relation alone. The ledger side is the settled entry types with a gateway_ref, the
settlement side every line with one, both keyed by the trimmed, lower-cased gateway_ref, with
the amount (ledger: absolute value; settlement: gross) and the currency as the compared columns.
Amounts go in as exact integer ten-thousandths: datacompy turns Decimal columns into floats,
and compares integers with tolerance 0 exactly (they stay far below 2**53).

datacompy pins an older Polars than the project's, so this runs in bench/.venv-datacompy.
datacompy pairs repeated keys one to one (the n-th row with the n-th), where a join pairs every
row with every row: on keys that repeat, its pair count is lower than the other peers'.

    bench/.venv-datacompy/bin/python bench/peers/datacompy_compare.py INBOX/D [INBOX/D-1]
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
from common import SCALE, SETTLED_TYPES, emit, night_from_arguments
from datacompy import PolarsCompare


def units(name: str) -> pl.Expr:
    """A decimal string column as exact Int64 ten-thousandths (null when not a number)."""
    exact = pl.col(name).str.strip_chars().cast(pl.Decimal(38, SCALE), strict=False)
    scaled: pl.Expr = exact * 10**SCALE
    return scaled.cast(pl.Int64)


def reference() -> pl.Expr:
    """The gateway_ref as the relation's key: trimmed and lower-cased."""
    return pl.col("gateway_ref").str.strip_chars().str.to_lowercase().alias("reference")


def sides(ledger_path: Path, settlement_path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ledger and settlement sides of the comparison, with the same column names."""
    ledger = pl.read_csv(
        ledger_path,
        columns=["entry_type", "amount", "currency", "gateway_ref"],
        infer_schema=False,
    )
    entries = ledger.filter(
        pl.col("entry_type").is_in(SETTLED_TYPES) & pl.col("gateway_ref").is_not_null()
    ).select(reference(), units("amount").abs().alias("amount"), "currency")
    settlement = pl.read_csv(
        settlement_path, columns=["gross_amount", "currency", "gateway_ref"], infer_schema=False
    )
    lines = settlement.filter(pl.col("gateway_ref").is_not_null()).select(
        reference(), units("gross_amount").alias("amount"), "currency"
    )
    return entries, lines


def compare(ledger_path: Path, settlement_path: Path) -> dict[str, int]:
    """The settlement relation's counts as datacompy finds them."""
    entries, lines = sides(ledger_path, settlement_path)
    result = PolarsCompare(
        entries,
        lines,
        join_columns=["reference"],
        abs_tol=0,
        rel_tol=0,
        df1_name="ledger",
        df2_name="settlement",
    )
    pairs = result.intersect_rows.height
    agree = result.count_matching_rows()
    return {
        "pairs": pairs,
        "agree": agree,
        "differ": pairs - agree,
        "left_only": result.df1_unq_rows.height,
        "right_only": result.df2_unq_rows.height,
    }


if __name__ == "__main__":
    night = night_from_arguments(sys.argv[1:])
    emit("datacompy", {"settlement": compare(night.ledger, night.settlement)})
