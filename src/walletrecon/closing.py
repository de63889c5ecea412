"""The lifecycle stage of a night: people's decisions applied, breaks carried, opened and
resolved, suggested matches, tickets and the journal of write-offs, from the kernels' findings.

One function, ``close_breaks``, in the order the stage runs; what it returns is what the
manifest, the report and publishing need.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from walletrecon.config import Config
from walletrecon.decisions.apply import Applied, apply_decisions, found_again, suppressed
from walletrecon.decisions.book import Book, journal_lines
from walletrecon.decisions.model import Decision
from walletrecon.kernel import Night
from walletrecon.lifecycle import Lifecycle, advance, to_report_rows
from walletrecon.privacy import ids_of, mask_text
from walletrecon.suggestions import suggest
from walletrecon.tickets import build_tickets


@dataclass(frozen=True)
class Closing:
    """The night's breaks after the lifecycle stage."""

    life: Lifecycle
    decided: Applied
    #: The published discrepancy rows (ids whole) and tickets (ids masked when configured).
    report_rows: pl.DataFrame
    tickets: pl.DataFrame
    journal: pl.DataFrame

    def shown(self, config: Config) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The breaks and tickets as people see them (ids masked with ``[privacy] mask_ids``);
        the Parquet keeps them whole."""
        if not config.privacy.mask_ids:
            return self.report_rows, self.tickets
        ids = ids_of(self.report_rows, self.life.resolved, self.decided.closed)
        return mask_text(self.report_rows, ids), mask_text(self.tickets, ids)


def close_breaks(
    night: Night,
    book: Book,
    due: Sequence[Decision],
    void: Mapping[str, str],
    run_date: dt.date,
    config: Config,
) -> Closing:
    """Apply tonight's decisions, advance the breaks' lifecycle, suggest matches, build the
    tickets and the journal."""
    decided = apply_decisions(
        night.state.open_discrepancies, night.state.decided_discrepancies, due, run_date, void
    )
    life = advance(
        decided.open,
        night.state.resolved_discrepancies,
        night.findings,
        run_date,
        cleared=night.cleared,
        decided=suppressed(decided.decided),
    )
    decided = found_again(decided, life.open.get_column("discrepancy_id"))
    report_rows = to_report_rows(life.open, run_date, suggest(life.open, config.windows))
    tickets = build_tickets(
        report_rows, life.resolved, run_date, config.tickets, closed=decided.closed
    )
    return Closing(
        life=life,
        decided=decided,
        report_rows=report_rows,
        tickets=tickets,
        journal=journal_lines(decided.closed, book, run_date, config.decisions),
    )
