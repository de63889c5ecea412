"""Masking account and merchant ids where people read them (``[privacy] mask_ids``).

The report and the tickets (``tickets.jsonl``, ``tickets.csv`` and every ``walletrecon tickets``
export) show an id with its middle hidden (``A0000015`` -> ``A0****15``); the Parquet outputs,
the state and the decision log keep them whole, for auditors and for joining. Ids are masked
wherever they appear in a text (a ticket's key, summary, suggested action; a break's
explanation), by replacing every id the night's breaks name.
"""

from __future__ import annotations

import polars as pl

#: Characters shown at each end of a masked id (fewer for a short id).
SHOWN = 2
#: The id columns of a discrepancy row that are masked.
ID_COLUMNS = ("account_id", "merchant_id")


def masked(identifier: str) -> str:
    """An id with its middle replaced by ``*`` (at least one character always hidden)."""
    shown = min(SHOWN, max(0, (len(identifier) - 1) // 2))
    hidden = len(identifier) - 2 * shown
    return identifier[:shown] + "*" * hidden + identifier[len(identifier) - shown :]


def ids_of(*frames: pl.DataFrame) -> list[str]:
    """Every account and merchant id of these breaks, longest first (so that an id inside a
    longer one never hides part of it first)."""
    found: set[str] = set()
    for frame in frames:
        for column in ID_COLUMNS:
            if column in frame.columns:
                found.update(value for value in frame.get_column(column).drop_nulls().to_list())
    return sorted((value for value in found if value), key=lambda value: (-len(value), value))


#: The columns of breaks and tickets that show ids, as values or in words.
SHOWING = (*ID_COLUMNS, "key", "explanation", "summary", "suggestion_reason")


def mask_text(frame: pl.DataFrame, ids: list[str]) -> pl.DataFrame:
    """The frame with every id replaced where it shows (``SHOWING``)."""
    if not ids or frame.is_empty():
        return frame
    replacements = [masked(value) for value in ids]
    shown = [name for name in SHOWING if frame.schema.get(name) == pl.String]
    return frame.with_columns(
        pl.col(name).str.replace_many(ids, replacements, leftmost=True) for name in shown
    )
