"""Listing, filtering and exporting published tickets (``walletrecon tickets``).

Reads a night's ``tickets.jsonl`` (the latest night by default) and writes the chosen tickets as a
table for a person, JSON Lines, CSV, or a CSV that Jira's CSV importer takes as it is (Summary,
Issue Type, Priority, Description, Labels, Due Date, External ID).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from walletrecon.errors import UsageError
from walletrecon.spreadsheet import write_csv
from walletrecon.tickets import flatten

ExportFormat = Literal["table", "jsonl", "csv", "jira"]
JIRA_PRIORITY = {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low"}


@dataclass(frozen=True)
class TicketFilter:
    """Which tickets to keep; None keeps everything."""

    statuses: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    min_age_days: int | None = None


def latest_night(out: Path) -> dt.date:
    """The latest night with published tickets."""
    nights = sorted(path.parent.name for path in out.glob("tickets/run_date=*/tickets.jsonl"))
    if not nights:
        raise UsageError(f"{out}: no published tickets")
    return dt.date.fromisoformat(nights[-1].removeprefix("run_date="))


def read_tickets(out: Path, night: dt.date | None) -> pl.DataFrame:
    """The tickets published for a night (the latest when none is given)."""
    day = night or latest_night(out)
    path = out / "tickets" / f"run_date={day.isoformat()}" / "tickets.jsonl"
    if not path.is_file():
        raise UsageError(f"{path}: no tickets were published for {day}")
    if path.stat().st_size == 0:
        return pl.DataFrame(schema={"ticket_id": pl.String, "status": pl.String})
    return pl.read_ndjson(path, infer_schema_length=None)


#: Nights the summary's trend of match rates goes back.
TREND_NIGHTS = 30


def night_summary(out: Path, night: dt.date | None) -> str:
    """The ageing, match rates and decisions of a night (the latest by default), from its
    manifest."""
    from walletrecon.ageing import summary_text
    from walletrecon.audit import manifest_path, read_manifests

    day = night or latest_night(out)
    if not manifest_path(out, day).is_file():
        raise UsageError(f"{manifest_path(out, day)}: no manifest was published for {day}")
    # The night's own manifest is the last of its trend.
    trend = read_manifests(out, before=day + dt.timedelta(days=1), last=TREND_NIGHTS)
    return summary_text(trend[-1], trend)


def select(tickets: pl.DataFrame, wanted: TicketFilter) -> pl.DataFrame:
    """Tickets matching every given criterion."""
    keep = pl.lit(True)
    for column, values in (
        ("status", wanted.statuses),
        ("queue", wanted.queues),
        ("type", wanted.types),
    ):
        if values:
            keep = keep & pl.col(column).is_in(list(values))
    if wanted.min_age_days is not None:
        keep = keep & (pl.col("age_days") >= wanted.min_age_days)
    return tickets.filter(keep) if tickets.height else tickets


def jira_rows(tickets: pl.DataFrame) -> pl.DataFrame:
    """Tickets in the columns Jira's CSV importer maps without configuration."""
    description = pl.format(
        "{}\n\nType: {} · key: {} · amount: {} {} · opened {} · due {}\n\nSuggested action: {}",
        "summary",
        "type",
        "key",
        pl.col("amount").fill_null(""),
        pl.col("currency").fill_null(""),
        "opened_on",
        pl.col("due_date").fill_null(""),
        "suggested_action",
    )
    return tickets.select(
        pl.format("[{}] {} {}", "ticket_id", "type", "key").alias("Summary"),
        pl.lit("Task").alias("Issue Type"),
        pl.col("priority").replace_strict(JIRA_PRIORITY, default="Low").alias("Priority"),
        description.alias("Description"),
        pl.concat_str(
            [pl.lit("walletrecon"), pl.col("queue"), pl.col("type")], separator=" "
        ).alias("Labels"),
        pl.col("due_date").alias("Due Date"),
        pl.col("ticket_id").alias("External ID"),
    )


def export(tickets: pl.DataFrame, form: ExportFormat, include_resolved: bool = False) -> str:
    """The tickets as text in the chosen format.

    The Jira export leaves resolved tickets out (there is nothing left to do on them) unless
    ``include_resolved`` is set.
    """
    if form == "jsonl":
        return tickets.write_ndjson() if tickets.height else ""
    flat = flatten(tickets)
    if form == "csv":
        return write_csv(flat)
    if form == "jira":
        if not include_resolved and "status" in flat.columns:
            flat = flat.filter(pl.col("status") != "resolved")
        return write_csv(jira_rows(flat)) if flat.height else ""
    return plain_table(flat) + f"{flat.height} ticket(s)\n"


#: The columns of the table a person reads, in order.
TABLE_COLUMNS = (
    "ticket_id",
    "status",
    "priority",
    "queue",
    "type",
    "key",
    "age_days",
    "due_date",
    "amount",
    "currency",
    "assignee",
    "decisions",
)


def plain_table(tickets: pl.DataFrame, shown: tuple[str, ...] = TABLE_COLUMNS) -> str:
    """The tickets (or other rows) as a plain text table: a header, then one line per row, the
    ``shown`` columns aligned."""
    columns = [name for name in shown if name in tickets.columns]
    if not columns:
        return ""
    rows = [
        ["" if value is None else str(value) for value in row]
        for row in tickets.select(columns).iter_rows()
    ]
    widths = [max(len(text) for text in column) for column in zip(columns, *rows, strict=False)]
    return "".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in [columns, *rows]
    )
