"""The canonical profile as a profile: ``NAME.csv``, ``NAME.csv.gz`` or ``NAME.parquet`` holding
the columns of section 1 of the contract. Reading stays in ``sources.files``; this module only
gives it the shape every profile returns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from walletrecon.schemas import SOURCES
from walletrecon.sources import files
from walletrecon.sources.profiles import ProfileResult, ProfileSpec, Rejection

#: The ``[inputs.options]`` keys this profile reads; any other key is a configuration error.
OPTIONS: tuple[str, ...] = ()


def read(path: Path, spec: ProfileSpec) -> ProfileResult:
    """Read a canonical file as text; its malformed lines become rejections."""
    return next(read_pieces(path, spec))


def read_pieces(
    path: Path, spec: ProfileSpec, piece_bytes: int | None = None
) -> Iterator[ProfileResult]:
    """Read a canonical file a piece of about ``piece_bytes`` bytes at a time (``read``)."""
    for raw in files.read_pieces(
        path, SOURCES[spec.source], spec.display or path.name, piece_bytes
    ):
        yield _result(raw, spec)


def _result(raw: files.RawFile, spec: ProfileSpec) -> ProfileResult:
    table = raw.table.drop_columns(["origin_file"])
    table = table.append_column("origin_element", pa.nulls(table.num_rows, pa.string()))
    rejected = [
        Rejection(row=number, reason=f"row: {reason}", raw=text)
        for number, reason, text in raw.malformed
    ]
    return ProfileResult(
        source=spec.source,
        rows=table,
        rejected=rejected,
        records=table.num_rows + len(rejected),
    )
