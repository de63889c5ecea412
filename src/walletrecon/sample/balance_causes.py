"""Balance breaks with a likely cause: the wallet's reported balance is off by an amount the data
shows (``balance_mismatch`` with ``cause`` in the truth).

Each injection takes up to ``count`` accounts a night, each an account no balance break has
used before (``Balances.used``), through one untouched succeeded entry of the night:

* ``entry_after_cutoff``: the entry is posted within 30 minutes after the night's cut-off (it
  stays in the night's ledger, created that day) and the night's snapshot already counts it; from
  the next night on the snapshot is right again. The break shows the entry's amount that night
  and its opposite the next (the same break, continued).
* ``duplicate_entry``: the ledger books a payment entry twice (a ``duplicate`` truth row, as
  ``injections._duplicate_payment_entry``); the wallet's balance has it once, from that night on.
* ``fee_not_booked``: the wallet charged the user the fee of a payment's or top-up's settlement
  line delivered that night, which the ledger never booked; the balance is lower by the fee from
  that night on.

``late_receipts`` (not a balance break) delivers a payment's receipt two nights late, so that the
break it leaves open for a night is resolved by its late counterpart (``late_counterpart``).

Run after the status updates were picked (their entries are touched) and before the night is
finished and its postings are added to the balances.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from walletrecon.causes import CAUSES
from walletrecon.sample.balances import Balances
from walletrecon.sample.formatting import identifiers
from walletrecon.sample.injections import copy_payment_entries
from walletrecon.sample.model import PAYMENT, TOPUP, BoolArray, IntArray
from walletrecon.sample.night import Injector
from walletrecon.schemas import ENTRY_TYPES

#: Every entry type (an entry counted early may be of any).
ALL_TYPES = tuple(range(len(ENTRY_TYPES)))
#: How far after the cut-off an entry counted early is posted: 1 s to 30 min.
AFTER_CUTOFF_SECONDS = 1800


def _cause(name: str) -> str:
    """A name of ``walletrecon.causes.CAUSES`` (ValueError, on import, for any other)."""
    if name not in CAUSES:
        raise ValueError(f"not a cause: {name}")
    return name


ENTRY_AFTER_CUTOFF = _cause("entry_after_cutoff")
LATE_COUNTERPART = _cause("late_counterpart")
#: Nights a late receipt comes after its payment: one past the receipt window of one day.
LATE_RECEIPT_NIGHTS = 2
DUPLICATE_ENTRY = _cause("duplicate_entry")
FEE_NOT_BOOKED = _cause("fee_not_booked")


def _pick_one_per_account(injector: Injector, balances: Balances, mask: BoolArray) -> IntArray:
    """Up to ``count`` entries where the mask holds, of distinct accounts no balance break has
    used (one random entry of each account taken); they become touched."""
    ledger = injector.night.ledger
    candidates = np.flatnonzero(mask & ~balances.used[ledger["account"]])
    shuffled = injector.rng.permutation(candidates)
    _, first = np.unique(ledger["account"][shuffled], return_index=True)
    options = shuffled[first]
    size = min(injector.count, len(options))
    chosen = np.sort(injector.rng.choice(options, size=size, replace=False)).astype(np.int64)
    ledger["touched"][chosen] = 1
    return chosen


def _record(injector: Injector, accounts: IntArray, cause: str, note: str) -> None:
    """The ``balance_mismatch`` truth rows of these accounts, due tonight."""
    account_ids = identifiers("account", accounts)
    run_day = np.full(len(accounts), injector.night.day, dtype=np.int64)
    injector.record(
        "balance_mismatch", account_ids, run_day, "balances", account_ids, note, cause=cause
    )


def _entry_after_cutoff(injector: Injector, balances: Balances) -> None:
    """Post an entry just after the cut-off; tonight's snapshot counts it already."""
    night = injector.night
    ledger = night.ledger
    entries = _pick_one_per_account(injector, balances, night.candidates(ALL_TYPES))
    cutoff = int(injector.calendar.day_starts[night.day + 1])
    delay = injector.rng.integers(1, AFTER_CUTOFF_SECONDS + 1, size=len(entries))
    ledger["posted"][entries] = cutoff + delay
    accounts = ledger["account"][entries]
    balances.report_early(night.day, accounts, ledger["amount"][entries])
    _record(
        injector,
        accounts,
        ENTRY_AFTER_CUTOFF,
        "the reported balance counts an entry posted just after the cut-off",
    )


def _duplicate_entry(injector: Injector, balances: Balances) -> None:
    """Book a payment entry twice in the ledger; the reported balance has it once."""
    night = injector.night
    entries = _pick_one_per_account(injector, balances, night.candidates((PAYMENT,)))
    copies = copy_payment_entries(injector, entries)
    balances.report_off(copies["account"], -copies["amount"])
    _record(
        injector,
        copies["account"],
        DUPLICATE_ENTRY,
        "the ledger books a payment entry twice; the reported balance has it once",
    )


def _fee_not_booked(injector: Injector, balances: Balances) -> None:
    """Charge the fee of a settlement line delivered tonight, which the ledger never booked."""
    night = injector.night
    lines = night.settlement_of_entry
    linked = np.maximum(lines, 0)
    table = night.settlement
    fee = np.where(lines >= 0, table["fee"][linked], 0)
    deliverable = (lines >= 0) & (table["dropped"][linked] == 0) & (table["touched"][linked] == 0)
    tonight = night.counterpart_folder(lines, table) == night.day
    mask = night.candidates((PAYMENT, TOPUP), settled=True) & deliverable & tonight & (fee > 0)
    entries = _pick_one_per_account(injector, balances, mask)
    accounts = night.ledger["account"][entries]
    balances.report_off(accounts, -fee[entries])
    _record(
        injector,
        accounts,
        FEE_NOT_BOOKED,
        "the reported balance is charged a settlement fee the ledger never booked",
    )


#: The balance causes, in the order they pick their accounts.
BALANCE_CAUSES: tuple[Callable[[Injector, Balances], None], ...] = (
    _entry_after_cutoff,
    _duplicate_entry,
    _fee_not_booked,
)


def inject_balance_causes(injector: Injector, balances: Balances) -> None:
    """Apply every balance cause to the injector's night."""
    for inject in BALANCE_CAUSES:
        inject(injector, balances)


def late_receipts(injector: Injector) -> None:
    """A merchant sends a payment's receipt two nights late, past its window of one day: the
    payment is not received the night after, and the receipt resolves it the night it comes
    (``late_counterpart``). The caller makes sure that night is generated."""
    night = injector.night
    entries = injector.pick(night.candidates((PAYMENT,), received=True))
    receipts = night.receipt_of_entry[entries]
    night.receipts["folder"][receipts] = night.day + LATE_RECEIPT_NIGHTS
    night.receipts["touched"][receipts] = 1
    injector.record(
        "payment_not_received",
        injector.txn_ids(entries),
        np.full(len(entries), night.day + 1, dtype=np.int64),
        "ledger",
        identifiers("entry", night.ledger["entry"][entries]),
        "the merchant's receipt comes two nights late, after its window",
        cause=LATE_COUNTERPART,
    )
