"""The batch figures of a camt entry (``NtryDtls/Btch``), checked against its details.

Per ``NtryDtls``, ``Btch/NbOfTxs`` against the number of ``TxDtls`` and ``Btch/TtlAmt`` (signed
by ``Btch/CdtDbtInd``, else the entry's) against the signed sum of the details' amounts in the
batch's currency (``TtlAmt/@Ccy``, else the entry's): per detail ``Amt``, else ``AmtDtls``
``TxAmt``, ``CntrValAmt``, ``InstdAmt``, the first in that currency. A detail with no amount in
that currency leaves the sum unchecked: amounts of two currencies are never compared. The
entry's own amount is what the bank line carries, whatever currencies its details name. A
batch given with at most one ``TxDtls`` for more transactions is not itemised by the bank (the
schema makes the details optional): its count is reported unchecked.
"""

from __future__ import annotations

from decimal import Decimal

from walletrecon.sources.profiles import ControlTotal
from walletrecon.sources.profiles.camt_entries import SIGNS, EntryError, amount_of
from walletrecon.sources.profiles.camt_totals import figure
from walletrecon.sources.profiles.camt_xml import Document, Element
from walletrecon.sources.profiles.text import major_text


def batch_totals(
    doc: Document, entry: Element, path: str, scope: str, sign: int
) -> list[ControlTotal]:
    """The ``Btch`` figures of each ``NtryDtls`` of one entry, against its ``TxDtls``."""
    totals: list[ControlTotal] = []
    for index, details in enumerate(doc.children(entry, "NtryDtls"), start=1):
        batch = doc.child(details, "Btch")
        if batch is None:
            continue
        where = f"{path}/NtryDtls[{index}]/Btch"
        items = doc.children(details, "TxDtls")
        count = doc.text(batch, "NbOfTxs")
        if count is not None:
            totals.append(_count_total(scope, where, count, len(items)))
        total = doc.text(batch, "TtlAmt")
        if total is not None:
            indicator = doc.text(batch, "CdtDbtInd")
            batch_sign = SIGNS.get(indicator or "", sign)
            expected = ("-" if batch_sign < 0 else "") + total
            currency = _currency(doc, batch, "TtlAmt") or _currency(doc, entry, "Amt")
            check = f"{where}/TtlAmt"
            totals.append(_detail_sum(doc, items, check, scope, (expected, currency), sign))
    return totals


def _count_total(scope: str, where: str, count: str, items: int) -> ControlTotal:
    """NbOfTxs against the TxDtls given; unchecked when the batch is not itemised."""
    check = f"{where}/NbOfTxs = number of TxDtls"
    if items <= 1 and count.strip() != str(items):
        note = f"the entry gives {items} TxDtls for {count} transactions: the batch is not itemised"
        return ControlTotal(scope, check, count, str(items), None, None, note)
    return figure(scope, check, count, str(items), True)


_DETAIL_AMOUNTS = ((), ("AmtDtls", "TxAmt"), ("AmtDtls", "CntrValAmt"), ("AmtDtls", "InstdAmt"))


def _currency(doc: Document, parent: Element | None, name: str) -> str | None:
    """The ``Ccy`` of an amount element, None when absent."""
    node = doc.child(parent, name)
    return None if node is None else (node.get("Ccy") or "").strip() or None


def _detail_holder(doc: Document, item: Element, currency: str | None) -> Element | None:
    """The element holding the detail's ``Amt`` in the batch's currency (see above)."""
    for path in _DETAIL_AMOUNTS:
        holder = doc.child(item, *path) if path else item
        if (
            holder is not None
            and doc.child(holder, "Amt") is not None
            and (currency is None or _currency(doc, holder, "Amt") == currency)
        ):
            return holder
    return None


def _detail_sum(
    doc: Document,
    items: list[Element],
    where: str,
    scope: str,
    expected_in: tuple[str, str | None],
    sign: int,
) -> ControlTotal:
    """TtlAmt against the signed sum of the TxDtls amounts in the batch's currency."""
    expected, currency = expected_in
    found = Decimal(0)
    check = f"{where} = sum of TxDtls amounts"
    for position, item in enumerate(items, start=1):
        item_path = f"TxDtls[{position}]"
        holder = _detail_holder(doc, item, currency)
        try:
            if holder is None:
                raise EntryError(
                    "amount",
                    item_path,
                    f"no Amt or AmtDtls TxAmt/CntrValAmt/InstdAmt in {currency}: amounts of "
                    "two currencies are not compared",
                )
            value, _ = amount_of(doc, holder, item_path, "Amt")
        except EntryError as problem:
            return ControlTotal(scope, check, expected, "", None, None, str(problem))
        found += value * SIGNS.get(doc.text(item, "CdtDbtInd") or "", sign)
    return figure(scope, check, expected, major_text(found), True)
