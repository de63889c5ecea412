"""The pure kernel of one night: yesterday's state and tonight's rows in, findings and state out.

No files, no DuckDB, no clock: the run date is an argument. The same function can run per shard.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from walletrecon.classify import Evidence, classify
from walletrecon.config import Config
from walletrecon.kernels import balances as balances_kernel
from walletrecon.kernels import payouts as payouts_kernel
from walletrecon.match.common import tolerance_minor, window_passed
from walletrecon.match.duplicates import duplicate_findings, split_duplicates
from walletrecon.match.fees import broken_fees, fee_due
from walletrecon.match.pairs import broken_pairs
from walletrecon.match.receipts import match_receipts
from walletrecon.match.settlement import SETTLED_TYPES, match_settlement
from walletrecon.match.updates import cleared_entries, replace_updated, status_after_update
from walletrecon.match.waiting import expects_receipt, expects_settlement, waiting
from walletrecon.shards import Executor, LocalExecutor
from walletrecon.state import (
    BANK_WORK,
    FINDING,
    LEDGER_WORK,
    RECEIPT_WORK,
    SETTLEMENT_WORK,
    SNAPSHOTS,
    NightState,
    conform,
)

#: The id column of each source whose rows the kernel splits (all the outcomes need of them).
ARRIVAL_IDS = {"ledger": "entry_id", "settlement": "settlement_id", "receipts": "receipt_id"}


@dataclass
class Arrivals:
    """Tonight's new rows (re-deliveries already removed) and what earlier nights knew of them.

    The kernel takes the rows of ledger, settlement and receipts over (``release``): they are the
    largest frames of a night, and it lets each go once it is split.
    """

    ledger: pl.DataFrame
    settlement: pl.DataFrame
    receipts: pl.DataFrame
    bank: pl.DataFrame
    balances: pl.DataFrame
    #: (source, dup_key, row_id) of rows of earlier nights sharing a duplicate key with tonight's.
    known_keys: pl.DataFrame
    #: (entry_id, txn_id, ref_norm) of payment entries of earlier nights, for chargebacks.
    payment_history: pl.DataFrame
    #: Tonight's ledger versions replaced by a later one tonight: they count in balances only.
    superseded: pl.DataFrame = field(default_factory=pl.DataFrame)

    def release(self) -> dict[str, pl.DataFrame]:
        """Hand over the rows of the split sources; keep only their ids here."""
        rows = {source: getattr(self, source) for source in ARRIVAL_IDS}
        for source, column in ARRIVAL_IDS.items():
            setattr(self, source, rows[source].select(column))
        return rows


@dataclass(frozen=True)
class Night:
    """What the kernel found tonight and what it hands to the next night."""

    state: NightState
    findings: pl.DataFrame
    outcomes: pl.DataFrame
    #: (entry_id) of entries an update made succeed: their status break is over.
    cleared: pl.DataFrame = field(default_factory=pl.DataFrame)


def _known(arrivals: Arrivals, source: str, rows: pl.DataFrame) -> pl.DataFrame:
    """Keys of earlier nights' rows; an earlier version of one of tonight's rows (an update) is
    the same row, not a duplicate of it."""
    tonight = rows.select(pl.col(ARRIVAL_IDS[source]).alias("row_id"))
    known = arrivals.known_keys.filter(pl.col("source") == source).select("dup_key", "row_id")
    return known.join(tonight, on="row_id", how="anti")


def _ledger_waiting(config: Config, run_date: dt.date) -> pl.Expr:
    """Entries still waiting inside a window for a counterpart."""
    windows = config.windows
    return waiting("ledger_settlement", windows, run_date) | waiting(
        "ledger_receipt", windows, run_date
    )


def _ledger_kept(config: Config, run_date: dt.date) -> pl.Expr:
    """Entries carried to the next night: those still owed a counterpart, and, until the later
    window ends, any entry with a relation still unmatched (a failed payment's receipt, a
    line found by merchant_ref). Fully matched entries leave: later copies of their
    counterparts are caught as duplicates through the registry, chargebacks find them there."""
    windows = config.windows
    # A counterpart dated up to a window after the entry may itself take a window to arrive.
    horizon = 2 * max(windows.settlement_days, windows.receipt_days) + 1
    settlement_open = pl.col("settlement_match").is_null()
    receipt_open = (pl.col("entry_type") == "payment") & pl.col("receipt_match").is_null()
    return (
        (expects_settlement() & settlement_open)
        | (expects_receipt() & receipt_open)
        | (
            ((settlement_open | receipt_open) | (pl.col("status") == "pending"))
            & ~window_passed("item_date", horizon, run_date)
        )
    )


def reconcile(
    previous: NightState,
    arrivals: Arrivals,
    run_date: dt.date,
    config: Config,
    executor: Executor | None = None,
) -> Night:
    """Reconcile one night; the payouts and balances kernels run through ``executor`` (by
    default in this process, in as many hash shards as ``[engine] memory_limit`` asks for).

    Memory: tonight's rows are the largest frames. Payouts and balances read them first; then the
    kernel takes them over (``Arrivals.release``) and splits each source into duplicates and the
    rows that enter matching, letting the source's rows go as it does.
    """
    executor = executor or LocalExecutor(config.engine.memory_limit)
    payouts = executor.run(
        payouts_kernel.KERNEL,
        payouts_kernel.PayoutState(previous.payouts, previous.bank),
        # Duplicates count in their payout's sum: data as delivered.
        payouts_kernel.PayoutTonight(arrivals.settlement, conform(arrivals.bank, BANK_WORK)),
        payouts_kernel.PayoutParams(
            config.windows.settlement_days, tolerance_minor(config.tolerance.payout, "currency")
        ),
        run_date,
    )
    balances = executor.run(
        balances_kernel.KERNEL,
        balances_kernel.BalanceState(previous.postings, previous.snapshots),
        balances_kernel.BalanceTonight(
            entries=pl.concat([arrivals.ledger, arrivals.superseded], how="diagonal_relaxed")
            if arrivals.superseded.height
            else arrivals.ledger,
            snapshots=conform(arrivals.balances, SNAPSHOTS),
        ),
        balances_kernel.BalanceParams(
            config.timezone, tolerance_minor(config.tolerance.balance, "currency")
        ),
        run_date,
    )
    wide = arrivals.release()
    # Only entries the gateways settle enter the working set (the rest count in balances).
    ledger_split = split_duplicates(
        "ledger",
        wide["ledger"],
        _known(arrivals, "ledger", wide.pop("ledger")),
        keep=pl.col("entry_type").is_in(SETTLED_TYPES),
    )
    line_split = split_duplicates(
        "settlement", wide["settlement"], _known(arrivals, "settlement", wide.pop("settlement"))
    )
    receipt_split = split_duplicates(
        "receipts", wide["receipts"], _known(arrivals, "receipts", wide.pop("receipts"))
    )
    replaced = replace_updated(previous.ledger, ledger_split.firsts)
    updated_status = status_after_update(replaced.arrived)
    duplicates = pl.concat(
        [
            duplicate_findings("ledger", ledger_split.duplicates),
            duplicate_findings("settlement", line_split.duplicates),
            duplicate_findings("receipts", receipt_split.duplicates),
        ]
    )
    ledger = pl.concat([replaced.carried, conform(replaced.arrived, LEDGER_WORK)])
    lines = pl.concat([previous.settlement, conform(line_split.firsts, SETTLEMENT_WORK)])
    receipts = pl.concat([previous.receipts, conform(receipt_split.firsts, RECEIPT_WORK)])
    cleared = cleared_entries(replaced.arrived)
    del ledger_split, line_split, receipt_split, replaced

    settled = match_settlement(ledger, lines, arrivals.payment_history)
    received = match_receipts(settled.ledger, receipts)
    del ledger, lines, receipts
    fee_lines = broken_fees(settled.settlement, config, run_date)
    lines = settled.settlement.with_columns(
        (pl.col("fee_checked") | fee_due(config, run_date)).alias("fee_checked")
    )
    evidence = Evidence(
        run_date=run_date,
        config=config,
        ledger=received.ledger,
        settlement=lines,
        receipts=received.receipts,
        settlement_pairs=broken_pairs("settlement", received.ledger, lines, settled.pairs, config),
        receipt_pairs=broken_pairs(
            "receipts", received.ledger, received.receipts, received.pairs, config
        ),
        fee_lines=fee_lines,
        duplicates=duplicates,
    )
    found = pl.concat(
        [conform(classify(evidence), FINDING), payouts.findings, balances.findings, updated_status]
    )
    outcomes = pl.concat(
        [_outcomes(arrivals, evidence, found, config), payouts.outcomes, balances.outcomes]
    )
    state = NightState(
        ledger=conform(received.ledger.filter(_ledger_kept(config, run_date)), LEDGER_WORK),
        settlement=conform(lines.filter(pl.col("ledger_match").is_null()), SETTLEMENT_WORK),
        receipts=conform(received.receipts.filter(pl.col("ledger_match").is_null()), RECEIPT_WORK),
        bank=payouts.state["bank"],
        payouts=payouts.state["payouts"],
        postings=balances.state["postings"],
        snapshots=balances.state["snapshots"],
        open_discrepancies=previous.open_discrepancies,
        resolved_discrepancies=previous.resolved_discrepancies,
    )
    return Night(state=state, findings=found, outcomes=outcomes, cleared=cleared)


def _ids(frame: pl.DataFrame, column: str) -> pl.Series:
    return frame.get_column(column).unique()


def _outcomes(
    arrivals: Arrivals,
    evidence: Evidence,
    found: pl.DataFrame,
    config: Config,
) -> pl.DataFrame:
    """One outcome per ledger, settlement and receipt row that arrived tonight: discrepancy,
    pending or matched (the payouts and balances kernels give their own rows' outcomes)."""
    run_date, windows = evidence.run_date, config.windows
    cited = (
        found.select(pl.col("involved").explode().drop_nulls().unique().alias("ref"))
        .with_columns(pl.col("ref").str.splitn(":", 2).alias("parts"))
        .unnest("parts")
        .rename({"field_0": "source", "field_1": "row_id"})
    )
    pending = {
        "ledger": _ids(evidence.ledger.filter(_ledger_waiting(config, run_date)), "entry_id"),
        "settlement": _ids(
            evidence.settlement.filter(waiting("settlement", windows, run_date)), "settlement_id"
        ),
        "receipts": _ids(
            evidence.receipts.filter(waiting("receipts", windows, run_date)), "receipt_id"
        ),
    }
    sources = {
        "ledger": (arrivals.ledger, "entry_id"),
        "settlement": (arrivals.settlement, "settlement_id"),
        "receipts": (arrivals.receipts, "receipt_id"),
    }
    parts = []
    for source, (rows, id_column) in sources.items():
        broken = cited.filter(pl.col("source") == source).get_column("row_id")
        outcome = (
            pl.when(pl.col(id_column).is_in(broken.implode()))
            .then(pl.lit("discrepancy"))
            .when(pl.col(id_column).is_in(pending[source].implode()))
            .then(pl.lit("pending"))
            .otherwise(pl.lit("matched"))
        )
        parts.append(
            rows.select(
                pl.lit(source).alias("source"),
                pl.col(id_column).alias("row_id"),
                outcome.alias("outcome"),
            )
        )
    return pl.concat(parts)
