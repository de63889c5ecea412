"""The HTML report a person reads: what broke tonight, what was resolved, and proof of the books."""

from __future__ import annotations

from typing import Any

import polars as pl
from jinja2 import Environment, PackageLoader, select_autoescape

from walletrecon import __version__
from walletrecon.ageing import BUCKETS
from walletrecon.manifest import SourceCounts
from walletrecon.match.common import decimal_text
from walletrecon.schemas import OUTCOMES, SEVERITIES

#: Severity -> its place when the most urgent come first.
SEVERITY_ORDER = {severity: rank for rank, severity in enumerate(reversed(SEVERITIES))}
SHOWN_ROWS = 500
SHOWN_REJECTED = 200


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("walletrecon", "templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )


def render_report(
    *,
    manifest: dict[str, Any],
    discrepancies: pl.DataFrame,
    tickets: pl.DataFrame,
    rejected: pl.DataFrame,
    counts: dict[str, SourceCounts],
    timezone: str,
) -> str:
    """Render the night's report."""
    rank = pl.col("severity").replace_strict(SEVERITY_ORDER, return_dtype=pl.Int32).alias("rank")
    # The most urgent rows shown: the first SHOWN_ROWS in order, without sorting every open row.
    shown = (
        discrepancies.with_columns(rank)
        .bottom_k(SHOWN_ROWS, by=["rank", "type", "discrepancy_id"])
        .sort("rank", "type", "discrepancy_id")
        .with_columns(
            decimal_text(
                pl.coalesce("difference", "actual_amount", "expected_amount"), "currency"
            ).alias("amount_text")
        )
    )
    by_type = (
        discrepancies.group_by("type", "severity")
        .agg(
            pl.len().alias("open"), (pl.col("first_seen") == pl.col("run_date")).sum().alias("new")
        )
        .join(
            tickets.select("type", "queue").unique(subset=["type"], keep="first"),
            on="type",
            how="left",
        )
        .with_columns(
            pl.col("severity").replace_strict(SEVERITY_ORDER, return_dtype=pl.Int32).alias("rank"),
        )
        .sort("rank", "type")
    )
    resolved = tickets.filter(pl.col("status") == "resolved")
    totals = {
        "open": discrepancies.height,
        "new": int((discrepancies["first_seen"] == discrepancies["run_date"]).sum()),
        "resolved": resolved.height,
        "pending": sum(item.pending for item in counts.values()),
        "rejected": sum(item.rejected for item in counts.values()),
    }
    template = _environment().get_template("report.html")
    return template.render(
        run_date=manifest["run_date"],
        version=__version__,
        timezone=timezone,
        config_hash=manifest["config_hash"],
        balanced=all(item.balanced for item in counts.values()),
        totals=totals,
        by_type=by_type.to_dicts(),
        outcomes={name: vars(item) for name, item in counts.items()},
        outcome_names=[*OUTCOMES, "updated"],
        inputs=manifest["inputs"],
        shown=shown.to_dicts(),
        resolved=resolved.to_dicts(),
        rejected=rejected.sort("origin_file", "origin_row").head(SHOWN_REJECTED).to_dicts(),
        timings=manifest["timings_seconds"],
        warnings=manifest.get("warnings", []),
        decisions=manifest.get("decisions", {}),
        ageing=manifest.get("ageing", {}),
        match_rates=manifest.get("match_rates", {}),
        buckets=[name for name, _, _ in BUCKETS],
    )
