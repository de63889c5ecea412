"""BAI2 balance reports written from a night's canonical bank rows.

One file, one group (``02``, as of the night, final previous-day), one account (``03``) per
currency (see ``bank_lines``) with its opening (type 010) and closing (type 015) ledger
balances, and one ``16`` per row in input order::

    01,WALLETRECON,WRBANK,261117,2359,261117,,,2/
    02,WRBANK,WALLETRECON,1,261117,2359,USD,2/
    03,WRCNY001,CNY,010,0,,,015,798981,,/
    16,195,408220,V,261117,,BL00000002,,ADYEN SETTLEMENT PO-adyen-CNY-20261116 BATCH 15/
    88,...                      text beyond 80 characters a record, split on word breaks
    49,1597962,6/               account total (03 amounts and unsigned 16 amounts), records
    98,...,4,22/                group total, accounts, records (02 to 98)
    99,...,1,24/                file total, groups, records (01 to 99)

Amounts are unsigned minor units; the type code carries the sign: 195 (incoming transfer) for
money in and zero, 495 (outgoing transfer) for money out; balances are signed. Funds type ``V``
gives the row's value date. The bank reference is the bank_line_id, the customer reference is
empty, the text is the reference.

Id mapping (the BAI2 reader, ``sources/profiles/bai2``): ``bank_line_id`` is
``ACCOUNT:BANKREF`` (the bank reference is unique), i.e. ``WR<CCY>001:<bank_line_id>``, and
``reference`` the bank reference and the text joined by a space: ``<bank_line_id> <reference>``.
``canonical_ids`` gives both.
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
    statements,
    with_columns,
)

SENDER, RECEIVER = "WRBANK", "WALLETRECON"
CREDIT, DEBIT = 195, 495
OPENING, CLOSING = "010", "015"
#: The longest physical record; a longer 16 text goes on in 88 records.
WIDTH = 80


def canonical_ids(rows: pl.DataFrame) -> pl.DataFrame:
    """The canonical bank rows as the BAI2 reader gives them back from ``write``."""
    pairs = zip(rows["bank_line_id"], rows["currency"], rows["reference"], strict=True)
    ids, references = [], []
    for line_id, currency, text in pairs:
        ids.append(f"{Statement(currency, date.min, ()).account}:{line_id}")
        references.append(" ".join(p for p in (line_id, clean_reference(text)) if p))
    return with_columns(rows, ids, list[str | None](references))


def write(rows: pl.DataFrame, path: Path, night: date | None = None) -> None:
    """Write the rows as one BAI2 file (same rows, same bytes)."""
    path.write_bytes(render(rows, night))


def render(rows: pl.DataFrame, night: date | None = None) -> bytes:
    """The BAI2 text of the rows with every control total and record count."""
    found = statements(rows, night)
    day = f"{found[0].night:%y%m%d}"
    accounts = [_account(statement) for statement in found]
    group = [f"02,{RECEIVER},{SENDER},1,{day},2359,USD,2", *(r for a, _ in accounts for r in a)]
    group_total = sum(total for _, total in accounts)
    group.append(f"98,{group_total},{len(accounts)},{len(group) + 1}")
    body = [f"01,{SENDER},{RECEIVER},{day},2359,{day},,,2", *group]
    body.append(f"99,{group_total},1,{len(body) + 1}")
    return "".join(f"{record}/\n" for record in body).encode("utf-8")


def _account(statement: Statement) -> tuple[list[str], int]:
    """The 03 to 49 records of one account and its control total (minor units)."""
    records = [
        f"03,{statement.account},{statement.currency},{OPENING},{statement.opening},,,"
        f"{CLOSING},{statement.closing},,"
    ]
    for line in statement.lines:
        records += _detail(line)
    total = statement.opening + statement.closing + sum(abs(line.minor) for line in statement.lines)
    records.append(f"49,{total},{len(records) + 1}")
    return records, total


def _detail(line: Line) -> list[str]:
    """The 16 record of one line and its 88 continuations."""
    code = DEBIT if line.minor < 0 else CREDIT
    head = f"16,{code},{abs(line.minor)},V,{line.value_date:%y%m%d},,{line.line_id},,"
    if "/" in line.reference:
        raise ValueError(f"bank line {line.line_id}: reference: '/' ends a BAI2 record")
    if not line.reference:
        return [head]
    room = max(WIDTH - len(head) - 1, 20)
    if len(line.reference) <= room:
        return [head + line.reference]
    parts = textwrap.wrap(line.reference, room, break_long_words=False, break_on_hyphens=False)
    more = textwrap.wrap(
        " ".join(parts[1:]), WIDTH - 4, break_long_words=False, break_on_hyphens=False
    )
    return [head + parts[0], *(f"88,{part}" for part in more)]
