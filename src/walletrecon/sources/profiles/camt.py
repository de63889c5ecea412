"""The ``camt`` profile: ISO 20022 bank statements (camt.053) and debit/credit notifications
(camt.054), versions .001.02 to .001.10, read into the canonical ``bank`` table.

One bank line per entry (``Ntry``). A batch entry stays one line: its transaction details
(``TxDtls``) add their references and remittance texts to the line's ``reference`` and feed the
batch checks. Signs, value dates and references: see ``camt_entries``; control figures: see
``camt_totals``; the XML parser and its safety settings: see ``camt_xml``.

Records (``rows + rejected + control == records``): every ``Ntry``, every ``Bal`` and every
``TxsSummry`` element is one record; the group header, statement headers, account blocks, batch
blocks (``Btch``) and transaction details are structure inside them. ``records`` is counted by a
plain scan of the text for those start tags, apart from the parser.

- An entry that maps becomes a row when it is booked: status BOOK, or no status at all (seen in
  real camt.053.001.08 files whose balances only add up with those entries booked; a warning
  says so). Entries with status PDNG, INFO or FUTR are read and checked but are not bank lines:
  money a bank has not booked cannot settle a payout, and the same entry arrives booked later
  (re-deliveries are judged by id). They are counted as control records. The option
  ``statuses = "BOOK,INFO"`` (any of BOOK, PDNG, INFO, FUTR; BOOK is always read) makes other
  statuses bank lines, e.g. for a bank that sends only camt.054 notifications with INFO.
- An entry that does not map (amount or currency missing or malformed, no CdtDbtInd, a bad date,
  an unknown status) is rejected with its element path and what was expected.
- Each ``Bal`` and each ``TxsSummry`` is a control record; their figures are checked.

``bank_line_id``: the entry's ``AcctSvcrRef`` (the bank's own unique reference) when the file
holds it once; otherwise ``<statement Id>/<NtryRef>`` when that entry reference is unique in its
statement; otherwise ``<statement Id>#<position>`` (1-based position of the entry in its
statement). A statement Id repeated in the file is made unique by ``@<statement position>``.
All are the file's own identifiers, so a file delivered again gives the same ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from walletrecon.errors import ConfigError, InputError
from walletrecon.schemas import SOURCES
from walletrecon.sources.profiles import (
    ControlLine,
    ControlTotal,
    ProfileResult,
    ProfileSpec,
    Rejection,
)
from walletrecon.sources.profiles.camt_batches import batch_totals
from walletrecon.sources.profiles.camt_entries import SIGNS, STATUSES, Entry, read_entry
from walletrecon.sources.profiles.camt_entries import amount_text as text_of
from walletrecon.sources.profiles.camt_totals import (
    Balance,
    balance_totals,
    page_chain,
    read_balance,
    summary_totals,
)
from walletrecon.sources.profiles.camt_xml import (
    MESSAGES,
    Document,
    Element,
    count_records,
    line_of,
    parse,
    raw_text,
)
from walletrecon.sources.profiles.text import decode_file, xml_encoding

BANK_COLUMNS = SOURCES["bank"].column_names
OPTIONS = ("statuses",)


@dataclass
class Statement:
    """One ``Stmt`` (camt.053) or ``Ntfctn`` (camt.054) read."""

    identifier: str
    scope: str
    entries: list[tuple[Entry, Element]] = field(default_factory=list)
    control: list[ControlLine] = field(default_factory=list)
    totals: list[ControlTotal] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)


def read(path: Path, spec: ProfileSpec) -> ProfileResult:
    """Read one camt.053/camt.054 file into canonical bank rows, rejections, control records
    and checked control totals."""
    name = spec.display or str(path)
    if spec.source != "bank":
        raise InputError(f"{name}: the camt profile feeds the bank source, not {spec.source!r}")
    wanted = booked_statuses(spec.options)
    text = decode_file(path, xml_encoding(path, spec.encoding), spec.display)
    doc = parse(text, name)
    statements = read_statements(doc, name)
    ids = line_ids(statements)
    result = ProfileResult("bank", rows=pa.table({}), records=count_records(text))
    rows: list[dict[str, object]] = []
    for statement in statements:
        result.control.extend(statement.control)
        result.totals.extend(statement.totals)
        result.warnings.extend(statement_warnings(name, statement, wanted))
        for entry, node in statement.entries:
            if entry.problem is not None:
                result.rejected.append(rejection(entry, node))
            elif entry.status is None or entry.status in wanted:
                rows.append(row(entry, ids[id(node)]))
            else:
                kind = f"entry {entry.status}: not booked"
                result.control.append(ControlLine(entry.line, kind, raw_text(node), entry.element))
    result.rows = table(rows)
    return result


def booked_statuses(options: Mapping[str, str]) -> frozenset[str]:
    """The entry statuses read as bank lines (option ``statuses``; BOOK always is)."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ConfigError(f"camt profile: unknown option(s) {', '.join(unknown)} (known: statuses)")
    raw = str(options.get("statuses", "BOOK"))
    chosen = frozenset(part.strip().upper() for part in raw.split(",") if part.strip())
    if not chosen or not chosen <= set(STATUSES):
        raise ConfigError(
            f"camt profile: option statuses = {raw!r}: expected a comma-separated list of "
            f"{', '.join(STATUSES)}"
        )
    return chosen | {"BOOK"}


def read_statements(doc: Document, name: str) -> list[Statement]:
    """Every statement (or notification) of the message, in file order."""
    message_name, statement_name = MESSAGES[doc.kind]
    nodes = doc.children(doc.message, statement_name)
    if not nodes:
        raise InputError(
            f"{name}: line {doc.message.sourceline}: {message_name}: expected at least one "
            f"<{statement_name}>"
        )
    message_id = doc.text(doc.message, "GrpHdr", "MsgId") or "message"
    header_day = day_of(doc.text(doc.message, "GrpHdr", "CreDtTm"))
    counts = Counter(doc.text(node, "Id") for node in nodes)
    statements = []
    for index, node in enumerate(nodes, start=1):
        path = f"Document/{message_name}/{statement_name}[{index}]"
        own_id = doc.text(node, "Id")
        identifier = own_id if own_id and counts[own_id] == 1 else f"{own_id or message_id}@{index}"
        statements.append(read_statement(doc, node, path, identifier, header_day))
        before = nodes[index - 2] if index > 1 else None
        if before is not None and _pages_of_one_statement(doc, before, node):
            chain = page_chain(
                statements[-1].scope, statements[-2].balances, statements[-1].balances
            )
            statements[-1].totals.extend(chain)
    return statements


def _pages_of_one_statement(doc: Document, before: Element, node: Element) -> bool:
    """Whether two consecutive statements are pages of one (same Id, both with StmtPgntn)."""
    paged = all(doc.child(n, "StmtPgntn") is not None for n in (before, node))
    return paged and doc.text(before, "Id") == doc.text(node, "Id")


def read_statement(
    doc: Document, node: Element, path: str, identifier: str, header_day: str | None
) -> Statement:
    """One statement's entries, control records and checked totals."""
    label = "statement" if doc.kind == "053" else "notification"
    statement = Statement(identifier, f"{label} {identifier} ({path})")
    statement.balances = balances = [
        read_balance(doc, bal, f"{path}/Bal[{i}]")
        for i, bal in enumerate(doc.children(node, "Bal"), start=1)
    ]
    for balance, bal in zip(balances, doc.children(node, "Bal"), strict=True):
        statement.control.append(control_line(f"balance {balance.code}", balance, bal))
    day = statement_day(doc, node, balances) or header_day
    for index, entry_node in enumerate(doc.children(node, "Ntry"), start=1):
        entry = read_entry(doc, entry_node, index, f"{path}/Ntry[{index}]", day)
        statement.entries.append((entry, entry_node))
        sign = SIGNS.get(doc.text(entry_node, "CdtDbtInd") or "", 1)
        statement.totals.extend(batch_totals(doc, entry_node, entry.element, statement.scope, sign))
    entries = [entry for entry, _ in statement.entries]
    statement.totals[:0] = balance_totals(statement.scope, balances, entries, doc.kind)
    for summary in doc.children(node, "TxsSummry"):
        where = f"{path}/TxsSummry"
        statement.control.append(
            ControlLine(line_of(summary), "transactions summary", raw_text(summary), where)
        )
        statement.totals.extend(summary_totals(doc, summary, where, statement.scope, entries))
    return statement


def control_line(kind: str, balance: Balance, node: Element) -> ControlLine:
    """A balance as a control record."""
    return ControlLine(balance.line, kind, raw_text(node), balance.element)


def statement_day(doc: Document, node: Element, balances: list[Balance]) -> str | None:
    """The statement's own date, for entries with neither ValDt nor BookgDt: the closing
    booked balance's date, else the end of the statement period (``FrToDt/ToDtTm``), else the
    statement's creation time (``CreDtTm``); the message's creation time comes last."""
    closing = [b.date for b in balances if b.code == "CLBD" and b.date]
    if closing:
        return closing[0]
    return day_of(doc.text(node, "FrToDt", "ToDtTm")) or day_of(doc.text(node, "CreDtTm"))


def day_of(moment: str | None) -> str | None:
    """The calendar date of an ISO 8601 date-time as written; None when absent or malformed."""
    if moment is None:
        return None
    try:
        return datetime.fromisoformat(moment).date().isoformat()
    except ValueError:
        return None


def line_ids(statements: list[Statement]) -> dict[int, str]:
    """``bank_line_id`` per entry element (keyed by ``id()`` of the element), as documented."""
    servicer = Counter(e.servicer_ref for s in statements for e, _ in s.entries if e.servicer_ref)
    ids: dict[int, str] = {}
    for statement in statements:
        own = Counter(e.entry_ref for e, _ in statement.entries if e.entry_ref)
        for entry, node in statement.entries:
            if entry.servicer_ref and servicer[entry.servicer_ref] == 1:
                ids[id(node)] = entry.servicer_ref
            elif entry.entry_ref and own[entry.entry_ref] == 1:
                ids[id(node)] = f"{statement.identifier}/{entry.entry_ref}"
            else:
                ids[id(node)] = f"{statement.identifier}#{entry.position}"
    return ids


def statement_warnings(name: str, statement: Statement, wanted: frozenset[str]) -> list[str]:
    """What a person should know about how a statement's entries were read."""
    entries = [entry for entry, _ in statement.entries if entry.problem is None]
    notes = []
    unstated = sum(1 for e in entries if e.status is None)
    if unstated:
        notes.append(f"{unstated} entries have no Sts: read as booked")
    dated = sum(1 for e in entries if e.dated_by_statement)
    if dated:
        notes.append(
            f"{dated} entries have neither ValDt nor BookgDt: value_date is the statement's"
        )
    skipped = Counter(e.status for e in entries if e.status and e.status not in wanted)
    for status, count in sorted(skipped.items()):
        notes.append(
            f"{count} entries are {status}, not booked: counted as control, not bank lines"
        )
    return [f"{name}: {statement.scope}: {note}" for note in notes]


def rejection(entry: Entry, node: Element) -> Rejection:
    """The rejected record of an entry that does not map."""
    assert entry.problem is not None
    column = entry.problem.column if entry.problem.column in BANK_COLUMNS else None
    return Rejection(entry.line, str(entry.problem), raw_text(node), column, entry.problem.element)


def row(entry: Entry, line_id: str) -> dict[str, object]:
    """The canonical bank row of a mapped entry."""
    assert entry.amount is not None
    return {
        "bank_line_id": line_id,
        "amount": text_of(entry.amount),
        "currency": entry.currency,
        "value_date": entry.value_date,
        "reference": entry.reference,
        "origin_row": entry.line,
        "origin_element": entry.element,
    }


def table(rows: list[dict[str, object]]) -> pa.Table:
    """The rows as the canonical bank table: nullable strings plus the origin columns."""
    columns: dict[str, pa.Array] = {
        name: pa.array([r[name] for r in rows], pa.string()) for name in BANK_COLUMNS
    }
    columns["origin_row"] = pa.array([r["origin_row"] for r in rows], pa.int64())
    columns["origin_element"] = pa.array([r["origin_element"] for r in rows], pa.string())
    return pa.table(columns)
