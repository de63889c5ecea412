"""A tiny world for tests: inline rows per source and night, run through the real pipeline.

Rows are given as dicts; every column not given takes a sensible default, so a test names only
what its rule is about.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from walletrecon.config import Config, parse_config
from walletrecon.partitioned import read_published
from walletrecon.pipeline import RunSummary, run_night
from walletrecon.schemas import SOURCES

D0 = dt.date(2026, 11, 20)

DEFAULTS: dict[str, dict[str, str]] = {
    "ledger": {
        "account_id": "A1",
        "entry_type": "payment",
        "amount": "-10.00",
        "currency": "CNY",
        "status": "succeeded",
        "merchant_id": "",
        "gateway_ref": "",
    },
    "settlement": {
        "gateway": "bank_x",
        "merchant_ref": "",
        "record_type": "payment",
        "gross_amount": "10.00",
        "fee_amount": "0.00",
        "net_amount": "10.00",
        "currency": "CNY",
        "payout_id": "",
    },
    "receipts": {"merchant_id": "M1", "amount": "10.00", "currency": "CNY"},
    "bank": {"currency": "CNY", "reference": ""},
    "balances": {"currency": "CNY"},
}


def day(offset: int) -> dt.date:
    """The business date ``offset`` days after D0."""
    return D0 + dt.timedelta(days=offset)


def at(offset: int, hour: int = 10, minute: int = 0) -> str:
    """A timestamp on day ``offset`` at a local time (Asia/Shanghai offset written out)."""
    return f"{day(offset).isoformat()}T{hour:02d}:{minute:02d}:00+08:00"


class World:
    """Inbox folders written from inline rows; nights run in order through ``run_night``."""

    def __init__(self, root: Path, **config: Any) -> None:
        self.inbox = root / "inbox"
        self.out = root / "out"
        self.rows: dict[tuple[int, str], list[dict[str, str]]] = {}
        # The rule tests read the outputs, not the charts: drawn by the report's own tests.
        settings: dict[str, Any] = {
            "timezone": "Asia/Shanghai",
            "report": {"charts": False},
            **config,
        }
        self.config: Config = parse_config(settings)

    def add(self, night: int, source: str, *rows: dict[str, Any]) -> World:
        """Deliver rows of a source in the inbox folder of night ``night``."""
        filled = [{**DEFAULTS[source], **{k: str(v) for k, v in row.items()}} for row in rows]
        self.rows.setdefault((night, source), []).extend(filled)
        return self

    def payment(self, night: int, txn: str, amount: str = "10.00", **extra: Any) -> World:
        """A succeeded payment entry sent to a gateway, to merchant M1, created on that night."""
        row = {
            "entry_id": f"E-{txn}",
            "txn_id": txn,
            "amount": f"-{amount}",
            "merchant_id": "M1",
            "gateway_ref": f"GW-{txn}",
            "created_at": at(night),
            "posted_at": at(night, 10, 1),
            **extra,
        }
        return self.add(night, "ledger", row)

    def settle(self, night: int, txn: str, amount: str = "10.00", **extra: Any) -> World:
        """A settlement line for a payment, settled an hour after it was made on ``night``."""
        row = {
            "settlement_id": f"S-{txn}",
            "gateway_ref": f"GW-{txn}",
            "merchant_ref": txn,
            "gross_amount": amount,
            "net_amount": amount,
            "settled_at": at(night, 11),
            **extra,
        }
        return self.add(night, "settlement", row)

    def receive(self, night: int, txn: str, amount: str = "10.00", **extra: Any) -> World:
        """A merchant receipt of a payment, received shortly after it was made on ``night``."""
        row = {
            "receipt_id": f"R-{txn}",
            "txn_id": txn,
            "amount": amount,
            "received_at": at(night, 10, 5),
        }
        return self.add(night, "receipts", {**row, **extra})

    def _write(self, night: int) -> None:
        folder = self.inbox / day(night).isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for source in SOURCES.values():
            rows = self.rows.get((night, source.name))
            if rows is None and source.name != "ledger":
                continue
            with (folder / f"{source.name}.csv").open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(source.column_names))
                writer.writeheader()
                for row in rows or []:
                    writer.writerow({name: row.get(name, "") for name in source.column_names})

    def run(self, night: int) -> RunSummary:
        """Write night ``night``'s inbox folder and reconcile it."""
        self._write(night)
        return run_night(day(night), self.inbox, self.out, self.config)

    def run_through(self, last: int) -> RunSummary:
        """Run every night from 0 to ``last``."""
        summary = None
        for night in range(last + 1):
            summary = self.run(night)
        assert summary is not None
        return summary

    def open(self, night: int) -> pl.DataFrame:
        """The open discrepancies published for night ``night`` (``run_date`` a date)."""
        folder = self.out / "discrepancies" / f"run_date={day(night).isoformat()}"
        return read_published(folder / "part-0.parquet")

    def breaks(self, night: int) -> set[tuple[str, str]]:
        """(type, key) of the open discrepancies of night ``night``."""
        frame = self.open(night)
        return set(zip(frame["type"].to_list(), frame["key"].to_list(), strict=True))


def published(out: Path, *, state: bool = False) -> dict[str, pl.DataFrame]:
    """Every night's discrepancy rows and tickets (and, with ``state``, its open discrepancies
    carried in the state), for comparing two output folders."""
    frames = {}
    for path in sorted(out.glob("discrepancies/*/part-0.parquet")):
        frames[path.parent.name] = pl.read_parquet(path).sort("discrepancy_id")
    for path in sorted(out.glob("tickets/*/tickets.jsonl")):
        frames["tickets " + path.parent.name] = pl.read_ndjson(path, infer_schema_length=None).sort(
            "ticket_id"
        )
    for path in sorted(out.glob("state/*/open_discrepancies.parquet")) if state else []:
        frames["state " + path.parent.name] = pl.read_parquet(path).sort("discrepancy_id")
    return frames
