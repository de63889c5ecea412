"""Reported wallet balances against the ledger (CONTRACT section 2, to the letter).

A snapshot's expected balance is the previous reported balance of the account plus its succeeded
entries posted in between (after the previous snapshot's business day, up to this one's); an
account's first snapshot is compared with the sum of all its succeeded entries. Postings are kept
as per-account, per-day totals, so entries that arrive late still count for the day they were
posted; the latest snapshot is checked again every night, so such an entry can clear a break.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from walletrecon.match.common import split_rows
from walletrecon.state import POSTINGS, conform

#: Postings older than this many days before the run are folded into one opening row per account
#: (never past an account's oldest kept snapshot, so running totals at kept snapshots stay exact):
#: a short horizon keeps a night's postings a week deep instead of growing with the history.
COMPACT_AFTER_DAYS = 7
OPENING_DAY = dt.date(1970, 1, 1)
#: Snapshots kept per account and currency, so that one arriving a few days late finds the
#: reported balance before it.
SNAPSHOTS_KEPT = 5
#: Snapshots of an account in the order they were taken (the row id breaks ties).
SNAPSHOT_ORDER = ["account_id", "currency", "as_of", "row_id"]


#: An account and currency as one categorical (a number to compare, not text).
ACCOUNT_KEY = "account_key"


def _account_key() -> pl.Expr:
    key = pl.concat_str([pl.col("account_id"), pl.col("currency")], separator=chr(31))
    return key.cast(pl.Categorical).alias(ACCOUNT_KEY)


@dataclass(frozen=True)
class BalanceResult:
    """Postings and snapshots carried forward, and every snapshot checked tonight."""

    postings: pl.DataFrame
    checks: pl.DataFrame
    snapshots: pl.DataFrame


def posting_effects(entries: pl.DataFrame | pl.LazyFrame, timezone: str) -> pl.LazyFrame:
    """What each ledger version does to its account's balance, by business day.

    A succeeded version posts its amount on the day it was posted. A version that reverses a
    succeeded one (an update, ``previous_status``) takes the amount back on the business day
    the reversal was delivered (``folder_date``): the wallet shows the money returned from then
    on, and the days before keep the posting they showed. A version that replaces a pending
    one posts nothing twice: the pending one posted nothing. A succeeded version that arrives
    after the reversal that replaced it (a late file, ``reversed_on``) posts its amount and the
    reversal's taking back.
    """
    frame = entries.lazy()
    helpers = (("previous_status", pl.String), ("folder_date", pl.Date), ("reversed_on", pl.Date))
    for name, dtype in helpers:
        if name not in entries.collect_schema().names():
            frame = frame.with_columns(pl.lit(None, dtype).alias(name))
    posted_day = pl.coalesce("posted_at", "created_at").dt.convert_time_zone(timezone).dt.date()
    reversal = (pl.col("status") == "reversed") & (pl.col("previous_status") == "succeeded")
    effects = frame.filter((pl.col("status") == "succeeded") | reversal).select(
        "account_id",
        "currency",
        pl.when(reversal)
        .then(pl.coalesce("folder_date", posted_day))
        .otherwise(posted_day)
        .alias("day"),
        pl.when(reversal)
        .then(-pl.col("amount_minor"))
        .otherwise(pl.col("amount_minor"))
        .alias("amount_minor"),
    )
    # A late succeeded version whose reversal stood first: the reversal takes the amount back
    # on the day it was delivered, as it would have had the versions come in order.
    late_reversals = frame.filter(pl.col("reversed_on").is_not_null()).select(
        "account_id",
        "currency",
        pl.col("reversed_on").alias("day"),
        -pl.col("amount_minor"),
    )
    return pl.concat([effects, late_reversals])


def posting_totals(entries: pl.DataFrame | pl.LazyFrame, timezone: str) -> pl.DataFrame:
    """Tonight's ledger versions summed per account, currency and business day (``POSTINGS``):
    what ``posting_effects`` says each version posts. One streaming group-by: memory follows
    the accounts and days, not the entries (read from the spool on a large night)."""
    posted = (
        posting_effects(entries, timezone)
        .group_by("account_id", "currency", "day")
        .agg(pl.col("amount_minor").sum().alias("total_minor"))
        .collect(engine="streaming")
    )
    return conform(posted, POSTINGS)


def add_postings(postings: pl.DataFrame, posted: pl.DataFrame) -> pl.DataFrame:
    """Fold tonight's posting totals (``posting_totals``) into the per-account, per-day posted
    totals (with each account's ``ACCOUNT_KEY``, grouped by rather than its text)."""
    combined = pl.concat([postings, posted]).with_columns(_account_key())
    return combined.group_by(ACCOUNT_KEY, "day").agg(
        pl.col("account_id").first(), pl.col("currency").first(), pl.col("total_minor").sum()
    )


def compact_postings(
    postings: pl.DataFrame, kept_snapshots: pl.DataFrame, run_date: dt.date
) -> pl.DataFrame:
    """Fold days long past into one opening row per account and currency.

    Days on or after an account's oldest kept snapshot are never folded: the running totals at
    its snapshots' days must stay exact.
    """
    horizon = run_date - dt.timedelta(days=COMPACT_AFTER_DAYS)
    # Days on or after the horizon are never folded: only the older rows (few) are worked on.
    # Postings hold one row per account, currency and day, so the two parts share no day.
    candidates, recent = split_rows(postings, pl.col("day") < horizon)
    if candidates.is_empty():
        return postings
    oldest = kept_snapshots.group_by("account_id", "currency").agg(
        pl.col("item_date").min().alias("oldest_snapshot")
    )
    floor = pl.min_horizontal(pl.lit(horizon), pl.col("oldest_snapshot"))
    old = pl.col("day") < floor
    folded = (
        candidates.join(oldest, on=["account_id", "currency"], how="left")
        .with_columns(pl.when(old).then(pl.lit(OPENING_DAY)).otherwise(pl.col("day")).alias("day"))
        .drop("oldest_snapshot")
        .group_by("account_id", "currency", "day")
        .agg(pl.col("total_minor").sum())
    )
    return pl.concat([recent, folded])


def _running_at(
    running: pl.DataFrame, snapshots: pl.DataFrame, day: str, alias: str
) -> pl.DataFrame:
    """Attach the running posted total of each snapshot's account at the day in ``day``
    (both frames carry ``ACCOUNT_KEY``)."""
    return (
        snapshots.sort(day)
        .join_asof(
            running.rename({"running_minor": alias}).sort("day"),
            left_on=day,
            right_on="day",
            by=ACCOUNT_KEY,
            strategy="backward",
            check_sortedness=False,
            suffix="_" + alias,
        )
        .with_columns(pl.col(alias).fill_null(0))
    )


def check_balances(
    postings: pl.DataFrame,
    snapshots: pl.DataFrame,
    tolerance: pl.Expr,
    wanted: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Snapshots with expected_minor, a verdict and the cut-off of the snapshot before
    (``previous_as_of``, null for an account's first); snapshots (in ``SNAPSHOT_ORDER``) are
    checked against the one before them among those given. Only the snapshots whose row_id is
    in ``wanted`` are checked (all when None): the others serve as the ones before. Postings
    carry ``ACCOUNT_KEY`` (``add_postings``)."""
    # Accounts are compared as numbers (their categorical code), not as text.
    running = (
        postings.select(ACCOUNT_KEY, "day", "total_minor")
        .sort(pl.col(ACCOUNT_KEY).to_physical(), "day")
        .select(
            ACCOUNT_KEY,
            "day",
            pl.col("total_minor").cum_sum().over(ACCOUNT_KEY).alias("running_minor"),
        )
    )
    # Snapshots are in account order: an account's snapshots are consecutive.
    same_account = (pl.col("account_id") == pl.col("account_id").shift(1)) & (
        pl.col("currency") == pl.col("currency").shift(1)
    )
    chained = snapshots.with_columns(
        pl.when(same_account).then(pl.col("balance_minor").shift(1)).alias("previous_minor"),
        pl.when(same_account).then(pl.col("item_date").shift(1)).alias("previous_date"),
        pl.when(same_account).then(pl.col("as_of").shift(1)).alias("previous_as_of"),
        _account_key(),
    )
    if wanted is not None:
        chained = chained.join(wanted, on="row_id", how="semi")
    at_snapshot = _running_at(running, chained, "item_date", "running_now")
    at_previous = _running_at(
        running,
        at_snapshot.filter(pl.col("previous_date").is_not_null()),
        "previous_date",
        "running_before",
    ).select("row_id", "running_before")
    checked = at_snapshot.join(at_previous, on="row_id", how="left")
    expected = (
        pl.when(pl.col("previous_minor").is_null())
        .then(pl.col("running_now"))
        .otherwise(pl.col("previous_minor") + pl.col("running_now") - pl.col("running_before"))
    )
    verdict = (pl.col("balance_minor") - pl.col("expected_minor")).abs() > tolerance
    return checked.with_columns(expected.alias("expected_minor")).select(
        *snapshots.columns, "previous_as_of", "expected_minor", verdict.alias("mismatch")
    )


def latest_snapshots(ordered: pl.DataFrame, keep: int) -> pl.DataFrame:
    """The last ``keep`` snapshots of each account and currency, of snapshots in
    ``SNAPSHOT_ORDER`` (by cut-off)."""
    return ordered.group_by("account_id", "currency", maintain_order=True).tail(keep)


def reconcile_balances(
    postings: pl.DataFrame,
    posted: pl.DataFrame,
    carried: pl.DataFrame,
    snapshots: pl.DataFrame,
    run_date: dt.date,
    tolerance: pl.Expr,
) -> BalanceResult:
    """Add tonight's posting totals (``posting_totals``); check tonight's snapshots, and the
    latest carried one while it is still the account's latest (late entries may clear or cause
    a break).

    ``carried`` holds the last few snapshots of each account from earlier nights: the latest, the
    ones before it as bases (also for a snapshot that arrives a few days late).
    """
    updated = add_postings(postings, posted)
    everything = (
        pl.concat([carried, snapshots])
        .unique(subset=["row_id"], keep="first", maintain_order=True)
        .sort(SNAPSHOT_ORDER)
    )
    # The latest carried snapshot is checked again while no later one has come in.
    latest = latest_snapshots(everything, keep=1).join(carried, on="row_id", how="semi")
    to_report = pl.concat([snapshots.select("row_id"), latest.select("row_id")]).unique()
    kept = latest_snapshots(everything, keep=SNAPSHOTS_KEPT)
    return BalanceResult(
        postings=compact_postings(conform(updated, POSTINGS), kept, run_date),
        checks=check_balances(updated, everything, tolerance, wanted=to_report),
        snapshots=kept,
    )
