"""Checks of the Adyen profile: why a line is rejected, and whether each batch's payout holds.

Both are Polars expressions over the whole file. A line gets the FIRST reason that applies, in
the order written here (line type, references, amounts, currencies, date); the reason names the
column and what was expected, and quotes what was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from walletrecon.money import currency_exponents
from walletrecon.sources.profiles import ControlTotal
from walletrecon.sources.profiles.adyen_zones import AMBIGUOUS, is_known_zone, local_time
from walletrecon.sources.profiles.report_lines import (
    AMOUNT_SCALE,
    apply_rules,
    as_decimal,
    decimal_text,
    is_unsigned_decimal,
)

_FEE_COLUMNS = ("Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)")
_RATE = r"^(?:\d+(?:\.\d+)?|\.\d+)$"


def _found(column: str) -> pl.Expr:
    return pl.format("found '{}'", pl.col(column))


def _bad_amount(column: str) -> tuple[str, pl.Expr, pl.Expr]:
    message = pl.format(
        "{}: expected an unsigned decimal amount with '.' and at most {} decimals (e.g. 12.50), {}",
        pl.lit(column),
        pl.lit(AMOUNT_SCALE),
        _found(column),
    )
    return column, (pl.col(column) != "") & ~is_unsigned_decimal(column), message


def _amount_rules() -> list[tuple[str, pl.Expr, pl.Expr]]:
    """Gross, fee and net columns: the right ones filled, each a plain decimal."""
    payment = pl.col("record_type") == "payment"
    gross = pl.when(payment).then(pl.lit("Gross Credit (GC)")).otherwise(pl.lit("Gross Debit (GC)"))
    gross_value = (
        pl.when(payment).then(pl.col("Gross Credit (GC)")).otherwise(pl.col("Gross Debit (GC)"))
    )
    both_gross = (pl.col("Gross Debit (GC)") != "") & (pl.col("Gross Credit (GC)") != "")
    both_net = (pl.col("Net Debit (NC)") != "") & (pl.col("Net Credit (NC)") != "")
    no_net = (pl.col("Net Debit (NC)") == "") & (pl.col("Net Credit (NC)") == "")
    rules = [
        (
            "Gross Debit (GC)",
            both_gross,
            pl.format(
                "Gross Debit (GC) and Gross Credit (GC) both carry an amount ('{}' and '{}'); "
                "expected exactly one",
                pl.col("Gross Debit (GC)"),
                pl.col("Gross Credit (GC)"),
            ),
        ),
        _bad_amount("Gross Debit (GC)"),
        _bad_amount("Gross Credit (GC)"),
        *[
            (
                column,
                side & (gross_value == ""),
                pl.format(
                    "{}: expected the gross amount of a {} line, found nothing",
                    gross,
                    pl.col("Type"),
                ),
            )
            for column, side in (("Gross Credit (GC)", payment), ("Gross Debit (GC)", ~payment))
        ],
        *[_bad_amount(column) for column in _FEE_COLUMNS],
        (
            "Net Debit (NC)",
            both_net,
            pl.format(
                "Net Debit (NC) and Net Credit (NC) both carry an amount ('{}' and '{}'); "
                "expected exactly one",
                pl.col("Net Debit (NC)"),
                pl.col("Net Credit (NC)"),
            ),
        ),
        _bad_amount("Net Debit (NC)"),
        _bad_amount("Net Credit (NC)"),
        (
            "Net Credit (NC)",
            no_net,
            pl.lit("Net Debit (NC)/Net Credit (NC): expected a net amount, found nothing"),
        ),
    ]
    return rules


def _currency_rules() -> list[tuple[str, pl.Expr, pl.Expr]]:
    codes = list(currency_exponents())
    rules = [
        (
            column,
            ~pl.col(column).str.to_uppercase().is_in(codes),
            pl.format("{}: expected an ISO 4217 currency code, {}", pl.lit(column), _found(column)),
        )
        for column in ("Gross Currency", "Net Currency")
    ]
    rate_needed = pl.col("net_currency").is_not_null()
    bad_rate = ~pl.col("Exchange Rate").str.contains(_RATE) | (as_decimal_rate() == 0)
    rules.append(
        (
            "Exchange Rate",
            rate_needed & bad_rate,
            pl.format(
                "Exchange Rate: expected a positive decimal rate from {} to {}, {}",
                pl.col("Gross Currency"),
                pl.col("Net Currency"),
                _found("Exchange Rate"),
            ),
        )
    )
    return rules


def as_decimal_rate() -> pl.Expr:
    """The Exchange Rate as a Decimal (0 when it is not a plain decimal)."""
    text = pl.when(pl.col("Exchange Rate").str.contains(_RATE)).then(pl.col("Exchange Rate"))
    return text.otherwise(pl.lit("0")).str.to_decimal(scale=18)


def _date_rules(zones: Iterable[str]) -> list[tuple[str, pl.Expr, pl.Expr]]:
    known = [zone for zone in zones if is_known_zone(zone)]
    return [
        (
            "Creation Date",
            local_time("Creation Date").is_null(),
            pl.format("Creation Date: expected YYYY-MM-DD HH:MM:SS, {}", _found("Creation Date")),
        ),
        (
            "TimeZone",
            pl.col("TimeZone").str.to_uppercase().is_in(list(AMBIGUOUS)),
            pl.format(
                "TimeZone: '{}' is ambiguous ({}); expected the zone's IANA name",
                pl.col("TimeZone"),
                pl.col("TimeZone").str.to_uppercase().replace_strict(AMBIGUOUS, default=""),
            ),
        ),
        (
            "TimeZone",
            ~pl.col("TimeZone").is_in(known),
            pl.format(
                "TimeZone: expected a zone abbreviation (CET, PST, ...), GMT+HH:MM or an IANA "
                "zone name (Europe/Amsterdam), {}",
                _found("TimeZone"),
            ),
        ),
        (
            "Creation Date",
            pl.col("settled_at").is_null(),
            pl.format(
                "Creation Date: '{}' does not exist or is ambiguous in zone {} (a daylight-saving "
                "change); expected an unambiguous local time",
                pl.col("Creation Date"),
                pl.col("TimeZone"),
            ),
        ),
    ]


def rejection_reasons(
    frame: pl.DataFrame,
    control: tuple[str, ...],
    reversals: tuple[str, ...],
    record_types: Mapping[str, str],
) -> pl.DataFrame:
    """``frame`` with ``reject_reason`` and ``reject_column`` (null where the line maps)."""
    line_type = pl.col("Type")
    correction = line_type.str.ends_with("Correction") & ~line_type.is_in(control)
    rules: list[tuple[str, pl.Expr, pl.Expr]] = [
        (
            "Type",
            line_type.is_in(reversals) | correction,
            pl.format(
                "Type: line type '{}' moves money back, pays a shopper out or corrects a line "
                "and has no canonical record type; expected one of {}",
                line_type,
                pl.lit(", ".join(record_types)),
            ),
        ),
        (
            "Type",
            ~line_type.is_in(list(record_types)),
            pl.format(
                "Type: '{}' is not an Adyen line type this profile knows; expected one of {}",
                line_type,
                pl.lit(", ".join([*record_types, *control])),
            ),
        ),
        (
            "Psp Reference",
            pl.col("Psp Reference") == "",
            pl.format(
                "Psp Reference: expected the PSP reference of the {} line, found nothing", line_type
            ),
        ),
        *_amount_rules(),
        *_currency_rules(),
        *_date_rules(frame["TimeZone"].unique().to_list()),
    ]
    return apply_rules(frame, rules)


def payout_totals(frame: pl.DataFrame) -> list[ControlTotal]:
    """Per merchant account, batch and net currency: the lines' nets against MerchantPayout."""
    readable = (is_unsigned_decimal("Net Debit (NC)") | (pl.col("Net Debit (NC)") == "")) & (
        is_unsigned_decimal("Net Credit (NC)") | (pl.col("Net Credit (NC)") == "")
    )
    net = as_decimal("Net Credit (NC)") - as_decimal("Net Debit (NC)")
    payout = pl.col("Type") == "MerchantPayout"
    groups = (
        frame.group_by(
            "Merchant Account", "Batch Number", pl.col("Net Currency").str.to_uppercase()
        )
        .agg(
            payouts=payout.sum(),
            paid=pl.when(payout).then(-net).sum(),
            lines=pl.when(~payout).then(net).sum(),
            unreadable=(~readable).sum(),
        )
        .with_columns(paid=decimal_text(pl.col("paid")), lines=decimal_text(pl.col("lines")))
        .sort("Merchant Account", "Batch Number", "Net Currency")
    )
    return [_payout_total(*row) for row in groups.iter_rows()]


def _payout_total(
    account: str, batch: str, currency: str, payouts: int, paid: str, lines: str, unreadable: int
) -> ControlTotal:
    scope = f"batch {batch}, {account}"
    check = "nets of the batch's lines = MerchantPayout amount"
    if unreadable:
        note = f"{unreadable} line(s) of the batch have an unreadable net amount"
        return ControlTotal(scope, check, paid, lines, None, currency, note)
    if not payouts:
        note = "the file holds no MerchantPayout line for this batch and currency"
        return ControlTotal(scope, check, "", lines, None, currency, note)
    return ControlTotal(scope, check, paid, lines, paid == lines, currency)
