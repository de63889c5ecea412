"""The duplicates kernel: a second distinct row for one business key (CONTRACT section 2; the
rule itself is ``match.duplicates``).

State slice: (source, dup_key, row_id) of the rows of earlier nights that share a duplicate key
with tonight's (the registry's answer). Tonight: the new rows of ledger, settlement and receipts.
Findings: ``duplicate``, one per duplicate row. Outcomes: the duplicate rows, ``discrepancy``. The
first rows of each key go on to the settlement and receipts kernels (in ``state``, by source);
duplicates never enter matching.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from walletrecon.kernels import KernelResult, outcome_rows
from walletrecon.match.duplicates import DUPLICATE_KEYS, duplicate_findings, split_duplicates
from walletrecon.shards import Kernel

#: The sources whose rows the kernel splits (those with a duplicate rule), ledger first: the
#: widest frame is let go first.
SOURCES = tuple(sorted(DUPLICATE_KEYS))


@dataclass(frozen=True)
class DuplicateState:
    #: (source, dup_key, row_id) of earlier nights' rows sharing a duplicate key with tonight's.
    known_keys: pl.DataFrame


@dataclass(frozen=True)
class DuplicateParams:
    #: Per source, which first rows the later kernels need (absent: all of them).
    keep: dict[str, pl.Expr] = field(default_factory=dict)


@dataclass
class DuplicateTonight:
    """Tonight's new rows of the three sources. Not frozen: the kernel takes them over."""

    ledger: pl.DataFrame
    settlement: pl.DataFrame
    receipts: pl.DataFrame


def known(known_keys: pl.DataFrame, source: str, rows: pl.DataFrame) -> pl.DataFrame:
    """(dup_key, row_id) of a source's earlier rows; an earlier version of one of tonight's rows
    (an update) is the same row, not a duplicate of it."""
    earlier = known_keys.filter(pl.col("source") == source).select("dup_key", "row_id")
    # Earlier rows are few and tonight's many: only tonight's ids among them are joined.
    ids = rows.get_column(DUPLICATE_KEYS[source][0])
    tonight = ids.filter(ids.is_in(earlier.get_column("row_id").implode())).to_frame("row_id")
    return earlier.join(tonight, on="row_id", how="anti")


def run(
    state: DuplicateState,
    tonight: DuplicateTonight,
    params: DuplicateParams,
    run_date: dt.date,
) -> KernelResult:
    """Split each source's rows into firsts and duplicates; the firsts the later kernels need go
    on by source name in ``state``.

    ``tonight`` is taken over: each source's rows are let go (an empty frame left in their
    place) once they are split, so that the night's widest frames do not all stay at once.
    ``run_date`` is unused (the rule does not depend on the date) and kept for the kernels'
    one signature.
    """
    found, outcomes, firsts = [], [], {}
    for source in SOURCES:
        rows = getattr(tonight, source)
        setattr(tonight, source, rows.clear())
        split = split_duplicates(
            source, rows, known(state.known_keys, source, rows), keep=params.keep.get(source)
        )
        del rows
        found.append(duplicate_findings(source, split.duplicates))
        outcomes.append(
            outcome_rows(source, split.duplicates, DUPLICATE_KEYS[source][0], pl.lit("discrepancy"))
        )
        firsts[source] = split.firsts
    return KernelResult(findings=pl.concat(found), outcomes=pl.concat(outcomes), state=firsts)


def shard_keys(frames: Mapping[str, pl.LazyFrame]) -> dict[str, pl.Expr]:
    """Rows keyed by the business key their duplicates share: txn_id for entries and receipts,
    the normalised reference for lines; an earlier night's key by the same part of its
    ``dup_key`` (a line's is 'ref_norm|record_type')."""
    del frames
    line_reference = pl.col("dup_key").str.replace(r"\|[^|]*$", "")
    return {
        "state.known_keys": pl.when(pl.col("source") == "settlement")
        .then(line_reference)
        .otherwise(pl.col("dup_key")),
        "tonight.ledger": pl.col("txn_id"),
        "tonight.settlement": pl.col("ref_norm"),
        "tonight.receipts": pl.col("txn_id"),
    }


#: The kernel as the shard executors run it.
#: Its working set is its inputs, the first rows it copies out while it lets its inputs go (one
#: source at a time) and its split of one source: measured, four times its inputs, like the
#: other kernels.
KERNEL: Kernel[DuplicateState, DuplicateTonight, DuplicateParams] = Kernel(
    "duplicates", run, shard_keys, handoffs=SOURCES
)
