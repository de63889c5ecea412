"""Delivering source files: clean rows in chunks, yesterday's re-deliveries and some bad rows.

Each source file of a night is written in the format the run asks for (plain CSV, or with
``mixed_formats`` a gzipped ledger, a Parquet settlement file and receipts with a BOM). Identical
re-deliveries and deliberately bad rows are recorded in the truth as ``redelivered`` and
``rejected``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from walletrecon.sample.files import write_frames
from walletrecon.sample.model import CHUNK_ROWS, SOURCES
from walletrecon.sample.tables import Counters, Table, pick_rows, truth_frame
from walletrecon.sample.timeline import Calendar

#: Turns an integer table into the text frame of its source.
Formatter = Callable[[Table, Calendar], pl.DataFrame]
#: Makes bad rows from formatted templates; the bad rows and a note per row.
Flaws = Callable[[pl.DataFrame, Counters], tuple[pl.DataFrame, pl.Series]]


@dataclass
class Deliveries:
    """Writes the source files of each night and counts the rows written per source."""

    calendar: Calendar
    counters: Counters
    truth: list[pl.DataFrame]
    days: int
    mixed_formats: bool
    noise_rows: int
    redeliveries: dict[str, pl.DataFrame] = field(default_factory=dict)
    #: Ledger rows of earlier entries in a later status, by the night that delivers them.
    updates: dict[int, pl.DataFrame] = field(default_factory=dict)
    rows_written: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))

    def deliver(
        self,
        rng: np.random.Generator,
        folder: Path,
        source: str,
        day: int,
        table: Table,
        formatter: Formatter,
        flaws: Flaws | None,
    ) -> None:
        """Write a big source in chunks, then yesterday's re-deliveries and some bad rows."""
        extras = [self.redeliver(rng, source, table, formatter, day)]
        if source == "ledger" and day in self.updates:
            extras.append(self.updates.pop(day))
        if flaws is not None and len(table) > 0:
            sample = rng.choice(len(table), size=min(self.noise_rows, len(table)), replace=False)
            templates = formatter(table.take(np.sort(sample)), self.calendar)
            bad, notes = flaws(templates, self.counters)
            extras.append(bad)
            self.record_rejected(source, bad, notes, day)
        frames = (formatter(chunk, self.calendar) for chunk in table.chunks(CHUNK_ROWS))
        self.write(folder, source, day, itertools.chain(frames, extras))

    def write(self, folder: Path, source: str, day: int, frames: Iterable[pl.DataFrame]) -> None:
        """Write one source file of folder ``day`` from text frames and count its rows."""
        self.rows_written[source] += write_frames(
            folder / f"{source}.csv", self.file_kind(source, day), frames
        )

    def file_kind(self, source: str, day: int) -> str:
        """How a source file is written: plain CSV unless mixed formats are asked for."""
        if not self.mixed_formats:
            return "csv"
        if source == "ledger" and day == 1:
            return "csv.gz"
        if source == "settlement" and day == 2:
            return "parquet"
        if source == "receipts" and day == min(3, self.days - 1):
            return "bom"
        return "csv"

    def redeliver(
        self,
        rng: np.random.Generator,
        source: str,
        table: Table,
        formatter: Formatter,
        day: int,
    ) -> pl.DataFrame:
        """Keep some untouched rows for an identical re-delivery next night; give last night's."""
        chosen = formatter(
            table.take(pick_rows(rng, table["touched"] == 0, self.noise_rows)), self.calendar
        )
        previous = self.redeliveries.pop(source, chosen.clear())
        if day + 1 < self.days:
            self.redeliveries[source] = chosen
            ids = chosen[chosen.columns[0]]
            self.truth.append(
                truth_frame(
                    "redelivered",
                    ids,
                    np.full(chosen.height, day + 1, dtype=np.int64),
                    source,
                    ids,
                    f"{source} row delivered again, identical, in the next night's file",
                )
            )
        return previous

    def record_rejected(self, source: str, bad: pl.DataFrame, notes: pl.Series, day: int) -> None:
        """Record deliberately bad rows as ``rejected`` (key and row_id: the row's id)."""
        ids = bad[bad.columns[0]]
        run_day = np.full(bad.height, day, dtype=np.int64)
        frame = truth_frame("rejected", ids, run_day, source, ids, "")
        self.truth.append(frame.with_columns(notes.alias("note")))
