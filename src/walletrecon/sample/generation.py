"""The night-by-night orchestration of a data set, and ``generate``, its entry point.

Night ``n`` creates the ledger entries of business date ``n``, derives their settlement lines and
receipts, applies the injections, routes the counterparts to the folders they are delivered in
and writes folder ``n``: its ledger, the settlement lines and receipts routed to it, the bank
lines of the payouts of ``n - 1`` and the balances at the end of ``n``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from walletrecon.sample.balance_causes import (
    LATE_RECEIPT_NIGHTS,
    inject_balance_causes,
    late_receipts,
)
from walletrecon.sample.balances import Balances
from walletrecon.sample.bank import Payouts
from walletrecon.sample.deliveries import Deliveries
from walletrecon.sample.derive import derive_receipts, derive_settlement
from walletrecon.sample.fees import FeeRates
from walletrecon.sample.files import config_text, write_truth
from walletrecon.sample.flaws import bad_ledger_rows, bad_settlement_rows
from walletrecon.sample.formatting import format_ledger, format_receipts, format_settlement
from walletrecon.sample.injections import INJECTIONS
from walletrecon.sample.ledger import Population, make_ledger
from walletrecon.sample.model import CANONICAL_RAILS, Rails, SampleSummary
from walletrecon.sample.night import Injector, Night, finish_night
from walletrecon.sample.tables import Counters, Table
from walletrecon.sample.timeline import Calendar
from walletrecon.sample.updates import send_updates


@dataclass
class Generation:
    """The state carried from night to night while a data set is written."""

    out_dir: Path
    days: int
    rows: int
    seed: int
    calendar: Calendar
    mixed_formats: bool
    population: Population
    rails: Rails = CANONICAL_RAILS
    fees: FeeRates = field(default_factory=FeeRates.build)
    counters: Counters = field(default_factory=Counters)
    settlement_buckets: dict[int, list[Table]] = field(default_factory=dict)
    receipt_buckets: dict[int, list[Table]] = field(default_factory=dict)
    truth: list[pl.DataFrame] = field(default_factory=list)
    payouts: Payouts = field(init=False)
    balances: Balances = field(init=False)
    deliveries: Deliveries = field(init=False)

    def __post_init__(self) -> None:
        calendar, counters, truth = self.calendar, self.counters, self.truth
        self.payouts = Payouts(calendar, counters, truth)
        self.balances = Balances(calendar, self.population, truth, self.per_variant)
        self.deliveries = Deliveries(
            calendar, counters, truth, self.days, self.mixed_formats, self.noise_rows
        )

    @property
    def per_variant(self) -> int:
        """Injections per variant of each type per night (~0.1% of the rows)."""
        return max(1, self.rows // 1000)

    @property
    def per_cause(self) -> int:
        """Balance breaks per likely cause per night: a quarter of ``per_variant`` (at least
        one), so that the accounts last a month (each account has at most one balance break)."""
        return max(1, self.per_variant // 4)

    @property
    def noise_rows(self) -> int:
        """Re-delivered and bad rows per source per night."""
        return max(6, self.rows // 20_000)

    def night(self, day: int) -> None:
        """Create the entries of ``day`` and their counterparts, inject, write folder ``day``."""
        rng = np.random.default_rng([self.seed, day])
        folder = self.out_dir / "inbox" / self.calendar.date_of(day).isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        # The ledger table lives only during this call, before the other sources are written.
        self.deliveries.deliver(
            rng, folder, "ledger", day, self.prepare(rng, day), format_ledger, bad_ledger_rows
        )
        self.write_counterparts(rng, folder, day)

    def prepare(self, rng: np.random.Generator, day: int) -> Table:
        """Create, derive, inject and absorb one night; the ledger as delivered."""
        calendar, counters = self.calendar, self.counters
        ledger = make_ledger(rng, day, self.rows, calendar, self.population, counters, self.rails)
        night = Night.build(
            day,
            ledger,
            derive_settlement(rng, day, ledger, calendar, self.fees, counters),
            derive_receipts(rng, day, ledger, calendar, counters),
        )
        injector = Injector(rng, night, calendar, self.fees, counters, self.per_variant, self.rails)
        for inject in INJECTIONS:
            inject(injector)
        # A stream of its own, so that the other draws stay as they were.
        updates_rng = np.random.default_rng([self.seed, day, 2])
        later, changes = send_updates(updates_rng, night, calendar, self.days)
        # After the updates (their entries are touched), before the postings: a stream of its own.
        causes_rng = np.random.default_rng([self.seed, day, 3])
        causes = Injector(
            causes_rng, night, calendar, self.fees, counters, self.per_cause, self.rails
        )
        inject_balance_causes(causes, self.balances)
        if day + LATE_RECEIPT_NIGHTS < self.days:  # the night the receipt comes is generated
            late_receipts(causes)
        finish_night(night, calendar)
        self.truth.extend(night.truth)
        self.absorb(night)
        self.balances.add_postings(changes)
        if len(later):
            self.deliveries.updates[day + 1] = format_ledger(later, calendar)
        return ledger

    def absorb(self, night: Night) -> None:
        """Take a finished night in: payout totals, balance postings, delivery folders."""
        self.payouts.add(night.settlement)
        self.balances.add_postings(night.ledger)
        for table, buckets in (
            (night.settlement, self.settlement_buckets),
            (night.receipts, self.receipt_buckets),
        ):
            for folder in range(night.day + 1, min(night.day + 3, self.days)):
                buckets.setdefault(folder, []).append(table.take(table["folder"] == folder))
            table.reorder(table["folder"] == night.day)
            buckets.setdefault(night.day, []).append(table)

    def write_counterparts(self, rng: np.random.Generator, folder: Path, day: int) -> None:
        """Write settlement, receipts, bank and balances of folder ``day``."""
        for source, buckets, formatter, flaws in (
            ("settlement", self.settlement_buckets, format_settlement, bad_settlement_rows),
            ("receipts", self.receipt_buckets, format_receipts, None),
        ):
            parts = buckets.pop(day)
            table = parts.pop()  # this night's own part, the largest: extended in place
            for earlier in parts:
                table.append(earlier)
            del parts
            time_column = "settled" if source == "settlement" else "received"
            identifier = table["line"] if source == "settlement" else table["receipt"]
            table.reorder(np.lexsort((identifier, table[time_column])))
            self.deliveries.deliver(rng, folder, source, day, table, formatter, flaws)
            del table
        for source, frame in (
            ("bank", self.payouts.bank_file(rng, day)),
            ("balances", self.balances.snapshot(rng, day)),
        ):
            self.deliveries.write(folder, source, day, [frame])


def generate(
    out_dir: Path,
    days: int,
    seed: int,
    rows: int = 2000,
    start: date = date(2026, 11, 16),
    timezone: str = "Asia/Shanghai",
    mixed_formats: bool = False,
    rails: Rails = CANONICAL_RAILS,
) -> SampleSummary:
    """Write a seeded multi-night data set with known breaks under ``out_dir``.

    ``out_dir/inbox/YYYY-MM-DD/`` gets ledger, balances, settlement, receipts and bank for each
    of ``days`` nights from ``start`` (about ``rows`` ledger rows a night),
    ``out_dir/walletrecon.toml`` the configuration and ``out_dir/truth.csv`` one row per injected
    break, bad row and re-delivery (``type,key,run_date,source,row_id,note``). With
    ``mixed_formats`` the second night's ledger is gzipped, the third night's settlement is
    Parquet and one night's receipts start with a BOM (the fourth night's, or the last one's).
    ``rails`` routes the entries and picks the breaks as for real-format reports (see
    :class:`Rails`): the canonical twin of ``walletrecon.sample.real.nights.generate_real``.
    The same arguments give byte-identical files. Files already in ``out_dir`` are overwritten,
    other files are left alone. ValueError for ``days`` < 1, ``rows`` < 10 or a negative seed.
    """
    _check_arguments(days, rows, seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    population = Population.build(np.random.default_rng([seed, 1 << 32]), rows)
    generation = Generation(
        out_dir=out_dir,
        days=days,
        rows=rows,
        seed=seed,
        calendar=Calendar.build(timezone, start, days),
        mixed_formats=mixed_formats,
        population=population,
        rails=rails,
    )
    for day in range(days):
        generation.night(day)
    (out_dir / "walletrecon.toml").write_text(config_text(timezone), encoding="utf-8")
    injected = write_truth(out_dir / "truth.csv", generation.truth, generation.calendar, days)
    return SampleSummary(
        out_dir=out_dir,
        dates=[start + timedelta(days=day) for day in range(days)],
        rows_per_source=dict(generation.deliveries.rows_written),
        injected=injected,
    )


def _check_arguments(days: int, rows: int, seed: int) -> None:
    """ValueError for ``days`` < 1, ``rows`` < 10 or a negative seed."""
    if days < 1:
        raise ValueError("days must be at least 1")
    if rows < 10:
        raise ValueError("rows must be at least 10")
    if seed < 0:
        raise ValueError("seed must not be negative")
