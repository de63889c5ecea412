"""The HTML report a person reads: what broke tonight, what was resolved, and proof of the books."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, PackageLoader, select_autoescape

from walletrecon import __version__
from walletrecon import charts as chart_svg
from walletrecon.ageing import BUCKETS
from walletrecon.audit import read_manifests
from walletrecon.manifest import SourceCounts
from walletrecon.match.common import decimal_text
from walletrecon.modes import owner_writable
from walletrecon.publish import stale_nights
from walletrecon.report_model import TREND_NIGHTS, night_report
from walletrecon.schemas import OUTCOMES, SEVERITIES

#: Severity -> its place when the most urgent come first.
SEVERITY_ORDER = {severity: rank for rank, severity in enumerate(reversed(SEVERITIES))}
SHOWN_ROWS = 500
SHOWN_REJECTED = 200


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """The templates' environment, made once: it compiles each template once a process."""
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
    earlier: Sequence[dict[str, Any]] = (),
    draw_charts: bool = True,
) -> str:
    """Render the night's report: headline figures, charts (``charts``), the breaks, decisions,
    rejected rows and control totals; ``earlier`` are the manifests of the nights before it,
    oldest first, for the trend."""
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
    figures = night_report(manifest, discrepancies, rejected, list(earlier))
    charts = (
        {
            "by_type": chart_svg.breaks_by_type(
                by_type.select("type", "severity", "open").to_dicts()
            ),
            "at_risk": chart_svg.amount_at_risk(figures.at_risk_rows),
            "ageing": chart_svg.ageing(figures.ageing_rows, figures.buckets),
            "trend": chart_svg.trend(figures.trend_rows),
        }
        if draw_charts
        else None
    )
    template = _environment().get_template("report.html")
    return template.render(
        figures=figures,
        charts=charts,
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


def render_index(manifests: Sequence[dict[str, Any]], stale: set[str]) -> str:
    """The index of the nights' reports, newest first, with each night's headline figures."""
    nights = [
        {
            "run_date": manifest["run_date"],
            "open": manifest.get("discrepancies", {}).get("open", 0),
            "new": manifest.get("discrepancies", {}).get("new", 0),
            "resolved": manifest.get("discrepancies", {}).get("resolved", 0),
            "decisions": manifest.get("decisions", {}).get("applied", 0),
            "read": sum(item.get("read", 0) for item in manifest.get("outcomes", {}).values()),
            "rejected": sum(
                item.get("rejected", 0) for item in manifest.get("outcomes", {}).values()
            ),
            "stale": manifest["run_date"] in stale,
        }
        for manifest in sorted(manifests, key=lambda item: item["run_date"], reverse=True)
    ]
    return _environment().get_template("index.html").render(nights=nights)


def earlier_manifests(out: Path, run_date: dt.date) -> list[dict[str, Any]]:
    """The manifests of the last nights published before this one, oldest first (the trend)."""
    return read_manifests(out, before=run_date, last=TREND_NIGHTS - 1)


def write_index(out: Path) -> Path:
    """Write ``OUT/report/index.html`` anew (atomically: a file renamed into place)."""
    manifests = read_manifests(out)
    stale = {night.isoformat() for night in stale_nights(out, dt.date.max)}
    target = out / "report" / "index.html"
    temporary = target.with_name(f".index-{uuid.uuid4().hex[:8]}.html")
    with owner_writable():
        temporary.write_text(render_index(manifests, stale), encoding="utf-8")
        os.replace(temporary, target)
    return target
