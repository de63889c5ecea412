"""Re-deliveries and updates: the same row id delivered again.

Versions of one id are taken in delivery order: the version of an earlier night (the latest the
registry holds) first, then tonight's by folder date and row number. Each version is compared
with the one standing before it:

- the same content is a re-delivery: counted, and ignored;
- a ledger entry whose status moved forward (``schemas.STATUS_UPDATES``), changing only
  ``schemas.UPDATABLE_COLUMNS``, is an update (CONTRACT section 1b): it stands from then on, and
  the latest version tonight goes on to matching; earlier versions of tonight are superseded;
- any other change is rejected with its reason (the columns that changed, or the status that
  moved backwards); the version before it keeps standing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from walletrecon.match.common import (
    KEY_HASH,
    key_hash_expr,
    maybe_repeated,
    repeated_hashes,
    row_wise,
    split_rows,
)
from walletrecon.schemas import SOURCES, STATUS_UPDATES, UPDATABLE_COLUMNS
from walletrecon.sources.validate import content_hash
from walletrecon.spool import concat

#: The schema of the earlier nights' versions ``split_redeliveries`` compares with.
PRIOR_SCHEMA: dict[str, pl.DataType] = {
    "row_id": pl.String(),
    "content_hash": pl.UInt64(),
    "stable_hash": pl.UInt64(),
    "status": pl.String(),
    "origin": pl.String(),
}
_FORWARD = sorted(f"{before}>{after}" for before, after in STATUS_UPDATES)
_BACKWARD = sorted(f"{after}>{before}" for before, after in STATUS_UPDATES)
_HELPERS = ["seq", "relation", "previous_hash", "version_status"]


@dataclass(frozen=True)
class RedeliverySplit:
    """Tonight's accepted rows split by what each version is."""

    #: The version of each id that goes on tonight (first versions and updates), with
    #: ``is_update`` and ``previous_status`` (the status of the version it replaces); a plan
    #: over them when they were still to be read.
    new: pl.DataFrame | pl.LazyFrame
    redelivered: pl.DataFrame
    conflicts: pl.DataFrame
    #: Tonight's earlier versions replaced by a later one tonight (with ``previous_status``):
    #: they go no further, but what they posted counts in balances.
    superseded: pl.DataFrame
    #: Versions accepted as updates of an earlier one (superseded ones included).
    updates: int


def stable_hash(source: str) -> pl.Expr:
    """A hash of the columns an update may not change (for the ledger; the whole content for
    the other sources, which have no updates)."""
    spec = SOURCES[source]
    if source != "ledger":
        return pl.col("content_hash").alias("stable_hash")
    fixed = tuple(column for column in spec.columns if column.name not in UPDATABLE_COLUMNS)
    return content_hash(replace(spec, columns=fixed)).alias("stable_hash")


def _previous(column: str | pl.Expr) -> pl.Expr:
    """The value of the version before, in a chain sorted by row_id and delivery (null for an
    id's first version): a shift, far cheaper than a window over the ids."""
    value = pl.col(column) if isinstance(column, str) else column
    return pl.when(pl.col("row_id") == pl.col("row_id").shift(1)).then(value.shift(1))


def _relation() -> pl.Expr:
    """What each version is, against the version before it in its id's chain."""
    move = pl.concat_str([_previous("version_status"), pl.col("version_status")], separator=">")
    return (
        pl.when(_previous("content_hash").is_null())
        .then(pl.lit("new"))
        .when(pl.col("content_hash") == _previous("content_hash"))
        .then(pl.lit("same"))
        .when((pl.col("stable_hash") == _previous("stable_hash")) & move.is_in(_FORWARD))
        .then(pl.lit("update"))
        .when(
            (pl.col("stable_hash") == _previous("stable_hash"))
            & move.is_in(_BACKWARD)
            & (pl.col("folder_date") < _previous("folder_date"))
        )
        .then(pl.lit("earlier"))
        .otherwise(pl.lit("conflict"))
    )


def _changed_columns(source: str) -> pl.Expr:
    """The columns (other than the updatable ones) a version changed against the one before it
    (known when that one is tonight's)."""
    names = []
    for column in SOURCES[source].columns:
        if source == "ledger" and column.name in UPDATABLE_COLUMNS:
            continue
        value = pl.col(column.name)
        if column.case_insensitive:
            value = value.str.to_lowercase()
        before = _previous(value)
        names.append(pl.when(value.ne_missing(before)).then(pl.lit(column.name)))
    return pl.concat_str(names, separator=", ", ignore_nulls=True)


def _reason(source: str) -> pl.Expr:
    """Why a version is rejected, for a person."""
    id_column = SOURCES[source].id_column or "row_id"
    head = pl.format("{} '{}' was already delivered ({}) ", pl.lit(id_column), "row_id", "prior")
    if source != "ledger":
        return pl.format(
            "{}: {} '{}' was already delivered with different content ({}); "
            "the first delivery stands",
            pl.lit(id_column),
            pl.lit(id_column),
            "row_id",
            "prior",
        )
    earlier_night = _previous("seq") < 0
    columns = (
        pl.when(earlier_night)
        .then(pl.lit("columns other than status, posted_at and gateway_ref"))
        .otherwise(_changed_columns(source))
    )
    before, after = _previous("version_status"), pl.col("version_status")
    move = pl.concat_str([before, after], separator=">")
    status_text = (
        pl.when(move.is_in(_BACKWARD))
        .then(pl.format("its status moved backwards from {} to {}", before, after))
        .when(before == after)
        .then(pl.format("posted_at or gateway_ref changed while its status stayed {}", after))
        .otherwise(pl.format("its status cannot move from {} to {}", before, after))
    )
    why = (
        pl.when(pl.col("stable_hash") != _previous("stable_hash"))
        .then(pl.format("and this version changes {}", columns))
        .otherwise(status_text)
    )
    return pl.format(
        "{}: {}{}; an update may only move the status forward and change status, posted_at and "
        "gateway_ref; the version before it stands",
        pl.lit(id_column),
        head,
        why,
    )


def _rejected(source: str, rows: pl.DataFrame) -> pl.DataFrame:
    return rows.select(
        pl.lit(source).alias("source"),
        "origin_file",
        "origin_row",
        pl.lit(SOURCES[source].id_column or "row_id").alias("column"),
        "reason",
        pl.lit(None, pl.String).alias("raw_values"),
    )


def _folder_of(origin: str) -> pl.Expr:
    """The business date of the folder an origin (``YYYY-MM-DD/file:line``) names; null when it
    names none."""
    found = pl.col(origin).str.extract(r"^(\d{4}-\d{2}-\d{2})/", 1)
    return found.str.to_date("%Y-%m-%d", strict=False).alias("folder_date")


def _earlier(rows: pl.DataFrame) -> pl.DataFrame:
    """Late earlier versions, with ``reversed_on``: the business day of the standing version
    that reversed a succeeded one (it arrived first, as new, so its reversal was not posted)."""
    reversal = (pl.col("version_status") == "succeeded") & (pl.col("previous_status") == "reversed")
    return rows.with_columns(
        pl.when(reversal).then(pl.col("standing_folder")).alias("reversed_on"),
        pl.lit(None, pl.String).alias("previous_status"),
    ).drop("prior", "standing_folder", "reason")


@dataclass(frozen=True)
class _Chains:
    """Tonight's versions resolved against each other and the earlier nights' ones."""

    #: The versions that stand in turn, with their relation and the previous version's status.
    versions: pl.DataFrame
    rejected: pl.DataFrame
    #: Versions of an earlier folder (a late file) that a later folder's version, read on an
    #: earlier night, already updated: they stood before it, so they count as superseded.
    earlier: pl.DataFrame


def _resolve_chains(source: str, tonight: pl.DataFrame, prior: pl.DataFrame) -> _Chains:
    """Resolve each id's versions in delivery order.

    A rejected version does not stand, so the versions after it are compared again with the one
    before it: the first conflict of each id is taken out a round at a time (a round or two). A
    version a late file brings from a folder before the standing version's, with a status that
    version moved on from, is taken out the same way, as superseded rather than rejected.
    """
    head = prior.select(
        "row_id",
        "content_hash",
        "stable_hash",
        pl.col("status").alias("version_status"),
        "origin",
        pl.lit(-1, pl.Int64).alias("seq"),
        _folder_of("origin"),
    ).unique(subset=["row_id"], keep="last", maintain_order=True)
    remaining = tonight.sort("folder_order", "origin_row").with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("seq")
    )
    rejected, earlier = [], []
    while True:
        chain = (
            pl.concat([head, remaining], how="diagonal_relaxed")
            .sort("row_id", "seq")
            .with_columns(
                _relation().alias("relation"),
                _previous("content_hash").alias("previous_hash"),
                _previous("version_status").alias("previous_status"),
                _previous("origin").alias("prior"),
                _previous("folder_date").alias("standing_folder"),
            )
        )
        out_of_turn = chain.filter(pl.col("relation").is_in(["conflict", "earlier"]))
        if out_of_turn.is_empty():
            break
        first = out_of_turn.group_by("row_id").agg(pl.col("seq").min())
        # The reason reads the version before: worked out on the whole chain, then taken out.
        out = chain.with_columns(_reason(source).alias("reason")).join(
            first, on=["row_id", "seq"], how="semi"
        )
        rejected.append(_rejected(source, out.filter(pl.col("relation") == "conflict")))
        earlier.append(_earlier(out.filter(pl.col("relation") == "earlier")))
        remaining = remaining.join(first, on=["row_id", "seq"], how="anti")
    versions = chain.filter(pl.col("seq") >= 0).sort("seq").drop("prior", "standing_folder")
    if not rejected:
        empty = tonight.clear().with_columns(pl.lit(None, pl.String).alias("reason"))
        rejected.append(_rejected(source, empty))
    if not earlier:
        earlier.append(versions.clear().with_columns(pl.lit(None, pl.Date).alias("reversed_on")))
    superseded = pl.concat(earlier)
    return _Chains(versions, pl.concat(rejected), superseded)


def _flagged_in_memory(
    source: str, shaped: pl.DataFrame, prior: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows whose id is maybe repeated tonight or known before, with their ``stable_hash``
    and ``version_status``; the plain rest) of rows in memory."""
    known = shaped.select(pl.col("row_id").is_in(prior.get_column("row_id").implode()))
    repeated = maybe_repeated(shaped, "row_id") | known.to_series()
    flagged, plain = split_rows(shaped, repeated)
    return flagged.with_columns(*_version_columns(source)), plain


def _version_columns(source: str) -> list[pl.Expr]:
    """What the chains of versions compare: the stable hash and the status."""
    status = pl.col("status") if source == "ledger" else pl.lit(None, pl.String)
    return [stable_hash(source), status.alias("version_status")]


#: The working column holding a row's position among tonight's rows of its source.
ROW = "redelivery_row"


def _flagged_in_spool(
    source: str, shaped: pl.LazyFrame, prior: pl.DataFrame
) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """The same split of rows still to be read, in streaming passes: the hash of each row's id
    and whether it is known (9 bytes a row), then the few flagged rows; the plain rest stays a
    plan over the spooled rows."""
    lazy = shaped.with_row_index(ROW)
    flags = row_wise(
        lazy.select(
            key_hash_expr("row_id"),
            pl.col("row_id").is_in(prior.get_column("row_id").implode()).alias("known"),
        )
    )
    repeated = repeated_hashes(flags.get_column(KEY_HASH)) | flags.get_column("known")
    chosen = pl.col(ROW).is_in(repeated.arg_true().cast(pl.get_index_type()).implode())
    del flags, repeated
    few = row_wise(lazy.filter(chosen).drop(ROW).with_columns(*_version_columns(source)))
    return few, lazy.filter(~chosen).drop(ROW)


def split_redeliveries(
    source: str, shaped: pl.DataFrame | pl.LazyFrame, prior: pl.DataFrame
) -> RedeliverySplit:
    """Split rows into tonight's standing versions, identical re-deliveries, rejected re-uses of
    an id, and versions superseded tonight.

    ``prior`` holds (row_id, content_hash, stable_hash, status, origin) of the standing version
    of rows accepted on earlier nights (``PRIOR_SCHEMA``; the latest version per id last).
    Rows still to be read (spooled) are read in streaming passes, and the new rows are then a
    plan over them (most are plain: an id seen once tonight and never before).
    """
    # Fast path: ids seen once tonight and never before are new; only the rest need ordering.
    plain: pl.DataFrame | pl.LazyFrame
    if isinstance(shaped, pl.LazyFrame):
        flagged, plain = _flagged_in_spool(source, shaped, prior)
    else:
        flagged, plain = _flagged_in_memory(source, shaped, prior)
    plain = plain.with_columns(
        pl.lit(False).alias("is_update"), pl.lit(None, pl.String).alias("previous_status")
    )
    chains = _resolve_chains(source, flagged, prior)
    versions = chains.versions
    accepted = (
        versions.filter(pl.col("relation") != "same")
        .sort("row_id", "seq")
        .with_columns(
            (pl.col("relation") == "update").alias("is_update"),
            (pl.col("row_id") != pl.col("row_id").shift(-1)).fill_null(True).alias("latest"),
        )
        .sort("seq")
    )
    latest = accepted.filter("latest")
    return RedeliverySplit(
        # In the plain rows' column order: a vertical concat appends chunks without copying.
        new=concat([plain, latest.select(plain.collect_schema().names())]),
        redelivered=versions.filter(pl.col("relation") == "same").drop(
            *_HELPERS, "previous_status"
        ),
        conflicts=chains.rejected,
        superseded=pl.concat(
            [
                accepted.filter(~pl.col("latest")).drop(*_HELPERS, "latest"),
                chains.earlier.with_columns(pl.lit(False).alias("is_update")).select(
                    *accepted.drop(*_HELPERS, "latest").columns, "reversed_on"
                ),
            ],
            how="diagonal_relaxed",
        ),
        # Plain rows are first versions: only the flagged ones may be updates.
        updates=int(accepted.get_column("is_update").sum()),
    )
