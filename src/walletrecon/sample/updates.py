"""Status updates: ledger entries delivered first in one status and again, the next night, in a
later one (CONTRACT section 1b), as a wallet does.

About 2% of a night's untouched succeeded entries sent to a gateway are picked (none on the last
night, whose updates would never be delivered). Most arrive first as ``pending`` and are
updated to ``succeeded``, posted on the next day: their settlement line and receipt are delivered
with the update, no earlier. Some arrive as ``pending`` and fail: the gateway settles nothing
and the merchant receives nothing. A few arrive ``succeeded`` and are reversed the next day
before the gateway settles them: the balance counts them on their day and gives the money back
on the next. None of these is a break; the truth lists each update as type ``updated``.
"""

from __future__ import annotations

import numpy as np

from walletrecon.sample.formatting import identifiers
from walletrecon.sample.model import (
    FAILED,
    HOUR,
    PENDING,
    REVERSED,
    ROUTED_TYPES,
    SUCCEEDED,
    IntArray,
)
from walletrecon.sample.night import Night
from walletrecon.sample.tables import Table, truth_frame
from walletrecon.sample.timeline import Calendar

#: Share of a night's eligible entries that are updated the next night.
UPDATE_SHARE = 0.02
#: Of those: pending then succeeded, pending then failed; the rest succeeded then reversed.
TO_SUCCEEDED, TO_FAILED = 0.80, 0.15


def _withhold_counterparts(night: Night, entries: IntArray) -> None:
    """Settle and receipt nothing for these entries."""
    for table, links in (
        (night.settlement, night.settlement_of_entry),
        (night.receipts, night.receipt_of_entry),
    ):
        linked = links[entries]
        table["dropped"][linked[linked >= 0]] = 1


def _delay_counterparts(night: Night, entries: IntArray) -> None:
    """Deliver these entries' settlement lines and receipts no earlier than the next night."""
    for table, links in (
        (night.settlement, night.settlement_of_entry),
        (night.receipts, night.receipt_of_entry),
    ):
        linked = links[entries]
        linked = linked[linked >= 0]
        table["folder"][linked] = np.maximum(table["folder"][linked], night.day + 1)


def _balance_changes(later: Table, next_day: int) -> Table:
    """What the next day's balances see of the later versions, as succeeded postings: the new
    postings, and the reversals giving the money back at the start of the next day."""
    changes = later.take(later["status"] != FAILED)
    reversal = changes["status"] == REVERSED
    changes["amount"] = np.where(reversal, -changes["amount"], changes["amount"]).astype(np.int64)
    changes["posted"] = np.where(reversal, next_day, changes["posted"]).astype(np.int64)
    changes["status"] = np.full(len(changes), SUCCEEDED, dtype=np.int64)
    return changes


def _record(night: Night, later: Table) -> None:
    """Truth rows of type ``updated`` for the versions delivered the next night."""
    ids = identifiers("entry", later["entry"])
    night.truth.append(
        truth_frame(
            "updated",
            ids,
            np.full(len(later), night.day + 1, dtype=np.int64),
            "ledger",
            ids,
            "ledger entry delivered again the next night with its status moved forward",
        )
    )


def send_updates(
    rng: np.random.Generator, night: Night, calendar: Calendar, days: int
) -> tuple[Table, Table]:
    """Pick tonight's entries to update; change their first version in place. Returns the
    versions to deliver the next night, and the postings those versions change (amounts signed
    as they move the balance, on the day they do)."""
    ledger = night.ledger
    eligible = np.flatnonzero(
        night.candidates(ROUTED_TYPES, settled=True)
        & (night.day + 1 < days)
        & (rng.random(len(ledger)) < UPDATE_SHARE)
    ).astype(np.int64)
    ledger["touched"][eligible] = 1
    draw = rng.random(len(eligible))
    final = np.where(draw < TO_SUCCEEDED + TO_FAILED, FAILED, REVERSED)
    final = np.where(draw < TO_SUCCEEDED, SUCCEEDED, final).astype(np.int64)
    _delay_counterparts(night, eligible[final == SUCCEEDED])
    _withhold_counterparts(night, eligible[final != SUCCEEDED])
    next_day = int(calendar.day_starts[night.day + 1])
    later = ledger.take(eligible)
    later["status"] = final
    later["posted"] = np.where(
        final == SUCCEEDED, next_day + rng.integers(60, 6 * HOUR, size=len(later)), -1
    ).astype(np.int64)
    first = eligible[final != REVERSED]  # delivered first as pending
    ledger["status"][first] = PENDING
    ledger["posted"][first] = -1
    _record(night, later)
    return later, _balance_changes(later, next_day)
