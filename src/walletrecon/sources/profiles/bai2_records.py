"""BAI2 records: splitting a file into logical records and the fields of 03 and 16 records.

A record starts with a two-digit code and a comma and ends with ``/``; the text field of a 16
record runs to the end of the record (it may hold commas). Several records may share a
physical line (``.../ 16,...``) or be separated by the group separator (0x1D), and some
senders end records at the newline without ``/``. An ``88`` record continues the record
before it: for a 16 it adds text, otherwise fields. A 16 or 88 whose text lacks its ``/`` and
whose next physical line starts with no record code continues on that line (a line wrap).
Records sharing a line are written ``.../ 16,...``: a ``/`` glued to what looks like a record
code (``RENT 2026/03, FLAT 4``, ``INVOICES 2026/01,2026/02``) is text, not a boundary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from walletrecon.errors import InputError

CODES = ("01", "02", "03", "16", "88", "49", "98", "99")
#: A record boundary inside a physical line: ``/``, white space, a record code and a comma.
SPLIT = re.compile(r"/\s+(?=(?:0[123]|16|88|49|9[89]),)")
#: The ASCII group separator some senders end records with instead of a newline.
GS = "\x1d"
START = re.compile(r"^(\d\d),")
#: Extra fields each funds type adds after it (D: a count, then that many day/amount pairs).
FUNDS_EXTRA = {"": 0, "0": 0, "1": 0, "2": 0, "Z": 0, "V": 2, "S": 3}


@dataclass
class Record:
    """One logical record: code, fields text, continuations and its physical start line."""

    code: str
    body: str
    row: int
    raw: list[str] = field(default_factory=list)
    more: list[str] = field(default_factory=list)
    physical: int = 1


def records(text: str, name: str) -> list[Record]:
    """The logical records of the file with their 88 continuations attached."""
    out: list[Record] = []
    open_text = False
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        for piece in (p for part in line.split(GS) for p in SPLIT.split(part.strip()) if p):
            body = piece.rstrip()
            terminated = body.endswith("/")
            body = body[:-1] if terminated else body
            match = START.match(body)
            if open_text and not match and out:
                # a record wrapped onto the next physical line without an 88
                _extend(out[-1], body, piece)
                open_text = not terminated
                continue
            open_text = not terminated and match is not None and match.group(1) in ("16", "88")
            if not match or match.group(1) not in CODES:
                raise InputError(
                    f"{name}: line {number}: expected a BAI2 record code "
                    f"({', '.join(CODES)}) and a comma, found {piece[:30]!r}"
                )
            if match.group(1) == "88":
                if not out:
                    raise InputError(f"{name}: line {number}: 88 continuation before any record")
                out[-1].more.append(body[3:])
                out[-1].raw.append(piece)
                out[-1].physical += 1
            else:
                out.append(Record(match.group(1), body[3:], number, [piece]))
    return out


def _extend(record: Record, body: str, piece: str) -> None:
    """Append a wrapped physical line to the record's last text."""
    if record.more:
        record.more[-1] += " " + body.strip()
    else:
        record.body += " " + body.strip()
    record.raw.append(piece)


def funds_width(fields: list[str], at: int, name: str, row: int) -> int:
    """How many fields the funds type at ``fields[at]`` takes, itself included."""
    kind = fields[at].strip() if at < len(fields) else ""
    if kind == "D":
        try:
            return 2 + 2 * int(fields[at + 1])
        except (IndexError, ValueError) as exc:
            raise InputError(
                f"{name}: line {row}: funds type D: expected a distribution count"
            ) from exc
    if kind not in FUNDS_EXTRA:
        raise InputError(
            f"{name}: line {row}: funds type: expected 0, 1, 2, V, S, D or Z, found {kind!r}"
        )
    return 1 + FUNDS_EXTRA[kind]


def summary_amounts(fields: list[str], name: str, row: int) -> list[str]:
    """The amounts of an 03 record's (type code, amount, count, funds type) groups."""
    amounts: list[str] = []
    at = 0
    while at < len(fields):
        if fields[at].strip() and at + 1 < len(fields) and fields[at + 1].strip():
            amounts.append(fields[at + 1].strip())
        at += 3 + funds_width(fields, at + 3, name, row) if at + 3 < len(fields) else 4
    return amounts
