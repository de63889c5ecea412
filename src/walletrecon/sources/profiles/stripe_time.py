"""Timestamps of Stripe balance transaction files, as ISO 8601 text.

Report exports write ``YYYY-MM-DD HH:MM:SS`` (the dashboard's balance history export
``YYYY-MM-DD HH:MM``), in UTC for a column named ``..._utc`` and else in the report's time zone
(option ``timezone``); API syncs write Unix seconds or ISO instants (``2021-03-15T01:04:36.000Z``,
``... UTC``, an offset). Instants are never shifted by ``timezone``.
"""

from __future__ import annotations

import polars as pl

from walletrecon.sources.profiles.textexpr import clean


def _instants(text: pl.Expr) -> pl.Expr:
    """UTC text of Unix seconds and of ISO timestamps that carry ``Z``, `` UTC`` or an offset
    (as API syncs write ``created``: ``2021-03-15T01:04:36.000Z``); null for anything else."""
    epoch = pl.when(text.str.contains(r"\A[0-9]{9,11}\z")).then(
        pl.from_epoch(text.str.to_integer(strict=False), time_unit="s").dt.replace_time_zone("UTC")
    )
    marked = text.str.replace(r"(?:Z| UTC)\z", "+00:00")
    offset = marked.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%:z", strict=False, time_unit="us")
    return pl.coalesce(offset.dt.convert_time_zone("UTC"), epoch).dt.to_string("%Y-%m-%dT%H:%M:%SZ")


def column_key(name: str) -> str:
    """A header name as the report exports spell it: the dashboard's ``Created (UTC)`` is
    ``created_utc``, ``Available On (UTC)`` ``available_on_utc``, ``Type`` ``type``."""
    key = name.strip().lower().replace("(utc)", "utc")
    return "_".join(key.split())


def _text(column: str) -> pl.Expr:
    return clean(pl.col(column)).str.replace(r"\A([0-9]{4}-[0-9]{2}-[0-9]{2})T", "$1 ")


def _wall_time(text: pl.Expr) -> pl.Expr:
    """A stamp without a zone (``YYYY-MM-DD HH:MM[:SS[.f]]`` or a date) as a naive datetime."""
    return pl.coalesce(
        text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us"),
        text.str.to_datetime("%Y-%m-%d %H:%M", strict=False, time_unit="us"),
        text.str.to_datetime("%Y-%m-%d", strict=False, time_unit="us"),
    )


def _zone_applies(column: str, zone: str | None) -> bool:
    return zone is not None and not column_key(column).endswith("_utc")


def settled_at(column: str, zone: str | None) -> pl.Expr:
    """The timestamp column as ISO text: UTC (``Z``) for instants and for columns read in UTC,
    else with the offset of ``zone``; null when the text is no timestamp this reads."""
    text = _text(column)
    # Instants (Unix seconds, a stamp with Z or an offset): a zone never applies to them.
    instant = _instants(text)
    parsed = _wall_time(text)
    if zone is None or not _zone_applies(column, zone):
        return pl.coalesce(parsed.dt.to_string("%Y-%m-%dT%H:%M:%SZ"), instant)
    placed = parsed.dt.replace_time_zone(zone, ambiguous="null", non_existent="null")
    return pl.coalesce(placed.dt.to_string("%Y-%m-%dT%H:%M:%S%:z"), instant)


def unplaced(column: str, zone: str | None) -> pl.Expr:
    """True where the column holds a well-formed local time that ``zone`` skips or repeats (a
    daylight-saving change): a time to reject for its zone, not for its form."""
    if zone is None or not _zone_applies(column, zone):
        return pl.lit(False)
    parsed = _wall_time(_text(column))
    placed = parsed.dt.replace_time_zone(zone, ambiguous="null", non_existent="null")
    return (parsed.is_not_null() & placed.is_null()).fill_null(False)
