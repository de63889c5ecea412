"""The settlement kernel: ledger entries against gateway and bank settlement lines (CONTRACT
section 2; the matching itself is ``match.settlement``, the fee rule ``match.fees``).

State slice: the settlement lines no entry has claimed yet. Tonight: the working set of ledger
entries (carried and tonight's, ``state.LEDGER_WORK``), tonight's first lines (duplicates already
split off), and the payments of earlier nights a chargeback may name. Findings: the pair breaks
(``status_mismatch``, ``currency_mismatch``, ``amount_mismatch``, ``sync_delay``),
``fee_mismatch``, ``missing_in_settlement`` and, for lines, ``missing_in_ledger``. Outcomes:
tonight's lines, ``discrepancy``, ``pending`` inside their window, else ``matched``. The working
set of entries, with their settlement matches recorded, goes on to the receipts kernel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from walletrecon.causes import cause_columns
from walletrecon.classify import findings, involved, pair_findings
from walletrecon.config import Config
from walletrecon.kernels import KernelResult, judged_outcomes
from walletrecon.kernels.routing import (
    component_key,
    component_labels,
    reference_node,
    transaction_node,
)
from walletrecon.match.common import money_label
from walletrecon.match.fees import broken_fees, fee_due
from walletrecon.match.pairs import broken_pairs
from walletrecon.match.settlement import match_settlement
from walletrecon.match.waiting import overdue, waiting
from walletrecon.shards import Kernel
from walletrecon.state import SETTLEMENT_WORK, conform


@dataclass(frozen=True)
class SettlementState:
    #: Lines of earlier nights no ledger entry has claimed (``state.SETTLEMENT_WORK``).
    settlement: pl.DataFrame


@dataclass(frozen=True)
class SettlementTonight:
    #: The working set of entries: carried ones and tonight's (``state.LEDGER_WORK``).
    ledger: pl.DataFrame
    #: Tonight's first lines (``state.SETTLEMENT_WORK``).
    settlement: pl.DataFrame
    #: (entry_id, txn_id, ref_norm) of payment entries of earlier nights, for chargebacks.
    payment_history: pl.DataFrame


@dataclass(frozen=True)
class SettlementParams:
    #: Windows, tolerances and fee schedules.
    config: Config


def fee_mismatch(lines: pl.DataFrame) -> pl.DataFrame:
    """Lines checked tonight whose net does not follow from gross and fee, or whose fee is off
    the gateway's schedule (``match.fees.broken_fees``)."""
    schedule = pl.col("schedule_broken")
    fee = pl.col("fee_minor")
    reason = (
        pl.when(schedule & pl.col("net_broken"))
        .then(pl.lit("its fee departs from the schedule and its net does not equal gross and fee"))
        .when(schedule)
        .then(pl.lit("its fee departs from the gateway's fee schedule"))
        .otherwise(pl.lit("its net amount does not follow from gross and fee"))
    )
    return findings(
        lines.filter(pl.col("net_broken") | schedule),
        "fee_mismatch",
        key=pl.coalesce("match_txn_id", "merchant_ref", "gateway_ref"),
        txn_id=pl.coalesce("match_txn_id", "merchant_ref"),
        expected_minor=pl.when(schedule).then("expected_fee_minor").otherwise("expected_net_minor"),
        actual_minor=pl.when(schedule).then("fee_minor").otherwise("net_minor"),
        **cause_columns(
            pl.format(
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
            [
                (
                    "fee_gross_net_mixed",
                    # The net is the gross: the fee was not taken off (net above by the fee).
                    (
                        (pl.col("net_minor") - pl.col("expected_net_minor") == fee)
                        & (fee > 0)
                        & ~schedule
                    ).cast(pl.Int64),
                    pl.format(
                        "the fee of {} (net booked as gross)",
                        money_label(fee, "fee_currency"),
                    ),
                ),
            ],
        ),
        currency=pl.col("fee_currency"),
        evidence=pl.col("origin"),
        involved=involved(("settlement", "settlement_id")),
    )


def missing_in_settlement(ledger: pl.DataFrame, config: Config, run_date: dt.date) -> pl.DataFrame:
    """Succeeded entries sent to a gateway with no settlement line by the end of the window."""
    days = config.windows.settlement_days
    missing = ledger.filter(overdue("ledger_settlement", config.windows, run_date))
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


def lines_missing_in_ledger(lines: pl.DataFrame, config: Config, run_date: dt.date) -> pl.DataFrame:
    """Settlement lines that match no ledger entry by the end of their window."""
    days = config.windows.settlement_days
    return findings(
        lines.filter(overdue("settlement", config.windows, run_date)),
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
            pl.lit(str(days)),
        ),
        evidence=pl.col("origin"),
        involved=involved(("settlement", "settlement_id")),
    )


def run(
    state: SettlementState,
    tonight: SettlementTonight,
    params: SettlementParams,
    run_date: dt.date,
) -> KernelResult:
    """Match open lines to open entries, check tonight's pairs and the fees due, find what is
    overdue on either side, and carry the unclaimed lines forward (``state["settlement"]``);
    the entries, with their matches recorded, go on to the receipts kernel
    (``state["ledger"]``)."""
    config = params.config
    settled = match_settlement(
        tonight.ledger, pl.concat([state.settlement, tonight.settlement]), tonight.payment_history
    )
    fee_lines = broken_fees(settled.settlement, config, run_date)
    lines = settled.settlement.with_columns(
        (pl.col("fee_checked") | fee_due(config, run_date)).alias("fee_checked")
    )
    found = pl.concat(
        [
            pair_findings(
                broken_pairs("settlement", settled.ledger, lines, settled.pairs, config),
                config,
                "settlement",
            ),
            fee_mismatch(fee_lines),
            missing_in_settlement(settled.ledger, config, run_date),
            lines_missing_in_ledger(lines, config, run_date),
        ]
    )
    pending = lines.filter(waiting("settlement", config.windows, run_date)).get_column(
        "settlement_id"
    )
    return KernelResult(
        findings=found,
        outcomes=judged_outcomes("settlement", tonight.settlement, "settlement_id", found, pending),
        state={
            "settlement": conform(lines.filter(pl.col("ledger_match").is_null()), SETTLEMENT_WORK),
            "ledger": settled.ledger,
        },
    )


def shard_keys(frames: Mapping[str, pl.LazyFrame]) -> dict[str, pl.Expr]:
    """Rows keyed by their component of references and transaction ids (``kernels.routing``):
    an entry links its ref_norm and txn_id, a line its ref_norm and merchant_ref, a known
    payment its ref_norm and txn_id, so every entry a line or a chargeback could pair with, by
    either rule, is in its shard."""
    plan = {
        "state.settlement": ("merchant_ref", "settlement_id"),
        "tonight.settlement": ("merchant_ref", "settlement_id"),
        "tonight.ledger": ("txn_id", "entry_id"),
        "tonight.payment_history": ("txn_id", "entry_id"),
    }
    nodes = pl.collect_all(
        [
            frames[name].select(
                reference_node("ref_norm").alias("a"), transaction_node(transaction).alias("b")
            )
            for name, (transaction, _) in plan.items()
        ]
    )
    labels = component_labels(dict(zip(plan, nodes, strict=True)))
    return {
        name: component_key(labels[name], pl.col(fallback)) for name, (_, fallback) in plan.items()
    }


#: The kernel as the shard executors run it.
KERNEL: Kernel[SettlementState, SettlementTonight, SettlementParams] = Kernel(
    "settlement", run, shard_keys, handoffs=("ledger",)
)
