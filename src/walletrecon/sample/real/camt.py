"""camt.053.001.08 bank statements written from a night's canonical bank rows.

One ``Stmt`` per currency (see ``bank_lines``) with the opening (``OPBD``) and closing (``CLBD``)
booked balances, which hold, and one booked ``Ntry`` per row in input order: ``Amt`` with its
``Ccy`` and ``CdtDbtInd`` from the sign (zero is a credit), ``BookgDt`` the night, ``ValDt`` the
value date, ``AcctSvcrRef`` the bank_line_id and the reference in ``NtryDtls/TxDtls/RmtInf/Ustrd``.

Id mapping (the camt reader, ``sources/profiles/camt``): ``bank_line_id`` is ``AcctSvcrRef``
when unique in the file, which it is for unique canonical ids, so it comes back unchanged. The
reader's ``reference`` joins ``AcctSvcrRef`` and ``Ustrd`` with `` | `` (each text once, runs of
whitespace as one space, ``NOTPROVIDED`` left out): ``canonical_ids`` gives exactly that. The
reader gives the rows back statement by statement, i.e. grouped by currency.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from lxml import etree

from walletrecon.sample.real.bank_lines import (
    Line,
    Statement,
    clean_reference,
    major,
    statements,
    with_columns,
)

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def canonical_ids(rows: pl.DataFrame) -> pl.DataFrame:
    """The canonical bank rows as the camt reader gives them back from ``write``."""
    references: list[str | None] = []
    for line_id, reference in zip(rows["bank_line_id"], rows["reference"], strict=True):
        text = clean_reference(reference)
        parts = [line_id] + ([text] if text and text != line_id else [])
        parts = [p for p in parts if p.upper() != "NOTPROVIDED"]
        references.append(" | ".join(parts) or None)
    return with_columns(rows, list(rows["bank_line_id"]), references)


def write(rows: pl.DataFrame, path: Path, night: date | None = None) -> None:
    """Write the rows as one camt.053.001.08 file (same rows, same bytes)."""
    path.write_bytes(render(rows, night))


def render(rows: pl.DataFrame, night: date | None = None) -> bytes:
    """The camt.053.001.08 document of the rows, UTF-8 with an XML declaration."""
    found = statements(rows, night)
    day = found[0].night
    # the default namespace: lxml takes None as its prefix, which its stubs do not allow
    root = etree.Element(_tag("Document"), nsmap={None: NAMESPACE})  # type: ignore[dict-item]
    message = _sub(root, "BkToCstmrStmt")
    header = _sub(message, "GrpHdr")
    _sub(header, "MsgId", f"WR{day:%Y%m%d}")
    _sub(header, "CreDtTm", _moment(day))
    for statement in found:
        _statement(message, statement)
    etree.indent(root)
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True))


def _statement(message: etree._Element, statement: Statement) -> None:
    """One ``Stmt``: id, account, both balances and the entries."""
    node = _sub(message, "Stmt")
    _sub(node, "Id", f"WR{statement.night:%Y%m%d}{statement.currency}")
    _sub(node, "CreDtTm", _moment(statement.night))
    account = _sub(node, "Acct")
    _sub(_sub(_sub(account, "Id"), "Othr"), "Id", statement.account)
    _sub(account, "Ccy", statement.currency)
    _balance(node, "OPBD", statement.opening, statement)
    _balance(node, "CLBD", statement.closing, statement)
    for line in statement.lines:
        _entry(node, line, statement.night)


def _balance(parent: etree._Element, code: str, minor: int, statement: Statement) -> None:
    """A ``Bal`` of the given type, signed by ``CdtDbtInd``."""
    node = _sub(parent, "Bal")
    _sub(_sub(_sub(node, "Tp"), "CdOrPrtry"), "Cd", code)
    _amount(node, minor, statement.currency)
    _sub(_sub(node, "Dt"), "Dt", statement.night.isoformat())


def _entry(parent: etree._Element, line: Line, night: date) -> None:
    """One booked ``Ntry``."""
    node = _sub(parent, "Ntry")
    _amount(node, line.minor, line.currency)
    _sub(_sub(node, "Sts"), "Cd", "BOOK")
    _sub(_sub(node, "BookgDt"), "Dt", night.isoformat())
    _sub(_sub(node, "ValDt"), "Dt", line.value_date.isoformat())
    _sub(node, "AcctSvcrRef", line.line_id)
    _sub(_sub(_sub(node, "BkTxCd"), "Prtry"), "Cd", "NTRF")
    if line.reference:
        details = _sub(_sub(node, "NtryDtls"), "TxDtls")
        _sub(_sub(details, "RmtInf"), "Ustrd", line.reference)


def _amount(parent: etree._Element, minor: int, currency: str) -> None:
    """``Amt`` (unsigned, with ``Ccy``) and ``CdtDbtInd`` (DBIT for a negative amount)."""
    amount = _sub(parent, "Amt", major(minor, currency, signed=False))
    amount.set("Ccy", currency)
    _sub(parent, "CdtDbtInd", "DBIT" if minor < 0 else "CRDT")


def _moment(day: date) -> str:
    """The statement's creation time: the end of the night, UTC."""
    return f"{day.isoformat()}T23:59:59+00:00"


def _tag(name: str) -> str:
    """An element name in the camt.053.001.08 namespace."""
    return f"{{{NAMESPACE}}}{name}"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    """A child element in the namespace, with its text."""
    node = etree.SubElement(parent, _tag(name))
    node.text = text
    return node
