"""Remediation tickets: one per open discrepancy, routed to the team that can act on it.

A ticket's id is derived from its discrepancy's id, so it is stable across nights. Its status is
``new`` the night the break is first seen, ``open`` while it lasts, and ``resolved`` the first night
it is gone (with the reason).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import polars_hash as plh

from walletrecon import kinds
from walletrecon.causes import CAUSE_COLUMNS, late_counterpart, with_cause_action
from walletrecon.config import Tickets
from walletrecon.match.common import decimal_text, money_decimal
from walletrecon.schemas import AMOUNT_DECIMAL, SEVERITIES

#: Severity -> ticket priority, P1 for the most urgent.
PRIORITY = {severity: f"P{rank}" for rank, severity in enumerate(reversed(SEVERITIES), start=1)}

TICKET_COLUMNS = [
    "ticket_id",
    "status",
    "discrepancy_ids",
    "type",
    "key",
    "queue",
    "priority",
    "severity",
    "due_date",
    "opened_on",
    "age_days",
    "currency",
    "amount",
    "summary",
    "suggested_action",
    "resolution",
    "times_reopened",
    "assignee",
    "decision_ids",
    "suggested_match",
    "suggestion_confidence",
    "suggestion_reason",
    *CAUSE_COLUMNS,
]


def flatten(tickets: pl.DataFrame) -> pl.DataFrame:
    """Tickets with their id lists (``discrepancy_ids``, ``decision_ids``) as space-separated
    text, for CSV and tables."""
    lists = [name for name, dtype in tickets.schema.items() if isinstance(dtype, pl.List)]
    return tickets.with_columns(
        pl.col(name).cast(pl.List(pl.String)).list.join(" ") for name in lists
    )


def _ticket_id(group: str) -> pl.Expr:
    """A stable ticket id from a group key: the first 12 hex digits of its SHA-256, upper-case."""
    digest = plh.col(group).chash.sha2_256().str.slice(0, 12).str.to_uppercase()
    return pl.concat_str([pl.lit("WR-"), digest])


def _group() -> pl.Expr:
    """Breaks a person handles together: a payout's breaks; one account's breaks of one type;
    any other break alone."""
    return (
        pl.when(pl.col("payout_id").is_not_null())
        .then(pl.concat_str([pl.lit("payout:"), pl.col("payout_id")]))
        .when(pl.col("account_id").is_not_null())
        .then(pl.concat_str([pl.lit("account:"), "account_id", pl.lit(":"), "type"]))
        .otherwise(pl.concat_str([pl.lit("break:"), "discrepancy_id"]))
    )


def _group_key() -> pl.Expr:
    """The key a grouped ticket shows: the payout, the account, or the break's own key."""
    return (
        pl.when(pl.col("payout_id").is_not_null())
        .then(pl.col("payout_id"))
        .when(pl.col("account_id").is_not_null())
        .then(pl.col("account_id"))
        .otherwise(pl.col("key"))
    )


def _many(items: pl.DataFrame) -> pl.DataFrame:
    """One ticket per group of several breaks, led by its most urgent break."""
    ordered = items.sort("priority", "ticket_key", "discrepancy_id", nulls_last=True)
    single_currency = pl.col("currency").drop_nulls().n_unique() <= 1
    total = pl.col("amount_value").sum()
    return ordered.group_by("group", maintain_order=True).agg(
        pl.col("status").first(),
        pl.col("discrepancy_id").sort().alias("discrepancy_ids"),
        pl.col("type").first(),
        pl.col("ticket_key").first().alias("key"),
        pl.col("queue").first(),
        pl.col("priority").first(),
        pl.col("severity").first(),
        pl.col("due_date").min(),
        pl.col("opened_on").min(),
        pl.col("age_days").max(),
        pl.when(single_currency).then(pl.col("currency").drop_nulls().first()).alias("currency"),
        pl.when(single_currency).then(total).alias("amount_value"),
        pl.when(pl.len() > 1)
        .then(
            pl.format(
                "{} breaks: {}",
                pl.len(),
                pl.col("summary").head(3).str.join(" | "),
            )
        )
        .otherwise(pl.col("summary").first())
        .alias("summary"),
        pl.col("suggested_action").first(),
        pl.col("resolution").drop_nulls().unique().sort().str.join("; ").alias("resolution"),
        pl.col("times_reopened").max(),
        pl.col("assignee").drop_nulls().unique().sort().str.join(", ").alias("assignee"),
        pl.col("suggested_match").first(),
        pl.col("suggestion_confidence").first(),
        pl.col("suggestion_reason").first(),
        pl.col("likely_cause").first(),
        pl.col("cause_confidence").first(),
        pl.col("decision_id").drop_nulls().unique().sort().alias("decision_ids"),
        (pl.col("opened_on").min() == pl.col("run_date").first()).alias("opened_tonight"),
    )


def _single(items: pl.DataFrame) -> pl.DataFrame:
    """One ticket per group of one break: what ``_many`` gives for such a group (an amount
    that is not known sums to 0; no resolution joins to the empty text), column by column."""
    derived = {
        "discrepancy_ids": pl.concat_list("discrepancy_id"),
        "key": pl.col("ticket_key"),
        "amount_value": pl.col("amount_value").fill_null(0),
        "resolution": pl.col("resolution").fill_null(""),
        "assignee": pl.col("assignee").fill_null(""),
        "decision_ids": pl.concat_list("decision_id").list.drop_nulls(),
        "opened_tonight": pl.col("opened_on") == pl.col("run_date"),
    }
    # The ticket's own columns the item carries as they are (the id and the amount's text are
    # made later, from the group and amount_value).
    kept = [name for name in TICKET_COLUMNS if name not in {*derived, "ticket_id", "amount"}]
    return items.select("group", *kept, *(value.alias(name) for name, value in derived.items()))


def _grouped(items: pl.DataFrame) -> pl.DataFrame:
    """One ticket per group. Most groups hold one break: they take a plain select, only the
    groups of several breaks a group-by (the order of tickets is set later, by their ids)."""
    alone = pl.len().over("group") == 1
    single, many = _single(items.filter(alone)), _many(items.filter(~alone))
    return pl.concat([single, many.select(single.columns).cast(single.schema)])


def _resolved_tonight(items: pl.DataFrame) -> pl.DataFrame:
    """(group, resolved_tonight) of the breaks resolved tonight in groups still open: each
    break's id and resolution (with its likely cause, as its own ticket would have said)."""
    named = pl.format("{}: {}", "discrepancy_id", "resolution")
    cause = pl.format(" (likely cause: {}, confidence {})", "likely_cause", "cause_confidence")
    return items.group_by("group").agg(
        pl.format(
            "Resolved tonight: {}.",
            pl.concat_str([named, cause.fill_null("")])
            .sort_by(pl.col("discrepancy_id"))
            .str.join("; "),
        ).alias("resolved_tonight")
    )


def _suggested_action(column: str) -> pl.Expr:
    """The kind's suggested action (its five handling steps)."""
    return pl.col(column).replace_strict(kinds.suggested_action_of(), return_dtype=pl.String)


def _queue(column: str, settings: Tickets) -> pl.Expr:
    """The queue the configuration routes a kind to, else the kind's own."""
    mapping = {kind: settings.queues.get(kind, queue) for kind, queue in kinds.queue_of().items()}
    return pl.col(column).replace_strict(mapping, return_dtype=pl.String)


def _priority(settings: Tickets, run_date: dt.date) -> pl.Expr:
    """P1..P4 from severity, one step higher when overdue, one more for a large amount."""
    rank = pl.col("severity").replace_strict(
        {severity: int(level[1]) for severity, level in PRIORITY.items()}, return_dtype=pl.Int32
    )
    overdue = pl.col("due_date") < pl.lit(run_date)
    amount = pl.coalesce("difference", "actual_amount", "expected_amount").abs()
    thresholds = {code: str(value) for code, value in settings.large_amount.items()}
    threshold = pl.col("currency").replace_strict(thresholds, default=None, return_dtype=pl.String)
    large = (amount >= threshold.cast(AMOUNT_DECIMAL)).fill_null(False)
    raised = (rank - overdue.cast(pl.Int32) - large.cast(pl.Int32)).clip(1, 4)
    return pl.concat_str([pl.lit("P"), raised.cast(pl.String)])


def build_tickets(
    report_rows: pl.DataFrame,
    resolved: pl.DataFrame,
    run_date: dt.date,
    settings: Tickets,
    closed: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Tickets for tonight's open discrepancies, and resolved tickets for breaks gone tonight:
    ``resolved`` by the data (the kind's resolution), ``closed`` by a person's decision (its
    ``resolution`` and ``decision_id``).

    The due date is the night a break was first seen plus the days to fix of its severity; a
    ticket past its due date is escalated one priority step, and one more for a large amount.
    """
    by_data = resolved.with_columns(
        **late_counterpart(
            pl.col("type").replace_strict(kinds.resolution_of(), return_dtype=pl.String)
        ),
        decision_id=pl.lit(None, pl.String),
    )
    if closed is not None and closed.height:
        resolved = pl.concat([by_data, closed.select(by_data.columns)], how="vertical_relaxed")
    else:
        resolved = by_data
    due_days = pl.col("severity").replace_strict(settings.due_days, return_dtype=pl.Int64)
    report_rows = report_rows.with_columns(
        (pl.col("first_seen") + pl.duration(days=due_days)).alias("due_date")
    )
    open_items = report_rows.select(
        _group().alias("group"),
        pl.lit("open").alias("status"),
        "discrepancy_id",
        "type",
        _group_key().alias("ticket_key"),
        _queue("type", settings).alias("queue"),
        _priority(settings, run_date).alias("priority"),
        "severity",
        "due_date",
        pl.col("first_seen").alias("opened_on"),
        "age_days",
        "currency",
        pl.coalesce("difference", "actual_amount", "expected_amount").alias("amount_value"),
        pl.col("explanation").alias("summary"),
        with_cause_action(_suggested_action("type")).alias("suggested_action"),
        pl.lit(None, pl.String).alias("resolution"),
        "times_reopened",
        "assignee",
        pl.lit(None, pl.String).alias("decision_id"),
        "suggested_match",
        pl.col("suggestion_confidence").cast(pl.String),
        "suggestion_reason",
        "likely_cause",
        pl.col("cause_confidence").cast(pl.String),
        pl.lit(run_date).alias("run_date"),
    )
    closed_items = resolved.select(
        _group().alias("group"),
        pl.lit("resolved").alias("status"),
        "discrepancy_id",
        "type",
        _group_key().alias("ticket_key"),
        _queue("type", settings).alias("queue"),
        pl.lit(None, pl.String).alias("priority"),
        pl.lit(None, pl.String).alias("severity"),
        pl.lit(None, pl.Date).alias("due_date"),
        pl.col("first_seen").alias("opened_on"),
        (pl.lit(run_date) - pl.col("first_seen")).dt.total_days().cast(pl.Int32).alias("age_days"),
        "currency",
        money_decimal(pl.col("expected_minor"), "currency").alias("amount_value"),
        pl.col("explanation").alias("summary"),
        _suggested_action("type").alias("suggested_action"),
        "resolution",
        pl.col("times_reopened").fill_null(0),
        "assignee",
        "decision_id",
        pl.lit(None, pl.String).alias("suggested_match"),
        pl.lit(None, pl.String).alias("suggestion_confidence"),
        pl.lit(None, pl.String).alias("suggestion_reason"),
        "likely_cause",
        pl.col("cause_confidence").cast(pl.String),
        pl.lit(run_date).alias("run_date"),
    )
    # A group's ticket is resolved only when none of its breaks is open any more; an open
    # group's breaks resolved tonight are named in its resolution.
    partly = _resolved_tonight(
        closed_items.join(open_items.select("group"), on="group", how="semi")
    )
    closed_items = closed_items.join(open_items.select("group"), on="group", how="anti")
    grouped = pl.concat(
        [_grouped(open_items), _grouped(closed_items)], how="vertical_relaxed"
    ).with_columns(
        _ticket_id("group").alias("ticket_id"),
        pl.when(pl.col("status") == "resolved")
        .then(pl.lit("resolved"))
        .when(pl.col("opened_tonight"))
        .then(pl.lit("new"))
        .otherwise(pl.lit("open"))
        .alias("status"),
        decimal_text(pl.col("amount_value"), "currency").alias("amount"),
        pl.when(pl.col("status") == "resolved").then(pl.col("resolution")).alias("resolution"),
    )
    tickets = grouped.join(partly, on="group", how="left").with_columns(
        pl.coalesce("resolution", "resolved_tonight").alias("resolution")
    )
    return tickets.select(TICKET_COLUMNS).sort("status", "priority", "ticket_id", nulls_last=True)
