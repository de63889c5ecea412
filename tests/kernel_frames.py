"""Tiny inline frames for the kernels' own tests: one row per call, the working-set shapes of
``walletrecon.state``, every column a test does not name filled with a plain value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import polars as pl

from walletrecon.state import LEDGER_WORK, RECEIPT_WORK, SETTLEMENT_WORK, conform, empty

DAY = dt.date(2026, 11, 16)


def noon(day: dt.date = DAY, hours: int = 0) -> dt.datetime:
    """Midday UTC of a day, plus some hours."""
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC) + dt.timedelta(hours=hours)


def _built(
    rows: tuple[dict[str, Any], ...],
    defaults: Callable[[int, dict[str, Any], dt.date], dict[str, Any]],
    schema: dict[str, pl.DataType],
) -> pl.DataFrame:
    """A frame of the rows, each over its defaults (from its index, itself and its day); a frame
    with a gateway_ref gets its ref_norm unless the row gives one."""
    filled = []
    for index, row in enumerate(rows):
        base = defaults(index, row, row.get("item_date", DAY)) | row
        if "ref_norm" in schema and "ref_norm" not in row:
            base["ref_norm"] = None if base["gateway_ref"] is None else base["gateway_ref"].lower()
        filled.append(base)
    if not filled:
        return empty(schema)
    frame = pl.DataFrame(filled, schema_overrides=schema, infer_schema_length=None)
    return conform(frame, schema)


def entries(*rows: dict[str, Any]) -> pl.DataFrame:
    """Ledger entries: a succeeded CNY payment of 100.00 to merchant M1 by default."""

    def defaults(index: int, row: dict[str, Any], day: dt.date) -> dict[str, Any]:
        txn = row.get("txn_id", f"T{index}")
        return {
            "entry_id": f"E-{txn}",
            "txn_id": txn,
            "account_id": "A1",
            "entry_type": "payment",
            "amount_minor": -10000,
            "currency": "CNY",
            "status": "succeeded",
            "created_at": noon(day),
            "posted_at": noon(day),
            "merchant_id": "M1",
            "gateway_ref": f"GW-{txn}",
            "item_date": day,
            "first_run": day,
            "origin": f"ledger.csv:{index + 2}",
        }

    return _built(rows, defaults, LEDGER_WORK)


def lines(*rows: dict[str, Any]) -> pl.DataFrame:
    """Settlement lines: a CNY payment of 100.00 with no fee by default."""

    def defaults(index: int, row: dict[str, Any], day: dt.date) -> dict[str, Any]:
        ref = row.get("gateway_ref", f"GW-T{index}")
        return {
            "settlement_id": f"S-{ref}",
            "gateway": "alipay",
            "gateway_ref": ref,
            "merchant_ref": None,
            "record_type": "payment",
            "gross_minor": 10000,
            "fee_minor": 0,
            "net_minor": 10000,
            "currency": "CNY",
            "settled_at": noon(day, 1),
            "payout_id": "PO-1",
            "item_date": day,
            "first_run": day,
            "origin": f"settlement.csv:{index + 2}",
            "fee_checked": False,
        }

    return _built(rows, defaults, SETTLEMENT_WORK)


def receipts(*rows: dict[str, Any]) -> pl.DataFrame:
    """Merchant receipts: M1 received 100.00 CNY by default."""

    def defaults(index: int, row: dict[str, Any], day: dt.date) -> dict[str, Any]:
        txn = row.get("txn_id", f"T{index}")
        return {
            "receipt_id": f"R-{txn}",
            "merchant_id": "M1",
            "txn_id": txn,
            "amount_minor": 10000,
            "currency": "CNY",
            "received_at": noon(day, 2),
            "item_date": day,
            "first_run": day,
            "origin": f"receipts.csv:{index + 2}",
        }

    return _built(rows, defaults, RECEIPT_WORK)


def breaks(findings: pl.DataFrame) -> list[tuple[str, str]]:
    """(type, key) of findings, sorted."""
    return sorted(findings.select("type", "key").rows())


def outcomes(result_outcomes: pl.DataFrame) -> dict[str, str]:
    """row_id -> outcome."""
    return dict(result_outcomes.select("row_id", "outcome").rows())
