"""Real-format nights: the sample data set as gateways, banks and merchants deliver it.

``generate_real`` writes the nights ``walletrecon.sample.generate`` would write with the
real-format rails (``REAL_RAILS``: which gateway carries which entries, and which breaks each
report can carry), then turns each night's settlement, bank and receipts files into the formats
real senders use. Ledger and balances are the wallet's own exports and stay canonical CSV.

Per inbox folder ``D`` (``DDDDDDDD`` below is D without dashes):

- settlement, by gateway: ``settlement/adyen_settlement_detail_report_DDDDDDDD.csv`` (Adyen
  Settlement Details Report), ``settlement/stripe_payout_reconciliation_DDDDDDDD.csv`` (Stripe
  itemized payout reconciliation), ``settlement/STL-DDDDDDDD.01.R.CSV`` (PayPal Settlement
  Report) and ``settlement/bankx_clearing_DDDDDDDD.csv``, the local bank rail's own
  semicolon-separated export of wallet top-ups and withdrawals, read by the ``mapped`` profile;
- bank lines, by currency (one account per currency at three banks):
  ``bank/camt053_DDDDDDDD.xml`` (CNY, camt.053.001.08), ``bank/bai2_DDDDDDDD.bai`` (USD) and
  ``bank/mt940_DDDDDDDD.sta`` (JPY and KWD); a bank without lines that night sends no file;
- receipts, by merchant: ``receipts/merchant_receipts_DDDDDDDD.xlsx`` (merchants with an odd
  number) and ``receipts/merchant_receipts_cn_DDDDDDDD.csv`` (GB18030, the others).

``walletrecon.toml`` gets the ``[[inputs]]`` tables that read them. ``truth.csv`` names rows by the
ids the readers give them: an Adyen line is ``PSP/Type/Modification Reference`` and its payout
``batch N, WalletreconWallet`` (bank references name that payout as the reader will see it), a
PayPal line ``Transaction ID/T-code``, an MT940 line ``statement:position`` and a BAI2 line
``account:reference`` (see each writer's ``canonical_ids``). ``realise`` turns a canonical data
set written with ``REAL_RAILS`` (its canonical twin) into the real-format one, and returns the
map from the twin's ids to the readers' ids.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import tomli_w

from walletrecon.sample.files import config_text
from walletrecon.sample.generation import generate
from walletrecon.sample.model import REAL_RAILS, SampleSummary
from walletrecon.sample.real import adyen, bai2, camt, mt940, paypal, receipts, stripe

#: An Adyen payout id in a canonical bank reference, with the generator's batch suffix.
ADYEN_PAYOUT = re.compile(r"PO-adyen-[A-Z]{3}-\d{8}( BATCH \d+)?")
#: Columns of the bank_x clearing export: the file's header for each canonical column.
CLEARING_HEADERS: dict[str, str] = {
    "settlement_id": "Clearing No",
    "gateway": "Channel",
    "gateway_ref": "Channel Ref",
    "merchant_ref": "Order No",
    "record_type": "Type",
    "gross_amount": "Gross",
    "fee_amount": "Charges",
    "net_amount": "Net",
    "currency": "Ccy",
    "settled_at": "Cleared At",
    "payout_id": "Settlement Batch",
}


@dataclass(frozen=True)
class Format:
    """How one share of a source's rows is written and read."""

    name: str
    #: The file written for a folder: a name under the folder, from DDDDDDDD.
    path: Callable[[str], str]
    #: The ``[[inputs]]`` table that reads the files.
    inputs: dict[str, Any]


SETTLEMENT_FORMATS: dict[str, Format] = {
    "adyen": Format(
        "adyen",
        lambda day: f"settlement/adyen_settlement_detail_report_{day}.csv",
        {"source": "settlement", "profile": "adyen", "pattern": "settlement/adyen_*.csv"},
    ),
    "stripe": Format(
        "stripe",
        lambda day: f"settlement/stripe_payout_reconciliation_{day}.csv",
        {
            "source": "settlement",
            "profile": "stripe",
            "pattern": "settlement/stripe_*.csv",
            "options": dict(stripe.READ_OPTIONS),
        },
    ),
    "paypal": Format(
        "paypal",
        lambda day: f"settlement/STL-{day}.01.R.CSV",
        {"source": "settlement", "profile": "paypal", "pattern": "settlement/STL-*.CSV"},
    ),
    "bank_x": Format(
        "mapped",
        lambda day: f"settlement/bankx_clearing_{day}.csv",
        {
            "source": "settlement",
            "profile": "mapped",
            "pattern": "settlement/bankx_*.csv",
            "columns": dict(CLEARING_HEADERS),
            "options": {"delimiter": ";"},
        },
    ),
}
#: Bank statements per currency: (format, the currencies its account holds).
BANK_FORMATS: tuple[tuple[Format, tuple[str, ...]], ...] = (
    (
        Format(
            "camt",
            lambda day: f"bank/camt053_{day}.xml",
            {"source": "bank", "profile": "camt", "pattern": "bank/*.xml"},
        ),
        ("CNY",),
    ),
    (
        Format(
            "bai2",
            lambda day: f"bank/bai2_{day}.bai",
            {"source": "bank", "profile": "bai2", "pattern": "bank/*.bai"},
        ),
        ("USD",),
    ),
    (
        Format(
            "mt940",
            lambda day: f"bank/mt940_{day}.sta",
            {"source": "bank", "profile": "mt940", "pattern": "bank/*.sta"},
        ),
        (),  # every other currency
    ),
)
RECEIPT_FORMATS: tuple[Format, Format] = (
    Format(
        "xlsx",
        lambda day: f"receipts/merchant_receipts_{day}.xlsx",
        receipts.xlsx_inputs("receipts/*.xlsx"),
    ),
    Format(
        "csv",
        lambda day: f"receipts/merchant_receipts_cn_{day}.csv",
        receipts.csv_inputs("receipts/*.csv"),
    ),
)


@dataclass
class IdMap:
    """Canonical ids -> the ids the readers give the same rows (only those that differ)."""

    ids: dict[str, str] = field(default_factory=dict)

    def add(self, before: pl.DataFrame, after: pl.DataFrame, columns: Iterable[str]) -> None:
        """Record each changed value of these columns, row by row."""
        for column in columns:
            pairs = zip(before[column].to_list(), after[column].to_list(), strict=True)
            self.ids.update((old, new) for old, new in pairs if old and new and old != new)

    def translate(self, frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
        """The frame with these columns' canonical ids replaced."""
        return frame.with_columns(pl.col(name).replace(self.ids) for name in columns)


def generate_real(
    out_dir: Path,
    days: int,
    seed: int,
    rows: int = 2000,
    start: date = date(2026, 11, 16),
    timezone: str = "Asia/Shanghai",
) -> SampleSummary:
    """Write the real-format data set under ``out_dir`` (see the module docstring); the same
    arguments give the same files. ValueError as ``generate``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".canonical-") as staging:
        summary = generate(
            Path(staging), days, seed, rows, start=start, timezone=timezone, rails=REAL_RAILS
        )
        realise(Path(staging), out_dir, summary.dates, timezone)
    return replace(summary, out_dir=out_dir)


def realise(canonical: Path, out_dir: Path, dates: Iterable[date], timezone: str) -> IdMap:
    """Write the canonical data set's nights in real formats under ``out_dir``, with the
    configuration that reads them and the truth in the readers' ids; the id map."""
    ids = IdMap()
    for night in dates:
        folder = night.isoformat()
        realise_folder(
            canonical / "inbox" / folder, out_dir / "inbox" / folder, night, timezone, ids
        )
    truth = pl.read_csv(canonical / "truth.csv", infer_schema=False)
    ids.translate(truth, ("key", "row_id")).write_csv(out_dir / "truth.csv")
    (out_dir / "walletrecon.toml").write_text(
        config_text(timezone) + inputs_text(), encoding="utf-8"
    )
    return ids


def inputs_text() -> str:
    """The ``[[inputs]]`` tables that read every real-format file, as TOML."""
    tables = [fmt.inputs for fmt in SETTLEMENT_FORMATS.values()]
    tables += [fmt.inputs for fmt, _ in BANK_FORMATS]
    tables += [fmt.inputs for fmt in RECEIPT_FORMATS]
    parts = ["", "# How the delivered files are read (CONTRACT section 1b)."]
    for table in tables:
        scalars = {key: value for key, value in table.items() if not isinstance(value, dict)}
        parts += ["", "[[inputs]]", tomli_w.dumps(scalars).rstrip("\n")]
        for key, value in table.items():
            if isinstance(value, dict):
                parts += [f"[inputs.{key}]", tomli_w.dumps(value).rstrip("\n")]
    return "\n".join(parts) + "\n"


def realise_folder(source: Path, target: Path, night: date, zone: str, ids: IdMap) -> None:
    """Write one canonical inbox folder's files in real formats (ledger, balances as they are)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("ledger.csv", "balances.csv"):
        shutil.copyfile(source / name, target / name)
    day = f"{night:%Y%m%d}"
    _settlement(_rows(source / "settlement.csv"), target, day, zone, ids)
    _bank(_rows(source / "bank.csv"), target, night, ids)
    _receipts(_rows(source / "receipts.csv"), target, day)


def _rows(path: Path) -> pl.DataFrame:
    """A canonical CSV file as text columns (empty fields null)."""
    return pl.read_csv(path, infer_schema=False)


def _file(target: Path, fmt: Format, day: str) -> Path:
    path = target / fmt.path(day)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _settlement(rows: pl.DataFrame, target: Path, day: str, zone: str, ids: IdMap) -> None:
    """One report per gateway that has lines in the folder."""
    known = [name for name in SETTLEMENT_FORMATS if name != "bank_x"]
    shares = {name: rows.filter(pl.col("gateway") == name) for name in known} | {
        "bank_x": rows.filter(~pl.col("gateway").is_in(known) | pl.col("gateway").is_null())
    }
    writers = {"adyen": adyen, "stripe": stripe, "paypal": paypal}
    for name, share in shares.items():
        if share.is_empty():
            continue
        path = _file(target, SETTLEMENT_FORMATS[name], day)
        if name in writers:
            module = writers[name]
            module.write(share, path, zone)
            ids.add(share, module.canonical_ids(share), ("settlement_id", "payout_id"))
        else:
            _write_clearing(share, path)


def _write_clearing(rows: pl.DataFrame, path: Path) -> None:
    """The bank_x clearing export: semicolon separated, the rail's own headers, texts as given."""
    rows.select(pl.col(name).alias(CLEARING_HEADERS[name]) for name in CLEARING_HEADERS).write_csv(
        path, separator=";"
    )


def _bank(rows: pl.DataFrame, target: Path, night: date, ids: IdMap) -> None:
    """One statement file per bank, the Adyen payouts named as the adyen reader names them."""
    rows = rows.with_columns(
        pl.col("reference").map_elements(_adyen_reference, return_dtype=pl.String)
    )
    listed = [ccy for _, currencies in BANK_FORMATS for ccy in currencies]
    day = f"{night:%Y%m%d}"
    for fmt, currencies in BANK_FORMATS:
        mine = pl.col("currency").is_in(currencies if currencies else listed)
        share = rows.filter(mine if currencies else ~mine)
        if share.is_empty():
            continue
        path = _file(target, fmt, day)
        if fmt.name == "camt":
            camt.write(share, path, night)
            read = camt.canonical_ids(share)
        elif fmt.name == "bai2":
            bai2.write(share, path, night)
            read = bai2.canonical_ids(share)
        else:
            mt940.write(share, path, night)
            read = mt940.canonical_ids(share, night)
        ids.add(share, read, ("bank_line_id",))


def _adyen_reference(reference: str) -> str:
    """A bank reference with a canonical Adyen payout id replaced by the reader's payout id."""
    return ADYEN_PAYOUT.sub(
        lambda match: adyen.payout_reference(match.group(0).split(" ")[0]), reference
    )


def _receipts(rows: pl.DataFrame, target: Path, day: str) -> None:
    """Merchants with an odd number send a spreadsheet, the others a GB18030 CSV."""
    odd = pl.col("merchant_id").str.extract(r"(\d+)$").cast(pl.Int64, strict=False) % 2 == 1
    spreadsheet, text = RECEIPT_FORMATS
    receipts.write_xlsx(rows.filter(odd.fill_null(False)), _file(target, spreadsheet, day))
    receipts.write_csv(rows.filter(~odd.fill_null(False)), _file(target, text, day))
