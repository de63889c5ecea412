"""One camt entry (``Ntry``) read: signed amount, currency, status, value date and reference.

Sign. The amount of an entry is never signed in the XML; ``CdtDbtInd`` gives the direction of
the booking itself: CRDT is money in (+), DBIT money out (-). ``RvslInd=true`` does not flip it:
by the ISO 20022 usage rule for the reversal indicator, a CRDT entry with ``RvslInd=true`` reverses
an earlier debit and a DBIT entry with ``RvslInd=true`` reverses an earlier credit, so a reversed
credit arrives as DBIT and is money out. The indicator already carries the net effect (the
PostFinance sample's balances only add up this way).

Value date: ``ValDt`` (``Dt`` or the date part of ``DtTm`` as written, in the bank's offset),
then ``BookgDt``, then the statement's own date (see ``statement_date`` in the profile).

Reference: the entry's identifiers and remittance texts, each kept once, in this fixed order,
joined by `` | ``: NtryRef, AcctSvcrRef (the entry's, then each TxDtls's), EndToEndId, TxId,
PmtInfId (batch, then TxDtls), MsgId (batch, then TxDtls), InstrId, RmtInf/Ustrd (every one),
RmtInf/Strd/CdtrRefInf/Ref, RmtInf/Strd/RfrdDocInf/Nb, RmtInf/Strd/AddtlRmtInf, AddtlNtryInf,
AddtlTxInf. The placeholders banks write where a
reference is mandatory but unknown (``NOTPROVIDED`` of the SEPA rulebooks, ``NONREF`` of the
SWIFT MT heritage, ``NOT PROVIDED``) are left out of the reference, and an ``AcctSvcrRef`` or
``NtryRef`` that is a placeholder never becomes a ``bank_line_id``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from walletrecon.money import exponent_of, to_minor
from walletrecon.sources.profiles.camt_xml import Document, Element, line_of
from walletrecon.sources.profiles.text import major_text

#: ISO 20022 entry status codes (``Sts``, ``Sts/Cd`` from .08 on).
STATUSES = ("BOOK", "PDNG", "INFO", "FUTR")
SIGNS = {"CRDT": 1, "DBIT": -1}
_AMOUNT = re.compile(r"\d+(?:\.\d+)?")
_PLACEHOLDERS = frozenset({"NOTPROVIDED", "NOT PROVIDED", "NONREF"})
_SPACES = re.compile(r"\s+")
_TX = ("NtryDtls", "TxDtls")
#: (paths under Ntry) per reference kind, in the order the reference is written.
REFERENCE_PATHS: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("NtryRef",),),
    (("AcctSvcrRef",), (*_TX, "Refs", "AcctSvcrRef")),
    ((*_TX, "Refs", "EndToEndId"),),
    ((*_TX, "Refs", "TxId"),),
    (("NtryDtls", "Btch", "PmtInfId"), (*_TX, "Refs", "PmtInfId")),
    (("NtryDtls", "Btch", "MsgId"), (*_TX, "Refs", "MsgId")),
    ((*_TX, "Refs", "InstrId"),),
    ((*_TX, "RmtInf", "Ustrd"),),
    ((*_TX, "RmtInf", "Strd", "CdtrRefInf", "Ref"),),
    ((*_TX, "RmtInf", "Strd", "RfrdDocInf", "Nb"),),
    ((*_TX, "RmtInf", "Strd", "AddtlRmtInf"),),
    (("AddtlNtryInf",),),
    ((*_TX, "AddtlTxInf"),),
)

_ALL_REFERENCE_PATHS = tuple(path for paths in REFERENCE_PATHS for path in paths)
#: The kind (position in REFERENCE_PATHS) of each reference element by its local name.
_REFERENCE_KIND = {path[-1]: kind for kind, paths in enumerate(REFERENCE_PATHS) for path in paths}


class EntryError(Exception):
    """Why an entry cannot be a bank line: the canonical column, the element and the reason."""

    def __init__(self, column: str, element: str, reason: str) -> None:
        super().__init__(f"{element}: {reason}")
        self.column = column
        self.element = element
        self.reason = reason


@dataclass(frozen=True)
class Entry:
    """What one ``Ntry`` says; ``problem`` is set when it cannot be mapped."""

    position: int
    element: str
    line: int
    status: str | None
    amount: Decimal | None = None
    #: ``CRDT`` or ``DBIT``: what the entry is, even at a zero amount.
    indicator: str | None = None
    currency: str | None = None
    value_date: str | None = None
    dated_by_statement: bool = False
    reference: str | None = None
    servicer_ref: str | None = None
    entry_ref: str | None = None
    problem: EntryError | None = None


def signed_amount(doc: Document, parent: Element, path: str) -> tuple[Decimal, str]:
    """The amount of an element with ``Amt`` (with ``Ccy``) and ``CdtDbtInd``, signed: CRDT +,
    DBIT -. EntryError naming the element and what was expected."""
    value, currency = amount_of(doc, parent, path, "Amt")
    indicator = doc.text(parent, "CdtDbtInd")
    if indicator not in SIGNS:
        raise EntryError(
            "amount", f"{path}/CdtDbtInd", f"expected CRDT or DBIT, found {indicator!r}"
        )
    return value * SIGNS[indicator], currency


def amount_of(doc: Document, parent: Element, path: str, *names: str) -> tuple[Decimal, str]:
    """An unsigned ISO 20022 amount and its ``Ccy``: digits with an optional ``.`` fraction,
    no finer than the currency's minor unit. EntryError otherwise."""
    where = "/".join((path, *names))
    node = doc.child(parent, *names)
    if node is None:
        raise EntryError("amount", where, "missing; expected the amount")
    text = (node.text or "").strip()
    if not _AMOUNT.fullmatch(text):
        raise EntryError(
            "amount",
            where,
            f"{text!r} is not an amount; expected digits with an optional "
            "'.' and decimals, no sign (e.g. 1250.50)",
        )
    currency = (node.get("Ccy") or "").strip()
    try:
        exponent_of(currency)
    except KeyError:
        raise EntryError(
            "currency", f"{where}/@Ccy", f"{currency!r} is not an ISO 4217 currency code"
        ) from None
    value = Decimal(text)
    try:
        to_minor(value, currency)
    except ValueError as exc:
        raise EntryError("amount", where, str(exc)) from None
    return value, currency


def date_of(doc: Document, parent: Element | None, path: str, name: str) -> str | None:
    """The date of a ``Dt``/``DtTm`` choice under ``name`` (``YYYY-MM-DD``); a ``DtTm`` keeps
    its calendar date as written. None when absent; EntryError when malformed."""
    holder = doc.child(parent, name)
    if holder is None:
        return None
    day, moment = doc.text(holder, "Dt"), doc.text(holder, "DtTm")
    try:
        return _iso_date(day, moment)
    except ValueError:
        found = day if day is not None else moment
        raise EntryError(
            "value_date",
            f"{path}/{name}",
            f"{found!r} is not a date; expected Dt as YYYY-MM-DD or DtTm as an ISO 8601 date-time",
        ) from None


#: An ``xs:date`` (ISODate): the day, and an optional zone (``Z`` or ``±HH:MM``) that does not
#: change the day written.
_XS_DATE = re.compile(r"\A([0-9]{4}-[0-9]{2}-[0-9]{2})(?:Z|[+-](?:0[0-9]|1[0-4]):[0-5][0-9])?\Z")


def _iso_date(day: str | None, moment: str | None) -> str | None:
    """``YYYY-MM-DD`` of a ``Dt`` (an ``xs:date``, its zone if any left aside) or the date part
    of a ``DtTm``; ValueError when malformed."""
    if day is not None:
        written = _XS_DATE.match(day)
        if written is None:
            raise ValueError(day)
        return date.fromisoformat(written.group(1)).isoformat()
    if moment is not None:
        return datetime.fromisoformat(moment).date().isoformat()
    return None


def status_of(doc: Document, entry: Element) -> str | None:
    """The entry's status code: ``Sts`` text (up to .07) or ``Sts/Cd``/``Sts/Prtry`` (.08 on);
    None when the entry has no ``Sts``."""
    return doc.text(entry, "Sts") or doc.text(entry, "Sts", "Cd") or doc.text(entry, "Sts", "Prtry")


def reference_of(doc: Document, entry: Element) -> str | None:
    """The entry's references and remittance texts, deduplicated, in the fixed order above."""
    found = doc.elements(entry, _ALL_REFERENCE_PATHS)
    found.sort(key=lambda node: _REFERENCE_KIND[str(node.tag).rpartition("}")[2]])
    seen: dict[str, None] = {}
    for node in found:
        text = _SPACES.sub(" ", node.text or "").strip()
        if text and text.upper() not in _PLACEHOLDERS:
            seen.setdefault(text, None)
    return " | ".join(seen) or None


def own_reference(text: str | None) -> str | None:
    """An identifier of the entry itself, None when absent or a placeholder."""
    if text is None or _SPACES.sub(" ", text).strip().upper() in _PLACEHOLDERS:
        return None
    return text


def read_entry(
    doc: Document, entry: Element, position: int, path: str, statement_date: str | None
) -> Entry:
    """Read one ``Ntry``; a mapping problem is kept on the Entry, never raised."""
    status = status_of(doc, entry)
    base = Entry(
        position,
        path,
        line_of(entry),
        status,
        servicer_ref=own_reference(doc.text(entry, "AcctSvcrRef")),
        entry_ref=own_reference(doc.text(entry, "NtryRef")),
    )
    try:
        if status is not None and status not in STATUSES:
            raise EntryError(
                "status", f"{path}/Sts", f"expected one of {', '.join(STATUSES)}, found {status!r}"
            )
        amount, currency = signed_amount(doc, entry, path)
        value_date = date_of(doc, entry, path, "ValDt") or date_of(doc, entry, path, "BookgDt")
        if value_date is None and statement_date is None:
            raise EntryError(
                "value_date", path, "no ValDt or BookgDt, and the statement carries no date"
            )
    except EntryError as problem:
        return replace(base, problem=problem)
    return replace(
        base,
        amount=amount,
        indicator=doc.text(entry, "CdtDbtInd"),
        currency=currency,
        value_date=value_date or statement_date,
        dated_by_statement=value_date is None,
        reference=reference_of(doc, entry),
    )


def amount_text(value: Decimal) -> str:
    """A signed amount as canonical decimal text in major units."""
    return major_text(value)
