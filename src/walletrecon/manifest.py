"""The manifest of one night: what was read, what became of every row, and proof that none was lost.

For every source, rows read = the sum of the counts of every outcome (``schemas.OUTCOMES``), and for
every currency the accepted amounts equal the sum of the amounts of each outcome. A night whose
books do not balance raises ReconciliationIntegrityError and publishes nothing.
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

import polars as pl

from walletrecon import __version__
from walletrecon.errors import ReconciliationIntegrityError
from walletrecon.history import key_hash
from walletrecon.match.common import money_text
from walletrecon.schemas import CONTROL_AMOUNT, OUTCOMES
from walletrecon.sources.canonical import FileRecord

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


def _fingerprint(ids: str) -> list[pl.Expr]:
    """Two sums that stand for a set of row ids, whatever their order: the high and the low 32
    bits of each id's xxhash64, added up (exact in 64 bits up to two billion rows). A row that
    is missing, counted twice or not one of the accepted rows changes them."""
    digest = key_hash(ids)
    return [
        (digest // 2**32).cast(pl.Int64).sum().alias("ids_high"),
        (digest % 2**32).cast(pl.Int64).sum().alias("ids_low"),
    ]


#: Rows, control amount and ids fingerprint per source, outcome and currency (``tally``).
TALLY_SCHEMA = pl.Schema(
    {
        "source": pl.String,
        "outcome": pl.String,
        "currency": pl.String,
        "rows": pl.Int64,
        "minor": pl.Int64,
        "ids_high": pl.Int64,
        "ids_low": pl.Int64,
    }
)
_SUMS = ("rows", "minor", "ids_high", "ids_low")


def tally(rows: pl.DataFrame | pl.LazyFrame, source: str | None = None) -> pl.DataFrame:
    """Rows added up per source, outcome and currency: their count, control amount and ids
    fingerprint (``TALLY_SCHEMA``): the few rows the books need.

    ``rows`` are either outcome rows (``kernels.outcome_rows``: source, row_id, outcome,
    currency, amount_minor) or, with ``source``, a source's accepted rows (row_id, currency and
    its ``CONTROL_AMOUNT`` column), whose outcome is null.
    """
    # Summed on the streaming engine, which groups millions of rows on every core (three times
    # faster than the in-memory group-by here).
    sums = [pl.len().alias("rows"), pl.col("amount_minor").sum().alias("minor")]
    if source is not None:
        # One source and no outcome: grouped by currency alone (constant keys slow a group-by).
        grouped = (
            rows.lazy()
            .select("currency", "row_id", pl.col(CONTROL_AMOUNT[source]).alias("amount_minor"))
            .group_by("currency")
            .agg(*sums, *_fingerprint("row_id"))
            .select(
                pl.lit(source).alias("source"), pl.lit(None, pl.String).alias("outcome"), pl.all()
            )
        )
    else:
        grouped = (
            rows.lazy()
            .group_by("source", "outcome", "currency")
            .agg(*sums, *_fingerprint("row_id"))
        )
    return grouped.collect(engine="streaming").cast(TALLY_SCHEMA)


def source_counts(
    files: list[FileRecord],
    rejected: pl.DataFrame,
    redelivered: dict[str, int],
    outcomes: pl.DataFrame,
    superseded: dict[str, int] | None = None,
    updated: dict[str, int] | None = None,
) -> dict[str, SourceCounts]:
    """Per-source counts; rows read come from the files, the rest from the frames (``outcomes``
    is the outcome rows' ``tally``)."""
    superseded, updated = superseded or {}, updated or {}
    per_outcome = outcomes.group_by("source", "outcome").agg(pl.col("rows").sum())
    found = {(source, outcome): int(rows) for source, outcome, rows in per_outcome.iter_rows()}
    counts: dict[str, SourceCounts] = {}
    for source in sorted({record.source for record in files}):
        counts[source] = SourceCounts(
            read=sum(record.rows_read for record in files if record.source == source),
            rejected=rejected.filter(pl.col("source") == source).height,
            redelivered=redelivered.get(source, 0),
            control=sum(record.control for record in files if record.source == source),
            superseded=superseded.get(source, 0),
            updated=updated.get(source, 0),
            **{name: found.get((source, name), 0) for name in OUTCOME_NAMES},
        )
    return counts


def _outcome_order(name: str) -> tuple[int, str]:
    """Where an outcome comes in OUTCOMES (anything else after them, by name)."""
    return (OUTCOMES.index(name) if name in OUTCOMES else len(OUTCOMES), name)


def control_totals(accepted: pl.DataFrame, outcomes: pl.DataFrame) -> dict[str, Any]:
    """Accepted amounts per source and currency, and the same amounts split by outcome (from
    the ``tally`` of the accepted rows and of the outcome rows)."""
    totals: dict[str, Any] = {}
    for source in sorted(set(accepted.get_column("source"))):
        per_currency: dict[str, Any] = {}
        mine = accepted.filter(pl.col("source") == source)
        for currency, accepted_minor in sorted(mine.select("currency", "minor").rows()):
            parts = outcomes.filter((pl.col("source") == source) & (pl.col("currency") == currency))
            found = {
                str(outcome): int(minor)
                for outcome, minor in parts.select("outcome", "minor").rows()
            }
            # In the order of OUTCOMES (group_by has none), so a re-run writes the same bytes.
            by_outcome = {name: found[name] for name in sorted(found, key=_outcome_order)}
            per_currency[currency] = {
                "accepted_minor": int(accepted_minor),
                "accepted": _money(int(accepted_minor), currency),
                "by_outcome_minor": by_outcome,
                "balanced": sum(by_outcome.values()) == accepted_minor,
            }
        totals[source] = per_currency
    return totals


def unaccounted(accepted: pl.DataFrame, outcomes: pl.DataFrame) -> list[str]:
    """Sources whose outcome rows are not exactly their accepted rows: per currency, the rows,
    amounts and ids fingerprints of the two ``tally`` frames differ (outcome rows of a currency
    no accepted row has included)."""
    keys = ["source", "currency"]
    sums = [pl.col(name).sum() for name in _SUMS]
    both = (
        accepted.group_by(keys)
        .agg(sums)
        .join(outcomes.group_by(keys).agg(sums), on=keys, how="full", coalesce=True)
    )
    differ = pl.any_horizontal(
        pl.col(name).fill_null(0) != pl.col(f"{name}_right").fill_null(0) for name in _SUMS
    )
    return sorted(set(both.filter(differ).get_column("source")))


def _money(minor: int, currency: str) -> str:
    frame = pl.DataFrame({"minor": [minor], "currency": [currency]})
    return str(frame.select(money_text(pl.col("minor"), "currency")).item())


def check_books(
    counts: dict[str, SourceCounts], totals: dict[str, Any], strangers: Sequence[str] = ()
) -> None:
    """Raise when any source's rows or control totals do not balance, or when the outcome rows
    of a source are not its accepted rows (``strangers``, as ``unaccounted`` finds them)."""
    problems = [
        f"{source}: {asdict(item)} do not add up"
        for source, item in counts.items()
        if not item.balanced
    ]
    problems += [
        f"{source}: the rows given an outcome are not the rows accepted" for source in strangers
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
