"""The report's charts: Vega-Lite specifications made with ``altair``, rendered to SVG by
``vl-convert`` (no browser, no network), inlined in the page so that it opens anywhere.

Each chart takes plain rows; a chart without data is not drawn (the page says so instead). The
first rendering starts vl-convert's engine (about a second): ``warm_up`` starts it in a thread
while the night runs.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import altair as alt
import vl_convert as vlc

from walletrecon.schemas import SEVERITIES

#: Severity colours, most urgent first (the page's palette).
SEVERITY_COLOURS = {"critical": "#b42318", "high": "#dc6803", "medium": "#eaaa08", "low": "#4e8c5f"}
WIDTH = 460
HEIGHT = 220
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"


def _svg(chart: alt.TopLevelMixin) -> str:
    configured = (
        chart.configure(font=FONT)
        .configure_view(stroke=None)
        .configure_axis(
            labelColor="#475467", titleColor="#475467", gridColor="#eaecf0", domainColor="#d0d5dd"
        )
    )
    # The specifications are made here from fixed code: schema validation would only cost time.
    return str(vlc.vegalite_to_svg(configured.to_dict(validate=False)))


def _data(rows: Sequence[dict[str, Any]]) -> alt.Data:
    """Rows inlined in the specification."""
    return alt.Data(values=list(rows))  # type: ignore[no-untyped-call]


def warm_up() -> threading.Thread:
    """Start the SVG renderer in a thread, so the report does not wait for it."""

    def render() -> None:
        _svg(alt.Chart(_data([{"x": 1}])).mark_point().encode(x="x:Q"))

    thread = threading.Thread(target=render, name="charts", daemon=True)
    thread.start()
    return thread


def breaks_by_type(rows: Sequence[dict[str, Any]]) -> str | None:
    """Open breaks per type, stacked by severity (rows: type, severity, open)."""
    if not rows:
        return None
    severity = alt.Color(
        "severity:N",
        scale=alt.Scale(domain=list(reversed(SEVERITIES)), range=list(SEVERITY_COLOURS.values())),
        legend=alt.Legend(orient="bottom", title=None),
    )
    chart = (
        alt.Chart(_data(rows))
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            y=alt.Y("type:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X("sum(open):Q", title="open breaks"),
            color=severity,
            tooltip=["type:N", "severity:N", "open:Q"],
        )
        .properties(width=WIDTH, height=max(120, 22 * len({row["type"] for row in rows})))
    )
    return _svg(chart)


def amount_at_risk(rows: Sequence[dict[str, Any]]) -> str | None:
    """Amount at stake in open breaks per currency and type, one panel per currency, each on
    its own scale (rows: currency, type, amount as a float for the bars only; the page's
    figures carry the exact decimals)."""
    if not rows:
        return None
    chart = (
        alt.Chart(_data(rows))
        .mark_bar(color="#1570ef", cornerRadiusEnd=2)
        .encode(
            y=alt.Y("type:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X("amount:Q", title=None),
            tooltip=["currency:N", "type:N", "label:N"],
        )
        .properties(width=WIDTH - 120, height=alt.Step(16))
        .facet(row=alt.Row("currency:N", title=None, header=alt.Header(labelAngle=0)))
        .resolve_scale(x="independent", y="independent")
    )
    return _svg(chart)


def ageing(rows: Sequence[dict[str, Any]], buckets: Sequence[str]) -> str | None:
    """Open breaks per ageing bucket, stacked by queue (rows: bucket, queue, count)."""
    if not any(row["count"] for row in rows):
        return None
    chart = (
        alt.Chart(_data(rows))
        .mark_bar()
        .encode(
            x=alt.X("bucket:N", sort=list(buckets), title="days open", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(count):Q", title="open breaks"),
            color=alt.Color("queue:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["bucket:N", "queue:N", "count:Q"],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return _svg(chart)


def trend(rows: Sequence[dict[str, Any]]) -> str | None:
    """Open, new and resolved breaks night by night (rows: night, measure, breaks)."""
    if not rows:
        return None
    base = alt.Chart(_data(rows)).encode(
        x=alt.X("night:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("breaks:Q", title="breaks"),
        color=alt.Color(
            "measure:N",
            scale=alt.Scale(
                domain=["open", "new", "resolved"], range=["#1570ef", "#dc6803", "#4e8c5f"]
            ),
            legend=alt.Legend(orient="bottom", title=None),
        ),
        tooltip=["night:O", "measure:N", "breaks:Q"],
    )
    chart = (base.mark_line() + base.mark_point(filled=True, size=30)).properties(
        width=WIDTH * 2 + 40, height=HEIGHT
    )
    return _svg(chart)
