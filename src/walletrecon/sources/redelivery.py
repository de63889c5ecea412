"""Re-deliveries: the same row id delivered again.

The same id with the same content is a re-delivery: counted, and ignored. The same id with
different content is rejected with its reason; the first delivery stands (an earlier night's, or
the earliest in this run by folder date and row number).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from walletrecon.match.common import maybe_repeated, split_rows
from walletrecon.schemas import SOURCES


@dataclass(frozen=True)
class RedeliverySplit:
    """Tonight's accepted rows split three ways."""

    new: pl.DataFrame
    redelivered: pl.DataFrame
    conflicts: pl.DataFrame


def split_redeliveries(source: str, shaped: pl.DataFrame, prior: pl.DataFrame) -> RedeliverySplit:
    """Split rows into new ones, identical re-deliveries, and conflicting re-uses of an id.

    ``prior`` holds (row_id, content_hash, origin) of rows accepted on earlier nights.
    """
    # Fast path: ids seen once tonight and never before are new; only the rest need ordering.
    repeated = maybe_repeated("row_id") | pl.col("row_id").is_in(
        prior.get_column("row_id").implode()
    )
    shaped, plain = split_rows(shaped, repeated)
    ordered = shaped.sort("folder_order", "origin_row").with_columns(
        pl.int_range(pl.len()).over("row_id").alias("nth"),
        pl.col("content_hash").first().over("row_id").alias("first_hash"),
        pl.col("origin").first().over("row_id").alias("first_origin"),
    )
    known = prior.select(
        "row_id", pl.col("content_hash").alias("prior_hash"), pl.col("origin").alias("prior_origin")
    ).unique(subset=["row_id"], keep="first")
    joined = ordered.join(known, on="row_id", how="left")
    standing_hash = pl.coalesce("prior_hash", "first_hash")
    is_new = pl.col("prior_hash").is_null() & (pl.col("nth") == 0)
    is_same = ~is_new & (pl.col("content_hash") == standing_hash)
    helper = ["nth", "first_hash", "first_origin", "prior_hash", "prior_origin"]
    id_column = SOURCES[source].id_column or "row_id"
    conflicts = joined.filter(~is_new & ~is_same).select(
        pl.lit(source).alias("source"),
        "origin_file",
        "origin_row",
        pl.lit(id_column).alias("column"),
        pl.format(
            "{}: {} '{}' was already delivered with different content ({}); "
            "the first delivery stands",
            pl.lit(id_column),
            pl.lit(id_column),
            "row_id",
            pl.coalesce("prior_origin", "first_origin"),
        ).alias("reason"),
        pl.lit(None, pl.String).alias("raw_values"),
    )
    return RedeliverySplit(
        new=pl.concat([plain, joined.filter(is_new).drop(helper)]),
        redelivered=joined.filter(is_same).drop(helper),
        conflicts=conflicts,
    )
