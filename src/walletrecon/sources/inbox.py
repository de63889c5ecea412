"""Which inbox files a night reads.

A night for run date R reads whole every business-date folder after the night its state comes
from, up to R. Folders up to that night were read before: of these, a night reads only the files
that are new since (never read) or changed since they were read (late arrivals), so that the run
for R sees every file of the dates up to R (CONTRACT.md section 2).

The state carries a registry of the files read (path relative to the inbox, size, modification
time, SHA-256, the night that read it). A file of an earlier folder whose size and modification
time are those registered is taken as unchanged without reading it: months of history cost a
``stat`` per file, not a hash. Any other registered file is hashed, and the SHA-256 decides.

Only folders named ``YYYY-MM-DD`` (a real date) are business dates; anything else in the inbox,
apart from hidden entries (a leading dot), is ignored with a warning naming it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from walletrecon.sources.files import file_sha256
from walletrecon.sources.inputs import Delivery, InputSpec, deliveries

#: What the state keeps of each file a night read.
FILES_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.String(),
    "size": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "sha256": pl.String(),
    "night": pl.Date(),
}
_ISO_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")

LateReason = Literal["new", "changed"]


@dataclass(frozen=True)
class InboxFile:
    """One delivered file a night reads, with what ``stat`` said of it before reading."""

    delivery: Delivery
    size: int
    mtime_ns: int

    @property
    def folder(self) -> dt.date:
        """The business date of the file's folder."""
        return self.delivery.day

    @property
    def path(self) -> Path:
        return self.delivery.path

    @property
    def relative(self) -> str:
        """The file's path relative to the inbox, as the manifest and the registry name it."""
        return self.delivery.display


@dataclass(frozen=True)
class LateFile:
    """A file of an earlier folder read tonight: never read before, or changed since."""

    path: str
    folder_date: dt.date
    reason: LateReason
    #: The night that read the earlier version (changed files only).
    read_on: dt.date | None = None

    def describe(self) -> str:
        """Words for the log, the manifest's warnings and the report."""
        if self.reason == "new":
            return (
                f"{self.path} is a late file: it was not there when its folder "
                f"({self.folder_date}) was reconciled; read tonight, its rows keep their own "
                "business dates"
            )
        return (
            f"{self.path} changed after night {self.read_on} read it (size or SHA-256 differs): "
            "read again whole: rows as they were read before count as re-deliveries, the others "
            "follow the re-delivery rules"
        )

    def record(self) -> dict[str, str]:
        """The manifest's entry (``late_files``)."""
        return {
            "path": self.path,
            "folder_date": self.folder_date.isoformat(),
            "reason": self.reason,
        }


@dataclass
class Discovery:
    """What a night reads, and what it learnt of the inbox on the way."""

    #: Every file to read, oldest folder first.
    files: list[InboxFile] = field(default_factory=list)
    #: Folders read whole (those after the night the state comes from).
    dates: list[dt.date] = field(default_factory=list)
    late: list[LateFile] = field(default_factory=list)
    #: Registry rows of files whose time moved but whose content did not (not read again).
    touched: list[dict[str, object]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def folder_date(entry: Path) -> dt.date | None:
    """The business date an inbox entry stands for: a folder named ``YYYY-MM-DD``, else None."""
    if not _ISO_NAME.fullmatch(entry.name) or not entry.is_dir():
        return None
    try:
        return dt.date.fromisoformat(entry.name)
    except ValueError:
        return None


def inbox_folders(inbox: Path, upto: dt.date) -> tuple[list[dt.date], list[str]]:
    """Business-date folders of the inbox up to ``upto``, and a warning for every other entry."""
    dates, warnings = [], []
    for entry in sorted(inbox.iterdir()) if inbox.is_dir() else []:
        day = folder_date(entry)
        if day is None and not entry.name.startswith("."):
            warnings.append(
                f"{entry}: not a business-date folder (a folder named YYYY-MM-DD); ignored"
            )
        elif day is not None and day <= upto:
            dates.append(day)
    return sorted(dates), warnings


def _source_files(
    inbox: Path, day: dt.date, inputs: tuple[InputSpec, ...], discovery: Discovery | None = None
) -> list[InboxFile]:
    """Every delivered file of a date folder (``inputs.deliveries``), stat-ed; its warnings go
    to ``discovery`` when given (a folder read whole: an earlier one would repeat them)."""
    found, warnings = deliveries(inbox / day.isoformat(), day, inputs)
    if discovery is not None:
        discovery.warnings.extend(warnings)
    files = []
    for delivery in found:
        status = delivery.path.stat()
        files.append(InboxFile(delivery, status.st_size, status.st_mtime_ns))
    return files


def _check(
    candidate: InboxFile, registered: dict[str, object] | None, discovery: Discovery
) -> None:
    """Sort one file of an already read folder: unchanged, touched, new or changed."""
    if registered is None:
        discovery.files.append(candidate)
        discovery.late.append(LateFile(candidate.relative, candidate.folder, "new"))
        return
    if (candidate.size, candidate.mtime_ns) == (registered["size"], registered["mtime_ns"]):
        return
    digest = file_sha256(candidate.path)
    if digest == registered["sha256"]:
        discovery.touched.append(
            {**registered, "size": candidate.size, "mtime_ns": candidate.mtime_ns}
        )
        return
    discovery.files.append(candidate)
    night = registered["night"]
    read_on = night if isinstance(night, dt.date) else None
    discovery.late.append(LateFile(candidate.relative, candidate.folder, "changed", read_on))


def discover(
    inbox: Path,
    run_date: dt.date,
    state_date: dt.date | None,
    registry: pl.DataFrame,
    inputs: tuple[InputSpec, ...] = (),
) -> Discovery:
    """The files night ``run_date`` reads, given the file registry of the night its state comes
    from (``state_date``): folders after that night whole, and late files of the others."""
    dates, warnings = inbox_folders(inbox, run_date)
    discovery = Discovery(warnings=warnings)
    known = {row["path"]: row for row in registry.iter_rows(named=True)}
    for day in dates:
        if state_date is not None and day <= state_date:
            for candidate in _source_files(inbox, day, inputs):
                _check(candidate, known.get(candidate.relative), discovery)
        else:
            discovery.dates.append(day)
            discovery.files.extend(_source_files(inbox, day, inputs, discovery))
    return discovery


def next_registry(
    previous: pl.DataFrame, discovery: Discovery, digests: dict[str, str], run_date: dt.date
) -> pl.DataFrame:
    """The file registry a night hands the next: the previous one with tonight's files (read,
    or only touched) put in place of their earlier entries."""
    read = [
        {
            "path": item.relative,
            "size": item.size,
            "mtime_ns": item.mtime_ns,
            "sha256": digests[item.relative],
            "night": run_date,
        }
        for item in discovery.files
    ]
    tonight = pl.DataFrame([*read, *discovery.touched], schema=FILES_SCHEMA)
    kept = previous.join(tonight.select("path"), on="path", how="anti")
    return pl.concat([kept, tonight]).sort("path")
