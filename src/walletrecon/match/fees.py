"""Fee checks of settlement lines: net against gross and fee, and fee against the gateway schedule.

A line settled in another currency has fee and net in its net currency: its gross is first
converted through its exchange rate (``round_half_even`` to the net currency's minor unit), and the
checks below run on that gross in the net currency. Amounts of two currencies are never compared.

The expected fee is ``round_half_even(gross * percent / 100 + fixed)`` to the currency's minor
unit, computed exactly in 128-bit integers: with percent = p / 10^k and the fixed fee in minor units
f / 10^j, ``fee * Q = gross * P + F`` where P = p * 10^j, F = f * 100 * 10^k, Q = 100 * 10^(k+j).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from walletrecon.config import Config, FeeSchedule
from walletrecon.match.common import window_passed
from walletrecon.money import currency_exponents, exponent_of

INCOMING_TYPES = ["payment", "topup"]


def _fraction(value: Decimal) -> tuple[int, int]:
    """(numerator, decimal places) of an exact decimal: 1.5 -> (15, 1)."""
    sign, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)
    numerator = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    if exponent >= 0:
        return numerator * 10**exponent, 0
    return numerator, -exponent


def fee_constants(schedule: FeeSchedule, currency: str) -> tuple[int, int, int]:
    """(P, F, Q) of a schedule in one currency, so that fee * Q = gross * P + F."""
    percent_numerator, k = _fraction(schedule.percent)
    fixed = schedule.fixed.get(currency, Decimal(0)).scaleb(exponent_of(currency))
    fixed_numerator, j = _fraction(fixed)
    return (
        percent_numerator * 10**j,
        fixed_numerator * 100 * 10**k,
        100 * 10 ** (k + j),
    )


def _rules(lines: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Fee constants for every (gateway, currency, record_type) present that has a schedule."""
    rows = []
    present = lines.select("gateway_key", "fee_currency", "record_type").unique().iter_rows()
    for gateway, currency, record_type in present:
        schedule = config.fees.get(gateway)
        if schedule is None:
            continue
        if record_type in schedule.record_types:
            p, f, q = fee_constants(schedule, currency)
        else:
            p, f, q = 0, 0, 1
        rows.append((gateway, currency, record_type, p, f, q))
    schema = {
        "gateway_key": pl.String,
        "currency": pl.String,
        "record_type": pl.String,
        "fee_p": pl.Int128,
        "fee_f": pl.Int128,
        "fee_q": pl.Int128,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _round_half_even(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    quotient = numerator // denominator
    twice_remainder = (numerator - quotient * denominator) * 2
    round_up = (twice_remainder > denominator) | (
        (twice_remainder == denominator) & (quotient % 2 == 1)
    )
    return (quotient + round_up.cast(pl.Int128)).cast(pl.Int64)


def schedule_fees(entries: pl.DataFrame, config: Config) -> pl.DataFrame:
    """The fee each configured gateway's schedule would charge on each entry (one row per entry
    and gateway whose schedule names the entry's type): ``entries`` with ``entry_id``,
    ``entry_type``, ``currency`` and ``amount_minor`` (the gross is its absolute value), out
    ``entry_id`` and ``fee_minor``. Which gateway an entry went through the ledger does not
    say: every schedule is a candidate."""
    present = entries.select("currency", "entry_type").unique().iter_rows()
    rows = [
        (currency, entry_type, *fee_constants(schedule, currency))
        for currency, entry_type in present
        for schedule in config.fees.values()
        if entry_type in schedule.record_types
    ]
    schema = {
        "currency": pl.String,
        "entry_type": pl.String,
        "fee_p": pl.Int128,
        "fee_f": pl.Int128,
        "fee_q": pl.Int128,
    }
    rules = pl.DataFrame(rows, schema=schema, orient="row")
    gross = pl.col("amount_minor").abs().cast(pl.Int128)
    return entries.join(rules, on=["currency", "entry_type"]).select(
        "entry_id",
        _round_half_even(gross * pl.col("fee_p") + pl.col("fee_f"), pl.col("fee_q")).alias(
            "fee_minor"
        ),
    )


def _exponent(currency: str) -> pl.Expr:
    return pl.col(currency).replace_strict(
        currency_exponents(), default=None, return_dtype=pl.Int64
    )


def gross_in_fee_currency() -> pl.Expr:
    """The gross in the currency of fee and net, in its minor units: the gross itself, or for a
    line settled in another currency ``round_half_even(gross * exchange_rate)`` computed exactly
    (rate = digits / 10^scale, exponents of both currencies; 128-bit integers)."""
    rate = pl.col("exchange_rate").str.strip_chars_start("+")
    halves = rate.str.split_exact(".", 1)
    fraction = halves.struct.field("field_1").fill_null("").str.strip_chars_end("0")
    digits = (halves.struct.field("field_0").fill_null("") + fraction).str.strip_chars_start("0")
    shift = _exponent("fee_currency") - _exponent("currency") - fraction.str.len_chars()
    ten = pl.lit(10, pl.Int128)
    numerator = (
        pl.col("gross_minor").cast(pl.Int128)
        * digits.str.to_integer(strict=False).cast(pl.Int128)
        * ten.pow(shift.clip(lower_bound=0))
    )
    converted = _round_half_even(numerator, ten.pow((-shift).clip(lower_bound=0)))
    return (
        pl.when(pl.col("exchange_rate").is_null())
        .then(pl.col("gross_minor"))
        .otherwise(converted)
        .alias("fee_gross_minor")
    )


def with_fee_checks(lines: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Add expected_net_minor, expected_fee_minor (null without schedule) and the two verdicts.

    Fee and net are in ``fee_currency``: the net currency of a line settled in another currency
    (its gross converted through its rate), else the line's currency."""
    gross = pl.col("fee_gross_minor")
    expected_net = (
        pl.when(pl.col("record_type").is_in(INCOMING_TYPES))
        .then(gross - pl.col("fee_minor"))
        .otherwise(-gross - pl.col("fee_minor"))
    )
    keyed = (
        lines.with_columns(pl.coalesce("net_currency", "currency").alias("fee_currency"))
        .with_columns(gross_in_fee_currency())
        .with_columns(
            expected_net.alias("expected_net_minor"),
            pl.col("gateway").str.strip_chars().str.to_lowercase().alias("gateway_key"),
        )
    )
    checked = keyed.join(
        _rules(keyed, config),
        left_on=["gateway_key", "fee_currency", "record_type"],
        right_on=["gateway_key", "currency", "record_type"],
        how="left",
    )
    gross = gross.cast(pl.Int128)
    expected_fee = _round_half_even(gross * pl.col("fee_p") + pl.col("fee_f"), pl.col("fee_q"))
    return (
        checked.with_columns(
            pl.when(pl.col("fee_q").is_not_null()).then(expected_fee).alias("expected_fee_minor"),
        )
        .with_columns(
            (pl.col("net_minor") != pl.col("expected_net_minor")).alias("net_broken"),
            (
                pl.col("expected_fee_minor").is_not_null()
                & (pl.col("fee_minor") != pl.col("expected_fee_minor"))
            ).alias("schedule_broken"),
        )
        .drop("gateway_key", "fee_p", "fee_f", "fee_q", "fee_gross_minor")
    )


#: What the fee checks and their findings read of a settlement line.
FEE_COLUMNS = [
    "settlement_id",
    "gateway",
    "gateway_ref",
    "merchant_ref",
    "match_txn_id",
    "record_type",
    "gross_minor",
    "fee_minor",
    "net_minor",
    "currency",
    "net_currency",
    "exchange_rate",
    "origin",
]


def fee_due(config: Config, run_date: dt.date) -> pl.Expr:
    """Lines whose fee is checked tonight: matched, or past their window, and not checked before."""
    return ~pl.col("fee_checked") & (
        pl.col("ledger_match").is_not_null()
        | window_passed("item_date", config.windows.settlement_days, run_date)
    )


def broken_fees(settlement: pl.DataFrame, config: Config, run_date: dt.date) -> pl.DataFrame:
    """Lines checked tonight whose fee or net is wrong (checked on the columns they need)."""
    due = (
        settlement.lazy()
        .filter(fee_due(config, run_date))
        .select(FEE_COLUMNS)
        .collect(engine="in-memory")
    )
    return with_fee_checks(due, config).filter(pl.col("net_broken") | pl.col("schedule_broken"))
