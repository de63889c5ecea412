"""Likely causes of a balance break (``causes.CAUSE_LIST``; docs/causes.md).

A balance break's difference (reported minus expected) is traced to an amount the night can
point to, of exactly that size:

- ``entry_after_cutoff``: an entry of the account posted within ``[windows]
  balance_sync_minutes`` after the snapshot's cut-off, of exactly the difference (the wallet's
  balance counted it early: a sync delay, not a loss); or one posted that soon after the cut-off
  of the snapshot before, of minus the difference, when last night's break of the account was
  off by the entry (that snapshot counted it early, so the postings since then count it a second
  time: the same delay seen a night later).
- ``duplicate_entry``: a second payment entry of one transaction (the duplicates kernel's
  finding) of the account, of minus the difference (the ledger booked it twice, the wallet once).
- ``fee_not_booked``: a fee of minus the difference on one of the account's entries of tonight
  (the fee of its settlement line delivered tonight, or what a configured gateway's schedule
  charges on it), whose transaction has no ``fee`` entry tonight (the wallet took the fee; the
  ledger never booked it).

The candidates are tonight's entries of the broken accounts (``nearby_entries``, read before the
duplicates kernel takes the rows over: a few rows per broken account) and the entries posted after
last night's cut-offs (``state.CUTOFF_ENTRIES``, kept one night). The confidence rule and the
words are ``causes.cause_columns``: one candidate 0.90, several 0.60, two causes fitting none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from walletrecon.causes import cause_columns
from walletrecon.config import Config
from walletrecon.match.common import money_label
from walletrecon.match.fees import schedule_fees
from walletrecon.shards import Input
from walletrecon.state import CUTOFF_ENTRIES, conform, empty

#: What a candidate reads of tonight's entries.
NEARBY: dict[str, pl.DataType] = {
    "entry_id": pl.String(),
    "txn_id": pl.String(),
    "account_id": pl.String(),
    "currency": pl.String(),
    "entry_type": pl.String(),
    "status": pl.String(),
    "amount_minor": pl.Int64(),
    "posted_at": pl.Datetime("us", "UTC"),
    "ref_norm": pl.String(),
    "origin": pl.String(),
}
#: (entry_id, fee_minor) of the fees tonight's settlement lines charged on the nearby entries.
LINE_FEES: dict[str, pl.DataType] = {"entry_id": pl.String(), "fee_minor": pl.Int64()}
ACCOUNT = ["account_id", "currency"]


def nearby_entries(entries: Input, broken: pl.DataFrame) -> pl.DataFrame:
    """Tonight's ledger versions of the accounts with a balance break (``broken``: account and
    currency), posted where posted (``posted_at``, else ``created_at``). One streaming
    semi-join: the night's entries are read once, a few rows are kept."""
    if broken.is_empty():
        return empty(NEARBY)
    accounts = broken.select(ACCOUNT).unique().lazy()
    frame = (
        entries.lazy()
        .join(accounts, on=ACCOUNT, how="semi")
        .with_columns(pl.coalesce("posted_at", "created_at").alias("posted_at"))
        .select(list(NEARBY))
        .collect(engine="streaming")
    )
    return conform(frame, NEARBY)


def line_fees(settlement: Input, nearby: pl.DataFrame) -> pl.DataFrame:
    """The fee each of tonight's settlement lines charged on a nearby entry (by the normalised
    gateway reference), in the entry's currency; lines of another fee currency are left out."""
    refs = nearby.filter(pl.col("ref_norm").is_not_null()).select(
        "entry_id", "ref_norm", "currency"
    )
    if refs.is_empty():
        return empty(LINE_FEES)
    lines = (
        settlement.lazy()
        .join(refs.lazy().select("ref_norm").unique(), on="ref_norm", how="semi")
        .select(
            "ref_norm",
            pl.coalesce("net_currency", "currency").alias("fee_currency"),
            "fee_minor",
        )
        .collect(engine="streaming")
    )
    joined = refs.join(lines, on="ref_norm").filter(pl.col("fee_currency") == pl.col("currency"))
    return conform(joined.select("entry_id", "fee_minor"), LINE_FEES)


@dataclass(frozen=True)
class BalanceCauses:
    """Tonight's balance findings with their likely causes, and the entries kept a night."""

    findings: pl.DataFrame
    cutoff_entries: pl.DataFrame


def _gap() -> pl.Expr:
    """A balance finding's difference: reported minus expected, in minor units."""
    return pl.col("actual_minor") - pl.col("expected_minor")


def previous_gaps(open_breaks: pl.DataFrame) -> pl.DataFrame:
    """(account, currency, ``previous_gap``) of the balance breaks open after last night."""
    return open_breaks.filter(pl.col("type") == "balance_mismatch").select(
        *ACCOUNT, _gap().alias("previous_gap")
    )


def _count(candidates: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """Per account: the number of distinct candidate entries, and the first one's columns."""
    return (
        candidates.sort("entry_id")
        .group_by(ACCOUNT)
        .agg(
            pl.col("entry_id").n_unique().alias(f"{prefix}_n"),
            pl.col("origin").first().alias(f"{prefix}_origin"),
            pl.col("detail").first().alias(f"{prefix}_detail"),
        )
    )


def _soon_after(cut_off: str, window: dt.timedelta) -> pl.Expr:
    """Posted after the cut-off in column ``cut_off``, and at most ``window`` after it."""
    return (pl.col("posted_at") > pl.col(cut_off)) & (
        pl.col("posted_at") <= pl.col(cut_off) + window
    )


def _after_cutoff(
    gaps: pl.DataFrame, pool: pl.DataFrame, window: dt.timedelta, timezone: str
) -> pl.DataFrame:
    """Entries posted within ``window`` after the snapshot's cut-off of exactly the difference,
    or after the cut-off before of minus it."""
    after = _soon_after("as_of", window) & (pl.col("amount_minor") == pl.col("gap"))
    # The echo: last night's break of the account was off by the entry, tonight's by minus it.
    echo = (
        _soon_after("previous_as_of", window)
        & (pl.col("amount_minor") == -pl.col("gap"))
        & (pl.col("previous_gap") == pl.col("amount_minor"))
    ).fill_null(False)
    found = gaps.join(pool, on=ACCOUNT).filter(after | echo)

    def local(column: str | pl.Expr) -> pl.Expr:
        instant = pl.col(column) if isinstance(column, str) else column
        return instant.dt.convert_time_zone(timezone).dt.to_string("%Y-%m-%dT%H:%M:%S%:z")

    detail = pl.format(
        "entry {} of {} posted at {}, after the cut-off of {}{} (a sync delay, not a loss)",
        "entry_id",
        money_label(pl.col("amount_minor"), "currency"),
        local("posted_at"),
        local(pl.when(after).then(pl.col("as_of")).otherwise(pl.col("previous_as_of"))),
        pl.when(after).then(pl.lit("")).otherwise(pl.lit(", yet counted by that snapshot")),
    )
    return _count(found.with_columns(detail.alias("detail")), "cutoff")


def _duplicates(gaps: pl.DataFrame, duplicates: pl.DataFrame) -> pl.DataFrame:
    """Second payment entries of the account (the duplicates kernel's ledger findings) of minus
    the difference."""
    rows = duplicates.filter(
        (pl.col("type") == "duplicate") & pl.col("involved").list.first().str.starts_with("ledger:")
    ).select(
        *ACCOUNT,
        pl.col("involved").list.first().str.strip_prefix("ledger:").alias("entry_id"),
        pl.col("actual_minor").alias("amount_minor"),
        pl.col("evidence").alias("origin"),
        "txn_id",
    )
    found = gaps.join(rows, on=ACCOUNT).filter(pl.col("amount_minor") == -pl.col("gap"))
    detail = pl.format(
        "entry {} of {}, a second payment entry of transaction {} (booked twice, shown once)",
        "entry_id",
        money_label(pl.col("amount_minor"), "currency"),
        "txn_id",
    )
    return _count(found.with_columns(detail.alias("detail")), "duplicate")


def _fees(
    gaps: pl.DataFrame, succeeded: pl.DataFrame, lines: pl.DataFrame, config: Config
) -> pl.DataFrame:
    """Succeeded entries of the account with a fee of minus the difference (their settlement
    line's, or a configured schedule's), whose transaction has no ``fee`` entry tonight."""
    booked = succeeded.filter(pl.col("entry_type") == "fee").select("account_id", "txn_id")
    fees = pl.concat([lines, schedule_fees(succeeded, config)]).unique()
    entries = (
        succeeded.filter(pl.col("entry_type") != "fee")
        .join(booked, on=["account_id", "txn_id"], how="anti", nulls_equal=False)
        .join(fees.filter(pl.col("fee_minor") > 0), on="entry_id")
    )
    found = gaps.join(entries, on=ACCOUNT).filter(pl.col("fee_minor") == -pl.col("gap"))
    detail = pl.format(
        "a fee of {} on {} {} ({}), not booked in the ledger",
        money_label(pl.col("fee_minor"), "currency"),
        "entry_type",
        "entry_id",
        "txn_id",
    )
    return _count(found.with_columns(detail.alias("detail")), "fee")


#: The rules in order: (cause, the prefix of its candidate columns).
RULES = (
    ("entry_after_cutoff", "cutoff"),
    ("duplicate_entry", "duplicate"),
    ("fee_not_booked", "fee"),
)


def _words(prefix: str) -> pl.Expr:
    """The candidate in words: itself when it is the only one, else how many there are."""
    n = pl.col(f"{prefix}_n")
    return (
        pl.when(n == 1)
        .then(pl.col(f"{prefix}_detail"))
        .otherwise(pl.format("one of {} such entries, e.g. {}", n, pl.col(f"{prefix}_detail")))
    )


def explain_balances(
    findings: pl.DataFrame,
    broken: pl.DataFrame,
    nearby: pl.DataFrame,
    lines: pl.DataFrame,
    carried: pl.DataFrame,
    open_breaks: pl.DataFrame,
    duplicates: pl.DataFrame,
    config: Config,
) -> BalanceCauses:
    """Tonight's balance findings (``findings``, at the snapshots in ``broken``: account,
    currency, ``as_of``, ``previous_as_of``) with their likely causes; the evidence gains the
    row of a single candidate. ``carried``: last night's ``cutoff_entries``; ``open_breaks``:
    the breaks open after last night (its balance breaks' differences)."""
    window = dt.timedelta(minutes=config.windows.balance_sync_minutes)
    succeeded = nearby.filter(pl.col("status") == "succeeded")
    pool = pl.concat([conform(succeeded, CUTOFF_ENTRIES), conform(carried, CUTOFF_ENTRIES)]).unique(
        [*ACCOUNT, "entry_id"], keep="first", maintain_order=True
    )
    gaps = (
        findings.select(*ACCOUNT, _gap().alias("gap"))
        .join(broken, on=ACCOUNT)
        .join(previous_gaps(open_breaks), on=ACCOUNT, how="left")
    )
    counted = [
        _after_cutoff(gaps, pool, window, config.timezone),
        _duplicates(gaps, duplicates),
        _fees(gaps, succeeded, lines, config),
    ]
    frame = findings
    for candidates in counted:
        frame = frame.join(candidates, on=ACCOUNT, how="left")
    rules = [(cause, pl.col(f"{prefix}_n"), _words(prefix)) for cause, prefix in RULES]
    named = frame.with_columns(**cause_columns(pl.col("explanation"), rules))
    single_origin: pl.Expr = pl.lit(None, pl.String)
    for cause, prefix in RULES:
        single_origin = (
            pl.when((pl.col("likely_cause") == cause) & (pl.col(f"{prefix}_n") == 1))
            .then(pl.col(f"{prefix}_origin"))
            .otherwise(single_origin)
        )
    explained = named.with_columns(
        pl.when(single_origin.is_not_null())
        .then(pl.format("{}; {}", "evidence", single_origin))
        .otherwise(pl.col("evidence"))
        .alias("evidence")
    ).select(findings.columns)
    # Kept a night: tonight's entries posted after their account's cut-off, within the window.
    later = gaps.join(pool, on=ACCOUNT).filter(_soon_after("as_of", window))
    kept = conform(later, CUTOFF_ENTRIES).unique(maintain_order=True)
    return BalanceCauses(findings=explained, cutoff_entries=kept)
