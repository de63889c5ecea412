"""One night's integer tables, the injector that picks rows to break, and the night's finish."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from walletrecon.sample.fees import FeeRates, net_amount
from walletrecon.sample.formatting import identifiers
from walletrecon.sample.model import CANONICAL_RAILS, SUCCEEDED, BoolArray, IntArray, Rails
from walletrecon.sample.tables import Counters, Table, truth_frame
from walletrecon.sample.timeline import Calendar


@dataclass
class Night:
    """The entries created on one business day, with their settlement lines and receipts."""

    day: int
    ledger: Table
    settlement: Table
    receipts: Table
    settlement_of_entry: IntArray
    receipt_of_entry: IntArray
    truth: list[pl.DataFrame] = field(default_factory=list)

    @staticmethod
    def build(day: int, ledger: Table, settlement: Table, receipts: Table) -> Night:
        """Link each ledger row to its settlement line and receipt (-1 when it has none)."""
        settlement_of_entry = np.full(len(ledger), -1, dtype=np.int64)
        settlement_of_entry[settlement["entry"]] = np.arange(len(settlement))
        receipt_of_entry = np.full(len(ledger), -1, dtype=np.int64)
        receipt_of_entry[receipts["entry"]] = np.arange(len(receipts))
        return Night(day, ledger, settlement, receipts, settlement_of_entry, receipt_of_entry)

    def candidates(
        self, entry_types: Sequence[int], settled: bool = False, received: bool = False
    ) -> BoolArray:
        """Untouched succeeded entries of these types (with a settlement line / receipt)."""
        ledger = self.ledger
        mask: BoolArray = (ledger["touched"] == 0) & (ledger["status"] == SUCCEEDED)
        mask &= np.isin(ledger["entry_type"], entry_types)
        if settled:
            mask &= self.settlement_of_entry >= 0
        if received:
            mask &= self.receipt_of_entry >= 0
        return mask

    def counterpart_folder(self, links: IntArray, table: Table) -> IntArray:
        """The delivery folder of each entry's counterpart line; -1 when it has none."""
        return np.where(links >= 0, table["folder"][np.maximum(links, 0)], -1)

    def append_ledger(self, rows: Table) -> None:
        """Add ledger rows that have no settlement line or receipt of their own."""
        self.ledger.append(rows)
        none = np.full(len(rows), -1, dtype=np.int64)
        self.settlement_of_entry = np.concatenate([self.settlement_of_entry, none])
        self.receipt_of_entry = np.concatenate([self.receipt_of_entry, none])


@dataclass
class Injector:
    """Picks rows for the injections of one night and records their truth rows."""

    rng: np.random.Generator
    night: Night
    calendar: Calendar
    fees: FeeRates
    counters: Counters
    count: int
    rails: Rails = CANONICAL_RAILS

    def pick(self, mask: BoolArray) -> IntArray:
        """Up to ``count`` random ledger rows where the mask holds; they become touched."""
        candidates = np.flatnonzero(mask)
        size = min(self.count, len(candidates))
        chosen = np.sort(self.rng.choice(candidates, size=size, replace=False)).astype(np.int64)
        self.night.ledger["touched"][chosen] = 1
        return chosen

    def record(
        self,
        kind: str,
        keys: pl.Series,
        run_day: IntArray,
        source: str,
        row_ids: pl.Series,
        note: str,
        counterparts: pl.Series | None = None,
        cause: str | None = None,
    ) -> None:
        """Truth rows for one injection (run_day as a day index, turned into a date later), with
        the likely cause injected, if any."""
        causes = pl.Series([cause] * len(keys), dtype=pl.String)
        self.night.truth.append(
            truth_frame(kind, keys, run_day, source, row_ids, note, counterparts, causes)
        )

    def carried(self, gateways: tuple[int, ...]) -> BoolArray:
        """True for ledger rows routed over none of these gateways (whose reports cannot carry
        some break)."""
        return ~np.isin(self.night.ledger["gateway"], gateways)

    def txn_ids(self, entries: IntArray) -> pl.Series:
        """The txn_id of these ledger rows."""
        return identifiers("txn", self.night.ledger["txn"][entries])

    def changed(self, values: IntArray) -> IntArray:
        """Each positive value moved up or down by 1 minor unit to about a fifth of itself."""
        delta = 1 + self.rng.integers(0, np.maximum(1, values // 5))
        upward = (self.rng.random(len(values)) < 0.5) | (values <= delta)
        return np.where(upward, values + delta, values - delta).astype(np.int64)

    def refresh_fee(self, lines: IntArray) -> None:
        """Recompute the scheduled fee and the net of these settlement lines."""
        table = self.night.settlement
        gross = table["gross"][lines]
        record_type = table["record_type"][lines]
        fee = self.fees.expected_fee(
            table["gateway"][lines], table["currency"][lines], record_type, gross
        )
        table["fee"][lines] = fee
        table["net"][lines] = net_amount(record_type, gross, fee)


def finish_night(night: Night, calendar: Calendar) -> None:
    """Drop withheld lines, mark lines of touched entries, derive payout days, sort the ledger."""
    ledger = night.ledger
    for table in (night.settlement, night.receipts):
        table.reorder(table["dropped"] == 0)
        linked = table["entry"] >= 0
        inherited = np.where(linked, ledger["touched"][np.maximum(table["entry"], 0)], 1)
        table["touched"] = np.maximum(table["touched"], inherited)
    night.settlement["payout_day"] = calendar.day_of(night.settlement["settled"])
    ledger.reorder(np.lexsort((ledger["entry"], ledger["created"])))
