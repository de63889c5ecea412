"""The duplicates kernel: a second distinct row for one business key (CONTRACT section 2; the
rule itself is ``match.duplicates``).

State slice: (source, dup_key, row_id) of the rows of earlier nights that share a duplicate key
with tonight's (the registry's answer). Tonight: the new rows of ledger, settlement and receipts.
Findings: ``duplicate``, one per duplicate row. Outcomes: the duplicate rows, ``discrepancy``. The
first rows of each key go on to the settlement and receipts kernels (``firsts``); duplicates never
enter matching.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from walletrecon.kernels import KernelResult, outcome_rows
from walletrecon.match.duplicates import DUPLICATE_KEYS, duplicate_findings, split_duplicates

#: The sources whose rows the kernel splits, in the order it splits them.
SOURCES = ("ledger", "settlement", "receipts")


@dataclass(frozen=True)
class DuplicateState:
    #: (source, dup_key, row_id) of earlier nights' rows sharing a duplicate key with tonight's.
    known_keys: pl.DataFrame


@dataclass(frozen=True)
class DuplicateParams:
    #: Per source, which first rows the later kernels need (absent: all of them).
    keep: dict[str, pl.Expr] = field(default_factory=dict)


@dataclass(frozen=True)
class DuplicateResult(KernelResult):
    #: Per source, tonight's first rows of each key that the later kernels need.
    firsts: dict[str, pl.DataFrame]


def known(known_keys: pl.DataFrame, source: str, rows: pl.DataFrame) -> pl.DataFrame:
    """(dup_key, row_id) of a source's earlier rows; an earlier version of one of tonight's rows
    (an update) is the same row, not a duplicate of it."""
    tonight = rows.select(pl.col(DUPLICATE_KEYS[source][0]).alias("row_id"))
    earlier = known_keys.filter(pl.col("source") == source).select("dup_key", "row_id")
    return earlier.join(tonight, on="row_id", how="anti")


def run(
    state: DuplicateState,
    tonight: dict[str, pl.DataFrame],
    params: DuplicateParams,
    run_date: dt.date,
) -> DuplicateResult:
    """Split each source's rows into firsts and duplicates.

    ``tonight`` is taken over: each source's rows are popped from it as they are split, so that
    the night's widest frames are let go one at a time. ``run_date`` is unused (the rule does not
    depend on the date) and kept for the kernels' one signature.
    """
    found, outcomes, firsts = [], [], {}
    for source in SOURCES:
        rows = tonight.pop(source)
        split = split_duplicates(
            source, rows, known(state.known_keys, source, rows), keep=params.keep.get(source)
        )
        del rows
        found.append(duplicate_findings(source, split.duplicates))
        outcomes.append(
            outcome_rows(source, split.duplicates, DUPLICATE_KEYS[source][0], pl.lit("discrepancy"))
        )
        firsts[source] = split.firsts
    return DuplicateResult(
        findings=pl.concat(found), outcomes=pl.concat(outcomes), state={}, firsts=firsts
    )
