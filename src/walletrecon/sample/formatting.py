"""Integer columns to the canonical text profile: identifiers, amounts, timestamps, sources."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from walletrecon.sample.model import (
    CURRENCIES,
    EXPONENTS,
    GATEWAYS,
    HEX_DIGITS,
    ID_FORMATS,
    MISTYPED,
    STATUSES,
    STYLE_LOCAL,
    STYLE_UTC,
    UNPAID_GATEWAYS,
    IntArray,
)
from walletrecon.sample.tables import Table
from walletrecon.sample.timeline import Calendar
from walletrecon.schemas import ENTRY_TYPES


def format_minor(minor: int, currency: str) -> str:
    """Integer minor units as a decimal string in major units, by integer arithmetic only."""
    exponent = int(EXPONENTS[CURRENCIES.index(currency)])
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**exponent)
    if exponent == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{exponent}d}"


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


def mistyped(text: pl.Expr) -> pl.Expr:
    """An identifier with its last character typed twice (``MISTYPED``, a key that bounced): one
    edit away from the canonical form, never another canonical identifier (it is one character
    longer), and never another mistyped one (the slip is undone by dropping that character)."""
    return text + text.str.slice(-1)


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
        .when(variant_code == MISTYPED)
        .then(mistyped(canonical))
        .otherwise(canonical)
    )
    return pl.when(pl.col(number) >= 0).then(written)


def identifiers(kind: str, numbers: IntArray) -> pl.Series:
    """Identifiers of one kind as a string series (gateway refs in canonical form)."""
    if kind == "gateway_ref":
        return gateway_refs(numbers)
    return pl.DataFrame({"number": numbers}).select(_id_expr(kind, "number")).to_series()


def format_ledger(table: Table, calendar: Calendar) -> pl.DataFrame:
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


def format_settlement(table: Table, calendar: Calendar) -> pl.DataFrame:
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
        pl.when(~pl.col("gateway").is_in(UNPAID_GATEWAYS))
        .then(
            pl.concat_str([pl.lit("PO-"), gateway, pl.lit("-"), currency, pl.lit("-"), payout_day])
        )
        .alias("payout_id"),
    )


def format_receipts(table: Table, calendar: Calendar) -> pl.DataFrame:
    """The receipts as text in the CONTRACT column order."""
    styles = calendar.safe_styles(table["style"], table["received"])
    frame = table.frame().with_columns(pl.Series("received_style", styles))
    return frame.select(
        _id_expr("receipt", "receipt").alias("receipt_id"),
        _id_expr("merchant", "merchant").alias("merchant_id"),
        pl.when(pl.col("txn_variant") == MISTYPED)
        .then(mistyped(_id_expr("txn", "txn")))
        .otherwise(_id_expr("txn", "txn"))
        .alias("txn_id"),
        _amount_expr("amount", "currency").alias("amount"),
        _code_expr("currency", CURRENCIES).alias("currency"),
        _timestamp_expr("received", "received_style", calendar.zone_name).alias("received_at"),
    )


def format_balances(table: Table, as_of: str) -> pl.DataFrame:
    """One balance row per account at the day's cut-off."""
    return table.frame().select(
        _id_expr("account", "account").alias("account_id"),
        _code_expr("currency", CURRENCIES).alias("currency"),
        pl.lit(as_of).alias("as_of"),
        _amount_expr("balance", "currency").alias("balance"),
    )
