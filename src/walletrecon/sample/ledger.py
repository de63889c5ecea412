"""The population of accounts and merchants, and the clean ledger entries of one night."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from walletrecon.sample.model import (
    ADJUSTMENT,
    AMOUNT_SCALE,
    AMOUNT_SIGN,
    CANONICAL_RAILS,
    CURRENCIES,
    CURRENCY_WEIGHTS,
    FAILED,
    GATEWAY_WEIGHTS,
    PAYMENT,
    PENDING,
    REFUND,
    REVERSED,
    ROUTED_TYPES,
    SINGLE_TYPE_SHARES,
    STYLE_WEIGHTS,
    SUCCEEDED,
    TRANSFER_IN,
    TRANSFER_OUT,
    TRANSFER_SHARE,
    TYPICAL_MINOR,
    IntArray,
    Rails,
)
from walletrecon.sample.tables import Counters, Table
from walletrecon.sample.timeline import Calendar
from walletrecon.schemas import ENTRY_TYPES


@dataclass(frozen=True)
class Population:
    """Accounts (each with one currency) and merchants."""

    account_currency: IntArray
    merchant_count: int
    accounts_by_currency: IntArray
    group_start: IntArray
    group_size: IntArray
    position_in_group: IntArray

    @staticmethod
    def build(rng: np.random.Generator, rows: int) -> Population:
        """About rows / 10 accounts (at least 20, two of each currency) and some merchants."""
        account_count = max(20, rows // 10)
        currency = rng.choice(len(CURRENCIES), size=account_count, p=CURRENCY_WEIGHTS)
        currency[: 2 * len(CURRENCIES)] = np.repeat(np.arange(len(CURRENCIES)), 2)
        currency = currency.astype(np.int64)
        ordered = np.argsort(currency, kind="stable").astype(np.int64)
        group_size = np.bincount(currency, minlength=len(CURRENCIES)).astype(np.int64)
        group_start = (np.cumsum(group_size) - group_size).astype(np.int64)
        position = np.empty(account_count, dtype=np.int64)
        position[ordered] = np.arange(account_count) - group_start[currency[ordered]]
        merchants = int(min(400, max(10, rows // 20)))
        return Population(currency, merchants, ordered, group_start, group_size, position)

    @property
    def account_count(self) -> int:
        """How many accounts there are."""
        return len(self.account_currency)

    def other_account(self, rng: np.random.Generator, accounts: IntArray) -> IntArray:
        """For each account, a different random account of the same currency."""
        currency = self.account_currency[accounts]
        size = self.group_size[currency]
        shift = 1 + rng.integers(0, size - 1)
        position = (self.position_in_group[accounts] + shift) % size
        return self.accounts_by_currency[self.group_start[currency] + position]


def _magnitudes(
    rng: np.random.Generator, currency: IntArray, scale: npt.NDArray[np.float64]
) -> IntArray:
    """Random positive amounts in minor units around a typical amount per currency."""
    spread = rng.lognormal(0.0, 0.8, size=len(currency))
    return np.maximum(1, np.floor(TYPICAL_MINOR[currency] * scale * spread)).astype(np.int64)


def _instants(rng: np.random.Generator, calendar: Calendar, day: int, count: int) -> IntArray:
    """Random instants over a local day, leaving 15 s so that posting stays on the same day."""
    start = int(calendar.day_starts[day])
    return start + rng.integers(0, calendar.length(day) - 15, size=count, dtype=np.int64)


def _statuses(rng: np.random.Generator, entry_type: IntArray) -> IntArray:
    """Succeeded, except ~5% failed and ~1% pending payments and ~10% reversed adjustments."""
    draw = rng.random(len(entry_type))
    status = np.full(len(entry_type), SUCCEEDED, dtype=np.int64)
    payment = entry_type == PAYMENT
    status[payment & (draw < 0.05)] = FAILED
    status[payment & (draw >= 0.05) & (draw < 0.06)] = PENDING
    status[(entry_type == ADJUSTMENT) & (draw < 0.10)] = REVERSED
    return status


def _ledger_rows(
    rng: np.random.Generator,
    entry_type: IntArray,
    account: IntArray,
    magnitude: IntArray,
    created: IntArray,
    txn: IntArray,
    population: Population,
) -> Table:
    """Ledger columns from the drawn essentials; the rest follows from the entry type."""
    count = len(entry_type)
    sign = AMOUNT_SIGN[entry_type]
    sign = np.where(entry_type == ADJUSTMENT, rng.choice([-1, 1], size=count), sign)
    status = _statuses(rng, entry_type)
    merchant = rng.integers(0, population.merchant_count, size=count, dtype=np.int64)
    routed = np.isin(entry_type, ROUTED_TYPES)
    none = np.full(count, -1, dtype=np.int64)
    return Table(
        {
            "entry": none.copy(),
            "txn": txn,
            "account": account,
            "entry_type": entry_type,
            "amount": (sign * magnitude).astype(np.int64),
            "currency": population.account_currency[account],
            "status": status,
            "created": created,
            "posted": np.where(status == SUCCEEDED, created + rng.integers(1, 10, size=count), -1),
            "merchant": np.where(np.isin(entry_type, (PAYMENT, REFUND)), merchant, -1),
            "ref": np.where(routed, 0, -1).astype(np.int64),
            "gateway": np.where(
                routed, rng.choice(len(GATEWAY_WEIGHTS), size=count, p=GATEWAY_WEIGHTS), -1
            ),
            "ref_variant": np.zeros(count, dtype=np.int64),
            "settlement_ref_variant": np.zeros(count, dtype=np.int64),
            "style": rng.choice(3, size=count, p=STYLE_WEIGHTS).astype(np.int64),
            "touched": np.zeros(count, dtype=np.int64),
        }
    )


def _single_entries(
    rng: np.random.Generator,
    day: int,
    count: int,
    calendar: Calendar,
    population: Population,
    counters: Counters,
) -> Table:
    """Entries that are a transaction on their own (all but transfers)."""
    shares = SINGLE_TYPE_SHARES / SINGLE_TYPE_SHARES.sum()
    entry_type = rng.choice(len(ENTRY_TYPES), size=count, p=shares).astype(np.int64)
    account = rng.integers(0, population.account_count, size=count, dtype=np.int64)
    currency = population.account_currency[account]
    magnitude = _magnitudes(rng, currency, AMOUNT_SCALE[entry_type])
    created = _instants(rng, calendar, day, count)
    txn = counters.take("txn", count)
    return _ledger_rows(rng, entry_type, account, magnitude, created, txn, population)


def _transfer_entries(
    rng: np.random.Generator,
    day: int,
    pairs: int,
    calendar: Calendar,
    population: Population,
    counters: Counters,
) -> Table:
    """Transfer pairs: an out and an in entry of one txn between two same-currency accounts."""
    sender = rng.integers(0, population.account_count, size=pairs, dtype=np.int64)
    receiver = population.other_account(rng, sender)
    magnitude = _magnitudes(rng, population.account_currency[sender], np.ones(pairs))
    created = _instants(rng, calendar, day, pairs)
    txn = counters.take("txn", pairs)
    entry_type = np.repeat(np.array([TRANSFER_OUT, TRANSFER_IN], dtype=np.int64), pairs)
    return _ledger_rows(
        rng,
        entry_type,
        np.concatenate([sender, receiver]),
        np.concatenate([magnitude, magnitude]),
        np.concatenate([created, created]),
        np.concatenate([txn, txn]),
        population,
    )


def _assign_references(rng: np.random.Generator, ledger: Table, counters: Counters) -> None:
    """Gateway refs for routed entries; ~2% written with another case or white space."""
    routed = np.flatnonzero(ledger["ref"] >= 0)
    ledger["ref"][routed] = counters.take("gateway_ref", len(routed))
    draw = rng.random(len(routed))
    variant = rng.integers(1, 4, size=len(routed), dtype=np.int64)
    on_ledger = routed[draw < 0.01]
    on_settlement = routed[(draw >= 0.01) & (draw < 0.02)]
    ledger["ref_variant"][on_ledger] = variant[draw < 0.01]
    ledger["settlement_ref_variant"][on_settlement] = variant[(draw >= 0.01) & (draw < 0.02)]
    ledger["touched"][on_ledger] = 1
    ledger["touched"][on_settlement] = 1


def make_ledger(
    rng: np.random.Generator,
    day: int,
    rows: int,
    calendar: Calendar,
    population: Population,
    counters: Counters,
    rails: Rails = CANONICAL_RAILS,
) -> Table:
    """About ``rows`` clean ledger entries created on ``day``, in created order, each routed
    entry over the gateway the rails give it."""
    pairs = max(1, round(rows * TRANSFER_SHARE / 2))
    singles = _single_entries(rng, day, max(1, rows - 2 * pairs), calendar, population, counters)
    transfers = _transfer_entries(rng, day, pairs, calendar, population, counters)
    ledger = singles
    ledger.append(transfers)
    del singles, transfers
    ledger.reorder(np.argsort(ledger["created"], kind="stable"))
    ledger["entry"] = counters.take("entry", len(ledger))
    ledger["gateway"] = rails.route(ledger["entry_type"], ledger["gateway"], ledger["currency"])
    _assign_references(rng, ledger, counters)
    return ledger
