"""Payout control totals of a Stripe balance transaction file.

For each payout whose payout row is in the file: the nets of the other lines of that payout (in
every outcome: a rejected line was paid out all the same) add up to minus the payout's net, per
currency; and the payout row's own gross - fee equals its net. Stripe books a payout as money
leaving the balance (negative); a payout row written positive (hand-made payout reports do) is
compared as written, and the total says so in its note. A payout row names its payout in the
payout id column, else in its source id (``po_...``).
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from walletrecon.sources.profiles import ControlTotal
from walletrecon.sources.profiles.text import major_text


def _major(units: int, places: int) -> str:
    return major_text(Decimal(units).scaleb(-places))


def payout_totals(frame: pl.DataFrame, payout_types: tuple[str, ...]) -> list[ControlTotal]:
    """The checked totals of every payout row of the working frame (see module docstring)."""
    payouts = frame.filter(pl.col("_type").is_in(list(payout_types)))
    if payouts.is_empty():
        return []
    keys = payouts.select(pl.coalesce("payout_id", "gateway_ref")).to_series()
    frame = frame.filter(
        pl.col("payout_id").is_in(keys.implode()) | pl.col("_type").is_in(payout_types)
    )
    units = frame.with_columns(pl.col("_type").is_in(payout_types).alias("_payout"))
    totals: list[ControlTotal] = []
    for row in units.filter(pl.col("_payout")).iter_rows(named=True):
        totals += _one_payout(units, row)
    return totals


def _one_payout(units: pl.DataFrame, payout: dict[str, object]) -> list[ControlTotal]:
    key = payout["payout_id"] or payout["gateway_ref"]
    scope = f"payout {key} (line {payout['_line']})"
    currency = payout["currency"] if isinstance(payout["currency"], str) else None
    places = payout["_exp"]
    gross, fee, net = (payout[f"_{name}_units"] for name in ("gross", "fee", "net"))
    if not isinstance(places, int) or not all(isinstance(v, int) for v in (gross, fee, net)):
        return [
            ControlTotal(
                scope,
                "sum of line nets = -payout",
                "",
                "",
                None,
                currency,
                "the payout row's amounts or currency cannot be read",
            )
        ]
    assert isinstance(gross, int) and isinstance(fee, int) and isinstance(net, int)
    totals = [
        ControlTotal(
            scope,
            "payout row gross - fee = net",
            _major(net, places),
            _major(gross - fee, places),
            gross - fee == net,
            currency,
        )
    ]
    lines = units.filter(~pl.col("_payout") & (pl.col("payout_id") == key))
    check = "sum of line nets = -payout net"
    # Stripe writes a payout as minus what its lines add up to: negative when money goes to the
    # bank, positive when lines add up below zero and the bank is debited. Hand-made reports
    # also write a paying-out payout positive; that reading is the fallback.
    expected, note = -net, ""
    unreadable = lines.filter(pl.col("_net_units").is_null() | (pl.col("currency") != currency))
    why = ""
    if lines.is_empty():
        why = "no line of this payout is in the file"
    elif not unreadable.is_empty():
        rows = ", ".join(str(line) for line in unreadable.get_column("_line").to_list()[:5])
        why = f"net of line(s) {rows} unreadable or in another currency"
    if why:
        unchecked = ControlTotal(scope, check, _major(expected, places), "", None, currency, why)
        return [*totals, unchecked]
    found = int(lines.get_column("_net_units").sum())
    if found != expected and net > 0:
        expected, note = net, "payout row written positive: compared as written"
    totals.append(
        ControlTotal(
            scope,
            check,
            _major(expected, places),
            _major(found, places),
            found == expected,
            currency,
            note,
        )
    )
    return totals
