"""BAI2 cash management balance reports: one bank line per 16 record with its 88 text.

A reader of our own (the ``bai2`` package was tried on every sample: it fails on the
several-records-per-line and the newline-delimited samples and drops line numbers).

What counts as a record (``records``): every 01, 02, 03, 16, 49, 98 and 99 record; an 88
continues the record before it and is not counted apart. 16 records are bank rows (or
rejected); 01/02/03/49/98/99 are control lines.

Sign from the type code: credits 100-399 and 920-959 are money in, debits 400-699 and 960-999
money out; other codes on a 16 are rejected. Amounts are minor units of the currency (03's,
else 02's, else USD). value_date is the value date of funds type V, else the group's as-of
date. ``bank_line_id`` is ``ACCOUNT:BANKREF`` when the bank reference is present and unique in
the file, else ``ACCOUNT:ASOF:N`` with N the 16's position within its group.

Control totals: 49 (sum of every 03 summary amount and 16 amount of the account; number of
records from 03 to 49, 88s included), 98 (sum of the 49 totals; accounts; records from 02 to
98), 99 (sum of the 98 totals; groups; all records). A missing trailer is an InputError, or
with ``control_totals = "warn"`` an unchecked total.
"""

from __future__ import annotations

import re
from collections import Counter
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
from walletrecon.sources.profiles.bai2_records import (
    Record,
    funds_width,
    records,
    summary_amounts,
)
from walletrecon.sources.profiles.bai2_state import (
    Level,
    State,
    amount,
    missing,
    parse_date,
)
from walletrecon.sources.profiles.text import decode_file, minor_to_major

#: The ``[inputs.options]`` keys this profile reads; any other key is a configuration error.
OPTIONS: tuple[str, ...] = ()

#: Records counted apart from the parser: a record code at the start of a line, after the group
#: separator, or after a ``/`` and white space (``bai2_records.SPLIT``).
COUNT = re.compile(r"(?:^|/\s|\x1d)\s*(?:0[123]|16|49|9[89]),", re.MULTILINE)
KINDS = {
    "01": "file header",
    "02": "group header",
    "03": "account",
    "49": "account trailer",
    "98": "group trailer",
    "99": "file trailer",
}


#: Group statuses (02 record) whose lines move no money: they are rejected, naming the status.
NOT_MONEY = {"2": "deletion", "4": "test only"}


def read(path: Path, spec: ProfileSpec) -> ProfileResult:
    """Read one BAI2 file into bank rows, control lines and checked control totals."""
    name = spec.display or str(path)
    # A DOS end-of-file byte (Ctrl-Z) that legacy bank hosts append is no record.
    text = decode_file(path, spec.encoding, spec.display).rstrip("\x1a\r\n") + "\n"
    state = State(name, spec.control_totals == "warn")
    found = records(text, name)
    if not found:
        raise InputError(f"{name}: no BAI2 records; expected a 01 file header on line 1")
    for record in found:
        _step(state, record)
    for level in ("account", "group", "file"):
        if level in state.open:
            missing(state, level, "end of file")
    columns = SOURCES[spec.source].column_names
    _ids(state)
    data: dict[str, pa.Array] = {
        col: pa.array([row.get(col) for row in state.rows], pa.string()) for col in columns
    }
    data["origin_row"] = pa.array(state.origins, pa.int64())
    data["origin_element"] = pa.array([None] * len(state.origins), pa.string())
    return ProfileResult(
        source=spec.source,
        rows=pa.table(data),
        rejected=state.rejected,
        control=state.control,
        totals=state.totals,
        warnings=state.warnings,
        records=len(COUNT.findall(text)),
    )


def _step(state: State, record: Record) -> None:
    """Apply one record to the open file, group and account."""
    fields = ",".join([record.body, *record.more]).split(",") if record.code != "16" else []
    levels = {"01": "file", "02": "group", "03": "account"}
    for level in state.open.values():
        level.physical += record.physical
    if record.code in levels:
        _open(state, record, levels[record.code], fields)
    elif record.code == "16":
        _detail(state, record)
    else:
        _close(state, record, {"49": "account", "98": "group", "99": "file"}[record.code], fields)
    if record.code != "16":
        state.control.append(ControlLine(record.row, KINDS[record.code], "\n".join(record.raw)))


def _open(state: State, record: Record, level: str, fields: list[str]) -> None:
    """A header: checks nesting and opens its level."""
    parent = {"file": None, "group": "file", "account": "group"}[level]
    for inner in ("account", "group", "file")[: ("account", "group", "file").index(level) + 1]:
        if inner in state.open:
            missing(state, inner, f"line {record.row}")
    if parent and parent not in state.open:
        raise InputError(
            f"{state.name}: line {record.row}: record {record.code} outside a {parent} "
            f"(expected a {'01' if parent == 'file' else '02'} header first)"
        )
    node = Level(f"{level} line {record.row}", record.row, physical=record.physical)
    if parent:
        state.open[parent].children += 1
        node.currency, node.asof = state.open[parent].currency, state.open[parent].asof
    if level == "group":
        node.asof = parse_date(fields[3], state, record) if len(fields) > 3 else None
        node.currency = fields[5].strip() if len(fields) > 5 and fields[5].strip() else "USD"
        node.scope = f"group {fields[1] if len(fields) > 1 else ''} as of {node.asof}"
        node.status = fields[2].strip() if len(fields) > 2 else ""
    if level == "account":
        node.currency = fields[1].strip() or node.currency if len(fields) > 1 else node.currency
        node.scope = f"account {fields[0].strip()}"
        amounts = summary_amounts(fields[2:], state.name, record.row)
        node.total = sum(amount(a, state, record) for a in amounts)
    _known_currency(node.currency, state, record)
    state.open[level] = node


def _known_currency(currency: str, state: State, record: Record) -> None:
    """InputError unless the currency is an ISO 4217 code with a known minor unit."""
    try:
        minor_to_major("0", currency)
    except ValueError as exc:
        raise InputError(
            f"{state.name}: line {record.row}: record {record.code}: currency: expected an "
            f"ISO 4217 code, found {currency!r}"
        ) from exc


def _close(state: State, record: Record, level: str, fields: list[str]) -> None:
    """A trailer: checks its control total, child count and record count."""
    if level not in state.open:
        raise InputError(
            f"{state.name}: line {record.row}: {record.code} trailer without its header"
        )
    for inner in ("account", "group")[: ("account", "group", "file").index(level)]:
        if inner in state.open:
            missing(state, inner, f"line {record.row}")
    node = state.open.pop(level)
    figures = [("control total", node.total)]
    if level != "account":
        figures.append(
            ("number of " + ("accounts" if level == "group" else "groups"), node.children)
        )
    figures.append(("number of records", node.physical))
    if len(fields) < len(figures):
        raise InputError(
            f"{state.name}: line {record.row}: record {record.code}: expected "
            + ", ".join(f for f, _ in figures)
        )
    for (check, found), given in zip(figures, fields, strict=False):
        expected = amount(given, state, record)
        state.totals.append(_figure(node, level, check, expected, found))
        if check == "control total" and level != "file":
            state.open["group" if level == "account" else "file"].total += expected


def _figure(node: Level, level: str, check: str, expected: int, found: int) -> ControlTotal:
    """One trailer figure; an account's control total in major units of its currency, group
    and file totals (which may add currencies) in minor units as written."""
    holds = expected == found
    if check != "control total":
        return ControlTotal(node.scope, check, str(expected), str(found), holds)
    if level == "account":
        expected_text = minor_to_major(str(expected), node.currency)
        found_text = minor_to_major(str(found), node.currency)
        return ControlTotal(node.scope, check, expected_text, found_text, holds, node.currency)
    check = "control total (minor units)"
    return ControlTotal(node.scope, check, str(expected), str(found), holds)


def _detail(state: State, record: Record) -> None:
    """A 16 record: a bank row, or a rejection naming the field."""
    account, group = state.open.get("account"), state.open.get("group")
    if account is None or group is None:
        raise InputError(f"{state.name}: line {record.row}: 16 record outside an account (03)")
    group.seq += 1
    fields, more = _continued_fields(record, state.name)
    raw = "\n".join(record.raw)
    try:
        row, minor = _detail_row(fields, account, state, record)
        if group.status in NOT_MONEY:
            raise ValueError(
                f"group status: the group's status is {group.status} "
                f"({NOT_MONEY[group.status]}): its lines are no money received or paid"
            )
    except ValueError as exc:
        # The bank's 49 total sums the amounts as written, those of lines rejected here too.
        if len(fields) > 1 and fields[1].strip().isdigit():
            account.total += int(fields[1])
        state.rejected.append(
            Rejection(
                record.row,
                f"{state.name}: line {record.row}: {exc}",
                raw,
                str(exc).split(":", 1)[0],
            )
        )
        return
    account.total += minor
    text = " ".join(t.strip() for t in [row.pop("text") or "", *more] if t and t.strip())
    row["reference"] = (
        " ".join(t for t in (row["bank_ref"], row["customer_ref"], text) if t) or None
    )
    state.refs.append((account.scope[8:], row.pop("bank_ref") or "", f"{group.asof}:{group.seq}"))
    row.pop("customer_ref")
    state.rows.append(row)
    state.origins.append(record.row)


def _continued_fields(record: Record, name: str) -> tuple[list[str], list[str]]:
    """A 16's fields and the texts of its 88s. A 16 that ends before its text field (``.../``
    after the funds type, as in the BAI2 specification's own example) is continued field by
    field by its first 88: bank reference, customer reference, text; later 88s add text."""
    fields, more = record.body.split(","), list(record.more)
    if not more:
        return fields, more
    try:
        text_at = 2 + funds_width(fields, 2, name, record.row) + 2
    except InputError:
        return fields, more  # the row's own reading names what is wrong
    if len(fields) <= text_at:
        fields += more.pop(0).split(",")
    return fields, more


def _sign(code: int) -> int:
    """+1 for a credit type code, -1 for a debit; ValueError otherwise."""
    if 100 <= code <= 399 or 920 <= code <= 959:
        return 1
    if 400 <= code <= 699 or 960 <= code <= 999:
        return -1
    raise ValueError(
        f"amount: type code {code} is neither a credit (100-399, 920-959) "
        "nor a debit (400-699, 960-999)"
    )


def _detail_row(
    fields: list[str], account: Level, state: State, record: Record
) -> tuple[dict[str, str | None], int]:
    """The row of one 16 record and its unsigned minor amount."""
    if len(fields) < 3 or not fields[0].strip().isdigit():
        raise ValueError(f"amount: expected a numeric type code, found {fields[0]!r}")
    sign = _sign(int(fields[0]))
    if not fields[1].strip().isdigit():
        raise ValueError(
            f"amount: expected an unsigned whole number of minor units, found {fields[1]!r}"
        )
    minor = int(fields[1])
    try:
        width = funds_width(fields, 2, state.name, record.row)
    except InputError as exc:
        raise ValueError(f"amount: {str(exc).split(': ', 2)[-1]}") from exc
    value_date = account.asof
    if fields[2].strip() == "V":
        try:
            value_date = parse_date(fields[3] if len(fields) > 3 else "", state, record)
        except InputError as exc:
            found = fields[3] if len(fields) > 3 else ""
            raise ValueError(f"value_date: expected a YYMMDD value date, found {found!r}") from exc
    rest = fields[2 + width :]
    if value_date is None:
        raise ValueError("value_date: no value date and no group as-of date")
    row: dict[str, str | None] = {
        "amount": minor_to_major(str(sign * minor), account.currency),
        "currency": account.currency,
        "value_date": value_date.isoformat(),
        "bank_ref": rest[0].strip() if rest else "",
        "customer_ref": rest[1].strip() if len(rest) > 1 else "",
        "text": ",".join(rest[2:]) if len(rest) > 2 else "",
    }
    return row, minor


def _ids(state: State) -> None:
    """Give each row its bank_line_id; InputError if two lines would share one."""
    refs = Counter((acct, ref) for acct, ref, _ in state.refs if ref)
    seen: dict[str, int] = {}
    for row, origin, (acct, ref, seq) in zip(state.rows, state.origins, state.refs, strict=True):
        line_id = f"{acct}:{ref}" if ref and refs[(acct, ref)] == 1 else f"{acct}:{seq}"
        if line_id in seen:
            raise InputError(
                f"{state.name}: line {origin}: bank_line_id {line_id} repeats line {seen[line_id]}"
            )
        seen[line_id] = origin
        row["bank_line_id"] = line_id
