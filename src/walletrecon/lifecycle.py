"""Discrepancy identity and lifecycle from night to night.

A discrepancy's id is a hash of its type and business key (never of run metadata), so the same
break keeps its id, its ``first_seen`` date and its ticket on every night it stays open.
Breaks that data can clear (``kinds.resolvable()``) are open exactly while they are found
again; breaks that are facts about delivered rows (an amount that differed, a duplicate) stay
open once found, until someone resolves them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
import polars_hash as plh

from walletrecon import kinds
from walletrecon.match.common import money_decimal
from walletrecon.schemas import DISCREPANCY_SCHEMA
from walletrecon.state import FINDING, OPEN_DISCREPANCIES, conform


@dataclass(frozen=True)
class Lifecycle:
    """Tonight's open discrepancies, those of last night that are gone, and every break ever
    resolved (to know one that comes back as re-opened)."""

    open: pl.DataFrame
    resolved: pl.DataFrame
    resolved_history: pl.DataFrame


def identify(findings: pl.DataFrame) -> pl.DataFrame:
    """Give findings their stable id and fold findings of one break into one row."""
    per_currency = pl.col("type").is_in(kinds.per_currency())
    scope = pl.when(per_currency).then(pl.col("currency")).otherwise(pl.lit(""))
    # A gateway reference's case carries no meaning, so it does not change a break's identity.
    key = (
        pl.when(pl.col("key") == pl.col("gateway_ref"))
        .then(pl.col("key").str.to_lowercase())
        .otherwise(pl.col("key"))
    )
    identity = pl.concat_str([pl.col("type"), key.fill_null(""), scope], separator="|")
    keyed = findings.with_columns(identity.alias("identity"))
    folded = (
        keyed.sort("identity", "evidence", "explanation")
        .group_by("identity", maintain_order=True)
        .agg(
            pl.all().exclude("involved").first(),
            pl.col("involved")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort()
            .alias("involved"),
        )
    )
    return folded.with_columns(_digest("identity").alias("discrepancy_id")).drop("identity")


def _digest(column: str) -> pl.Expr:
    """A stable 24-hex-digit id from text (SHA-256 based; stable across versions and machines)."""
    return plh.col(column).chash.sha2_256().str.slice(0, 24)


def advance(
    previous_open: pl.DataFrame,
    previously_resolved: pl.DataFrame,
    findings: pl.DataFrame,
    run_date: dt.date,
    cleared: pl.DataFrame | None = None,
    decided: pl.DataFrame | None = None,
) -> Lifecycle:
    """Tonight's open breaks: tonight's findings plus earlier lasting ones; and the resolved.

    A break found again after it was resolved opens anew (``first_seen`` tonight) and counts as
    re-opened (``times_reopened``). ``cleared`` holds (entry_id) of ledger entries an update made
    succeed tonight: a status break they were involved in is resolved, unless found again.
    ``decided`` holds the breaks a person's decision closed: found again, they stay closed.
    """
    previous_open = conform(previous_open, OPEN_DISCREPANCIES)
    tonight = conform(identify(findings), {"discrepancy_id": pl.String(), **FINDING})
    if decided is not None and decided.height:
        closed = decided.get_column("discrepancy_id").implode()
        tonight = tonight.filter(~pl.col("discrepancy_id").is_in(closed))
    earlier = previous_open.select("discrepancy_id", "first_seen", "times_reopened", "assignee")
    comeback = previously_resolved.select(
        "discrepancy_id", pl.col("times_resolved").alias("comeback")
    )
    found = (
        tonight.join(earlier, on="discrepancy_id", how="left")
        .join(comeback, on="discrepancy_id", how="left")
        .with_columns(
            pl.col("first_seen").fill_null(pl.lit(run_date)),
            pl.coalesce("times_reopened", "comeback", pl.lit(0))
            .cast(pl.Int32)
            .alias("times_reopened"),
        )
    )
    # A membership test, not an anti-join: the open breaks are many and wide, tonight's ids few.
    found_again = pl.col("discrepancy_id").is_in(tonight.get_column("discrepancy_id").implode())
    not_found = previous_open.filter(~found_again)
    over = pl.col("type").is_in(kinds.resolvable()) | _cleared_status(cleared)
    lasting = not_found.filter(~over)
    resolved = not_found.filter(over)
    history = (
        pl.concat(
            [
                previously_resolved,
                resolved.select(
                    "discrepancy_id",
                    pl.lit(run_date).alias("resolved_on"),
                    pl.lit(1, pl.Int32).alias("times_resolved"),
                ),
            ]
        )
        .group_by("discrepancy_id")
        .agg(pl.col("resolved_on").max(), pl.col("times_resolved").sum().cast(pl.Int32))
        .sort("discrepancy_id")
    )
    open_now = pl.concat([conform(found, OPEN_DISCREPANCIES), conform(lasting, OPEN_DISCREPANCIES)])
    return Lifecycle(
        open=open_now.sort("type", "discrepancy_id"), resolved=resolved, resolved_history=history
    )


def _cleared_status(cleared: pl.DataFrame | None) -> pl.Expr:
    """Status breaks involving an entry whose update made it succeed."""
    if cleared is None or cleared.is_empty():
        return pl.lit(False)
    refs = cleared.select(pl.concat_str([pl.lit("ledger:"), pl.col("entry_id")])).to_series()
    return (pl.col("type") == "status_mismatch") & pl.col("involved").list.eval(
        pl.element().is_in(refs.implode())
    ).list.any()


def to_report_rows(
    open_discrepancies: pl.DataFrame,
    run_date: dt.date,
    suggestions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The published discrepancy rows (CONTRACT section 3) with exact decimal amounts, and the
    suggested matches (``suggestions.suggest``) of the breaks that have one."""
    if suggestions is not None and suggestions.height:
        open_discrepancies = open_discrepancies.join(
            suggestions, on="discrepancy_id", how="left", maintain_order="left"
        )
    difference = pl.col("actual_minor") - pl.col("expected_minor")
    severity = pl.col("type").replace_strict(kinds.severity_of(), return_dtype=pl.String)
    rows = open_discrepancies.with_columns(
        pl.lit(run_date).alias("run_date"),
        severity.alias("severity"),
        money_decimal(pl.col("expected_minor"), "currency").alias("expected_amount"),
        money_decimal(pl.col("actual_minor"), "currency").alias("actual_amount"),
        money_decimal(difference, "currency").alias("difference"),
        (pl.lit(run_date) - pl.col("first_seen")).dt.total_days().cast(pl.Int32).alias("age_days"),
    )
    return conform(rows, DISCREPANCY_SCHEMA)
