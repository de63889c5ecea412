"""The control figures of a camt statement, checked against its entries.

- Balances (camt.053 only; camt.054 carries none): per statement and currency, the opening
  booked balance (``OPBD``, else ``PRCD``, the previous closing) plus the signed amounts of the
  booked entries must equal the closing booked balance (``CLBD``). A statement split over pages
  (``StmtPgntn``, each page its own ``Stmt``) carries interim booked balances (``ITBD``) instead:
  a page without OPBD/PRCD opens with its first ITBD, a page without CLBD closes with its last
  ITBD, so the chain is checked page by page; consecutive pages of one statement (same Id, both
  with ``StmtPgntn``) in one file are also checked to open where the page before closed.
  Available balances (``CLAV``, ``FWAV``, ...) are control records only. A balance is signed by
  its ``CdtDbtInd``; a balance without one is a credit. Booked means status BOOK or no status.
  Without an opening or closing balance, with a malformed one, or with a rejected entry in the
  statement, the figure is reported unchecked (a warning), never guessed.
- ``TxsSummry``: ``TtlNtries`` (count, ``Sum`` of the amounts without sign, and the net
  ``TtlNetNtry``/``TtlNetNtryAmt``), ``TtlCdtNtries`` and ``TtlDbtNtries`` (count and sum), each
  checked where present, over every entry of the statement whatever its status. A sum over
  entries in more than one currency is never compared (reported unchecked).
- Batches: per ``NtryDtls``, ``Btch/NbOfTxs`` against the number of ``TxDtls`` and
  ``Btch/TtlAmt`` (signed by ``Btch/CdtDbtInd``, else the entry's) against the signed sum of their
  amounts in the batch's currency: see ``camt_batches``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from walletrecon.money import parse_decimal
from walletrecon.sources.profiles import ControlTotal
from walletrecon.sources.profiles.camt_entries import (
    SIGNS,
    Entry,
    EntryError,
    amount_of,
    date_of,
)
from walletrecon.sources.profiles.camt_xml import Document, Element, line_of
from walletrecon.sources.profiles.text import major_text

OPENING = ("OPBD", "PRCD")
CLOSING = "CLBD"
INTERIM = "ITBD"
BALANCE_CHECK = "opening (OPBD/PRCD/ITBD) + booked entries = closing (CLBD/ITBD)"


@dataclass(frozen=True)
class Balance:
    """One ``Bal`` of a statement: its type code, signed amount (None when malformed)."""

    code: str
    element: str
    line: int
    amount: Decimal | None
    currency: str | None
    date: str | None
    problem: str = ""


def read_balance(doc: Document, node: Element, path: str) -> Balance:
    """Read one ``Bal``; a malformed one keeps its problem instead of raising."""
    code = doc.text(node, "Tp", "CdOrPrtry", "Cd") or doc.text(node, "Tp", "CdOrPrtry", "Prtry")
    line = line_of(node)
    currency = None
    try:
        value, currency = amount_of(doc, node, path, "Amt")
        indicator = doc.text(node, "CdtDbtInd") or "CRDT"
        if indicator not in SIGNS:
            raise EntryError(
                "amount", f"{path}/CdtDbtInd", f"expected CRDT or DBIT, found {indicator!r}"
            )
        day = date_of(doc, node, path, "Dt")
    except EntryError as problem:
        return Balance(code or "?", path, line, None, currency, None, str(problem))
    return Balance(code or "?", path, line, value * SIGNS[indicator], currency, day)


def balance_totals(
    scope: str, balances: list[Balance], entries: list[Entry], kind: str
) -> list[ControlTotal]:
    """The opening + entries = closing check of one statement, per currency."""
    relevant = [b for b in balances if b.code in (*OPENING, CLOSING, INTERIM)]
    if kind == "054" and not balances:
        return []
    booked = [e for e in entries if e.status in (None, "BOOK")]
    rejected = sum(1 for e in entries if e.problem is not None)
    currencies: Sequence[str | None] = sorted(
        {b.currency for b in relevant if b.currency} | {e.currency for e in booked if e.currency}
    )
    broken = [b for b in relevant if b.amount is None]
    totals = []
    for currency in currencies or [None]:
        mine = [b for b in relevant if b.currency == currency]
        moved = sum((e.amount for e in booked if e.currency == currency and e.amount), Decimal(0))
        note = _unchecked(mine, broken, rejected)
        totals.append(_balance_total(scope, currency, mine, moved, note))
    return totals


def _unchecked(mine: list[Balance], broken: list[Balance], rejected: int) -> str:
    """Why a currency's balance check cannot be made ('' when it can)."""
    if broken:
        return "; ".join(
            f"balance {b.code} at {b.element} is malformed: {b.problem}" for b in broken
        )
    if rejected:
        return f"{rejected} entries of the statement were rejected: their amounts are unknown"
    codes = [b.code for b in mine]
    if codes.count(CLOSING) > 1:
        return "the statement has more than one CLBD in this currency"
    opening, closing = _ends(mine)
    if closing is None:
        return (
            "the statement has no closing booked balance (CLBD, or ITBD on a page) in this "
            "currency: its entries could not be checked against a balance"
        )
    if opening is None:
        return (
            "the statement has no opening booked balance (OPBD, PRCD, or ITBD on a page) in "
            "this currency"
        )
    return ""


def page_chain(scope: str, previous: list[Balance], current: list[Balance]) -> list[ControlTotal]:
    """Per currency, a page's opening ITBD against the closing ITBD of the page before it (two
    pages of one statement, ``StmtPgntn``); nothing when either balance is not an ITBD."""
    totals = []
    for currency in sorted({b.currency for b in current if b.currency}):
        _, closing = _ends([b for b in previous if b.currency == currency])
        opening, _ = _ends([b for b in current if b.currency == currency])
        if closing is None or opening is None or closing.code != INTERIM or opening.code != INTERIM:
            continue
        if closing.amount is None or opening.amount is None:
            continue
        totals.append(
            ControlTotal(
                scope,
                f"opening ITBD = closing ITBD of the previous page ({closing.element})",
                major_text(closing.amount),
                major_text(opening.amount),
                closing.amount == opening.amount,
                currency,
            )
        )
    return totals


def _ends(mine: list[Balance]) -> tuple[Balance | None, Balance | None]:
    """The opening and closing balance of one currency: OPBD, else PRCD, else the first ITBD;
    CLBD, else the last ITBD that is not the opening one."""
    interim = [b for b in mine if b.code == INTERIM]
    opening = next((b for code in OPENING for b in mine if b.code == code), None)
    if opening is None and interim:
        opening = interim[0]
    closing = next((b for b in mine if b.code == CLOSING), None)
    if closing is None:
        closing = next((b for b in reversed(interim) if b is not opening), None)
    return opening, closing


def _balance_total(
    scope: str, currency: str | None, mine: list[Balance], moved: Decimal, note: str
) -> ControlTotal:
    """One currency's balance check (holds None with the note when it cannot be made)."""
    if note:
        return ControlTotal(scope, BALANCE_CHECK, "", "", None, currency, note)
    opening, closing = _ends(mine)
    assert opening is not None and closing is not None
    assert opening.amount is not None and closing.amount is not None
    found = opening.amount + moved
    return ControlTotal(
        scope,
        f"opening {opening.code} + booked entries = closing {closing.code}",
        major_text(closing.amount),
        major_text(found),
        found == closing.amount,
        currency,
        f"opening {major_text(opening.amount)} + entries {major_text(moved)}",
    )


def summary_totals(
    doc: Document, summary: Element, path: str, scope: str, entries: list[Entry]
) -> list[ControlTotal]:
    """The checks of one ``TxsSummry`` against every entry of its statement."""
    known = all(e.amount is not None for e in entries)
    currencies = sorted({e.currency for e in entries if e.currency})
    mixed = (
        f"the statement's entries are in {len(currencies)} currencies ({', '.join(currencies)}): "
        "their amounts are not summed together"
        if len(currencies) > 1
        else ""
    )
    groups = {
        "TtlNtries": entries,
        # By the entries' own indicator: a 0.00 credit is a credit entry.
        "TtlCdtNtries": [e for e in entries if e.amount is not None and e.indicator == "CRDT"],
        "TtlDbtNtries": [e for e in entries if e.amount is not None and e.indicator == "DBIT"],
    }
    totals: list[ControlTotal] = []
    for name, members in groups.items():
        group = doc.child(summary, name)
        if group is None:
            continue
        where = f"{path}/{name}"
        count = doc.text(group, "NbOfNtries")
        if count is not None:
            # Every entry counts in TtlNtries, a rejected one too; the split needs the amounts.
            checkable = known or name == "TtlNtries"
            totals.append(figure(scope, f"{where}/NbOfNtries", count, str(len(members)), checkable))
        total = doc.text(group, "Sum")
        if total is not None:
            found = sum((abs(e.amount) for e in members if e.amount is not None), Decimal(0))
            totals.append(figure(scope, f"{where}/Sum", total, major_text(found), known, mixed))
        totals.extend(_net_total(doc, group, where, scope, entries, known, mixed))
    return totals


def _net_total(
    doc: Document,
    group: Element,
    where: str,
    scope: str,
    entries: list[Entry],
    known: bool,
    mixed: str,
) -> Iterable[ControlTotal]:
    """``TtlNetNtry`` (.04 on) or ``TtlNetNtryAmt`` with ``CdtDbtInd`` (.02, .03) of TtlNtries."""
    net = doc.child(group, "TtlNetNtry")
    holder, name = (net, "Amt") if net is not None else (group, "TtlNetNtryAmt")
    text = doc.text(holder, name)
    if text is None:
        return []
    indicator = doc.text(holder, "CdtDbtInd") or "CRDT"
    expected = ("-" if indicator == "DBIT" else "") + text
    found = sum((e.amount for e in entries if e.amount is not None), Decimal(0))
    check = f"{where}/{'TtlNetNtry/Amt' if net is not None else name}"
    return [figure(scope, check, expected, major_text(found), known, mixed)]


def figure(
    scope: str, check: str, expected: str, found: str, checkable: bool, mixed: str = ""
) -> ControlTotal:
    """A figure compared as a number; unchecked when malformed or when amounts are unknown."""
    try:
        value = parse_decimal(expected)
    except ValueError:
        note = f"{expected!r} is not a number"
        return ControlTotal(scope, check, expected, found, None, None, note)
    if not checkable:
        return ControlTotal(
            scope, check, expected, found, None, None, "an entry of the statement was rejected"
        )
    if mixed:
        return ControlTotal(scope, check, expected, "", None, None, mixed)
    return ControlTotal(scope, check, expected, found, value == Decimal(found))
