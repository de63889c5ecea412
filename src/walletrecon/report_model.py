"""The night's figures for the report, apart from their rendering (``report.render_report``):
headline figures, the charts' rows, the largest and oldest breaks, rejected rows by reason,
control totals and the trend over the last nights, as one typed object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl

from walletrecon.ageing import BUCKETS, percent
from walletrecon.causes import CAUSE_COLUMNS
from walletrecon.match.common import decimal_text
from walletrecon.money import plain_decimal
from walletrecon.schemas import SEVERITIES

#: Breaks in the tables of the largest and the oldest.
TOP_BREAKS = 20
#: Breaks of each currency in the table of the largest (amounts of two currencies do not
#: compare).
LARGEST_PER_CURRENCY = 5
#: Nights the trend goes back.
TREND_NIGHTS = 30


@dataclass(frozen=True)
class Headline:
    """The figures above the charts (the counts of breaks and rows come from the manifest)."""

    by_severity: dict[str, int]
    #: relation -> automatic match share as a percentage text.
    match_rates: dict[str, str]
    #: currency -> amount at stake in open breaks (exact decimal text).
    at_risk: dict[str, str]


@dataclass(frozen=True)
class NightReport:
    """Everything the page shows of one night."""

    run_date: str
    headline: Headline
    at_risk_rows: list[dict[str, Any]]
    ageing_rows: list[dict[str, Any]]
    trend_rows: list[dict[str, Any]]
    largest: list[dict[str, Any]]
    oldest: list[dict[str, Any]]
    rejected_by_reason: list[dict[str, Any]]
    control_totals: list[dict[str, Any]]
    buckets: list[str] = field(default_factory=lambda: [name for name, _, _ in BUCKETS])


def _amount(frame: pl.DataFrame) -> pl.DataFrame:
    amount = pl.coalesce("difference", "actual_amount", "expected_amount").abs()
    return frame.with_columns(
        amount.alias("at_stake"),
        decimal_text(amount, "currency").alias("at_stake_text"),
    )


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    columns = [
        "type",
        "severity",
        "key",
        "account_id",
        "currency",
        "at_stake_text",
        "age_days",
        "first_seen",
        "explanation",
        "evidence",
        "suggested_match",
        "suggestion_confidence",
        "suggestion_reason",
        *CAUSE_COLUMNS,
        "assignee",
    ]
    return frame.select([name for name in columns if name in frame.columns]).to_dicts()


def _at_risk_rows(breaks: pl.DataFrame) -> list[dict[str, Any]]:
    """(currency, type, amount, label) of the open breaks' amounts at stake; the amount as a
    float for the chart's bars only, the label exact."""
    sums = (
        breaks.filter(pl.col("currency").is_not_null() & pl.col("at_stake").is_not_null())
        .group_by("currency", "type")
        .agg(pl.col("at_stake").sum())
        .filter(pl.col("at_stake") > 0)
        .sort("currency", "type")
    )
    return [
        {
            "currency": currency,
            "type": kind,
            "amount": float(total),
            "label": f"{plain_decimal(Decimal(str(total)))} {currency}",
        }
        for currency, kind, total in sums.iter_rows()
    ]


def _trend(manifest: dict[str, Any], earlier: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for night in [*earlier[-(TREND_NIGHTS - 1) :], manifest]:
        figures = night.get("discrepancies", {})
        for measure in ("open", "new", "resolved"):
            rows.append(
                {"night": night["run_date"], "measure": measure, "breaks": figures.get(measure, 0)}
            )
    return rows


def night_report(
    manifest: dict[str, Any],
    discrepancies: pl.DataFrame,
    rejected: pl.DataFrame,
    earlier: list[dict[str, Any]],
) -> NightReport:
    """The figures of a night from its manifest, its open breaks, its rejected rows and the
    manifests of the nights before it (oldest first)."""
    breaks = _amount(discrepancies)
    risk = (
        breaks.filter(pl.col("currency").is_not_null())
        .group_by("currency")
        .agg(pl.col("at_stake").sum())
        .sort("currency")
    )
    at_risk = {
        currency: plain_decimal(Decimal(str(total)))
        for currency, total in risk.iter_rows()
        if total is not None
    }
    rates = manifest.get("match_rates", {})
    headline = Headline(
        by_severity={
            severity: int((breaks.get_column("severity") == severity).sum())
            for severity in reversed(SEVERITIES)
        },
        match_rates={
            relation: percent(figures["automatic_rate"]) for relation, figures in rates.items()
        },
        at_risk=at_risk,
    )
    ageing_rows = [
        {"bucket": bucket, "queue": queue, "count": cells["count"]}
        for queue, currencies in manifest.get("ageing", {}).items()
        for cells_by_bucket in currencies.values()
        for bucket, cells in cells_by_bucket.items()
    ]
    reasons = (
        rejected.group_by("source", "reason")
        .agg(pl.len().alias("rows"))
        .sort("rows", descending=True)
        if rejected.height and {"source", "reason"} <= set(rejected.columns)
        else pl.DataFrame()
    )
    totals = [
        {"source": source, "currency": currency, **figures}
        for source, currencies in manifest.get("control_totals", {}).items()
        for currency, figures in currencies.items()
    ]
    return NightReport(
        run_date=manifest["run_date"],
        headline=headline,
        at_risk_rows=_at_risk_rows(breaks),
        ageing_rows=ageing_rows,
        trend_rows=_trend(manifest, earlier),
        largest=_rows(
            breaks.filter(pl.col("at_stake").is_not_null())
            .sort("currency", "at_stake", descending=[False, True])
            .group_by("currency", maintain_order=True)
            .head(LARGEST_PER_CURRENCY)
        ),
        oldest=_rows(
            breaks.sort("age_days", "discrepancy_id", descending=[True, False]).head(TOP_BREAKS)
        ),
        rejected_by_reason=reasons.head(50).to_dicts() if reasons.height else [],
        control_totals=totals,
    )
