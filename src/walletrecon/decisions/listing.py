"""``walletrecon decide list``: every decision with the state it has now.

A decision's state is that of its own line, then of the last review of it (``approved``,
``rejected``), then ``applied`` once a published night has applied it (the night and whether it
was ``applied`` or ``void`` are shown beside it).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from walletrecon.decisions.log import log_path, read_log
from walletrecon.decisions.model import REVIEWS
from walletrecon.decisions.targets import applied_decisions
from walletrecon.spreadsheet import write_csv
from walletrecon.ticket_export import plain_table

LIST_COLUMNS: dict[str, pl.DataType] = {
    "decision_id": pl.String(),
    "at": pl.String(),
    "user": pl.String(),
    "action": pl.String(),
    "target": pl.String(),
    "state": pl.String(),
    "reason": pl.String(),
    "amount": pl.String(),
    "currency": pl.String(),
    "breaks": pl.String(),
    "until": pl.String(),
    "assignee": pl.String(),
    "reviewed_by": pl.String(),
    "applied_on": pl.String(),
    "outcome": pl.String(),
}
#: What the table shows of each decision.
TABLE = (
    "decision_id",
    "state",
    "action",
    "target",
    "user",
    "reviewed_by",
    "amount",
    "currency",
    "applied_on",
    "reason",
)


def decision_rows(out: Path, states: tuple[str, ...] = ()) -> pl.DataFrame:
    """The decisions, oldest first, with their state now (only ``states``, when given)."""
    log = read_log(out)
    current = log.states()
    reviewers = {item.target: item.user for item in log.decisions if item.action in REVIEWS}
    applied = {
        row["decision_id"]: (str(row["applied_on"]), row["outcome"])
        for row in applied_decisions(out).iter_rows(named=True)
    }
    rows = []
    for decision in log.decisions:
        if decision.action in REVIEWS:
            continue
        on, outcome = applied.get(decision.decision_id, ("", ""))
        rows.append(
            {
                "decision_id": decision.decision_id,
                "at": decision.at,
                "user": decision.user,
                "action": decision.action,
                "target": decision.target,
                "state": "applied" if on else current[decision.decision_id],
                "reason": decision.reason,
                "amount": None if decision.amount is None else str(decision.amount),
                "currency": decision.currency,
                "breaks": " ".join(decision.breaks),
                "until": None if decision.until is None else decision.until.isoformat(),
                "assignee": decision.assignee,
                "reviewed_by": reviewers.get(decision.decision_id),
                "applied_on": on or None,
                "outcome": outcome or None,
            }
        )
    frame = pl.DataFrame(rows, schema=LIST_COLUMNS) if rows else pl.DataFrame(schema=LIST_COLUMNS)
    return frame.filter(pl.col("state").is_in(list(states))) if states else frame


def with_decisions(out: Path, tickets: pl.DataFrame) -> pl.DataFrame:
    """Tickets with a ``decisions`` column: every decision on the ticket or one of its breaks,
    as ``DEC-000002 write-off proposed``, oldest first (empty when there are none)."""
    if not log_path(out).is_file() or "discrepancy_ids" not in tickets.columns:
        return tickets
    rows = decision_rows(out)
    if rows.is_empty():
        return tickets
    named = (
        rows.with_columns(pl.col("breaks").str.split(" ").alias("break"))
        .explode("break")
        .select(
            "decision_id",
            "target",
            "break",
            pl.format("{} {} {}", "decision_id", "action", "state").alias("said"),
        )
    )
    items = tickets.select("ticket_id", "discrepancy_ids").explode("discrepancy_ids")
    by_break = items.join(named, left_on="discrepancy_ids", right_on="break").select(
        "ticket_id", "decision_id", "said"
    )
    by_ticket = named.join(
        tickets.select("ticket_id"), left_on="target", right_on="ticket_id"
    ).select(pl.col("target").alias("ticket_id"), "decision_id", "said")
    said = (
        pl.concat([by_break, by_ticket])
        .unique(["ticket_id", "decision_id"])
        .sort("decision_id")
        .group_by("ticket_id")
        .agg(pl.col("said").str.join("; ").alias("decisions"))
    )
    return tickets.join(said, on="ticket_id", how="left", maintain_order="left").with_columns(
        pl.col("decisions").fill_null("")
    )


def render(rows: pl.DataFrame, form: str) -> str:
    """The decisions as a table, CSV (formulas quoted) or JSON Lines."""
    if form == "jsonl":
        return rows.write_ndjson() if rows.height else ""
    if form == "csv":
        return write_csv(rows)
    return plain_table(rows, TABLE) + f"{rows.height} decision(s)\n"
