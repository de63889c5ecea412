"""The floor: a bare Polars script doing only the joins the relations need.

Reads a night's five canonical CSV files as text, casts the amounts to exact decimals, joins
ledger and settlement on the normalised gateway_ref, payments and receipts on txn_id, the night's
payout sums against the bank lines that name them, and posted sums against reported balances,
and counts pairs, agreements and rows left over (see common.py). It classifies nothing, keeps
no state and writes nothing: the least work any reconciliation of these relations must do.
Runs in the project's environment (its Polars).

    python bench/peers/floor.py INBOX/2026-11-17 [INBOX/2026-11-16]
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
from common import SCALE, SETTLED_TYPES, Night, emit, night_from_arguments

DECIMAL = pl.Decimal(38, SCALE)
ZERO = pl.lit(0).cast(DECIMAL)


def read(path: Path, columns: list[str], amounts: list[str]) -> pl.LazyFrame:
    """The columns of a CSV file as text, with the amount columns as exact decimals."""
    frame = pl.read_csv(path, columns=columns, infer_schema=False)
    return frame.lazy().with_columns(pl.col(amounts).str.strip_chars().cast(DECIMAL, strict=False))


def tally(pairs: pl.LazyFrame, left_only: pl.LazyFrame, right_only: pl.LazyFrame) -> pl.LazyFrame:
    """One row of counts from the pairs (with their ``agree`` flag) and the unpaired rows."""
    return pl.concat(
        [
            pairs.select(
                pl.len().alias("pairs"),
                pl.col("agree").sum().alias("agree"),
                (~pl.col("agree")).sum().alias("differ"),
            ),
            left_only.select(pl.len().alias("left_only")),
            right_only.select(pl.len().alias("right_only")),
        ],
        how="horizontal",
    )


def matched(left: pl.LazyFrame, right: pl.LazyFrame, key: str, agree: pl.Expr) -> pl.LazyFrame:
    """Counts of a one-key relation: an inner join for the pairs, anti joins for the rest."""
    pairs = left.join(right, on=key, how="inner")
    pairs = pairs.with_columns(agree.fill_null(False).alias("agree"))
    return tally(pairs, left.join(right, on=key, how="anti"), right.join(left, on=key, how="anti"))


def settlement(ledger: pl.LazyFrame, lines: pl.LazyFrame) -> pl.LazyFrame:
    """Ledger entries against settlement lines by the normalised gateway_ref."""
    reference = pl.col("gateway_ref").str.strip_chars().str.to_lowercase().alias("reference")
    entries = ledger.filter(
        pl.col("entry_type").is_in(SETTLED_TYPES) & pl.col("gateway_ref").is_not_null()
    ).select(reference, pl.col("amount").abs(), "currency")
    settled = lines.filter(pl.col("gateway_ref").is_not_null()).select(
        reference, "gross_amount", pl.col("currency").alias("line_currency")
    )
    agree = (pl.col("currency") == pl.col("line_currency")) & (
        pl.col("amount") == pl.col("gross_amount")
    )
    return matched(entries, settled, "reference", agree)


def receipts(ledger: pl.LazyFrame, received: pl.LazyFrame) -> pl.LazyFrame:
    """Payment entries against merchant receipts by txn_id."""
    payments = ledger.filter(pl.col("entry_type") == "payment").select(
        "txn_id", pl.col("amount").abs(), "currency"
    )
    other = received.select(
        "txn_id", pl.col("amount").alias("received"), pl.col("currency").alias("received_currency")
    )
    agree = (pl.col("currency") == pl.col("received_currency")) & (
        pl.col("amount") == pl.col("received")
    )
    return matched(payments, other, "txn_id", agree)


def payouts(lines: pl.LazyFrame, bank: pl.LazyFrame) -> pl.LazyFrame:
    """The night's payout sums against the bank lines whose reference names the payout."""
    sums = (
        lines.filter(pl.col("payout_id").is_not_null())
        .group_by("payout_id", "currency")
        .agg(pl.col("net_amount").sum())
    )
    payout = pl.col("payout_id").str.to_lowercase()
    named = bank.select(
        "bank_line_id",
        "amount",
        pl.col("currency").alias("bank_currency"),
        pl.col("reference").fill_null("").str.to_lowercase(),
    )
    pairs = (
        sums.join(named, how="cross")
        .filter(pl.col("reference").str.contains(payout, literal=True))
        .with_columns(
            (
                (pl.col("currency") == pl.col("bank_currency"))
                & (pl.col("amount") == pl.col("net_amount"))
            )
            .fill_null(False)
            .alias("agree")
        )
    )
    keys = ["payout_id", "currency"]
    return tally(
        pairs,
        sums.join(pairs.select(keys), on=keys, how="anti"),
        named.join(pairs.select("bank_line_id"), on="bank_line_id", how="anti"),
    )


def balances(ledger: pl.LazyFrame, reported: pl.LazyFrame, opening: pl.LazyFrame) -> pl.LazyFrame:
    """Reported balances against the opening balance plus the succeeded entries posted."""
    keys = ["account_id", "currency"]
    posted = (
        ledger.filter((pl.col("status") == "succeeded") & pl.col("posted_at").is_not_null())
        .group_by(keys)
        .agg(pl.col("amount").sum().alias("posted"))
    )
    checks = reported.join(posted, on=keys, how="left").join(opening, on=keys, how="left")
    expected = pl.col("opening").fill_null(ZERO) + pl.col("posted").fill_null(ZERO)
    pairs = checks.with_columns((pl.col("balance") == expected).fill_null(False).alias("agree"))
    return tally(
        pairs,
        posted.join(reported, on=keys, how="anti"),
        reported.join(posted, on=keys, how="anti"),
    )


def opening_balances(night: Night) -> pl.LazyFrame:
    """The previous night's reported balances (none on the first night)."""
    if night.previous_balances is None:
        schema = pl.Schema({"account_id": pl.String(), "currency": pl.String(), "opening": DECIMAL})
        return pl.LazyFrame(schema=schema)
    frame = read(night.previous_balances, ["account_id", "currency", "balance"], ["balance"])
    return frame.rename({"balance": "opening"})


def reconcile(night: Night) -> dict[str, dict[str, int]]:
    """The checksum of one night: every relation's counts, computed in one collect."""
    ledger_columns = ["txn_id", "account_id", "entry_type", "amount", "currency", "status"]
    ledger = read(night.ledger, [*ledger_columns, "posted_at", "gateway_ref"], ["amount"])
    settlement_columns = ["gateway_ref", "gross_amount", "net_amount", "currency", "payout_id"]
    lines = read(night.settlement, settlement_columns, ["gross_amount", "net_amount"])
    received = read(night.receipts, ["txn_id", "amount", "currency"], ["amount"])
    bank = read(night.bank, ["bank_line_id", "amount", "currency", "reference"], ["amount"])
    reported = read(night.balances, ["account_id", "currency", "balance"], ["balance"])
    plans = {
        "settlement": settlement(ledger, lines),
        "receipts": receipts(ledger, received),
        "payouts": payouts(lines, bank),
        "balances": balances(ledger, reported, opening_balances(night)),
    }
    frames = pl.collect_all(list(plans.values()))
    return {name: frame.row(0, named=True) for name, frame in zip(plans, frames, strict=True)}


if __name__ == "__main__":
    emit("floor", reconcile(night_from_arguments(sys.argv[1:])))
