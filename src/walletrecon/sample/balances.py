"""Account balances: postings of succeeded entries by local day, and the nightly snapshot.

A few accounts a night start to drift from the ledger and stay off (``balance_mismatch``). The
balance causes (``walletrecon.sample.balance_causes``) add their own offsets and one-night early
counts. Every account has at most one balance break: ``used`` marks the accounts taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from walletrecon.sample.formatting import format_balances, identifiers
from walletrecon.sample.ledger import Population
from walletrecon.sample.model import SUCCEEDED, TYPICAL_MINOR, BoolArray, IntArray
from walletrecon.sample.tables import Table, pick_rows, truth_frame
from walletrecon.sample.timeline import Calendar


@dataclass
class Balances:
    """Each account's balance as posted so far, postings still to come, and injected breaks:
    ``offsets`` the reported balance keeps from its night on, ``early`` amounts one night's
    snapshot counts ahead of the ledger (by night), ``used`` the accounts with a break."""

    calendar: Calendar
    population: Population
    truth: list[pl.DataFrame]
    per_variant: int
    posted_by_day: dict[int, IntArray] = field(default_factory=dict)
    cumulative: IntArray = field(init=False)
    offsets: IntArray = field(init=False)
    early: dict[int, IntArray] = field(default_factory=dict)
    used: BoolArray = field(init=False)

    def __post_init__(self) -> None:
        self.cumulative = np.zeros(self.population.account_count, dtype=np.int64)
        self.offsets = np.zeros(self.population.account_count, dtype=np.int64)
        self.used = np.zeros(self.population.account_count, dtype=np.bool_)

    def report_off(self, accounts: IntArray, amounts: IntArray) -> None:
        """These accounts' reported balances are off by these amounts from now on."""
        self.used[accounts] = True
        np.add.at(self.offsets, accounts, amounts)

    def report_early(self, day: int, accounts: IntArray, amounts: IntArray) -> None:
        """These accounts' snapshots of ``day`` count these amounts ahead of the ledger."""
        self.used[accounts] = True
        ahead = self.early.setdefault(day, np.zeros(self.population.account_count, dtype=np.int64))
        np.add.at(ahead, accounts, amounts)

    def add_postings(self, ledger: Table) -> None:
        """Add succeeded entries to their account's postings of the day they were posted."""
        succeeded = np.flatnonzero(ledger["status"] == SUCCEEDED)
        posted_day = self.calendar.day_of(ledger["posted"][succeeded])
        for day in np.unique(posted_day).tolist():
            postings = self.posted_by_day.setdefault(
                day, np.zeros(self.population.account_count, dtype=np.int64)
            )
            rows = succeeded[posted_day == day]
            np.add.at(postings, ledger["account"][rows], ledger["amount"][rows])

    def snapshot(self, rng: np.random.Generator, day: int) -> pl.DataFrame:
        """Every account's balance at the end of ``day``; a few accounts start to drift."""
        empty = np.zeros(self.population.account_count, dtype=np.int64)
        self.cumulative += self.posted_by_day.pop(day, empty)
        chosen = np.flatnonzero(pick_rows(rng, ~self.used, self.per_variant))
        self.used[chosen] = True
        currency = self.population.account_currency[chosen]
        shift = 1 + rng.integers(0, TYPICAL_MINOR[currency])
        self.offsets[chosen] += np.where(rng.random(len(chosen)) < 0.5, shift, -shift)
        account_ids = identifiers("account", chosen.astype(np.int64))
        self.truth.append(
            truth_frame(
                "balance_mismatch",
                account_ids,
                np.full(len(chosen), day, dtype=np.int64),
                "balances",
                account_ids,
                "reported balance drifts from the ledger from this night on",
            )
        )
        table = Table(
            {
                "account": np.arange(self.population.account_count, dtype=np.int64),
                "currency": self.population.account_currency,
                "balance": self.cumulative + self.offsets + self.early.pop(day, empty),
            }
        )
        return format_balances(table, self.calendar.end_of_day_text(day))
