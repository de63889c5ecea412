"""One delivered file through its profile and the shared validation: typed rows, rejected rows,
control lines and control totals, and the warnings a person should see.

Every profile's output takes the same way from here on: the profile's rows are validated and
typed exactly as canonical rows are; rows the profile could not map and rows validation refuses
are both rejected rows with their file, line, column and reason. Lines that are totals (payouts,
balances, trailers) are counted under the outcome ``control``. A file whose control totals do not
hold stops the night (InputError) unless its input says ``control_totals = "warn"``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from walletrecon.arrays import numbers, one_name
from walletrecon.config import InputLimits
from walletrecon.schemas import REJECTED_SCHEMA, SOURCES
from walletrecon.sources.files import with_optional_columns
from walletrecon.sources.inputs import Delivery
from walletrecon.sources.profiles import (
    ControlTotal,
    ProfileResult,
    Rejection,
    enforce_totals,
    read_profile_pieces,
)
from walletrecon.sources.rejections import check_rejected_share
from walletrecon.sources.validate import DEFAULT_LIMITS, validate


@dataclass
class FileRead:
    """What one delivered file gave."""

    delivery: Delivery
    #: Validated, typed rows (``origin_file``, ``origin_row``, canonical columns, content hash,
    #: and ``position``: the row's index in ``text_rows``).
    accepted: pl.DataFrame
    #: Rejected rows in ``REJECTED_SCHEMA``: the profile's and validation's together.
    rejected: pl.DataFrame
    #: The canonical text of every row the profile mapped (for ``convert``).
    text_rows: pa.Table
    control: int = 0
    #: Records the profile could not map (validation's rejections are rows it mapped).
    profile_rejections: int = 0
    totals: list[ControlTotal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """The file's rows, mapped or rejected by the profile (control lines are not rows)."""
        rows: int = self.text_rows.num_rows
        return rows + self.profile_rejections

    @property
    def rows_read(self) -> int:
        """Every record of the file: mapped, rejected by the profile, or control."""
        return self.rows + self.control


def _rejections(source: str, display: str, rejected: list[Rejection]) -> pl.DataFrame:
    """A profile's rejections as rejected rows; an XML element's path leads its reason."""
    return pl.DataFrame(
        {
            "source": [source] * len(rejected),
            "origin_file": [display] * len(rejected),
            "origin_row": [item.row for item in rejected],
            "column": [item.column for item in rejected],
            "reason": [
                f"{item.element}: {item.reason}"
                if item.element and not item.reason.startswith(item.element)
                else item.reason
                for item in rejected
            ],
            "raw_values": [json.dumps({"line": item.raw}, ensure_ascii=False) for item in rejected],
        },
        schema=REJECTED_SCHEMA,
    )


def _validation_input(result: ProfileResult, display: str) -> pa.Table:
    """The profile's rows as validation reads them: canonical columns, then the origin."""
    source = SOURCES[result.source]
    rows = with_optional_columns(result.rows, source)
    columns = [rows.column(name).cast(pa.string()) for name in source.column_names]
    origin_file = one_name(display, rows.num_rows)
    # Validation sees each row's position as its origin row (unique even where many records
    # share a line, as in single-line XML); ``_lines`` puts the file's lines back afterwards.
    positions = numbers(np.arange(rows.num_rows, dtype=np.int64), pa.int64())
    return pa.table(
        [*columns, origin_file, positions],
        names=[*source.column_names, "origin_file", "origin_row"],
    )


def _lines(frame: pl.DataFrame, lines: pl.Series) -> pl.DataFrame:
    """Positions back to the file's line numbers; ``position`` is kept for ``convert``."""
    positions = frame.get_column("origin_row")
    return frame.with_columns(
        positions.alias("position"), lines.gather(positions).alias("origin_row")
    )


def read_delivery(
    connection: duckdb.DuckDBPyConnection,
    delivery: Delivery,
    limits: InputLimits = DEFAULT_LIMITS,
) -> FileRead:
    """Read, check and validate one delivered file, whole; InputError when its control totals
    do not hold (under ``enforce``) or too large a share of its rows is rejected."""
    read = next(read_pieces(connection, delivery, limits))
    read.warnings += check_rejected_share(
        delivery.spec.display, read.rows, read.rejected.height, read.rejected["reason"], limits
    )
    return read


def read_pieces(
    connection: duckdb.DuckDBPyConnection,
    delivery: Delivery,
    limits: InputLimits = DEFAULT_LIMITS,
    piece_bytes: int | None = None,
) -> Iterator[FileRead]:
    """Read, check and validate one delivered file a piece of about ``piece_bytes`` bytes at a
    time (``read_profile_pieces``), so that memory follows a piece. The share of rejected rows
    is the whole file's, for the caller to check (``check_rejected_share``)."""
    spec = delivery.spec
    for result in read_profile_pieces(delivery.path, delivery.profile, spec, piece_bytes):
        warnings = enforce_totals(result, spec)
        validated = validate(
            connection, SOURCES[spec.source], _validation_input(result, spec.display), limits
        )
        lines = pl.Series(result.rows.column("origin_row")).cast(pl.Int64)
        rejected = pl.concat(
            [
                _rejections(spec.source, spec.display, result.rejected),
                _lines(validated.rejected, lines)
                .with_columns(pl.lit(spec.source).alias("source"))
                .select(list(REJECTED_SCHEMA))
                .cast(pl.Schema(REJECTED_SCHEMA)),
            ]
        )
        yield FileRead(
            delivery=delivery,
            accepted=_lines(validated.accepted, lines),
            rejected=rejected,
            text_rows=result.rows,
            control=len(result.control),
            totals=result.totals,
            warnings=warnings,
            profile_rejections=len(result.rejected),
        )
