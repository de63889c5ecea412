"""The injections that turn one night's clean data into known breaks, with their truth rows."""

from __future__ import annotations

import numpy as np
import polars as pl

from walletrecon.sample.formatting import gateway_refs, identifiers, mistyped
from walletrecon.sample.model import (
    CNY,
    FAILED,
    HOUR,
    MISTYPED,
    PAYMENT,
    ROUTED_TYPES,
    TOPUP,
    USD,
    IntArray,
)
from walletrecon.sample.night import Injector
from walletrecon.sample.tables import Table


def _withhold(
    injector: Injector,
    kind: str,
    entry_types: tuple[int, ...],
    counterpart: str,
    window_days: int,
    note: str,
) -> None:
    """Withhold the counterpart (settlement line or receipt) of succeeded entries; the break is
    due when the counterpart's window has passed."""
    night = injector.night
    settled = counterpart == "settlement"
    entries = injector.pick(night.candidates(entry_types, settled=settled, received=not settled))
    table, of_entry = (
        (night.settlement, night.settlement_of_entry)
        if settled
        else (night.receipts, night.receipt_of_entry)
    )
    table["dropped"][of_entry[entries]] = 1
    injector.record(
        kind,
        injector.txn_ids(entries),
        np.full(len(entries), night.day + window_days, dtype=np.int64),
        "ledger",
        identifiers("entry", night.ledger["entry"][entries]),
        note,
    )


def _missing_in_settlement(injector: Injector) -> None:
    """Withhold the settlement line of succeeded payments and topups."""
    _withhold(
        injector,
        "missing_in_settlement",
        (PAYMENT, TOPUP),
        "settlement",
        2,
        "the gateway never sent a settlement line for this succeeded entry",
    )


def _payment_not_received(injector: Injector) -> None:
    """Withhold the merchant receipt of succeeded payments."""
    _withhold(
        injector,
        "payment_not_received",
        (PAYMENT,),
        "receipts",
        1,
        "the merchant never sent a receipt for this succeeded payment",
    )


def _missing_in_ledger(injector: Injector) -> None:
    """Add settlement lines whose gateway_ref and merchant_ref name no ledger entry."""
    night = injector.night
    table = night.settlement
    if len(table) == 0:
        return
    size = min(injector.count, len(table))
    templates = np.sort(injector.rng.choice(len(table), size=size, replace=False))
    lines = table.take(templates)
    lines["line"] = injector.counters.take("settlement", size)
    lines["entry"] = np.full(size, -1, dtype=np.int64)
    lines["txn"] = injector.counters.take("txn", size)
    lines["ref"] = injector.counters.take("gateway_ref", size)
    lines["ref_variant"] = np.zeros(size, dtype=np.int64)
    lines["folder"] = injector.calendar.day_of(lines["settled"])
    lines["touched"] = np.ones(size, dtype=np.int64)
    lines["dropped"] = np.zeros(size, dtype=np.int64)
    table.append(lines)
    injector.record(
        "missing_in_ledger",
        gateway_refs(lines["ref"]),
        lines["folder"] + 2,
        "settlement",
        identifiers("settlement", lines["line"]),
        "a settlement line whose gateway_ref and merchant_ref match no ledger entry",
    )


def _amount_mismatch(injector: Injector) -> None:
    """Change the settlement gross (fee and net follow) or the receipt amount."""
    night = injector.night
    entries = injector.pick(night.candidates(ROUTED_TYPES, settled=True))
    lines = night.settlement_of_entry[entries]
    night.settlement["gross"][lines] = injector.changed(night.settlement["gross"][lines])
    injector.refresh_fee(lines)
    injector.record(
        "amount_mismatch",
        injector.txn_ids(entries),
        np.maximum(night.day, night.settlement["folder"][lines]),
        "settlement",
        identifiers("settlement", night.settlement["line"][lines]),
        "settlement gross_amount differs from the ledger amount",
    )
    entries = injector.pick(night.candidates((PAYMENT,), received=True))
    receipts = night.receipt_of_entry[entries]
    night.receipts["amount"][receipts] = injector.changed(night.receipts["amount"][receipts])
    injector.record(
        "amount_mismatch",
        injector.txn_ids(entries),
        np.maximum(night.day, night.receipts["folder"][receipts]),
        "receipts",
        identifiers("receipt", night.receipts["receipt"][receipts]),
        "receipt amount differs from the ledger amount",
    )


def _fee_mismatch(injector: Injector) -> None:
    """Charge a fee off the schedule (net still gross - fee), or break net = gross - fee."""
    night = injector.night
    table = night.settlement
    gateway = night.ledger["gateway"]
    scheduled = np.where(gateway >= 0, injector.fees.scheduled[np.maximum(gateway, 0)], False)
    entries = injector.pick(night.candidates((PAYMENT, TOPUP), settled=True) & scheduled)
    lines = night.settlement_of_entry[entries]
    table["fee"][lines] += 1 + injector.rng.integers(0, 100, size=len(lines))
    table["net"][lines] = table["gross"][lines] - table["fee"][lines]
    _record_settlement_break(injector, "fee_mismatch", entries, "fee departs from the schedule")
    derivable = injector.carried(injector.rails.derived_net)
    entries = injector.pick(night.candidates(ROUTED_TYPES, settled=True) & derivable)
    lines = night.settlement_of_entry[entries]
    shift = 1 + injector.rng.integers(0, 100, size=len(lines))
    shift = np.where(injector.rng.random(len(lines)) < 0.5, shift, -shift)
    # Every other line with a fee reports its gross as its net: off by exactly the fee.
    mixed = (np.arange(len(lines)) % 2 == 0) & (table["fee"][lines] > 0)
    table["net"][lines] += np.where(mixed, table["fee"][lines], shift)
    _record_settlement_break(
        injector,
        "fee_mismatch",
        entries[~mixed],
        "net_amount does not follow from gross and fee",
    )
    _record_settlement_break(
        injector,
        "fee_mismatch",
        entries[mixed],
        "net_amount is the gross: the fee was not taken off",
        cause="fee_gross_net_mixed",
    )


def _record_settlement_break(
    injector: Injector, kind: str, entries: IntArray, note: str, cause: str | None = None
) -> None:
    """Truth for a break carried by the settlement line of these entries."""
    night = injector.night
    lines = night.settlement_of_entry[entries]
    injector.record(
        kind,
        injector.txn_ids(entries),
        np.maximum(night.day, night.settlement["folder"][lines]),
        "settlement",
        identifiers("settlement", night.settlement["line"][lines]),
        note,
        cause=cause,
    )


def _record_receipt_break(injector: Injector, kind: str, entries: IntArray, note: str) -> None:
    """Truth for a break carried by the receipt of these entries."""
    night = injector.night
    receipts = night.receipt_of_entry[entries]
    injector.record(
        kind,
        injector.txn_ids(entries),
        np.maximum(night.day, night.receipts["folder"][receipts]),
        "receipts",
        identifiers("receipt", night.receipts["receipt"][receipts]),
        note,
    )


def _settled_payments(injector: Injector) -> IntArray:
    """Payments settled and received the night they were made (picked: they become touched)."""
    night = injector.night
    same_night = (
        night.counterpart_folder(night.settlement_of_entry, night.settlement) == night.day
    ) & (night.counterpart_folder(night.receipt_of_entry, night.receipts) == night.day)
    return injector.pick(night.candidates((PAYMENT,), settled=True, received=True) & same_night)


def _mark_failed(injector: Injector, entries: IntArray) -> IntArray:
    """The entries failed in the ledger (never posted)."""
    injector.night.ledger["status"][entries] = FAILED
    injector.night.ledger["posted"][entries] = -1
    return entries


def _record_failed(
    injector: Injector, entries: IntArray, note: str, counterparts: pl.Series | None = None
) -> None:
    """Truth for the status mismatch of failed payments, due the night they were made."""
    night = injector.night
    injector.record(
        "status_mismatch",
        injector.txn_ids(entries),
        np.full(len(entries), night.day, dtype=np.int64),
        "ledger",
        identifiers("entry", night.ledger["entry"][entries]),
        note,
        counterparts=counterparts,
    )


def _status_mismatch(injector: Injector) -> None:
    """Mark payments failed in the ledger although they were settled and received that night."""
    _record_failed(
        injector,
        _mark_failed(injector, _settled_payments(injector)),
        "the ledger has the payment failed but the gateway settled it and the merchant received it",
    )


def _duplicate(injector: Injector) -> None:
    """Copy settlement lines, receipts and payment entries under new ids."""
    night = injector.night
    distinct = injector.carried(injector.rails.reference_is_line_id)
    entries = injector.pick(night.candidates(ROUTED_TYPES, settled=True) & distinct)
    copies = night.settlement.take(night.settlement_of_entry[entries])
    copies["line"] = injector.counters.take("settlement", len(copies))
    copies["touched"] = np.ones(len(copies), dtype=np.int64)
    night.settlement.append(copies)
    injector.record(
        "duplicate",
        gateway_refs(copies["ref"]),
        np.maximum(night.day, copies["folder"]),
        "settlement",
        identifiers("settlement", copies["line"]),
        "a second settlement line for the same gateway_ref and record type",
    )
    entries = injector.pick(night.candidates((PAYMENT,), received=True))
    receipts = night.receipts.take(night.receipt_of_entry[entries])
    receipts["receipt"] = injector.counters.take("receipt", len(receipts))
    receipts["touched"] = np.ones(len(receipts), dtype=np.int64)
    night.receipts.append(receipts)
    injector.record(
        "duplicate",
        injector.txn_ids(entries),
        np.maximum(night.day, receipts["folder"]),
        "receipts",
        identifiers("receipt", receipts["receipt"]),
        "a second receipt for the same txn_id",
    )
    _duplicate_payment_entry(injector)


def _duplicate_payment_entry(injector: Injector) -> None:
    """Copy succeeded payment entries under a new entry_id (the balances include the copy)."""
    copy_payment_entries(injector, injector.pick(injector.night.candidates((PAYMENT,))))


def copy_payment_entries(injector: Injector, entries: IntArray) -> Table:
    """Copy these payment entries under new entry_ids, with their ``duplicate`` truth rows;
    the copies (ledger rows)."""
    night = injector.night
    copies = night.ledger.take(entries)
    copies["entry"] = injector.counters.take("entry", len(copies))
    copies["touched"] = np.ones(len(copies), dtype=np.int64)
    night.append_ledger(copies)
    injector.record(
        "duplicate",
        injector.txn_ids(entries),
        np.full(len(entries), night.day, dtype=np.int64),
        "ledger",
        identifiers("entry", copies["entry"]),
        "a second payment entry with the same txn_id",
    )
    return copies


def _currency_mismatch(injector: Injector) -> None:
    """Swap CNY and USD on a settlement line (fee recomputed) or on a receipt."""
    night = injector.night
    yuan_or_dollar = np.isin(night.ledger["currency"], (CNY, USD))
    entries = injector.pick(night.candidates((PAYMENT, TOPUP), settled=True) & yuan_or_dollar)
    lines = night.settlement_of_entry[entries]
    currency = night.settlement["currency"]
    currency[lines] = np.where(currency[lines] == CNY, USD, CNY)
    injector.refresh_fee(lines)
    _record_settlement_break(
        injector, "currency_mismatch", entries, "settlement currency differs from the ledger's"
    )
    entries = injector.pick(night.candidates((PAYMENT,), received=True) & yuan_or_dollar)
    receipts = night.receipt_of_entry[entries]
    currency = night.receipts["currency"]
    currency[receipts] = np.where(currency[receipts] == CNY, USD, CNY)
    _record_receipt_break(
        injector, "currency_mismatch", entries, "receipt currency differs from the ledger's"
    )


def _sync_delay(injector: Injector) -> None:
    """Settle 25-40 hours after creation, or receive 25+ hours after creation (within window)."""
    night = injector.night
    created = night.ledger["created"]
    entries = injector.pick(night.candidates((PAYMENT, TOPUP), settled=True))
    lines = night.settlement_of_entry[entries]
    delay = injector.rng.integers(25 * HOUR + 60, 40 * HOUR + 1, size=len(lines))
    night.settlement["settled"][lines] = created[entries] + delay
    night.settlement["folder"][lines] = injector.calendar.day_of(created[entries] + delay)
    _record_settlement_break(
        injector, "sync_delay", entries, "settled more than 24 hours after the ledger entry"
    )
    window_end = int(injector.calendar.day_starts[night.day + 2]) - 1
    roomy = created <= window_end - (25 * HOUR + 60)
    entries = injector.pick(night.candidates((PAYMENT,), received=True) & roomy)
    receipts = night.receipt_of_entry[entries]
    longest = np.minimum(40 * HOUR, window_end - created[entries])
    delay = injector.rng.integers(25 * HOUR + 60, longest + 1)
    night.receipts["received"][receipts] = created[entries] + delay
    night.receipts["folder"][receipts] = injector.calendar.day_of(created[entries] + delay)
    _record_receipt_break(
        injector, "sync_delay", entries, "received more than 24 hours after the ledger entry"
    )


def _record_near_miss(
    injector: Injector,
    breaks: tuple[tuple[str, pl.Series, IntArray, str, pl.Series], ...],
    note: str,
) -> None:
    """Truth for the two breaks of a near miss, (type, keys, run day, source, row ids) each,
    each naming the other's row as its counterpart."""
    (first, second) = breaks
    for (kind, keys, run_day, source, row_ids), other in ((first, second), (second, first)):
        injector.record(kind, keys, run_day, source, row_ids, note, counterparts=other[4])


def _near_miss_reference(injector: Injector) -> None:
    """Settle payments and topups under a mistyped gateway reference and a merchant reference of
    another transaction: the entry is missing in settlement, the line missing in the ledger, and
    each is the other's one likely counterpart (a match a person makes, walletrecon suggests)."""
    night = injector.night
    entries = injector.pick(night.candidates((PAYMENT, TOPUP), settled=True))
    lines = night.settlement_of_entry[entries]
    table = night.settlement
    table["ref_variant"][lines] = MISTYPED
    table["txn"][lines] = injector.counters.take("txn", len(lines))
    refs = pl.DataFrame({"ref": gateway_refs(table["ref"][lines])}).select(mistyped(pl.col("ref")))
    entry_due = np.full(len(entries), night.day + 2, dtype=np.int64)
    line_due = injector.calendar.day_of(table["settled"][lines]) + 2
    _record_near_miss(
        injector,
        (
            (
                "missing_in_settlement",
                injector.txn_ids(entries),
                entry_due,
                "ledger",
                identifiers("entry", night.ledger["entry"][entries]),
            ),
            (
                "missing_in_ledger",
                refs.to_series(),
                line_due,
                "settlement",
                identifiers("settlement", table["line"][lines]),
            ),
        ),
        "settled under a mistyped gateway reference (its last character twice)",
    )


def _near_miss_receipt(injector: Injector) -> None:
    """Receipt payments under a mistyped txn_id: the payment is not received, the receipt
    missing in the ledger, and each is the other's one likely counterpart."""
    night = injector.night
    entries = injector.pick(night.candidates((PAYMENT,), received=True))
    receipts = night.receipt_of_entry[entries]
    night.receipts["txn_variant"][receipts] = MISTYPED
    keys = pl.DataFrame({"txn": injector.txn_ids(entries)}).select(mistyped(pl.col("txn")))
    entry_due = np.full(len(entries), night.day + 1, dtype=np.int64)
    receipt_due = injector.calendar.day_of(night.receipts["received"][receipts]) + 1
    _record_near_miss(
        injector,
        (
            (
                "payment_not_received",
                injector.txn_ids(entries),
                entry_due,
                "ledger",
                identifiers("entry", night.ledger["entry"][entries]),
            ),
            (
                "missing_in_ledger",
                keys.to_series(),
                receipt_due,
                "receipts",
                identifiers("receipt", night.receipts["receipt"][receipts]),
            ),
        ),
        "receipted under a mistyped txn_id (its last character twice)",
    )


def _retry_after_failure(injector: Injector) -> None:
    """A payment the ledger has as failed though the gateway settled it, and its retry at once
    under a new txn_id and reference, which succeeded, was receipted by the merchant, and never
    settled (the gateway settled the retry under the first attempt): a status mismatch and an
    entry missing in settlement, each the other's likely counterpart (the retry's entry; the
    first attempt's settlement line)."""
    night = injector.night
    entries = _settled_payments(injector)
    retries = night.ledger.take(entries)
    retries["entry"] = injector.counters.take("entry", len(retries))
    retries["txn"] = injector.counters.take("txn", len(retries))
    retries["ref"] = injector.counters.take("gateway_ref", len(retries))
    retries["touched"] = np.ones(len(retries), dtype=np.int64)
    _mark_failed(injector, entries)
    first_retry = len(night.ledger)
    night.append_ledger(retries)
    # The merchant's receipt is the retry's.
    receipts = night.receipt_of_entry[entries]
    positions = np.arange(first_retry, first_retry + len(retries), dtype=np.int64)
    night.receipts["txn"][receipts] = retries["txn"]
    night.receipts["entry"][receipts] = positions
    night.receipt_of_entry[positions] = receipts
    night.receipt_of_entry[entries] = -1
    retry_ids = identifiers("entry", retries["entry"])
    lines = identifiers("settlement", night.settlement["line"][night.settlement_of_entry[entries]])
    note = "failed in the ledger though settled; its retry under another id never settled"
    _record_failed(injector, entries, note, counterparts=retry_ids)
    injector.record(
        "missing_in_settlement",
        identifiers("txn", retries["txn"]),
        np.full(len(entries), night.day + 2, dtype=np.int64),
        "ledger",
        retry_ids,
        note,
        counterparts=lines,
    )


INJECTIONS = (
    _status_mismatch,
    _sync_delay,
    _missing_in_settlement,
    _payment_not_received,
    _amount_mismatch,
    _fee_mismatch,
    _currency_mismatch,
    _duplicate,
    _missing_in_ledger,
    _near_miss_reference,
    _near_miss_receipt,
    _retry_after_failure,
)
