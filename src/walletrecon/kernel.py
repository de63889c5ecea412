"""The pure kernel of one night: yesterday's state and tonight's rows in, findings and state out.

It runs the per-relation kernels (``kernels/``) in turn: payouts and balances on the rows as
delivered; duplicates, which splits off the second rows of a key (and with whose findings the
balance breaks get their likely causes, ``match.balance_causes``); settlement and then receipts
on the ledger's working set (``kernels.ledger``); and gathers their findings, outcomes and state.
No files, no DuckDB, no clock: the run date is an argument.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields

import polars as pl

from walletrecon.config import Config
from walletrecon.kernels import KernelResult
from walletrecon.kernels import balances as balances_kernel
from walletrecon.kernels import duplicates as duplicates_kernel
from walletrecon.kernels import ledger as ledger_rules
from walletrecon.kernels import payouts as payouts_kernel
from walletrecon.kernels import receipts as receipt_kernel
from walletrecon.kernels import settlement as settlement_kernel
from walletrecon.match import balance_causes
from walletrecon.match.balances import posting_totals
from walletrecon.match.common import tolerance_minor
from walletrecon.match.duplicates import DUPLICATE_KEYS
from walletrecon.match.payouts import line_totals
from walletrecon.match.settlement import SETTLED_TYPES
from walletrecon.schemas import CONTROL_AMOUNT
from walletrecon.shards import Executor, Input, LocalExecutor, stand_ins
from walletrecon.spool import ARRIVED, OUTCOMES, SHAPED, WORKING, Spool, concat, named, rows
from walletrecon.state import (
    BANK_WORK,
    LIFECYCLE_FRAMES,
    RECEIPT_WORK,
    SETTLEMENT_WORK,
    SNAPSHOTS,
    NightState,
    compact,
    conform,
)

#: What the ledger's outcomes need of tonight's entries once the duplicates kernel has split them:
#: the id, the currency and the control amount. Settlement lines and receipts get their outcomes
#: from the kernels that hold them, so nothing of theirs is kept.
ARRIVAL_COLUMNS = [DUPLICATE_KEYS["ledger"][0], "currency", CONTROL_AMOUNT["ledger"]]


@dataclass
class Arrivals:
    """Tonight's new rows (re-deliveries already removed) and what earlier nights knew of them.

    The kernel takes the rows of ledger, settlement and receipts over (``release``): they are the
    largest frames of a night, and it lets each go once it is split. On a large night they are
    spooled (``spool``): lazy frames the kernels read shard by shard.
    """

    ledger: Input
    settlement: Input
    receipts: Input
    bank: pl.DataFrame
    balances: pl.DataFrame
    #: (source, dup_key, row_id) of rows of earlier nights sharing a duplicate key with tonight's.
    known_keys: pl.DataFrame
    #: (entry_id, txn_id, ref_norm) of payment entries of earlier nights, for chargebacks.
    payment_history: pl.DataFrame
    #: Tonight's ledger versions replaced by a later one tonight: they count in balances only.
    superseded: pl.DataFrame = field(default_factory=pl.DataFrame)

    def release(self, spool: Spool | None = None) -> dict[str, Input]:
        """Hand over the rows of the split sources; keep only the ledger's ids and amounts here
        (``ARRIVAL_COLUMNS``: in memory, or in the spool when the rows are there), and the
        others' schemas."""
        taken: dict[str, Input] = {
            source: getattr(self, source) for source in duplicates_kernel.SOURCES
        }
        for source, frame in taken.items():
            kept: Input = pl.DataFrame(schema=frame.collect_schema())  # no scan of a spooled file
            if source == "ledger":
                ids = frame.lazy().select(ARRIVAL_COLUMNS)
                if spool is not None and isinstance(frame, pl.LazyFrame):
                    kept = spool.write(named(ARRIVED, source), ids)
                else:
                    kept = ids.collect()
            setattr(self, source, kept)
        return taken

    def entries(self) -> Input:
        """Ledger versions that may post: tonight's standing ones and the superseded ones."""
        if not self.superseded.height:
            return self.ledger
        if isinstance(self.ledger, pl.LazyFrame):
            return pl.concat([self.ledger, self.superseded.lazy()], how="diagonal_relaxed")
        return pl.concat([self.ledger, self.superseded], how="diagonal_relaxed")

    def let_go(self) -> None:
        """Let every frame go, keeping its schema: for after the kernel has run."""
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name).clear())


@dataclass(frozen=True)
class Night:
    """What the kernel found tonight and what it hands to the next night."""

    state: NightState
    findings: pl.DataFrame
    #: Every row's outcome (``KernelResult.outcomes``); on a large night a scan of the spool.
    outcomes: Input
    #: (entry_id) of entries an update made succeed: their status break is over.
    cleared: pl.DataFrame = field(default_factory=pl.DataFrame)


def _take(result: KernelResult, name: str) -> Input:
    """A working set a kernel handed on: spooled by the executor, or in its state."""
    if name in result.handed:
        return result.handed.pop(name)
    return result.state.pop(name)


def reconcile(
    previous: dict[str, pl.DataFrame],
    arrivals: Arrivals,
    run_date: dt.date,
    config: Config,
    executor: Executor | None = None,
    spool: Spool | None = None,
) -> Night:
    """Reconcile one night; every kernel runs through ``executor`` (by default in this process,
    in as many hash shards as ``[engine] memory_limit`` asks for).

    ``previous`` holds yesterday's state by ``NightState`` field name. The kernel takes it over:
    it takes each frame out as its kernel runs, so that yesterday's frames are let go once read;
    the discrepancies pass on to the state it returns.

    Memory: tonight's rows are the largest frames. Payouts and balances read them first; then the
    kernel takes them over (``Arrivals.release``) and splits each source into duplicates and the
    rows that enter matching, letting the source's rows go as it does. With a ``spool`` (a
    large night), the working sets pass from kernel to kernel through it.
    """
    executor = executor or LocalExecutor(config.engine.memory_limit, spool=spool)
    payouts = executor.run(
        payouts_kernel.KERNEL,
        payouts_kernel.PayoutState(previous.pop("payouts"), previous.pop("bank")),
        # Duplicates count in their payout's sum: data as delivered.
        payouts_kernel.PayoutTonight(
            line_totals(arrivals.settlement), conform(arrivals.bank, BANK_WORK)
        ),
        payouts_kernel.PayoutParams(
            config.windows.settlement_days, tolerance_minor(config.tolerance.payout, "currency")
        ),
        run_date,
    )
    balances = executor.run(
        balances_kernel.KERNEL,
        balances_kernel.BalanceState(previous.pop("postings"), previous.pop("snapshots")),
        # Summed per account and day first, in one streaming pass over the night's entries.
        balances_kernel.BalanceTonight(
            posting_totals(arrivals.entries(), config.timezone),
            conform(arrivals.balances, SNAPSHOTS),
        ),
        balances_kernel.BalanceParams(tolerance_minor(config.tolerance.balance, "currency")),
        run_date,
    )
    arrivals.balances = arrivals.balances.clear()  # read by the balances kernel alone
    # The broken accounts' entries and their lines' fees, for the likely causes: a few rows,
    # read before the duplicates kernel takes tonight's rows over.
    broken = balances.state.pop("broken")
    nearby = balance_causes.nearby_entries(arrivals.entries(), broken)
    fees = balance_causes.line_fees(arrivals.settlement, nearby)
    fields_, spooled = stand_ins("tonight", **arrivals.release(spool))
    duplicates = executor.run(
        duplicates_kernel.KERNEL,
        duplicates_kernel.DuplicateState(arrivals.known_keys),
        duplicates_kernel.DuplicateTonight(**fields_),
        # Only entries the gateways settle enter the working set (the rest count in balances).
        duplicates_kernel.DuplicateParams(
            keep={"ledger": pl.col("entry_type").is_in(SETTLED_TYPES)}
        ),
        run_date,
        spooled,
    )
    del fields_, spooled
    explained = balance_causes.explain_balances(
        balances.findings,
        broken,
        nearby,
        fees,
        previous.pop("cutoff_entries"),
        previous["open_discrepancies"],
        duplicates.findings,
        config,
    )
    del nearby, fees
    # Narrowed to the working schemas at once: receipts wait through the settlement kernel.
    first_lines = conform(_take(duplicates, "settlement"), SETTLEMENT_WORK)
    first_receipts = conform(_take(duplicates, "receipts"), RECEIPT_WORK)
    work = ledger_rules.working_set(previous.pop("ledger"), _take(duplicates, "ledger"))
    updated_status, cleared = work.updated_status, work.cleared
    working: Input = work.ledger
    if isinstance(working, pl.LazyFrame):
        working = spool.write(WORKING, working) if spool else working.collect()
    del work
    if spool is not None:  # tonight's rows, split: the kernels go on with the first rows
        spool.remove(*(named(SHAPED, source) for source in duplicates_kernel.SOURCES))
        spool.remove(named(duplicates_kernel.KERNEL.name, "ledger"))
    fields_, spooled = stand_ins(
        "tonight",
        ledger=working,
        settlement=first_lines,
        payment_history=arrivals.payment_history,
    )
    settled = executor.run(
        settlement_kernel.KERNEL,
        settlement_kernel.SettlementState(previous.pop("settlement")),
        settlement_kernel.SettlementTonight(**fields_),
        settlement_kernel.SettlementParams(config),
        run_date,
        spooled,
    )
    # The entries as they were before settlement (the kernel returned them matched) and the lines.
    del working, first_lines, fields_, spooled
    if spool is not None:
        spool.remove(WORKING, named(duplicates_kernel.KERNEL.name, "settlement"))
    fields_, spooled = stand_ins(
        "tonight", ledger=_take(settled, "ledger"), receipts=first_receipts
    )
    del first_receipts
    received = executor.run(
        receipt_kernel.KERNEL,
        receipt_kernel.ReceiptState(previous.pop("receipts")),
        receipt_kernel.ReceiptTonight(**fields_),
        receipt_kernel.ReceiptParams(config),
        run_date,
        spooled,
    )
    del fields_, spooled
    if spool is not None:
        spool.remove(
            named(settlement_kernel.KERNEL.name, "ledger"),
            named(duplicates_kernel.KERNEL.name, "receipts"),
        )
    ledger = _take(received, "ledger")
    found = pl.concat(
        [
            duplicates.findings,
            settled.findings,
            received.findings,
            payouts.findings,
            explained.findings,
            updated_status,
        ]
    )
    outcomes = [
        duplicates.outcomes,
        _entry_outcomes(
            arrivals.ledger,
            duplicates.outcomes,
            ledger_rules.waiting_ids(ledger, config.windows, run_date),
            found,
            spool,
        ),
        settled.outcomes,
        received.outcomes,
        payouts.outcomes,
        balances.outcomes,
    ]
    kept = ledger_rules.carried(ledger, config.windows, run_date)
    state = NightState(
        ledger=spool.write(named("ledger", "carried"), kept)
        if spool is not None
        else compact(kept.collect()),
        settlement=settled.state["settlement"],
        receipts=received.state["receipts"],
        bank=payouts.state["bank"],
        payouts=payouts.state["payouts"],
        postings=balances.state["postings"],
        snapshots=balances.state["snapshots"],
        cutoff_entries=explained.cutoff_entries,
        **{name: previous.pop(name) for name in LIFECYCLE_FRAMES},
    )
    return Night(state=state, findings=found, outcomes=concat(outcomes), cleared=cleared)


#: Tonight's entries judged at a time on a large night (``_entry_outcomes``).
OUTCOME_SLICE = 2_000_000


def _entry_outcomes(
    arrived: Input,
    duplicates: Input,
    waiting: pl.Series,
    found: pl.DataFrame,
    spool: Spool | None,
) -> Input:
    """The outcome rows of tonight's entries that are not duplicates (``arrived``: their ids
    and amounts since ``Arrivals.release``). On a large night, a slice at a time into the
    spool: an entry's outcome is its own."""
    repeated = duplicates.lazy().filter(pl.col("source") == "ledger").select("row_id").collect()

    def judged(entries: pl.LazyFrame) -> pl.DataFrame:
        first = entries.join(repeated.lazy(), left_on="entry_id", right_on="row_id", how="anti")
        return ledger_rules.entry_outcomes(first.collect(), waiting, found)

    if spool is None:
        return judged(arrived.lazy())
    parts = spool.parts(named("ledger", OUTCOMES))
    for offset in range(0, max(rows(arrived), 1), OUTCOME_SLICE):
        parts.add(judged(arrived.lazy().slice(offset, OUTCOME_SLICE)))
    return parts.scan()
