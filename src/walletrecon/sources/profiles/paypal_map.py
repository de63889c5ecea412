"""PayPal STL section-body (``SB``) records to settlement rows, as Polars expressions.

Transaction event codes (T-codes; PayPal's T-code reference: ``T<group><type>``, the group is
enough to classify) to outcomes:

| T-code | PayPal meaning | outcome |
|---|---|---|
| T00xx, credit | payment received (checkout, subscription, donation, ...) | ``payment`` |
| T1107, debit | payment refund | ``refund`` |
| T1201/T1202, debit | chargeback | ``chargeback`` |
| T1201/T1202, credit | chargeback reversal | rejected (no canonical type carries it) |
| T01xx, T1108 | fees (T0106 chargeback fee, ...), a fee reversal | control ``fee`` |
| T02xx | currency conversion | control ``conversion`` (enriches the line it converts) |
| T04xx | withdrawal to a bank account | control ``withdrawal`` (a payout) |
| T15xx, T21xx, T1105, T1110, T1111 | holds on the balance and their releases | control ``hold`` |
| anything else (T00xx debit, T03xx funding, other reversals, ...) | | rejected, naming the code |

Amounts are hundredths of the currency's unit, whatever its ISO 4217 exponent (PayPal's
specification: "100,00 yen and $100.00 USD are both represented as 10000"), with a ``CR``/``DR``
indicator; an amount with a fraction its currency does not have (``10050`` yen) is rejected.
``gross_amount`` and ``fee_amount`` are
unsigned; ``net_amount`` is what the line does to the balance (gross and fee signed by their own
indicators), so a fee credited back on a refund shows in the net and ``fee_amount`` is 0.

Conversion: a transaction followed (later in the file) by a pair of T02xx lines sharing its
Invoice ID, one leg in the transaction's currency for exactly its net amount, gets
``net_currency`` = the other leg's currency, ``net_amount`` = the other leg (signed like the
net), ``exchange_rate`` = other leg / same leg (15 decimals) and ``fee_amount`` converted at that
rate, rounded (half to even) to the net currency's minor unit.
"""

from __future__ import annotations

import polars as pl

from walletrecon.money import currency_exponents
from walletrecon.sources.profiles.report_lines import AMOUNT_DTYPE, AMOUNT_SCALE, decimal_text

#: Canonical column -> the STL column header it comes from.
FIELDS = {
    "txn": "Transaction ID",
    "invoice": "Invoice ID",
    "event": "Transaction Event Code",
    "completed": "Transaction Completion Date",
    "gross_dc": "Transaction Debit or Credit",
    "gross": "Gross Transaction Amount",
    "gross_ccy": "Gross Transaction Currency",
    "fee_dc": "Fee Debit or Credit",
    "fee": "Fee Amount",
    "fee_ccy": "Fee Currency",
}
_STAMP = r"^(\d{4})/(\d{2})/(\d{2}) (\d{2}:\d{2}:\d{2}) ([+-]\d{2}):?(\d{2})$"
RATE_SCALE = 15
#: T11xx codes that hold or release part of the balance (not a transaction reversal).
HOLD_CODES = ("T1105", "T1110", "T1111")


def outcome() -> pl.Expr:
    """``payment``/``refund``/``chargeback``, ``control:<kind>``, or null (reject)."""
    event, credit = pl.col("event"), pl.col("gross_dc") == "CR"
    return (
        pl.when(event.str.contains(r"^T00\d\d$") & credit)
        .then(pl.lit("payment"))
        .when((event == "T1107") & ~credit)
        .then(pl.lit("refund"))
        .when(event.is_in(["T1201", "T1202"]) & ~credit)
        .then(pl.lit("chargeback"))
        .when(event.str.contains(r"^T01\d\d$") | (event == "T1108"))
        .then(pl.lit("control:fee"))
        .when(event.str.contains(r"^T02\d\d$"))
        .then(pl.lit("control:conversion"))
        .when(event.str.contains(r"^T04\d\d$"))
        .then(pl.lit("control:withdrawal"))
        .when(event.str.contains(r"^T(?:15|21)\d\d$") | event.is_in(HOLD_CODES))
        .then(pl.lit("control:hold"))
    )


#: Decimal places of every STL amount, whatever the currency's ISO 4217 exponent.
STL_DECIMALS = 2


def major(minor: str, currency: str) -> pl.Expr:
    """STL amount digits (hundredths, ``STL_DECIMALS``) to an exact Decimal in major units
    (null for an unknown currency or text that is not digits)."""
    known = pl.col(currency).is_in(list(currency_exponents()))
    digits = pl.when(pl.col(minor).str.contains(r"^\d+$") & known).then(pl.col(minor))
    scale = pl.lit(f"1e-{STL_DECIMALS}").str.to_decimal(scale=AMOUNT_SCALE).cast(AMOUNT_DTYPE)
    return (digits.str.to_decimal(scale=0).cast(pl.Decimal(38, 0)) * scale).cast(AMOUNT_DTYPE)


def _unit(currency: str) -> pl.Expr:
    """The STL amount of the currency's smallest unit (``100`` for JPY, ``1`` for USD)."""
    exponent = pl.col(currency).replace_strict(currency_exponents(), default=None)
    return pl.lit(10).pow((STL_DECIMALS - exponent).clip(lower_bound=0).cast(pl.Int64))


def _fraction_rule(column: str, field: str, currency: str) -> tuple[str, pl.Expr, pl.Expr]:
    """The rule rejecting an STL amount with a fraction its currency does not have (hundredths
    of a yen)."""
    value = pl.col(field).str.to_integer(strict=False)
    beyond = (value % _unit(currency) != 0).fill_null(False)
    reason = pl.format(
        "{}: {} is hundredths of {}, which has no such fraction; expected a multiple of {}",
        pl.lit(column),
        pl.col(field),
        pl.col(currency),
        _unit(currency).cast(pl.String),
    )
    return column, beyond, reason


def _dec(expr: pl.Expr) -> pl.Expr:
    return expr.fill_null("0").str.to_decimal(scale=AMOUNT_SCALE).cast(AMOUNT_DTYPE)


def _signed(amount: pl.Expr, indicator: str) -> pl.Expr:
    return pl.when(pl.col(indicator) == "DR").then(-amount).otherwise(amount)


def rules() -> list[tuple[str, pl.Expr, pl.Expr]]:
    """(column, condition, reason) in the order they are tried; the first that holds rejects."""
    codes = list(currency_exponents())

    def found(name: str) -> pl.Expr:
        return pl.format("found '{}'", pl.col(name).fill_null(""))

    has_fee = pl.col("fee").fill_null("") != ""
    return [
        (
            "Transaction ID",
            pl.col("txn").fill_null("") == "",
            pl.lit("Transaction ID: expected the transaction's id, found nothing"),
        ),
        (
            "Transaction Event Code",
            ~pl.col("event").fill_null("").str.contains(r"^T\d{4}$"),
            pl.format(
                "Transaction Event Code: expected a T-code such as T0006, {}", found("event")
            ),
        ),
        (
            "Transaction Debit or Credit",
            ~pl.col("gross_dc").is_in(["CR", "DR"]),
            pl.format("Transaction Debit or Credit: expected CR or DR, {}", found("gross_dc")),
        ),
        (
            "Gross Transaction Amount",
            ~pl.col("gross").fill_null("").str.contains(r"^\d+$"),
            pl.format(
                "Gross Transaction Amount: expected hundredths (digits only, e.g. 1250), {}",
                found("gross"),
            ),
        ),
        (
            "Gross Transaction Currency",
            ~pl.col("gross_ccy").is_in(codes),
            pl.format(
                "Gross Transaction Currency: expected an ISO 4217 code, {}", found("gross_ccy")
            ),
        ),
        _fraction_rule("Gross Transaction Amount", "gross", "gross_ccy"),
        (
            "Fee Amount",
            has_fee & ~pl.col("fee").fill_null("").str.contains(r"^\d+$"),
            pl.format("Fee Amount: expected hundredths (digits only), {}", found("fee")),
        ),
        _fraction_rule("Fee Amount", "fee", "gross_ccy"),
        (
            "Fee Debit or Credit",
            has_fee & ~pl.col("fee_dc").is_in(["CR", "DR"]),
            pl.format(
                "Fee Debit or Credit: expected CR or DR with a fee amount, {}", found("fee_dc")
            ),
        ),
        (
            "Fee Currency",
            has_fee & (pl.col("fee_ccy") != pl.col("gross_ccy")),
            pl.format(
                "Fee Currency: expected the gross currency {}, {}",
                pl.col("gross_ccy"),
                found("fee_ccy"),
            ),
        ),
        (
            "Transaction Completion Date",
            pl.col("settled_at").is_null(),
            pl.format(
                "Transaction Completion Date: expected YYYY/MM/DD HH:MM:SS +HHMM, {}",
                found("completed"),
            ),
        ),
        (
            "Transaction Event Code",
            pl.col("outcome").is_null(),
            pl.format(
                "Transaction Event Code: {} with {} has no settlement record type (expected "
                "T00xx credit, T1107 debit, T1201/T1202 debit, or control T01xx/T02xx/T04xx/"
                "T15xx/T21xx)",
                pl.col("event"),
                pl.col("gross_dc"),
            ),
        ),
    ]


def settled_at() -> pl.Expr:
    """``2016/06/01 00:14:05 -0700`` -> ``2016-06-01T00:14:05-07:00``; null when unreadable."""
    iso = pl.col("completed").str.replace(_STAMP, "$1-$2-${3}T$4$5:$6")
    valid = (
        pl.col("completed").str.contains(_STAMP)
        & iso.str.strptime(
            pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%:z", strict=False
        ).is_not_null()
    )
    return pl.when(valid).then(iso)


def amount_decimals() -> list[pl.Expr]:
    """Unsigned gross and fee, signed net, in major units of the gross currency (Decimals)."""
    zero = pl.lit(0).cast(AMOUNT_DTYPE)
    gross = major("gross", "gross_ccy")
    fee = major("fee", "gross_ccy").fill_null(zero)
    charged = pl.when(pl.col("fee_dc") == "DR").then(fee).otherwise(zero)
    net = _signed(gross.fill_null(zero), "gross_dc") + _signed(fee, "fee_dc")
    return [gross.alias("_gross"), charged.alias("_fee"), net.alias("_net")]


def amount_texts() -> list[pl.Expr]:
    """The amounts of ``amount_decimals`` as decimal text."""
    return [
        decimal_text(pl.col("_gross")).alias("gross_amount"),
        decimal_text(pl.col("_fee")).alias("fee_amount"),
        decimal_text(pl.col("_net")).alias("net_amount"),
    ]


def conversions(body: pl.DataFrame) -> pl.DataFrame:
    """Pairs of conversion lines (T02xx) per invoice, each tied to one transaction before it
    whose net a leg converts (the earliest such one no earlier pair took): ``origin_row`` of that
    transaction, the other leg's currency and amounts."""
    legs = (
        body.filter((pl.col("outcome") == "control:conversion") & (pl.col("invoice") != ""))
        .filter(
            pl.col("gross").str.contains(r"^\d+$")
            & pl.col("gross_ccy").is_in(list(currency_exponents()))
        )
        .sort("origin_row")
        .with_columns(
            pair=pl.int_range(pl.len()).over("invoice") // 2,
            major=major("gross", "gross_ccy"),
        )
    )
    pairs = legs.group_by("invoice", "pair").agg(
        first_row=pl.col("origin_row").min(),
        legs=pl.len(),
        ccy=pl.col("gross_ccy"),
        amount=pl.col("major"),
    )
    pairs = pairs.filter(pl.col("legs") == 2).sort("first_row")
    txns = body.filter(pl.col("outcome").is_in(["payment", "refund", "chargeback"])).sort(
        "origin_row"
    )
    # Every earlier transaction of the invoice is a candidate; _leg_choice keeps those whose
    # net one leg converts, and each pair then takes the earliest candidate no earlier pair took.
    joined = pairs.join(
        txns.select("invoice", "origin_row", "gross_ccy", "_net"), on="invoice", how="inner"
    ).filter(pl.col("origin_row") < pl.col("first_row"))
    candidates = _leg_choice(joined).sort("first_row", "origin_row")
    used_pairs: set[int] = set()
    used_rows: set[int] = set()
    chosen: list[int] = []
    for index, (pair, row) in enumerate(candidates.select("first_row", "origin_row").iter_rows()):
        if pair not in used_pairs and row not in used_rows:
            used_pairs.add(pair)
            used_rows.add(row)
            chosen.append(index)
    return candidates[chosen].drop("first_row")


def _leg_choice(joined: pl.DataFrame) -> pl.DataFrame:
    """The leg in the transaction's currency and the other one; rate = other / same. A pair
    whose leg in the transaction's currency is not the transaction's net converts something
    else and is left alone."""
    same = pl.col("ccy").list.get(0) == pl.col("gross_ccy")
    other_index = pl.when(same).then(1).otherwise(0)
    same_index = 1 - other_index
    table = joined.with_columns(
        net_ccy=pl.col("ccy").list.get(other_index),
        same_ccy=pl.col("ccy").list.get(same_index),
        other_amount=pl.col("amount").list.get(other_index),
        same_amount=pl.col("amount").list.get(same_index),
    ).filter(
        (pl.col("same_ccy") == pl.col("gross_ccy"))
        & (pl.col("net_ccy") != pl.col("gross_ccy"))
        & (pl.col("same_amount") == pl.col("_net").abs())
    )
    rate = pl.col("other_amount").cast(pl.Decimal(38, RATE_SCALE)) / pl.col("same_amount").cast(
        pl.Decimal(38, RATE_SCALE)
    )
    return table.filter(pl.col("same_amount") != 0).select(
        "first_row",
        "origin_row",
        pl.col("net_ccy").alias("conv_currency"),
        pl.col("other_amount").alias("conv_amount"),
        rate.alias("conv_rate"),
    )


def apply_conversions(body: pl.DataFrame) -> pl.DataFrame:
    """Transactions with a conversion pair get net_currency, exchange_rate and converted net
    and fee; the others keep null in both extra columns."""
    pairs = conversions(body)
    merged = body.join(pairs, on="origin_row", how="left")
    exponent = pl.col("conv_currency").replace_strict(currency_exponents(), default=0)
    fee = _dec(pl.col("fee_amount")) * pl.col("conv_rate")
    rounded = pl.coalesce([pl.when(exponent == e).then(fee.round(e)) for e in range(5)])
    sign = pl.when(pl.col("record_type") == "payment").then(1).otherwise(-1)
    found = pl.col("conv_currency").is_not_null()
    merged = merged.with_columns(
        _conv_fee=pl.when(found).then(rounded), _conv_net=pl.col("conv_amount") * sign
    )
    return merged.with_columns(
        net_currency=pl.col("conv_currency"),
        exchange_rate=decimal_text(pl.col("conv_rate")),
        net_amount=pl.when(found)
        .then(decimal_text(pl.col("_conv_net")))
        .otherwise(pl.col("net_amount")),
        fee_amount=pl.when(found)
        .then(decimal_text(pl.col("_conv_fee")))
        .otherwise(pl.col("fee_amount")),
    )
