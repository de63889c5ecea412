"""Likely causes of a break: the one list of them, their words, and the confidence rule.

A rule names a cause when the break's difference equals, exactly, an amount the engine can point
to (a settlement fee, a payout line's net, a refund line held back). The finding then carries
``likely_cause`` (a name of ``CAUSES``) and ``cause_confidence`` (decimal, 0 to 1), and its
explanation gains the cause in words with that confidence.

Confidence rule: one candidate of exactly the difference gives ``SINGLE`` (0.90); several
candidates of that amount (which one is unknown) give ``SEVERAL`` (0.60); no candidate, or a
difference that two causes fit, gives none. Kernels compute the candidates with Polars
expressions over their frames (``cause_columns``), never a loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl


@dataclass(frozen=True)
class Cause:
    """One likely cause: its name, the kinds of break it explains, words for a person, and what
    to do about it (added to the suggested action of a ticket whose break names it)."""

    name: str
    kinds: tuple[str, ...]
    words: str
    action: str


#: Every likely cause the engine names (docs, tests and the evaluation derive from this list).
CAUSE_LIST = (
    Cause(
        "entry_after_cutoff",
        ("balance_mismatch",),
        "an entry posted after the cut-off (a sync delay, not a loss)",
        "no money is missing: check that the next snapshot counts the entry named and let the "
        "break clear; report the balance sync to the wallet team if it recurs.",
    ),
    Cause(
        "duplicate_entry",
        ("balance_mismatch",),
        "a duplicate entry",
        "reverse the second ledger entry named (the wallet shows the money once).",
    ),
    Cause(
        "fee_not_booked",
        ("balance_mismatch",),
        "a fee not booked",
        "book the fee entry of the transaction named in the ledger.",
    ),
    Cause(
        "fee_gross_net_mixed",
        ("amount_mismatch", "fee_mismatch"),
        "the fee: gross and net mixed up",
        "correct the amount booked gross for net (or net for gross), with the gateway or in the "
        "ledger.",
    ),
    Cause(
        "payout_missing_line",
        ("payout_mismatch",),
        "one settlement line missing from the bank credit",
        "ask the gateway why the line named was left out of the credit, and in which payout it "
        "will come.",
    ),
    Cause(
        "refund_held_back",
        ("payout_mismatch",),
        "a refund line held back from the payout",
        "confirm with the gateway that the refund named was held back, and where it will settle.",
    ),
    Cause(
        "late_counterpart",
        ("missing_in_settlement", "missing_in_ledger", "payment_not_received"),
        "its counterpart arrived late",
        "none: the counterpart arrived and no money was lost.",
    ),
)
CAUSES: tuple[str, ...] = tuple(cause.name for cause in CAUSE_LIST)
CAUSE_WORDS: dict[str, str] = {cause.name: cause.words for cause in CAUSE_LIST}
CAUSE_ACTIONS: dict[str, str] = {cause.name: cause.action for cause in CAUSE_LIST}
#: Confidence in hundredths: one candidate of exactly the difference, or several of that amount.
SINGLE = 90
SEVERAL = 60
#: The two columns a cause adds to a finding, a discrepancy row and a ticket.
CAUSE_COLUMNS: dict[str, pl.DataType] = {
    "likely_cause": pl.String(),
    "cause_confidence": pl.Decimal(3, 2),
}


def confidence(candidates: pl.Expr) -> pl.Expr:
    """Confidence in hundredths from the number of candidates of exactly the difference:
    ``SINGLE`` for one, ``SEVERAL`` for more, null for none."""
    return (
        pl.when(candidates == 1)
        .then(pl.lit(SINGLE))
        .when(candidates > 1)
        .then(pl.lit(SEVERAL))
        .otherwise(pl.lit(None, pl.Int64))
    )


def cause_columns(
    explanation: pl.Expr, rules: list[tuple[str, pl.Expr, pl.Expr]]
) -> dict[str, pl.Expr]:
    """The explanation with its likely cause, ``likely_cause`` and ``cause_confidence``.

    ``rules``: (cause name, number of candidates, words naming the candidate) in order of
    preference. A cause is named when exactly one rule has candidates; when two rules fit, none is
    (ambiguous)."""
    fits = [candidates.fill_null(0) > 0 for _, candidates, _ in rules]
    fitting = pl.sum_horizontal([fit.cast(pl.Int64) for fit in fits]) if fits else pl.lit(0)
    name: pl.Expr = pl.lit(None, pl.String)
    hundredths: pl.Expr = pl.lit(None, pl.Int64)
    words: pl.Expr = pl.lit(None, pl.String)
    for (cause, candidates, detail), fit in reversed(list(zip(rules, fits, strict=True))):
        name = pl.when(fit).then(pl.lit(cause)).otherwise(name)
        hundredths = pl.when(fit).then(confidence(candidates.fill_null(0))).otherwise(hundredths)
        words = pl.when(fit).then(detail).otherwise(words)
    single = fitting == 1
    name = pl.when(single).then(name)
    hundredths = pl.when(single).then(hundredths)
    decimal = (hundredths.cast(pl.Decimal(5, 2)) / pl.lit(Decimal(100))).cast(pl.Decimal(3, 2))
    sentence = pl.format(
        "{} Likely cause: {}; confidence {}.", explanation, words, decimal.cast(pl.String)
    )
    return {
        "explanation": pl.when(single).then(sentence).otherwise(explanation),
        "likely_cause": name,
        "cause_confidence": decimal,
    }


def with_cause_action(action: pl.Expr) -> pl.Expr:
    """A ticket's suggested action, and when its break names a likely cause, what to do about
    that cause (``Cause.action``)."""
    extra = pl.col("likely_cause").replace_strict(
        CAUSE_ACTIONS, default=None, return_dtype=pl.String
    )
    return (
        pl.when(extra.is_not_null())
        .then(pl.format("{} Given the likely cause: {}", action, extra))
        .otherwise(action)
    )


def markdown_table() -> str:
    """The causes as a Markdown table (for the docs; a test keeps docs/causes.md in step)."""
    rows = [
        "| cause | breaks it explains | in words | the ticket's suggested action adds |",
        "|---|---|---|---|",
    ]
    rows += [
        f"| `{cause.name}` | {', '.join(f'`{kind}`' for kind in cause.kinds)} | {cause.words} "
        f"| {cause.action} |"
        for cause in CAUSE_LIST
    ]
    return "\n".join(rows)


def late_counterpart(resolution: pl.Expr) -> dict[str, pl.Expr]:
    """A break of a kind a counterpart resolves (an item missing its counterpart), resolved by
    the data: its counterpart arrived after the window. The resolution says so, and the resolved
    row carries ``late_counterpart`` with ``SINGLE`` confidence (the data shows the arrival)."""
    cause = next(cause for cause in CAUSE_LIST if cause.name == "late_counterpart")
    late = pl.col("type").is_in(cause.kinds)
    sure = pl.lit(Decimal(SINGLE) / 100).cast(pl.Decimal(3, 2))
    return {
        "resolution": pl.when(late)
        .then(pl.format("{} after its window ({}, not a loss)", resolution, pl.lit(cause.words)))
        .otherwise(resolution),
        "likely_cause": pl.when(late).then(pl.lit(cause.name)).otherwise(pl.col("likely_cause")),
        "cause_confidence": pl.when(late).then(sure).otherwise(pl.col("cause_confidence")),
    }
