"""The ledger's working set, shared by the settlement and receipts kernels: how tonight's entries
join the carried ones (updates replace earlier versions), which entries wait, and which are
carried to the next night (CONTRACT section 2).

An entry owes up to two counterparts, a settlement line and a receipt; its outcome and whether it
stays depend on both, so these rules sit beside the two kernels rather than inside either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from walletrecon.config import Windows
from walletrecon.kernels import judged_outcomes
from walletrecon.match.common import window_passed
from walletrecon.match.updates import cleared_entries, replace_updated, status_after_update
from walletrecon.match.waiting import expects_receipt, expects_settlement, waiting
from walletrecon.state import LEDGER_WORK, conform


@dataclass(frozen=True)
class WorkingSet:
    """The entries tonight's matching works on, and what tonight's updates changed."""

    #: Carried entries (without the ones updated tonight) and tonight's (``state.LEDGER_WORK``);
    #: a lazy frame when tonight's entries were spooled (to be written to the spool in turn).
    ledger: pl.DataFrame | pl.LazyFrame
    #: ``status_mismatch`` findings of entries updated away from succeeded after matching.
    updated_status: pl.DataFrame
    #: (entry_id) of entries an update made succeed: their status break is over.
    cleared: pl.DataFrame


def working_set(carried: pl.DataFrame, arrived: pl.DataFrame | pl.LazyFrame) -> WorkingSet:
    """Join tonight's first entries to the carried ones; an update replaces its earlier version
    and inherits its matches."""
    replaced = replace_updated(carried, arrived)
    ledger: pl.DataFrame | pl.LazyFrame
    if isinstance(replaced.arrived, pl.LazyFrame):
        ledger = pl.concat([replaced.carried.lazy(), conform(replaced.arrived, LEDGER_WORK)])
    else:
        ledger = pl.concat([replaced.carried, conform(replaced.arrived, LEDGER_WORK)])
    return WorkingSet(
        ledger=ledger,
        updated_status=status_after_update(replaced.arrived),
        cleared=cleared_entries(replaced.arrived),
    )


def entry_waiting(windows: Windows, run_date: dt.date) -> pl.Expr:
    """Entries still waiting inside a window for a settlement line or a receipt."""
    return waiting("ledger_settlement", windows, run_date) | waiting(
        "ledger_receipt", windows, run_date
    )


def entry_kept(windows: Windows, run_date: dt.date) -> pl.Expr:
    """Entries carried to the next night: those still owed a counterpart, and, until the later
    window ends, any entry with a relation still unmatched (a failed payment's receipt, a
    line found by merchant_ref). Fully matched entries leave: later copies of their
    counterparts are caught as duplicates through the registry, chargebacks find them there."""
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


def waiting_ids(
    ledger: pl.DataFrame | pl.LazyFrame, windows: Windows, run_date: dt.date
) -> pl.Series:
    """The ids of the entries of the working set still waiting inside a window."""
    waiting = ledger.lazy().filter(entry_waiting(windows, run_date)).select("entry_id")
    return waiting.collect().to_series()


def entry_outcomes(arrived: pl.DataFrame, waiting: pl.Series, found: pl.DataFrame) -> pl.DataFrame:
    """Tonight's entries (``arrived``: their ``entry_id``): ``discrepancy`` when any finding
    names them, ``pending`` while waiting in the working set (``waiting_ids``), else
    ``matched``."""
    return judged_outcomes("ledger", arrived, "entry_id", found, waiting)


def carried(
    ledger: pl.DataFrame | pl.LazyFrame, windows: Windows, run_date: dt.date
) -> pl.LazyFrame:
    """The entries the next night's working set starts from (lazy: a large night streams them
    from the spool to the spool, and from there to the state folder)."""
    return conform(ledger.lazy().filter(entry_kept(windows, run_date)), LEDGER_WORK)
