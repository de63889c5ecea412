"""Suggested matches: a break's likely counterpart that the rules could not pair.

Never a pair made automatically: a suggestion is a column of the discrepancy row and the ticket
(``suggested_match``, ``suggestion_confidence``, ``suggestion_reason``, CONTRACT section 6) for
a person to accept with ``walletrecon decide match``. Each rule looks at two kinds of open break
whose items could belong together:

- ``reference``: an entry missing in settlement and a settlement line missing in the ledger,
  same amount and currency, within the settlement window of each other, whose gateway
  references are one or two characters apart (Levenshtein, after case and spaces);
- ``txn_id``: a payment not received and a receipt missing in the ledger, same amount, currency
  and merchant, within the receipt window, whose txn_ids are one or two characters apart;
- ``retry``: a settled transaction the ledger has as failed (status mismatch) and an entry of
  the same account, amount and currency that succeeded under another id within the settlement
  window and has no settlement line: the gateway settled the retry under the first attempt.

A suggestion is made only when one candidate stands clearly above the others, on both sides: the
item's closest candidate is closer than any other, and that candidate's closest item is this one.
Confidence: 0.95 for one character, 0.80 for two, 0.85 for a retry; 0.05 less per day between
the two breaks and 0.10 less when a farther candidate exists; never below 0.50.

String distances: ``rapidfuzz`` (C++, vectorised over the candidate pairs).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import polars as pl
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist, cpdist

from walletrecon.config import Windows
from walletrecon.logs import LOGGER
from walletrecon.schemas import SUGGESTION_COLUMNS

#: Characters two references may differ by and still be a likely pair.
MAX_DISTANCE = 2
#: Pairs of one amount and currency compared as a join; a larger block is compared as a
#: distance matrix ``SLICE_ROWS`` rows at a time, and large blocks together compare at most
#: ``MAX_BLOCK_CELLS`` pairs a night (a block over what is left is skipped, with a warning).
MAX_BLOCK_PAIRS = 250_000
SLICE_ROWS = 2_000
MAX_BLOCK_CELLS = 2_000_000_000
#: Confidence in hundredths: by distance, for a retry, and what lowers it.
BY_DISTANCE = {1: 95, 2: 80}
RETRY = 85
PER_DAY_APART = 5
RUNNER_UP = 10
FLOOR = 50


@dataclass(frozen=True)
class Side:
    """One side of a rule: breaks of a kind whose ``involved`` names an item of a source."""

    kind: str
    source: str
    text: str
    amount: str
    noun: str


@dataclass(frozen=True)
class Rule:
    name: str
    left: Side
    right: Side
    #: Equal on both sides besides currency and amount.
    same: tuple[str, ...]
    window: str
    #: What differs, in words.
    what: str


RULES = (
    Rule(
        "reference",
        Side("missing_in_settlement", "ledger", "gateway_ref", "expected_minor", "entry"),
        Side("missing_in_ledger", "settlement", "gateway_ref", "actual_minor", "settlement line"),
        (),
        "settlement_days",
        "gateway reference",
    ),
    Rule(
        "txn_id",
        Side("payment_not_received", "ledger", "txn_id", "expected_minor", "payment"),
        Side("missing_in_ledger", "receipts", "txn_id", "actual_minor", "receipt"),
        ("merchant_id",),
        "receipt_days",
        "txn_id",
    ),
)


def _side(open_breaks: pl.DataFrame, side: Side, label: str, keep: tuple[str, ...]) -> pl.DataFrame:
    """The breaks of one side: id, item, normalised text, amount, currency, first seen."""
    prefix = f"{side.source}:"
    item = (
        pl.col("involved")
        .list.eval(pl.element().filter(pl.element().str.starts_with(prefix)))
        .list.first()
        .str.strip_prefix(prefix)
    )
    text = pl.col(side.text).str.to_lowercase().str.replace_all(r"\s", "")
    return (
        open_breaks.filter(pl.col("type") == side.kind)
        .select(
            pl.col("discrepancy_id").alias(f"{label}_break"),
            item.alias(f"{label}_item"),
            text.alias(f"{label}_text"),
            pl.col(side.text).alias(f"{label}_shown"),
            pl.col(side.amount).alias("amount"),
            "currency",
            pl.col("first_seen").alias(f"{label}_seen"),
            *keep,
        )
        .filter(pl.col(f"{label}_item").is_not_null() & pl.col("amount").is_not_null())
    )


def _unambiguous(pairs: pl.DataFrame, score: str) -> pl.DataFrame:
    """Pairs that are each side's single best (lowest ``score``), with whether a farther
    candidate exists on either side."""
    ranked = pairs.with_columns(
        (pl.col(score) == pl.col(score).min().over(side)).alias(f"best_{side}")
        for side in ("left_break", "right_break")
    ).with_columns(
        (pl.col(f"best_{side}").sum().over(side) == 1).alias(f"alone_{side}")
        for side in ("left_break", "right_break")
    )
    crowded = (pl.len().over("left_break") > 1) | (pl.len().over("right_break") > 1)
    clear = pl.all_horizontal(
        f"best_{side}" for side in ("left_break", "right_break")
    ) & pl.all_horizontal(f"alone_{side}" for side in ("left_break", "right_break"))
    return ranked.with_columns(crowded.alias("crowded")).filter(clear)


def _confidence(base: pl.Expr) -> pl.Expr:
    days = (pl.col("left_seen") - pl.col("right_seen")).dt.total_days().abs()
    hundredths = base - days * PER_DAY_APART - pl.col("crowded").cast(pl.Int64) * RUNNER_UP
    return hundredths.clip(FLOOR, 100)


def _candidates(left: pl.DataFrame, right: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Pairs of breaks with equal ``keys`` whose texts are at most ``MAX_DISTANCE`` apart (the
    ``distance`` column): a join and pairwise distances in blocks of modest size; in a large
    block (thousands of breaks of one common amount) a distance matrix a slice at a time,
    which never holds the block's pairs, up to ``MAX_BLOCK_CELLS`` a night."""
    sizes = (
        left.group_by(keys).len("left_rows").join(right.group_by(keys).len("right_rows"), on=keys)
    )
    cells = pl.col("left_rows") * pl.col("right_rows")
    big = sizes.filter(cells > MAX_BLOCK_PAIRS).sort(keys)
    small = left.join(big.select(keys), on=keys, how="anti").join(right, on=keys, how="inner")
    distance = cpdist(
        small.get_column("left_text").fill_null("").to_list(),
        small.get_column("right_text").fill_null("").to_list(),
        scorer=Levenshtein.distance,
        workers=1,
    )
    pairs = [small.with_columns(pl.Series("distance", distance, dtype=pl.Int64))]
    budget = MAX_BLOCK_CELLS
    for block in big.iter_rows(named=True):
        size = block["left_rows"] * block["right_rows"]
        if size > budget:
            LOGGER.warning(
                f"suggested matches: {size:,} pairs of breaks of {block['amount']} minor units "
                f"{block['currency']} not compared (over the night's {MAX_BLOCK_CELLS:,})"
            )
            continue
        budget -= size
        pairs.append(_block_pairs(left, right, keys, block))
    return pl.concat(pairs, how="vertical_relaxed").filter(
        pl.col("distance").is_between(1, MAX_DISTANCE)
    )


def _block_pairs(
    left: pl.DataFrame, right: pl.DataFrame, keys: list[str], block: dict[str, object]
) -> pl.DataFrame:
    """The pairs of one large block within ``MAX_DISTANCE``, by a distance matrix computed
    ``SLICE_ROWS`` left rows at a time."""
    match = pl.all_horizontal(pl.col(key) == block[key] for key in keys)
    ours, theirs = left.filter(match), right.filter(match).drop(keys)
    their_texts = theirs.get_column("right_text").fill_null("").to_list()
    found = []
    for start in range(0, ours.height, SLICE_ROWS):
        part = ours.slice(start, SLICE_ROWS)
        matrix = cdist(
            part.get_column("left_text").fill_null("").to_list(),
            their_texts,
            scorer=Levenshtein.distance,
            score_cutoff=MAX_DISTANCE,
            dtype=np.uint8,
            workers=1,
        )
        rows, columns = np.nonzero(matrix <= MAX_DISTANCE)
        found.append(
            pl.concat(
                [
                    part[rows.tolist()],
                    theirs[columns.tolist()],
                    pl.DataFrame({"distance": matrix[rows, columns].astype(np.int64)}),
                ],
                how="horizontal",
            )
        )
    return pl.concat(found) if found else pl.DataFrame()


def _text_rule(open_breaks: pl.DataFrame, rule: Rule, windows: Windows) -> pl.DataFrame:
    left = _side(open_breaks, rule.left, "left", rule.same)
    right = _side(open_breaks, rule.right, "right", rule.same)
    if left.is_empty() or right.is_empty():
        return pl.DataFrame()
    window = getattr(windows, rule.window)
    pairs = _candidates(left, right, ["currency", "amount", *rule.same]).filter(
        (pl.col("left_seen") - pl.col("right_seen")).dt.total_days().abs() <= window
    )
    if pairs.is_empty():
        return pl.DataFrame()
    chosen = _unambiguous(pairs, "distance")
    base = pl.col("distance").replace_strict(BY_DISTANCE, return_dtype=pl.Int64)
    characters = (
        pl.when(pl.col("distance") == 1)
        .then(pl.lit("one character"))
        .otherwise(pl.lit("two characters"))
    )
    closest = (
        pl.when(pl.col("crowded"))
        .then(pl.lit("it is the closest"))
        .otherwise(pl.lit("no other comes close"))
    )

    def reason(side: Side, own: str, other: str) -> pl.Expr:
        return pl.format(
            "{} {} ({} {}) is {} from this break's {} {}, with the same amount and currency; {}",
            pl.lit(side.noun.capitalize()),
            f"{other}_item",
            pl.lit(rule.what),
            f"{other}_shown",
            characters,
            pl.lit(rule.what),
            f"{own}_shown",
            closest,
        )

    return _both_ways(
        chosen,
        _confidence(base),
        reason(rule.right, "left", "right"),
        reason(rule.left, "right", "left"),
    )


def _both_ways(
    chosen: pl.DataFrame, hundredths: pl.Expr, left_reason: pl.Expr, right_reason: pl.Expr
) -> pl.DataFrame:
    """Suggestion rows for both breaks of each chosen pair."""
    scored = chosen.with_columns(hundredths.alias("hundredths"))
    return pl.concat(
        [
            scored.select(
                pl.col("left_break").alias("discrepancy_id"),
                pl.col("right_item").alias("suggested_match"),
                "hundredths",
                left_reason.alias("suggestion_reason"),
            ),
            scored.select(
                pl.col("right_break").alias("discrepancy_id"),
                pl.col("left_item").alias("suggested_match"),
                "hundredths",
                right_reason.alias("suggestion_reason"),
            ),
        ]
    )


def _retry_rule(open_breaks: pl.DataFrame, windows: Windows) -> pl.DataFrame:
    """A failed-then-settled transaction and a retry that succeeded under another id."""
    failed = _side(
        open_breaks,
        Side("status_mismatch", "settlement", "txn_id", "actual_minor", "settlement line"),
        "left",
        ("account_id",),
    )
    retried = _side(
        open_breaks,
        Side("missing_in_settlement", "ledger", "txn_id", "expected_minor", "entry"),
        "right",
        ("account_id",),
    )
    if failed.is_empty() or retried.is_empty():
        return pl.DataFrame()
    pairs = (
        failed.join(retried, on=["currency", "amount", "account_id"], how="inner")
        .filter(pl.col("left_text") != pl.col("right_text"))
        .filter(
            (pl.col("right_seen") - pl.col("left_seen"))
            .dt.total_days()
            .is_between(-windows.settlement_days, windows.settlement_days)
        )
        .with_columns(pl.lit(0).alias("score"))
    )
    chosen = _unambiguous(pairs, "score")
    return _both_ways(
        chosen,
        _confidence(pl.lit(RETRY)),
        pl.format(
            "Entry {} of the same account, amount and currency succeeded as {} and has no "
            "settlement line: the gateway likely settled that retry under this transaction",
            "right_item",
            "right_shown",
        ),
        pl.format(
            "Settlement line {} settled the same amount for the same account under {}, which "
            "the ledger has as failed: likely this retry's settlement",
            "left_item",
            "left_shown",
        ),
    )


def suggest(open_breaks: pl.DataFrame, windows: Windows) -> pl.DataFrame:
    """One suggestion per break that has a clear one (``SUGGESTION_COLUMNS`` by
    ``discrepancy_id``); a break two rules suggest different counterparts for gets none."""
    found = [
        frame
        for frame in (
            *(_text_rule(open_breaks, rule, windows) for rule in RULES),
            _retry_rule(open_breaks, windows),
        )
        if not frame.is_empty()
    ]
    schema = {"discrepancy_id": pl.String(), **SUGGESTION_COLUMNS}
    if not found:
        return pl.DataFrame(schema=schema)
    every = pl.concat(found)
    best = pl.col("hundredths") == pl.col("hundredths").max().over("discrepancy_id")
    top = every.filter(best)
    single = pl.col("suggested_match").n_unique().over("discrepancy_id") == 1
    kept = (
        top.filter(single)
        .sort("discrepancy_id", "suggestion_reason")
        .unique("discrepancy_id", keep="first", maintain_order=True)
    )
    return kept.select(
        "discrepancy_id",
        "suggested_match",
        (pl.col("hundredths").cast(pl.Decimal(5, 2)) / pl.lit(Decimal(100)))
        .cast(pl.Decimal(3, 2))
        .alias("suggestion_confidence"),
        "suggestion_reason",
    )
