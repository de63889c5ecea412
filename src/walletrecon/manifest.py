"""The manifest of one night: what was read, what became of every row, and proof that none was lost.

For every source, rows read = the sum of the counts of every outcome (``schemas.OUTCOMES``), and for
every currency the accepted amounts equal the sum of the amounts of each outcome. A night whose
books do not balance raises ReconciliationIntegrityError and publishes nothing.
"""

from __future__ import annotations

import datetime as dt
import platform
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

import polars as pl

from walletrecon import __version__
from walletrecon.errors import ReconciliationIntegrityError
from walletrecon.match.common import money_text
from walletrecon.schemas import OUTCOMES
from walletrecon.sources.canonical import FileRecord

#: The amount column whose control totals are kept, per source.
CONTROL_AMOUNT = {
    "ledger": "amount_minor",
    "settlement": "gross_minor",
    "receipts": "amount_minor",
    "bank": "amount_minor",
    "balances": "balance_minor",
}
OUTCOME_NAMES = ("matched", "discrepancy", "pending")


@dataclass(frozen=True)
class SourceCounts:
    """Row counts of one source for one night."""

    read: int
    rejected: int
    redelivered: int
    matched: int
    discrepancy: int
    pending: int
    #: Earlier versions of an entry that a later version of the same night replaced.
    superseded: int = 0
    #: Records that are totals, not transactions (payout lines, balances, trailers).
    control: int = 0
    #: Rows that were updates of an earlier version (CONTRACT section 1b). Not an outcome: each
    #: update is also counted as matched, discrepancy or pending (or superseded).
    updated: int = 0

    @property
    def balanced(self) -> bool:
        accounted: int = sum(getattr(self, outcome) for outcome in OUTCOMES)
        return self.read == accounted


def source_counts(
    files: list[FileRecord],
    rejected: pl.DataFrame,
    redelivered: dict[str, int],
    outcomes: dict[str, pl.DataFrame],
    superseded: dict[str, int] | None = None,
    updated: dict[str, int] | None = None,
) -> dict[str, SourceCounts]:
    """Per-source counts; rows read come from the files, the rest from the frames."""
    superseded, updated = superseded or {}, updated or {}
    counts: dict[str, SourceCounts] = {}
    for source in sorted({record.source for record in files}):
        per_outcome = _outcomes_of(outcomes, source).get_column("outcome").value_counts()
        by_name = dict(
            zip(per_outcome["outcome"].to_list(), per_outcome["count"].to_list(), strict=True)
        )
        counts[source] = SourceCounts(
            read=sum(record.rows_read for record in files if record.source == source),
            rejected=rejected.filter(pl.col("source") == source).height,
            redelivered=redelivered.get(source, 0),
            control=sum(record.control for record in files if record.source == source),
            superseded=superseded.get(source, 0),
            updated=updated.get(source, 0),
            **{name: int(by_name.get(name, 0)) for name in OUTCOME_NAMES},
        )
    return counts


def by_source(outcomes: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The outcomes of each source. The kernel lists them source by source, so each source's
    rows are one slice of the frame (no copy); otherwise they are picked out."""
    runs = outcomes.select(pl.col("source").rle()).unnest("source")
    sources = runs.get_column("value").to_list()
    if len(set(sources)) < len(sources):
        return {source: outcomes.filter(pl.col("source") == source) for source in set(sources)}
    slices, offset = {}, 0
    for source, length in zip(sources, runs.get_column("len").to_list(), strict=True):
        slices[source] = outcomes.slice(offset, length)
        offset += length
    return slices


def _outcomes_of(outcomes: dict[str, pl.DataFrame], source: str) -> pl.DataFrame:
    schema = {"source": pl.String, "row_id": pl.String, "outcome": pl.String}
    return outcomes.get(source, pl.DataFrame(schema=schema))


def _with_outcomes(amounts: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """Each accepted row with its outcome: side by side when both list the same rows in the
    same order (the kernel keeps that order), else by a join on the row id."""
    ids = amounts.get_column("row_id")
    if outcomes.height == amounts.height and outcomes.get_column("row_id").equals(ids):
        return amounts.with_columns(outcomes.get_column("outcome"))
    return amounts.join(outcomes.select("row_id", "outcome"), on="row_id", how="left")


def _outcome_order(name: str) -> tuple[int, str]:
    """Where an outcome comes in OUTCOMES (anything else after them, by name)."""
    return (OUTCOMES.index(name) if name in OUTCOMES else len(OUTCOMES), name)


def control_totals(
    accepted: dict[str, pl.DataFrame], outcomes: dict[str, pl.DataFrame]
) -> dict[str, Any]:
    """Accepted amounts per source and currency, and the same amounts split by outcome."""
    totals: dict[str, Any] = {}
    for source, rows in accepted.items():
        column = CONTROL_AMOUNT[source]
        amounts = rows.select("row_id", "currency", column)
        joined = _with_outcomes(amounts, _outcomes_of(outcomes, source))
        grouped = joined.group_by("currency", "outcome").agg(pl.col(column).sum().alias("minor"))
        accepted_by_currency = dict(
            amounts.group_by("currency").agg(pl.col(column).sum()).iter_rows()
        )
        per_currency: dict[str, Any] = {}
        for currency in sorted(accepted_by_currency):
            accepted_minor = int(accepted_by_currency[currency])
            parts = grouped.filter(pl.col("currency") == currency)
            found = {
                str(outcome): int(minor)
                for outcome, minor in parts.select("outcome", "minor").iter_rows()
            }
            # In the order of OUTCOMES (group_by has none), so a re-run writes the same bytes.
            by_outcome = {name: found[name] for name in sorted(found, key=_outcome_order)}
            per_currency[currency] = {
                "accepted_minor": accepted_minor,
                "accepted": _money(accepted_minor, currency),
                "by_outcome_minor": by_outcome,
                "balanced": sum(by_outcome.values()) == accepted_minor and "None" not in by_outcome,
            }
        totals[source] = per_currency
    return totals


def _money(minor: int, currency: str) -> str:
    frame = pl.DataFrame({"minor": [minor], "currency": [currency]})
    return str(frame.select(money_text(pl.col("minor"), "currency")).item())


def check_books(counts: dict[str, SourceCounts], totals: dict[str, Any]) -> None:
    """Raise when any source's rows or control totals do not balance."""
    problems = [
        f"{source}: {asdict(item)} do not add up"
        for source, item in counts.items()
        if not item.balanced
    ]
    for source, per_currency in totals.items():
        problems += [
            f"{source} {currency}: outcome totals do not add up to the accepted amount"
            for currency, entry in per_currency.items()
            if not entry["balanced"]
        ]
    if problems:
        raise ReconciliationIntegrityError("the books do not balance: " + "; ".join(problems))


def versions() -> dict[str, str]:
    """Versions of the engine and the libraries that shape its results."""
    found = {"walletrecon": __version__, "python": platform.python_version()}
    for package in ("polars", "duckdb", "pyarrow", "pydantic", "iso4217"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "unknown"
    return found


def build_manifest(
    run_date: dt.date,
    *,
    files: list[FileRecord],
    rejected: pl.DataFrame,
    counts: dict[str, SourceCounts],
    totals: dict[str, Any],
    discrepancies: dict[str, Any],
    carried: dict[str, Any],
    config_hash: str,
    timings: dict[str, float],
    peak_rss_mib: dict[str, int],
) -> dict[str, Any]:
    """The manifest document (JSON-ready)."""
    rejected_per_file = rejected.group_by("origin_file").len()
    per_file = dict(
        zip(
            rejected_per_file["origin_file"].to_list(),
            rejected_per_file["len"].to_list(),
            strict=True,
        )
    )
    return {
        "run_date": run_date.isoformat(),
        "inputs": [
            {**asdict(record), "rows_rejected": int(per_file.get(record.path, 0))}
            for record in files
        ],
        "outcomes": {
            source: {**asdict(item), "balanced": item.balanced} for source, item in counts.items()
        },
        "control_totals": totals,
        "discrepancies": discrepancies,
        "carried": carried,
        "config_hash": config_hash,
        "versions": versions(),
        "timings_seconds": {stage: round(seconds, 4) for stage, seconds in timings.items()},
        "peak_rss_mib_after_stage": dict(peak_rss_mib),
    }
