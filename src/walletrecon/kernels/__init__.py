"""Per-relation kernels (DESIGN.md, "One kernel per relation"): each takes its slice of
yesterday's state, tonight's rows of its relation, its parameters and the run date, and returns
its findings, the outcome of each of tonight's rows it owns, and its slice of the next state.

Pure: Polars frames in and out, no files, no DuckDB connection, no clock. ``kernel.reconcile``
runs them; a shard executor can run them per key-hash shard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from walletrecon.match.common import row_wise
from walletrecon.schemas import CONTROL_AMOUNT
from walletrecon.state import compact, fresh


@dataclass(frozen=True)
class KernelResult:
    """What one kernel found tonight and what it hands to the next night."""

    #: Findings in the ``state.FINDING`` shape.
    findings: pl.DataFrame
    #: (source, row_id, outcome, currency, amount_minor) of tonight's rows of the kernel's own
    #: sources (``outcome_rows``); spooled by an executor with a spool (a scan of the rows).
    outcomes: pl.DataFrame | pl.LazyFrame
    #: What the kernel hands on, by name: its slice of the next night's state (``NightState``
    #: frame names), and the working set a later kernel of the night goes on with (the ledger
    #: entries settlement hands to receipts; the first rows duplicates hands to both).
    state: dict[str, pl.DataFrame]
    #: Working sets an executor wrote to the night's spool rather than keep in ``state``
    #: (``shards.Kernel.handoffs``), by the same names: scans of the spooled rows.
    handed: dict[str, pl.LazyFrame] = field(default_factory=dict)

    def compacted(self) -> KernelResult:
        """The result with its frames' text copied where it keeps its inputs' buffers alive
        (``state.compact``), and its findings copied anew (``state.fresh``): findings and
        carried state are a few rows of the night's text, and outlive the shard."""
        return KernelResult(
            findings=fresh(self.findings),
            outcomes=self.outcomes,
            state={name: compact(frame) for name, frame in self.state.items()},
            handed=self.handed,
        )


def cited_ids(source: str, findings: pl.DataFrame) -> pl.Series:
    """The ids of a source's rows that findings name (``involved`` holds 'source:id')."""
    prefix = f"{source}:"
    return (
        findings.select(pl.col("involved").explode().drop_nulls())
        .filter(pl.col("involved").str.starts_with(prefix))
        .select(pl.col("involved").str.strip_prefix(prefix))
        .to_series()
    )


def outcome_rows(source: str, rows: pl.DataFrame, id_column: str, outcome: pl.Expr) -> pl.DataFrame:
    """(source, row_id, outcome, currency, amount_minor) of a source's rows: each row's outcome
    with its currency and control amount (``schemas.CONTROL_AMOUNT``), which the manifest's
    control totals add up."""
    return row_wise(
        rows.lazy().select(
            pl.lit(source).alias("source"),
            pl.col(id_column).alias("row_id"),
            outcome.alias("outcome"),
            pl.col("currency"),
            pl.col(CONTROL_AMOUNT[source]).alias("amount_minor"),
        )
    )


def judged_outcomes(
    source: str,
    rows: pl.DataFrame,
    id_column: str,
    findings: pl.DataFrame,
    pending: pl.Series | None = None,
) -> pl.DataFrame:
    """(source, row_id, outcome) of tonight's rows of a source: ``discrepancy`` when a finding
    names them (``involved``), ``pending`` when their id is among ``pending`` (still inside a
    window), else ``matched``."""
    cited = pl.col(id_column).is_in(cited_ids(source, findings).implode())
    discrepancy, pending_, matched = pl.lit("discrepancy"), pl.lit("pending"), pl.lit("matched")
    if pending is None:
        outcome = pl.when(cited).then(discrepancy).otherwise(matched)
    else:
        waits = pl.col(id_column).is_in(pending.implode())
        outcome = pl.when(cited).then(discrepancy).when(waits).then(pending_).otherwise(matched)
    return outcome_rows(source, rows, id_column, outcome)


def cited_outcomes(
    source: str, rows: pl.DataFrame, id_column: str, findings: pl.DataFrame
) -> pl.DataFrame:
    """Tonight's rows of a source that no window holds: ``discrepancy`` when a finding names
    them (``involved``), else ``matched``."""
    return judged_outcomes(source, rows, id_column, findings)
