"""SWIFT MT940 customer statements: one bank line per ``:61:`` with its ``:86:`` text.

A thin tokenizer of our own: a field starts at a line beginning ``:NN[A-Z]?:`` (or ``:NS:``)
and runs over its continuation lines. SWIFT FIN envelopes (``{1:..}{4:`` and ``-}{5:..}``),
free-text preambles before the first tag, ``:940:`` header lines, banks' non-SWIFT ``:NS:``
fields, SOH/ETX framing, the DOS EOF byte, CRLF and blank lines are structure and skipped.
(The ``mt-940`` package was tried on every sample: it fails on the ASN Bank file, reads 1 of 39
Rabobank lines and keeps no line numbers.)

What counts as a record (``records``): every ``:61:`` line (a bank row, or rejected) and every
balance field ``:60F:``/``:60M:``/``:62F:``/``:62M:``/``:64:``/``:65:`` (control). A ``:86:``
not tied to a ``:61:`` is statement information, not a record.

Sign: ``C`` and ``RD`` (reversal of a debit) are money in; ``D`` and ``RC`` money out.
``bank_line_id`` is ``ACCOUNT:REF20:STATEMENT_NO:OPENED:N`` (``:25:``, ``:20:``,
``:28C:``/``:28:``, the opening balance's YYMMDD and the line's position in the statement):
banks repeat ``:20:`` or ``:28C:`` across days, the four together identify a statement; a
repeat within one file is an InputError.
Control total per statement: opening + lines = closing (``:60x:`` and ``:62x:``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from walletrecon.errors import InputError
from walletrecon.schemas import SOURCES
from walletrecon.sources.profiles import (
    ControlLine,
    ControlTotal,
    ProfileResult,
    ProfileSpec,
    Rejection,
)
from walletrecon.sources.profiles.mt940_fields import (
    BALANCE_TAGS,
    Balance,
    EntryParts,
    info_text,
    parse_balance,
    parse_entry,
)
from walletrecon.sources.profiles.text import decode_file, major_text

#: The ``[inputs.options]`` keys this profile reads; any other key is a configuration error.
OPTIONS: tuple[str, ...] = ()

TAG = re.compile(r"^:(\d\d[A-Z]?|NS):(.*)$")
#: A bank's own non-SWIFT field (German banks' ``:NS:``, after a ``:61:`` or ``:86:``): a field of
#: its own, never part of a line's text, and skipped.
NON_SWIFT = "NS"
#: SWIFT FIN envelope blocks (``{1:..}``) and the end of a message text (``-`` or ``-}``).
ENVELOPE = re.compile(r"^(?:\{\d:|-$|-\})")
FRAMING = str.maketrans("", "", "\x01\x03\x1a")
RECORD_TAGS = ("61", *BALANCE_TAGS)
COUNT = re.compile(r"^:(?:61|60[FM]|62[FM]|64|65):", re.MULTILINE)


@dataclass
class Field:
    """One tag with its value lines and the physical line it starts on."""

    tag: str
    row: int
    lines: list[str]

    @property
    def value(self) -> str:
        """The value with continuation lines joined by newlines."""
        return "\n".join(self.lines)


@dataclass
class Statement:
    """The fields of one statement (from ``:20:`` to the next ``:20:``)."""

    row: int
    fields: dict[str, str] = field(default_factory=dict)
    entries: list[tuple[Field, list[Field]]] = field(default_factory=list)
    balances: list[Field] = field(default_factory=list)


def tokenize(text: str, name: str) -> list[Field]:
    """The tag fields of the file in order, with their start lines."""
    fields: list[Field] = []
    current: Field | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.translate(FRAMING).rstrip()
        if line.startswith("$"):
            # SWIFT's RJE files part messages with '$', alone or before the next ':20:'.
            current, line = None, line[1:]
        match = TAG.match(line)
        if match and match.group(1) != "940":
            current = Field(match.group(1), number, [match.group(2)])
            fields.append(current)
        elif not line.strip() or line.strip() == ":940:":
            continue
        elif ENVELOPE.match(line):
            current = None
        elif current is not None:
            current.lines.append(line)
        elif fields:
            raise InputError(
                f"{name}: line {number}: expected a tag such as ':61:' or an end of message "
                f"'-', found {line[:40]!r}"
            )
    return fields


def group(fields: list[Field], name: str) -> list[Statement]:
    """Fields gathered into statements; each ``:61:`` keeps the ``:86:`` fields after it."""
    statements: list[Statement] = []
    previous = ""
    for item in fields:
        if item.tag == NON_SWIFT:
            continue  # a ``:86:`` after it still belongs to the line before it
        if item.tag == "20":
            statements.append(Statement(item.row))
        elif not statements:
            raise InputError(f"{name}: line {item.row}: expected ':20:' before ':{item.tag}:'")
        stmt = statements[-1]
        if item.tag == "61":
            stmt.entries.append((item, []))
        elif item.tag == "86" and previous in ("61", "86") and stmt.entries:
            stmt.entries[-1][1].append(item)
        elif item.tag in BALANCE_TAGS:
            if len(item.lines) > 1:
                raise InputError(
                    f"{name}: line {item.row}: a ':{item.tag}:' balance takes one line; the "
                    f"line after it holds {item.lines[1][:40]!r}, expected a tag or an end of "
                    "message '-'"
                )
            stmt.balances.append(item)
        elif item.tag == "86":
            stmt.fields["86"] = (stmt.fields.get("86", "") + " " + info_text(item.lines)).strip()
        else:
            stmt.fields.setdefault(item.tag, item.value.strip())
        previous = item.tag if item.tag != "86" or previous in ("61", "86") else "86s"
    return statements


def read(path: Path, spec: ProfileSpec) -> ProfileResult:
    """Read one MT940 file into bank rows, balance control lines and statement totals."""
    name = spec.display or str(path)
    text = decode_file(path, spec.encoding, spec.display)
    statements = group(tokenize(text, name), name)
    if not statements:
        raise InputError(f"{name}: no MT940 statement; expected a ':20:' line")
    builder = _Builder(name)
    for stmt in statements:
        builder.statement(stmt)
    columns = SOURCES[spec.source].column_names
    data: dict[str, pa.Array] = {
        col: pa.array([row.get(col) for row in builder.rows], pa.string()) for col in columns
    }
    data["origin_row"] = pa.array(builder.origins, pa.int64())
    data["origin_element"] = pa.array([None] * len(builder.origins), pa.string())
    return ProfileResult(
        source=spec.source,
        rows=pa.table(data),
        rejected=builder.rejected,
        control=builder.control,
        totals=builder.totals,
        warnings=builder.warnings,
        records=len(COUNT.findall(text.translate(FRAMING))),
    )


class _Builder:
    """Turns statements into rows, rejections, control lines and totals."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[dict[str, str | None]] = []
        self.origins: list[int] = []
        self.rejected: list[Rejection] = []
        self.control: list[ControlLine] = []
        self.totals: list[ControlTotal] = []
        self.warnings: list[str] = []
        self.ids: dict[str, int] = {}

    def statement(self, stmt: Statement) -> None:
        """Map one statement: its balances, its entries, then its control total."""
        account = stmt.fields.get("25")
        number = stmt.fields.get("28C", stmt.fields.get("28"))
        if not account:
            raise InputError(f"{self.name}: line {stmt.row}: statement without ':25:' account")
        scope = f"statement {stmt.fields.get('20', '')} account {account} no. {number or '-'}"
        balances: dict[str, Balance | None] = {}
        for item in stmt.balances:
            self.control.append(ControlLine(item.row, f"balance {item.tag}", item.value))
            balances.setdefault(item.tag[:2], parse_balance(item.value))
        opening, closing = balances.get("60"), balances.get("62")
        known = opening or closing
        currency = known.currency if known is not None else None
        years = [b.when.year for b in (opening, closing) if b is not None]
        opened = next((b.value.strip()[1:7] for b in stmt.balances if b.tag[:2] == "60"), "")
        key = f"{account}:{stmt.fields.get('20', '')}:{number or ''}:{opened}"
        total, before = Decimal(0), len(self.rejected)
        for position, (entry, infos) in enumerate(stmt.entries, start=1):
            line_id = f"{key}:{position}"
            amount = self.entry(entry, infos, line_id, currency, years)
            total += amount if amount is not None else Decimal(0)
        rejected = len(self.rejected) > before
        self.totals.append(_check(scope, opening, closing, total, rejected))

    def entry(
        self, entry: Field, infos: list[Field], line_id: str, currency: str | None, years: list[int]
    ) -> Decimal | None:
        """One ``:61:`` as a row (its signed amount) or a rejection (None)."""
        raw = "\n".join([entry.value, *(i.value for i in infos)])
        parts = parse_entry(entry.lines, years)
        if isinstance(parts, str) or currency is None:
            reason = parts if isinstance(parts, str) else "currency: no balance field names one"
            column = reason.split(":", 1)[0]
            self.rejected.append(Rejection(entry.row, f"{self.name}: {reason}", raw, column))
            return None
        if line_id in self.ids:
            raise InputError(
                f"{self.name}: line {entry.row}: bank_line_id {line_id} repeats line "
                f"{self.ids[line_id]}; expected statements with distinct :20:/:28C:"
            )
        self.ids[line_id] = entry.row
        self.rows.append(_row(parts, infos, line_id, currency))
        self.origins.append(entry.row)
        return parts.amount


def _row(
    parts: EntryParts, infos: list[Field], line_id: str, currency: str
) -> dict[str, str | None]:
    """The canonical bank row of one entry."""
    texts = [parts.customer_ref, parts.bank_ref, parts.details]
    texts += [info_text(i.lines) for i in infos]
    reference = " ".join(t for t in texts if t)
    return {
        "bank_line_id": line_id,
        "amount": major_text(parts.amount),
        "currency": currency,
        "value_date": parts.value_date.isoformat(),
        "reference": reference or None,
    }


def _check(
    scope: str,
    opening: Balance | None,
    closing: Balance | None,
    total: Decimal,
    rejected: bool,
) -> ControlTotal:
    """Opening + lines = closing for one statement, or an unchecked total with its reason."""
    check = "opening balance + lines = closing balance"
    missing = (
        "no opening balance" if opening is None else "no closing balance" if closing is None else ""
    )
    if opening is None or closing is None:
        return ControlTotal(scope, check, "", "", None, note=f"{missing} (or malformed)")
    if opening.currency != closing.currency:
        note = f"opening in {opening.currency}, closing in {closing.currency}"
        return ControlTotal(scope, check, "", "", None, note=note)
    found = opening.amount + total
    holds = found == closing.amount
    note = "rejected lines are not in the sum" if rejected else ""
    return ControlTotal(
        scope, check, major_text(closing.amount), major_text(found), holds, opening.currency, note
    )
