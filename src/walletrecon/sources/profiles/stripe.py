"""Stripe balance transactions as settlement lines: report exports and Fivetran's table.

Four layouts, told apart by their header: the itemized payout reconciliation / balance report
(``balance_transaction_id``, ``gross``, ``fee``, ``net``, ``reporting_category``), the dashboard
"balance change from activity" export (the same names, fewer columns, ``created_utc``), the
dashboard's balance history export (``id``, ``Type``, ``Source``, ``Amount``, ``Created (UTC)``,
``Transfer``: major units, the payout in ``Transfer``) and the balance_transaction table as
Fivetran syncs it from the API (``id``, ``amount``, ``fee``, ``net``, ``type``). Header names are
matched by ``column_key`` (case-insensitive, ``(UTC)`` as ``_utc``, spaces as ``_``). Read with
pyarrow (every value as text) and mapped with Polars expressions.

Types. ``reporting_category`` (else ``type``) ``charge``/``payment`` -> payment, ``refund``/
``payment_refund`` -> refund, ``dispute`` -> chargeback. Payouts, fees, adjustments, transfers,
reserves, top-ups of the Stripe balance and the other balance movements in ``CONTROL_TYPES`` are
control records (not transactions of the wallet). ``dispute_reversal`` (a won dispute returning
the funds), ``refund_failure``, ``charge_failure`` and ``payment_failure_refund`` are rejected
with their reason: no canonical record type says "chargeback undone" or "refund failed", and
mapping one to a payment would look like a second payment of the same reference; a person
decides. ``partial_capture_reversal`` is counted against its charge (see ``stripe_types``). Any
other type is rejected naming it.

Amounts. Option ``amounts = "major"|"minor"``; the default is ``minor`` for the API/Fivetran
layout (a lower-case ``amount`` column) and ``major`` for the report exports (``gross``) and
the dashboard's ``Amount``. Minor
units follow the API's exponents: ISO 4217's, except ISK (two-decimal) and MGA (zero). Stripe
writes refunds and disputes with negative gross: the canonical gross is its absolute value, the
fee as written, the net as written (signed, what the line adds to the payout). A line whose net
is not gross - fee, a charge with negative gross or a refund/dispute with positive gross is
rejected. Currency codes are upper-cased.

Columns. settlement_id = ``balance_transaction_id`` (else ``id``). gateway_ref: option
``gateway_ref_column``, else the first non-empty of ``payment_intent_id``, ``charge_id``,
``source_id``, ``source``: the payment's own ids come first because a refund and a dispute
carry them too, so a chargeback finds its payment. merchant_ref: option ``merchant_ref_column``
(e.g. ``payment_metadata[txn_id]``), else null. payout_id = ``automatic_payout_id`` (else
``payout_id``). settled_at: option ``timestamp_column``, else the first of ``created_utc``,
``created``, ``available_on_utc``, ``available_on``; ``YYYY-MM-DD HH:MM:SS`` (``T`` between,
fractional seconds allowed, or a date) read in UTC, or in option ``timezone`` for a column whose
name does not end in ``_utc``; Unix seconds and stamps with ``Z``, `` UTC`` or an offset
(``2021-03-15T01:04:36.000Z``, as API syncs write them) are instants, never shifted by
``timezone``.

Records: every non-empty line after the header row (the header is structure and not counted).
Control totals, per payout whose payout row is in the file: the nets of the other lines of that
payout add up to minus the payout's net (Stripe books a payout as money leaving the balance; a
payout row written positive, as hand-made reports do, is compared as written), and the payout
row's own gross - fee = net. holds=None when a line's amount cannot be read or no line of the
payout is in the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from walletrecon.errors import ConfigError, InputError
from walletrecon.schemas import SOURCES
from walletrecon.sources.profiles import (
    ControlLine,
    ControlTotal,
    ProfileResult,
    ProfileSpec,
    Rejection,
)
from walletrecon.sources.profiles.delimited import Records, read_records
from walletrecon.sources.profiles.stripe_time import column_key, settled_at, unplaced
from walletrecon.sources.profiles.stripe_totals import payout_totals
from walletrecon.sources.profiles.stripe_types import (
    CONTROL_TYPES,
    PARTIAL_CAPTURE,
    RECORD_TYPES,
    UNMAPPED_TYPES,
    fold_partial_captures,
    foldable_reversals,
)
from walletrecon.sources.profiles.textexpr import (
    Case,
    arrow_rows,
    check_zone,
    clean,
    exponent,
    minor_to_major,
    minor_units,
    negate,
    plain_decimal,
    split_by_reason,
)

OPTIONS = (
    "amounts",
    "timezone",
    "gateway_ref_column",
    "merchant_ref_column",
    "timestamp_column",
)
#: Currencies whose minor units in Stripe's API differ from ISO 4217: ISK is zero-decimal in
#: ISO but stays two-decimal in the API (``100`` is 1 krona, amounts divisible by 100); MGA is
#: two-decimal in ISO but one of the API's zero-decimal currencies.
API_EXPONENTS = {"ISK": 2, "MGA": 0}
REFERENCE_COLUMNS = ("payment_intent_id", "charge_id", "source_id", "source")
TIME_COLUMNS = ("created_utc", "created", "available_on_utc", "available_on")
PAYOUT_TYPES = ("payout",)


def _first(header: list[str], names: tuple[str, ...]) -> str | None:
    """The first header column whose key (``column_key``) is one of ``names``, in their order."""
    keys = {column_key(column): column for column in reversed(header)}
    return next((keys[name] for name in names if name in keys), None)


def _options(spec: ProfileSpec) -> dict[str, str]:
    unknown = sorted(set(spec.options) - set(OPTIONS))
    if unknown:
        raise ConfigError(
            f"stripe profile: unknown option(s) {', '.join(unknown)} (known: {', '.join(OPTIONS)})"
        )
    amounts = spec.options.get("amounts")
    if amounts not in (None, "major", "minor"):
        raise ConfigError(f"stripe profile: amounts = '{amounts}'; expected 'major' or 'minor'")
    check_zone(spec.options.get("timezone"), "stripe")
    return dict(spec.options)


def _layout(header: list[str], options: Mapping[str, str], where: str) -> dict[str, str | None]:
    """The file's column for each role; InputError naming what is missing."""
    layout = {
        "id": _first(header, ("balance_transaction_id", "id")),
        "type": _first(header, ("reporting_category", "type")),
        "gross": _first(header, ("gross", "amount")),
        "fee": _first(header, ("fee",)),
        "net": _first(header, ("net",)),
        "currency": _first(header, ("currency",)),
        "time": options.get("timestamp_column") or _first(header, TIME_COLUMNS),
        "payout": _first(header, ("automatic_payout_id", "payout_id", "transfer")),
        "merchant_ref": options.get("merchant_ref_column"),
        "gateway_ref": options.get("gateway_ref_column"),
    }
    required = ("id", "type", "gross", "fee", "net", "currency", "time")
    missing = [role for role in required if layout[role] is None]
    named = [
        str(layout[role])
        for role in ("time", "merchant_ref", "gateway_ref")
        if layout[role] and layout[role] not in header
    ]
    if missing or named:
        raise InputError(
            f"{where}: expected a Stripe balance transaction header with columns for "
            f"{', '.join(missing + named)} (found: {', '.join(header)})"
        )
    return layout


def _exponent(currency: pl.Expr, minor: bool) -> pl.Expr:
    """The currency's exponent: ISO 4217's, or Stripe's API one for minor units (ISK: 2)."""
    iso = exponent(currency)
    if not minor:
        return iso
    api = currency.replace_strict(API_EXPONENTS, default=None, return_dtype=pl.Int64)
    return pl.when(iso.is_not_null()).then(pl.coalesce(api, iso))


def _amount(column: str, minor: bool) -> pl.Expr:
    text = clean(pl.col(column))
    return minor_to_major(text, pl.col("_exp")) if minor else plain_decimal(text)


def _working(
    records: Records, layout: dict[str, str | None], options: dict[str, str]
) -> tuple[pl.DataFrame, list[Case]]:
    """Every data row with its roles as text and canonical amounts, and the checks a
    transaction line must pass."""
    minor = options.get("amounts", "minor" if layout["gross"] == "amount" else "major") == "minor"
    frame = pl.from_arrow(records.table)
    assert isinstance(frame, pl.DataFrame)
    refs = (
        [options["gateway_ref_column"]]
        if "gateway_ref_column" in options
        else [
            str(found)
            for name in REFERENCE_COLUMNS
            if (found := _first(records.header, (name,))) is not None
        ]
    )
    role = {key: pl.col(str(value)) for key, value in layout.items() if value}
    frame = frame.with_columns(
        pl.Series("_line", records.lines, pl.Int64),
        clean(role["type"]).str.to_lowercase().alias("_type"),
        clean(role["currency"]).str.to_uppercase().alias("currency"),
        clean(role["id"]).alias("settlement_id"),
        pl.coalesce([clean(pl.col(name)) for name in refs] or [pl.lit(None, pl.String)]).alias(
            "gateway_ref"
        ),
        (clean(role["merchant_ref"]) if "merchant_ref" in role else pl.lit(None, pl.String)).alias(
            "merchant_ref"
        ),
        (clean(role["payout"]) if "payout" in role else pl.lit(None, pl.String)).alias("payout_id"),
        settled_at(str(layout["time"]), options.get("timezone")).alias("settled_at"),
        unplaced(str(layout["time"]), options.get("timezone")).alias("_unplaced"),
    ).with_columns(_exponent(pl.col("currency"), minor).alias("_exp"))
    frame = frame.with_columns(
        _amount(str(layout["gross"]), minor).alias("_gross"),
        _amount(str(layout["fee"]), minor).alias("_fee"),
        _amount(str(layout["net"]), minor).alias("_net"),
        pl.col("_type").replace_strict(RECORD_TYPES, default=None).alias("record_type"),
    )
    frame = frame.with_columns(
        minor_units(pl.col(f"_{name}"), pl.col("_exp")).alias(f"_{name}_units")
        for name in ("gross", "fee", "net")
    )
    frame = foldable_reversals(frame).with_columns(
        # A line without a type is no control line: it is read, and rejected for its type.
        (pl.col("_type").is_in(list(CONTROL_TYPES)) | pl.col("_folds"))
        .fill_null(False)
        .alias("_control")
    )
    missing_reference = f"gateway_ref: no value in {', '.join(refs) or 'any reference column'}"
    if "gateway_ref_column" not in options:
        missing_reference += (
            f" (expected one of {', '.join(REFERENCE_COLUMNS)}; the input option "
            "gateway_ref_column names another column)"
        )
    return frame, _cases(layout, minor, missing_reference, options.get("timezone"))


def _cases(
    layout: dict[str, str | None], minor: bool, missing_reference: str, zone: str | None
) -> list[Case]:
    """Why a transaction line cannot be mapped, as (condition, message), first check first."""

    def shown(column: str) -> pl.Expr:
        return pl.lit(f"{layout[column]}: '") + pl.col(str(layout[column])).fill_null("")

    units = {name: pl.col(f"_{name}_units") for name in ("gross", "fee", "net")}
    expected = "a whole number of minor units" if minor else "a decimal number"
    typ = pl.col("record_type")
    cases: list[Case] = [
        (
            pl.col("_type") == name,
            pl.lit(
                f"{layout['type']}: '{name}' ({what}) has no canonical record type; expected "
                "charge, refund or dispute"
            ),
        )
        for name, what in UNMAPPED_TYPES.items()
    ]
    cases += [
        (
            pl.col("_type") == PARTIAL_CAPTURE,
            pl.lit(f"{layout['type']}: '{PARTIAL_CAPTURE}' (the uncaptured part of a charge) ")
            + pl.lit("needs exactly one charge or payment line with gateway_ref '")
            + pl.col("gateway_ref").fill_null("")
            + pl.lit("' and its currency in the file, to be counted against it"),
        ),
        (
            typ.is_null(),
            pl.lit(f"{layout['type']}: '")
            + pl.col("_type").fill_null("")
            + pl.lit(f"' is not a type this profile maps; expected {', '.join(RECORD_TYPES)}"),
        ),
        (pl.col("settlement_id").is_null(), pl.lit(f"{layout['id']}: empty; expected an id")),
        (
            pl.col("_exp").is_null(),
            shown("currency") + pl.lit("' is not an ISO 4217 currency code"),
        ),
    ]
    for name in ("gross", "fee", "net"):
        cases.append((pl.col(f"_{name}").is_null(), shown(name) + pl.lit(f"' is not {expected}")))
    cases += [
        (
            units["gross"] - units["fee"] != units["net"],
            shown("net")
            + pl.lit("' is not gross - fee (")
            + pl.col("_gross")
            + pl.lit(" - ")
            + pl.col("_fee")
            + pl.lit(")"),
        ),
        (
            (typ == "payment") & pl.col("_gross").str.starts_with("-"),
            shown("gross") + pl.lit("' is negative for a charge"),
        ),
        (
            (typ != "payment") & (units["gross"] > 0),
            shown("gross") + pl.lit("' is positive; Stripe writes refunds and disputes negative"),
        ),
        (
            pl.col("_unplaced"),
            shown("time")
            + pl.lit(
                f"' does not exist or is ambiguous in zone {zone} (a daylight-saving change); "
                "expected an unambiguous local time"
            ),
        ),
        (
            pl.col("settled_at").is_null(),
            shown("time") + pl.lit("' is not a timestamp YYYY-MM-DD HH:MM:SS"),
        ),
        (
            pl.col("gateway_ref").is_null(),
            pl.lit(missing_reference),
        ),
    ]
    return cases


def _canonical(frame: pl.DataFrame, gateway: str) -> pl.DataFrame:
    names = SOURCES["settlement"].column_names
    gross = pl.col("_gross")
    return frame.with_columns(
        pl.lit(gateway).alias("gateway"),
        pl.when(gross.str.starts_with("-"))
        .then(negate(gross))
        .otherwise(gross)
        .alias("gross_amount"),
        pl.col("_fee").alias("fee_amount"),
        pl.col("_net").alias("net_amount"),
        pl.lit(None, pl.String).alias("net_currency"),
        pl.lit(None, pl.String).alias("exchange_rate"),
        pl.col("_line").alias("origin_row"),
        pl.lit(None, pl.String).alias("origin_element"),
    ).select(*names, "origin_row", "origin_element")


def read(path: Path, spec: ProfileSpec) -> ProfileResult:
    """Read one Stripe balance transaction CSV into settlement rows, rejections and totals."""
    name = spec.display or str(path)
    options = _options(spec)
    records = read_records(path, spec.encoding, name)
    layout = _layout(records.header, options, f"{name}: line {records.header_line}")
    frame, cases = _working(records, layout, options)
    control = frame.filter(pl.col("_control"))
    accepted, refused = split_by_reason(frame.filter(~pl.col("_control")), cases)
    accepted = fold_partial_captures(accepted, frame)
    rejected = [
        Rejection(line, reason, records.raw_line(line), column=reason.split(":")[0])
        for line, reason in refused.select("_line", "_reason").iter_rows()
    ]
    rejected += [Rejection(line, f"row: {why}", raw) for line, why, raw in records.malformed]
    rejected.sort(key=lambda rejection: rejection.row)
    controls = [
        ControlLine(line, kind, records.raw_line(line))
        for line, kind in control.select("_line", "_type").iter_rows()
    ]
    totals: list[ControlTotal] = payout_totals(frame, PAYOUT_TYPES)
    return ProfileResult(
        source="settlement",
        rows=arrow_rows(_canonical(accepted, spec.gateway or "stripe")),
        rejected=rejected,
        control=controls,
        totals=totals,
        records=records.records,
    )
