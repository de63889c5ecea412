"""The receipts kernel: ledger payments against merchant receipts (CONTRACT section 2; the
matching itself is ``match.receipts``).

State slice: the receipts no payment has claimed yet. Tonight: the working set of ledger entries
(after the settlement kernel) and tonight's first receipts (duplicates already split off).
Findings: the pair breaks (``status_mismatch``, ``currency_mismatch``, ``amount_mismatch``,
``sync_delay``), ``payment_not_received`` and, for receipts, ``missing_in_ledger``. Outcomes:
tonight's receipts, ``discrepancy``, ``pending`` inside their window, else ``matched``. The
working set of entries, with their receipt matches recorded, goes back to ``kernel.reconcile``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from walletrecon.classify import findings, involved, pair_findings
from walletrecon.config import Config
from walletrecon.kernels import KernelResult, judged_outcomes
from walletrecon.match.common import money_label
from walletrecon.match.pairs import broken_pairs
from walletrecon.match.receipts import match_receipts
from walletrecon.match.waiting import overdue, waiting
from walletrecon.shards import Kernel
from walletrecon.state import RECEIPT_WORK, conform


@dataclass(frozen=True)
class ReceiptState:
    #: Receipts of earlier nights no payment has claimed (``state.RECEIPT_WORK``).
    receipts: pl.DataFrame


@dataclass(frozen=True)
class ReceiptTonight:
    #: The working set of entries (``state.LEDGER_WORK``).
    ledger: pl.DataFrame
    #: Tonight's first receipts (``state.RECEIPT_WORK``).
    receipts: pl.DataFrame


@dataclass(frozen=True)
class ReceiptParams:
    #: Windows and tolerances.
    config: Config


def payment_not_received(ledger: pl.DataFrame, config: Config, run_date: dt.date) -> pl.DataFrame:
    """Succeeded payments no merchant has receipted by the end of the receipt window."""
    days = config.windows.receipt_days
    return findings(
        ledger.filter(overdue("ledger_receipt", config.windows, run_date)),
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


def receipts_missing_in_ledger(
    receipts: pl.DataFrame, config: Config, run_date: dt.date
) -> pl.DataFrame:
    """Receipts that match no ledger payment by the end of their window."""
    days = config.windows.receipt_days
    return findings(
        receipts.filter(overdue("receipts", config.windows, run_date)),
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
            pl.lit(str(days)),
        ),
        evidence=pl.col("origin"),
        involved=involved(("receipts", "receipt_id")),
    )


def run(
    state: ReceiptState, tonight: ReceiptTonight, params: ReceiptParams, run_date: dt.date
) -> KernelResult:
    """Match open receipts to open payments, check tonight's pairs, find what is overdue on
    either side, and carry the unclaimed receipts forward (``state["receipts"]``); the entries,
    with their matches recorded, go back to ``kernel.reconcile`` (``state["ledger"]``)."""
    config = params.config
    received = match_receipts(tonight.ledger, pl.concat([state.receipts, tonight.receipts]))
    found = pl.concat(
        [
            pair_findings(
                broken_pairs(
                    "receipts", received.ledger, received.receipts, received.pairs, config
                ),
                config,
                "receipts",
            ),
            payment_not_received(received.ledger, config, run_date),
            receipts_missing_in_ledger(received.receipts, config, run_date),
        ]
    )
    pending = received.receipts.filter(waiting("receipts", config.windows, run_date)).get_column(
        "receipt_id"
    )
    kept = received.receipts.filter(pl.col("ledger_match").is_null())
    return KernelResult(
        findings=found,
        outcomes=judged_outcomes("receipts", tonight.receipts, "receipt_id", found, pending),
        state={"receipts": conform(kept, RECEIPT_WORK), "ledger": received.ledger},
    )


def shard_keys(frames: Mapping[str, pl.LazyFrame]) -> dict[str, pl.Expr]:
    """Payments and receipts pair by txn_id only: every frame is keyed by it."""
    return {name: pl.col("txn_id") for name in frames}


#: The kernel as the shard executors run it.
KERNEL: Kernel[ReceiptState, ReceiptTonight, ReceiptParams] = Kernel(
    "receipts", run, shard_keys, handoffs=("ledger",)
)
