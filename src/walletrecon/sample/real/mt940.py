"""SWIFT MT940 statements written from a night's canonical bank rows.

One statement per currency (see ``bank_lines``), CRLF lines::

    :20:WR261117CNY            statement reference: night and currency
    :25:WRCNY001               account
    :28C:321/1                 statement number: day of the year of the night
    :60F:C261117CNY0,00        opening balance (zero)
    :61:2611171117C4082,20NTRFNONREF//BL00000002
    :86:ADYEN SETTLEMENT ...   the reference, wrapped at 65 characters on word breaks
    :62F:C261117CNY4082,20     closing balance = opening + lines
    -

Each ``:61:`` has the value date, the night as entry date, C/D from the sign (zero is C), the
amount with a decimal comma and the currency's decimals, type ``NTRF``, customer reference
``NONREF`` and the bank_line_id as the bank reference after ``//``.

Id mapping (the MT940 reader, ``sources/profiles/mt940``): the reader's ``bank_line_id`` is
positional, ``ACCOUNT:REF20:STATEMENT_NO:OPENED:N`` (N the line's place in its statement), and
its ``reference`` is the customer reference, the bank reference and the ``:86:`` text joined by
spaces: ``NONREF <bank_line_id> <reference>``. ``canonical_ids`` gives both.
"""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import polars as pl

from walletrecon.sample.real.bank_lines import (
    Line,
    Statement,
    clean_reference,
    major,
    statements,
    with_columns,
)

#: The customer reference of every line (the account owner gave none).
NO_REFERENCE = "NONREF"
WIDTH = 65


def canonical_ids(rows: pl.DataFrame, night: date | None = None) -> pl.DataFrame:
    """The canonical bank rows as the MT940 reader gives them back from ``write``."""
    found = statements(rows, night)
    positional: dict[str, str] = {}
    for statement in found:
        for position, line in enumerate(statement.lines, start=1):
            positional[line.line_id] = f"{_key(statement)}:{position}"
    ids = [positional[line_id] for line_id in rows["bank_line_id"]]
    references: list[str | None] = [
        " ".join(p for p in (NO_REFERENCE, line_id, clean_reference(text)) if p)
        for line_id, text in zip(rows["bank_line_id"], rows["reference"], strict=True)
    ]
    return with_columns(rows, ids, references)


def write(rows: pl.DataFrame, path: Path, night: date | None = None) -> None:
    """Write the rows as one MT940 file (same rows, same bytes)."""
    path.write_bytes(render(rows, night))


def render(rows: pl.DataFrame, night: date | None = None) -> bytes:
    """The MT940 text of the rows, one statement per currency, CRLF line ends."""
    lines: list[str] = []
    for statement in statements(rows, night):
        lines += _statement(statement)
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _key(statement: Statement) -> str:
    """``ACCOUNT:REF20:STATEMENT_NO:OPENED``, as the reader builds it."""
    return ":".join(
        (
            statement.account,
            _reference(statement),
            _number(statement),
            f"{statement.night:%y%m%d}",
        )
    )


def _reference(statement: Statement) -> str:
    """The ``:20:`` transaction reference of the statement."""
    return f"WR{statement.night:%y%m%d}{statement.currency}"


def _number(statement: Statement) -> str:
    """The ``:28C:`` statement number: the night's day of the year, page 1."""
    return f"{statement.night.timetuple().tm_yday}/1"


def _statement(statement: Statement) -> list[str]:
    """The fields of one statement, ending with ``-``."""
    lines = [
        f":20:{_reference(statement)}",
        f":25:{statement.account}",
        f":28C:{_number(statement)}",
        f":60F:{_balance(statement.opening, statement)}",
    ]
    for line in statement.lines:
        lines += _entry(line, statement.night)
    lines += [f":62F:{_balance(statement.closing, statement)}", "-"]
    return lines


def _balance(minor: int, statement: Statement) -> str:
    """A balance value: mark, date, currency, amount."""
    amount = _amount(minor, statement.currency)
    return f"{_mark(minor)}{statement.night:%y%m%d}{statement.currency}{amount}"


def _entry(line: Line, night: date) -> list[str]:
    """The ``:61:`` and ``:86:`` fields of one line."""
    amount = _amount(line.minor, line.currency)
    head = (
        f":61:{line.value_date:%y%m%d}{night:%m%d}{_mark(line.minor)}{amount}"
        f"NTRF{NO_REFERENCE}//{line.line_id}"
    )
    if not line.reference:
        return [head]
    text = textwrap.wrap(line.reference, WIDTH, break_long_words=True, break_on_hyphens=False)
    for part in text[1:]:
        if part.startswith((":", "-", "{")):
            raise ValueError(
                f"bank line {line.line_id}: reference: a wrapped line would start with "
                f"{part[0]!r}, which MT940 reads as structure"
            )
    return [head, f":86:{text[0]}", *text[1:]]


def _mark(minor: int) -> str:
    """C for money in (and zero), D for money out."""
    return "D" if minor < 0 else "C"


def _amount(minor: int, currency: str) -> str:
    """The unsigned amount with a decimal comma, e.g. ``4082,20``, ``8662,``."""
    text = major(minor, currency, signed=False)
    return text.replace(".", ",") if "." in text else f"{text},"
