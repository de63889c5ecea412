"""Stripe's balance transaction types: which are rows, which are control, which are rejected by
name, and how a partial-capture reversal is counted against its charge.

``partial_capture_reversal``: when a payment is captured for less than its authorisation, Stripe
writes the charge for the full authorised amount and a second, negative balance transaction
releasing the uncaptured part (the two add up to the captured amount; Stripe's documentation
suggests counting it against the sale). When the file holds exactly one charge/payment line with
the reversal's gateway reference and currency, the reversal is a control line and its gross, fee
and net are added to that charge's row, which then carries the captured amount; otherwise the
reversal is rejected with its reason. Payout totals still count each line as written.
"""

from __future__ import annotations

import polars as pl

from walletrecon.sources.profiles.textexpr import minor_to_major

RECORD_TYPES = {
    "charge": "payment",
    "payment": "payment",
    "refund": "refund",
    "payment_refund": "refund",
    "dispute": "chargeback",
}
CONTROL_TYPES = frozenset(
    [
        "payout",
        "payout_reversal",
        "payout_cancel",
        "payout_failure",
        "payout_minimum_balance_hold",
        "payout_minimum_balance_release",
        "fee",
        "stripe_fee",
        "stripe_fx_fee",
        "tax_fee",
        "network_cost",
        "tax",
        "application_fee",
        "application_fee_refund",
        "adjustment",
        "other_adjustment",
        "transfer",
        "transfer_reversal",
        "transfer_cancel",
        "transfer_failure",
        "transfer_refund",
        "reserve_transaction",
        "reserved_funds",
        "risk_reserved_funds",
        "risk_released_funds",
        "connect_reserved_funds",
        "connect_collection_transfer",
        "platform_earning",
        "platform_earning_refund",
        "topup",
        "topup_reversal",
        "contribution",
        "climate_order_purchase",
        "climate_order_refund",
        "financing_paydown",
        "financing_paydown_reversal",
        "financing_payout",
        "financing_payout_reversal",
        "issuing_authorization_hold",
        "issuing_authorization_release",
        "issuing_dispute",
        "issuing_transaction",
        "unreconciled_customer_funds",
        "advance",
        "advance_funding",
        "anticipation_repayment",
    ]
)
#: Types rejected by name, with what they are: each returns or takes back money of an earlier
#: line, which no canonical record type can carry with the contract's signs; a person decides.
UNMAPPED_TYPES = {
    "dispute_reversal": "a won dispute returning funds",
    "refund_failure": "a failed refund returning funds",
    "charge_failure": "a failed charge taking its funds back",
    "payment_failure_refund": "a failed payment taking its funds back",
}
PARTIAL_CAPTURE = "partial_capture_reversal"
_KEY = ("gateway_ref", "currency")
_UNITS = ("_gross_units", "_fee_units", "_net_units")


def foldable_reversals(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with ``_folds``: True on partial-capture reversals with readable amounts that
    have exactly one charge/payment line of the same gateway reference and currency."""
    targets = (
        frame.filter((pl.col("record_type") == "payment") & pl.col("gateway_ref").is_not_null())
        .group_by(*_KEY)
        .agg(_targets=pl.len())
    )
    marked = frame.join(targets, on=list(_KEY), how="left", maintain_order="left")
    readable = pl.all_horizontal(pl.col(name).is_not_null() for name in _UNITS)
    folds = (pl.col("_type") == PARTIAL_CAPTURE) & (pl.col("_targets") == 1) & readable
    return marked.with_columns(_folds=folds.fill_null(False)).drop("_targets")


def fold_partial_captures(accepted: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """The accepted rows with each folded reversal's gross, fee and net added to its charge."""
    sums = (
        frame.filter(pl.col("_folds"))
        .group_by(*_KEY)
        .agg(*(pl.col(name).sum().alias(f"{name}_fold") for name in _UNITS))
    )
    joined = accepted.join(sums, on=list(_KEY), how="left", maintain_order="left")
    hit = (pl.col("record_type") == "payment") & pl.col("_gross_units_fold").is_not_null()
    return joined.with_columns(
        pl.when(hit)
        .then(
            minor_to_major(
                (pl.col(f"_{name}_units") + pl.col(f"_{name}_units_fold")).cast(pl.String),
                pl.col("_exp"),
            )
        )
        .otherwise(pl.col(f"_{name}"))
        .alias(f"_{name}")
        for name in ("gross", "fee", "net")
    ).drop(f"{name}_fold" for name in _UNITS)
