"""A night's canonical bank rows grouped into statements, shared by the bank writers.

camt.053, MT940 and BAI2 all carry one statement (account) per currency with an opening and a
closing balance, so the three writers start from the same grouping: the rows of each currency,
in input order, currencies in alphabetical order. Everything is derived from the rows and the
night, so the same rows give the same bytes:

- the account of a currency is ``WR<CCY>001``;
- the opening balance is zero, the closing balance the signed sum of the lines;
- the night (statement date) is the latest value date, or the date given by the caller (needed
  for a night without bank lines, which becomes one empty ``USD`` statement).

A row the formats cannot carry (an amount that is not a plain decimal in the currency's minor
unit, an unknown currency, a value date that is not ``YYYY-MM-DD``) is a ValueError naming the
row and column: the canonical generator never writes broken bank rows. So is a repeated
bank_line_id: the readers would number such lines by position, not by their id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl

from walletrecon.money import exponent_of, parse_decimal, to_minor
from walletrecon.schemas import SOURCES

BANK_COLUMNS = SOURCES["bank"].column_names
#: The currency of the one empty statement written for a night without bank lines.
EMPTY_CURRENCY = "USD"


@dataclass(frozen=True)
class Line:
    """One bank line: id, signed minor units, value date and whitespace-normalised reference."""

    line_id: str
    minor: int
    currency: str
    value_date: date
    reference: str


@dataclass(frozen=True)
class Statement:
    """The lines of one currency on one account for the night, with their balances."""

    currency: str
    night: date
    lines: tuple[Line, ...]
    opening: int = 0

    @property
    def account(self) -> str:
        """The account number of the currency."""
        return f"WR{self.currency}001"

    @property
    def closing(self) -> int:
        """Opening balance plus the signed lines, in minor units."""
        return self.opening + sum(line.minor for line in self.lines)


def major(minor: int, currency: str, signed: bool = True) -> str:
    """Integer minor units as major-unit text with the currency's exact decimals."""
    exponent = exponent_of(currency)
    value = minor if signed else abs(minor)
    return str(Decimal(value).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent)))


def clean_reference(text: str | None) -> str:
    """A reference with runs of whitespace as one space, trimmed ("" for none)."""
    return " ".join((text or "").split())


def statements(rows: pl.DataFrame, night: date | None = None) -> list[Statement]:
    """The rows as one statement per currency (an empty USD statement for no rows)."""
    lines = [_line(index, row) for index, row in enumerate(rows.iter_rows(named=True), start=1)]
    seen: dict[str, int] = {}
    for index, line in enumerate(lines, start=1):
        if line.line_id in seen:
            raise ValueError(
                f"bank row {index}: bank_line_id: {line.line_id!r} repeats row {seen[line.line_id]}"
            )
        seen[line.line_id] = index
    if night is None:
        if not lines:
            raise ValueError("a night without bank lines needs its date")
        night = max(line.value_date for line in lines)
    currencies = sorted({line.currency for line in lines}) or [EMPTY_CURRENCY]
    return [
        Statement(ccy, night, tuple(line for line in lines if line.currency == ccy))
        for ccy in currencies
    ]


def _line(index: int, row: dict[str, str | None]) -> Line:
    """One canonical row as a Line; ValueError naming the row and column when it cannot be."""
    missing = [col for col in BANK_COLUMNS if col not in row]
    if missing:
        raise ValueError(f"bank rows: missing column(s) {', '.join(missing)}")
    currency = row["currency"] or ""
    try:
        exponent_of(currency)
    except KeyError:
        raise ValueError(f"bank row {index}: currency: unknown code {currency!r}") from None
    try:
        minor = to_minor(parse_decimal(row["amount"] or ""), currency)
    except ValueError as exc:
        raise ValueError(f"bank row {index}: amount: {exc}") from None
    try:
        value_date = date.fromisoformat(row["value_date"] or "")
    except ValueError:
        raise ValueError(
            f"bank row {index}: value_date: expected YYYY-MM-DD, found {row['value_date']!r}"
        ) from None
    line_id = row["bank_line_id"] or ""
    if not line_id or line_id != line_id.strip() or " " in line_id:
        raise ValueError(f"bank row {index}: bank_line_id: expected one word, found {line_id!r}")
    return Line(line_id, minor, currency, value_date, clean_reference(row["reference"]))


def with_columns(rows: pl.DataFrame, ids: list[str], references: list[str | None]) -> pl.DataFrame:
    """The rows with bank_line_id and reference replaced (the readers' view of them)."""
    return rows.select(BANK_COLUMNS).with_columns(
        pl.Series("bank_line_id", ids, pl.String),
        pl.Series("reference", references, pl.String),
    )
