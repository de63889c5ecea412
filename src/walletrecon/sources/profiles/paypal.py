"""Profile ``paypal``: the PayPal Settlement Report (STL, CSV) as settlement rows.

Every line starts with its record type: ``RH`` report header, ``FH`` file header, ``SH``
section header, ``CH`` column header (names the columns of the ``SB`` lines after it: short
and wide layouts alike, read by name), ``SB`` one transaction, ``SF`` section footer (totals per
currency), ``SC`` section record count, ``RF`` report footer, ``RC`` report record count,
``FF`` file footer. The file is read by Polars as ragged string fields (quoting may differ line
by line, trailing empty fields pad records, a BOM and a missing final newline are fine) and
mapped with Polars expressions; see ``paypal_map`` for the T-code table and amounts and
``paypal_checks`` for the control figures.

What counts as a record: every ``SB``, ``SF``, ``SC``, ``RF``, ``RC`` and ``FF`` line (the
headers RH/FH/SH/CH are structure). The report comes comma-separated or tab-delimited (PayPal
offers both): a tab after the first line's record type selects tabs. Trailers are control
lines; so are SB lines whose T-code is a fee, a conversion, a withdrawal or a hold.
A line of another type, an SB line before any CH, a CH without a required column or a file
without any RH/SH header is an InputError naming the line. An SB line too short to reach the
last column read is rejected as truncated (trailing fields beyond it may be missing or padded).

Ids: ``settlement_id`` = ``Transaction ID/T-code``; ``gateway_ref`` = Transaction ID;
``merchant_ref`` = Invoice ID; ``payout_id`` is null: the STL carries no batch per line, and
PayPal's withdrawals (T0400, control lines here) sweep a balance rather than pay out a set of
lines, so no id derived from the file would name a real payout.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import polars as pl

from walletrecon.errors import InputError
from walletrecon.sources.profiles import ControlLine, ProfileResult, ProfileSpec, Rejection
from walletrecon.sources.profiles.delimited import first_odd_quote_line
from walletrecon.sources.profiles.paypal_checks import count_totals, footer_totals
from walletrecon.sources.profiles.paypal_map import (
    FIELDS,
    amount_decimals,
    amount_texts,
    apply_conversions,
    outcome,
    rules,
    settled_at,
)
from walletrecon.sources.profiles.report_lines import Lines, apply_rules, file_bytes, rows_table

#: The ``[inputs.options]`` keys this profile reads; any other key is a configuration error.
OPTIONS: tuple[str, ...] = ("amounts",)

STRUCTURE = ("RH", "FH", "SH", "CH")
#: Record types that count as records (SB plus the trailers).
COUNTED = ("SB", "SF", "SC", "RF", "RC", "FF")
TRANSACTIONS = ("payment", "refund", "chargeback")


def delimiter_of(lines: Lines) -> str:
    """The report's field delimiter: a tab when the first record type (``RH``, ``"SH"``, ...) is
    followed by one (PayPal delivers its reports comma-separated or tab-delimited), else ``,``."""
    first = lines.nonblank()
    if not len(first):
        return ","
    head = lines.text(int(first[0]))[:6].lstrip('"')
    return "\t" if head[2:].lstrip('"').startswith("\t") else ","


def _fields_per_line(lines: Lines, delimiter: str) -> np.ndarray:
    """Delimiter count + 1 of each line (an upper bound on its fields: quoted ones count too)."""
    commas = np.flatnonzero(np.frombuffer(lines.data, np.uint8) == ord(delimiter))
    before_end = np.searchsorted(commas, lines.ends)
    return np.asarray(before_end - np.searchsorted(commas, lines.starts) + 1, dtype=np.int64)


def count_records(lines: Lines) -> int:
    """Records counted from the raw bytes: lines whose first two letters (after an optional
    quote) are SB, SF, SC, RF, RC or FF. Independent of the CSV parser."""
    buffer = np.frombuffer(lines.data + b"\0\0\0", np.uint8)
    quoted = (buffer[lines.starts] == 34).astype(np.int64)
    code = buffer[lines.starts + quoted].astype(np.int64) * 256 + buffer[lines.starts + quoted + 1]
    wanted = [ord(kind[0]) * 256 + ord(kind[1]) for kind in COUNTED]
    return int(np.isin(code[lines.ends > lines.starts], wanted).sum())


def _grid(lines: Lines, name: str) -> pl.DataFrame:
    """Every physical line as string fields c0..cN, with its line number and field count."""
    odd = first_odd_quote_line(lines.data, '"')
    if odd is not None:
        raise InputError(
            f"{name}: line {odd}: a quote opens a field that the line does not close; expected "
            'one record per line, with a quote inside a value doubled ("")'
        )
    delimiter = delimiter_of(lines)
    fields = _fields_per_line(lines, delimiter)
    width = int(fields.max()) if len(fields) else 1
    try:
        grid = pl.read_csv(
            io.BytesIO(lines.data),
            has_header=False,
            separator=delimiter,
            schema={f"c{i}": pl.String for i in range(width)},
            truncate_ragged_lines=True,
            missing_columns="insert",
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{name}: not a readable CSV file: {exc}") from exc
    if grid.height != len(lines):
        raise InputError(
            f"{name}: {grid.height} CSV records in {len(lines)} lines: a quoted field spans "
            "lines or a quote is not closed; expected one record per line"
        )
    return grid.with_columns(pl.col("c0").str.strip_chars()).with_columns(
        line=pl.int_range(1, grid.height + 1, dtype=pl.Int64),
        fields=pl.Series(fields),
        rt=pl.col("c0").fill_null(""),
        nonblank=pl.Series(lines.ends > lines.starts),
    )


def _structure(grid: pl.DataFrame, name: str) -> pl.DataFrame:
    """Check record types; number sections (SH) and column headers (CH) for each line."""
    unknown = grid.filter(pl.col("nonblank") & ~pl.col("rt").is_in([*STRUCTURE, *COUNTED]))
    if not unknown.is_empty():
        line, found = unknown.select("line", "rt").row(0)
        raise InputError(
            f"{name}: line {line}: expected a record type ({', '.join([*STRUCTURE, *COUNTED])}), "
            f"found '{found}'"
        )
    marked = grid.with_columns(
        section=(pl.col("rt") == "SH").cum_sum(), header=(pl.col("rt") == "CH").cum_sum()
    )
    if marked.filter(pl.col("rt").is_in(["RH", "SH"])).is_empty():
        raise InputError(
            f"{name}: line 1: no RH or SH header in the file; expected a PayPal STL report"
        )
    orphan = marked.filter((pl.col("rt") == "SB") & (pl.col("header") == 0))
    if not orphan.is_empty():
        raise InputError(
            f"{name}: line {orphan['line'][0]}: SB record before any CH column header; expected "
            "a CH line naming the columns first"
        )
    return marked


def _body(grid: pl.DataFrame, name: str) -> pl.DataFrame:
    """SB lines with the named fields their CH line defines."""
    named: dict[str, pl.Expr] = {key: pl.lit(None, dtype=pl.String) for key in FIELDS}
    width: pl.Expr = pl.lit(0)
    columns = [c for c in grid.columns if c.startswith("c") and c[1:].isdigit()]
    for row in grid.filter(pl.col("rt") == "CH").iter_rows(named=True):
        names = [str(row[c] or "") for c in columns]
        header = pl.col("header") == row["header"]
        for key, shown in FIELDS.items():
            if shown not in names:
                raise InputError(
                    f"{name}: line {row['line']}: the CH column header lacks '{shown}'; "
                    "expected the PayPal STL columns"
                )
            named[key] = (
                pl.when(header).then(pl.col(f"c{names.index(shown)}")).otherwise(named[key])
            )
        needed = max(names.index(shown) for shown in FIELDS.values()) + 1
        width = pl.when(header).then(pl.lit(needed)).otherwise(width)
    body = grid.filter(pl.col("rt") == "SB").select(
        "line",
        "section",
        "fields",
        width.alias("width"),
        **{key: expr.fill_null("").str.strip_chars() for key, expr in named.items()},
    )
    return body.rename({"line": "origin_row"})


def _map(body: pl.DataFrame, spec: ProfileSpec) -> pl.DataFrame:
    """Canonical columns, outcome and reject reason for every SB line."""
    decimals = body.with_columns(*amount_decimals(), outcome=outcome(), settled_at=settled_at())
    mapped = decimals.with_columns(
        *amount_texts(),
        settlement_id=pl.concat_str(pl.col("txn"), pl.col("event"), separator="/"),
        gateway=pl.lit(spec.gateway or "paypal"),
        gateway_ref=pl.col("txn"),
        merchant_ref=pl.when(pl.col("invoice") != "").then(pl.col("invoice")),
        record_type=pl.when(pl.col("outcome").is_in(TRANSACTIONS)).then(pl.col("outcome")),
        currency=pl.col("gross_ccy"),
        payout_id=pl.lit(None, dtype=pl.String),
    )
    truncated = (
        "CH",
        pl.col("fields") < pl.col("width"),
        pl.format(
            "the line has {} fields, expected at least {} to reach the last column read "
            "(Fee Currency, ...): a truncated line",
            pl.col("fields"),
            pl.col("width"),
        ),
    )
    checks = [truncated, *rules()]
    return apply_conversions(apply_rules(mapped, checks))


def _check_options(spec: ProfileSpec) -> None:
    amounts_option = spec.options.get("amounts", "minor")
    if amounts_option != "minor":
        raise InputError(
            f"{spec.display or 'paypal input'}: option amounts = '{amounts_option}': the PayPal "
            "STL report always writes minor units; expected 'minor'"
        )


def read(path: Path, spec: ProfileSpec) -> ProfileResult:
    """Read one PayPal STL settlement report (see the module docstring for the rules)."""
    name = spec.display or str(path)
    _check_options(spec)
    lines = Lines.scan(file_bytes(path, spec))
    grid = _structure(_grid(lines, name), name)
    body = _map(_body(grid, name), spec)
    is_control = pl.col("outcome").str.starts_with("control:") & pl.col("reject_reason").is_null()
    rejected = body.filter(pl.col("reject_reason").is_not_null())
    trailers = grid.filter(pl.col("rt").is_in(COUNTED[1:]))
    control = [
        ControlLine(row=row, kind=kind.removeprefix("control:"), raw=lines.text(row - 1))
        for row, kind in body.filter(is_control).select("origin_row", "outcome").iter_rows()
    ] + [
        ControlLine(row=row, kind=kind, raw=lines.text(row - 1))
        for row, kind in trailers.select("line", "rt").iter_rows()
    ]
    return ProfileResult(
        source=spec.source,
        rows=rows_table(
            body.filter(pl.col("record_type").is_not_null() & pl.col("reject_reason").is_null()),
            spec.source,
        ),
        rejected=[
            Rejection(row=row, reason=reason, raw=lines.text(row - 1), column=column)
            for row, reason, column in rejected.select(
                "origin_row", "reject_reason", "reject_column"
            ).iter_rows()
        ],
        control=sorted(control, key=lambda line: line.row),
        totals=footer_totals(trailers, body, name) + count_totals(trailers, body, name),
        records=count_records(lines),
    )
