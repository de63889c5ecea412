"""Turning the night's matches into findings: a registry of classifiers with one signature.

Each classifier takes the night's ``Evidence`` and returns findings in the ``FINDING`` schema: one
row per break, with its type, key, the amounts, a sentence for a person, the origin of the rows
behind it (``evidence``) and the ids of those rows (``involved``, for row outcomes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from walletrecon.config import Config
from walletrecon.match.common import money_label
from walletrecon.match.pairs import PAIR_SIDES, pair_breaks
from walletrecon.match.waiting import overdue
from walletrecon.state import FINDING, conform


@dataclass(frozen=True)
class Evidence:
    """Everything the classifiers look at for one night."""

    run_date: dt.date
    config: Config
    ledger: pl.DataFrame
    settlement: pl.DataFrame
    receipts: pl.DataFrame
    #: Pairs matched tonight that break a pair check (``broken_pairs``).
    settlement_pairs: pl.DataFrame
    receipt_pairs: pl.DataFrame
    #: Settlement lines checked tonight whose fee or net is wrong (``with_fee_checks``).
    fee_lines: pl.DataFrame
    duplicates: pl.DataFrame


Classifier = Callable[[Evidence], pl.DataFrame]
CLASSIFIERS: list[Classifier] = []


def classifier(function: Classifier) -> Classifier:
    """Register a classifier."""
    CLASSIFIERS.append(function)
    return function


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


def _pair_checks(pairs: pl.DataFrame, evidence: Evidence, counterpart: str) -> list[pl.DataFrame]:
    """Status, currency, amount and timing checks of ledger entries against their counterparts."""
    config = evidence.config
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
    return [
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
            explanation=pl.format(
                "The ledger has {} for {}, but {} {}.",
                money_label(ledger_amount, "currency"),
                "txn_id",
                pl.lit(noun),
                money_label(pl.col(amount_column), "currency"),
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


@classifier
def settlement_pairs(evidence: Evidence) -> pl.DataFrame:
    """Breaks between ledger entries and the settlement lines matched to them tonight."""
    return pl.concat(_pair_checks(evidence.settlement_pairs, evidence, "settlement"))


@classifier
def receipt_pairs(evidence: Evidence) -> pl.DataFrame:
    """Breaks between ledger payments and the merchant receipts matched to them tonight."""
    return pl.concat(_pair_checks(evidence.receipt_pairs, evidence, "receipts"))


@classifier
def fee_mismatch(evidence: Evidence) -> pl.DataFrame:
    """Settlement lines whose net does not follow from gross and fee, or off-schedule fees."""
    lines = evidence.fee_lines.filter(pl.col("net_broken") | pl.col("schedule_broken"))
    schedule = pl.col("schedule_broken")
    reason = (
        pl.when(schedule & pl.col("net_broken"))
        .then(pl.lit("its fee departs from the schedule and its net does not equal gross and fee"))
        .when(schedule)
        .then(pl.lit("its fee departs from the gateway's fee schedule"))
        .otherwise(pl.lit("its net amount does not follow from gross and fee"))
    )
    return findings(
        lines,
        "fee_mismatch",
        key=pl.coalesce("match_txn_id", "merchant_ref", "gateway_ref"),
        txn_id=pl.coalesce("match_txn_id", "merchant_ref"),
        expected_minor=pl.when(schedule).then("expected_fee_minor").otherwise("expected_net_minor"),
        actual_minor=pl.when(schedule).then("fee_minor").otherwise("net_minor"),
        explanation=pl.format(
            "Settlement line {} ({} {}, gross {}, fee {}, net {}): {}; expected {} {}.",
            "settlement_id",
            "gateway",
            "record_type",
            money_label(pl.col("gross_minor"), "currency"),
            money_label(pl.col("fee_minor"), "fee_currency"),
            money_label(pl.col("net_minor"), "fee_currency"),
            reason,
            pl.when(schedule).then(pl.lit("fee")).otherwise(pl.lit("net")),
            money_label(
                pl.when(schedule).then("expected_fee_minor").otherwise("expected_net_minor"),
                "fee_currency",
            ),
        ),
        currency=pl.col("fee_currency"),
        evidence=pl.col("origin"),
        involved=involved(("settlement", "settlement_id")),
    )


@classifier
def missing_in_settlement(evidence: Evidence) -> pl.DataFrame:
    """Succeeded entries sent to a gateway with no settlement line by the end of the window."""
    days = evidence.config.windows.settlement_days
    missing = evidence.ledger.filter(
        overdue("ledger_settlement", evidence.config.windows, evidence.run_date)
    )
    return findings(
        missing,
        "missing_in_settlement",
        key=pl.col("txn_id"),
        expected_minor=pl.col("amount_minor").abs(),
        explanation=pl.format(
            "{} {} of {} (gateway reference {}) on {} has no settlement line after {} days.",
            "entry_type",
            "txn_id",
            money_label(pl.col("amount_minor").abs(), "currency"),
            "gateway_ref",
            "item_date",
            pl.lit(str(days)),
        ),
        evidence=pl.col("origin"),
        involved=involved(("ledger", "entry_id")),
    )


@classifier
def payment_not_received(evidence: Evidence) -> pl.DataFrame:
    """Succeeded payments no merchant has receipted by the end of the receipt window."""
    days = evidence.config.windows.receipt_days
    missing = evidence.ledger.filter(
        overdue("ledger_receipt", evidence.config.windows, evidence.run_date)
    )
    return findings(
        missing,
        "payment_not_received",
        key=pl.col("txn_id"),
        expected_minor=pl.col("amount_minor").abs(),
        explanation=pl.format(
            "Payment {} of {} to merchant {} on {} has no merchant receipt after {} day(s).",
            "txn_id",
            money_label(pl.col("amount_minor").abs(), "currency"),
            "merchant_id",
            "item_date",
            pl.lit(str(days)),
        ),
        evidence=pl.col("origin"),
        involved=involved(("ledger", "entry_id")),
    )


@classifier
def missing_in_ledger(evidence: Evidence) -> pl.DataFrame:
    """Settlement lines and receipts that match no ledger entry by the end of their window."""
    windows = evidence.config.windows
    lines = evidence.settlement.filter(overdue("settlement", windows, evidence.run_date))
    receipts = evidence.receipts.filter(overdue("receipts", windows, evidence.run_date))
    from_lines = findings(
        lines,
        "missing_in_ledger",
        key=pl.col("gateway_ref"),
        txn_id=pl.col("merchant_ref"),
        actual_minor=pl.col("gross_minor"),
        explanation=pl.format(
            "Gateway {} settled {} {} (reference {}, merchant reference {}) on {}, "
            "but no ledger entry matches it after {} days.",
            "gateway",
            "record_type",
            money_label(pl.col("gross_minor"), "currency"),
            "gateway_ref",
            pl.col("merchant_ref").fill_null("none"),
            "item_date",
            pl.lit(str(windows.settlement_days)),
        ),
        evidence=pl.col("origin"),
        involved=involved(("settlement", "settlement_id")),
    )
    from_receipts = findings(
        receipts,
        "missing_in_ledger",
        key=pl.col("txn_id"),
        actual_minor=pl.col("amount_minor"),
        explanation=pl.format(
            "Merchant {} received {} for transaction {} on {}, but the ledger has no such payment "
            "after {} day(s).",
            "merchant_id",
            money_label(pl.col("amount_minor"), "currency"),
            "txn_id",
            "item_date",
            pl.lit(str(windows.receipt_days)),
        ),
        evidence=pl.col("origin"),
        involved=involved(("receipts", "receipt_id")),
    )
    return pl.concat([from_lines, from_receipts])


@classifier
def duplicates(evidence: Evidence) -> pl.DataFrame:
    """Duplicate rows found on arrival tonight (already shaped as findings)."""
    return evidence.duplicates


def classify(evidence: Evidence) -> pl.DataFrame:
    """All findings of the night, from every registered classifier."""
    return pl.concat([conform(run(evidence), FINDING) for run in CLASSIFIERS])
