"""Checks of the pairs matched tonight (ledger entries against settlement lines or receipts):
which pairs break a status, currency, amount or timing check, found on the few columns the checks
read, a slice of pairs at a time; only the pairs that break are gathered whole for their findings
(``classify``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from walletrecon.config import Config
from walletrecon.match.common import gather_pairs, pair_sides, tolerance_minor


@dataclass(frozen=True)
class PairSide:
    """How the pair checks read one counterpart of ledger entries."""

    #: Added to the counterpart's column names the ledger side also has.
    suffix: str
    amount: str
    time: str
    id_column: str
    noun: str
    #: The counterpart's columns a finding reports (after the suffix).
    columns: tuple[str, ...]


LEDGER_PAIR_COLUMNS = (
    "entry_id",
    "txn_id",
    "account_id",
    "entry_type",
    "amount_minor",
    "currency",
    "status",
    "created_at",
    "merchant_id",
    "gateway_ref",
    "origin",
)
PAIR_SIDES = {
    "settlement": PairSide(
        "_line",
        "gross_minor",
        "settled_at",
        "settlement_id",
        "the gateway settled",
        (
            "settlement_id",
            "gateway",
            "gateway_ref_line",
            "record_type",
            "gross_minor",
            "fee_minor",
            "currency_line",
            "settled_at",
            "payout_id",
            "origin_line",
        ),
    ),
    "receipts": PairSide(
        "_receipt",
        "amount_minor_receipt",
        "received_at",
        "receipt_id",
        "the merchant received",
        ("receipt_id", "amount_minor_receipt", "currency_receipt", "received_at", "origin_receipt"),
    ),
}


#: Pairs checked at a time.
PAIR_SLICE = 200_000


def pair_breaks(counterpart: str, config: Config) -> dict[str, pl.Expr]:
    """Per break type, when a ledger entry and its matched counterpart disagree."""
    side = PAIR_SIDES[counterpart]
    other_currency = f"currency{side.suffix}"
    tolerance = tolerance_minor(config.tolerance.amount, "currency")
    gap = (pl.col(side.amount) - pl.col("amount_minor").abs()).abs()
    threshold = dt.timedelta(hours=config.windows.sync_delay_hours)
    return {
        "status_mismatch": pl.col("status") != "succeeded",
        "currency_mismatch": pl.col("currency") != pl.col(other_currency),
        "amount_mismatch": (pl.col("currency") == pl.col(other_currency)) & (gap > tolerance),
        "sync_delay": pl.col(side.time) - pl.col("created_at") > threshold,
    }


def broken_pairs(
    counterpart: str,
    ledger: pl.DataFrame,
    other: pl.DataFrame,
    pairs: pl.DataFrame,
    config: Config,
) -> pl.DataFrame:
    """Tonight's matched pairs (row positions in ``ledger`` and ``other``) that break a pair
    check, with the columns their findings report. The checks run on the few columns they read;
    only the pairs that break are gathered whole, and the checks go a slice of pairs at a time
    (a night's pairs side by side, even narrow, would be one of its largest frames)."""
    side = PAIR_SIDES[counterpart]
    breaks = pair_breaks(counterpart, config)
    read = sorted({name for condition in breaks.values() for name in condition.meta.root_names()})
    left, right = pair_sides(ledger, other, side.suffix, read)
    broken = pl.concat(
        [
            gather_pairs(left, part.to_series(0), right, part.to_series(1))
            .select(pl.any_horizontal(*breaks.values()).fill_null(False))
            .to_series()
            for part in pairs.iter_slices(PAIR_SLICE)
        ]
        or [pl.Series(dtype=pl.Boolean)]
    )
    del left, right
    left_rows, right_rows = pairs.to_series(0), pairs.to_series(1)
    left, right = pair_sides(ledger, other, side.suffix, [*LEDGER_PAIR_COLUMNS, *side.columns])
    return gather_pairs(left, left_rows.filter(broken), right, right_rows.filter(broken))
