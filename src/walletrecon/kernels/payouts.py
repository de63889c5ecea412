"""The payouts kernel: gateway payouts against bank statement lines (CONTRACT section 2; the
matching itself is ``match.payouts``).

State slice: open payouts and bank lines no payout has claimed yet. Tonight: the settlement lines
as delivered (duplicates count in their payout's sum), summed per payout before the kernel
(``match.payouts.line_totals``: a payout may hold millions of lines), and tonight's bank lines.
Findings:
``payout_mismatch`` for broken payouts and for bank lines naming no payout after the window.
Outcomes: tonight's bank lines, ``discrepancy`` when a finding names them or their payout is
broken, ``pending`` while unclaimed or their payout is open, else ``matched``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from walletrecon.causes import cause_columns
from walletrecon.classify import findings, involved
from walletrecon.kernels import KernelResult, cited_ids, outcome_rows
from walletrecon.match.common import money_label, window_passed
from walletrecon.match.payouts import assign_bank_lines, reconcile_payouts
from walletrecon.shards import Kernel
from walletrecon.state import BANK_WORK, PAYOUTS, conform


@dataclass(frozen=True)
class PayoutState:
    payouts: pl.DataFrame
    #: Bank lines of earlier nights no payout has claimed (``state.BANK_WORK``).
    bank: pl.DataFrame


@dataclass(frozen=True)
class PayoutTonight:
    #: Tonight's settlement lines summed per payout (``match.payouts.line_totals``).
    totals: pl.DataFrame
    #: Tonight's bank lines (``state.BANK_WORK``).
    bank: pl.DataFrame


@dataclass(frozen=True)
class PayoutParams:
    #: Days a payout may wait for its bank line, and a bank line for its payout.
    window_days: int
    #: Largest difference in minor units that is not a break (an expression over ``currency``).
    tolerance: pl.Expr


def _candidates(broken: pl.DataFrame, nets: str) -> pl.Expr:
    """Per broken payout, how many of its lines in ``nets`` have a net equal to what the bank
    credit lacks (net sum minus bank amount): one exploded pass over the few broken payouts."""
    short = pl.col("net_minor") - pl.col("bank_minor")
    counts = (
        broken.select("payout_key", short.alias("short"), nets)
        .explode(nets)
        .filter(pl.col(nets) == pl.col("short"))
        .group_by("payout_key")
        .len(f"{nets}_fit")
    )
    return pl.col("payout_key").replace_strict(
        counts.get_column("payout_key"),
        counts.get_column(f"{nets}_fit").cast(pl.Int64),
        default=0,
        return_dtype=pl.Int64,
    )


def payout_causes(broken: pl.DataFrame, explanation: pl.Expr) -> dict[str, pl.Expr]:
    """A paid payout whose bank credit lacks exactly one line's net (a line missing from the
    credit) or one refund line's (a refund held back): the likely cause, with its confidence."""
    paid = (pl.col("bank_lines") > 0) & (pl.col("bank_currency") == pl.col("currency"))
    short = pl.col("net_minor") - pl.col("bank_minor")
    lines = pl.when(paid).then(_candidates(broken, "line_nets")).otherwise(0)
    refunds = pl.when(paid).then(_candidates(broken, "refund_nets")).otherwise(0)
    return cause_columns(
        explanation,
        [
            (
                "payout_missing_line",
                lines,
                pl.format(
                    "a settlement line of {} missing from the bank credit",
                    money_label(short, "currency"),
                ),
            ),
            (
                "refund_held_back",
                refunds,
                pl.format(
                    "a refund line of {} held back from the payout",
                    money_label(short.abs(), "currency"),
                ),
            ),
        ],
    )


def payout_findings(
    payouts: pl.DataFrame, unassigned_bank: pl.DataFrame, days: int, run_date: dt.date
) -> pl.DataFrame:
    """Payouts whose bank amount disagrees or never came, and bank lines naming no payout."""
    broken = payouts.filter(pl.col("status") == "mismatch")
    why = (
        pl.when(pl.col("bank_lines") == 0)
        .then(pl.format("no bank line names it after {} days", pl.lit(str(days))))
        .when(pl.col("mixed_currency") | (pl.col("bank_currency") != pl.col("currency")))
        .then(pl.format("the bank paid in {} but its lines are in {}", "bank_currency", "currency"))
        .otherwise(pl.format("the bank paid {}", money_label(pl.col("bank_minor"), "currency")))
    )
    from_payouts = findings(
        broken,
        "payout_mismatch",
        key=pl.col("payout_id"),
        expected_minor=pl.col("net_minor"),
        actual_minor=pl.when(pl.col("bank_lines") > 0).then(pl.col("bank_minor")),
        **payout_causes(
            broken,
            pl.format(
                "Payout {} of {} ({} settlement lines up to {}): {}.",
                "payout_id",
                money_label(pl.col("net_minor"), "currency"),
                "lines",
                "payout_date",
                why,
            ),
        ),
        evidence=pl.col("bank_origin"),
        involved=involved(("bank", "bank_line_id")),
    )
    stray = unassigned_bank.filter(window_passed("item_date", days, run_date))
    strays = findings(
        stray,
        "payout_mismatch",
        key=pl.col("bank_line_id"),
        actual_minor=pl.col("amount_minor"),
        explanation=pl.format(
            "Bank line {} of {} on {} (reference '{}') names no known payout after {} days.",
            "bank_line_id",
            money_label(pl.col("amount_minor"), "currency"),
            "item_date",
            pl.col("reference").fill_null(""),
            pl.lit(str(days)),
        ),
        evidence=pl.col("origin"),
        involved=involved(("bank", "bank_line_id")),
    )
    return pl.concat([from_payouts, strays])


def _bank_outcomes(
    tonight: pl.DataFrame,
    payouts: pl.DataFrame,
    unassigned: pl.DataFrame,
    assigned: pl.DataFrame,
    found: pl.DataFrame,
) -> pl.DataFrame:
    """Tonight's bank lines: broken with their payout or named by a finding; pending while no
    payout claims them or their payout is open; else matched."""
    open_payouts = payouts.filter(pl.col("status") != "reconciled")
    broken_payouts = payouts.filter(pl.col("status") == "mismatch")
    broken = pl.concat(
        [
            cited_ids("bank", found),
            assigned.join(broken_payouts, on="payout_key", how="semi").get_column("bank_line_id"),
        ]
    )
    waiting = pl.concat(
        [
            unassigned.get_column("bank_line_id"),
            assigned.join(open_payouts, on="payout_key", how="semi").get_column("bank_line_id"),
        ]
    ).unique()
    outcome = (
        pl.when(pl.col("bank_line_id").is_in(broken.implode()))
        .then(pl.lit("discrepancy"))
        .when(pl.col("bank_line_id").is_in(waiting.implode()))
        .then(pl.lit("pending"))
        .otherwise(pl.lit("matched"))
    )
    return outcome_rows("bank", tonight, "bank_line_id", outcome)


def kept_payouts(payouts: pl.DataFrame, window_days: int, run_date: dt.date) -> pl.DataFrame:
    """Reconciled payouts leave once their window has passed; the rest stay open."""
    done = (pl.col("status") == "reconciled") & window_passed("payout_date", window_days, run_date)
    return payouts.filter(~done)


def run(
    state: PayoutState, tonight: PayoutTonight, params: PayoutParams, run_date: dt.date
) -> KernelResult:
    """Fold tonight's settlement and bank lines into the payouts, judge each, and carry the
    open payouts and the unclaimed bank lines forward."""
    result = reconcile_payouts(
        state.payouts,
        tonight.totals,
        pl.concat([state.bank, conform(tonight.bank, BANK_WORK)]),
        run_date,
        params.window_days,
        params.tolerance,
    )
    found = payout_findings(result.payouts, result.unassigned_bank, params.window_days, run_date)
    outcomes = _bank_outcomes(
        tonight.bank, result.payouts, result.unassigned_bank, result.assigned_bank, found
    )
    return KernelResult(
        findings=found,
        outcomes=outcomes,
        state={
            "bank": conform(result.unassigned_bank, BANK_WORK),
            "payouts": conform(kept_payouts(result.payouts, params.window_days, run_date), PAYOUTS),
        },
    )


def shard_keys(frames: Mapping[str, pl.LazyFrame]) -> dict[str, pl.Expr]:
    """Payouts and tonight's line totals are keyed by payout. A bank line names its payout only in
    free text, so its key is the payout it is assigned to among all payouts (the same rule as
    the kernel's, over every payout of the night): in that payout's shard the kernel assigns it
    the same way, since the shard holds the winning payout and a subset of the others. Bank lines
    naming no payout have a null key: all in shard 0,
    where no payout claims them either."""
    known = pl.concat(
        [
            frames["state.payouts"].select("payout_key"),
            frames["tonight.totals"].select("payout_key"),
        ]
    )
    keys = known.collect().get_column("payout_key").drop_nulls().unique().sort().to_list()
    bank = pl.concat(
        [frames["state.bank"].collect(), conform(frames["tonight.bank"].collect(), BANK_WORK)]
    )
    assignment = assign_bank_lines(bank, keys).filter(pl.col("bank_line_id").is_not_null())
    bank_key = pl.col("bank_line_id").replace_strict(
        assignment.get_column("bank_line_id"),
        assignment.get_column("payout_key"),
        default=None,
        return_dtype=pl.String,
    )
    return {
        "state.payouts": pl.col("payout_key"),
        "state.bank": bank_key,
        "tonight.totals": pl.col("payout_key"),
        "tonight.bank": bank_key,
    }


#: The kernel as the shard executors run it.
KERNEL: Kernel[PayoutState, PayoutTonight, PayoutParams] = Kernel("payouts", run, shard_keys)
