"""Shaping broken rows into findings, shared by the kernels.

A finding is one row per break in the ``FINDING`` schema: its type, key, the amounts, a sentence
for a person, the origin of the rows behind it (``evidence``) and the ids of those rows
(``involved``, for row outcomes). Each kernel owns its classifiers (``kernels/``); the pair checks
here serve both relations of ledger entries (settlement lines and receipts).
"""

from __future__ import annotations

import polars as pl

from walletrecon.causes import cause_columns
from walletrecon.config import Config
from walletrecon.match.common import money_label
from walletrecon.match.pairs import PAIR_SIDES, pair_breaks
from walletrecon.state import FINDING, conform


def involved(*parts: tuple[str, str]) -> pl.Expr:
    """A list of 'source:id' strings from (source, id column) pairs, skipping missing ids."""
    items = [pl.concat_str([pl.lit(f"{source}:"), pl.col(column)]) for source, column in parts]
    return pl.concat_list(items).list.drop_nulls()


def evidence_of(*columns: str) -> pl.Expr:
    """Origins of the rows behind a finding, joined for a person to follow."""
    return pl.concat_str([pl.col(column) for column in columns], separator="; ", ignore_nulls=True)


def findings(frame: pl.DataFrame, kind: str, **columns: pl.Expr) -> pl.DataFrame:
    """Shape a frame of broken rows into findings of one type."""
    return conform(frame.with_columns(pl.lit(kind).alias("type"), **columns), FINDING)


def fee_difference(difference: pl.Expr, fee: pl.Expr) -> pl.Expr:
    """1 when a difference equals, in size, a fee that is not zero (gross and net mixed up)."""
    return ((difference.abs() == fee) & (fee > 0)).cast(pl.Int64)


def amount_causes(
    explanation: pl.Expr, difference: pl.Expr, counterpart: str
) -> dict[str, pl.Expr]:
    """An amount mismatch with a settlement line: its likely cause is the fee when the gross
    differs from the ledger amount by exactly the line's fee (one amount booked gross, the other
    net). Receipts carry no fee, so name no cause."""
    if counterpart != "settlement":
        return {"explanation": explanation}
    fee = pl.col("fee_minor")
    words = pl.format("the fee of {} (gross and net mixed up)", money_label(fee, "currency"))
    rule = ("fee_gross_net_mixed", fee_difference(difference, fee), words)
    return cause_columns(explanation, [rule])


def pair_findings(pairs: pl.DataFrame, config: Config, counterpart: str) -> pl.DataFrame:
    """Findings of the pairs matched tonight that break a status, currency, amount or timing
    check (``pairs`` holds the broken pairs, gathered whole by ``match.pairs.broken_pairs``)."""
    side = PAIR_SIDES[counterpart]
    amount_column, time_column, id_column, suffix = (
        side.amount,
        side.time,
        side.id_column,
        side.suffix,
    )
    other_currency = f"currency{suffix}"
    noun = side.noun
    common = {
        "key": pl.col("txn_id"),
        "evidence": evidence_of("origin", f"origin{suffix}"),
        "involved": involved(("ledger", "entry_id"), (counterpart, id_column)),
    }
    ledger_amount = pl.col("amount_minor").abs()
    breaks = pair_breaks(counterpart, config)
    status = pairs.filter(breaks["status_mismatch"])
    currency = pairs.filter(breaks["currency_mismatch"])
    amount = pairs.filter(breaks["amount_mismatch"])
    delay = pairs.filter(breaks["sync_delay"])
    hours = ((pl.col(time_column) - pl.col("created_at")).dt.total_minutes() / 60).round(1)
    return pl.concat(
        [
            findings(
                status,
                "status_mismatch",
                **common,
                actual_minor=pl.col(amount_column),
                explanation=pl.format(
                    "The ledger has {} {} as {}, yet {} {}.",
                    "entry_type",
                    "txn_id",
                    "status",
                    pl.lit(noun),
                    money_label(pl.col(amount_column), other_currency),
                ),
            ),
            findings(
                currency,
                "currency_mismatch",
                **common,
                explanation=pl.format(
                    "Ledger entry {} of {} is in {}, but {} it in {}.",
                    "entry_id",
                    "txn_id",
                    "currency",
                    pl.lit(noun),
                    other_currency,
                ),
            ),
            findings(
                amount,
                "amount_mismatch",
                **common,
                expected_minor=ledger_amount,
                actual_minor=pl.col(amount_column),
                **amount_causes(
                    pl.format(
                        "The ledger has {} for {}, but {} {}.",
                        money_label(ledger_amount, "currency"),
                        "txn_id",
                        pl.lit(noun),
                        money_label(pl.col(amount_column), "currency"),
                    ),
                    pl.col(amount_column) - ledger_amount,
                    counterpart,
                ),
            ),
            findings(
                delay,
                "sync_delay",
                **common,
                explanation=pl.format(
                    "{}: {} it {} hours after the user acted (threshold {} hours).",
                    "txn_id",
                    pl.lit(noun.capitalize()),
                    hours.cast(pl.String),
                    pl.lit(str(config.windows.sync_delay_hours)),
                ),
            ),
        ]
    )
