"""Ledger updates in the kernel (CONTRACT section 1b): a later version of an entry replaces the
earlier one in the working set.

The earlier version may still be carried (waiting for a counterpart, or pending): it leaves the
working set, and the counterparts it was already matched to stay matched to the new version (the
update changes neither amount, type nor txn). The new version is then checked like any new entry:
pending rules, pairs, status. A ``status_mismatch`` that the earlier status caused is cleared once
the update makes the entry succeed; an update that leaves a matched entry failed or reversed is
one.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from walletrecon.state import FINDING, conform

_MATCHES = ["settlement_match", "receipt_match"]


@dataclass(frozen=True)
class Replaced:
    """The carried entries without the ones updated tonight, and tonight's entries with the
    matches their earlier versions had."""

    carried: pl.DataFrame
    #: In memory or spooled, as tonight's entries came.
    arrived: pl.DataFrame | pl.LazyFrame


def updated_ids(arrived: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """The entry ids of tonight's versions that update an earlier one."""
    if "is_update" not in arrived.collect_schema().names():
        return pl.DataFrame(schema={"entry_id": pl.String})
    # Lazily: only the two columns are filtered, not every column of tonight's entries.
    return arrived.lazy().filter(pl.col("is_update")).select("entry_id").collect()


def replace_updated(carried: pl.DataFrame, arrived: pl.DataFrame | pl.LazyFrame) -> Replaced:
    """Take updated entries out of the carried working set; tonight's versions inherit the
    matches of the versions they replace."""
    ids = updated_ids(arrived)
    if ids.is_empty():
        return Replaced(carried=carried, arrived=arrived)
    # The working set holds one version of an entry: its matches are looked up by id, and
    # tonight's entries get two new columns without being copied (a join would gather every
    # column of every entry).
    earlier = (
        carried.join(ids, on="entry_id", how="semi")
        .select("entry_id", *_MATCHES)
        .unique("entry_id", keep="last", maintain_order=True)
    )
    inherited = arrived.drop(_MATCHES, strict=False).with_columns(
        pl.col("entry_id")
        .replace_strict(earlier.get_column("entry_id"), earlier.get_column(name), default=None)
        .alias(name)
        for name in _MATCHES
    )
    return Replaced(carried=carried.join(ids, on="entry_id", how="anti"), arrived=inherited)


def cleared_entries(arrived: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Entries an update made succeed tonight: a status break their earlier status caused is
    over (``lifecycle.advance``)."""
    ids = updated_ids(arrived)
    succeeded = arrived.lazy().filter(pl.col("status") == "succeeded").select("entry_id")
    return ids.lazy().join(succeeded, on="entry_id", how="semi").collect()


def status_after_update(ledger: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Findings for entries updated to failed or reversed whose earlier version was already
    matched to a settlement line or a receipt (the pair itself was checked on its night)."""
    if not {"is_update", *_MATCHES} <= set(ledger.collect_schema().names()):
        return conform(pl.DataFrame(), FINDING).clear()
    broken = ledger.lazy().filter(
        pl.col("is_update").fill_null(False)
        & (pl.col("status") != "succeeded")
        & (pl.col("settlement_match").is_not_null() | pl.col("receipt_match").is_not_null())
    )
    counterpart = pl.coalesce(
        pl.format("settlement line {}", "settlement_match"),
        pl.format("receipt {}", "receipt_match"),
    )
    return conform(
        broken.with_columns(
            pl.lit("status_mismatch").alias("type"),
            pl.col("txn_id").alias("key"),
            pl.format(
                "The ledger now has {} {} as {}, yet {} was already matched to it.",
                "entry_type",
                "txn_id",
                "status",
                counterpart,
            ).alias("explanation"),
            pl.col("origin").alias("evidence"),
            pl.concat_list(pl.concat_str([pl.lit("ledger:"), pl.col("entry_id")])).alias(
                "involved"
            ),
        ),
        FINDING,
    ).collect()
