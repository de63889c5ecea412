"""Gateway payouts against bank statement lines.

A payout is the sum of net_amount of the settlement lines carrying its payout_id; it is paid by the
bank line(s) whose free-text reference contains the payout id (case-insensitive; the longest id
found wins). A payout is reconciled when its bank amount equals its net sum in one currency, and
broken as soon as a bank line pays a different amount (a late line that makes them agree resolves
it). A payout with no bank line is pending until the settlement window after its date has passed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from walletrecon.match.common import window_passed
from walletrecon.state import PAYOUTS, conform


@dataclass(frozen=True)
class PayoutResult:
    """Payouts after tonight's lines and bank lines, with a verdict each; bank lines left over."""

    payouts: pl.DataFrame
    unassigned_bank: pl.DataFrame
    assigned_bank: pl.DataFrame


#: Tonight's settlement lines summed per payout (``line_totals``): what the payouts kernel reads.
LINE_TOTALS: dict[str, pl.DataType] = {
    name: PAYOUTS[name]
    for name in (
        *("payout_key", "payout_id", "currency", "mixed_currency"),
        *("net_minor", "lines", "payout_date", "line_nets", "refund_nets"),
    )
}


def payout_key(payout_id: pl.Expr) -> pl.Expr:
    """A payout's key: its id, case-insensitive (bank references are free text)."""
    return payout_id.str.to_lowercase()


def line_totals(lines: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Tonight's settlement lines summed per payout, in one streaming pass: one row a payout.

    A gateway pays a day's lines in a currency as one payout, so a payout may hold millions of
    lines (a third of a night's, on generated data); summed first, the payouts kernel holds a
    row a payout whatever the night's size. A payout is paid in the currency of its lines'
    nets; its lines in more than one currency make it ``mixed_currency``."""
    currency = pl.coalesce("net_currency", "currency")
    has_types = "record_type" in lines.lazy().collect_schema().names()
    refund = (pl.col("record_type") == "refund") if has_types else pl.lit(False)
    totals = (
        lines.lazy()
        .filter(pl.col("payout_id").is_not_null())
        .group_by(payout_key(pl.col("payout_id")).alias("payout_key"))
        .agg(
            pl.col("payout_id").min(),
            currency.min().alias("currency"),
            # More than one currency, a line without one counting as one more.
            (
                (currency.min() != currency.max()).fill_null(False)
                | ((currency.null_count() > 0) & (currency.null_count() < pl.len()))
            ).alias("mixed_currency"),
            pl.col("net_minor").sum(),
            pl.len().cast(pl.Int64).alias("lines"),
            pl.col("item_date").max().alias("payout_date"),
            pl.col("net_minor").filter(~refund).sort().alias("line_nets"),
            pl.col("net_minor").filter(refund).sort().alias("refund_nets"),
        )
        .collect(engine="streaming")
    )
    return conform(totals, LINE_TOTALS).sort("payout_key")


def _add_lines(payouts: pl.DataFrame, tonight: pl.DataFrame) -> pl.DataFrame:
    """Fold tonight's line totals (``line_totals``) into the payouts."""
    merged = payouts.join(tonight, on="payout_key", how="full", coalesce=True, suffix="_new")
    return merged.select(
        "payout_key",
        pl.coalesce("payout_id", "payout_id_new").alias("payout_id"),
        pl.coalesce("currency", "currency_new").alias("currency"),
        (
            pl.col("mixed_currency").fill_null(False)
            | pl.col("mixed_currency_new").fill_null(False)
            | (
                pl.col("currency").is_not_null()
                & pl.col("currency_new").is_not_null()
                & (pl.col("currency") != pl.col("currency_new"))
            )
        ).alias("mixed_currency"),
        (pl.col("net_minor").fill_null(0) + pl.col("net_minor_new").fill_null(0)).alias(
            "net_minor"
        ),
        (pl.col("lines").fill_null(0) + pl.col("lines_new").fill_null(0)).alias("lines"),
        pl.max_horizontal("payout_date", "payout_date_new").alias("payout_date"),
        *(
            pl.concat_list(
                pl.col(name).fill_null(pl.lit([], pl.List(pl.Int64))),
                pl.col(f"{name}_new").fill_null(pl.lit([], pl.List(pl.Int64))),
            )
            # Sorted, so the state does not depend on which night brought which line.
            .list.sort()
            .alias(name)
            for name in ("line_nets", "refund_nets")
        ),
        "bank_minor",
        "bank_lines",
        "bank_line_id",
        "bank_currency",
        "bank_origin",
    )


def assign_bank_lines(bank: pl.DataFrame, payout_keys: list[str]) -> pl.DataFrame:
    """(bank_line_id, payout_key) for bank lines whose reference names a known payout."""
    if not payout_keys or bank.is_empty():
        return pl.DataFrame(schema={"bank_line_id": pl.String, "payout_key": pl.String})
    found = bank.select(
        "bank_line_id",
        pl.col("reference")
        .fill_null("")
        .str.to_lowercase()
        .str.extract_many(payout_keys, overlapping=True)
        .alias("payout_key"),
    ).explode("payout_key")
    return (
        found.filter(pl.col("payout_key").is_not_null())
        .sort([pl.col("payout_key").str.len_chars(), "payout_key"], descending=[True, False])
        .unique(subset=["bank_line_id"], keep="first")
    )


def _add_bank(payouts: pl.DataFrame, assigned: pl.DataFrame) -> pl.DataFrame:
    tonight = assigned.group_by("payout_key").agg(
        pl.col("amount_minor").sum().alias("bank_new"),
        pl.len().cast(pl.Int64).alias("bank_lines_new"),
        pl.col("bank_line_id").min().alias("bank_line_id_new"),
        pl.col("currency").min().alias("bank_currency_new"),
        pl.col("origin").sort().str.join("; ").alias("bank_origin_new"),
    )
    joined = payouts.join(tonight, on="payout_key", how="left")
    return joined.with_columns(
        (pl.col("bank_minor").fill_null(0) + pl.col("bank_new").fill_null(0)).alias("bank_minor"),
        (pl.col("bank_lines").fill_null(0) + pl.col("bank_lines_new").fill_null(0)).alias(
            "bank_lines"
        ),
        pl.coalesce("bank_line_id", "bank_line_id_new").alias("bank_line_id"),
        pl.coalesce("bank_currency", "bank_currency_new").alias("bank_currency"),
        pl.coalesce("bank_origin", "bank_origin_new").alias("bank_origin"),
    ).drop("bank_new", "bank_lines_new", "bank_line_id_new", "bank_currency_new", "bank_origin_new")


def reconcile_payouts(
    payouts: pl.DataFrame,
    tonight: pl.DataFrame,
    bank: pl.DataFrame,
    run_date: dt.date,
    window_days: int,
    tolerance: pl.Expr,
) -> PayoutResult:
    """Fold in tonight's line totals (``line_totals``) and bank lines; give each payout a status.

    ``status`` is ``reconciled``, ``pending`` or ``mismatch``; ``tolerance`` is an expression over
    the payout's ``currency`` in minor units.
    """
    totals = _add_lines(payouts, tonight)
    assignment = assign_bank_lines(bank, totals.get_column("payout_key").to_list())
    assigned = bank.join(assignment, on="bank_line_id", how="inner")
    totals = conform(_add_bank(totals, assigned), PAYOUTS)
    paid = pl.col("bank_lines") > 0
    agrees = (
        paid
        & ~pl.col("mixed_currency")
        & (pl.col("bank_currency") == pl.col("currency"))
        & ((pl.col("bank_minor") - pl.col("net_minor")).abs() <= tolerance)
    )
    status = (
        pl.when(agrees)
        .then(pl.lit("reconciled"))
        .when(paid | window_passed("payout_date", window_days, run_date))
        .then(pl.lit("mismatch"))
        .otherwise(pl.lit("pending"))
    )
    evaluated = totals.with_columns(status.alias("status"))
    unassigned = bank.join(assignment, on="bank_line_id", how="anti")
    return PayoutResult(payouts=evaluated, unassigned_bank=unassigned, assigned_bank=assigned)
