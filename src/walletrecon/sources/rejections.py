"""The share of a file's rows that validation rejected: a warning, or the night stops.

A file whose rows are all rejected (or that holds no rows at all) is most likely not what its
sender meant to deliver: the night warns in its log, manifest and report. A file with a larger
share of rejected rows than ``[input_limits] reject_share_limit`` stops the night (exit 2): the
reconciliation of the rest would be full of false breaks.
"""

from __future__ import annotations

import polars as pl

from walletrecon.config import InputLimits
from walletrecon.errors import InputError

#: How many of the most common reasons a message names.
COMMON_REASONS = 3


def common_reasons(reasons: pl.Series) -> str:
    """The most common reasons, values left out (``'…'``), with their counts."""
    general = reasons.fill_null("").str.replace_all(r"'(?:[^']|'')*'", "'…'")
    counts = general.value_counts(sort=True, name="rows").head(COMMON_REASONS)
    return "; ".join(f"{reason} ({rows} rows)" for reason, rows in counts.iter_rows())


def check_rejected_share(
    display: str, rows: int, rejected: int, reasons: pl.Series, limits: InputLimits
) -> list[str]:
    """The warnings of one file; InputError when it has too large a share of rejected rows."""
    if rows == 0:
        return [f"{display} holds no rows (a header only): was the right file delivered?"]
    share = rejected / rows
    if share > limits.reject_share_limit:
        raise InputError(
            f"{display}: {rejected} of {rows} rows ({share:.1%}) rejected, more than "
            f"[input_limits] reject_share_limit = {limits.reject_share_limit}; most common "
            f"reasons: {common_reasons(reasons)}"
        )
    if rejected == rows:
        return [f"{display}: every row ({rows}) rejected; most common: {common_reasons(reasons)}"]
    return []
