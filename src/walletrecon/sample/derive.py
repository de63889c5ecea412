"""Settlement lines and merchant receipts derived from one night's ledger entries."""

from __future__ import annotations

import numpy as np

from walletrecon.sample.fees import FeeRates, net_amount
from walletrecon.sample.model import HOUR, PAYMENT, STYLE_WEIGHTS, SUCCEEDED
from walletrecon.sample.tables import Counters, Table
from walletrecon.sample.timeline import Calendar


def derive_settlement(
    rng: np.random.Generator,
    day: int,
    ledger: Table,
    calendar: Calendar,
    fees: FeeRates,
    counters: Counters,
) -> Table:
    """One settlement line per succeeded routed entry, settled 1 to 6 hours after creation."""
    entry = np.flatnonzero((ledger["status"] == SUCCEEDED) & (ledger["ref"] >= 0))
    entry = entry.astype(np.int64)
    count = len(entry)
    record_type = ledger["entry_type"][entry]
    gateway = ledger["gateway"][entry]
    currency = ledger["currency"][entry]
    gross = np.abs(ledger["amount"][entry])
    fee = fees.expected_fee(gateway, currency, record_type, gross)
    settled = ledger["created"][entry] + rng.integers(HOUR, 6 * HOUR + 1, size=count)
    folder = calendar.day_of(settled)
    late = (rng.random(count) < 0.03) & (folder + 1 <= day + 2)
    return Table(
        {
            "line": counters.take("settlement", count),
            "entry": entry,
            "txn": ledger["txn"][entry],
            "gateway": gateway,
            "ref": ledger["ref"][entry],
            "ref_variant": ledger["settlement_ref_variant"][entry],
            "record_type": record_type,
            "gross": gross,
            "fee": fee,
            "net": net_amount(record_type, gross, fee),
            "currency": currency,
            "settled": settled,
            "folder": folder + late,
            "style": rng.choice(3, size=count, p=STYLE_WEIGHTS).astype(np.int64),
            "touched": np.zeros(count, dtype=np.int64),
            "dropped": np.zeros(count, dtype=np.int64),
        }
    )


def derive_receipts(
    rng: np.random.Generator, day: int, ledger: Table, calendar: Calendar, counters: Counters
) -> Table:
    """One receipt per succeeded payment, received 1 to 60 minutes after creation."""
    entry = np.flatnonzero(
        (ledger["status"] == SUCCEEDED)
        & (ledger["entry_type"] == PAYMENT)
        & (ledger["merchant"] >= 0)
    ).astype(np.int64)
    count = len(entry)
    received = ledger["created"][entry] + rng.integers(60, HOUR + 1, size=count)
    folder = calendar.day_of(received)
    late = (rng.random(count) < 0.03) & (folder + 1 <= day + 1)
    return Table(
        {
            "receipt": counters.take("receipt", count),
            "entry": entry,
            "merchant": ledger["merchant"][entry],
            "txn": ledger["txn"][entry],
            "txn_variant": np.zeros(count, dtype=np.int64),
            "amount": np.abs(ledger["amount"][entry]),
            "currency": ledger["currency"][entry],
            "received": received,
            "folder": folder + late,
            "style": rng.choice(3, size=count, p=STYLE_WEIGHTS).astype(np.int64),
            "touched": np.zeros(count, dtype=np.int64),
            "dropped": np.zeros(count, dtype=np.int64),
        }
    )
