"""A seeded, vectorised generator of a realistic multi-night wallet data set with known breaks.

``generate`` writes one inbox folder per business date in the canonical profile of CONTRACT.md
(ledger, balances, settlement, receipts, bank), the matching ``walletrecon.toml`` and a
``truth.csv`` that lists every discrepancy injected on purpose, every deliberately bad input row
(type ``rejected``) and every identical re-delivery (type ``redelivered``). Clean data produces no
break at all: nothing is a break unless the truth file names it.

Everything is computed on integer numpy columns (money in integer minor units, instants in epoch
seconds, names as small codes) and turned into text by polars expressions only when a file is
written, so no float ever formats an amount and a million ledger rows a night take seconds. The
same seed gives byte-identical files.

The generator works night by night. Night ``n`` creates the ledger entries of business date ``n``
and derives their settlement lines and receipts, which may land in the inbox folders of ``n``,
``n + 1`` or ``n + 2``; the injections are applied to those integer tables; then folder ``n`` is
written (its ledger, the settlement lines and receipts routed to it, the bank lines of the payouts
of ``n - 1`` and the balances at the end of ``n``). Balances and bank amounts are computed from the
data as delivered, after every injection, so that each injection causes exactly one break.

Truth rows (``type,key,run_date,source,row_id,note``):

* ``key`` is the discrepancy key of CONTRACT.md; a gateway_ref key is in its canonical form
  (``GW-`` and 12 upper-case hex digits), so compare it case-insensitively after stripping.
* ``run_date`` is the first night the engine must report the break: item date + window for an
  absence (``missing_*``, ``payment_not_received``, a payout without bank line, a bank line naming
  no payout), the night both sides are delivered for a comparison (amount, fee, currency, status,
  sync delay), the night the copy is delivered for a duplicate, the bank line's night for a bank
  amount, the snapshot's night for a balance. Breaks due after the last night are left out.
* ``source``/``row_id`` name the row that carries the break: the ledger entry that lacks its
  counterpart, the changed or copied line, the bank line; ``settlement``/payout_id for a payout
  whose bank line was withheld; ``balances``/account_id for a balance.
* A ``balance_mismatch`` is a drift that starts on its night and stays: CONTRACT compares each
  snapshot with the previous *reported* balance, so a balance wrong on one night only would be
  two breaks (that night and the next).
* ``rejected`` rows name deliberately bad input rows (extra rows under fresh ids) and
  ``redelivered`` rows the identical repeats of a row in the next night's file; for both, key and
  row_id are the row's id and run_date is the night of the file that holds it.
"""

from __future__ import annotations

import gzip
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from walletrecon.money import to_minor
from walletrecon.schemas import ENTRY_TYPES

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

GATEWAYS: tuple[str, ...] = ("adyen", "stripe", "bank_x")
GATEWAY_WEIGHTS = np.array([0.5, 0.3, 0.2])

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
TRUTH_COLUMNS: tuple[str, ...] = ("type", "key", "run_date", "source", "row_id", "note")
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


# --------------------------------------------------------------------------------------------
# Small building blocks: integer tables, counters, calendar, fees
# --------------------------------------------------------------------------------------------


class Table:
    """Named integer columns of equal length: one source in numeric form before formatting."""

    def __init__(self, columns: dict[str, IntArray]) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def __getitem__(self, name: str) -> IntArray:
        return self.columns[name]

    def __setitem__(self, name: str, values: IntArray) -> None:
        self.columns[name] = values

    def take(self, selection: IntArray | BoolArray) -> Table:
        """The rows at these positions (or where this mask holds), as a new table."""
        return Table({name: values[selection] for name, values in self.columns.items()})

    def reorder(self, selection: IntArray | BoolArray) -> None:
        """Keep only these rows, in this order, in place (one column at a time, to save memory)."""
        for name in list(self.columns):
            self.columns[name] = self.columns[name][selection]

    def append(self, other: Table) -> None:
        """Add the rows of another table with the same columns at the end, in place."""
        for name in list(self.columns):
            self.columns[name] = np.concatenate([self.columns[name], other[name]])

    def chunks(self, size: int) -> Iterator[Table]:
        """Consecutive slices (views) of at most ``size`` rows; one empty slice when empty."""
        for start in range(0, max(len(self), 1), size):
            yield Table(
                {name: values[start : start + size] for name, values in self.columns.items()}
            )

    def frame(self) -> pl.DataFrame:
        """The columns as a polars frame (for formatting)."""
        return pl.DataFrame(self.columns)

    @staticmethod
    def concat(tables: Sequence[Table]) -> Table:
        """The rows of all tables one after the other (same columns in each)."""
        names = tables[0].columns.keys()
        return Table({name: np.concatenate([table[name] for table in tables]) for name in names})


@dataclass
class Counters:
    """Global sequence numbers, so that every identifier is unique over all nights."""

    next_number: dict[str, int] = field(default_factory=dict)

    def take(self, kind: str, count: int) -> IntArray:
        """The next ``count`` numbers of one kind of identifier."""
        start = self.next_number.get(kind, 1)
        self.next_number[kind] = start + count
        return np.arange(start, start + count, dtype=np.int64)


@dataclass(frozen=True)
class Calendar:
    """Business days in the configured zone: local midnights and UTC offset changes."""

    zone_name: str
    start: date
    day_starts: IntArray
    transitions: IntArray

    @staticmethod
    def build(zone_name: str, start: date, days: int) -> Calendar:
        """Local midnights from ``start`` for ``days`` nights plus a margin."""
        zone = ZoneInfo(zone_name)
        midnights = [
            int(datetime.combine(start + timedelta(days=index), time(), zone).timestamp())
            for index in range(days + CALENDAR_MARGIN + 1)
        ]
        hours = range(midnights[0] - 24 * HOUR, midnights[-1] + HOUR, HOUR)
        offsets = [datetime.fromtimestamp(instant, zone).utcoffset() for instant in hours]
        transitions = [
            instant
            for instant, before, after in zip(hours[1:], offsets, offsets[1:], strict=False)
            if before != after
        ]
        day_starts = np.array(midnights, dtype=np.int64)
        return Calendar(zone_name, start, day_starts, np.array(transitions, dtype=np.int64))

    def date_of(self, day: int) -> date:
        """The date of a day index."""
        return self.start + timedelta(days=day)

    def length(self, day: int) -> int:
        """Seconds in the local day (23, 24 or 25 hours)."""
        return int(self.day_starts[day + 1] - self.day_starts[day])

    def day_of(self, instants: IntArray) -> IntArray:
        """The local day index of each instant."""
        return (np.searchsorted(self.day_starts, instants, side="right") - 1).astype(np.int64)

    def safe_styles(self, style: IntArray, instants: IntArray) -> IntArray:
        """The styles, with the offset instead of local time near a UTC offset change.

        A local time without offset is ambiguous (or does not exist) around a daylight-saving
        change, so such instants are written with their offset.
        """
        near = np.zeros(len(instants), dtype=np.bool_)
        for transition in self.transitions.tolist():
            near |= np.abs(instants - transition) < 3 * HOUR
        return np.where((style == STYLE_LOCAL) & near, STYLE_OFFSET, style).astype(np.int64)

    def end_of_day_text(self, day: int) -> str:
        """The day's cut-off as ISO 8601 with offset, e.g. ``2026-11-16T23:59:59+08:00``."""
        last_second = int(self.day_starts[day + 1]) - 1
        return datetime.fromtimestamp(last_second, ZoneInfo(self.zone_name)).isoformat()


@dataclass(frozen=True)
class FeeRates:
    """The fee schedules as integer arrays indexed by gateway code (and currency code)."""

    numerator: IntArray
    denominator: IntArray
    fixed: IntArray
    scheduled: BoolArray

    @staticmethod
    def build() -> FeeRates:
        """Exact integer rates from FEE_TABLES: fee = gross * numerator / denominator + fixed."""
        numerator = np.zeros(len(GATEWAYS), dtype=np.int64)
        denominator = np.ones(len(GATEWAYS), dtype=np.int64)
        fixed = np.zeros((len(GATEWAYS), len(CURRENCIES)), dtype=np.int64)
        scheduled = np.zeros(len(GATEWAYS), dtype=np.bool_)
        for gateway, table in FEE_TABLES.items():
            code = GATEWAYS.index(gateway)
            top, bottom = Decimal(table.percent).as_integer_ratio()
            numerator[code], denominator[code] = top, bottom * 100
            scheduled[code] = True
            for currency, amount in table.fixed.items():
                fixed[code, CURRENCIES.index(currency)] = to_minor(Decimal(amount), currency)
        return FeeRates(numerator, denominator, fixed, scheduled)

    def expected_fee(
        self, gateway: IntArray, currency: IntArray, record_type: IntArray, gross: IntArray
    ) -> IntArray:
        """round_half_even(gross * percent / 100 + fixed) in minor units, 0 off schedule."""
        denominator = self.denominator[gateway]
        quotient, remainder = np.divmod(gross * self.numerator[gateway], denominator)
        twice = 2 * remainder
        round_up = (twice > denominator) | ((twice == denominator) & (quotient % 2 == 1))
        fee = quotient + round_up + self.fixed[gateway, currency]
        applies = self.scheduled[gateway] & np.isin(record_type, SCHEDULED_TYPES)
        return np.where(applies, fee, 0).astype(np.int64)


def net_amount(record_type: IntArray, gross: IntArray, fee: IntArray) -> IntArray:
    """gross - fee for payments and topups, -gross - fee for refunds and withdrawals."""
    inbound = np.isin(record_type, SCHEDULED_TYPES)
    return np.where(inbound, gross - fee, -gross - fee).astype(np.int64)


def format_minor(minor: int, currency: str) -> str:
    """Integer minor units as a decimal string in major units, by integer arithmetic only."""
    exponent = int(EXPONENTS[CURRENCIES.index(currency)])
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**exponent)
    if exponent == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{exponent}d}"


# --------------------------------------------------------------------------------------------
# Formatting: integer columns to the canonical text profile
# --------------------------------------------------------------------------------------------


def _id_expr(kind: str, column: str) -> pl.Expr:
    """An identifier such as ``E0000000042``; null where the number is negative."""
    prefix, width, offset = ID_FORMATS[kind]
    number = pl.col(column)
    text = pl.lit(prefix) + (number + offset).cast(pl.String).str.zfill(width)
    return pl.when(number >= 0).then(text)


def _code_expr(column: str, names: Sequence[str]) -> pl.Expr:
    """A code column as its name (``CURRENCIES``, ``STATUSES``, ...)."""
    mapping = dict(enumerate(names))
    return pl.col(column).replace_strict(mapping, return_dtype=pl.String)


def _amount_expr(amount: str, currency: str) -> pl.Expr:
    """Signed minor units as an exact decimal string with the currency's number of decimals."""
    value = pl.col(amount)
    scale = pl.col(currency).replace_strict(
        {code: 10 ** int(exponent) for code, exponent in enumerate(EXPONENTS)},
        return_dtype=pl.Int64,
    )
    magnitude = value.abs()
    sign = pl.when(value < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = (magnitude // scale).cast(pl.String)
    fraction = (magnitude % scale + scale).cast(pl.String).str.slice(1)
    decimals = pl.when(scale > 1).then(pl.lit(".") + fraction).otherwise(pl.lit(""))
    return sign + whole + decimals


def _timestamp_expr(column: str, style: str, zone_name: str) -> pl.Expr:
    """Epoch seconds as ISO 8601 in the row's style; null where the instant is negative."""
    instant = pl.when(pl.col(column) >= 0).then(pl.col(column))
    utc = pl.from_epoch(instant, time_unit="s")
    local = utc.dt.replace_time_zone("UTC").dt.convert_time_zone(zone_name)
    return (
        pl.when(pl.col(style) == STYLE_UTC)
        .then(utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
        .when(pl.col(style) == STYLE_LOCAL)
        .then(local.dt.strftime("%Y-%m-%dT%H:%M:%S"))
        .otherwise(local.dt.strftime("%Y-%m-%dT%H:%M:%S%:z"))
    )


def _scramble(numbers: IntArray) -> npt.NDArray[np.uint64]:
    """A bijection of 48-bit numbers, so that sequential references look random but stay unique."""
    mask = np.uint64((1 << 48) - 1)
    value = numbers.astype(np.uint64) * np.uint64(0x9E3779B97F4B) & mask
    value ^= value >> np.uint64(21)
    return value * np.uint64(0xC2B2AE3D27D5) & mask


def gateway_refs(numbers: IntArray) -> pl.Series:
    """Gateway references ``GW-`` + 12 upper-case hex digits (the canonical form), vectorised."""
    prefix = np.frombuffer(b"GW-", dtype=np.uint8)
    width = len(prefix) + 12
    text = np.empty((len(numbers), width), dtype=np.uint8)
    text[:, : len(prefix)] = prefix
    shifts = np.arange(44, -1, -4, dtype=np.uint64)
    digits = (_scramble(numbers)[:, None] >> shifts) & np.uint64(15)
    text[:, len(prefix) :] = HEX_DIGITS[digits.astype(np.intp)]
    offsets = np.arange(0, (len(numbers) + 1) * width, width, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(
        len(numbers), pa.py_buffer(offsets), pa.py_buffer(text.tobytes())
    )
    return pl.Series("gateway_ref", array, dtype=pl.String)


def _reference_expr(text: str, number: str, variant: str) -> pl.Expr:
    """The gateway_ref as written: canonical, lower case, padded with spaces, or both."""
    canonical = pl.col(text)
    variant_code = pl.col(variant)
    lower = canonical.str.to_lowercase()
    written = (
        pl.when(variant_code == 1)
        .then(lower)
        .when(variant_code == 2)
        .then(pl.lit(" ") + canonical + pl.lit(" "))
        .when(variant_code == 3)
        .then(lower + pl.lit("  "))
        .otherwise(canonical)
    )
    return pl.when(pl.col(number) >= 0).then(written)


def _identifiers(kind: str, numbers: IntArray) -> pl.Series:
    """Identifiers of one kind as a string series (gateway refs in canonical form)."""
    if kind == "gateway_ref":
        return gateway_refs(numbers)
    return pl.DataFrame({"number": numbers}).select(_id_expr(kind, "number")).to_series()


def _format_ledger(table: Table, calendar: Calendar) -> pl.DataFrame:
    """The ledger rows as text in the CONTRACT column order."""
    zone_name = calendar.zone_name
    frame = table.frame().with_columns(
        gateway_refs(table["ref"]).alias("ref_text"),
        pl.Series("created_style", calendar.safe_styles(table["style"], table["created"])),
        pl.Series("posted_style", calendar.safe_styles(table["style"], table["posted"])),
    )
    return frame.select(
        _id_expr("entry", "entry").alias("entry_id"),
        _id_expr("txn", "txn").alias("txn_id"),
        _id_expr("account", "account").alias("account_id"),
        _code_expr("entry_type", ENTRY_TYPES).alias("entry_type"),
        _amount_expr("amount", "currency").alias("amount"),
        _code_expr("currency", CURRENCIES).alias("currency"),
        _code_expr("status", STATUSES).alias("status"),
        _timestamp_expr("created", "created_style", zone_name).alias("created_at"),
        _timestamp_expr("posted", "posted_style", zone_name).alias("posted_at"),
        _id_expr("merchant", "merchant").alias("merchant_id"),
        _reference_expr("ref_text", "ref", "ref_variant").alias("gateway_ref"),
    )


def _format_settlement(table: Table, calendar: Calendar) -> pl.DataFrame:
    """The settlement lines as text in the CONTRACT column order."""
    compact_days = {
        day: f"{calendar.date_of(day):%Y%m%d}" for day in range(len(calendar.day_starts))
    }
    gateway = _code_expr("gateway", GATEWAYS)
    currency = _code_expr("currency", CURRENCIES)
    payout_day = pl.col("payout_day").replace_strict(compact_days, return_dtype=pl.String)
    frame = table.frame().with_columns(
        gateway_refs(table["ref"]).alias("ref_text"),
        pl.Series("settled_style", calendar.safe_styles(table["style"], table["settled"])),
    )
    return frame.select(
        _id_expr("settlement", "line").alias("settlement_id"),
        gateway.alias("gateway"),
        _reference_expr("ref_text", "ref", "ref_variant").alias("gateway_ref"),
        _id_expr("txn", "txn").alias("merchant_ref"),
        _code_expr("record_type", ENTRY_TYPES).alias("record_type"),
        _amount_expr("gross", "currency").alias("gross_amount"),
        _amount_expr("fee", "currency").alias("fee_amount"),
        _amount_expr("net", "currency").alias("net_amount"),
        currency.alias("currency"),
        _timestamp_expr("settled", "settled_style", calendar.zone_name).alias("settled_at"),
        pl.concat_str(
            [pl.lit("PO-"), gateway, pl.lit("-"), currency, pl.lit("-"), payout_day]
        ).alias("payout_id"),
    )


def _format_receipts(table: Table, calendar: Calendar) -> pl.DataFrame:
    """The receipts as text in the CONTRACT column order."""
    styles = calendar.safe_styles(table["style"], table["received"])
    frame = table.frame().with_columns(pl.Series("received_style", styles))
    return frame.select(
        _id_expr("receipt", "receipt").alias("receipt_id"),
        _id_expr("merchant", "merchant").alias("merchant_id"),
        _id_expr("txn", "txn").alias("txn_id"),
        _amount_expr("amount", "currency").alias("amount"),
        _code_expr("currency", CURRENCIES).alias("currency"),
        _timestamp_expr("received", "received_style", calendar.zone_name).alias("received_at"),
    )


def _format_balances(table: Table, as_of: str) -> pl.DataFrame:
    """One balance row per account at the day's cut-off."""
    return table.frame().select(
        _id_expr("account", "account").alias("account_id"),
        _code_expr("currency", CURRENCIES).alias("currency"),
        pl.lit(as_of).alias("as_of"),
        _amount_expr("balance", "currency").alias("balance"),
    )


# --------------------------------------------------------------------------------------------
# The population and the clean data of one night
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    """Accounts (each with one currency) and merchants."""

    account_currency: IntArray
    merchant_count: int
    accounts_by_currency: IntArray
    group_start: IntArray
    group_size: IntArray
    position_in_group: IntArray

    @staticmethod
    def build(rng: np.random.Generator, rows: int) -> Population:
        """About rows / 10 accounts (at least 20, two of each currency) and some merchants."""
        account_count = max(20, rows // 10)
        currency = rng.choice(len(CURRENCIES), size=account_count, p=CURRENCY_WEIGHTS)
        currency[: 2 * len(CURRENCIES)] = np.repeat(np.arange(len(CURRENCIES)), 2)
        currency = currency.astype(np.int64)
        ordered = np.argsort(currency, kind="stable").astype(np.int64)
        group_size = np.bincount(currency, minlength=len(CURRENCIES)).astype(np.int64)
        group_start = (np.cumsum(group_size) - group_size).astype(np.int64)
        position = np.empty(account_count, dtype=np.int64)
        position[ordered] = np.arange(account_count) - group_start[currency[ordered]]
        merchants = int(min(400, max(10, rows // 20)))
        return Population(currency, merchants, ordered, group_start, group_size, position)

    @property
    def account_count(self) -> int:
        """How many accounts there are."""
        return len(self.account_currency)

    def other_account(self, rng: np.random.Generator, accounts: IntArray) -> IntArray:
        """For each account, a different random account of the same currency."""
        currency = self.account_currency[accounts]
        size = self.group_size[currency]
        shift = 1 + rng.integers(0, size - 1)
        position = (self.position_in_group[accounts] + shift) % size
        return self.accounts_by_currency[self.group_start[currency] + position]


def _magnitudes(
    rng: np.random.Generator, currency: IntArray, scale: npt.NDArray[np.float64]
) -> IntArray:
    """Random positive amounts in minor units around a typical amount per currency."""
    spread = rng.lognormal(0.0, 0.8, size=len(currency))
    return np.maximum(1, np.floor(TYPICAL_MINOR[currency] * scale * spread)).astype(np.int64)


def _instants(rng: np.random.Generator, calendar: Calendar, day: int, count: int) -> IntArray:
    """Random instants over a local day, leaving 15 s so that posting stays on the same day."""
    start = int(calendar.day_starts[day])
    return start + rng.integers(0, calendar.length(day) - 15, size=count, dtype=np.int64)


def _statuses(rng: np.random.Generator, entry_type: IntArray) -> IntArray:
    """Succeeded, except ~5% failed and ~1% pending payments and ~10% reversed adjustments."""
    draw = rng.random(len(entry_type))
    status = np.full(len(entry_type), SUCCEEDED, dtype=np.int64)
    payment = entry_type == PAYMENT
    status[payment & (draw < 0.05)] = FAILED
    status[payment & (draw >= 0.05) & (draw < 0.06)] = PENDING
    status[(entry_type == ADJUSTMENT) & (draw < 0.10)] = REVERSED
    return status


def _ledger_rows(
    rng: np.random.Generator,
    entry_type: IntArray,
    account: IntArray,
    magnitude: IntArray,
    created: IntArray,
    txn: IntArray,
    population: Population,
) -> Table:
    """Ledger columns from the drawn essentials; the rest follows from the entry type."""
    count = len(entry_type)
    sign = AMOUNT_SIGN[entry_type]
    sign = np.where(entry_type == ADJUSTMENT, rng.choice([-1, 1], size=count), sign)
    status = _statuses(rng, entry_type)
    merchant = rng.integers(0, population.merchant_count, size=count, dtype=np.int64)
    routed = np.isin(entry_type, ROUTED_TYPES)
    none = np.full(count, -1, dtype=np.int64)
    return Table(
        {
            "entry": none.copy(),
            "txn": txn,
            "account": account,
            "entry_type": entry_type,
            "amount": (sign * magnitude).astype(np.int64),
            "currency": population.account_currency[account],
            "status": status,
            "created": created,
            "posted": np.where(status == SUCCEEDED, created + rng.integers(1, 10, size=count), -1),
            "merchant": np.where(np.isin(entry_type, (PAYMENT, REFUND)), merchant, -1),
            "ref": np.where(routed, 0, -1).astype(np.int64),
            "gateway": np.where(routed, rng.choice(3, size=count, p=GATEWAY_WEIGHTS), -1),
            "ref_variant": np.zeros(count, dtype=np.int64),
            "settlement_ref_variant": np.zeros(count, dtype=np.int64),
            "style": rng.choice(3, size=count, p=STYLE_WEIGHTS).astype(np.int64),
            "touched": np.zeros(count, dtype=np.int64),
        }
    )


def _single_entries(
    rng: np.random.Generator,
    day: int,
    count: int,
    calendar: Calendar,
    population: Population,
    counters: Counters,
) -> Table:
    """Entries that are a transaction on their own (all but transfers)."""
    shares = SINGLE_TYPE_SHARES / SINGLE_TYPE_SHARES.sum()
    entry_type = rng.choice(len(ENTRY_TYPES), size=count, p=shares).astype(np.int64)
    account = rng.integers(0, population.account_count, size=count, dtype=np.int64)
    currency = population.account_currency[account]
    magnitude = _magnitudes(rng, currency, AMOUNT_SCALE[entry_type])
    created = _instants(rng, calendar, day, count)
    txn = counters.take("txn", count)
    return _ledger_rows(rng, entry_type, account, magnitude, created, txn, population)


def _transfer_entries(
    rng: np.random.Generator,
    day: int,
    pairs: int,
    calendar: Calendar,
    population: Population,
    counters: Counters,
) -> Table:
    """Transfer pairs: an out and an in entry of one txn between two same-currency accounts."""
    sender = rng.integers(0, population.account_count, size=pairs, dtype=np.int64)
    receiver = population.other_account(rng, sender)
    magnitude = _magnitudes(rng, population.account_currency[sender], np.ones(pairs))
    created = _instants(rng, calendar, day, pairs)
    txn = counters.take("txn", pairs)
    entry_type = np.repeat(np.array([TRANSFER_OUT, TRANSFER_IN], dtype=np.int64), pairs)
    return _ledger_rows(
        rng,
        entry_type,
        np.concatenate([sender, receiver]),
        np.concatenate([magnitude, magnitude]),
        np.concatenate([created, created]),
        np.concatenate([txn, txn]),
        population,
    )


def _assign_references(rng: np.random.Generator, ledger: Table, counters: Counters) -> None:
    """Gateway refs for routed entries; ~2% written with another case or white space."""
    routed = np.flatnonzero(ledger["ref"] >= 0)
    ledger["ref"][routed] = counters.take("gateway_ref", len(routed))
    draw = rng.random(len(routed))
    variant = rng.integers(1, 4, size=len(routed), dtype=np.int64)
    on_ledger = routed[draw < 0.01]
    on_settlement = routed[(draw >= 0.01) & (draw < 0.02)]
    ledger["ref_variant"][on_ledger] = variant[draw < 0.01]
    ledger["settlement_ref_variant"][on_settlement] = variant[(draw >= 0.01) & (draw < 0.02)]
    ledger["touched"][on_ledger] = 1
    ledger["touched"][on_settlement] = 1


def _make_ledger(
    rng: np.random.Generator,
    day: int,
    rows: int,
    calendar: Calendar,
    population: Population,
    counters: Counters,
) -> Table:
    """About ``rows`` clean ledger entries created on ``day``, in created order."""
    pairs = max(1, round(rows * TRANSFER_SHARE / 2))
    singles = _single_entries(rng, day, max(1, rows - 2 * pairs), calendar, population, counters)
    transfers = _transfer_entries(rng, day, pairs, calendar, population, counters)
    ledger = singles
    ledger.append(transfers)
    del singles, transfers
    ledger.reorder(np.argsort(ledger["created"], kind="stable"))
    ledger["entry"] = counters.take("entry", len(ledger))
    _assign_references(rng, ledger, counters)
    return ledger


def _derive_settlement(
    rng: np.random.Generator,
    day: int,
    ledger: Table,
    calendar: Calendar,
    fees: FeeRates,
    counters: Counters,
) -> Table:
    """One settlement line per succeeded routed entry, settled 1 to 6 hours after creation."""
    entry = np.flatnonzero((ledger["status"] == SUCCEEDED) & (ledger["ref"] >= 0))
    entry = entry.astype(np.int64)
    count = len(entry)
    record_type = ledger["entry_type"][entry]
    gateway = ledger["gateway"][entry]
    currency = ledger["currency"][entry]
    gross = np.abs(ledger["amount"][entry])
    fee = fees.expected_fee(gateway, currency, record_type, gross)
    settled = ledger["created"][entry] + rng.integers(HOUR, 6 * HOUR + 1, size=count)
    folder = calendar.day_of(settled)
    late = (rng.random(count) < 0.03) & (folder + 1 <= day + 2)
    return Table(
        {
            "line": counters.take("settlement", count),
            "entry": entry,
            "txn": ledger["txn"][entry],
            "gateway": gateway,
            "ref": ledger["ref"][entry],
            "ref_variant": ledger["settlement_ref_variant"][entry],
            "record_type": record_type,
            "gross": gross,
            "fee": fee,
            "net": net_amount(record_type, gross, fee),
            "currency": currency,
            "settled": settled,
            "folder": folder + late,
            "style": rng.choice(3, size=count, p=STYLE_WEIGHTS).astype(np.int64),
            "touched": np.zeros(count, dtype=np.int64),
            "dropped": np.zeros(count, dtype=np.int64),
        }
    )


def _derive_receipts(
    rng: np.random.Generator, day: int, ledger: Table, calendar: Calendar, counters: Counters
) -> Table:
    """One receipt per succeeded payment, received 1 to 60 minutes after creation."""
    entry = np.flatnonzero(
        (ledger["status"] == SUCCEEDED)
        & (ledger["entry_type"] == PAYMENT)
        & (ledger["merchant"] >= 0)
    ).astype(np.int64)
    count = len(entry)
    received = ledger["created"][entry] + rng.integers(60, HOUR + 1, size=count)
    folder = calendar.day_of(received)
    late = (rng.random(count) < 0.03) & (folder + 1 <= day + 1)
    return Table(
        {
            "receipt": counters.take("receipt", count),
            "entry": entry,
            "merchant": ledger["merchant"][entry],
            "txn": ledger["txn"][entry],
            "amount": np.abs(ledger["amount"][entry]),
            "currency": ledger["currency"][entry],
            "received": received,
            "folder": folder + late,
            "style": rng.choice(3, size=count, p=STYLE_WEIGHTS).astype(np.int64),
            "touched": np.zeros(count, dtype=np.int64),
            "dropped": np.zeros(count, dtype=np.int64),
        }
    )


# --------------------------------------------------------------------------------------------
# One night's integer tables and the injections that turn clean data into known breaks
# --------------------------------------------------------------------------------------------


@dataclass
class Night:
    """The entries created on one business day, with their settlement lines and receipts."""

    day: int
    ledger: Table
    settlement: Table
    receipts: Table
    settlement_of_entry: IntArray
    receipt_of_entry: IntArray
    truth: list[pl.DataFrame] = field(default_factory=list)

    @staticmethod
    def build(day: int, ledger: Table, settlement: Table, receipts: Table) -> Night:
        """Link each ledger row to its settlement line and receipt (-1 when it has none)."""
        settlement_of_entry = np.full(len(ledger), -1, dtype=np.int64)
        settlement_of_entry[settlement["entry"]] = np.arange(len(settlement))
        receipt_of_entry = np.full(len(ledger), -1, dtype=np.int64)
        receipt_of_entry[receipts["entry"]] = np.arange(len(receipts))
        return Night(day, ledger, settlement, receipts, settlement_of_entry, receipt_of_entry)

    def candidates(
        self, entry_types: Sequence[int], settled: bool = False, received: bool = False
    ) -> BoolArray:
        """Untouched succeeded entries of these types (with a settlement line / receipt)."""
        ledger = self.ledger
        mask: BoolArray = (ledger["touched"] == 0) & (ledger["status"] == SUCCEEDED)
        mask &= np.isin(ledger["entry_type"], entry_types)
        if settled:
            mask &= self.settlement_of_entry >= 0
        if received:
            mask &= self.receipt_of_entry >= 0
        return mask

    def counterpart_folder(self, links: IntArray, table: Table) -> IntArray:
        """The delivery folder of each entry's counterpart line; -1 when it has none."""
        return np.where(links >= 0, table["folder"][np.maximum(links, 0)], -1)

    def append_ledger(self, rows: Table) -> None:
        """Add ledger rows that have no settlement line or receipt of their own."""
        self.ledger.append(rows)
        none = np.full(len(rows), -1, dtype=np.int64)
        self.settlement_of_entry = np.concatenate([self.settlement_of_entry, none])
        self.receipt_of_entry = np.concatenate([self.receipt_of_entry, none])


@dataclass
class Injector:
    """Picks rows for the injections of one night and records their truth rows."""

    rng: np.random.Generator
    night: Night
    calendar: Calendar
    fees: FeeRates
    counters: Counters
    count: int

    def pick(self, mask: BoolArray) -> IntArray:
        """Up to ``count`` random ledger rows where the mask holds; they become touched."""
        candidates = np.flatnonzero(mask)
        size = min(self.count, len(candidates))
        chosen = np.sort(self.rng.choice(candidates, size=size, replace=False)).astype(np.int64)
        self.night.ledger["touched"][chosen] = 1
        return chosen

    def record(
        self,
        kind: str,
        keys: pl.Series,
        run_day: IntArray,
        source: str,
        row_ids: pl.Series,
        note: str,
    ) -> None:
        """Truth rows for one injection (run_day as a day index, turned into a date later)."""
        self.night.truth.append(_truth_frame(kind, keys, run_day, source, row_ids, note))

    def txn_ids(self, entries: IntArray) -> pl.Series:
        """The txn_id of these ledger rows."""
        return _identifiers("txn", self.night.ledger["txn"][entries])

    def changed(self, values: IntArray) -> IntArray:
        """Each positive value moved up or down by 1 minor unit to about a fifth of itself."""
        delta = 1 + self.rng.integers(0, np.maximum(1, values // 5))
        upward = (self.rng.random(len(values)) < 0.5) | (values <= delta)
        return np.where(upward, values + delta, values - delta).astype(np.int64)

    def refresh_fee(self, lines: IntArray) -> None:
        """Recompute the scheduled fee and the net of these settlement lines."""
        table = self.night.settlement
        gross = table["gross"][lines]
        record_type = table["record_type"][lines]
        fee = self.fees.expected_fee(
            table["gateway"][lines], table["currency"][lines], record_type, gross
        )
        table["fee"][lines] = fee
        table["net"][lines] = net_amount(record_type, gross, fee)


def _truth_frame(
    kind: str, keys: pl.Series, run_day: IntArray, source: str, row_ids: pl.Series, note: str
) -> pl.DataFrame:
    """Truth rows with one type, source and note."""
    return pl.DataFrame(
        {
            "type": pl.Series([kind] * len(keys), dtype=pl.String),
            "key": keys.alias("key"),
            "run_day": pl.Series(run_day, dtype=pl.Int64),
            "source": pl.Series([source] * len(keys), dtype=pl.String),
            "row_id": row_ids.alias("row_id"),
            "note": pl.Series([note] * len(keys), dtype=pl.String),
        }
    )


def _missing_in_settlement(injector: Injector) -> None:
    """Withhold the settlement line of succeeded payments and topups."""
    night = injector.night
    entries = injector.pick(night.candidates((PAYMENT, TOPUP), settled=True))
    night.settlement["dropped"][night.settlement_of_entry[entries]] = 1
    injector.record(
        "missing_in_settlement",
        injector.txn_ids(entries),
        np.full(len(entries), night.day + 2, dtype=np.int64),
        "ledger",
        _identifiers("entry", night.ledger["entry"][entries]),
        "the gateway never sent a settlement line for this succeeded entry",
    )


def _payment_not_received(injector: Injector) -> None:
    """Withhold the merchant receipt of succeeded payments."""
    night = injector.night
    entries = injector.pick(night.candidates((PAYMENT,), received=True))
    night.receipts["dropped"][night.receipt_of_entry[entries]] = 1
    injector.record(
        "payment_not_received",
        injector.txn_ids(entries),
        np.full(len(entries), night.day + 1, dtype=np.int64),
        "ledger",
        _identifiers("entry", night.ledger["entry"][entries]),
        "the merchant never sent a receipt for this succeeded payment",
    )


def _missing_in_ledger(injector: Injector) -> None:
    """Add settlement lines whose gateway_ref and merchant_ref name no ledger entry."""
    night = injector.night
    table = night.settlement
    if len(table) == 0:
        return
    size = min(injector.count, len(table))
    templates = np.sort(injector.rng.choice(len(table), size=size, replace=False))
    lines = table.take(templates)
    lines["line"] = injector.counters.take("settlement", size)
    lines["entry"] = np.full(size, -1, dtype=np.int64)
    lines["txn"] = injector.counters.take("txn", size)
    lines["ref"] = injector.counters.take("gateway_ref", size)
    lines["ref_variant"] = np.zeros(size, dtype=np.int64)
    lines["folder"] = injector.calendar.day_of(lines["settled"])
    lines["touched"] = np.ones(size, dtype=np.int64)
    lines["dropped"] = np.zeros(size, dtype=np.int64)
    table.append(lines)
    injector.record(
        "missing_in_ledger",
        gateway_refs(lines["ref"]),
        lines["folder"] + 2,
        "settlement",
        _identifiers("settlement", lines["line"]),
        "a settlement line whose gateway_ref and merchant_ref match no ledger entry",
    )


def _amount_mismatch(injector: Injector) -> None:
    """Change the settlement gross (fee and net follow) or the receipt amount."""
    night = injector.night
    entries = injector.pick(night.candidates(ROUTED_TYPES, settled=True))
    lines = night.settlement_of_entry[entries]
    night.settlement["gross"][lines] = injector.changed(night.settlement["gross"][lines])
    injector.refresh_fee(lines)
    injector.record(
        "amount_mismatch",
        injector.txn_ids(entries),
        np.maximum(night.day, night.settlement["folder"][lines]),
        "settlement",
        _identifiers("settlement", night.settlement["line"][lines]),
        "settlement gross_amount differs from the ledger amount",
    )
    entries = injector.pick(night.candidates((PAYMENT,), received=True))
    receipts = night.receipt_of_entry[entries]
    night.receipts["amount"][receipts] = injector.changed(night.receipts["amount"][receipts])
    injector.record(
        "amount_mismatch",
        injector.txn_ids(entries),
        np.maximum(night.day, night.receipts["folder"][receipts]),
        "receipts",
        _identifiers("receipt", night.receipts["receipt"][receipts]),
        "receipt amount differs from the ledger amount",
    )


def _fee_mismatch(injector: Injector) -> None:
    """Charge a fee off the schedule (net still gross - fee), or break net = gross - fee."""
    night = injector.night
    table = night.settlement
    gateway = night.ledger["gateway"]
    scheduled = np.where(gateway >= 0, injector.fees.scheduled[np.maximum(gateway, 0)], False)
    entries = injector.pick(night.candidates((PAYMENT, TOPUP), settled=True) & scheduled)
    lines = night.settlement_of_entry[entries]
    table["fee"][lines] += 1 + injector.rng.integers(0, 100, size=len(lines))
    table["net"][lines] = table["gross"][lines] - table["fee"][lines]
    _record_settlement_break(injector, "fee_mismatch", entries, "fee departs from the schedule")
    entries = injector.pick(night.candidates(ROUTED_TYPES, settled=True))
    lines = night.settlement_of_entry[entries]
    shift = 1 + injector.rng.integers(0, 100, size=len(lines))
    table["net"][lines] += np.where(injector.rng.random(len(lines)) < 0.5, shift, -shift)
    _record_settlement_break(
        injector, "fee_mismatch", entries, "net_amount does not follow from gross and fee"
    )


def _record_settlement_break(injector: Injector, kind: str, entries: IntArray, note: str) -> None:
    """Truth for a break carried by the settlement line of these entries."""
    night = injector.night
    lines = night.settlement_of_entry[entries]
    injector.record(
        kind,
        injector.txn_ids(entries),
        np.maximum(night.day, night.settlement["folder"][lines]),
        "settlement",
        _identifiers("settlement", night.settlement["line"][lines]),
        note,
    )


def _record_receipt_break(injector: Injector, kind: str, entries: IntArray, note: str) -> None:
    """Truth for a break carried by the receipt of these entries."""
    night = injector.night
    receipts = night.receipt_of_entry[entries]
    injector.record(
        kind,
        injector.txn_ids(entries),
        np.maximum(night.day, night.receipts["folder"][receipts]),
        "receipts",
        _identifiers("receipt", night.receipts["receipt"][receipts]),
        note,
    )


def _status_mismatch(injector: Injector) -> None:
    """Mark payments failed in the ledger although they were settled and received that night."""
    night = injector.night
    same_night = (
        night.counterpart_folder(night.settlement_of_entry, night.settlement) == night.day
    ) & (night.counterpart_folder(night.receipt_of_entry, night.receipts) == night.day)
    entries = injector.pick(night.candidates((PAYMENT,), settled=True, received=True) & same_night)
    night.ledger["status"][entries] = FAILED
    night.ledger["posted"][entries] = -1
    injector.record(
        "status_mismatch",
        injector.txn_ids(entries),
        np.full(len(entries), night.day, dtype=np.int64),
        "ledger",
        _identifiers("entry", night.ledger["entry"][entries]),
        "the ledger has the payment failed but the gateway settled it and the merchant received it",
    )


def _duplicate(injector: Injector) -> None:
    """Copy settlement lines, receipts and payment entries under new ids."""
    night = injector.night
    entries = injector.pick(night.candidates(ROUTED_TYPES, settled=True))
    copies = night.settlement.take(night.settlement_of_entry[entries])
    copies["line"] = injector.counters.take("settlement", len(copies))
    copies["touched"] = np.ones(len(copies), dtype=np.int64)
    night.settlement.append(copies)
    injector.record(
        "duplicate",
        gateway_refs(copies["ref"]),
        np.maximum(night.day, copies["folder"]),
        "settlement",
        _identifiers("settlement", copies["line"]),
        "a second settlement line for the same gateway_ref and record type",
    )
    entries = injector.pick(night.candidates((PAYMENT,), received=True))
    receipts = night.receipts.take(night.receipt_of_entry[entries])
    receipts["receipt"] = injector.counters.take("receipt", len(receipts))
    receipts["touched"] = np.ones(len(receipts), dtype=np.int64)
    night.receipts.append(receipts)
    injector.record(
        "duplicate",
        injector.txn_ids(entries),
        np.maximum(night.day, receipts["folder"]),
        "receipts",
        _identifiers("receipt", receipts["receipt"]),
        "a second receipt for the same txn_id",
    )
    _duplicate_payment_entry(injector)


def _duplicate_payment_entry(injector: Injector) -> None:
    """Copy succeeded payment entries under a new entry_id (the balances include the copy)."""
    night = injector.night
    entries = injector.pick(night.candidates((PAYMENT,)))
    copies = night.ledger.take(entries)
    copies["entry"] = injector.counters.take("entry", len(copies))
    copies["touched"] = np.ones(len(copies), dtype=np.int64)
    night.append_ledger(copies)
    injector.record(
        "duplicate",
        injector.txn_ids(entries),
        np.full(len(entries), night.day, dtype=np.int64),
        "ledger",
        _identifiers("entry", copies["entry"]),
        "a second payment entry with the same txn_id",
    )


def _currency_mismatch(injector: Injector) -> None:
    """Swap CNY and USD on a settlement line (fee recomputed) or on a receipt."""
    night = injector.night
    yuan_or_dollar = np.isin(night.ledger["currency"], (CNY, USD))
    entries = injector.pick(night.candidates((PAYMENT, TOPUP), settled=True) & yuan_or_dollar)
    lines = night.settlement_of_entry[entries]
    currency = night.settlement["currency"]
    currency[lines] = np.where(currency[lines] == CNY, USD, CNY)
    injector.refresh_fee(lines)
    _record_settlement_break(
        injector, "currency_mismatch", entries, "settlement currency differs from the ledger's"
    )
    entries = injector.pick(night.candidates((PAYMENT,), received=True) & yuan_or_dollar)
    receipts = night.receipt_of_entry[entries]
    currency = night.receipts["currency"]
    currency[receipts] = np.where(currency[receipts] == CNY, USD, CNY)
    _record_receipt_break(
        injector, "currency_mismatch", entries, "receipt currency differs from the ledger's"
    )


def _sync_delay(injector: Injector) -> None:
    """Settle 25-40 hours after creation, or receive 25+ hours after creation (within window)."""
    night = injector.night
    created = night.ledger["created"]
    entries = injector.pick(night.candidates((PAYMENT, TOPUP), settled=True))
    lines = night.settlement_of_entry[entries]
    delay = injector.rng.integers(25 * HOUR + 60, 40 * HOUR + 1, size=len(lines))
    night.settlement["settled"][lines] = created[entries] + delay
    night.settlement["folder"][lines] = injector.calendar.day_of(created[entries] + delay)
    _record_settlement_break(
        injector, "sync_delay", entries, "settled more than 24 hours after the ledger entry"
    )
    window_end = int(injector.calendar.day_starts[night.day + 2]) - 1
    roomy = created <= window_end - (25 * HOUR + 60)
    entries = injector.pick(night.candidates((PAYMENT,), received=True) & roomy)
    receipts = night.receipt_of_entry[entries]
    longest = np.minimum(40 * HOUR, window_end - created[entries])
    delay = injector.rng.integers(25 * HOUR + 60, longest + 1)
    night.receipts["received"][receipts] = created[entries] + delay
    night.receipts["folder"][receipts] = injector.calendar.day_of(created[entries] + delay)
    _record_receipt_break(
        injector, "sync_delay", entries, "received more than 24 hours after the ledger entry"
    )


INJECTIONS = (
    _status_mismatch,
    _sync_delay,
    _missing_in_settlement,
    _payment_not_received,
    _amount_mismatch,
    _fee_mismatch,
    _currency_mismatch,
    _duplicate,
    _missing_in_ledger,
)


def _finish(night: Night, calendar: Calendar) -> None:
    """Drop withheld lines, mark lines of touched entries, derive payout days, sort the ledger."""
    ledger = night.ledger
    for table in (night.settlement, night.receipts):
        table.reorder(table["dropped"] == 0)
        linked = table["entry"] >= 0
        inherited = np.where(linked, ledger["touched"][np.maximum(table["entry"], 0)], 1)
        table["touched"] = np.maximum(table["touched"], inherited)
    night.settlement["payout_day"] = calendar.day_of(night.settlement["settled"])
    ledger.reorder(np.lexsort((ledger["entry"], ledger["created"])))


# --------------------------------------------------------------------------------------------
# Deliveries: noise rows, bank lines, balances, files
# --------------------------------------------------------------------------------------------

BAD_TIMESTAMP = "2026-13-45T99:00:00"
LEDGER_FLAWS: tuple[str, ...] = (
    "amount '12.3.4' is not a decimal number",
    "USD amount with three decimals",
    "unknown currency XYZ",
    "created_at '2026-13-45T99:00:00' is not a timestamp",
    "account_id is empty",
    "entry_type 'paymnt' is not a known entry type",
)
SETTLEMENT_FLAWS: tuple[str, ...] = (
    "gross_amount '12.3.4' is not a decimal number",
    "USD amounts with three decimals",
    "unknown currency XYZ",
    "settled_at '2026-13-45T99:00:00' is not a timestamp",
    "gateway_ref is empty",
    "record_type 'paymnt' is not a known record type",
)


def _pick_rows(rng: np.random.Generator, available: BoolArray, count: int) -> BoolArray:
    """A mask of up to ``count`` random rows among the available ones."""
    candidates = np.flatnonzero(available)
    chosen = rng.choice(candidates, size=min(count, len(candidates)), replace=False)
    mask = np.zeros(len(available), dtype=np.bool_)
    mask[chosen] = True
    return mask


def _flaw_expr(kind: pl.Expr, flaws: dict[int, str | None], column: str) -> pl.Expr:
    """The column with the value replaced for rows of the given flaw kinds."""
    expression: pl.Expr = pl.col(column)
    for code, value in flaws.items():
        expression = (
            pl.when(kind == code).then(pl.lit(value, dtype=pl.String)).otherwise(expression)
        )
    return expression.alias(column)


def _bad_ledger_rows(templates: pl.DataFrame, counters: Counters) -> tuple[pl.DataFrame, pl.Series]:
    """Copies of clean ledger rows under fresh ids, each with one flaw; and a note per row."""
    size = templates.height
    kind = pl.Series("kind", np.arange(size) % len(LEDGER_FLAWS))
    fresh_refs = gateway_refs(counters.take("gateway_ref", size))
    sign = pl.when(pl.col("amount").str.starts_with("-")).then(pl.lit("-")).otherwise(pl.lit(""))
    flaw = pl.col("kind")
    bad = templates.with_columns(
        kind,
        _identifiers("entry", counters.take("entry", size)).alias("entry_id"),
        _identifiers("txn", counters.take("txn", size)).alias("txn_id"),
        pl.when(pl.col("gateway_ref").is_not_null()).then(fresh_refs).alias("gateway_ref"),
    ).with_columns(
        pl.when(flaw == 0)
        .then(sign + pl.lit("12.3.4"))
        .when(flaw == 1)
        .then(sign + pl.lit("10.001"))
        .otherwise(pl.col("amount"))
        .alias("amount"),
        _flaw_expr(flaw, {1: "USD", 2: "XYZ"}, "currency"),
        _flaw_expr(flaw, {3: BAD_TIMESTAMP}, "created_at"),
        _flaw_expr(flaw, {4: None}, "account_id"),
        _flaw_expr(flaw, {5: "paymnt"}, "entry_type"),
    )
    notes = kind.replace_strict(dict(enumerate(LEDGER_FLAWS)), return_dtype=pl.String)
    return bad.drop("kind"), notes


def _bad_settlement_rows(
    templates: pl.DataFrame, counters: Counters
) -> tuple[pl.DataFrame, pl.Series]:
    """Copies of clean settlement lines under fresh ids, each with one flaw; and a note per row."""
    size = templates.height
    kind = pl.Series("kind", np.arange(size) % len(SETTLEMENT_FLAWS))
    flaw = pl.col("kind")
    bad = templates.with_columns(
        kind,
        _identifiers("settlement", counters.take("settlement", size)).alias("settlement_id"),
        _identifiers("txn", counters.take("txn", size)).alias("merchant_ref"),
        gateway_refs(counters.take("gateway_ref", size)).alias("gateway_ref"),
    ).with_columns(
        _flaw_expr(flaw, {0: "12.3.4", 1: "10.001"}, "gross_amount"),
        _flaw_expr(flaw, {1: "0.000"}, "fee_amount"),
        _flaw_expr(flaw, {1: "10.001"}, "net_amount"),
        _flaw_expr(flaw, {1: "USD", 2: "XYZ"}, "currency"),
        _flaw_expr(flaw, {3: BAD_TIMESTAMP}, "settled_at"),
        _flaw_expr(flaw, {4: None}, "gateway_ref"),
        _flaw_expr(flaw, {5: "paymnt"}, "record_type"),
    )
    notes = kind.replace_strict(dict(enumerate(SETTLEMENT_FLAWS)), return_dtype=pl.String)
    return bad.drop("kind"), notes


def _bank_reference(gateway: str, payout_id: str, batch: int) -> str:
    """Free text that carries the payout id somewhere inside it, as banks write it."""
    if gateway == "adyen":
        return f"ADYEN SETTLEMENT {payout_id} BATCH {batch}"
    if gateway == "stripe":
        return f"STRIPE PAYOUT {payout_id}"
    return f"BANKX CLR {payout_id} SEQ {batch}"


def _write_frames(path: Path, kind: str, frames: Iterable[pl.DataFrame]) -> int:
    """Write one source file from consecutive text frames (the first one gives the header).

    ``kind`` is ``csv``, ``csv.gz``, ``parquet`` (every column a string) or ``bom`` (CSV that
    starts with a UTF-8 byte order mark). Returns the number of rows written.
    """
    if kind == "parquet":
        return _write_parquet(path.with_suffix(".parquet"), frames)
    target = path.with_name(path.name + ".gz") if kind == "csv.gz" else path
    rows = 0
    with target.open("wb") as raw:
        stream: io.BufferedIOBase = raw
        if kind == "csv.gz":
            stream = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
        if kind == "bom":
            stream.write(b"\xef\xbb\xbf")
        for index, frame in enumerate(frames):
            stream.write(frame.write_csv(include_header=index == 0).encode("utf-8"))
            rows += frame.height
        if stream is not raw:
            stream.close()
    return rows


def _write_parquet(path: Path, frames: Iterable[pl.DataFrame]) -> int:
    """Write frames to one Parquet file with every column stored as a string."""
    writer: pq.ParquetWriter | None = None
    rows = 0
    for frame in frames:
        schema = pa.schema([(name, pa.string()) for name in frame.columns])
        if writer is None:
            writer = pq.ParquetWriter(path, schema)
        if frame.height:
            writer.write_table(frame.to_arrow().cast(schema))
        rows += frame.height
    if writer is not None:
        writer.close()
    return rows


def _config_text(timezone: str) -> str:
    """The walletrecon.toml that goes with the data set (amounts as quoted decimals)."""
    lines = [
        f'timezone = "{timezone}"',
        "",
        "[windows]",
        "settlement_days = 2",
        "receipt_days = 1",
        "sync_delay_hours = 24",
        "",
        "[tolerance]",
        'amount = "0"',
    ]
    for gateway, table in FEE_TABLES.items():
        lines += ["", f"[fees.{gateway}]", f'percent = "{table.percent}"']
        lines += ['record_types = ["payment", "topup"]', "", f"[fees.{gateway}.fixed]"]
        lines += [f'{currency} = "{amount}"' for currency, amount in table.fixed.items()]
    lines += ["", "# bank_x has no fee table: its fees are not checked, only net = gross - fee."]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# The generation, night after night
# --------------------------------------------------------------------------------------------


@dataclass
class Generation:
    """The state carried from night to night while a data set is written."""

    out_dir: Path
    days: int
    rows: int
    seed: int
    calendar: Calendar
    mixed_formats: bool
    population: Population
    fees: FeeRates = field(default_factory=FeeRates.build)
    counters: Counters = field(default_factory=Counters)
    settlement_buckets: dict[int, list[Table]] = field(default_factory=dict)
    receipt_buckets: dict[int, list[Table]] = field(default_factory=dict)
    payout_totals: dict[tuple[int, int, int], int] = field(default_factory=dict)
    posted_by_day: dict[int, IntArray] = field(default_factory=dict)
    redeliveries: dict[str, pl.DataFrame] = field(default_factory=dict)
    truth: list[pl.DataFrame] = field(default_factory=list)
    rows_written: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))
    cumulative: IntArray = field(init=False)
    balance_offsets: IntArray = field(init=False)

    def __post_init__(self) -> None:
        self.cumulative = np.zeros(self.population.account_count, dtype=np.int64)
        self.balance_offsets = np.zeros(self.population.account_count, dtype=np.int64)

    @property
    def per_variant(self) -> int:
        """Injections per variant of each type per night (~0.1% of the rows)."""
        return max(1, self.rows // 1000)

    @property
    def noise_rows(self) -> int:
        """Re-delivered and bad rows per source per night."""
        return max(6, self.rows // 20_000)

    def night(self, day: int) -> None:
        """Create the entries of ``day`` and their counterparts, inject, write folder ``day``."""
        rng = np.random.default_rng([self.seed, day])
        folder = self.out_dir / "inbox" / self.calendar.date_of(day).isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        # The ledger table lives only during this call, before the other sources are written.
        self.deliver(
            rng, folder, "ledger", day, self.prepare(rng, day), _format_ledger, _bad_ledger_rows
        )
        self.write_counterparts(rng, folder, day)

    def prepare(self, rng: np.random.Generator, day: int) -> Table:
        """Create, derive, inject and absorb one night; the ledger as delivered."""
        calendar, counters = self.calendar, self.counters
        ledger = _make_ledger(rng, day, self.rows, calendar, self.population, counters)
        night = Night.build(
            day,
            ledger,
            _derive_settlement(rng, day, ledger, calendar, self.fees, counters),
            _derive_receipts(rng, day, ledger, calendar, counters),
        )
        injector = Injector(rng, night, calendar, self.fees, counters, self.per_variant)
        for inject in INJECTIONS:
            inject(injector)
        _finish(night, calendar)
        self.truth += night.truth
        self.absorb(night)
        return ledger

    def absorb(self, night: Night) -> None:
        """Take a finished night in: payout totals, balance postings, delivery folders."""
        self.add_payouts(night.settlement)
        self.add_postings(night.ledger)
        for table, buckets in (
            (night.settlement, self.settlement_buckets),
            (night.receipts, self.receipt_buckets),
        ):
            for folder in range(night.day + 1, min(night.day + 3, self.days)):
                buckets.setdefault(folder, []).append(table.take(table["folder"] == folder))
            table.reorder(table["folder"] == night.day)
            buckets.setdefault(night.day, []).append(table)

    def add_payouts(self, settlement: Table) -> None:
        """Add each line's net to its payout (gateway, currency, settled local date)."""
        keys = ("payout_day", "gateway", "currency")
        sums = (
            pl.DataFrame({name: settlement[name] for name in (*keys, "net")})
            .group_by(keys)
            .agg(pl.col("net").sum())
            .sort(keys)
        )
        for payout_day, gateway, currency, net in sums.iter_rows():
            key = (payout_day, gateway, currency)
            self.payout_totals[key] = self.payout_totals.get(key, 0) + net

    def add_postings(self, ledger: Table) -> None:
        """Add succeeded entries to their account's postings of the day they were posted."""
        succeeded = np.flatnonzero(ledger["status"] == SUCCEEDED)
        posted_day = self.calendar.day_of(ledger["posted"][succeeded])
        for day in np.unique(posted_day).tolist():
            postings = self.posted_by_day.setdefault(
                day, np.zeros(self.population.account_count, dtype=np.int64)
            )
            rows = succeeded[posted_day == day]
            np.add.at(postings, ledger["account"][rows], ledger["amount"][rows])

    def write_counterparts(self, rng: np.random.Generator, folder: Path, day: int) -> None:
        """Write settlement, receipts, bank and balances of folder ``day``."""
        for source, buckets, formatter, flaws in (
            ("settlement", self.settlement_buckets, _format_settlement, _bad_settlement_rows),
            ("receipts", self.receipt_buckets, _format_receipts, None),
        ):
            parts = buckets.pop(day)
            table = parts.pop()  # this night's own part, the largest: extended in place
            for earlier in parts:
                table.append(earlier)
            del parts
            time_column = "settled" if source == "settlement" else "received"
            identifier = table["line"] if source == "settlement" else table["receipt"]
            table.reorder(np.lexsort((identifier, table[time_column])))
            self.deliver(rng, folder, source, day, table, formatter, flaws)
            del table
        for source, frame in (
            ("bank", self.bank_file(rng, day)),
            ("balances", self.balances_file(rng, day)),
        ):
            self.rows_written[source] += _write_frames(
                folder / f"{source}.csv", self.file_kind(source, day), [frame]
            )

    def deliver(
        self,
        rng: np.random.Generator,
        folder: Path,
        source: str,
        day: int,
        table: Table,
        formatter: Callable[[Table, Calendar], pl.DataFrame],
        flaws: Callable[[pl.DataFrame, Counters], tuple[pl.DataFrame, pl.Series]] | None,
    ) -> None:
        """Write a big source in chunks, then yesterday's re-deliveries and some bad rows."""
        extras = [self.redeliver(rng, source, table, formatter, day)]
        if flaws is not None and len(table) > 0:
            sample = rng.choice(len(table), size=min(self.noise_rows, len(table)), replace=False)
            templates = formatter(table.take(np.sort(sample)), self.calendar)
            bad, notes = flaws(templates, self.counters)
            extras.append(bad)
            self.record_rejected(source, bad, notes, day)
        frames = (formatter(chunk, self.calendar) for chunk in table.chunks(CHUNK_ROWS))
        self.rows_written[source] += _write_frames(
            folder / f"{source}.csv",
            self.file_kind(source, day),
            itertools.chain(frames, extras),
        )

    def file_kind(self, source: str, day: int) -> str:
        """How a source file is written: plain CSV unless mixed formats are asked for."""
        if not self.mixed_formats:
            return "csv"
        if source == "ledger" and day == 1:
            return "csv.gz"
        if source == "settlement" and day == 2:
            return "parquet"
        if source == "receipts" and day == min(3, self.days - 1):
            return "bom"
        return "csv"

    def redeliver(
        self,
        rng: np.random.Generator,
        source: str,
        table: Table,
        formatter: Callable[[Table, Calendar], pl.DataFrame],
        day: int,
    ) -> pl.DataFrame:
        """Keep some untouched rows for an identical re-delivery next night; give last night's."""
        chosen = formatter(
            table.take(_pick_rows(rng, table["touched"] == 0, self.noise_rows)), self.calendar
        )
        previous = self.redeliveries.pop(source, chosen.clear())
        if day + 1 < self.days:
            self.redeliveries[source] = chosen
            ids = chosen[chosen.columns[0]]
            self.truth.append(
                _truth_frame(
                    "redelivered",
                    ids,
                    np.full(chosen.height, day + 1, dtype=np.int64),
                    source,
                    ids,
                    f"{source} row delivered again, identical, in the next night's file",
                )
            )
        return previous

    def record_rejected(self, source: str, bad: pl.DataFrame, notes: pl.Series, day: int) -> None:
        """Record deliberately bad rows as ``rejected`` (key and row_id: the row's id)."""
        ids = bad[bad.columns[0]]
        run_day = np.full(bad.height, day, dtype=np.int64)
        frame = _truth_frame("rejected", ids, run_day, source, ids, "")
        self.truth.append(frame.with_columns(notes.alias("note")))

    def bank_file(self, rng: np.random.Generator, day: int) -> pl.DataFrame:
        """Bank lines for yesterday's payouts (one off, one withheld) and unknown transfers."""
        payouts = sorted(key for key in self.payout_totals if key[0] == day - 1)
        order = rng.permutation(len(payouts)).tolist()
        amount_off = set(order[:1]) if len(payouts) >= 2 else set()
        withheld = set(order[1:2])
        rows: list[tuple[int, str, str, str]] = []
        for position, (payout_day, gateway, currency) in enumerate(payouts):
            payout_id = _payout_id(self.calendar, payout_day, gateway, currency)
            if position in withheld:
                self._record_payout(
                    payout_id, day + 1, "settlement", payout_id, "bank line withheld"
                )
                continue
            amount = self.payout_totals.pop((payout_day, gateway, currency))
            batch = int(rng.integers(1, 40))
            reference = _bank_reference(GATEWAYS[gateway], payout_id, batch)
            line_id = self._bank_line_id()
            if position in amount_off:
                amount += _nonzero_shift(rng, currency)
                note = "bank amount differs from the payout's net sum"
                self._record_payout(payout_id, day, "bank", line_id, note)
            rows.append((amount, CURRENCIES[currency], reference, line_id))
        rows += self._unknown_transfers(rng, day)
        value_date = self.calendar.date_of(day).isoformat()
        return pl.DataFrame(
            {
                "bank_line_id": [line_id for _, _, _, line_id in rows],
                "amount": [format_minor(amount, currency) for amount, currency, _, _ in rows],
                "currency": [currency for _, currency, _, _ in rows],
                "value_date": [value_date] * len(rows),
                "reference": [reference for _, _, reference, _ in rows],
            },
            schema=dict.fromkeys(
                ("bank_line_id", "amount", "currency", "value_date", "reference"), pl.String
            ),
        )

    def _bank_line_id(self) -> str:
        """A fresh bank_line_id."""
        return str(_identifiers("bank_line", self.counters.take("bank_line", 1))[0])

    def _record_payout(self, key: str, run_day: int, source: str, row_id: str, note: str) -> None:
        """Truth for one payout_mismatch."""
        self.truth.append(
            _truth_frame(
                "payout_mismatch",
                pl.Series([key], dtype=pl.String),
                np.array([run_day], dtype=np.int64),
                source,
                pl.Series([row_id], dtype=pl.String),
                note,
            )
        )

    def _unknown_transfers(
        self, rng: np.random.Generator, day: int
    ) -> list[tuple[int, str, str, str]]:
        """A bank line whose reference names no payout."""
        currency = int(rng.integers(0, len(CURRENCIES)))
        amount = int(TYPICAL_MINOR[currency]) * int(rng.integers(1, 50))
        reference = f"MISC TRANSFER REF {int(rng.integers(0, 1 << 48)):012X}"
        line_id = self._bank_line_id()
        note = "a bank line whose reference names no known payout"
        self._record_payout(line_id, day + 2, "bank", line_id, note)
        return [(amount, CURRENCIES[currency], reference, line_id)]

    def balances_file(self, rng: np.random.Generator, day: int) -> pl.DataFrame:
        """Every account's balance at the end of ``day``; a few accounts start to drift."""
        empty = np.zeros(self.population.account_count, dtype=np.int64)
        self.cumulative += self.posted_by_day.pop(day, empty)
        chosen = np.flatnonzero(_pick_rows(rng, self.balance_offsets == 0, self.per_variant))
        currency = self.population.account_currency[chosen]
        shift = 1 + rng.integers(0, TYPICAL_MINOR[currency])
        self.balance_offsets[chosen] += np.where(rng.random(len(chosen)) < 0.5, shift, -shift)
        account_ids = _identifiers("account", chosen.astype(np.int64))
        self.truth.append(
            _truth_frame(
                "balance_mismatch",
                account_ids,
                np.full(len(chosen), day, dtype=np.int64),
                "balances",
                account_ids,
                "reported balance drifts from the ledger from this night on",
            )
        )
        table = Table(
            {
                "account": np.arange(self.population.account_count, dtype=np.int64),
                "currency": self.population.account_currency,
                "balance": self.cumulative + self.balance_offsets,
            }
        )
        return _format_balances(table, self.calendar.end_of_day_text(day))

    def write_truth(self) -> dict[str, int]:
        """Write truth.csv (breaks due on or before the last night); counts per type."""
        dates = {day: self.calendar.date_of(day).isoformat() for day in range(self.days)}
        truth = (
            pl.concat(self.truth)
            .filter(pl.col("run_day") < self.days)
            .with_columns(
                pl.col("run_day").replace_strict(dates, return_dtype=pl.String).alias("run_date")
            )
            .select(TRUTH_COLUMNS)
            .sort("run_date", "type", "source", "key", "row_id")
        )
        truth.write_csv(self.out_dir / "truth.csv")
        counts = truth.group_by("type").len().sort("type")
        return dict(zip(counts["type"].to_list(), counts["len"].to_list(), strict=True))


def _payout_id(calendar: Calendar, day: int, gateway: int, currency: int) -> str:
    """``PO-<gateway>-<currency>-<YYYYMMDD>`` of a payout."""
    return f"PO-{GATEWAYS[gateway]}-{CURRENCIES[currency]}-{calendar.date_of(day):%Y%m%d}"


def _nonzero_shift(rng: np.random.Generator, currency: int) -> int:
    """A random non-zero amount up to 100 major units of the currency, in minor units."""
    shift = 1 + int(rng.integers(0, 100 * 10 ** int(EXPONENTS[currency])))
    return shift if rng.random() < 0.5 else -shift


def generate(
    out_dir: Path,
    days: int,
    seed: int,
    rows: int = 2000,
    start: date = date(2026, 11, 16),
    timezone: str = "Asia/Shanghai",
    mixed_formats: bool = False,
) -> SampleSummary:
    """Write a seeded multi-night data set with known breaks under ``out_dir``.

    ``out_dir/inbox/YYYY-MM-DD/`` gets ledger, balances, settlement, receipts and bank for each
    of ``days`` nights from ``start`` (about ``rows`` ledger rows a night),
    ``out_dir/walletrecon.toml`` the configuration and ``out_dir/truth.csv`` one row per injected
    break, bad row and re-delivery (``type,key,run_date,source,row_id,note``). With
    ``mixed_formats`` the second night's ledger is gzipped, the third night's settlement is
    Parquet and one night's receipts start with a BOM (the fourth night's, or the last one's).
    The same arguments give byte-identical files. Files already in ``out_dir`` are overwritten,
    other files are left alone. ValueError for ``days`` < 1, ``rows`` < 10 or a negative seed.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if rows < 10:
        raise ValueError("rows must be at least 10")
    if seed < 0:
        raise ValueError("seed must not be negative")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    population = Population.build(np.random.default_rng([seed, 1 << 32]), rows)
    generation = Generation(
        out_dir=out_dir,
        days=days,
        rows=rows,
        seed=seed,
        calendar=Calendar.build(timezone, start, days),
        mixed_formats=mixed_formats,
        population=population,
    )
    for day in range(days):
        generation.night(day)
    (out_dir / "walletrecon.toml").write_text(_config_text(timezone), encoding="utf-8")
    injected = generation.write_truth()
    return SampleSummary(
        out_dir=out_dir,
        dates=[start + timedelta(days=day) for day in range(days)],
        rows_per_source=dict(generation.rows_written),
        injected=injected,
    )
