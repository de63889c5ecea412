"""``walletrecon convert``: one delivered file through its profile, checked as a night checks it.

Finance teams use it to try a new bank's or gateway's file before a night: it gives the canonical
rows the file maps to (a canonical file the engine reads as it is), the rejected rows with their
reasons, and the control totals with whether they hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from pydantic import ValidationError

from walletrecon.errors import ConfigError, UsageError
from walletrecon.schemas import SOURCES
from walletrecon.sources.inputs import Delivery, InputSpec
from walletrecon.sources.profiles import PROFILES
from walletrecon.sources.reading import FileRead, read_delivery
from walletrecon.store import connect

#: ``--option`` keys that are settings of the input rather than options of the profile.
INPUT_KEYS = ("encoding", "control_totals", "gateway")
#: ``--option column.NAME=FILE_COLUMN`` maps a canonical column (``mapped``).
COLUMN_PREFIX = "column."


@dataclass(frozen=True)
class Request:
    """What to convert and how."""

    path: Path
    profile: str
    source: str | None
    options: tuple[str, ...]
    timezone: str = "UTC"


def _pairs(options: Iterable[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in options:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise UsageError(f"--option {item!r}: expected KEY=VALUE")
        pairs[key.strip()] = value
    return pairs


def input_spec(request: Request) -> InputSpec:
    """The ``[[inputs]]`` table the request stands for, validated as the configuration is."""
    source = request.source
    if source is None:
        feeds = PROFILES.get(request.profile, ())
        if len(feeds) != 1:
            raise UsageError(f"profile '{request.profile}' feeds several sources: give --source")
        source = feeds[0]
    pairs = _pairs(request.options)
    settings = {key: pairs.pop(key) for key in INPUT_KEYS if key in pairs}
    columns = {
        key.removeprefix(COLUMN_PREFIX): pairs.pop(key)
        for key in list(pairs)
        if key.startswith(COLUMN_PREFIX)
    }
    try:
        return InputSpec.model_validate(
            {
                "source": source,
                "profile": request.profile,
                "pattern": request.path.name,
                "options": pairs,
                "columns": columns,
                **settings,
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'input'}: {item['msg']}"
            for item in exc.errors()
        )
        raise ConfigError(f"convert: {problems}") from exc


def convert(request: Request) -> FileRead:
    """Read one file with its profile and validate its rows; InputError (exit 2) when the file
    breaks its format or, with ``control_totals = "enforce"``, its control totals."""
    spec = input_spec(request)
    delivery = Delivery(
        day=dt.date.today(),
        path=request.path,
        display=request.path.name,
        profile=spec.profile,
        spec=spec.spec(request.path.name),
    )
    with connect(request.timezone) as connection:
        return read_delivery(connection, delivery)


def canonical_rows(read: FileRead) -> pl.DataFrame:
    """The canonical text of the rows that validation accepted, in file order."""
    source = SOURCES[read.delivery.spec.source]
    text = pl.DataFrame(read.text_rows)
    keep = read.accepted.get_column("position")
    names = [name for name in source.column_names if name in text.columns]
    return text.select(names).gather(keep.sort())


def summary_lines(read: FileRead) -> list[str]:
    """What a person reads after a conversion: counts, control totals, warnings, rejections."""
    lines = [
        f"{read.delivery.display}: {read.rows_read} records: {read.accepted.height} rows, "
        f"{read.rejected.height} rejected, {read.control} control"
    ]
    for total in read.totals:
        verdict = {True: "holds", False: "DOES NOT HOLD", None: "not checked"}[total.holds]
        currency = f" {total.currency}" if total.currency else ""
        lines.append(
            f"  control: {total.scope}: {total.check}: expected {total.expected}, "
            f"found {total.found}{currency}: {verdict}" + (f" ({total.note})" if total.note else "")
        )
    lines += [f"  warning: {warning}" for warning in read.warnings]
    for origin, column, reason in read.rejected.select(
        "origin_row", "column", "reason"
    ).iter_rows():
        where = f"line {origin}" + (f", column {column}" if column else "")
        lines.append(f"  rejected: {where}: {reason}")
    return lines


def write_rows(read: FileRead, out: Path) -> list[Path]:
    """Write the canonical rows to ``out`` (``.csv`` or ``.parquet``) and, when there are any,
    the rejected rows beside it (``NAME.rejected.csv``); returns the files written."""
    rows = canonical_rows(read)
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
    if out.suffix == ".parquet":
        rows.write_parquet(out)
    elif out.suffix == ".csv":
        rows.write_csv(out)
    else:
        raise UsageError(f"--out {out}: expected a .csv or .parquet path")
    written = [out]
    if read.rejected.height:
        beside = out.with_name(out.name.removesuffix(out.suffix) + ".rejected.csv")
        read.rejected.write_csv(beside)
        written.append(beside)
    return written
