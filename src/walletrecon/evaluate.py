"""Scoring a run against a truth file: recall and precision per discrepancy type.

A break counts as found when a discrepancy of its type and key (gateway references compared
without case) was published on any night up to the last one run. Used by the tests, the benchmark
and ``walletrecon score``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from walletrecon import kinds


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
