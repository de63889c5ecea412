"""BAI2 reading state: the open file, group and account, and the shared field checks.

Kept apart from the record walk in ``bai2`` so each module stays one job: this one knows what
is open and how a missing trailer, an amount or a date is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from walletrecon.errors import InputError
from walletrecon.sources.profiles import ControlLine, ControlTotal, Rejection
from walletrecon.sources.profiles.bai2_records import Record

SIGNED = re.compile(r"^[+-]?\d+$")


@dataclass
class Level:
    """An open file, group or account: its figures so far."""

    scope: str
    row: int
    total: int = 0
    physical: int = 0
    children: int = 0
    currency: str = "USD"
    asof: date | None = None
    seq: int = 0
    #: A group's status (02 field 3): 1 update, 2 deletion, 3 correction, 4 test only.
    status: str = ""


@dataclass
class State:
    """What the reader has built so far."""

    name: str
    warn: bool
    rows: list[dict[str, str | None]] = field(default_factory=list)
    origins: list[int] = field(default_factory=list)
    refs: list[tuple[str, str, str]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    control: list[ControlLine] = field(default_factory=list)
    totals: list[ControlTotal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    open: dict[str, Level] = field(default_factory=dict)


def missing(state: State, level: str, where: str) -> None:
    """A trailer that never came: InputError, or an unchecked total under ``warn``."""
    trailer = {"account": "49", "group": "98", "file": "99"}[level]
    opened = state.open.pop(level)
    message = (
        f"{state.name}: {opened.scope} (line {opened.row}) has no {trailer} trailer before {where}"
    )
    if not state.warn:
        raise InputError(message)
    state.totals.append(
        ControlTotal(opened.scope, f"{trailer} control total", "", "", None, note=message)
    )


def amount(text: str, state: State, record: Record) -> int:
    """A signed whole number of minor units."""
    if not SIGNED.match(text.strip()):
        raise InputError(
            f"{state.name}: line {record.row}: record {record.code}: expected a signed whole "
            f"amount in minor units, found {text!r}"
        )
    return int(text)


def parse_date(text: str, state: State, record: Record) -> date:
    """A YYMMDD date (years 1980-2079)."""
    try:
        yy = int(text[:2])
        return date(1900 + yy if yy >= 80 else 2000 + yy, int(text[2:4]), int(text[4:6]))
    except ValueError as exc:
        raise InputError(
            f"{state.name}: line {record.row}: record {record.code}: expected a YYMMDD date, "
            f"found {text!r}"
        ) from exc
