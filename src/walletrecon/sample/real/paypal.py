"""Settlement rows as a PayPal Settlement Report (STL, CSV), as the ``paypal`` profile reads it.

One report and one section: ``RH``, ``FH``, ``SH``, ``CH`` (PayPal's 22 columns), one ``SB``
line per canonical row, then ``SF`` per currency (gross and fee credits and debits in
hundredths), ``SC``, ``RF`` per currency, ``RC`` and ``FF`` (SB line counts), so every control total
of the reader holds. Columns:

- ``Transaction ID`` = gateway_ref (trimmed), ``Invoice ID`` = merchant_ref.
- T-code and indicator from record_type: payment -> ``T0006`` CR, refund -> ``T1107`` DR,
  chargeback -> ``T1201`` DR. A wallet top-up is written ``T0300`` CR and a withdrawal ``T0300``
  DR (a bank deposit code the reader rejects naming it): PayPal's own withdrawal ``T0400`` is a
  sweep of the balance, a control line. Any other record_type is written ``T9999``, rejected too
  (:func:`expected_rejections`).
- Amounts in hundredths of the currency's unit whatever its exponent (as PayPal writes them:
  100 yen is ``10000``), unsigned, with ``CR``/``DR``; the fee is written as
  what makes the reader's net (signed gross + signed fee) the canonical net: the canonical fee
  when the net follows from gross and fee, else gross - net (``CR`` when negative). A text that is
  no exact amount of a known currency is written as it is, and the reader rejects the line.
- ``Transaction Completion Date`` = settled_at as ``YYYY/MM/DD HH:MM:SS +HHMM`` (the local time
  in the night's zone for a time without offset).

Ids the reader derives (:func:`canonical_ids`): settlement_id = ``Transaction ID/T-code``, so two
lines of one gateway_ref and record type (two partial refunds) share it: the STL has no other
per-line id. payout_id is null: the STL carries no payout per line. fee_amount is the fee written
(0 when it is a credit). Rows settled in another currency (net_currency) are not written (the
conversion lines are not generated): ValueError.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from walletrecon.money import currency_exponents
from walletrecon.sample.real.settlement_text import STAMP, amount, csv_text, utc_time
from walletrecon.sources.profiles.paypal_map import STL_DECIMALS
from walletrecon.sources.profiles.text import major_text

#: Canonical record_type -> (T-code, gross indicator) the reader maps back to it.
EVENTS: dict[str, tuple[str, str]] = {
    "payment": ("T0006", "CR"),
    "refund": ("T1107", "DR"),
    "chargeback": ("T1201", "DR"),
}
#: Record types PayPal's settlement lines cannot carry: written with codes the reader rejects.
UNMAPPED: dict[str, tuple[str, str]] = {"topup": ("T0300", "CR"), "withdrawal": ("T0300", "DR")}
UNKNOWN_EVENT = ("T9999", "CR")
ACCOUNT = "WALLETRECON01"
COLUMN_HEADER = (
    "Transaction ID", "Invoice ID", "PayPal Reference ID", "PayPal Reference ID Type",
    "Transaction Event Code", "Transaction Initiation Date", "Transaction Completion Date",
    "Transaction Debit or Credit", "Gross Transaction Amount", "Gross Transaction Currency",
    "Fee Debit or Credit", "Fee Amount", "Fee Currency", "Custom Field", "Consumer ID",
    "Payment Tracking ID", "Store ID", "Bank Reference ID", "Credit Transactional Fee",
    "Credit Promotional Fee", "Credit Term",
)  # fmt: skip


def event(record_type: str) -> tuple[str, str]:
    """The T-code and gross indicator written for a record_type."""
    return EVENTS.get(record_type) or UNMAPPED.get(record_type, UNKNOWN_EVENT)


def _units(text: str | None, currency: str | None) -> int | None:
    """An amount in whole hundredths (``STL_DECIMALS``); None when not exact or the currency is
    unknown."""
    value = amount(text)
    if value is None or (currency or "") not in currency_exponents():
        return None
    scaled = value.scaleb(STL_DECIMALS)
    return int(scaled) if scaled == scaled.to_integral_value() else None


def fee_units(row: dict[str, str | None]) -> int | None:
    """The signed fee written (debit positive): what makes signed gross + signed fee the net."""
    currency = row["currency"]
    gross, net = _units(row["gross_amount"], currency), _units(row["net_amount"], currency)
    fee = _units(row["fee_amount"], currency)
    if gross is None or net is None:
        return fee
    sign = 1 if event(row["record_type"] or "")[1] == "CR" else -1
    return sign * gross - net


def canonical_ids(rows: pl.DataFrame, gateway: str = "paypal") -> pl.DataFrame:
    """The rows as the reader gives them back (see the module docstring)."""
    fees = [_reader_fee(row) for row in rows.iter_rows(named=True)]
    codes = rows["record_type"].map_elements(lambda kind: event(kind)[0], return_dtype=pl.String)
    reference = pl.col("gateway_ref").str.strip_chars()
    return rows.with_columns(
        settlement_id=pl.concat_str(reference, codes, separator="/"),
        gateway_ref=reference,
        gateway=pl.lit(gateway),
        payout_id=pl.lit(None, pl.String),
        fee_amount=pl.Series(fees, dtype=pl.String),
    )


def _reader_fee(row: dict[str, str | None]) -> str | None:
    """The fee_amount the reader gives: the debited fee written, 0 for a credited one."""
    units = fee_units(row)
    if units is None or (row["currency"] or "") not in currency_exponents():
        return row["fee_amount"]
    return major_text(Decimal(max(units, 0)).scaleb(-STL_DECIMALS))


def expected_rejections(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows the reader rejects for their record type (no settlement T-code carries it) or
    for an amount the STL cannot write (a fraction below a hundredth: 2.345 KWD)."""
    amounts = ("gross_amount", "fee_amount", "net_amount")
    unwritable = [
        (row["currency"] or "") in currency_exponents()
        and any(
            amount(row[name]) is not None and _units(row[name], row["currency"]) is None
            for name in amounts
        )
        for row in rows.iter_rows(named=True)
    ]
    return rows.filter(
        ~pl.col("record_type").is_in(list(EVENTS)) | pl.Series(unwritable, dtype=pl.Boolean)
    )


def completion(settled_at: str, zone: str) -> str:
    """``YYYY/MM/DD HH:MM:SS +HHMM`` for a canonical timestamp; a broken one as it is."""
    moment, match = utc_time(settled_at, zone), STAMP.match(settled_at)
    if moment is None or match is None:
        return settled_at
    local = moment.astimezone(ZoneInfo(zone)) if match[3] is None else None
    stamp = local or datetime.fromisoformat(settled_at.replace("Z", "+00:00"))
    return stamp.strftime("%Y/%m/%d %H:%M:%S %z")


def _line(row: dict[str, str | None], zone: str) -> list[str]:
    """One SB line for one canonical row."""
    if row.get("net_currency"):
        raise ValueError(f"settlement {row['settlement_id']}: settled in another currency")
    currency = row["currency"] or ""
    code, indicator = event(row["record_type"] or "")
    gross = _units(row["gross_amount"], currency)
    fee = fee_units(row)
    when = completion(row["settled_at"] or "", zone)
    fee_dc = "" if fee is None else ("DR" if fee >= 0 else "CR")
    return [
        "SB", (row["gateway_ref"] or "").strip(), row["merchant_ref"] or "", "", "", code, when,
        when, indicator, (row["gross_amount"] or "") if gross is None else str(gross), currency,
        fee_dc, (row["fee_amount"] or "") if fee is None else str(abs(fee)), currency,
        "", "", "", "", "", "", "", "",
    ]  # fmt: skip


def _footers(kind: str, lines: list[list[str]]) -> list[list[str]]:
    """SF or RF lines: per currency, gross CR, gross DR, fee CR, fee DR (readable digits)."""
    sums: dict[str, Counter[str]] = {}
    for line in lines:
        figures = sums.setdefault(line[10], Counter())
        figures["g" + line[8]] += int(line[9]) if line[9].isdigit() else 0
        figures["f" + line[11]] += int(line[12]) if line[12].isdigit() else 0
        figures["n"] += 1
    return [
        [kind, currency, str(f["gCR"]), str(f["gDR"]), str(f["fCR"]), str(f["fDR"]),
         *["CR", "0"] * 6, str(f["n"])]
        for currency, f in sorted(sums.items())
    ]  # fmt: skip


def report_text(rows: pl.DataFrame, zone: str = "UTC") -> str:
    """The STL file for the rows (in their order); ``zone`` is the IANA zone a timestamp
    without offset is local to."""
    lines = [_line(row, zone) for row in rows.iter_rows(named=True)]
    dates = sorted(line[7] for line in lines if line[7][:1].isdigit()) or ["1970/01/01 00:00:00"]
    count = str(len(lines))
    return csv_text(
        [
            ["RH", dates[-1], "A", ACCOUNT, "009"],
            ["FH", "01"],
            ["SH", dates[0], dates[-1], ACCOUNT],
            ["CH", *COLUMN_HEADER],
            *lines,
            *_footers("SF", lines),
            ["SC", count],
            *_footers("RF", lines),
            ["RC", count],
            ["FF", count],
        ]
    )


def write(rows: pl.DataFrame, path: Path, zone: str = "UTC") -> Path:
    """Write the rows as a PayPal settlement report at ``path`` (UTF-8)."""
    path.write_bytes(report_text(rows, zone).encode("utf-8"))
    return path
