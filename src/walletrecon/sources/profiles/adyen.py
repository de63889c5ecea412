"""Profile ``adyen``: the Adyen Settlement Details Report (CSV) as settlement rows.

Columns are found by header name (trimmed, case and inner spacing ignored), so reordered and
extra columns (the 2025 layout) read the same; a missing required column is an InputError naming
it. The file is read by pyarrow as strings, every rule is a Polars expression (no Python loop
per line). What counts as a record: every non-blank line after the header line.

Line types (the ``Type`` column):

- ``Settled``/``SettledBulk`` -> ``payment`` (gross = Gross Credit (GC)); ``Refunded``/
  ``RefundedBulk`` -> ``refund`` and ``Chargeback``/``SecondChargeback`` -> ``chargeback``
  (gross = Gross Debit (GC)). fee = Commission + Markup + Scheme Fees + Interchange (NC);
  net = Net Credit (NC) - Net Debit (NC), signed.
- ``MerchantPayout``, ``Fee``, ``Balancetransfer``, ``InvoiceDeduction``, ``MiscCosts``,
  ``PaymentCost``, ``DepositCorrection`` and the other balance bookings Adyen's journal types
  list (``AuthorisationSchemeFee``, ``ManualCorrected``, ``MatchedStatement``,
  ``BankInstructionReturned``, ``InternalCompanyPayout``, ``ReserveAdjustment``) are control
  records: fees, corrections, reserves and transfers of the balance, not wallet transactions.
- ``ChargebackReversed``, ``RefundedReversed``, ``PaidOut``/``PaidOutReversed`` (payouts to a
  shopper's card) and every other ``*Correction`` are rejected, naming the line type: no
  canonical record type can carry them with the contract's signs (a reversed chargeback is not
  a new payment); they stay visible for a person and still count in the payout check. Any other
  type is rejected as unknown.

Ids: ``settlement_id`` = ``Psp Reference/Type`` plus ``/Modification Reference`` when present
(a payment's capture, each partial refund and each chargeback of one PSP reference differ).
``payout_id`` = ``batch N, Merchant Account``: batches of two merchant accounts never collide,
and it is the text Adyen writes into the payout's bank transfer reference. ``currency`` is the
Gross Currency; when the Net Currency differs, ``net_currency`` and ``exchange_rate`` carry it
(fee and net are in the net currency). ``.91`` is a plain decimal and reads as 0.91; scientific
notation, signs or more than 8 decimals in an amount column reject the row (any value in a
column the profile does not read is ignored). Zones: see ``adyen_zones``.

Payout check (ControlTotal per merchant account, batch and net currency): the nets of every
other line of the batch (transactions, rejected and control lines alike) add up to the
MerchantPayout amount; with no MerchantPayout line it is unchecked (holds=None, a note).
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from walletrecon.errors import InputError
from walletrecon.sources.profiles import (
    ControlLine,
    ProfileResult,
    ProfileSpec,
    Rejection,
)
from walletrecon.sources.profiles.adyen_checks import payout_totals, rejection_reasons
from walletrecon.sources.profiles.adyen_zones import iso_timestamps
from walletrecon.sources.profiles.delimited import first_odd_quote_line
from walletrecon.sources.profiles.report_lines import (
    Lines,
    as_decimal,
    decimal_text,
    file_bytes,
    rows_table,
)

#: The ``[inputs.options]`` keys this profile reads; any other key is a configuration error.
OPTIONS: tuple[str, ...] = ()

#: Normalised header name -> the name Adyen prints (used in messages).
COLUMNS: dict[str, str] = {
    " ".join(name.lower().split()): name
    for name in (
        "Merchant Account", "Psp Reference", "Merchant Reference", "Creation Date", "TimeZone",
        "Type", "Modification Reference", "Gross Currency", "Gross Debit (GC)",
        "Gross Credit (GC)", "Exchange Rate", "Net Currency", "Net Debit (NC)", "Net Credit (NC)",
        "Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)", "Batch Number",
    )
}  # fmt: skip
RECORD_TYPES: dict[str, str] = {
    "Settled": "payment",
    "SettledBulk": "payment",
    "Refunded": "refund",
    "RefundedBulk": "refund",
    "Chargeback": "chargeback",
    "SecondChargeback": "chargeback",
}
#: Line types that are totals, not transactions.
CONTROL_TYPES = (
    "MerchantPayout", "Fee", "Balancetransfer", "InvoiceDeduction", "MiscCosts", "PaymentCost",
    "DepositCorrection", "AuthorisationSchemeFee", "ManualCorrected", "MatchedStatement",
    "BankInstructionReturned", "InternalCompanyPayout", "ReserveAdjustment",
)  # fmt: skip
#: Line types that move money back or pay a shopper and are rejected by name (plus every
#: ``*Correction``).
REVERSAL_TYPES = ("ChargebackReversed", "RefundedReversed", "PaidOut", "PaidOutReversed")
FEE_COLUMNS = ("Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)")


def _key(name: str) -> str:
    return " ".join(name.lower().split())


def _header(lines: Lines, name: str) -> list[str]:
    """The header line's names; InputError for an empty file or a missing required column."""
    first = lines.nonblank()
    if len(first) == 0:
        raise InputError(f"{name}: line 1: empty file, expected the Adyen report's header line")
    header = next(csv.reader([lines.text(int(first[0]))]))
    keys = [_key(column) for column in header]
    missing = [shown for key, shown in COLUMNS.items() if key not in keys]
    if missing:
        raise InputError(
            f"{name}: line {int(first[0]) + 1}: the header lacks required column(s) "
            f"{', '.join(repr(m) for m in missing)} of the Adyen settlement details report"
        )
    return header


def _read_table(lines: Lines, header: list[str], name: str) -> pl.DataFrame:
    """The file's required columns as strings (renamed to Adyen's spelling); InputError for a
    line with the wrong number of fields, naming the line."""
    unique = [f"{_key(column)}#{index}" for index, column in enumerate(header)]
    wanted = {
        f"{key}#{[_key(c) for c in header].index(key)}": shown for key, shown in COLUMNS.items()
    }
    bad: list[pacsv.InvalidRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(row)
        return "skip"

    first = int(lines.nonblank()[0])
    try:
        table = pacsv.read_csv(
            pa.py_buffer(lines.data[int(lines.starts[first]) :]),
            read_options=pacsv.ReadOptions(column_names=unique, skip_rows=1),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(wanted),
                column_types=dict.fromkeys(wanted, pa.string()),
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(f"{name}: not a readable CSV file: {exc}") from exc
    if bad:
        row = bad[0]
        found = lines.data.find(row.text.encode("utf-8"), int(lines.starts[first]))
        raise InputError(
            f"{name}: line {lines.line_of_offset(found) if found >= 0 else '?'}: expected "
            f"{row.expected_columns} fields as in the header line, found {row.actual_columns} "
            "(a truncated or broken line)"
        )
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.rename(wanted).with_columns(pl.all().str.strip_chars())


def _mapped(frame: pl.DataFrame, spec: ProfileSpec) -> pl.DataFrame:
    """The canonical columns, computed for every line (used only where the line is a row)."""
    kind = pl.col("Type").replace_strict(RECORD_TYPES, default=None)
    gross_expr = pl.when(kind == "payment").then(as_decimal("Gross Credit (GC)"))
    fee = pl.sum_horizontal(*[as_decimal(column) for column in FEE_COLUMNS])
    net = as_decimal("Net Credit (NC)") - as_decimal("Net Debit (NC)")
    other_currency = (
        pl.col("Net Currency").str.to_uppercase() != pl.col("Gross Currency").str.to_uppercase()
    )
    modification = pl.col("Modification Reference")
    gross = gross_expr.otherwise(as_decimal("Gross Debit (GC)"))
    frame = frame.with_columns(_gross=gross, _fee=fee, _net=net)
    return frame.with_columns(
        settlement_id=pl.concat_str(
            pl.col("Psp Reference"),
            pl.col("Type"),
            pl.when(modification != "").then(modification),
            separator="/",
            ignore_nulls=True,
        ),
        gateway=pl.lit(spec.gateway or "adyen"),
        gateway_ref=pl.col("Psp Reference"),
        merchant_ref=pl.when(pl.col("Merchant Reference") != "").then(pl.col("Merchant Reference")),
        record_type=kind,
        gross_amount=decimal_text(pl.col("_gross")),
        fee_amount=decimal_text(pl.col("_fee")),
        net_amount=decimal_text(pl.col("_net")),
        currency=pl.col("Gross Currency").str.to_uppercase(),
        settled_at=iso_timestamps(
            "Creation Date", "TimeZone", frame["TimeZone"].unique().to_list()
        ),
        payout_id=pl.when(pl.col("Batch Number") != "").then(
            pl.concat_str(
                pl.lit("batch "),
                pl.col("Batch Number"),
                pl.when(pl.col("Merchant Account") != "").then(
                    pl.lit(", ") + pl.col("Merchant Account")
                ),
                ignore_nulls=True,
            )
        ),
        net_currency=pl.when(other_currency).then(pl.col("Net Currency").str.to_uppercase()),
        exchange_rate=pl.when(other_currency).then(pl.col("Exchange Rate")),
    )


def read(path: Path, spec: ProfileSpec) -> ProfileResult:
    """Read one Adyen settlement details report (see the module docstring for the rules)."""
    name = spec.display or str(path)
    lines = Lines.scan(file_bytes(path, spec))
    header = _header(lines, name)
    frame = _read_table(lines, header, name)
    records = lines.nonblank()[1:]
    if frame.height != len(records):
        odd = first_odd_quote_line(lines.data, '"')
        where = f"line {odd}: a quote opens a field that the line does not close; " if odd else ""
        raise InputError(
            f"{name}: {where}{frame.height} records read but {len(records)} non-blank lines "
            "follow the header; a quoted field may span lines, which the report never does"
        )
    frame = frame.with_columns(origin_row=pl.Series(records + 1, dtype=pl.Int64))
    frame = rejection_reasons(_mapped(frame, spec), CONTROL_TYPES, REVERSAL_TYPES, RECORD_TYPES)
    control_mask = pl.col("Type").is_in(CONTROL_TYPES)
    rows = frame.filter(~control_mask & pl.col("reject_reason").is_null())
    return ProfileResult(
        source=spec.source,
        rows=rows_table(rows, spec.source),
        rejected=_rejections(
            frame.filter(~control_mask & pl.col("reject_reason").is_not_null()), lines
        ),
        control=_controls(frame.filter(control_mask), lines),
        totals=payout_totals(frame),
        records=len(records),
    )


def _rejections(frame: pl.DataFrame, lines: Lines) -> list[Rejection]:
    """One Rejection per rejected line, with its raw text."""
    return [
        Rejection(row=row, reason=reason, raw=lines.text(row - 1), column=column)
        for row, reason, column in frame.select(
            "origin_row", "reject_reason", "reject_column"
        ).iter_rows()
    ]


def _controls(frame: pl.DataFrame, lines: Lines) -> list[ControlLine]:
    """One ControlLine per control line (kind = the Adyen line type)."""
    return [
        ControlLine(row=row, kind=kind, raw=lines.text(row - 1))
        for row, kind in frame.select("origin_row", "Type").iter_rows()
    ]
