"""The balances kernel: reported wallet balances against the ledger's postings (CONTRACT
section 2; the rule itself is ``match.balances``).

State slice: per-account, per-day postings and the last snapshots of each account. Tonight:
every ledger version that posts (superseded ones included) and tonight's snapshots. Findings:
``balance_mismatch``, one per account and currency, at its latest broken snapshot (and, in
``state["broken"]``, that snapshot's cut-off and the one before, for the likely causes the night
adds once the duplicates are known: ``match.balance_causes``). Outcomes:
tonight's snapshots, ``discrepancy`` or ``matched`` (a snapshot never waits).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from walletrecon.classify import findings
from walletrecon.kernels import KernelResult, cited_outcomes
from walletrecon.match.balances import reconcile_balances
from walletrecon.match.common import money_label
from walletrecon.shards import Kernel
from walletrecon.state import SNAPSHOTS, conform


@dataclass(frozen=True)
class BalanceState:
    postings: pl.DataFrame
    snapshots: pl.DataFrame


@dataclass(frozen=True)
class BalanceTonight:
    #: What tonight's ledger versions that may post (standing and superseded ones) add up to per
    #: account, currency and business day (``match.balances.posting_totals``, ``POSTINGS``).
    posted: pl.DataFrame
    #: Tonight's snapshots (``state.SNAPSHOTS`` shape).
    snapshots: pl.DataFrame


@dataclass(frozen=True)
class BalanceParams:
    #: Largest difference in minor units that is not a break (an expression over ``currency``).
    tolerance: pl.Expr


def latest_broken(checks: pl.DataFrame) -> pl.DataFrame:
    """The latest broken snapshot of each account and currency, with every broken one's row
    (``all_rows``): where its finding stands."""
    broken = checks.filter(pl.col("mismatch"))
    return (
        broken.sort("as_of")
        .group_by("account_id", "currency")
        .agg(
            pl.all().last(),
            pl.concat_str([pl.lit("balances:"), pl.col("row_id")]).alias("all_rows"),
        )
    )


#: What the likely causes of a balance break read of its snapshot (``match.balance_causes``).
BROKEN_COLUMNS = ["account_id", "currency", "as_of", "previous_as_of"]


def balance_findings(latest: pl.DataFrame) -> pl.DataFrame:
    """Accounts whose reported balance differs from the ledger's running total: one finding at
    the latest broken snapshot (``latest_broken``), naming every broken snapshot of the
    account."""
    return findings(
        latest,
        "balance_mismatch",
        key=pl.col("account_id"),
        expected_minor=pl.col("expected_minor"),
        actual_minor=pl.col("balance_minor"),
        explanation=pl.format(
            "Account {} reports {} at the cut-off of {}, but its succeeded ledger entries add up "
            "to {}.",
            "account_id",
            money_label(pl.col("balance_minor"), "currency"),
            "item_date",
            money_label(pl.col("expected_minor"), "currency"),
        ),
        evidence=pl.col("origin"),
        involved=pl.col("all_rows"),
    )


def run(
    state: BalanceState, tonight: BalanceTonight, params: BalanceParams, run_date: dt.date
) -> KernelResult:
    """Add tonight's postings, check tonight's snapshots (and the latest carried one), and
    carry postings and snapshots forward."""
    result = reconcile_balances(
        state.postings,
        tonight.posted,
        state.snapshots,
        tonight.snapshots,
        run_date,
        params.tolerance,
    )
    latest = latest_broken(result.checks)
    found = balance_findings(latest)
    return KernelResult(
        findings=found,
        outcomes=cited_outcomes("balances", tonight.snapshots, "row_id", found),
        state={
            "postings": result.postings,
            "snapshots": conform(result.snapshots, SNAPSHOTS),
            # For tonight's likely causes only (``match.balance_causes``), not carried.
            "broken": latest.select(BROKEN_COLUMNS),
        },
    )


def shard_keys(frames: Mapping[str, pl.LazyFrame]) -> dict[str, pl.Expr]:
    """Every frame of the kernel is keyed by its account: an account's postings, posting totals
    and snapshots are always in one shard."""
    return {name: pl.col("account_id") for name in frames}


#: The kernel as the shard executors run it.
KERNEL: Kernel[BalanceState, BalanceTonight, BalanceParams] = Kernel("balances", run, shard_keys)
