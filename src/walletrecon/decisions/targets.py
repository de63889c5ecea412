"""What a decision can name: the breaks and tickets of the latest published night.

A decision names a ``discrepancy_id`` or a ``ticket_id`` (all the ticket's breaks). Its breaks are
looked up in the state the latest night left: the open breaks, the breaks closed by a decision
(which only ``reopen`` takes) and the breaks the data resolved. A name that is none of them, or a
break in the wrong state for the action, is refused with a message saying what it is.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from walletrecon.errors import UsageError
from walletrecon.history import state_dates, state_folder
from walletrecon.money import currency_exponents
from walletrecon.state import (
    APPLIED_DECISIONS,
    DECIDED_DISCREPANCIES,
    OPEN_DISCREPANCIES,
    RESOLVED_DISCREPANCIES,
    conform,
    empty,
)


def _read(folder: Path, name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    path = folder / f"{name}.parquet"
    return conform(pl.read_parquet(path), schema) if path.is_file() else empty(schema)


def applied_decisions(out: Path) -> pl.DataFrame:
    """The decisions the nights up to the latest have applied (from its state)."""
    nights = state_dates(out)
    if not nights:
        return empty(APPLIED_DECISIONS)
    return _read(state_folder(out, nights[-1]), "applied_decisions", APPLIED_DECISIONS)


@dataclass(frozen=True)
class Published:
    """The breaks and tickets of the latest published night."""

    out: Path
    night: dt.date
    open: pl.DataFrame
    decided: pl.DataFrame
    resolved: pl.DataFrame
    applied: pl.DataFrame
    #: ticket_id -> (status, discrepancy ids)
    tickets: dict[str, tuple[str, tuple[str, ...]]]

    @classmethod
    def read(cls, out: Path) -> Published:
        nights = state_dates(out)
        if not nights:
            raise UsageError(
                f"{out}: no night has been published yet; decisions name the breaks "
                "and tickets of a published night"
            )
        night = nights[-1]
        folder = state_folder(out, night)
        tickets: dict[str, tuple[str, tuple[str, ...]]] = {}
        path = out / "tickets" / f"run_date={night.isoformat()}" / "tickets.jsonl"
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                item = json.loads(line)
                tickets[item["ticket_id"]] = (item["status"], tuple(item["discrepancy_ids"]))
        return cls(
            out=out,
            night=night,
            open=_read(folder, "open_discrepancies", OPEN_DISCREPANCIES),
            decided=_read(folder, "decided_discrepancies", DECIDED_DISCREPANCIES),
            resolved=_read(folder, "resolved_discrepancies", RESOLVED_DISCREPANCIES),
            applied=_read(folder, "applied_decisions", APPLIED_DECISIONS),
            tickets=tickets,
        )

    def _has(self, frame: pl.DataFrame, identity: str) -> bool:
        return bool((frame.get_column("discrepancy_id") == identity).any())

    def breaks_of(self, target: str) -> tuple[str, ...]:
        """The breaks a target names; UsageError for a name that is neither a known break nor a
        ticket of the latest night."""
        if target in self.tickets:
            return self.tickets[target][1]
        if any(self._has(frame, target) for frame in (self.open, self.decided, self.resolved)):
            return (target,)
        raise UsageError(
            f"{target}: no such discrepancy_id or ticket_id in the latest night ({self.night}); "
            "see `walletrecon tickets` for the ids"
        )

    def where(self, identity: str) -> str:
        """Where a break stands: ``open``, ``decided`` (closed by a decision) or ``resolved``."""
        if self._has(self.open, identity):
            return "open"
        if self._has(self.decided, identity):
            return "decided"
        return "resolved"

    def describe_closed(self, identity: str) -> str:
        """Why a break is closed, in words."""
        decided = self.decided.filter(pl.col("discrepancy_id") == identity)
        if decided.height:
            row = decided.row(0, named=True)
            return (
                f"{identity} was closed as {row['resolution']} by {row['decision_id']} on "
                f"{row['decided_on']}"
            )
        resolved = self.resolved.filter(pl.col("discrepancy_id") == identity)
        days = resolved.get_column("resolved_on").drop_nulls().cast(pl.String).to_list()
        return f"{identity} was resolved by the data on {max(days) if days else 'an earlier night'}"

    def applied_ids(self) -> set[str]:
        """Decisions the latest night (or one before it) has applied."""
        return set(self.applied.get_column("decision_id").to_list())


def at_stake(rows: pl.DataFrame) -> dict[str, Decimal]:
    """Money at stake per currency: the sum over breaks of |actual - expected| (a side that is
    missing counts as zero), in major units."""
    if rows.is_empty():
        return {}
    sums = (
        rows.filter(pl.col("currency").is_not_null())
        .group_by("currency")
        .agg(
            (pl.col("actual_minor").fill_null(0) - pl.col("expected_minor").fill_null(0))
            .abs()
            .sum()
            .alias("minor")
        )
        .sort("currency")
    )
    exponents = currency_exponents()
    return {
        currency: Decimal(int(minor)).scaleb(-exponents.get(currency, 0))
        for currency, minor in sums.iter_rows()
    }
