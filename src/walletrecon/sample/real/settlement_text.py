"""Reading canonical settlement texts for the gateway report writers: timestamps and amounts.

The canonical night writes settled_at in three forms (``...Z``, with an offset, or local to the
night's zone without one) and amounts as exact decimal strings; a deliberately broken value must
stay broken in the gateway's file, so every helper here answers None instead of guessing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from walletrecon.money import currency_exponents

#: A canonical timestamp: date, time and an optional ``Z`` or ``+HH:MM``.
STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(Z|[+-]\d{2}:\d{2})?$")


def utc_time(settled_at: str, zone: str) -> datetime | None:
    """The UTC instant of a canonical timestamp (local to ``zone`` without an offset), or None
    when the text is not one (a deliberately broken timestamp)."""
    match = STAMP.match(settled_at)
    if match is None:
        return None
    try:
        moment = datetime.fromisoformat(settled_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def amount(text: str | None) -> Decimal | None:
    """The amount text as a Decimal, None when it is not a plain finite number."""
    try:
        value = Decimal(text or "")
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def minor_exact(text: str | None, currency: str | None) -> bool:
    """True when the amount is a number with no more decimals than the currency's minor unit."""
    value = amount(text)
    places = currency_exponents().get((currency or "").upper())
    if value is None or places is None:
        return False
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and -exponent <= places


def csv_text(lines: Iterable[list[str]]) -> str:
    """Lines as CSV text (``\\n`` line ends, quotes only where needed)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    return buffer.getvalue()
