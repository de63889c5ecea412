"""Many decisions at once, from CSV or ``.xlsx`` (``walletrecon decide import FILE``).

The round trip finance teams make: export the tickets (``walletrecon tickets --format csv``),
fill in a ``decision`` column (and a ``reason``) in a spreadsheet, import the file. A row names
its break by ``ticket_id`` or ``discrepancy_id``; optional columns: ``user``, ``until`` (for an
accept), ``to`` (for an assign; ``assignee`` is read too). Rows with no decision are left alone.
Every row is read and checked before any is recorded (``record.record``); a bad row is named by
its line (CSV: the line the row starts on; ``.xlsx``: the sheet row) and its column.

Readers: Python's ``csv`` module (quoted cells over several lines keep their line numbers) and
``fastexcel`` through the mapped profile's sheet reader.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from walletrecon.decisions.model import ACTIONS, PAIRING
from walletrecon.decisions.record import Request
from walletrecon.errors import InputError, UsageError
from walletrecon.sources.profiles.mapped_excel import read_sheet

#: Columns that name the break or ticket decided on, in the order they are looked at.
TARGET_COLUMNS = ("ticket_id", "discrepancy_id")
#: Column of the action; ``action`` is read when there is no ``decision`` column.
DECISION_COLUMNS = ("decision", "action")
#: Characters read to tell the delimiter.
SNIFF_BYTES = 64 * 1024
#: The actions a file may hold (a match names two items, given on the command line).
IMPORTABLE = tuple(action for action in ACTIONS if action not in PAIRING)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, cells by column name) of each data row."""
    if path.suffix.lower() == ".xlsx":
        sheet = read_sheet(path, str(path), "0", 0)
        for line, row in zip(sheet.lines.tolist(), sheet.table.to_pylist(), strict=True):
            yield (
                int(line),
                {key: "" if value is None else str(value) for key, value in row.items()},
            )
        return
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, dialect=_dialect(handle), strict=True)
            start = 2
            for row in reader:
                if None in row:
                    raise InputError(f"{path} line {start}: more cells than the header has columns")
                yield start, {key: value or "" for key, value in row.items()}
                start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"{path}: not readable as CSV: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte offset {exc.start})") from exc


def _dialect(handle: TextIO) -> type[csv.Dialect]:
    """The file's delimiter: a comma, or the semicolon or tab a spreadsheet saves with in many
    locales (``csv.Sniffer`` on the first lines); a comma when it cannot tell."""
    sample = handle.read(SNIFF_BYTES)
    handle.seek(0)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _column(header: list[str], choices: tuple[str, ...], path: Path, what: str) -> str:
    for name in choices:
        if name in header:
            return name
    raise InputError(f"{path}: no {' or '.join(choices)} column; expected one, for {what}")


def _action(text: str) -> str:
    return text.strip().lower().replace("_", "-").replace(" ", "-")


def read_requests(path: Path, user: str) -> tuple[list[Request], int]:
    """The decisions a file holds, and the number of rows left undecided. Errors name the line
    and the column."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    rows = list(_rows(path))
    header = list(rows[0][1]) if rows else []
    if not rows:
        return [], 0
    decision = _column(header, DECISION_COLUMNS, path, "the action of each row")
    target_columns = [name for name in TARGET_COLUMNS if name in header]
    if not target_columns:
        _column(header, TARGET_COLUMNS, path, "the break or ticket decided on")
    requests: list[Request] = []
    problems: list[str] = []
    undecided = 0
    for line, cells in rows:
        action = _action(cells.get(decision, ""))
        if not action:
            undecided += 1
            continue
        where = f"{path} line {line}"
        target = next((cells[name].strip() for name in target_columns if cells[name].strip()), "")
        until_text = cells.get("until", "").strip()
        problem = None
        if action not in IMPORTABLE:
            problem = f"column {decision}: {action!r} is not one of {', '.join(IMPORTABLE)}"
        elif not target:
            problem = f"column {' / '.join(target_columns)}: empty; expected the id decided on"
        elif not cells.get("reason", "").strip():
            problem = "column reason: empty; every decision needs a reason"
        until = None
        if until_text and problem is None:
            try:
                until = dt.date.fromisoformat(until_text[:10])
            except ValueError:
                problem = f"column until: {until_text!r} is not a date (YYYY-MM-DD)"
        if problem is not None:
            problems.append(f"{where}: {problem}")
            continue
        requests.append(
            Request(
                action=action,
                target=target,
                reason=cells["reason"],
                user=cells.get("user", "").strip() or user,
                until=until,
                assignee=(cells.get("to") or cells.get("assignee") or "").strip() or None,
                where=where,
            )
        )
    if problems:
        raise UsageError("nothing was recorded:\n  " + "\n  ".join(problems[:20]))
    return requests, undecided
