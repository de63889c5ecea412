"""Scoring a run against a truth file: recall and precision per discrepancy type.

A break counts as found when a discrepancy of its type and key (gateway references compared
without case) was published on any night up to the last one run. Used by the tests, the benchmark
and ``walletrecon score``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from walletrecon import kinds
from walletrecon.causes import CAUSES


@dataclass(frozen=True)
class Score:
    """Recall and precision of one discrepancy type."""

    type: str
    expected: int
    found: int
    true_positives: int

    @property
    def recall(self) -> float:
        return self.true_positives / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else 1.0


def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("type"), pl.col("key").str.strip_chars().str.to_lowercase().alias("key")
    ).unique()


def published_breaks(out: Path) -> pl.DataFrame:
    """(type, key) of every discrepancy published on any night."""
    files = sorted((out / "discrepancies").glob("run_date=*/*.parquet"))
    if not files:
        return pl.DataFrame(schema={"type": pl.String, "key": pl.String})
    return _normalise(pl.concat([pl.read_parquet(path, columns=["type", "key"]) for path in files]))


def score(truth_csv: Path, out: Path) -> list[Score]:
    """Per-type scores of the published breaks against the truth file's breaks."""
    truth = pl.read_csv(truth_csv, infer_schema=False)
    expected = _normalise(truth.filter(pl.col("type").is_in(kinds.names())))
    found = published_breaks(out)
    hits = expected.join(found, on=["type", "key"], how="inner")
    scores = []
    for kind in kinds.names():
        scores.append(
            Score(
                type=kind,
                expected=expected.filter(pl.col("type") == kind).height,
                found=found.filter(pl.col("type") == kind).height,
                true_positives=hits.filter(pl.col("type") == kind).height,
            )
        )
    return scores


@dataclass(frozen=True)
class SuggestionScore:
    """How the suggested matches did against the near misses a truth file names."""

    #: Breaks whose truth names a counterpart (near misses), and how many of them had that
    #: counterpart suggested on a night they were open.
    near_misses: int
    suggested_right: int
    #: Near misses whose counterpart was a break too by the last night (a suggestion pairs two
    #: open breaks: a counterpart still inside its window is not one yet).
    suggestible: int
    #: Distinct suggestions published (break and counterpart), and how many named a counterpart
    #: the truth does not (a near miss's wrong one, or one for a break that has none).
    suggestions: int
    wrong: int

    @property
    def share_suggested(self) -> float:
        return self.suggested_right / self.near_misses if self.near_misses else 1.0

    @property
    def share_wrong(self) -> float:
        return self.wrong / self.suggestions if self.suggestions else 0.0


def suggestion_score(truth_csv: Path, out: Path) -> SuggestionScore:
    """Score the suggestions published in ``out`` against the truth's near misses."""
    truth = pl.read_csv(truth_csv, infer_schema=False)
    if "counterpart" not in truth.columns:
        truth = truth.with_columns(pl.lit(None, pl.String).alias("counterpart"))
    near = _normalise_keys(truth.filter(pl.col("counterpart").is_not_null())).select(
        "type", "key", "counterpart"
    )
    pairs = truth.filter(pl.col("counterpart").is_not_null())
    partnered = _partnered(list(pairs.select("row_id", "counterpart").iter_rows()))
    files = sorted((out / "discrepancies").glob("run_date=*/*.parquet"))
    columns = ["type", "key", "suggested_match"]
    published = pl.concat([pl.read_parquet(path, columns=columns) for path in files])
    made = _normalise_keys(published).filter(pl.col("suggested_match").is_not_null()).unique()
    judged = made.join(near, on=["type", "key"], how="left")
    right = judged.filter(pl.col("suggested_match") == pl.col("counterpart"))
    return SuggestionScore(
        near_misses=near.height,
        suggested_right=right.unique(["type", "key"]).height,
        suggestible=sum(
            1 for row_id in pairs.get_column("row_id").to_list() if row_id in partnered
        ),
        suggestions=made.height,
        wrong=made.height - right.height,
    )


def _partnered(links: list[tuple[str, str]]) -> set[str]:
    """Rows of near misses whose pair has another near-miss row (both its breaks due by the
    last night): rows linked through their counterparts, grouped (union-find)."""
    parent: dict[str, str] = {}

    def root(item: str) -> str:
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for row_id, counterpart in links:
        parent[root(row_id)] = root(counterpart)
    sizes: dict[str, int] = {}
    for row_id, _ in links:
        sizes[root(row_id)] = sizes.get(root(row_id), 0) + 1
    return {row_id for row_id, _ in links if sizes[root(row_id)] > 1}


def _normalise_keys(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("key").str.strip_chars().str.to_lowercase())


@dataclass(frozen=True)
class CauseScore:
    """How the likely causes did against the causes a truth file injected, for one cause."""

    cause: str
    #: Breaks injected with this cause, and of them: named right (on any night), named with
    #: another cause, not named at all.
    injected: int
    named_right: int
    named_wrong: int
    #: Breaks named with this cause whose truth injected none (or another one).
    named_without: int

    @property
    def share_named(self) -> float:
        return self.named_right / self.injected if self.injected else 1.0


#: A break an open ticket's resolution names as resolved tonight, with its likely cause.
RESOLVED_TONIGHT = re.compile(
    r"(?:Resolved tonight: |; )(\w+): [^;]*?\(likely cause: (\w+), confidence [0-9.]+\)"
)


def _resolved_causes(out: Path) -> pl.DataFrame:
    """(discrepancy_id, likely_cause) of every break resolved with a cause: each break of a
    resolved ticket that names one, and each break an open ticket's resolution names as resolved
    tonight with one (``tickets._resolved_tonight``)."""
    rows = []
    for path in sorted((out / "tickets").glob("run_date=*/tickets.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            ticket = json.loads(line)
            if ticket["status"] == "resolved" and ticket.get("likely_cause"):
                rows += [(item, ticket["likely_cause"]) for item in ticket["discrepancy_ids"]]
            elif ticket["status"] != "resolved" and ticket.get("resolution"):
                rows += RESOLVED_TONIGHT.findall(ticket["resolution"])
    schema = {"discrepancy_id": pl.String, "likely_cause": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def cause_score(truth_csv: Path, out: Path) -> list[CauseScore]:
    """Per cause (``causes.CAUSES``, then ``all``): the ``likely_cause`` published for each
    break (on an open break's row, or on its resolved ticket) against the cause its truth row
    injected."""
    truth = pl.read_csv(truth_csv, infer_schema=False)
    if "cause" not in truth.columns:
        truth = truth.with_columns(pl.lit(None, pl.String).alias("cause"))
    injected = (
        _normalise_keys(truth.filter(pl.col("type").is_in(kinds.names())))
        .select("type", "key", pl.col("cause").replace("", None).alias("injected"))
        .unique(["type", "key"], keep="first")
    )
    files = sorted((out / "discrepancies").glob("run_date=*/*.parquet"))
    columns = ["discrepancy_id", "type", "key", "likely_cause"]
    published = pl.concat(
        [pl.read_parquet(path, columns=columns) for path in files]
        or [pl.DataFrame(schema={name: pl.String for name in columns})]
    )
    # A cause seen only once the break is resolved (its counterpart arrived late) is on the
    # resolved ticket: each of its breaks takes it.
    resolved = _resolved_causes(out).join(
        published.select("discrepancy_id", "type", "key").unique(), on="discrepancy_id"
    )
    named = (
        _normalise_keys(pl.concat([published, resolved], how="diagonal_relaxed"))
        .filter(pl.col("likely_cause").is_not_null())
        .select("type", "key", "likely_cause")
        .unique()
    )
    judged = injected.join(named, on=["type", "key"], how="left")
    right = judged.filter(pl.col("likely_cause") == pl.col("injected")).unique(["type", "key"])
    wrong = (
        judged.filter(pl.col("injected").is_not_null() & pl.col("likely_cause").is_not_null())
        .join(right, on=["type", "key"], how="anti")
        .unique(["type", "key"])
    )
    without = named.join(injected, on=["type", "key"], how="left").filter(
        pl.col("injected").is_null() | (pl.col("injected") != pl.col("likely_cause"))
    )

    def count(frame: pl.DataFrame, column: str, cause: str | None) -> int:
        return frame.height if cause is None else frame.filter(pl.col(column) == cause).height

    return [
        CauseScore(
            cause=name or "all",
            injected=count(injected.filter(pl.col("injected").is_not_null()), "injected", name),
            named_right=count(right, "injected", name),
            named_wrong=count(wrong, "injected", name),
            named_without=count(without, "likely_cause", name),
        )
        for name in (*CAUSES, None)
    ]
