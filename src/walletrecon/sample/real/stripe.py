"""Settlement rows as a Stripe itemized payout reconciliation report (CSV), as ``stripe`` reads it.

One line per canonical row, then one ``payout`` line per payout: gross = net = minus the nets of
its lines (Stripe books a payout as money leaving the balance), fee 0, so the reader's payout
checks hold. A payout whose lines add up to less than zero (Stripe debits the bank) gets no payout
line: Stripe writes that line positive, and the reader takes a positive payout line for a
hand-made report's sign, so its check could never hold; that payout's lines stay unchecked.
Columns:

- ``balance_transaction_id`` = settlement_id, ``automatic_payout_id`` = payout_id,
  ``payment_metadata[txn_id]`` = merchant_ref (read with :data:`READ_OPTIONS`),
  ``charge_id`` and ``source_id`` = gateway_ref (trimmed): the ids come back as they are.
- ``reporting_category`` from record_type: payment -> ``charge``, refund -> ``refund``,
  chargeback -> ``dispute``. Stripe's ``topup`` is a top-up of the Stripe balance, a control
  record: a wallet top-up is written ``wallet_topup`` and a withdrawal ``wallet_withdrawal``,
  types the reader rejects naming them (no Stripe category carries them); any other record_type
  is written as it is and rejected too (:func:`expected_rejections`).
- ``gross`` as Stripe signs it (negative for a refund or dispute), ``fee`` and ``net`` as given;
  ``currency`` in lower case; ``created_utc`` = settled_at in UTC. Broken texts are written as
  they are, so the reader or validation rejects the row.
- A row whose currency is unknown or whose net has more decimals than its currency's minor unit
  (a deliberately broken row, rejected either way) is written without ``automatic_payout_id``:
  the reader could not add it to its payout, whose check would stay open.

A row whose net does not follow from gross and fee (a fee break the canonical night injects) is
written as it is and rejected by the reader (net is not gross - fee): in this format the break is
a rejected line, not a fee discrepancy.

Rows settled in another currency (net_currency) cannot be written: the report has one currency
per line and the reader gives no net_currency; the writer raises ValueError for them, as it does
for a payout that spans currencies (a Stripe payout has one).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl

from walletrecon.sample.real.settlement_text import amount, csv_text, minor_exact, utc_time

#: Canonical record_type -> Stripe reporting_category the reader maps back to it.
CATEGORIES: dict[str, str] = {"payment": "charge", "refund": "refund", "chargeback": "dispute"}
#: Wallet record types Stripe has no category for, written under names the reader rejects.
UNMAPPED: dict[str, str] = {"topup": "wallet_topup", "withdrawal": "wallet_withdrawal"}
#: The ``[inputs.options]`` the stripe profile needs to read merchant_ref back.
READ_OPTIONS: dict[str, str] = {"merchant_ref_column": "payment_metadata[txn_id]"}
HEADER = (
    "balance_transaction_id", "created_utc", "currency", "gross", "fee", "net",
    "reporting_category", "source_id", "charge_id", "payment_metadata[txn_id]",
    "automatic_payout_id",
)  # fmt: skip


def category(record_type: str) -> str:
    """The reporting_category written for a record_type."""
    return CATEGORIES.get(record_type) or UNMAPPED.get(record_type, record_type)


def in_payout(rows: pl.DataFrame) -> pl.Series:
    """True for each row written with its payout id (known currency, net exact in it)."""
    pairs = zip(rows["net_amount"].to_list(), rows["currency"].to_list(), strict=True)
    return pl.Series([minor_exact(net, currency) for net, currency in pairs], dtype=pl.Boolean)


def canonical_ids(rows: pl.DataFrame, gateway: str = "stripe") -> pl.DataFrame:
    """The rows as the reader gives them back: ids unchanged, gateway_ref trimmed, the profile's
    gateway, and no payout_id for a row written outside its payout (rejected in any case)."""
    return rows.with_columns(
        gateway_ref=pl.col("gateway_ref").str.strip_chars(),
        gateway=pl.lit(gateway),
        payout_id=pl.when(in_payout(rows)).then(pl.col("payout_id")),
    )


def net_follows(row: dict[str, str | None]) -> bool:
    """False when the amounts are numbers but net is not (signed) gross - fee: Stripe's lines
    always follow, and the reader rejects one that does not."""
    gross, fee, net = (amount(row[name]) for name in ("gross_amount", "fee_amount", "net_amount"))
    if gross is None or fee is None or net is None:
        return True
    sign = 1 if row["record_type"] == "payment" else -1
    return sign * gross - fee == net


def expected_rejections(rows: pl.DataFrame) -> pl.DataFrame:
    """The valid canonical rows the reader rejects: a record_type Stripe cannot carry, or a net
    that does not follow from gross and fee (a fee break of the canonical night)."""
    follows = pl.Series([net_follows(row) for row in rows.iter_rows(named=True)], dtype=pl.Boolean)
    return rows.filter(~pl.col("record_type").is_in(list(CATEGORIES)) | ~follows)


def _created(settled_at: str, zone: str) -> str:
    moment = utc_time(settled_at, zone)
    return settled_at.replace("T", " ") if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


def _line(row: dict[str, str | None], zone: str, paid: bool) -> list[str]:
    """One report line for one canonical row."""
    if row.get("net_currency"):
        raise ValueError(
            f"settlement {row['settlement_id']}: settled in {row['net_currency']}; a Stripe "
            "report line has one currency"
        )
    record_type, gross = row["record_type"] or "", row["gross_amount"] or ""
    if record_type != "payment" and gross and not gross.startswith("-"):
        gross = "-" + gross
    reference = (row["gateway_ref"] or "").strip()
    return [
        row["settlement_id"] or "", _created(row["settled_at"] or "", zone),
        (row["currency"] or "").lower(), gross, row["fee_amount"] or "", row["net_amount"] or "",
        category(record_type), reference, reference, row["merchant_ref"] or "",
        (row["payout_id"] or "") if paid else "",
    ]  # fmt: skip


def _payout_lines(lines: list[list[str]]) -> list[list[str]]:
    """One payout line per payout that pays out (its lines' nets add up to zero or more): minus
    those nets, at its latest line's time."""
    payouts: dict[str, tuple[str, Decimal, str]] = {}
    for line in lines:
        payout, currency = line[10], line[2]
        if not payout:
            continue
        known, total, latest = payouts.get(payout, (currency, Decimal(0), line[1]))
        if known != currency:
            raise ValueError(
                f"payout {payout} spans {known} and {currency}; a Stripe payout has one"
            )
        payouts[payout] = (currency, total + (amount(line[5]) or Decimal(0)), max(latest, line[1]))
    return [
        [f"txn_{payout}", latest, currency, str(-total), "0", str(-total), "payout", payout,
         "", "", payout]
        for payout, (currency, total, latest) in sorted(payouts.items())
        if total >= 0
    ]  # fmt: skip


def report_text(rows: pl.DataFrame, zone: str = "UTC") -> str:
    """The report for the rows (in their order), payout lines last; ``zone`` is the IANA zone
    a timestamp without offset is local to."""
    paid = in_payout(rows).to_list()
    lines = [_line(row, zone, ok) for row, ok in zip(rows.iter_rows(named=True), paid, strict=True)]
    return csv_text([list(HEADER), *lines, *_payout_lines(lines)])


def write(rows: pl.DataFrame, path: Path, zone: str = "UTC") -> Path:
    """Write the rows as a Stripe itemized payout reconciliation report at ``path`` (UTF-8)."""
    path.write_bytes(report_text(rows, zone).encode("utf-8"))
    return path
