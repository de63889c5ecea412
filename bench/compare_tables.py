"""The Markdown tables of bench/compare.py: timings per night, a summary per tool, checksums.

Ratios are a tool's figure divided by walletrecon's on the same night: above 1 means walletrecon
was faster (or used less memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean
from typing import Any

from peers.common import RELATIONS

REFERENCE = "walletrecon"
#: The walletrecon source whose outcomes answer each relation of the peers.
SOURCE_OF = {
    "settlement": "settlement",
    "receipts": "receipts",
    "payouts": "bank",
    "balances": "balances",
}


@dataclass(frozen=True)
class Measurement:
    """One tool on one night: wall seconds, peak RSS (MiB) and what it printed as its checksum
    (walletrecon: the manifest's outcomes per source)."""

    night: str
    tool: str
    seconds: float
    rss_mib: int
    checksum: dict[str, dict[str, Any]]


def markdown(header: list[str], rows: list[list[str]], text_columns: int = 2) -> str:
    """A Markdown table; the columns after the first ``text_columns`` (numbers) right-aligned."""
    rule = ["---" if i < text_columns else "--:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def reference_of(measurements: list[Measurement]) -> dict[str, Measurement]:
    """walletrecon's measurement of each night."""
    return {m.night: m for m in measurements if m.tool == REFERENCE}


def timing_table(measurements: list[Measurement]) -> str:
    """Wall time and peak RSS of every tool on every night, with the ratios to walletrecon."""
    reference = reference_of(measurements)
    rows = []
    for m in measurements:
        base = reference[m.night]
        rows.append(
            [
                m.night,
                m.tool,
                f"{m.seconds:.2f}",
                f"{m.rss_mib:,}",
                f"{m.seconds / base.seconds:.2f}",
                f"{m.rss_mib / base.rss_mib:.2f}",
            ]
        )
    header = ["night", "tool", "wall s", "peak RSS MiB", "wall ÷ walletrecon", "RSS ÷ walletrecon"]
    return markdown(header, rows)


def summary_table(measurements: list[Measurement]) -> str:
    """Per tool over all nights: mean and range of wall time, largest RSS, the ratios' range."""
    reference = reference_of(measurements)
    rows = []
    for tool in dict.fromkeys(m.tool for m in measurements):
        mine = [m for m in measurements if m.tool == tool]
        seconds = [m.seconds for m in mine]
        ratios = [m.seconds / reference[m.night].seconds for m in mine]
        rss_ratios = [m.rss_mib / reference[m.night].rss_mib for m in mine]
        rows.append(
            [
                tool,
                f"{mean(seconds):.2f} ({min(seconds):.2f}-{max(seconds):.2f})",
                f"{max(m.rss_mib for m in mine):,}",
                f"{min(ratios):.2f}-{max(ratios):.2f}",
                f"{min(rss_ratios):.2f}-{max(rss_ratios):.2f}",
            ]
        )
    header = ["tool", "wall s a night, mean (range)", "largest peak RSS MiB"]
    return markdown([*header, "wall ÷ walletrecon", "RSS ÷ walletrecon"], rows, text_columns=1)


def cell(m: Measurement, relation: str) -> str:
    """One relation's counts: a peer's 'agree / differ · left / right', walletrecon's
    'matched / discrepancy · pending' of the answering source."""
    if m.tool == REFERENCE:
        outcome = m.checksum[SOURCE_OF[relation]]
        return f"{outcome['matched']:,} / {outcome['discrepancy']:,} · {outcome['pending']:,}"
    counts = m.checksum.get(relation)
    if counts is None:
        return "-"
    return (
        f"{counts['agree']:,} / {counts['differ']:,} · "
        f"{counts['left_only']:,} / {counts['right_only']:,}"
    )


def checksum_table(measurements: list[Measurement]) -> str:
    """What each tool counted per relation and night: proof that each did the work."""
    legend = (
        "Checksums. Peers: pairs that agree / differ · rows left unpaired on the left "
        "(ledger, payouts, postings) / right (settlement, receipts, bank, balances). "
        "walletrecon: rows of the answering source (settlement, receipts, bank, balances) "
        "matched / discrepancy · pending."
    )
    rows = [[m.night, m.tool, *(cell(m, r) for r in RELATIONS)] for m in measurements]
    return legend + "\n\n" + markdown(["night", "tool", *RELATIONS], rows)
