"""Codes, weights and fixed tables of the sample generator, and the summary it returns.

Names, currencies, gateways, statuses and timestamp styles are small integer codes while the
data is generated; the tuples here give their text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

HOUR = 3600
#: Calendar days kept beyond the last night, so that derived instants always have a local date.
CALENDAR_MARGIN = 5
#: Rows formatted and written at a time, which bounds the memory taken by text.
CHUNK_ROWS = 100_000

CURRENCIES: tuple[str, ...] = ("CNY", "USD", "JPY", "KWD")
CNY, USD, JPY, KWD = range(4)
EXPONENTS: IntArray = np.array([2, 2, 0, 3], dtype=np.int64)
CURRENCY_WEIGHTS = np.array([0.70, 0.20, 0.06, 0.04])
#: A typical payment per currency, in minor units (80 CNY, 15 USD, 2000 JPY, 5 KWD).
TYPICAL_MINOR: IntArray = np.array([8_000, 1_500, 2_000, 5_000], dtype=np.int64)

GATEWAYS: tuple[str, ...] = ("adyen", "stripe", "bank_x", "paypal")
ADYEN, STRIPE, BANK_X, PAYPAL = range(4)
#: Canonical nights route every entry over adyen, stripe and bank_x (PayPal is a real-format
#: rail, see :class:`Rails`); the zero weight keeps the draws of older data sets.
GATEWAY_WEIGHTS = np.array([0.5, 0.3, 0.2, 0.0])
#: The currencies PayPal settles here: its report writes hundredths of every currency.
PAYPAL_CURRENCIES: tuple[int, ...] = (CNY, USD, JPY)

PAYMENT, REFUND, TOPUP, WITHDRAWAL, TRANSFER_IN, TRANSFER_OUT, FEE, ADJUSTMENT = range(8)
#: Entry types the wallet sends to a gateway: they carry a gateway_ref and get a settlement line.
ROUTED_TYPES = (PAYMENT, REFUND, TOPUP, WITHDRAWAL)
#: Record types a fee schedule applies to (the CONTRACT default).
SCHEDULED_TYPES = (PAYMENT, TOPUP)
#: Share of ledger rows per entry type; transfers are pairs (one out, one in) on top of these.
SINGLE_TYPE_SHARES = np.array([0.55, 0.05, 0.12, 0.06, 0.0, 0.0, 0.08, 0.04])
TRANSFER_SHARE = 0.10
AMOUNT_SCALE = np.array([1.0, 0.8, 3.0, 2.0, 1.0, 1.0, 0.02, 0.1])
AMOUNT_SIGN: IntArray = np.array([-1, 1, 1, -1, 1, -1, -1, 1], dtype=np.int64)

STATUSES: tuple[str, ...] = ("succeeded", "pending", "failed", "reversed")
SUCCEEDED, PENDING, FAILED, REVERSED = range(4)

#: Timestamp styles: with the zone's offset, in UTC with ``Z``, or local time without offset.
STYLE_OFFSET, STYLE_UTC, STYLE_LOCAL = range(3)
STYLE_WEIGHTS = np.array([0.88, 0.10, 0.02])

SOURCES: tuple[str, ...] = ("ledger", "balances", "settlement", "receipts", "bank")
TRUTH_COLUMNS: tuple[str, ...] = (
    "type",
    "key",
    "run_date",
    "source",
    "row_id",
    "note",
    #: For a near miss (an item whose counterpart carries a mistyped reference or txn_id): the
    #: id of that counterpart, the match a person would make (and walletrecon should suggest).
    "counterpart",
    #: The break's injected likely cause (a name of ``walletrecon.causes.CAUSES``), empty when
    #: none was injected.
    "cause",
)
#: A reference (``ref_variant``) or txn_id (``txn_variant``) written with a typing slip (its last
#: character twice): the item's counterpart no longer matches it, though one character away.
MISTYPED = 4
HEX_DIGITS = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
#: Prefix, zero-padded width and offset added to the number, per kind of identifier.
ID_FORMATS: dict[str, tuple[str, int, int]] = {
    "entry": ("E", 10, 0),
    "txn": ("T", 10, 0),
    "settlement": ("S", 10, 0),
    "receipt": ("R", 10, 0),
    "bank_line": ("BL", 8, 0),
    "account": ("A", 7, 1),
    "merchant": ("M", 5, 1),
}


@dataclass(frozen=True)
class Rails:
    """Which gateway carries which entries, and which breaks its settlement report can carry.

    Canonical nights (``real=False``) route every entry over adyen, stripe and bank_x and can
    carry every break. Real-format nights write each gateway's report in its own format, and a
    format cannot carry everything a canonical line can:

    - card payments and refunds go over Adyen, Stripe and PayPal (bank_x's share goes to PayPal),
      while wallet top-ups and withdrawals go over the local bank rail bank_x: no gateway report
      has a line type for them;
    - Stripe and PayPal derive net from gross and fee, so a net that does not follow from them
      (a fee break) cannot be written in their reports;
    - a PayPal line's only id is its transaction id, the gateway_ref: a second line for the same
      reference and type (a duplicate) would read as the same line delivered again;
    - PayPal's report names no payout per line (it sweeps a balance), so its lines carry no
      payout_id and the bank pays no payout of theirs;
    - PayPal writes every amount in hundredths and settles no three-decimal currency
      (``PAYPAL_CURRENCIES``): bank_x's card entries in another currency go to Adyen.
    """

    real: bool = False

    def route(self, entry_type: IntArray, drawn: IntArray, currency: IntArray) -> IntArray:
        """The gateway of each routed entry from the drawn one and its currency (unchanged for
        canonical)."""
        if not self.real:
            return drawn
        funding = np.isin(entry_type, (TOPUP, WITHDRAWAL))
        paypal = np.where(np.isin(currency, PAYPAL_CURRENCIES), PAYPAL, ADYEN)
        card = np.where(np.isin(drawn, (BANK_X, PAYPAL)), paypal, drawn)
        return np.where(drawn < 0, drawn, np.where(funding, BANK_X, card)).astype(np.int64)

    @property
    def derived_net(self) -> tuple[int, ...]:
        """Gateways whose report derives net from gross and fee."""
        return (STRIPE, PAYPAL) if self.real else ()

    @property
    def reference_is_line_id(self) -> tuple[int, ...]:
        """Gateways whose report identifies a line by its gateway_ref alone."""
        return (PAYPAL,) if self.real else ()


#: The rails of canonical nights and of real-format nights.
CANONICAL_RAILS = Rails()
REAL_RAILS = Rails(real=True)
#: Gateways whose settlement lines carry no payout_id.
UNPAID_GATEWAYS: tuple[int, ...] = (PAYPAL,)


@dataclass(frozen=True)
class FeeTable:
    """One gateway's fee schedule as written to the configuration (decimal strings)."""

    percent: str
    fixed: dict[str, str]


FEE_TABLES: dict[str, FeeTable] = {
    "adyen": FeeTable("1.5", {"CNY": "0.20", "USD": "0.30", "JPY": "40", "KWD": "0.100"}),
    "stripe": FeeTable("2.9", {"USD": "0.30", "CNY": "0.50"}),
}


@dataclass(frozen=True)
class SampleSummary:
    """What ``generate`` wrote."""

    out_dir: Path
    dates: list[date]
    rows_per_source: dict[str, int]
    injected: dict[str, int]
