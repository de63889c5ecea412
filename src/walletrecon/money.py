"""Currencies and exact money: ISO 4217 exponents and decimal strings to integer minor units.

No float ever touches an amount. Amounts travel through the engine as integer minor units
(Int64) beside their currency; Decimal is used only at the edges (configuration, outputs).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache

from iso4217 import Currency

#: The largest exponent of any ISO 4217 currency (CLF, UYW): output decimals carry this scale.
MAX_EXPONENT = 4


@lru_cache(maxsize=1)
def currency_exponents() -> dict[str, int]:
    """Every ISO 4217 currency with a defined minor unit, mapped to its number of minor digits.

    Funds and metals without a minor unit (XAU, XDR, ...) are left out: a wallet cannot hold them.
    """
    return {c.code: int(c.exponent) for c in Currency if c.exponent is not None}


def exponent_of(currency: str) -> int:
    """The ISO 4217 minor-unit exponent of a currency code; KeyError for an unknown code."""
    return currency_exponents()[currency.strip().upper()]


def parse_decimal(text: str) -> Decimal:
    """Parse a decimal string exactly; ValueError when it is not a plain decimal number."""
    cleaned = text.strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not a decimal number") from exc
    if not value.is_finite() or "e" in cleaned.lower():
        raise ValueError(f"{text!r} is not a plain decimal number")
    return value


def plain_decimal(value: Decimal | None) -> str:
    """A decimal as plain text without trailing zeros past the point (0.5000 -> 0.5,
    12.0000 -> 12; None -> 0): how figures read in manifests and reports."""
    if value is None:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def to_minor(value: Decimal, currency: str) -> int:
    """Major units to integer minor units; ValueError when the value is finer than the currency."""
    exponent = exponent_of(currency)
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {exponent} decimal places for {currency}")
    return int(scaled)
