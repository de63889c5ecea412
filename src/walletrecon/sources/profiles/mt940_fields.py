"""The MT940 field layouts: balances (``:60F:`` ...), entries (``:61:``) and ``:86:`` text.

Amounts take a decimal comma (``300,``, ``0,01``) or, in legacy layouts, a dot
(``000000000300.00``); they stay Decimal. Two-digit years: a balance date takes the century
that puts it in 1980-2079; an entry's value date takes the century that puts it nearest the
statement's balance dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

#: Balance fields: opening/closing (final and intermediate), available balances.
BALANCE_TAGS = ("60F", "60M", "62F", "62M", "64", "65")

AMOUNT = re.compile(r"^\d+(?:[.,]\d*)?$")
BALANCE = re.compile(r"^(?P<mark>[CD])(?P<when>\d{6})(?P<cur>[A-Z]{3})(?P<amount>[\d.,]+)$")
ENTRY = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4}|\s{4})?(?P<mark>RC|RD|C|D)(?P<fund>[A-Z])?\s?"
    r"(?P<amount>\d[\d,.]*)\s?(?P<type>[NSF][A-Z0-9]{3})?(?P<rest>.*)$"
)
STRUCTURED = re.compile(r"^\d{3}\?")
SUBFIELD = re.compile(r"\?(\d\d)")
#: Subfields that wrap one text over several fields (purpose ?20-?29, ?60-?63).
WRAPPED = {f"{n:02d}" for n in (*range(20, 30), *range(60, 64))}


@dataclass(frozen=True)
class Balance:
    """A balance field: signed amount, date and currency."""

    amount: Decimal
    when: date
    currency: str


@dataclass(frozen=True)
class EntryParts:
    """The parts of one ``:61:`` entry."""

    value_date: date
    amount: Decimal
    customer_ref: str
    bank_ref: str
    details: str


def parse_amount(text: str) -> Decimal | None:
    """An unsigned MT940 amount (decimal comma or dot) or None when malformed."""
    if not AMOUNT.match(text):
        return None
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def statement_year(yy: int, near: list[int]) -> int:
    """The four-digit year of ``yy``: nearest the given years, else in 1980-2079."""
    if not near:
        return 1900 + yy if yy >= 80 else 2000 + yy
    base = near[0]
    candidates = [
        century + yy
        for century in (base // 100 * 100 - 100, base // 100 * 100, base // 100 * 100 + 100)
    ]
    return min(candidates, key=lambda year: abs(year - base))


def parse_date(text: str, near: list[int]) -> date | None:
    """A YYMMDD date (None when it is not a calendar date)."""
    try:
        return date(statement_year(int(text[:2]), near), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None


def parse_balance(value: str) -> Balance | None:
    """A balance field's value, or None when malformed."""
    match = BALANCE.match(value.strip())
    if not match:
        return None
    amount = parse_amount(match["amount"])
    when = parse_date(match["when"], [])
    if amount is None or when is None:
        return None
    return Balance(-amount if match["mark"] == "D" else amount, when, match["cur"])


def parse_entry(lines: list[str], years: list[int]) -> EntryParts | str:
    """A ``:61:`` entry's parts, or the reason it cannot be read (``column: expected ...``)."""
    match = ENTRY.match(lines[0].strip())
    if not match:
        return (
            "amount: expected ':61:' as YYMMDD[MMDD](C|D|RC|RD)[funds code]amount, "
            f"found {lines[0][:40]!r}"
        )
    when = parse_date(match["value"], years)
    if when is None:
        return f"value_date: expected a YYMMDD date, found {match['value']!r}"
    amount = parse_amount(match["amount"])
    if amount is None:
        return f"amount: expected digits with one decimal comma, found {match['amount']!r}"
    signed = -amount if match["mark"] in ("D", "RC") else amount
    customer, _, bank = match["rest"].partition("//")
    details = " ".join(line.strip() for line in lines[1:] if line.strip())
    return EntryParts(when, signed, customer.strip(), bank.strip(), details)


def info_text(lines: list[str]) -> str:
    """``:86:`` as readable text: ``?nn`` subfields joined, wrapped lines rejoined."""
    if not STRUCTURED.match(lines[0]):
        return " ".join(line.strip() for line in lines if line.strip())
    joined = "".join(lines)
    pieces = SUBFIELD.split(joined)
    out = pieces[0].strip()
    previous = ""
    for key, value in zip(pieces[1::2], pieces[2::2], strict=True):
        glue = "" if key in WRAPPED and previous in WRAPPED else " "
        out = (out + glue + value) if glue == "" else f"{out} {value.strip()}".strip()
        previous = key
    return out.strip()
