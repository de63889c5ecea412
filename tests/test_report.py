"""The night's HTML report: the open breaks it lists and their order."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from walletrecon import kinds
from walletrecon.report import SHOWN_ROWS, render_report
from walletrecon.schemas import DISCREPANCY_SCHEMA
from walletrecon.state import conform

RUN_DATE = dt.date(2026, 3, 2)
MANIFEST = {
    "run_date": RUN_DATE.isoformat(),
    "config_hash": "x",
    "inputs": [],
    "timings_seconds": {},
}


def _open_breaks(count: int) -> pl.DataFrame:
    """``count`` open breaks of every type in turn, with keys in no particular order."""
    types = sorted(kinds.severity_of())
    rows = [
        {
            "discrepancy_id": f"{(index * 7919) % 10_000:024d}",
            "type": types[index % len(types)],
            "severity": kinds.severity_of()[types[index % len(types)]],
            "key": f"K{index:05d}",
            "currency": "USD",
            "difference": "1.50",
            "first_seen": RUN_DATE,
            "run_date": RUN_DATE,
            "age_days": 0,
            "explanation": "why",
        }
        for index in range(count)
    ]
    frame = pl.DataFrame(rows).with_columns(pl.col("difference").cast(pl.Decimal(38, 4)))
    return conform(frame, DISCREPANCY_SCHEMA)


def _listed_keys(html: str) -> list[str]:
    return re.findall(r"<td>(K\d{5})</td>", html.split("<h2>Discrepancies")[1])


def test_the_report_lists_the_most_severe_breaks_first_up_to_its_limit() -> None:
    breaks = _open_breaks(SHOWN_ROWS + 240)
    rank = {severity: place for place, severity in enumerate(["critical", "high", "medium", "low"])}
    expected = (
        breaks.with_columns(
            pl.col("severity").replace_strict(rank, return_dtype=pl.Int32).alias("r")
        )
        .sort("r", "type", "discrepancy_id")
        .head(SHOWN_ROWS)
        .get_column("key")
        .to_list()
    )
    html = render_report(
        manifest=MANIFEST,
        discrepancies=breaks.sample(fraction=1.0, shuffle=True, seed=3),
        tickets=pl.DataFrame(schema={"type": pl.String, "queue": pl.String, "status": pl.String}),
        rejected=pl.DataFrame(schema={"origin_file": pl.String, "origin_row": pl.Int64}),
        counts={},
        timezone="UTC",
    )
    assert _listed_keys(html) == expected
    assert f"first {SHOWN_ROWS} of {breaks.height}" in html
    assert "1.50 USD" in html
