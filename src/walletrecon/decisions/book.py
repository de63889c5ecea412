"""Which decisions a night applies, and the journal lines of its write-offs.

A night applies the decisions recorded before it started: it takes the log as it is when the
night begins (under the output folder's lock) and records in its manifest how many lines it took
and the hash of the last. A re-run of a published night takes the same lines again, so decisions
recorded since never change a night already published: they go to the next night. A log shorter
than a night took, or whose line there has another hash, was edited: the night stops (exit 2).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from walletrecon.config import Decisions
from walletrecon.decisions.apply import Applied
from walletrecon.decisions.log import Log, log_path, read_log
from walletrecon.decisions.model import ACTIONS, REVIEWS, Decision, needs_approval
from walletrecon.errors import StateError
from walletrecon.match.common import decimal_text, money_decimal
from walletrecon.spreadsheet import write_csv

#: The columns of ``OUT/journal/run_date=D/adjustments.csv``, one line per written-off break.
JOURNAL_COLUMNS: dict[str, pl.DataType] = {
    "journal_date": pl.Date(),
    "decision_id": pl.String(),
    "discrepancy_id": pl.String(),
    "type": pl.String(),
    "account_id": pl.String(),
    "txn_id": pl.String(),
    "gateway_ref": pl.String(),
    "payout_id": pl.String(),
    "currency": pl.String(),
    "amount": pl.String(),
    "debit_account": pl.String(),
    "credit_account": pl.String(),
    "memo": pl.String(),
    "decided_by": pl.String(),
    "approved_by": pl.String(),
}


@dataclass(frozen=True)
class Book:
    """The part of the decision log a night takes."""

    log: Log

    @property
    def lines(self) -> int:
        return len(self.log.decisions)

    def due(self, applied_before: pl.DataFrame, settings: Decisions) -> list[Decision]:
        """Approved decisions that no earlier night applied, in the log's order."""
        done = set(applied_before.get_column("decision_id").to_list())
        return [
            decision
            for decision, state in self._states(settings)
            if state == "approved" and decision.decision_id not in done
        ]

    def waiting(self, settings: Decisions) -> int:
        """Decisions waiting for a second person."""
        return sum(1 for _, state in self._states(settings) if state == "proposed")

    def _states(self, settings: Decisions) -> list[tuple[Decision, str]]:
        """Each decision (not a review) with its state. A decision recorded as approved that
        the night's own ``approval_above`` says needs a second person (recorded without the
        configuration, or before the threshold was lowered) waits as proposed: the control
        holds whatever the command that recorded it was given."""
        states = self.log.states()
        reviewed = {item.target for item in self.log.decisions if item.action in REVIEWS}
        listed = []
        for decision in self.log.decisions:
            if decision.action not in ACTIONS:
                continue
            state = states[decision.decision_id]
            unreviewed = decision.decision_id not in reviewed
            if unreviewed and needs_approval(
                decision.action, decision.amounts, settings.approval_above
            ):
                state = "proposed"
            listed.append((decision, state))
        return listed

    def approvers(self) -> dict[str, str]:
        """Who approved each approved proposal."""
        return {
            decision.target: decision.user
            for decision in self.log.decisions
            if decision.action in REVIEWS and decision.state == "approved"
        }


def book_for_night(out: Path, run_date: dt.date) -> Book:
    """The decisions a night takes: the whole log, or on a re-run what the night took before."""
    log = read_log(out)
    manifest = out / "manifest" / f"run_date={run_date.isoformat()}" / "manifest.json"
    if not manifest.is_file():
        return Book(log)
    taken = json.loads(manifest.read_text(encoding="utf-8")).get("decisions")
    if not isinstance(taken, dict) or "log_lines" not in taken:
        return Book(log.head(0))  # published before decisions existed: it took none
    lines, last = int(taken["log_lines"]), str(taken["log_sha256"])
    head = log.head(lines)
    if len(head.decisions) < lines or head.last_sha256 != last:
        raise StateError(
            f"{log_path(out)}: night {run_date} applied its first {lines} line(s), ending in "
            f"SHA-256 {last[:12]}..., but the log now has {len(log.decisions)} line(s) ending "
            f"there in {head.last_sha256[:12]}...: the log was cut or edited. Restore it from a "
            "backup before re-running the night."
        )
    return Book(head)


def manifest_section(
    book: Book, applied: Applied, journal: pl.DataFrame, settings: Decisions
) -> dict[str, Any]:
    """What the manifest says of the night's decisions: the log lines taken (and the hash of
    the last), the decisions applied or void, the breaks they closed and opened again, and the
    journal's lines and totals per currency."""
    done = applied.applied
    counts = done.group_by("action", "outcome").len().sort("action", "outcome")
    closed = applied.closed.group_by("resolution").len().sort("resolution")
    totals: dict[str, Decimal] = {}
    for currency, amount in journal.select("currency", "amount").iter_rows():
        totals[currency] = totals.get(currency, Decimal(0)) + Decimal(amount)
    return {
        "log_lines": book.lines,
        "log_sha256": book.log.last_sha256,
        "applied": int((done.get_column("outcome") == "applied").sum()),
        "void": int((done.get_column("outcome") == "void").sum()),
        "by_action": {
            f"{action} {outcome}": int(count) for action, outcome, count in counts.iter_rows()
        },
        "closed": {str(resolution): int(count) for resolution, count in closed.iter_rows()},
        "reopened": len(applied.reopened),
        "waiting_for_approval": book.waiting(settings),
        "decision_ids": done.get_column("decision_id").to_list(),
        "journal_lines": journal.height,
        "journal_totals": {currency: str(totals[currency]) for currency in sorted(totals)},
    }


def hand_matches(book: Book, applied: Applied) -> dict[str, int]:
    """Items paired by hand tonight, per counterpart source (``settlement``, ``receipts``,
    ``bank``)."""
    decisions = book.log.by_id()
    made = applied.applied.filter(
        (pl.col("action") == "match") & (pl.col("outcome") == "applied")
    ).get_column("decision_id")
    counts: dict[str, int] = {}
    for identity in made.to_list():
        source = decisions[identity].counterpart_source or "settlement"
        counts[source] = counts.get(source, 0) + 1
    return counts


def journal_lines(
    closed: pl.DataFrame, book: Book, run_date: dt.date, settings: Decisions
) -> pl.DataFrame:
    """One journal line per break written off tonight: the amount at stake, debited to the
    write-off account and credited to suspense for a shortfall (actual below expected), the
    other way round for a surplus."""
    written = closed.filter(pl.col("resolution") == "written_off")
    decisions = book.log.by_id()
    approvers = book.approvers()
    people = pl.DataFrame(
        {
            "decision_id": list(decisions),
            "decided_by": [item.user for item in decisions.values()],
            "approved_by": [approvers.get(key) for key in decisions],
            "reason": [item.reason for item in decisions.values()],
        },
        schema={
            name: pl.String() for name in ("decision_id", "decided_by", "approved_by", "reason")
        },
    )
    signed = pl.col("actual_minor").fill_null(0) - pl.col("expected_minor").fill_null(0)
    shortfall = signed < 0
    expense, suspense = pl.lit(settings.write_off_account), pl.lit(settings.suspense_account)
    lines = written.join(people, on="decision_id", how="left").select(
        pl.lit(run_date).alias("journal_date"),
        "decision_id",
        "discrepancy_id",
        "type",
        "account_id",
        "txn_id",
        "gateway_ref",
        "payout_id",
        "currency",
        decimal_text(money_decimal(signed.abs(), "currency"), "currency").alias("amount"),
        pl.when(shortfall).then(expense).otherwise(suspense).alias("debit_account"),
        pl.when(shortfall).then(suspense).otherwise(expense).alias("credit_account"),
        pl.format("write-off {}: {}", "decision_id", "reason").alias("memo"),
        "decided_by",
        "approved_by",
    )
    return lines.cast(JOURNAL_COLUMNS).sort("decision_id", "discrepancy_id")  # type: ignore[arg-type]


def write_journal(path: Path, lines: pl.DataFrame) -> None:
    """The journal as CSV for the general ledger (cells that would run as formulas quoted)."""
    write_csv(lines, path)
