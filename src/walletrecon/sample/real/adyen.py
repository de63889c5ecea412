"""Settlement rows as an Adyen Settlement Details Report (CSV), as the ``adyen`` profile reads it.

One report line per canonical row, then one ``MerchantPayout`` line per batch and net currency
whose net is the batch's lines' nets added up (Net Debit when money leaves, as Adyen writes it),
so the reader's payout check holds. Columns:

- ``Type`` from record_type: payment -> ``Settled``, refund -> ``Refunded``, chargeback ->
  ``Chargeback``. Adyen has no line type for a wallet top-up or withdrawal and the reader knows
  none: those rows (and a record_type that is not a known one) are written with their own text
  as the Type, and the reader rejects them naming it (:func:`expected_rejections`).
- ``Gross Credit (GC)`` for a payment, ``Gross Debit (GC)`` for every other type; net in ``Net
  Credit (NC)`` when not negative, else its magnitude in ``Net Debit (NC)``; ``Commission (NC)``
  = fee_amount. Amount texts are written as given (a broken one stays broken, so the reader
  rejects it); a currency's wrong number of decimals is for validation to reject, as in CSV.
- ``Creation Date`` + ``TimeZone``: an ``...Z`` time in ``UTC``, an offset time as its local
  time in ``GMT+HH:MM``, a time without offset in the night's zone (an IANA name). A text that
  is none of these is written as it is and rejected by the reader.
- ``Psp Reference`` = gateway_ref (trimmed), ``Merchant Reference`` = merchant_ref,
  ``Modification Reference`` = settlement_id, so lines sharing a PSP reference and type differ.
- ``Batch Number`` from payout_id (:func:`batch_number`: a stable number, the same in every
  night's file; two payout ids of one file on one number are a ValueError, never merged); a row
  without payout_id has no batch and its group is left unchecked.

Ids the reader derives (:func:`canonical_ids`): settlement_id = ``PSP/Type/settlement_id``,
payout_id = ``batch N, MERCHANT_ACCOUNT``; gateway_ref loses its padding; gateway is the
profile's (``ProfileSpec.gateway``, else ``adyen``): write one gateway's rows per file.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import polars as pl

from walletrecon.sample.real.settlement_text import STAMP, amount, csv_text

#: The merchant account every written line belongs to (part of the reader's payout_id).
MERCHANT_ACCOUNT = "WalletreconWallet"
#: Canonical record_type -> the Adyen line type the reader maps back to it.
LINE_TYPES: dict[str, str] = {
    "payment": "Settled",
    "refund": "Refunded",
    "chargeback": "Chargeback",
}
HEADER = (
    "Company Account", "Merchant Account", "Psp Reference", "Merchant Reference",
    "Payment Method", "Creation Date", "TimeZone", "Type", "Modification Reference",
    "Gross Currency", "Gross Debit (GC)", "Gross Credit (GC)", "Exchange Rate", "Net Currency",
    "Net Debit (NC)", "Net Credit (NC)", "Commission (NC)", "Markup (NC)", "Scheme Fees (NC)",
    "Interchange (NC)", "Batch Number",
)  # fmt: skip
_COMPANY = "Walletrecon"


def batch_number(payout_id: str) -> str:
    """The Adyen batch number of a payout: nine digits of its SHA-256, stable across nights."""
    return str(int(hashlib.sha256(payout_id.encode("utf-8")).hexdigest()[:8], 16) % 10**9)


def payout_reference(payout_id: str) -> str:
    """The payout_id the reader gives for a canonical payout_id (``batch N, ACCOUNT``)."""
    return f"batch {batch_number(payout_id)}, {MERCHANT_ACCOUNT}"


def line_type(record_type: str) -> str:
    """The Type written for a record_type (its own text when Adyen has no such line type)."""
    return LINE_TYPES.get(record_type, record_type)


def canonical_ids(rows: pl.DataFrame, gateway: str = "adyen") -> pl.DataFrame:
    """The rows with the ids the ``adyen`` reader derives from the written file (and the
    ``gateway`` it is configured with: the file does not name one)."""
    psp = pl.col("gateway_ref").str.strip_chars()
    kind = pl.col("record_type").replace_strict(LINE_TYPES, default=pl.col("record_type"))
    payout = pl.col("payout_id").map_elements(payout_reference, return_dtype=pl.String)
    return rows.with_columns(
        settlement_id=pl.concat_str(psp, kind, pl.col("settlement_id"), separator="/"),
        gateway_ref=psp,
        payout_id=payout,
        gateway=pl.lit(gateway),
    )


def expected_rejections(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows the reader rejects for their line type (a record_type Adyen cannot carry)."""
    return rows.filter(~pl.col("record_type").is_in(list(LINE_TYPES)))


def _when(settled_at: str, zone: str) -> tuple[str, str]:
    """Creation Date and TimeZone for a canonical timestamp text (see the module docstring)."""
    match = STAMP.match(settled_at)
    if match is None:
        return settled_at.replace("T", " "), "UTC"
    day, clock, offset = match.groups()
    if offset is None:
        return f"{day} {clock}", zone
    return f"{day} {clock}", "UTC" if offset == "Z" else f"GMT{offset}"


def _line(row: dict[str, str | None], zone: str) -> list[str]:
    """One report line for one canonical row."""
    record_type = row["record_type"] or ""
    gross, net = row["gross_amount"] or "", row["net_amount"] or ""
    net_currency = row.get("net_currency") or row["currency"] or ""
    rate = row.get("exchange_rate") or "1"
    debit_net, credit_net = (net[1:], "") if net.startswith("-") else ("", net)
    debit_gross, credit_gross = ("", gross) if record_type == "payment" else (gross, "")
    date, zone_text = _when(row["settled_at"] or "", zone)
    payout = row["payout_id"]
    return [
        _COMPANY, MERCHANT_ACCOUNT, (row["gateway_ref"] or "").strip(), row["merchant_ref"] or "",
        "", date, zone_text, line_type(record_type), row["settlement_id"] or "",
        row["currency"] or "", debit_gross, credit_gross, rate, net_currency, debit_net,
        credit_net, row["fee_amount"] or "", "", "", "", batch_number(payout) if payout else "",
    ]  # fmt: skip


def _payout_lines(lines: list[list[str]]) -> list[list[str]]:
    """One MerchantPayout line per batch and net currency: minus the nets of its lines."""
    groups: dict[tuple[str, str], tuple[Decimal, list[str]]] = {}
    for line in lines:
        batch, currency = line[20], line[13]
        if not batch:
            continue
        net = (amount(line[15]) or Decimal(0)) - (amount(line[14]) or Decimal(0))
        total, last = groups.get((batch, currency), (Decimal(0), line))
        groups[(batch, currency)] = (total + net, max(last, line, key=lambda x: (x[5], x[6])))
    out = []
    for (batch, currency), (total, last) in sorted(groups.items()):
        debit, credit = (str(total), "") if total >= 0 else ("", str(-total))
        reference = f"batch {batch}, {MERCHANT_ACCOUNT}"
        out.append(
            [_COMPANY, MERCHANT_ACCOUNT, "", "", "", last[5], last[6], "MerchantPayout",
             reference, currency, "", "", "", currency, debit, credit, "", "", "", "", batch]
        )  # fmt: skip
    return out


def report_text(rows: pl.DataFrame, zone: str = "UTC") -> str:
    """The report for the rows (in their order), payout lines last; ``zone`` is the IANA zone
    a timestamp without offset is local to."""
    payouts = rows["payout_id"].drop_nulls().unique().to_list()
    if len({batch_number(payout) for payout in payouts}) < len(payouts):
        raise ValueError("two payout ids of the rows share an Adyen batch number")
    lines = [_line(row, zone) for row in rows.iter_rows(named=True)]
    return csv_text([list(HEADER), *lines, *_payout_lines(lines)])


def write(rows: pl.DataFrame, path: Path, zone: str = "UTC") -> Path:
    """Write the rows as an Adyen settlement details report at ``path`` (UTF-8)."""
    path.write_bytes(report_text(rows, zone).encode("utf-8"))
    return path
