"""Ageing of the open breaks and match rates per relation: figures finance teams track night by
night, in the manifest (``ageing``, ``match_rates``) and in ``walletrecon tickets --summary``.

Ageing: the open breaks per queue and currency in the buckets of ``BUCKETS`` (days since first
seen), with their count and the amount at stake (|difference|, or the one amount a break has).

Match rates, per relation (``RELATIONS``): of tonight's rows of the counterpart source, those
the rules matched (``automatic``), those still open (a break or pending), and the items a
person's ``decide match`` paired tonight (``by_hand``), with their shares of the whole.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl

from walletrecon import kinds
from walletrecon.config import Tickets
from walletrecon.manifest import SourceCounts
from walletrecon.money import plain_decimal

#: (name, first day, last day) of each ageing bucket; None: no upper end.
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-180", 91, 180),
    ("over 180", 181, None),
)
#: Each relation and the source whose rows it matches against the ledger (or the payouts).
RELATIONS: dict[str, str] = {
    "ledger_settlement": "settlement",
    "ledger_receipts": "receipts",
    "payouts_bank": "bank",
}


def _bucket() -> pl.Expr:
    expression = pl.lit(BUCKETS[-1][0])
    for name, _, last in reversed(BUCKETS[:-1]):
        assert last is not None
        expression = pl.when(pl.col("age_days") <= last).then(pl.lit(name)).otherwise(expression)
    return expression


def ageing(report_rows: pl.DataFrame, settings: Tickets) -> dict[str, Any]:
    """{queue: {currency: {bucket: {"count", "amount"}}}} of the open breaks; every bucket is
    listed for each queue and currency that has an open break."""
    routes = {kind: settings.queues.get(kind, queue) for kind, queue in kinds.queue_of().items()}
    amount = pl.coalesce("difference", "actual_amount", "expected_amount").abs()
    grouped = (
        report_rows.select(
            pl.col("type").replace_strict(routes, return_dtype=pl.String).alias("queue"),
            pl.col("currency").fill_null("none"),
            _bucket().alias("bucket"),
            amount.fill_null(0).alias("amount"),
        )
        .group_by("queue", "currency", "bucket")
        .agg(pl.len().alias("count"), pl.col("amount").sum())
        .sort("queue", "currency", "bucket")
    )
    figures: dict[str, Any] = {}
    for queue, currency, bucket, count, total in grouped.iter_rows():
        row = figures.setdefault(queue, {}).setdefault(
            currency, {name: {"count": 0, "amount": "0"} for name, _, _ in BUCKETS}
        )
        row[bucket] = {"count": int(count), "amount": plain_decimal(total)}
    return figures


def _share(part: int, whole: int) -> str:
    return (
        plain_decimal((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")))
        if whole
        else "0"
    )


def match_rates(counts: dict[str, SourceCounts], by_hand: dict[str, int]) -> dict[str, Any]:
    """Per relation: automatic, by hand and open counts tonight, and their shares."""
    rates: dict[str, Any] = {}
    for relation, source in RELATIONS.items():
        own = counts.get(source)
        automatic = own.matched if own else 0
        still_open = (own.discrepancy + own.pending) if own else 0
        hand = by_hand.get(source, 0)
        whole = automatic + hand + still_open
        rates[relation] = {
            "automatic": automatic,
            "by_hand": hand,
            "open": still_open,
            "automatic_rate": _share(automatic, whole),
            "by_hand_rate": _share(hand, whole),
            "open_rate": _share(still_open, whole),
        }
    return rates


def summary_text(manifest: dict[str, Any], trend: list[dict[str, Any]] | None = None) -> str:
    """The night's ageing, match rates and decisions as plain text tables, and the automatic
    match rate of each relation night by night over ``trend`` (earlier manifests, oldest first)
    (``walletrecon tickets --summary``)."""
    lines = [f"Night {manifest.get('run_date')}", "", "Open breaks by age (count / amount)"]
    names = [name for name, _, _ in BUCKETS]
    header = ["queue", "currency", *names]
    rows = [header]
    for queue, currencies in sorted(manifest.get("ageing", {}).items()):
        for currency, buckets in sorted(currencies.items()):
            cells = [f"{buckets[name]['count']} / {buckets[name]['amount']}" for name in names]
            rows.append([queue, currency, *cells])
    lines += _aligned(rows) if len(rows) > 1 else ["  none"]
    lines += ["", "Match rates tonight"]
    rate_rows = [["relation", "automatic", "by hand", "open", "automatic %", "open %"]]
    for relation, figures in manifest.get("match_rates", {}).items():
        rate_rows.append(
            [
                relation,
                str(figures["automatic"]),
                str(figures["by_hand"]),
                str(figures["open"]),
                percent(figures["automatic_rate"]),
                percent(figures["open_rate"]),
            ]
        )
    lines += _aligned(rate_rows)
    if trend:
        lines += ["", "Automatic match rate, night by night"]
        history = [["night", *RELATIONS]]
        for earlier in trend:
            rates = earlier.get("match_rates", {})
            history.append(
                [
                    str(earlier.get("run_date")),
                    *(
                        percent(rates[relation]["automatic_rate"]) if relation in rates else "-"
                        for relation in RELATIONS
                    ),
                ]
            )
        lines += _aligned(history)
    decisions = manifest.get("decisions", {})
    lines += [
        "",
        f"Decisions applied tonight: {decisions.get('applied', 0)} "
        f"(void {decisions.get('void', 0)}), closed {decisions.get('closed', {})}, "
        f"waiting for approval {decisions.get('waiting_for_approval', 0)}",
    ]
    return "\n".join(lines) + "\n"


def percent(share: str) -> str:
    """A share (``0.9876``) as a percentage text (``98.76%``)."""
    return plain_decimal((Decimal(share) * 100).quantize(Decimal("0.01"))) + "%"


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    return [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
