"""Reported wallet balances against the ledger.

The expected balance of an account at a cut-off is the sum of all its succeeded entries posted up
to that business day (late-arriving entries included). When every earlier snapshot agreed, this
equals the previous reported balance plus the entries posted in between; after a mismatch it keeps
comparing against the ledger's running total, so a wrong balance stays a break until corrected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from walletrecon.state import POSTINGS, conform

#: Postings older than this many days before the run are folded into one opening row per account.
COMPACT_AFTER_DAYS = 35
OPENING_DAY = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class BalanceResult:
    """Postings carried forward and every snapshot evaluated tonight with its expected balance."""

    postings: pl.DataFrame
    checks: pl.DataFrame


def add_postings(postings: pl.DataFrame, entries: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """Fold tonight's succeeded entries into per-account, per-day posted totals."""
    posted = (
        entries.filter(pl.col("status") == "succeeded")
        .with_columns(
            pl.coalesce("posted_at", "created_at")
            .dt.convert_time_zone(timezone)
            .dt.date()
            .alias("day")
        )
        .group_by("account_id", "currency", "day")
        .agg(pl.col("amount_minor").sum().alias("total_minor"))
    )
    combined = pl.concat([postings, conform(posted, POSTINGS)])
    return combined.group_by("account_id", "currency", "day").agg(pl.col("total_minor").sum())


def compact_postings(postings: pl.DataFrame, run_date: dt.date) -> pl.DataFrame:
    """Fold days long past into one opening row per account and currency."""
    horizon = run_date - dt.timedelta(days=COMPACT_AFTER_DAYS)
    old = pl.col("day") < pl.lit(horizon)
    folded = postings.with_columns(
        pl.when(old).then(pl.lit(OPENING_DAY)).otherwise(pl.col("day")).alias("day")
    )
    return folded.group_by("account_id", "currency", "day").agg(pl.col("total_minor").sum())


def check_balances(
    postings: pl.DataFrame, snapshots: pl.DataFrame, tolerance: pl.Expr
) -> pl.DataFrame:
    """Every snapshot with expected_minor (the running total at its day) and a verdict."""
    running = postings.sort("account_id", "currency", "day").with_columns(
        pl.col("total_minor").cum_sum().over("account_id", "currency").alias("running_minor")
    )
    checked = snapshots.sort("item_date").join_asof(
        running.select("account_id", "currency", "day", "running_minor").sort("day"),
        left_on="item_date",
        right_on="day",
        by=["account_id", "currency"],
        strategy="backward",
        check_sortedness=False,
    )
    return (
        checked.with_columns(pl.col("running_minor").fill_null(0).alias("expected_minor"))
        .with_columns(
            ((pl.col("balance_minor") - pl.col("expected_minor")).abs() > tolerance).alias(
                "mismatch"
            )
        )
        .drop("running_minor", "day")
    )


def reconcile_balances(
    postings: pl.DataFrame,
    entries: pl.DataFrame,
    snapshots: pl.DataFrame,
    run_date: dt.date,
    timezone: str,
    tolerance: pl.Expr,
) -> BalanceResult:
    """Add tonight's postings, then check the snapshots against the running totals."""
    updated = add_postings(postings, entries, timezone)
    checks = check_balances(updated, snapshots, tolerance)
    return BalanceResult(postings=compact_postings(updated, run_date), checks=checks)
