"""Remediation tickets: one per open discrepancy, routed to the team that can act on it.

A ticket's id is derived from its discrepancy's id, so it is stable across nights. Its status is
``new`` the night the break is first seen, ``open`` while it lasts, and ``resolved`` the first night
it is gone (with the reason).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

import polars as pl

from walletrecon.config import Tickets
from walletrecon.match.common import decimal_text, money_text

#: The handling process finance teams follow, step by step; each type fills in the steps.
STEPS = ("Confirm", "Record and classify", "Hand over", "Tell the customer", "Review")


def _steps(*actions: str) -> str:
    """A suggested action as the five handling steps, numbered."""
    return " ".join(
        f"{number}. {step}: {action}"
        for number, (step, action) in enumerate(zip(STEPS, actions, strict=True), start=1)
    )


#: type -> (queue, suggested action)
ROUTING: Mapping[str, tuple[str, str]] = {
    "balance_mismatch": (
        "finance_ops",
        _steps(
            "recompute the account from its postings since the last agreed balance.",
            "note the entry the balance engine missed or counted twice.",
            "tech support if the balance engine is at fault.",
            "correct the shown balance and tell the customer if they saw it.",
            "check the account's next snapshots.",
        ),
    ),
    "missing_in_settlement": (
        "gateway_ops",
        _steps(
            "ask the gateway for the settlement status of the reference.",
            "settled late, lost, or never sent.",
            "gateway operations to chase it; tech support if it was never sent.",
            "if it never settled, reverse or retry and tell the customer.",
            "check the gateway's settlement files for the same gap.",
        ),
    ),
    "missing_in_ledger": (
        "tech_support",
        _steps(
            "find the wallet transaction behind the gateway reference or receipt.",
            "a missing ledger entry, or a settlement that is not ours.",
            "tech support to post the entry; gateway operations to dispute a foreign one.",
            "credit or debit the customer once the entry is posted.",
            "look for a sync gap between the wallet and its ledger.",
        ),
    ),
    "payment_not_received": (
        "merchant_support",
        _steps(
            "ask the merchant whether the order was received and fulfilled.",
            "lost notification, or payment never delivered.",
            "tech support if the notification was never sent.",
            "re-send the notification, or refund the customer.",
            "check the merchant's other recent receipts.",
        ),
    ),
    "amount_mismatch": (
        "finance_ops",
        _steps(
            "compare the ledger amount with the gateway's or the merchant's.",
            "book the difference as a short or an over payment.",
            "gateway operations or the merchant to claim it back.",
            "refund or collect the difference from the customer if it was theirs.",
            "look for a pricing or rounding cause.",
        ),
    ),
    "fee_mismatch": (
        "gateway_ops",
        _steps(
            "recompute the fee from the contracted schedule.",
            "wrong fee, or net not following from gross and fee.",
            "gateway operations to raise a fee claim.",
            "no customer impact unless the fee was passed on.",
            "check the gateway's other lines of the same day.",
        ),
    ),
    "status_mismatch": (
        "tech_support",
        _steps(
            "money moved while the wallet shows the payment as not succeeded.",
            "status not updated, or a payment the user thinks failed.",
            "tech support to fix the status or refund.",
            "tell the customer whether they were charged.",
            "check the status callbacks from the gateway.",
        ),
    ),
    "duplicate": (
        "tech_support",
        _steps(
            "check whether the customer was charged twice.",
            "double submission, or a line or receipt sent twice.",
            "tech support to reverse the duplicate.",
            "refund the customer if they paid twice.",
            "fix the source of the double submission.",
        ),
    ),
    "currency_mismatch": (
        "gateway_ops",
        _steps(
            "compare the currency of the ledger entry and its counterpart.",
            "wrong routing, or a conversion not booked.",
            "gateway operations to correct the settlement currency.",
            "tell the customer if they were charged in another currency.",
            "check the currency routing of the gateway account.",
        ),
    ),
    "sync_delay": (
        "tech_support",
        _steps(
            "check the sync job between the wallet and the counterparty for backlog.",
            "a late but complete counterpart; no money is at risk.",
            "tech support if the delay keeps growing.",
            "no customer action unless the app shows stale data.",
            "watch the delay over the next nights.",
        ),
    ),
    "payout_mismatch": (
        "finance_ops",
        _steps(
            "compare the gateway's payout report with the bank statement.",
            "short, missing, or unknown payout.",
            "gateway operations or the bank to chase it.",
            "no customer action unless merchants' payouts are late.",
            "check the next payouts of the same gateway.",
        ),
    ),
}
PRIORITY = {"critical": "P1", "high": "P2", "medium": "P3", "low": "P4"}
RESOLUTION = {
    "balance_mismatch": "the reported balance agrees with the ledger again",
    "missing_in_settlement": "the settlement line arrived",
    "missing_in_ledger": "the ledger entry arrived",
    "payment_not_received": "the merchant receipt arrived",
    "payout_mismatch": "the payout and its bank line agree",
}

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
]


def _ticket_id(group: pl.Expr) -> pl.Expr:
    """A stable ticket id from a group key."""
    digest = group.map_elements(
        lambda value: hashlib.sha256(value.encode()).hexdigest()[:12].upper(),
        return_dtype=pl.String,
    )
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


def _grouped(items: pl.DataFrame) -> pl.DataFrame:
    """One ticket per group, led by its most urgent break."""
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
        (pl.col("opened_on").min() == pl.col("run_date").first()).alias("opened_tonight"),
    )


def _routing(column: str, index: int) -> pl.Expr:
    mapping = {kind: values[index] for kind, values in ROUTING.items()}
    return pl.col(column).replace_strict(mapping, return_dtype=pl.String)


def _queue(column: str, settings: Tickets) -> pl.Expr:
    mapping = {kind: settings.queues.get(kind, values[0]) for kind, values in ROUTING.items()}
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
    large = (amount >= threshold.cast(pl.Decimal(38, 4))).fill_null(False)
    raised = (rank - overdue.cast(pl.Int32) - large.cast(pl.Int32)).clip(1, 4)
    return pl.concat_str([pl.lit("P"), raised.cast(pl.String)])


def build_tickets(
    report_rows: pl.DataFrame, resolved: pl.DataFrame, run_date: dt.date, settings: Tickets
) -> pl.DataFrame:
    """Tickets for tonight's open discrepancies, and resolved tickets for breaks gone tonight.

    The due date is the night a break was first seen plus the days to fix of its severity; a
    ticket past its due date is escalated one priority step, and one more for a large amount.
    """
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
        _routing("type", 1).alias("suggested_action"),
        pl.lit(None, pl.String).alias("resolution"),
        "times_reopened",
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
        money_text(pl.col("expected_minor"), "currency")
        .cast(pl.Decimal(38, 4))
        .alias("amount_value"),
        pl.col("explanation").alias("summary"),
        _routing("type", 1).alias("suggested_action"),
        pl.col("type")
        .replace_strict(RESOLUTION, default="no longer found", return_dtype=pl.String)
        .alias("resolution"),
        pl.col("times_reopened").fill_null(0),
        pl.lit(run_date).alias("run_date"),
    )
    # A group's ticket is resolved only when none of its breaks is open any more.
    closed_items = closed_items.join(open_items.select("group"), on="group", how="anti")
    grouped = pl.concat(
        [_grouped(open_items), _grouped(closed_items)], how="vertical_relaxed"
    ).with_columns(
        _ticket_id(pl.col("group")).alias("ticket_id"),
        pl.when(pl.col("status") == "resolved")
        .then(pl.lit("resolved"))
        .when(pl.col("opened_tonight"))
        .then(pl.lit("new"))
        .otherwise(pl.lit("open"))
        .alias("status"),
        decimal_text(pl.col("amount_value"), "currency").alias("amount"),
        pl.when(pl.col("status") == "resolved").then(pl.col("resolution")).alias("resolution"),
    )
    tickets = grouped
    return tickets.select(TICKET_COLUMNS).sort("status", "priority", "ticket_id", nulls_last=True)
